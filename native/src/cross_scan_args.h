// The sizes and buffers of a cross selective scan call, checked the same way by its CPU and CUDA
// entry points (which add their own dtype and device rules).
#pragma once

#include <cstdint>
#include <vector>

#include "cross_selective_scan_params.h"
#include "validate.h"

namespace ssmb {

// Inputs in call order (u, delta, A, B, C required; D, delta_bias optional) and the byte sizes of each
// array kind, every product checked against int64 overflow.
struct CrossScanBuffers {
    std::vector<Buffer> inputs;
    int64_t image, directions, states, A, channels, chunk_states;
};

// The inputs set in p (set_cross_inputs), of elem_size-byte elements, checked.
CrossScanBuffers cross_scan_inputs(const CrossSelectiveScanParams& p, int64_t elem_size);

// A call's sizes: every one positive, and the largest arrays (of elem_size-byte elements) within
// int64 bytes.
CrossSelectiveScanParams cross_call_sizes(int64_t batch, int64_t dim, int64_t height, int64_t width, int64_t N,
                                          int64_t elem_size);

// The inputs of a call, into p.
void set_cross_inputs(CrossSelectiveScanParams& p, const void* u, const void* delta, const void* A, const void* B,
                      const void* C, const void* D, const void* delta_bias, int32_t delta_softplus);

// The backward's other buffers, into p.
void set_cross_backward(CrossSelectiveScanParams& p, const void* chunk_states, const void* dout, void* du,
                        void* ddelta, void* dA, void* dB, void* dC, void* dD, void* ddelta_bias, void* workspace);

// The backward's other buffers set in p (set_cross_backward), checked: chunk_states and dout join
// s.inputs; the gradients and the workspace (workspace_bytes of it, at least `needed`, the answer of
// the entry point `size_query`) are returned as the outputs, none of which may overlap an input or
// another output.
std::vector<Buffer> cross_backward_buffers(CrossScanBuffers& s, const CrossSelectiveScanParams& p,
                                           int64_t workspace_bytes, int64_t needed, const char* size_query);

}  // namespace ssmb
