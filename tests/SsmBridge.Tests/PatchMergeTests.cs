using SsmBridge.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace SsmBridge.Tests;

/// <summary>
/// <see cref="ops.patch_merge"/> against <see cref="reference.patch_merge"/> (values and gradients
/// bitwise: both directions are gathers), zero padding of odd sizes, adjointness and finite differences
/// in float64, both layouts, inputs stored in the other layout or strided, half types, bad arguments;
/// and the <see cref="PatchMerging2D"/> module (checkpoint names, both norm orders, channel-first).
/// </summary>
[Collection(ScanCollection.Name)]
public class PatchMergeTests
{
    public static IEnumerable<object[]> Shapes() => new[] {
        new object[] { 1, 1, 1, 1 }, new object[] { 2, 3, 1, 6 }, new object[] { 2, 3, 7, 1 },
        new object[] { 2, 5, 4, 6 }, new object[] { 1, 3, 5, 7 }, new object[] { 2, 4, 6, 3 },
        new object[] { 1, 2, 2, 2 }, new object[] { 1, 17, 9, 13 }, new object[] { 2, 8, 14, 14 },
    };

    private static Tensor Image(long b, long c, long h, long w, bool channelFirst, ScalarType type, ulong seed) =>
        randn(channelFirst ? new[] { b, c, h, w } : new[] { b, h, w, c }, ScalarType.Float64,
              generator: new Generator(seed)).to_type(type);

    private static long[] Merged(long b, long c, long h, long w, bool channelFirst) =>
        channelFirst ? new[] { b, 4 * c, (h + 1) / 2, (w + 1) / 2 } : new[] { b, (h + 1) / 2, (w + 1) / 2, 4 * c };

    private static Tensor Leaf(Tensor t) => t.detach().clone().requires_grad_(true);

    [Theory]
    [MemberData(nameof(Shapes))]
    public void ValuesAndGradientsEqualTheReferenceBitwise(int b, int c, int h, int w)
    {
        ulong seed = Seeds.Next();
        foreach (var type in new[] { ScalarType.Float32, ScalarType.Float64 })
        foreach (bool channelFirst in new[] { false, true }) {
            using var scope = NewDisposeScope();
            string where = $"{type} channel_first={channelFirst}, {Seeds.Describe(seed)}";
            var x = Image(b, c, h, w, channelFirst, type, seed);
            var (fusedX, refX) = (Leaf(x), Leaf(x));
            var fused = ops.patch_merge(fusedX, channelFirst);
            var expected = reference.patch_merge(refX, channelFirst);
            Assert.Equal(Merged(b, c, h, w, channelFirst), fused.shape);
            Assert.True(Err.Bitwise(fused, expected), $"values {where}");

            var weight = randn(fused.shape, ScalarType.Float64, generator: new Generator(seed + 1)).to_type(type);
            (fused * weight).sum().backward();
            (expected * weight).sum().backward();
            Assert.True(Err.Bitwise(fusedX.grad!, refX.grad!), $"dx {where}");
        }
    }

    [Fact]
    public void TheGroupsAreSwinsOrderAndOddSizesArePaddedWithZeros()
    {
        using var scope = NewDisposeScope();
        // A 3 x 3 single-channel image whose values are 1 + their row-major positions.
        var x = (arange(9, ScalarType.Float32) + 1).view(1, 3, 3, 1);
        var merged = ops.patch_merge(x);
        Assert.Equal(new long[] { 1, 2, 2, 4 }, merged.shape);
        // Output pixel (i, j) = [x(2i, 2j), x(2i+1, 2j), x(2i, 2j+1), x(2i+1, 2j+1)], zero outside.
        float[] expected = { 1, 4, 2, 5,   3, 6, 0, 0,   7, 0, 8, 0,   9, 0, 0, 0 };
        Assert.Equal(expected, merged.contiguous().data<float>().ToArray());
        var channelFirst = ops.patch_merge(x.permute(0, 3, 1, 2), channel_first: true);
        Assert.True(Err.Bitwise(channelFirst, merged.permute(0, 3, 1, 2)));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void BackwardIsTheAdjointAndMatchesCentralDifferencesInFloat64(bool channelFirst)
    {
        ulong seed = Seeds.Next();
        using var scope = NewDisposeScope();
        const long b = 2, c = 2, h = 3, w = 5;
        var x = Image(b, c, h, w, channelFirst, ScalarType.Float64, seed);
        var g = randn(Merged(b, c, h, w, channelFirst), ScalarType.Float64, generator: new Generator(seed + 1));
        var leaf = Leaf(x);
        (ops.patch_merge(leaf, channelFirst) * g).sum().backward();
        double lhs = (ops.patch_merge(x, channelFirst) * g).sum().item<double>();
        double rhs = (x * leaf.grad!).sum().item<double>();
        Assert.True(Math.Abs(lhs - rhs) <= 1e-13 * (x * leaf.grad!).abs().sum().item<double>(), $"{lhs} vs {rhs}, {Seeds.Describe(seed)}");
        CrossScanTests.AssertCentralDifferences(x, leaf.grad!, t => (ops.patch_merge(t, channelFirst) * g).sum().item<double>(),
                                                $"dx, {Seeds.Describe(seed)}");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void InputsAndGradientsStoredInTheOtherLayoutOrStridedWork(bool channelFirst)
    {
        ulong seed = Seeds.Next();
        using var scope = NewDisposeScope();
        const long b = 2, c = 3, h = 5, w = 6;
        var x = Image(b, c, h, w, channelFirst, ScalarType.Float32, seed);
        var otherLayout = channelFirst ? x.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2)
                                       : x.permute(0, 3, 1, 2).contiguous().permute(0, 2, 3, 1);
        var strided = Image(b, c, 2 * h, w, channelFirst, ScalarType.Float32, seed + 1).slice(channelFirst ? 2 : 1, 0, 2 * h, 2);
        foreach (var input in new[] { otherLayout, strided }) {
            Assert.False(input.is_contiguous());
            var (fusedX, refX) = (Leaf(input), Leaf(input));
            var fused = ops.patch_merge(fusedX, channelFirst);
            var expected = reference.patch_merge(refX, channelFirst);
            Assert.True(Err.Bitwise(fused, expected), Seeds.Describe(seed));
            // The output gradient arrives in the other layout too.
            var weight = randn(fused.shape, ScalarType.Float32, generator: new Generator(seed + 2));
            var transposedWeight = channelFirst ? weight.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2)
                                                : weight.permute(0, 3, 1, 2).contiguous().permute(0, 2, 3, 1);
            (fused * transposedWeight).sum().backward();
            (expected * transposedWeight).sum().backward();
            Assert.Equal(input.shape, fusedX.grad!.shape);
            Assert.True(Err.Bitwise(fusedX.grad!, refX.grad!), Seeds.Describe(seed));
        }
    }

    [Theory]
    [InlineData(ScalarType.Float16)]
    [InlineData(ScalarType.BFloat16)]
    public void HalfTypesAreMergedExactly(ScalarType type)
    {
        ulong seed = Seeds.Next();
        using var scope = NewDisposeScope();
        var x = Image(2, 3, 5, 4, false, type, seed);
        var leaf = Leaf(x);
        var fused = ops.patch_merge(leaf);
        Assert.Equal(type, fused.dtype);
        Assert.True(Err.Bitwise(fused, reference.patch_merge(x)), Seeds.Describe(seed));
        fused.sum().backward();
        Assert.Equal(type, leaf.grad!.dtype);
        Assert.True(Err.Bitwise(leaf.grad!, ones_like(x)));
    }

    public static IEnumerable<object[]> BadInputs() => new[] {
        new object[] { "rank 3", new[] { "4-D", "[2, 3, 4]" } },
        new object[] { "rank 5", new[] { "4-D", "[1, 2, 3, 4, 5]" } },
        new object[] { "int32", new[] { "float32", "Int32" } },
        new object[] { "empty", new[] { "non-empty", "[1, 2, 0, 4]" } },
        new object[] { "disposed", new[] { "disposed" } },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public void BadInputsAreArgumentExceptionsNamingX(string bad, string[] messageParts)
    {
        using var scope = NewDisposeScope();
        Tensor x = bad switch {
            "rank 3" => randn(new long[] { 2, 3, 4 }),
            "rank 5" => randn(new long[] { 1, 2, 3, 4, 5 }),
            "int32" => ones(new long[] { 1, 2, 3, 4 }, ScalarType.Int32),
            "empty" => randn(new long[] { 1, 2, 0, 4 }),
            _ => randn(new long[] { 1, 2, 3, 4 }),
        };
        if (bad == "disposed") x.Dispose();
        foreach (bool channelFirst in new[] { false, true }) {
            foreach (var op in new Func<Tensor, bool, Tensor>[] { ops.patch_merge, reference.patch_merge }) {
                var e = Assert.ThrowsAny<ArgumentException>(() => op(x, channelFirst));
                Assert.Equal("x", e.ParamName);
                foreach (var part in messageParts) Assert.Contains(part, e.Message);
            }
        }
        Assert.Equal("x", Assert.Throws<ArgumentNullException>(() => ops.patch_merge(null!)).ParamName);
    }

    // ---- PatchMerging2D ------------------------------------------------------------------------------

    [Fact]
    public void ModuleParametersAreNamedAndShapedAsInVanillaVMambaTiny()
    {
        var keys = CheckpointKeys.Read("vanilla_vmamba_tiny")
            .Where(k => k.Key.StartsWith("layers.0.downsample."))
            .Select(k => (k.Key["layers.0.downsample.".Length..], k.Shape))
            .ToList();
        Assert.NotEmpty(keys);
        using var module = new PatchMerging2D(96);
        var ours = module.state_dict().Select(kv => (kv.Key, kv.Value.shape)).ToList();
        Assert.Equal(keys.Select(k => k.Item1), ours.Select(k => k.Key));
        for (int i = 0; i < keys.Count; i++) Assert.Equal(keys[i].Shape, ours[i].shape);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void ModuleIsPatchMergeThenNormThenReductionOrTheSwinV2Order(bool swinV2Order, bool channelFirst)
    {
        ulong seed = Seeds.Next();
        using var scope = NewDisposeScope();
        using var module = new PatchMerging2D(6, swinV2Order: swinV2Order, channelFirst: channelFirst);
        var x = Image(2, 6, 7, 5, channelFirst, ScalarType.Float32, seed);
        var y = module.call(x);
        Assert.Equal(channelFirst ? new long[] { 2, 12, 4, 3 } : new long[] { 2, 4, 3, 12 }, y.shape);

        var parameters = module.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        Assert.Equal(new long[] { 12, 24 }, parameters["reduction.weight"].shape);
        Assert.Equal(new long[] { swinV2Order ? 12 : 24 }, parameters["norm.weight"].shape);
        var merged = reference.patch_merge(channelFirst ? x.permute(0, 2, 3, 1) : x);
        Tensor Norm(Tensor t) => nn.functional.layer_norm(t, new[] { t.shape[^1] }, parameters["norm.weight"], parameters["norm.bias"], 1e-5);
        Tensor Reduce(Tensor t) => nn.functional.linear(t, parameters["reduction.weight"]);
        var expected = swinV2Order ? Norm(Reduce(merged)) : Reduce(Norm(merged));
        if (channelFirst) expected = expected.permute(0, 3, 1, 2);
        Assert.True(Err.Rel(y, expected) < 1e-6, Seeds.Describe(seed));

        y.sum().backward();
        Assert.All(module.parameters(), p => Assert.NotNull(p.grad));
    }

    [Fact]
    public void ModuleRejectsAWrongChannelCountNamingX()
    {
        using var module = new PatchMerging2D(8);
        var e = Assert.ThrowsAny<ArgumentException>(() => module.call(randn(new long[] { 1, 4, 4, 6 })));
        Assert.Equal("x", e.ParamName);
        Assert.Contains("8 channels", e.Message);
        Assert.Contains("[1, 4, 4, 6]", e.Message);
        Assert.Equal("outDim", Assert.Throws<ArgumentOutOfRangeException>(() => new PatchMerging2D(8, outDim: 0)).ParamName);
    }
}
