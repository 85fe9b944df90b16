using SsmBridge.Cli.Data;
using static TorchSharp.torch;

namespace SsmBridge.Cli.Tests;

public class DatasetTests
{
    [Theory]
    [InlineData("")]
    [InlineData(".gz")]
    public void Loads_an_idx_folder_with_shapes_labels_and_statistics(string ext)
    {
        using var dir = new TempDir();
        IdxFixtures.WriteDataset(dir.Path, train: 40, test: 12, size: 16, ext: ext);

        using var data = DatasetLoader.LoadFolder(dir.Path, "quadrants", null);

        Assert.Equal(new long[] { 40, 1, 16, 16 }, data.Train.Images.shape);
        Assert.Equal(new long[] { 12, 1, 16, 16 }, data.Test.Images.shape);
        Assert.Equal(ScalarType.Byte, data.Train.Images.dtype);
        Assert.Equal(ScalarType.Int64, data.Train.Labels.dtype);
        Assert.Equal(4, data.NumClasses);
        // A quarter of each image is bright (~228), the rest dark (~30): mean about 0.31 in [0, 1].
        Assert.InRange(data.Mean, 0.25, 0.37);
        // The label says which quadrant is bright.
        var first = data.Train.Images[0, 0];
        long label = data.Train.Labels[0].item<long>();
        long r0 = label / 2 * 8, c0 = label % 2 * 8;
        Assert.True(first[r0 + 2, c0 + 2].item<byte>() >= 200);
    }

    [Fact]
    public void Images_and_labels_of_different_counts_are_rejected()
    {
        using var dir = new TempDir();
        IdxFixtures.WriteDataset(dir.Path, train: 10, test: 5, size: 8, ext: "");
        IdxReader.Write(dir.File("t10k-labels-idx1-ubyte"), new[] { 4 }, new byte[4]);

        var e = Assert.Throws<CliException>(() => DatasetLoader.LoadFolder(dir.Path, "x", null));
        Assert.Contains("4 labels for 5 images", e.Message);
    }

    [Fact]
    public void Missing_folder_and_missing_files_are_clear_errors()
    {
        Assert.Contains("does not exist", Assert.Throws<CliException>(() => DatasetLoader.LoadFolder("/nonexistent/fmnist", "x", null)).Message);
        using var dir = new TempDir();
        Assert.Contains("no train-images-idx3-ubyte[.gz]", Assert.Throws<CliException>(() => DatasetLoader.LoadFolder(dir.Path, "x", null)).Message);
    }

    [Fact]
    public void Synthetic_data_is_deterministic_balanced_and_spatially_structured()
    {
        using var a = SyntheticDataset.Create(trainCount: 2000, testCount: 100, seed: 5);
        using var b = SyntheticDataset.Create(trainCount: 2000, testCount: 100, seed: 5);
        Assert.True(a.Train.Images.eq(b.Train.Images).all().item<bool>());
        Assert.Equal(10, a.NumClasses);
        var counts = a.Train.Labels.bincount(null, 10).data<long>().ToArray();
        Assert.All(counts, c => Assert.InRange(c, 140, 260));

        // Not noise: neighbouring pixels are strongly correlated, far more than for independent pixels.
        using var x = a.Train.Images.to_type(ScalarType.Float32);
        var left = x.narrow(3, 0, 27).flatten();
        var right = x.narrow(3, 1, 27).flatten();
        var l = left - left.mean();
        var r = right - right.mean();
        var correlation = ((l * r).mean() / (l.std(unbiased: false) * r.std(unbiased: false))).item<float>();
        Assert.True(correlation > 0.3, $"neighbour correlation {correlation}");

        // The class is in the orientation: 0 deg stripes vary along x (columns), 90 deg ones along y (rows).
        Tensor Class(long k) => x.index_select(0, a.Train.Labels.eq(k).nonzero().squeeze(1));
        double AlongX(Tensor images) => images.diff(dim: 3).abs().mean().item<float>();
        double AlongY(Tensor images) => images.diff(dim: 2).abs().mean().item<float>();
        Assert.True(AlongX(Class(0)) > 1.3 * AlongY(Class(0)));
        Assert.True(AlongY(Class(5)) > 1.3 * AlongX(Class(5)));
    }

    [Fact]
    public void Input_transform_normalizes_resizes_and_repeats_channels()
    {
        using var images = full(new long[] { 2, 1, 8, 8 }, 255, ScalarType.Byte);
        var transform = new InputTransform(Mean: 0.5f, Std: 0.25f, ImageSize: 16, Channels: 3);
        using var x = transform.Apply(images);
        Assert.Equal(new long[] { 2, 3, 16, 16 }, x.shape);
        Assert.Equal(2.0, x.mean().item<float>(), 4);
    }
}
