using BenchmarkDotNet.Attributes;
using static TorchSharp.torch;

namespace SsmBridge.Bench;

/// <summary>
/// One SS2D scan core: image (batch, dim, height, width), N states per channel, four directions; float32,
/// channel-first output, softplus, D and delta_bias on (as SS2D calls it).
/// </summary>
public sealed record CrossScanCase(string Name, int Batch, int Dim, int Height, int Width, int N)
{
    /// <summary>VMamba-T stage 1 at 224 (56 x 56): d_inner 192 as the paper's v0 (N 16) and N 1 as the released v2.</summary>
    public static IEnumerable<CrossScanCase> Standard() => new[] {
        new CrossScanCase("s1 N1", 1, 192, 56, 56, 1),
        new CrossScanCase("s1 N16", 1, 192, 56, 56, 16),
    };

    public static CrossScanCase Parse(string name) =>
        Standard().FirstOrDefault(c => c.Name == name) ?? throw new ArgumentException($"unknown case '{name}'");

    public long L => (long)Height * Width;

    public override string ToString() => $"{Name} ({Batch},{Dim},{Height}x{Width},{N})";
}

/// <summary>
/// The inputs of a <see cref="CrossScanCase"/> for both implementations: the fused op reads delta, B, C per
/// direction in pixel order; the composition (cross_scan -> selective_scan -> cross_merge, what SS2D runs
/// without the fused op) reads them in each direction's scan order, prepared once outside the timing.
/// </summary>
public sealed class CrossScanInputs : IDisposable
{
    public readonly Tensor u, delta, A, B, C, D, delta_bias, deltaScan, BScan, CScan, dout;
    private readonly CrossScanCase _case;

    public CrossScanInputs(CrossScanCase c, bool requiresGrad)
    {
        _case = c;
        manual_seed(0);
        u = randn(c.Batch, c.Dim, c.Height, c.Width);
        delta = rand(new long[] { c.Batch, 4, c.Dim, c.L }) * 2 - 3;
        A = -(rand(4 * c.Dim, c.N) + 0.5);
        B = randn(c.Batch, 4, c.N, c.L);
        C = randn(c.Batch, 4, c.N, c.L);
        D = randn(4 * c.Dim);
        delta_bias = rand(4 * c.Dim) - 0.5;
        using (no_grad()) {
            deltaScan = InScanOrder(delta).view(c.Batch, 4 * c.Dim, c.L);
            BScan = InScanOrder(B);
            CScan = InScanOrder(C);
        }
        dout = randn(c.Batch, c.Dim, c.L);
        if (requiresGrad)
            foreach (var t in All) t.requires_grad_();
    }

    public Tensor[] All => new[] { u, delta, A, B, C, D, delta_bias, deltaScan, BScan, CScan };

    public Tensor Fused() => ops.cross_selective_scan(u, delta, A, B, C, D, delta_bias, delta_softplus: true);

    /// <summary><see cref="reference.cross_selective_scan"/>: the same composition in plain TorchSharp ops, from pixel-order inputs.</summary>
    public Tensor Reference() => reference.cross_selective_scan(u, delta, A, B, C, D, delta_bias, delta_softplus: true);

    public Tensor Composed()
    {
        var c = _case;
        var xs = ops.cross_scan(u).view(c.Batch, 4 * c.Dim, c.L);
        var ys = ops.selective_scan(xs, deltaScan, A, BScan, CScan, D, null, delta_bias, delta_softplus: true);
        return ops.cross_merge(ys.view(c.Batch, 4, c.Dim, c.Height, c.Width));
    }

    /// <summary>Forward, then backward of a fixed output gradient; gradients are dropped afterwards.</summary>
    public void WithBackward(Func<Tensor> run)
    {
        using (var scope = NewDisposeScope()) {
            var output = run();
            output.backward(new[] { dout });
        }
        foreach (var t in All) {
            t.grad?.Dispose();
            t.grad = null;
        }
    }

    // (batch, 4, rows, L) in pixel order -> slice k in direction k's scan order (the cross scan of slice k, kept
    // for direction k only).
    private Tensor InScanOrder(Tensor perDirection)
    {
        var c = _case;
        var slices = new Tensor[4];
        for (int k = 0; k < 4; k++) {
            var image = perDirection.select(1, k).reshape(c.Batch, -1, c.Height, c.Width);
            slices[k] = ops.cross_scan(image).select(1, k);
        }
        return stack(slices, 1).contiguous();
    }

    public void Dispose()
    {
        foreach (var t in All.Append(dout)) t.Dispose();
    }
}

/// <summary>
/// SS2D's scan core at VMamba-T stage 1: the fused <see cref="ops.cross_selective_scan"/> against the
/// composition of our separate fused ops (cross_scan -> selective_scan -> cross_merge) and against
/// <see cref="reference.cross_selective_scan"/> (plain TorchSharp ops), forward and forward+backward. Peak memory: <c>memory-cross</c> (<see cref="MemoryProbe"/>).
/// </summary>
[MemoryDiagnoser]
[Config(typeof(ScanConfig))]
[MinColumn, MedianColumn]  // the minimum and median resist a shared machine's noise
public class CrossSelectiveScanBenchmarks
{
    [ParamsSource(nameof(Cases))] public CrossScanCase Case = null!;
    public static IEnumerable<CrossScanCase> Cases => CrossScanCase.Standard();

    private CrossScanInputs _inputs = null!, _leaves = null!;

    [GlobalSetup]
    public void Setup()
    {
        _inputs = new CrossScanInputs(Case, requiresGrad: false);
        _leaves = new CrossScanInputs(Case, requiresGrad: true);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _inputs.Dispose();
        _leaves.Dispose();
    }

    [Benchmark(Baseline = true)]
    public void ComposedForward()
    {
        using var scope = NewDisposeScope();
        _inputs.Composed();
    }

    [Benchmark]
    public void FusedForward()
    {
        using var scope = NewDisposeScope();
        _inputs.Fused();
    }

    [Benchmark]
    public void ComposedForwardBackward() => _leaves.WithBackward(_leaves.Composed);

    [Benchmark]
    public void FusedForwardBackward() => _leaves.WithBackward(_leaves.Fused);

    [Benchmark]
    public void ReferenceForward()
    {
        using var scope = NewDisposeScope();
        _inputs.Reference();
    }

    [Benchmark]
    public void ReferenceForwardBackward() => _leaves.WithBackward(_leaves.Reference);
}
