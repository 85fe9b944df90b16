#include "cross_scan_args.h"

#include <string>

#include "common/cross_scan_index.h"
#include "selective_scan.h"

namespace ssmb {

CrossScanBuffers cross_scan_inputs(const CrossSelectiveScanParams& p, int64_t elem_size) {
    const int64_t K = kCrossScanDirections;
    const int64_t batch = p.batch, dim = p.dim, height = p.height, width = p.width, N = p.N;
    CrossScanBuffers s;
    s.image = checked_bytes("u", {batch, dim, height, width}, elem_size);
    s.directions = checked_bytes("delta", {batch, K, dim, height, width}, elem_size);
    s.states = checked_bytes("B", {batch, K, N, height, width}, elem_size);
    s.A = checked_bytes("A", {K * dim, N}, elem_size);
    s.channels = checked_bytes("D", {K * dim}, elem_size);
    s.chunk_states = checked_bytes("chunk_states", {batch, K * dim, scan_num_chunks(height * width), N}, elem_size);
    s.inputs = {{"u", p.u, s.image}, {"delta", p.delta, s.directions}, {"A", p.A, s.A},
                {"B", p.B, s.states}, {"C", p.C, s.states},        {"D", p.D, s.channels},
                {"delta_bias", p.delta_bias, s.channels}};
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

std::vector<Buffer> cross_backward_buffers(CrossScanBuffers& s, const CrossSelectiveScanParams& p,
                                           int64_t workspace_bytes, int64_t needed, const char* size_query) {
    s.inputs.push_back({"chunk_states", p.chunk_states, s.chunk_states});
    s.inputs.push_back({"dout", p.dout, s.image});
    require_non_null(s.inputs[s.inputs.size() - 2]);
    require_non_null(s.inputs.back());
    require_paired("dD", p.dD, "D", p.D);
    require_paired("ddelta_bias", p.ddelta_bias, "delta_bias", p.delta_bias);
    require(workspace_bytes >= needed, "workspace_bytes: expected at least " + std::to_string(needed) + " (" +
                                           size_query + "), got " + std::to_string(workspace_bytes));
    std::vector<Buffer> outputs = {{"du", p.du, s.image}, {"ddelta", p.ddelta, s.directions}, {"dA", p.dA, s.A},
                                   {"dB", p.dB, s.states}, {"dC", p.dC, s.states}};
    for (const Buffer& b : outputs) require_non_null(b);
    outputs.push_back({"dD", p.dD, s.channels});
    outputs.push_back({"ddelta_bias", p.ddelta_bias, s.channels});
    outputs.push_back({"workspace", p.workspace, needed});
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
