using SsmBridge.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace SsmBridge.Autograd;

/// <summary>
/// The cross merge as a TorchSharp autograd function: forward is ssmb_cross_merge, backward its
/// adjoint ssmb_cross_scan. Arguments: ys (batch, 4, channels, height, width), the validated
/// <see cref="ImageShape"/> (whose layout is the output's). Output: (batch, channels, height * width)
/// channel-first or (batch, height * width, channels) channel-last, contiguous, in the dtype of ys.
/// This object is a shared singleton: everything per call lives in the context.
/// </summary>
internal sealed class CrossMergeFunction : autograd.SingleTensorFunction<CrossMergeFunction>
{
    public override string Name => "SsmBridgeCrossMerge";

    private sealed record Call(ImageShape Shape, ScalarType InputType);

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        GradientHandoff.ReleaseReturned();
        var ys = (Tensor)vars[0];
        var s = (ImageShape)vars[1];
        ctx.save_data(nameof(Call), new Call(s, ys.dtype));
        ctx.set_materialize_grads(false);
        var image = ImageKernels.CrossMerge(ys, s, s.ChannelFirst, ys.dtype);
        return s.ChannelFirst ? image.view(s.Batch, s.Channels, s.Pixels) : image.view(s.Batch, s.Pixels, s.Channels);
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output)
    {
        GradientHandoff.ReleaseReturned();
        using var scope = NewDisposeScope();
        var call = (Call)ctx.get_data(nameof(Call));
        var s = call.Shape;
        Tensor? dys = null;
        if (grad_output is not null && !grad_output.IsInvalid) {
            // The merged gradient as an image in the output's layout (a view, whatever its strides).
            var image = s.ChannelFirst ? grad_output.unflatten(2, new[] { s.Height, s.Width })
                                       : grad_output.unflatten(1, new[] { s.Height, s.Width });
            var sequences = ImageKernels.CrossScan(ImageKernels.Store(image, s.ChannelFirst), s, call.InputType);
            dys = GradientHandoff.Return(sequences.view(s.Batch, 4, s.Channels, s.Height, s.Width));
        }
        var result = new List<Tensor> { dys!, null! };
        GradientHandoff.DisposeGradOutputs(new[] { grad_output }, result);
        return result;
    }
}
