// CUDA selective scan (see ssmbridge.h for the math and layouts), called by api_cuda.cpp with
// validated arguments on the right current device. dtype picks the element type of u, delta, z,
// out, du, ddelta, dz and selective B / C (float, half or bfloat16); weights, states and weight
// gradients are float.
//
// Work decomposition, shared by forward and backward: a block is one (batch b, group g, tile of
// channels inside g); each warp of it scans one channel. The sequence goes in chunks of
// kStepsPerChunk steps, kItems consecutive steps per lane: a lane composes its steps into one
// (a, b) pair, a warp scan combines the lanes, and the state carried between chunks lives in shared
// memory. The forward saves the state every kScanChunkSize steps (the CPU's chunk_states layout);
// the backward walks the chunks from last to first, recomputes the states of a chunk from the saved
// one, and runs the reverse-time scan of dL/dh with the same warp scan. The per-chunk work is
// scan_block.cuh's, shared with the fused cross selective scan; reverse is a template argument of
// the kernels, so step -> time costs no selects.
//
// Deterministic sums: selective dB / dC add the channels of a tile in warp order inside the block,
// and the tiles of a group in tile order afterwards (partial_sums.cu); dA, time-invariant dB / dC,
// dD and ddelta_bias are summed per (batch, channel) and then over batch in batch order.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "selective_scan.h"
#include "ssmbridge.h"

namespace ssmb::cuda {

constexpr int kItems = 8;                        // consecutive steps per lane
constexpr int kStepsPerChunk = 32 * kItems;      // steps per warp pass
constexpr int kForwardWarps = 4;                 // channels per forward block
constexpr int kBackwardWarps = 8;                // channels per backward block (and per dB / dC partial)
constexpr int64_t kMaxStates = 256;              // N: bounded by the backward's shared memory
constexpr int64_t kWorkspaceAlign = 32;           // floats: backward workspace parts start 128-byte aligned
static_assert(kStepsPerChunk % kScanChunkSize == 0, "a chunk must start at a saved state");
static_assert(kScanChunkSize % kItems == 0, "a saved state must start a lane's steps");

void selective_scan_fwd(const SelectiveScanParams& p, ssmb_dtype dtype, cudaStream_t stream);

// Bytes of float workspace selective_scan_bwd needs.
int64_t selective_scan_bwd_workspace_bytes(const SelectiveScanParams& p);

void selective_scan_bwd(const SelectiveScanParams& p, ssmb_dtype dtype, cudaStream_t stream);

}  // namespace ssmb::cuda
