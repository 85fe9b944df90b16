// CUDA S4D convolution kernel (ssmb_s4d_kernel_fwd_cuda / _bwd_cuda; math in common/s4d_math.h, shared
// with the CPU kernels), called by api_cuda.cpp with validated arguments on the right current device.
// T is float or double; the per-mode setup, the anchors exp(x l0) and all sums run in double.
//
// Forward: a block covers one row h and kForwardSteps consecutive l; each thread takes kItems
// consecutive l from an anchor exp(x l0) computed directly, advanced by exp(x) kItems - 1 times.
// Backward: one block per row h; per tile of 32 modes (the lanes), each warp sums
// S0 = sum_l dK exp(x l) and S1 = sum_l dK l exp(x l) over its own segment of L (anchors every 32
// steps computed directly), and warp 0 adds the segments in warp order, then the modes' dlog_dt terms
// in a fixed tree: deterministic, no atomics, no workspace.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace ssmb::cuda {

struct S4dSizes {
    int64_t H, N, L;
};

template <typename T>
void s4d_kernel_fwd(const S4dSizes& s, const T* log_dt, const T* A_real, const T* A_imag, const T* C_real,
                    const T* C_imag, T* K, cudaStream_t stream);

template <typename T>
void s4d_kernel_bwd(const S4dSizes& s, const T* log_dt, const T* A_real, const T* A_imag, const T* C_real,
                    const T* C_imag, const T* dK, T* dlog_dt, T* dA_real, T* dA_imag, T* dC_real, T* dC_imag,
                    cudaStream_t stream);

}  // namespace ssmb::cuda
