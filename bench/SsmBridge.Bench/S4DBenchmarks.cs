using BenchmarkDotNet.Attributes;
using SsmBridge.Modules;
using static TorchSharp.torch;

namespace SsmBridge.Bench;

/// <summary>One s4d_kernel call: rows H (channels x d_model as S4ND asks), modes N, length L.</summary>
public sealed record S4DKernelCase(string Name, int H, int N, int L)
{
    public static IEnumerable<S4DKernelCase> All() => new[] {
        new S4DKernelCase("CIFAR layer axis", 1024, 32, 32),   // d_model 512, bidirectional: 2 x 512 rows
        new S4DKernelCase("ViT-B layer", 3072, 32, 196),       // channels 2, bidirectional: 4 x 768 rows
        new S4DKernelCase("long 1-D", 256, 32, 4096),
    };

    public override string ToString() => $"{Name} (H={H},N={N},L={L})";
}

/// <summary>
/// <see cref="ops.s4d_kernel"/> (native, O(H N L) without an (H, N, L) tensor) against
/// <see cref="reference.s4d_kernel"/> (S4D's naive Vandermonde path in TorchSharp), float32, forward and
/// forward+backward.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(ModelConfig))]
public class S4DKernelBenchmarks
{
    [ParamsSource(nameof(Cases))] public S4DKernelCase Case = null!;
    public static IEnumerable<S4DKernelCase> Cases => S4DKernelCase.All();

    private Tensor[] _x = null!, _leaves = null!;
    private Tensor _dK = null!;

    [GlobalSetup]
    public void Setup()
    {
        manual_seed(0);
        var c = Case;
        var logDt = rand(c.H) * (Math.Log(0.1) - Math.Log(0.001)) + Math.Log(0.001);
        var Ar = full(c.H, c.N, -0.5f);
        var Ai = (-Math.PI * arange(c.N)).expand(c.H, c.N).contiguous();
        _x = new[] { logDt, Ar, Ai, randn(c.H, c.N), randn(c.H, c.N) };
        _leaves = _x.Select(t => t.clone().requires_grad_()).ToArray();
        _dK = randn(c.H, c.L);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var t in _x.Concat(_leaves).Append(_dK)) t.Dispose();
    }

    [Benchmark(Baseline = true)]
    public void ReferenceForward()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        reference.s4d_kernel(_x[0], _x[1], _x[2], _x[3], _x[4], Case.L);
    }

    [Benchmark]
    public void FusedForward()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        ops.s4d_kernel(_x[0], _x[1], _x[2], _x[3], _x[4], Case.L);
    }

    [Benchmark]
    public void ReferenceForwardBackward()
    {
        using var scope = NewDisposeScope();
        var K = reference.s4d_kernel(_leaves[0], _leaves[1], _leaves[2], _leaves[3], _leaves[4], Case.L);
        K.backward(new[] { _dK });
        foreach (var l in _leaves) l.grad?.zero_();
    }

    [Benchmark]
    public void FusedForwardBackward()
    {
        using var scope = NewDisposeScope();
        var K = ops.s4d_kernel(_leaves[0], _leaves[1], _leaves[2], _leaves[3], _leaves[4], Case.L);
        K.backward(new[] { _dK });
        foreach (var l in _leaves) l.grad?.zero_();
    }
}

/// <summary>A channel-first feature map and the span of the kernel: S4ND's covers lags -(l_max - 1)..l_max - 1.</summary>
public sealed record S4NDLayerCase(string Name, int Batch, int Channels, int Size, int LMax)
{
    public static IEnumerable<S4NDLayerCase> All() => new[] {
        new S4NDLayerCase("ConvNeXt-T s2, 7x7", 8, 192, 28, 4),
        new S4NDLayerCase("ConvNeXt-T s2, global", 8, 192, 28, 28),
        new S4NDLayerCase("CIFAR 32x32, global", 8, 128, 32, 32),
    };

    public int ConvKernel => 2 * LMax - 1;

    public override string ToString() => $"{Name} (B={Batch},C={Channels},{Size}x{Size},k={ConvKernel})";
}

/// <summary>
/// One bidirectional 2-D S4ND layer (d_state 64, linear, FFT convolution plus kernel generation) against a
/// depthwise Conv2d whose kernel spans the same lags (2 l_max - 1 per axis), float32, forward and
/// forward+backward.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(ModelConfig))]
public class S4NDLayerBenchmarks
{
    [ParamsSource(nameof(Cases))] public S4NDLayerCase Case = null!;
    public static IEnumerable<S4NDLayerCase> Cases => S4NDLayerCase.All();

    private S4ND _s4nd = null!;
    private TorchSharp.Modules.Conv2d _conv = null!;
    private Tensor _x = null!, _xLeaf = null!;

    [GlobalSetup]
    public void Setup()
    {
        manual_seed(0);
        var c = Case;
        _s4nd = new S4ND(c.Channels, new S4NDConfig { DState = 64, LMax = new long?[] { c.LMax, c.LMax }, NSsm = 1, Init = "fourier", DtMin = 0.1, DtMax = 1.0 });
        _conv = nn.Conv2d(c.Channels, c.Channels, c.ConvKernel, padding: c.ConvKernel / 2, groups: c.Channels);
        _x = randn(c.Batch, c.Channels, c.Size, c.Size);
        _xLeaf = _x.clone().requires_grad_();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _x.Dispose();
        _xLeaf.Dispose();
        _s4nd.Dispose();
        _conv.Dispose();
    }

    [Benchmark(Baseline = true)]
    public void DepthwiseConvForward()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        _conv.call(_x);
    }

    [Benchmark]
    public void S4NDForward()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        _s4nd.call(_x);
    }

    [Benchmark]
    public void DepthwiseConvForwardBackward()
    {
        using var scope = NewDisposeScope();
        _conv.call(_xLeaf).sum().backward();
        _conv.zero_grad();
    }

    [Benchmark]
    public void S4NDForwardBackward()
    {
        using var scope = NewDisposeScope();
        _s4nd.call(_xLeaf).sum().backward();
        _s4nd.zero_grad();
    }
}
