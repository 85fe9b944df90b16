using System.Diagnostics;
using static TorchSharp.torch;

namespace SsmBridge.Bench;

/// <summary>
/// `time-cross [reps]`: the fused cross selective scan against the composition, forward+backward, timed
/// alternately call by call, reporting the minimum and median of wall time and of process CPU time (all
/// threads, user + system: page faults of fresh tensors included). On a shared machine the CPU time and the
/// minimum wall time stay meaningful where BenchmarkDotNet's means do not.
/// </summary>
public static class CrossScanTiming
{
    public static int Run(int reps)
    {
        Kernels.SyncThreads();
        Console.WriteLine($"threads {get_num_threads()}, {reps} alternating calls each");
        Console.WriteLine("| case | impl | wall min ms | wall median ms | CPU min ms | CPU median ms |");
        Console.WriteLine("| --- | --- | ---: | ---: | ---: | ---: |");
        foreach (var c in CrossScanCase.Standard()) {
            using var inputs = new CrossScanInputs(c, requiresGrad: true);
            var impls = new (string Name, Func<Tensor> Run)[] { ("composed", inputs.Composed), ("fused", inputs.Fused) };
            var wall = impls.Select(_ => new List<double>()).ToArray();
            var cpu = impls.Select(_ => new List<double>()).ToArray();
            for (int rep = -2; rep < reps; rep++) {  // two warm-up rounds
                for (int i = 0; i < impls.Length; i++) {
                    var process = Process.GetCurrentProcess();
                    var cpu0 = process.TotalProcessorTime;
                    var clock = Stopwatch.StartNew();
                    inputs.WithBackward(impls[i].Run);
                    clock.Stop();
                    process.Refresh();
                    if (rep < 0) continue;
                    wall[i].Add(clock.Elapsed.TotalMilliseconds);
                    cpu[i].Add((process.TotalProcessorTime - cpu0).TotalMilliseconds);
                }
            }
            for (int i = 0; i < impls.Length; i++)
                Console.WriteLine($"| {c} | {impls[i].Name} | {wall[i].Min():F1} | {Samples.Median(wall[i]):F1} | {cpu[i].Min():F1} | {Samples.Median(cpu[i]):F1} |");
        }
        return 0;
    }
}
