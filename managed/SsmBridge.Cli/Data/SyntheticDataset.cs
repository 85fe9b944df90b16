using static TorchSharp.torch;

namespace SsmBridge.Cli.Data;

/// <summary>
/// A generated image classification task that needs no files and is spatially structured: class k is a
/// Gabor patch (a sinusoidal grating under a Gaussian envelope) whose stripes run at k * 180 / classes
/// degrees, with random position, size, spatial frequency, phase and contrast, on a noisy background.
/// Telling the classes apart takes oriented, local features, which is what the models here must learn.
/// Deterministic for a given seed.
/// </summary>
public static class SyntheticDataset
{
    public static readonly string[] ClassNames = Enumerable.Range(0, 10).Select(k => $"{k * 18} deg").ToArray();

    public static ImageDataset Create(long trainCount = 10_000, long testCount = 2_000, long size = 28, int seed = 0)
    {
        var generator = new Generator((ulong)seed);
        var train = Generate(trainCount, size, generator);
        var test = Generate(testCount, size, generator);
        return new ImageDataset("synthetic", train, test, ClassNames);
    }

    private static ImageSplit Generate(long count, long size, Generator g)
    {
        using var scope = NewDisposeScope();
        long classes = ClassNames.Length;
        var labels = randint(0, classes, new[] { count }, generator: g, dtype: ScalarType.Int64);
        var theta = labels.to_type(ScalarType.Float32) * (MathF.PI / classes) + (rand(count, generator: g) - 0.5f) * (MathF.PI / classes * 0.3f);
        var cx = (rand(count, generator: g) - 0.5f) * 0.5f;   // centre within the middle half
        var cy = (rand(count, generator: g) - 0.5f) * 0.5f;
        var sigma = rand(count, generator: g) * 0.15f + 0.2f;  // envelope, in units of the image side
        var freq = rand(count, generator: g) * 2.5f + 3.5f;   // cycles per image side
        var phase = rand(count, generator: g) * (2 * MathF.PI);
        var contrast = rand(count, generator: g) * 0.5f + 0.5f;

        var axis = linspace(-0.5, 0.5, size).to_type(ScalarType.Float32);
        var yy = axis.view(1, size, 1);
        var xx = axis.view(1, 1, size);
        Tensor V(Tensor t) => t.view(count, 1, 1);
        var along = (xx - V(cx)) * V(theta.cos()) + (yy - V(cy)) * V(theta.sin());
        var grating = (along * V(freq) * (2 * MathF.PI) + V(phase)).cos();
        var envelope = (-((xx - V(cx)).square() + (yy - V(cy)).square()) / (2 * V(sigma).square())).exp();
        var image = 0.5f + 0.45f * V(contrast) * grating * envelope + 0.08f * randn(new[] { count, size, size }, generator: g);
        var bytes = (image.clamp(0, 1) * 255).round().to_type(ScalarType.Byte).unsqueeze(1);
        return new ImageSplit(bytes.MoveToOuterDisposeScope(), labels.MoveToOuterDisposeScope());
    }
}
