using BenchmarkDotNet.Running;
using SsmBridge.Bench;

// ./build.sh bench                          every BenchmarkDotNet suite
// ./build.sh bench --filter '*Scaling*'     arguments go to BenchmarkDotNet
// ./build.sh bench memory                   peak-memory table, one fresh process per point (Linux)
// ./build.sh bench memory-cross             the same for SS2D's fused cross selective scan vs the composition
// ./build.sh bench time-cross [reps]        its forward+backward wall and CPU time, alternating calls (min, median)
// ./build.sh bench time-scan [reps]         selective scan: forward, fwd+bwd through autograd and the bare kernels
// ./build.sh bench scan-loop [--retain] [--views] [--dout] [--case PREFIX] [iterations]
//                                           selective scan fwd+bwd through autograd back to back, as in training;
//                                           --retain: after Runtime.RetainFreedMemory(); --views: u, delta, z, B, C
//                                           enter as views of the leaves (non-leaf, like a model's activations);
//                                           --dout: backward from a given output gradient instead of sum()'s
// ./build.sh bench models [--sizes ...]     Vim-Ti, VMamba-T, S4ND-ViT-Ti, DeiT-Ti across image sizes, a fresh process per point
// ./build.sh bench models-plot CSV DIR      redraws a sweep's PNGs from its sweep.csv
// ./build.sh bench vim-profile SIZE [reps]  Vim-Ti's forward split into matmuls, convolutions and scans
return args switch {
    ["memory"] => MemoryProbe.RunTable(),
    ["memory-point", var scanCase, var impl, var pass] => MemoryProbe.RunPoint(scanCase, impl, pass),
    // fused cross selective scan vs composition (issue 4)
    ["memory-cross"] => MemoryProbe.RunCrossTable(),
    ["memory-cross-point", var crossCase, var impl, var pass] => MemoryProbe.RunCrossPoint(crossCase, impl, pass),
    ["time-cross"] => CrossScanTiming.Run(30),
    ["time-cross", var reps] => CrossScanTiming.Run(int.Parse(reps)),
    ["time-scan"] => ScanTiming.Run(20),
    ["time-scan", var reps] => ScanTiming.Run(int.Parse(reps)),
    ["scan-loop", .. var rest] => ScanTiming.RunLoop(rest),
    // images/s and peak memory against image size (issue 10)
    ["models", .. var rest] => ModelSweep.Run(rest),
    ["models-plot", var csv, var outDir] => ModelSweep.Plot(csv, outDir),
    ["vim-profile", var size] => VimProfile.Run(long.Parse(size), 5),
    ["vim-profile", var size, var reps] => VimProfile.Run(long.Parse(size), int.Parse(reps)),
    _ => Run(args),
};

static int Run(string[] args)
{
    BenchmarkSwitcher.FromAssembly(typeof(ScanCase).Assembly).Run(args);
    return 0;
}
