using SsmBridge.Modules;

namespace SsmBridge;

/// <summary>
/// Model factories with timm-style names. Every architectural knob is an optional argument with the
/// paper's default, so a call without arguments builds the published model.
/// </summary>
public static partial class models
{
    /// <summary>Vim-Ti: embed 192, depth 24, bimamba v2, middle class token, divided output (7,148,008 parameters at 1000 classes).</summary>
    public static VisionMamba vim_tiny_patch16_224(long num_classes = 1000, long img_size = 224, double drop_path_rate = 0.1,
                                                   double drop_rate = 0, ScanImplementation scan = ScanImplementation.Fused) =>
        Vim(192, num_classes, img_size, drop_path_rate, drop_rate, scan);

    /// <summary>Vim-S: embed 384, depth 24 (25,796,584 parameters at 1000 classes).</summary>
    public static VisionMamba vim_small_patch16_224(long num_classes = 1000, long img_size = 224, double drop_path_rate = 0.1,
                                                    double drop_rate = 0, ScanImplementation scan = ScanImplementation.Fused) =>
        Vim(384, num_classes, img_size, drop_path_rate, drop_rate, scan);

    /// <summary>Vim-B: embed 768, depth 24 (97,598,440 parameters at 1000 classes).</summary>
    public static VisionMamba vim_base_patch16_224(long num_classes = 1000, long img_size = 224, double drop_path_rate = 0.1,
                                                   double drop_rate = 0, ScanImplementation scan = ScanImplementation.Fused) =>
        Vim(768, num_classes, img_size, drop_path_rate, drop_rate, scan);

    private static VisionMamba Vim(long embedDim, long numClasses, long imgSize, double dropPath, double drop, ScanImplementation scan) =>
        new(new VisionMambaConfig {
            EmbedDim = embedDim, Depth = 24, NumClasses = numClasses, ImgSize = imgSize,
            DropPathRate = dropPath, DropRate = drop, Mamba = new MambaConfig { Scan = scan },
        });
}
