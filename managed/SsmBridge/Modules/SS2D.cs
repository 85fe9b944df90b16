using SsmBridge.Internal;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SsmBridge.Modules;

/// <summary>The options of <see cref="SS2D"/>, with the defaults of MzeroMiko/VMamba's SS2D.</summary>
public sealed record SS2DConfig
{
    /// <summary>State size N of the selective scans.</summary>
    public long DState { get; init; } = 16;
    /// <summary>d_inner = (long)(SsmRatio * d_model). VSSBlock builds no SS2D branch when it is 0.</summary>
    public double SsmRatio { get; init; } = 2.0;
    /// <summary>0 means "auto": ceil(d_model / 16).</summary>
    public long DtRank { get; init; }
    /// <summary>Kernel of the depthwise Conv2d; below 2 there is no convolution (only the activation).</summary>
    public long DConv { get; init; } = 3;
    /// <summary>Bias of the depthwise Conv2d.</summary>
    public bool ConvBias { get; init; } = true;
    /// <summary>Bias of in_proj and out_proj.</summary>
    public bool Bias { get; init; }
    /// <summary>Dropout after out_proj.</summary>
    public double Dropout { get; init; }
    /// <summary>Smallest initial step size (dt_projs' biases give a log-uniform dt in [DtMin, DtMax]).</summary>
    public double DtMin { get; init; } = 0.001;
    /// <summary>Largest initial step size.</summary>
    public double DtMax { get; init; } = 0.1;
    /// <summary>Lower clamp of the initial dt.</summary>
    public double DtInitFloor { get; init; } = 1e-4;
    /// <summary>Scale of dt_projs' initial weights (DtScale / sqrt(dt_rank) sets their spread).</summary>
    public double DtScale { get; init; } = 1.0;
    /// <summary>
    /// Upstream's forward_type. "v0": the paper's SS2D (z gating, channel-last only). "v2", "v3", "v01" to
    /// "v05": the later SS2D, optionally with the suffixes "_oact" (GELU on the output), "_noz" (no z
    /// gate: in_proj to d_inner only) and "_nozact" (z not activated), in upstream's order, e.g. "v05_noz".
    /// Upstream's v2 family differ from each other only in CUDA kernels, einsum versus grouped conv and
    /// float32 casts; here all run the same cross scan -> selective scan -> cross merge.
    /// </summary>
    public string ForwardType { get; init; } = "v2";
    /// <summary>Our fused native ops or the plain-TorchSharp reference ops for the scan core.</summary>
    public ScanImplementation Scan { get; init; } = ScanImplementation.Fused;
    /// <summary>
    /// With <see cref="Scan"/> = Fused: true (default) runs the scan core as one
    /// <see cref="ops.cross_selective_scan"/> on projections computed in pixel order; false as the
    /// composition <see cref="ops.cross_scan"/> -> <see cref="ops.selective_scan"/> -> <see cref="ops.cross_merge"/>
    /// on projections of the cross-scanned copies. Both compute the same function (equal up to float rounding
    /// in the projections); the fused one is faster and needs far less memory. Ignored with the reference scan.
    /// </summary>
    public bool FusedScan { get; init; } = true;

    internal long DInner(long dModel) => (long)(SsmRatio * dModel);
    internal long ResolvedDtRank(long dModel) => DtRank > 0 ? DtRank : (dModel + 15) / 16;
}

/// <summary>
/// VMamba's 2-D selective scan (Liu et al. 2024, MzeroMiko/VMamba classification/models/vmamba.py):
/// in_proj (to x, or to x and the gate z), depthwise Conv2d + SiLU, then the scan core: the image read in
/// K = 4 directions (row-major, column-major, both reversed), per direction a projection to (dt, B, C)
/// with the stacked <c>x_proj_weight</c> (4, dt_rank + 2 N, d_inner) and <c>dt_projs_weight</c>
/// (4, d_inner, dt_rank), ONE selective scan over dim = 4 d_inner with groups = 4 (direction k reads its
/// own B and C), <c>dt_projs_bias</c> as delta_bias with softplus, <c>Ds</c> as D, <c>A_logs</c>
/// (4 d_inner, N), and the four outputs merged back into pixel order; then out_norm, the optional GELU,
/// y * z when gated, out_proj and dropout. By default (<see cref="SS2DConfig.FusedScan"/>) the scan core
/// from the cross scan to the merge is one <see cref="ops.cross_selective_scan"/>, with the projections
/// computed once in pixel order.
/// <para>
/// Channel-last (default) maps (batch, H, W, d_model) to the same shape with nn.Linear projections and
/// LayerNorm; channel-first maps (batch, d_model, H, W) with <see cref="Linear2d"/> and
/// <see cref="LayerNorm2d"/>. Parameter names and shapes are the official checkpoints'.
/// </para>
/// </summary>
public sealed class SS2D : nn.Module<Tensor, Tensor>
{
    private const long K = 4;

    private readonly Parameter x_proj_weight;
    private readonly Parameter A_logs;
    private readonly Parameter Ds;
    private readonly Parameter dt_projs_weight;
    private readonly Parameter dt_projs_bias;
    private readonly nn.Module<Tensor, Tensor> in_proj;
    private readonly Conv2d? conv2d;
    private readonly nn.Module<Tensor, Tensor> out_norm;
    private readonly nn.Module<Tensor, Tensor> out_proj;
    private readonly Dropout dropout;

    private readonly long _dModel, _dInner, _dtRank, _dState;
    private readonly bool _gated, _gateActivation, _outputActivation;

    /// <summary>The options the mixer was built with.</summary>
    public SS2DConfig Config { get; }
    /// <summary>True when the mixer maps (batch, channels, H, W), false for (batch, H, W, channels).</summary>
    public bool ChannelFirst { get; }

    /// <param name="d_model">Channels of the input and output.</param>
    /// <param name="config">The options; upstream's defaults when null.</param>
    /// <param name="channelFirst">(batch, channels, H, W) instead of (batch, H, W, channels).</param>
    public SS2D(long d_model, SS2DConfig? config = null, bool channelFirst = false) : base(nameof(SS2D))
    {
        var c = Config = config ?? new SS2DConfig();
        ChannelFirst = channelFirst;
        if (d_model < 1) throw new ArgumentOutOfRangeException(nameof(d_model), d_model, "d_model: expected >= 1");
        _dModel = d_model;
        _dInner = c.DInner(d_model);
        _dtRank = c.ResolvedDtRank(d_model);
        _dState = c.DState;
        if (_dInner < 1) throw new ArgumentException($"config: expected SsmRatio * d_model >= 1, got SsmRatio {c.SsmRatio} with d_model {d_model}", nameof(config));
        if (_dState < 1) throw new ArgumentException($"config: expected DState >= 1, got {_dState}", nameof(config));
        (_gated, _gateActivation, _outputActivation) = ParseForwardType(c.ForwardType, channelFirst);

        var bound = 1 / Math.Sqrt(_dInner);  // nn.Linear's default init of the four stacked x_proj
        x_proj_weight = new Parameter(empty(K, _dtRank + 2 * _dState, _dInner).uniform_(-bound, bound));
        A_logs = new Parameter(MambaInit.ALog(K * _dInner, _dState));
        Ds = new Parameter(ones(K * _dInner));
        dt_projs_weight = new Parameter(empty(K, _dInner, _dtRank));
        dt_projs_bias = new Parameter(empty(K, _dInner));
        MambaInit.DtProjWeight(dt_projs_weight, _dtRank, c.DtScale);
        MambaInit.DtProjBias(dt_projs_bias, c.DtMin, c.DtMax, c.DtInitFloor);

        var projected = _gated ? 2 * _dInner : _dInner;
        in_proj = channelFirst ? new Linear2d(d_model, projected, c.Bias) : nn.Linear(d_model, projected, c.Bias);
        if (c.DConv > 1)
            conv2d = nn.Conv2d(_dInner, _dInner, c.DConv, padding: (c.DConv - 1) / 2, groups: _dInner, bias: c.ConvBias);
        out_norm = channelFirst ? new LayerNorm2d(_dInner) : new ChannelLastLayerNorm(_dInner);
        out_proj = channelFirst ? new Linear2d(_dInner, d_model, c.Bias) : nn.Linear(_dInner, d_model, c.Bias);
        dropout = nn.Dropout(c.Dropout);
        RegisterComponents();
    }

    /// <summary>x: (batch, H, W, d_model), or (batch, d_model, H, W) when channel-first -> the same shape.</summary>
    public override Tensor forward(Tensor x)
    {
        var shape = ImageShape.OfImage(x, nameof(x), ChannelFirst);
        if (shape.Channels != _dModel)
            throw Check.Fail(nameof(x), $"{_dModel} channels in {shape.Layout}", $"shape {Check.Shape(x.shape)}");
        using var scope = NewDisposeScope();
        int channelDim = ChannelFirst ? 1 : 3;
        var projected = in_proj.call(x);
        var u = projected.narrow(channelDim, 0, _dInner);
        Tensor? z = null;
        if (_gated) {
            z = projected.narrow(channelDim, _dInner, _dInner);
            if (_gateActivation) z = nn.functional.silu(z);
        }
        var image = ChannelFirst ? u : u.permute(0, 3, 1, 2);  // (batch, d_inner, H, W) for the conv
        if (conv2d is not null) image = conv2d.call(image);
        image = nn.functional.silu(image);

        var merged = CrossSelectiveScan(image);
        var y = ChannelFirst ? merged.view(shape.Batch, _dInner, shape.Height, shape.Width)
                             : merged.view(shape.Batch, shape.Height, shape.Width, _dInner);
        y = out_norm.call(y);
        if (_outputActivation) y = nn.functional.gelu(y);
        if (z is not null) y = y * z;
        return dropout.call(out_proj.call(y)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The scan core, from the activated conv output (batch, d_inner, H, W) to the merged sequences before
    /// out_norm: (batch, d_inner, H * W) channel-first, (batch, H * W, d_inner) channel-last.
    /// </summary>
    private Tensor CrossSelectiveScan(Tensor image)
    {
        using var scope = NewDisposeScope();
        var A = -A_logs.@float().exp();
        var D = Ds.@float();
        var deltaBias = dt_projs_bias.@float().view(K * _dInner);
        if (Config.Scan == ScanImplementation.Fused && Config.FusedScan) {
            // The projections act on each pixel, so they commute with the scan orders: computed once in pixel
            // order, (dt_rank + 2N, d_inner) @ (d_inner, L) per direction k, broadcast over the batch.
            long batch = image.shape[0], L = image.shape[2] * image.shape[3];
            var xDbl = x_proj_weight.matmul(image.reshape(batch, 1, _dInner, L));   // (batch, 4, dt_rank + 2N, L)
            var delta = dt_projs_weight.matmul(xDbl.narrow(2, 0, _dtRank));         // (batch, 4, d_inner, L)
            var B = xDbl.narrow(2, _dtRank, _dState);                                 // (batch, 4, N, L)
            var C = xDbl.narrow(2, _dtRank + _dState, _dState);
            return ops.cross_selective_scan(image, delta, A, B, C, D, deltaBias, delta_softplus: true,
                                            channel_first: ChannelFirst).MoveToOuterDisposeScope();
        }
        return ComposedCrossSelectiveScan(image, A, D, deltaBias).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The scan core as separate ops (upstream's structure): cross scan, projections of the four scan-ordered
    /// copies, ONE selective scan over 4 d_inner channels with groups = 4, cross merge.
    /// </summary>
    private Tensor ComposedCrossSelectiveScan(Tensor image, Tensor A, Tensor D, Tensor deltaBias)
    {
        bool fused = Config.Scan == ScanImplementation.Fused;
        long batch = image.shape[0], height = image.shape[2], width = image.shape[3], L = height * width;

        var xs = fused ? ops.cross_scan(image) : reference.cross_scan(image);   // (batch, 4, d_inner, L)
        // Per direction k: (dt_rank + 2N, d_inner) @ (d_inner, L), batched over (batch, k).
        var xDbl = x_proj_weight.matmul(xs);                                      // (batch, 4, dt_rank + 2N, L)
        var dts = xDbl.narrow(2, 0, _dtRank);
        var B = xDbl.narrow(2, _dtRank, _dState).contiguous();                    // (batch, 4, N, L): groups = 4
        var C = xDbl.narrow(2, _dtRank + _dState, _dState).contiguous();
        var delta = dt_projs_weight.matmul(dts).view(batch, K * _dInner, L);      // (batch, 4 d_inner, L)
        var u = xs.view(batch, K * _dInner, L);

        var ys = fused
            ? ops.selective_scan(u, delta, A, B, C, D, null, deltaBias, delta_softplus: true)
            : reference.selective_scan(u, delta, A, B, C, D, null, deltaBias, delta_softplus: true);
        var scans = ys.view(batch, K, _dInner, height, width);
        return fused ? ops.cross_merge(scans, ChannelFirst) : reference.cross_merge(scans, ChannelFirst);
    }

    // Upstream's forward_type: "v0", or a v2-family name with the suffixes "_oact", "_noz", "_nozact"
    // stripped from the end in that order. Returns (z gate, SiLU on z, GELU on the output).
    private static (bool Gated, bool GateActivation, bool OutputActivation) ParseForwardType(string forwardType, bool channelFirst)
    {
        const string supported = "\"v0\", or one of v01, v02, v03, v04, v05, v2, v3 with optional suffixes _oact, _noz, _nozact (e.g. \"v05_noz\")";
        if (forwardType == "v0") {
            if (channelFirst)
                throw new ArgumentException("config: forward type \"v0\" (the paper's SS2D) is channel-last only, as upstream", "config");
            return (true, true, false);
        }
        var rest = forwardType ?? "";
        bool outputActivation = StripSuffix(ref rest, "_oact");
        bool noGate = StripSuffix(ref rest, "_noz");
        bool noGateActivation = StripSuffix(ref rest, "_nozact");
        if (rest is not ("v01" or "v02" or "v03" or "v04" or "v05" or "v2" or "v3"))
            throw new ArgumentException($"config: expected ForwardType {supported}, got \"{forwardType}\"", "config");
        return (!noGate, !noGateActivation, outputActivation);
    }

    private static bool StripSuffix(ref string value, string suffix)
    {
        if (!value.EndsWith(suffix, StringComparison.Ordinal)) return false;
        value = value[..^suffix.Length];
        return true;
    }
}
