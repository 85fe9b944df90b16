using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging.Abstractions;
using SsmBridge.Cli;
using SsmBridge.Cli.Data;
using SsmBridge.Cli.Training;
using static TorchSharp.torch;

namespace SsmBridge.Cli.Tests;

public class TrainingTests
{
    [Fact]
    public void Cosine_schedule_warms_up_linearly_then_decays_to_the_floor()
    {
        var s = new CosineSchedule(PeakLr: 1.0, WarmupSteps: 10, TotalSteps: 110, MinLr: 0.01);
        Assert.Equal(0.1, s.At(0), 12);
        Assert.Equal(1.0, s.At(9), 12);
        Assert.Equal(1.0, s.At(10), 12);
        Assert.Equal(0.505, s.At(60), 12);
        Assert.Equal(0.01, s.At(110), 12);
        for (long t = 10; t < 110; t++) Assert.True(s.At(t + 1) <= s.At(t));
    }

    [Fact]
    public void Twenty_steps_on_synthetic_decrease_the_loss()
    {
        manual_seed(0);
        using var data = DatasetLoader.Load("synthetic", seed: 0, limitTrain: 640, limitTest: 128);
        var model = ModelRegistry.Get("vim_demo").Create(data.NumClasses, 1, 28, new Dictionary<string, string> { ["embed_dim"] = "32", ["depth"] = "2" });
        var transform = new InputTransform(data.Mean, data.Std, 28, 1);
        var probe = data.Train.Take(256);
        double before = Evaluator.Run(model, probe, transform, data.NumClasses, 128).Loss;

        var result = new Trainer(NullLogger.Instance, TextWriter.Null, liveProgress: false)
            .Run(model, data, transform, new TrainOptions { MaxSteps = 20, Epochs = 10, BatchSize = 32, Lr = 3e-3, Warmup = 0.1, Seed = 0 }, default);

        Assert.Equal(20, result.Steps);
        Assert.Equal(20, result.StepLosses.Count);
        Assert.False(result.Interrupted);
        double after = Evaluator.Run(model, probe, transform, data.NumClasses, 128).Loss;
        Assert.True(after < before - 0.02, $"loss on 256 train images: {before:0.0000} before, {after:0.0000} after 20 steps");
        double first = result.StepLosses.Take(5).Average(), last = result.StepLosses.TakeLast(5).Average();
        Assert.True(last < first, $"step losses: first five {first:0.0000}, last five {last:0.0000}");
    }

    [Fact]
    public void Cancelling_stops_between_steps()
    {
        using var data = DatasetLoader.Load("synthetic", seed: 0, limitTrain: 320, limitTest: 32);
        var model = ModelRegistry.Get("vim_demo").Create(data.NumClasses, 1, 28, new Dictionary<string, string> { ["embed_dim"] = "16", ["depth"] = "1" });
        using var cancel = new CancellationTokenSource();
        cancel.Cancel();
        var result = new Trainer(NullLogger.Instance, TextWriter.Null, false)
            .Run(model, data, new InputTransform(data.Mean, data.Std, 28, 1), new TrainOptions { Epochs = 1, BatchSize = 32 }, cancel.Token);
        Assert.True(result.Interrupted);
        Assert.Equal(0, result.Steps);
    }

    [Fact]
    public void A_time_limit_cuts_the_schedule_after_calibration()
    {
        using var data = DatasetLoader.Load("synthetic", seed: 0, limitTrain: 320, limitTest: 32);
        var model = ModelRegistry.Get("vim_demo").Create(data.NumClasses, 1, 28, new Dictionary<string, string> { ["embed_dim"] = "16", ["depth"] = "1" });
        // 50 steps asked for; a budget already spent after the 10 calibration steps leaves one more step.
        var result = new Trainer(NullLogger.Instance, TextWriter.Null, false)
            .Run(model, data, new InputTransform(data.Mean, data.Std, 28, 1),
                 new TrainOptions { Epochs = 5, BatchSize = 32, TimeLimit = 1e-5 }, default);
        Assert.Equal(12, result.Steps);
        Assert.Equal(12, result.TotalSteps);
        Assert.False(result.Interrupted);
    }

    [Fact]
    public void Ctrl_c_stops_training_and_keeps_the_checkpoint()
    {
        using var dir = new TempDir();
        using var stop = new CancellationTokenSource();
        stop.Cancel();
        var (exit, output, err) = Cli.RunCancellable(stop.Token, "train", "--model", "vim_demo", "-a", "embed_dim=16", "-a", "depth=1",
                                                     "--dataset", "synthetic", "--limit-train", "256", "--limit-test", "32", "--out", dir.Path, "-v", "quiet");
        Assert.Equal(ExitCodes.Interrupted, exit);
        Assert.Equal("", err);
        Assert.Contains("interrupted after 0 of 16 steps; checkpoint kept in", output);
        foreach (var file in new[] { "model.bin", "model.safetensors", "model.json", "report.md" })
            Assert.True(File.Exists(Path.Combine(dir.Path, file)), file);
        Assert.Contains("interrupted (Ctrl-C)", File.ReadAllText(Path.Combine(dir.Path, "report.md")));
        Assert.Contains("\"interrupted\": true", File.ReadAllText(Path.Combine(dir.Path, "model.json")));
    }

    [Fact]
    public void Train_then_eval_from_the_command_line_writes_a_usable_checkpoint()
    {
        using var dir = new TempDir();
        var data = dir.File("data");
        Directory.CreateDirectory(data);
        IdxFixtures.WriteDataset(data, train: 256, test: 64);
        var run = dir.File("run");

        var (exit, output, err) = Cli.Run("train", "--model", "vim_demo", "-a", "embed_dim=32", "-a", "depth=1", "--dataset", data,
                                          "--epochs", "2", "--batch-size", "32", "--lr", "0.003", "--out", run, "-v", "quiet", "--threads", "1");

        Assert.True(exit == 0, err);
        var last = output.TrimEnd().Split('\n')[^1];
        var match = Regex.Match(last, @"^test accuracy: (\d+\.\d)% \(vim_demo, 64 test images, \d+ s\)$");
        Assert.True(match.Success, last);
        // Which quadrant is bright is easy: two epochs of 8 steps learn it.
        Assert.True(double.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) >= 60, last);
        foreach (var file in new[] { "model.bin", "model.safetensors", "model.json", "report.md", "curves.png" })
            Assert.True(File.Exists(Path.Combine(run, file)), file);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, File.ReadAllBytes(Path.Combine(run, "curves.png"))[..4]);
        var report = File.ReadAllText(Path.Combine(run, "report.md"));
        Assert.Contains("test accuracy", report);
        Assert.Contains("![training curves](curves.png)", report);

        // eval reloads the checkpoint and agrees with train's own evaluation.
        var (evalExit, evalOut, evalErr) = Cli.Run("eval", "--checkpoint", run, "-v", "quiet");
        Assert.True(evalExit == 0, evalErr);
        Assert.Contains("recall", evalOut);
        Assert.Equal(match.Groups[1].Value, Regex.Match(evalOut, @"test accuracy: (\d+\.\d)%").Groups[1].Value);

        // The .safetensors export holds the same state-dict keys: the library's loader takes it strictly.
        var fresh = ModelRegistry.Get("vim_demo").Create(4, 1, 28, new Dictionary<string, string> { ["embed_dim"] = "32", ["depth"] = "1" });
        var loaded = models.load_pretrained(fresh, Path.Combine(run, "model.safetensors"));
        Assert.True(loaded.IsComplete, loaded.ToString());
    }
}
