// What forward and backward kernels share: the (batch, group, tile, channel) a warp works on, the
// time of each step, and the loads of one step's inputs.
#pragma once

#include <cstdint>

#include "common/scan_math.h"
#include "cuda/cuda_types.cuh"
#include "cuda/selective_scan_cuda.h"
#include "cuda/warp_scan.cuh"
#include "selective_scan.h"

namespace ssmb::cuda {

// The channel of warp `warp` in block `block` (blocks of `warps` channels, tiles inside a group).
struct ScanLane {
    int64_t b, g, tile, d;
    bool live;  // false for the warps of a last tile past the group's channels
    int lane;
    int64_t tiles_per_group;

    __device__ ScanLane(const SelectiveScanParams& p, int warps) {
        const int64_t per_group = p.channels_per_group();
        tiles_per_group = (per_group + warps - 1) / warps;
        const int64_t block = blockIdx.x;
        tile = block % tiles_per_group;
        g = (block / tiles_per_group) % p.groups;
        b = block / (tiles_per_group * p.groups);
        const int64_t c = tile * warps + threadIdx.x / kWarpSize;
        live = c < per_group;
        // A dead warp shadows the group's last channel so that its loads stay in bounds.
        d = g * per_group + (live ? c : per_group - 1);
        lane = threadIdx.x % kWarpSize;
    }
};

// Step s of the scan visits time s, or L - 1 - s when reverse.
__device__ __forceinline__ int64_t scan_time(const SelectiveScanParams& p, int64_t step) {
    return p.reverse ? p.L - 1 - step : step;
}

// Projection B or C at (state n, time t): a row of the (N, L) block of (b, g) when selective, else
// the channel's (d, n) weight.
template <typename T>
struct Projection {
    const T* selective;     // (N, L) block of this (b, g), or null
    const float* invariant; // row d of (dim, N)

    __device__ Projection(const void* data, bool is_selective, const SelectiveScanParams& p, int64_t b, int64_t g,
                          int64_t d) {
        selective = is_selective ? static_cast<const T*>(data) + (b * p.groups + g) * p.N * p.L : nullptr;
        invariant = is_selective ? nullptr : static_cast<const float*>(data) + d * p.N;
    }
    __device__ __forceinline__ float at(int64_t n, int64_t t, int64_t L) const {
        return selective ? to_float(selective[n * L + t]) : invariant[n];
    }
};

// Per-step inputs of a lane's kItems steps: dt (after bias and softplus), u, and dt * u. Steps past
// L get dt = u = 0, which makes them the identity step (a = 1, b = 0) and contribute nothing.
template <typename T>
struct StepInputs {
    float dt[kItems], u[kItems], dtu[kItems];
    float raw[kItems];  // delta + delta_bias, before softplus (for the backward's softplus')

    __device__ void load(const SelectiveScanParams& p, const T* u_row, const T* delta_row, float delta_bias,
                         int64_t first_step) {
#pragma unroll
        for (int i = 0; i < kItems; ++i) {
            const int64_t step = first_step + i;
            if (step < p.L) {
                const int64_t t = scan_time(p, step);
                u[i] = to_float(u_row[t]);
                raw[i] = to_float(delta_row[t]) + delta_bias;
                dt[i] = p.delta_softplus ? softplus(raw[i]) : raw[i];
            } else {
                u[i] = raw[i] = dt[i] = 0.0f;
            }
            dtu[i] = dt[i] * u[i];
        }
    }
};

}  // namespace ssmb::cuda
