using SsmBridge.Modules;

namespace SsmBridge;

/// <summary>
/// S4ND vision models (Nguyen et al., "S4ND: Modeling Images and Videos as Multidimensional Signals Using
/// State Spaces", 2022) on our modules. Our S4ND layers use the diagonal S4D kernel (upstream mode 'diag'); the
/// paper's configs use the DPLR (S4) kernel, so upstream checkpoints do not load here (they carry an extra
/// <c>P</c> per kernel and a different parameterisation); parameter names and every other shape are upstream's.
/// Every model has <c>set_rate</c> for zero-shot resolution changes.
/// </summary>
public static partial class models
{
    /// <summary>
    /// S4ND-ViT-B/16: ViT-B shape (embed 768, depth 12, MLP ratio 4, LayerNorm), no class token, no position
    /// embedding, a bidirectional 1-D S4ND over the 196 patches in every block (d_state 64, channels 2, GELU,
    /// GLU output_linear, n_ssm 1), mean pooling: 88,785,640 parameters at 1000 classes (upstream's DPLR
    /// kernel adds one 64-value P per block: 88,786,408).
    /// </summary>
    public static S4NDVisionTransformer s4nd_vit_b_16(long num_classes = 1000, long in_chans = 3, long img_size = 224,
                                                      double drop_rate = 0, double drop_path_rate = 0.1) =>
        S4NDViT(num_classes, in_chans, img_size, 16, 768, 12, 64, drop_rate, drop_path_rate);

    /// <summary>S4ND-ViT-Ti/16: the same model at embed 192, depth 12, d_state 64.</summary>
    public static S4NDVisionTransformer s4nd_vit_tiny_16(long num_classes = 1000, long in_chans = 3, long img_size = 224,
                                                         double drop_rate = 0, double drop_path_rate = 0.1) =>
        S4NDViT(num_classes, in_chans, img_size, 16, 192, 12, 64, drop_rate, drop_path_rate);

    private static S4NDVisionTransformer S4NDViT(long numClasses, long inChans, long imgSize, long patch, long dim, int depth,
                                                 long dState, double drop, double dropPath) =>
        new(numClasses, inChans, imgSize, patch, dim, depth, 4.0,
            new S4NDConfig { DState = dState, Channels = 2, Bidirectional = true, Linear = false, Activation = "gelu", FinalAct = "glu", NSsm = 1 },
            drop, dropPath);

    /// <summary>
    /// The S4ND paper's 2-D isotropic CIFAR-10 model (upstream s4-cifar-2d): per-pixel linear encoder, 6 pre-norm
    /// residual S4ND layers at d_model 512 over the 32 x 32 grid (d_state 64, bidirectional, init legs, n_ssm 1,
    /// dt in [0.1, 1], GELU, GLU output_linear, tied dropout 0.1), mean pooling, linear decoder: 3,963,402
    /// parameters (upstream's DPLR kernels add 768).
    /// </summary>
    public static S4NDIsotropic s4nd_cifar(long num_classes = 10, long in_chans = 3, long img_size = 32, long d_model = 512,
                                           int n_layers = 6, double dropout = 0.1) =>
        new(num_classes, in_chans, img_size, 1, d_model, n_layers, IsotropicLayer(64, dropout), dropout);

    /// <summary>The CIFAR model at small width for a 2-core machine: d_model 128, 4 layers, d_state 32.</summary>
    public static S4NDIsotropic s4nd_cifar_small(long num_classes = 10, long in_chans = 3, long img_size = 32, double dropout = 0.1) =>
        new(num_classes, in_chans, img_size, 1, 128, 4, IsotropicLayer(32, dropout), dropout);

    /// <summary>
    /// S4ND for 28 x 28 single-channel images (Fashion-MNIST) on a 2-core CPU: the CIFAR model's layers on a
    /// 4 x 4 patch encoder (7 x 7 grid), 4 pre-norm residual S4ND layers at d_model 64 (d_state 16,
    /// bidirectional, GELU, GLU output), mean pooling, linear decoder (53,066 parameters at 10 classes).
    /// </summary>
    public static S4NDIsotropic s4nd_demo(long num_classes = 10, long in_chans = 1, long img_size = 28) =>
        new(num_classes, in_chans, img_size, 4, 64, 4, IsotropicLayer(16, 0.0), 0.0);

    // Upstream's s4-cifar-2d: layer s4nd (measure legs, gelu, GLU, n_ssm 1, tied dropout), dt in [0.1, 1].
    private static S4NDConfig IsotropicLayer(long dState, double dropout) =>
        new() { DState = dState, Bidirectional = true, Linear = false, Activation = "gelu", FinalAct = "glu", Dropout = dropout,
                TieDropout = true, Init = "legs", NSsm = 1, DtMin = 0.1, DtMax = 1.0 };

    /// <summary>
    /// ConvNeXt-S4ND-T (upstream convnext_timm_tiny_s4nd_imagenet): ConvNeXt-T (depths 3, 3, 9, 3; dims 96, 192,
    /// 384, 768) with S4ND in the stem (patch 4, l_max 16 x 16, 32 stem channels), the downsampling layers and the
    /// blocks' depthwise convolutions: 29,406,641 parameters at 1000 classes (upstream's DPLR kernels add 44 x 64:
    /// 29,409,457).
    /// </summary>
    public static ConvNeXtS4ND convnext_s4nd_tiny(long num_classes = 1000, long in_chans = 3, long img_size = 224,
                                                  double drop_path_rate = 0.1) =>
        new(num_classes, in_chans, img_size, new long[] { 3, 3, 9, 3 }, new long[] { 96, 192, 384, 768 }, drop_path_rate);

    /// <summary>ConvNeXt-S4ND-Micro (upstream's convnext_micro widths: depths 3, 3, 3, 3; dims 64, 128, 256, 512).</summary>
    public static ConvNeXtS4ND convnext_s4nd_micro(long num_classes = 1000, long in_chans = 3, long img_size = 224,
                                                   double drop_path_rate = 0.1) =>
        new(num_classes, in_chans, img_size, new long[] { 3, 3, 3, 3 }, new long[] { 64, 128, 256, 512 }, drop_path_rate);

    /// <summary>A 2-core demo width: depths 1, 1, 2, 1; dims 32, 64, 128, 256; stem patch 2, for 32 x 32 images (img_size a multiple of 16).</summary>
    public static ConvNeXtS4ND convnext_s4nd_nano(long num_classes = 10, long in_chans = 3, long img_size = 32,
                                                  double drop_path_rate = 0) =>
        new(num_classes, in_chans, img_size, new long[] { 1, 1, 2, 1 }, new long[] { 32, 64, 128, 256 }, drop_path_rate,
            patch_size: 2, stem_channels: 16, stem_l_max: 8);
}
