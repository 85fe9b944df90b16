using BenchmarkDotNet.Attributes;
using SsmBridge.Cli.Benchmarking;

namespace SsmBridge.Bench;

/// <summary>
/// The issue-10 models in BenchmarkDotNet, batch 1: inference forward and AdamW training step of Vim-Ti, Vim-Ti on
/// the reference ops, VMamba-T, S4ND-ViT-Ti and DeiT-Ti at 224. Times only: peak memory needs a fresh process per
/// point, which the `models` sweep (<see cref="ModelSweep"/>) does across image sizes.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(ModelConfig))]
public class ModelComparisonBenchmarks
{
    [ParamsSource(nameof(Keys))] public string Model = "";
    [Params(224)] public long Size;

    public static IEnumerable<string> Keys => BenchModel.All.Select(m => m.Key);

    private ModelStep _inference = null!, _training = null!;

    [GlobalSetup]
    public void Setup()
    {
        _inference = new ModelStep(BenchModel.Get(Model), Size, BenchMode.Inference);
        _training = new ModelStep(BenchModel.Get(Model), Size, BenchMode.Training);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _inference.Dispose();
        _training.Dispose();
    }

    [Benchmark]
    public void Inference() => _inference.Step();

    [Benchmark]
    public void TrainingStep() => _training.Step();
}
