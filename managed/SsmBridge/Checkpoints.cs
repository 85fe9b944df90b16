using System.Collections;
using SsmBridge.Modules;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace SsmBridge;

/// <summary>What <see cref="models.load_pretrained"/> matched, and what it could not.</summary>
public sealed record LoadReport(IReadOnlyList<string> Loaded, IReadOnlyList<string> MissingKeys,
                                IReadOnlyList<string> UnexpectedKeys, IReadOnlyList<string> Resized)
{
    /// <summary>True when every key of the model was loaded and the checkpoint had no keys left over.</summary>
    public bool IsComplete => MissingKeys.Count == 0 && UnexpectedKeys.Count == 0;

    /// <summary>One line: the counts, then the missing, unexpected and resized keys.</summary>
    public override string ToString() =>
        $"loaded {Loaded.Count} tensors; missing keys: [{string.Join(", ", MissingKeys)}]; " +
        $"unexpected keys: [{string.Join(", ", UnexpectedKeys)}]" +
        (Resized.Count > 0 ? $"; resized: [{string.Join(", ", Resized)}]" : "");
}

public static partial class models
{
    // Where training pickles keep the weights, in the order they are tried.
    private static readonly string[] StateDictEntries = { "model", "state_dict", "model_ema" };

    /// <summary>
    /// Loads official weights into <paramref name="model"/>: a PyTorch pickle (.pth/.pt/.bin; a bare
    /// state dict or a training checkpoint whose "model" entry holds it, other entries ignored) or a
    /// .safetensors file. A Vision Mamba position embedding of another grid is resized bicubically.
    /// With <paramref name="strict"/> (default) a missing or unexpected key or a shape mismatch throws;
    /// either way the returned report lists them.
    /// </summary>
    public static LoadReport load_pretrained(nn.Module model, string path, bool strict = true)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"path: no checkpoint at '{path}'", path);
        using var scope = NewDisposeScope();
        var source = ReadCheckpoint(path);
        var target = model.state_dict();
        if (model is VSSM) source = AdaptVMambaCheckpoint(source, target);
        var loaded = new List<string>();
        var resized = new List<string>();
        var mismatched = new List<string>();

        using (no_grad()) {
            foreach (var (key, destination) in target) {
                if (!source.TryGetValue(key, out var value)) continue;
                if (!value.shape.SequenceEqual(destination.shape)) {
                    if (key == "pos_embed" && model is VisionMamba vim && TryResizePositionEmbedding(vim, value, out var fitted)) {
                        value = fitted;
                        resized.Add(key);
                    } else {
                        mismatched.Add($"{key}: expected shape [{string.Join(", ", destination.shape)}], got [{string.Join(", ", value.shape)}]");
                        continue;
                    }
                }
                destination.copy_(value.to_type(destination.dtype));
                loaded.Add(key);
            }
        }
        var report = new LoadReport(loaded,
            target.Keys.Where(k => !source.ContainsKey(k)).Concat(mismatched).ToList(),
            source.Keys.Where(k => !target.ContainsKey(k)).OrderBy(k => k, StringComparer.Ordinal).ToList(),
            resized);
        if (strict && !report.IsComplete)
            throw new InvalidDataException($"checkpoint '{path}' does not match {model.GetName()}: {report}");
        return report;
    }

    // A file that is not a checkpoint (corrupt, truncated, another format) is an InvalidDataException naming
    // it, whatever the reader underneath threw.
    private static Dictionary<string, Tensor> ReadCheckpoint(string path)
    {
        try {
            return ReadStateDict(path);
        } catch (Exception e) when (e is not (InvalidDataException or OutOfMemoryException or IOException and not EndOfStreamException)) {
            throw new InvalidDataException($"path: '{path}' is not a readable checkpoint ({e.GetType().Name}: {e.Message})", e);
        }
    }

    private static Dictionary<string, Tensor> ReadStateDict(string path)
    {
        if (path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase))
            return Safetensors.LoadStateDict(path);
        var root = PyTorchUnpickler.UnpickleStateDict(path);
        IDictionary dict = root;
        foreach (var entry in StateDictEntries) {
            if (root[entry] is IDictionary nested) {
                dict = nested;
                break;
            }
        }
        var result = new Dictionary<string, Tensor>();
        foreach (DictionaryEntry e in dict)
            if (e.Key is string key && e.Value is Tensor t) result[key.StartsWith("module.") ? key[7..] : key] = t;
        return result;
    }

    // pos_embed of another grid: (1, h*w + 1, D) with square grids, as the official checkpoints have.
    private static bool TryResizePositionEmbedding(VisionMamba vim, Tensor value, out Tensor fitted)
    {
        fitted = value;
        if (!vim.Config.IfClsToken) return false;
        var patches = value.shape[1] - (vim.Config.IfClsToken ? 1 : 0);
        var side = (long)Math.Round(Math.Sqrt(patches));
        if (value.dim() != 3 || side * side != patches || value.shape[2] != vim.Config.EmbedDim) return false;
        fitted = PositionEmbedding.Resize(value, (side, side), vim.Grid);
        return true;
    }
}
