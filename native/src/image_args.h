// Argument checks shared by the image ops of the C ABI (cross scan, cross merge, patch merge):
// dtype, sizes and layout flag of one call, validated into an ImageShape.
#pragma once

#include <cstdint>
#include <string>

#include "common/cross_scan_index.h"
#include "ssmbridge.h"
#include "validate.h"

namespace ssmb {

// Sizes and layout flag, for any device (the dtype is each device's to check).
inline ImageShape image_sizes(int64_t batch, int64_t channels, int64_t height, int64_t width, int32_t channel_first) {
    require_positive("batch", batch);
    require_positive("channels", channels);
    require_positive("height", height);
    require_positive("width", width);
    return ImageShape{batch, channels, height, width, channel_first != 0};
}

inline ImageShape image_shape(ssmb_dtype dtype, int64_t batch, int64_t channels, int64_t height, int64_t width,
                              int32_t channel_first) {
    require_cpu_float(dtype);
    return image_sizes(batch, channels, height, width, channel_first);
}

// Byte sizes of the image (x or y) and of the four sequences ys of a cross scan, overflow-checked.
struct CrossScanBytes {
    int64_t image, sequences;
};

inline CrossScanBytes cross_scan_bytes(const ImageShape& s, ssmb_dtype dtype) {
    const int64_t elem = dtype_size(dtype);
    return {checked_bytes("x", {s.batch, s.channels, s.height, s.width}, elem),
            checked_bytes("ys", {s.batch, kCrossScanDirections, s.channels, s.height, s.width}, elem)};
}

// Byte sizes of the image and of the patch-merged image, overflow-checked. The names are the forward's.
struct PatchMergeBytes {
    int64_t image, merged;
};

inline PatchMergeBytes patch_merge_bytes(const ImageShape& s, ssmb_dtype dtype, const char* image_name,
                                         const char* merged_name) {
    const int64_t elem = dtype_size(dtype);
    return {checked_bytes(image_name, {s.batch, s.channels, s.height, s.width}, elem),
            checked_bytes(merged_name, {s.batch, kPatchMergeGroups, s.channels, patch_merged_size(s.height),
                                        patch_merged_size(s.width)},
                          elem)};
}

}  // namespace ssmb
