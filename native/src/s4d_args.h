// The buffers of an S4D kernel call, sized and checked the same way by its CPU and CUDA entry points.
#pragma once

#include <cstdint>
#include <vector>

#include "validate.h"

namespace ssmb {

// Byte sizes of a row vector (H), of the (H, N) mode arrays and of the (H, L) kernel, overflow-checked.
struct S4dBytes {
    int64_t row, mode, kernel;
};

S4dBytes s4d_bytes(int64_t H, int64_t N, int64_t L, int64_t elem_size);

// log_dt, A_real, A_imag, C_real, C_imag (or their gradients): every one required.
std::vector<Buffer> s4d_inputs(const S4dBytes& bytes, const void* log_dt, const void* A_real, const void* A_imag,
                               const void* C_real, const void* C_imag);
std::vector<Buffer> s4d_grads(const S4dBytes& bytes, void* dlog_dt, void* dA_real, void* dA_imag, void* dC_real,
                              void* dC_imag);

}  // namespace ssmb
