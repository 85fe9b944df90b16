using SsmBridge.Cli;

// glibc's malloc first, before any tensor exists (SSMB_MALLOC; see MallocSetup).
try {
    MallocSetup.Apply(Environment.GetEnvironmentVariable(MallocSetup.Variable), SsmBridge.Runtime.RetainFreedMemory);
} catch (CliException e) {
    return CliApp.Report(e, Console.Error);
}

// Ctrl-C once: stop after the current training step and keep the checkpoint; twice: terminate.
using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => {
    if (stop.IsCancellationRequested) return;
    e.Cancel = true;
    Console.Error.WriteLine();
    Console.Error.WriteLine("ssmbridge: stopping after this step (Ctrl-C again to quit at once)");
    stop.Cancel();
};
return CliApp.Run(args, cancel: stop.Token);
