using SsmBridge.Interop;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace SsmBridge.Tests;

/// <summary>
/// The bad-input matrix (issue 11): every public op and model entry with wrong ranks, shapes, dtypes,
/// devices, empty and zero-size dimensions, byte counts that overflow int64, groups not dividing dim,
/// too-small images, and unreadable or mismatched checkpoints. Each case must throw the stated exception
/// type whose ParamName is the argument and whose message holds the expected and the actual value, and
/// must leave every input tensor exactly as it was (compared with a clone taken before the call).
/// A meta tensor stands in for "a device the kernels cannot run on": a CPU-only libtorch cannot make a
/// CUDA tensor (the CUDA branch of the device check is exercised by CudaDispatchTests on a GPU build).
/// </summary>
[Collection(ScanCollection.Name)]
public class BadInputMatrixTests
{
    private const long Bt = 2, Dm = 4, Ln = 5, Ns = 3, H = 3, W = 5;

    /// <summary>
    /// One bad call: the tensors it receives (checked for modification afterwards), the call, and what
    /// the exception must say. Param null: the exception has no ParamName to check (file errors).
    /// </summary>
    private sealed record Case(Func<Tensor[]> Inputs, Action<Tensor[]> Run, Type Exception, string? Param,
                               params string[] MessageParts);

    private static Case Arg(string param, Func<Tensor[]> inputs, Action<Tensor[]> run, params string[] parts) =>
        new(inputs, run, typeof(ArgumentException), param, parts);

    // TorchSharp has no 5-size overloads, and a literal 0 binds to a dtype argument: sizes as one array.
    private static Tensor Randn(params long[] shape) => randn(shape);
    private static Tensor Rand(params long[] shape) => rand(shape);

    // ---- valid inputs that the cases break one at a time ----------------------------------------
    private static Tensor[] Scan(Func<Tensor[], Tensor[]>? change = null)
    {
        var x = new[] { Randn(Bt, Dm, Ln), Rand(Bt, Dm, Ln), -(Rand(Dm, Ns) + 0.5), Randn(Bt, 2, Ns, Ln),
                        Randn(Bt, 2, Ns, Ln), Randn(Dm), Randn(Bt, Dm, Ln), Rand(Dm) };
        return change is null ? x : change(x);
    }

    private static Tensor[] With(Tensor[] x, int index, Tensor replacement)
    {
        x[index] = replacement;
        return x;
    }

    private static void RunScan(Tensor[] x) =>
        ops.selective_scan(x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7], delta_softplus: true);

    private static Tensor[] Css(Func<Tensor[], Tensor[]>? change = null)
    {
        var x = new[] { Randn(Bt, Dm, H, W), Rand(Bt, 4, Dm, H, W), -(Rand(4 * Dm, Ns) + 0.5), Randn(Bt, 4, Ns, H, W),
                        Randn(Bt, 4, Ns, H, W), Randn(4 * Dm), Rand(4 * Dm) };
        return change is null ? x : change(x);
    }

    private static void RunCss(Tensor[] x) =>
        ops.cross_selective_scan(x[0], x[1], x[2], x[3], x[4], x[5], x[6], delta_softplus: true);

    private static Tensor[] S4d(Func<Tensor[], Tensor[]>? change = null)
    {
        var x = new[] { Rand(Dm) - 3, -Rand(Dm, Ns), Randn(Dm, Ns), Randn(Dm, Ns), Randn(Dm, Ns) };
        return change is null ? x : change(x);
    }

    private static Action<Tensor[]> RunS4d(long L) => x => ops.s4d_kernel(x[0], x[1], x[2], x[3], x[4], L);

    private static Tensor Meta(params long[] shape) => empty(shape, device: new Device(DeviceType.META));

    // A float32 image of 2^62 elements that takes 4 bytes: its contiguous byte count (2^64) overflows int64.
    private static Tensor HugeImage() => zeros(1, 1, 1, 1).expand(1, 1, 1L << 31, 1L << 31);

    private static Tensor[] One(Tensor t) => new[] { t };

    // Before Cases: static fields initialize in textual order.
    private static readonly string TempDir = Directory.CreateTempSubdirectory("ssmb-badinput-").FullName;

    private static readonly Dictionary<string, Case> Cases = new()
    {
        // selective_scan / selective_scan_with_state
        ["scan: u rank 2"] = Arg("u", () => Scan(x => With(x, 0, Randn(Bt, Dm))), RunScan, "3-D", "[2, 4]"),
        ["scan: delta int32"] = Arg("delta", () => Scan(x => With(x, 1, ones(new[] { Bt, Dm, Ln }, ScalarType.Int32))), RunScan, "float32", "Int32"),
        ["scan: A wrong dim"] = Arg("A", () => Scan(x => With(x, 2, -Rand(Dm + 1, Ns))), RunScan, "[4, 3]", "[5, 3]"),
        ["scan: groups not dividing dim"] = Arg("B", () => Scan(x => With(With(x, 3, Randn(Bt, 3, Ns, Ln)), 4, Randn(Bt, 3, Ns, Ln))),
                                                RunScan, "dividing dim = 4", "[2, 3, 3, 5]"),
        ["scan: z bool"] = Arg("z", () => Scan(x => With(x, 6, ones(new[] { Bt, Dm, Ln }, ScalarType.Bool))), RunScan, "float32", "Bool"),
        ["scan: D rank 2"] = Arg("D", () => Scan(x => With(x, 5, Randn(Dm, 1))), RunScan, "[4]", "[4, 1]"),
        ["scan: delta_bias int64"] = Arg("delta_bias", () => Scan(x => With(x, 7, ones(new[] { Dm }, ScalarType.Int64))), RunScan, "float32", "Int64"),
        ["scan: L = 0"] = Arg("u", () => Scan(x => new[] { Randn(Bt, Dm, 0), Rand(Bt, Dm, 0), x[2], Randn(Bt, 2, Ns, 0),
                                                          Randn(Bt, 2, Ns, 0), x[5], Randn(Bt, Dm, 0), x[7] }),
                              RunScan, "non-empty", "[2, 4, 0]"),
        ["scan: u on meta device"] = Arg("u", () => Scan(x => new[] { Meta(Bt, Dm, Ln), Meta(Bt, Dm, Ln), Meta(Dm, Ns), Meta(Bt, 2, Ns, Ln),
                                                                     Meta(Bt, 2, Ns, Ln), Meta(Dm), Meta(Bt, Dm, Ln), Meta(Dm) }),
                                         RunScan, "CPU or CUDA", "meta"),
        ["scan: mixed devices (delta on meta)"] = Arg("delta", () => Scan(x => With(x, 1, Meta(Bt, Dm, Ln))), RunScan, "cpu", "meta"),
        ["scan with state: B on meta"] = Arg("B", () => Scan(x => With(x, 3, Meta(Bt, 2, Ns, Ln))),
                                             x => ops.selective_scan_with_state(x[0], x[1], x[2], x[3], x[4]), "cpu", "meta"),
        ["scan with state: C groups differ from B"] = Arg("C", () => Scan(x => With(x, 4, Randn(Bt, 4, Ns, Ln))),
                                                          x => ops.selective_scan_with_state(x[0], x[1], x[2], x[3], x[4]), "2 groups", "[2, 4, 3, 5]"),
        ["scan: byte count overflows int64 (expanded u)"] = Arg("u",
            () => { var L = 1L << 31; var s = new[] { 1L << 31, 1L, L };
                    return new[] { zeros(1, 1, 1).expand(s), zeros(1, 1, 1).expand(s), -ones(1, 1), zeros(1, 1, 1, 1).expand(1L << 31, 1, 1, L),
                                   zeros(1, 1, 1, 1).expand(1L << 31, 1, 1, L) }; },
            x => ops.selective_scan(x[0], x[1], x[2], x[3], x[4]), "overflows int64", "[2147483648, 1, 2147483648]"),

        // cross_scan / cross_merge / patch_merge, both layouts
        ["cross_scan: rank 3"] = Arg("x", () => One(Randn(Bt, Dm, H)), x => ops.cross_scan(x[0]), "4-D", "[2, 4, 3]"),
        ["cross_scan: int32"] = Arg("x", () => One(ones(new[] { Bt, Dm, H, W }, ScalarType.Int32)), x => ops.cross_scan(x[0]), "float32", "Int32"),
        ["cross_scan: meta device"] = Arg("x", () => One(Meta(Bt, Dm, H, W)), x => ops.cross_scan(x[0]), "CPU or CUDA", "meta"),
        ["cross_scan: height 0"] = Arg("x", () => One(Randn(Bt, Dm, 0, W)), x => ops.cross_scan(x[0]), "non-empty", "[2, 4, 0, 5]"),
        ["cross_scan channel-last: channels 0"] = Arg("x", () => One(Randn(Bt, H, W, 0)), x => ops.cross_scan(x[0], channel_first: false),
                                                      "non-empty", "[2, 3, 5, 0]"),
        ["cross_scan: byte count overflows int64"] = Arg("x", () => One(HugeImage()), x => ops.cross_scan(x[0]),
                                                         "overflows int64", "[1, 1, 2147483648, 2147483648]"),
        ["cross_merge: 3 directions"] = Arg("ys", () => One(Randn(Bt, 3, Dm, H, W)), x => ops.cross_merge(x[0]), "size 4", "[2, 3, 4, 3, 5]"),
        ["cross_merge: rank 4"] = Arg("ys", () => One(Randn(Bt, 4, Dm, H * W)), x => ops.cross_merge(x[0]), "5-D", "[2, 4, 4, 15]"),
        ["cross_merge channel-last: width 0"] = Arg("ys", () => One(Randn(Bt, 4, Dm, H, 0)), x => ops.cross_merge(x[0], channel_first: false),
                                                    "non-empty", "[2, 4, 4, 3, 0]"),
        ["cross_merge: meta device"] = Arg("ys", () => One(Meta(Bt, 4, Dm, H, W)), x => ops.cross_merge(x[0]), "CPU or CUDA", "meta"),
        ["cross_merge: byte count overflows int64"] = Arg("ys", () => One(zeros(new long[] { 1, 1, 1, 1, 1 }).expand(1, 4, 1, 1L << 30, 1L << 30)),
                                                          x => ops.cross_merge(x[0]), "overflows int64", "[1, 4, 1, 1073741824, 1073741824]"),
        ["patch_merge: rank 5"] = Arg("x", () => One(Randn(Bt, H, W, Dm, 1)), x => ops.patch_merge(x[0]), "4-D", "[2, 3, 5, 4, 1]"),
        ["patch_merge channel-first: int64"] = Arg("x", () => One(ones(new[] { Bt, Dm, H, W }, ScalarType.Int64)),
                                                   x => ops.patch_merge(x[0], channel_first: true), "float32", "Int64"),
        ["patch_merge: batch 0"] = Arg("x", () => One(Randn(0, H, W, Dm)), x => ops.patch_merge(x[0]), "non-empty", "[0, 3, 5, 4]"),
        ["patch_merge: byte count overflows int64"] = Arg("x", () => One(HugeImage()), x => ops.patch_merge(x[0], channel_first: true),
                                                          "overflows int64", "[1, 1, 2147483648, 2147483648]"),

        // cross_selective_scan
        ["css: u rank 3"] = Arg("u", () => Css(x => With(x, 0, Randn(Bt, Dm, H * W))), RunCss, "4-D", "[2, 4, 15]"),
        ["css: delta with 3 directions"] = Arg("delta", () => Css(x => With(x, 1, Rand(Bt, 3, Dm, H, W))), RunCss, "[2, 4, 4, 3, 5]", "[2, 3, 4, 3, 5]"),
        ["css: A with dim rows, not 4 * dim"] = Arg("A", () => Css(x => With(x, 2, -Rand(Dm, Ns))), RunCss, "[16, 3]", "[4, 3]"),
        ["css: B of another height"] = Arg("B", () => Css(x => With(x, 3, Randn(Bt, 4, Ns, H + 1, W))), RunCss, "[2, 4, 3, 3, 5]", "[2, 4, 3, 4, 5]"),
        ["css: C int32"] = Arg("C", () => Css(x => With(x, 4, ones(new[] { Bt, 4, Ns, H, W }, ScalarType.Int32))), RunCss, "float32", "Int32"),
        ["css: D of length dim"] = Arg("D", () => Css(x => With(x, 5, Randn(Dm))), RunCss, "[16]", "[4]"),
        ["css: delta_bias on meta"] = Arg("delta_bias", () => Css(x => With(x, 6, Meta(4 * Dm))), RunCss, "cpu", "meta"),
        ["css: width 0"] = Arg("u", () => Css(x => new[] { Randn(Bt, Dm, H, 0), Rand(Bt, 4, Dm, H, 0), x[2], Randn(Bt, 4, Ns, H, 0),
                                                           Randn(Bt, 4, Ns, H, 0), x[5], x[6] }), RunCss, "non-empty", "[2, 4, 3, 0]"),

        // s4d_kernel
        ["s4d: log_dt rank 2"] = Arg("log_dt", () => S4d(x => With(x, 0, Rand(Dm, 1))), RunS4d(8), "1-D", "[4, 1]"),
        ["s4d: A_imag of another N"] = Arg("A_imag", () => S4d(x => With(x, 2, Randn(Dm, Ns + 1))), RunS4d(8), "[4, 3]", "[4, 4]"),
        ["s4d: C_real float64 among float32"] = Arg("C_real", () => S4d(x => With(x, 3, randn(new[] { Dm, Ns }, ScalarType.Float64))), RunS4d(8),
                                                    "Float32", "Float64"),
        ["s4d: log_dt int32"] = Arg("log_dt", () => S4d(x => With(x, 0, ones(new[] { Dm }, ScalarType.Int32))), RunS4d(8), "float32", "Int32"),
        ["s4d: L = 0"] = Arg("L", () => S4d(), RunS4d(0), "at least 1", "0"),
        ["s4d: L negative"] = Arg("L", () => S4d(), RunS4d(-7), "at least 1", "-7"),
        ["s4d: H * L bytes overflow int64"] = Arg("L", () => S4d(), RunS4d(long.MaxValue / 2), "overflows int64", (long.MaxValue / 2).ToString()),
        ["s4d: H = 0"] = Arg("log_dt", () => S4d(x => new[] { Rand(0), -Rand(0, Ns), Randn(0, Ns), Randn(0, Ns), Randn(0, Ns) }), RunS4d(8),
                             "non-empty", "[0]"),
        ["s4d: A_real on meta"] = Arg("A_real", () => S4d(x => With(x, 1, Meta(Dm, Ns))), RunS4d(8), "cpu", "meta"),

        // native validation through the SWIG entry points: sizes that overflow, buffers of 16 bytes
        ["native: selective scan sizes overflow"] = Arg("u", () => One(zeros(4)),
            x => { var p = Internal.TensorData.Pointer(x[0]);
                   Native.SelectiveScanForward(Dtype.Float32, Dtype.Float32, 1L << 40, 1L << 20, 1L << 10, 1, 1, 0, 0,
                       p, p, p, p, p, IntPtr.Zero, IntPtr.Zero, IntPtr.Zero, 0, 0, p, p, IntPtr.Zero); },
            "overflows int64", "(1099511627776, 1048576, 1024)"),
        ["native: cross scan sizes overflow"] = Arg("x", () => One(zeros(4)),
            x => { var p = Internal.TensorData.Pointer(x[0]);
                   Native.CrossScan(Dtype.Float64, 1, 1, 1L << 31, 1L << 31, 1, p, p); }, "overflows int64", "(1, 1, 2147483648, 2147483648)"),
        ["native: s4d sizes overflow"] = Arg("K", () => One(zeros(4)),
            x => { var p = Internal.TensorData.Pointer(x[0]);
                   Native.S4DKernelForward(Dtype.Float32, 2, 1, long.MaxValue / 4, p, p, p, p, p, p); }, "overflows int64"),
        ["native: patch merge negative width"] = Arg("width", () => One(zeros(4)),
            x => { var p = Internal.TensorData.Pointer(x[0]);
                   Native.PatchMergeForward(Dtype.Float32, 1, 1, 2, -2, 0, p, p); }, ">= 1", "-2"),
        ["native: cross selective scan N = 0"] = Arg("N", () => One(zeros(4)),
            x => { var p = Internal.TensorData.Pointer(x[0]);
                   Native.CrossSelectiveScanForward(Dtype.Float32, Dtype.Float32, 1, 1, 1, 1, 0, p, p, p, p, p,
                       IntPtr.Zero, IntPtr.Zero, 0, p, p); }, ">= 1", "0"),

        // models: factories and forward
        ["vim_demo: 3 channels for a 1-channel model"] = Arg("images", () => One(Randn(2, 3, 28, 28)),
            x => { using var m = models.vim_demo(); m.forward(x[0]); }, "1 channels", "[2, 3, 28, 28]"),
        ["vim_demo: image smaller than a patch"] = Arg("images", () => One(Randn(2, 1, 3, 3)),
            x => { using var m = models.vim_demo(); m.forward(x[0]); }, "at least 4", "[2, 1, 3, 3]"),
        ["vim_demo: rank 3"] = Arg("images", () => One(Randn(1, 28, 28)),
            x => { using var m = models.vim_demo(); m.forward(x[0]); }, "4-D", "[1, 28, 28]"),
        ["vim_demo: uint8 images"] = Arg("images", () => One(zeros(new[] { 2L, 1, 28, 28 }, ScalarType.Byte)),
            x => { using var m = models.vim_demo(); m.forward(x[0]); }, "float32", "Byte"),
        ["vim_demo: float64 images for float32 weights"] = Arg("images", () => One(Randn(2, 1, 28, 28).to_type(ScalarType.Float64)),
            x => { using var m = models.vim_demo(); m.forward(x[0]); }, "dtype Float32", "Float64"),
        ["vmamba_demo: float64 images for float32 weights"] = Arg("images", () => One(Randn(2, 1, 28, 28).to_type(ScalarType.Float64)),
            x => { using var m = models.vmamba_demo(); m.forward(x[0]); }, "dtype Float32", "Float64"),
        ["vmamba_demo: image smaller than a patch"] = Arg("images", () => One(Randn(2, 1, 1, 9)),
            x => { using var m = models.vmamba_demo(); m.forward(x[0]); }, "at least 2", "[2, 1, 1, 9]"),
        ["CUDA entry point of a CPU-only build"] = new(() => One(zeros(4)),
            x => { var p = Internal.TensorData.Pointer(x[0]);
                   Native.PatchMergeForwardCuda(Dtype.Float32, 1, 1, 2, 2, 1, p, p, IntPtr.Zero); },
            Runtime.HasCuda ? typeof(ArgumentException) : typeof(NativeException), null,
            Runtime.HasCuda ? Array.Empty<string>() : new[] { "built without CUDA", "-DSSMB_CUDA=ON" }),
        ["vim_demo: patch_size 0"] = Arg("patch_size", () => Array.Empty<Tensor>(), _ => models.vim_demo(patch_size: 0).Dispose(), "1..28", "0"),
        ["vim_demo: depth 0"] = Arg("depth", () => Array.Empty<Tensor>(), _ => models.vim_demo(depth: 0).Dispose(), "at least 1", "0"),
        ["vmamba_demo: 2 channels"] = Arg("images", () => One(Randn(2, 2, 28, 28)),
            x => { using var m = models.vmamba_demo(); m.forward(x[0]); }, "1 channels", "[2, 2, 28, 28]"),
        ["vmamba_demo: meta device"] = Arg("images", () => One(Meta(2, 1, 28, 28)),
            x => { using var m = models.vmamba_demo(); m.forward(x[0]); }, "CPU or CUDA", "meta"),
        ["vmamba_demo: img_size below three stages"] = Arg("img_size", () => Array.Empty<Tensor>(), _ => models.vmamba_demo(img_size: 4).Dispose(),
                                                           "at least 8", "4"),
        ["s4nd_vit_tiny_16: img_size below its 16-pixel patch"] = Arg("patch_size", () => Array.Empty<Tensor>(),
            _ => models.s4nd_vit_tiny_16(img_size: 8).Dispose(), "1..img_size (8)", "16"),
        ["convnext_s4nd_nano: img_size not a multiple of 8 patches"] = Arg("img_size", () => Array.Empty<Tensor>(),
            _ => models.convnext_s4nd_nano(img_size: 30).Dispose(), "multiple of", "30"),

        // models.load_pretrained
        ["load_pretrained: missing file"] = new(() => Array.Empty<Tensor>(),
            _ => { using var m = models.vim_demo(); models.load_pretrained(m, Path.Combine(TempDir, "absent.safetensors")); },
            typeof(FileNotFoundException), null, "absent.safetensors"),
        ["load_pretrained: corrupt safetensors"] = new(() => Array.Empty<Tensor>(),
            _ => { using var m = models.vim_demo(); models.load_pretrained(m, CorruptFile("corrupt.safetensors")); },
            typeof(InvalidDataException), null, "corrupt.safetensors"),
        ["load_pretrained: corrupt .pth"] = new(() => Array.Empty<Tensor>(),
            _ => { using var m = models.vim_demo(); models.load_pretrained(m, CorruptFile("corrupt.pth")); },
            typeof(InvalidDataException), null, "corrupt.pth"),
        ["load_pretrained: truncated safetensors"] = new(() => Array.Empty<Tensor>(),
            _ => { using var m = models.vim_demo(); models.load_pretrained(m, TruncatedCheckpoint()); },
            typeof(InvalidDataException), null, "truncated.safetensors"),
        ["load_pretrained: mismatched shapes"] = new(() => Array.Empty<Tensor>(),
            _ => { using var m = models.vim_demo(embed_dim: 32); models.load_pretrained(m, ValidCheckpoint()); },
            typeof(InvalidDataException), null, "pos_embed: expected shape [1, 50, 32], got [1, 50, 64]"),
    };

    private static string CorruptFile(string name)
    {
        var path = Path.Combine(TempDir, name);
        var bytes = new byte[300];
        new Random(11).NextBytes(bytes);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    // vim_demo's weights (embed 64) as safetensors.
    private static string ValidCheckpoint()
    {
        var path = Path.Combine(TempDir, "vim_demo.safetensors");
        if (!File.Exists(path)) {
            using var m = models.vim_demo();
            m.save_safetensors(path);
        }
        return path;
    }

    private static string TruncatedCheckpoint()
    {
        var bytes = File.ReadAllBytes(ValidCheckpoint());
        var path = Path.Combine(TempDir, "truncated.safetensors");
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        return path;
    }

    public static IEnumerable<object[]> CaseNames() => Cases.Keys.Select(k => new object[] { k });

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void BadInputThrowsNamingTheArgumentAndLeavesInputsUnchanged(string name)
    {
        var c = Cases[name];
        using var scope = NewDisposeScope();
        var inputs = c.Inputs();
        var before = inputs.Select(Snapshot).ToArray();
        var ex = Assert.Throws(c.Exception, () => c.Run(inputs));
        if (c.Param is not null)
            Assert.True(c.Param == ((ArgumentException)ex).ParamName,
                        $"{name}: ParamName '{((ArgumentException)ex).ParamName}', expected '{c.Param}'; message: {ex.Message}");
        foreach (var part in c.MessageParts)
            Assert.True(ex.Message.Contains(part, StringComparison.OrdinalIgnoreCase), $"{name}: message should contain \"{part}\": {ex.Message}");
        for (int i = 0; i < inputs.Length; i++)
            Assert.True(Unchanged(before[i], inputs[i]), $"{name}: input {i} was modified");
    }

    [Fact]
    public void MatrixHasAtLeastFortyCases() => Assert.True(Cases.Count >= 40, $"{Cases.Count} cases");

    // A copy of a tensor's values with its shape, strides and storage offset; meta tensors have no values.
    private static (Tensor? Values, long[] Shape, long[] Strides, long Offset) Snapshot(Tensor t) =>
        (t.device_type == DeviceType.META || t.numel() > 1 << 20 ? null : t.clone(), t.shape, t.stride(), t.storage_offset());

    private static bool Unchanged((Tensor? Values, long[] Shape, long[] Strides, long Offset) before, Tensor t) =>
        !t.IsInvalid && t.shape.SequenceEqual(before.Shape) && t.stride().SequenceEqual(before.Strides) &&
        t.storage_offset() == before.Offset && (before.Values is null || SameValues(before.Values, t));

    // Equal values, NaN equal to NaN.
    internal static bool SameValues(Tensor a, Tensor b) =>
        a.dtype == b.dtype && a.shape.SequenceEqual(b.shape) &&
        (a.is_floating_point() ? Same(a.isnan(), b.isnan()) && Same(a.nan_to_num(0), b.nan_to_num(0)) : Same(a, b));

    private static bool Same(Tensor a, Tensor b) => a.eq(b).all().item<bool>();
}
