using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Perfolizer.Horology;

namespace SsmBridge.Bench;

/// <summary>A benchmark parameter that knows the bytes a method must move at the least.</summary>
public interface IMovesBytes
{
    /// <summary>Bytes read plus bytes written by one call of the benchmark method.</summary>
    long BytesMoved(string method);
}

/// <summary>
/// In-process runs for the memory-bound ops, plus a GB/s column:
/// the bytes the op must read and write at the least, over the median time (robust to the other
/// processes of a shared machine). The same byte count is used
/// for the fused kernel and the reference, so the column compares rates; the copy benchmark's GB/s is the
/// machine's copy bandwidth in the same units.
/// </summary>
public sealed class BandwidthConfig : ManualConfig
{
    public BandwidthConfig()
    {
        // Iterations of about 100 ms: the sub-millisecond kernels run many calls per iteration (warm caches,
        // as inside a model), the slow reference a few.
        AddJob(Job.Default.WithToolchain(BenchmarkDotNet.Toolchains.InProcess.Emit.InProcessEmitToolchain.Instance)
                          .WithWarmupCount(3).WithIterationCount(15).WithLaunchCount(1)
                          .WithIterationTime(TimeInterval.FromMilliseconds(100)));
        AddColumn(new BandwidthColumn());
        AddColumn(StatisticColumn.Median, StatisticColumn.Min);
    }
}

/// <summary>GB/s = <see cref="IMovesBytes.BytesMoved"/> / median time.</summary>
public sealed class BandwidthColumn : IColumn
{
    public string Id => nameof(BandwidthColumn);
    public string ColumnName => "GB/s";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => "bytes the op must read and write, over the median time, in GB/s";
    public bool IsAvailable(Summary summary) => true;
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var moves = benchmarkCase.Parameters.Items.Select(p => p.Value).OfType<IMovesBytes>().FirstOrDefault();
        var report = summary[benchmarkCase];
        if (moves is null || report?.ResultStatistics is null) return "-";
        double bytes = moves.BytesMoved(benchmarkCase.Descriptor.WorkloadMethod.Name);
        return (bytes / report.ResultStatistics.Median).ToString("F1");  // bytes per ns = GB/s
    }
}
