using SsmBridge.Autograd;
using SsmBridge.Internal;
using static TorchSharp.torch;

namespace SsmBridge;

/// <summary>
/// Differentiable fused kernels from libssmbridge, with TorchSharp conventions. Every op checks its
/// inputs before any native call: a wrong rank, shape, dtype or device is an
/// <see cref="ArgumentException"/> naming the argument, the expected and the actual value.
/// </summary>
public static partial class ops
{
    /// <summary>
    /// Mamba's selective scan (<c>selective_scan_fn</c>), fused: one pass over the sequence, no
    /// (batch, dim, L, N) tensor, backward recomputing per chunk. CPU tensors run the CPU kernels
    /// (float32 / float64); CUDA tensors run the CUDA kernels (float32 / float16 / bfloat16 with float32
    /// weights and accumulation) when libssmbridge was built with them (<see cref="Runtime.HasCuda"/>).
    /// <code>
    /// dt = delta + delta_bias (softplus'ed when delta_softplus)
    /// h_t = exp(dt_t A) h_{t-1} + dt_t B_t u_t,  y_t = C_t . h_t + D u_t,  out = z is null ? y : y * silu(z)
    /// </code>
    /// </summary>
    /// <param name="u">(batch, dim, L) input.</param>
    /// <param name="delta">(batch, dim, L) step sizes (before delta_bias and softplus).</param>
    /// <param name="A">(dim, N) state matrix (diagonal per channel, real).</param>
    /// <param name="B">(dim, N) time-invariant or (batch, groups, N, L) selective input matrix.</param>
    /// <param name="C">(dim, N) time-invariant or (batch, groups, N, L) selective output matrix.</param>
    /// <param name="D">optional (dim) skip connection.</param>
    /// <param name="z">optional (batch, dim, L) gate: the output is multiplied by silu(z).</param>
    /// <param name="delta_bias">optional (dim) added to delta.</param>
    /// <param name="delta_softplus">apply softplus to delta + delta_bias.</param>
    /// <param name="reverse">scan t = L-1 .. 0 instead of 0 .. L-1 (no flipped copies are made).</param>
    /// <returns>(batch, dim, L) in the dtype of <paramref name="u"/>.</returns>
    public static Tensor selective_scan(Tensor u, Tensor delta, Tensor A, Tensor B, Tensor C,
                                        Tensor? D = null, Tensor? z = null, Tensor? delta_bias = null,
                                        bool delta_softplus = false, bool reverse = false)
    {
        var (output, lastState) = selective_scan_with_state(u, delta, A, B, C, D, z, delta_bias, delta_softplus, reverse);
        lastState.Dispose();
        return output;
    }

    /// <summary>
    /// <see cref="selective_scan"/> that also returns the state after the last step, (batch, dim, N) in
    /// float32 (float64 for float64 inputs). Both outputs are differentiable: a gradient flowing into
    /// last_state reaches every input.
    /// </summary>
    public static (Tensor output, Tensor last_state) selective_scan_with_state(
        Tensor u, Tensor delta, Tensor A, Tensor B, Tensor C,
        Tensor? D = null, Tensor? z = null, Tensor? delta_bias = null,
        bool delta_softplus = false, bool reverse = false)
    {
        var shape = SelectiveScanShape.Validate(u, delta, A, B, C, D, z, delta_bias);
        // Collects the forward's temporaries once the autograd node has taken what it keeps.
        using var scope = NewDisposeScope();
        var outputs = SelectiveScanFunction.apply(u, delta, A, B, C, D, z, delta_bias, delta_softplus, reverse, shape);
        return (outputs[0].MoveToOuterDisposeScope(), outputs[1].MoveToOuterDisposeScope());
    }
}
