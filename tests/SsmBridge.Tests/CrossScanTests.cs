using TorchSharp;
using static TorchSharp.torch;

namespace SsmBridge.Tests;

/// <summary>
/// <see cref="ops.cross_scan"/> and <see cref="ops.cross_merge"/> against <see cref="reference"/>:
/// values bitwise (the scan is a permutation; the merge sums in the reference's order), gradients
/// through autograd, adjointness and finite differences in float64, both layouts, inputs stored in the
/// other layout or strided, half types, and bad arguments. Inputs are fresh random values; failures
/// print the seed.
/// </summary>
[Collection(ScanCollection.Name)]
public class CrossScanTests
{
    // Odd and even sizes, H != W, H or W = 1, and sizes past the native tiles (64 / 8 rows, 64 columns,
    // 32-channel blocks) with remainders.
    public static IEnumerable<object[]> Shapes() => new[] {
        new object[] { 1, 1, 1, 1 }, new object[] { 2, 3, 1, 7 }, new object[] { 2, 3, 7, 1 },
        new object[] { 2, 5, 4, 6 }, new object[] { 1, 3, 5, 7 }, new object[] { 2, 4, 6, 3 },
        new object[] { 1, 2, 2, 2 }, new object[] { 1, 17, 33, 20 }, new object[] { 1, 40, 9, 70 },
    };

    private static Tensor Image(long b, long c, long h, long w, bool channelFirst, ScalarType type, ulong seed) =>
        randn(channelFirst ? new[] { b, c, h, w } : new[] { b, h, w, c }, ScalarType.Float64,
              generator: new Generator(seed)).to_type(type);

    private static Tensor Scans(long b, long c, long h, long w, ScalarType type, ulong seed) =>
        randn(new[] { b, 4, c, h, w }, ScalarType.Float64, generator: new Generator(seed)).to_type(type);

    private static Tensor Leaf(Tensor t) => t.detach().clone().requires_grad_(true);

    // ---- values ------------------------------------------------------------------------------------

    [Theory]
    [MemberData(nameof(Shapes))]
    public void ScanValuesEqualTheReferenceBitwise(int b, int c, int h, int w)
    {
        ulong seed = Seeds.Next();
        foreach (var type in new[] { ScalarType.Float32, ScalarType.Float64 })
        foreach (bool channelFirst in new[] { true, false }) {
            using var scope = NewDisposeScope();
            var x = Image(b, c, h, w, channelFirst, type, seed);
            var fused = ops.cross_scan(x, channelFirst);
            Assert.Equal(new long[] { b, 4, c, (long)h * w }, fused.shape);
            Assert.True(Err.Bitwise(fused, reference.cross_scan(x, channelFirst)),
                        $"{type} channel_first={channelFirst}, {Seeds.Describe(seed)}");
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void MergeValuesEqualTheReferenceBitwise(int b, int c, int h, int w)
    {
        ulong seed = Seeds.Next();
        foreach (var type in new[] { ScalarType.Float32, ScalarType.Float64 })
        foreach (bool channelFirst in new[] { true, false }) {
            using var scope = NewDisposeScope();
            var ys = Scans(b, c, h, w, type, seed);
            var fused = ops.cross_merge(ys, channelFirst);
            Assert.Equal(channelFirst ? new long[] { b, c, (long)h * w } : new long[] { b, (long)h * w, c }, fused.shape);
            Assert.True(fused.is_contiguous());
            Assert.True(Err.Bitwise(fused, reference.cross_merge(ys, channelFirst)),
                        $"{type} channel_first={channelFirst}, {Seeds.Describe(seed)}");
        }
    }

    [Fact]
    public void TheFourOrdersAreRowMajorColumnMajorAndTheirReverses()
    {
        using var scope = NewDisposeScope();
        // A 2 x 3 image whose values are their row-major positions.
        var x = arange(6, ScalarType.Float32).view(1, 1, 2, 3);
        var ys = ops.cross_scan(x).view(4, 6);
        float[][] expected = {
            new float[] { 0, 1, 2, 3, 4, 5 }, new float[] { 0, 3, 1, 4, 2, 5 },
            new float[] { 5, 4, 3, 2, 1, 0 }, new float[] { 5, 2, 4, 1, 3, 0 },
        };
        for (int k = 0; k < 4; k++) Assert.Equal(expected[k], ys[k].data<float>().ToArray());
        // Merging the scan of x gives 4 x (each pixel once per direction).
        Assert.True(Err.Bitwise(ops.cross_merge(ops.cross_scan(x).view(1, 4, 1, 2, 3)), (x * 4).view(1, 1, 6)));
    }

    // ---- gradients ---------------------------------------------------------------------------------

    [Theory]
    [MemberData(nameof(Shapes))]
    public void GradientsMatchTheReference(int b, int c, int h, int w)
    {
        ulong seed = Seeds.Next();
        foreach (var type in new[] { ScalarType.Float32, ScalarType.Float64 })
        foreach (bool channelFirst in new[] { true, false }) {
            using var scope = NewDisposeScope();
            string where = $"{type} channel_first={channelFirst}, {Seeds.Describe(seed)}";
            var x = Image(b, c, h, w, channelFirst, type, seed);
            var weight = Scans(b, c, h, w, type, seed + 1).view(b, 4, c, (long)h * w);
            var (fusedX, refX) = (Leaf(x), Leaf(x));
            (ops.cross_scan(fusedX, channelFirst) * weight).sum().backward();
            (reference.cross_scan(refX, channelFirst) * weight).sum().backward();
            Assert.Equal(type, fusedX.grad!.dtype);
            // dx sums four values; the reference's autograd may add them in another order.
            Assert.True(Err.Rel(fusedX.grad!, refX.grad!) < (type == ScalarType.Float64 ? 1e-15 : 1e-6), $"dx {where}");

            var ys = Scans(b, c, h, w, type, seed + 2);
            var dy = Image(b, c, h, w, true, type, seed + 3).flatten(2);
            if (!channelFirst) dy = dy.transpose(1, 2).contiguous();
            var (fusedYs, refYs) = (Leaf(ys), Leaf(ys));
            (ops.cross_merge(fusedYs, channelFirst) * dy).sum().backward();
            (reference.cross_merge(refYs, channelFirst) * dy).sum().backward();
            // dys is a permutation of dy in both.
            Assert.True(Err.Bitwise(fusedYs.grad!, refYs.grad!), $"dys {where}");
        }
    }

    [Theory]
    [InlineData(2, 3, 4, 5)]
    [InlineData(1, 4, 3, 3)]
    [InlineData(3, 2, 1, 6)]
    public void MergeIsTheAdjointOfScanInFloat64(int b, int c, int h, int w)
    {
        ulong seed = Seeds.Next();
        foreach (bool channelFirst in new[] { true, false }) {
            using var scope = NewDisposeScope();
            var x = Image(b, c, h, w, channelFirst, ScalarType.Float64, seed);
            var ys = Scans(b, c, h, w, ScalarType.Float64, seed + 1);
            double lhs = (ops.cross_scan(x, channelFirst) * ys.flatten(3)).sum().item<double>();
            // (batch, channels, L) or (batch, L, channels) is x's layout with height and width flattened.
            double rhs = (x * ops.cross_merge(ys, channelFirst).view(x.shape)).sum().item<double>();
            double scale = (ops.cross_scan(x, channelFirst) * ys.flatten(3)).abs().sum().item<double>();
            Assert.True(Math.Abs(lhs - rhs) <= 1e-13 * scale, $"<scan x, ys> = {lhs}, <x, merge ys> = {rhs}, {Seeds.Describe(seed)}");
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Float64GradientsMatchCentralDifferences(bool channelFirst)
    {
        ulong seed = Seeds.Next();
        using var scope = NewDisposeScope();
        const long b = 2, c = 2, h = 3, w = 5;
        var x = Image(b, c, h, w, channelFirst, ScalarType.Float64, seed);
        var ys = Scans(b, c, h, w, ScalarType.Float64, seed + 1);
        var scanWeight = Scans(b, c, h, w, ScalarType.Float64, seed + 2).flatten(3);
        var mergeWeight = randn(channelFirst ? new[] { b, c, h * w } : new[] { b, h * w, c }, ScalarType.Float64,
                                generator: new Generator(seed + 3));

        var xLeaf = Leaf(x);
        (ops.cross_scan(xLeaf, channelFirst) * scanWeight).sum().backward();
        var ysLeaf = Leaf(ys);
        (ops.cross_merge(ysLeaf, channelFirst) * mergeWeight).sum().backward();

        double ScanLoss(Tensor t) => (ops.cross_scan(t, channelFirst) * scanWeight).sum().item<double>();
        double MergeLoss(Tensor t) => (ops.cross_merge(t, channelFirst) * mergeWeight).sum().item<double>();
        AssertCentralDifferences(x, xLeaf.grad!, ScanLoss, $"dx, {Seeds.Describe(seed)}");
        AssertCentralDifferences(ys, ysLeaf.grad!, MergeLoss, $"dys, {Seeds.Describe(seed)}");
    }

    internal static void AssertCentralDifferences(Tensor input, Tensor analytic, Func<Tensor, double> loss, string what)
    {
        const double eps = 1e-6;
        using var noGrad = no_grad();
        var flat = input.detach().clone().contiguous();
        var values = flat.view(-1);
        var grad = analytic.contiguous().view(-1);
        for (long i = 0; i < values.numel(); i++) {
            using var inner = NewDisposeScope();
            double original = values[i].item<double>();
            values[i].fill_(original + eps);
            double plus = loss(flat);
            values[i].fill_(original - eps);
            double minus = loss(flat);
            values[i].fill_(original);
            double numeric = (plus - minus) / (2 * eps);
            double exact = grad[i].item<double>();
            Assert.True(Math.Abs(numeric - exact) <= 1e-6 * Math.Max(1, Math.Abs(exact)),
                        $"{what}: element {i}: central difference {numeric}, backward {exact}");
        }
    }

    // ---- layouts, strides, dtypes --------------------------------------------------------------------

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void InputsStoredInTheOtherLayoutOrStridedGiveTheSameValuesAndGradients(bool channelFirst)
    {
        ulong seed = Seeds.Next();
        using var scope = NewDisposeScope();
        const long b = 2, c = 5, h = 7, w = 6;
        var contiguousX = Image(b, c, h, w, channelFirst, ScalarType.Float32, seed);
        // The same image stored in the other layout (a permuted view), and a strided slice.
        var otherLayout = channelFirst ? contiguousX.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2)
                                       : contiguousX.permute(0, 3, 1, 2).contiguous().permute(0, 2, 3, 1);
        var strided = Image(b, c, h, 2 * w, channelFirst, ScalarType.Float32, seed + 1)
            .slice(channelFirst ? 3 : 2, 0, 2 * w, 2);
        Assert.False(otherLayout.is_contiguous());
        Assert.False(strided.is_contiguous());
        var weight = Scans(b, c, h, w, ScalarType.Float32, seed + 2).flatten(3);
        foreach (var x in new[] { otherLayout, strided }) {
            var (fusedX, refX) = (Leaf(x), Leaf(x));
            var fused = ops.cross_scan(fusedX, channelFirst);
            Assert.True(Err.Bitwise(fused, reference.cross_scan(x, channelFirst)), Seeds.Describe(seed));
            (fused * weight).sum().backward();
            (reference.cross_scan(refX, channelFirst) * weight).sum().backward();
            Assert.Equal(x.shape, fusedX.grad!.shape);
            Assert.True(Err.Rel(fusedX.grad!, refX.grad!) < 1e-6, Seeds.Describe(seed));
        }

        // The merge's output gradient arriving transposed (stored in the other layout).
        var ys = Scans(b, c, h, w, ScalarType.Float32, seed + 3);
        var (fusedYs, refYs) = (Leaf(ys), Leaf(ys));
        var outWeight = randn(new[] { b, h * w, c }, ScalarType.Float32, generator: new Generator(seed + 4));
        var fusedY = ops.cross_merge(fusedYs, channelFirst);
        var refY = reference.cross_merge(refYs, channelFirst);
        ((channelFirst ? fusedY.transpose(1, 2) : fusedY) * outWeight).sum().backward();
        ((channelFirst ? refY.transpose(1, 2) : refY) * outWeight).sum().backward();
        Assert.True(Err.Bitwise(fusedYs.grad!, refYs.grad!), Seeds.Describe(seed));
    }

    [Theory]
    [InlineData(ScalarType.Float16)]
    [InlineData(ScalarType.BFloat16)]
    public void HalfTypesAreScannedExactlyAndMergedInFloat32(ScalarType type)
    {
        ulong seed = Seeds.Next();
        using var scope = NewDisposeScope();
        var x = Image(2, 3, 5, 4, true, type, seed);
        var fused = ops.cross_scan(x);
        Assert.Equal(type, fused.dtype);
        Assert.True(Err.Bitwise(fused, reference.cross_scan(x)), Seeds.Describe(seed));

        var ys = Scans(2, 3, 5, 4, type, seed + 1);
        var merged = ops.cross_merge(ys);
        Assert.Equal(type, merged.dtype);
        // Summed in float32 and rounded once.
        var expected = reference.cross_merge(ys.to_type(ScalarType.Float32)).to_type(type);
        Assert.True(Err.Bitwise(merged, expected), Seeds.Describe(seed));

        var leaf = Leaf(x);
        ops.cross_scan(leaf).sum().backward();
        Assert.Equal(type, leaf.grad!.dtype);
        Assert.True(Err.Bitwise(leaf.grad!, full_like(x, 4.0)));
    }

    [Fact]
    public void NoGradModeAndInputsWithoutGradWork()
    {
        using var scope = NewDisposeScope();
        var x = randn(new long[] { 1, 2, 3, 4 });
        using (no_grad()) {
            var y = ops.cross_scan(Leaf(x));
            Assert.False(y.requires_grad);
        }
        Assert.False(ops.cross_scan(x).requires_grad);
        Assert.True(ops.cross_scan(Leaf(x)).requires_grad);
        Assert.True(ops.cross_merge(Leaf(randn(new long[] { 1, 4, 2, 3, 4 }))).requires_grad);
    }

    // ---- bad arguments -------------------------------------------------------------------------------

    public static IEnumerable<object[]> BadScanInputs() => new[] {
        new object[] { "rank 3", "x", new[] { "4-D", "[2, 3, 4]" } },
        new object[] { "rank 5", "x", new[] { "4-D", "[1, 2, 3, 4, 5]" } },
        new object[] { "int32", "x", new[] { "float32", "Int32" } },
        new object[] { "bool", "x", new[] { "float32", "Bool" } },
        new object[] { "empty", "x", new[] { "non-empty", "[1, 0, 3, 4]" } },
        new object[] { "disposed", "x", new[] { "disposed" } },
    };

    [Theory]
    [MemberData(nameof(BadScanInputs))]
    public void BadScanInputsAreArgumentExceptionsNamingX(string bad, string param, string[] messageParts)
    {
        using var scope = NewDisposeScope();
        Tensor x = bad switch {
            "rank 3" => randn(new long[] { 2, 3, 4 }),
            "rank 5" => randn(new long[] { 1, 2, 3, 4, 5 }),
            "int32" => ones(new long[] { 1, 2, 3, 4 }, ScalarType.Int32),
            "bool" => ones(new long[] { 1, 2, 3, 4 }, ScalarType.Bool),
            "empty" => randn(new long[] { 1, 0, 3, 4 }),
            _ => randn(new long[] { 1, 2, 3, 4 }),
        };
        if (bad == "disposed") x.Dispose();
        foreach (bool channelFirst in new[] { true, false }) {
            foreach (var op in new Func<Tensor, bool, Tensor>[] { ops.cross_scan, reference.cross_scan }) {
                var e = Assert.ThrowsAny<ArgumentException>(() => op(x, channelFirst));
                Assert.Equal(param, e.ParamName);
                foreach (var part in messageParts) Assert.Contains(part, e.Message);
            }
        }
    }

    public static IEnumerable<object[]> BadMergeInputs() => new[] {
        new object[] { "rank 4", new[] { "5-D", "(batch, 4, channels, height, width)", "[2, 4, 3, 5]" } },
        new object[] { "rank 6", new[] { "5-D", "[1, 4, 2, 3, 4, 1]" } },
        new object[] { "3 directions", new[] { "size 4 at dimension 1", "[1, 3, 2, 3, 4]" } },
        new object[] { "8 directions", new[] { "size 4 at dimension 1", "[1, 8, 2, 3, 4]" } },
        new object[] { "int64", new[] { "float32", "Int64" } },
        new object[] { "empty", new[] { "non-empty", "[1, 4, 2, 0, 4]" } },
    };

    [Theory]
    [MemberData(nameof(BadMergeInputs))]
    public void BadMergeInputsAreArgumentExceptionsNamingYs(string bad, string[] messageParts)
    {
        using var scope = NewDisposeScope();
        Tensor ys = bad switch {
            "rank 4" => randn(new long[] { 2, 4, 3, 5 }),
            "rank 6" => randn(new long[] { 1, 4, 2, 3, 4, 1 }),
            "3 directions" => randn(new long[] { 1, 3, 2, 3, 4 }),
            "8 directions" => randn(new long[] { 1, 8, 2, 3, 4 }),
            "int64" => ones(new long[] { 1, 4, 2, 3, 4 }, ScalarType.Int64),
            _ => randn(new long[] { 1, 4, 2, 0, 4 }),
        };
        foreach (bool channelFirst in new[] { true, false }) {
            foreach (var op in new Func<Tensor, bool, Tensor>[] { ops.cross_merge, reference.cross_merge }) {
                var e = Assert.ThrowsAny<ArgumentException>(() => op(ys, channelFirst));
                Assert.Equal("ys", e.ParamName);
                foreach (var part in messageParts) Assert.Contains(part, e.Message);
            }
        }
    }

    [Fact]
    public void NullInputsAreArgumentNullExceptions()
    {
        Assert.Equal("x", Assert.Throws<ArgumentNullException>(() => ops.cross_scan(null!)).ParamName);
        Assert.Equal("ys", Assert.Throws<ArgumentNullException>(() => ops.cross_merge(null!)).ParamName);
    }
}
