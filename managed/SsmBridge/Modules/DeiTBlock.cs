using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SsmBridge.Modules;

/// <summary>
/// timm's ViT attention as DeiT uses it: one qkv Linear (with bias) to (3, heads, head_dim), attention, the heads
/// concatenated, proj Linear. Input and output (batch, tokens, dim). Attention runs through
/// <c>scaled_dot_product_attention</c> (libtorch picks a fused, flash-style kernel that never holds the
/// tokens x tokens matrix) or, with <c>fusedAttn: false</c> (timm's fused_attn flag), explicitly as
/// softmax(q k^T / sqrt(head_dim)) v, materializing that matrix as the DeiT of the papers' comparisons did.
/// </summary>
public sealed class DeiTAttention : nn.Module<Tensor, Tensor>
{
    private readonly Linear qkv;
    private readonly Linear proj;
    private readonly Dropout proj_drop;
    private readonly long _heads;
    private readonly double _attnDrop;
    private readonly bool _fused;

    /// <summary>Multi-head self-attention over dim channels with numHeads heads (timm's qkv and proj Linear layers); fusedAttn picks scaled_dot_product_attention over the explicit softmax(QK^T / sqrt(d)) V.</summary>
    public DeiTAttention(long dim, long numHeads, double attnDrop = 0, double projDrop = 0, bool fusedAttn = true) : base(nameof(DeiTAttention))
    {
        if (numHeads <= 0 || dim % numHeads != 0)
            throw new ArgumentException($"numHeads: expected a positive divisor of dim {dim}, got {numHeads}", nameof(numHeads));
        _heads = numHeads;
        _attnDrop = attnDrop;
        _fused = fusedAttn;
        qkv = nn.Linear(dim, 3 * dim, hasBias: true);
        proj = nn.Linear(dim, dim);
        proj_drop = nn.Dropout(projDrop);
        RegisterComponents();
    }

    /// <summary>Number of attention heads.</summary>
    public long NumHeads => _heads;

    /// <summary>x (batch, tokens, dim) to the same shape.</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        long batch = x.shape[0], tokens = x.shape[1], dim = x.shape[2];
        // (batch, tokens, 3, heads, head_dim) -> (3, batch, heads, tokens, head_dim)
        var qkvHeads = qkv.forward(x).reshape(batch, tokens, 3, _heads, dim / _heads).permute(2, 0, 3, 1, 4);
        var (q, k, v) = (qkvHeads[0], qkvHeads[1], qkvHeads[2]);
        var p = training ? _attnDrop : 0;
        var attended = _fused
            ? nn.functional.scaled_dot_product_attention(q, k, v, p: p)
            : matmul(nn.functional.dropout(softmax(matmul(q * (1 / Math.Sqrt(dim / _heads)), k.transpose(-2, -1)), -1), p, training), v);
        var merged = attended.transpose(1, 2).reshape(batch, tokens, dim);
        return proj_drop.forward(proj.forward(merged)).MoveToOuterDisposeScope();
    }
}

/// <summary>A pre-norm transformer block (timm Block): x + drop_path(attn(norm1(x))), then x + drop_path(mlp(norm2(x))).</summary>
public sealed class DeiTBlock : nn.Module<Tensor, Tensor>
{
    private readonly ChannelLastLayerNorm norm1;
    private readonly DeiTAttention attn;
    private readonly DropPath drop_path;
    private readonly ChannelLastLayerNorm norm2;
    private readonly Mlp mlp;

    /// <summary>A pre-norm block of width dim: attention with numHeads heads, an MLP of mlpRatio x dim, dropout rates, the block's drop-path rate and the LayerNorm epsilon.</summary>
    public DeiTBlock(long dim, long numHeads, double mlpRatio, double drop, double attnDrop, double dropPath, double eps, bool fusedAttn = true)
        : base(nameof(DeiTBlock))
    {
        norm1 = new ChannelLastLayerNorm(dim, eps);
        attn = new DeiTAttention(dim, numHeads, attnDrop, drop, fusedAttn);
        drop_path = new DropPath(dropPath);
        norm2 = new ChannelLastLayerNorm(dim, eps);
        mlp = new Mlp(dim, (long)(dim * mlpRatio), drop: drop);
        RegisterComponents();
    }

    /// <summary>x (batch, tokens, dim) to the same shape.</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = x + drop_path.forward(attn.forward(norm1.forward(x)));
        return (h + drop_path.forward(mlp.forward(norm2.forward(h)))).MoveToOuterDisposeScope();
    }
}
