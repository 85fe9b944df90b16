using SsmBridge.Internal;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SsmBridge.Modules;

/// <summary>Every architectural knob of <see cref="DeiT"/>, with DeiT-Ti's values.</summary>
public sealed record DeiTConfig
{
    /// <summary>Input height and width in pixels (square); sets the position embedding's length.</summary>
    public long ImgSize { get; init; } = 224;
    /// <summary>Side of the square patches the convolutional embedding cuts (its kernel and stride).</summary>
    public long PatchSize { get; init; } = 16;
    /// <summary>Channels of the input image.</summary>
    public long InChannels { get; init; } = 3;
    /// <summary>Token width: 192 for DeiT-Ti, 384 for DeiT-S.</summary>
    public long EmbedDim { get; init; } = 192;
    /// <summary>Number of transformer blocks.</summary>
    public int Depth { get; init; } = 12;
    /// <summary>Attention heads per block (EmbedDim must divide by it).</summary>
    public long NumHeads { get; init; } = 3;
    /// <summary>Hidden width of each block's MLP over EmbedDim.</summary>
    public double MlpRatio { get; init; } = 4.0;
    /// <summary>0 builds no head: forward returns the class token's features.</summary>
    public long NumClasses { get; init; } = 1000;
    /// <summary>Dropout after the position embedding, in the MLPs and after attention's projection.</summary>
    public double DropRate { get; init; }
    /// <summary>Dropout on the attention weights.</summary>
    public double AttnDropRate { get; init; }
    /// <summary>Stochastic depth of the last block; the rate grows linearly from 0 at the first.</summary>
    public double DropPathRate { get; init; } = 0.1;
    /// <summary>Epsilon of every LayerNorm.</summary>
    public double NormEpsilon { get; init; } = 1e-6;
    /// <summary>Attention through scaled_dot_product_attention (true) or explicitly with the tokens x tokens matrix (timm's fused_attn).</summary>
    public bool FusedAttention { get; init; } = true;
}

/// <summary>
/// DeiT (Touvron et al. 2021) as timm's VisionTransformer builds it, without the distillation token: a 16x16
/// convolutional patch embedding, a class token in front, a learned position embedding for the configured image
/// size (class token included), depth x pre-norm <see cref="DeiTBlock"/> with a linear drop-path schedule, a final
/// LayerNorm, the class token's features, head. State-dict keys equal timm's (<c>patch_embed.proj.weight</c>,
/// <c>blocks.0.attn.qkv.weight</c>, <c>norm.weight</c>, ...). Used here as the attention baseline of the
/// efficiency benchmarks. The input must have the configured size (as timm without dynamic_img_size).
/// </summary>
public sealed class DeiT : nn.Module<Tensor, Tensor>
{
    private readonly PatchEmbed patch_embed;
    private readonly Parameter cls_token;
    private readonly Parameter pos_embed;
    private readonly Dropout pos_drop;
    private readonly ModuleList<DeiTBlock> blocks;
    private readonly ChannelLastLayerNorm norm;
    private readonly Dropout head_drop;
    private readonly nn.Module<Tensor, Tensor> head;

    /// <summary>The configuration this model was built with.</summary>
    public DeiTConfig Config { get; }

    /// <summary>Builds the model; the default configuration is DeiT-Ti at 224x224 with 1000 classes.</summary>
    public DeiT(DeiTConfig? config = null) : base(nameof(DeiT))
    {
        var c = Config = config ?? new DeiTConfig();
        if (c.PatchSize <= 0 || c.ImgSize < c.PatchSize || c.ImgSize % c.PatchSize != 0)
            throw new ArgumentException($"img_size: expected a positive multiple of patch_size {c.PatchSize}, got {c.ImgSize}", "img_size");
        var side = c.ImgSize / c.PatchSize;

        patch_embed = new PatchEmbed(c.InChannels, c.EmbedDim, c.PatchSize, c.PatchSize);
        cls_token = new Parameter(zeros(1, 1, c.EmbedDim));
        pos_embed = new Parameter(zeros(1, side * side + 1, c.EmbedDim));
        pos_drop = nn.Dropout(c.DropRate);
        blocks = nn.ModuleList(Enumerable.Range(0, c.Depth)
            .Select(i => new DeiTBlock(c.EmbedDim, c.NumHeads, c.MlpRatio, c.DropRate, c.AttnDropRate,
                                       c.Depth > 1 ? c.DropPathRate * i / (c.Depth - 1) : 0, c.NormEpsilon, c.FusedAttention)).ToArray());
        norm = new ChannelLastLayerNorm(c.EmbedDim, c.NormEpsilon);
        head_drop = nn.Dropout(c.DropRate);
        head = c.NumClasses > 0 ? nn.Linear(c.EmbedDim, c.NumClasses) : nn.Identity();
        RegisterComponents();
        InitWeights();
    }

    /// <summary>The class token's features after the final norm: (batch, embed_dim).</summary>
    public Tensor forward_features(Tensor images)
    {
        CheckImages(images);
        using var scope = NewDisposeScope();
        var patches = patch_embed.forward(images);
        var x = cat(new[] { cls_token.expand(images.shape[0], -1, -1), patches }, 1) + pos_embed;
        x = pos_drop.forward(x);
        foreach (var block in blocks) x = block.forward(x);
        return norm.forward(x).select(1, 0).MoveToOuterDisposeScope();
    }

    /// <summary>images (batch, InChannels, ImgSize, ImgSize) to logits (batch, NumClasses), or to the class token's features when NumClasses is 0.</summary>
    public override Tensor forward(Tensor images)
    {
        using var scope = NewDisposeScope();
        return head.forward(head_drop.forward(forward_features(images))).MoveToOuterDisposeScope();
    }

    private void CheckImages(Tensor images)
    {
        var c = Config;
        if (images.dim() != 4 || images.shape[1] != c.InChannels || images.shape[2] != c.ImgSize || images.shape[3] != c.ImgSize)
            throw new ArgumentException(
                $"images: expected (batch, {c.InChannels}, {c.ImgSize}, {c.ImgSize}) (the position embedding is laid out for img_size {c.ImgSize}), " +
                $"got ({string.Join(", ", images.shape)})", nameof(images));
        // dtype and device against the model's parameters: the checks every image model shares
        ModelInput.Images(images, nameof(images), c.InChannels, c.ImgSize, this);
    }

    // timm's init_weights (mode ''): position embedding trunc-normal std 0.02, class token normal std 1e-6, every
    // Linear weight trunc-normal std 0.02 (truncated at +-2, absolute, as timm calls it) with zero bias; LayerNorm
    // and the patch convolution keep PyTorch's defaults.
    private void InitWeights()
    {
        using var noGrad = no_grad();
        TruncNormal.Fill(pos_embed, 0, 0.02, -2, 2);
        cls_token.normal_(0, 1e-6);
        foreach (var (_, module) in named_modules()) {
            if (module is not Linear linear) continue;
            TruncNormal.Fill(linear.weight!, 0, 0.02, -2, 2);
            linear.bias?.zero_();
        }
    }
}
