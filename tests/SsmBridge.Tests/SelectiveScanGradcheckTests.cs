using Xunit.Abstractions;
using static TorchSharp.torch;

namespace SsmBridge.Tests;

/// <summary>
/// Float64 finite-difference gradient checks of <see cref="ops.selective_scan"/>: the analytic gradient
/// of sum(out * w) (random w) from backward() against central differences, element by element, for
/// every input, with every option on, both scan directions, time-invariant and selective B / C.
/// L = 65 and 130 cross the native chunk boundaries (64 steps per chunk).
/// </summary>
[Collection(ScanCollection.Name)]
public class SelectiveScanGradcheckTests
{
    private const double Eps = 1e-6;
    private const double Tolerance = 1e-6;

    private readonly ITestOutputHelper _log;
    public SelectiveScanGradcheckTests(ITestOutputHelper log) => _log = log;

    public static IEnumerable<object[]> Cases()
    {
        foreach (int L in new[] { 1, 7, 65 })
        foreach (bool reverse in new[] { false, true })
        foreach (var (bSel, cSel) in new[] { (true, true), (false, false), (true, false), (false, true) }) {
            if (L == 1 && bSel != cSel) continue;
            yield return new object[] { L, reverse, bSel, cSel, true };
        }
        // softplus off, and one sequence of three chunks.
        yield return new object[] { 7, false, true, true, false };
        yield return new object[] { 65, true, false, true, false };
        yield return new object[] { 130, true, true, false, true };
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void AnalyticGradientsMatchCentralDifferences(int L, bool reverse, bool bSelective, bool cSelective,
                                                         bool softplus)
    {
        int groups = bSelective || cSelective ? 2 : 1;
        var config = new ScanConfig(2, 4, L, 3, groups, bSelective, cSelective, true, true, true, softplus, reverse);
        ulong seed = Seeds.Next();
        using var scope = NewDisposeScope();
        var x = ScanInputs.Random(config, seed);
        var w = randn(new long[] { 2, 4, L }, ScalarType.Float64, generator: new Generator(seed + 1));

        var leaves = x.Leaves(ScalarType.Float64);
        var output = leaves.RunOpsOutput();
        Assert.Equal(ScalarType.Float64, output.dtype);
        (output * w).sum().backward();
        var analytic = leaves.Grads().ToDictionary(g => g.Name, g => g.Grad);

        double Loss()
        {
            using var inner = NewDisposeScope();
            using var noGrad = no_grad();
            return (x.RunOpsOutput() * w).sum().item<double>();
        }

        var report = new List<string>();
        double worst = 0;
        for (int i = 0; i < ScanInputs.Names.Length; i++) {
            var name = ScanInputs.Names[i];
            var flat = x.All[i]!.view(-1);
            var numeric = new double[flat.shape[0]];
            for (long j = 0; j < flat.shape[0]; j++) {
                using var inner = NewDisposeScope();
                var element = flat[j];
                double original = element.item<double>();
                element.fill_(original + Eps);
                double plus = Loss();
                element.fill_(original - Eps);
                double minus = Loss();
                element.fill_(original);
                numeric[j] = (plus - minus) / (2 * Eps);
            }
            var grad = analytic[name];
            Assert.Equal(ScalarType.Float64, grad.dtype);
            double err = NaiveScan.Rel(grad.reshape(-1), numeric);
            worst = Math.Max(worst, err);
            report.Add($"d{name}={Err.Fmt(err)}");
        }
        _log.WriteLine(string.Join(" ", report));
        Assert.True(worst < Tolerance,
            $"{config}, {Seeds.Describe(seed)}: relative error of analytic vs central-difference gradients " +
            $"(tolerance {Err.Fmt(Tolerance)}): {string.Join(" ", report)}");
    }
}
