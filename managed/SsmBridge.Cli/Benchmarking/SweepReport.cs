using System.Globalization;
using System.Text;

namespace SsmBridge.Cli.Benchmarking;

/// <summary>A sweep's points as markdown tables (throughput, peak memory, Vim on fused vs reference ops) and as CSV.</summary>
public static class SweepReport
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static string Markdown(IReadOnlyList<SweepPoint> points)
    {
        var text = new StringBuilder();
        var models = BenchModel.All.Where(m => m != BenchModel.VimTinyReference && points.Any(p => p.Model == m)).ToList();
        bool vimAndDeiT = models.Contains(BenchModel.VimTiny) && models.Contains(BenchModel.DeiTTiny);

        text.AppendLine("Images/s, batch 1 (median step; load = 1-minute load average when the row's points started):");
        text.AppendLine();
        Header(text, models.Select(m => m.Label).Concat(vimAndDeiT ? new[] { "Vim-Ti / DeiT-Ti" } : Array.Empty<string>()));
        foreach (var row in Rows(points, models))
            Row(text, row, models.Select(m => Cell(row, m, p => p.Measurement.ImagesPerSecond.ToString(Format(p.Measurement.ImagesPerSecond), Inv))),
                vimAndDeiT ? Ratio(row, p => p.Measurement.ImagesPerSecond, r => $"{r:0.00}x") : null);

        text.AppendLine();
        text.AppendLine("Peak process memory, MiB (VmHWM of a fresh process: runtime, libtorch, weights, optimizer state and activations; " +
                        "in parentheses the growth over the resident size with model and input built, i.e. what the steps needed):");
        text.AppendLine();
        Header(text, models.Select(m => m.Label).Concat(vimAndDeiT ? new[] { "Vim-Ti vs DeiT-Ti" } : Array.Empty<string>()));
        foreach (var row in Rows(points, models))
            Row(text, row, models.Select(m => Cell(row, m, p => $"{p.Measurement.PeakMiB:0} ({p.Measurement.PeakMiB - p.Measurement.ModelMiB:0})")),
                vimAndDeiT ? Ratio(row, p => p.Measurement.PeakMiB, r => $"{(r - 1) * 100:+0;-0}%") : null);

        text.AppendLine();
        text.AppendLine("Process CPU time per timed step, ms (all threads; the work done, which load inflates less than wall time):");
        text.AppendLine();
        Header(text, models.Select(m => m.Label).Concat(vimAndDeiT ? new[] { "Vim-Ti speed-up over DeiT-Ti" } : Array.Empty<string>()));
        foreach (var row in Rows(points, models))
            Row(text, row, models.Select(m => Cell(row, m, p => p.Measurement.CpuMsPerStep.ToString("0", Inv))),
                vimAndDeiT ? Ratio(row, p => 1 / p.Measurement.CpuMsPerStep, r => $"{r:0.00}x") : null);

        var reference = points.Where(p => p.Model == BenchModel.VimTinyReference).ToList();
        if (reference.Count > 0) {
            text.AppendLine();
            text.AppendLine("Vim-Ti on our fused ops vs the same model on `reference` ops (plain TorchSharp), measured one after the other:");
            text.AppendLine();
            text.AppendLine("| mode | size | fused img/s | reference img/s | fused / reference | fused peak MiB | reference peak MiB |");
            text.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
            foreach (var r in reference) {
                var f = points.FirstOrDefault(p => p.Model == BenchModel.VimTiny && p.Resolution == r.Resolution && p.Mode == r.Mode);
                string Val(SweepPoint? p, Func<PointMeasurement, string> show) => p is null ? "-" : p.Ok ? show(p.Measurement) : p.Measurement.Status;
                var ratio = f is { Ok: true } && r.Ok ? $"{r.Measurement.MsPerStep / f.Measurement.MsPerStep:0.0}x" : "-";
                text.AppendLine(string.Create(Inv, $"| {Mode(r.Mode)} | {r.Resolution} | {Val(f, m => m.ImagesPerSecond.ToString("0.00", Inv))} | " +
                    $"{Val(r, m => m.ImagesPerSecond.ToString("0.00", Inv))} | {ratio} | {Val(f, m => m.PeakMiB.ToString("0", Inv))} | {Val(r, m => m.PeakMiB.ToString("0", Inv))} |"));
            }
        }
        return text.ToString();
    }

    public static string Csv(IReadOnlyList<SweepPoint> points)
    {
        var text = new StringBuilder("model,label,resolution,mode,status,ms_per_step,images_per_s,steps,peak_mib,model_mib,cpu_ms_per_step,load1,wall_s\n");
        foreach (var p in points) {
            var m = p.Measurement;
            text.AppendLine(string.Create(Inv,
                $"{p.Model.Key},\"{p.Model.Label}\",{p.Resolution},{Mode(p.Mode)},\"{m.Status}\",{m.MsPerStep:0.###},{m.ImagesPerSecond:0.####},{m.Steps},{m.PeakMiB:0.#},{m.ModelMiB:0.#},{m.CpuMsPerStep:0.#},{p.Load1:0.00},{p.WallSeconds:0.0}"));
        }
        return text.ToString();
    }

    /// <summary>Reads what <see cref="Csv"/> wrote (e.g. to redraw the plots of a finished sweep).</summary>
    public static IReadOnlyList<SweepPoint> FromCsv(string csv) =>
        csv.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Skip(1).Select(line => {
            var f = Fields(line);
            if (f.Count != 13) throw new FormatException($"sweep CSV: expected 13 fields, got {f.Count} in '{line}'");
            double D(int i) => double.Parse(f[i], Inv);
            var measurement = new PointMeasurement(f[4], D(5), int.Parse(f[7], Inv), D(8), D(9), D(10));
            return new SweepPoint(BenchModel.Get(f[0]), long.Parse(f[2], Inv), Enum.Parse<BenchMode>(f[3], ignoreCase: true), measurement, D(11), D(12));
        }).ToList();

    // Comma-separated fields; double quotes protect commas (statuses and labels are quoted).
    private static List<string> Fields(string line)
    {
        var fields = new List<string>();
        var current = new StringBuilder();
        bool quoted = false;
        foreach (var c in line) {
            if (c == '"') quoted = !quoted;
            else if (c == ',' && !quoted) {
                fields.Add(current.ToString());
                current.Clear();
            } else current.Append(c);
        }
        fields.Add(current.ToString());
        return fields;
    }

    private static string Mode(BenchMode mode) => mode.ToString().ToLowerInvariant();

    private static string Format(double value) => value >= 100 ? "0" : value >= 10 ? "0.0" : "0.00";

    private static void Header(StringBuilder text, IEnumerable<string> columns)
    {
        var names = columns.ToList();
        text.AppendLine($"| mode | size | {string.Join(" | ", names)} | load |");
        text.AppendLine($"| --- | ---: |{string.Concat(names.Select(_ => " ---: |"))} ---: |");
    }

    private sealed record RowPoints(BenchMode Mode, long Resolution, IReadOnlyList<SweepPoint> Points);

    private static IEnumerable<RowPoints> Rows(IReadOnlyList<SweepPoint> points, IReadOnlyList<BenchModel> models) =>
        points.Where(p => models.Contains(p.Model))
              .GroupBy(p => (p.Mode, p.Resolution))
              .OrderBy(g => g.Key.Mode).ThenBy(g => g.Key.Resolution)
              .Select(g => new RowPoints(g.Key.Mode, g.Key.Resolution, g.ToList()));

    private static string Cell(RowPoints row, BenchModel model, Func<SweepPoint, string> show)
    {
        var p = row.Points.FirstOrDefault(q => q.Model == model);
        return p is null ? "-" : p.Ok ? show(p) : p.Measurement.Status;
    }

    // Vim-Ti's value over DeiT-Ti's in the same row.
    private static string Ratio(RowPoints row, Func<SweepPoint, double> value, Func<double, string> show)
    {
        var vim = row.Points.FirstOrDefault(p => p.Model == BenchModel.VimTiny);
        var deit = row.Points.FirstOrDefault(p => p.Model == BenchModel.DeiTTiny);
        return vim is { Ok: true } && deit is { Ok: true } ? show(value(vim) / value(deit)) : "-";
    }

    private static void Row(StringBuilder text, RowPoints row, IEnumerable<string> cells, string? ratio)
    {
        var measured = row.Points.Where(p => !double.IsNaN(p.Load1)).Select(p => p.Load1).DefaultIfEmpty(double.NaN);
        var extra = ratio is null ? "" : $" {ratio} |";
        text.AppendLine(string.Create(Inv, $"| {Mode(row.Mode)} | {row.Resolution} | {string.Join(" | ", cells)} |{extra} {measured.Average():0.0} |"));
    }
}
