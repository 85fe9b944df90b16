using System.Runtime;

namespace SsmBridge.Cli.Training;

/// <summary>
/// Keeps the garbage collector out of one training or evaluation step. TorchSharp 0.107's tensor operators
/// (<c>a + b</c>, <c>a - b</c>) pass a temporary Scalar whose finalizer can run on the finalizer thread
/// while the native call that reads it is still in flight: after minutes of training that crashes inside
/// libtorch ("Expected false to be true ... toFloat"). With no collection during a step, every Scalar is
/// finalized only after the calls that used it have returned. Entering collects and runs the pending
/// finalizers first: finalizers also free native memory (autograd graphs of the last step), and without
/// collections between steps that memory would pile up by the gigabyte. Should a step allocate more than
/// the budget, the runtime collects anyway and the rest of that step is unprotected (never wrong).
/// </summary>
internal readonly struct NoGcRegion : IDisposable
{
    // Managed allocations of one step are tensor handles and small arrays: well under this budget.
    private const long Budget = 64L << 20;
    private readonly bool _active;

    private NoGcRegion(bool active) => _active = active;

    public static NoGcRegion Enter()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        try {
            return new NoGcRegion(GC.TryStartNoGCRegion(Budget));
        } catch (InvalidOperationException) {
            return new NoGcRegion(false);   // already inside a region (nested use)
        }
    }

    public void Dispose()
    {
        if (_active && GCSettings.LatencyMode == GCLatencyMode.NoGCRegion) GC.EndNoGCRegion();
    }
}
