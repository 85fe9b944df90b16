using BenchmarkDotNet.Running;
using SsmBridge.Bench;

// ./build.sh bench                          every BenchmarkDotNet suite
// ./build.sh bench --filter '*Scaling*'     arguments go to BenchmarkDotNet
// ./build.sh bench memory                   peak-memory table, one fresh process per point (Linux)
return args switch {
    ["memory"] => MemoryProbe.RunTable(),
    ["memory-point", var scanCase, var impl, var pass] => MemoryProbe.RunPoint(scanCase, impl, pass),
    _ => Run(args),
};

static int Run(string[] args)
{
    BenchmarkSwitcher.FromAssembly(typeof(ScanCase).Assembly).Run(args);
    return 0;
}
