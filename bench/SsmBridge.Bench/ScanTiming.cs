using System.Globalization;
using System.Diagnostics;
using SsmBridge.Interop;
using static TorchSharp.torch;

namespace SsmBridge.Bench;

/// <summary>
/// `time-scan [reps]`: where the time of the selective scan's forward+backward goes. Per case, alternating
/// call by call: the fused forward (no grad), forward+backward through TorchSharp autograd
/// (`sum().backward()`, gradients dropped as a training step's zero_grad(set_to_none) does), and the same
/// two native kernels called directly, once on buffers allocated before the loop and once on buffers
/// allocated fresh per call (what the autograd function does). Reports the median wall time, CPU time and
/// minor page faults per call: the difference between the last two kernel rows is the price of fresh
/// memory alone.
/// </summary>
public static class ScanTiming
{
    public static int Run(int reps)
    {
        Kernels.SyncThreads();
        Console.WriteLine($"threads {get_num_threads()} ({Native.CpuThreading()}), {reps} alternating calls each; medians");
        Console.WriteLine("| case | what | wall ms | CPU ms | minor faults | G elem/s | rate / fwd |");
        Console.WriteLine("| --- | --- | ---: | ---: | ---: | ---: | ---: |");
        foreach (var c in ScanCase.Standard()) {
            using var plain = new ScanInputs(c, requiresGrad: false);
            using var grads = new ScanInputs(c, requiresGrad: true);
            using var preallocated = new KernelBuffers(c);
            var rows = new (string Name, Action Run)[] {
                ("fused fwd", () => { using var _ = no_grad(); plain.Run(ops.selective_scan).Dispose(); }),
                ("fused fwd+bwd, autograd", () => { using var _ = NewDisposeScope(); grads.RunWithBackward(ops.selective_scan); }),
                ("kernels fwd+bwd, preallocated", () => preallocated.ForwardBackward(plain)),
                ("kernels fwd+bwd, fresh buffers", () => { using var fresh = new KernelBuffers(c); fresh.ForwardBackward(plain); }),
            };
            var samples = rows.Select(_ => new List<(double Wall, double Cpu, long Faults)>()).ToArray();
            for (int rep = -2; rep < reps; rep++) {  // two warm-up rounds
                for (int i = 0; i < rows.Length; i++) {
                    var process = Process.GetCurrentProcess();
                    var cpu0 = process.TotalProcessorTime;
                    var faults0 = MinorFaults();
                    var clock = Stopwatch.StartNew();
                    rows[i].Run();
                    clock.Stop();
                    var faults = MinorFaults() - faults0;
                    process.Refresh();
                    if (rep >= 0)
                        samples[i].Add((clock.Elapsed.TotalMilliseconds, (process.TotalProcessorTime - cpu0).TotalMilliseconds, faults));
                }
            }
            var forwardMs = Samples.Median(samples[0].Select(s => s.Wall));
            for (int i = 0; i < rows.Length; i++) {
                var wall = Samples.Median(samples[i].Select(s => s.Wall));
                Console.WriteLine($"| {c} | {rows[i].Name} | {wall:F2} | {Samples.Median(samples[i].Select(s => s.Cpu)):F2} | " +
                                  $"{Samples.Median(samples[i].Select(s => (double)s.Faults)):F0} | {c.Elements / wall / 1e6:F2} | {forwardMs / wall:F2} |");
            }
        }
        return 0;
    }

    /// <summary>
    /// `scan-loop [--retain] [--views] [--dout] [iterations]`: forward with gradients, then `sum().backward()`, back
    /// to back on the same inputs as a training loop runs them (no other calls in between, unlike
    /// <see cref="Run"/>). Per case, the median over the iterations (30 unless given) of the forward's time,
    /// of the whole iteration's, and the page faults per iteration; the ratio is the issue's
    /// "forward+backward rate over forward rate" for this loop. `--retain` calls
    /// <see cref="Runtime.RetainFreedMemory"/> first. `--views` passes u, delta, z, B and C as views of the
    /// leaf tensors: non-leaf inputs, as a model's activations are. With leaves, the engine's AccumulateGrad
    /// copies every gradient the op returns, because TorchSharp still holds a wrapper of it at that moment;
    /// a view's backward hands it a fresh tensor, which it keeps without copying. `--dout` runs the backward
    /// from a given output gradient (a contiguous tensor, as the next layer's backward delivers it) instead
    /// of `sum()`'s, which is an expanded scalar the op has to make contiguous first. `--case PREFIX` runs only
    /// the cases whose name starts with it (e.g. "target N16"), for profiling one shape.
    /// </summary>
    public static int RunLoop(string[] args)
    {
        var retain = args.Contains("--retain");
        var views = args.Contains("--views");
        var givenDout = args.Contains("--dout");
        var caseAt = Array.IndexOf(args, "--case");
        var only = caseAt >= 0 && caseAt + 1 < args.Length ? args[caseAt + 1] : null;
        var rest = caseAt >= 0 ? args.Where((_, i) => i != caseAt && i != caseAt + 1).ToArray() : args;
        var numbers = rest.Where(a => !a.StartsWith("--")).ToArray();
        var unknown = rest.Where(a => a.StartsWith("--") && a != "--retain" && a != "--views" && a != "--dout").ToArray();
        if (unknown.Length > 0 || numbers.Length > 1 || (caseAt >= 0 && only is null))
            throw new ArgumentException("scan-loop [--retain] [--views] [--dout] [--case NAME-PREFIX] [iterations]; got " +
                                        string.Join(' ', args));
        var iterations = numbers.Length == 1 ? int.Parse(numbers[0], CultureInfo.InvariantCulture) : 30;
        if (retain && !Runtime.RetainFreedMemory()) Console.WriteLine("RetainFreedMemory: not glibc, nothing changed");
        Kernels.SyncThreads();
        Console.WriteLine($"threads {get_num_threads()} ({Native.CpuThreading()}), {iterations} iterations after 5 warm-up; medians" +
                          (retain ? "; freed memory retained (Runtime.RetainFreedMemory)" : "") +
                          (views ? "; u, delta, z, B, C passed as views of the leaves" : "") +
                          (givenDout ? "; the output's gradient given as a tensor" : "; backward of sum(output)"));
        Console.WriteLine("| case | fwd ms | fwd+bwd ms | rate / fwd | minor faults / iteration |");
        Console.WriteLine("| --- | ---: | ---: | ---: | ---: |");
        foreach (var c in ScanCase.Standard().Where(c => only is null || c.Name.StartsWith(only, StringComparison.Ordinal))) {
            using var grads = new ScanInputs(c, requiresGrad: true);
            using var dout = randn(c.Batch, c.Dim, c.L);  // as the next layer's gradient would arrive
            var forward = new List<double>();
            var whole = new List<double>();
            long faults = 0;
            for (int i = -5; i < iterations; i++) {
                var faults0 = MinorFaults();
                var clock = Stopwatch.StartNew();
                using (NewDisposeScope()) {
                    var output = grads.Forward(ops.selective_scan, views);
                    var forwardMs = clock.Elapsed.TotalMilliseconds;
                    grads.Backward(output, givenDout ? dout : null);
                    if (i >= 0) forward.Add(forwardMs);
                }
                if (i < 0) continue;
                whole.Add(clock.Elapsed.TotalMilliseconds);
                faults += MinorFaults() - faults0;
            }
            var (f, w) = (Samples.Median(forward), Samples.Median(whole));
            Console.WriteLine($"| {c} | {f:F2} | {w:F2} | {f / w:F2} | {faults / iterations} |");
        }
        return 0;
    }

    // Field 10 of /proc/self/stat: minor page faults of the process so far (0 where /proc is missing).
    private static long MinorFaults()
    {
        if (!File.Exists("/proc/self/stat")) return 0;
        var stat = File.ReadAllText("/proc/self/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return long.Parse(fields[7]);
    }

    /// <summary>Everything the two kernels write: output, chunk states, last state, gradients, workspace.</summary>
    private sealed class KernelBuffers : IDisposable
    {
        private readonly ScanCase _c;
        private readonly Tensor _out, _chunkStates, _lastState, _dout, _workspace;
        private readonly Tensor[] _grads;

        public KernelBuffers(ScanCase c)
        {
            _c = c;
            var chunks = (c.L + Native.SelectiveScanChunkSize() - 1) / Native.SelectiveScanChunkSize();
            _out = empty(c.Batch, c.Dim, c.L);
            _chunkStates = empty(c.Batch, c.Dim, chunks, c.N);
            _lastState = empty(c.Batch, c.Dim, c.N);
            _dout = ones(c.Batch, c.Dim, c.L);
            Native.SelectiveScanBackwardWorkspaceSize(Dtype.Float32, Dtype.Float32, c.Batch, c.Dim, c.L, c.N, 1, 1, 1, out var bytes);
            _workspace = empty(Math.Max(1, bytes / sizeof(float)));
            _grads = new[] {
                empty(c.Batch, c.Dim, c.L), empty(c.Batch, c.Dim, c.L), empty(c.Dim, c.N), empty(c.Batch, 1, c.N, c.L),
                empty(c.Batch, 1, c.N, c.L), empty(c.Dim), empty(c.Batch, c.Dim, c.L), empty(c.Dim),
            };
        }

        public void ForwardBackward(ScanInputs x)
        {
            var (b, d, l, n) = (_c.Batch, _c.Dim, _c.L, _c.N);
            var p = x.All.Select(Kernels.Pointer).ToArray();
            var g = _grads.Select(Kernels.Pointer).ToArray();
            Native.SelectiveScanForward(Dtype.Float32, Dtype.Float32, b, d, l, n, 1, 1, 1, p[0], p[1], p[2], p[3], p[4],
                p[5], p[6], p[7], 1, 0, Kernels.Pointer(_out), Kernels.Pointer(_chunkStates), Kernels.Pointer(_lastState));
            Native.SelectiveScanBackward(Dtype.Float32, Dtype.Float32, b, d, l, n, 1, 1, 1, p[0], p[1], p[2], p[3], p[4],
                p[5], p[6], p[7], 1, 0, Kernels.Pointer(_chunkStates), Kernels.Pointer(_dout), IntPtr.Zero,
                g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7], Kernels.Pointer(_workspace), _workspace.numel() * sizeof(float));
        }

        public void Dispose()
        {
            foreach (var t in _grads.Append(_out).Append(_chunkStates).Append(_lastState).Append(_dout).Append(_workspace))
                t.Dispose();
        }
    }
}
