// CPU fused cross selective scan (VMamba's SS2D scan core; see ssmbridge.h for the math and the
// layouts): cross scan, the four directional selective scans and the cross merge in one call, on
// the selective-scan kernels of the active ISA (scan_kernels.h). Nothing is ever materialized in
// scan order at the size of a tensor: each work item feeds the kernels its tile of channels
// straight from the pixel-order inputs (row-major directions) or from per-thread transposed copies
// of the tile (column-major directions), and merges the four outputs into the result itself.
#pragma once

#include <cstdint>

#include "cross_selective_scan_params.h"

namespace ssmb::cpu {

template <typename T>
void cross_selective_scan_fwd(const CrossSelectiveScanParams& p);

template <typename T>
void cross_selective_scan_bwd(const CrossSelectiveScanParams& p);

// Bytes of p.workspace cross_selective_scan_bwd needs (elem_size: bytes of the weight type).
int64_t cross_selective_scan_bwd_workspace_bytes(const CrossSelectiveScanParams& p, int64_t elem_size);

}  // namespace ssmb::cpu
