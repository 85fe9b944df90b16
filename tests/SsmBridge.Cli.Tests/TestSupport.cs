using SsmBridge.Cli;
using SsmBridge.Cli.Data;

namespace SsmBridge.Cli.Tests;

/// <summary>Runs the command line in-process and captures what it prints.</summary>
internal static class Cli
{
    public static (int Exit, string Out, string Err) Run(params string[] args) => RunCancellable(default, args);

    public static (int Exit, string Out, string Err) RunCancellable(CancellationToken cancel, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int exit = CliApp.Run(args, output, error, cancel);
        return (exit, output.ToString(), error.ToString());
    }

    /// <summary>The error output is exactly one line, names the problem and carries no stack trace.</summary>
    public static void AssertOneLineError(string err, string expected)
    {
        var lines = err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"expected one error line, got:\n{err}");
        Assert.StartsWith("ssmbridge: error: ", lines[0]);
        Assert.Contains(expected, lines[0]);
        Assert.DoesNotContain("   at ", err);
        Assert.DoesNotContain("Exception", lines[0]);
    }
}

/// <summary>A fresh temporary folder, deleted afterwards.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir() => Directory.CreateDirectory(Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "ssmb-cli-" + Guid.NewGuid().ToString("N")));

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}

/// <summary>Small MNIST-style IDX folders: images whose class is which quadrant is bright.</summary>
internal static class IdxFixtures
{
    public static void WriteDataset(string dir, int train, int test, int size = 28, string ext = ".gz", int seed = 1)
    {
        var random = new Random(seed);
        foreach (var (split, count) in new[] { ("train", train), ("t10k", test) }) {
            var images = new byte[count * size * size];
            var labels = new byte[count];
            for (int i = 0; i < count; i++) {
                int label = labels[i] = (byte)random.Next(4);
                int r0 = label / 2 * size / 2, c0 = label % 2 * size / 2;
                for (int r = 0; r < size; r++)
                for (int c = 0; c < size; c++) {
                    bool bright = r >= r0 && r < r0 + size / 2 && c >= c0 && c < c0 + size / 2;
                    images[(i * size + r) * size + c] = (byte)(bright ? 200 + random.Next(56) : random.Next(60));
                }
            }
            IdxReader.Write(Path.Combine(dir, $"{split}-images-idx3-ubyte{ext}"), new[] { count, size, size }, images);
            IdxReader.Write(Path.Combine(dir, $"{split}-labels-idx1-ubyte{ext}"), new[] { count }, labels);
        }
    }
}
