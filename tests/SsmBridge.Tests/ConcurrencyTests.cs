using SsmBridge.Interop;
using static TorchSharp.torch;

namespace SsmBridge.Tests;

/// <summary>
/// Concurrency through the public API (issue 11; the native suite's Concurrency.* does the same below the
/// ABI): eight threads calling the same op at once, each with its own autograd graph, get exactly the bits
/// of a serial call, and a failing native call's message reaches the thread that made it.
/// </summary>
[Collection(SerialCollection.Name)]
public class ConcurrencyTests
{
    private const int Threads = 8;

    [Theory]
    [InlineData("selective_scan")]
    [InlineData("cross_selective_scan")]
    [InlineData("s4d_kernel")]
    [InlineData("patch_merge")]
    public void EightThreadsAtOnceGiveTheSerialResultsBitwise(string op)
    {
        using var scope = NewDisposeScope();
        var serial = DeterminismTests.Ops[op]();
        var start = new Barrier(Threads);
        var results = new Tensor[Threads][];
        var errors = new string?[Threads];
        var workers = Enumerable.Range(0, Threads).Select(i => new Thread(() => {
            start.SignalAndWait();
            try {
                // Each thread has its own dispose scope stack: keep the results alive past it for the comparison.
                using var own = NewDisposeScope();
                results[i] = DeterminismTests.Ops[op]().Select(t => t.DetachFromDisposeScope()).ToArray();
            } catch (Exception e) {
                errors[i] = e.ToString();  // an exception escaping a thread would end the test process
            }
        })).ToArray();
        // TorchSharp 0.107 can crash when a GC finalizes the implicit Scalar of `tensor - 2` while libtorch
        // still reads it (the ops' inputs are built that way); eight allocating threads make that GC likely,
        // so the threads run without one, as the ssmbridge command's training steps do.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var noGc = GC.TryStartNoGCRegion(64L << 20);
        try {
            foreach (var w in workers) w.Start();
            foreach (var w in workers) w.Join();
        } finally {
            if (noGc && System.Runtime.GCSettings.LatencyMode == System.Runtime.GCLatencyMode.NoGCRegion) GC.EndNoGCRegion();
        }
        for (int i = 0; i < Threads; i++) {
            Assert.True(errors[i] is null, $"{op}: thread {i} failed: {errors[i]}");
            for (int k = 0; k < serial.Length; k++) {
                Assert.True(Err.Bitwise(serial[k], results[i][k]), $"{op}: thread {i}, tensor {k} differs from the serial call");
                results[i][k].Dispose();
            }
        }
    }

    [Fact]
    public void EachThreadSeesItsOwnNativeErrorMessage()
    {
        using var input = zeros(1);
        using var output = zeros(4);
        var (x, ys) = (Internal.TensorData.Pointer(input), Internal.TensorData.Pointer(output));
        var start = new Barrier(Threads);
        var failures = new string?[Threads];
        var workers = Enumerable.Range(0, Threads).Select(i => new Thread(() => {
            start.SignalAndWait();
            try {
                for (int round = 0; round < 200 && failures[i] is null; round++) {
                    if (i % 2 == 1) {
                        Native.CrossScan(Dtype.Float32, 1, 1, 1, 1, 1, x, ys);  // valid calls between the failures
                        continue;
                    }
                    // A distinct invalid width per thread: the message must carry this thread's value.
                    try {
                        Native.PatchMergeForward(Dtype.Float32, 1, 1, 2, -(i + 2), 0, ys, ys);
                        failures[i] = "no exception for a negative width";
                    } catch (ArgumentException e) when (!e.Message.Contains($"{-(i + 2)}")) {
                        failures[i] = $"another thread's message: {e.Message}";
                    } catch (ArgumentException) {
                    }
                }
            } catch (Exception e) {
                failures[i] = e.ToString();
            }
        })).ToArray();
        foreach (var w in workers) w.Start();
        foreach (var w in workers) w.Join();
        for (int i = 0; i < Threads; i++)
            Assert.True(failures[i] is null, $"thread {i}: {failures[i]}");
    }
}
