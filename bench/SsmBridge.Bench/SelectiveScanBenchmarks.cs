using BenchmarkDotNet.Attributes;
using SsmBridge;
using static TorchSharp.torch;

namespace SsmBridge.Bench;

/// <summary>
/// Fused selective scan against the materialized TorchSharp reference, forward and forward+backward,
/// with every option on (softplus, delta_bias, D, z; selective B and C).
/// </summary>
[MemoryDiagnoser]
public class SelectiveScanBenchmarks
{
    [Params(1, 2)] public int Batch;
    [Params(384)] public int Dim;
    [Params(197, 1024)] public int L;
    [Params(16)] public int N;

    private Tensor _u = null!, _delta = null!, _A = null!, _B = null!, _C = null!, _D = null!, _z = null!, _bias = null!;

    [GlobalSetup]
    public void Setup()
    {
        manual_seed(0);
        _u = randn(Batch, Dim, L);
        _delta = rand(Batch, Dim, L) - 2;
        _A = -(rand(Dim, N) + 0.5);
        _B = randn(Batch, 1, N, L);
        _C = randn(Batch, 1, N, L);
        _D = randn(Dim);
        _z = randn(Batch, Dim, L);
        _bias = rand(Dim) - 0.5;
    }

    [Benchmark(Baseline = true)]
    public void ReferenceForward()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        reference.selective_scan(_u, _delta, _A, _B, _C, _D, _z, _bias, delta_softplus: true);
    }

    [Benchmark]
    public void FusedForward()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        ops.selective_scan(_u, _delta, _A, _B, _C, _D, _z, _bias, delta_softplus: true);
    }

    [Benchmark]
    public void ReferenceForwardBackward() => ForwardBackward(reference.selective_scan);

    [Benchmark]
    public void FusedForwardBackward() => ForwardBackward(ops.selective_scan);

    private delegate Tensor Scan(Tensor u, Tensor delta, Tensor A, Tensor B, Tensor C, Tensor? D, Tensor? z,
                                 Tensor? delta_bias, bool delta_softplus, bool reverse);

    private void ForwardBackward(Scan scan)
    {
        using var scope = NewDisposeScope();
        var u = _u.detach().requires_grad_();
        var delta = _delta.detach().requires_grad_();
        var A = _A.detach().requires_grad_();
        var B = _B.detach().requires_grad_();
        var C = _C.detach().requires_grad_();
        scan(u, delta, A, B, C, _D, _z, _bias, true, false).sum().backward();
    }
}
