using SsmBridge.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace SsmBridge.Tests;

public class DeiTTests
{
    [Fact]
    public void ParameterCountsMatchTimm()
    {
        using var scope = NewDisposeScope();
        Assert.Equal(5_717_416, ModelAssert.ParameterCount(models.deit_tiny_patch16_224()));
        Assert.Equal(22_050_664, ModelAssert.ParameterCount(models.deit_small_patch16_224()));
    }

    [Fact]
    public void StateDictHasTimmsKeysAndShapes()
    {
        using var scope = NewDisposeScope();
        // timm VisionTransformer(embed_dim=192, depth=12, num_heads=3), written out from its module tree.
        var expected = new Dictionary<string, long[]> {
            ["cls_token"] = new long[] { 1, 1, 192 }, ["pos_embed"] = new long[] { 1, 197, 192 },
            ["patch_embed.proj.weight"] = new long[] { 192, 3, 16, 16 }, ["patch_embed.proj.bias"] = new long[] { 192 },
            ["norm.weight"] = new long[] { 192 }, ["norm.bias"] = new long[] { 192 },
            ["head.weight"] = new long[] { 1000, 192 }, ["head.bias"] = new long[] { 1000 },
        };
        for (int i = 0; i < 12; i++) {
            var b = $"blocks.{i}.";
            foreach (var n in new[] { "norm1", "norm2" }) {
                expected[b + n + ".weight"] = new long[] { 192 };
                expected[b + n + ".bias"] = new long[] { 192 };
            }
            expected[b + "attn.qkv.weight"] = new long[] { 576, 192 };
            expected[b + "attn.qkv.bias"] = new long[] { 576 };
            expected[b + "attn.proj.weight"] = new long[] { 192, 192 };
            expected[b + "attn.proj.bias"] = new long[] { 192 };
            expected[b + "mlp.fc1.weight"] = new long[] { 768, 192 };
            expected[b + "mlp.fc1.bias"] = new long[] { 768 };
            expected[b + "mlp.fc2.weight"] = new long[] { 192, 768 };
            expected[b + "mlp.fc2.bias"] = new long[] { 192 };
        }
        using var model = models.deit_tiny_patch16_224();
        var actual = model.state_dict();
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (key, shape) in expected) Assert.True(shape.SequenceEqual(actual[key].shape), $"{key}: ({string.Join(", ", actual[key].shape)})");
    }

    [Theory]
    [InlineData(32)]
    [InlineData(48)]
    [InlineData(80)]
    public void PositionEmbeddingAndOutputsFollowTheImageSize(long size)
    {
        using var scope = NewDisposeScope();
        var model = models.deit_tiny_patch16_224(num_classes: 7, img_size: size);
        model.eval();
        var side = size / 16;
        Assert.Equal(new[] { 1, side * side + 1, 192 }, model.state_dict()["pos_embed"].shape);
        var images = randn(2, 3, size, size);
        Assert.Equal(new long[] { 2, 7 }, model.forward(images).shape);
        Assert.Equal(new long[] { 2, 192 }, model.forward_features(images).shape);
    }

    [Theory]
    [InlineData(ScalarType.Float64, 1e-12, true)]
    [InlineData(ScalarType.Float32, 1e-5, true)]
    [InlineData(ScalarType.Float64, 1e-12, false)]
    public void AttentionEqualsExplicitSoftmaxOfScaledDotProducts(ScalarType dtype, double tolerance, bool fusedAttn)
    {
        using var scope = NewDisposeScope();
        const long batch = 2, tokens = 7, dim = 48, heads = 3, headDim = dim / heads;
        var attention = new DeiTAttention(dim, heads, fusedAttn: fusedAttn);
        attention.to(dtype);
        attention.eval();
        var x = randn(batch, tokens, dim, dtype);
        var actual = attention.forward(x);

        var state = attention.state_dict();
        var qkv = matmul(x, state["qkv.weight"].t()) + state["qkv.bias"];
        Tensor Head(int part) => qkv.narrow(2, part * dim, dim).reshape(batch, tokens, heads, headDim).transpose(1, 2);
        var (q, k, v) = (Head(0), Head(1), Head(2));
        var weights = softmax(matmul(q, k.transpose(-2, -1)) / Math.Sqrt(headDim), -1);
        var merged = matmul(weights, v).transpose(1, 2).reshape(batch, tokens, dim);
        var expected = matmul(merged, state["proj.weight"].t()) + state["proj.bias"];

        var err = ModelAssert.RelativeError(actual, expected);
        Assert.True(err < tolerance, $"relative error {err:E2}");
    }

    [Fact]
    public void ExplicitAttentionModelGivesTheSameLogitsAndGradients()
    {
        using var scope = NewDisposeScope();
        var fused = models.deit_tiny_patch16_224(num_classes: 5, img_size: 48, drop_path_rate: 0);
        var naive = models.deit_tiny_patch16_224(num_classes: 5, img_size: 48, drop_path_rate: 0, fused_attn: false);
        ModelAssert.CopyWeights(fused, naive);
        var images = randn(2, 3, 48, 48);
        var a = fused.forward(images);
        var b = naive.forward(images);
        Assert.True(ModelAssert.RelativeError(a, b) < 1e-5, $"logits differ: {ModelAssert.RelativeError(a, b):E2}");
        a.square().sum().backward();
        b.square().sum().backward();
        ModelAssert.GradientsAgree(fused, naive, 1e-4);
    }

    [Fact]
    public void ForwardAndBackwardReachEveryParameter()
    {
        using var scope = NewDisposeScope();
        var model = models.deit_tiny_patch16_224(num_classes: 4, img_size: 32);
        model.train();
        nn.functional.cross_entropy(model.forward(randn(3, 3, 32, 32)), tensor(new long[] { 0, 1, 3 })).backward();
        foreach (var (name, p) in model.named_parameters()) {
            Assert.NotNull(p.grad);
            Assert.True(p.grad!.abs().sum().item<float>() > 0, $"{name}: zero gradient");
        }
    }

    [Fact]
    public void InitialisationFollowsTimm()
    {
        using var scope = NewDisposeScope();
        using var model = models.deit_small_patch16_224();
        var state = model.state_dict();
        Assert.InRange(state["blocks.3.mlp.fc1.weight"].std().item<float>(), 0.019, 0.021);
        Assert.InRange(state["pos_embed"].std().item<float>(), 0.019, 0.021);
        Assert.True(state["cls_token"].abs().max().item<float>() < 1e-4);
        Assert.Equal(0, state["blocks.3.attn.qkv.bias"].abs().sum().item<float>());
        Assert.Equal(1, state["blocks.3.norm1.weight"].mean().item<float>());
    }

    [Fact]
    public void InputOfAnotherSizeIsAnErrorNamingImages()
    {
        using var scope = NewDisposeScope();
        var model = models.deit_tiny_patch16_224(num_classes: 3, img_size: 32);
        var e = Assert.Throws<ArgumentException>(() => model.forward(randn(1, 3, 48, 48)));
        Assert.Equal("images", e.ParamName);
        Assert.Contains("(batch, 3, 32, 32)", e.Message);
        Assert.Contains("got (1, 3, 48, 48)", e.Message);
        e = Assert.Throws<ArgumentException>(() => model.forward(randn(1, 3, 32, 32, ScalarType.Float64)));
        Assert.Equal("images", e.ParamName);
        Assert.Contains("Float64", e.Message);
    }

    [Fact]
    public void InvalidArchitectureIsAnErrorNamingTheArgument()
    {
        var e = Assert.Throws<ArgumentException>(() => new DeiTAttention(48, 5));
        Assert.Equal("numHeads", e.ParamName);
        Assert.Contains("got 5", e.Message);
        e = Assert.Throws<ArgumentException>(() => models.deit_tiny_patch16_224(img_size: 100));
        Assert.Equal("img_size", e.ParamName);
        Assert.Contains("got 100", e.Message);
    }
}
