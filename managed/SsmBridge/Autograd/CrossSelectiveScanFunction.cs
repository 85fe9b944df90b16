using SsmBridge.Internal;
using SsmBridge.Interop;
using TorchSharp;
using static TorchSharp.torch;

namespace SsmBridge.Autograd;

/// <summary>
/// The fused cross selective scan as a TorchSharp autograd function: forward and backward run the native
/// kernels (ssmb_cross_selective_scan_fwd / _bwd). The forward saves the inputs (no copies when they are
/// contiguous in the compute dtype) and the per-chunk states of the four directions; the backward
/// recomputes inside each chunk. Arguments, in order: u, delta, A, B, C, D, delta_bias (tensors, the last
/// two may be null), delta_softplus (bool), the validated <see cref="CrossSelectiveScanShape"/>. Output:
/// the merged sequences in the dtype of u, (batch, dim, L) or (batch, L, dim) as the shape says.
/// This object is a shared singleton: everything per call lives in the context.
/// </summary>
internal sealed class CrossSelectiveScanFunction : autograd.SingleTensorFunction<CrossSelectiveScanFunction>
{
    public override string Name => "SsmBridgeCrossSelectiveScan";

    private const int TensorArgs = 7;

    private sealed record Call(CrossSelectiveScanShape Shape, ScalarType ComputeType, bool DeltaSoftplus,
                               ScalarType?[] InputTypes);

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        GradientHandoff.ReleaseReturned();
        var inputs = vars.Take(TensorArgs).Select(v => v as Tensor).ToArray();
        var call = new Call((CrossSelectiveScanShape)vars[8], ComputeType(inputs[0]!), (bool)vars[7],
                            inputs.Select(t => t?.dtype).ToArray());
        var s = call.Shape;

        // No dispose scope here: the saved tensors are committed to the graph only after forward
        // returns, so the temporaries live in the caller's scope (ops.cross_selective_scan).
        var x = inputs.Select(t => t is null ? null : t.to_type(call.ComputeType).contiguous()).ToArray();
        var device = inputs[0]!.device;
        var out_ = empty(new[] { s.Batch, s.Dim, s.L }, call.ComputeType, device);
        var chunkStates = empty(new[] { s.Batch, CrossSelectiveScanShape.K * s.Dim, NumChunks(s.L), s.N }, call.ComputeType, device);

        var dt = TensorData.ToNative(call.ComputeType);
        if (device.type == DeviceType.CUDA) {
            // CUDA (issue 8): float32 throughout, legacy default stream.
            Native.CrossSelectiveScanForwardCuda(dt, dt, s.Batch, s.Dim, s.Height, s.Width, s.N,
                P(x[0]), P(x[1]), P(x[2]), P(x[3]), P(x[4]), P(x[5]), P(x[6]), Flag(call.DeltaSoftplus),
                P(out_), P(chunkStates), IntPtr.Zero);
        } else {
            NativeThreads.Sync();
            Native.CrossSelectiveScanForward(dt, dt, s.Batch, s.Dim, s.Height, s.Width, s.N,
                P(x[0]), P(x[1]), P(x[2]), P(x[3]), P(x[4]), P(x[5]), P(x[6]), Flag(call.DeltaSoftplus),
                P(out_), P(chunkStates));
        }

        ctx.save_for_backward(x.Append(chunkStates).ToList()!);
        ctx.save_data(nameof(Call), call);
        // An undefined output gradient stays undefined (see SelectiveScanFunction).
        ctx.set_materialize_grads(false);
        var merged = s.ChannelFirst ? out_ : out_.transpose(1, 2).contiguous();
        return merged.to_type(inputs[0]!.dtype);
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output)
    {
        // Backward may run on the autograd engine's thread, outside the caller's dispose scope.
        GradientHandoff.ReleaseReturned();
        using var scope = NewDisposeScope();
        var call = (Call)ctx.get_data(nameof(Call));
        var result = new List<Tensor>(new Tensor[TensorArgs + 2]);
        if (grad_output is null || grad_output.IsInvalid) return result;
        var s = call.Shape;
        var saved = ctx.get_saved_variables();
        var x = saved.Take(TensorArgs).ToArray();
        var chunkStates = saved[TensorArgs];
        var dout = grad_output.to_type(call.ComputeType);
        dout = (s.ChannelFirst ? dout : dout.transpose(1, 2)).contiguous();

        var grads = x.Select(t => t is null ? null : empty_like(t)).ToArray();
        var dt = TensorData.ToNative(call.ComputeType);
        var cuda = chunkStates.device_type == DeviceType.CUDA;
        long workspaceBytes;
        if (cuda)
            Native.CrossSelectiveScanBackwardWorkspaceSizeCuda(dt, dt, s.Batch, s.Dim, s.Height, s.Width, s.N, out workspaceBytes);
        else
            Native.CrossSelectiveScanBackwardWorkspaceSize(dt, dt, s.Batch, s.Dim, s.Height, s.Width, s.N, out workspaceBytes);
        var elementSize = call.ComputeType == ScalarType.Float64 ? sizeof(double) : sizeof(float);
        var workspace = empty(Math.Max(1, (workspaceBytes + elementSize - 1) / elementSize), call.ComputeType,
                              chunkStates.device);

        if (cuda) {
            Native.CrossSelectiveScanBackwardCuda(dt, dt, s.Batch, s.Dim, s.Height, s.Width, s.N,
                P(x[0]), P(x[1]), P(x[2]), P(x[3]), P(x[4]), P(x[5]), P(x[6]), Flag(call.DeltaSoftplus),
                P(chunkStates), P(dout),
                P(grads[0]), P(grads[1]), P(grads[2]), P(grads[3]), P(grads[4]), P(grads[5]), P(grads[6]),
                P(workspace), workspace.numel() * elementSize, IntPtr.Zero);
        } else {
            NativeThreads.Sync();
            Native.CrossSelectiveScanBackward(dt, dt, s.Batch, s.Dim, s.Height, s.Width, s.N,
                P(x[0]), P(x[1]), P(x[2]), P(x[3]), P(x[4]), P(x[5]), P(x[6]), Flag(call.DeltaSoftplus),
                P(chunkStates), P(dout),
                P(grads[0]), P(grads[1]), P(grads[2]), P(grads[3]), P(grads[4]), P(grads[5]), P(grads[6]),
                P(workspace), workspace.numel() * elementSize);
        }

        // One entry per forward argument: gradients in each input's dtype, null for the non-tensors.
        for (int i = 0; i < TensorArgs; i++)
            result[i] = grads[i] is null ? null! : GradientHandoff.Return(grads[i]!.to_type(call.InputTypes[i]!.Value));
        GradientHandoff.DisposeGradOutputs(new[] { grad_output }, result);
        return result;
    }

    private static long NumChunks(long L)
    {
        var chunk = Native.SelectiveScanChunkSize();
        return (L + chunk - 1) / chunk;
    }

    // CPU kernels compute in float64 for float64 inputs and in float32 for everything else.
    private static ScalarType ComputeType(Tensor u) =>
        u.dtype == ScalarType.Float64 ? ScalarType.Float64 : ScalarType.Float32;

    private static IntPtr P(Tensor? t) => TensorData.PointerOrNull(t);
    private static int Flag(bool value) => value ? 1 : 0;
}
