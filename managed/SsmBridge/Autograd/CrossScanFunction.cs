using SsmBridge.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace SsmBridge.Autograd;

/// <summary>
/// The cross scan as a TorchSharp autograd function: forward is ssmb_cross_scan, backward its
/// adjoint ssmb_cross_merge, so neither direction materializes an index tensor or a flipped copy.
/// Arguments: x (4-D image), the validated <see cref="ImageShape"/>. Output: (batch, 4, channels,
/// height * width) in the dtype of x; x's gradient comes back stored in the memory layout x had.
/// This object is a shared singleton: everything per call lives in the context.
/// </summary>
internal sealed class CrossScanFunction : autograd.SingleTensorFunction<CrossScanFunction>
{
    public override string Name => "SsmBridgeCrossScan";

    // What the backward needs: the sizes, the layout x was stored in, x's dtype.
    private sealed record Call(ImageShape Shape, bool StoredChannelFirst, ScalarType InputType);

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        GradientHandoff.ReleaseReturned();
        var x = (Tensor)vars[0];
        var shape = (ImageShape)vars[1];
        // No dispose scope here: temporaries live in the caller's scope (ops.cross_scan).
        var stored = ImageKernels.Store(x, shape.ChannelFirst);
        ctx.save_data(nameof(Call), new Call(shape, stored.ChannelFirst, x.dtype));
        // An undefined output gradient stays undefined (see SelectiveScanFunction).
        ctx.set_materialize_grads(false);
        return ImageKernels.CrossScan(stored, shape, x.dtype);
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output)
    {
        // Backward may run on the autograd engine's thread, outside the caller's dispose scope.
        GradientHandoff.ReleaseReturned();
        using var scope = NewDisposeScope();
        var call = (Call)ctx.get_data(nameof(Call));
        Tensor? dx = null;
        if (grad_output is not null && !grad_output.IsInvalid)
            dx = GradientHandoff.Return(ImageKernels.CrossMerge(grad_output, call.Shape, call.StoredChannelFirst, call.InputType));
        var result = new List<Tensor> { dx!, null! };
        GradientHandoff.DisposeGradOutputs(new[] { grad_output }, result);
        return result;
    }
}
