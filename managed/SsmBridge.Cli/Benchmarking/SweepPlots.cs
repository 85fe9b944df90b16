using ScottPlot;

namespace SsmBridge.Cli.Benchmarking;

/// <summary>
/// The Vim paper's Figure 1 for a sweep: images/s and peak memory against the image size, one colour per model,
/// inference solid and training dashed; throughput on a log scale (it spans two orders of magnitude).
/// </summary>
public static class SweepPlots
{
    public const string ThroughputFile = "throughput-vs-resolution.png";
    public const string MemoryFile = "memory-vs-resolution.png";

    /// <summary>Writes both PNGs into <paramref name="folder"/>; returns their paths.</summary>
    public static IReadOnlyList<string> Write(string folder, IReadOnlyList<SweepPoint> points)
    {
        var throughput = Path.Combine(folder, ThroughputFile);
        var memory = Path.Combine(folder, MemoryFile);
        Figure(points, "images/s (batch 1, log scale)", p => Math.Log10(p.ImagesPerSecond), logScale: true)
            .SavePng(throughput, 1100, 560);
        Figure(points, "peak process memory, GiB (VmHWM)", p => p.PeakMiB / 1024, logScale: false)
            .SavePng(memory, 1100, 560);
        return new[] { throughput, memory };
    }

    private static Plot Figure(IReadOnlyList<SweepPoint> points, string yLabel, Func<PointMeasurement, double> value, bool logScale)
    {
        var plot = new Plot();
        plot.XLabel("image size (pixels per side)");
        plot.YLabel(yLabel);
        var palette = new ScottPlot.Palettes.Category10();
        var models = BenchModel.All.Where(m => points.Any(p => p.Model == m)).ToList();
        for (int i = 0; i < models.Count; i++)
        foreach (var mode in new[] { BenchMode.Inference, BenchMode.Training }) {
            var line = points.Where(p => p.Model == models[i] && p.Mode == mode && p.Ok).OrderBy(p => p.Resolution).ToList();
            if (line.Count == 0) continue;
            var scatter = plot.Add.Scatter(line.Select(p => (double)p.Resolution).ToArray(), line.Select(p => value(p.Measurement)).ToArray());
            scatter.Color = palette.GetColor(i);
            scatter.LineWidth = 2;
            scatter.MarkerSize = 7;
            scatter.LinePattern = mode == BenchMode.Inference ? LinePattern.Solid : LinePattern.Dashed;
            scatter.LegendText = $"{models[i].Label}, {mode.ToString().ToLowerInvariant()}";
        }
        if (logScale)
            plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic {
                MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
                IntegerTicksOnly = true,
                LabelFormatter = y => Math.Pow(10, y).ToString("G4", System.Globalization.CultureInfo.InvariantCulture),
            };
        // Beside the axes: inside, it would hide the largest sizes' points.
        plot.ShowLegend(Edge.Right);
        return plot;
    }
}
