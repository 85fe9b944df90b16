using System.Globalization;

namespace SsmBridge.Cli.Benchmarking;

/// <summary>Process memory and machine load from /proc (Linux); NaN elsewhere.</summary>
public static class ProcStatus
{
    /// <summary>A /proc/self/status field (VmRSS, VmHWM, ...) in MiB.</summary>
    public static double MiB(string field)
    {
        if (!File.Exists("/proc/self/status")) return double.NaN;
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith(field + ":", StringComparison.Ordinal));
        return line is null ? double.NaN
            : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024.0;
    }

    /// <summary>The one-minute load average (what `uptime` shows first).</summary>
    public static double Load1() =>
        File.Exists("/proc/loadavg")
            ? double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture)
            : double.NaN;
}
