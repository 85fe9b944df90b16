using SsmBridge.Cli.Benchmarking;

namespace SsmBridge.Cli.Commands;

/// <summary>
/// <c>ssmbridge bench-point</c> (hidden): one point of a sweep in this fresh process; prints its
/// <see cref="PointMeasurement"/> as one JSON line for the parent (<see cref="Sweep"/>).
/// </summary>
public static class BenchPointCommand
{
    public static int Run(CommandContext ctx, string modelKey, long size, string mode, int steps, double timeCap, double memoryLimitMiB, int threads)
    {
        Setup.Threads(threads);
        var benchMode = Enum.Parse<BenchMode>(mode, ignoreCase: true);
        var measurement = PointRunner.Run(BenchModel.Get(modelKey), size, benchMode, steps, timeCap, memoryLimitMiB, ctx.Out);
        ctx.Out.WriteLine(measurement.ToJson());
        return ExitCodes.Ok;
    }
}
