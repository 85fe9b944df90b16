using System.Globalization;
using Microsoft.Extensions.Logging;
using SsmBridge.Cli.Data;
using SsmBridge.Cli.Reporting;
using SsmBridge.Cli.Training;
using static TorchSharp.torch;

namespace SsmBridge.Cli.Commands;

/// <summary>
/// <c>ssmbridge erf</c>: effective receptive field heat maps of a model at initialization and, with
/// --checkpoint, after training, side by side in one PNG.
/// </summary>
public static class ErfCommand
{
    public static int Run(CommandContext ctx, string? modelName, string? checkpoint, string dataset, int images, long imgSize,
                          int threads, int seed, string outPng)
    {
        var log = ctx.Logging.CreateLogger("erf");
        if (modelName is null && checkpoint is null) throw new CliException("erf needs --model or --checkpoint");
        Setup.Threads(threads);
        var dir = Path.GetDirectoryName(Path.GetFullPath(outPng))!;
        Setup.WritableFolder(dir, "--out");

        nn.Module<Tensor, Tensor>? trained = null;
        CheckpointInfo? info = null;
        if (checkpoint is not null) (trained, info) = Checkpoint.Load(checkpoint);
        var name = info?.Model ?? modelName!;
        if (info is not null && modelName is not null && modelName != info.Model)
            throw new CliException($"--model {modelName} does not match the checkpoint's model {info.Model}");
        var factory = ModelRegistry.Get(name);
        using var data = DatasetLoader.Load(info?.Dataset ?? dataset, seed, limitTrain: 1000, limitTest: images);
        long size = imgSize > 0 ? imgSize : info?.ImgSize ?? (factory.TakesImageSize && !ModelRegistry.IsPreset(name) ? factory.DefaultImageSize : data.Height);
        long channels = info?.InChannels ?? factory.InputChannels(data.Channels);
        var transform = new InputTransform(info?.Mean ?? data.Mean, info?.Std ?? data.Std, size, channels);

        manual_seed(seed);
        var maps = new List<(string, double[,])>();
        using (var initial = factory.Create(info?.NumClasses ?? data.NumClasses, channels, size, info?.ModelArgs))
            maps.Add(($"{name}, initialization", ReceptiveField.Compute(initial, data.Test, transform, images)));
        if (trained is not null) {
            using (trained) maps.Add(($"{name}, trained ({info!.Steps} steps)", ReceptiveField.Compute(trained, data.Test, transform, images)));
        }
        Plots.Heatmaps(outPng, maps);
        foreach (var (title, map) in maps)
            log.LogInformation("{Title}: {Share:P1} of the contribution inside the central quarter of the image", title, ReceptiveField.CentralMass(map, 0.5));
        ctx.FlushLog();
        ctx.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"wrote {outPng} ({maps.Count} heat map(s) of {size}x{size}, {Math.Min(images, data.Test.Count)} images)"));
        return ExitCodes.Ok;
    }
}
