using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SsmBridge.Modules;

/// <summary>
/// LayerNorm over the last dimension (channel-last features, tokens' embeddings): what new ChannelLastLayerNorm(channels)
/// computes, with the same parameters <c>weight</c> (ones) and <c>bias</c> (zeros) of size channels, so
/// checkpoints load unchanged. The models use it instead of nn.LayerNorm because TorchSharp 0.107's
/// LayerNorm disposes its weight and bias when the module is finalized: a state dict or parameter list taken
/// from a model that was then collected held dead tensors. Here the parameters live as long as anything
/// references them; <see cref="nn.Module.Dispose()"/> still frees them at once.
/// </summary>
public sealed class ChannelLastLayerNorm : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly Parameter bias;
    private readonly long[] _shape;
    private readonly double _eps;

    /// <summary>A LayerNorm over a last dimension of size channels, with epsilon eps.</summary>
    public ChannelLastLayerNorm(long channels, double eps = 1e-5) : base(nameof(ChannelLastLayerNorm))
    {
        if (channels < 1) throw new ArgumentOutOfRangeException(nameof(channels), channels, "channels: expected >= 1");
        _shape = new[] { channels };
        _eps = eps;
        weight = new Parameter(ones(channels));
        bias = new Parameter(zeros(channels));
        RegisterComponents();
    }

    /// <summary>x: (..., channels) -> the same shape, normalized over the last dimension.</summary>
    public override Tensor forward(Tensor x)
    {
        if (x.dim() < 1 || x.shape[^1] != _shape[0])
            throw new ArgumentException(
                $"x: expected a last dimension of {_shape[0]} channels, got shape [{string.Join(", ", x.shape)}]", nameof(x));
        return nn.functional.layer_norm(x, _shape, weight, bias, _eps);
    }
}
