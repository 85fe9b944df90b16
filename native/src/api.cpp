// The C ABI for the library facts and the selective scan: validation and dispatch. Every entry
// point runs its body inside guarded() (error.h).
#include <string>

#include "cpu/host_openmp.h"
#include "cpu/isa.h"
#include "cpu/selective_scan_cpu.h"
#include "cpu/thread_pool.h"
#include "error.h"
#include "scan_args.h"
#include "selective_scan.h"
#include "ssmbridge.h"
#include "validate.h"

namespace ssmb {

namespace {

// Sizes and flags shared by forward, backward and the workspace query.
SelectiveScanParams scan_sizes(ssmb_dtype dtype, ssmb_dtype weight_dtype, int64_t batch, int64_t dim, int64_t L,
                               int64_t N, int64_t groups, int32_t B_selective, int32_t C_selective) {
    require_cpu_dtypes(dtype, weight_dtype);
    return scan_shape(batch, dim, L, N, groups, B_selective, C_selective);
}

// The backward's workspace in bytes. Every array of the call is overflow-checked first, as the call
// itself does (found by native/fuzz: a shape whose A overflowed got a size), and so are the (batch,
// groups, N, L) partial sums the layout multiplies out even for time-invariant B and C.
int64_t bwd_workspace_bytes(const SelectiveScanParams& p, ssmb_dtype dtype, ssmb_dtype weight_dtype) {
    require_scan_byte_counts(p, dtype_size(dtype), dtype_size(weight_dtype));
    checked_bytes("B", {p.batch, p.groups, p.N, p.L}, dtype_size(weight_dtype));
    return cpu::selective_scan_bwd_workspace_bytes(p, dtype_size(weight_dtype));
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

SSMB_API const char* ssmb_cpu_threading(void) {
    const cpu::HostOpenMP* omp = cpu::host_openmp();
    if (omp == nullptr) return "pool";
    // The runtime found is never replaced, so one description serves the process.
    static const std::string description = std::string("openmp ") + omp->library;
    return description.c_str();
}

SSMB_API int64_t ssmb_selective_scan_chunk_size(void) { return kScanChunkSize; }

SSMB_API ssmb_status ssmb_selective_scan_fwd(ssmb_dtype dtype, ssmb_dtype weight_dtype, int64_t batch, int64_t dim,
                                             int64_t L, int64_t N, int64_t groups, int32_t B_selective,
                                             int32_t C_selective, const void* u, const void* delta, const void* A,
                                             const void* B, const void* C, const void* D, const void* z,
                                             const void* delta_bias, int32_t delta_softplus, int32_t reverse,
                                             void* out, void* chunk_states, void* last_state) {
    return guarded([&] {
        SelectiveScanParams p = scan_sizes(dtype, weight_dtype, batch, dim, L, N, groups, B_selective, C_selective);
        const int64_t elem = dtype_size(dtype);
        const ScanCallBuffers buffers = forward_buffers(p, elem, elem, u, delta, A, B, C, D, z, delta_bias,
                                                        delta_softplus, reverse, out, chunk_states, last_state);
        require_no_overlap(buffers.inputs, buffers.outputs);
        dispatch_float_or_double(dtype, [&](auto t) { cpu::selective_scan_fwd<decltype(t)>(p); });
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
        *bytes = bwd_workspace_bytes(p, dtype, weight_dtype);
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
        const ScanCallBuffers buffers = backward_buffers(
            p, elem, elem, u, delta, A, B, C, D, z, delta_bias, delta_softplus, reverse, chunk_states, dout,
            dlast_state, du, ddelta, dA, dB, dC, dD, dz, ddelta_bias, workspace, workspace_bytes,
            bwd_workspace_bytes(p, dtype, weight_dtype), "ssmb_selective_scan_bwd_workspace_size");
        require_no_overlap(buffers.inputs, buffers.outputs);
        dispatch_float_or_double(dtype, [&](auto t) { cpu::selective_scan_bwd<decltype(t)>(p); });
    });
}

}  // extern "C"
