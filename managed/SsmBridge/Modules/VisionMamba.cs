using SsmBridge.Internal;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SsmBridge.Modules;

/// <summary>Every architectural knob of <see cref="VisionMamba"/>, with Vim's defaults.</summary>
public sealed record VisionMambaConfig
{
    /// <summary>Side of the square input images.</summary>
    public long ImgSize { get; init; } = 224;
    /// <summary>Side of the square patches.</summary>
    public long PatchSize { get; init; } = 16;
    /// <summary>Stride of the patch embedding (equal to PatchSize: no overlap).</summary>
    public long Stride { get; init; } = 16;
    /// <summary>Channels of the input images.</summary>
    public long InChannels { get; init; } = 3;
    /// <summary>Width of the token embeddings (d_model of every block).</summary>
    public long EmbedDim { get; init; } = 192;
    /// <summary>Number of Vim blocks.</summary>
    public int Depth { get; init; } = 24;
    /// <summary>0 builds no head: forward returns the pooled features.</summary>
    public long NumClasses { get; init; } = 1000;
    /// <summary>Dropout after the position embedding.</summary>
    public double DropRate { get; init; }
    /// <summary>Stochastic depth, rising linearly from 0 at the first block to this at the last.</summary>
    public double DropPathRate { get; init; } = 0.1;
    /// <summary>Epsilon of the RMSNorms.</summary>
    public double NormEpsilon { get; init; } = 1e-5;
    /// <summary>Class token read out as the representation; false pools the tokens instead.</summary>
    public bool IfClsToken { get; init; } = true;
    /// <summary>The class token sits in the middle of the sequence (index patches/2) instead of the front.</summary>
    public bool UseMiddleClsToken { get; init; } = true;
    /// <summary>Pooling without a class token: "mean" or "max".</summary>
    public string FinalPoolType { get; init; } = "mean";
    /// <summary>Halve the sum of the two scan directions before out_proj (Vim's if_divide_out).</summary>
    public bool IfDivideOut { get; init; } = true;
    /// <summary>The Mamba mixer of every block.</summary>
    public MambaConfig Mamba { get; init; } = new();
}

/// <summary>Patch embedding: Conv2d(in, embed, patch, stride) then flatten to (batch, patches, embed).</summary>
public sealed class PatchEmbed : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d proj;

    /// <summary>A patchSize x patchSize convolution with the given stride from inChannels to embedDim.</summary>
    public PatchEmbed(long inChannels, long embedDim, long patchSize, long stride) : base(nameof(PatchEmbed))
    {
        proj = nn.Conv2d(inChannels, embedDim, patchSize, stride: stride);
        RegisterComponents();
    }

    internal Conv2d Proj => proj;

    /// <summary>images: (batch, inChannels, height, width) -> tokens (batch, patches, embedDim).</summary>
    public override Tensor forward(Tensor images)
    {
        using var scope = NewDisposeScope();
        return proj.forward(images).flatten(2).transpose(1, 2).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// A Vim block with Mamba's fused add + pre-norm: residual = residual + drop_path(hidden) (in float32),
/// hidden = mixer(RMSNorm(residual)). The first block starts the residual stream from its input.
/// </summary>
public sealed class VimBlock : nn.Module<Tensor, Tensor?, (Tensor hidden, Tensor residual)>
{
    private readonly BiMamba mixer;
    private readonly RMSNorm norm;
    private readonly DropPath drop_path;

    /// <summary>A block of dim features with the given mixer, RMSNorm epsilon and stochastic depth dropPath.</summary>
    public VimBlock(long dim, MambaConfig mamba, bool ifDivideOut, double eps, double dropPath) : base(nameof(VimBlock))
    {
        mixer = new BiMamba(dim, mamba, ifDivideOut);
        norm = new RMSNorm(dim, eps);
        drop_path = new DropPath(dropPath);
        RegisterComponents();
    }

    /// <summary>hidden: (batch, L, dim) and the residual stream (null for the first block) -> the new (hidden, residual).</summary>
    public override (Tensor hidden, Tensor residual) forward(Tensor hidden, Tensor? residual)
    {
        using var scope = NewDisposeScope();
        var r = residual is null ? hidden.to_type(ScalarType.Float32) : residual + drop_path.forward(hidden).to_type(ScalarType.Float32);
        var h = mixer.forward(norm.forward(r).to_type(hidden.dtype));
        return (h.MoveToOuterDisposeScope(), r.MoveToOuterDisposeScope());
    }
}

/// <summary>
/// Vision Mamba (Zhu et al. 2024; hustvl/Vim models_mamba.py): patch embedding, a class token inserted in
/// the middle of the patch sequence, absolute position embedding, depth x <see cref="VimBlock"/> with
/// bidirectional <see cref="BiMamba"/> mixers and a linear drop-path schedule, final RMSNorm (norm_f), the
/// class token's features, head. Input (batch, 3, H, W); other sizes than the configured one resize the
/// position embedding bicubically on the fly. State-dict keys equal the official checkpoints'.
/// </summary>
public sealed class VisionMamba : nn.Module<Tensor, Tensor>
{
    private readonly PatchEmbed patch_embed;
    private readonly Parameter? cls_token;
    private readonly Parameter pos_embed;
    private readonly Dropout pos_drop;
    private readonly ModuleList<VimBlock> layers;
    private readonly DropPath drop_path;
    private readonly RMSNorm norm_f;
    private readonly nn.Module<Tensor, Tensor> head;

    /// <summary>The options the model was built with.</summary>
    public VisionMambaConfig Config { get; }

    /// <summary>The patch grid the position embedding is laid out for.</summary>
    public (long H, long W) Grid { get; private set; }

    /// <summary>Builds the model; Vim-Ti's defaults when config is null.</summary>
    public VisionMamba(VisionMambaConfig? config = null) : base(nameof(VisionMamba))
    {
        var c = Config = config ?? new VisionMambaConfig();
        Validate(c);
        var side = (c.ImgSize - c.PatchSize) / c.Stride + 1;
        Grid = (side, side);
        var tokens = side * side + (c.IfClsToken ? 1 : 0);

        patch_embed = new PatchEmbed(c.InChannels, c.EmbedDim, c.PatchSize, c.Stride);
        // Without a class token upstream has no cls_token parameter at all.
        cls_token = c.IfClsToken ? new Parameter(zeros(1, 1, c.EmbedDim)) : null;
        pos_embed = new Parameter(zeros(1, tokens, c.EmbedDim));
        pos_drop = nn.Dropout(c.DropRate);
        // Linear drop-path schedule over the blocks, the first block without (upstream's [0] + dpr).
        var schedule = Enumerable.Range(0, c.Depth).Select(i => c.Depth > 1 ? c.DropPathRate * i / (c.Depth - 1) : 0).ToArray();
        layers = nn.ModuleList(Enumerable.Range(0, c.Depth)
            .Select(i => new VimBlock(c.EmbedDim, c.Mamba, c.IfDivideOut, c.NormEpsilon, i == 0 ? 0 : schedule[i - 1])).ToArray());
        drop_path = new DropPath(c.DropPathRate);
        norm_f = new RMSNorm(c.EmbedDim, c.NormEpsilon);
        head = c.NumClasses > 0 ? nn.Linear(c.EmbedDim, c.NumClasses) : nn.Identity();
        RegisterComponents();
        VimInit.Apply(this, patch_embed.Proj, head as Linear, cls_token, pos_embed, c.Depth);
    }

    // Names are the factories' argument names (models.vim_demo(patch_size: ...)).
    private static void Validate(VisionMambaConfig c)
    {
        Check.InRange("img_size", c.ImgSize, 1, long.MaxValue);
        Check.InRange("patch_size", c.PatchSize, 1, c.ImgSize, "img_size");
        Check.InRange("stride", c.Stride, 1, long.MaxValue);
        Check.InRange("in_chans", c.InChannels, 1, long.MaxValue);
        Check.InRange("embed_dim", c.EmbedDim, 1, long.MaxValue);
        Check.InRange("depth", c.Depth, 1, long.MaxValue);
        Check.InRange("num_classes", c.NumClasses, 0, long.MaxValue);
    }

    /// <summary>Index of the class token in the sequence of a grid with <paramref name="patches"/> patches.</summary>
    public long ClassTokenIndex(long patches) => Config.UseMiddleClsToken ? patches / 2 : 0;

    /// <summary>Features before the head: (batch, embed_dim).</summary>
    public Tensor forward_features(Tensor images)
    {
        ModelInput.Images(images, nameof(images), Config.InChannels, Config.PatchSize, this);
        using var scope = NewDisposeScope();
        var x = patch_embed.forward(images);
        long batch = x.shape[0], patches = x.shape[1];
        var grid = ((images.shape[2] - Config.PatchSize) / Config.Stride + 1, (images.shape[3] - Config.PatchSize) / Config.Stride + 1);
        long clsIndex = ClassTokenIndex(patches);
        if (Config.IfClsToken) {
            var cls = cls_token!.expand(batch, -1, -1);
            x = cat(new[] { x.narrow(1, 0, clsIndex), cls, x.narrow(1, clsIndex, patches - clsIndex) }, 1);
        }
        var pos = Config.IfClsToken ? PositionEmbedding.Resize(pos_embed, Grid, grid) : ResizeWithoutClsToken(grid);
        x = pos_drop.forward(x + pos);

        Tensor hidden = x, residual = null!;
        foreach (var layer in layers) (hidden, residual) = layer.forward(hidden, residual);
        residual = residual + drop_path.forward(hidden).to_type(ScalarType.Float32);
        hidden = norm_f.forward(residual).to_type(x.dtype);

        var features = Config.IfClsToken ? hidden.select(1, clsIndex)
            : Config.FinalPoolType == "max" ? hidden.max(1).values : hidden.mean(new long[] { 1 });
        return features.MoveToOuterDisposeScope();
    }

    /// <summary>images: (batch, InChannels, ImgSize, ImgSize) -> logits (batch, NumClasses), or features when NumClasses is 0.</summary>
    public override Tensor forward(Tensor images)
    {
        using var scope = NewDisposeScope();
        return head.forward(forward_features(images)).MoveToOuterDisposeScope();
    }

    /// <summary>Resizes the stored position embedding to another patch grid (e.g. before fine-tuning at 384).</summary>
    public void resize_pos_embed((long H, long W) grid)
    {
        using var noGrad = no_grad();
        var resized = Config.IfClsToken ? PositionEmbedding.Resize(pos_embed, Grid, grid) : ResizeWithoutClsToken(grid);
        pos_embed.set_(resized);
        Grid = grid;
    }

    private Tensor ResizeWithoutClsToken((long H, long W) grid)
    {
        if (grid == Grid) return pos_embed.alias();
        using var scope = NewDisposeScope();
        var d = pos_embed.shape[2];
        var g = pos_embed.reshape(1, Grid.H, Grid.W, d).permute(0, 3, 1, 2);
        return nn.functional.interpolate(g, new[] { grid.H, grid.W }, mode: InterpolationMode.Bicubic, align_corners: false)
            .permute(0, 2, 3, 1).reshape(1, grid.H * grid.W, d).MoveToOuterDisposeScope();
    }
}
