using SsmBridge.Autograd;
using SsmBridge.Internal;
using static TorchSharp.torch;

namespace SsmBridge;

public static partial class ops
{
    /// <summary>
    /// Swin's 2x2 patch merging (the data movement of Swin's and VMamba's PatchMerging): output pixel
    /// (i, j) holds the four input pixels of its 2x2 patch side by side on the channel axis, in Swin's
    /// order [x(0::2, 0::2), x(1::2, 0::2), x(0::2, 1::2), x(1::2, 1::2)]; an odd height or width is
    /// padded with zeros at the bottom / right. Forward and backward are native gathers; values are exact.
    /// <para>
    /// <paramref name="channel_first"/> = false (default) takes (batch, height, width, channels) as Swin
    /// and VMamba v0 do; true takes (batch, channels, height, width) and returns (batch, 4 * channels,
    /// ceil(height / 2), ceil(width / 2)), VMamba v2's channel-first PatchMerging2D (whose own padding
    /// of odd sizes pads the wrong axes upstream; here height and width are padded in both layouts). An x
    /// whose storage is contiguous in the other layout is read without a copy, and the result is then
    /// stored that way too.
    /// </para>
    /// </summary>
    /// <param name="x">The image, (batch, height, width, channels) or (batch, channels, height, width).</param>
    /// <param name="channel_first">The layout of <paramref name="x"/> and of the result.</param>
    /// <returns>(batch, ceil(height / 2), ceil(width / 2), 4 * channels), or channel-first as above, in the
    /// dtype of <paramref name="x"/>.</returns>
    public static Tensor patch_merge(Tensor x, bool channel_first = false)
    {
        var shape = ImageShape.OfImage(x, nameof(x), channel_first, cuda: true);
        using var scope = NewDisposeScope();
        return PatchMergeFunction.apply(x, shape).MoveToOuterDisposeScope();
    }
}
