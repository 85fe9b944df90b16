using TorchSharp;
using static TorchSharp.torch;

namespace SsmBridge.Modules;

/// <summary>Resizing Vim's absolute position embedding to another patch grid.</summary>
public static class PositionEmbedding
{
    /// <summary>
    /// pos_embed (1, h0*w0 + 1, D) with the class token's embedding at index h0*w0/2 (Vim's middle class
    /// token) -> (1, h1*w1 + 1, D): the patch embeddings, as an (h0, w0) grid, resized bicubically to
    /// (h1, w1), and the class token's embedding re-inserted at h1*w1/2. (Upstream's fine-tuning script
    /// reuses DeiT's helper, which treats index 0 as the class token whatever its position; with a middle
    /// class token that mixes one patch embedding into the grid. This keeps the geometry exact.)
    /// </summary>
    public static Tensor Resize(Tensor posEmbed, (long H, long W) from, (long H, long W) to)
    {
        if (from == to) return posEmbed.alias();
        long d = posEmbed.shape[2], m0 = from.H * from.W, mid0 = m0 / 2, m1 = to.H * to.W;
        if (posEmbed.shape[1] != m0 + 1)
            throw new ArgumentException(
                $"posEmbed: expected {m0 + 1} tokens for a {from.H}x{from.W} grid plus the class token, got {posEmbed.shape[1]}",
                nameof(posEmbed));
        using var scope = NewDisposeScope();
        var cls = posEmbed.narrow(1, mid0, 1);
        var patches = cat(new[] { posEmbed.narrow(1, 0, mid0), posEmbed.narrow(1, mid0 + 1, m0 - mid0) }, 1);
        var grid = patches.reshape(1, from.H, from.W, d).permute(0, 3, 1, 2).to_type(ScalarType.Float32);
        var resized = nn.functional.interpolate(grid, new[] { to.H, to.W }, mode: InterpolationMode.Bicubic, align_corners: false)
            .permute(0, 2, 3, 1).reshape(1, m1, d).to_type(posEmbed.dtype);
        var mid1 = m1 / 2;
        return cat(new[] { resized.narrow(1, 0, mid1), cls, resized.narrow(1, mid1, m1 - mid1) }, 1).MoveToOuterDisposeScope();
    }
}
