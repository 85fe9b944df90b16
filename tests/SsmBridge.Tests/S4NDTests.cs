using SsmBridge.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace SsmBridge.Tests;

/// <summary>
/// <see cref="S4ND"/>: upstream's state-dict names and shapes, the FFT convolution against a direct
/// (non-FFT) convolution with the same axis kernels in 1D and 2D (bidirectional or not, kernels shorter
/// than or as long as the input), 3D, zero-shot resolution change (kernel length round(l_max / rate),
/// finite outputs, bandlimit), the inits and gradients reaching every parameter.
/// </summary>
[Collection(ScanCollection.Name)]
public class S4NDTests
{
    /// <summary>
    /// y[b, c, h, i...] = sum over input positions p of u[b, h, p] * prod_axis k_axis[c, h](i - p), with
    /// k(d) = causal[d] for 0 &lt;= d &lt; L_kernel, anti-causal[-d - 1] for 1 &lt;= -d &lt;= L_kernel (bidirectional),
    /// else 0; plus D[c, h] u; channels flattened into features. Loops over lags, no FFT.
    /// </summary>
    internal static Tensor DirectConvolution(S4ND layer, Tensor u, double rate = 1.0)
    {
        var c = layer.Config;
        int d = c.Dim;
        var Lin = u.shape.Skip(2).ToArray();
        var Lk = layer.KernelLengths(Lin, rate);
        var axis = new List<Tensor>();  // per axis: (channels, H, 2 Lin - 1), index = lag + Lin - 1
        var kernels = layer.named_modules().Where(m => m.name.StartsWith("kernel.")).Select(m => (S4DKernel)m.module).ToArray();
        for (int i = 0; i < d; i++) {
            var k = kernels[i].forward(Lk[i], rate).to_type(u.dtype);  // (kc, H, Lk)
            var lagged = zeros(c.Channels, layer.DModel, 2 * Lin[i] - 1, dtype: u.dtype);
            var halves = c.Bidirectional ? k.chunk(2, 0) : new[] { k };
            for (long lag = 0; lag < Math.Min(Lk[i], Lin[i]); lag++)
                lagged[.., .., lag + Lin[i] - 1] = halves[0][.., .., lag];
            if (c.Bidirectional)
                for (long m = 1; m <= Math.Min(Lk[i], Lin[i] - 1); m++)
                    lagged[.., .., Lin[i] - 1 - m] = halves[1][.., .., m - 1];
            axis.Add(lagged);
        }
        long B = u.shape[0];
        var y = zeros(new[] { B, c.Channels, layer.DModel }.Concat(Lin).ToArray(), u.dtype);
        // Enumerate every lag vector; shift u by it and weight with the product of axis kernels.
        var lags = new long[d];
        void Recurse(int a)
        {
            if (a == d) {
                Tensor w = ones(c.Channels, layer.DModel, dtype: u.dtype);
                for (int i = 0; i < d; i++) w = w * axis[i][.., .., lags[i] + Lin[i] - 1];
                // shifted[i] = u[i - lag] where in range, else 0.
                var shifted = u;
                for (int i = 0; i < d; i++) {
                    long lag = lags[i], dim = 2 + i;
                    var body = lag >= 0 ? shifted.narrow(dim, 0, Lin[i] - lag) : shifted.narrow(dim, -lag, Lin[i] + lag);
                    var padShape = shifted.shape.ToArray();
                    padShape[dim] = Math.Abs(lag);
                    var pad = zeros(padShape, u.dtype);
                    shifted = lag >= 0 ? cat(new[] { pad, body }, dim) : cat(new[] { body, pad }, dim);
                }
                var view = w.view(new[] { 1L, c.Channels, layer.DModel }.Concat(Enumerable.Repeat(1L, d)).ToArray());
                y = y + shifted.unsqueeze(1) * view;
                return;
            }
            for (long lag = -(Lin[a] - 1); lag <= Lin[a] - 1; lag++) {
                lags[a] = lag;
                Recurse(a + 1);
            }
        }
        Recurse(0);
        var D = layer.state_dict()["D"].to_type(u.dtype);
        y = y + u.unsqueeze(1) * D.view(new[] { 1L, c.Channels, layer.DModel }.Concat(Enumerable.Repeat(1L, d)).ToArray());
        return y.flatten(1, 2);
    }

    public static IEnumerable<object[]> Convolutions() => new[] {
        new object[] { 2, true, new long[] { 5, 6 }, new long[] { 3, 4 } },
        new object[] { 2, true, new long[] { 4, 7 }, new long[] { 4, 7 } },
        new object[] { 2, false, new long[] { 5, 4 }, new long[] { 2, 6 } },
        new object[] { 1, true, new long[] { 9 }, new long[] { 4 } },
        new object[] { 1, false, new long[] { 8 }, new long[] { 8 } },
    };

    [Theory]
    [MemberData(nameof(Convolutions))]
    public void FftAndDirectPathsEqualALoopConvolution(int dim, bool bidirectional, long[] lmax, long[] input)
    {
        foreach (var maxTaps in new long[] { 0, 1000 }) AssertMatchesLoopConvolution(dim, bidirectional, lmax, input, maxTaps);
    }

    private static void AssertMatchesLoopConvolution(int dim, bool bidirectional, long[] lmax, long[] input, long maxTaps)
    {
        ulong seed = Seeds.Next();
        using var scope = NewDisposeScope();
        manual_seed((long)(seed % int.MaxValue));
        var layer = new S4ND(3, new S4NDConfig {
            DState = 8, Dim = dim, LMax = lmax.Select(l => (long?)l).ToArray(), Channels = 2, Bidirectional = bidirectional,
            Init = "diag-lin", DtMin = 0.05, DtMax = 0.5, DirectMaxTaps = maxTaps,
        });
        layer.to(ScalarType.Float64);
        var u = randn(new long[] { 2, 3 }.Concat(input).ToArray(), ScalarType.Float64, generator: new Generator(seed));
        var y = layer.call(u);
        var expected = DirectConvolution(layer, u);
        Assert.Equal(expected.shape, y.shape);
        double err = ModelAssert.RelativeError(y, expected);
        Assert.True(err < 1e-10, $"{(maxTaps == 0 ? "FFT" : "direct")}: {err:E2}, {Seeds.Describe(seed)}");
        // Float32 agrees with the float64 result.
        layer.to(ScalarType.Float32);
        Assert.True(ModelAssert.RelativeError(layer.call(u.to_type(ScalarType.Float32)), expected) < 1e-4, Seeds.Describe(seed));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void OutChannelsSumOverInputFeaturesOnBothPaths(int dim)
    {
        using var scope = NewDisposeScope();
        var config = new S4NDConfig { DState = 8, Dim = dim, LMax = Enumerable.Repeat((long?)3, dim).ToArray(), OutChannels = 5, DirectMaxTaps = 0 };
        var fftLayer = new S4ND(3, config);
        var direct = new S4ND(3, config with { DirectMaxTaps = 1000 });
        ModelAssert.CopyWeights(fftLayer, direct);
        fftLayer.to(ScalarType.Float64);
        direct.to(ScalarType.Float64);
        var u = randn(new long[] { 2, 3 }.Concat(Enumerable.Repeat(5L, dim)).ToArray(), ScalarType.Float64);
        var a = fftLayer.call(u);
        Assert.Equal(new long[] { 2, 5 }.Concat(Enumerable.Repeat(5L, dim)), a.shape);
        Assert.True(ModelAssert.RelativeError(direct.call(u), a) < 1e-10);
        // One input feature at a time: the outputs add up (a sum over input features, no D skip).
        var parts = Enumerable.Range(0, 3).Select(h => fftLayer.call(u * eye(3, dtype: ScalarType.Float64)[h]
                                                              .view(new long[] { 1, 3 }.Concat(Enumerable.Repeat(1L, dim)).ToArray())));
        Assert.True(ModelAssert.RelativeError(parts.Aggregate((p, q) => p + q), a) < 1e-10);
    }

    [Fact]
    public void ChannelLastInputGivesTheSameResult()
    {
        using var scope = NewDisposeScope();
        var first = new S4ND(4, new S4NDConfig { DState = 8, LMax = new long?[] { 4, 4 }, Linear = false, FinalAct = "glu" });
        var last = new S4ND(4, new S4NDConfig { DState = 8, LMax = new long?[] { 4, 4 }, Linear = false, FinalAct = "glu", Transposed = false });
        ModelAssert.CopyWeights(first, last);
        var u = randn(2, 4, 6, 5);
        var a = first.call(u);
        var b = last.call(u.permute(0, 2, 3, 1)).permute(0, 3, 1, 2);
        Assert.True(ModelAssert.RelativeError(b, a) < 1e-5);
    }

    [Fact]
    public void StateDictHasUpstreamNamesAndShapes()
    {
        using var scope = NewDisposeScope();
        var layer = new S4ND(8, new S4NDConfig {
            DState = 16, Dim = 2, LMax = new long?[] { 8, 8 }, Channels = 2, NSsm = 2, Linear = false, FinalAct = "glu",
        });
        var shapes = layer.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.shape);
        var expected = new Dictionary<string, long[]> {
            ["D"] = new long[] { 2, 8 },
            ["output_linear.0.weight"] = new long[] { 16, 16 },
            ["output_linear.0.bias"] = new long[] { 16 },
        };
        for (int i = 0; i < 2; i++) {
            expected[$"kernel.{i}.inv_dt"] = new long[] { 8, 1 };
            expected[$"kernel.{i}.C"] = new long[] { 4, 8, 8, 2 };
            expected[$"kernel.{i}.B"] = new long[] { 1, 2, 8, 2 };
            expected[$"kernel.{i}.A_real"] = new long[] { 2, 8 };
            expected[$"kernel.{i}.A_imag"] = new long[] { 2, 8 };
        }
        Assert.Equal(expected.Keys.OrderBy(k => k), shapes.Keys.OrderBy(k => k));
        foreach (var (key, shape) in expected) Assert.Equal(shape, shapes[key]);
        var plain = new S4ND(8, new S4NDConfig { DState = 16, Linear = false });
        Assert.Contains("output_linear.weight", plain.state_dict().Keys);
    }

    [Fact]
    public void ThreeDimensionalInputsRunForwardAndBackward()
    {
        using var scope = NewDisposeScope();
        var layer = new S4ND(4, new S4NDConfig { DState = 8, Dim = 3, LMax = new long?[] { 3, 4, 5 }, Linear = false });
        var u = randn(new long[] { 2, 4, 3, 4, 5 }).requires_grad_(true);
        var y = layer.call(u);
        Assert.Equal(u.shape, y.shape);
        Assert.True(y.isfinite().all().item<bool>());
        y.square().sum().backward();
        foreach (var (name, p) in layer.named_parameters())
            Assert.True(p.grad is not null && p.grad.isfinite().all().item<bool>() && p.grad.abs().sum().item<float>() > 0, name);
        Assert.True(u.grad!.abs().sum().item<float>() > 0);
        // 3D against the direct convolution too (linear layer, float64).
        var linear = new S4ND(2, new S4NDConfig { DState = 4, Dim = 3, LMax = new long?[] { 2, 3, 2 }, Init = "diag-inv" });
        linear.to(ScalarType.Float64);
        var v = randn(new long[] { 1, 2, 3, 3, 4 }, ScalarType.Float64);
        Assert.True(ModelAssert.RelativeError(linear.call(v), DirectConvolution(linear, v)) < 1e-10);
    }

    [Fact]
    public void ResolutionChangeScalesTheKernelLengthAndKeepsOutputsFinite()
    {
        using var scope = NewDisposeScope();
        var layer = new S4ND(4, new S4NDConfig { DState = 16, LMax = new long?[] { 8, 8 }, Init = "fourier", DtMin = 0.1, DtMax = 1.0 });
        Assert.Equal(new long[] { 8, 8 }, layer.KernelLengths(new long[] { 8, 8 }, 1.0));
        Assert.Equal(new long[] { 16, 16 }, layer.KernelLengths(new long[] { 16, 16 }, 0.5));
        Assert.Equal(new long[] { 4, 4 }, layer.KernelLengths(new long[] { 4, 4 }, 2.0));
        Assert.Equal(new long[] { 12, 16 }, layer.KernelLengths(new long[] { 12, 32 }, 0.5));
        var hi = randn(1, 4, 16, 16);
        layer.Rate = 0.5;
        var y = layer.call(hi);
        Assert.Equal(hi.shape, y.shape);
        Assert.True(y.isfinite().all().item<bool>());
        layer.to(ScalarType.Float64);
        var hi64 = hi.to_type(ScalarType.Float64);
        Assert.True(ModelAssert.RelativeError(layer.call(hi64), DirectConvolution(layer, hi64, 0.5)) < 1e-10);
        // Bandlimit zeroes the modes above Nyquist of the coarser grid: finite, and different from no bandlimit.
        var limited = new S4ND(4, new S4NDConfig { DState = 16, LMax = new long?[] { 8, 8 }, Init = "fourier", DtMin = 0.1, DtMax = 1.0, Bandlimit = 0.5 });
        ModelAssert.CopyWeights(layer, limited);
        limited.to(ScalarType.Float64);
        var ylim = limited.forward(hi64, 0.5);
        Assert.True(ylim.isfinite().all().item<bool>());
        Assert.True(ModelAssert.RelativeError(ylim, layer.forward(hi64, 0.5)) > 1e-3);
    }

    [Theory]
    [InlineData("diag-lin")]
    [InlineData("diag-inv")]
    [InlineData("diag-legs")]
    [InlineData("legs")]
    [InlineData("fourier")]
    [InlineData("diag")]
    [InlineData("hippo")]
    public void InitsGiveStableModesAndUpstreamParameterisation(string init)
    {
        using var scope = NewDisposeScope();
        var k = new S4DKernel(4, d_state: 16, channels: 2, init: init, dt_min: 0.01, dt_max: 0.1, n_ssm: 2);
        var sd = k.state_dict();
        var (ar, ai) = (sd["A_real"], sd["A_imag"]);
        Assert.True(ar.isfinite().all().item<bool>() && ai.isfinite().all().item<bool>(), init);
        Assert.True(ai.ge(1e-4 - 1e-9).all().item<bool>(), $"{init}: -Im A >= 1e-4");
        var dt = sd["inv_dt"].exp();
        Assert.True(dt.ge(0.01 * 0.999).all().item<bool>() && dt.le(0.1 * 1.001).all().item<bool>(), init);
        if (init == "diag-lin") {
            Assert.True(ModelAssert.RelativeError(ar.exp(), full(2, 8, 0.5)) < 1e-6);
            Assert.True(ModelAssert.RelativeError(ai[.., 1..], (Math.PI * arange(1, 8)).expand(2, 7)) < 1e-6);
            Assert.True(ModelAssert.RelativeError(sd["B"], stack(new[] { ones(1, 2, 8), zeros(1, 2, 8) }, -1)) == 0);
        }
        if (init == "legs") {
            // The normal part of HiPPO-LegS has real part -1/2 and is diagonalised by a unitary V: |V* B|^2 sums to |B|^2 / 2
            // over the kept half (the conjugate half holds the other half): sum (2n + 1) / 2 = N^2 / 2.
            Assert.True(ModelAssert.RelativeError(ar.exp(), full(2, 8, 0.5)) < 1e-5);
            var b2 = sd["B"].square().sum().item<float>() / 2;  // per copy
            Assert.True(Math.Abs(b2 - 16 * 16 / 2.0) < 1e-3 * 128, $"{b2}");
        }
        var K = k.forward(32);
        Assert.Equal(new long[] { 2, 4, 32 }, K.shape);
        Assert.True(K.isfinite().all().item<bool>());
    }

    [Fact]
    public void BadInputsThrowNamingTheArgument()
    {
        using var scope = NewDisposeScope();
        var layer = new S4ND(4, new S4NDConfig { DState = 8, LMax = new long?[] { 4, 4 } });
        Assert.Equal("u", Assert.ThrowsAny<ArgumentException>(() => layer.call(randn(2, 4, 5))).ParamName);
        Assert.Equal("u", Assert.ThrowsAny<ArgumentException>(() => layer.call(randn(2, 3, 5, 5))).ParamName);
        Assert.Equal("rate", Assert.ThrowsAny<ArgumentException>(() => layer.forward(randn(2, 4, 5, 5), 0)).ParamName);
        Assert.Equal("l_max", Assert.ThrowsAny<ArgumentException>(() => new S4ND(4, new S4NDConfig { LMax = new long?[] { 4 } })).ParamName);
        Assert.Equal("init", Assert.ThrowsAny<ArgumentException>(() => new S4ND(4, new S4NDConfig { Init = "nope" })).ParamName);
    }
}

/// <summary>The S4ND vision models: parameter counts, forward/backward reaching every parameter, resolution change.</summary>
[Collection(ScanCollection.Name)]
public class S4NDModelTests
{
    private static void AssertEveryParameterGetsAGradient(nn.Module<Tensor, Tensor> model, Tensor x, long classes, params string[] unused)
    {
        var logits = model.call(x);
        Assert.Equal(new[] { x.shape[0], classes }, logits.shape);
        Assert.True(logits.isfinite().all().item<bool>());
        nn.functional.cross_entropy(logits, zeros(x.shape[0], ScalarType.Int64)).backward();
        foreach (var (name, p) in model.named_parameters()) {
            if (unused.Contains(name)) continue;
            Assert.True(p.grad is not null, $"{name}: no gradient");
            Assert.True(p.grad!.isfinite().all().item<bool>(), $"{name}: non-finite gradient");
            Assert.True(p.grad!.abs().sum().item<float>() > 0, $"{name}: zero gradient");
        }
    }

    [Fact]
    public void ViTB16HasTheUpstreamParameterCountLessTheDplrP()
    {
        using var scope = NewDisposeScope();
        using var model = models.s4nd_vit_b_16();
        // Upstream (DPLR kernel): 88,786,408 = ours + 12 blocks x P (1, 1, 32, 2).
        Assert.Equal(88_786_408 - 12 * 64, ModelAssert.ParameterCount(model));
        var keys = model.state_dict().Keys.ToHashSet();
        foreach (var key in new[] { "patch_embed.proj.weight", "blocks.0.norm1.weight", "blocks.0.attn.D", "blocks.0.attn.kernel.0.inv_dt",
                                    "blocks.0.attn.kernel.0.C", "blocks.0.attn.kernel.0.B", "blocks.0.attn.kernel.0.A_real",
                                    "blocks.0.attn.kernel.0.A_imag", "blocks.0.attn.output_linear.0.weight", "blocks.11.mlp.fc2.bias",
                                    "norm.weight", "head.weight" })
            Assert.Contains(key, keys);
        Assert.Equal(new long[] { 4, 768, 32, 2 }, model.state_dict()["blocks.0.attn.kernel.0.C"].shape);
        Assert.Equal(new long[] { 1, 1, 32, 2 }, model.state_dict()["blocks.0.attn.kernel.0.B"].shape);
    }

    [Fact]
    public void ViTTinyHasDeiTTinyWidthAndDepth()
    {
        using var scope = NewDisposeScope();
        using var model = models.s4nd_vit_tiny_16();
        // Per block at width d (d_state 64 -> 32 complex modes, 2 channels x 2 directions): norm1 2d, D 2d, inv_dt d,
        // C 4 x d x 32 x 2, B 64, A_real + A_imag 64, GLU output_linear (2d x 2d + 2d), norm2 2d, MLP 8d^2 + 5d
        // = 12d^2 + 270d + 128; plus the patch embedding 768d + d, the final norm 2d and the head 1000d + 1000.
        const long d = 192;
        Assert.Equal(12 * (12 * d * d + 270 * d + 128) + 769 * d + 2 * d + 1000 * d + 1000, ModelAssert.ParameterCount(model));
        var state = model.state_dict();
        Assert.Equal(new long[] { 192, 3, 16, 16 }, state["patch_embed.proj.weight"].shape);
        Assert.Contains("blocks.11.mlp.fc2.bias", state.Keys);
        Assert.DoesNotContain("blocks.12.mlp.fc2.bias", state.Keys);
        Assert.Equal(new long[] { 768, 192 }, state["blocks.0.mlp.fc1.weight"].shape);
    }

    [Fact]
    public void SmallViTForwardAndBackwardReachEveryParameter()
    {
        using var scope = NewDisposeScope();
        var model = models.s4nd_vit_tiny_16(num_classes: 5, img_size: 64, drop_path_rate: 0);
        AssertEveryParameterGetsAGradient(model, randn(2, 3, 64, 64), 5);
    }

    [Fact]
    public void CifarAndDemoModelsForwardAndBackwardReachEveryParameter()
    {
        using var scope = NewDisposeScope();
        var cifar = models.s4nd_cifar_small(img_size: 16);
        cifar.eval();
        AssertEveryParameterGetsAGradient(cifar, randn(2, 3, 16, 16), 10);
        var demo = models.s4nd_demo();
        AssertEveryParameterGetsAGradient(demo, randn(3, 1, 28, 28), 10);
        // encoder 2,048 + 6 x (norm 1,024 + D 512 + 2 kernels x 66,176 + output_linear 525,312) + norm 1,024 + decoder 5,130.
        Assert.Equal(3_963_402, ModelAssert.ParameterCount(models.s4nd_cifar()));
    }

    [Fact]
    public void ZeroShotResolutionChangeRunsAtFourTimesTheTrainingSize()
    {
        using var scope = NewDisposeScope();
        var model = models.s4nd_cifar_small(img_size: 8);
        model.eval();
        var low = model.call(randn(2, 3, 8, 8));
        model.set_rate(0.25);
        var high = model.call(randn(2, 3, 32, 32));
        Assert.Equal(low.shape, high.shape);
        Assert.True(high.isfinite().all().item<bool>());
        Assert.Equal("rate", Assert.ThrowsAny<ArgumentException>(() => model.set_rate(0)).ParamName);
    }

    [Fact]
    public void ConvNeXtS4NDTinyHasTheUpstreamParameterCountLessTheDplrP()
    {
        using var scope = NewDisposeScope();
        using var model = models.convnext_s4nd_tiny();
        // Upstream (DPLR kernel): 29,409,457 = ours + 44 kernels x P (1, 1, 32, 2).
        Assert.Equal(29_409_457 - 44 * 64, ModelAssert.ParameterCount(model));
        var sd = model.state_dict();
        foreach (var key in new[] { "stem.stem.D", "stem.stem.kernel.0.C", "stem.post_stem.1.weight", "stem.post_stem.3.weight",
                                    "stages.1.norm_layer.weight", "stages.1.downsample.s4conv.kernel.1.inv_dt", "stages.1.downsample.fc.weight",
                                    "stages.2.blocks.8.conv_dw.kernel.0.A_imag", "stages.2.blocks.8.mlp.fc1.weight", "stages.3.blocks.2.gamma",
                                    "head.norm.weight", "head.fc.weight" })
            Assert.Contains(key, sd.Keys);
        Assert.Equal(new long[] { 64, 3, 32, 2 }, sd["stem.stem.kernel.0.C"].shape);
        Assert.Equal(new long[] { 2, 384, 32, 2 }, sd["stages.2.blocks.0.conv_dw.kernel.0.C"].shape);
    }

    [Fact]
    public void ConvNeXtS4NDForwardAndBackwardReachEveryParameter()
    {
        using var scope = NewDisposeScope();
        var model = models.convnext_s4nd_nano(num_classes: 7);
        // Layer scale starts at 1e-6: raise it so every branch's gradient is visible in float32.
        using (no_grad()) foreach (var (name, p) in model.named_parameters()) if (name.EndsWith("gamma")) p.fill_(1.0);
        // The stem S4ND sums over input features and has no D skip: its D exists (upstream) but is unused.
        AssertEveryParameterGetsAGradient(model, randn(2, 3, 32, 32), 7, "stem.stem.D");
        model.set_rate(0.5);
        var y = model.call(randn(1, 3, 64, 64));
        Assert.True(y.isfinite().all().item<bool>());
    }
}
