using static TorchSharp.torch;

namespace SsmBridge.Internal;

/// <summary>
/// Sizes of an image op's call (cross scan, cross merge, patch merge), read from validated inputs.
/// <see cref="ChannelFirst"/> is the layout the caller asked for: (batch, channels, height, width) when
/// true, (batch, height, width, channels) when false.
/// </summary>
internal sealed record ImageShape(long Batch, long Channels, long Height, long Width, bool ChannelFirst)
{
    public long Pixels => Height * Width;

    public string Layout => LayoutOf(ChannelFirst);

    public static string LayoutOf(bool channelFirst) =>
        channelFirst ? "(batch, channels, height, width)" : "(batch, height, width, channels)";

    /// <summary>
    /// Checks a 4-D image argument in the given layout and returns its sizes. CUDA tensors pass only
    /// for callers that run the CUDA image kernels (<paramref name="cuda"/>).
    /// </summary>
    public static ImageShape OfImage(Tensor x, string name, bool channelFirst, bool cuda = false)
    {
        Check.NotNull(x, name);
        Check.Rank(x, name, 4, LayoutOf(channelFirst));
        Check.FloatingPoint(x, name);
        Check.NonEmpty(x, name);
        Check.Device(x, name, x, name, cuda);
        RequireCudaDtype(x, name);
        // The four scan orders (cross scan) and the 2x2-merged image (at most 4x the pixels with padding).
        Check.ByteCountFits(name, x.shape, Check.ComputeElementSize(x), "an image", copies: 4);
        return channelFirst ? new ImageShape(x.shape[0], x.shape[1], x.shape[2], x.shape[3], true)
                            : new ImageShape(x.shape[0], x.shape[3], x.shape[1], x.shape[2], false);
    }

    /// <summary>
    /// Checks the four scan-ordered sequences of cross_merge, (batch, 4, channels, height, width), and
    /// returns the sizes; the layout is that of the merged output.
    /// </summary>
    public static ImageShape OfScans(Tensor ys, string name, bool channelFirst, bool cuda = false)
    {
        Check.NotNull(ys, name);
        Check.Rank(ys, name, 5, "(batch, 4, channels, height, width)");
        if (ys.shape[1] != 4)
            throw Check.Fail(name, "size 4 at dimension 1 (the four scan directions) of " +
                                   "(batch, 4, channels, height, width)", $"shape {Check.Shape(ys.shape)}");
        Check.FloatingPoint(ys, name);
        Check.NonEmpty(ys, name);
        Check.Device(ys, name, ys, name, cuda);
        RequireCudaDtype(ys, name);
        Check.ByteCountFits(name, ys.shape, Check.ComputeElementSize(ys), "sequences");
        return new ImageShape(ys.shape[0], ys.shape[2], ys.shape[3], ys.shape[4], channelFirst);
    }

    // The CUDA image kernels move float32, float16 and bfloat16.
    private static void RequireCudaDtype(Tensor t, string name)
    {
        if (t.device_type == TorchSharp.DeviceType.CUDA && t.dtype == TorchSharp.torch.ScalarType.Float64)
            throw Check.Fail(name, "dtype float32, float16 or bfloat16 on CUDA", "float64");
    }
}
