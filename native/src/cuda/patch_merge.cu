// CUDA patch merging (see image_ops_cuda.h): forward gathers every output element from its source
// pixel (zero past an odd edge), backward gathers every input gradient from its merged element.
#include "cuda/cuda_check.h"
#include "cuda/elementwise.cuh"
#include "cuda/image_ops_cuda.h"

namespace ssmb::cuda {

namespace {

// Element (b, c, h, w) of an image of height x width with `channels` channels, in s's layout.
__device__ __forceinline__ int64_t image_index(bool channel_first, int64_t channels, int64_t height, int64_t width,
                                               int64_t b, int64_t c, int64_t h, int64_t w) {
    return channel_first ? ((b * channels + c) * height + h) * width + w
                         : ((b * height + h) * width + w) * channels + c;
}

// Output element e = (b, q * C + c, i, j) in the output's layout.
template <typename T>
__global__ void patch_merge_fwd_kernel(ImageShape s, const T* x, T* out) {
    const int64_t C = s.channels, Ho = patch_merged_size(s.height), Wo = patch_merged_size(s.width);
    const int64_t C4 = kPatchMergeGroups * C;
    SSMB_ELEMENTS(e, s.batch * Ho * Wo * C4) {
        int64_t b, channel, i, j;
        if (s.channel_first) {
            j = e % Wo, i = (e / Wo) % Ho, channel = (e / (Wo * Ho)) % C4, b = e / (Wo * Ho * C4);
        } else {
            channel = e % C4, j = (e / C4) % Wo, i = (e / (C4 * Wo)) % Ho, b = e / (C4 * Wo * Ho);
        }
        const int q = static_cast<int>(channel / C);
        const int64_t h = 2 * i + patch_row(q), w = 2 * j + patch_col(q);
        out[e] = h < s.height && w < s.width
                     ? x[image_index(s.channel_first, C, s.height, s.width, b, channel % C, h, w)]
                     : T(0.0f);
    }
}

// Input gradient element e = (b, c, h, w) in the input's layout.
template <typename T>
__global__ void patch_merge_bwd_kernel(ImageShape s, const T* dout, T* dx) {
    const int64_t C = s.channels, Ho = patch_merged_size(s.height), Wo = patch_merged_size(s.width);
    SSMB_ELEMENTS(e, s.batch * C * s.pixels()) {
        int64_t b, c, h, w;
        if (s.channel_first) {
            w = e % s.width, h = (e / s.width) % s.height, c = (e / s.pixels()) % C, b = e / (s.pixels() * C);
        } else {
            c = e % C, w = (e / C) % s.width, h = (e / (C * s.width)) % s.height, b = e / (C * s.pixels());
        }
        const int64_t merged_channel = patch_group(h, w) * C + c;
        dx[e] = dout[image_index(s.channel_first, kPatchMergeGroups * C, Ho, Wo, b, merged_channel, h / 2, w / 2)];
    }
}

}  // namespace

void patch_merge_fwd(const ImageShape& s, ssmb_dtype dtype, const void* x, void* out, cudaStream_t stream) {
    const int64_t total = s.batch * kPatchMergeGroups * s.channels * patch_merged_size(s.height) * patch_merged_size(s.width);
    dispatch_cuda_dtype(dtype, [&](auto t) {
        using T = decltype(t);
        patch_merge_fwd_kernel<T><<<elementwise_blocks(total), kElementwiseThreads, 0, stream>>>(
            s, static_cast<const T*>(x), static_cast<T*>(out));
        check_launch("patch_merge_fwd_kernel launch");
    });
}

void patch_merge_bwd(const ImageShape& s, ssmb_dtype dtype, const void* dout, void* dx, cudaStream_t stream) {
    dispatch_cuda_dtype(dtype, [&](auto t) {
        using T = decltype(t);
        patch_merge_bwd_kernel<T><<<elementwise_blocks(s.batch * s.channels * s.pixels()), kElementwiseThreads, 0, stream>>>(
            s, static_cast<const T*>(dout), static_cast<T*>(dx));
        check_launch("patch_merge_bwd_kernel launch");
    });
}

}  // namespace ssmb::cuda
