using SsmBridge.Internal;
using SsmBridge.Interop;
using TorchSharp;
using static TorchSharp.torch;

namespace SsmBridge.Autograd;

/// <summary>
/// The fused selective scan as a TorchSharp autograd function: forward and backward run the native
/// kernels (ssmb_selective_scan_fwd / _bwd). The forward saves the inputs and the per-chunk states; the
/// backward recomputes inside each chunk. Arguments, in order: u, delta, A, B, C, D, z, delta_bias
/// (tensors, the last three may be null), delta_softplus, reverse (bool), the validated
/// <see cref="SelectiveScanShape"/>. Outputs: out (dtype of u) and last_state (state dtype).
/// CUDA tensors run the CUDA kernels (ssmb_selective_scan_fwd_cuda / _bwd_cuda) on the legacy default
/// stream (TorchSharp has no stream API): sequences in u's dtype (float32, float16 or bfloat16), weights,
/// states and time-invariant B / C in float32.
/// This object is a shared singleton: everything per call lives in the context.
/// </summary>
internal sealed class SelectiveScanFunction : autograd.MultiTensorFunction<SelectiveScanFunction>
{
    public override string Name => "SsmBridgeSelectiveScan";

    private const int TensorArgs = 8;

    // Per-call facts the backward needs besides the saved tensors.
    private sealed record Call(SelectiveScanShape Shape, ScalarType ComputeType, bool DeltaSoftplus, bool Reverse,
                               ScalarType?[] InputTypes, bool Cuda)
    {
        // Weights, states and weight gradients: float32 on CUDA, the compute dtype on the CPU.
        public ScalarType StateType => Cuda ? ScalarType.Float32 : ComputeType;

        // The dtype input i (u, delta, A, B, C, D, z, delta_bias) crosses the ABI in.
        public ScalarType NativeType(int i) =>
            !Cuda || i is 0 or 1 or 6 || (i == 3 && Shape.BSelective) || (i == 4 && Shape.CSelective)
                ? ComputeType : ScalarType.Float32;
    }

    public override List<Tensor> forward(autograd.AutogradContext ctx, params object[] vars)
    {
        GradientHandoff.ReleaseReturned();
        var inputs = vars.Take(TensorArgs).Select(v => v as Tensor).ToArray();
        var u = inputs[0]!;
        var cuda = u.device_type == DeviceType.CUDA;
        var call = new Call((SelectiveScanShape)vars[10], cuda ? u.dtype : ComputeType(u), (bool)vars[8], (bool)vars[9],
                            inputs.Select(t => t?.dtype).ToArray(), cuda);
        var s = call.Shape;
        var device = u.device;

        // No dispose scope here: the saved tensors are committed to the graph only after forward
        // returns, so the temporaries live in the caller's scope (ops.selective_scan_with_state).
        var x = inputs.Select((t, i) => t is null ? null : t.to_type(call.NativeType(i)).contiguous()).ToArray();
        var out_ = empty(new[] { s.Batch, s.Dim, s.L }, call.ComputeType, device);
        var chunkStates = empty(new[] { s.Batch, s.Dim, NumChunks(s.L), s.N }, call.StateType, device);
        var lastState = empty(new[] { s.Batch, s.Dim, s.N }, call.StateType, device);

        var dt = TensorData.ToNative(call.ComputeType);
        var wt = TensorData.ToNative(call.StateType);
        if (cuda) {
            Native.SelectiveScanForwardCuda(dt, wt, s.Batch, s.Dim, s.L, s.N, s.Groups, Flag(s.BSelective),
                Flag(s.CSelective), P(x[0]), P(x[1]), P(x[2]), P(x[3]), P(x[4]), P(x[5]), P(x[6]), P(x[7]),
                Flag(call.DeltaSoftplus), Flag(call.Reverse), P(out_), P(chunkStates), P(lastState), IntPtr.Zero);
        } else {
            NativeThreads.Sync();
            Native.SelectiveScanForward(dt, wt, s.Batch, s.Dim, s.L, s.N, s.Groups, Flag(s.BSelective),
                Flag(s.CSelective), P(x[0]), P(x[1]), P(x[2]), P(x[3]), P(x[4]), P(x[5]), P(x[6]), P(x[7]),
                Flag(call.DeltaSoftplus), Flag(call.Reverse), P(out_), P(chunkStates), P(lastState));
        }

        ctx.save_for_backward(x.Append(chunkStates).ToList()!);
        ctx.save_data(nameof(Call), call);
        // An output nobody differentiated arrives in backward as an undefined tensor. Left on, TorchSharp
        // would materialize it from a twin tensor that the caller's dispose scope may already have freed.
        ctx.set_materialize_grads(false);
        return new List<Tensor> { out_.to_type(inputs[0]!.dtype), lastState };
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, List<Tensor> grad_outputs)
    {
        // Backward may run on the autograd engine's thread, outside the caller's dispose scope.
        GradientHandoff.ReleaseReturned();
        using var scope = NewDisposeScope();
        var call = (Call)ctx.get_data(nameof(Call));
        var s = call.Shape;
        var saved = ctx.get_saved_variables();
        var x = saved.Take(TensorArgs).ToArray();
        var chunkStates = saved[TensorArgs];
        var device = chunkStates.device;
        var dout = Defined(grad_outputs[0])?.to_type(call.ComputeType).contiguous()
                   ?? zeros(new[] { s.Batch, s.Dim, s.L }, call.ComputeType, device);
        var dlastState = Defined(grad_outputs[1])?.to_type(call.StateType).contiguous();

        var grads = x.Select(t => t is null ? null : empty_like(t)).ToArray();
        var dt = TensorData.ToNative(call.ComputeType);
        var wt = TensorData.ToNative(call.StateType);
        long workspaceBytes;
        if (call.Cuda)
            Native.SelectiveScanBackwardWorkspaceSizeCuda(dt, wt, s.Batch, s.Dim, s.L, s.N, s.Groups,
                Flag(s.BSelective), Flag(s.CSelective), out workspaceBytes);
        else
            Native.SelectiveScanBackwardWorkspaceSize(dt, wt, s.Batch, s.Dim, s.L, s.N, s.Groups,
                Flag(s.BSelective), Flag(s.CSelective), out workspaceBytes);
        var elementSize = call.StateType == ScalarType.Float64 ? sizeof(double) : sizeof(float);
        var workspace = empty(Math.Max(1, (workspaceBytes + elementSize - 1) / elementSize), call.StateType, device);

        if (call.Cuda) {
            Native.SelectiveScanBackwardCuda(dt, wt, s.Batch, s.Dim, s.L, s.N, s.Groups, Flag(s.BSelective),
                Flag(s.CSelective), P(x[0]), P(x[1]), P(x[2]), P(x[3]), P(x[4]), P(x[5]), P(x[6]), P(x[7]),
                Flag(call.DeltaSoftplus), Flag(call.Reverse), P(chunkStates), P(dout), P(dlastState),
                P(grads[0]), P(grads[1]), P(grads[2]), P(grads[3]), P(grads[4]), P(grads[5]), P(grads[6]), P(grads[7]),
                P(workspace), workspace.numel() * elementSize, IntPtr.Zero);
        } else {
            NativeThreads.Sync();
            Native.SelectiveScanBackward(dt, wt, s.Batch, s.Dim, s.L, s.N, s.Groups, Flag(s.BSelective),
                Flag(s.CSelective), P(x[0]), P(x[1]), P(x[2]), P(x[3]), P(x[4]), P(x[5]), P(x[6]), P(x[7]),
                Flag(call.DeltaSoftplus), Flag(call.Reverse), P(chunkStates), P(dout), P(dlastState),
                P(grads[0]), P(grads[1]), P(grads[2]), P(grads[3]), P(grads[4]), P(grads[5]), P(grads[6]), P(grads[7]),
                P(workspace), workspace.numel() * elementSize);
        }

        // One entry per forward argument: gradients in each input's dtype, null for the non-tensors.
        var result = new List<Tensor>();
        for (int i = 0; i < TensorArgs; i++)
            result.Add(grads[i] is null ? null! : GradientHandoff.Return(grads[i]!.to_type(call.InputTypes[i]!.Value)));
        result.AddRange(new Tensor[] { null!, null!, null! });
        GradientHandoff.DisposeGradOutputs(grad_outputs, result);
        return result;
    }

    private static Tensor? Defined(Tensor? grad) => grad is null || grad.IsInvalid ? null : grad;

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
