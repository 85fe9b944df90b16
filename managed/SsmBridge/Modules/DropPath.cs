using static TorchSharp.torch;

namespace SsmBridge.Modules;

/// <summary>
/// Stochastic depth: in training, zeroes a whole sample's branch with probability p and scales the
/// kept ones by 1 / (1 - p); the identity in evaluation or when p = 0.
/// </summary>
public sealed class DropPath : nn.Module<Tensor, Tensor>
{
    /// <summary>The probability of dropping a sample's branch.</summary>
    public double P { get; }

    /// <summary>Stochastic depth with drop probability p in [0, 1).</summary>
    public DropPath(double p) : base(nameof(DropPath))
    {
        if (p < 0 || p >= 1) throw new ArgumentOutOfRangeException(nameof(p), p, "p: expected 0 <= p < 1");
        P = p;
    }

    /// <summary>x: (batch, ...) -> the same shape, whole samples zeroed in training.</summary>
    public override Tensor forward(Tensor x)
    {
        if (!training || P == 0) return x.alias();
        using var scope = NewDisposeScope();
        var shape = new long[x.dim()];
        Array.Fill(shape, 1L);
        shape[0] = x.shape[0];
        var keep = empty(shape, x.dtype, x.device).bernoulli_(1 - P).div_(1 - P);
        return (x * keep).MoveToOuterDisposeScope();
    }
}
