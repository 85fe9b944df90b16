using BenchmarkDotNet.Attributes;
using SsmBridge.Modules;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SsmBridge.Bench;

/// <summary>VMamba-T (vmamba_tiny_s1l8) at 224: inference forward (no_grad, eval) and one AdamW training step, batch 1 and 8.</summary>
[MemoryDiagnoser]
[Config(typeof(ModelConfig))]
public class VMambaBenchmarks
{
    [Params(1, 8)] public int Batch;

    private VSSM _model = null!;
    private Tensor _images = null!, _labels = null!;
    private AdamW _optimizer = null!;

    [GlobalSetup]
    public void Setup()
    {
        manual_seed(0);
        _model = models.vmamba_tiny_s1l8();
        _images = randn(Batch, 3, 224, 224);
        _labels = randint(0, 1000, Batch);
        _optimizer = optim.AdamW(_model.parameters(), lr: 1e-4);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _model.Dispose();
        _images.Dispose();
        _labels.Dispose();
    }

    [Benchmark]
    public void Forward()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        _model.eval();
        _model.forward(_images);
    }

    [Benchmark]
    public void TrainingStep()
    {
        using var scope = NewDisposeScope();
        _model.train();
        _optimizer.zero_grad();
        nn.functional.cross_entropy(_model.forward(_images), _labels).backward();
        _optimizer.step();
    }
}
