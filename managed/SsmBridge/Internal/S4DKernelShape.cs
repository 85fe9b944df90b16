using TorchSharp;
using static TorchSharp.torch;

namespace SsmBridge.Internal;

/// <summary>Sizes of one <see cref="ops.s4d_kernel"/> call, validated from its arguments.</summary>
internal readonly record struct S4DKernelShape(long H, long N, long L)
{
    public static S4DKernelShape Of(Tensor log_dt, Tensor A_real, Tensor A_imag, Tensor C_real, Tensor C_imag, long L)
    {
        Check.NotNull(log_dt, nameof(log_dt));
        Check.Rank(log_dt, nameof(log_dt), 1, "(H)");
        Check.FloatingPoint(log_dt, nameof(log_dt));
        Check.NonEmpty(log_dt, nameof(log_dt));
        var H = log_dt.shape[0];
        foreach (var (t, name) in new[] { (A_real, nameof(A_real)), (A_imag, nameof(A_imag)), (C_real, nameof(C_real)),
                                          (C_imag, nameof(C_imag)) }) {
            Check.NotNull(t, name);
            Check.Rank(t, name, 2, "(H, N)");
            if (t.dtype != log_dt.dtype) throw Check.Fail(name, $"dtype {log_dt.dtype} (the dtype of log_dt)", t.dtype.ToString());
            Check.NonEmpty(t, name);
        }
        var N = A_real.shape[1];
        foreach (var (t, name) in new[] { (A_real, nameof(A_real)), (A_imag, nameof(A_imag)), (C_real, nameof(C_real)),
                                          (C_imag, nameof(C_imag)) }) {
            Check.ShapeEquals(t, name, new[] { H, N }, "(H, N)");
            Check.Device(t, name, log_dt, nameof(log_dt), cuda: true);
        }
        Check.Device(log_dt, nameof(log_dt), log_dt, nameof(log_dt), cuda: true);
        if (L < 1) throw Check.Fail(nameof(L), "a kernel length of at least 1", L.ToString());
        var elem = Check.ComputeElementSize(log_dt);
        foreach (var (t, name) in new[] { (A_real, nameof(A_real)), (A_imag, nameof(A_imag)), (C_real, nameof(C_real)),
                                          (C_imag, nameof(C_imag)) })
            Check.ByteCountFits(name, t.shape, elem, "(H, N)");
        if (H > long.MaxValue / elem / L)
            throw Check.Fail(nameof(L), $"a kernel length whose kernel (H, L) = ({H}, L) has a byte count that fits in int64",
                             $"{L} ({H} x {L} x {elem} bytes overflows int64)");
        return new S4DKernelShape(H, N, L);
    }
}
