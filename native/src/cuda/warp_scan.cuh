// Warp-level scans over the (a, b) pair operator of common/scan_math.h, the parallel form of the
// recurrence h -> a h + b: lane i receives the composition of the pairs of the lanes before it,
// in lane order, or in reverse lane order (lane 31 first) for the backward's reverse-time scan.
#pragma once

#include "common/scan_math.h"

namespace ssmb::cuda {

constexpr int kWarpSize = 32;
constexpr unsigned kFullMask = 0xffffffffu;

struct WarpScan {
    ScanPair<float> exclusive;  // the lanes before this one, composed in scan order
    ScanPair<float> total;      // every lane, composed in scan order
};

// Every lane of the warp must call this (reverse uniform across the warp).
__device__ __forceinline__ WarpScan warp_scan(ScanPair<float> v, bool reverse) {
    const int lane = threadIdx.x % kWarpSize;
    const int rank = reverse ? kWarpSize - 1 - lane : lane;  // position in scan order
    auto lane_of = [reverse](int r) { return (reverse ? kWarpSize - 1 - r : r) & (kWarpSize - 1); };
    // Hillis-Steele inclusive scan: after the step with offset o, v covers ranks rank - 2o + 1 .. rank.
    for (int offset = 1; offset < kWarpSize; offset <<= 1) {
        const int source = lane_of(rank - offset);
        const ScanPair<float> earlier{__shfl_sync(kFullMask, v.a, source), __shfl_sync(kFullMask, v.b, source)};
        if (rank >= offset) v = compose(earlier, v);
    }
    WarpScan result;
    const int last = lane_of(kWarpSize - 1), before = lane_of(rank - 1);
    result.total = {__shfl_sync(kFullMask, v.a, last), __shfl_sync(kFullMask, v.b, last)};
    const ScanPair<float> previous{__shfl_sync(kFullMask, v.a, before), __shfl_sync(kFullMask, v.b, before)};
    result.exclusive = rank == 0 ? ScanPair<float>::identity() : previous;
    return result;
}

// Sum over the warp in a fixed tree order (the same on every run); every lane gets the sum.
__device__ __forceinline__ float warp_sum(float x) {
    for (int offset = kWarpSize / 2; offset > 0; offset >>= 1) x += __shfl_xor_sync(kFullMask, x, offset);
    return x;
}

}  // namespace ssmb::cuda
