using System.Diagnostics;
using System.Globalization;
using static TorchSharp.torch;

namespace SsmBridge.Bench;

/// <summary>
/// Peak process memory of one selective-scan call, measured in a fresh process per point so nothing
/// earlier inflates the peak: inputs are created, the kernel's high-water mark (VmHWM) is reset through
/// /proc/self/clear_refs, one call runs, and the growth of VmHWM over the resident size before the call
/// is what the call needed. The measurement runs once empty first: its own code's first use grows the
/// process by about 4.5 MiB, which tables before 2026-11-27 night included in every point. Linux only.
/// </summary>
public static class MemoryProbe
{
    private static readonly string[] Impls = { "fused", "reference" };
    // "model-like": forward+backward as inside a model, where u, delta, z, B and C are activations (views
    // here, so no AccumulateGrad copies their gradients) and the output's gradient arrives as a tensor of
    // its own from the next layer (allocated with the inputs, as the next layer's memory).
    private static readonly string[] Passes = { "forward", "forward+backward", "model-like" };

    /// <summary>`memory`: every case x implementation x pass, each in a child process; prints a table.</summary>
    public static int RunTable()
    {
        Console.WriteLine("| case | input MiB | pass | fused peak MiB | reference peak MiB | reference / fused |");
        Console.WriteLine("| --- | ---: | --- | ---: | ---: | ---: |");
        foreach (var c in ScanCase.Standard())
        foreach (var pass in Passes) {
            var peaks = Impls.Select(impl => Child(c, impl, pass)).ToArray();
            Console.WriteLine($"| {c} | {InputMiB(c):F1} | {pass} | {peaks[0]:F1} | {peaks[1]:F1} | {peaks[1] / peaks[0]:F1}x |");
        }
        return 0;
    }

    /// <summary>`memory-point CASE IMPL PASS`: one measurement; prints the peak growth in MiB.</summary>
    public static int RunPoint(string caseName, string impl, string pass)
    {
        var c = ScanCase.Parse(caseName);
        var scan = impl == "fused" ? (ScanInputs.Scan)ops.selective_scan : reference.selective_scan;
        using var inputs = new ScanInputs(c, requiresGrad: pass != "forward");
        using var dout = randn(c.Batch, c.Dim, c.L);
        // The same pass once on a tiny case first: loads the kernels, libtorch's lazily created state and the
        // pass's own code paths.
        var tiny = new ScanCase("warm", 1, 16, 8, Math.Min(c.N, 2));
        using (var warm = new ScanInputs(tiny, requiresGrad: pass != "forward"))
        using (var warmDout = randn(tiny.Batch, tiny.Dim, tiny.L))
        using (NewDisposeScope())
            RunPass(warm, warmDout, scan, pass);

        Measure(() => { });  // the measurement's own first run costs about 4.5 MiB (its code paths' first use)
        Console.WriteLine(Measure(() => {
            using (NewDisposeScope())
                RunPass(inputs, dout, scan, pass);
        }).ToString("F2", CultureInfo.InvariantCulture));
        return 0;
    }

    // Growth of the process's peak resident size (VmHWM) over its resident size while run runs, MiB.
    private static double Measure(Action run)
    {
        File.WriteAllText("/proc/self/clear_refs", "5");
        var before = Status("VmRSS");
        run();
        return (Status("VmHWM") - before) / 1024.0;
    }

    private static void RunPass(ScanInputs inputs, Tensor dout, ScanInputs.Scan scan, string pass)
    {
        switch (pass) {
        case "forward":
            using (no_grad()) inputs.Run(scan);
            break;
        case "model-like":
            inputs.RunOnViews(scan).backward(new[] { dout });
            inputs.DropGradients();
            break;
        default:
            inputs.RunWithBackward(scan);
            break;
        }
    }

    // ---- fused cross selective scan (issue 4) -----------------------------------------------------

    private static readonly string[] CrossImpls = { "fused", "composed" };
    private static readonly string[] CrossPasses = { "forward", "forward+backward" };

    /// <summary>
    /// `memory-cross`: SS2D's scan core, ops.cross_selective_scan against cross_scan -> selective_scan ->
    /// cross_merge, each case x implementation x pass in a child process; prints a table.
    /// </summary>
    public static int RunCrossTable()
    {
        Console.WriteLine("| case | pass | fused peak MiB | composed peak MiB | composed / fused |");
        Console.WriteLine("| --- | --- | ---: | ---: | ---: |");
        foreach (var c in CrossScanCase.Standard())
        foreach (var pass in CrossPasses) {
            var peaks = CrossImpls.Select(impl => Child("memory-cross-point", c.Name, impl, pass)).ToArray();
            Console.WriteLine($"| {c} | {pass} | {peaks[0]:F1} | {peaks[1]:F1} | {peaks[1] / peaks[0]:F1}x |");
        }
        return 0;
    }

    /// <summary>`memory-cross-point CASE IMPL PASS`: one measurement; prints the peak growth in MiB.</summary>
    public static int RunCrossPoint(string caseName, string impl, string pass)
    {
        if (!CrossPasses.Contains(pass))
            throw new ArgumentException($"pass: expected one of {string.Join(", ", CrossPasses)}, got '{pass}'");
        var c = CrossScanCase.Parse(caseName);
        using var inputs = new CrossScanInputs(c, requiresGrad: pass != "forward");
        Func<Tensor> run = impl == "fused" ? inputs.Fused : inputs.Composed;
        // Load the kernels and libtorch's lazily created state before measuring.
        using (var warm = new CrossScanInputs(new CrossScanCase("warm", 1, 16, 4, 5, Math.Min(c.N, 2)), requiresGrad: true))
            warm.WithBackward(impl == "fused" ? warm.Fused : warm.Composed);

        Measure(() => { });  // see RunPoint
        Console.WriteLine(Measure(() => {
            using var scope = NewDisposeScope();
            if (pass == "forward") {
                using var noGrad = no_grad();
                run();
            } else {
                inputs.WithBackward(run);
            }
        }).ToString("F2", CultureInfo.InvariantCulture));
        return 0;
    }

    private static double Child(string verb, string caseName, string impl, string pass)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true };
        foreach (var arg in new[] { verb, caseName, impl, pass }) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd().Trim();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"{verb} {caseName} {impl} {pass} failed");
        return double.Parse(output.Split('\n').Last(), CultureInfo.InvariantCulture);
    }

    // Bytes of u, delta, z, B and C (the per-sequence inputs), in MiB.
    private static double InputMiB(ScanCase c) =>
        (3.0 * c.Batch * c.Dim * c.L + 2.0 * c.Batch * c.N * c.L) * sizeof(float) / (1 << 20);

    private static double Child(ScanCase c, string impl, string pass)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true };
        foreach (var arg in new[] { "memory-point", c.Name, impl, pass }) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd().Trim();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"memory-point {c.Name} {impl} {pass} failed");
        return double.Parse(output.Split('\n').Last(), CultureInfo.InvariantCulture);
    }

    // A /proc/self/status field in KiB.
    private static long Status(string field)
    {
        var line = File.ReadLines("/proc/self/status").First(l => l.StartsWith(field + ":"));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
    }
}
