using SsmBridge.Internal;
using static TorchSharp.torch;

namespace SsmBridge;

public static partial class reference
{
    /// <summary>
    /// Reference for <see cref="ops.cross_selective_scan"/>: the composition it fuses, in plain TorchSharp
    /// ops. delta, B and C are put into each direction's scan order (flatten, transposed flatten, both
    /// flipped), then <see cref="cross_scan"/> -> <see cref="selective_scan"/> (dim 4 * dim, groups 4) ->
    /// <see cref="cross_merge"/>; gradients from autograd.
    /// </summary>
    public static Tensor cross_selective_scan(Tensor u, Tensor delta, Tensor A, Tensor B, Tensor C,
                                              Tensor? D = null, Tensor? delta_bias = null,
                                              bool delta_softplus = false, bool channel_first = true)
    {
        var s = CrossSelectiveScanShape.Validate(u, delta, A, B, C, D, delta_bias, channel_first);
        using var scope = NewDisposeScope();
        long K = CrossSelectiveScanShape.K;
        var xs = cross_scan(u).view(s.Batch, K * s.Dim, s.L);
        var deltas = InScanOrder(delta, s).view(s.Batch, K * s.Dim, s.L);
        var ys = selective_scan(xs, deltas, A, InScanOrder(B, s), InScanOrder(C, s), D, null, delta_bias, delta_softplus);
        return cross_merge(ys.view(s.Batch, K, s.Dim, s.Height, s.Width), channel_first).MoveToOuterDisposeScope();
    }

    // (batch, 4, rows, height, width) or (batch, 4, rows, L) in pixel order -> (batch, 4, rows, L) with
    // slice k in direction k's scan order.
    private static Tensor InScanOrder(Tensor perDirection, CrossSelectiveScanShape s)
    {
        var image = perDirection.reshape(s.Batch, CrossSelectiveScanShape.K, -1, s.Height, s.Width);
        var orders = new Tensor[CrossSelectiveScanShape.K];
        for (int k = 0; k < orders.Length; k++) {
            var plane = image.select(1, k);
            var sequence = (k & 1) == 0 ? plane.flatten(2) : plane.transpose(2, 3).flatten(2);
            orders[k] = k >= 2 ? sequence.flip(-1) : sequence;
        }
        return stack(orders, 1);
    }
}
