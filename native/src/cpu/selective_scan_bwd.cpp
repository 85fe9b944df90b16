// Backward selective scan on the CPU. Each work item walks its chunks from last to first in scan
// order, recomputes the chunk's states from the state the forward saved before it, then steps
// back through the chunk carrying dL/dh. Gradients summed over more than one work item (over
// batch, or over the channel tiles of a group) go through per-item partial slices of the
// workspace and are then reduced in a fixed order, so results do not depend on the thread count.
#include <vector>

#include "cpu/selective_scan_cpu.h"
#include "cpu/thread_pool.h"

namespace ssmb::cpu {

namespace {

// Where the partial sums live in the workspace, in elements of the weight type. A gradient with a
// single contributor per element is written straight into its output and takes no space here.
struct WorkspaceLayout {
    int64_t tiles_per_group = 1;
    bool per_tile_partials = false;   // selective dB / dC: one (N, L) block per (b, g, tile)
    bool per_batch_partials = false;  // dA, time-invariant dB / dC, dD, ddelta_bias: one per batch
    int64_t dB_selective = 0, dC_selective = 0;
    int64_t dA = 0, dB_invariant = 0, dC_invariant = 0, dD = 0, ddelta_bias = 0;
    int64_t elements = 0;

    explicit WorkspaceLayout(const SelectiveScanParams& p) {
        tiles_per_group = ScanWorkItems(p).tiles_per_group;
        per_tile_partials = tiles_per_group > 1;
        per_batch_partials = p.batch > 1;
        const int64_t tile_block = per_tile_partials ? p.batch * p.groups * tiles_per_group * p.N * p.L : 0;
        const int64_t batch_matrix = per_batch_partials ? p.batch * p.dim * p.N : 0;
        // dD and ddelta_bias are reserved even when D / delta_bias are absent: the size query
        // does not know about the optional inputs.
        const int64_t batch_vector = per_batch_partials ? p.batch * p.dim : 0;
        dB_selective = take(p.B_selective ? tile_block : 0);
        dC_selective = take(p.C_selective ? tile_block : 0);
        dA = take(batch_matrix);
        dB_invariant = take(p.B_selective ? 0 : batch_matrix);
        dC_invariant = take(p.C_selective ? 0 : batch_matrix);
        dD = take(batch_vector);
        ddelta_bias = take(batch_vector);
    }

private:
    int64_t take(int64_t size) {
        const int64_t offset = elements;
        elements += size;
        return offset;
    }
};

template <typename T>
struct BackwardOutputs {
    T* du;
    T* ddelta;
    T* dz;  // null without z
};

// Where one work item writes its sums: selective dB / dC blocks (N, L) of its (b, g, tile), and
// the (dim, N) / (dim) slices of its batch for the sums over time. Each is either the output
// itself or the item's partial slice in the workspace.
template <typename T>
struct ItemTargets {
    T* dB_block;  // selective only
    T* dC_block;
    T* dA;
    T* dB_rows;  // time-invariant only
    T* dC_rows;
    T* dD;           // null without D
    T* ddelta_bias;  // null without delta_bias
};

// Per-channel sums over time of one work item: (width, N) for dA and time-invariant dB / dC,
// (width) for dD and ddelta_bias. The backward sums each chunk separately and then adds the
// chunk's sums to the running total, which keeps float32 rounding small for long sequences.
template <typename T>
struct ChannelSums {
    std::vector<T> dA, dB, dC, dD, ddelta_bias;

    void reset(int64_t width, int64_t N) {
        for (auto* v : {&dA, &dB, &dC}) v->assign(width * N, T(0));
        for (auto* v : {&dD, &ddelta_bias}) v->assign(width, T(0));
    }

    void add(const ChannelSums& other) {
        add_to(dA, other.dA);
        add_to(dB, other.dB);
        add_to(dC, other.dC);
        add_to(dD, other.dD);
        add_to(ddelta_bias, other.ddelta_bias);
    }

private:
    static void add_to(std::vector<T>& sum, const std::vector<T>& part) {
        for (size_t j = 0; j < sum.size(); ++j) sum[j] += part[j];
    }
};

// Per-thread scratch, reused across the work items a thread runs.
template <typename T>
struct BackwardScratch {
    std::vector<T> states;  // (kScanChunkSize + 1, width, N): states[s] = h before step s of a chunk
    std::vector<T> dh;      // (width, N): a_{t+1} dL/dh_{t+1}, the gradient flowing into h_t
    std::vector<T> step_B, step_C, step_dB, step_dC;  // (N): selective B_t, C_t and their gradients
    ChannelSums<T> chunk, total;
};

// Recomputes the states of chunk k (positions pos0 .. pos0 + len - 1) from the saved state.
template <typename T>
void recompute_chunk(const ScanInputs<T>& in, const ScanWorkItem& w, const T* chunk_states, int64_t k, int64_t pos0,
                     int64_t len, BackwardScratch<T>& s) {
    const int64_t N = in.N;
    const int64_t n_chunks = scan_num_chunks(in.L);
    const int64_t stride = w.width * N;  // one step's states
    for (int64_t c = 0; c < w.width; ++c) {
        const T* saved = chunk_states + ((w.b * in.dim + w.d_begin + c) * n_chunks + k) * N;
        std::copy_n(saved, N, s.states.data() + c * N);
    }
    const T* B_block = in.B.selective ? in.B.block(w.b, w.g) : nullptr;
    for (int64_t step = 0; step < len; ++step) {
        const int64_t t = in.time_at(pos0 + step);
        if (B_block) gather_step(B_block, N, in.L, t, s.step_B.data());
        for (int64_t c = 0; c < w.width; ++c) {
            const int64_t d = w.d_begin + c;
            const int64_t i = in.seq_index(w.b, d, t);
            const T* B = B_block ? s.step_B.data() : in.B.row(d);
            const T dt = in.dt(d, i);
            const T* h = s.states.data() + step * stride + c * N;
            advance_state(h, in.A + d * N, B, dt, dt * in.u[i], N, s.states.data() + (step + 1) * stride + c * N);
        }
    }
}

// One work item: every chunk from last to first, each step of a chunk from last to first.
template <typename T>
void scan_item_backward(const ScanInputs<T>& in, const ScanWorkItem& w, const T* chunk_states, const T* dout,
                        const T* dlast_state,
                        const BackwardOutputs<T>& o, const ItemTargets<T>& targets, BackwardScratch<T>& s) {
    using std::exp;
    const int64_t N = in.N;
    const int64_t L = in.L;
    const int64_t stride = w.width * N;
    const T* B_block = in.B.selective ? in.B.block(w.b, w.g) : nullptr;
    const T* C_block = in.C.selective ? in.C.block(w.b, w.g) : nullptr;
    s.states.resize((kScanChunkSize + 1) * stride);
    // dL/dh after the last step: whatever flows into last_state, else nothing.
    if (dlast_state)
        s.dh.assign(dlast_state + (w.b * in.dim + w.d_begin) * N, dlast_state + (w.b * in.dim + w.d_begin) * N + stride);
    else
        s.dh.assign(stride, T(0));
    for (auto* v : {&s.step_B, &s.step_C, &s.step_dB, &s.step_dC}) v->resize(N);
    s.total.reset(w.width, N);

    for (int64_t k = scan_num_chunks(L) - 1; k >= 0; --k) {
        const int64_t pos0 = k * kScanChunkSize;
        const int64_t len = std::min(kScanChunkSize, L - pos0);
        recompute_chunk(in, w, chunk_states, k, pos0, len, s);
        s.chunk.reset(w.width, N);

        for (int64_t step = len - 1; step >= 0; --step) {
            const int64_t t = in.time_at(pos0 + step);
            if (B_block) gather_step(B_block, N, L, t, s.step_B.data());
            if (C_block) gather_step(C_block, N, L, t, s.step_C.data());
            std::fill(s.step_dB.begin(), s.step_dB.end(), T(0));
            std::fill(s.step_dC.begin(), s.step_dC.end(), T(0));

            for (int64_t c = 0; c < w.width; ++c) {
                const int64_t d = w.d_begin + c;
                const int64_t i = in.seq_index(w.b, d, t);
                const T* A = in.A + d * N;
                const T* B = B_block ? s.step_B.data() : in.B.row(d);
                const T* C = C_block ? s.step_C.data() : in.C.row(d);
                T* dB = B_block ? s.step_dB.data() : s.chunk.dB.data() + c * N;
                T* dC = C_block ? s.step_dC.data() : s.chunk.dC.data() + c * N;
                T* dA = s.chunk.dA.data() + c * N;
                T* dh = s.dh.data() + c * N;
                const T* h_prev = s.states.data() + step * stride + c * N;
                const T* h = h_prev + stride;

                const T u = in.u[i];
                const T dt_raw = in.dt_raw(d, i);
                const T dt = in.dt(d, i);
                // dy = dL/dy_t; the gate needs y_t, recomputed from the states.
                T dy = dout[i];
                if (in.z) {
                    T y = read_out(C, h, N);
                    if (in.D) y += in.D[d] * u;
                    o.dz[i] = dout[i] * y * silu_grad(in.z[i]);
                    dy = dout[i] * silu(in.z[i]);
                }

                T du_states = 0;  // sum_n g dt B[n], without the dt factor
                T ddt = 0;
                for (int64_t n = 0; n < N; ++n) {
                    const T a = exp(dt * A[n]);
                    const T g = dh[n] + dy * C[n];  // dL/dh_t[n]
                    const T a_h_prev = a * h_prev[n];
                    dC[n] += dy * h[n];
                    dB[n] += g * dt * u;
                    dA[n] += g * dt * a_h_prev;
                    du_states += g * B[n];
                    ddt += g * (B[n] * u + A[n] * a_h_prev);
                    dh[n] = a * g;
                }

                o.du[i] = dt * du_states + (in.D ? dy * in.D[d] : T(0));
                const T ddelta = in.delta_softplus ? ddt * softplus_grad(dt_raw) : ddt;
                o.ddelta[i] = ddelta;
                s.chunk.dD[c] += dy * u;
                s.chunk.ddelta_bias[c] += ddelta;
            }

            for (int64_t n = 0; n < N; ++n) {
                if (B_block) targets.dB_block[n * L + t] = s.step_dB[n];
                if (C_block) targets.dC_block[n * L + t] = s.step_dC[n];
            }
        }
        s.total.add(s.chunk);
    }

    for (int64_t c = 0; c < w.width; ++c) {
        const int64_t d = w.d_begin + c;
        std::copy_n(s.total.dA.data() + c * N, N, targets.dA + d * N);
        if (!B_block) std::copy_n(s.total.dB.data() + c * N, N, targets.dB_rows + d * N);
        if (!C_block) std::copy_n(s.total.dC.data() + c * N, N, targets.dC_rows + d * N);
        if (targets.dD) targets.dD[d] = s.total.dD[c];
        if (targets.ddelta_bias) targets.ddelta_bias[d] = s.total.ddelta_bias[c];
    }
}

// out[o, j] = sum over p = 0..count-1, in that order, of partials[o, p, j]; partials is
// (outer, count, inner), out is (outer, inner).
template <typename T>
void reduce_partials(const T* partials, int64_t outer, int64_t count, int64_t inner, T* out) {
    parallel_for(outer * inner, [&](int64_t begin, int64_t end) {
        for (int64_t e = begin; e < end; ++e) {
            const int64_t o = e / inner;
            const int64_t j = e % inner;
            const T* first = partials + o * count * inner + j;
            T sum = 0;
            for (int64_t p = 0; p < count; ++p) sum += first[p * inner];
            out[e] = sum;
        }
    });
}

}  // namespace

int64_t selective_scan_bwd_workspace_bytes(const SelectiveScanParams& p, int64_t elem_size) {
    return WorkspaceLayout(p).elements * elem_size;
}

template <typename T>
void selective_scan_bwd(const SelectiveScanParams& p) {
    const ScanInputs<T> in(p);
    const ScanWorkItems items(p);
    const WorkspaceLayout layout(p);
    T* const workspace = static_cast<T*>(p.workspace);
    T* const dA = static_cast<T*>(p.dA);
    T* const dB = static_cast<T*>(p.dB);
    T* const dC = static_cast<T*>(p.dC);
    T* const dD = static_cast<T*>(p.dD);
    T* const ddelta_bias = static_cast<T*>(p.ddelta_bias);
    const BackwardOutputs<T> o{static_cast<T*>(p.du), static_cast<T*>(p.ddelta), static_cast<T*>(p.dz)};
    const int64_t NL = p.N * p.L;

    auto targets_of = [&](const ScanWorkItem& w) {
        const int64_t block = (w.b * p.groups + w.g) * layout.tiles_per_group + w.tile;
        auto tile_block = [&](T* output, int64_t offset) {
            return layout.per_tile_partials ? workspace + offset + block * NL : output + (w.b * p.groups + w.g) * NL;
        };
        auto batch_slice = [&](T* output, int64_t offset, int64_t size) {
            if (!output) return output;
            return layout.per_batch_partials ? workspace + offset + w.b * size : output;
        };
        const int64_t matrix = p.dim * p.N;
        return ItemTargets<T>{p.B_selective ? tile_block(dB, layout.dB_selective) : nullptr,
                              p.C_selective ? tile_block(dC, layout.dC_selective) : nullptr,
                              batch_slice(dA, layout.dA, matrix),
                              p.B_selective ? nullptr : batch_slice(dB, layout.dB_invariant, matrix),
                              p.C_selective ? nullptr : batch_slice(dC, layout.dC_invariant, matrix),
                              batch_slice(dD, layout.dD, p.dim),
                              batch_slice(ddelta_bias, layout.ddelta_bias, p.dim)};
    };

    parallel_for(items.count, [&](int64_t begin, int64_t end) {
        BackwardScratch<T> scratch;
        for (int64_t item = begin; item < end; ++item) {
            const ScanWorkItem w = items[item];
            scan_item_backward(in, w, static_cast<const T*>(p.chunk_states), static_cast<const T*>(p.dout),
                               static_cast<const T*>(p.dlast_state), o,
                               targets_of(w), scratch);
        }
    });

    if (layout.per_tile_partials) {
        const int64_t blocks = p.batch * p.groups;
        if (p.B_selective) reduce_partials(workspace + layout.dB_selective, blocks, layout.tiles_per_group, NL, dB);
        if (p.C_selective) reduce_partials(workspace + layout.dC_selective, blocks, layout.tiles_per_group, NL, dC);
    }
    if (layout.per_batch_partials) {
        const int64_t matrix = p.dim * p.N;
        reduce_partials(workspace + layout.dA, 1, p.batch, matrix, dA);
        if (!p.B_selective) reduce_partials(workspace + layout.dB_invariant, 1, p.batch, matrix, dB);
        if (!p.C_selective) reduce_partials(workspace + layout.dC_invariant, 1, p.batch, matrix, dC);
        if (dD) reduce_partials(workspace + layout.dD, 1, p.batch, p.dim, dD);
        if (ddelta_bias) reduce_partials(workspace + layout.ddelta_bias, 1, p.batch, p.dim, ddelta_bias);
    }
}

template void selective_scan_bwd<float>(const SelectiveScanParams& p);
template void selective_scan_bwd<double>(const SelectiveScanParams& p);

}  // namespace ssmb::cpu
