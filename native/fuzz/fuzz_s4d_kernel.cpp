// Fuzzes ssmb_s4d_kernel_fwd and ssmb_s4d_kernel_bwd: H, N, L, dtype and values (including positive
// A_real, A = 0, NaN and infinities); fuzz_support.h for the contract.
#include "fuzz_support.h"

using namespace fuzz;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    FuzzInput in(data, size);
    const bool backward = in.byte() & 1;
    const ssmb_dtype dtype = in.dtype();
    const int64_t H = in.size(), N = in.size(), L = in.size();
    const Sabotage sabotage = fuzz::sabotage(in);
    const uint8_t which = in.byte();
    Values values(in.seed(), in.byte() & 1);

    const int64_t e = elem_size(dtype);
    const int64_t row = bytes_of({H}, e), modes = bytes_of({H, N}, e), kernel = bytes_of({H, L}, e);
    const bool valid_shape = cpu_dtype(dtype) && row > 0 && modes > 0 && kernel > 0;
    if (valid_shape && (modes / e > kMaxElements || kernel / e > kMaxElements)) return 0;

    Call call(valid_shape);
    const bool null_input = sabotage == Sabotage::NullInput, null_output = sabotage == Sabotage::NullOutput;
    const int inputs = backward ? 6 : 5;
    void* log_dt = call.input(!(null_input && which % inputs == 0), row, dtype, values);
    void* A_real = call.input(!(null_input && which % inputs == 1), modes, dtype, values);
    void* A_imag = call.input(!(null_input && which % inputs == 2), modes, dtype, values);
    void* C_real = call.input(!(null_input && which % inputs == 3), modes, dtype, values);
    void* C_imag = call.input(!(null_input && which % inputs == 4), modes, dtype, values);
    ssmb_status status;
    bool overlap = false;
    if (!backward) {
        void* K = call.output(!null_output, kernel);
        overlap = sabotage == Sabotage::OverlappingOutput && log_dt != nullptr;
        if (overlap) K = log_dt;
        status = ssmb_s4d_kernel_fwd(dtype, H, N, L, log_dt, A_real, A_imag, C_real, C_imag, K);
    } else {
        void* dK = call.input(!(null_input && which % inputs == 5), kernel, dtype, values);
        void* grads[5];
        grads[0] = call.output(!(null_output && which % 5 == 0), row);
        for (int i = 1; i < 5; ++i) grads[i] = call.output(!(null_output && which % 5 == i), modes);
        overlap = sabotage == Sabotage::OverlappingOutput && A_real != nullptr && grads[1] != nullptr;
        if (overlap) grads[1 + which % 4] = A_real;
        status = ssmb_s4d_kernel_bwd(dtype, H, N, L, log_dt, A_real, A_imag, C_real, C_imag, dK, grads[0], grads[1],
                                     grads[2], grads[3], grads[4]);
    }
    call.check(status, valid_shape && !null_input && !null_output && !overlap);
    return 0;
}
