using SsmBridge.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace SsmBridge.Autograd;

/// <summary>
/// Swin's 2x2 patch merging as a TorchSharp autograd function: forward ssmb_patch_merge_fwd, backward
/// ssmb_patch_merge_bwd (a gather, no scatter-add). Arguments: x (4-D image), the validated
/// <see cref="ImageShape"/>. Output: the merged image in the layout of x, stored in the memory layout
/// x had, in the dtype of x. This object is a shared singleton: everything per call lives in the context.
/// </summary>
internal sealed class PatchMergeFunction : autograd.SingleTensorFunction<PatchMergeFunction>
{
    public override string Name => "SsmBridgePatchMerge";

    private sealed record Call(ImageShape Shape, ScalarType InputType);

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        GradientHandoff.ReleaseReturned();
        var x = (Tensor)vars[0];
        var s = (ImageShape)vars[1];
        ctx.save_data(nameof(Call), new Call(s, x.dtype));
        ctx.set_materialize_grads(false);
        return ImageKernels.PatchMerge(ImageKernels.Store(x, s.ChannelFirst), s, x.dtype);
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output)
    {
        GradientHandoff.ReleaseReturned();
        using var scope = NewDisposeScope();
        var call = (Call)ctx.get_data(nameof(Call));
        Tensor? dx = null;
        if (grad_output is not null && !grad_output.IsInvalid) {
            var dout = ImageKernels.Store(grad_output, call.Shape.ChannelFirst);
            dx = GradientHandoff.Return(ImageKernels.PatchMergeBackward(dout, call.Shape, call.InputType));
        }
        var result = new List<Tensor> { dx!, null! };
        GradientHandoff.DisposeGradOutputs(new[] { grad_output }, result);
        return result;
    }
}
