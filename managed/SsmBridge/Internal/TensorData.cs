using System.Runtime.InteropServices;
using SsmBridge.Interop;
using TorchSharp;
using static TorchSharp.torch;

namespace SsmBridge.Internal;

/// <summary>How a TorchSharp tensor crosses the C ABI: its data pointer and its dtype enum.</summary>
internal static class TensorData
{
    /// <summary>
    /// Address of the tensor's first element. <c>Storage.data_ptr()</c> points at the start of the
    /// storage, so the view's offset is added.
    /// </summary>
    public static IntPtr Pointer(Tensor t)
    {
        // CUDA tensors and 16-bit dtypes (which storage<T>() cannot view) go through libtorch's own
        // data_ptr(), which includes the view's offset.
        if (t.device_type == DeviceType.CUDA || t.dtype is ScalarType.Float16 or ScalarType.BFloat16)
            return DataPointer(t);
        switch (t.dtype) {
            case ScalarType.Float32: {
                using var storage = t.storage<float>();
                return storage.data_ptr() + checked((nint)(t.storage_offset() * sizeof(float)));
            }
            case ScalarType.Float64: {
                using var storage = t.storage<double>();
                return storage.data_ptr() + checked((nint)(t.storage_offset() * sizeof(double)));
            }
            default:
                throw new NotSupportedException($"no native data pointer for dtype {t.dtype}");
        }
    }

    /// <summary>
    /// libtorch's <c>Tensor::data_ptr()</c> (through LibTorchSharp's THSTensor_data, which TorchSharp
    /// does not expose): the first element's address for any dtype and device.
    /// </summary>
    public static IntPtr DataPointer(Tensor t)
    {
        var pointer = THSTensor_data(t.Handle);
        if (pointer == IntPtr.Zero && t.numel() > 0)
            throw new InvalidOperationException($"libtorch returned no data pointer for a {t.dtype} tensor on {t.device}");
        return pointer;
    }

    [DllImport("LibTorchSharp")]
    private static extern IntPtr THSTensor_data(IntPtr handle);

    /// <summary>Pointer of an optional tensor; <see cref="IntPtr.Zero"/> when absent.</summary>
    public static IntPtr PointerOrNull(Tensor? t) => t is null ? IntPtr.Zero : Pointer(t);

    public static Dtype ToNative(ScalarType dtype) => dtype switch {
        ScalarType.Float32 => Dtype.Float32,
        ScalarType.Float64 => Dtype.Float64,
        ScalarType.Float16 => Dtype.Float16,
        ScalarType.BFloat16 => Dtype.BFloat16,
        _ => throw new NotSupportedException($"dtype {dtype} has no native counterpart"),
    };
}
