// CPU S4D convolution kernel (ssmb_s4d_kernel_fwd / _bwd): float and double, threads over H.
#pragma once

#include <cstdint>

namespace ssmb::cpu {

// Sizes of one call: H kernel rows, N modes per row, L kernel length.
struct S4dShape {
    int64_t H, N, L;
};

// K (H, L) from log_dt (H) and A_real, A_imag, C_real, C_imag (H, N); see ssmbridge.h.
template <typename T>
void s4d_kernel_fwd(const S4dShape& s, const T* log_dt, const T* A_real, const T* A_imag, const T* C_real,
                    const T* C_imag, T* K);

// The five gradients (overwritten) from dK (H, L).
template <typename T>
void s4d_kernel_bwd(const S4dShape& s, const T* log_dt, const T* A_real, const T* A_imag, const T* C_real,
                    const T* C_imag, const T* dK, T* dlog_dt, T* dA_real, T* dA_imag, T* dC_real, T* dC_imag);

}  // namespace ssmb::cpu
