using BenchmarkDotNet.Attributes;
using static TorchSharp.torch;

namespace SsmBridge.Bench;

/// <summary>
/// Fused selective scan (<see cref="ops"/>) against the materialized TorchSharp reference
/// (<see cref="reference"/>), forward and forward+backward, on the shapes. Forward+backward runs
/// the backward of sum(out) with every input a leaf; <see cref="FusedForwardBackwardModelLike"/> runs it
/// as inside a model.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(ScanConfig))]
public class SelectiveScanBenchmarks
{
    [ParamsSource(nameof(Cases))] public ScanCase Case = null!;
    public static IEnumerable<ScanCase> Cases => ScanCase.Standard();

    private ScanInputs _inputs = null!, _grads = null!;
    private Tensor _dout = null!;

    [GlobalSetup]
    public void Setup()
    {
        _inputs = new ScanInputs(Case, requiresGrad: false);
        _grads = new ScanInputs(Case, requiresGrad: true);
        _dout = randn(Case.Batch, Case.Dim, Case.L);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _inputs.Dispose();
        _grads.Dispose();
        _dout.Dispose();
    }

    [Benchmark(Baseline = true)]
    public void ReferenceForward()
    {
        using var scope = NewDisposeScope();
        _inputs.Run(reference.selective_scan);
    }

    [Benchmark]
    public void FusedForward()
    {
        using var scope = NewDisposeScope();
        _inputs.Run(ops.selective_scan);
    }

    [Benchmark]
    public void ReferenceForwardBackward()
    {
        using var scope = NewDisposeScope();
        _grads.RunWithBackward(reference.selective_scan);
    }

    [Benchmark]
    public void FusedForwardBackward()
    {
        using var scope = NewDisposeScope();
        _grads.RunWithBackward(ops.selective_scan);
    }

    /// <summary>
    /// Forward+backward as inside a model (`scan-loop --views --dout`): u, delta, z, B and C enter as views
    /// of the leaves (activations, whose gradients the engine hands on without the copies AccumulateGrad
    /// makes for a leaf), and the output's gradient arrives as a contiguous tensor, as from the next layer.
    /// </summary>
    [Benchmark]
    public void FusedForwardBackwardModelLike()
    {
        using var scope = NewDisposeScope();
        _grads.RunWithBackward(ops.selective_scan, views: true, dout: _dout);
    }
}

/// <summary>The fused kernels with 1 and 2 threads (torch.set_num_threads), side by side.</summary>
[Config(typeof(ScanConfig))]
public class ThreadScalingBenchmarks
{
    [Params(1, 2)] public int Threads;
    [ParamsSource(nameof(Cases))] public ScanCase Case = null!;
    public static IEnumerable<ScanCase> Cases => ScanCase.Standard().Where(c => c.Name.StartsWith("target"));

    private ScanInputs _inputs = null!, _grads = null!;
    private int _savedThreads;

    [GlobalSetup]
    public void Setup()
    {
        _savedThreads = get_num_threads();
        set_num_threads(Threads);
        _inputs = new ScanInputs(Case, requiresGrad: false);
        _grads = new ScanInputs(Case, requiresGrad: true);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _inputs.Dispose();
        _grads.Dispose();
        set_num_threads(_savedThreads);
    }

    [Benchmark]
    public void FusedForward()
    {
        using var scope = NewDisposeScope();
        _inputs.Run(ops.selective_scan);
    }

    [Benchmark]
    public void FusedForwardBackward()
    {
        using var scope = NewDisposeScope();
        _grads.RunWithBackward(ops.selective_scan);
    }
}
