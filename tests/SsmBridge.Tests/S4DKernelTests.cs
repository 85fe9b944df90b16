using TorchSharp;
using static TorchSharp.torch;

namespace SsmBridge.Tests;

/// <summary>
/// <see cref="ops.s4d_kernel"/> against <see cref="reference.s4d_kernel"/> evaluated in float64 (values and
/// every gradient; float32 and float64 op), tiny dt A against the kernel's Taylor limit (where exp(x) - 1
/// cancels), A = 0 and A_real -> 0 over long L, float64 central differences, half inputs and bad arguments.
/// Relative errors are max |op - reference| / max |reference| per tensor, except for log_dt's gradient, whose
/// per-channel sums over L can cancel: its error is relative to the sum of its terms' magnitudes.
/// </summary>
[Collection(ScanCollection.Name)]
public class S4DKernelTests
{
    /// <summary>S4D-Lin-like inputs: log-uniform dt, Re A in [-1, -0.1], Im A ~ -pi n, C complex normal.</summary>
    internal static Tensor[] Inputs(long H, long N, double dtMin, double dtMax, ulong seed)
    {
        var g = new Generator(seed);
        var logDt = rand(new[] { H }, ScalarType.Float64, generator: g) * (Math.Log(dtMax) - Math.Log(dtMin)) + Math.Log(dtMin);
        var Ar = -(0.1 + 0.9 * rand(new[] { H, N }, ScalarType.Float64, generator: g));
        var Ai = -Math.PI * arange(N, ScalarType.Float64) * (0.5 + rand(new[] { H, N }, ScalarType.Float64, generator: g));
        var Cr = randn(new[] { H, N }, ScalarType.Float64, generator: g);
        var Ci = randn(new[] { H, N }, ScalarType.Float64, generator: g);
        return new[] { logDt, Ar, Ai, Cr, Ci };
    }

    private static Tensor[] Leaves(Tensor[] x, ScalarType type) => x.Select(t => t.to_type(type).detach().requires_grad_(true)).ToArray();

    private static readonly string[] Names = { "log_dt", "A_real", "A_imag", "C_real", "C_imag" };

    public static IEnumerable<object[]> Cases() => new[] {
        new object[] { 1, 1, 1, 1e-3, 1e-1 }, new object[] { 3, 4, 7, 1e-3, 1e-1 }, new object[] { 2, 16, 64, 1e-2, 1.0 },
        new object[] { 8, 32, 256, 1e-3, 1e-1 }, new object[] { 5, 7, 33, 1e-3, 1e-1 }, new object[] { 4, 32, 1000, 1e-3, 1e-1 },
        new object[] { 2, 32, 4096, 1e-4, 1e-2 }, new object[] { 3, 8, 100, 1e-9, 1e-7 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void ValuesAndGradientsMatchTheFloat64Reference(int H, int N, int L, double dtMin, double dtMax)
    {
        ulong seed = Seeds.Next();
        using var scope = NewDisposeScope();
        var inputs = Inputs(H, N, dtMin, dtMax, seed);
        var dK = randn(new long[] { H, L }, ScalarType.Float64, generator: new Generator(seed + 1));
        var refLeaves = Leaves(inputs, ScalarType.Float64);
        var expected = reference.s4d_kernel(refLeaves[0], refLeaves[1], refLeaves[2], refLeaves[3], refLeaves[4], L);
        (expected * dK).sum().backward();
        // d log_dt[h] = sum over l of dK[h, l] dK[h, l] / d log_dt[h]: one sum per channel over L terms of
        // random sign, which can cancel to far below its terms (H = 2 gives only two such sums). Its error
        // is measured against the sum of the terms' magnitudes; their derivatives come from float64
        // central differences of the reference.
        double logDtScale;
        using (no_grad()) {
            const double step = 1e-8;
            Tensor At(double shift) => reference.s4d_kernel(inputs[0] + shift, inputs[1], inputs[2], inputs[3], inputs[4], L);
            var dKdLogDt = (At(step) - At(-step)) / (2 * step);
            logDtScale = (dK.abs() * dKdLogDt.abs()).sum(1).max().item<double>();
        }
        foreach (var (type, valueTol, gradTol) in new[] {
                     // At dt ~ 1e-9 the float64 gradients are themselves ~dt^2 small and both sides lose a few
                     // digits to rounding (measured up to 1.5e-9 relative), so the tiny-dt rows get 1e-8.
                     (ScalarType.Float64, 1e-10, dtMax < 1e-6 ? 1e-8 : 1e-9),
                     (ScalarType.Float32, L <= 256 ? 1e-4 : 1e-3, L <= 256 ? 1e-3 : 5e-3) }) {
            var leaves = Leaves(inputs, type);
            var K = ops.s4d_kernel(leaves[0], leaves[1], leaves[2], leaves[3], leaves[4], L);
            Assert.Equal(type, K.dtype);
            Assert.Equal(new long[] { H, L }, K.shape);
            double err = ModelAssert.RelativeError(K, expected);
            Assert.True(err < valueTol, $"{type} K: {err:E2}, {Seeds.Describe(seed)}");
            (K * dK.to_type(type)).sum().backward();
            // Against the magnitude of its terms, log_dt's gradient is far more accurate than the others
            // against their values (seen up to 8.8e-6 in float32 and 3.3e-15 in float64), so it gets bounds of
            // its own.
            double logDtTol = type == ScalarType.Float32 ? 2e-4 : 1e-12;
            for (int i = 0; i < 5; i++) {
                double e = ModelAssert.RelativeError(leaves[i].grad!, refLeaves[i].grad!, i == 0 ? logDtScale : null);
                Assert.True(e < (i == 0 ? logDtTol : gradTol), $"{type} d{Names[i]}: {e:E2}, {Seeds.Describe(seed)}");
            }
        }
    }

    [Theory]
    [InlineData(1e-6)]
    [InlineData(1e-9)]
    [InlineData(1e-12)]
    public void TinyDtAMatchesTheTaylorLimitWhereExpMinusOneCancels(double dt)
    {
        // For |dt A| << 1: (exp(dt A) - 1) / A = dt (1 + dt A / 2 + (dt A)^2 / 6 + ...), and exp(dt A l) ~ 1 + dt A l.
        ulong seed = Seeds.Next();
        using var scope = NewDisposeScope();
        const long H = 3, N = 8, L = 5;
        var x = Inputs(H, N, dt, dt, seed);
        var A = complex(x[1], x[2]);
        var C = complex(x[3], x[4]);
        var dtA = dt * A;
        var l = arange(L, ScalarType.Float64).to_type(ScalarType.ComplexFloat64);
        var series = dt * (1 + dtA / 2 + dtA * dtA / 6 + dtA * dtA * dtA / 24);
        var powers = (dtA.unsqueeze(-1) * l).exp();
        var expected = 2 * (C * series).unsqueeze(-1).mul(powers).sum(1).real;
        foreach (var type in new[] { ScalarType.Float64, ScalarType.Float32 }) {
            var K = ops.s4d_kernel(x[0].to_type(type), x[1].to_type(type), x[2].to_type(type), x[3].to_type(type), x[4].to_type(type), L);
            double tol = type == ScalarType.Float64 ? 1e-12 : 1e-5;
            double err = ModelAssert.RelativeError(K, expected);
            Assert.True(err < tol, $"{type} dt={dt}: {err:E2}, {Seeds.Describe(seed)}");
        }
        // The float64 reference (careful expm1) agrees; the naive exp(x) - 1 would lose about |log10(dt)| digits.
        var r = reference.s4d_kernel(x[0], x[1], x[2], x[3], x[4], L);
        Assert.True(ModelAssert.RelativeError(r, expected) < 1e-12, Seeds.Describe(seed));
    }

    [Fact]
    public void ZeroAAndARealNearZeroStayFiniteOverLongKernels()
    {
        using var scope = NewDisposeScope();
        const long L = 20000;
        var logDt = tensor(new[] { Math.Log(0.1), Math.Log(0.01) });
        var Ar = tensor(new[] { 0.0, -1e-12, -1e-6, 0.0 }).view(2, 2);
        var Ai = tensor(new[] { 0.0, -3.0, -1e-3, -40.0 }).view(2, 2);
        var Cr = tensor(new[] { 1.5, 0.25, -0.5, 2.0 }).view(2, 2);
        var Ci = tensor(new[] { 0.5, 1.0, 0.75, -1.0 }).view(2, 2);
        foreach (var type in new[] { ScalarType.Float64, ScalarType.Float32 }) {
            var K = ops.s4d_kernel(logDt.to_type(type), Ar.to_type(type), Ai.to_type(type), Cr.to_type(type), Ci.to_type(type), L);
            Assert.True(K.isfinite().all().item<bool>(), type.ToString());
            // Row 0, mode 0 has A = 0: its contribution is 2 Re(C) dt = 0.3 at every lag.
            var mode1 = ops.s4d_kernel(logDt.to_type(type), Ar.to_type(type), Ai.to_type(type), (Cr * tensor(new[] { 0.0, 1, 1, 1 }).view(2, 2)).to_type(type),
                                       (Ci * tensor(new[] { 0.0, 1, 1, 1 }).view(2, 2)).to_type(type), L);
            var zeroMode = (K - mode1)[0].to_type(ScalarType.Float64);
            Assert.True((zeroMode - 0.3).abs().max().item<double>() < (type == ScalarType.Float64 ? 1e-13 : 1e-6), type.ToString());
        }
        // Where A != 0 the float64 reference agrees along the whole length.
        var keep = tensor(new[] { 0.0, 1, 1, 1 }).view(2, 2);
        var op = ops.s4d_kernel(logDt, Ar + (1 - keep) * -1.0, Ai, Cr * keep, Ci * keep, L);
        var r = reference.s4d_kernel(logDt, Ar + (1 - keep) * -1.0, Ai, Cr * keep, Ci * keep, L);
        Assert.True(ModelAssert.RelativeError(op, r) < 1e-9);
    }

    [Fact]
    public void GradientsMatchCentralDifferencesInFloat64()
    {
        ulong seed = Seeds.Next();
        using var scope = NewDisposeScope();
        const long H = 2, N = 3, L = 37;
        var x = Inputs(H, N, 1e-2, 0.5, seed);
        var w = randn(new[] { H, L }, ScalarType.Float64, generator: new Generator(seed + 1));
        var leaves = Leaves(x, ScalarType.Float64);
        (ops.s4d_kernel(leaves[0], leaves[1], leaves[2], leaves[3], leaves[4], L) * w).sum().backward();
        double F(Tensor[] v) => (ops.s4d_kernel(v[0], v[1], v[2], v[3], v[4], L) * w).sum().item<double>();
        for (int i = 0; i < 5; i++) {
            var grad = leaves[i].grad!.flatten();
            for (long j = 0; j < x[i].numel(); j++) {
                var plus = x.Select(t => t.clone()).ToArray();
                var minus = x.Select(t => t.clone()).ToArray();
                const double h = 1e-6;
                plus[i].view(-1)[j] += h;
                minus[i].view(-1)[j] -= h;
                double fd = (F(plus) - F(minus)) / (2 * h);
                double an = grad[j].item<double>();
                Assert.True(Math.Abs(fd - an) <= 1e-6 * Math.Max(1, Math.Abs(fd)), $"d{Names[i]}[{j}]: {an} vs {fd}, {Seeds.Describe(seed)}");
            }
        }
    }

    [Fact]
    public void HalfInputsAreComputedInFloat32()
    {
        using var scope = NewDisposeScope();
        var x = Inputs(2, 4, 1e-2, 1e-1, Seeds.Next());
        var K = ops.s4d_kernel(x[0].to_type(ScalarType.BFloat16), x[1].to_type(ScalarType.BFloat16), x[2].to_type(ScalarType.BFloat16),
                               x[3].to_type(ScalarType.BFloat16), x[4].to_type(ScalarType.BFloat16), 16);
        Assert.Equal(ScalarType.BFloat16, K.dtype);
        Assert.True(K.to_type(ScalarType.Float32).isfinite().all().item<bool>());
    }

    [Fact]
    public void BadArgumentsThrowNamingTheArgument()
    {
        using var scope = NewDisposeScope();
        var x = Inputs(3, 4, 1e-2, 1e-1, 1).Select(t => t.to_type(ScalarType.Float32)).ToArray();
        void Expect(string name, Func<Tensor> call)
        {
            var e = Assert.ThrowsAny<ArgumentException>(() => call());
            Assert.Equal(name, e.ParamName);
            Assert.StartsWith(name + ":", e.Message);
        }
        Expect("log_dt", () => ops.s4d_kernel(x[0].view(3, 1), x[1], x[2], x[3], x[4], 8));
        Expect("log_dt", () => ops.s4d_kernel(x[0].to_type(ScalarType.Int32), x[1], x[2], x[3], x[4], 8));
        Expect("log_dt", () => ops.s4d_kernel(null!, x[1], x[2], x[3], x[4], 8));
        Expect("A_real", () => ops.s4d_kernel(x[0], x[1].flatten(), x[2], x[3], x[4], 8));
        Expect("A_imag", () => ops.s4d_kernel(x[0], x[1], x[2][.., ..2], x[3], x[4], 8));
        Expect("C_real", () => ops.s4d_kernel(x[0], x[1], x[2], x[3].to_type(ScalarType.Float64), x[4], 8));
        Expect("C_imag", () => ops.s4d_kernel(x[0], x[1], x[2], x[3], x[4][..2], 8));
        Expect("A_real", () => ops.s4d_kernel(x[0][..2], x[1], x[2], x[3], x[4], 8));
        Expect("L", () => ops.s4d_kernel(x[0], x[1], x[2], x[3], x[4], 0));
        Expect("log_dt", () => reference.s4d_kernel(x[0].view(3, 1), x[1], x[2], x[3], x[4], 8));
    }
}
