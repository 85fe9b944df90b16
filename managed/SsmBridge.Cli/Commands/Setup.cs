using static TorchSharp.torch;

namespace SsmBridge.Cli.Commands;

internal static class Setup
{
    /// <summary>Threads for libtorch (and so for libssmbridge, which follows torch.get_num_threads()).</summary>
    public static void Threads(int threads)
    {
        if (threads > 0) set_num_threads(threads);
    }

    /// <summary>Creates <paramref name="dir"/> and proves it writable, or a one-line error.</summary>
    public static string WritableFolder(string dir, string option)
    {
        try {
            Directory.CreateDirectory(dir);
            var probe = Path.Combine(dir, $".ssmbridge-write-test-{Environment.ProcessId}");
            File.WriteAllText(probe, "");
            File.Delete(probe);
            return dir;
        } catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException) {
            throw new CliException($"cannot write to {option} '{dir}': {e.Message}");
        }
    }

    public static long ParameterCount(nn.Module model) => model.parameters().Sum(p => p.numel());
}
