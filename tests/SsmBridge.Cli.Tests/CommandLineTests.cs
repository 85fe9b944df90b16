using System.CommandLine;
using SsmBridge.Cli;

namespace SsmBridge.Cli.Tests;

public class CommandLineTests
{
    private static (ParseResult Parse, CliDefinition Cli) Parse(params string[] args)
    {
        var cli = new CliDefinition();
        var root = cli.Build((_, _) => 0);
        return (root.Parse(args), cli);
    }

    [Fact]
    public void Train_options_parse_with_defaults()
    {
        var (r, cli) = Parse("train");
        Assert.Empty(r.Errors);
        Assert.Equal("train", r.CommandResult.Command.Name);
        Assert.Equal("vim_demo", r.GetValue(cli.Model));
        Assert.Equal("fashion-mnist", r.GetValue(cli.Dataset));
        Assert.Equal(32, r.GetValue(cli.BatchSize));
        Assert.Equal(2e-3, r.GetValue(cli.Lr));
        Assert.Equal(2, r.GetValue(cli.Epochs));
        Assert.Equal(0, r.GetValue(cli.Seed));
        Assert.Equal("normal", r.GetValue(cli.Verbosity));
    }

    [Fact]
    public void Train_options_parse_every_value()
    {
        var (r, cli) = Parse("train", "--model", "vmamba_demo", "--dataset", "synthetic", "--epochs", "1.5", "-b", "16", "--lr", "0.01",
                             "--img-size", "32", "--threads", "1", "--seed", "7", "--out", "runs/x", "-a", "dim=16", "-a", "patch_size=4",
                             "--max-steps", "20", "-v", "quiet");
        Assert.Empty(r.Errors);
        Assert.Equal("vmamba_demo", r.GetValue(cli.Model));
        Assert.Equal("synthetic", r.GetValue(cli.Dataset));
        Assert.Equal(1.5, r.GetValue(cli.Epochs));
        Assert.Equal(16, r.GetValue(cli.BatchSize));
        Assert.Equal(0.01, r.GetValue(cli.Lr));
        Assert.Equal(32, r.GetValue(cli.ImgSize));
        Assert.Equal(1, r.GetValue(cli.Threads));
        Assert.Equal(7, r.GetValue(cli.Seed));
        Assert.Equal("runs/x", r.GetValue(cli.Out));
        Assert.Equal(20, r.GetValue(cli.MaxSteps));
        Assert.Equal("quiet", r.GetValue(cli.Verbosity));
        var args = ModelRegistry.ParseArgs(r.GetValue(cli.ModelArgs));
        Assert.Equal("16", args["dim"]);
        Assert.Equal("4", args["patch_size"]);
    }

    [Theory]
    [InlineData("--epochs", "-1", "--epochs must not be negative")]
    [InlineData("--batch-size", "0", "--batch-size must be positive")]
    [InlineData("--lr", "-0.1", "--lr must be positive")]
    [InlineData("--label-smoothing", "1.5", "--label-smoothing must lie in [0, 1]")]
    [InlineData("--epochs", "two", "two")]
    public void Out_of_range_values_are_one_line_errors(string option, string value, string expected)
    {
        var (exit, _, err) = Cli.Run("train", option, value);
        Assert.Equal(ExitCodes.UsageError, exit);
        Cli.AssertOneLineError(err, expected);
        Assert.Contains("ssmbridge train --help", err);
    }

    [Fact]
    public void Unknown_options_commands_and_verbosities_are_one_line_errors()
    {
        var (exit, _, err) = Cli.Run("train", "--epoch", "3");
        Assert.Equal(ExitCodes.UsageError, exit);
        Cli.AssertOneLineError(err, "--epoch");
        (exit, _, err) = Cli.Run("fit");
        Assert.Equal(ExitCodes.UsageError, exit);
        Cli.AssertOneLineError(err, "fit");
        (exit, _, err) = Cli.Run("info", "-v", "loud");
        Assert.Equal(ExitCodes.UsageError, exit);
        Cli.AssertOneLineError(err, "loud");
        (exit, _, err) = Cli.Run("eval");
        Assert.Equal(ExitCodes.UsageError, exit);
        Cli.AssertOneLineError(err, "--checkpoint");
    }

    [Fact]
    public void Help_lists_the_commands_and_exits_zero()
    {
        var (exit, output, _) = Cli.Run("--help");
        Assert.Equal(0, exit);
        foreach (var command in new[] { "train", "eval", "bench", "erf", "info" }) Assert.Contains(command, output);
    }

    [Fact]
    public void Info_names_the_cpu_path_and_whose_threads_run_the_kernels()
    {
        var (exit, output, _) = Cli.Run("info");
        Assert.Equal(0, exit);
        Assert.Contains($"CPU code path    {Runtime.CpuIsa}", output);
        // Under TorchSharp on Linux the kernels run on libtorch's own OpenMP team.
        Assert.Contains(OperatingSystem.IsLinux() ? "(openmp libgomp" : "(pool)", output);
    }

    [Fact]
    public void Model_args_must_be_name_value_pairs()
    {
        Assert.Contains("name=value", Assert.Throws<CliException>(() => ModelRegistry.ParseArgs(new[] { "depth" })).Message);
    }
}
