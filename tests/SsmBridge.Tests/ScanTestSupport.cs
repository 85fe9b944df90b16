using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace SsmBridge.Tests;

/// <summary>
/// The selective-scan test classes run one after another (not in parallel with each other). TorchSharp
/// 0.107 passes implicitly created Scalars (e.g. the alpha of every tensor + tensor) to native code
/// without keeping them alive, so a garbage collection triggered by another thread in the middle of
/// such a call can free the Scalar while libtorch reads it ("Expected false to be true ... toDouble").
/// The reference loop makes tens of thousands of such calls; running these classes concurrently made
/// that race show up about once per suite run.
/// </summary>
[CollectionDefinition(Name)]
public sealed class ScanCollection
{
    public const string Name = "SsmBridge selective scan";
}

/// <summary>
/// Fresh random seeds for every test. Set SSMB_TEST_SEED to replay a failure: every assertion message
/// prints the seed it used.
/// </summary>
internal static class Seeds
{
    public static ulong Next()
    {
        var fixedSeed = Environment.GetEnvironmentVariable("SSMB_TEST_SEED");
        if (!string.IsNullOrWhiteSpace(fixedSeed)) return ulong.Parse(fixedSeed.Trim(), CultureInfo.InvariantCulture);
        return (ulong)Random.Shared.NextInt64(1, long.MaxValue);
    }

    public static string Describe(ulong seed) => $"seed {seed} (replay with SSMB_TEST_SEED={seed})";
}

/// <summary>The sizes and switches of one selective-scan call.</summary>
public sealed record ScanConfig(int Batch, int Dim, int L, int N, int Groups, bool BSelective, bool CSelective,
                                bool HasD, bool HasZ, bool HasDeltaBias, bool Softplus, bool Reverse)
{
    public override string ToString() =>
        $"batch={Batch} dim={Dim} L={L} N={N} groups={Groups} B={(BSelective ? "selective" : "time-invariant")} " +
        $"C={(CSelective ? "selective" : "time-invariant")} D={On(HasD)} z={On(HasZ)} delta_bias={On(HasDeltaBias)} " +
        $"softplus={On(Softplus)} reverse={On(Reverse)}";

    private static string On(bool b) => b ? "on" : "off";

    /// <summary>Every switch on.</summary>
    public static ScanConfig AllOn(int batch, int dim, int L, int N, int groups, bool bSel = true, bool cSel = true,
                                   bool reverse = false) =>
        new(batch, dim, L, N, groups, bSel, cSel, true, true, true, true, reverse);
}

/// <summary>
/// The tensor arguments of one selective-scan call, in the op's order: u, delta, A, B, C, D, z,
/// delta_bias (the last three may be null).
/// </summary>
public sealed class ScanInputs
{
    public static readonly string[] Names = { "u", "delta", "A", "B", "C", "D", "z", "delta_bias" };

    public ScanConfig Config { get; }
    public Tensor?[] All { get; }

    public ScanInputs(ScanConfig config, Tensor?[] all)
    {
        if (all.Length != 8) throw new ArgumentException("eight tensors expected", nameof(all));
        Config = config;
        All = all;
    }

    public Tensor U => All[0]!;
    public Tensor Delta => All[1]!;
    public Tensor A => All[2]!;
    public Tensor B => All[3]!;
    public Tensor C => All[4]!;
    public Tensor? D => All[5];
    public Tensor? Z => All[6];
    public Tensor? DeltaBias => All[7];

    /// <summary>
    /// Fresh random float64 inputs with no zeros: u, z, B, C, D ~ N(0, 1); A = -(U(0, 1) + 0.5);
    /// delta_bias ~ U(-0.5, 0.5); delta ~ U(-3, 0) with softplus, else U(0.01, 0.5) (U(0.51, 1) when a
    /// delta_bias is added, so that dt stays positive and the recurrence stays contractive at L = 4100).
    /// </summary>
    public static ScanInputs Random(ScanConfig c, ulong seed)
    {
        var g = new Generator(seed);
        var f64 = ScalarType.Float64;
        Tensor Randn(params long[] shape) => randn(shape, f64, generator: g);
        Tensor Uniform(double lo, double hi, params long[] shape) => rand(shape, f64, generator: g) * (hi - lo) + lo;

        long b = c.Batch, d = c.Dim, L = c.L, n = c.N, gr = c.Groups;
        var u = Randn(b, d, L);
        var delta = c.Softplus ? Uniform(-3.0, 0.0, b, d, L)
                  : c.HasDeltaBias ? Uniform(0.51, 1.0, b, d, L)
                  : Uniform(0.01, 0.5, b, d, L);
        var A = -(rand(new[] { d, n }, f64, generator: g) + 0.5);
        var B = c.BSelective ? Randn(b, gr, n, L) : Randn(d, n);
        var C = c.CSelective ? Randn(b, gr, n, L) : Randn(d, n);
        var D = c.HasD ? Randn(d) : null;
        var z = c.HasZ ? Randn(b, d, L) : null;
        var bias = c.HasDeltaBias ? Uniform(-0.5, 0.5, d) : null;
        return new ScanInputs(c, new[] { u, delta, A, B, C, D, z, bias });
    }

    /// <summary>Detached copies in <paramref name="type"/>, leaves requiring grad when asked.</summary>
    public ScanInputs Leaves(ScalarType type, bool requiresGrad = true) =>
        new(Config, All.Select(t => t is null ? null : t.detach().to_type(type).clone().requires_grad_(requiresGrad)).ToArray());

    /// <summary>Detached clones (same dtype), e.g. to check later that the inputs were not modified.</summary>
    public ScanInputs Clones() => new(Config, All.Select(t => t?.detach().clone()).ToArray());

    public (Tensor output, Tensor last_state) RunOps() =>
        ops.selective_scan_with_state(U, Delta, A, B, C, D, Z, DeltaBias, Config.Softplus, Config.Reverse);

    public Tensor RunOpsOutput() =>
        ops.selective_scan(U, Delta, A, B, C, D, Z, DeltaBias, Config.Softplus, Config.Reverse);

    public (Tensor output, Tensor last_state) RunReference() =>
        reference.selective_scan_with_state(U, Delta, A, B, C, D, Z, DeltaBias, Config.Softplus, Config.Reverse);

    /// <summary>(name, gradient) of every present input; throws when a gradient is missing.</summary>
    public IEnumerable<(string Name, Tensor Grad)> Grads()
    {
        for (int i = 0; i < All.Length; i++) {
            if (All[i] is null) continue;
            var grad = All[i]!.grad ?? throw new Xunit.Sdk.XunitException($"no gradient for {Names[i]}");
            yield return (Names[i], grad);
        }
    }
}

internal static class Err
{
    /// <summary>max|actual - expected| / max|expected|, in float64 (absolute when expected is all zero).</summary>
    public static double Rel(Tensor actual, Tensor expected)
    {
        using var scope = NewDisposeScope();
        if (!actual.shape.SequenceEqual(expected.shape))
            throw new Xunit.Sdk.XunitException($"shape {Fmt(actual.shape)} != expected {Fmt(expected.shape)}");
        var a = actual.detach().to_type(ScalarType.Float64);
        var e = expected.detach().to_type(ScalarType.Float64);
        double diff = (a - e).abs().max().item<double>();
        double scale = e.abs().max().item<double>();
        if (double.IsNaN(diff) || double.IsInfinity(diff)) return double.PositiveInfinity;
        return scale > 0 ? diff / scale : diff;
    }

    /// <summary>Same dtype, shape and every element equal (NaN never equals).</summary>
    public static bool Bitwise(Tensor a, Tensor b)
    {
        using var scope = NewDisposeScope();
        return a.dtype == b.dtype && a.shape.SequenceEqual(b.shape) && a.detach().eq(b.detach()).all().item<bool>();
    }

    public static string Fmt(long[] shape) => "[" + string.Join(", ", shape) + "]";

    public static string Fmt(double e) => e.ToString("0.###e+0", CultureInfo.InvariantCulture);
}

/// <summary>
/// An independent float64 loop over plain arrays: the selective scan exactly as written in
/// ssmbridge.h, with no TorchSharp op involved. Used to check the values of both ops and reference.
/// </summary>
internal static class NaiveScan
{
    public static (double[] Out, double[] LastState) Run(ScanInputs x)
    {
        var c = x.Config;
        double[] Arr(Tensor? t) => t is null ? Array.Empty<double>()
            : t.detach().to_type(ScalarType.Float64).contiguous().data<double>().ToArray();
        double[] u = Arr(x.U), delta = Arr(x.Delta), A = Arr(x.A), B = Arr(x.B), C = Arr(x.C),
                 D = Arr(x.D), z = Arr(x.Z), bias = Arr(x.DeltaBias);
        int batch = c.Batch, dim = c.Dim, L = c.L, N = c.N;
        int groups = (int)(x.B.dim() == 4 ? x.B.shape[1] : x.C.dim() == 4 ? x.C.shape[1] : 1);
        bool bSel = x.B.dim() == 4, cSel = x.C.dim() == 4;
        var output = new double[batch * dim * L];
        var last = new double[batch * dim * N];
        var h = new double[N];
        for (int b = 0; b < batch; b++)
        for (int d = 0; d < dim; d++) {
            int g = d / (dim / groups);
            Array.Clear(h);
            for (int i = 0; i < L; i++) {
                int t = c.Reverse ? L - 1 - i : i;
                int ix = (b * dim + d) * L + t;
                double dt = delta[ix] + (bias.Length > 0 ? bias[d] : 0.0);
                if (c.Softplus) dt = dt > 20 ? dt : Math.Log(1 + Math.Exp(dt));
                double y = 0;
                for (int n = 0; n < N; n++) {
                    double bt = bSel ? B[((b * groups + g) * N + n) * L + t] : B[d * N + n];
                    double ct = cSel ? C[((b * groups + g) * N + n) * L + t] : C[d * N + n];
                    h[n] = Math.Exp(dt * A[d * N + n]) * h[n] + dt * bt * u[ix];
                    y += ct * h[n];
                }
                if (D.Length > 0) y += D[d] * u[ix];
                if (z.Length > 0) y *= z[ix] / (1 + Math.Exp(-z[ix]));
                output[ix] = y;
            }
            Array.Copy(h, 0, last, (b * dim + d) * N, N);
        }
        return (output, last);
    }

    public static double Rel(Tensor actual, double[] expected)
    {
        using var scope = NewDisposeScope();
        return Err.Rel(actual, tensor(expected, actual.shape, ScalarType.Float64));
    }
}
