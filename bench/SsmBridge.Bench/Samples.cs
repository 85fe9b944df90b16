namespace SsmBridge.Bench;

/// <summary>Summaries of repeated timings for the hand-rolled probes (time-scan, scan-loop, time-cross).</summary>
public static class Samples
{
    /// <summary>The middle value; the mean of the two middle values for an even count.</summary>
    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.OrderBy(v => v).ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
