using SsmBridge.Modules;

namespace SsmBridge;

/// <summary>
/// Small presets for training from scratch on 28x28 grey images (Fashion-MNIST) on a laptop CPU: the
/// published models' blocks, with fewer and narrower layers and a patch size that suits 28 pixels.
/// They share the signature <c>(num_classes, in_chans, img_size, ...)</c> so a command line can build any
/// of them by name.
/// </summary>
public static partial class models
{
    /// <summary>
    /// Vim for small images: 4x4 patches (7x7 grid at 28 pixels, 50 tokens with the middle class token),
    /// embed 64, 3 bidirectional Mamba blocks (v2, divided output, expand 2, d_state 16), no stochastic
    /// depth (127,370 parameters at 10 classes).
    /// </summary>
    public static VisionMamba vim_demo(long num_classes = 10, long in_chans = 1, long img_size = 28, long patch_size = 4,
                                       long embed_dim = 64, int depth = 3, long d_state = 16, double drop_path_rate = 0,
                                       ScanImplementation scan = ScanImplementation.Fused) =>
        new(new VisionMambaConfig {
            ImgSize = img_size, PatchSize = patch_size, Stride = patch_size, InChannels = in_chans,
            EmbedDim = embed_dim, Depth = depth, NumClasses = num_classes, DropPathRate = drop_path_rate,
            Mamba = new MambaConfig { DState = d_state, Scan = scan },
        });

    /// <summary>
    /// VMamba (v2 blocks as in <see cref="vmamba_tiny_s1l8"/>: d_state 1, ssm_ratio 1, forward type
    /// v05_noz, MLP ratio 4, v3 downsampling, channel-first) for small images: a stride-2 patch embedding
    /// (14x14 tokens at 28 pixels), three stages of depths [1, 2, 1] and widths 32, 64, 128. VSSM has no
    /// position embedding, so <paramref name="img_size"/> only documents the size it was tuned for.
    /// </summary>
    public static VSSM vmamba_demo(long num_classes = 10, long in_chans = 1, long img_size = 28, long patch_size = 2,
                                   long dim = 32, double drop_path_rate = 0, ScanImplementation scan = ScanImplementation.Fused)
    {
        if (img_size < patch_size * 4)
            throw new ArgumentException($"img_size: expected at least {patch_size * 4} pixels for three stages, got {img_size}", nameof(img_size));
        var depths = new long[] { 1, 2, 1 };
        return new VSSM(new VSSMConfig {
            PatchSize = patch_size, InChannels = in_chans, NumClasses = num_classes,
            Depths = depths, Dims = VSSMConfig.Pyramid(dim, depths.Length), DropPathRate = drop_path_rate, NormLayer = "ln2d",
            Ssm = new SS2DConfig { DState = 1, SsmRatio = 1.0, ConvBias = false, ForwardType = "v05_noz", Scan = scan },
            MlpRatio = 4.0, Downsample = "v3", PatchEmbed = "v1",
        });
    }
}
