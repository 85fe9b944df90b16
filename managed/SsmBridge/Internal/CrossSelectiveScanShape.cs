using SsmBridge.Interop;
using TorchSharp;
using static TorchSharp.torch;

namespace SsmBridge.Internal;

/// <summary>
/// Sizes of one fused cross selective scan (<see cref="ops.cross_selective_scan"/>), read from validated
/// inputs: u (batch, dim, height, width); per direction k = 0..3 delta (batch, 4, dim, ...) and B, C
/// (batch, 4, N, ...) in pixel order, where "..." is (height, width) or height * width; A (4 dim, N);
/// D, delta_bias (4 dim). <see cref="ChannelFirst"/> is the layout of the merged output.
/// </summary>
internal sealed record CrossSelectiveScanShape(long Batch, long Dim, long Height, long Width, long N, bool ChannelFirst)
{
    public const long K = 4;

    public long L => Height * Width;

    /// <summary>Checks every argument and returns the sizes.</summary>
    public static CrossSelectiveScanShape Validate(Tensor u, Tensor delta, Tensor A, Tensor B, Tensor C,
                                                   Tensor? D, Tensor? delta_bias, bool channelFirst)
    {
        Check.NotNull(u, nameof(u));
        Check.NotNull(delta, nameof(delta));
        Check.NotNull(A, nameof(A));
        Check.NotNull(B, nameof(B));
        Check.NotNull(C, nameof(C));

        Check.Rank(u, nameof(u), 4, "(batch, dim, height, width)");
        Check.FloatingPoint(u, nameof(u));
        Check.NonEmpty(u, nameof(u));
        Check.Device(u, nameof(u), u, nameof(u), cuda: true);
        // CUDA (issue 8): the CUDA kernels compute in float32 and take no float64.
        if (u.device_type == DeviceType.CUDA && u.dtype == ScalarType.Float64)
            throw Check.Fail(nameof(u), "dtype float32, float16 or bfloat16 on CUDA (the CUDA kernels compute in float32)",
                             u.dtype.ToString());
        long batch = u.shape[0], dim = u.shape[1], height = u.shape[2], width = u.shape[3];

        PerDirection(delta, nameof(delta), u, new[] { batch, K, dim }, "(batch, 4, dim", height, width);

        Check.FloatingPoint(A, nameof(A));
        Check.Device(A, nameof(A), u, nameof(u), cuda: true);
        Check.Rank(A, nameof(A), 2, "(4 * dim, N)");
        long N = A.shape[1];
        Check.ShapeEquals(A, nameof(A), new[] { K * dim, N }, "(4 * dim, N)");
        Check.NonEmpty(A, nameof(A));

        PerDirection(B, nameof(B), u, new[] { batch, K, N }, "(batch, 4, N", height, width);
        PerDirection(C, nameof(C), u, new[] { batch, K, N }, "(batch, 4, N", height, width);
        PerChannel(D, nameof(D), u, K * dim);
        PerChannel(delta_bias, nameof(delta_bias), u, K * dim);
        RequireByteCounts(u, delta, A, B, C, N);
        return new CrossSelectiveScanShape(batch, dim, height, width, N, channelFirst);
    }

    // The contiguous copies of the inputs and the per-chunk states the forward allocates.
    private static void RequireByteCounts(Tensor u, Tensor delta, Tensor A, Tensor B, Tensor C, long N)
    {
        long elem = Check.ComputeElementSize(u), L = u.shape[2] * u.shape[3];
        foreach (var (t, name) in new[] { (u, nameof(u)), (delta, nameof(delta)), (A, nameof(A)), (B, nameof(B)), (C, nameof(C)) })
            Check.ByteCountFits(name, t.shape, elem, "a shape");
        var chunks = (L + Native.SelectiveScanChunkSize() - 1) / Native.SelectiveScanChunkSize();
        Check.ByteCountFits(nameof(u), new[] { u.shape[0], K * u.shape[1], chunks, N }, elem,
                            "sizes whose chunk states (batch, 4 * dim, chunks, N)");
    }

    // (lead..., height, width) or (lead..., height * width).
    private static void PerDirection(Tensor t, string name, Tensor u, long[] lead, string layout, long height, long width)
    {
        Check.FloatingPoint(t, name);
        Check.Device(t, name, u, "u", cuda: true);
        var image = lead.Concat(new[] { height, width }).ToArray();
        var flat = lead.Concat(new[] { height * width }).ToArray();
        if (!t.shape.SequenceEqual(image) && !t.shape.SequenceEqual(flat))
            throw Check.Fail(name, $"shape {layout}, height, width) = {Check.Shape(image)} or {layout}, height * width) = " +
                                   Check.Shape(flat), $"shape {Check.Shape(t.shape)}");
    }

    private static void PerChannel(Tensor? t, string name, Tensor u, long channels)
    {
        if (t is null) return;
        Check.NotNull(t, name);
        Check.FloatingPoint(t, name);
        Check.Device(t, name, u, "u", cuda: true);
        Check.ShapeEquals(t, name, new[] { channels }, "(4 * dim)");
    }
}
