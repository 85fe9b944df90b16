using static TorchSharp.torch;

namespace SsmBridge.Cli.Data;

/// <summary>
/// Resolves <c>--dataset</c>: <c>fashion-mnist</c> (searched in the usual places), <c>synthetic</c>, or a
/// folder holding the four IDX files of an MNIST-style data set.
/// </summary>
public static class DatasetLoader
{
    public static readonly string[] FashionMnistClasses = {
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    };

    /// <summary>Where <c>fashion-mnist</c> is looked for, in order: $SSMB_DATA/fashion-mnist, Debian's package, the user cache.</summary>
    public static IEnumerable<string> FashionMnistLocations()
    {
        var env = Environment.GetEnvironmentVariable("SSMB_DATA");
        if (!string.IsNullOrEmpty(env)) yield return Path.Combine(env, "fashion-mnist");
        yield return "/usr/share/datasets/fashion-mnist";
        yield return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "ssmbridge", "fashion-mnist");
    }

    public static ImageDataset Load(string spec, int seed, long? limitTrain = null, long? limitTest = null)
    {
        var dataset = spec switch {
            "synthetic" => SyntheticDataset.Create(seed: seed),
            "fashion-mnist" => LoadFolder(FindFashionMnist(FashionMnistLocations()), "fashion-mnist", FashionMnistClasses),
            _ => LoadFolder(spec, Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(spec))), null),
        };
        if (limitTrain is null && limitTest is null) return dataset;
        return new ImageDataset(dataset.Name, dataset.Train.Take(limitTrain ?? long.MaxValue), dataset.Test.Take(limitTest ?? long.MaxValue), dataset.ClassNames);
    }

    internal static string FindFashionMnist(IEnumerable<string> locations)
    {
        foreach (var dir in locations)
            if (FindFile(dir, "train", "images") is not null) return dir;
        throw new CliException("Fashion-MNIST not found in " + string.Join(", ", locations) +
                               "; install it with `sudo apt-get install dataset-fashion-mnist` (or `./build.sh deps`), " +
                               "or pass --dataset <folder with the IDX files>");
    }

    /// <summary>Loads train-/t10k- images and labels (idx3/idx1, raw or .gz) from <paramref name="folder"/>.</summary>
    public static ImageDataset LoadFolder(string folder, string name, IReadOnlyList<string>? classNames)
    {
        if (!Directory.Exists(folder))
            throw new CliException($"data folder '{folder}' does not exist (expected --dataset fashion-mnist, synthetic or a folder of IDX files)");
        var train = LoadSplit(folder, "train");
        var test = LoadSplit(folder, "t10k");
        long maxLabel = Math.Max(train.Labels.max().item<long>(), test.Labels.max().item<long>());
        var names = classNames is not null && maxLabel < classNames.Count ? classNames
            : Enumerable.Range(0, (int)maxLabel + 1).Select(i => i.ToString()).ToArray();
        return new ImageDataset(name, train, test, names);
    }

    private static ImageSplit LoadSplit(string folder, string split)
    {
        var imagesPath = FindFile(folder, split, "images")
            ?? throw new CliException($"data folder '{folder}' has no {split}-images-idx3-ubyte[.gz] file");
        var labelsPath = FindFile(folder, split, "labels")
            ?? throw new CliException($"data folder '{folder}' has no {split}-labels-idx1-ubyte[.gz] file");
        var images = Read(imagesPath);
        var labels = Read(labelsPath);
        if (images.Shape.Length is not (3 or 4))
            throw new CliException($"{imagesPath}: expected (count, height, width) images, got {images.Shape.Length} dimensions");
        if (labels.Shape.Length != 1)
            throw new CliException($"{labelsPath}: expected one label per image (1 dimension), got {labels.Shape.Length} dimensions");
        if (labels.Count != images.Count)
            throw new CliException($"{labelsPath}: {labels.Count} labels for {images.Count} images in {Path.GetFileName(imagesPath)}");

        // (count, height, width) grey or (count, height, width, channels) colour, made channel-first.
        var imageTensor = tensor(images.Data, new long[] { images.Shape[0], images.Shape[1], images.Shape[2], images.Shape.Length == 4 ? images.Shape[3] : 1 }, ScalarType.Byte)
            .permute(0, 3, 1, 2).contiguous();
        var labelTensor = tensor(labels.Data, ScalarType.Byte).to_type(ScalarType.Int64);
        return new ImageSplit(imageTensor, labelTensor);
    }

    private static IdxArray Read(string path)
    {
        try {
            return IdxReader.Read(path);
        } catch (InvalidDataException e) {
            throw new CliException(e.Message, ExitCodes.UsageError, e);
        }
    }

    private static string? FindFile(string folder, string split, string kind)
    {
        string rank = kind == "images" ? "idx3" : "idx1";
        foreach (var stem in new[] { $"{split}-{kind}-{rank}-ubyte", $"{split}-{kind}.{rank}-ubyte" })
        foreach (var ext in new[] { "", ".gz" }) {
            var path = Path.Combine(folder, stem + ext);
            if (File.Exists(path)) return path;
        }
        return null;
    }
}
