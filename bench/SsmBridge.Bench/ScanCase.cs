using static TorchSharp.torch;

namespace SsmBridge.Bench;

/// <summary>
/// One selective-scan problem with every option on (softplus, delta_bias, D, z; selective B and C,
/// one group), as Vim and VMamba call it. Inputs are drawn once per case.
/// </summary>
public sealed record ScanCase(string Name, int Batch, int Dim, int L, int N)
{
    /// <summary>The shapes: Vim-Ti (batch 1, 2, 4, 8; 384, 197, 16), the N = 16 target, VMamba's N = 1.</summary>
    public static IEnumerable<ScanCase> Standard() => new[] {
        new ScanCase("vim-ti b1", 1, 384, 197, 16),
        new ScanCase("vim-ti b2", 2, 384, 197, 16),
        new ScanCase("vim-ti b4", 4, 384, 197, 16),
        new ScanCase("vim-ti b8", 8, 384, 197, 16),
        new ScanCase("target N16", 2, 384, 1024, 16),
        new ScanCase("target N1", 8, 192, 3136, 1),
    };

    public static ScanCase Parse(string name) =>
        Standard().FirstOrDefault(c => c.Name == name) ?? throw new ArgumentException($"unknown case '{name}'");

    /// <summary>batch * dim * L * N: the unit of the G elem/s figures.</summary>
    public long Elements => (long)Batch * Dim * L * N;

    public override string ToString() => $"{Name} ({Batch},{Dim},{L},{N})";
}

/// <summary>The tensors of a <see cref="ScanCase"/>; gradients are taken on u, delta, A, B, C, D, z, delta_bias.</summary>
public sealed class ScanInputs : IDisposable
{
    public readonly Tensor u, delta, A, B, C, D, z, delta_bias;

    public ScanInputs(ScanCase c, bool requiresGrad)
    {
        manual_seed(0);
        u = randn(c.Batch, c.Dim, c.L);
        delta = rand(c.Batch, c.Dim, c.L) * 2 - 3;
        A = -(rand(c.Dim, c.N) + 0.5);
        B = randn(c.Batch, 1, c.N, c.L);
        C = randn(c.Batch, 1, c.N, c.L);
        D = randn(c.Dim);
        z = randn(c.Batch, c.Dim, c.L);
        delta_bias = rand(c.Dim) - 0.5;
        if (requiresGrad)
            foreach (var t in All) t.requires_grad_();
    }

    public Tensor[] All => new[] { u, delta, A, B, C, D, z, delta_bias };

    public delegate Tensor Scan(Tensor u, Tensor delta, Tensor A, Tensor B, Tensor C, Tensor? D, Tensor? z,
                                Tensor? delta_bias, bool delta_softplus, bool reverse);

    public Tensor Run(Scan scan) => scan(u, delta, A, B, C, D, z, delta_bias, true, false);

    /// <summary>
    /// As <see cref="Run"/>, with u, delta, z, B and C passed as views of themselves: non-leaf tensors
    /// (a model's activations), whose gradients reach the leaves through the views' backward.
    /// </summary>
    public Tensor RunOnViews(Scan scan) =>
        scan(u.view(u.shape), delta.view(delta.shape), A, B.view(B.shape), C.view(C.shape), D, z.view(z.shape),
             delta_bias, true, false);

    /// <summary>The forward on the leaves (<see cref="Run"/>) or on views of them (<see cref="RunOnViews"/>).</summary>
    public Tensor Forward(Scan scan, bool views) => views ? RunOnViews(scan) : Run(scan);

    /// <summary><see cref="Forward"/>, then <see cref="Backward"/>; gradients are dropped afterwards.</summary>
    public void RunWithBackward(Scan scan, bool views = false, Tensor? dout = null) =>
        Backward(Forward(scan, views), dout);

    /// <summary>
    /// Backward from <paramref name="output"/>: of sum(output) when <paramref name="dout"/> is null (an
    /// expanded scalar gradient, which the op makes contiguous first), otherwise with dout as the output's
    /// gradient (a contiguous tensor, as the next layer's backward delivers it). Drops the gradients after.
    /// </summary>
    public void Backward(Tensor output, Tensor? dout)
    {
        if (dout is null)
            output.sum().backward();
        else
            output.backward(new[] { dout });
        DropGradients();
    }

    public void DropGradients()
    {
        foreach (var t in All) {
            t.grad?.Dispose();
            t.grad = null;
        }
    }

    public void Dispose()
    {
        foreach (var t in All) t.Dispose();
    }
}
