using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SsmBridge.Modules;

/// <summary>Models built from <see cref="S4ND"/> layers: the resolution rate reaches every layer.</summary>
public interface IS4NDModel
{
    /// <summary>
    /// Sets the rate of every S4ND layer: 1 at the training resolution, training size / test size for a
    /// zero-shot change (e.g. 0.25 for a model trained at 8x8 and run at 32x32).
    /// </summary>
    void set_rate(double rate);
}

internal static class S4NDLayers
{
    public static void SetRate(nn.Module model, double rate)
    {
        if (!(rate > 0)) throw new ArgumentException($"rate: expected > 0, got {rate}", nameof(rate));
        foreach (var (_, m) in model.named_modules())
            if (m is S4ND s) s.Rate = rate;
    }
}

/// <summary>
/// One pre-norm residual S4ND layer of an isotropic S4 backbone (upstream SequenceResidualBlock with
/// prenorm): x + dropout(S4ND(norm(x))) on channel-last maps (batch, L..., d_model). Names: <c>norm</c>, <c>layer</c>.
/// </summary>
public sealed class S4NDResidualBlock : nn.Module<Tensor, Tensor>
{
    private readonly ChannelLastLayerNorm norm;
    private readonly S4ND layer;
    private readonly nn.Module<Tensor, Tensor> drop;

    /// <summary>A block of d_model features with the given S4ND options and residual dropout.</summary>
    public S4NDResidualBlock(long d_model, S4NDConfig config, double dropout) : base(nameof(S4NDResidualBlock))
    {
        norm = new ChannelLastLayerNorm(d_model);
        layer = new S4ND(d_model, config with { Transposed = false });
        drop = config.TieDropout ? new TiedDropout(dropout, featureFirst: false) : nn.Dropout(dropout);
        RegisterComponents();
    }

    /// <summary>x: (batch, L..., d_model) -> the same shape.</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return (x + drop.call(layer.call(norm.call(x)))).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// The isotropic 2-D S4ND classifier of the S4ND paper's CIFAR-10 experiments: an <c>encoder</c> (a
/// patch_size x patch_size convolution; 1 = the per-pixel linear encoder), <c>layers.i</c> pre-norm residual
/// S4ND blocks over the 2-D grid, a final <c>norm</c>, mean pooling over pixels and a linear <c>decoder</c>.
/// </summary>
public sealed class S4NDIsotropic : nn.Module<Tensor, Tensor>, IS4NDModel
{
    private readonly Conv2d encoder;
    private readonly ModuleList<S4NDResidualBlock> layers;
    private readonly ChannelLastLayerNorm norm;
    private readonly Linear decoder;

    /// <summary>Builds the classifier; <c>models.s4nd_cifar</c> passes the paper's configuration.</summary>
    public S4NDIsotropic(long num_classes, long in_chans, long img_size, long patch_size, long d_model, int n_layers,
                         S4NDConfig layer, double dropout) : base(nameof(S4NDIsotropic))
    {
        if (patch_size < 1 || img_size < patch_size)
            throw new ArgumentException($"patch_size: expected 1..img_size ({img_size}), got {patch_size}", nameof(patch_size));
        long grid = img_size / patch_size;
        encoder = nn.Conv2d(in_chans, d_model, patch_size, stride: patch_size);
        var config = layer with { Dim = 2, LMax = new long?[] { grid, grid } };
        layers = new ModuleList<S4NDResidualBlock>(Enumerable.Range(0, n_layers).Select(_ => new S4NDResidualBlock(d_model, config, dropout)).ToArray());
        norm = new ChannelLastLayerNorm(d_model);
        decoder = nn.Linear(d_model, num_classes);
        RegisterComponents();
    }

    /// <inheritdoc/>
    public void set_rate(double rate) => S4NDLayers.SetRate(this, rate);

    /// <summary>x: (batch, in_chans, height, width) -> logits (batch, num_classes).</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = encoder.call(x).permute(0, 2, 3, 1);  // (batch, h, w, d_model)
        foreach (var block in layers) h = block.call(h);
        var pooled = norm.call(h).mean(new long[] { 1, 2 });
        return decoder.call(pooled).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// ViT block with S4ND in attention's place (timm names): x + drop_path(attn(norm1(x))), then
/// x + drop_path(mlp(norm2(x))), on tokens (batch, L, d).
/// </summary>
public sealed class S4NDViTBlock : nn.Module<Tensor, Tensor>
{
    private readonly ChannelLastLayerNorm norm1;
    private readonly S4ND attn;
    private readonly DropPath drop_path;
    private readonly ChannelLastLayerNorm norm2;
    private readonly Mlp mlp;

    /// <summary>A block of dim features with MLP width mlp_ratio * dim and stochastic depth drop_path.</summary>
    public S4NDViTBlock(long dim, double mlp_ratio, S4NDConfig config, double drop_path) : base(nameof(S4NDViTBlock))
    {
        norm1 = new ChannelLastLayerNorm(dim, 1e-6);
        attn = new S4ND(dim, config with { Transposed = false });
        this.drop_path = new DropPath(drop_path);
        norm2 = new ChannelLastLayerNorm(dim, 1e-6);
        mlp = new Mlp(dim, (long)(dim * mlp_ratio));
        RegisterComponents();
    }

    /// <summary>x: tokens (batch, L, dim) -> the same shape.</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = x + drop_path.call(attn.call(norm1.call(x)));
        return (h + drop_path.call(mlp.call(norm2.call(h)))).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// S4ND-ViT (the S4ND paper's isotropic ViT): a patch_size x patch_size <c>patch_embed.proj</c>, no class token
/// and no position embedding (the SSM sees positions), <c>blocks.i</c> with a 1-D S4ND over the row-major
/// patch sequence (l_max = number of patches), final <c>norm</c>, mean pooling over tokens, <c>head</c>.
/// </summary>
public sealed class S4NDVisionTransformer : nn.Module<Tensor, Tensor>, IS4NDModel
{
    private readonly PatchEmbed patch_embed;
    private readonly ModuleList<S4NDViTBlock> blocks;
    private readonly ChannelLastLayerNorm norm;
    private readonly Dropout head_drop;
    private readonly Linear head;

    /// <summary>Builds the model; <c>models.s4nd_vit_b_16</c> passes the paper's configuration.</summary>
    public S4NDVisionTransformer(long num_classes, long in_chans, long img_size, long patch_size, long embed_dim, int depth,
                                 double mlp_ratio, S4NDConfig layer, double drop_rate, double drop_path_rate)
        : base(nameof(S4NDVisionTransformer))
    {
        if (patch_size < 1 || img_size < patch_size)
            throw new ArgumentException($"patch_size: expected 1..img_size ({img_size}), got {patch_size}", nameof(patch_size));
        long tokens = (img_size / patch_size) * (img_size / patch_size);
        patch_embed = new PatchEmbed(in_chans, embed_dim, patch_size, patch_size);
        var config = layer with { Dim = 1, LMax = new long?[] { tokens } };
        blocks = new ModuleList<S4NDViTBlock>(Enumerable.Range(0, depth)
            .Select(i => new S4NDViTBlock(embed_dim, mlp_ratio, config, depth > 1 ? drop_path_rate * i / (depth - 1) : 0)).ToArray());
        norm = new ChannelLastLayerNorm(embed_dim, 1e-6);
        head_drop = nn.Dropout(drop_rate);
        head = nn.Linear(embed_dim, num_classes);
        RegisterComponents();
    }

    /// <inheritdoc/>
    public void set_rate(double rate) => S4NDLayers.SetRate(this, rate);

    /// <summary>x: (batch, in_chans, height, width) -> logits (batch, num_classes).</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = patch_embed.call(x);  // (batch, tokens, embed_dim)
        foreach (var block in blocks) h = block.call(h);
        var pooled = norm.call(h).mean(new long[] { 1 });
        return head.call(head_drop.call(pooled)).MoveToOuterDisposeScope();
    }
}
