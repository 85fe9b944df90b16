using Microsoft.Extensions.Logging;
using SsmBridge.Cli.Data;
using SsmBridge.Cli.Reporting;
using SsmBridge.Cli.Training;

namespace SsmBridge.Cli.Commands;

/// <summary><c>ssmbridge eval</c>: test accuracy and confusion matrix of a saved checkpoint.</summary>
public static class EvalCommand
{
    public static int Run(CommandContext ctx, string checkpoint, string? dataset, int batchSize, int threads, long limitTest)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var log = ctx.Logging.CreateLogger("eval");
        Setup.Threads(threads);
        var (model, info) = Checkpoint.Load(checkpoint);
        using var _ = model;
        using var data = DatasetLoader.Load(dataset ?? info.Dataset, info.Seed, limitTrain: 1, limitTest: limitTest > 0 ? limitTest : null);
        if (data.NumClasses > info.NumClasses)
            throw new CliException($"{data.Name} has {data.NumClasses} classes, the checkpoint's model {info.NumClasses}");
        log.LogInformation("{Model} ({Steps} steps, {Epochs:0.00} epochs on {Trained}) on {Dataset}: {Count} test images",
                           info.Model, info.Steps, info.Epochs, info.Dataset, data.Name, data.Test.Count);
        var test = Evaluator.Run(model, data.Test, info.Transform, info.NumClasses, batchSize, ctx.Cancel);
        log.LogInformation("{Rate:0} images/s, test loss {Loss:0.0000}", test.ImagesPerSecond, test.Loss);
        ctx.FlushLog();
        ctx.Out.Write(Report.ConfusionText(test.Confusion, info.ClassNames.Length > 0 ? info.ClassNames : data.ClassNames));
        ctx.Out.WriteLine(TrainCommand.AccuracyLine(test, info.Model, watch.Elapsed.TotalSeconds));
        return ExitCodes.Ok;
    }
}
