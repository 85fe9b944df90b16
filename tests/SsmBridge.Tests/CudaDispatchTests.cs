using SsmBridge.Interop;
using SsmBridge.Internal;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace SsmBridge.Tests;

/// <summary>
/// The managed side of the CUDA path that a CPU-only TorchSharp can exercise: data pointers through
/// libtorch's data_ptr() (used for CUDA and 16-bit tensors), and what a build without CUDA answers.
/// CUDA tensors themselves are covered by the native GPU tests (scripts/gpu_check.sh).
/// </summary>
public class CudaDispatchTests
{
    [Fact]
    public void DataPointerMatchesStorageAddressOfViews()
    {
        using var scope = NewDisposeScope();
        var f32 = arange(100, dtype: ScalarType.Float32).reshape(10, 10)[3..7, 2..];
        var f64 = arange(100, dtype: ScalarType.Float64)[17..];
        Assert.Equal(TensorData.Pointer(f32), TensorData.DataPointer(f32));
        Assert.Equal(TensorData.Pointer(f64), TensorData.DataPointer(f64));
        foreach (var dtype in new[] { ScalarType.Float16, ScalarType.BFloat16 }) {
            var whole = zeros(64, dtype: dtype);
            Assert.Equal(TensorData.Pointer(whole) + 2 * 5, TensorData.Pointer(whole[5..]));
        }
    }

    [Fact]
    public void BuildWithoutCudaSaysSo()
    {
        Native.CudaDeviceCount(out int count);
        Assert.True(count >= 0);
        if (Runtime.HasCuda) return;
        Assert.Equal(0, count);
        var error = Assert.Throws<NativeException>(() => Native.CrossScanCuda(
            Dtype.Float32, 1, 1, 2, 2, 1, IntPtr.Zero, IntPtr.Zero, IntPtr.Zero));
        Assert.Equal(Status.Unsupported, error.Status);
        Assert.Contains("built without CUDA", error.Message);
        Assert.Contains("-DSSMB_CUDA=ON", Check.NoCudaBuild);
    }
}
