// Internal description of one selective-scan call, filled and validated by api.cpp and handed to
// the per-device kernels. Kernels trust it: every check lives in api.cpp.
#pragma once

#include <cstdint>

#include "common/host_device.h"

namespace ssmb {

struct SelectiveScanParams {
    int64_t batch = 0, dim = 0, L = 0, N = 0, groups = 1;
    bool B_selective = false, C_selective = false;
    bool delta_softplus = false, reverse = false;

    // Inputs (layouts as in ssmbridge.h). D, z, delta_bias may be null.
    const void* u = nullptr;
    const void* delta = nullptr;
    const void* A = nullptr;
    const void* B = nullptr;
    const void* C = nullptr;
    const void* D = nullptr;
    const void* z = nullptr;
    const void* delta_bias = nullptr;

    // Forward outputs. last_state may be null.
    void* out = nullptr;
    void* chunk_states = nullptr;  // (batch, dim, n_chunks, N), state before each chunk
    void* last_state = nullptr;

    // Backward: inputs chunk_states (above, read-only there) and dout; gradients, where dD, dz and
    // ddelta_bias are non-null exactly when D, z and delta_bias are.
    const void* dout = nullptr;
    const void* dlast_state = nullptr;  // (batch, dim, N), may be null (zero)
    void* du = nullptr;
    void* ddelta = nullptr;
    void* dA = nullptr;
    void* dB = nullptr;
    void* dC = nullptr;
    void* dD = nullptr;
    void* dz = nullptr;
    void* ddelta_bias = nullptr;
    void* workspace = nullptr;

    SSMB_HOST_DEVICE int64_t channels_per_group() const { return dim / groups; }
};

// Time steps per chunk: the forward keeps one state per chunk, the backward recomputes inside one.
constexpr int64_t kScanChunkSize = 64;

SSMB_HOST_DEVICE inline int64_t scan_num_chunks(int64_t L) { return (L + kScanChunkSize - 1) / kScanChunkSize; }

}  // namespace ssmb
