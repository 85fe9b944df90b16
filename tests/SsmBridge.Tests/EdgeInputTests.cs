using TorchSharp;
using static TorchSharp.torch;

namespace SsmBridge.Tests;

/// <summary>
/// Valid but unusual inputs (issue 11): expanded and non-contiguous views (read, never written through,
/// same results as contiguous copies), NaN propagation as documented in docs/robustness.md, and extreme
/// but valid values (huge and tiny step sizes, A near and at 0, L = 1, N = 1) that must give finite outputs
/// and gradients.
/// </summary>
[Collection(ScanCollection.Name)]
public class EdgeInputTests
{
    // TorchSharp has no 5-size overloads: sizes as one array.
    private static Tensor Randn(params long[] shape) => randn(shape);

    private static bool Same(Tensor a, Tensor b) => a.eq(b).all().item<bool>();

    private static void AssertFinite(Tensor t, string what) =>
        Assert.True(t.isfinite().all().item<bool>(), $"{what} has NaN or Inf");

    // ---- layouts -----------------------------------------------------------------------------------

    [Fact]
    public void ExpandedAndNonContiguousScanInputsMatchContiguousCopiesAndStayUntouched()
    {
        using var scope = NewDisposeScope();
        long b = 3, d = 8, L = 70, n = 4;
        var uBase = randn(b, L, d);                               // u as a transposed view: strides (L d, 1, d)
        var A1 = (-(rand(1, n) + 0.5)).requires_grad_();         // one row shared by every channel: expanded
        var B1 = randn(1, 2, n, L).requires_grad_();              // one batch shared by all: expanded
        var u = uBase.transpose(1, 2);
        var delta = (rand(1, d, 1) - 1).expand(b, d, L);          // stride 0 in batch and time
        var C = randn(b, 2, n, L);
        var A = A1.expand(d, n);
        var B = B1.expand(b, 2, n, L);
        var before = new[] { uBase.clone(), delta.clone(), A1.detach().clone(), B1.detach().clone() };

        var y = ops.selective_scan(u, delta, A, B, C, delta_softplus: true);
        y.sum().backward();
        var yContiguous = ops.selective_scan(u.contiguous(), delta.contiguous(), A.detach().contiguous(),
                                             B.detach().contiguous(), C, delta_softplus: true);
        Assert.True(Err.Bitwise(y, yContiguous), "expanded / transposed inputs changed the result");
        Assert.True(BadInputMatrixTests.SameValues(before[0], uBase) && BadInputMatrixTests.SameValues(before[1], delta.contiguous()) &&
                    BadInputMatrixTests.SameValues(before[2], A1.detach()) && BadInputMatrixTests.SameValues(before[3], B1.detach()),
                    "an input view was written through");

        // The expanded leaves' gradients are their expansions' gradients summed, as for the reference.
        var A2 = A1.detach().clone().requires_grad_();
        var B2 = B1.detach().clone().requires_grad_();
        reference.selective_scan(u, delta, A2.expand(d, n), B2.expand(b, 2, n, L), C, delta_softplus: true).sum().backward();
        Assert.True(Err.Rel(A1.grad!, A2.grad!) < 1e-4, $"dA: {Err.Fmt(Err.Rel(A1.grad!, A2.grad!))}");
        Assert.True(Err.Rel(B1.grad!, B2.grad!) < 1e-4, $"dB: {Err.Fmt(Err.Rel(B1.grad!, B2.grad!))}");
    }

    [Fact]
    public void ExpandedImagesGiveTheReferenceResults()
    {
        using var scope = NewDisposeScope();
        var row = randn(2, 3, 1, 7);
        var x = row.expand(2, 3, 5, 7);                          // every image row the same: stride 0 in height
        var before = row.clone();
        Assert.True(Err.Bitwise(ops.cross_scan(x), reference.cross_scan(x)));
        Assert.True(Err.Bitwise(ops.patch_merge(x, channel_first: true), reference.patch_merge(x, channel_first: true)));
        var ys = Randn(2, 1, 3, 5, 7).expand(2, 4, 3, 5, 7);
        Assert.True(Err.Rel(ops.cross_merge(ys), reference.cross_merge(ys)) < 1e-6);
        Assert.True(BadInputMatrixTests.SameValues(before, row));
    }

    // ---- NaN propagation (docs/robustness.md) ------------------------------------------------------

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void NaNInUReachesItsChannelFromItsStepOnInScanOrder(bool reverse)
    {
        using var scope = NewDisposeScope();
        long b = 2, d = 4, L = 9, n = 3, t0 = 4;
        var u = randn(b, d, L);
        u[1, 2, t0] = tensor(float.NaN);
        var y = ops.selective_scan(u, rand(b, d, L), -(rand(d, n) + 0.5), randn(b, 1, n, L), randn(b, 1, n, L),
                                   D: randn(d), reverse: reverse);
        var expected = zeros(new[] { b, d, L }, ScalarType.Bool);
        for (long t = 0; t < L; t++)
            if (reverse ? t <= t0 : t >= t0) expected[1, 2, t] = tensor(true);
        Assert.True(Same(y.isnan(), expected), $"NaN pattern:\n{y.isnan().to_type(ScalarType.Int32).ToString(TorchSharp.TensorStringStyle.Numpy)}");
    }

    [Fact]
    public void NaNInASelectiveBReachesEveryChannelOfItsGroupFromItsStepOn()
    {
        using var scope = NewDisposeScope();
        long b = 2, d = 4, L = 6, n = 3, t0 = 2;
        var B = randn(b, 2, n, L);
        B[0, 1, 0, t0] = tensor(float.NaN);                      // group 1 = channels 2 and 3
        var y = ops.selective_scan(randn(b, d, L), rand(b, d, L), -(rand(d, n) + 0.5), B, randn(b, 2, n, L));
        var expected = zeros(new[] { b, d, L }, ScalarType.Bool);
        expected[TensorIndex.Single(0), TensorIndex.Slice(2), TensorIndex.Slice(t0)] = tensor(true);
        Assert.True(Same(y.isnan(), expected));
    }

    [Fact]
    public void ImageOpsMoveNaNWithoutSpreadingIt()
    {
        using var scope = NewDisposeScope();
        var x = randn(1, 2, 3, 5);
        x[0, 1, 2, 3] = tensor(float.NaN);
        Assert.Equal(4, ops.cross_scan(x).isnan().sum().item<long>());
        Assert.Equal(1, ops.patch_merge(x, channel_first: true).isnan().sum().item<long>());
        var ys = Randn(1, 4, 2, 3, 5);
        ys[0, 2, 0, 1, 1] = tensor(float.NaN);
        Assert.Equal(1, ops.cross_merge(ys).isnan().sum().item<long>());
    }

    [Fact]
    public void NaNInOneS4DModeMakesOnlyItsRowNaN()
    {
        using var scope = NewDisposeScope();
        long H = 3, n = 4, L = 20;
        var A_real = -rand(H, n);
        A_real[1, 2] = tensor(float.NaN);
        var K = ops.s4d_kernel(rand(H) - 3, A_real, randn(H, n), randn(H, n), randn(H, n), L);
        Assert.True(K[1].isnan().all().item<bool>());
        AssertFinite(K[0], "K row 0");
        AssertFinite(K[2], "K row 2");
    }

    // ---- extreme but valid values ------------------------------------------------------------------

    public static IEnumerable<object[]> ExtremeScans() => new[] {
        new object[] { "delta 1e4 with softplus", 1e4, true, -1.0, 300L, 4L },
        new object[] { "delta 1e4 without softplus", 1e4, false, -1.0, 300L, 4L },
        new object[] { "delta 1e-8 (tiny dt)", 1e-8, false, -1.0, 300L, 4L },
        new object[] { "A = -1e-8 (near 0)", 0.5, false, -1e-8, 300L, 4L },
        new object[] { "A = 0 exactly", 0.5, false, 0.0, 300L, 4L },
        new object[] { "L = 1", 0.5, true, -1.0, 1L, 4L },
        new object[] { "N = 1", 0.5, true, -1.0, 130L, 1L },
        new object[] { "L = 1 and N = 1", -20.0, true, 0.0, 1L, 1L },
    };

    [Theory]
    [MemberData(nameof(ExtremeScans))]
    public void ExtremeScanInputsGiveFiniteOutputsAndGradientsThatMatchTheReference(string name, double delta, bool softplus,
                                                                                     double a, long L, long n)
    {
        using var scope = NewDisposeScope();
        long b = 2, d = 4;
        var g = new Generator(21);
        var leaves = new[] { randn(new[] { b, d, L }, generator: g), full(new[] { b, d, L }, delta), full(new[] { d, n }, a),
                             randn(new[] { b, 1, n, L }, generator: g), randn(new[] { b, 1, n, L }, generator: g),
                             randn(new[] { d }, generator: g) }.Select(t => t.requires_grad_()).ToArray();
        var y = ops.selective_scan(leaves[0], leaves[1], leaves[2], leaves[3], leaves[4], leaves[5], delta_softplus: softplus);
        AssertFinite(y, $"{name}: output");
        y.sum().backward();
        foreach (var (t, i) in leaves.Select((t, i) => (t, i))) AssertFinite(t.grad!, $"{name}: gradient {i}");

        // float64 reference: the fused kernel agrees where the math is well conditioned.
        var r = leaves.Select(t => t.detach().to_type(ScalarType.Float64)).ToArray();
        var expected = reference.selective_scan(r[0], r[1], r[2], r[3], r[4], r[5], delta_softplus: softplus);
        Assert.True(Err.Rel(y, expected) < 1e-4, $"{name}: output differs from the reference by {Err.Fmt(Err.Rel(y, expected))}");
    }

    [Theory]
    [InlineData(-20.0)]
    [InlineData(3.0)]
    public void S4DKernelWithAExactlyZeroAndExtremeStepIsFinite(double logDt)
    {
        using var scope = NewDisposeScope();
        long H = 2, n = 3, L = 50;
        var leaves = new[] { full(new[] { H }, logDt), zeros(H, n), zeros(H, n), randn(H, n), randn(H, n) }
            .Select(t => t.requires_grad_()).ToArray();
        var K = ops.s4d_kernel(leaves[0], leaves[1], leaves[2], leaves[3], leaves[4], L);
        AssertFinite(K, "K");
        K.square().sum().backward();
        foreach (var (t, i) in leaves.Select((t, i) => (t, i))) AssertFinite(t.grad!, $"gradient {i}");
    }

    [Fact]
    public void CrossSelectiveScanWithHugeDeltaIsFinite()
    {
        using var scope = NewDisposeScope();
        long b = 1, d = 3, h = 4, w = 5, n = 2;
        var leaves = new[] { randn(b, d, h, w), full(new[] { b, 4, d, h, w }, 1e4), -(rand(4 * d, n) + 0.5),
                             Randn(b, 4, n, h, w), Randn(b, 4, n, h, w) }.Select(t => t.requires_grad_()).ToArray();
        var y = ops.cross_selective_scan(leaves[0], leaves[1], leaves[2], leaves[3], leaves[4], delta_softplus: true);
        AssertFinite(y, "output");
        y.sum().backward();
        foreach (var (t, i) in leaves.Select((t, i) => (t, i))) AssertFinite(t.grad!, $"gradient {i}");
    }
}
