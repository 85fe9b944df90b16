using static TorchSharp.torch;

namespace SsmBridge.Tests;

/// <summary>
/// Dtypes, layouts, last_state, reverse, grad mode and autograd details of the fused selective scan.
/// </summary>
[Collection(ScanCollection.Name)]
public class SelectiveScanBehaviorTests
{
    private static readonly ScanConfig Typical = ScanConfig.AllOn(batch: 2, dim: 6, L: 70, N: 4, groups: 2);

    private static Tensor Weight(ScanConfig c, ulong seed, ScalarType type = ScalarType.Float64) =>
        randn(new long[] { c.Batch, c.Dim, c.L }, ScalarType.Float64, generator: new Generator(seed ^ 0xABCDEFUL)).to_type(type);

    private static ScanInputs With(ScanInputs x, int index, Tensor replacement)
    {
        var all = x.All.ToArray();
        all[index] = replacement;
        return new ScanInputs(x.Config, all);
    }

    // ---- dtypes --------------------------------------------------------------------------------------

    [Theory]
    [InlineData(false, true, true)]
    [InlineData(true, true, false)]
    [InlineData(false, false, false)]
    [InlineData(true, false, true)]
    public void Float64InputsGiveFloat64OutputsAndGradientsMatchingTheReference(bool reverse, bool bSelective, bool cSelective)
    {
        var config = ScanConfig.AllOn(2, 6, 70, 4, 2, bSelective, cSelective, reverse);
        ulong seed = Seeds.Next();
        using var scope = NewDisposeScope();
        var x = ScanInputs.Random(config, seed);
        var fused = x.Leaves(ScalarType.Float64);
        var refr = x.Leaves(ScalarType.Float64);
        var (out1, last1) = fused.RunOps();
        var (out2, last2) = refr.RunReference();
        Assert.Equal(ScalarType.Float64, out1.dtype);
        Assert.Equal(ScalarType.Float64, last1.dtype);
        var w = Weight(config, seed);
        (out1 * w).sum().backward();
        (out2 * w).sum().backward();

        var errors = new List<string> { $"out={Err.Fmt(Err.Rel(out1, out2))}", $"last_state={Err.Fmt(Err.Rel(last1, last2))}" };
        double worst = Math.Max(Err.Rel(out1, out2), Err.Rel(last1, last2));
        var refGrads = refr.Grads().ToDictionary(g => g.Name, g => g.Grad);
        foreach (var (name, grad) in fused.Grads()) {
            Assert.Equal(ScalarType.Float64, grad.dtype);
            double e = Err.Rel(grad, refGrads[name]);
            worst = Math.Max(worst, e);
            errors.Add($"d{name}={Err.Fmt(e)}");
        }
        Assert.True(worst < 1e-10, $"{config}, {Seeds.Describe(seed)}: float64 errors {string.Join(" ", errors)}");
    }

    public static IEnumerable<object[]> HalfTypes() =>
        new[] { new object[] { ScalarType.Float16, false }, new object[] { ScalarType.BFloat16, false },
                new object[] { ScalarType.Float16, true }, new object[] { ScalarType.BFloat16, true } };

    /// <summary>
    /// float16 / bfloat16 inputs are computed in float32: the result equals the float32 op on the
    /// up-converted inputs, rounded to the input dtype; every gradient likewise, in its input's dtype.
    /// With <paramref name="allActivations"/> u, delta, z and the selective B, C are half precision;
    /// otherwise only u is.
    /// </summary>
    [Theory]
    [MemberData(nameof(HalfTypes))]
    public void HalfPrecisionInputsAreComputedInFloat32(ScalarType half, bool allActivations)
    {
        ulong seed = Seeds.Next();
        using var scope = NewDisposeScope();
        var x = ScanInputs.Random(Typical, seed);
        int[] halfInputs = allActivations ? new[] { 0, 1, 3, 4, 6 } : new[] { 0 };
        var low = new ScanInputs(Typical, x.All.Select((t, i) =>
            t!.to_type(halfInputs.Contains(i) ? half : ScalarType.Float32).requires_grad_()).ToArray());
        var f32 = low.Leaves(ScalarType.Float32);   // exact up-conversion of the same numbers

        var (outLow, lastLow) = low.RunOps();
        var (out32, last32) = f32.RunOps();
        Assert.Equal(half, outLow.dtype);
        Assert.Equal(ScalarType.Float32, lastLow.dtype);
        Assert.True(Err.Bitwise(outLow, out32.to_type(half)), $"{half} output differs from the rounded float32 output; {Seeds.Describe(seed)}");
        Assert.True(Err.Bitwise(lastLow, last32), $"last_state differs from float32; {Seeds.Describe(seed)}");

        // Same dout for both: the half output's gradient is the weight rounded to half.
        var w = Weight(Typical, seed, ScalarType.Float32);
        (outLow.to_type(ScalarType.Float32) * w).sum().backward();
        (out32 * w.to_type(half).to_type(ScalarType.Float32)).sum().backward();
        var grads32 = f32.Grads().ToDictionary(g => g.Name, g => g.Grad);
        int i = 0;
        foreach (var (name, grad) in low.Grads()) {
            var expectedType = halfInputs.Contains(Array.IndexOf(ScanInputs.Names, name)) ? half : ScalarType.Float32;
            Assert.Equal(expectedType, grad.dtype);
            Assert.True(Err.Bitwise(grad, grads32[name].to_type(expectedType)),
                $"d{name} ({half}) differs from the float32 gradient rounded to {expectedType}; {Seeds.Describe(seed)}");
            i++;
        }
        Assert.Equal(8, i);
    }

    /// <summary>float64 weights (A, D, delta_bias) with float32 activations: computed in float32, the weight
    /// gradients come back as float64 and equal the float32 ones.</summary>
    [Fact]
    public void Float64WeightsWithFloat32ActivationsGiveFloat64WeightGradients()
    {
        ulong seed = Seeds.Next();
        using var scope = NewDisposeScope();
        var x = ScanInputs.Random(Typical, seed);
        // The float64 weights hold float32-representable values so both calls see the same numbers.
        var mixed = new ScanInputs(Typical, x.All.Select((t, i) =>
            (i is 2 or 5 or 7 ? t!.to_type(ScalarType.Float32).to_type(ScalarType.Float64) : t!.to_type(ScalarType.Float32))
            .requires_grad_()).ToArray());
        var f32 = mixed.Leaves(ScalarType.Float32);

        var (outM, lastM) = mixed.RunOps();
        var (out32, last32) = f32.RunOps();
        Assert.Equal(ScalarType.Float32, outM.dtype);
        Assert.True(Err.Bitwise(outM, out32), $"output differs; {Seeds.Describe(seed)}");
        Assert.True(Err.Bitwise(lastM, last32), $"last_state differs; {Seeds.Describe(seed)}");
        var w = Weight(Typical, seed, ScalarType.Float32);
        (outM * w).sum().backward();
        (out32 * w).sum().backward();
        var grads32 = f32.Grads().ToDictionary(g => g.Name, g => g.Grad);
        foreach (var (name, grad) in mixed.Grads()) {
            var expectedType = name is "A" or "D" or "delta_bias" ? ScalarType.Float64 : ScalarType.Float32;
            Assert.Equal(expectedType, grad.dtype);
            Assert.True(Err.Bitwise(grad, grads32[name].to_type(expectedType)), $"d{name} differs; {Seeds.Describe(seed)}");
        }
    }

    // ---- layouts and aliasing ------------------------------------------------------------------------

    /// <summary>
    /// Transposed, strided, permuted and expanded views give exactly the values and gradients of
    /// contiguous copies. Gradients are taken with respect to the views themselves.
    /// Variant 0: selective B expanded over the batch, time-invariant C transposed.
    /// Variant 1: time-invariant B expanded over the channels, selective C transposed.
    /// </summary>
    [Theory]
    [InlineData(ScalarType.Float32, 0)]
    [InlineData(ScalarType.Float32, 1)]
    [InlineData(ScalarType.Float64, 0)]
    [InlineData(ScalarType.Float64, 1)]
    public void NonContiguousInputsMatchContiguousCopies(ScalarType type, int variant)
    {
        const long b = 2, d = 6, L = 70, n = 4, g = 2;
        var config = new ScanConfig((int)b, (int)d, (int)L, (int)n, (int)g, variant == 0, variant == 1,
                                    true, true, true, true, variant == 1);
        ulong seed = Seeds.Next();
        using var scope = NewDisposeScope();
        var gen = new Generator(seed);
        Tensor Leaf(Tensor t) => t.to_type(type).requires_grad_();
        var uBase = Leaf(randn(new[] { b, L, d }, generator: gen));
        var deltaBase = Leaf(rand(new[] { b, d, 2 * L }, generator: gen) * -3.0);
        var aBase = Leaf(-(rand(new[] { n, d }, generator: gen) + 0.5));
        var bBase = variant == 0 ? Leaf(randn(new[] { 1, g, n, L }, generator: gen)) : Leaf(randn(new[] { 1, n }, generator: gen));
        var cBase = variant == 0 ? Leaf(randn(new[] { n, d }, generator: gen)) : Leaf(randn(new[] { b, g, L, n }, generator: gen));
        var dBase = Leaf(randn(new[] { 2 * d }, generator: gen));
        var zBase = Leaf(randn(new[] { d, b, L }, generator: gen));
        var biasBase = Leaf((rand(new[] { d, 3 }, generator: gen) - 0.5));

        var views = new ScanInputs(config, new[] {
            uBase.transpose(1, 2),                                     // (b, d, L), strides (L*d, 1, d)
            deltaBase.slice(2, 0, 2 * L, 2),                           // every other step
            aBase.t(),
            variant == 0 ? bBase.expand(b, g, n, L) : bBase.expand(d, n),
            variant == 0 ? cBase.t() : cBase.transpose(2, 3),
            dBase.slice(0, 1, 2 * d, 2),
            zBase.permute(1, 0, 2),
            biasBase.select(1, 1),
        });
        Assert.False(views.U.is_contiguous());
        Assert.False(views.Delta.is_contiguous());
        Assert.False(views.B.is_contiguous());
        Assert.False(views.C.is_contiguous());
        Assert.False(views.Z!.is_contiguous());
        var copies = new ScanInputs(config, views.All.Select(t => t!.detach().contiguous().clone().requires_grad_()).ToArray());

        var (outV, lastV) = views.RunOps();
        var (outC, lastC) = copies.RunOps();
        Assert.True(Err.Bitwise(outV, outC), $"output of views differs from contiguous copies; {Seeds.Describe(seed)}");
        Assert.True(Err.Bitwise(lastV, lastC), $"last_state of views differs; {Seeds.Describe(seed)}");

        var w = Weight(config, seed, type);
        var gradsV = autograd.grad(new[] { (outV * w).sum() }, views.All.Select(t => t!).ToList());
        (outC * w).sum().backward();
        var gradsC = copies.Grads().Select(p => p.Grad).ToList();
        for (int i = 0; i < 8; i++)
            Assert.True(Err.Bitwise(gradsV[i], gradsC[i]),
                $"d{ScanInputs.Names[i]} of the view differs from the contiguous copy's (rel {Err.Fmt(Err.Rel(gradsV[i], gradsC[i]))}); {Seeds.Describe(seed)}");
    }

    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.Float64)]
    public void InputsAreNeverModified(ScalarType type)
    {
        ulong seed = Seeds.Next();
        using var scope = NewDisposeScope();
        var x = ScanInputs.Random(Typical, seed).Leaves(type);
        var before = x.Clones();
        var (output, last) = x.RunOps();
        ((output * Weight(Typical, seed, type)).sum() + last.sum()).backward();
        for (int i = 0; i < 8; i++)
            Assert.True(Err.Bitwise(x.All[i]!.detach(), before.All[i]!),
                $"{ScanInputs.Names[i]} ({type}) was modified by forward + backward; {Seeds.Describe(seed)}");
    }

    // ---- last_state and reverse ----------------------------------------------------------------------

    /// <summary>
    /// last_state is h after the last step: t = L-1 forward, t = 0 with reverse. With time-invariant C
    /// and no D / z, y at that step is exactly sum_n C[d,n] * last_state[b,d,n].
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void LastStateIsTheStateAfterTheFinalStep(bool reverse)
    {
        var config = new ScanConfig(2, 5, 67, 4, 1, true, false, false, false, true, true, reverse);
        ulong seed = Seeds.Next();
        using var scope = NewDisposeScope();
        var x = ScanInputs.Random(config, seed);
        var (output, last) = x.RunOps();
        var (loopOut, loopLast) = NaiveScan.Run(x);
        Assert.True(NaiveScan.Rel(last, loopLast) < 1e-12, $"last_state vs float64 loop: {Err.Fmt(NaiveScan.Rel(last, loopLast))}; {Seeds.Describe(seed)}");
        Assert.True(NaiveScan.Rel(output, loopOut) < 1e-12, $"output vs float64 loop: {Err.Fmt(NaiveScan.Rel(output, loopOut))}; {Seeds.Describe(seed)}");
        var yFinal = output.select(2, reverse ? 0 : config.L - 1);
        var fromState = (last * x.C.unsqueeze(0)).sum(-1);
        double e = Err.Rel(yFinal, fromState);
        Assert.True(e < 1e-12, $"reverse={reverse}: y at the final step vs C . last_state: {Err.Fmt(e)}; {Seeds.Describe(seed)}");

        var (_, refLast) = x.RunReference();
        Assert.True(Err.Rel(last, refLast) < 1e-12, $"last_state vs reference: {Err.Fmt(Err.Rel(last, refLast))}; {Seeds.Describe(seed)}");
    }

    private static ScanInputs Flipped(ScanInputs x) => new(x.Config with { Reverse = !x.Config.Reverse },
        x.All.Select((t, i) => t is null ? null
            : i is 0 or 1 or 6 ? t.detach().flip(2).requires_grad_()
            : (i is 3 or 4) && t.dim() == 4 ? t.detach().flip(3).requires_grad_()
            : t.detach().clone().requires_grad_()).ToArray());

    /// <summary>A reverse scan equals the forward scan of the inputs flipped along L, flipped back; so do
    /// the gradients; and the last states are equal.</summary>
    [Theory]
    [InlineData(true, true, 70)]
    [InlineData(false, true, 129)]
    [InlineData(true, false, 5)]
    public void ReverseEqualsForwardScanOfFlippedInputs(bool bSelective, bool cSelective, int L)
    {
        var config = ScanConfig.AllOn(2, 6, L, 4, 2, bSelective, cSelective, reverse: true);
        ulong seed = Seeds.Next();
        using var scope = NewDisposeScope();
        var rev = ScanInputs.Random(config, seed).Leaves(ScalarType.Float64);
        var fwd = Flipped(rev);
        var (outR, lastR) = rev.RunOps();
        var (outF, lastF) = fwd.RunOps();
        Assert.True(Err.Rel(outR, outF.flip(2)) < 1e-12, $"output: {Err.Fmt(Err.Rel(outR, outF.flip(2)))}; {Seeds.Describe(seed)}");
        Assert.True(Err.Rel(lastR, lastF) < 1e-12, $"last_state: {Err.Fmt(Err.Rel(lastR, lastF))}; {Seeds.Describe(seed)}");
        var w = Weight(config, seed);
        (outR * w).sum().backward();
        (outF * w.flip(2)).sum().backward();
        var gradsF = Flipped(new ScanInputs(config with { Reverse = false }, fwd.Grads().Select(p => (Tensor?)p.Grad).ToArray()));
        int i = 0;
        foreach (var (name, grad) in rev.Grads()) {
            double e = Err.Rel(grad, gradsF.All[i++]!);
            Assert.True(e < 1e-12, $"d{name}: reverse vs flipped forward {Err.Fmt(e)}; {Seeds.Describe(seed)}");
        }
    }

    /// <summary>Backpropagating through last_state: selective_scan_with_state is differentiable in both
    /// outputs, so a loss on last_state must give the reference's gradients (or be refused), never be
    /// silently dropped.</summary>
    [Fact]
    public void GradientsFlowThroughLastState()
    {
        var config = ScanConfig.AllOn(2, 4, 70, 3, 2);
        ulong seed = Seeds.Next();
        using var scope = NewDisposeScope();
        var x = ScanInputs.Random(config, seed);
        var fused = x.Leaves(ScalarType.Float64);
        var refr = x.Leaves(ScalarType.Float64);
        var wLast = randn(new long[] { 2, 4, 3 }, ScalarType.Float64, generator: new Generator(seed + 7));
        var w = Weight(config, seed);
        var (o1, l1) = fused.RunOps();
        var (o2, l2) = refr.RunReference();
        ((o1 * w).sum() + (l1 * wLast).sum()).backward();
        ((o2 * w).sum() + (l2 * wLast).sum()).backward();
        var refGrads = refr.Grads().ToDictionary(p => p.Name, p => p.Grad);
        var errors = fused.Grads().Select(p => (p.Name, E: Err.Rel(p.Grad, refGrads[p.Name]))).ToList();
        Assert.True(errors.All(e => e.E < 1e-10),
            $"gradients with a loss on last_state differ from the reference: {string.Join(" ", errors.Select(e => $"d{e.Name}={Err.Fmt(e.E)}"))}; {Seeds.Describe(seed)}");
    }

    // ---- grad mode and autograd ----------------------------------------------------------------------

    [Fact]
    public void WorksUnderNoGrad()
    {
        ulong seed = Seeds.Next();
        using var scope = NewDisposeScope();
        var x = ScanInputs.Random(Typical, seed).Leaves(ScalarType.Float32);
        var (outG, lastG) = x.RunOps();
        Tensor outN, lastN, outOnly;
        using (no_grad()) {
            (outN, lastN) = x.RunOps();
            outOnly = x.RunOpsOutput();
        }
        Assert.True(outG.requires_grad);
        Assert.False(outN.requires_grad);
        Assert.False(lastN.requires_grad);
        Assert.False(outOnly.requires_grad);
        Assert.True(Err.Bitwise(outN, outG), $"no_grad output differs; {Seeds.Describe(seed)}");
        Assert.True(Err.Bitwise(lastN, lastG), $"no_grad last_state differs; {Seeds.Describe(seed)}");
        Assert.True(Err.Bitwise(outOnly, outG), $"no_grad selective_scan output differs; {Seeds.Describe(seed)}");
    }

    [Fact]
    public void SelectiveScanEqualsTheOutputOfSelectiveScanWithState()
    {
        ulong seed = Seeds.Next();
        using var scope = NewDisposeScope();
        var a = ScanInputs.Random(Typical, seed).Leaves(ScalarType.Float32);
        var b = a.Leaves(ScalarType.Float32);
        var outA = a.RunOpsOutput();
        var (outB, _) = b.RunOps();
        Assert.True(Err.Bitwise(outA, outB), $"outputs differ; {Seeds.Describe(seed)}");
        var w = Weight(Typical, seed, ScalarType.Float32);
        (outA * w).sum().backward();
        (outB * w).sum().backward();
        var gb = b.Grads().ToDictionary(p => p.Name, p => p.Grad);
        foreach (var (name, grad) in a.Grads())
            Assert.True(Err.Bitwise(grad, gb[name]), $"d{name} differs; {Seeds.Describe(seed)}");
    }

    [Fact]
    public void BackwardTwiceWithRetainGraphAccumulatesTheSameGradients()
    {
        ulong seed = Seeds.Next();
        using var scope = NewDisposeScope();
        var x = ScanInputs.Random(Typical, seed).Leaves(ScalarType.Float32);
        var loss = (x.RunOpsOutput() * Weight(Typical, seed, ScalarType.Float32)).sum();
        loss.backward(retain_graph: true);
        var first = x.Grads().Select(p => (p.Name, Grad: p.Grad.clone())).ToList();
        loss.backward();
        foreach (var ((name, grad), (_, once)) in x.Grads().Zip(first))
            Assert.True(Err.Bitwise(grad, once * 2), $"d{name} after two backward passes is not twice the first; {Seeds.Describe(seed)}");
    }

    [Fact]
    public void RepeatedCallsGiveBitwiseEqualResults()
    {
        ulong seed = Seeds.Next();
        using var scope = NewDisposeScope();
        var x = ScanInputs.Random(Typical, seed).Leaves(ScalarType.Float32);
        var y = x.Leaves(ScalarType.Float32);
        var (o1, l1) = x.RunOps();
        var (o2, l2) = y.RunOps();
        Assert.True(Err.Bitwise(o1, o2) && Err.Bitwise(l1, l2), $"two forward calls differ; {Seeds.Describe(seed)}");
        var w = Weight(Typical, seed, ScalarType.Float32);
        (o1 * w).sum().backward();
        (o2 * w).sum().backward();
        var gy = y.Grads().ToDictionary(p => p.Name, p => p.Grad);
        foreach (var (name, grad) in x.Grads())
            Assert.True(Err.Bitwise(grad, gy[name]), $"d{name} differs between two calls; {Seeds.Describe(seed)}");
    }
}
