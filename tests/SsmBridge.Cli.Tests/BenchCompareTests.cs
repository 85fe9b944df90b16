using SsmBridge.Cli.Benchmarking;
using SsmBridge.Cli.Commands;

namespace SsmBridge.Cli.Tests;

public class BenchCompareTests
{
    [Theory]
    [InlineData("--quick --resolutions 64", "--quick fixes the sizes")]
    [InlineData("--compare --model vim_demo", "--model times one model")]
    [InlineData("--plot out --batch-size 4", "--batch-size times one model")]
    [InlineData("--compare --time-cap 0", "--time-cap must be positive, got 0")]
    public void ConflictingOrInvalidOptionsAreUsageErrors(string args, string expected)
    {
        var (exit, output, err) = Cli.Run(new[] { "bench" }.Concat(args.Split(' ')).ToArray());
        Assert.Equal(ExitCodes.UsageError, exit);
        Assert.Equal("", output);
        Cli.AssertOneLineError(err, expected);
    }

    [Theory]
    [InlineData("224,100", "got '100'")]
    [InlineData("224,x", "got 'x'")]
    [InlineData(",", "got none")]
    public void ResolutionsMustBeMultiplesOf32(string sizes, string expected)
    {
        var (exit, _, err) = Cli.Run("bench", "--resolutions", sizes);
        Assert.Equal(ExitCodes.UsageError, exit);
        Cli.AssertOneLineError(err, "--resolutions");
        Assert.Contains(expected, err);
    }

    [Fact]
    public void UnknownBenchmarkModelIsNamed()
    {
        var (exit, _, err) = Cli.Run("bench-point", "--bench-model", "vim_huge", "--img-size", "32");
        Assert.Equal(ExitCodes.UsageError, exit);
        Cli.AssertOneLineError(err, "unknown benchmark model 'vim_huge'");
        Assert.Contains("deit_tiny", err);
    }

    [Fact]
    public void HelpOffersTheComparison()
    {
        var (exit, output, _) = Cli.Run("bench", "--help");
        Assert.Equal(ExitCodes.Ok, exit);
        foreach (var option in new[] { "--compare", "--quick", "--resolutions", "--plot", "--time-cap" }) Assert.Contains(option, output);
        Assert.DoesNotContain("bench-point", Cli.Run("--help").Out);
    }

    [Fact]
    public void TableRatiosCompareVimWithDeiTInTheSameRow()
    {
        var points = new[] {
            Point(BenchModel.VimTiny, 512, 100, peak: 600, model: 400),
            Point(BenchModel.DeiTTiny, 512, 200, peak: 1200, model: 300),
            Point(BenchModel.VMambaTiny, 512, double.NaN, peak: double.NaN, model: double.NaN, status: "over memory limit"),
        };
        var table = SweepReport.Markdown(points);
        // Vim-Ti 10 img/s against DeiT-Ti 5 img/s; 600 MiB against 1200 MiB.
        Assert.Contains("| training | 512 | 10.0 | over memory limit | 5.00 | 2.00x | 1.5 |", table);
        Assert.Contains("| training | 512 | 600 (200) | over memory limit | 1200 (900) | -50% | 1.5 |", table);
        var csv = SweepReport.Csv(points).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(4, csv.Length);
        Assert.Equal("vim_tiny,\"Vim-Ti\",512,training,\"ok\",100,10,3,600,400,NaN,1.50,2.0", csv[1]);
    }

    [Fact]
    public void CsvReadsBackIntoTheSamePoints()
    {
        var points = new[] {
            Point(BenchModel.VimTinyReference, 224, 16655.125, peak: 1861.5, model: 250),
            Point(BenchModel.DeiTTinyExplicit, 1024, double.NaN, peak: double.NaN, model: double.NaN, status: "failed: x, y"),
        };
        var back = SweepReport.FromCsv(SweepReport.Csv(points));
        Assert.Equal(points, back);
    }

    [Fact]
    public void MeasurementsRoundTripThroughTheChildProtocol()
    {
        var stopped = new PointMeasurement(PointMeasurement.OverMemory, double.NaN, 0, 20480.5, double.NaN);
        var back = PointMeasurement.FromJson(stopped.ToJson());
        Assert.Equal(stopped, back);
        Assert.Null(PointMeasurement.FromJson("Unhandled exception"));
    }

    [Fact]
    public void QuickComparisonPrintsTheTablesAndWritesValidPngs()
    {
        using var dir = new TempDir();
        var (exit, output, err) = Cli.Run("bench", "--quick", "--plot", dir.Path, "--threads", "1", "-v", "quiet");
        Assert.True(exit == ExitCodes.Ok, $"exit {exit}: {err}\n{output}");
        Assert.Contains("| mode | size | Vim-Ti | VMamba-T | S4ND-ViT-Ti | DeiT-Ti | Vim-Ti / DeiT-Ti | load |", output);
        foreach (var mode in new[] { "inference", "training" })
        foreach (var size in BenchCompareCommand.QuickResolutions)
            Assert.Contains($"| {mode} | {size} | ", output);
        Assert.Contains("| training | 32 | ", output.Split("fused / reference")[1]);

        foreach (var file in new[] { SweepPlots.ThroughputFile, SweepPlots.MemoryFile }) {
            var bytes = File.ReadAllBytes(dir.File(file));
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }, bytes[..8]);
            Assert.Equal("IHDR", System.Text.Encoding.ASCII.GetString(bytes, 12, 4));
            Assert.Equal(1100, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16)));
        }
        // 4 models x 2 sizes x 2 modes + Vim on reference ops at 32 in both modes, and the header.
        var csv = File.ReadAllLines(dir.File("sweep.csv"));
        Assert.Equal(1 + 18, csv.Length);
        Assert.All(csv.Skip(1), line => Assert.Contains(",\"ok\",", line));
    }

    private static SweepPoint Point(BenchModel bench, long size, double ms, double peak, double model, string status = PointMeasurement.Ok) =>
        new(bench, size, BenchMode.Training, new PointMeasurement(status, ms, status == PointMeasurement.Ok ? 3 : 0, peak, model), 1.5, 2.0);
}
