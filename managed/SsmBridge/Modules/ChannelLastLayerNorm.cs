using static TorchSharp.torch;

namespace SsmBridge.Modules;

/// <summary>
/// LayerNorm over the last dimension (channel-last features, tokens' embeddings): what nn.LayerNorm(channels)
/// computes, bit for bit, with the same parameters, so checkpoints load unchanged. The models use it in place of
/// nn.LayerNorm so that their parameters outlive them (see <see cref="ChannelLayerNorm"/>).
/// </summary>
public sealed class ChannelLastLayerNorm : ChannelLayerNorm
{
    /// <summary>A LayerNorm over a last dimension of size channels, with epsilon eps.</summary>
    public ChannelLastLayerNorm(long channels, double eps = 1e-5) : base(nameof(ChannelLastLayerNorm), channels, eps) { }

    /// <summary>x: (..., channels) -> the same shape, normalized over the last dimension.</summary>
    public override Tensor forward(Tensor x)
    {
        CheckInput(x, x.dim() >= 1 && x.shape[^1] == Channels, $"a last dimension of {Channels} channels");
        return NormalizeLast(x);
    }
}
