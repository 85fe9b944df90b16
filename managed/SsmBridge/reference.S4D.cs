using SsmBridge.Internal;
using static TorchSharp.torch;

namespace SsmBridge;

public static partial class reference
{
    /// <summary>
    /// Reference for <see cref="ops.s4d_kernel"/> in plain TorchSharp ops, as S4D's naive Vandermonde
    /// path computes it: the (H, N, L) tensor exp(dt A l) materialised, then summed over N; gradients from
    /// autograd. Complex numbers are carried as real pairs. exp(x) - 1 is taken as
    /// expm1(Re x) cos(Im x) - 2 sin^2(Im x / 2) + i exp(Re x) sin(Im x), so tiny dt A does not cancel; A = 0
    /// divides by zero here (the limit dt is the op's business).
    /// </summary>
    public static Tensor s4d_kernel(Tensor log_dt, Tensor A_real, Tensor A_imag, Tensor C_real, Tensor C_imag, long L)
    {
        S4DKernelShape.Of(log_dt, A_real, A_imag, C_real, C_imag, L);
        using var scope = NewDisposeScope();
        var dt = log_dt.exp().unsqueeze(1);
        var (xr, xi) = (dt * A_real, dt * A_imag);
        var half = (0.5 * xi).sin();
        var (er, ei) = (xr.expm1() * xi.cos() - 2 * half * half, xr.exp() * xi.sin());
        // (exp(x) - 1) / A = e conj(A) / |A|^2, then W = C (exp(x) - 1) / A.
        var norm = A_real * A_real + A_imag * A_imag;
        var (zr, zi) = ((er * A_real + ei * A_imag) / norm, (ei * A_real - er * A_imag) / norm);
        var (wr, wi) = (C_real * zr - C_imag * zi, C_real * zi + C_imag * zr);
        var l = arange(L, log_dt.dtype, log_dt.device);
        var (pr, pi) = (xr.unsqueeze(-1) * l, xi.unsqueeze(-1) * l);  // (H, N, L)
        var magnitude = pr.exp();
        var K = 2 * (wr.unsqueeze(-1) * magnitude * pi.cos() - wi.unsqueeze(-1) * magnitude * pi.sin()).sum(1);
        return K.MoveToOuterDisposeScope();
    }
}
