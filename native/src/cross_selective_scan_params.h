// Internal description of one fused cross selective scan call (VMamba's SS2D scan core; math and
// layouts in ssmbridge.h), filled and validated by the entry points and handed to the CPU or CUDA
// kernels, which trust it.
#pragma once

#include <cstdint>

#include "common/host_device.h"

namespace ssmb {

// One call, validated by api_cross_selective_scan.cpp (CPU) or api_cuda_fused.cpp (CUDA) through
// cross_scan_args.h. Pointers are typed by the kernels.
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

    SSMB_HOST_DEVICE int64_t L() const { return height * width; }
};

}  // namespace ssmb
