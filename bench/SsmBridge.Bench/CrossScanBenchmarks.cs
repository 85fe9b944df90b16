using BenchmarkDotNet.Attributes;
using SsmBridge.Interop;
using static TorchSharp.torch;

namespace SsmBridge.Bench;

/// <summary>
/// An image as VMamba-T's SS2D scans it, (batch, channels, height, width) in float32: stage 1 (56 x 56,
/// d_inner 96 for VMamba-T v2 and 192 for v0), stage 2 (28 x 28, 384 = v0's d_inner), batch 1 and 8.
/// </summary>
public sealed record ImageCase(string Name, int Batch, int Channels, int Height, int Width) : IMovesBytes
{
    public static IEnumerable<ImageCase> VMambaTiny() => new[] {
        new ImageCase("s1 b1 c96", 1, 96, 56, 56),
        new ImageCase("s1 b1 c192", 1, 192, 56, 56),
        new ImageCase("s2 b1 c384", 1, 384, 28, 28),
        new ImageCase("s1 b8 c192", 8, 192, 56, 56),
    };

    public long Elements => (long)Batch * Channels * Height * Width;

    /// <summary>
    /// Cross scan and cross merge read N and write 4N elements or the reverse, per pass; patch merge
    /// reads N and writes about N (the padded merged image) per pass; backward passes count the same.
    /// </summary>
    public long BytesMoved(string method)
    {
        long merged = (long)Batch * 4 * Channels * ((Height + 1) / 2) * ((Width + 1) / 2);
        long perPass = method.Contains("PatchMerge") ? (Elements + merged) * sizeof(float) : 5 * Elements * sizeof(float);
        return method.Contains("Backward") ? 2 * perPass : perPass;
    }

    public long[] ImageShape(bool channelFirst) =>
        channelFirst ? new long[] { Batch, Channels, Height, Width } : new long[] { Batch, Height, Width, Channels };

    public override string ToString() => $"{Name} ({Batch},{Channels},{Height},{Width})";
}

/// <summary>
/// Fused cross scan / cross merge (<see cref="ops"/>) against the PyTorch-style reference
/// (<see cref="reference"/>: flatten, transpose, flip, stack), forward and forward+backward (backward of
/// a fixed output gradient), channel-first and channel-last.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(BandwidthConfig))]
public class CrossScanBenchmarks
{
    [ParamsSource(nameof(Cases))] public ImageCase Case = null!;
    [Params(true, false)] public bool ChannelFirst;
    public static IEnumerable<ImageCase> Cases => ImageCase.VMambaTiny();

    private Tensor _x = null!, _xLeaf = null!, _dys = null!, _ys = null!, _ysLeaf = null!, _dy = null!;
    private Tensor _scanOut = null!, _mergeOut = null!;

    [GlobalSetup]
    public void Setup()
    {
        manual_seed(0);
        var c = Case;
        _x = randn(c.ImageShape(ChannelFirst));
        _xLeaf = _x.clone().requires_grad_();
        _dys = randn(c.Batch, 4, c.Channels, (long)c.Height * c.Width);
        _ys = randn(new long[] { c.Batch, 4, c.Channels, c.Height, c.Width });
        _ysLeaf = _ys.clone().requires_grad_();
        _dy = ChannelFirst ? randn(c.Batch, c.Channels, (long)c.Height * c.Width) : randn(c.Batch, (long)c.Height * c.Width, c.Channels);
        _scanOut = zeros_like(_dys);
        _mergeOut = zeros_like(_dy);
        Kernels.SyncThreads();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var t in new[] { _x, _xLeaf, _dys, _ys, _ysLeaf, _dy, _scanOut, _mergeOut }) t.Dispose();
    }

    // The native kernels alone, into preallocated outputs: comparable with CopyBandwidthBenchmarks.TorchCopy.
    [Benchmark]
    public void KernelScan() =>
        Native.CrossScan(Dtype.Float32, Case.Batch, Case.Channels, Case.Height, Case.Width, ChannelFirst ? 1 : 0,
                         Kernels.Pointer(_x), Kernels.Pointer(_scanOut));

    [Benchmark]
    public void KernelMerge() =>
        Native.CrossMerge(Dtype.Float32, Case.Batch, Case.Channels, Case.Height, Case.Width, ChannelFirst ? 1 : 0,
                          Kernels.Pointer(_ys), Kernels.Pointer(_mergeOut));

    [Benchmark(Baseline = true)]
    public void ReferenceScanForward()
    {
        using var scope = NewDisposeScope();
        reference.cross_scan(_x, ChannelFirst);
    }

    [Benchmark]
    public void FusedScanForward()
    {
        using var scope = NewDisposeScope();
        ops.cross_scan(_x, ChannelFirst);
    }

    [Benchmark]
    public void ReferenceScanForwardBackward() => Backward(reference.cross_scan(_xLeaf, ChannelFirst), _dys, _xLeaf);

    [Benchmark]
    public void FusedScanForwardBackward() => Backward(ops.cross_scan(_xLeaf, ChannelFirst), _dys, _xLeaf);

    [Benchmark]
    public void ReferenceMergeForward()
    {
        using var scope = NewDisposeScope();
        reference.cross_merge(_ys, ChannelFirst);
    }

    [Benchmark]
    public void FusedMergeForward()
    {
        using var scope = NewDisposeScope();
        ops.cross_merge(_ys, ChannelFirst);
    }

    [Benchmark]
    public void ReferenceMergeForwardBackward() => Backward(reference.cross_merge(_ysLeaf, ChannelFirst), _dy, _ysLeaf);

    [Benchmark]
    public void FusedMergeForwardBackward() => Backward(ops.cross_merge(_ysLeaf, ChannelFirst), _dy, _ysLeaf);

    // Backward of output with a given gradient; the leaf's gradient is dropped afterwards.
    internal static void Backward(Tensor output, Tensor grad, Tensor leaf)
    {
        using (var scope = NewDisposeScope()) {
            output.backward(new[] { grad });
            output.Dispose();
        }
        leaf.grad?.Dispose();
        leaf.grad = null;
    }
}

/// <summary>
/// Fused patch merging against the Swin-style reference (pad, four strided slices, cat), forward and
/// forward+backward, channel-last (Swin, VMamba v0) and channel-first (VMamba v2), on the inputs of
/// VMamba-T's downsampling layers.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(BandwidthConfig))]
public class PatchMergeBenchmarks
{
    [ParamsSource(nameof(Cases))] public ImageCase Case = null!;
    [Params(false, true)] public bool ChannelFirst;
    public static IEnumerable<ImageCase> Cases => new[] {
        new ImageCase("down1 b1 c96", 1, 96, 56, 56),
        new ImageCase("down2 b1 c192", 1, 192, 28, 28),
        new ImageCase("down1 b8 c96", 8, 96, 56, 56),
    };

    private Tensor _x = null!, _xLeaf = null!, _dout = null!, _out = null!;

    [GlobalSetup]
    public void Setup()
    {
        manual_seed(0);
        _x = randn(Case.ImageShape(ChannelFirst));
        _xLeaf = _x.clone().requires_grad_();
        using var merged = ops.patch_merge(_x, ChannelFirst);
        _dout = randn(merged.shape);
        _out = zeros_like(_dout);
        Kernels.SyncThreads();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var t in new[] { _x, _xLeaf, _dout, _out }) t.Dispose();
    }

    [Benchmark]
    public void KernelPatchMerge() =>
        Native.PatchMergeForward(Dtype.Float32, Case.Batch, Case.Channels, Case.Height, Case.Width, ChannelFirst ? 1 : 0,
                                 Kernels.Pointer(_x), Kernels.Pointer(_out));

    [Benchmark(Baseline = true)]
    public void ReferencePatchMergeForward()
    {
        using var scope = NewDisposeScope();
        reference.patch_merge(_x, ChannelFirst);
    }

    [Benchmark]
    public void FusedPatchMergeForward()
    {
        using var scope = NewDisposeScope();
        ops.patch_merge(_x, ChannelFirst);
    }

    [Benchmark]
    public void ReferencePatchMergeForwardBackward() =>
        CrossScanBenchmarks.Backward(reference.patch_merge(_xLeaf, ChannelFirst), _dout, _xLeaf);

    [Benchmark]
    public void FusedPatchMergeForwardBackward() =>
        CrossScanBenchmarks.Backward(ops.patch_merge(_xLeaf, ChannelFirst), _dout, _xLeaf);
}

/// <summary>
/// The machine's copy bandwidth in the units of the GB/s column: libtorch's dst.copy_(src) of
/// contiguous float32 tensors (2 x size bytes moved), from cache-sized (the cross scan's outputs at
/// stage 1, batch 1) to DRAM-sized, with torch's thread count as the other benchmarks use.
/// </summary>
[Config(typeof(BandwidthConfig))]
public class CopyBandwidthBenchmarks
{
    public sealed record CopyCase(int MiB) : IMovesBytes
    {
        public long BytesMoved(string method) => 2L * MiB * 1024 * 1024;
        public override string ToString() => $"{MiB} MiB";
    }

    [ParamsSource(nameof(Sizes))] public CopyCase Size = null!;
    public static IEnumerable<CopyCase> Sizes => new[] { 5, 10, 77, 256 }.Select(m => new CopyCase(m));

    private Tensor _src = null!, _dst = null!;

    [GlobalSetup]
    public void Setup()
    {
        long n = (long)Size.MiB * 1024 * 1024 / sizeof(float);
        _src = randn(n);
        _dst = zeros(n);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _src.Dispose();
        _dst.Dispose();
    }

    /// <summary>Into a preallocated tensor: the bandwidth the Kernel* benchmarks compare with.</summary>
    [Benchmark]
    public void TorchCopy() => _dst.copy_(_src);

    /// <summary>Into a new tensor, as every op allocates its output: the end-to-end comparison.</summary>
    [Benchmark]
    public void TorchClone() => _src.clone().Dispose();
}

/// <summary>Direct native calls for the kernel-only benchmarks.</summary>
internal static class Kernels
{
    /// <summary>Data pointer of a freshly created contiguous float32 tensor.</summary>
    public static IntPtr Pointer(Tensor t)
    {
        using var storage = t.storage<float>();
        return storage.data_ptr();
    }

    /// <summary>The kernels' thread count, as the ops set it: torch.get_num_threads().</summary>
    public static void SyncThreads() => Native.SetNumThreads(Math.Max(1, get_num_threads()));
}
