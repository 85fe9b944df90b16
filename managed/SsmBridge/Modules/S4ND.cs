using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SsmBridge.Modules;

/// <summary>
/// Options of <see cref="S4ND"/>, with state-spaces/s4's defaults (<c>modules/s4nd.py</c>) except the kernel:
/// ours is always the diagonal S4D kernel (upstream mode 'diag'); upstream's default and the paper's configs use
/// the DPLR (S4) kernel, whose checkpoints are not interchangeable with these.
/// </summary>
public sealed record S4NDConfig
{
    /// <summary>State size N (d_state / 2 complex modes per kernel).</summary>
    public long DState { get; init; } = 64;
    /// <summary>Maximum kernel length per axis (null entries, or a null array: as long as the input).</summary>
    public long?[]? LMax { get; init; }
    /// <summary>Number of axes: 1, 2 or 3.</summary>
    public int Dim { get; init; } = 2;
    /// <summary>The SSM maps one channel to this many (the output has channels * d_model features before output_linear).</summary>
    public long Channels { get; init; } = 1;
    /// <summary>Kernels that see both directions of each axis (half the channels causal, half anti-causal).</summary>
    public bool Bidirectional { get; init; } = true;
    /// <summary>Activation after the convolution when not <see cref="Linear"/>: gelu, relu, silu, tanh, glu, id.</summary>
    public string Activation { get; init; } = "gelu";
    /// <summary>Activation of output_linear (null: none; glu doubles its width).</summary>
    public string? FinalAct { get; init; }
    /// <summary>Dropout after the activation (not applied when <see cref="Linear"/>).</summary>
    public double Dropout { get; init; }
    /// <summary>(batch, d_model, L...) when true, else (batch, L..., d_model).</summary>
    public bool Transposed { get; init; } = true;
    /// <summary>When true (upstream's default), no activation, dropout or output_linear.</summary>
    public bool Linear { get; init; } = true;
    /// <summary>Dropout with one mask per (sample, feature), shared over positions (upstream DropoutNd).</summary>
    public bool TieDropout { get; init; }
    /// <summary>
    /// When set, a full (not depthwise) convolution from d_model to channels * out_channels features: the
    /// kernel has channels * out_channels outputs per input feature and the results are summed over the input
    /// features (no D skip; needs <see cref="Linear"/>). Upstream uses this in ConvNeXt-S4ND's stem.
    /// </summary>
    public long? OutChannels { get; init; }
    /// <summary>
    /// The convolution runs as one direct depthwise convolution per axis (the N-D kernel is an outer product)
    /// when the axes' kernels have at most this many taps together and the map at most
    /// <see cref="DirectMaxPositions"/> positions, else through the FFT as upstream; both give the same result.
    /// Measured on 2 cores (fwd+bwd): direct 2-3x faster at 7x7 and 28x28, slower at 56x56 (libtorch's
    /// depthwise-convolution backward).
    /// </summary>
    public long DirectMaxTaps { get; init; } = 128;
    /// <summary>See <see cref="DirectMaxTaps"/>.</summary>
    public long DirectMaxPositions { get; init; } = 1024;
    // Kernel options (SSMKernelDiag).
    /// <summary>Initialization of A and B, a name of <see cref="S4DInit"/> (upstream's default 'legs').</summary>
    public string Init { get; init; } = "legs";
    /// <summary>Smallest initial dt (log-uniform in [DtMin, DtMax]).</summary>
    public double DtMin { get; init; } = 0.001;
    /// <summary>Largest initial dt.</summary>
    public double DtMax { get; init; } = 0.1;
    /// <summary>Independent (A, B) copies per axis kernel, dividing d_model; null: d_model.</summary>
    public long? NSsm { get; init; }
    /// <summary>Frequency cut-off applied to the kernels for resolution changes, or null for none.</summary>
    public double? Bandlimit { get; init; }
}

/// <summary>
/// S4ND (Nguyen et al. 2022, state-spaces/s4 <c>S4ND</c>): a multi-dimensional state space layer whose
/// convolution kernel is the outer product of one S4D kernel per axis (<c>kernel.0</c>, <c>kernel.1</c>, ...),
/// applied to every feature map with an FFT convolution of size L_input + L_kernel per axis, cropped to the
/// input, plus the skip <c>D</c> (channels, d_model); then optionally activation, dropout and
/// <c>output_linear</c>. Bidirectional kernels split each axis kernel's channels in two halves: the first
/// acts on lags 0..L_kernel-1, the second, flipped, on lags -1..-L_kernel. Zero-shot resolution change:
/// with <see cref="Rate"/> r the kernel has length round(l_max / r) (at most the input's) and step dt r.
/// </summary>
public sealed class S4ND : nn.Module<Tensor, Tensor>
{
    private readonly Parameter D;
    private readonly ModuleList<S4DKernel> kernel;
    private readonly nn.Module<Tensor, Tensor>? output_linear;
    private readonly nn.Module<Tensor, Tensor>? activation;
    private readonly nn.Module<Tensor, Tensor>? dropout;

    /// <summary>Features of the input and output.</summary>
    public long DModel { get; }
    /// <summary>The options the layer was built with.</summary>
    public S4NDConfig Config { get; }
    /// <summary>Resolution rate used by <see cref="forward(Tensor)"/>: 1 at the training resolution.</summary>
    public double Rate { get; set; } = 1.0;

    /// <summary>An S4ND layer over d_model features; upstream's defaults when config is null.</summary>
    public S4ND(long d_model, S4NDConfig? config = null) : base(nameof(S4ND))
    {
        var c = config ?? new S4NDConfig();
        if (d_model < 1) throw new ArgumentException($"d_model: expected >= 1, got {d_model}", nameof(d_model));
        if (c.Dim is < 1 or > 3) throw new ArgumentException($"dim: expected 1, 2 or 3, got {c.Dim}", "dim");
        if (c.LMax is not null && c.LMax.Length != c.Dim)
            throw new ArgumentException($"l_max: expected {c.Dim} entries (one per axis), got {c.LMax.Length}", "l_max");
        if (c.Channels < 1) throw new ArgumentException($"channels: expected >= 1, got {c.Channels}", "channels");
        DModel = d_model;
        Config = c;
        D = new Parameter(randn(c.Channels, d_model));
        if (c.OutChannels is long outChannels && (outChannels < 1 || !c.Linear))
            throw new ArgumentException($"out_channels: expected >= 1 with linear = true, got {outChannels} (linear = {c.Linear})", "out_channels");
        long kernelChannels = c.Channels * (c.OutChannels ?? 1) * (c.Bidirectional ? 2 : 1);
        kernel = new ModuleList<S4DKernel>(Enumerable.Range(0, c.Dim).Select(i =>
            new S4DKernel(d_model, c.DState, c.LMax?[i], kernelChannels, c.Init, c.DtMin, c.DtMax, c.NSsm, c.Bandlimit)).ToArray());
        if (!c.Linear) {
            activation = S4NDActivation.Create(c.Activation, 1);
            dropout = c.Dropout <= 0 ? null : c.TieDropout ? new TiedDropout(c.Dropout, featureFirst: true) : nn.Dropout(c.Dropout);
            output_linear = S4NDActivation.LinearActivation(d_model * c.Channels, d_model, c.Transposed, c.FinalAct);
        }
        RegisterComponents();
    }

    /// <summary>u: (batch, d_model, L...) when <see cref="S4NDConfig.Transposed"/>, else (batch, L..., d_model) -> the same shape, at <see cref="Rate"/>.</summary>
    public override Tensor forward(Tensor u) => forward(u, Rate);

    /// <summary>u: (batch, d_model, L...) when transposed, else (batch, L..., d_model); same shape out.</summary>
    public Tensor forward(Tensor u, double rate)
    {
        var c = Config;
        if (u.dim() != c.Dim + 2)
            throw new ArgumentException($"u: expected a {c.Dim + 2}-D tensor {(c.Transposed ? "(batch, d_model, L...)" : "(batch, L..., d_model)")}, got shape [{string.Join(", ", u.shape)}]", nameof(u));
        if (!(rate > 0)) throw new ArgumentException($"rate: expected > 0, got {rate}", nameof(rate));
        using var scope = NewDisposeScope();
        var x = c.Transposed ? u : u.movedim(new[] { -1L }, new[] { 1L });
        if (x.shape[1] != DModel) throw new ArgumentException($"u: expected {DModel} features, got shape [{string.Join(", ", u.shape)}]", nameof(u));
        var inputType = x.dtype;
        if (inputType is ScalarType.Float16 or ScalarType.BFloat16) x = x.to_type(ScalarType.Float32);
        int d = c.Dim;
        var Lin = x.shape.Skip(2).ToArray();
        var Lk = KernelLengths(Lin, rate);
        var k = AxisKernels(Lin, Lk, rate, x.dtype);
        var taps = S4NDConvolution.Taps(Lin, Lk, c.Bidirectional);
        bool direct = taps.Sum(t => t.Max - t.Min + 1) <= c.DirectMaxTaps && Lin.Aggregate(1L, (a, b) => a * b) <= c.DirectMaxPositions;
        var y = direct
            ? S4NDConvolution.Direct(x, k, Lin, taps, c.OutChannels)
            : S4NDConvolution.Apply(x, k, Lin, Lk, c.OutChannels);
        if (c.OutChannels is null)
            y = y + x.unsqueeze(1) * D.to_type(x.dtype).view(D.shape.Concat(Enumerable.Repeat(1L, d)).ToArray());
        y = y.flatten(1, 2);                                        // (batch, channels * H or channels * out, L...)
        if (!c.Linear) {
            y = activation!.call(y);
            if (dropout is not null) y = dropout.call(y);
        }
        if (!c.Transposed) y = y.movedim(new[] { 1L }, new[] { -1L });
        if (output_linear is not null) y = output_linear.call(y);
        return y.to_type(inputType).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Kernel length per axis for an input of lengths <paramref name="Lin"/> at <paramref name="rate"/>:
    /// min(L_input, round(l_max / rate)), or L_input where l_max is null.
    /// </summary>
    public long[] KernelLengths(long[] Lin, double rate) =>
        Lin.Select((l, i) => kernel[i].LMax is long lmax
                                 ? Math.Min(l, Math.Max(1, (long)Math.Round(lmax / rate, MidpointRounding.ToEven)))
                                 : l).ToArray();

    /// <summary>
    /// The per-axis kernels (channels, H, length): L_kernel long, or when bidirectional L_kernel + L_input
    /// long with the second half's kernel flipped onto the negative lags.
    /// </summary>
    public Tensor[] AxisKernels(long[] Lin, long[] Lk, double rate, ScalarType dtype)
    {
        var result = new Tensor[Lin.Length];
        for (int i = 0; i < Lin.Length; i++) {
            var k = kernel[i].forward(Lk[i], rate).to_type(dtype);
            if (Config.Bidirectional) {
                var halves = k.chunk(2, 0);
                k = nn.functional.pad(halves[0], new[] { 0L, Lin[i] }) + nn.functional.pad(halves[1].flip(-1), new[] { Lin[i], 0L });
            }
            result[i] = k;
        }
        return result;
    }
}

/// <summary>
/// The convolution of S4ND: y[b, c, h] = u[b, h] convolved with the outer product of the axis kernels [c, h], where
/// axis kernel i (length P_i = L_input + L_kernel, as upstream pads it) holds lag l at index l mod P_i; through the
/// FFT (upstream's way) or directly, one depthwise convolution per axis over the lags that can be non-zero.
/// </summary>
internal static class S4NDConvolution
{
    /// <summary>Lags that reach an output, per axis: 0..min(Lk, Lin) - 1, and down to -min(Lk, Lin - 1) when bidirectional.</summary>
    public static (long Min, long Max)[] Taps(long[] Lin, long[] Lk, bool bidirectional) =>
        Lin.Select((l, i) => (bidirectional ? -Math.Min(Lk[i], l - 1) : 0L, Math.Min(Lk[i], l) - 1)).ToArray();

    /// <summary>The same result as <see cref="Apply"/>, by direct depthwise convolutions along each axis.</summary>
    public static Tensor Direct(Tensor x, Tensor[] k, long[] Lin, (long Min, long Max)[] taps, long? outChannels)
    {
        int d = Lin.Length;
        long B = x.shape[0], H = x.shape[1], C = k[0].shape[0];
        var spatial = x.shape.Skip(2).ToArray();
        var y = x.unsqueeze(1).expand(new[] { B, C, H }.Concat(spatial).ToArray()).reshape(new[] { B, C * H }.Concat(spatial).ToArray());
        for (int i = 0; i < d; i++) {
            var (lo, hi) = taps[i];
            long P = k[i].shape[2];
            // Weights over lags hi, hi - 1, ..., lo (a convolution is a correlation with the flipped kernel).
            var positive = k[i].narrow(2, 0, hi + 1);
            var lags = lo < 0 ? cat(new[] { k[i].narrow(2, P + lo, -lo), positive }, 2) : positive;
            var shape = Enumerable.Repeat(1L, d + 2).ToArray();
            (shape[0], shape[2 + i]) = (C * H, hi - lo + 1);
            var w = lags.flip(2).reshape(shape);
            var pad = new long[2 * d];
            (pad[2 * (d - 1 - i)], pad[2 * (d - 1 - i) + 1]) = (hi, -lo);
            var padded = nn.functional.pad(y, pad);
            y = d switch {
                1 => nn.functional.conv1d(padded, w, groups: C * H),
                2 => nn.functional.conv2d(padded, w, groups: C * H),
                _ => nn.functional.conv3d(padded, w, groups: C * H),
            };
        }
        y = y.view(new[] { B, C, H }.Concat(spatial).ToArray());
        if (outChannels is long o)
            y = y.view(new[] { B, o, C / o, H }.Concat(spatial).ToArray()).sum(3).transpose(1, 2);
        return y;
    }

    /// <summary>
    /// (B, C, H, L...) from x (B, H, L...) and axis kernels (C, H, P_i); with out_channels, C = out * channels
    /// (out-major) and the result (B, channels, out, L...) is summed over H.
    /// </summary>
    public static Tensor Apply(Tensor x, Tensor[] k, long[] Lin, long[] Lk, long? outChannels = null)
    {
        int d = Lin.Length;
        var padded = Lin.Zip(Lk, (a, b) => a + b).ToArray();
        var dims = Enumerable.Range(2, d).Select(i => (long)i).ToArray();
        var uf = fft.rfftn(x, padded, dims);                       // (B, H, P1, ..., Pd/2+1)
        Tensor? kf = null;
        for (int i = 0; i < d; i++) {
            var fi = i < d - 1 ? fft.fft_(k[i], padded[i], -1) : fft.rfft(k[i], padded[i], -1);  // (C, H, Pi)
            var shape = new List<long> { fi.shape[0], fi.shape[1] };
            for (int j = 0; j < d; j++) shape.Add(j == i ? fi.shape[2] : 1);
            var v = fi.view(shape.ToArray());
            kf = kf is null ? v : kf * v;
        }
        var yf = uf.unsqueeze(1) * kf!.unsqueeze(0);              // (B, C, H, ...)
        if (outChannels is long o) {
            // '(i c) h' -> sum over h -> (c, i), in frequency space (the inverse transform is linear).
            var s = yf.shape;
            yf = yf.view(new[] { s[0], o, s[1] / o }.Concat(s.Skip(2)).ToArray()).sum(3).transpose(1, 2);
        }
        var y = fft.irfftn(yf, padded, dims.Select(t => t + 1).ToArray());
        for (int i = 0; i < d; i++) y = y.narrow(3 + i, 0, Lin[i]);
        return y;                                                   // (B, C, H, L...)
    }
}

/// <summary>Upstream's Activation and LinearActivation pieces that S4ND uses.</summary>
internal static class S4NDActivation
{
    public static nn.Module<Tensor, Tensor> Create(string? name, long dim) => name switch {
        null or "id" or "identity" or "linear" => nn.Identity(),
        "gelu" => nn.GELU(),
        "relu" => nn.ReLU(),
        "silu" or "swish" => nn.SiLU(),
        "tanh" => nn.Tanh(),
        "sigmoid" => nn.Sigmoid(),
        "glu" => nn.GLU(dim),
        _ => throw new ArgumentException($"activation: expected gelu, relu, silu, tanh, sigmoid, glu or id, got '{name}'", "activation"),
    };

    /// <summary>
    /// LinearActivation(d_input, d_output, transposed, activation, activate=True): a linear map of the feature
    /// axis (dimension 1 when transposed, else the last), output doubled for glu; wrapped with its activation
    /// as a Sequential ("0", "1") when there is one, as upstream's state-dict names say.
    /// </summary>
    public static nn.Module<Tensor, Tensor> LinearActivation(long dInput, long dOutput, bool transposed, string? activation)
    {
        if (activation is not null && activation.StartsWith("glu")) dOutput *= 2;
        nn.Module<Tensor, Tensor> linear = transposed ? new TransposedLinear(dInput, dOutput) : nn.Linear(dInput, dOutput);
        if (activation is null) return linear;
        return nn.Sequential(("0", linear), ("1", Create(activation, transposed ? 1 : -1)));
    }
}

/// <summary>Upstream's TransposedLinear: <c>weight</c> (d_output, d_input), <c>bias</c> (d_output) on dimension 1 of (B, D, L...).</summary>
public sealed class TransposedLinear : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly Parameter bias;

    /// <summary>A map from dInput to dOutput features on dimension 1.</summary>
    public TransposedLinear(long dInput, long dOutput) : base(nameof(TransposedLinear))
    {
        var bound = 1 / Math.Sqrt(dInput);  // nn.Linear's default initialisation
        weight = new Parameter(empty(dOutput, dInput).uniform_(-bound, bound));
        bias = new Parameter(empty(dOutput).uniform_(-bound, bound));
        RegisterComponents();
    }

    /// <summary>x: (batch, dInput, L...) -> (batch, dOutput, L...).</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var y = nn.functional.linear(x.movedim(new[] { 1L }, new[] { -1L }), weight, bias).movedim(new[] { -1L }, new[] { 1L });
        return y.MoveToOuterDisposeScope();
    }
}

/// <summary>
/// Dropout with one mask per (sample, feature) shared by every position (upstream DropoutNd with tie=True);
/// features on dimension 1 of (B, D, L...) when <c>featureFirst</c>, else on the last of (B, L..., D).
/// </summary>
public sealed class TiedDropout : nn.Module<Tensor, Tensor>
{
    private readonly double _p;
    private readonly bool _featureFirst;

    /// <summary>Dropout with probability p; featureFirst when features are dimension 1 (else the last).</summary>
    public TiedDropout(double p, bool featureFirst) : base(nameof(TiedDropout))
    {
        if (p < 0 || p >= 1) throw new ArgumentOutOfRangeException(nameof(p), p, "p: expected 0 <= p < 1");
        (_p, _featureFirst) = (p, featureFirst);
    }

    /// <summary>x -> the same shape, one mask per (sample, feature) in training.</summary>
    public override Tensor forward(Tensor x)
    {
        if (!training || _p == 0) return x.alias();
        using var scope = NewDisposeScope();
        var shape = Enumerable.Repeat(1L, (int)x.dim()).ToArray();
        int f = _featureFirst ? 1 : (int)x.dim() - 1;
        (shape[0], shape[f]) = (x.shape[0], x.shape[f]);
        var keep = empty(shape, x.dtype, x.device).bernoulli_(1 - _p).div_(1 - _p);
        return (x * keep).MoveToOuterDisposeScope();
    }
}
