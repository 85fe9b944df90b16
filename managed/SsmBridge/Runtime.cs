using System.Runtime.InteropServices;
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
    public static string CpuThreading
    {
        get {
            // The answer is about the next kernel call, and every call comes with tensors, so libtorch (and its
            // libgomp) is loaded by then. Load it here too: asked first thing in a process, it would say "pool".
            _ = TorchSharp.torch.get_num_threads();
            return Native.CpuThreading();
        }
    }

    /// <summary>
    /// Makes glibc's malloc keep freed memory for reuse instead of handing it back to the OS, for the whole
    /// process: blocks up to 32 MiB (glibc's maximum) come from its heap instead of fresh mmaps, the heap
    /// is trimmed only beyond 1 GiB of free memory at its top, and no new malloc arenas are made: threads that
    /// have not allocated yet share the existing ones. Set at process start, as
    /// <c>GLIBC_TUNABLES=glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=1073741824:glibc.malloc.arena_max=1</c>,
    /// the same settings put every thread on the main heap. Called later, threads that allocated before keep
    /// their own arenas, so call it first thing, or set the variable.
    /// <para>
    /// libtorch allocates CPU tensors with malloc. By default glibc maps a big tensor's memory fresh and
    /// returns it when freed, so every multi-MiB tensor of every training step page-faults its memory in
    /// again, which on some VMs costs more than the arithmetic: the selective scan's fwd+bwd at
    /// (8, 192, 3136, 1) took 290 ms by default and 17.6 ms with this (medians, bench/RESULTS.md). A thread's
    /// own arena ignores the trim threshold when a free leaves one of its extra 64 MiB heaps empty: it unmaps
    /// the heap, and the next big tensor faults in a new one. That is why the arena limit is part of this: in
    /// BenchmarkDotNet, whose benchmark thread has its own arena, the model-like fwd+bwd at (8, 192, 3136, 1)
    /// took 17.8 ms with the first two settings and 9.0 ms with all three (bench/RESULTS.md).
    /// The price is that the process's resident memory stays near its peak. The <c>ssmbridge</c> command, which
    /// owns its process, calls this first thing unless <c>SSMB_MALLOC=default</c>.
    /// </para>
    /// Returns false, changing nothing, where the C library is not glibc (Windows, macOS, musl).
    /// </summary>
    public static bool RetainFreedMemory()
    {
        if (!OperatingSystem.IsLinux()) return false;
        try {
            _ = GnuLibcVersion();
        } catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) {
            return false;
        }
        return Mallopt(MmapThreshold, 32 << 20) == 1 && Mallopt(TrimThreshold, 1 << 30) == 1 &&
               Mallopt(ArenaMax, 1) == 1;
    }

    // glibc's malloc.h parameters.
    private const int TrimThreshold = -1, MmapThreshold = -3, ArenaMax = -8;

    [DllImport("libc.so.6", EntryPoint = "mallopt")]
    private static extern int Mallopt(int parameter, int value);

    [DllImport("libc.so.6", EntryPoint = "gnu_get_libc_version")]
    private static extern IntPtr GnuLibcVersion();
}
