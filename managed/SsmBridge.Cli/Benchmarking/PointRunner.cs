using System.Diagnostics;

namespace SsmBridge.Cli.Benchmarking;

/// <summary>
/// Runs one benchmark point in this process (the hidden <c>ssmbridge bench-point</c> command, started fresh per
/// point by <see cref="Sweep"/> so that VmHWM is this point's peak alone): a <see cref="ModelStep"/>, one warm-up
/// step, then up to <c>steps</c> timed steps or until <c>timeCapSeconds</c>
/// have passed (at least one). A watchdog ends the process when its resident memory passes the limit, after
/// printing a measurement with status <see cref="PointMeasurement.OverMemory"/>.
/// </summary>
public static class PointRunner
{
    public static PointMeasurement Run(BenchModel spec, long size, BenchMode mode, int steps, double timeCapSeconds, double memoryLimitMiB,
                                       TextWriter output)
    {
        using var watchdog = MemoryWatchdog(memoryLimitMiB, output);
        using var step = new ModelStep(spec, size, mode);
        var modelMiB = ProcStatus.MiB("VmRSS");
        step.Step();
        var times = new List<double>();
        var process = Process.GetCurrentProcess();
        var cpuStart = process.TotalProcessorTime;
        var total = Stopwatch.StartNew();
        while (times.Count < steps && (times.Count == 0 || total.Elapsed.TotalSeconds < timeCapSeconds)) {
            var watch = Stopwatch.StartNew();
            step.Step();
            times.Add(watch.Elapsed.TotalMilliseconds);
        }
        process.Refresh();
        var cpuMs = (process.TotalProcessorTime - cpuStart).TotalMilliseconds / times.Count;
        times.Sort();
        var median = times.Count % 2 == 1 ? times[times.Count / 2] : (times[times.Count / 2 - 1] + times[times.Count / 2]) / 2;
        return new PointMeasurement(PointMeasurement.Ok, median, times.Count, ProcStatus.MiB("VmHWM"), modelMiB, cpuMs);
    }

    // Polls VmRSS every 20 ms; past the limit it reports and ends the process before the machine runs out.
    private static Timer MemoryWatchdog(double limitMiB, TextWriter output) =>
        new(_ => {
            var rss = ProcStatus.MiB("VmRSS");
            if (!(rss > limitMiB)) return;
            output.WriteLine(new PointMeasurement(PointMeasurement.OverMemory, double.NaN, 0, rss, double.NaN).ToJson());
            output.Flush();
            Environment.Exit(ExitCodes.Failure);
        }, null, 0, 20);
}
