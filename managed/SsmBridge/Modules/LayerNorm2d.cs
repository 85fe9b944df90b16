using static TorchSharp.torch;

namespace SsmBridge.Modules;

/// <summary>
/// LayerNorm over the channel dimension of a channel-first image (batch, channels, height, width):
/// VMamba's LayerNorm2d, used wherever a model is built channel-first (norm_layer "ln2d"). Parameters
/// <c>weight</c> and <c>bias</c> of size channels, as nn.LayerNorm's (see <see cref="ChannelLayerNorm"/>).
/// </summary>
public sealed class LayerNorm2d : ChannelLayerNorm
{
    /// <summary>A LayerNorm over channels with epsilon eps.</summary>
    public LayerNorm2d(long channels, double eps = 1e-5) : base(nameof(LayerNorm2d), channels, eps) { }

    /// <summary>x: (batch, channels, height, width) -> the same shape, normalized over channels.</summary>
    public override Tensor forward(Tensor x)
    {
        CheckInput(x, x.dim() == 4 && x.shape[1] == Channels, $"(batch, {Channels}, height, width)");
        using var scope = NewDisposeScope();
        return NormalizeLast(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2).MoveToOuterDisposeScope();
    }
}
