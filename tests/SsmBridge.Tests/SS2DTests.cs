using SsmBridge.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace SsmBridge.Tests;

[Collection(ScanCollection.Name)]
public class SS2DTests
{
    // H != W everywhere, so a row/column mix-up in the scan or the merge cannot cancel out.
    [Theory]
    [InlineData("v05_noz", true, 1, 1.0)]
    [InlineData("v05_noz", false, 1, 2.0)]
    [InlineData("v0", false, 16, 2.0)]
    [InlineData("v2", true, 4, 2.0)]
    [InlineData("v3_noz_oact", false, 2, 1.5)]
    public void FusedAndReferenceOpsGiveTheSameOutputAndGradients(string forwardType, bool channelFirst, long dState, double ratio)
    {
        var seed = Seeds.Next();
        manual_seed((long)seed);
        using var scope = NewDisposeScope();
        var config = new SS2DConfig { ForwardType = forwardType, DState = dState, SsmRatio = ratio };
        using var fused = new SS2D(16, config, channelFirst);
        using var naive = new SS2D(16, config with { Scan = ScanImplementation.Reference }, channelFirst);
        ModelAssert.CopyWeights(fused, naive);
        var input = channelFirst ? randn(2, 16, 7, 5) : randn(2, 7, 5, 16);
        var xa = input.clone().requires_grad_();
        var xb = input.clone().requires_grad_();

        var a = fused.forward(xa);
        var b = naive.forward(xb);
        Assert.Equal(input.shape, a.shape);
        Assert.True(ModelAssert.RelativeError(a, b) < 1e-4, $"output differs: {ModelAssert.RelativeError(a, b):E2}, {Seeds.Describe(seed)}");

        var weight = randn(a.shape);
        (a * weight).sum().backward();
        (b * weight).sum().backward();
        Assert.True(ModelAssert.RelativeError(xa.grad!, xb.grad!) < 1e-4, $"input gradient differs, {Seeds.Describe(seed)}");
        ModelAssert.GradientsAgree(fused, naive, 1e-4, $", {Seeds.Describe(seed)}");
    }

    /// <summary>
    /// The paper's SS2D written out direction by direction, as upstream's forwardv0 does: four separate
    /// scans over explicitly flattened, transposed and flipped copies, each with its own slice of the
    /// stacked parameters, merged by flipping and transposing back. SS2D (one grouped scan over
    /// 4 d_inner channels on the cross-scan ops) must give the same.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void EqualsFourSeparateDirectionalScans(bool fusedOps)
    {
        var seed = Seeds.Next();
        manual_seed((long)seed);
        using var scope = NewDisposeScope();
        long dModel = 8, dInner = 16, n = 4, r = 1, batch = 2, h = 6, w = 4;
        var scan = fusedOps ? ScanImplementation.Fused : ScanImplementation.Reference;
        using var ss2d = new SS2D(dModel, new SS2DConfig { ForwardType = "v0", DState = n, Scan = scan });
        var p = ss2d.state_dict();
        var x = randn(batch, h, w, dModel);

        var xz = nn.functional.linear(x, p["in_proj.weight"]);
        var z = nn.functional.silu(xz.narrow(-1, dInner, dInner));
        var image = nn.functional.silu(nn.functional.conv2d(xz.narrow(-1, 0, dInner).permute(0, 3, 1, 2).contiguous(),
                                                            p["conv2d.weight"], p["conv2d.bias"], padding: new long[] { 1, 1 }, groups: dInner));
        var rows = image.flatten(2);
        var columns = image.transpose(2, 3).flatten(2);
        var sequences = new[] { rows, columns, rows.flip(-1), columns.flip(-1) };
        var outputs = new Tensor[4];
        for (int k = 0; k < 4; k++) {
            var xDbl = p["x_proj_weight"][k].matmul(sequences[k]);  // (batch, r + 2n, L)
            var delta = p["dt_projs_weight"][k].matmul(xDbl.narrow(1, 0, r));
            var B = xDbl.narrow(1, r, n).unsqueeze(1);
            var C = xDbl.narrow(1, r + n, n).unsqueeze(1);
            var A = -p["A_logs"].narrow(0, k * dInner, dInner).exp();
            outputs[k] = reference.selective_scan(sequences[k], delta, A, B, C, p["Ds"].narrow(0, k * dInner, dInner),
                                                  null, p["dt_projs_bias"][k], delta_softplus: true);
        }
        Tensor BackFromColumns(Tensor s) => s.view(batch, dInner, w, h).transpose(2, 3).flatten(2);
        var y = outputs[0] + outputs[2].flip(-1) + BackFromColumns(outputs[1]) + BackFromColumns(outputs[3].flip(-1));
        y = nn.functional.layer_norm(y.transpose(1, 2), new[] { dInner }, p["out_norm.weight"], p["out_norm.bias"]);
        var expected = nn.functional.linear(y.view(batch, h, w, dInner) * z, p["out_proj.weight"]);

        var actual = ss2d.forward(x);
        Assert.True(ModelAssert.RelativeError(actual, expected) < 1e-5,
                    $"relative error {ModelAssert.RelativeError(actual, expected):E2}, {Seeds.Describe(seed)}");
    }

    [Fact]
    public void ForwardTypesBuildTheOfficialParameters()
    {
        using var scope = NewDisposeScope();
        Dictionary<string, long[]> Shapes(SS2DConfig c, bool channelFirst = false)
        {
            using var m = new SS2D(96, c, channelFirst);
            return m.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.shape);
        }

        // v05_noz, d_state 1, ratio 1, conv without bias: VMamba-T's first stage.
        var noz = Shapes(new SS2DConfig { ForwardType = "v05_noz", DState = 1, SsmRatio = 1.0, ConvBias = false }, true);
        Assert.Equal(new long[] { 96, 96 }, noz["in_proj.weight"]);
        Assert.Equal(new long[] { 4, 8, 96 }, noz["x_proj_weight"]);
        Assert.Equal(new long[] { 4, 96, 6 }, noz["dt_projs_weight"]);
        Assert.Equal(new long[] { 384, 1 }, noz["A_logs"]);
        Assert.False(noz.ContainsKey("conv2d.bias"));
        // z gating doubles in_proj; DConv < 2 builds no convolution.
        var gated = Shapes(new SS2DConfig { ForwardType = "v2", DConv = 1 });
        Assert.Equal(new long[] { 384, 96 }, gated["in_proj.weight"]);
        Assert.DoesNotContain(gated.Keys, k => k.StartsWith("conv2d", StringComparison.Ordinal));
    }

    [Fact]
    public void InitialisationIsMambas()
    {
        using var scope = NewDisposeScope();
        using var m = new SS2D(32, new SS2DConfig { DState = 4 });
        var p = m.state_dict();
        Assert.True(ModelAssert.Same(p["A_logs"][70], arange(1, 5, dtype: ScalarType.Float32).log()));
        Assert.True(ModelAssert.Same(p["Ds"], ones(4 * 64)));
        var dt = nn.functional.softplus(p["dt_projs_bias"]);
        Assert.InRange(dt.min().item<float>(), 0.001f * 0.999f, 0.1f);
        Assert.InRange(dt.max().item<float>(), 0.001f, 0.1f * 1.001f);
        Assert.InRange(p["dt_projs_weight"].abs().max().item<float>(), 0, (float)Math.Pow(2, -0.5));
    }

    [Fact]
    public void BadInputAndOptionsAreRejected()
    {
        using var scope = NewDisposeScope();
        using var m = new SS2D(16, new SS2DConfig { ForwardType = "v05_noz" }, channelFirst: true);
        var wrongChannels = Assert.Throws<ArgumentException>(() => m.forward(randn(1, 8, 4, 4)));
        Assert.Equal("x", wrongChannels.ParamName);
        Assert.Throws<ArgumentException>(() => m.forward(randn(16, 4, 4)));
        Assert.Throws<ArgumentException>(() => new SS2D(16, new SS2DConfig { ForwardType = "v05_unknown" }));
        Assert.Throws<ArgumentException>(() => new SS2D(16, new SS2DConfig { ForwardType = "v0" }, channelFirst: true));
    }
}
