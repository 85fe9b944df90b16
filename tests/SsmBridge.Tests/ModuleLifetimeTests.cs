using System.Runtime.CompilerServices;
using SsmBridge.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace SsmBridge.Tests;

/// <summary>
/// A model's state dict and parameter list stay usable after the model itself is collected: a user may
/// write <c>var sd = models.vmamba_tiny_s1l8().state_dict();</c>. TorchSharp 0.107's nn.LayerNorm disposes
/// its weight and bias when the module is finalized, which left such a state dict with dead tensors.
/// </summary>
public class ModuleLifetimeTests
{
    public static TheoryData<string> Models => new() {
        "vim_demo", "vmamba_demo", "vmamba_tiny_s1l8_channel_last", "vanilla_vmamba_tiny", "deit_tiny", "s4nd_demo",
        "convnext_s4nd_nano", "s4nd_vit_tiny",
    };

    private static nn.Module Build(string name) => name switch {
        "vim_demo" => models.vim_demo(),
        "vmamba_demo" => models.vmamba_demo(),
        "vmamba_tiny_s1l8_channel_last" => models.vmamba_tiny_s1l8(num_classes: 10, channel_first: false),
        "vanilla_vmamba_tiny" => models.vanilla_vmamba_tiny(num_classes: 10),
        "deit_tiny" => models.deit_tiny_patch16_224(num_classes: 10),
        "s4nd_demo" => models.s4nd_demo(),
        "convnext_s4nd_nano" => models.convnext_s4nd_nano(),
        "s4nd_vit_tiny" => models.s4nd_vit_tiny_16(num_classes: 10, img_size: 32),
        _ => throw new ArgumentException(name, nameof(name)),
    };

    // Not inlined, so that nothing in the caller's frame keeps the model reachable.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static (Dictionary<string, Tensor> State, List<Tensor> Parameters, Dictionary<string, double> Sums) Orphaned(string name)
    {
        var model = Build(name);
        var state = model.state_dict();
        var parameters = model.parameters().Select(p => (Tensor)p).ToList();
        var sums = state.ToDictionary(kv => kv.Key, kv => kv.Value.to_type(ScalarType.Float64).sum().item<double>());
        return (state, parameters, sums);
    }

    private static void CollectEverything()
    {
        for (int i = 0; i < 3; ++i) {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void StateDictOutlivesItsModel(string name)
    {
        var (state, parameters, sums) = Orphaned(name);
        CollectEverything();
        Assert.NotEmpty(state);
        var dead = new List<string>();
        foreach (var (key, tensor) in state) {
            try {
                Assert.Equal(sums[key], tensor.to_type(ScalarType.Float64).sum().item<double>());
            } catch (InvalidOperationException) {
                dead.Add(key);
            }
        }
        Assert.True(dead.Count == 0, $"{name}: {dead.Count} of {state.Count} state tensors were disposed with the model: {string.Join(", ", dead.Take(8))}");
        foreach (var p in parameters) Assert.True(p.numel() > 0 && p.sum().isfinite().item<bool>());
    }

    [Fact]
    public void ChannelLastLayerNormMatchesTorchLayerNorm()
    {
        using var scope = NewDisposeScope();
        var x = randn(3, 5, 7, generator: new Generator(11)) * 3 + 1;
        using var ours = new ChannelLastLayerNorm(7, 1e-6);
        using var torchs = nn.LayerNorm(7, 1e-6);
        var w = randn(7, generator: new Generator(12));
        var b = randn(7, generator: new Generator(13));
        foreach (var m in new nn.Module[] { ours, torchs }) {
            var sd = m.state_dict();
            Assert.Equal(new[] { "bias", "weight" }, sd.Keys.OrderBy(k => k, StringComparer.Ordinal));
            m.load_state_dict(new Dictionary<string, Tensor> { ["weight"] = w, ["bias"] = b });
        }
        Assert.True(ModelAssert.Same(ours.forward(x), torchs.forward(x)));
        // The independent formula, in float64.
        var xd = x.to_type(ScalarType.Float64);
        var mean = xd.mean(new long[] { -1 }, keepdim: true);
        var variance = (xd - mean).pow(2).mean(new long[] { -1 }, keepdim: true);
        var expected = (xd - mean) / (variance + 1e-6).sqrt() * w.to_type(ScalarType.Float64) + b.to_type(ScalarType.Float64);
        Assert.True(ModelAssert.RelativeError(ours.forward(x), expected) < 1e-6);
        // Converted with its module, as nn.LayerNorm's parameters are.
        ours.to(ScalarType.Float64);
        Assert.All(ours.parameters(), p => Assert.Equal(ScalarType.Float64, p.dtype));
        Assert.True(ModelAssert.RelativeError(ours.forward(xd), expected) < 1e-12);
    }

    [Fact]
    public void LayerNorm2dIsChannelLastLayerNormOverDimensionOne()
    {
        using var scope = NewDisposeScope();
        var x = randn(2, 6, 4, 5, generator: new Generator(21));
        using var last = new ChannelLastLayerNorm(6, 1e-6);
        using var norm2d = new LayerNorm2d(6, 1e-6);
        var w = randn(6, generator: new Generator(22));
        var b = randn(6, generator: new Generator(23));
        foreach (var m in new nn.Module[] { last, norm2d })
            m.load_state_dict(new Dictionary<string, Tensor> { ["weight"] = w, ["bias"] = b });
        Assert.True(ModelAssert.Same(norm2d.forward(x), last.forward(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)));
        norm2d.to(ScalarType.Float64);
        Assert.All(norm2d.parameters(), p => Assert.Equal(ScalarType.Float64, p.dtype));
        Assert.Equal(ScalarType.Float64, norm2d.forward(x.to_type(ScalarType.Float64)).dtype);
    }

    [Fact]
    public void ChannelLastLayerNormNamesABadInput()
    {
        using var norm = new ChannelLastLayerNorm(8);
        var error = Assert.ThrowsAny<ArgumentException>(() => norm.forward(zeros(2, 7)));
        Assert.Contains("x: expected a last dimension of 8 channels, got shape [2, 7]", error.Message);
        Assert.Equal("x", error.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => new ChannelLastLayerNorm(0));
        using var norm2d = new LayerNorm2d(8);
        foreach (var bad in new[] { zeros(2, 7, 3, 3), zeros(2, 8, 3), zeros(8) }) {
            var e = Assert.ThrowsAny<ArgumentException>(() => norm2d.forward(bad));
            Assert.Contains("x: expected (batch, 8, height, width)", e.Message);
            Assert.Contains($"[{string.Join(", ", bad.shape)}]", e.Message);
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => new LayerNorm2d(-1));
    }
}
