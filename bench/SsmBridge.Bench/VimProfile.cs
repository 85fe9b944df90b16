using System.Diagnostics;
using System.Globalization;
using static TorchSharp.torch;

namespace SsmBridge.Bench;

/// <summary>
/// `vim-profile SIZE [REPS]`: where Vim-Ti's inference forward spends its time at one image size (batch 1), by
/// timing its parts on their own with Vim-Ti's shapes (d_model 192, d_inner 384, dt_rank 12, N 16, 24 blocks,
/// 2 directions): the Linear layers as matmuls, the depthwise convolutions, the fused selective scans (forward, and
/// forward+backward for the training step), against the whole model's forward. Median of REPS (default 5).
/// </summary>
public static class VimProfile
{
    private const int Blocks = 24, Directions = 2;
    private const long DModel = 192, DInner = 384, DtRank = 12, N = 16, DConv = 4;

    public static int Run(long size, int reps)
    {
        long L = (size / 16) * (size / 16) + 1;
        manual_seed(0);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var x = randn(1, L, DModel);
        var xi = randn(1, L, DInner);
        var inProj = randn(DModel, 2 * DInner) * 0.05;
        var xProj = randn(DInner, DtRank + 2 * N) * 0.05;
        var dtProj = randn(DtRank, DInner) * 0.05;
        var outProj = randn(DInner, DModel) * 0.05;
        var convW = randn(DInner, 1, DConv);
        var u = randn(1, DInner, L);
        var delta = rand(1, DInner, L) - 2;
        var A = -(rand(DInner, N) + 0.5);
        var B = randn(1, 1, N, L);
        var C = randn(1, 1, N, L);
        var z = randn(1, DInner, L);
        var D = ones(DInner);
        var bias = zeros(DInner);

        var linear = Median(reps, () => {
            for (int b = 0; b < Blocks; b++) {
                matmul(x, inProj).Dispose();
                for (int d = 0; d < Directions; d++) {
                    using var dbl = matmul(xi, xProj);
                    matmul(dbl.narrow(-1, 0, DtRank), dtProj).Dispose();
                }
                matmul(xi, outProj).Dispose();
            }
        });
        var conv = Median(reps, () => {
            for (int i = 0; i < Blocks * Directions; i++)
                nn.functional.conv1d(u, convW, padding: DConv - 1, groups: DInner).Dispose();
        });
        var scan = Median(reps, () => {
            for (int i = 0; i < Blocks * Directions; i++)
                ops.selective_scan(u, delta, A, B, C, D, z, bias, delta_softplus: true, reverse: i % 2 == 1).Dispose();
        });
        double scanTrain;
        using (var enable = enable_grad()) {
            var leaves = new[] { u, delta, A, B, C, D, z, bias }.Select(t => t.detach().requires_grad_()).ToArray();
            scanTrain = Median(reps, () => {
                for (int i = 0; i < Blocks * Directions; i++) {
                    using var inner = NewDisposeScope();
                    ops.selective_scan(leaves[0], leaves[1], leaves[2], leaves[3], leaves[4], leaves[5], leaves[6], leaves[7],
                                       delta_softplus: true, reverse: i % 2 == 1).sum().backward();
                }
            });
        }
        using var model = models.vim_tiny_patch16_224(img_size: size);
        model.eval();
        using var images = randn(1, 3, size, size);
        var whole = Median(reps, () => model.forward(images).Dispose());

        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine($"| size | tokens | model forward ms | Linear (matmuls) ms | depthwise conv ms | selective scan fwd ms | scan fwd+bwd ms |");
        Console.WriteLine("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        Console.WriteLine(string.Create(inv, $"| {size} | {L} | {whole:0} | {linear:0} | {conv:0} | {scan:0} | {scanTrain:0} |"));
        return 0;
    }

    // Median milliseconds of `reps` runs after one warm-up run.
    private static double Median(int reps, Action body)
    {
        body();
        var times = new double[reps];
        for (int i = 0; i < reps; i++) {
            var watch = Stopwatch.StartNew();
            using (var scope = NewDisposeScope()) body();
            times[i] = watch.Elapsed.TotalMilliseconds;
        }
        Array.Sort(times);
        return times[reps / 2];
    }
}
