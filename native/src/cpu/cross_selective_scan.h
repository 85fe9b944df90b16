// CPU fused cross selective scan (VMamba's SS2D scan core; see ssmbridge.h for the math and the
// layouts): cross scan, the four directional selective scans and the cross merge in one call, on
// the selective-scan kernels of the active ISA (scan_kernels.h). Nothing is ever materialized in
// scan order at the size of a tensor: each work item feeds the kernels its tile of channels
// straight from the pixel-order inputs (row-major directions) or from per-thread transposed copies
// of the tile (column-major directions), and merges the four outputs into the result itself.
#pragma once

#include <cstdint>

namespace ssmb::cpu {

// One call, validated by api_cross_selective_scan.cpp. Pointers are typed by the kernels.
struct CrossSelectiveScanParams {
    int64_t batch = 0, dim = 0, height = 0, width = 0, N = 0;
    bool delta_softplus = false;

    // Inputs, pixel order: u (batch, dim, L), delta (batch, 4, dim, L), A (4 dim, N),
    // B and C (batch, 4, N, L), D and delta_bias (4 dim) or null.
    const void* u = nullptr;
    const void* delta = nullptr;
    const void* A = nullptr;
    const void* B = nullptr;
    const void* C = nullptr;
    const void* D = nullptr;
    const void* delta_bias = nullptr;

    // Forward: out (batch, dim, L); chunk_states (batch, 4 dim, n_chunks, N), read by the backward.
    void* out = nullptr;
    void* chunk_states = nullptr;

    // Backward: dout (batch, dim, L) and the gradients (shapes of their inputs; dD and
    // ddelta_bias exactly when D and delta_bias are given), workspace as sized below.
    const void* dout = nullptr;
    void* du = nullptr;
    void* ddelta = nullptr;
    void* dA = nullptr;
    void* dB = nullptr;
    void* dC = nullptr;
    void* dD = nullptr;
    void* ddelta_bias = nullptr;
    void* workspace = nullptr;

    int64_t L() const { return height * width; }
};

template <typename T>
void cross_selective_scan_fwd(const CrossSelectiveScanParams& p);

template <typename T>
void cross_selective_scan_bwd(const CrossSelectiveScanParams& p);

// Bytes of p.workspace cross_selective_scan_bwd needs (elem_size: bytes of the weight type).
int64_t cross_selective_scan_bwd_workspace_bytes(const CrossSelectiveScanParams& p, int64_t elem_size);

}  // namespace ssmb::cpu
