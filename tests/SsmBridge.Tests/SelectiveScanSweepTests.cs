using System.Text;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace SsmBridge.Tests;

/// <summary>
/// The float32 fused op against the reference evaluated in float64 (and against an independent float64
/// loop) over a sweep like upstream Mamba's selective-scan tests: forward values, last_state and the
/// gradient of every input. Each sweep row is its own test case; the inputs are fresh random numbers.
/// </summary>
[Collection(ScanCollection.Name)]
public class SelectiveScanSweepTests
{
    private const double ForwardTolerance = 2e-4;
    private const double GradientTolerance = 1e-3;

    private readonly ITestOutputHelper _log;
    public SelectiveScanSweepTests(ITestOutputHelper log) => _log = log;

    private static readonly int[] ShortLengths = { 1, 2, 7, 64, 257 };
    private static readonly int[] LongLengths = { 1000, 2048, 2049, 4100 };

    /// <summary>
    /// Deterministic list of cases (the values are random per run, the shapes are not). Every short L gets
    /// all switches off, all on, each switch alone off, and random combinations; N cycles through 1, 4, 16,
    /// groups through 1 and 2; dims include odd sizes and sizes that are not multiples of 16.
    /// Long L get a handful of combinations each.
    /// </summary>
    public static IEnumerable<object[]> Cases()
    {
        var seen = new HashSet<string>();
        return AllCases().Where(row => seen.Add(string.Join(",", row)));
    }

    private static IEnumerable<object[]> AllCases()
    {
        var rng = new Random(7341);
        int[] ns = { 1, 4, 16 };
        int[] oddDims = { 1, 3, 5, 17, 33 };
        int[] evenDims = { 2, 6, 16, 18, 34 };
        int k = 0;
        foreach (int L in ShortLengths) {
            var masks = new List<int> { 0, 0x7f };
            for (int bit = 0; bit < 7; bit++) masks.Add(0x7f & ~(1 << bit));
            for (int i = 0; i < 9; i++) masks.Add(rng.Next(128));
            foreach (int m in masks) {
                int groups = 1 + (k % 2);
                bool bSel = (m & 1) != 0, cSel = (m & 2) != 0;
                if (!bSel && !cSel) groups = 1;
                int dim = groups == 2 ? evenDims[rng.Next(evenDims.Length)] : oddDims[rng.Next(oddDims.Length)];
                int batch = 1 + rng.Next(3);
                yield return Row(new ScanConfig(batch, dim, L, ns[k % 3], groups, bSel, cSel,
                    HasD: (m & 4) != 0, HasZ: (m & 8) != 0, HasDeltaBias: (m & 16) != 0,
                    Softplus: (m & 32) != 0, Reverse: (m & 64) != 0));
                k++;
            }
        }
        // The reference's backward costs O(L^2 * batch * dim * N) (each select's gradient is a full-size
        // tensor), so the longest sequences use small batch * dim * N; wide shapes are covered at L = 1000.
        foreach (int L in LongLengths) {
            bool big = L == 1000;
            // (batch, dim, L, N, groups, B selective, C selective, D, z, delta_bias, softplus, reverse)
            yield return Row(new ScanConfig(big ? 2 : 1, big ? 17 : 3, L, 16, 1, true, true, true, true, true, true, false));
            yield return Row(new ScanConfig(1, big ? 6 : 2, L, 4, 2, true, true, true, false, true, true, true));
            yield return Row(new ScanConfig(2, 3, L, 1, 1, false, true, false, true, false, false, L % 2 == 1));
            yield return Row(new ScanConfig(1, big ? 5 : 1, L, 16, 1, true, false, true, false, false, true, L != 2048));
            if (big) {
                yield return Row(new ScanConfig(2, 18, L, 4, 2, false, true, true, true, true, false, true));
                yield return Row(new ScanConfig(1, 33, L, 16, 1, false, false, false, false, false, false, false));
            }
        }
    }

    private static object[] Row(ScanConfig c) =>
        new object[] { c.Batch, c.Dim, c.L, c.N, c.Groups, c.BSelective, c.CSelective, c.HasD, c.HasZ,
                       c.HasDeltaBias, c.Softplus, c.Reverse };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Float32MatchesFloat64Reference(int batch, int dim, int L, int N, int groups, bool bSelective,
                                               bool cSelective, bool hasD, bool hasZ, bool hasDeltaBias,
                                               bool softplus, bool reverse)
    {
        var config = new ScanConfig(batch, dim, L, N, groups, bSelective, cSelective, hasD, hasZ, hasDeltaBias,
                                    softplus, reverse);
        ulong seed = Seeds.Next();
        var report = Compare(config, seed);
        _log.WriteLine(report.Summary);
        Assert.True(report.Failures.Length == 0, $"{config}, {Seeds.Describe(seed)}:\n{report.Failures}{report.Summary}");
    }

    /// <summary>Wide shapes at the long lengths, forward only (value and last_state) against the float64 loop.</summary>
    public static IEnumerable<object[]> WideLongCases()
    {
        foreach (int L in new[] { 2048, 2049, 4100 }) {
            yield return Row(new ScanConfig(2, 17, L, 16, 1, true, true, true, true, true, true, L == 2049));
            yield return Row(new ScanConfig(1, 34, L, 16, 2, true, false, true, true, false, true, L != 2049));
            yield return Row(new ScanConfig(2, 33, L, 4, 1, false, false, true, false, true, false, false));
        }
    }

    [Theory]
    [MemberData(nameof(WideLongCases))]
    public void Float32ForwardMatchesFloat64LoopOnWideLongShapes(int batch, int dim, int L, int N, int groups,
        bool bSelective, bool cSelective, bool hasD, bool hasZ, bool hasDeltaBias, bool softplus, bool reverse)
    {
        var config = new ScanConfig(batch, dim, L, N, groups, bSelective, cSelective, hasD, hasZ, hasDeltaBias,
                                    softplus, reverse);
        ulong seed = Seeds.Next();
        using var scope = NewDisposeScope();
        var base64 = ScanInputs.Random(config, seed);
        var (out32, last32) = base64.Leaves(ScalarType.Float32, requiresGrad: false).RunOps();
        var (loopOut, loopLast) = NaiveScan.Run(base64);
        double eOut = NaiveScan.Rel(out32, loopOut), eLast = NaiveScan.Rel(last32, loopLast);
        _log.WriteLine($"out={Err.Fmt(eOut)} last_state={Err.Fmt(eLast)}");
        Assert.True(eOut < ForwardTolerance && eLast < ForwardTolerance,
            $"{config}, {Seeds.Describe(seed)}: out {Err.Fmt(eOut)}, last_state {Err.Fmt(eLast)} (tolerance {Err.Fmt(ForwardTolerance)})");
    }

    internal sealed record Report(string Failures, string Summary, double Forward, double Gradient);

    internal static Report Compare(ScanConfig config, ulong seed)
    {
        using var scope = NewDisposeScope();
        var base64 = ScanInputs.Random(config, seed);
        var f32 = base64.Leaves(ScalarType.Float32);
        var f64 = base64.Leaves(ScalarType.Float64);
        var weight = randn(new long[] { config.Batch, config.Dim, config.L }, ScalarType.Float64,
                           generator: new Generator(seed ^ 0x5DEECE66DUL));

        var (out32, last32) = f32.RunOps();
        var (out64, last64) = f64.RunReference();
        var (loopOut, loopLast) = NaiveScan.Run(base64);

        var failures = new StringBuilder();
        var summary = new StringBuilder();
        double worstForward = 0, worstGradient = 0;
        void Check(string what, double err, double tolerance, bool isGradient)
        {
            summary.Append($"{what}={Err.Fmt(err)} ");
            if (isGradient) worstGradient = Math.Max(worstGradient, err);
            else worstForward = Math.Max(worstForward, err);
            if (!(err < tolerance)) failures.AppendLine($"  {what}: relative error {Err.Fmt(err)} >= {Err.Fmt(tolerance)}");
        }

        if (out32.dtype != ScalarType.Float32) failures.AppendLine($"  output dtype {out32.dtype}, expected Float32");
        if (last32.dtype != ScalarType.Float32) failures.AppendLine($"  last_state dtype {last32.dtype}, expected Float32");
        Check("out", Err.Rel(out32, out64), ForwardTolerance, false);
        Check("last_state", Err.Rel(last32, last64), ForwardTolerance, false);
        Check("out_vs_loop", NaiveScan.Rel(out32, loopOut), ForwardTolerance, false);
        Check("last_state_vs_loop", NaiveScan.Rel(last32, loopLast), ForwardTolerance, false);
        // The reference itself must agree with the plain loop (to float64 rounding).
        var refOutErr = NaiveScan.Rel(out64, loopOut);
        var refLastErr = NaiveScan.Rel(last64, loopLast);
        if (!(refOutErr < 1e-9)) failures.AppendLine($"  reference output vs float64 loop: {Err.Fmt(refOutErr)}");
        if (!(refLastErr < 1e-9)) failures.AppendLine($"  reference last_state vs float64 loop: {Err.Fmt(refLastErr)}");

        (out32 * weight.to_type(ScalarType.Float32)).sum().backward();
        (out64 * weight).sum().backward();
        var refGrads = f64.Grads().ToDictionary(g => g.Name, g => g.Grad);
        foreach (var (name, grad) in f32.Grads()) {
            if (grad.dtype != ScalarType.Float32) failures.AppendLine($"  d{name} dtype {grad.dtype}, expected Float32");
            Check("d" + name, Err.Rel(grad, refGrads[name]), GradientTolerance, true);
        }
        return new Report(failures.ToString(), summary.ToString(), worstForward, worstGradient);
    }
}
