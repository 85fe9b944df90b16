using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

namespace SsmBridge.Cli.Commands;

/// <summary>
/// <c>ssmbridge bench</c>: images/s of a model's inference forward (eval, no_grad) and of a full AdamW
/// training step on random input, median of the timed iterations. For careful numbers with statistics use
/// the BenchmarkDotNet suites (<c>./build.sh bench</c>).
/// </summary>
public static class BenchCommand
{
    public static int Run(CommandContext ctx, string modelName, IReadOnlyDictionary<string, string> modelArgs, int batch, long imgSize, long inChans, int threads, int steps, int seed)
    {
        var log = ctx.Logging.CreateLogger("bench");
        Setup.Threads(threads);
        manual_seed(seed);
        var factory = ModelRegistry.Get(modelName);
        long size = imgSize > 0 ? imgSize : ModelRegistry.IsPreset(modelName) || !factory.TakesImageSize ? (ModelRegistry.IsPreset(modelName) ? 28 : 224) : factory.DefaultImageSize;
        long channels = inChans > 0 ? inChans : factory.InputChannels(1);
        using var model = factory.Create(10, channels, size, modelArgs);
        using var images = randn(batch, channels, size, size);
        using var labels = randint(0, 10, new long[] { batch });
        log.LogInformation("{Model}: {Parameters:N0} parameters, batch {Batch} of {C}x{S}x{S}, {Threads} threads, {Isa}",
                           modelName, Setup.ParameterCount(model), batch, channels, size, size, get_num_threads(), Runtime.CpuIsa);

        model.eval();
        var forward = Time(steps, ctx.Cancel, () => {
            using var noGrad = no_grad();
            using var scope = NewDisposeScope();
            model.forward(images);
        });
        model.train();
        using var optimizer = optim.AdamW(model.parameters(), lr: 1e-4);
        var train = Time(steps, ctx.Cancel, () => {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            nn.functional.cross_entropy(model.forward(images), labels).backward();
            optimizer.step();
        });
        ctx.Out.WriteLine("| model | batch | input | threads | forward ms | forward img/s | train step ms | train img/s | train CPU ms/step |");
        ctx.Out.WriteLine("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |");
        ctx.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {modelName} | {batch} | {channels}x{size}x{size} | {get_num_threads()} | {forward.Wall:0.0} | {batch * 1000 / forward.Wall:0} | {train.Wall:0.0} | {batch * 1000 / train.Wall:0} | {train.Cpu:0.0} |"));
        return ExitCodes.Ok;
    }

    // Median wall milliseconds of `steps` runs after two warm-up runs, and the mean process CPU
    // milliseconds per run (all threads; on a busy machine the better measure of the work done).
    private static (double Wall, double Cpu) Time(int steps, CancellationToken cancel, Action body)
    {
        for (int i = 0; i < 2; i++) body();
        var process = Process.GetCurrentProcess();
        var cpuStart = process.TotalProcessorTime;
        var times = new double[steps];
        for (int i = 0; i < steps; i++) {
            cancel.ThrowIfCancellationRequested();
            using var noGc = Training.NoGcRegion.Enter();
            var watch = Stopwatch.StartNew();
            body();
            times[i] = watch.Elapsed.TotalMilliseconds;
        }
        process.Refresh();
        var cpu = (process.TotalProcessorTime - cpuStart).TotalMilliseconds / steps;
        Array.Sort(times);
        return (times[steps / 2], cpu);
    }
}
