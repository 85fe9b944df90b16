using SsmBridge.Modules;

namespace SsmBridge;

/// <summary>
/// VMamba factories with the official names (MzeroMiko/VMamba classification/models/vmamba.py) and the
/// configurations of classification/configs/vssm/*.yaml. Where the two disagree on a default (the
/// drop-path rate of vanilla_vmamba_base and vmamba_base_s1l20) the yaml the released weights were trained
/// with wins. <c>scan</c> picks our fused kernels or the plain-TorchSharp reference; with the fused kernels,
/// <c>fused_scan</c> (default true) runs each SS2D's scan core as one <see cref="ops.cross_selective_scan"/>
/// instead of cross_scan -> selective_scan -> cross_merge (<see cref="SS2DConfig.FusedScan"/>).
/// </summary>
public static partial class models
{
    /// <summary>
    /// VMamba-T, the released v2 tiny (vmambav2v_tiny_224.yaml): depths [2, 2, 8, 2], dim 96, d_state 1,
    /// ssm_ratio 1.0, conv 3 without bias, forward type v05_noz, MLP ratio 4, downsample v3, patch embed
    /// v2, channel-first with LayerNorm2d (30,249,064 parameters at 1000 classes).
    /// </summary>
    public static VSSM vmamba_tiny_s1l8(long num_classes = 1000, double drop_path_rate = 0.2, bool channel_first = true,
                                        ScanImplementation scan = ScanImplementation.Fused, bool fused_scan = true) =>
        VMambaV2(96, new long[] { 2, 2, 8, 2 }, ssmRatio: 1.0, num_classes, drop_path_rate, channel_first, scan, fused_scan);

    /// <summary>VMamba-S s2l15 (vmambav2_small_224.yaml): depths [2, 2, 15, 2], dim 96, d_state 1, ssm_ratio 2.0.</summary>
    public static VSSM vmamba_small_s2l15(long num_classes = 1000, double drop_path_rate = 0.3, bool channel_first = true,
                                          ScanImplementation scan = ScanImplementation.Fused, bool fused_scan = true) =>
        VMambaV2(96, new long[] { 2, 2, 15, 2 }, ssmRatio: 2.0, num_classes, drop_path_rate, channel_first, scan, fused_scan);

    /// <summary>VMamba-B s2l15 (vmambav2_base_224.yaml): depths [2, 2, 15, 2], dim 128, d_state 1, ssm_ratio 2.0.</summary>
    public static VSSM vmamba_base_s2l15(long num_classes = 1000, double drop_path_rate = 0.6, bool channel_first = true,
                                         ScanImplementation scan = ScanImplementation.Fused, bool fused_scan = true) =>
        VMambaV2(128, new long[] { 2, 2, 15, 2 }, ssmRatio: 2.0, num_classes, drop_path_rate, channel_first, scan, fused_scan);

    /// <summary>VMamba-S s1l20 (vmambav2v_small_224.yaml): depths [2, 2, 20, 2], dim 96, d_state 1, ssm_ratio 1.0.</summary>
    public static VSSM vmamba_small_s1l20(long num_classes = 1000, double drop_path_rate = 0.3, bool channel_first = true,
                                          ScanImplementation scan = ScanImplementation.Fused, bool fused_scan = true) =>
        VMambaV2(96, new long[] { 2, 2, 20, 2 }, ssmRatio: 1.0, num_classes, drop_path_rate, channel_first, scan, fused_scan);

    /// <summary>
    /// VMamba-B s1l20 (vmambav2v_base_224.yaml): depths [2, 2, 20, 2], dim 128, d_state 1, ssm_ratio 1.0;
    /// drop path 0.6 as in the yaml (vmamba.py's factory says 0.5).
    /// </summary>
    public static VSSM vmamba_base_s1l20(long num_classes = 1000, double drop_path_rate = 0.6, bool channel_first = true,
                                         ScanImplementation scan = ScanImplementation.Fused, bool fused_scan = true) =>
        VMambaV2(128, new long[] { 2, 2, 20, 2 }, ssmRatio: 1.0, num_classes, drop_path_rate, channel_first, scan, fused_scan);

    /// <summary>
    /// The paper's first VMamba-T (vmambav0_tiny_224.yaml): depths [2, 2, 9, 2], dim 96, d_state 16,
    /// ssm_ratio 2.0, conv 3 with bias, forward type v0 (z gating), no MLP, PatchMerging2D downsample,
    /// patch embed v1, channel-last (22,893,448 parameters at 1000 classes).
    /// </summary>
    public static VSSM vanilla_vmamba_tiny(long num_classes = 1000, double drop_path_rate = 0.2,
                                           ScanImplementation scan = ScanImplementation.Fused, bool fused_scan = true) =>
        VanillaVMamba(96, new long[] { 2, 2, 9, 2 }, num_classes, drop_path_rate, scan, fused_scan);

    /// <summary>The first VMamba-S (vmambav0_small_224.yaml): depths [2, 2, 27, 2], dim 96.</summary>
    public static VSSM vanilla_vmamba_small(long num_classes = 1000, double drop_path_rate = 0.3,
                                            ScanImplementation scan = ScanImplementation.Fused, bool fused_scan = true) =>
        VanillaVMamba(96, new long[] { 2, 2, 27, 2 }, num_classes, drop_path_rate, scan, fused_scan);

    /// <summary>
    /// The first VMamba-B (vmambav0_base_224.yaml): depths [2, 2, 27, 2], dim 128; drop path 0.5 as in the
    /// yaml (vmamba.py's factory says 0.6).
    /// </summary>
    public static VSSM vanilla_vmamba_base(long num_classes = 1000, double drop_path_rate = 0.5,
                                           ScanImplementation scan = ScanImplementation.Fused, bool fused_scan = true) =>
        VanillaVMamba(128, new long[] { 2, 2, 27, 2 }, num_classes, drop_path_rate, scan, fused_scan);

    private static VSSM VMambaV2(long dim, long[] depths, double ssmRatio, long numClasses, double dropPath,
                                 bool channelFirst, ScanImplementation scan, bool fusedScan) =>
        new(new VSSMConfig {
            Depths = depths, Dims = VSSMConfig.Pyramid(dim, depths.Length), NumClasses = numClasses,
            DropPathRate = dropPath, NormLayer = channelFirst ? "ln2d" : "ln",
            Ssm = new SS2DConfig { DState = 1, SsmRatio = ssmRatio, ConvBias = false, ForwardType = "v05_noz", Scan = scan,
                                   FusedScan = fusedScan },
            MlpRatio = 4.0, Downsample = "v3", PatchEmbed = "v2",
        });

    private static VSSM VanillaVMamba(long dim, long[] depths, long numClasses, double dropPath, ScanImplementation scan,
                                       bool fusedScan) =>
        new(new VSSMConfig {
            Depths = depths, Dims = VSSMConfig.Pyramid(dim, depths.Length), NumClasses = numClasses,
            DropPathRate = dropPath, NormLayer = "ln",
            Ssm = new SS2DConfig { DState = 16, SsmRatio = 2.0, ConvBias = true, ForwardType = "v0", Scan = scan,
                                   FusedScan = fusedScan },
            MlpRatio = 0, Downsample = "v1", PatchEmbed = "v1",
        });
}
