using TorchSharp;
using static TorchSharp.torch;

namespace SsmBridge.Cli.Benchmarking;

/// <summary>
/// One benchmark model with its input, ready to step: batch 1 of random 3 x size x size images and 1000 classes;
/// inference runs the forward in eval mode under no_grad, training runs one AdamW step on cross-entropy.
/// </summary>
public sealed class ModelStep : IDisposable
{
    private readonly nn.Module<Tensor, Tensor> _model;
    private readonly Tensor _images, _labels;
    private readonly optim.Optimizer? _optimizer;

    public ModelStep(BenchModel spec, long size, BenchMode mode, int seed = 0)
    {
        manual_seed(seed);
        _model = ModelRegistry.Get(spec.Factory).Create(1000, 3, size, spec.Args);
        _images = randn(1, 3, size, size);
        _labels = randint(0, 1000, new long[] { 1 });
        if (mode == BenchMode.Training) {
            _model.train();
            _optimizer = optim.AdamW(_model.parameters(), lr: 1e-4);
        } else {
            _model.eval();
        }
    }

    public void Step()
    {
        using var scope = NewDisposeScope();
        if (_optimizer is null) {
            using var noGrad = no_grad();
            _model.forward(_images);
            return;
        }
        _optimizer.zero_grad();
        nn.functional.cross_entropy(_model.forward(_images), _labels).backward();
        _optimizer.step();
    }

    public void Dispose()
    {
        _optimizer?.Dispose();
        _model.Dispose();
        _images.Dispose();
        _labels.Dispose();
    }
}
