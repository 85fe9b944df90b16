// Fuzzes ssmb_cross_selective_scan_fwd, ssmb_cross_selective_scan_bwd_workspace_size and
// ssmb_cross_selective_scan_bwd (sizes, optional D / delta_bias, dtypes, values; fuzz_support.h for
// the contract).
#include "fuzz_support.h"

using namespace fuzz;

namespace {

struct CssArgs {
    ssmb_dtype dtype, weight_dtype;
    int64_t batch, dim, height, width, N;
    int32_t delta_softplus;
    bool has_D, has_bias;
    int64_t image, directions, states, A, channels, chunk;
    bool valid_shape, small;
};

CssArgs decode(FuzzInput& in) {
    CssArgs a;
    a.dtype = in.dtype();
    a.weight_dtype = in.weight_dtype(a.dtype);
    a.batch = in.size(), a.dim = in.size(), a.height = in.size(), a.width = in.size(), a.N = in.size();
    a.delta_softplus = in.flag();
    const uint8_t optional = in.byte();
    a.has_D = optional & 1, a.has_bias = optional & 2;
    const int64_t e = elem_size(a.dtype);
    a.image = bytes_of({a.batch, a.dim, a.height, a.width}, e);
    a.directions = bytes_of({a.batch, 4, a.dim, a.height, a.width}, e);
    a.states = bytes_of({a.batch, 4, a.N, a.height, a.width}, e);
    a.A = bytes_of({4, a.dim, a.N}, e);
    a.channels = bytes_of({4, a.dim}, e);
    a.chunk = a.directions > 0 ? bytes_of({a.batch, 4, a.dim, scan_chunks(a.height * a.width), a.N}, e) : -1;
    a.valid_shape = cpu_dtype(a.dtype) && a.weight_dtype == a.dtype && a.image > 0 && a.directions > 0 &&
                    a.states > 0 && a.A > 0 && a.chunk > 0;
    a.small = a.valid_shape && a.directions / e <= kMaxElements && a.states / e <= kMaxElements &&
              a.chunk / e <= kMaxElements && a.A / e <= kMaxElements;
    return a;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    FuzzInput in(data, size);
    const uint8_t entry = in.byte() % 3;
    const CssArgs a = decode(in);
    const Sabotage sabotage = fuzz::sabotage(in);
    const uint8_t which = in.byte();
    Values values(in.seed(), in.byte() & 1);

    if (entry == 0) {
        int64_t bytes = -1;
        int64_t* target = sabotage == Sabotage::NullOutput ? nullptr : &bytes;
        const ssmb_status status = ssmb_cross_selective_scan_bwd_workspace_size(
            a.dtype, a.weight_dtype, a.batch, a.dim, a.height, a.width, a.N, target);
        check_workspace_query(status, bytes, a.valid_shape && target, a.small);
        return 0;
    }
    if (a.valid_shape && !a.small) return 0;

    const bool backward = entry == 2;
    int64_t needed = kDecoyBytes;
    if (backward && a.valid_shape)
        FUZZ_REQUIRE(ssmb_cross_selective_scan_bwd_workspace_size(a.dtype, a.weight_dtype, a.batch, a.dim, a.height,
                                                                  a.width, a.N, &needed) == SSMB_OK,
                     "workspace query of a small valid shape failed");
    const bool null_input = sabotage == Sabotage::NullInput, null_output = sabotage == Sabotage::NullOutput;
    const bool unpaired = backward && sabotage == Sabotage::UnpairedGradient;
    const bool short_ws = backward && sabotage == Sabotage::ShortWorkspace;
    const int n_inputs = backward ? 7 : 5;
    Call call(a.valid_shape);
    void* u = call.input(!(null_input && which % n_inputs == 0), a.image, a.dtype, values);
    void* delta = call.input(!(null_input && which % n_inputs == 1), a.directions, a.dtype, values);
    void* A = call.input(!(null_input && which % n_inputs == 2), a.A, a.weight_dtype, values);
    void* B = call.input(!(null_input && which % n_inputs == 3), a.states, a.dtype, values);
    void* C = call.input(!(null_input && which % n_inputs == 4), a.states, a.dtype, values);
    void* D = call.input(a.has_D, a.channels, a.weight_dtype, values);
    void* bias = call.input(a.has_bias, a.channels, a.weight_dtype, values);
    ssmb_status status;
    bool overlap = false;
    if (!backward) {
        void* out = call.output(!(null_output && which % 2 == 0), a.image);
        void* states = call.output(!(null_output && which % 2 == 1), a.chunk);
        overlap = sabotage == Sabotage::OverlappingOutput && u != nullptr;
        if (overlap) out = u;
        status = ssmb_cross_selective_scan_fwd(a.dtype, a.weight_dtype, a.batch, a.dim, a.height, a.width, a.N, u,
                                               delta, A, B, C, D, bias, a.delta_softplus, out, states);
    } else {
        void* states = call.input(!(null_input && which % n_inputs == 5), a.chunk, a.weight_dtype, values);
        void* dout = call.input(!(null_input && which % n_inputs == 6), a.image, a.dtype, values);
        void* du = call.output(!(null_output && which % 5 == 0), a.image);
        void* ddelta = call.output(!(null_output && which % 5 == 1), a.directions);
        void* dA = call.output(!(null_output && which % 5 == 2), a.A);
        void* dB = call.output(!(null_output && which % 5 == 3), a.states);
        void* dC = call.output(!(null_output && which % 5 == 4), a.states);
        void* dD = call.output(a.has_D != (unpaired && which % 2 == 0), a.channels);
        void* dbias = call.output(a.has_bias != (unpaired && which % 2 == 1), a.channels);
        void* workspace = call.output(needed > 0, needed);
        overlap = sabotage == Sabotage::OverlappingOutput && dout != nullptr;
        if (overlap) du = dout;
        status = ssmb_cross_selective_scan_bwd(a.dtype, a.weight_dtype, a.batch, a.dim, a.height, a.width, a.N, u,
                                               delta, A, B, C, D, bias, a.delta_softplus, states, dout, du, ddelta, dA,
                                               dB, dC, dD, dbias, workspace, short_ws ? needed - 1 : needed);
    }
    call.check(status, a.valid_shape && !null_input && !null_output && !overlap && !unpaired && !short_ws);
    return 0;
}
