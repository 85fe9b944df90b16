using TorchSharp;
using static TorchSharp.torch;

namespace SsmBridge.Internal;

/// <summary>
/// Argument checks run before any native call. Each failure is an <see cref="ArgumentException"/>
/// whose ParamName is the argument and whose message says what was expected and what was given.
/// </summary>
internal static class Check
{
    public static string Shape(long[] shape) => "[" + string.Join(", ", shape) + "]";

    public static ArgumentException Fail(string name, string expected, string actual) =>
        new($"{name}: expected {expected}, got {actual}", name);

    public static void NotNull(Tensor? t, string name)
    {
        if (t is null) throw new ArgumentNullException(name, $"{name}: expected a tensor, got null");
        if (t.IsInvalid) throw Fail(name, "a live tensor", "a disposed tensor");
    }

    /// <summary>A real floating-point dtype the kernels can compute in (directly or after conversion).</summary>
    public static void FloatingPoint(Tensor t, string name)
    {
        if (t.dtype is not (ScalarType.Float32 or ScalarType.Float64 or ScalarType.Float16 or ScalarType.BFloat16))
            throw Fail(name, "dtype float16, bfloat16, float32 or float64", t.dtype.ToString());
    }

    public static void Rank(Tensor t, string name, int rank, string layout)
    {
        if (t.dim() != rank) throw Fail(name, $"a {rank}-D tensor {layout}", $"shape {Shape(t.shape)}");
    }

    public static void ShapeEquals(Tensor t, string name, long[] expected, string layout)
    {
        if (!t.shape.SequenceEqual(expected))
            throw Fail(name, $"shape {layout} = {Shape(expected)}", $"shape {Shape(t.shape)}");
    }

    /// <summary>A range check of a size or count argument (factories, configs).</summary>
    public static void InRange(string name, long value, long min, long max, string? bound = null)
    {
        if (value < min || value > max)
            throw Fail(name, max == long.MaxValue ? $"at least {min}" : $"{min}..{max}" + (bound is null ? "" : $" ({bound})"),
                       value.ToString());
    }

    /// <summary>
    /// <paramref name="copies"/> contiguous arrays of this shape with elements of this size must have a byte count
    /// that fits in int64. An expanded view can claim far more elements than its storage holds; its contiguous
    /// copy, an output of its size, or the native call's own byte arithmetic would overflow before any
    /// allocator could refuse it.
    /// </summary>
    public static void ByteCountFits(string name, long[] shape, long elementSize, string what, long copies = 1)
    {
        long bytes = elementSize * copies;
        foreach (var size in shape) {
            if (size != 0 && bytes > long.MaxValue / size)
                throw Fail(name, $"{what} whose byte count fits in int64",
                           $"shape {Shape(shape)} ({copies} x {Shape(shape)} x {elementSize} bytes overflows int64)");
            bytes *= size;
        }
    }

    /// <summary>Bytes per element of the dtype the CPU kernels compute in for this tensor.</summary>
    public static long ComputeElementSize(Tensor t) => t.dtype == ScalarType.Float64 ? 8 : 4;

    public static void NonEmpty(Tensor t, string name)
    {
        if (t.numel() == 0) throw Fail(name, "a non-empty tensor", $"shape {Shape(t.shape)}");
    }

    /// <summary>
    /// Same device as the reference argument, and a device the op can run on: the CPU, or a CUDA device
    /// when the op has CUDA kernels (<paramref name="cuda"/>) and libssmbridge was built with them.
    /// </summary>
    public static void Device(Tensor t, string name, Tensor reference, string referenceName, bool cuda = false)
    {
        if (t.device_type != DeviceType.CPU && t.device_type != DeviceType.CUDA)
            throw Fail(name, "a CPU or CUDA tensor", $"device {t.device}");
        if (t.device_type != reference.device_type || t.device_index != reference.device_index)
            throw Fail(name, $"a tensor on {reference.device} (the device of {referenceName})", $"device {t.device}");
        if (t.device_type == DeviceType.CUDA) {
            if (!Runtime.HasCuda) throw Fail(name, NoCudaBuild, $"device {t.device}");
            if (!cuda) throw Fail(name, "a CPU tensor (this op has no CUDA kernels yet)", $"device {t.device}");
        }
    }

    /// <summary>What a CUDA tensor is told when libssmbridge was built without CUDA.</summary>
    public const string NoCudaBuild =
        "a CPU tensor (this build of libssmbridge has no CUDA kernels: ssmb_has_cuda() is 0; " +
        "rebuild it where nvcc exists, with -DSSMB_CUDA=ON)";
}
