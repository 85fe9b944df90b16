#include "cross_scan_args.h"

#include <string>

#include "common/cross_scan_index.h"
#include "selective_scan.h"

namespace ssmb {

CrossScanBuffers cross_scan_inputs(int64_t batch, int64_t dim, int64_t height, int64_t width, int64_t N,
                                   int64_t elem_size, const void* u, const void* delta, const void* A,
                                   const void* B, const void* C, const void* D, const void* delta_bias) {
    const int64_t K = kCrossScanDirections;
    CrossScanBuffers s;
    s.image = checked_bytes("u", {batch, dim, height, width}, elem_size);
    s.directions = checked_bytes("delta", {batch, K, dim, height, width}, elem_size);
    s.states = checked_bytes("B", {batch, K, N, height, width}, elem_size);
    s.A = checked_bytes("A", {K * dim, N}, elem_size);
    s.channels = checked_bytes("D", {K * dim}, elem_size);
    s.chunk_states = checked_bytes("chunk_states", {batch, K * dim, scan_num_chunks(height * width), N}, elem_size);
    s.inputs = {{"u", u, s.image}, {"delta", delta, s.directions}, {"A", A, s.A},
                {"B", B, s.states}, {"C", C, s.states},        {"D", D, s.channels},
                {"delta_bias", delta_bias, s.channels}};
    for (int i = 0; i < 5; ++i) require_non_null(s.inputs[i]);
    return s;
}

CrossSelectiveScanParams cross_call_sizes(int64_t batch, int64_t dim, int64_t height, int64_t width, int64_t N,
                                          int64_t elem_size) {
    require_positive("batch", batch);
    require_positive("dim", dim);
    require_positive("height", height);
    require_positive("width", width);
    require_positive("N", N);
    CrossSelectiveScanParams p;
    p.batch = batch, p.dim = dim, p.height = height, p.width = width, p.N = N;
    const int64_t K = kCrossScanDirections;
    checked_bytes("delta", {batch, K, dim, height, width}, elem_size);
    checked_bytes("B", {batch, K, N, height, width}, elem_size);
    checked_bytes("chunk_states", {batch, K * dim, scan_num_chunks(p.L()), N}, elem_size);
    return p;
}

void set_cross_inputs(CrossSelectiveScanParams& p, const void* u, const void* delta, const void* A, const void* B,
                      const void* C, const void* D, const void* delta_bias, int32_t delta_softplus) {
    p.u = u, p.delta = delta, p.A = A, p.B = B, p.C = C, p.D = D, p.delta_bias = delta_bias;
    p.delta_softplus = delta_softplus != 0;
}

std::vector<Buffer> cross_backward_buffers(CrossScanBuffers& s, const void* chunk_states, const void* dout, void* du,
                                           void* ddelta, void* dA, void* dB, void* dC, void* dD, void* ddelta_bias,
                                           void* workspace, int64_t workspace_bytes, int64_t needed,
                                           const char* size_query) {
    s.inputs.push_back({"chunk_states", chunk_states, s.chunk_states});
    s.inputs.push_back({"dout", dout, s.image});
    require_non_null(s.inputs[s.inputs.size() - 2]);
    require_non_null(s.inputs.back());
    const void* const D = s.inputs[5].data;  // inputs in call order (cross_scan_inputs)
    const void* const delta_bias = s.inputs[6].data;
    require_paired("dD", dD, "D", D);
    require_paired("ddelta_bias", ddelta_bias, "delta_bias", delta_bias);
    require(workspace_bytes >= needed, "workspace_bytes: expected at least " + std::to_string(needed) + " (" +
                                           size_query + "), got " + std::to_string(workspace_bytes));
    std::vector<Buffer> outputs = {{"du", du, s.image}, {"ddelta", ddelta, s.directions}, {"dA", dA, s.A},
                                   {"dB", dB, s.states}, {"dC", dC, s.states}};
    for (const Buffer& b : outputs) require_non_null(b);
    outputs.push_back({"dD", dD, s.channels});
    outputs.push_back({"ddelta_bias", ddelta_bias, s.channels});
    outputs.push_back({"workspace", workspace, needed});
    if (needed > 0) require_non_null(outputs.back());
    require_no_overlap(s.inputs, outputs);
    return outputs;
}

void set_cross_backward(CrossSelectiveScanParams& p, const void* chunk_states, const void* dout, void* du,
                        void* ddelta, void* dA, void* dB, void* dC, void* dD, void* ddelta_bias, void* workspace) {
    p.chunk_states = const_cast<void*>(chunk_states);
    p.dout = dout;
    p.du = du, p.ddelta = ddelta, p.dA = dA, p.dB = dB, p.dC = dC, p.dD = dD, p.ddelta_bias = ddelta_bias;
    p.workspace = workspace;
}

}  // namespace ssmb
