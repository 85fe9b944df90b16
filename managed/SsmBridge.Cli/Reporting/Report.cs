using System.Globalization;
using System.Text;
using SsmBridge.Cli.Training;

namespace SsmBridge.Cli.Reporting;

/// <summary>The markdown summary a training run leaves in its --out folder.</summary>
public static class Report
{
    public static string Markdown(TrainOptions o, CheckpointInfo info, long parameters, TrainResult result, Evaluation? test,
                                  IReadOnlyList<string> classNames, string curvesPng)
    {
        var s = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        s.AppendLine($"# {o.Model} on {info.Dataset}");
        s.AppendLine();
        s.AppendLine(inv, $"{DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, SsmBridge {typeof(models).Assembly.GetName().Version}, libssmbridge {Runtime.NativeVersion} ({Runtime.CpuIsa}), {TorchSharp.torch.get_num_threads()} threads.");
        s.AppendLine();
        s.AppendLine("| | |");
        s.AppendLine("| --- | --- |");
        var args = string.Concat(info.ModelArgs.Select(a => $" -a {a.Key}={a.Value}"));
        s.AppendLine(inv, $"| model | `{o.Model}{args}`, {parameters:N0} parameters, input {info.InChannels}x{info.ImgSize}x{info.ImgSize} |");
        s.AppendLine(inv, $"| training | {result.Steps} of {result.TotalSteps} steps, {result.Epochs:0.00} epochs, batch {o.BatchSize}, AdamW lr {o.Lr} (warm-up {o.Warmup:P0}, cosine), weight decay {o.WeightDecay}, label smoothing {o.LabelSmoothing}, seed {o.Seed} |");
        s.AppendLine(inv, $"| time | {result.Seconds:0.0} s, {result.ImagesPerSecond:0} images/s |");
        if (result.Interrupted) s.AppendLine("| note | interrupted (Ctrl-C); the checkpoint holds the weights at that step |");
        if (test is not null) s.AppendLine(inv, $"| test accuracy | **{100 * test.Accuracy:0.0}%** on {test.Count} images (loss {test.Loss:0.0000}) |");
        s.AppendLine();
        s.AppendLine($"![training curves]({curvesPng})");
        if (test is not null) {
            s.AppendLine();
            s.AppendLine("## Confusion matrix (rows: true class, columns: predicted)");
            s.AppendLine();
            s.Append(ConfusionMarkdown(test.Confusion, classNames));
        }
        s.AppendLine();
        s.AppendLine("Files: `model.bin` (TorchSharp), `model.safetensors` (same state-dict keys), `model.json` (how to rebuild it). Evaluate with:");
        s.AppendLine();
        s.AppendLine("```bash");
        s.AppendLine($"ssmbridge eval --checkpoint {o.Out}");
        s.AppendLine("```");
        return s.ToString();
    }

    public static string ConfusionMarkdown(long[,] m, IReadOnlyList<string> names)
    {
        var s = new StringBuilder();
        int k = m.GetLength(0);
        s.AppendLine("| | " + string.Join(" | ", Enumerable.Range(0, k).Select(i => i.ToString(CultureInfo.InvariantCulture))) + " | recall |");
        s.AppendLine("| --- |" + string.Concat(Enumerable.Repeat(" ---: |", k + 1)));
        for (int t = 0; t < k; t++) {
            long row = 0;
            for (int p = 0; p < k; p++) row += m[t, p];
            s.Append($"| {t} {Name(names, t)} |");
            for (int p = 0; p < k; p++) s.Append(p == t ? $" **{m[t, p]}** |" : $" {m[t, p]} |");
            s.AppendLine(row == 0 ? " - |" : string.Create(CultureInfo.InvariantCulture, $" {100.0 * m[t, t] / row:0.0}% |"));
        }
        return s.ToString();
    }

    /// <summary>The confusion matrix as aligned plain text for the console.</summary>
    public static string ConfusionText(long[,] m, IReadOnlyList<string> names)
    {
        int k = m.GetLength(0);
        int nameWidth = Math.Min(14, Enumerable.Range(0, k).Max(i => Name(names, i).Length + 3));
        int cell = Math.Max(5, m.Cast<long>().Max().ToString(CultureInfo.InvariantCulture).Length + 1);
        var s = new StringBuilder();
        s.Append("true \\ predicted".PadRight(nameWidth));
        for (int p = 0; p < k; p++) s.Append(p.ToString(CultureInfo.InvariantCulture).PadLeft(cell));
        s.AppendLine("  recall");
        for (int t = 0; t < k; t++) {
            long row = 0;
            for (int p = 0; p < k; p++) row += m[t, p];
            var label = $"{t} {Name(names, t)}";
            s.Append((label.Length > nameWidth - 1 ? label[..(nameWidth - 1)] : label).PadRight(nameWidth));
            for (int p = 0; p < k; p++) s.Append(m[t, p].ToString(CultureInfo.InvariantCulture).PadLeft(cell));
            s.AppendLine(row == 0 ? "       -" : string.Create(CultureInfo.InvariantCulture, $"{100.0 * m[t, t] / row,7:0.0}%"));
        }
        return s.ToString();
    }

    private static string Name(IReadOnlyList<string> names, int i) => i < names.Count ? names[i] : i.ToString(CultureInfo.InvariantCulture);
}
