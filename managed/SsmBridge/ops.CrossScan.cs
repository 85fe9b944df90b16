using SsmBridge.Autograd;
using SsmBridge.Internal;
using static TorchSharp.torch;

namespace SsmBridge;

public static partial class ops
{
    /// <summary>
    /// VMamba's cross scan: each channel of an H x W image read as four sequences of L = H * W steps,
    /// <code>
    /// k = 0 row-major (h * W + w),  k = 1 column-major (w * H + h),  k = 2 and 3 the same two reversed
    /// </code>
    /// in one native pass (forward) whose backward is the native <see cref="cross_merge"/>. Values are
    /// exact: the output holds the input's values.
    /// <para>
    /// <paramref name="channel_first"/> = true (default) takes x as (batch, channels, height, width), as
    /// VMamba's SS2D holds it after its depthwise convolution; false takes (batch, height, width,
    /// channels), the channel-last layout of VMamba models built with LayerNorm (channel_first=False),
    /// where SS2D otherwise permutes and copies before scanning. Either way, an x whose storage is
    /// contiguous in the other layout (a permuted view, a channels_last tensor) is read without a copy.
    /// </para>
    /// </summary>
    /// <param name="x">The image, (batch, channels, height, width) or (batch, height, width, channels).</param>
    /// <param name="channel_first">The layout of <paramref name="x"/>.</param>
    /// <returns>(batch, 4, channels, height * width) in the dtype of <paramref name="x"/>: the layout the
    /// selective scan reads with dim = 4 * channels.</returns>
    public static Tensor cross_scan(Tensor x, bool channel_first = true)
    {
        var shape = ImageShape.OfImage(x, nameof(x), channel_first, cuda: true);
        using var scope = NewDisposeScope();
        return CrossScanFunction.apply(x, shape).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// VMamba's cross merge, the adjoint of <see cref="cross_scan"/> (so each is the other's backward):
    /// the four scan-ordered sequences mapped back to row-major pixel order and summed, as
    /// (ys0 + ys2) + (ys1 + ys3) in exactly that order (VMamba's CrossMerge order), in one native pass.
    /// <para>
    /// <paramref name="channel_first"/> = true (default) returns (batch, channels, height * width);
    /// false returns (batch, height * width, channels), what SS2D's out_norm (a LayerNorm over
    /// channels) reads in channel-last VMamba models, which otherwise transpose and copy here.
    /// </para>
    /// </summary>
    /// <param name="ys">(batch, 4, channels, height, width): the four sequences in scan order (as the
    /// selective scan produces them); height and width only give the geometry.</param>
    /// <param name="channel_first">The layout of the result.</param>
    /// <returns>(batch, channels, height * width) or (batch, height * width, channels), contiguous, in the
    /// dtype of <paramref name="ys"/>.</returns>
    public static Tensor cross_merge(Tensor ys, bool channel_first = true)
    {
        var shape = ImageShape.OfScans(ys, nameof(ys), channel_first, cuda: true);
        using var scope = NewDisposeScope();
        return CrossMergeFunction.apply(ys, shape).MoveToOuterDisposeScope();
    }
}
