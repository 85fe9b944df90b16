using SsmBridge;
using static TorchSharp.torch;

namespace SsmBridge.Tests;

public class SmokeTests
{
    [Fact]
    public void Runs()
    {
        var u = randn(1, 2, 5);
        var y = ops.selective_scan(u, rand(1, 2, 5), -rand(2, 3) - 0.5, randn(1, 1, 3, 5), randn(1, 1, 3, 5));
        var r = reference.selective_scan(u, rand(1, 2, 5), -rand(2, 3) - 0.5, randn(1, 1, 3, 5), randn(1, 1, 3, 5));
        Assert.Equal(y.shape, r.shape);
    }
}
