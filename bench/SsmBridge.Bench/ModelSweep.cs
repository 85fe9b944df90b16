using System.Globalization;
using SsmBridge.Cli;
using SsmBridge.Cli.Benchmarking;
using SsmBridge.Cli.Commands;

namespace SsmBridge.Bench;

/// <summary>
/// `models`: the issue-10 sweep. Vim-Ti, VMamba-T, S4ND-ViT-Ti and DeiT-Ti at 224, 384, 512, 768 and 1024, inference
/// and training step, batch 1, and Vim-Ti on the reference ops at 224; a fresh `ssmbridge bench-point` process per
/// point (peak memory = that point's VmHWM), models alternating at each size. Writes sweep.md, sweep.csv and the
/// two PNGs into the output folder and prints the markdown.
/// Options: --sizes 224,384 --models vim_tiny,deit_tiny --modes inference,training --steps 3 --time-cap 30
/// --timeout 900 --threads 0 --out bench/results/models.
/// </summary>
public static class ModelSweep
{
    public static int Run(string[] args)
    {
        var options = Options(args);
        var sizes = BenchCompareCommand.ParseResolutions(Get(options, "sizes", "224,384,512,768,1024"));
        var plan = new SweepPlan {
            Models = List(options, "models", string.Join(",", BenchModel.Comparison.Select(m => m.Key))).Select(BenchModel.Get).ToList(),
            Resolutions = sizes,
            Modes = List(options, "modes", "inference,training").Select(m => Enum.Parse<BenchMode>(m, ignoreCase: true)).ToList(),
            ReferenceResolutions = sizes.Contains(224) ? new long[] { 224 } : Array.Empty<long>(),
            Steps = int.Parse(Get(options, "steps", "3"), CultureInfo.InvariantCulture),
            TimeCapSeconds = double.Parse(Get(options, "time-cap", "30"), CultureInfo.InvariantCulture),
            PointTimeoutSeconds = double.Parse(Get(options, "timeout", "900"), CultureInfo.InvariantCulture),
            Threads = int.Parse(Get(options, "threads", "0"), CultureInfo.InvariantCulture),
        };
        var outDir = Get(options, "out", Path.Combine("bench", "results", "models"));
        Directory.CreateDirectory(outDir);

        var points = Sweep.Run(plan, p => Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{DateTime.UtcNow:HH:mm:ss} {p.Model.Key} {p.Resolution} {p.Mode}: {(p.Ok ? $"{p.Measurement.MsPerStep:0.0} ms/step, peak {p.Measurement.PeakMiB:0} MiB" : p.Measurement.Status)} " +
            $"(load {p.Load1:0.00}, {p.WallSeconds:0} s)")));
        var markdown = SweepReport.Markdown(points);
        File.WriteAllText(Path.Combine(outDir, "sweep.md"), markdown);
        File.WriteAllText(Path.Combine(outDir, "sweep.csv"), SweepReport.Csv(points));
        SweepPlots.Write(outDir, points);
        Console.Write(markdown);
        return points.All(p => p.Ok) ? 0 : 1;
    }

    /// <summary>`models-plot CSV DIR`: the PNGs of a finished sweep, from its sweep.csv.</summary>
    public static int Plot(string csvPath, string outDir)
    {
        Directory.CreateDirectory(outDir);
        SweepPlots.Write(outDir, SweepReport.FromCsv(File.ReadAllText(csvPath)));
        return 0;
    }

    private static Dictionary<string, string> Options(string[] args)
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < args.Length; i += 2) {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
                throw new ArgumentException($"models: expected --name value pairs, got '{string.Join(' ', args)}'", nameof(args));
            options[args[i][2..]] = args[i + 1];
        }
        return options;
    }

    private static string Get(Dictionary<string, string> options, string name, string fallback) =>
        options.TryGetValue(name, out var value) ? value : fallback;

    private static IEnumerable<string> List(Dictionary<string, string> options, string name, string fallback) =>
        Get(options, name, fallback).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
