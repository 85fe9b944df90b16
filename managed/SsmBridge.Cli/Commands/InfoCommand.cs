using System.Reflection;
using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace SsmBridge.Cli.Commands;

/// <summary><c>ssmbridge info</c>: what this installation runs on.</summary>
public static class InfoCommand
{
    public static int Run(CommandContext ctx)
    {
        static string Version(Assembly a) =>
            a.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? a.GetName().Version?.ToString() ?? "?";
        var o = ctx.Out;
        o.WriteLine($"ssmbridge        {Version(typeof(CliApp).Assembly)}");
        o.WriteLine($"SsmBridge        {Version(typeof(models).Assembly)}");
        o.WriteLine($"libssmbridge     {Runtime.NativeVersion}");
        o.WriteLine($"TorchSharp       {Version(typeof(TorchSharp.torch).Assembly)}");
        o.WriteLine($".NET             {RuntimeInformation.FrameworkDescription} ({RuntimeInformation.RuntimeIdentifier})");
        o.WriteLine($"OS               {RuntimeInformation.OSDescription}, {Environment.ProcessorCount} logical CPUs");
        o.WriteLine($"CPU code path    {Runtime.CpuIsa}{(Environment.GetEnvironmentVariable("SSMB_CPU_ISA") is { Length: > 0 } forced ? $" (SSMB_CPU_ISA={forced})" : "")}");
        o.WriteLine($"threads          torch {get_num_threads()}, libssmbridge {Runtime.NativeThreadCount} ({Runtime.CpuThreading})");
        o.WriteLine($"malloc           {MallocSetup.Description}");
        o.WriteLine($"CUDA             libtorch: {(cuda.is_available() ? $"available, {cuda.device_count()} device(s)" : "not available")}; libssmbridge kernels: {(Runtime.HasCuda ? "built" : "not built")}");
        o.WriteLine($"presets          {string.Join(", ", ModelRegistry.Presets)}");
        o.WriteLine($"models           {string.Join(", ", ModelRegistry.Names.Where(n => !ModelRegistry.IsPreset(n)))}");
        return ExitCodes.Ok;
    }
}
