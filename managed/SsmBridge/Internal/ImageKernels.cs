using SsmBridge.Interop;
using TorchSharp;
using static TorchSharp.torch;

namespace SsmBridge.Internal;

/// <summary>
/// The native image kernels (ssmb_cross_scan, ssmb_cross_merge, ssmb_patch_merge_fwd / _bwd) on
/// TorchSharp tensors, shared by the autograd functions' forward and backward passes.
/// An image argument may be stored in either memory layout: when its storage is contiguous in the
/// other layout than the one it is indexed in (a permuted view, or a channels_last tensor), the other
/// layout's kernel reads it without a copy; any other strides are made contiguous first. Images that
/// come back are stored in the layout the kernel used and returned as views in the caller's layout.
/// The CPU kernels compute in float64 for float64 tensors and in float32 for every other dtype; CUDA
/// tensors go to the CUDA kernels (ssmb_*_cuda, legacy default stream) in their own dtype (float32,
/// float16 or bfloat16). Results come back in the dtype asked for, on the input's device.
/// </summary>
internal static class ImageKernels
{
    /// <summary>An image's data as native code reads it: contiguous, in the compute dtype, and its layout.</summary>
    public readonly record struct StoredImage(Tensor Data, bool ChannelFirst);

    public static ScalarType ComputeType(Tensor t) =>
        t.device_type == DeviceType.CUDA ? t.dtype
        : t.dtype == ScalarType.Float64 ? ScalarType.Float64 : ScalarType.Float32;

    /// <summary>The storage of a 4-D image indexed as <paramref name="channelFirst"/> says.</summary>
    public static StoredImage Store(Tensor image, bool channelFirst)
    {
        var x = image.to_type(ComputeType(image));
        if (x.is_contiguous()) return new StoredImage(x, channelFirst);
        var other = channelFirst ? x.permute(0, 2, 3, 1) : x.permute(0, 3, 1, 2);
        if (other.is_contiguous()) return new StoredImage(other, !channelFirst);
        return new StoredImage(x.contiguous(), channelFirst);
    }

    /// <summary>A 4-D image stored in one layout, viewed in another.</summary>
    public static Tensor View(Tensor stored, bool storedChannelFirst, bool channelFirst) =>
        storedChannelFirst == channelFirst ? stored
        : storedChannelFirst ? stored.permute(0, 2, 3, 1)
        : stored.permute(0, 3, 1, 2);

    /// <summary>(batch, 4, channels, height * width) in <paramref name="dtype"/> from an image.</summary>
    public static Tensor CrossScan(StoredImage x, ImageShape s, ScalarType dtype)
    {
        var ys = empty(new[] { s.Batch, 4, s.Channels, s.Pixels }, x.Data.dtype, x.Data.device);
        var (dt, input, output) = (TensorData.ToNative(ys.dtype), TensorData.Pointer(x.Data), TensorData.Pointer(ys));
        if (OnCuda(ys)) {
            Native.CrossScanCuda(dt, s.Batch, s.Channels, s.Height, s.Width, Flag(x.ChannelFirst), input, output, IntPtr.Zero);
        } else {
            NativeThreads.Sync();
            Native.CrossScan(dt, s.Batch, s.Channels, s.Height, s.Width, Flag(x.ChannelFirst), input, output);
        }
        return ys.to_type(dtype);
    }

    /// <summary>
    /// The merged image (4-D, indexed as s.ChannelFirst says, stored as <paramref name="storeChannelFirst"/>
    /// says) in <paramref name="dtype"/> from the four sequences, (batch, 4, channels, height * width) or
    /// (batch, 4, channels, height, width).
    /// </summary>
    public static Tensor CrossMerge(Tensor ys, ImageShape s, bool storeChannelFirst, ScalarType dtype)
    {
        var sequences = ys.to_type(ComputeType(ys)).contiguous();
        var y = empty(ImageSizes(s, storeChannelFirst), sequences.dtype, sequences.device);
        var (dt, input, output) = (TensorData.ToNative(y.dtype), TensorData.Pointer(sequences), TensorData.Pointer(y));
        if (OnCuda(y)) {
            Native.CrossMergeCuda(dt, s.Batch, s.Channels, s.Height, s.Width, Flag(storeChannelFirst), input, output,
                                  IntPtr.Zero);
        } else {
            NativeThreads.Sync();
            Native.CrossMerge(dt, s.Batch, s.Channels, s.Height, s.Width, Flag(storeChannelFirst), input, output);
        }
        return View(y, storeChannelFirst, s.ChannelFirst).to_type(dtype);
    }

    /// <summary>
    /// Patch merging of an image of shape s: the merged image (indexed as s.ChannelFirst says, stored
    /// like <paramref name="x"/>) in <paramref name="dtype"/>.
    /// </summary>
    public static Tensor PatchMerge(StoredImage x, ImageShape s, ScalarType dtype)
    {
        var merged = empty(MergedSizes(s, x.ChannelFirst), x.Data.dtype, x.Data.device);
        var (dt, input, output) = (TensorData.ToNative(merged.dtype), TensorData.Pointer(x.Data), TensorData.Pointer(merged));
        if (OnCuda(merged)) {
            Native.PatchMergeForwardCuda(dt, s.Batch, s.Channels, s.Height, s.Width, Flag(x.ChannelFirst), input, output,
                                         IntPtr.Zero);
        } else {
            NativeThreads.Sync();
            Native.PatchMergeForward(dt, s.Batch, s.Channels, s.Height, s.Width, Flag(x.ChannelFirst), input, output);
        }
        return View(merged, x.ChannelFirst, s.ChannelFirst).to_type(dtype);
    }

    /// <summary>
    /// Gradient of patch merging for an image of shape s from the gradient of the merged image (indexed
    /// as s.ChannelFirst says): indexed as s.ChannelFirst says, stored like <paramref name="dout"/>.
    /// </summary>
    public static Tensor PatchMergeBackward(StoredImage dout, ImageShape s, ScalarType dtype)
    {
        var dx = empty(ImageSizes(s, dout.ChannelFirst), dout.Data.dtype, dout.Data.device);
        var (dt, input, output) = (TensorData.ToNative(dx.dtype), TensorData.Pointer(dout.Data), TensorData.Pointer(dx));
        if (OnCuda(dx)) {
            Native.PatchMergeBackwardCuda(dt, s.Batch, s.Channels, s.Height, s.Width, Flag(dout.ChannelFirst), input,
                                          output, IntPtr.Zero);
        } else {
            NativeThreads.Sync();
            Native.PatchMergeBackward(dt, s.Batch, s.Channels, s.Height, s.Width, Flag(dout.ChannelFirst), input, output);
        }
        return View(dx, dout.ChannelFirst, s.ChannelFirst).to_type(dtype);
    }

    /// <summary>Sizes of an image of shape s stored channel-first or channel-last.</summary>
    public static long[] ImageSizes(ImageShape s, bool channelFirst) =>
        channelFirst ? new[] { s.Batch, s.Channels, s.Height, s.Width }
                     : new[] { s.Batch, s.Height, s.Width, s.Channels };

    /// <summary>Sizes of the patch-merged image of shape s stored channel-first or channel-last.</summary>
    public static long[] MergedSizes(ImageShape s, bool channelFirst)
    {
        long h = (s.Height + 1) / 2, w = (s.Width + 1) / 2, c = 4 * s.Channels;
        return channelFirst ? new[] { s.Batch, c, h, w } : new[] { s.Batch, h, w, c };
    }

    private static bool OnCuda(Tensor t) => t.device_type == DeviceType.CUDA;

    private static int Flag(bool value) => value ? 1 : 0;
}
