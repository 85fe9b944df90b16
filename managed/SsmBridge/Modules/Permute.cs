using static TorchSharp.torch;

namespace SsmBridge.Modules;

/// <summary>
/// x.permute(dims) as a module without parameters: VMamba switches between channel-first and
/// channel-last layouts inside its Sequentials (patch embedding, downsampling, classifier), and these
/// modules take the indices that give the official checkpoints their keys (patch_embed.2, downsample.1).
/// </summary>
public sealed class Permute : nn.Module<Tensor, Tensor>
{
    private readonly long[] _dims;

    /// <summary>The permutation to apply, as for <c>Tensor.permute</c>.</summary>
    public Permute(params long[] dims) : base(nameof(Permute)) => _dims = dims;

    /// <summary>x permuted by the dimensions given at construction.</summary>
    public override Tensor forward(Tensor x) => x.permute(_dims);
}
