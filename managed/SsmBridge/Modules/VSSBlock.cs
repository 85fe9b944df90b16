using static TorchSharp.torch;

namespace SsmBridge.Modules;

/// <summary>
/// VMamba's block: x + drop_path(op(norm(x))) with the <see cref="SS2D"/> mixer <c>op</c>, then, when
/// mlp_ratio > 0, x + drop_path(mlp(norm2(x))). With <c>postNorm</c> the norms follow the branches
/// instead (x + drop_path(norm(op(x)))). Channel-last blocks map (batch, H, W, dim) with LayerNorm;
/// channel-first blocks map (batch, dim, H, W) with <see cref="LayerNorm2d"/>. No SS2D branch is built
/// when the SS2D ratio is 0, and no MLP branch when mlp_ratio is 0 (the first VMamba).
/// </summary>
public sealed class VSSBlock : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor>? norm;
    private readonly SS2D? op;
    private readonly DropPath drop_path;
    private readonly nn.Module<Tensor, Tensor>? norm2;
    private readonly Mlp? mlp;
    private readonly bool _postNorm;

    /// <param name="hiddenDim">Channels of the input and output.</param>
    /// <param name="dropPath">Stochastic-depth probability of both branches.</param>
    /// <param name="channelFirst">(batch, dim, H, W) instead of (batch, H, W, dim).</param>
    /// <param name="ssm">Options of the SS2D mixer.</param>
    /// <param name="mlpRatio">MLP hidden size / dim; 0 builds no MLP.</param>
    /// <param name="mlpDropRate">Dropout inside the MLP.</param>
    /// <param name="postNorm">Normalize after each branch instead of before.</param>
    public VSSBlock(long hiddenDim, double dropPath = 0, bool channelFirst = false, SS2DConfig? ssm = null,
                    double mlpRatio = 4.0, double mlpDropRate = 0, bool postNorm = false) : base(nameof(VSSBlock))
    {
        ssm ??= new SS2DConfig();
        _postNorm = postNorm;
        if (ssm.SsmRatio > 0) {
            norm = Norm(hiddenDim, channelFirst);
            op = new SS2D(hiddenDim, ssm, channelFirst);
        }
        drop_path = new DropPath(dropPath);
        if (mlpRatio > 0) {
            norm2 = Norm(hiddenDim, channelFirst);
            mlp = new Mlp(hiddenDim, (long)(hiddenDim * mlpRatio), drop: mlpDropRate, channelFirst: channelFirst);
        }
        RegisterComponents();
    }

    internal static nn.Module<Tensor, Tensor> Norm(long dim, bool channelFirst) =>
        channelFirst ? new LayerNorm2d(dim) : new ChannelLastLayerNorm(dim);

    /// <summary>x: (batch, H, W, dim), or (batch, dim, H, W) when channel-first -> the same shape.</summary>
    public override Tensor forward(Tensor x)
    {
        if (op is null && mlp is null) return x.alias();
        using var scope = NewDisposeScope();
        if (op is not null) x = x + drop_path.call(Branch(norm!, op, x));
        if (mlp is not null) x = x + drop_path.call(Branch(norm2!, mlp, x));
        return x.MoveToOuterDisposeScope();
    }

    private Tensor Branch(nn.Module<Tensor, Tensor> normalization, nn.Module<Tensor, Tensor> branch, Tensor x) =>
        _postNorm ? normalization.call(branch.call(x)) : branch.call(normalization.call(x));
}
