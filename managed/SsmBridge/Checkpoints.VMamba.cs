using System.Text.RegularExpressions;
using static TorchSharp.torch;

namespace SsmBridge;

public static partial class models
{
    // Names of the first VMamba code (January 2024) and their current names, renamed by prefix as
    // upstream's VSSM._load_from_state_dict does. A prefix matches a whole dotted component, so "norm"
    // renames "norm.weight" but not "norm_f.weight".
    private static readonly (string From, string To)[] FirstVersionPrefixes = {
        ("patch_embed.proj", "patch_embed.0"),
        ("patch_embed.norm", "patch_embed.2"),
        ("norm", "classifier.norm"),
        ("head", "classifier.head"),
    };

    private static readonly Regex FirstVersionBlock =
        new(@"^(layers\.\d+\.blocks\.\d+\.)(ln_1|self_attention)(\..*)$", RegexOptions.Compiled | RegexOptions.CultureInvariant);

    /// <summary>
    /// A VMamba checkpoint as the current VSSM names it: the first version's names renamed
    /// (patch_embed.proj -> patch_embed.0, patch_embed.norm -> patch_embed.2, blocks' ln_1 -> norm and
    /// self_attention -> op, norm / head -> classifier.norm / classifier.head), and 1x1-convolution weights
    /// (out, in, 1, 1) of checkpoints saved with Conv2d projections viewed as the (out, in) Linear2d weights
    /// <paramref name="target"/> expects (upstream's Linear2d loads them the same way).
    /// </summary>
    private static Dictionary<string, Tensor> AdaptVMambaCheckpoint(Dictionary<string, Tensor> source,
                                                                    IReadOnlyDictionary<string, Tensor> target)
    {
        var adapted = new Dictionary<string, Tensor>(source.Count);
        foreach (var (key, value) in source) {
            var name = RenameFirstVersionKey(key);
            var tensor = value;
            if (value.dim() == 4 && value.shape[2] == 1 && value.shape[3] == 1 && target.TryGetValue(name, out var expected)
                && expected.dim() == 2 && expected.shape[0] == value.shape[0] && expected.shape[1] == value.shape[1])
                tensor = value.view(value.shape[0], value.shape[1]);
            adapted[name] = tensor;
        }
        return adapted;
    }

    private static string RenameFirstVersionKey(string key)
    {
        var block = FirstVersionBlock.Match(key);
        if (block.Success)
            return block.Groups[1].Value + (block.Groups[2].Value == "ln_1" ? "norm" : "op") + block.Groups[3].Value;
        foreach (var (from, to) in FirstVersionPrefixes)
            if (key.StartsWith(from + ".", StringComparison.Ordinal)) return to + key[from.Length..];
        return key;
    }
}
