using SsmBridge.Interop;

namespace SsmBridge;

/// <summary>Facts about the loaded native library.</summary>
public static class Runtime
{
    /// <summary>Version of libssmbridge.</summary>
    public static string NativeVersion => Native.Version();

    /// <summary>True when libssmbridge was built with CUDA kernels.</summary>
    public static bool HasCuda => Native.HasCuda() != 0;

    /// <summary>The CPU code path the kernels use.</summary>
    public static string CpuIsa => Native.CpuIsa();

    /// <summary>Threads the native CPU kernels use (follows torch.get_num_threads()).</summary>
    public static int NativeThreadCount => Native.GetNumThreads();
}
