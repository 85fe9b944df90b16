using SsmBridge.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace SsmBridge.Tests;

[Collection(ScanCollection.Name)]
public class MambaTests
{
    private static readonly MambaConfig Small = new() { DState = 4 };

    [Fact]
    public void BiMambaEqualsTheFlippedSequenceFormulation()
    {
        using var scope = NewDisposeScope();
        using var mixer = new BiMamba(16, Small);
        var p = mixer.state_dict();
        var hidden = randn(2, 11, 16);

        // Upstream's formulation: the backward direction runs on flipped copies and is flipped back.
        var xz = nn.functional.linear(hidden, p["in_proj.weight"]).transpose(1, 2);
        var x = xz.narrow(1, 0, 32);
        var z = xz.narrow(1, 32, 32);
        var forwards = Direction(x, z, p, "");
        var backwards = Direction(x.flip(-1), z.flip(-1), p, "_b").flip(-1);
        var expected = nn.functional.linear(((forwards + backwards) / 2).transpose(1, 2), p["out_proj.weight"]);

        var err = ModelAssert.RelativeError(mixer.forward(hidden), expected);
        Assert.True(err < 1e-5, $"relative error {err:E2}");
    }

    // Causal conv + SiLU, projections and a forward scan, on whatever order the sequence is given in.
    private static Tensor Direction(Tensor x, Tensor z, IDictionary<string, Tensor> p, string suffix)
    {
        long L = x.shape[2], dtRank = 1, N = 4;
        var conv = nn.functional.conv1d(x, p[$"conv1d{suffix}.weight"], p[$"conv1d{suffix}.bias"], padding: 3, groups: 32);
        var xc = nn.functional.silu(conv.narrow(2, 0, L));
        var xDbl = nn.functional.linear(xc.transpose(1, 2), p[$"x_proj{suffix}.weight"]);
        var delta = nn.functional.linear(xDbl.narrow(-1, 0, dtRank), p[$"dt_proj{suffix}.weight"]).transpose(1, 2);
        var B = xDbl.narrow(-1, dtRank, N).transpose(1, 2).unsqueeze(1);
        var C = xDbl.narrow(-1, dtRank + N, N).transpose(1, 2).unsqueeze(1);
        var aLog = suffix == "" ? p["A_log"] : p["A_b_log"];
        var d = suffix == "" ? p["D"] : p["D_b"];
        return reference.selective_scan(xc, delta, -aLog.exp(), B, C, d, z, p[$"dt_proj{suffix}.bias"], delta_softplus: true);
    }

    [Fact]
    public void MambaInitialisationFollowsMamba()
    {
        using var scope = NewDisposeScope();
        using var mixer = new Mamba(64);  // d_inner 128, dt_rank 4, d_state 16
        var p = mixer.state_dict();
        Assert.True(ModelAssert.Same(p["A_log"], arange(1, 17, dtype: ScalarType.Float32).log().repeat(128, 1)));
        Assert.True(ModelAssert.Same(p["D"], ones(128)));
        var dt = nn.functional.softplus(p["dt_proj.bias"]);
        Assert.True(dt.min().item<float>() >= 1e-4f * 0.999f && dt.max().item<float>() <= 0.1f * 1.001f);
        Assert.True(p["dt_proj.weight"].abs().max().item<float>() <= 0.5f);
        Assert.Equal(new long[] { 4 + 32, 128 }, p["x_proj.weight"].shape);
        Assert.Equal(new long[] { 128, 1, 4 }, p["conv1d.weight"].shape);
    }

    [Fact]
    public void BiMambaBackwardDtBiasStartsAtZeroLikeUpstream()
    {
        using var mixer = new BiMamba(32);
        var p = mixer.state_dict();
        Assert.Equal(0f, p["dt_proj_b.bias"].abs().max().item<float>());
        Assert.True(p["dt_proj.bias"].abs().min().item<float>() > 0);
    }

    [Fact]
    public void MambaForwardShapeAndGradients()
    {
        using var scope = NewDisposeScope();
        using var mixer = new Mamba(24, Small);
        var y = mixer.forward(randn(3, 9, 24));
        Assert.Equal(new long[] { 3, 9, 24 }, y.shape);
        y.square().sum().backward();
        foreach (var (name, p) in mixer.named_parameters())
            Assert.True(p.grad is not null && p.grad.abs().sum().item<float>() > 0, name);
    }

    [Fact]
    public void MambaIsCausal()
    {
        using var scope = NewDisposeScope();
        using var mixer = new Mamba(24, Small);
        var x = randn(1, 12, 24);
        var changed = x.clone();
        using (no_grad()) changed[0, 8].add_(1.0);
        var a = mixer.forward(x);
        var b = mixer.forward(changed);
        Assert.True(ModelAssert.Same(a.narrow(1, 0, 8), b.narrow(1, 0, 8)));
        Assert.False(ModelAssert.Same(a.narrow(1, 8, 4), b.narrow(1, 8, 4)));
    }
}
