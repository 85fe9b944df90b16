using SsmBridge.Internal;
using static TorchSharp.torch;

namespace SsmBridge;

public static partial class reference
{
    /// <summary>
    /// Reference for <see cref="ops.cross_scan"/>, as VMamba's PyTorch CrossScan writes it: flatten, a
    /// transposed flatten, both flipped, stacked; gradients from autograd.
    /// </summary>
    public static Tensor cross_scan(Tensor x, bool channel_first = true)
    {
        ImageShape.OfImage(x, nameof(x), channel_first);
        using var scope = NewDisposeScope();
        var image = channel_first ? x : x.permute(0, 3, 1, 2);
        var rowMajor = image.flatten(2);
        var columnMajor = image.transpose(2, 3).flatten(2);
        var ys = stack(new[] { rowMajor, columnMajor, rowMajor.flip(-1), columnMajor.flip(-1) }, 1);
        return ys.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Reference for <see cref="ops.cross_merge"/>, as VMamba's PyTorch CrossMerge writes it:
    /// (ys0 + flip(ys2)) + (ys1 + flip(ys3)) transposed back to row-major order (the same summation
    /// order as the native kernel, so results agree bitwise).
    /// </summary>
    public static Tensor cross_merge(Tensor ys, bool channel_first = true)
    {
        var s = ImageShape.OfScans(ys, nameof(ys), channel_first);
        using var scope = NewDisposeScope();
        var sequences = ys.flatten(3);
        var rows = sequences.select(1, 0) + sequences.select(1, 2).flip(-1);
        var columns = sequences.select(1, 1) + sequences.select(1, 3).flip(-1);
        var y = rows + columns.unflatten(2, new[] { s.Width, s.Height }).transpose(2, 3).flatten(2);
        if (!channel_first) y = y.transpose(1, 2).contiguous();
        return y.MoveToOuterDisposeScope();
    }
}
