using SsmBridge.Interop;
using static TorchSharp.torch;

namespace SsmBridge.Internal;

/// <summary>
/// Keeps the native thread pool's size equal to libtorch's intra-op thread count, so the kernels
/// follow <c>torch.set_num_threads</c> and never oversubscribe the cores libtorch was given.
/// </summary>
internal static class NativeThreads
{
    private static int _applied;

    public static void Sync()
    {
        var wanted = Math.Max(1, get_num_threads());
        if (Volatile.Read(ref _applied) == wanted) return;
        Native.SetNumThreads(wanted);
        Volatile.Write(ref _applied, wanted);
    }
}
