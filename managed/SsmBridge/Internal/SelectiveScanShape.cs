using SsmBridge.Interop;
using TorchSharp;
using static TorchSharp.torch;

namespace SsmBridge.Internal;

/// <summary>Sizes of one selective-scan call, read from validated inputs.</summary>
internal sealed record SelectiveScanShape(long Batch, long Dim, long L, long N, long Groups,
                                          bool BSelective, bool CSelective)
{
    /// <summary>Checks every argument against DESIGN.md section 3 and returns the sizes.</summary>
    public static SelectiveScanShape Validate(Tensor u, Tensor delta, Tensor A, Tensor B, Tensor C,
                                              Tensor? D, Tensor? z, Tensor? delta_bias)
    {
        Check.NotNull(u, nameof(u));
        Check.NotNull(delta, nameof(delta));
        Check.NotNull(A, nameof(A));
        Check.NotNull(B, nameof(B));
        Check.NotNull(C, nameof(C));

        Check.Rank(u, nameof(u), 3, "(batch, dim, L)");
        Check.FloatingPoint(u, nameof(u));
        Check.NonEmpty(u, nameof(u));
        Check.Device(u, nameof(u), u, nameof(u), cuda: true);
        RequireCudaDtype(u, nameof(u));
        long batch = u.shape[0], dim = u.shape[1], L = u.shape[2];

        Check.FloatingPoint(delta, nameof(delta));
        Check.Device(delta, nameof(delta), u, nameof(u), cuda: true);
        Check.ShapeEquals(delta, nameof(delta), u.shape, "(batch, dim, L)");

        Check.FloatingPoint(A, nameof(A));
        Check.Device(A, nameof(A), u, nameof(u), cuda: true);
        Check.Rank(A, nameof(A), 2, "(dim, N)");
        long N = A.shape[1];
        Check.ShapeEquals(A, nameof(A), new[] { dim, N }, "(dim, N)");
        Check.NonEmpty(A, nameof(A));
        if (u.device_type == DeviceType.CUDA && N > MaxCudaStates)
            throw Check.Fail(nameof(A), $"at most {MaxCudaStates} states N on CUDA, shape (dim, N)", $"shape {Check.Shape(A.shape)}");

        var (bSelective, bGroups) = StateInput(B, nameof(B), u, batch, dim, L, N);
        var (cSelective, cGroups) = StateInput(C, nameof(C), u, batch, dim, L, N);
        if (bSelective && cSelective && bGroups != cGroups)
            throw Check.Fail(nameof(C), $"{bGroups} groups like B, shape (batch, groups, N, L) = " +
                                        Check.Shape(new[] { batch, bGroups, N, L }), $"shape {Check.Shape(C.shape)}");
        long groups = bSelective ? bGroups : cSelective ? cGroups : 1;

        PerChannel(D, nameof(D), u, dim);
        PerChannel(delta_bias, nameof(delta_bias), u, dim);
        if (z is not null) {
            Check.NotNull(z, nameof(z));
            Check.FloatingPoint(z, nameof(z));
            Check.Device(z, nameof(z), u, nameof(u), cuda: true);
            Check.ShapeEquals(z, nameof(z), u.shape, "(batch, dim, L)");
        }
        RequireByteCounts(u, A, B, C, N);
        return new SelectiveScanShape(batch, dim, L, N, groups, bSelective, cSelective);
    }

    // The contiguous copies of the inputs and the per-chunk states the forward allocates.
    private static void RequireByteCounts(Tensor u, Tensor A, Tensor B, Tensor C, long N)
    {
        long elem = Check.ComputeElementSize(u), batch = u.shape[0], dim = u.shape[1], L = u.shape[2];
        Check.ByteCountFits(nameof(u), u.shape, elem, "(batch, dim, L)");
        Check.ByteCountFits(nameof(A), A.shape, elem, "(dim, N)");
        Check.ByteCountFits(nameof(B), B.shape, elem, "a shape");
        Check.ByteCountFits(nameof(C), C.shape, elem, "a shape");
        var chunks = (L + Native.SelectiveScanChunkSize() - 1) / Native.SelectiveScanChunkSize();
        Check.ByteCountFits(nameof(u), new[] { batch, dim, chunks, N }, elem, "sizes whose chunk states (batch, dim, chunks, N)");
    }

    // B or C: (dim, N) time-invariant, or (batch, groups, N, L) selective with groups dividing dim.
    private static (bool Selective, long Groups) StateInput(Tensor t, string name, Tensor u,
                                                            long batch, long dim, long L, long N)
    {
        Check.FloatingPoint(t, name);
        Check.Device(t, name, u, "u", cuda: true);
        if (t.dim() == 2) {
            Check.ShapeEquals(t, name, new[] { dim, N }, "(dim, N)");
            return (false, 1);
        }
        if (t.dim() != 4)
            throw Check.Fail(name, "a 2-D tensor (dim, N) or a 4-D tensor (batch, groups, N, L)",
                             $"shape {Check.Shape(t.shape)}");
        long groups = t.shape[1];
        if (groups < 1 || dim % groups != 0)
            throw Check.Fail(name, $"a group count dividing dim = {dim} in shape (batch, groups, N, L)",
                             $"shape {Check.Shape(t.shape)} ({groups} groups)");
        Check.ShapeEquals(t, name, new[] { batch, groups, N, L }, "(batch, groups, N, L)");
        return (true, groups);
    }

    // The CUDA kernels: N at most 256 (ssmbridge.h), inputs float32, float16 or bfloat16.
    private const long MaxCudaStates = 256;

    private static void RequireCudaDtype(Tensor u, string name)
    {
        if (u.device_type == DeviceType.CUDA && u.dtype == ScalarType.Float64)
            throw Check.Fail(name, "dtype float32, float16 or bfloat16 on CUDA", "float64");
    }

    private static void PerChannel(Tensor? t, string name, Tensor u, long dim)
    {
        if (t is null) return;
        Check.NotNull(t, name);
        Check.FloatingPoint(t, name);
        Check.Device(t, name, u, "u", cuda: true);
        Check.ShapeEquals(t, name, new[] { dim }, "(dim)");
    }
}
