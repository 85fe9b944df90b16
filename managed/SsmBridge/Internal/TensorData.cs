using SsmBridge.Interop;
using TorchSharp;
using static TorchSharp.torch;

namespace SsmBridge.Internal;

/// <summary>How a TorchSharp tensor crosses the C ABI: its data pointer and its dtype enum.</summary>
internal static class TensorData
{
    /// <summary>
    /// Address of the tensor's first element. <c>Storage.data_ptr()</c> points at the start of the
    /// storage, so the view's offset is added. Only float32/float64 reach native code on the CPU.
    /// </summary>
    public static IntPtr Pointer(Tensor t)
    {
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
