using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SsmBridge.Modules;

/// <summary>
/// LayerNorm over the channel dimension of a channel-first image (batch, channels, height, width):
/// VMamba's LayerNorm2d, used wherever a model is built channel-first (norm_layer "ln2d"). Parameters
/// <c>weight</c> and <c>bias</c> of size channels, as nn.LayerNorm's.
/// </summary>
public sealed class LayerNorm2d : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly Parameter bias;
    private readonly long[] _shape;
    private readonly double _eps;

    /// <summary>A LayerNorm over channels with epsilon eps.</summary>
    public LayerNorm2d(long channels, double eps = 1e-5) : base(nameof(LayerNorm2d))
    {
        if (channels < 1) throw new ArgumentOutOfRangeException(nameof(channels), channels, "channels: expected >= 1");
        _shape = new[] { channels };
        _eps = eps;
        weight = new Parameter(ones(channels));
        bias = new Parameter(zeros(channels));
        RegisterComponents();
    }

    /// <summary>x: (batch, channels, height, width) -> the same shape, normalized over channels.</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var normalized = nn.functional.layer_norm(x.permute(0, 2, 3, 1), _shape, weight, bias, _eps);
        return normalized.permute(0, 3, 1, 2).MoveToOuterDisposeScope();
    }
}
