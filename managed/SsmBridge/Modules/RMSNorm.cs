using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SsmBridge.Modules;

/// <summary>Root-mean-square norm, y = x / sqrt(mean(x^2) + eps) * weight (Mamba's RMSNorm, no bias).</summary>
public sealed class RMSNorm : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly double _eps;

    /// <summary>Normalizes the last dimension, of size dim, with epsilon eps.</summary>
    public RMSNorm(long dim, double eps = 1e-5) : base(nameof(RMSNorm))
    {
        _eps = eps;
        weight = new Parameter(ones(dim));
        RegisterComponents();
    }

    /// <summary>x: (..., dim) -> the same shape.</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var normalized = x * rsqrt(x.pow(2).mean(new long[] { -1 }, keepdim: true) + _eps);
        return (normalized * weight).MoveToOuterDisposeScope();
    }
}
