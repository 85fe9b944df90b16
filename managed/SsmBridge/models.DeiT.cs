using SsmBridge.Modules;

namespace SsmBridge;

/// <summary>
/// DeiT baselines (timm's deit_*_patch16_224 without distillation). drop_path_rate defaults to DeiT's training
/// recipe, 0.1 (timm's factory default is 0); img_size sizes the position embedding; fused_attn false computes
/// attention explicitly (the tokens x tokens matrix), as timm without fused attention.
/// </summary>
public static partial class models
{
    /// <summary>DeiT-Ti: embed 192, depth 12, 3 heads (5,717,416 parameters at 1000 classes and 224).</summary>
    public static DeiT deit_tiny_patch16_224(long num_classes = 1000, long img_size = 224, long in_chans = 3,
                                             double drop_rate = 0, double drop_path_rate = 0.1, bool fused_attn = true) =>
        DeiTModel(192, 3, num_classes, img_size, in_chans, drop_rate, drop_path_rate, fused_attn);

    /// <summary>DeiT-S: embed 384, depth 12, 6 heads (22,050,664 parameters at 1000 classes and 224).</summary>
    public static DeiT deit_small_patch16_224(long num_classes = 1000, long img_size = 224, long in_chans = 3,
                                              double drop_rate = 0, double drop_path_rate = 0.1, bool fused_attn = true) =>
        DeiTModel(384, 6, num_classes, img_size, in_chans, drop_rate, drop_path_rate, fused_attn);

    private static DeiT DeiTModel(long embedDim, long heads, long numClasses, long imgSize, long inChans, double drop, double dropPath,
                                  bool fusedAttn) =>
        new(new DeiTConfig {
            EmbedDim = embedDim, NumHeads = heads, Depth = 12, NumClasses = numClasses, ImgSize = imgSize, InChannels = inChans,
            DropRate = drop, DropPathRate = dropPath, FusedAttention = fusedAttn,
        });
}
