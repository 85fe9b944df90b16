// The C ABI of the fused cross selective scan (VMamba's SS2D): validation and dispatch. Every entry
// point runs its body inside guarded() (error.h).
#include <string>
#include <vector>

#include "common/cross_scan_index.h"
#include "cross_scan_args.h"
#include "cpu/cross_selective_scan.h"
#include "error.h"
#include "selective_scan.h"
#include "ssmbridge.h"
#include "validate.h"

using namespace ssmb;

namespace {

// Sizes shared by forward, backward and the workspace query; the CPU kernels compute in one
// float type for inputs and weights alike.
CrossSelectiveScanParams call_sizes(ssmb_dtype dtype, ssmb_dtype weight_dtype, int64_t batch, int64_t dim,
                                    int64_t height, int64_t width, int64_t N) {
    require_cpu_dtypes(dtype, weight_dtype);
    return cross_call_sizes(batch, dim, height, width, N, dtype_size(dtype));
}

}  // namespace

extern "C" {

SSMB_API ssmb_status ssmb_cross_selective_scan_fwd(ssmb_dtype dtype, ssmb_dtype weight_dtype, int64_t batch,
                                                   int64_t dim, int64_t height, int64_t width, int64_t N,
                                                   const void* u, const void* delta, const void* A, const void* B,
                                                   const void* C, const void* D, const void* delta_bias,
                                                   int32_t delta_softplus, void* out, void* chunk_states) {
    return guarded([&] {
        CrossSelectiveScanParams p = call_sizes(dtype, weight_dtype, batch, dim, height, width, N);
        set_cross_inputs(p, u, delta, A, B, C, D, delta_bias, delta_softplus);
        const CrossScanBuffers s = cross_scan_inputs(p, dtype_size(dtype));
        const std::vector<Buffer> outputs = {{"out", out, s.image}, {"chunk_states", chunk_states, s.chunk_states}};
        for (const Buffer& b : outputs) require_non_null(b);
        require_no_overlap(s.inputs, outputs);
        p.out = out, p.chunk_states = chunk_states;
        dispatch_float_or_double(dtype, [&](auto t) { cpu::cross_selective_scan_fwd<decltype(t)>(p); });
    });
}

SSMB_API ssmb_status ssmb_cross_selective_scan_bwd_workspace_size(ssmb_dtype dtype, ssmb_dtype weight_dtype,
                                                                  int64_t batch, int64_t dim, int64_t height,
                                                                  int64_t width, int64_t N, int64_t* bytes) {
    return guarded([&] {
        require(bytes != nullptr, "bytes: expected a pointer to receive the size, got null");
        const CrossSelectiveScanParams p = call_sizes(dtype, weight_dtype, batch, dim, height, width, N);
        *bytes = cpu::cross_selective_scan_bwd_workspace_bytes(p, dtype_size(weight_dtype));
    });
}

SSMB_API ssmb_status ssmb_cross_selective_scan_bwd(ssmb_dtype dtype, ssmb_dtype weight_dtype, int64_t batch,
                                                   int64_t dim, int64_t height, int64_t width, int64_t N,
                                                   const void* u, const void* delta, const void* A, const void* B,
                                                   const void* C, const void* D, const void* delta_bias,
                                                   int32_t delta_softplus, const void* chunk_states,
                                                   const void* dout, void* du, void* ddelta, void* dA, void* dB,
                                                   void* dC, void* dD, void* ddelta_bias, void* workspace,
                                                   int64_t workspace_bytes) {
    return guarded([&] {
        CrossSelectiveScanParams p = call_sizes(dtype, weight_dtype, batch, dim, height, width, N);
        set_cross_inputs(p, u, delta, A, B, C, D, delta_bias, delta_softplus);
        set_cross_backward(p, chunk_states, dout, du, ddelta, dA, dB, dC, dD, ddelta_bias, workspace);
        CrossScanBuffers s = cross_scan_inputs(p, dtype_size(dtype));
        cross_backward_buffers(s, p, workspace_bytes, cpu::cross_selective_scan_bwd_workspace_bytes(p, dtype_size(weight_dtype)),
                               "ssmb_cross_selective_scan_bwd_workspace_size");
        dispatch_float_or_double(dtype, [&](auto t) { cpu::cross_selective_scan_bwd<decltype(t)>(p); });
    });
}

}  // extern "C"
