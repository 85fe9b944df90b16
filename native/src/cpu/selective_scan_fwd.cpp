// Forward selective scan on the CPU. Each work item walks its channels through the sequence once,
// keeping their states in a small buffer, and saves the state at every chunk boundary so the
// backward can recompute any chunk without the forward's (batch, dim, L, N) history.
#include <vector>

#include "cpu/selective_scan_cpu.h"
#include "cpu/thread_pool.h"

namespace ssmb::cpu {

namespace {

template <typename T>
struct ForwardOutputs {
    T* out;           // (batch, dim, L)
    T* chunk_states;  // (batch, dim, n_chunks, N)
    T* last_state;    // (batch, dim, N), may be null
};

// Per-thread scratch, reused across the work items a thread runs.
template <typename T>
struct ForwardScratch {
    std::vector<T> h;       // (width, N): the item's states
    std::vector<T> step_B;  // (N): B_t of the item's group when selective
    std::vector<T> step_C;  // (N): C_t likewise
};

template <typename T>
void scan_item_forward(const ScanInputs<T>& in, const ScanWorkItem& w, const ForwardOutputs<T>& o,
                       ForwardScratch<T>& scratch) {
    const int64_t N = in.N;
    const int64_t L = in.L;
    const int64_t n_chunks = scan_num_chunks(L);
    const T* B_block = in.B.selective ? in.B.block(w.b, w.g) : nullptr;
    const T* C_block = in.C.selective ? in.C.block(w.b, w.g) : nullptr;
    scratch.h.assign(w.width * N, T(0));
    scratch.step_B.resize(N);
    scratch.step_C.resize(N);

    for (int64_t pos = 0; pos < L; ++pos) {
        if (pos % kScanChunkSize == 0) {
            const int64_t k = pos / kScanChunkSize;
            for (int64_t c = 0; c < w.width; ++c) {
                T* saved = o.chunk_states + ((w.b * in.dim + w.d_begin + c) * n_chunks + k) * N;
                std::copy_n(scratch.h.data() + c * N, N, saved);
            }
        }
        const int64_t t = in.time_at(pos);
        if (B_block) gather_step(B_block, N, L, t, scratch.step_B.data());
        if (C_block) gather_step(C_block, N, L, t, scratch.step_C.data());

        for (int64_t c = 0; c < w.width; ++c) {
            const int64_t d = w.d_begin + c;
            const int64_t i = in.seq_index(w.b, d, t);
            const T* B = B_block ? scratch.step_B.data() : in.B.row(d);
            const T* C = C_block ? scratch.step_C.data() : in.C.row(d);
            T* h = scratch.h.data() + c * N;

            const T dt = in.dt(d, i);
            advance_state(h, in.A + d * N, B, dt, dt * in.u[i], N, h);
            T y = read_out(C, h, N);
            if (in.D) y += in.D[d] * in.u[i];
            o.out[i] = in.z ? y * silu(in.z[i]) : y;
        }
    }

    if (o.last_state) {
        for (int64_t c = 0; c < w.width; ++c)
            std::copy_n(scratch.h.data() + c * N, N, o.last_state + (w.b * in.dim + w.d_begin + c) * N);
    }
}

}  // namespace

template <typename T>
void selective_scan_fwd(const SelectiveScanParams& p) {
    const ScanInputs<T> in(p);
    const ScanWorkItems items(p);
    const ForwardOutputs<T> o{static_cast<T*>(p.out), static_cast<T*>(p.chunk_states), static_cast<T*>(p.last_state)};
    parallel_for(items.count, [&](int64_t begin, int64_t end) {
        ForwardScratch<T> scratch;
        for (int64_t item = begin; item < end; ++item) scan_item_forward(in, items[item], o, scratch);
    });
}

template void selective_scan_fwd<float>(const SelectiveScanParams& p);
template void selective_scan_fwd<double>(const SelectiveScanParams& p);

}  // namespace ssmb::cpu
