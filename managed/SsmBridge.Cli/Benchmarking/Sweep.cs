using System.Diagnostics;
using System.Globalization;

namespace SsmBridge.Cli.Benchmarking;

/// <summary>What a sweep measures: the models at every resolution and mode, plus Vim on the reference ops where asked.</summary>
public sealed record SweepPlan
{
    public required IReadOnlyList<BenchModel> Models { get; init; }
    public required IReadOnlyList<long> Resolutions { get; init; }
    public IReadOnlyList<BenchMode> Modes { get; init; } = new[] { BenchMode.Inference, BenchMode.Training };
    /// <summary>Resolutions at which Vim-Ti on the reference ops runs right after the fused Vim-Ti.</summary>
    public IReadOnlyList<long> ReferenceResolutions { get; init; } = Array.Empty<long>();
    /// <summary>Timed steps per point (after one warm-up step).</summary>
    public int Steps { get; init; } = 3;
    /// <summary>No further timed steps once this many seconds of them have passed.</summary>
    public double TimeCapSeconds { get; init; } = 30;
    /// <summary>A point's process is killed after this long (its row says so).</summary>
    public double PointTimeoutSeconds { get; init; } = 600;
    public double MemoryLimitMiB { get; init; } = 20 * 1024;
    /// <summary>Torch threads in every point (0: libtorch's default).</summary>
    public int Threads { get; init; }
}

/// <summary>One point of a sweep: what ran, what it measured (or why not), and the machine's load when it started.</summary>
public sealed record SweepPoint(BenchModel Model, long Resolution, BenchMode Mode, PointMeasurement Measurement, double Load1, double WallSeconds)
{
    public bool Ok => Measurement.Status == PointMeasurement.Ok;
}

/// <summary>
/// Runs a <see cref="SweepPlan"/> with a fresh <c>ssmbridge bench-point</c> process per point, so that each peak
/// memory is that point's alone. The models alternate at each resolution and mode (a busy machine slows all of
/// them alike, and the ratios compare neighbours in time); a model that ran out of memory or time at a resolution
/// is not run at the larger ones in that mode.
/// </summary>
public static class Sweep
{
    public static IReadOnlyList<SweepPoint> Run(SweepPlan plan, Action<SweepPoint>? progress = null, CancellationToken cancel = default)
    {
        var points = new List<SweepPoint>();
        var stopped = new Dictionary<(string, BenchMode), string>();
        foreach (var size in plan.Resolutions)
        foreach (var mode in plan.Modes)
        foreach (var model in ModelsAt(plan, size)) {
            cancel.ThrowIfCancellationRequested();
            var point = stopped.TryGetValue((model.Key, mode), out var why)
                ? new SweepPoint(model, size, mode, Skipped($"skipped: {why} at a smaller size"), ProcStatus.Load1(), 0)
                : Measure(plan, model, size, mode, cancel);
            if (!point.Ok && !stopped.ContainsKey((model.Key, mode))) stopped[(model.Key, mode)] = point.Measurement.Status;
            points.Add(point);
            progress?.Invoke(point);
        }
        return points;
    }

    private static IEnumerable<BenchModel> ModelsAt(SweepPlan plan, long size)
    {
        foreach (var model in plan.Models) {
            yield return model;
            if (model == BenchModel.VimTiny && plan.ReferenceResolutions.Contains(size)) yield return BenchModel.VimTinyReference;
        }
    }

    private static PointMeasurement Skipped(string why) => new(why, double.NaN, 0, double.NaN, double.NaN);

    private static SweepPoint Measure(SweepPlan plan, BenchModel model, long size, BenchMode mode, CancellationToken cancel)
    {
        var load = ProcStatus.Load1();
        var start = PointProcess.StartInfo(
            "bench-point", "--bench-model", model.Key, "--img-size", Inv(size), "--mode", mode.ToString().ToLowerInvariant(),
            "--steps", Inv(plan.Steps), "--time-cap", Inv(plan.TimeCapSeconds), "--memory-limit", Inv(plan.MemoryLimitMiB),
            "--threads", Inv(plan.Threads), "--verbosity", "quiet");
        var watch = Stopwatch.StartNew();
        using var process = Process.Start(start) ?? throw new CliException($"cannot start {start.FileName}", ExitCodes.Failure);
        var stdout = process.StandardOutput.ReadToEndAsync(cancel);
        var stderr = process.StandardError.ReadToEndAsync(cancel);
        bool exited;
        try {
            exited = process.WaitForExitAsync(cancel).Wait(TimeSpan.FromSeconds(plan.PointTimeoutSeconds));
        } catch (AggregateException e) when (e.InnerException is OperationCanceledException) {
            exited = false;
        }
        if (!exited) {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            cancel.ThrowIfCancellationRequested();
            return new SweepPoint(model, size, mode, Skipped($"timed out after {plan.PointTimeoutSeconds:0} s"), load, watch.Elapsed.TotalSeconds);
        }
        var lines = stdout.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var measurement = lines.Length > 0 ? PointMeasurement.FromJson(lines[^1]) : null;
        if (measurement is null) {
            var error = stderr.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? $"exit code {process.ExitCode}";
            measurement = Skipped($"failed: {error.Trim()}");
        }
        return new SweepPoint(model, size, mode, measurement, load, watch.Elapsed.TotalSeconds);
    }

    private static string Inv(IFormattable value) => value.ToString(null, CultureInfo.InvariantCulture);
}
