// The C ABI of the S4D convolution kernel: validation and dispatch. Every entry point runs its body
// inside guarded() (error.h).
#include <string>
#include <vector>

#include "cpu/s4d_kernel.h"
#include "error.h"
#include "image_args.h"
#include "s4d_args.h"
#include "ssmbridge.h"
#include "validate.h"

using namespace ssmb;

namespace {

// Sizes of one call, validated, with the byte sizes of a row vector (H) and of the (H, N) and (H, L)
// arrays (overflow-checked).
struct S4dArgs {
    cpu::S4dShape shape;
    S4dBytes bytes;
};

S4dArgs s4d_args(ssmb_dtype dtype, int64_t H, int64_t N, int64_t L) {
    require_cpu_float(dtype);
    require_positive("H", H);
    require_positive("N", N);
    require_positive("L", L);
    const int64_t elem = dtype_size(dtype);
    return {cpu::S4dShape{H, N, L}, s4d_bytes(H, N, L, elem)};
}

}  // namespace

extern "C" {

SSMB_API ssmb_status ssmb_s4d_kernel_fwd(ssmb_dtype dtype, int64_t H, int64_t N, int64_t L, const void* log_dt,
                                         const void* A_real, const void* A_imag, const void* C_real,
                                         const void* C_imag, void* K) {
    return guarded([&] {
        const S4dArgs a = s4d_args(dtype, H, N, L);
        const std::vector<Buffer> inputs = s4d_inputs(a.bytes, log_dt, A_real, A_imag, C_real, C_imag);
        const Buffer out{"K", K, a.bytes.kernel};
        require_non_null(out);
        require_no_overlap(inputs, {out});
        dispatch_float_or_double(dtype, [&](auto t) {
            using T = decltype(t);
            cpu::s4d_kernel_fwd<T>(a.shape, static_cast<const T*>(log_dt), static_cast<const T*>(A_real),
                                   static_cast<const T*>(A_imag), static_cast<const T*>(C_real),
                                   static_cast<const T*>(C_imag), static_cast<T*>(K));
        });
    });
}

SSMB_API ssmb_status ssmb_s4d_kernel_bwd(ssmb_dtype dtype, int64_t H, int64_t N, int64_t L, const void* log_dt,
                                         const void* A_real, const void* A_imag, const void* C_real,
                                         const void* C_imag, const void* dK, void* dlog_dt, void* dA_real,
                                         void* dA_imag, void* dC_real, void* dC_imag) {
    return guarded([&] {
        const S4dArgs a = s4d_args(dtype, H, N, L);
        std::vector<Buffer> inputs = s4d_inputs(a.bytes, log_dt, A_real, A_imag, C_real, C_imag);
        inputs.push_back({"dK", dK, a.bytes.kernel});
        require_non_null(inputs.back());
        const std::vector<Buffer> outputs = s4d_grads(a.bytes, dlog_dt, dA_real, dA_imag, dC_real, dC_imag);
        require_no_overlap(inputs, outputs);
        dispatch_float_or_double(dtype, [&](auto t) {
            using T = decltype(t);
            cpu::s4d_kernel_bwd<T>(a.shape, static_cast<const T*>(log_dt), static_cast<const T*>(A_real),
                                   static_cast<const T*>(A_imag), static_cast<const T*>(C_real),
                                   static_cast<const T*>(C_imag), static_cast<const T*>(dK),
                                   static_cast<T*>(dlog_dt), static_cast<T*>(dA_real), static_cast<T*>(dA_imag),
                                   static_cast<T*>(dC_real), static_cast<T*>(dC_imag));
        });
    });
}

}  // extern "C"
