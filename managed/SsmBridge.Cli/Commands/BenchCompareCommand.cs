using System.Globalization;
using Microsoft.Extensions.Logging;
using SsmBridge.Cli.Benchmarking;

namespace SsmBridge.Cli.Commands;

/// <summary>
/// <c>ssmbridge bench --compare</c>: a short version of the issue-10 sweep (bench/RESULTS.md has the full one):
/// Vim-Ti, VMamba-T, S4ND-ViT-Ti and DeiT-Ti at each resolution, inference and training step, batch 1, a fresh
/// process per point; Vim-Ti on the reference ops at the smallest resolution. Prints the markdown tables;
/// <c>--plot DIR</c> also writes throughput and memory against resolution (PNG) and the points as sweep.csv.
/// </summary>
public static class BenchCompareCommand
{
    /// <summary>--quick: the smallest sizes the four models take (multiples of 32 for VMamba), one timed step.</summary>
    public static readonly long[] QuickResolutions = { 32, 64 };
    public static readonly long[] DefaultResolutions = { 224, 384 };

    public static int Run(CommandContext ctx, IReadOnlyList<long> resolutions, int steps, double timeCap, int threads, string? plotDir)
    {
        var log = ctx.Logging.CreateLogger("bench");
        if (plotDir is not null) Setup.WritableFolder(plotDir, "--plot");
        var plan = new SweepPlan {
            Models = BenchModel.Comparison, Resolutions = resolutions, ReferenceResolutions = new[] { resolutions.Min() },
            Steps = steps, TimeCapSeconds = timeCap, Threads = threads,
        };
        log.LogInformation("comparing {Models} at {Sizes}, a fresh process per point, {Steps} timed steps after one warm-up",
                           string.Join(", ", plan.Models.Select(m => m.Label)), string.Join(", ", resolutions), steps);
        var points = Sweep.Run(plan, p => log.LogInformation("{Model} {Size} {Mode}: {Result} (load {Load:0.0})", p.Model.Label, p.Resolution,
                                                             p.Mode, p.Ok ? $"{p.Measurement.ImagesPerSecond:0.##} img/s, peak {p.Measurement.PeakMiB:0} MiB" : p.Measurement.Status,
                                                             p.Load1), ctx.Cancel);
        if (plotDir is not null) {
            foreach (var file in SweepPlots.Write(plotDir, points)) log.LogInformation("wrote {File}", file);
            File.WriteAllText(Path.Combine(plotDir, "sweep.csv"), SweepReport.Csv(points));
        }
        ctx.FlushLog();
        ctx.Out.Write(SweepReport.Markdown(points));
        return points.All(p => p.Ok) ? ExitCodes.Ok : ExitCodes.Failure;
    }

    /// <summary>Parses "224,384,512": positive multiples of 32 (VMamba's downsampling), at least one.</summary>
    public static IReadOnlyList<long> ParseResolutions(string text)
    {
        var sizes = new List<long>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)) {
            if (!long.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var size) || size <= 0 || size % 32 != 0)
                throw new CliException($"--resolutions expects positive multiples of 32 separated by commas, got '{part}'", ExitCodes.UsageError);
            sizes.Add(size);
        }
        if (sizes.Count == 0) throw new CliException("--resolutions expects at least one size, got none", ExitCodes.UsageError);
        return sizes.Distinct().Order().ToList();
    }
}
