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

    /// <summary>
    /// Which threads run the CPU kernels: <c>"openmp &lt;file&gt;"</c> when libtorch's OpenMP runtime (libgomp)
    /// is loaded, as it is under TorchSharp on Linux; the kernels then run on libtorch's own OpenMP team, so
    /// libtorch's ops and the kernels never compete for cores. Otherwise <c>"pool"</c>, the library's own
    /// threads. The environment variable <c>SSMB_CPU_THREADS=pool</c> forces the pool.
    /// </summary>
    public static string CpuThreading => Native.CpuThreading();
}
