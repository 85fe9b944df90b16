using SsmBridge.Internal;
using static TorchSharp.torch;
using static TorchSharp.torch.nn.functional;

namespace SsmBridge;

public static partial class reference
{
    /// <summary>
    /// Reference for <see cref="ops.patch_merge"/>, as Swin and VMamba write it: zero-pad an odd height
    /// or width, take the four strided slices, concatenate them on the channel axis; gradients from
    /// autograd.
    /// </summary>
    public static Tensor patch_merge(Tensor x, bool channel_first = false)
    {
        var s = ImageShape.OfImage(x, nameof(x), channel_first);
        using var scope = NewDisposeScope();
        long padH = s.Height % 2, padW = s.Width % 2;
        // pad lists (before, after) pairs from the last dimension backwards.
        var padded = padH + padW == 0 ? x
                   : channel_first ? pad(x, new[] { 0, padW, 0, padH })
                   : pad(x, new[] { 0, 0, 0, padW, 0, padH });
        int hDim = channel_first ? 2 : 1, wDim = hDim + 1;
        Tensor Slice(long row, long col) =>
            padded.slice(hDim, row, s.Height + padH, 2).slice(wDim, col, s.Width + padW, 2);
        var merged = cat(new[] { Slice(0, 0), Slice(1, 0), Slice(0, 1), Slice(1, 1) }, channel_first ? 1 : 3);
        return merged.MoveToOuterDisposeScope();
    }
}
