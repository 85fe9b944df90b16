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
    public long DState { get; init; } = 16;
    public long DConv { get; init; } = 4;
    public long Expand { get; init; } = 2;
    /// <summary>0 means "auto": ceil(d_model / 16).</summary>
    public long DtRank { get; init; }
    public double DtMin { get; init; } = 0.001;
    public double DtMax { get; init; } = 0.1;
    public double DtInitFloor { get; init; } = 1e-4;
    public double DtScale { get; init; } = 1.0;
    public bool ConvBias { get; init; } = true;
    public bool Bias { get; init; }
    public ScanImplementation Scan { get; init; } = ScanImplementation.Fused;

    internal long ResolvedDtRank(long dModel) => DtRank > 0 ? DtRank : (dModel + 15) / 16;
}
