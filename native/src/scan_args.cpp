#include "scan_args.h"

#include <string>

namespace ssmb {

namespace {

struct ScanBytes {
    int64_t sequence, state, chunk_state, A, B, C, vector;
};

ScanBytes scan_bytes(const SelectiveScanParams& p, int64_t elem, int64_t weight_elem) {
    ScanBytes s;
    s.sequence = checked_bytes("u", {p.batch, p.dim, p.L}, elem);
    s.state = checked_bytes("last_state", {p.batch, p.dim, p.N}, weight_elem);
    s.chunk_state = checked_bytes("chunk_states", {p.batch, p.dim, scan_num_chunks(p.L), p.N}, weight_elem);
    s.A = checked_bytes("A", {p.dim, p.N}, weight_elem);
    s.B = p.B_selective ? checked_bytes("B", {p.batch, p.groups, p.N, p.L}, elem) : s.A;
    s.C = p.C_selective ? checked_bytes("C", {p.batch, p.groups, p.N, p.L}, elem) : s.A;
    s.vector = p.dim * weight_elem;
    return s;
}

// u, delta, A, B, C required; D, z, delta_bias optional.
std::vector<Buffer> scan_inputs(const ScanBytes& s, const void* u, const void* delta, const void* A, const void* B,
                                const void* C, const void* D, const void* z, const void* delta_bias) {
    const std::vector<Buffer> inputs = {{"u", u, s.sequence}, {"delta", delta, s.sequence}, {"A", A, s.A},
                                        {"B", B, s.B},        {"C", C, s.C},                 {"D", D, s.vector},
                                        {"z", z, s.sequence}, {"delta_bias", delta_bias, s.vector}};
    for (int i = 0; i < 5; ++i) require_non_null(inputs[i]);
    return inputs;
}

void set_inputs(SelectiveScanParams& p, const void* u, const void* delta, const void* A, const void* B,
                const void* C, const void* D, const void* z, const void* delta_bias, int32_t delta_softplus,
                int32_t reverse) {
    p.u = u, p.delta = delta, p.A = A, p.B = B, p.C = C, p.D = D, p.z = z, p.delta_bias = delta_bias;
    p.delta_softplus = delta_softplus != 0;
    p.reverse = reverse != 0;
}

}  // namespace

SelectiveScanParams scan_shape(int64_t batch, int64_t dim, int64_t L, int64_t N, int64_t groups,
                               int32_t B_selective, int32_t C_selective) {
    require_positive("batch", batch);
    require_positive("dim", dim);
    require_positive("L", L);
    require_positive("N", N);
    require_positive("groups", groups);
    require(dim % groups == 0, "groups: expected a divisor of dim (" + std::to_string(dim) + "), got " +
                                   std::to_string(groups));
    require(!(groups != 1 && !B_selective && !C_selective),
            "groups: expected 1 when neither B nor C is selective, got " + std::to_string(groups));
    SelectiveScanParams p;
    p.batch = batch;
    p.dim = dim;
    p.L = L;
    p.N = N;
    p.groups = groups;
    p.B_selective = B_selective != 0;
    p.C_selective = C_selective != 0;
    return p;
}

void require_scan_byte_counts(const SelectiveScanParams& p, int64_t elem, int64_t weight_elem) {
    scan_bytes(p, elem, weight_elem);
}

ScanCallBuffers forward_buffers(SelectiveScanParams& p, int64_t elem, int64_t weight_elem, const void* u,
                                const void* delta, const void* A, const void* B, const void* C, const void* D,
                                const void* z, const void* delta_bias, int32_t delta_softplus, int32_t reverse,
                                void* out, void* chunk_states, void* last_state) {
    const ScanBytes s = scan_bytes(p, elem, weight_elem);
    ScanCallBuffers buffers;
    buffers.inputs = scan_inputs(s, u, delta, A, B, C, D, z, delta_bias);
    buffers.outputs = {{"out", out, s.sequence},
                       {"chunk_states", chunk_states, s.chunk_state},
                       {"last_state", last_state, s.state}};
    require_non_null(buffers.outputs[0]);
    require_non_null(buffers.outputs[1]);
    set_inputs(p, u, delta, A, B, C, D, z, delta_bias, delta_softplus, reverse);
    p.out = out, p.chunk_states = chunk_states, p.last_state = last_state;
    return buffers;
}

ScanCallBuffers backward_buffers(SelectiveScanParams& p, int64_t elem, int64_t weight_elem, const void* u,
                                 const void* delta, const void* A, const void* B, const void* C, const void* D,
                                 const void* z, const void* delta_bias, int32_t delta_softplus, int32_t reverse,
                                 const void* chunk_states, const void* dout, const void* dlast_state, void* du,
                                 void* ddelta, void* dA, void* dB, void* dC, void* dD, void* dz, void* ddelta_bias,
                                 void* workspace, int64_t workspace_bytes, int64_t workspace_needed,
                                 const char* workspace_query) {
    const ScanBytes s = scan_bytes(p, elem, weight_elem);
    ScanCallBuffers buffers;
    buffers.inputs = scan_inputs(s, u, delta, A, B, C, D, z, delta_bias);
    buffers.inputs.push_back({"chunk_states", chunk_states, s.chunk_state});
    buffers.inputs.push_back({"dout", dout, s.sequence});
    require_non_null(buffers.inputs[buffers.inputs.size() - 2]);
    require_non_null(buffers.inputs.back());
    buffers.inputs.push_back({"dlast_state", dlast_state, s.state});

    require_paired("dD", dD, "D", D);
    require_paired("dz", dz, "z", z);
    require_paired("ddelta_bias", ddelta_bias, "delta_bias", delta_bias);
    require(workspace_bytes >= workspace_needed, "workspace_bytes: expected at least " +
                                                     std::to_string(workspace_needed) +
                                                     " (" + workspace_query + "), got " +
                                                     std::to_string(workspace_bytes));
    buffers.outputs = {{"du", du, s.sequence}, {"ddelta", ddelta, s.sequence}, {"dA", dA, s.A},
                       {"dB", dB, s.B},        {"dC", dC, s.C}};
    for (const Buffer& b : buffers.outputs) require_non_null(b);
    buffers.outputs.push_back({"dD", dD, s.vector});
    buffers.outputs.push_back({"dz", dz, s.sequence});
    buffers.outputs.push_back({"ddelta_bias", ddelta_bias, s.vector});
    buffers.outputs.push_back({"workspace", workspace, workspace_needed});
    if (workspace_needed > 0) require_non_null(buffers.outputs.back());

    set_inputs(p, u, delta, A, B, C, D, z, delta_bias, delta_softplus, reverse);
    p.chunk_states = const_cast<void*>(chunk_states);
    p.dout = dout;
    p.dlast_state = dlast_state;
    p.du = du, p.ddelta = ddelta, p.dA = dA, p.dB = dB, p.dC = dC;
    p.dD = dD, p.dz = dz, p.ddelta_bias = ddelta_bias;
    p.workspace = workspace;
    return buffers;
}

}  // namespace ssmb
