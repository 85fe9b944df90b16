// A selective scan with gradients through the packaged SsmBridge, checked against its plain-TorchSharp
// reference. Exit code 0 only when every output and gradient matches; the failing ones are printed.
using SsmBridge;
using TorchSharp;
using static TorchSharp.torch;

Console.WriteLine($"SsmBridge {typeof(ops).Assembly.GetName().Version}, libssmbridge {Runtime.NativeVersion}, " +
                  $"CPU path {Runtime.CpuIsa}, CUDA {(Runtime.HasCuda ? "built in" : "not built")}");
// The script says which library the package should carry: SsmBridge.Cuda's has the CUDA kernels.
bool expectCuda = args.Contains("--expect-cuda");
if (Runtime.HasCuda != expectCuda)
{
    Console.WriteLine($"consumer test: libssmbridge {(Runtime.HasCuda ? "has" : "lacks")} the CUDA kernels, expected the opposite");
    return 1;
}

// Selective B and C in two groups, D, z, delta_bias and softplus: every input has a gradient.
// float64, so the fused kernel and the reference agree to rounding.
const long batch = 2, dim = 6, L = 37, N = 5, groups = 2;
manual_seed(20261127);
Tensor Leaf(Tensor t) => t.to(float64).requires_grad_();
var inputs = new Dictionary<string, Tensor>
{
    ["u"] = Leaf(randn(batch, dim, L)),
    ["delta"] = Leaf(rand(batch, dim, L) - 0.5),
    ["A"] = Leaf(-rand(dim, N) - 0.5),
    ["B"] = Leaf(randn(batch, groups, N, L)),
    ["C"] = Leaf(randn(batch, groups, N, L)),
    ["D"] = Leaf(randn(dim)),
    ["z"] = Leaf(randn(batch, dim, L)),
    ["delta_bias"] = Leaf(rand(dim) - 0.5),
};
var dout = randn(batch, dim, L, dtype: float64);

(Tensor output, Dictionary<string, Tensor> grads) Run(
    Func<Tensor, Tensor, Tensor, Tensor, Tensor, Tensor?, Tensor?, Tensor?, bool, bool, Tensor> scan)
{
    foreach (var x in inputs.Values) x.grad?.zero_();
    var y = scan(inputs["u"], inputs["delta"], inputs["A"], inputs["B"], inputs["C"], inputs["D"], inputs["z"],
                 inputs["delta_bias"], true, false);
    (y * dout).sum().backward();
    return (y.detach().clone(), inputs.ToDictionary(kv => kv.Key, kv => kv.Value.grad!.clone()));
}

var fused = Run((u, d, A, B, C, D, z, bias, sp, rev) => ops.selective_scan(u, d, A, B, C, D, z, bias, sp, rev));
var naive = Run((u, d, A, B, C, D, z, bias, sp, rev) => reference.selective_scan(u, d, A, B, C, D, z, bias, sp, rev));

int failures = 0;
void Check(string name, Tensor actual, Tensor expected)
{
    double scale = expected.abs().max().item<double>();
    double error = (actual - expected).abs().max().item<double>() / Math.Max(scale, 1e-300);
    bool ok = scale > 0 && error < 1e-9;
    if (!ok) failures++;
    Console.WriteLine($"{(ok ? "ok  " : "FAIL")} {name,-16} relative error {error:E2} (scale {scale:G4})");
}
Check("output", fused.output, naive.output);
foreach (var name in inputs.Keys) Check($"grad {name}", fused.grads[name], naive.grads[name]);

Console.WriteLine(failures == 0 ? "consumer test: passed" : $"consumer test: {failures} mismatches");
return failures == 0 ? 0 : 1;
