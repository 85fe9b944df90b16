// Index maps of the cross scan (VMamba's four scan orders) and of Swin's 2x2 patch merging, shared by
// the CPU kernels and the CUDA kernels, so both agree on where every element goes.
#pragma once

#include <cstdint>

#include "common/host_device.h"

namespace ssmb {

constexpr int kCrossScanDirections = 4;
constexpr int kPatchMergeGroups = 4;

// Sizes of an image (batch, channels, height, width) and how it is stored: channel-first
// (batch, channels, height, width) or channel-last (batch, height, width, channels).
struct ImageShape {
    int64_t batch, channels, height, width;
    bool channel_first;

    SSMB_HOST_DEVICE int64_t pixels() const { return height * width; }
};

// Element strides of an ImageShape's storage.
struct ImageStrides {
    int64_t batch, channel, row, col;
};

SSMB_HOST_DEVICE inline ImageStrides image_strides(const ImageShape& s) {
    const int64_t plane = s.height * s.width;
    return s.channel_first ? ImageStrides{s.channels * plane, plane, s.width, 1}
                           : ImageStrides{s.channels * plane, 1, s.width * s.channels, s.channels};
}

// Scan direction k as an affine map from pixel (h, w) to a sequence position:
// position = origin + h * h_step + w * w_step.
struct ScanOrder {
    int64_t origin, h_step, w_step;

    SSMB_HOST_DEVICE int64_t position(int64_t h, int64_t w) const { return origin + h * h_step + w * w_step; }
};

// k = 0 row-major (h * W + w), k = 1 column-major (w * H + h), k = 2 and 3 the same two reversed
// (L - 1 - ..., L = H * W).
SSMB_HOST_DEVICE inline ScanOrder cross_scan_order(int k, int64_t height, int64_t width) {
    const int64_t last = height * width - 1;
    switch (k) {
        case 0: return ScanOrder{0, width, 1};
        case 1: return ScanOrder{0, 1, height};
        case 2: return ScanOrder{last, -width, -1};
        default: return ScanOrder{last, -1, -height};
    }
}

// Patch merging: output channel group q holds input pixel (2i + patch_row(q), 2j + patch_col(q)),
// Swin's order [x(0::2, 0::2), x(1::2, 0::2), x(0::2, 1::2), x(1::2, 1::2)].
SSMB_HOST_DEVICE inline int patch_row(int q) { return q & 1; }
SSMB_HOST_DEVICE inline int patch_col(int q) { return q >> 1; }

// The group that input pixel (h, w) lands in (the inverse of patch_row / patch_col).
SSMB_HOST_DEVICE inline int patch_group(int64_t h, int64_t w) {
    return static_cast<int>(h & 1) | (static_cast<int>(w & 1) << 1);
}

// Output size along one axis: ceil(size / 2).
SSMB_HOST_DEVICE inline int64_t patch_merged_size(int64_t size) { return (size + 1) / 2; }

}  // namespace ssmb
