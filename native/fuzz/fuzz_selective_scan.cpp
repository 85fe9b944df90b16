// Fuzzes ssmb_selective_scan_fwd, ssmb_selective_scan_bwd_workspace_size and ssmb_selective_scan_bwd:
// sizes, groups, flags, optional arguments, dtypes and values from the input, checked against the
// header's rules (fuzz_support.h for the contract).
#include "fuzz_support.h"

using namespace fuzz;

namespace {

struct ScanArgs {
    ssmb_dtype dtype, weight_dtype;
    int64_t batch, dim, L, N, groups;
    int32_t B_selective, C_selective, delta_softplus, reverse;
    bool has_D, has_z, has_bias, has_dlast, has_last;
    // Byte sizes (-1 where a size is invalid or the count overflows).
    int64_t seq, A, sel, chunk, state, vec;
    bool valid_shape, small;
};

// Groups: usually a divisor of dim, so that the selective paths are reached with groups > 1.
int64_t decode_groups(FuzzInput& in, int64_t dim) {
    if (in.byte() >= 192 || dim < 1 || dim > 4096) return in.size();
    for (int64_t g = 1 + in.byte() % dim; g > 1; --g)
        if (dim % g == 0) return g;
    return 1;
}

ScanArgs decode(FuzzInput& in) {
    ScanArgs a;
    a.dtype = in.dtype();
    a.weight_dtype = in.weight_dtype(a.dtype);
    a.batch = in.size(), a.dim = in.size(), a.L = in.size(), a.N = in.size();
    a.groups = decode_groups(in, a.dim);
    a.B_selective = in.flag(), a.C_selective = in.flag(), a.delta_softplus = in.flag(), a.reverse = in.flag();
    const uint8_t optional = in.byte();
    a.has_D = optional & 1, a.has_z = optional & 2, a.has_bias = optional & 4, a.has_dlast = optional & 8,
    a.has_last = !(optional & 16);

    const bool selective = a.B_selective || a.C_selective;
    const bool sizes_ok = a.batch >= 1 && a.dim >= 1 && a.L >= 1 && a.N >= 1 && a.groups >= 1 && a.dim % a.groups == 0 &&
                          (a.groups == 1 || selective);
    const int64_t e = elem_size(a.dtype);
    a.seq = bytes_of({a.batch, a.dim, a.L}, e);
    a.A = bytes_of({a.dim, a.N}, e);
    a.sel = bytes_of({a.batch, a.groups, a.N, a.L}, e);
    a.chunk = a.L >= 1 ? bytes_of({a.batch, a.dim, scan_chunks(a.L), a.N}, e) : -1;
    a.state = bytes_of({a.batch, a.dim, a.N}, e);
    a.vec = bytes_of({a.dim}, e);
    const bool fits = a.seq > 0 && a.A > 0 && a.chunk > 0 && a.state > 0 && (!selective || a.sel > 0);
    a.valid_shape = cpu_dtype(a.dtype) && a.weight_dtype == a.dtype && sizes_ok && fits;
    a.small = a.valid_shape && a.seq / e <= kMaxElements && a.chunk / e <= kMaxElements &&
              (!selective || a.sel / e <= kMaxElements) && a.A / e <= kMaxElements;
    return a;
}

int64_t B_bytes(const ScanArgs& a) { return a.B_selective ? a.sel : a.A; }
int64_t C_bytes(const ScanArgs& a) { return a.C_selective ? a.sel : a.A; }

void fuzz_workspace_query(const ScanArgs& a, Sabotage sabotage) {
    int64_t bytes = -1;
    int64_t* target = sabotage == Sabotage::NullOutput ? nullptr : &bytes;
    const ssmb_status status = ssmb_selective_scan_bwd_workspace_size(
        a.dtype, a.weight_dtype, a.batch, a.dim, a.L, a.N, a.groups, a.B_selective, a.C_selective, target);
    check_workspace_query(status, bytes, a.valid_shape && target, a.small);
}

void fuzz_forward(const ScanArgs& a, Sabotage sabotage, FuzzInput& in, Values& values) {
    Call call(a.valid_shape);
    const uint8_t which = in.byte();
    const bool null_input = sabotage == Sabotage::NullInput, null_output = sabotage == Sabotage::NullOutput;
    void* u = call.input(!(null_input && which % 5 == 0), a.seq, a.dtype, values);
    void* delta = call.input(!(null_input && which % 5 == 1), a.seq, a.dtype, values);
    void* A = call.input(!(null_input && which % 5 == 2), a.A, a.weight_dtype, values);
    void* B = call.input(!(null_input && which % 5 == 3), B_bytes(a), a.dtype, values);
    void* C = call.input(!(null_input && which % 5 == 4), C_bytes(a), a.dtype, values);
    void* D = call.input(a.has_D, a.vec, a.weight_dtype, values);
    void* z = call.input(a.has_z, a.seq, a.dtype, values);
    void* bias = call.input(a.has_bias, a.vec, a.weight_dtype, values);
    void* out = call.output(!(null_output && which % 2 == 0), a.seq);
    void* states = call.output(!(null_output && which % 2 == 1), a.chunk);
    void* last = call.output(a.has_last, a.state);
    const bool overlap = sabotage == Sabotage::OverlappingOutput && u != nullptr;
    if (overlap) out = u;  // same size as out: an output aliasing an input
    const bool valid = a.valid_shape && !null_input && !null_output && !overlap;
    const ssmb_status status =
        ssmb_selective_scan_fwd(a.dtype, a.weight_dtype, a.batch, a.dim, a.L, a.N, a.groups, a.B_selective,
                                a.C_selective, u, delta, A, B, C, D, z, bias, a.delta_softplus, a.reverse, out, states,
                                last);
    call.check(status, valid);
}

void fuzz_backward(const ScanArgs& a, Sabotage sabotage, FuzzInput& in, Values& values) {
    int64_t needed = kDecoyBytes;
    if (a.valid_shape) {
        FUZZ_REQUIRE(ssmb_selective_scan_bwd_workspace_size(a.dtype, a.weight_dtype, a.batch, a.dim, a.L, a.N, a.groups,
                                                            a.B_selective, a.C_selective, &needed) == SSMB_OK,
                     "workspace query of a small valid shape failed");
    }
    Call call(a.valid_shape);
    const uint8_t which = in.byte();
    const bool null_input = sabotage == Sabotage::NullInput, null_output = sabotage == Sabotage::NullOutput;
    const bool unpaired = sabotage == Sabotage::UnpairedGradient, short_ws = sabotage == Sabotage::ShortWorkspace;
    void* u = call.input(!(null_input && which % 7 == 0), a.seq, a.dtype, values);
    void* delta = call.input(!(null_input && which % 7 == 1), a.seq, a.dtype, values);
    void* A = call.input(!(null_input && which % 7 == 2), a.A, a.weight_dtype, values);
    void* B = call.input(!(null_input && which % 7 == 3), B_bytes(a), a.dtype, values);
    void* C = call.input(!(null_input && which % 7 == 4), C_bytes(a), a.dtype, values);
    void* D = call.input(a.has_D, a.vec, a.weight_dtype, values);
    void* z = call.input(a.has_z, a.seq, a.dtype, values);
    void* bias = call.input(a.has_bias, a.vec, a.weight_dtype, values);
    void* states = call.input(!(null_input && which % 7 == 5), a.chunk, a.weight_dtype, values);
    void* dout = call.input(!(null_input && which % 7 == 6), a.seq, a.dtype, values);
    void* dlast = call.input(a.has_dlast, a.state, a.weight_dtype, values);
    void* du = call.output(!(null_output && which % 5 == 0), a.seq);
    void* ddelta = call.output(!(null_output && which % 5 == 1), a.seq);
    void* dA = call.output(!(null_output && which % 5 == 2), a.A);
    void* dB = call.output(!(null_output && which % 5 == 3), B_bytes(a));
    void* dC = call.output(!(null_output && which % 5 == 4), C_bytes(a));
    // An unpaired optional gradient: present without its input, or missing with it.
    void* dD = call.output(a.has_D != (unpaired && which % 3 == 0), a.vec);
    void* dz = call.output(a.has_z != (unpaired && which % 3 == 1), a.seq);
    void* dbias = call.output(a.has_bias != (unpaired && which % 3 == 2), a.vec);
    void* workspace = call.output(needed > 0, needed);
    const bool overlap = sabotage == Sabotage::OverlappingOutput && dout != nullptr;
    if (overlap) du = dout;
    const bool valid = a.valid_shape && !null_input && !null_output && !overlap && !unpaired && !short_ws;
    const ssmb_status status = ssmb_selective_scan_bwd(
        a.dtype, a.weight_dtype, a.batch, a.dim, a.L, a.N, a.groups, a.B_selective, a.C_selective, u, delta, A, B, C, D,
        z, bias, a.delta_softplus, a.reverse, states, dout, dlast, du, ddelta, dA, dB, dC, dD, dz, dbias, workspace,
        short_ws ? needed - 1 : needed);
    call.check(status, valid);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    FuzzInput in(data, size);
    const uint8_t entry = in.byte() % 3;
    const ScanArgs a = decode(in);
    const Sabotage sabotage = fuzz::sabotage(in);
    Values values(in.seed(), in.byte() & 1);
    if (entry == 0) {
        fuzz_workspace_query(a, sabotage);
        return 0;
    }
    // Valid sizes too large for real buffers cannot be called safely: the library has no way to
    // know a buffer's length.
    if (a.valid_shape && !a.small) return 0;
    if (entry == 1)
        fuzz_forward(a, sabotage, in, values);
    else
        fuzz_backward(a, sabotage, in, values);
    return 0;
}
