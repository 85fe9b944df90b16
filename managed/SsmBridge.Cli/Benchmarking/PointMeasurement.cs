using System.Text.Json;
using System.Text.Json.Serialization;

namespace SsmBridge.Cli.Benchmarking;

/// <summary>
/// What one fresh process measured for one (model, resolution, mode) point: the median milliseconds per step
/// (batch 1), the process's peak resident memory (VmHWM) and its resident size with model and inputs built,
/// before the first step, and the process CPU time per timed step (all threads: the work done, which a busy
/// machine inflates less than the wall time). Status is "ok" or why the point stopped (e.g. the memory limit).
/// </summary>
public sealed record PointMeasurement(string Status, double MsPerStep, int Steps, double PeakMiB, double ModelMiB, double CpuMsPerStep = double.NaN)
{
    public const string Ok = "ok";
    public const string OverMemory = "over memory limit";

    [JsonIgnore] public double ImagesPerSecond => 1000 / MsPerStep;

    // NaN marks what a stopped point could not measure.
    private static readonly JsonSerializerOptions Json = new() { NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static PointMeasurement? FromJson(string line)
    {
        try {
            return JsonSerializer.Deserialize<PointMeasurement>(line, Json);
        } catch (JsonException) {
            return null;
        }
    }
}
