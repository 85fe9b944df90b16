using static TorchSharp.torch;

namespace SsmBridge.Tests;

/// <summary>
/// Each bad argument to <see cref="ops.selective_scan"/> is an <see cref="ArgumentException"/> (or
/// <see cref="ArgumentNullException"/>) whose ParamName is the argument and whose message has the
/// expected and the actual value. Valid sizes: batch 2, dim 4, L 5, N 3; groups 2 where selective.
/// </summary>
[Collection(ScanCollection.Name)]
public class SelectiveScanBadInputTests
{
    private const long Bt = 2, Dm = 4, Ln = 5, Ns = 3;

    /// <summary>A valid call with one argument replaced.</summary>
    private sealed class Call
    {
        public Tensor? U = randn(Bt, Dm, Ln), Delta = rand(Bt, Dm, Ln) + 0.1, A = -(rand(Dm, Ns) + 0.5),
                       B = randn(Bt, 2, Ns, Ln), C = randn(Bt, 2, Ns, Ln), D = randn(Dm), Z = randn(Bt, Dm, Ln),
                       DeltaBias = rand(Dm) - 0.5;

        public void Run() => ops.selective_scan(U!, Delta!, A!, B!, C!, D, Z, DeltaBias, delta_softplus: true);
    }

    private sealed record Case(string Param, Action<Call> Break, string[] MessageParts, bool Null = false);

    private static readonly Dictionary<string, Case> Cases = new()
    {
        ["u rank 2"] = new("u", c => c.U = randn(Bt, Dm), new[] { "3-D", "[2, 4]" }),
        ["u rank 4"] = new("u", c => c.U = randn(Bt, Dm, Ln, 1L), new[] { "3-D", "[2, 4, 5, 1]" }),
        ["delta rank 2"] = new("delta", c => c.Delta = rand(Bt, Dm), new[] { "[2, 4, 5]", "[2, 4]" }),
        ["delta shape differs from u"] = new("delta", c => c.Delta = rand(Bt, Dm, Ln + 1L), new[] { "[2, 4, 5]", "[2, 4, 6]" }),
        ["A rank 1"] = new("A", c => c.A = -rand(Dm), new[] { "2-D", "[4]" }),
        ["A rank 3"] = new("A", c => c.A = -rand(Dm, Ns, 1L), new[] { "2-D", "[4, 3, 1]" }),
        ["A dim differs from u"] = new("A", c => c.A = -rand(Dm + 1L, Ns), new[] { "[4, 3]", "[5, 3]" }),
        ["B rank 3"] = new("B", c => c.B = randn(Bt, Ns, Ln), new[] { "2-D", "4-D", "[2, 3, 5]" }),
        ["B rank 1"] = new("B", c => c.B = randn(Ns), new[] { "2-D", "4-D", "[3]" }),
        ["C rank 3"] = new("C", c => c.C = randn(Bt, Ns, Ln), new[] { "2-D", "4-D", "[2, 3, 5]" }),
        ["C rank 5"] = new("C", c => c.C = randn(new[] { Bt, 2, Ns, Ln, 1L }), new[] { "2-D", "4-D", "[2, 2, 3, 5, 1]" }),
        ["B time-invariant with wrong N"] = new("B", c => c.B = randn(Dm, Ns + 1L), new[] { "[4, 3]", "[4, 4]" }),
        ["C time-invariant with wrong dim"] = new("C", c => c.C = randn(Dm + 2, Ns), new[] { "[4, 3]", "[6, 3]" }),
        ["B groups not dividing dim"] = new("B", c => { c.B = randn(Bt, 3, Ns, Ln); c.C = randn(Bt, 3, Ns, Ln); },
                                            new[] { "dividing dim = 4", "[2, 3, 3, 5]" }),
        ["B selective with wrong L"] = new("B", c => c.B = randn(Bt, 2, Ns, Ln + 2), new[] { "[2, 2, 3, 5]", "[2, 2, 3, 7]" }),
        ["C selective with wrong batch"] = new("C", c => c.C = randn(Bt + 1L, 2, Ns, Ln), new[] { "[2, 2, 3, 5]", "[3, 2, 3, 5]" }),
        ["B and C with different groups"] = new("C", c => c.C = randn(Bt, 4, Ns, Ln), new[] { "2 groups", "[2, 4, 3, 5]" }),
        ["z rank 2"] = new("z", c => c.Z = randn(Bt, Dm), new[] { "[2, 4, 5]", "[2, 4]" }),
        ["z shape differs from u"] = new("z", c => c.Z = randn(Bt, Dm + 1L, Ln), new[] { "[2, 4, 5]", "[2, 5, 5]" }),
        ["D wrong length"] = new("D", c => c.D = randn(Dm + 1L), new[] { "[4]", "[5]" }),
        ["D rank 2"] = new("D", c => c.D = randn(Dm, 1L), new[] { "[4]", "[4, 1]" }),
        ["delta_bias wrong length"] = new("delta_bias", c => c.DeltaBias = randn(Dm - 1L), new[] { "[4]", "[3]" }),
        ["u int32"] = new("u", c => c.U = randint(0, 5, new[] { Bt, Dm, Ln }, ScalarType.Int32), new[] { "float32", "Int32" }),
        ["delta int64"] = new("delta", c => c.Delta = randint(1, 5, new[] { Bt, Dm, Ln }, ScalarType.Int64), new[] { "float32", "Int64" }),
        ["B int32"] = new("B", c => c.B = randint(1, 5, new[] { Bt, 2, Ns, Ln }, ScalarType.Int32), new[] { "float32", "Int32" }),
        ["z bool"] = new("z", c => c.Z = ones(new[] { Bt, Dm, Ln }, ScalarType.Bool), new[] { "float32", "Bool" }),
        ["D int64"] = new("D", c => c.D = ones(new[] { Dm }, ScalarType.Int64), new[] { "float32", "Int64" }),
        ["A complex64"] = new("A", c => c.A = complex(-rand(Dm, Ns), rand(Dm, Ns)), new[] { "float32", "Complex" }),
        ["L = 0"] = new("u", c => { c.U = randn(Bt, Dm, 0L); c.Delta = rand(Bt, Dm, 0L); c.Z = randn(Bt, Dm, 0L);
                                     c.B = randn(Bt, 2, Ns, 0L); c.C = randn(Bt, 2, Ns, 0L); }, new[] { "non-empty", "[2, 4, 0]" }),
        ["dim = 0"] = new("u", c => { c.U = randn(Bt, 0L, Ln); c.Delta = rand(Bt, 0L, Ln); c.Z = randn(Bt, 0L, Ln);
                                       c.A = -rand(0L, Ns); c.B = randn(0L, Ns); c.C = randn(0L, Ns); c.D = null; c.DeltaBias = null; },
                          new[] { "non-empty", "[2, 0, 5]" }),
        ["batch = 0"] = new("u", c => { c.U = randn(0L, Dm, Ln); c.Delta = rand(0L, Dm, Ln); c.Z = randn(0L, Dm, Ln);
                                         c.B = randn(0L, 2, Ns, Ln); c.C = randn(0L, 2, Ns, Ln); }, new[] { "non-empty", "[0, 4, 5]" }),
        ["N = 0"] = new("A", c => { c.A = -rand(Dm, 0L); c.B = randn(Dm, 0L); c.C = randn(Dm, 0L); }, new[] { "non-empty", "[4, 0]" }),
        ["u null"] = new("u", c => c.U = null, new[] { "null" }, Null: true),
        ["delta null"] = new("delta", c => c.Delta = null, new[] { "null" }, Null: true),
        ["A null"] = new("A", c => c.A = null, new[] { "null" }, Null: true),
        ["B null"] = new("B", c => c.B = null, new[] { "null" }, Null: true),
        ["C null"] = new("C", c => c.C = null, new[] { "null" }, Null: true),
        ["u disposed"] = new("u", c => c.U!.Dispose(), new[] { "disposed" }),
        ["C disposed"] = new("C", c => c.C!.Dispose(), new[] { "disposed" }),
        ["z disposed"] = new("z", c => c.Z!.Dispose(), new[] { "disposed" }),
        ["delta_bias disposed"] = new("delta_bias", c => c.DeltaBias!.Dispose(), new[] { "disposed" }),
    };

    public static IEnumerable<object[]> CaseNames() => Cases.Keys.Select(k => new object[] { k });

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void BadArgumentIsAnArgumentExceptionNamingIt(string name)
    {
        var bad = Cases[name];
        using var scope = NewDisposeScope();
        var call = new Call();
        bad.Break(call);
        var ex = Assert.ThrowsAny<ArgumentException>(call.Run);
        if (bad.Null) Assert.IsType<ArgumentNullException>(ex);
        Assert.True(bad.Param == ex.ParamName, $"{name}: ParamName '{ex.ParamName}', expected '{bad.Param}'; message: {ex.Message}");
        foreach (var part in bad.MessageParts)
            Assert.True(ex.Message.Contains(part, StringComparison.OrdinalIgnoreCase),
                $"{name}: message should contain \"{part}\": {ex.Message}");
    }

    [Fact]
    public void TheValidCallOfTheseCasesRuns()
    {
        using var scope = NewDisposeScope();
        var call = new Call();
        call.Run();
        // Time-invariant B and C, no optional inputs.
        ops.selective_scan(call.U!, call.Delta!, call.A!, randn(Dm, Ns), randn(Dm, Ns));
    }

    [Fact]
    public void CaseListIsLargeEnough() => Assert.True(Cases.Count >= 20);
}
