using SsmBridge;
using static TorchSharp.torch;

namespace SsmBridge.Tests;

/// <summary>The README's usage example, verbatim in spirit, so it keeps compiling and running.</summary>
public class ReadmeExampleTests
{
    [Fact]
    public void UsageExampleRunsAndProducesEveryGradient()
    {
        using var scope = NewDisposeScope();
        var (batch, dim, L, N) = (2, 384, 1024, 16);
        var u = randn(batch, dim, L, requires_grad: true);
        var delta = randn(batch, dim, L, requires_grad: true);
        var A = (-rand(dim, N) - 0.5).requires_grad_();
        var B = randn(batch, 1, N, L);
        var C = randn(batch, 1, N, L);
        var y = ops.selective_scan(u, delta, A, B, C, D: ones(dim), z: randn(batch, dim, L),
                                   delta_bias: zeros(dim), delta_softplus: true);
        y.sum().backward();

        Assert.Equal(new long[] { batch, dim, L }, y.shape);
        Assert.True(y.isfinite().all().item<bool>());
        foreach (var grad in new[] { u.grad, delta.grad, A.grad }) {
            Assert.NotNull(grad);
            Assert.True(grad!.isfinite().all().item<bool>());
            Assert.True(grad.abs().sum().item<float>() > 0);
        }
    }
}
