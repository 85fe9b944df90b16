// CUDA cross scan and cross merge (see image_ops_cuda.h). Threads walk the image in its storage
// order, so image reads (scan) and writes (merge) are coalesced; the sequence side of k = 0 and 2
// is coalesced too for channel-first images.
#include "cuda/cuda_check.h"
#include "cuda/cuda_types.cuh"
#include "cuda/elementwise.cuh"
#include "cuda/image_ops_cuda.h"

namespace ssmb::cuda {

namespace {

// Pixel (b, c, h, w) of the element at storage index e.
struct Pixel {
    int64_t b, c, h, w;
};

__device__ __forceinline__ Pixel pixel_at(const ImageShape& s, int64_t e) {
    Pixel p;
    if (s.channel_first) {
        p.w = e % s.width;
        p.h = (e / s.width) % s.height;
        p.c = (e / s.pixels()) % s.channels;
        p.b = e / (s.pixels() * s.channels);
    } else {
        p.c = e % s.channels;
        p.w = (e / s.channels) % s.width;
        p.h = (e / (s.channels * s.width)) % s.height;
        p.b = e / (s.channels * s.pixels());
    }
    return p;
}

// Index of ys[b, k, c, position].
__device__ __forceinline__ int64_t sequence_index(const ImageShape& s, const Pixel& p, int k) {
    const int64_t L = s.pixels();
    return ((p.b * kCrossScanDirections + k) * s.channels + p.c) * L +
           cross_scan_order(k, s.height, s.width).position(p.h, p.w);
}

template <typename T>
__global__ void cross_scan_kernel(ImageShape s, const T* x, T* ys) {
    SSMB_ELEMENTS(e, s.batch * s.channels * s.pixels()) {
        const Pixel p = pixel_at(s, e);
        const T value = x[e];
#pragma unroll
        for (int k = 0; k < kCrossScanDirections; ++k) ys[sequence_index(s, p, k)] = value;
    }
}

// y has x's layout with (h, w) flattened, so it is indexed by the same e.
template <typename T>
__global__ void cross_merge_kernel(ImageShape s, const T* ys, T* y) {
    SSMB_ELEMENTS(e, s.batch * s.channels * s.pixels()) {
        const Pixel p = pixel_at(s, e);
        auto at = [&](int k) { return to_float(ys[sequence_index(s, p, k)]); };
        y[e] = from_float<T>((at(0) + at(2)) + (at(1) + at(3)));  // VMamba's CrossMerge order
    }
}

}  // namespace

void cross_scan(const ImageShape& s, ssmb_dtype dtype, const void* x, void* ys, cudaStream_t stream) {
    dispatch_cuda_dtype(dtype, [&](auto t) {
        using T = decltype(t);
        cross_scan_kernel<T><<<elementwise_blocks(s.batch * s.channels * s.pixels()), kElementwiseThreads, 0, stream>>>(
            s, static_cast<const T*>(x), static_cast<T*>(ys));
        check_launch("cross_scan_kernel launch");
    });
}

void cross_merge(const ImageShape& s, ssmb_dtype dtype, const void* ys, void* y, cudaStream_t stream) {
    dispatch_cuda_dtype(dtype, [&](auto t) {
        using T = decltype(t);
        cross_merge_kernel<T><<<elementwise_blocks(s.batch * s.channels * s.pixels()), kElementwiseThreads, 0, stream>>>(
            s, static_cast<const T*>(ys), static_cast<T*>(y));
        check_launch("cross_merge_kernel launch");
    });
}

}  // namespace ssmb::cuda
