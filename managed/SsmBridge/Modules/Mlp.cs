using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SsmBridge.Modules;

/// <summary>
/// VMamba's (and Swin's) MLP: fc1, GELU, dropout, fc2, dropout. Channel-last it maps the last
/// dimension with nn.Linear; channel-first it maps dimension 1 with <see cref="Linear2d"/>. Either way
/// the parameters are <c>fc1.weight</c> (hidden, in), <c>fc1.bias</c>, <c>fc2.weight</c> (out, hidden),
/// <c>fc2.bias</c>.
/// </summary>
public sealed class Mlp : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> fc1;
    private readonly GELU act;
    private readonly nn.Module<Tensor, Tensor> fc2;
    private readonly Dropout drop;

    /// <summary>fc1 to hiddenFeatures, fc2 to outFeatures (inFeatures when -1), dropout drop; channelFirst maps dimension 1.</summary>
    public Mlp(long inFeatures, long hiddenFeatures, long outFeatures = -1, double drop = 0, bool channelFirst = false)
        : base(nameof(Mlp))
    {
        if (outFeatures < 0) outFeatures = inFeatures;
        fc1 = channelFirst ? new Linear2d(inFeatures, hiddenFeatures) : nn.Linear(inFeatures, hiddenFeatures);
        act = nn.GELU();
        fc2 = channelFirst ? new Linear2d(hiddenFeatures, outFeatures) : nn.Linear(hiddenFeatures, outFeatures);
        this.drop = nn.Dropout(drop);
        RegisterComponents();
    }

    /// <summary>x: (..., inFeatures) channel-last or (batch, inFeatures, H, W) channel-first -> the same with outFeatures.</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = drop.call(act.call(fc1.call(x)));
        return drop.call(fc2.call(h)).MoveToOuterDisposeScope();
    }
}
