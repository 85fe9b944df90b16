// The C ABI's CUDA entry points of issue 8's second part (ssmbridge.h, CUDA section): the S4D
// convolution kernel and the fused cross selective scan, in a build with CUDA. Validation mirrors
// their CPU twins (api_s4d.cpp, api_cross_selective_scan.cpp) plus the CUDA rules (device memory on
// one device, CUDA dtypes); every entry point runs its body inside guarded() (error.h). A build
// without CUDA answers these from api_cuda_stub.cpp.
#include <cuda_runtime.h>

#include <string>
#include <vector>

#include "common/cross_scan_index.h"
#include "cross_scan_args.h"
#include "s4d_args.h"
#include "cuda/cross_selective_scan_cuda.h"
#include "cuda/cuda_check.h"
#include "cuda/device.h"
#include "cuda/s4d_cuda.h"
#include "cuda/selective_scan_cuda.h"
#include "error.h"
#include "selective_scan.h"
#include "ssmbridge.h"
#include "validate.h"

namespace ssmb {

namespace {

std::vector<Buffer> joined(std::vector<Buffer> a, const std::vector<Buffer>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

// Grid sizes are unsigned ints: the counts of blocks a call launches stay below 2^31.
void require_grid(const char* name, int64_t blocks, const std::string& what) {
    require(blocks <= (int64_t(1) << 31) - 1,
            std::string(name) + ": " + what + " must stay below 2^31 on CUDA, got " + std::to_string(blocks));
}

// ---- S4D ---------------------------------------------------------------------------------------

struct S4dCudaArgs {
    cuda::S4dSizes sizes;
    S4dBytes bytes;
};

S4dCudaArgs s4d_cuda_args(ssmb_dtype dtype, int64_t H, int64_t N, int64_t L) {
    dtype_size(dtype);
    if (dtype != SSMB_FLOAT32 && dtype != SSMB_FLOAT64)
        throw Error(SSMB_ERROR_UNSUPPORTED,
                    "dtype: the CUDA S4D kernel supports float32 and float64, got " + dtype_name(dtype));
    require_positive("H", H);
    require_positive("N", N);
    require_positive("L", L);
    require_grid("H", H, "H");
    require(L <= (int64_t(1) << 31) - 1, "L: must stay below 2^31 on CUDA, got " + std::to_string(L));
    const int64_t elem = dtype_size(dtype);
    return {cuda::S4dSizes{H, N, L}, s4d_bytes(H, N, L, elem)};
}

// ---- fused cross selective scan ------------------------------------------------------------------

CrossSelectiveScanParams cross_cuda_sizes(ssmb_dtype dtype, ssmb_dtype weight_dtype, int64_t batch, int64_t dim,
                                          int64_t height, int64_t width, int64_t N) {
    dtype_size(dtype);
    dtype_size(weight_dtype);
    if (dtype != SSMB_FLOAT32)
        throw Error(SSMB_ERROR_UNSUPPORTED,
                    "dtype: the CUDA fused cross selective scan supports float32, got " + dtype_name(dtype));
    if (weight_dtype != SSMB_FLOAT32)
        throw Error(SSMB_ERROR_UNSUPPORTED,
                    "weight_dtype: the CUDA kernels expect float32, got " + dtype_name(weight_dtype));
    const CrossSelectiveScanParams p = cross_call_sizes(batch, dim, height, width, N, sizeof(float));
    require(N <= cuda::kMaxStates, "N: expected at most " + std::to_string(cuda::kMaxStates) +
                                       " states on CUDA, got " + std::to_string(N));
    require_grid("batch", batch * kCrossScanDirections * dim, "batch * 4 * dim");
    return p;
}

// Bytes of the backward's workspace, which is made of per-tile dB / dC partials: sizes whose partials
// would overflow are rejected here, for the size query and the backward alike.
int64_t cross_cuda_workspace_bytes(const CrossSelectiveScanParams& p) {
    checked_bytes("B", {p.batch, kCrossScanDirections, p.dim, p.N, p.height, p.width}, 4);
    return cuda::cross_selective_scan_bwd_workspace_bytes(p);
}

}  // namespace
}  // namespace ssmb

using namespace ssmb;

extern "C" {

SSMB_API ssmb_status ssmb_s4d_kernel_fwd_cuda(ssmb_dtype dtype, int64_t H, int64_t N, int64_t L, const void* log_dt,
                                              const void* A_real, const void* A_imag, const void* C_real,
                                              const void* C_imag, void* K, void* stream) {
    return guarded([&] {
        const S4dCudaArgs a = s4d_cuda_args(dtype, H, N, L);
        const std::vector<Buffer> inputs = s4d_inputs(a.bytes, log_dt, A_real, A_imag, C_real, C_imag);
        const Buffer out{"K", K, a.bytes.kernel};
        require_non_null(out);
        require_no_overlap(inputs, {out});
        const cuda::DeviceScope scope(cuda::device_of(joined(inputs, {out})));
        dispatch_float_or_double(dtype, [&](auto t) {
            using T = decltype(t);
            cuda::s4d_kernel_fwd<T>(a.sizes, static_cast<const T*>(log_dt), static_cast<const T*>(A_real),
                                    static_cast<const T*>(A_imag), static_cast<const T*>(C_real),
                                    static_cast<const T*>(C_imag), static_cast<T*>(K),
                                    static_cast<cudaStream_t>(stream));
        });
    });
}

SSMB_API ssmb_status ssmb_s4d_kernel_bwd_cuda(ssmb_dtype dtype, int64_t H, int64_t N, int64_t L, const void* log_dt,
                                              const void* A_real, const void* A_imag, const void* C_real,
                                              const void* C_imag, const void* dK, void* dlog_dt, void* dA_real,
                                              void* dA_imag, void* dC_real, void* dC_imag, void* stream) {
    return guarded([&] {
        const S4dCudaArgs a = s4d_cuda_args(dtype, H, N, L);
        std::vector<Buffer> inputs = s4d_inputs(a.bytes, log_dt, A_real, A_imag, C_real, C_imag);
        inputs.push_back({"dK", dK, a.bytes.kernel});
        require_non_null(inputs.back());
        const std::vector<Buffer> outputs = s4d_grads(a.bytes, dlog_dt, dA_real, dA_imag, dC_real, dC_imag);
        require_no_overlap(inputs, outputs);
        const cuda::DeviceScope scope(cuda::device_of(joined(inputs, outputs)));
        dispatch_float_or_double(dtype, [&](auto t) {
            using T = decltype(t);
            cuda::s4d_kernel_bwd<T>(a.sizes, static_cast<const T*>(log_dt), static_cast<const T*>(A_real),
                                    static_cast<const T*>(A_imag), static_cast<const T*>(C_real),
                                    static_cast<const T*>(C_imag), static_cast<const T*>(dK),
                                    static_cast<T*>(dlog_dt), static_cast<T*>(dA_real), static_cast<T*>(dA_imag),
                                    static_cast<T*>(dC_real), static_cast<T*>(dC_imag),
                                    static_cast<cudaStream_t>(stream));
        });
    });
}

SSMB_API ssmb_status ssmb_cross_selective_scan_fwd_cuda(ssmb_dtype dtype, ssmb_dtype weight_dtype, int64_t batch,
                                                        int64_t dim, int64_t height, int64_t width, int64_t N,
                                                        const void* u, const void* delta, const void* A,
                                                        const void* B, const void* C, const void* D,
                                                        const void* delta_bias, int32_t delta_softplus, void* out,
                                                        void* chunk_states, void* stream) {
    return guarded([&] {
        CrossSelectiveScanParams p = cross_cuda_sizes(dtype, weight_dtype, batch, dim, height, width, N);
        set_cross_inputs(p, u, delta, A, B, C, D, delta_bias, delta_softplus);
        const CrossScanBuffers s = cross_scan_inputs(p, sizeof(float));
        const std::vector<Buffer> outputs = {{"out", out, s.image}, {"chunk_states", chunk_states, s.chunk_states}};
        for (const Buffer& b : outputs) require_non_null(b);
        require_no_overlap(s.inputs, outputs);
        const cuda::DeviceScope scope(cuda::device_of(joined(s.inputs, outputs)));
        p.out = out, p.chunk_states = chunk_states;
        cuda::cross_selective_scan_fwd(p, static_cast<cudaStream_t>(stream));
    });
}

SSMB_API ssmb_status ssmb_cross_selective_scan_bwd_workspace_size_cuda(ssmb_dtype dtype, ssmb_dtype weight_dtype,
                                                                       int64_t batch, int64_t dim, int64_t height,
                                                                       int64_t width, int64_t N, int64_t* bytes) {
    return guarded([&] {
        require(bytes != nullptr, "bytes: expected a pointer to receive the size, got null");
        const CrossSelectiveScanParams p = cross_cuda_sizes(dtype, weight_dtype, batch, dim, height, width, N);
        *bytes = cross_cuda_workspace_bytes(p);
    });
}

SSMB_API ssmb_status ssmb_cross_selective_scan_bwd_cuda(ssmb_dtype dtype, ssmb_dtype weight_dtype, int64_t batch,
                                                        int64_t dim, int64_t height, int64_t width, int64_t N,
                                                        const void* u, const void* delta, const void* A,
                                                        const void* B, const void* C, const void* D,
                                                        const void* delta_bias, int32_t delta_softplus,
                                                        const void* chunk_states, const void* dout, void* du,
                                                        void* ddelta, void* dA, void* dB, void* dC, void* dD,
                                                        void* ddelta_bias, void* workspace, int64_t workspace_bytes,
                                                        void* stream) {
    return guarded([&] {
        CrossSelectiveScanParams p = cross_cuda_sizes(dtype, weight_dtype, batch, dim, height, width, N);
        set_cross_inputs(p, u, delta, A, B, C, D, delta_bias, delta_softplus);
        set_cross_backward(p, chunk_states, dout, du, ddelta, dA, dB, dC, dD, ddelta_bias, workspace);
        CrossScanBuffers s = cross_scan_inputs(p, sizeof(float));
        const std::vector<Buffer> outputs =
            cross_backward_buffers(s, p, workspace_bytes, cross_cuda_workspace_bytes(p),
                                   "ssmb_cross_selective_scan_bwd_workspace_size_cuda");
        const cuda::DeviceScope scope(cuda::device_of(joined(s.inputs, outputs)));
        cuda::cross_selective_scan_bwd(p, static_cast<cudaStream_t>(stream));
    });
}

}  // extern "C"
