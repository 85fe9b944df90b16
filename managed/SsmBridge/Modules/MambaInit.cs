using TorchSharp;
using static TorchSharp.torch;

namespace SsmBridge.Modules;

/// <summary>Mamba's parameter initialisation (mamba_simple.py), shared by <see cref="Mamba"/> and <see cref="BiMamba"/>.</summary>
internal static class MambaInit
{
    /// <summary>A_log = log(1..d_state) for every channel, so A = -exp(A_log) = -(1..d_state) (S4D-real).</summary>
    public static Tensor ALog(long dInner, long dState) =>
        arange(1, dState + 1, dtype: ScalarType.Float32).log().repeat(dInner, 1);

    /// <summary>dt_proj.weight ~ U(-dt_rank^-0.5 * dt_scale, +...).</summary>
    public static void DtProjWeight(Tensor weight, long dtRank, double dtScale)
    {
        var std = Math.Pow(dtRank, -0.5) * dtScale;
        using var noGrad = no_grad();
        weight.uniform_(-std, std);
    }

    /// <summary>
    /// dt_proj.bias = softplus^-1(dt) with dt log-uniform in [dt_min, dt_max] and at least dt_floor, so
    /// softplus(bias) starts inside that range.
    /// </summary>
    public static void DtProjBias(Tensor bias, double dtMin, double dtMax, double dtFloor)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var dt = (rand(bias.shape) * (Math.Log(dtMax) - Math.Log(dtMin)) + Math.Log(dtMin)).exp().clamp_min(dtFloor);
        bias.copy_(dt + (-(-dt).expm1()).log());
    }
}

/// <summary>The shared hyper-parameters of a Mamba mixer (Mamba-1 defaults).</summary>
public sealed record MambaConfig
{
    /// <summary>State size N of the selective scan.</summary>
    public long DState { get; init; } = 16;
    /// <summary>Kernel size of the depthwise causal convolution.</summary>
    public long DConv { get; init; } = 4;
    /// <summary>d_inner = Expand * d_model.</summary>
    public long Expand { get; init; } = 2;
    /// <summary>0 means "auto": ceil(d_model / 16).</summary>
    public long DtRank { get; init; }
    /// <summary>Smallest initial step size (dt_proj's bias gives a log-uniform dt in [DtMin, DtMax]).</summary>
    public double DtMin { get; init; } = 0.001;
    /// <summary>Largest initial step size.</summary>
    public double DtMax { get; init; } = 0.1;
    /// <summary>Lower clamp of the initial dt.</summary>
    public double DtInitFloor { get; init; } = 1e-4;
    /// <summary>Scale of dt_proj's initial weight (DtScale / sqrt(dt_rank) sets its spread).</summary>
    public double DtScale { get; init; } = 1.0;
    /// <summary>Bias of the depthwise convolution.</summary>
    public bool ConvBias { get; init; } = true;
    /// <summary>Bias of in_proj and out_proj.</summary>
    public bool Bias { get; init; }
    /// <summary>Which selective scan runs: the fused native kernel or the reference.</summary>
    public ScanImplementation Scan { get; init; } = ScanImplementation.Fused;

    internal long ResolvedDtRank(long dModel) => DtRank > 0 ? DtRank : (dModel + 15) / 16;
}
