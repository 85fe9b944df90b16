using System.Text.Json;
using System.Text.Json.Serialization;
using SsmBridge.Cli.Data;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace SsmBridge.Cli.Training;

/// <summary>What is needed to rebuild a trained model and feed it: written next to the weights as model.json.</summary>
public sealed record CheckpointInfo
{
    public string Model { get; init; } = "";
    public Dictionary<string, string> ModelArgs { get; init; } = new();
    public long NumClasses { get; init; }
    public long InChannels { get; init; }
    public long ImgSize { get; init; }
    public float Mean { get; init; }
    public float Std { get; init; }
    public string Dataset { get; init; } = "";
    public string[] ClassNames { get; init; } = Array.Empty<string>();
    public long Steps { get; init; }
    public double Epochs { get; init; }
    public int Seed { get; init; }
    public bool Interrupted { get; init; }
    public double? TestAccuracy { get; init; }

    [JsonIgnore]
    public InputTransform Transform => new(Mean, Std, ImgSize, InChannels);
}

/// <summary>
/// A checkpoint folder: model.bin (TorchSharp's format, <c>Module.load</c>), model.safetensors (the same
/// tensors under the same state-dict keys, readable by PyTorch/safetensors and by
/// <c>models.load_pretrained</c>) and model.json (<see cref="CheckpointInfo"/>).
/// </summary>
public static class Checkpoint
{
    public const string WeightsFile = "model.bin";
    public const string SafetensorsFile = "model.safetensors";
    public const string InfoFile = "model.json";

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>Writes the three files, each through a temporary name, so an interrupted save never leaves a half-written checkpoint.</summary>
    public static void Save(string dir, nn.Module<Tensor, Tensor> model, CheckpointInfo info)
    {
        Directory.CreateDirectory(dir);
        Replace(Path.Combine(dir, WeightsFile), tmp => model.save(tmp));
        Replace(Path.Combine(dir, SafetensorsFile), tmp => model.save_safetensors(tmp));
        WriteInfo(dir, info);
    }

    /// <summary>Rewrites model.json alone (e.g. to add the test accuracy).</summary>
    public static void WriteInfo(string dir, CheckpointInfo info) =>
        Replace(Path.Combine(dir, InfoFile), tmp => File.WriteAllText(tmp, JsonSerializer.Serialize(info, Json)));

    /// <summary>Loads a checkpoint folder (or any file in it): the model rebuilt by its factory with the saved weights.</summary>
    public static (nn.Module<Tensor, Tensor> Model, CheckpointInfo Info) Load(string path)
    {
        var dir = Directory.Exists(path) ? path : Path.GetDirectoryName(Path.GetFullPath(path))!;
        var infoPath = Path.Combine(dir, InfoFile);
        if (!File.Exists(infoPath))
            throw new CliException($"no checkpoint at '{path}' (expected a folder written by `ssmbridge train --out` holding {InfoFile})");
        CheckpointInfo info;
        try {
            info = JsonSerializer.Deserialize<CheckpointInfo>(File.ReadAllText(infoPath), Json) ?? throw new JsonException("empty");
        } catch (JsonException e) {
            throw new CliException($"{infoPath}: not a valid checkpoint description ({e.Message})", ExitCodes.UsageError, e);
        }
        var model = ModelRegistry.Get(info.Model).Create(info.NumClasses, info.InChannels, info.ImgSize, info.ModelArgs);
        var weights = Path.Combine(dir, WeightsFile);
        var safetensors = Path.Combine(dir, SafetensorsFile);
        try {
            if (File.Exists(weights)) model.load(weights);
            else if (File.Exists(safetensors)) model.load_safetensors(safetensors);
            else throw new CliException($"checkpoint '{dir}' has neither {WeightsFile} nor {SafetensorsFile}");
        } catch (Exception e) when (e is not CliException) {
            throw new CliException($"{dir}: cannot load the weights into {info.Model} ({e.Message})", ExitCodes.UsageError, e);
        }
        return (model, info);
    }

    private static void Replace(string path, Action<string> write)
    {
        var tmp = path + ".tmp";
        write(tmp);
        File.Move(tmp, path, overwrite: true);
    }
}
