using static TorchSharp.torch;

namespace SsmBridge.Cli.Data;

/// <summary>
/// An image classification split held in memory: uint8 images (count, channels, height, width) and int64
/// labels, batched into normalized float32 tensors.
/// </summary>
public sealed class ImageSplit : IDisposable
{
    public ImageSplit(Tensor images, Tensor labels)
    {
        if (images.dim() != 4) throw new ArgumentException($"images: expected (count, channels, height, width), got {images.dim()} dimensions", nameof(images));
        if (labels.dim() != 1 || labels.shape[0] != images.shape[0])
            throw new ArgumentException($"labels: expected {images.shape[0]} labels, got shape [{string.Join(", ", labels.shape)}]", nameof(labels));
        Images = images;
        Labels = labels;
    }

    /// <summary>(count, channels, height, width), uint8.</summary>
    public Tensor Images { get; }
    /// <summary>(count), int64.</summary>
    public Tensor Labels { get; }
    public long Count => Images.shape[0];

    /// <summary>The first <paramref name="count"/> examples (a view, shares memory).</summary>
    public ImageSplit Take(long count) => count >= Count ? this : new ImageSplit(Images.narrow(0, 0, count), Labels.narrow(0, 0, count));

    public void Dispose()
    {
        Images.Dispose();
        Labels.Dispose();
    }
}

/// <summary>A data set: train and test splits, class names and the train split's pixel statistics.</summary>
public sealed class ImageDataset : IDisposable
{
    public ImageDataset(string name, ImageSplit train, ImageSplit test, IReadOnlyList<string> classNames)
    {
        if (train.Images.shape.Skip(1).SequenceEqual(test.Images.shape.Skip(1)) == false)
            throw new InvalidDataException($"{name}: train images [{string.Join(", ", train.Images.shape.Skip(1))}] and test images [{string.Join(", ", test.Images.shape.Skip(1))}] differ in size");
        Name = name;
        Train = train;
        Test = test;
        ClassNames = classNames;
        using var scope = NewDisposeScope();
        var pixels = train.Images.to_type(ScalarType.Float32).div_(255);
        Mean = pixels.mean().item<float>();
        Std = Math.Max(pixels.std().item<float>(), 1e-3f);
    }

    public string Name { get; }
    public ImageSplit Train { get; }
    public ImageSplit Test { get; }
    public IReadOnlyList<string> ClassNames { get; }
    public long NumClasses => ClassNames.Count;
    public long Channels => Train.Images.shape[1];
    public long Height => Train.Images.shape[2];
    public long Width => Train.Images.shape[3];
    /// <summary>Mean and standard deviation of the train pixels in [0, 1], for normalization.</summary>
    public float Mean { get; }
    public float Std { get; }

    public void Dispose()
    {
        Train.Dispose();
        Test.Dispose();
    }
}

/// <summary>
/// Turns uint8 image batches into what a model takes: float32 in [0, 1], normalized with the data set's
/// statistics, resized to the model's input size and repeated to its channel count (grey images into an
/// RGB model).
/// </summary>
public sealed record InputTransform(float Mean, float Std, long ImageSize, long Channels)
{
    public Tensor Apply(Tensor images)
    {
        using var scope = NewDisposeScope();
        var x = images.to_type(ScalarType.Float32).div_(255).sub_(Mean).div_(Std);
        if (x.shape[2] != ImageSize || x.shape[3] != ImageSize)
            x = nn.functional.interpolate(x, new[] { ImageSize, ImageSize }, mode: InterpolationMode.Bilinear, align_corners: false);
        if (x.shape[1] != Channels) {
            if (x.shape[1] != 1)
                throw new CliException($"the model takes {Channels}-channel images, the data set has {x.shape[1]} channels");
            x = x.expand(-1, Channels, -1, -1).contiguous();
        }
        return x.MoveToOuterDisposeScope();
    }
}
