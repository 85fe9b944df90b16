using BenchmarkDotNet.Attributes;
using static TorchSharp.torch;

namespace SsmBridge.Bench;

/// <summary>
/// Fused selective scan (<see cref="ops"/>) against the materialized TorchSharp reference
/// (<see cref="reference"/>), forward and forward+backward, on the shapes.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(ScanConfig))]
public class SelectiveScanBenchmarks
{
    [ParamsSource(nameof(Cases))] public ScanCase Case = null!;
    public static IEnumerable<ScanCase> Cases => ScanCase.Standard();

    private ScanInputs _inputs = null!, _grads = null!;

    [GlobalSetup]
    public void Setup()
    {
        _inputs = new ScanInputs(Case, requiresGrad: false);
        _grads = new ScanInputs(Case, requiresGrad: true);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _inputs.Dispose();
        _grads.Dispose();
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
