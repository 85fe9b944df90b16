// The buffers a cross selective scan call reads, checked the same way by its CPU and CUDA entry points.
#pragma once

#include <cstdint>
#include <vector>

#include "validate.h"

namespace ssmb {

// Inputs in call order (u, delta, A, B, C required; D, delta_bias optional) and the byte sizes of each
// array kind, every product checked against int64 overflow.
struct CrossScanBuffers {
    std::vector<Buffer> inputs;
    int64_t image, directions, states, A, channels, chunk_states;
};

CrossScanBuffers cross_scan_inputs(int64_t batch, int64_t dim, int64_t height, int64_t width, int64_t N,
                                   int64_t elem_size, const void* u, const void* delta, const void* A,
                                   const void* B, const void* C, const void* D, const void* delta_bias);

}  // namespace ssmb
