using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SsmBridge.Modules;

/// <summary>
/// ConvNeXt-S4ND (the S4ND paper's ConvNeXt, state-spaces/s4 <c>baselines/convnext_timm.py</c> with the
/// <c>convnext_timm_tiny_s4nd_imagenet</c> config): S4ND replaces the stem's patchify convolution
/// ('new_s4nd_patch': a full S4ND convolution from in_chans to stem_channels with l_max 16 x 16, then average
/// pooling by the patch size, TransposedLinear to 2 dims[0], GLU, LayerNorm2d), the strided-convolution
/// downsampling (S4DownSample: LayerNorm2d, S4ND, average pooling by 2, TransposedLinear to 2 out, GLU) and
/// every block's 7 x 7 depthwise convolution (conv_dw). S4ND layers: d_state 64, channels 1, bidirectional,
/// linear, init fourier, n_ssm 1, dt in [0.1, 1.0]. Names are upstream's (timm's ConvNeXt plus the S4 parts).
/// As upstream, the stem S4ND's D (1, in_chans) is a parameter that the forward pass does not use.
/// </summary>
public sealed class ConvNeXtS4ND : nn.Module<Tensor, Tensor>, IS4NDModel
{
    private readonly ConvNeXtS4NDStem stem;
    private readonly ModuleList<ConvNeXtS4NDStage> stages;
    private readonly ConvNeXtS4NDHead head;

    /// <summary>Builds the backbone and head; <c>models.convnext_s4nd_tiny</c> passes the published configuration.</summary>
    public ConvNeXtS4ND(long num_classes, long in_chans, long img_size, long[] depths, long[] dims, double drop_path_rate,
                        long patch_size = 4, long stem_channels = 32, long stem_l_max = 16, double ls_init_value = 1e-6)
        : base(nameof(ConvNeXtS4ND))
    {
        if (depths.Length != 4 || dims.Length != 4)
            throw new ArgumentException($"depths, dims: expected 4 stages, got {depths.Length} and {dims.Length}", nameof(depths));
        if (img_size % (patch_size * 8) != 0)
            throw new ArgumentException($"img_size: expected a multiple of {patch_size * 8} (patch_size x 8), got {img_size}", nameof(img_size));
        var layer = new S4NDConfig {
            DState = 64, Channels = 1, Bidirectional = true, Linear = true, Init = "fourier", NSsm = 1, DtMin = 0.1, DtMax = 1.0,
        };
        stem = new ConvNeXtS4NDStem(in_chans, dims[0], patch_size, stem_channels, layer with { LMax = new long?[] { stem_l_max, stem_l_max } });
        long size = img_size / patch_size, total = depths.Sum(), done = 0;
        var list = new List<ConvNeXtS4NDStage>();
        for (int i = 0; i < 4; i++) {
            long stride = i == 0 ? 1 : 2;
            var rates = Enumerable.Range(0, (int)depths[i])
                .Select(j => total > 1 ? drop_path_rate * (done + j) / (total - 1) : 0.0).ToArray();
            list.Add(new ConvNeXtS4NDStage(i == 0 ? dims[0] : dims[i - 1], dims[i], size, stride, rates, ls_init_value, layer));
            done += depths[i];
            size /= stride;
        }
        stages = new ModuleList<ConvNeXtS4NDStage>(list.ToArray());
        head = new ConvNeXtS4NDHead(dims[3], num_classes);
        RegisterComponents();
    }

    /// <inheritdoc/>
    public void set_rate(double rate) => S4NDLayers.SetRate(this, rate);

    /// <summary>x: (batch, in_chans, height, width) -> logits (batch, num_classes).</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = stem.call(x);
        foreach (var stage in stages) h = stage.call(h);
        return head.call(h).MoveToOuterDisposeScope();
    }
}

/// <summary>Stem 'new_s4nd_patch': <c>stem</c> (S4ND in_chans -> stem_channels) then <c>post_stem</c> (pool, linear, GLU, norm).</summary>
public sealed class ConvNeXtS4NDStem : nn.Module<Tensor, Tensor>
{
    private readonly S4ND stem;
    private readonly Sequential post_stem;

    /// <summary>A full S4ND convolution from in_chans to stem_channels (options in layer), then pooling by patch_size and the post-stem to out_chs channels.</summary>
    public ConvNeXtS4NDStem(long in_chans, long out_chs, long patch_size, long stem_channels, S4NDConfig layer) : base(nameof(ConvNeXtS4NDStem))
    {
        stem = new S4ND(in_chans, layer with { OutChannels = stem_channels });
        post_stem = nn.Sequential(("0", nn.AvgPool2d(patch_size, patch_size)), ("1", new TransposedLinear(stem_channels, 2 * out_chs)),
                                  ("2", nn.GLU(1)), ("3", new LayerNorm2d(out_chs, 1e-6)));
        RegisterComponents();
    }

    /// <summary>x: (batch, in_chans, height, width) -> (batch, out_chs, height / patch_size, width / patch_size).</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return post_stem.call(stem.call(x)).MoveToOuterDisposeScope();
    }
}

/// <summary>S4DownSample: <c>s4conv</c> (S4ND), average pooling by the stride, <c>fc</c> (TransposedLinear to 2 out), GLU.</summary>
public sealed class S4DownSample : nn.Module<Tensor, Tensor>
{
    private readonly S4ND s4conv;
    private readonly AvgPool2d avgpool;
    private readonly TransposedLinear fc;

    /// <summary>Maps in_ch channels to out_ch at 1 / stride of the resolution.</summary>
    public S4DownSample(long in_ch, long out_ch, long stride, S4NDConfig layer) : base(nameof(S4DownSample))
    {
        s4conv = new S4ND(in_ch, layer);
        avgpool = nn.AvgPool2d(stride, stride);
        fc = new TransposedLinear(in_ch, 2 * out_ch);
        RegisterComponents();
    }

    /// <summary>x: (batch, in_ch, height, width) -> (batch, out_ch, height / stride, width / stride).</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return nn.functional.glu(fc.call(avgpool.call(s4conv.call(x))), 1).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// ConvNeXt block with S4ND as <c>conv_dw</c>: x + drop_path(gamma * mlp(norm(conv_dw(x)))) with the norm and
/// MLP channel-last (timm names: conv_dw, norm, mlp.fc1, mlp.fc2, gamma).
/// </summary>
public sealed class ConvNeXtS4NDBlock : nn.Module<Tensor, Tensor>
{
    private readonly S4ND conv_dw;
    private readonly ChannelLastLayerNorm norm;
    private readonly Mlp mlp;
    private readonly Parameter? gamma;
    private readonly DropPath drop_path;

    /// <summary>A block of dim channels with stochastic depth drop_path and layer-scale init ls_init_value (no gamma when 0).</summary>
    public ConvNeXtS4NDBlock(long dim, double drop_path, double ls_init_value, S4NDConfig layer) : base(nameof(ConvNeXtS4NDBlock))
    {
        conv_dw = new S4ND(dim, layer);
        norm = new ChannelLastLayerNorm(dim, 1e-6);
        mlp = new Mlp(dim, 4 * dim);
        gamma = ls_init_value > 0 ? new Parameter(full(dim, ls_init_value)) : null;
        this.drop_path = new DropPath(drop_path);
        RegisterComponents();
    }

    /// <summary>x: (batch, dim, height, width) -> the same shape.</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = mlp.call(norm.call(conv_dw.call(x).permute(0, 2, 3, 1))).permute(0, 3, 1, 2);
        if (gamma is not null) h = h * gamma.view(1, -1, 1, 1);
        return (drop_path.call(h) + x).MoveToOuterDisposeScope();
    }
}

/// <summary>A stage: when it downsamples, <c>norm_layer</c> (LayerNorm2d) and <c>downsample</c> (S4DownSample); then <c>blocks</c>.</summary>
public sealed class ConvNeXtS4NDStage : nn.Module<Tensor, Tensor>
{
    private readonly LayerNorm2d? norm_layer;
    private readonly S4DownSample? downsample;
    private readonly ModuleList<ConvNeXtS4NDBlock> blocks;

    /// <summary>A stage from in_chs to out_chs channels, downsampling by stride, with one block per entry of dp_rates.</summary>
    public ConvNeXtS4NDStage(long in_chs, long out_chs, long img_size, long stride, double[] dp_rates, double ls_init_value, S4NDConfig layer)
        : base(nameof(ConvNeXtS4NDStage))
    {
        if (in_chs != out_chs || stride > 1) {
            norm_layer = new LayerNorm2d(in_chs, 1e-6);
            downsample = new S4DownSample(in_chs, out_chs, stride, layer with { LMax = new long?[] { img_size, img_size } });
        }
        long size = img_size / stride;
        var blockLayer = layer with { LMax = new long?[] { size, size } };
        blocks = new ModuleList<ConvNeXtS4NDBlock>(dp_rates.Select(r => new ConvNeXtS4NDBlock(out_chs, r, ls_init_value, blockLayer)).ToArray());
        RegisterComponents();
    }

    /// <summary>x: (batch, in_chs, height, width) -> (batch, out_chs, height / stride, width / stride).</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = downsample is null ? x : downsample.call(norm_layer!.call(x));
        foreach (var block in blocks) h = block.call(h);
        return h.MoveToOuterDisposeScope();
    }
}

/// <summary>timm's ConvNeXt head: global average pooling, <c>norm</c> (LayerNorm2d), flatten, dropout, <c>fc</c>.</summary>
public sealed class ConvNeXtS4NDHead : nn.Module<Tensor, Tensor>
{
    private readonly LayerNorm2d norm;
    private readonly Linear fc;

    /// <summary>The head for dim input channels and num_classes outputs.</summary>
    public ConvNeXtS4NDHead(long dim, long num_classes) : base(nameof(ConvNeXtS4NDHead))
    {
        norm = new LayerNorm2d(dim, 1e-6);
        fc = nn.Linear(dim, num_classes);
        RegisterComponents();
    }

    /// <summary>x: (batch, dim, height, width) -> logits (batch, num_classes).</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var pooled = norm.call(x.mean(new long[] { 2, 3 }, keepdim: true)).flatten(1);
        return fc.call(pooled).MoveToOuterDisposeScope();
    }
}
