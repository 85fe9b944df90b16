using BenchmarkDotNet.Running;

// ./build.sh bench -- --filter '*SelectiveScan*'   (arguments go to BenchmarkDotNet)
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
