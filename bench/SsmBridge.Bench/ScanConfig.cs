using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Perfolizer.Horology;

namespace SsmBridge.Bench;

/// <summary>
/// Short, in-process runs plus a G elem/s column: batch * dim * L * N per second of the mean time.
/// Each of the 7 measured iterations runs the call as often as fits in about 250 ms (BenchmarkDotNet's
/// pilot stage picks the count; once for the reference's forward+backward, which takes minutes), so a
/// millisecond-scale call is averaged over many back-to-back calls, as in a training loop, and one slow
/// call (a page-fault burst, the VM's slow periods) no longer decides an iteration.
/// </summary>
public sealed class ScanConfig : ManualConfig
{
    /// <summary>In-process, with room for the reference's forward+backward at the large shapes (tens of seconds per call).</summary>
    public static readonly BenchmarkDotNet.Toolchains.IToolchain InProcess =
        new BenchmarkDotNet.Toolchains.InProcess.Emit.InProcessEmitToolchain(TimeSpan.FromMinutes(20), logOutput: true);

    public ScanConfig()
    {
        AddJob(Job.Default.WithToolchain(ScanConfig.InProcess)
                          .WithWarmupCount(2).WithIterationCount(7).WithLaunchCount(1).WithUnrollFactor(1)
                          .WithIterationTime(TimeInterval.FromMilliseconds(250)));
        AddColumn(new ElementRateColumn());
        AddColumn(RankColumn.Arabic);
        // Room for a whole case name and shape, e.g. "target N16 (2,384,1024,16)", instead of "targe(...)4,16) [26]".
        WithSummaryStyle(SummaryStyle.Default.WithMaxParameterColumnWidth(40));
    }
}

/// <summary>Short in-process runs for whole models (seconds per call).</summary>
public sealed class ModelConfig : ManualConfig
{
    public ModelConfig() =>
        AddJob(Job.Default.WithToolchain(ScanConfig.InProcess)
                          .WithWarmupCount(1).WithIterationCount(5).WithLaunchCount(1).WithUnrollFactor(1)
                          .WithInvocationCount(1));
}

/// <summary>G elem/s = batch * dim * L * N / mean time.</summary>
public sealed class ElementRateColumn : IColumn
{
    public string Id => nameof(ElementRateColumn);
    public string ColumnName => "G elem/s";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => "batch*dim*L*N per second (mean time), in billions";
    public bool IsAvailable(Summary summary) => true;
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var scanCase = benchmarkCase.Parameters.Items.Select(p => p.Value).OfType<ScanCase>().FirstOrDefault();
        var report = summary[benchmarkCase];
        if (scanCase is null || report?.ResultStatistics is null) return "-";
        return (scanCase.Elements / report.ResultStatistics.Mean).ToString("F3");  // elements per ns = G/s
    }
}
