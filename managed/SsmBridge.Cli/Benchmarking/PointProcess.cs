using System.Diagnostics;

namespace SsmBridge.Cli.Benchmarking;

/// <summary>
/// How to start this command as a child process from wherever SsmBridge.Cli.dll was loaded: the `ssmbridge` command's
/// own folder, or a project that references it (the benchmark suite, the tests), where the SDK copies its app host
/// next to it; without an app host, `dotnet exec` on the dll.
/// </summary>
internal static class PointProcess
{
    public static ProcessStartInfo StartInfo(params string[] args)
    {
        var dll = typeof(PointProcess).Assembly.Location;
        var folder = Path.GetDirectoryName(dll)!;
        var host = new[] { "ssmbridge", "SsmBridge.Cli", "ssmbridge.exe", "SsmBridge.Cli.exe" }
            .Select(name => Path.Combine(folder, name)).FirstOrDefault(File.Exists);
        var start = new ProcessStartInfo(host ?? DotnetHost()) {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        if (host is null) {
            start.ArgumentList.Add("exec");
            start.ArgumentList.Add(dll);
        }
        foreach (var arg in args) start.ArgumentList.Add(arg);
        return start;
    }

    // The dotnet host that runs us (DOTNET_HOST_PATH under `dotnet test`/`dotnet run`), else the one on PATH.
    private static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } path ? path
        : Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet" ? Environment.ProcessPath! : "dotnet";
}
