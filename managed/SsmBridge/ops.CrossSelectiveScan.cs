using SsmBridge.Autograd;
using SsmBridge.Internal;
using static TorchSharp.torch;

namespace SsmBridge;

public static partial class ops
{
    /// <summary>
    /// VMamba's SS2D scan core fused into one native pass: the cross scan of u, the four directional
    /// selective scans and the cross merge,
    /// <code>
    /// cross_merge(selective_scan(cross_scan(u), scan order of delta, A, scan order of B, C, D, delta_bias,
    ///                            delta_softplus))   (dim 4 * dim, groups 4: direction k reads B[:, k], C[:, k])
    /// </code>
    /// with delta, B and C given per direction in <b>pixel order</b>: SS2D's projections act on each pixel, so
    /// they commute with the scan order and are computed once from the image, without cross-scanned copies.
    /// Nothing of size (batch, 4, dim, L) is made in the forward; the backward writes one such tensor, the
    /// gradient of delta. Forward values equal the composition of <see cref="cross_scan"/>,
    /// <see cref="selective_scan"/> and <see cref="cross_merge"/> bitwise; gradients up to float rounding.
    /// </summary>
    /// <param name="u">(batch, dim, height, width): the image, e.g. SS2D's activated convolution output.</param>
    /// <param name="delta">(batch, 4, dim, height, width) or (batch, 4, dim, height * width): direction k's
    /// delta at each pixel (before delta_bias and softplus).</param>
    /// <param name="A">(4 * dim, N): row k * dim + c for channel c of direction k.</param>
    /// <param name="B">(batch, 4, N, height, width) or (batch, 4, N, height * width): direction k's B at
    /// each pixel.</param>
    /// <param name="C">like <paramref name="B"/>.</param>
    /// <param name="D">optional (4 * dim) skip connection, ordered like A's rows.</param>
    /// <param name="delta_bias">optional (4 * dim), added to delta.</param>
    /// <param name="delta_softplus">apply softplus to delta + delta_bias.</param>
    /// <param name="channel_first">true: the result is (batch, dim, height * width); false: (batch,
    /// height * width, dim), as <see cref="cross_merge"/>.</param>
    /// <returns>The merged output, contiguous, in the dtype of <paramref name="u"/>.</returns>
    public static Tensor cross_selective_scan(Tensor u, Tensor delta, Tensor A, Tensor B, Tensor C,
                                              Tensor? D = null, Tensor? delta_bias = null,
                                              bool delta_softplus = false, bool channel_first = true)
    {
        var shape = CrossSelectiveScanShape.Validate(u, delta, A, B, C, D, delta_bias, channel_first);
        // Collects the forward's temporaries once the autograd node has taken what it keeps.
        using var scope = NewDisposeScope();
        return CrossSelectiveScanFunction.apply(u, delta, A, B, C, D, delta_bias, delta_softplus, shape)
                                         .MoveToOuterDisposeScope();
    }
}
