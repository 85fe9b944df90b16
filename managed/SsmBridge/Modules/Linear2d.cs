using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SsmBridge.Modules;

/// <summary>
/// A Linear layer applied to the channels of a channel-first image, (batch, in, height, width) to
/// (batch, out, height, width), as a 1x1 convolution: VMamba's Linear2d, which channel-first models
/// use for in_proj, out_proj and the MLP. Its parameters have nn.Linear's names, shapes and default
/// initialisation (<c>weight</c> (out, in), <c>bias</c> (out)), so checkpoints do not depend on the layout.
/// </summary>
public sealed class Linear2d : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly Parameter? bias;

    /// <summary>A channel map from inFeatures to outFeatures, with a bias when hasBias.</summary>
    public Linear2d(long inFeatures, long outFeatures, bool hasBias = true) : base(nameof(Linear2d))
    {
        if (inFeatures < 1) throw new ArgumentOutOfRangeException(nameof(inFeatures), inFeatures, "inFeatures: expected >= 1");
        if (outFeatures < 1) throw new ArgumentOutOfRangeException(nameof(outFeatures), outFeatures, "outFeatures: expected >= 1");
        // nn.Linear's default: Kaiming-uniform with a = sqrt(5), i.e. U(-1/sqrt(in), 1/sqrt(in)), bias alike.
        var bound = 1 / Math.Sqrt(inFeatures);
        weight = new Parameter(empty(outFeatures, inFeatures).uniform_(-bound, bound));
        bias = hasBias ? new Parameter(empty(outFeatures).uniform_(-bound, bound)) : null;
        RegisterComponents();
    }

    internal Parameter Weight => weight;
    internal Parameter? Bias => bias;

    /// <summary>x: (batch, inFeatures, height, width) -> (batch, outFeatures, height, width).</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return nn.functional.conv2d(x, weight.unsqueeze(-1).unsqueeze(-1), bias).MoveToOuterDisposeScope();
    }
}
