#include "s4d_args.h"

namespace ssmb {

S4dBytes s4d_bytes(int64_t H, int64_t N, int64_t L, int64_t elem_size) {
    return {checked_bytes("log_dt", {H}, elem_size), checked_bytes("A_real", {H, N}, elem_size),
            checked_bytes("K", {H, L}, elem_size)};
}

std::vector<Buffer> s4d_inputs(const S4dBytes& bytes, const void* log_dt, const void* A_real, const void* A_imag,
                               const void* C_real, const void* C_imag) {
    std::vector<Buffer> inputs = {{"log_dt", log_dt, bytes.row},
                                  {"A_real", A_real, bytes.mode},
                                  {"A_imag", A_imag, bytes.mode},
                                  {"C_real", C_real, bytes.mode},
                                  {"C_imag", C_imag, bytes.mode}};
    for (const Buffer& b : inputs) require_non_null(b);
    return inputs;
}

std::vector<Buffer> s4d_grads(const S4dBytes& bytes, void* dlog_dt, void* dA_real, void* dA_imag, void* dC_real,
                              void* dC_imag) {
    std::vector<Buffer> grads = {{"dlog_dt", dlog_dt, bytes.row},
                                 {"dA_real", dA_real, bytes.mode},
                                 {"dA_imag", dA_imag, bytes.mode},
                                 {"dC_real", dC_real, bytes.mode},
                                 {"dC_imag", dC_imag, bytes.mode}};
    for (const Buffer& b : grads) require_non_null(b);
    return grads;
}

}  // namespace ssmb
