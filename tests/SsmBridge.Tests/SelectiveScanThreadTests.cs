using static TorchSharp.torch;

namespace SsmBridge.Tests;

/// <summary>Tests that change process-wide thread settings run alone, after the parallel ones.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialCollection
{
    public const string Name = "Serial (changes torch.set_num_threads)";
}

/// <summary>
/// The native kernels follow torch.set_num_threads, and their results (forward and every gradient) are
/// bitwise identical for any thread count.
/// </summary>
[Collection(SerialCollection.Name)]
public class SelectiveScanThreadTests
{
    [Fact]
    public void NativeThreadCountFollowsTorchSetNumThreads()
    {
        ulong seed = Seeds.Next();
        using var scope = NewDisposeScope();
        var x = ScanInputs.Random(ScanConfig.AllOn(2, 6, 70, 4, 2), seed).Leaves(ScalarType.Float32, requiresGrad: false);
        foreach (int threads in new[] { 1, 2, 3, 1 }) {
            int seen = TorchThreads.With(threads, () => {
                using var inner = NewDisposeScope();
                x.RunOpsOutput();
                return Runtime.NativeThreadCount;
            });
            Assert.Equal(threads, seen);
        }
        // Restored: the next call follows torch's own count again.
        x.RunOpsOutput();
        Assert.Equal(Math.Max(1, get_num_threads()), Runtime.NativeThreadCount);
    }

    public static IEnumerable<object[]> Shapes() => new[] {
        // batch, dim, L, N, groups, B selective, C selective, reverse
        new object[] { 3, 17, 300, 16, 1, true, true, false },
        new object[] { 2, 34, 257, 4, 2, true, false, true },
        new object[] { 1, 33, 129, 1, 1, false, false, false },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void ResultsAreBitwiseEqualForOneAndSeveralThreads(int batch, int dim, int L, int N, int groups,
                                                              bool bSelective, bool cSelective, bool reverse)
    {
        var config = ScanConfig.AllOn(batch, dim, L, N, groups, bSelective, cSelective, reverse);
        ulong seed = Seeds.Next();
        using var scope = NewDisposeScope();
        var x = ScanInputs.Random(config, seed);
        var w = randn(new long[] { batch, dim, L }, generator: new Generator(seed + 3));

        Tensor[] Run(int threads) => TorchThreads.With(threads, () => {
            var leaves = x.Leaves(ScalarType.Float32);
            var (output, last) = leaves.RunOps();
            Assert.Equal(threads, Runtime.NativeThreadCount);
            (output * w).sum().backward();
            return new[] { output.detach(), last.detach() }.Concat(leaves.Grads().Select(g => g.Grad)).ToArray();
        });

        var one = Run(1);
        foreach (int threads in new[] { 2, 4 }) {
            var many = Run(threads);
            string[] names = new[] { "out", "last_state" }.Concat(ScanInputs.Names.Select(n => "d" + n)).ToArray();
            for (int i = 0; i < one.Length; i++)
                Assert.True(Err.Bitwise(one[i], many[i]),
                    $"{names[i]} differs between 1 and {threads} threads (rel {Err.Fmt(Err.Rel(many[i], one[i]))}); {config}, {Seeds.Describe(seed)}");
        }
    }
}
