using SsmBridge.Autograd;
using SsmBridge.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace SsmBridge;

public static partial class ops
{
    /// <summary>
    /// The S4D convolution kernel (zero-order hold, B folded into C) of H diagonal state space models
    /// with N complex modes each:
    /// <c>K[h, l] = 2 Re sum_n C[h, n] (exp(dt[h] A[h, n]) - 1) / A[h, n] * exp(dt[h] A[h, n] l)</c>,
    /// <c>dt = exp(log_dt)</c>, <c>A = A_real + i A_imag</c>, <c>C = C_real + i C_imag</c>, l = 0..L-1.
    /// Forward and backward are native (ssmb_s4d_kernel_fwd / _bwd): O(H N L) work, no (H, N, L) tensor,
    /// exp(dt A l) taken directly every few steps (no drift for long L), and (exp(x) - 1) / x evaluated
    /// without cancellation (tiny dt A) or division by A (A = 0 is fine). A_real is Re A itself
    /// (negative for a decaying kernel); parameterisations such as A_real = -exp(log_A_real) belong to the
    /// caller (see <see cref="Modules.S4DKernel"/>). Differentiable in all five tensors.
    /// </summary>
    /// <param name="log_dt">(H): log of the step size per row.</param>
    /// <param name="A_real">(H, N): Re A.</param>
    /// <param name="A_imag">(H, N): Im A.</param>
    /// <param name="C_real">(H, N): Re C.</param>
    /// <param name="C_imag">(H, N): Im C.</param>
    /// <param name="L">Kernel length, at least 1.</param>
    /// <returns>K, (H, L), in the dtype of the inputs (computed in float64 for float64, else float32).</returns>
    public static Tensor s4d_kernel(Tensor log_dt, Tensor A_real, Tensor A_imag, Tensor C_real, Tensor C_imag, long L)
    {
        S4DKernelShape.Of(log_dt, A_real, A_imag, C_real, C_imag, L);
        using var scope = NewDisposeScope();
        return S4DKernelFunction.apply(log_dt, A_real, A_imag, C_real, C_imag, L).MoveToOuterDisposeScope();
    }
}
