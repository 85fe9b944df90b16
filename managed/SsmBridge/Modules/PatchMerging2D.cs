using SsmBridge.Internal;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SsmBridge.Modules;

/// <summary>
/// Downsampling between stages of Swin / VMamba: <see cref="ops.patch_merge"/> (2x2 patches side by
/// side on the channel axis, zero padding for odd sizes), then LayerNorm(4 * dim) and a bias-free
/// Linear(4 * dim, out_dim): Swin v1 and VMamba (v0 and later). With <c>swinV2Order</c> the Linear
/// comes first and the LayerNorm normalizes its out_dim outputs, as in Swin v2. Parameters are named as
/// in the official checkpoints: <c>reduction.weight</c> (out_dim, 4 * dim), <c>norm.weight</c>,
/// <c>norm.bias</c> (e.g. <c>layers.0.downsample.reduction.weight</c> in vanilla VMamba-T).
/// Input and output are channel-last, (batch, height, width, channels), unless <c>channelFirst</c>, as
/// VMamba's PatchMerging2D(channel_first=True), which maps (batch, dim, H, W) to (batch, out_dim,
/// ceil(H / 2), ceil(W / 2)).
/// </summary>
public sealed class PatchMerging2D : nn.Module<Tensor, Tensor>
{
    private readonly Linear reduction;
    private readonly ChannelLastLayerNorm norm;
    private readonly long _dim;
    private readonly bool _swinV2Order;
    private readonly bool _channelFirst;

    /// <param name="dim">Channels of the input.</param>
    /// <param name="outDim">Channels of the output; 2 * dim when negative (the default).</param>
    /// <param name="swinV2Order">Linear then LayerNorm(out_dim) (Swin v2) instead of LayerNorm(4 * dim)
    /// then Linear (Swin v1, VMamba).</param>
    /// <param name="channelFirst">Input and output are (batch, channels, height, width).</param>
    /// <param name="eps">LayerNorm epsilon (PyTorch's default).</param>
    public PatchMerging2D(long dim, long outDim = -1, bool swinV2Order = false, bool channelFirst = false,
                          double eps = 1e-5) : base(nameof(PatchMerging2D))
    {
        if (dim < 1) throw new ArgumentOutOfRangeException(nameof(dim), dim, "dim: expected a channel count >= 1");
        if (outDim < 0) outDim = 2 * dim;
        if (outDim == 0)
            throw new ArgumentOutOfRangeException(nameof(outDim), outDim, "outDim: expected >= 1, or negative for 2 * dim");
        _dim = dim;
        _swinV2Order = swinV2Order;
        _channelFirst = channelFirst;
        reduction = nn.Linear(4 * dim, outDim, hasBias: false);
        norm = new ChannelLastLayerNorm(swinV2Order ? outDim : 4 * dim, eps);
        RegisterComponents();
    }

    /// <summary>(batch, H, W, dim) to (batch, ceil(H / 2), ceil(W / 2), out_dim), or channel-first.</summary>
    public override Tensor forward(Tensor x)
    {
        var shape = ImageShape.OfImage(x, nameof(x), _channelFirst);
        if (shape.Channels != _dim)
            throw Check.Fail(nameof(x), $"{_dim} channels in {shape.Layout}", $"shape {Check.Shape(x.shape)}");
        using var scope = NewDisposeScope();
        var merged = ops.patch_merge(x, _channelFirst);
        if (_channelFirst) merged = merged.permute(0, 2, 3, 1);
        var y = _swinV2Order ? norm.call(reduction.call(merged)) : reduction.call(norm.call(merged));
        if (_channelFirst) y = y.permute(0, 3, 1, 2);
        return y.MoveToOuterDisposeScope();
    }
}
