using SsmBridge.Cli;
using SsmBridge.Cli.Data;

namespace SsmBridge.Cli.Tests;

/// <summary>Bad input: one clear line on stderr, a non-zero exit code, never a stack trace.</summary>
public class BadInputTests
{
    [Fact]
    public void Unknown_model()
    {
        using var dir = new TempDir();
        var (exit, _, err) = Cli.Run("train", "--model", "vim_tiny", "--dataset", "synthetic", "--out", dir.Path);
        Assert.Equal(ExitCodes.UsageError, exit);
        Cli.AssertOneLineError(err, "unknown model 'vim_tiny'");
    }

    [Fact]
    public void Missing_data_folder()
    {
        using var dir = new TempDir();
        var (exit, _, err) = Cli.Run("train", "--dataset", dir.File("no-such-folder"), "--out", dir.File("run"));
        Assert.Equal(ExitCodes.UsageError, exit);
        Cli.AssertOneLineError(err, "does not exist");
    }

    [Fact]
    public void Corrupt_idx_file()
    {
        using var dir = new TempDir();
        IdxFixtures.WriteDataset(dir.Path, train: 20, test: 10, ext: "");
        var images = dir.File("train-images-idx3-ubyte");
        var bytes = File.ReadAllBytes(images);
        File.WriteAllBytes(images, bytes[..(bytes.Length - 1000)]);

        var (exit, _, err) = Cli.Run("train", "--dataset", dir.Path, "--out", dir.File("run"));

        Assert.Equal(ExitCodes.UsageError, exit);
        Cli.AssertOneLineError(err, "truncated IDX file");
        Assert.Contains("train-images-idx3-ubyte", err);
    }

    [Fact]
    public void Negative_epochs()
    {
        var (exit, _, err) = Cli.Run("train", "--epochs", "-2", "--dataset", "synthetic");
        Assert.Equal(ExitCodes.UsageError, exit);
        Cli.AssertOneLineError(err, "--epochs must not be negative, got -2");
    }

    [Fact]
    public void Unwritable_out_folder()
    {
        using var dir = new TempDir();
        var file = dir.File("a-file");
        File.WriteAllText(file, "not a folder");
        var (exit, _, err) = Cli.Run("train", "--dataset", "synthetic", "--out", Path.Combine(file, "run"));
        Assert.Equal(ExitCodes.UsageError, exit);
        Cli.AssertOneLineError(err, "cannot write to --out");
    }

    [Fact]
    public void Missing_checkpoint()
    {
        using var dir = new TempDir();
        var (exit, _, err) = Cli.Run("eval", "--checkpoint", dir.Path);
        Assert.Equal(ExitCodes.UsageError, exit);
        Cli.AssertOneLineError(err, "no checkpoint at");
    }

    [Fact]
    public void Unknown_model_argument()
    {
        var (exit, _, err) = Cli.Run("bench", "--model", "vim_demo", "-a", "depth=deep");
        Assert.Equal(ExitCodes.UsageError, exit);
        Cli.AssertOneLineError(err, "argument depth expects a Int32");
    }

    [Fact]
    public void Missing_fashion_mnist_says_how_to_get_it()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<CliException>(() => DatasetLoader.FindFashionMnist(new[] { dir.File("a"), dir.File("b") }));
        Assert.Contains("apt-get install dataset-fashion-mnist", e.Message);
        Assert.Contains(dir.File("a"), e.Message);
        IdxFixtures.WriteDataset(dir.Path, train: 2, test: 2);
        Assert.Equal(dir.Path, DatasetLoader.FindFashionMnist(new[] { dir.File("a"), dir.Path }));
    }
}
