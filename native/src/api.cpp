// The C ABI for the library facts and the selective scan: validation and dispatch. Every entry
// point runs its body inside guarded() (error.h).
#include <string>
#include <vector>

#include "cpu/isa.h"
#include "cpu/selective_scan_cpu.h"
#include "cpu/thread_pool.h"
#include "error.h"
#include "selective_scan.h"
#include "ssmbridge.h"
#include "validate.h"

namespace ssmb {

namespace {

// The CPU kernels compute in one float type for inputs and weights alike.
void require_cpu_dtypes(ssmb_dtype dtype, ssmb_dtype weight_dtype) {
    dtype_size(dtype);
    dtype_size(weight_dtype);
    if (dtype != SSMB_FLOAT32 && dtype != SSMB_FLOAT64)
        throw Error(SSMB_ERROR_UNSUPPORTED,
                    "dtype: the CPU kernels support float32 and float64, got " + dtype_name(dtype));
    if (weight_dtype != dtype)
        throw Error(SSMB_ERROR_UNSUPPORTED, "weight_dtype: the CPU kernels expect weight_dtype equal to dtype (" +
                                                dtype_name(dtype) + "), got " + dtype_name(weight_dtype));
}

// Sizes and flags shared by forward, backward and the workspace query.
SelectiveScanParams scan_sizes(ssmb_dtype dtype, ssmb_dtype weight_dtype, int64_t batch, int64_t dim, int64_t L,
                               int64_t N, int64_t groups, int32_t B_selective, int32_t C_selective) {
    require_cpu_dtypes(dtype, weight_dtype);
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

// Buffers every selective-scan call reads, with their byte sizes (overflow-checked).
struct ScanBuffers {
    std::vector<Buffer> inputs;
    int64_t sequence_bytes;  // one (batch, dim, L) tensor
    int64_t state_bytes;     // (batch, dim, N)
    int64_t chunk_state_bytes;
    int64_t A_bytes, B_bytes, C_bytes, vector_bytes;
};

ScanBuffers scan_inputs(const SelectiveScanParams& p, int64_t elem, const void* u, const void* delta,
                        const void* A, const void* B, const void* C, const void* D, const void* z,
                        const void* delta_bias) {
    ScanBuffers s;
    s.sequence_bytes = checked_bytes("u", {p.batch, p.dim, p.L}, elem);
    s.state_bytes = checked_bytes("last_state", {p.batch, p.dim, p.N}, elem);
    s.chunk_state_bytes = checked_bytes("chunk_states", {p.batch, p.dim, scan_num_chunks(p.L), p.N}, elem);
    s.A_bytes = checked_bytes("A", {p.dim, p.N}, elem);
    s.B_bytes = p.B_selective ? checked_bytes("B", {p.batch, p.groups, p.N, p.L}, elem) : s.A_bytes;
    s.C_bytes = p.C_selective ? checked_bytes("C", {p.batch, p.groups, p.N, p.L}, elem) : s.A_bytes;
    s.vector_bytes = p.dim * elem;
    s.inputs = {{"u", u, s.sequence_bytes},   {"delta", delta, s.sequence_bytes}, {"A", A, s.A_bytes},
                {"B", B, s.B_bytes},          {"C", C, s.C_bytes},               {"D", D, s.vector_bytes},
                {"z", z, s.sequence_bytes},   {"delta_bias", delta_bias, s.vector_bytes}};
    for (const Buffer& b : s.inputs) {
        const std::string name = b.name;
        if (name != "D" && name != "z" && name != "delta_bias") require_non_null(b);
    }
    return s;
}

// An optional gradient exists exactly when its input does.
void require_paired(const char* grad_name, const void* grad, const char* input_name, const void* input) {
    if (input && !grad)
        throw Error(SSMB_ERROR_INVALID_ARGUMENT, std::string(grad_name) + ": expected a buffer because " +
                                                     input_name + " is given, got null");
    if (!input && grad)
        throw Error(SSMB_ERROR_INVALID_ARGUMENT, std::string(grad_name) + ": expected null because " + input_name +
                                                     " is null, got a buffer");
}

template <class Fn>
void dispatch_cpu(ssmb_dtype dtype, Fn&& fn) {
    if (dtype == SSMB_FLOAT64)
        fn(double{});
    else
        fn(float{});
}

}  // namespace
}  // namespace ssmb

using namespace ssmb;

extern "C" {

SSMB_API const char* ssmb_last_error(void) { return last_error(); }

SSMB_API const char* ssmb_version(void) { return SSMB_VERSION; }

SSMB_API int ssmb_has_cuda(void) {
#ifdef SSMB_WITH_CUDA
    return 1;
#else
    return 0;
#endif
}

SSMB_API const char* ssmb_cpu_isa(void) { return cpu::isa_name(cpu::active_isa()); }

SSMB_API ssmb_status ssmb_set_num_threads(int32_t num_threads) {
    return guarded([&] {
        require(num_threads >= 1 && num_threads <= 4096,
                "num_threads: expected 1..4096, got " + std::to_string(num_threads));
        cpu::set_num_threads(num_threads);
    });
}

SSMB_API int32_t ssmb_get_num_threads(void) { return cpu::get_num_threads(); }

SSMB_API int64_t ssmb_selective_scan_chunk_size(void) { return kScanChunkSize; }

SSMB_API ssmb_status ssmb_selective_scan_fwd(ssmb_dtype dtype, ssmb_dtype weight_dtype, int64_t batch, int64_t dim,
                                             int64_t L, int64_t N, int64_t groups, int32_t B_selective,
                                             int32_t C_selective, const void* u, const void* delta, const void* A,
                                             const void* B, const void* C, const void* D, const void* z,
                                             const void* delta_bias, int32_t delta_softplus, int32_t reverse,
                                             void* out, void* chunk_states, void* last_state) {
    return guarded([&] {
        SelectiveScanParams p = scan_sizes(dtype, weight_dtype, batch, dim, L, N, groups, B_selective, C_selective);
        const ScanBuffers s = scan_inputs(p, dtype_size(dtype), u, delta, A, B, C, D, z, delta_bias);
        const std::vector<Buffer> outputs = {{"out", out, s.sequence_bytes},
                                             {"chunk_states", chunk_states, s.chunk_state_bytes},
                                             {"last_state", last_state, s.state_bytes}};
        require_non_null(outputs[0]);
        require_non_null(outputs[1]);
        require_no_overlap(s.inputs, outputs);

        p.u = u, p.delta = delta, p.A = A, p.B = B, p.C = C, p.D = D, p.z = z, p.delta_bias = delta_bias;
        p.delta_softplus = delta_softplus != 0;
        p.reverse = reverse != 0;
        p.out = out, p.chunk_states = chunk_states, p.last_state = last_state;
        dispatch_cpu(dtype, [&](auto t) { cpu::selective_scan_fwd<decltype(t)>(p); });
    });
}

SSMB_API ssmb_status ssmb_selective_scan_bwd_workspace_size(ssmb_dtype dtype, ssmb_dtype weight_dtype,
                                                            int64_t batch, int64_t dim, int64_t L, int64_t N,
                                                            int64_t groups, int32_t B_selective,
                                                            int32_t C_selective, int64_t* bytes) {
    return guarded([&] {
        require(bytes != nullptr, "bytes: expected a pointer to receive the size, got null");
        const SelectiveScanParams p =
            scan_sizes(dtype, weight_dtype, batch, dim, L, N, groups, B_selective, C_selective);
        // Overflow checks for the sizes the workspace is made of.
        checked_bytes("u", {p.batch, p.dim, p.L}, dtype_size(dtype));
        checked_bytes("B", {p.batch, p.groups, p.N, p.L}, dtype_size(weight_dtype));
        *bytes = cpu::selective_scan_bwd_workspace_bytes(p, dtype_size(weight_dtype));
    });
}

SSMB_API ssmb_status ssmb_selective_scan_bwd(ssmb_dtype dtype, ssmb_dtype weight_dtype, int64_t batch, int64_t dim,
                                             int64_t L, int64_t N, int64_t groups, int32_t B_selective,
                                             int32_t C_selective, const void* u, const void* delta, const void* A,
                                             const void* B, const void* C, const void* D, const void* z,
                                             const void* delta_bias, int32_t delta_softplus, int32_t reverse,
                                             const void* chunk_states, const void* dout, const void* dlast_state,
                                             void* du, void* ddelta,
                                             void* dA, void* dB, void* dC, void* dD, void* dz, void* ddelta_bias,
                                             void* workspace, int64_t workspace_bytes) {
    return guarded([&] {
        SelectiveScanParams p = scan_sizes(dtype, weight_dtype, batch, dim, L, N, groups, B_selective, C_selective);
        const int64_t elem = dtype_size(dtype);
        ScanBuffers s = scan_inputs(p, elem, u, delta, A, B, C, D, z, delta_bias);
        s.inputs.push_back({"chunk_states", chunk_states, s.chunk_state_bytes});
        s.inputs.push_back({"dout", dout, s.sequence_bytes});
        for (const Buffer& b : s.inputs) {
            if (b.name == std::string("chunk_states") || b.name == std::string("dout")) require_non_null(b);
        }
        s.inputs.push_back({"dlast_state", dlast_state, s.state_bytes});

        require_paired("dD", dD, "D", D);
        require_paired("dz", dz, "z", z);
        require_paired("ddelta_bias", ddelta_bias, "delta_bias", delta_bias);
        const int64_t needed = cpu::selective_scan_bwd_workspace_bytes(p, dtype_size(weight_dtype));
        require(workspace_bytes >= needed, "workspace_bytes: expected at least " + std::to_string(needed) +
                                               " (ssmb_selective_scan_bwd_workspace_size), got " +
                                               std::to_string(workspace_bytes));
        std::vector<Buffer> outputs = {{"du", du, s.sequence_bytes}, {"ddelta", ddelta, s.sequence_bytes},
                                       {"dA", dA, s.A_bytes},        {"dB", dB, s.B_bytes},
                                       {"dC", dC, s.C_bytes}};
        for (const Buffer& b : outputs) require_non_null(b);
        outputs.push_back({"dD", dD, s.vector_bytes});
        outputs.push_back({"dz", dz, s.sequence_bytes});
        outputs.push_back({"ddelta_bias", ddelta_bias, s.vector_bytes});
        outputs.push_back({"workspace", workspace, needed});
        if (needed > 0) require_non_null(outputs.back());
        require_no_overlap(s.inputs, outputs);

        p.u = u, p.delta = delta, p.A = A, p.B = B, p.C = C, p.D = D, p.z = z, p.delta_bias = delta_bias;
        p.delta_softplus = delta_softplus != 0;
        p.reverse = reverse != 0;
        p.chunk_states = const_cast<void*>(chunk_states);
        p.dout = dout;
        p.dlast_state = dlast_state;
        p.du = du, p.ddelta = ddelta, p.dA = dA, p.dB = dB, p.dC = dC;
        p.dD = dD, p.dz = dz, p.ddelta_bias = ddelta_bias;
        p.workspace = workspace;
        dispatch_cpu(dtype, [&](auto t) { cpu::selective_scan_bwd<decltype(t)>(p); });
    });
}

}  // extern "C"
