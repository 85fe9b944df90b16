using SsmBridge.Internal;
using SsmBridge.Interop;
using TorchSharp;
using static TorchSharp.torch;

namespace SsmBridge.Autograd;

/// <summary>
/// The S4D convolution kernel as a TorchSharp autograd function: forward ssmb_s4d_kernel_fwd, backward
/// ssmb_s4d_kernel_bwd (all five gradients in one pass over dK). Arguments: log_dt, A_real, A_imag,
/// C_real, C_imag (validated by <see cref="S4DKernelShape"/>), L. Output: K (H, L) in the inputs' dtype.
/// The forward saves only the (small) inputs; nothing of size H N L exists in either direction.
/// This object is a shared singleton: everything per call lives in the context.
/// </summary>
internal sealed class S4DKernelFunction : autograd.SingleTensorFunction<S4DKernelFunction>
{
    public override string Name => "SsmBridgeS4DKernel";

    private const int TensorArgs = 5;

    private sealed record Call(S4DKernelShape Shape, ScalarType ComputeType, ScalarType InputType);

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        GradientHandoff.ReleaseReturned();
        var inputs = vars.Take(TensorArgs).Cast<Tensor>().ToArray();
        var s = new S4DKernelShape(inputs[1].shape[0], inputs[1].shape[1], (long)vars[TensorArgs]);
        var call = new Call(s, ComputeType(inputs[0].dtype), inputs[0].dtype);
        // No dispose scope: the saved tensors are committed to the graph after forward returns.
        var x = inputs.Select(t => t.to_type(call.ComputeType).contiguous()).ToArray();
        var K = empty(new[] { s.H, s.L }, call.ComputeType, inputs[0].device);
        if (inputs[0].device_type == DeviceType.CUDA) {
            // CUDA (issue 8): ssmb_s4d_kernel_fwd_cuda on the legacy default stream.
            Native.S4DKernelForwardCuda(TensorData.ToNative(call.ComputeType), s.H, s.N, s.L,
                                        P(x[0]), P(x[1]), P(x[2]), P(x[3]), P(x[4]), P(K), IntPtr.Zero);
        } else {
            NativeThreads.Sync();
            Native.S4DKernelForward(TensorData.ToNative(call.ComputeType), s.H, s.N, s.L,
                                    P(x[0]), P(x[1]), P(x[2]), P(x[3]), P(x[4]), P(K));
        }
        ctx.save_for_backward(x.ToList());
        ctx.save_data(nameof(Call), call);
        ctx.set_materialize_grads(false);
        return K.to_type(call.InputType);
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output)
    {
        // Backward may run on the autograd engine's thread, outside the caller's dispose scope.
        GradientHandoff.ReleaseReturned();
        using var scope = NewDisposeScope();
        var call = (Call)ctx.get_data(nameof(Call));
        var s = call.Shape;
        var result = new List<Tensor>(new Tensor[TensorArgs + 1]);
        if (grad_output is null || grad_output.IsInvalid) return result;
        var x = ctx.get_saved_variables();
        var dK = grad_output.to_type(call.ComputeType).contiguous();
        var grads = x.Select(t => empty_like(t)).ToArray();
        if (dK.device_type == DeviceType.CUDA) {
            Native.S4DKernelBackwardCuda(TensorData.ToNative(call.ComputeType), s.H, s.N, s.L,
                                         P(x[0]), P(x[1]), P(x[2]), P(x[3]), P(x[4]), P(dK),
                                         P(grads[0]), P(grads[1]), P(grads[2]), P(grads[3]), P(grads[4]), IntPtr.Zero);
        } else {
            NativeThreads.Sync();
            Native.S4DKernelBackward(TensorData.ToNative(call.ComputeType), s.H, s.N, s.L,
                                     P(x[0]), P(x[1]), P(x[2]), P(x[3]), P(x[4]), P(dK),
                                     P(grads[0]), P(grads[1]), P(grads[2]), P(grads[3]), P(grads[4]));
        }
        for (int i = 0; i < TensorArgs; i++) result[i] = GradientHandoff.Return(grads[i].to_type(call.InputType));
        GradientHandoff.DisposeGradOutputs(new[] { grad_output }, result);
        return result;
    }

    private static ScalarType ComputeType(ScalarType t) => t == ScalarType.Float64 ? ScalarType.Float64 : ScalarType.Float32;

    private static IntPtr P(Tensor t) => TensorData.Pointer(t);
}
