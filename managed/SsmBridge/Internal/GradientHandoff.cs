using static TorchSharp.torch;

namespace SsmBridge.Internal;

/// <summary>
/// Managed wrappers that a backward must give up as soon as the autograd engine has taken the tensors.
/// <para>
/// TorchSharp's custom-function node copies the native handle of every gradient a backward returns, and
/// the gradient outputs it passes in are fresh wrappers that nothing else disposes. Left alone, each
/// wrapper keeps its tensor's memory alive until the .NET GC finalizes it. Then the engine can never
/// free or reuse that memory during the backward pass, and AccumulateGrad always clones a leaf's
/// gradient instead of taking it, because the wrapper counts as a second owner. Every multi-MiB
/// gradient then lands in fresh pages and page-faults; at (8, 192, 3136, 1) that was 25,000 faults per
/// selective-scan fwd+bwd.
/// </para>
/// <para>
/// So each backward disposes the gradient outputs it was given when it is done with them, and hands its
/// results over through <see cref="Return"/>. The engine copies a handle the moment backward returns,
/// and nothing of ours runs between that copy and its use, so the result wrappers are released by the
/// next SsmBridge autograd call on the same thread (forward or backward) through <see cref="ReleaseReturned"/>.
/// Between calls, one call's worth of wrappers stays alive per thread.
/// </para>
/// </summary>
internal static class GradientHandoff
{
    [ThreadStatic] private static List<Tensor>? t_returned;

    /// <summary>
    /// Takes <paramref name="gradient"/> out of every dispose scope and queues its wrapper for release on
    /// this thread's next autograd call. Returns it.
    /// </summary>
    public static Tensor Return(Tensor gradient)
    {
        gradient.DetachFromDisposeScope();
        (t_returned ??= new List<Tensor>()).Add(gradient);
        return gradient;
    }

    /// <summary>The wrappers this thread has returned and not yet released (for tests).</summary>
    internal static IReadOnlyList<Tensor> Pending => t_returned?.ToArray() ?? Array.Empty<Tensor>();

    /// <summary>Releases the wrappers this thread returned to the engine before.</summary>
    public static void ReleaseReturned()
    {
        var returned = t_returned;
        if (returned is null || returned.Count == 0) return;
        foreach (var tensor in returned) tensor.Dispose();
        returned.Clear();
    }

    /// <summary>
    /// Disposes the wrappers of the gradient outputs a backward was given (undefined ones included),
    /// except any that it returns itself.
    /// </summary>
    public static void DisposeGradOutputs(IEnumerable<Tensor?> gradOutputs, IReadOnlyCollection<Tensor?> returned)
    {
        foreach (var tensor in gradOutputs)
            if (tensor is not null && !returned.Any(r => ReferenceEquals(r, tensor)))
                tensor.Dispose();
    }
}
