using SsmBridge.Internal;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SsmBridge.Modules;

/// <summary>Every architectural knob of <see cref="VSSM"/>, with the defaults of upstream's VSSM class.</summary>
public sealed record VSSMConfig
{
    /// <summary>Total stride of the stem: one PatchSize x PatchSize patchify convolution, or two of stride PatchSize / 2.</summary>
    public long PatchSize { get; init; } = 4;
    /// <summary>Channels of the input images.</summary>
    public long InChannels { get; init; } = 3;
    /// <summary>0 builds no head: forward returns the pooled features.</summary>
    public long NumClasses { get; init; } = 1000;
    /// <summary>Blocks per stage.</summary>
    public long[] Depths { get; init; } = { 2, 2, 9, 2 };
    /// <summary>Channels per stage (upstream passes an int d and gets d * 2^i).</summary>
    public long[] Dims { get; init; } = { 96, 192, 384, 768 };
    /// <summary>The SS2D of every block (SsmRatio 0: no SS2D branch).</summary>
    public SS2DConfig Ssm { get; init; } = new();
    /// <summary>MLP hidden size / dim; 0: no MLP branch (the first VMamba).</summary>
    public double MlpRatio { get; init; } = 4.0;
    /// <summary>Dropout inside the MLPs.</summary>
    public double MlpDropRate { get; init; }
    /// <summary>Stochastic depth, rising linearly from 0 at the first block to this at the last.</summary>
    public double DropPathRate { get; init; } = 0.1;
    /// <summary>Normalize the patch embedding.</summary>
    public bool PatchNorm { get; init; } = true;
    /// <summary>"ln": channel-last model with LayerNorm; "ln2d": channel-first model with LayerNorm2d.</summary>
    public string NormLayer { get; init; } = "ln";
    /// <summary>"v1": PatchMerging2D; "v2": Conv2d(k 2, s 2) + norm; "v3": Conv2d(k 3, s 2, p 1) + norm.</summary>
    public string Downsample { get; init; } = "v2";
    /// <summary>"v1": Conv2d(k = s = patch) + norm; "v2": two Conv2d(k patch/2 + 1, s patch/2, p 1) with norm, GELU between.</summary>
    public string PatchEmbed { get; init; } = "v1";

    /// <summary>The stage widths d, 2d, 4d, ... of a <paramref name="stages"/>-stage pyramid.</summary>
    public static long[] Pyramid(long dim, int stages = 4) => Enumerable.Range(0, stages).Select(i => dim << i).ToArray();

    internal bool ChannelFirst => NormLayer switch {
        "ln2d" => true,
        "ln" => false,
        _ => throw new ArgumentException($"config: expected NormLayer \"ln\" or \"ln2d\", got \"{NormLayer}\"", "config"),
    };
}

/// <summary>
/// VMamba (Liu et al. 2024; MzeroMiko/VMamba classification/models/vmamba.py, class VSSM): a patch
/// embedding (<c>patch_embed</c>, a Sequential whose Permute entries give the keys patch_embed.0 / .2 /
/// .5 / .7), stages <c>layers.{i}</c> of <see cref="VSSBlock"/>s (<c>layers.{i}.blocks.{j}</c>) each
/// followed by a downsample to the next stage's width (<c>layers.{i}.downsample</c>, none after the last
/// stage), and a classifier (<c>classifier.norm</c>, permute, adaptive average pool, flatten,
/// <c>classifier.head</c>). Input (batch, 3, H, W) of any size (there is no position embedding); output
/// (batch, num_classes). State-dict keys and shapes equal the official checkpoints'.
/// </summary>
public sealed class VSSM : nn.Module<Tensor, Tensor>
{
    private readonly Sequential patch_embed;
    private readonly ModuleList<Sequential> layers;
    private readonly Sequential classifier;

    /// <summary>The options the model was built with.</summary>
    public VSSMConfig Config { get; }
    /// <summary>True when the stages run channel-first (LayerNorm2d, Linear2d), as the config's norm layer asks.</summary>
    public bool ChannelFirst { get; }
    /// <summary>Channels of the last stage: what the head reads.</summary>
    public long NumFeatures { get; }

    /// <summary>Builds the backbone and head; upstream's VSSM defaults when config is null.</summary>
    public VSSM(VSSMConfig? config = null) : base(nameof(VSSM))
    {
        var c = Config = config ?? new VSSMConfig();
        bool cf = ChannelFirst = c.ChannelFirst;
        if (c.Depths.Length == 0 || c.Depths.Length != c.Dims.Length)
            throw new ArgumentException($"config: expected as many Dims as Depths (at least one stage), got {c.Depths.Length} depths and {c.Dims.Length} dims", nameof(config));
        NumFeatures = c.Dims[^1];

        patch_embed = c.PatchEmbed switch {
            "v1" => PatchEmbedV1(c, cf),
            "v2" => PatchEmbedV2(c, cf),
            _ => throw new ArgumentException($"config: expected PatchEmbed \"v1\" or \"v2\", got \"{c.PatchEmbed}\"", nameof(config)),
        };
        if (c.Downsample is not ("v1" or "v2" or "v3"))
            throw new ArgumentException($"config: expected Downsample \"v1\", \"v2\" or \"v3\", got \"{c.Downsample}\"", nameof(config));

        // Linear stochastic-depth schedule over all blocks of all stages.
        var total = c.Depths.Sum();
        var dpr = Enumerable.Range(0, (int)total).Select(i => total > 1 ? c.DropPathRate * i / (total - 1) : 0).ToArray();
        var stages = new List<Sequential>();
        long first = 0;
        for (int i = 0; i < c.Depths.Length; i++) {
            var blocks = Enumerable.Range(0, (int)c.Depths[i])
                .Select(j => (nn.Module<Tensor, Tensor>)new VSSBlock(c.Dims[i], dpr[first + j], cf, c.Ssm, c.MlpRatio, c.MlpDropRate))
                .ToArray();
            first += c.Depths[i];
            var downsample = i < c.Depths.Length - 1 ? Downsample(c.Downsample, c.Dims[i], c.Dims[i + 1], cf) : nn.Identity();
            stages.Add(nn.Sequential(("blocks", nn.Sequential(blocks)), ("downsample", downsample)));
        }
        layers = nn.ModuleList(stages.ToArray());

        classifier = nn.Sequential(
            ("norm", VSSBlock.Norm(NumFeatures, cf)),
            ("permute", cf ? nn.Identity() : new Permute(0, 3, 1, 2)),
            ("avgpool", nn.AdaptiveAvgPool2d(1)),
            ("flatten", nn.Flatten(1)),
            ("head", c.NumClasses > 0 ? nn.Linear(NumFeatures, c.NumClasses) : nn.Identity()));
        RegisterComponents();
        InitWeights();
    }

    /// <summary>(batch, in_chans, H, W) images to (batch, num_classes) logits (pooled features without a head).</summary>
    public override Tensor forward(Tensor images)
    {
        ModelInput.Images(images, nameof(images), Config.InChannels, Config.PatchSize, this);
        using var scope = NewDisposeScope();
        var x = patch_embed.call(images);
        foreach (var layer in layers) x = layer.call(x);
        return classifier.call(x).MoveToOuterDisposeScope();
    }

    private static Sequential PatchEmbedV1(VSSMConfig c, bool cf) => nn.Sequential(
        ("0", nn.Conv2d(c.InChannels, c.Dims[0], c.PatchSize, stride: c.PatchSize)),
        ("1", ToChannelLast(cf)),
        ("2", c.PatchNorm ? VSSBlock.Norm(c.Dims[0], cf) : nn.Identity()));

    // Two stride-patch/2 convolutions; a channel-last model permutes around its first norm.
    private static Sequential PatchEmbedV2(VSSMConfig c, bool cf)
    {
        long stride = c.PatchSize / 2, kernel = stride + 1, half = c.Dims[0] / 2;
        bool permute = !cf && c.PatchNorm;
        return nn.Sequential(
            ("0", nn.Conv2d(c.InChannels, half, kernel, stride: stride, padding: 1)),
            ("1", permute ? new Permute(0, 2, 3, 1) : nn.Identity()),
            ("2", c.PatchNorm ? VSSBlock.Norm(half, cf) : nn.Identity()),
            ("3", permute ? new Permute(0, 3, 1, 2) : nn.Identity()),
            ("4", nn.GELU()),
            ("5", nn.Conv2d(half, c.Dims[0], kernel, stride: stride, padding: 1)),
            ("6", ToChannelLast(cf)),
            ("7", c.PatchNorm ? VSSBlock.Norm(c.Dims[0], cf) : nn.Identity()));
    }

    // v1: PatchMerging2D on ops.patch_merge; v2 and v3: a strided Conv2d and a norm, permuted around the
    // conv in channel-last models (hence the keys downsample.1 and downsample.3).
    private static nn.Module<Tensor, Tensor> Downsample(string version, long dim, long outDim, bool cf)
    {
        if (version == "v1") return new PatchMerging2D(dim, outDim, channelFirst: cf);
        var conv = version == "v2" ? nn.Conv2d(dim, outDim, 2, stride: 2) : nn.Conv2d(dim, outDim, 3, stride: 2, padding: 1);
        return nn.Sequential(
            ("0", cf ? nn.Identity() : new Permute(0, 3, 1, 2)),
            ("1", conv),
            ("2", ToChannelLast(cf)),
            ("3", VSSBlock.Norm(outDim, cf)));
    }

    private static nn.Module<Tensor, Tensor> ToChannelLast(bool cf) => cf ? nn.Identity() : new Permute(0, 2, 3, 1);

    // Upstream's VSSM._init_weights: every Linear (Linear2d included) truncated-normal with std 0.02
    // (timm's trunc_normal_, cut at +-2 absolute) and zero bias; LayerNorms start at weight 1, bias 0 as
    // built. Convolutions and the SS2D parameters (x_proj_weight, dt_projs_*, A_logs, Ds) keep their own init.
    private void InitWeights()
    {
        using var noGrad = no_grad();
        foreach (var module in modules()) {
            var (weight, bias) = module switch {
                Linear linear => (linear.weight, linear.bias),
                Linear2d linear2d => (linear2d.Weight, linear2d.Bias),
                _ => (null, null),
            };
            if (weight is null) continue;
            TruncNormal.Fill(weight, 0, 0.02, -2, 2);
            bias?.zero_();
        }
    }
}
