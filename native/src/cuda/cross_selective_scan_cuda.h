// CUDA fused cross selective scan (ssmb_cross_selective_scan_*_cuda; math and layouts in ssmbridge.h),
// called by api_cuda_fused.cpp with validated arguments on the right current device. float32 data
// and weights.
//
// The kernels are the selective scan's (selective_scan_cuda.h: a warp per channel, kItems steps per
// lane, warp scans of the (a, b) pairs, states saved every kScanChunkSize steps) with direction k's
// index map applied to every load and store: step s of direction k visits pixel
//   q = (k >= 2 ? L - 1 - s : s),  t = (k odd ? (q % H) * W + q / H : q)
// of the pixel-order inputs, so no cross-scanned copy of u, delta, B or C is ever made, and
// chunk_states gets the CPU's layout (each direction's state before each chunk of its scan order).
//
// Forward: one launch per direction, in the order 0, 2, 1, 3; the first writes out = y_0 and each
// later one adds its y_k to out (stream order, each element owned by one lane): deterministic,
// ((y_0 + y_2) + y_1) + y_3, with no workspace (the forward's ABI has none).
// Backward: one launch over (batch, direction, tile of channels); du of each direction goes to a
// float partial in the workspace, and the four are summed in direction order afterwards; dB / dC
// sum the channels of a tile in warp order, then the tiles in tile order; dA, dD and ddelta_bias are
// summed over batch in batch order (partial_sums.cu). No atomics anywhere.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "cross_selective_scan_params.h"

namespace ssmb::cuda {

void cross_selective_scan_fwd(const CrossSelectiveScanParams& p, cudaStream_t stream);

// Bytes of float workspace cross_selective_scan_bwd needs.
int64_t cross_selective_scan_bwd_workspace_bytes(const CrossSelectiveScanParams& p);

void cross_selective_scan_bwd(const CrossSelectiveScanParams& p, cudaStream_t stream);

}  // namespace ssmb::cuda
