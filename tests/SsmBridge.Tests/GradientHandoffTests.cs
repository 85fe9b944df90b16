using SsmBridge.Internal;
using static TorchSharp.torch;

namespace SsmBridge.Tests;

/// <summary>
/// The managed wrappers of the gradients a backward hands to the autograd engine are released by the next
/// SsmBridge autograd call on the same thread, and the gradient outputs a backward was given are disposed when
/// it is done. Before this, each wrapper held its gradient's memory until the GC finalized it (see
/// <see cref="GradientHandoff"/>).
/// </summary>
public class GradientHandoffTests
{
    private static (Tensor u, Tensor delta, Tensor A, Tensor B, Tensor C, Tensor D, Tensor z, Tensor bias) Leaves(int seed)
    {
        var g = new Generator((ulong)seed);
        Tensor Leaf(Tensor t) => t.requires_grad_();
        return (Leaf(randn(2, 8, 40, generator: g)), Leaf(rand(2, 8, 40, generator: g) - 2), Leaf(-rand(8, 4, generator: g) - 0.5),
                Leaf(randn(2, 1, 4, 40, generator: g)), Leaf(randn(2, 1, 4, 40, generator: g)), Leaf(randn(8, generator: g)),
                Leaf(randn(2, 8, 40, generator: g)), Leaf(rand(8, generator: g) - 0.5));
    }

    [Fact]
    public void ReturnedGradientWrappersAreReleasedByTheNextCallAndTheGradientsSurvive()
    {
        using var scope = NewDisposeScope();
        GradientHandoff.ReleaseReturned();
        var x = Leaves(1);
        var leaves = new[] { x.u, x.delta, x.A, x.B, x.C, x.D, x.z, x.bias };
        ops.selective_scan(x.u, x.delta, x.A, x.B, x.C, x.D, x.z, x.bias, delta_softplus: true).square().sum().backward();

        var pending = GradientHandoff.Pending;
        Assert.Equal(8, pending.Count);  // one per differentiable input
        Assert.All(pending, t => Assert.False(t.IsInvalid));
        var before = leaves.Select(l => l.grad!.clone()).ToArray();

        // Any later SsmBridge autograd call on this thread releases them first.
        var y = ops.selective_scan(x.u.detach().requires_grad_(), x.delta, x.A, x.B, x.C);
        Assert.All(pending, t => Assert.True(t.IsInvalid));
        Assert.Empty(GradientHandoff.Pending);

        // The engine's own references were untouched: the accumulated gradients keep their values.
        for (int i = 0; i < leaves.Length; i++)
            Assert.True(leaves[i].grad!.allclose(before[i], rtol: 0, atol: 0), $"gradient {i} changed after the release");
        y.Dispose();
    }

    [Fact]
    public void EachThreadReleasesOnlyItsOwnWrappers()
    {
        using var scope = NewDisposeScope();
        GradientHandoff.ReleaseReturned();
        var x = Leaves(2);
        ops.selective_scan(x.u, x.delta, x.A, x.B, x.C, x.D, x.z, x.bias).sum().backward();
        var mine = GradientHandoff.Pending;
        Assert.NotEmpty(mine);

        IReadOnlyList<Tensor> theirs = Array.Empty<Tensor>();
        var other = new Thread(() => {
            using var inner = NewDisposeScope();
            var w = Leaves(3);
            ops.selective_scan(w.u, w.delta, w.A, w.B, w.C).sum().backward();
            theirs = GradientHandoff.Pending;
            GradientHandoff.ReleaseReturned();
        });
        other.Start();
        other.Join();
        Assert.NotEmpty(theirs);
        Assert.All(theirs, t => Assert.True(t.IsInvalid));
        Assert.All(mine, t => Assert.False(t.IsInvalid));  // the other thread's call left this thread's alone
        GradientHandoff.ReleaseReturned();
        Assert.All(mine, t => Assert.True(t.IsInvalid));
    }

    [Fact]
    public void EveryOpHandsItsGradientsOver()
    {
        using var scope = NewDisposeScope();
        GradientHandoff.ReleaseReturned();
        var image = randn(1, 4, 6, 6).requires_grad_();
        ops.cross_scan(image).sum().backward();
        Assert.Single(GradientHandoff.Pending);
        var sequences = randn(new long[] { 1, 4, 4, 6, 6 }).requires_grad_();
        ops.cross_merge(sequences).sum().backward();
        Assert.Single(GradientHandoff.Pending);  // the cross_scan gradient was released by cross_merge's calls
        var channelsLast = randn(1, 6, 6, 4).requires_grad_();
        ops.patch_merge(channelsLast).sum().backward();
        Assert.Single(GradientHandoff.Pending);
        GradientHandoff.ReleaseReturned();
    }

    [Fact]
    public void CpuKernelsRunOnLibtorchsOpenMPTeamOnLinux()
    {
        if (!OperatingSystem.IsLinux()) return;
        // libtorch's CPU build links its own libgomp (libgomp-<hash>.so.1): the kernels must find it.
        Assert.StartsWith("openmp libgomp", Runtime.CpuThreading);
    }
}
