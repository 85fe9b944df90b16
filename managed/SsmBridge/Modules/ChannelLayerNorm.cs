using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SsmBridge.Modules;

/// <summary>
/// What <see cref="ChannelLastLayerNorm"/> and <see cref="LayerNorm2d"/> share: a LayerNorm over one channel
/// dimension with parameters <c>weight</c> (ones) and <c>bias</c> (zeros) of size channels, the names and
/// values of nn.LayerNorm(channels). They are fields of the module, not of a TorchSharp LayerNorm: TorchSharp
/// 0.107's LayerNorm disposes its weight and bias when the module is finalized, so a state dict or parameter
/// list taken from a model that was then collected held dead tensors. These live as long as anything
/// references them; <see cref="nn.Module.Dispose()"/> still frees them at once.
/// </summary>
public abstract class ChannelLayerNorm : nn.Module<Tensor, Tensor>
{
    // Protected, not private: TorchSharp registers and converts a module's parameters through the fields
    // of its runtime type, which include a base class's protected fields but not its private ones.
    /// <summary>The scale, <c>weight</c> in the state dict.</summary>
    protected readonly Parameter weight;
    /// <summary>The shift, <c>bias</c> in the state dict.</summary>
    protected readonly Parameter bias;
    private readonly long[] _shape;

    /// <summary>A LayerNorm named name over channels, with epsilon eps.</summary>
    protected ChannelLayerNorm(string name, long channels, double eps) : base(name)
    {
        if (channels < 1) throw new ArgumentOutOfRangeException(nameof(channels), channels, "channels: expected >= 1");
        _shape = new[] { channels };
        Eps = eps;
        weight = new Parameter(ones(channels));
        bias = new Parameter(zeros(channels));
        RegisterComponents();
    }

    /// <summary>The size of the normalized dimension.</summary>
    public long Channels => _shape[0];

    /// <summary>The epsilon added to the variance.</summary>
    public double Eps { get; }

    /// <summary>x normalized over its last dimension, which must have <see cref="Channels"/> entries.</summary>
    protected Tensor NormalizeLast(Tensor x) => nn.functional.layer_norm(x, _shape, weight, bias, Eps);

    /// <summary>Throws, naming x, what was expected and x's shape, unless ok.</summary>
    protected static void CheckInput(Tensor x, bool ok, string expected)
    {
        if (!ok) throw new ArgumentException($"x: expected {expected}, got shape [{string.Join(", ", x.shape)}]", nameof(x));
    }
}
