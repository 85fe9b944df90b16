using BenchmarkDotNet.Attributes;
using SsmBridge.Modules;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SsmBridge.Bench;

/// <summary>
/// One model at 224: inference forward (no_grad, eval) and one AdamW training step, batch 1 and 8. The classes below
/// name the model; BenchmarkDotNet reports each under its own class name (filter with e.g. '*VimBenchmarks*').
/// </summary>
[MemoryDiagnoser]
[Config(typeof(ModelConfig))]
public abstract class ModelBenchmarks
{
    [Params(1, 8)] public int Batch;

    private nn.Module<Tensor, Tensor> _model = null!;
    private Tensor _images = null!, _labels = null!;
    private AdamW _optimizer = null!;

    protected abstract nn.Module<Tensor, Tensor> CreateModel();

    [GlobalSetup]
    public void Setup()
    {
        manual_seed(0);
        _model = CreateModel();
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

/// <summary>Vim-Ti (vim_tiny_patch16_224).</summary>
public class VimBenchmarks : ModelBenchmarks
{
    protected override nn.Module<Tensor, Tensor> CreateModel() => models.vim_tiny_patch16_224();
}

/// <summary>VMamba-T (vmamba_tiny_s1l8).</summary>
public class VMambaBenchmarks : ModelBenchmarks
{
    protected override nn.Module<Tensor, Tensor> CreateModel() => models.vmamba_tiny_s1l8();
}
