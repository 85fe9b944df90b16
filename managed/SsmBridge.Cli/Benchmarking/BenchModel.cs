namespace SsmBridge.Cli.Benchmarking;

/// <summary>Inference: eval mode, no_grad forward. Training: one AdamW step on cross-entropy.</summary>
public enum BenchMode { Inference, Training }

/// <summary>
/// A model of the efficiency comparison (issue 10): a key for command lines and CSV files, the label of tables and
/// plots, and the <see cref="models"/> factory with any extra arguments (e.g. Vim on the reference ops).
/// </summary>
public sealed record BenchModel(string Key, string Label, string Factory, IReadOnlyDictionary<string, string> Args)
{
    private static readonly IReadOnlyDictionary<string, string> None = new Dictionary<string, string>();

    public static readonly BenchModel VimTiny = new("vim_tiny", "Vim-Ti", "vim_tiny_patch16_224", None);
    public static readonly BenchModel VimTinyReference = new("vim_tiny_reference", "Vim-Ti (reference ops)", "vim_tiny_patch16_224",
                                                             new Dictionary<string, string> { ["scan"] = "Reference" });
    public static readonly BenchModel VMambaTiny = new("vmamba_tiny", "VMamba-T", "vmamba_tiny_s1l8", None);
    public static readonly BenchModel S4NDViTTiny = new("s4nd_vit_tiny", "S4ND-ViT-Ti", "s4nd_vit_tiny_16", None);
    public static readonly BenchModel DeiTTiny = new("deit_tiny", "DeiT-Ti", "deit_tiny_patch16_224", None);
    /// <summary>DeiT-Ti holding the tokens x tokens attention matrix, as the baselines of the Vim paper's Figure 1 did.</summary>
    public static readonly BenchModel DeiTTinyExplicit = new("deit_tiny_explicit", "DeiT-Ti (explicit attention)", "deit_tiny_patch16_224",
                                                             new Dictionary<string, string> { ["fused_attn"] = "false" });

    /// <summary>The four models compared at every resolution, in table order.</summary>
    public static readonly IReadOnlyList<BenchModel> Comparison = new[] { VimTiny, VMambaTiny, S4NDViTTiny, DeiTTiny };

    /// <summary>Every model, in table order; Vim-Ti on reference ops last (it has a table of its own).</summary>
    public static IEnumerable<BenchModel> All => Comparison.Append(DeiTTinyExplicit).Append(VimTinyReference);

    public static BenchModel Get(string key) =>
        All.FirstOrDefault(m => m.Key == key)
        ?? throw new CliException($"unknown benchmark model '{key}'; expected one of {string.Join(", ", All.Select(m => m.Key))}");
}
