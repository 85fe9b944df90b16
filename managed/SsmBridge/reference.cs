using SsmBridge.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace SsmBridge;

/// <summary>
/// The ops of <see cref="ops"/> written with plain TorchSharp tensor operations: the naive baselines
/// for tests and benchmarks. They materialize what the fused kernels never do (for the selective
/// scan, exp(dt A) and dt B u as (batch, dim, L, N) tensors) and get gradients from autograd.
/// </summary>
public static partial class reference
{
    /// <summary>Reference for <see cref="ops.selective_scan"/>; same arguments, same semantics.</summary>
    public static Tensor selective_scan(Tensor u, Tensor delta, Tensor A, Tensor B, Tensor C,
                                        Tensor? D = null, Tensor? z = null, Tensor? delta_bias = null,
                                        bool delta_softplus = false, bool reverse = false)
    {
        var (output, lastState) = selective_scan_with_state(u, delta, A, B, C, D, z, delta_bias, delta_softplus, reverse);
        lastState.Dispose();
        return output;
    }

    /// <summary>Reference for <see cref="ops.selective_scan_with_state"/>.</summary>
    public static (Tensor output, Tensor last_state) selective_scan_with_state(
        Tensor u, Tensor delta, Tensor A, Tensor B, Tensor C,
        Tensor? D = null, Tensor? z = null, Tensor? delta_bias = null,
        bool delta_softplus = false, bool reverse = false)
    {
        var shape = SelectiveScanShape.Validate(u, delta, A, B, C, D, z, delta_bias);
        using var scope = NewDisposeScope();
        var type = u.dtype == ScalarType.Float64 ? ScalarType.Float64 : ScalarType.Float32;
        var x = u.to_type(type);
        var dt = delta.to_type(type);
        if (delta_bias is not null) dt = dt.add(delta_bias.to_type(type).unsqueeze(-1), One);
        if (delta_softplus) dt = nn.functional.softplus(dt);

        // (batch, dim, L, N) tensors: the memory the fused kernel avoids.
        var decay = exp(dt.unsqueeze(-1) * A.to_type(type).unsqueeze(1));
        var drive = (dt * x).unsqueeze(-1) * PerStep(B, shape, type);
        var readout = PerStep(C, shape, type);

        var h = zeros(new[] { shape.Batch, shape.Dim, shape.N }, type);
        var ys = new Tensor[shape.L];
        for (long i = 0; i < shape.L; i++) {
            long t = reverse ? shape.L - 1 - i : i;
            h = (decay.select(2, t) * h).add(drive.select(2, t), One);
            ys[t] = (h * AtStep(readout, t)).sum(-1);
        }
        var y = stack(ys, 2);
        if (D is not null) y = y.add(x * D.to_type(type).unsqueeze(-1), One);
        if (z is not null) y = y * nn.functional.silu(z.to_type(type));
        return (y.to_type(u.dtype).MoveToOuterDisposeScope(), h.MoveToOuterDisposeScope());
    }

    // Tensor + tensor through an explicit, rooted alpha: TorchSharp 0.107's operator + passes a
    // temporary Scalar whose finalizer can run during the native call under GC pressure.
    private static readonly Scalar One = 1;

    // Step t of a PerStep tensor; time-invariant ones have a single step.
    private static Tensor AtStep(Tensor m, long t) => m.select(2, m.shape[2] == 1 ? 0 : t);

    // B or C broadcastable to (batch, dim, L, N): (dim, N) -> (1, dim, 1, N); (batch, groups, N, L) ->
    // each group repeated for its dim / groups channels, then moved to (batch, dim, L, N).
    private static Tensor PerStep(Tensor m, SelectiveScanShape shape, ScalarType type)
    {
        m = m.to_type(type);
        if (m.dim() == 2) return m.unsqueeze(1).unsqueeze(0);
        return m.repeat_interleave(shape.Dim / m.shape[1], 1).permute(0, 1, 3, 2);
    }
}
