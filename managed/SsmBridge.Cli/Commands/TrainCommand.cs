using System.Globalization;
using Microsoft.Extensions.Logging;
using SsmBridge.Cli.Data;
using SsmBridge.Cli.Reporting;
using SsmBridge.Cli.Training;
using static TorchSharp.torch;

namespace SsmBridge.Cli.Commands;

/// <summary>
/// <c>ssmbridge train</c>: trains, saves the checkpoint (also when stopped with Ctrl-C), reloads it from
/// disk and evaluates it on the test split, then writes curves.png and report.md. The last line printed is
/// <c>test accuracy: NN.N% (model, n test images, seconds s)</c>, seconds counting the whole command.
/// </summary>
public static class TrainCommand
{
    public static int Run(CommandContext ctx, TrainOptions o)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var log = ctx.Logging.CreateLogger("train");
        Setup.Threads(o.Threads);
        var factory = ModelRegistry.Get(o.Model);
        var outDir = Setup.WritableFolder(o.Out, "--out");
        manual_seed(o.Seed);

        using var data = DatasetLoader.Load(o.Dataset, o.Seed, o.LimitTrain > 0 ? o.LimitTrain : null, o.LimitTest > 0 ? o.LimitTest : null);
        log.LogInformation("{Dataset}: {Train} train and {Test} test images of {C}x{H}x{W}, {Classes} classes",
                           data.Name, data.Train.Count, data.Test.Count, data.Channels, data.Height, data.Width, data.NumClasses);
        long imgSize = o.ImgSize > 0 ? o.ImgSize
            : factory.TakesImageSize && !ModelRegistry.IsPreset(factory.Name) ? factory.DefaultImageSize : data.Height;
        long inChans = factory.InputChannels(data.Channels);
        var model = factory.Create(data.NumClasses, inChans, imgSize, o.ModelArgs);
        long parameters = Setup.ParameterCount(model);
        log.LogInformation("{Model}: {Parameters:N0} parameters, input {C}x{S}x{S}, {Threads} threads, native ISA {Isa}",
                           o.Model, parameters, inChans, imgSize, imgSize, get_num_threads(), Runtime.CpuIsa);
        var transform = new InputTransform(data.Mean, data.Std, imgSize, inChans);

        var result = new Trainer(log, ctx.Progress, ctx.LiveProgress).Run(model, data, transform, o, ctx.Cancel);

        var info = new CheckpointInfo {
            Model = o.Model, ModelArgs = new(o.ModelArgs), NumClasses = data.NumClasses, InChannels = inChans, ImgSize = imgSize, Mean = data.Mean, Std = data.Std,
            Dataset = o.Dataset, ClassNames = data.ClassNames.ToArray(), Steps = result.Steps, Epochs = result.Epochs, Seed = o.Seed,
            Interrupted = result.Interrupted,
        };
        Checkpoint.Save(outDir, model, info);
        log.LogInformation("checkpoint: {Dir}/{Bin}, {Safetensors}, {Json}", outDir, Checkpoint.WeightsFile, Checkpoint.SafetensorsFile, Checkpoint.InfoFile);
        model.Dispose();

        Evaluation? test = null;
        if (!result.Interrupted && data.Test.Count > 0) {
            var (reloaded, _) = Checkpoint.Load(outDir);
            using (reloaded) test = Evaluator.Run(reloaded, data.Test, transform, data.NumClasses, o.BatchSize * 2);
            result.Test.Add(new CurvePoint(result.Steps, result.Epochs, test.Loss, test.Accuracy));
            Checkpoint.WriteInfo(outDir, info with { TestAccuracy = test.Accuracy });
        }

        const string curves = "curves.png";
        Plots.TrainingCurves(Path.Combine(outDir, curves), $"{o.Model} on {data.Name}", result);
        File.WriteAllText(Path.Combine(outDir, "report.md"), Report.Markdown(o, info, parameters, result, test, data.ClassNames, curves));
        log.LogInformation("{Steps} steps in {Seconds:0.0} s ({Rate:0} images/s); report: {Report}",
                           result.Steps, result.Seconds, result.ImagesPerSecond, Path.Combine(outDir, "report.md"));
        if (result.Interrupted) {
            ctx.FlushLog();
            ctx.Out.WriteLine($"interrupted after {result.Steps} of {result.TotalSteps} steps; checkpoint kept in {outDir}");
            return ExitCodes.Interrupted;
        }
        if (test is null) return ExitCodes.Ok;
        ctx.FlushLog();
        ctx.Out.Write(Report.ConfusionText(test.Confusion, data.ClassNames));
        ctx.Out.WriteLine(AccuracyLine(test, o.Model, watch.Elapsed.TotalSeconds));
        return ExitCodes.Ok;
    }

    /// <summary>The closing line of train and eval: <c>test accuracy: 88.4% (vim_demo, 10000 test images, 312 s)</c>.</summary>
    public static string AccuracyLine(Evaluation test, string model, double seconds) =>
        string.Create(CultureInfo.InvariantCulture, $"test accuracy: {100 * test.Accuracy:0.0}% ({model}, {test.Count} test images, {seconds:0} s)");
}
