// CPU patch merging. Forward and backward are both gathers (every output element has exactly one
// source, or is padding), so each output row is produced once, in order, by one thread: channel-last
// rows are runs of `channels` contiguous values; channel-first rows read every other input value.
#include "cpu/patch_merge.h"

#include <algorithm>
#include <cstring>

#include "cpu/thread_pool.h"

namespace ssmb::cpu {

namespace {

template <typename T>
void copy_or_zero(const T* src, T* dst, int64_t n) {
    if (src)
        std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(T));
    else
        std::fill(dst, dst + n, T(0));
}

// Channel-last: out[b, i, j, q * C + c] = x[b, 2i + patch_row(q), 2j + patch_col(q), c].
template <typename T>
void merge_channel_last(const ImageShape& s, const T* x, T* out) {
    const int64_t C = s.channels, Ho = patch_merged_size(s.height), Wo = patch_merged_size(s.width);
    parallel_for(s.batch * Ho, [&](int64_t begin, int64_t end) {
        for (int64_t row = begin; row < end; ++row) {
            const int64_t b = row / Ho, i = row % Ho;
            T* o = out + row * Wo * kPatchMergeGroups * C;
            for (int64_t j = 0; j < Wo; ++j) {
                for (int q = 0; q < kPatchMergeGroups; ++q) {
                    const int64_t h = 2 * i + patch_row(q), w = 2 * j + patch_col(q);
                    const T* src = h < s.height && w < s.width ? x + ((b * s.height + h) * s.width + w) * C : nullptr;
                    copy_or_zero(src, o + (j * kPatchMergeGroups + q) * C, C);
                }
            }
        }
    });
}

// Channel-last: dx[b, h, w, c] = dout[b, h / 2, w / 2, patch_group(h, w) * C + c].
template <typename T>
void unmerge_channel_last(const ImageShape& s, const T* dout, T* dx) {
    const int64_t C = s.channels, Ho = patch_merged_size(s.height), Wo = patch_merged_size(s.width);
    parallel_for(s.batch * s.height, [&](int64_t begin, int64_t end) {
        for (int64_t row = begin; row < end; ++row) {
            const int64_t b = row / s.height, h = row % s.height;
            const T* merged_row = dout + (b * Ho + h / 2) * Wo * kPatchMergeGroups * C;
            T* d = dx + row * s.width * C;
            for (int64_t w = 0; w < s.width; ++w) {
                const T* src = merged_row + ((w / 2) * kPatchMergeGroups + patch_group(h, w)) * C;
                std::memcpy(d + w * C, src, static_cast<size_t>(C) * sizeof(T));
            }
        }
    });
}

// Channel-first: out[b, q * C + c, i, j] = x[b, c, 2i + patch_row(q), 2j + patch_col(q)].
template <typename T>
void merge_channel_first(const ImageShape& s, const T* x, T* out) {
    const int64_t C = s.channels, H = s.height, W = s.width;
    const int64_t Ho = patch_merged_size(H), Wo = patch_merged_size(W);
    parallel_for(s.batch * C * Ho, [&](int64_t begin, int64_t end) {
        for (int64_t row = begin; row < end; ++row) {
            const int64_t i = row % Ho, c = (row / Ho) % C, b = row / (Ho * C);
            for (int q = 0; q < kPatchMergeGroups; ++q) {
                T* __restrict d = out + (((b * kPatchMergeGroups + q) * C + c) * Ho + i) * Wo;
                const int64_t h = 2 * i + patch_row(q), w0 = patch_col(q);
                // Output columns j < inside read input column 2j + w0 < W; the rest is padding.
                const int64_t inside = h < H ? (W - w0 + 1) / 2 : 0;
                const T* __restrict r = x + ((b * C + c) * H + std::min(h, H - 1)) * W + w0;
                for (int64_t j = 0; j < inside; ++j) d[j] = r[2 * j];
                std::fill(d + inside, d + Wo, T(0));
            }
        }
    });
}

// Channel-first: dx[b, c, h, w] = dout[b, patch_group(h, w) * C + c, h / 2, w / 2].
template <typename T>
void unmerge_channel_first(const ImageShape& s, const T* dout, T* dx) {
    const int64_t C = s.channels, H = s.height, W = s.width;
    const int64_t Ho = patch_merged_size(H), Wo = patch_merged_size(W);
    auto merged_row = [&](int64_t b, int64_t c, int64_t h, int64_t w) {
        return dout + (((b * kPatchMergeGroups + patch_group(h, w)) * C + c) * Ho + h / 2) * Wo;
    };
    parallel_for(s.batch * C * H, [&](int64_t begin, int64_t end) {
        for (int64_t row = begin; row < end; ++row) {
            const int64_t h = row % H, c = (row / H) % C, b = row / (H * C);
            const T* __restrict even = merged_row(b, c, h, 0);
            const T* __restrict odd = merged_row(b, c, h, 1);
            T* __restrict d = dx + row * W;
            for (int64_t j = 0; j < W / 2; ++j) {
                d[2 * j] = even[j];
                d[2 * j + 1] = odd[j];
            }
            if (W % 2) d[W - 1] = even[W / 2];
        }
    });
}

}  // namespace

template <typename T>
void patch_merge_fwd(const ImageShape& s, const T* x, T* out) {
    if (s.channel_first)
        merge_channel_first(s, x, out);
    else
        merge_channel_last(s, x, out);
}

template <typename T>
void patch_merge_bwd(const ImageShape& s, const T* dout, T* dx) {
    if (s.channel_first)
        unmerge_channel_first(s, dout, dx);
    else
        unmerge_channel_last(s, dout, dx);
}

template void patch_merge_fwd<float>(const ImageShape&, const float*, float*);
template void patch_merge_fwd<double>(const ImageShape&, const double*, double*);
template void patch_merge_bwd<float>(const ImageShape&, const float*, float*);
template void patch_merge_bwd<double>(const ImageShape&, const double*, double*);

}  // namespace ssmb::cpu
