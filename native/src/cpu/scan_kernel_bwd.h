// Backward selective scan of one work item on a vector type V whose lanes are channels (as in
// scan_kernel_fwd.h). Chunks go from last to first in scan order. Per chunk, the inputs are
// transposed into scratch rows and the per-step factors computed once; then for each block of
// states
//   - the recompute pass runs the forward from the state saved before the chunk, keeping
//     a_t = exp(dt A) and h_{t-1} of every step, and adds C h into y (for dz) and dy h into dC;
//   - the backward pass walks the steps in reverse with dL/dh in registers:
//       g = dh + dy C   (dL/dh_t),   dh = a g   (dL/dh_{t-1}),   dB += g dt u,
//       w = dh h_{t-1} = g a h_{t-1}:   dA += dt w,   sum_n A w and sum_n g B (for ddelta, du).
// Selective dB and dC sum over the tile's channels: per step, the per-channel terms of the block's
// states are summed over the tile's vectors and folded into one vector (vec_fold.h), which is kept
// and reduced over its lanes once per chunk (reduce_chunk_records). Sums over time (dA,
// time-invariant dB and dC, dD, ddelta_bias) are summed per chunk and then added to the item's
// totals, which keeps float rounding small on long sequences.
//
// As in the forward, loops copy what they read to locals first: vector stores may alias any
// memory and would make the compiler reload the scratch pointers at every step.
#pragma once

#include <cstdint>
#include <optional>

#include "cpu/scan_chunk_io.h"
#include "cpu/scan_kernel_bwd_one_state.h"
#include "cpu/scan_scratch.h"
#include "cpu/scan_tile_chunk.h"
#include "cpu/selective_scan_cpu.h"
#include "common/scan_math.h"
#include "cpu/vec_math.h"

namespace ssmb::cpu {

// The chunk's selective dB and dC of the block of S states from n0, from their records (fold_states
// of each step's per-channel terms, one vector per step; null when that one is not selective) into
// rows n0 .. n0 + S - 1 of the (N, L) blocks.
template <class V, int S>
void reduce_block_records(const typename V::Scalar* dB_records, const typename V::Scalar* dC_records, int64_t n0,
                          const ScanChunk& chunk, int64_t L, typename V::Scalar* dB_block,
                          typename V::Scalar* dC_block) {
    if (dB_records) reduce_chunk_records<V, S>(dB_records, chunk, L, dB_block + n0 * L);
    if (dC_records) reduce_chunk_records<V, S>(dC_records, chunk, L, dC_block + n0 * L);
}

// Every block of states from n0 on, as BackwardItem::state_blocks splits them: of S states, then
// S / 2, ... for the remainder. Block n's records are at n * kChunkRows.
template <class V, int S>
void reduce_state_records(const typename V::Scalar* dB_records, const typename V::Scalar* dC_records, int64_t n0,
                          int64_t N, const ScanChunk& chunk, int64_t L, typename V::Scalar* dB_block,
                          typename V::Scalar* dC_block) {
    for (; n0 + S <= N; n0 += S)
        reduce_block_records<V, S>(dB_records ? dB_records + n0 * kChunkRows : nullptr,
                                   dC_records ? dC_records + n0 * kChunkRows : nullptr, n0, chunk, L, dB_block,
                                   dC_block);
    if constexpr (S > 1) reduce_state_records<V, S / 2>(dB_records, dC_records, n0, N, chunk, L, dB_block, dC_block);
}

template <class V>
class BackwardItem {
public:
    using T = typename V::Scalar;
    static constexpr int kLanes = V::kLanes;
    static constexpr int kVectors = kChannelTile / kLanes;
    // States per pass: dh, A, dA (and dB, dC when time-invariant) of about 4 vectors in registers.
    static constexpr int kStateBlock = kVectors >= 4 ? 1 : 4 / kVectors;
    static_assert(kStateBlock <= kMaxBackwardStateBlock, "the scratch keeps history for this many states");

    // With shared records (dB_records, dC_records: [N][kChunkRows], a block's from its first state
    // n0 at n0 * kChunkRows; see backward_slab), the item leaves its records of selective dB and dC
    // there instead of reducing them itself.
    BackwardItem(const ScanInputs<T>& in, const ScanWorkItem& w, const BackwardInputs<T>& bin,
                 const BackwardOutputs<T>& out, const ItemTargets<T>& targets, T* scratch)
        : BackwardItem(in, w, bin, out, targets, scratch, scratch + BackwardScratch<T>::chunk_elements(), nullptr,
                       nullptr) {}

    // chunk_scratch: BackwardScratch's chunk part, which the items of a slab share; item_scratch:
    // this item's part.
    BackwardItem(const ScanInputs<T>& in, const ScanWorkItem& w, const BackwardInputs<T>& bin,
                 const BackwardOutputs<T>& out, const ItemTargets<T>& targets, T* chunk_scratch, T* item_scratch,
                 T* dB_records, T* dC_records)
        : in_(in), w_(w), bin_(bin), out_(out), targets_(targets), s_(in.N, chunk_scratch, item_scratch),
          shared_dB_(dB_records), shared_dC_(dC_records) {}

    void run() {
        start();
        for (int64_t k = scan_num_chunks(in_.L) - 1; k >= 0; --k) {
            const bool has_far = k >= 2 && far_prefetch_pays(in_.N);
            const TileChunk next = tile_chunk(k >= 1 ? k - 1 : k), far = tile_chunk(has_far ? k - 2 : k);
            run_chunk(k, k >= 1 ? &next : nullptr, has_far ? &far : nullptr, false);
        }
        finish_item();
    }

    void start() { load_constants(); }

    // Chunk k, going from the last chunk to the first. next, far: the chunks whose lines to prefetch
    // into L1 and into L2 (none if null). accumulate: add the selective dB and dC records to the
    // shared ones instead of storing them there.
    void run_chunk(int64_t k, const TileChunk* next, const TileChunk* far, bool accumulate) {
        if (next)
            prefetcher_.plan(*next, far, {in_.u, in_.delta, bin_.dout, in_.z}, {out_.du, out_.ddelta, out_.dz});
        const TileChunk chunk = tile_chunk(k);
        prepare(chunk);
        for (int64_t c = 0; c < w_.width; ++c) {
            const T* saved = bin_.chunk_states + in_.chunk_state_offset(w_.b, w_.d_begin + c, k);
            for (int64_t n = 0; n < in_.N; ++n) s_.h0[n * kTileRow + c] = saved[n];
        }
        accumulate_ = accumulate;
        state_blocks<kStateBlock>(0, chunk.chunk);
        finish(chunk);
    }

    void finish_item() { write_totals(); }

    TileChunk tile_chunk(int64_t k) const {
        return TileChunk(ScanChunk(k, in_.L, in_.reverse), in_.row_offset(w_.b, w_.d_begin), in_.L, w_.width);
    }

private:

    void load_constants() {
        const T log2e = T(kLog2e);
        const int64_t N = in_.N;
        const T* dlast = bin_.dlast_state ? bin_.dlast_state + in_.state_offset(w_.b, w_.d_begin) : nullptr;
        for (int64_t c = 0; c < kChannelTile; ++c) {
            const bool live = c < w_.width;
            const int64_t d = w_.d_begin + c;
            for (int64_t n = 0; n < N; ++n) {
                const int64_t i = n * kTileRow + c;
                s_.A[i] = live ? in_.A[d * N + n] : T(0);
                s_.A2[i] = s_.A[i] * log2e;
                s_.B[i] = live && !in_.B_selective ? in_.B[d * N + n] : T(0);
                s_.C[i] = live && !in_.C_selective ? in_.C[d * N + n] : T(0);
                s_.h0[i] = T(0);  // channels past the width keep a zero state
                // dL/dh after the last step: whatever flows into last_state, else nothing.
                s_.dh[i] = live && dlast ? dlast[c * N + n] : T(0);
                s_.dA[i] = s_.dB[i] = s_.dC[i] = T(0);
            }
            s_.D[c] = live && in_.D ? in_.D[d] : T(0);
            s_.delta_bias[c] = live && in_.delta_bias ? in_.delta_bias[d] : T(0);
            s_.dD[c] = s_.ddelta_bias[c] = T(0);
        }
    }

    // The per-step factors of the chunk, shared by every state, computed once in row space:
    // dt and softplus'(delta + bias) from one exp; with the gate out = y silu(z), s = sigmoid(z)
    // gives dL/dy = dout z s and the factor dout silu'(z) = dout s (1 + z (1 - s)) that finish()
    // multiplies by y for dz, so z and dout are read once per chunk.
    void prepare(const TileChunk& chunk) {
        auto same = [](V x) { return x; };
        T* const u_rows = s_.u;
        T* const dt_rows = s_.dt;
        T* const dtu_rows = s_.dtu;
        T* const dsoftplus_rows = s_.dsoftplus;
        T* const dy_rows = s_.dy;
        T* const gate_rows = s_.gate;
        T* const y_rows = s_.y;
        T* const g_B_rows = s_.g_B;
        T* const g_Aw_rows = s_.g_Aw;
        load_chunk<V>(chunk, u_rows, same, in_.u);
        load_chunk<V>(chunk, dt_rows, same, in_.delta);
        load_chunk<V>(chunk, dy_rows, same, bin_.dout);
        if (in_.z) load_chunk<V>(chunk, gate_rows, same, in_.z);
        const bool softplus = in_.delta_softplus, gated = in_.z != nullptr;
        const T* const D = s_.D;
        const T* const delta_bias = s_.delta_bias;
        const V one = V::broadcast(1);
        const int64_t end = chunk.chunk.len * kTileRow;
        for (int64_t i = 0; i < end; i += kLanes) {
            // 6 a step of each level: most of both queues (up to 7 sequences of 16 rows of up to 5
            // lines each) go out during this pass; recompute and backpropagate issue the rest.
            prefetcher_.issue(6);
            const int64_t c = i % kTileRow;
            const V u = V::load(u_rows + i);
            const V raw = V::load(dt_rows + i) + V::load(delta_bias + c);
            V dt = raw;
            if (softplus) {
                V dsoftplus;
                dt = vmath::softplus_with_derivative(raw, dsoftplus);
                dsoftplus.store(dsoftplus_rows + i);
            }
            dt.store(dt_rows + i);
            (dt * u).store(dtu_rows + i);
            if (gated) {
                const V z = V::load(gate_rows + i), dout = V::load(dy_rows + i);
                const V s = vmath::sigmoid(z);
                (dout * (z * s)).store(dy_rows + i);
                (dout * s * mul_add(z, one - s, one)).store(gate_rows + i);
                (V::load(D + c) * u).store(y_rows + i);
            }
            V::zero().store(g_B_rows + i);
            V::zero().store(g_Aw_rows + i);
        }
    }

    // du, ddelta and dz from the sums over states; dD and ddelta_bias summed over the chunk.
    void finish(const TileChunk& chunk) {
        const T* const u_rows = s_.u;
        const T* const dt_rows = s_.dt;
        const T* const dy_rows = s_.dy;
        const T* const dsoftplus_rows = s_.dsoftplus;
        const T* const gate_rows = s_.gate;
        T* const y_rows = s_.y;           // y, then dz
        T* const du_rows = s_.g_B;        // g_B, then du
        T* const ddelta_rows = s_.g_Aw;   // g_Aw, then ddelta
        const bool softplus = in_.delta_softplus, gated = in_.z != nullptr;
        for (int64_t c = 0; c < kChannelTile; c += kLanes) {
            V dD = V::zero(), ddelta_bias = V::zero();
            const V D = V::load(s_.D + c);
            for (int64_t step = 0; step < chunk.chunk.len; ++step) {
                const int64_t i = step * kTileRow + c;
                const V u = V::load(u_rows + i), dy = V::load(dy_rows + i), g_B = V::load(du_rows + i);
                const V ddt = mul_add(u, g_B, V::load(ddelta_rows + i));
                const V ddelta = softplus ? ddt * V::load(dsoftplus_rows + i) : ddt;
                mul_add(V::load(dt_rows + i), g_B, D * dy).store(du_rows + i);
                ddelta.store(ddelta_rows + i);
                if (gated) (V::load(y_rows + i) * V::load(gate_rows + i)).store(y_rows + i);
                dD = mul_add(dy, u, dD);
                ddelta_bias = ddelta_bias + ddelta;
            }
            (V::load(s_.dD + c) + dD).store(s_.dD + c);
            (V::load(s_.ddelta_bias + c) + ddelta_bias).store(s_.ddelta_bias + c);
        }
        auto same = [](V x) { return x; };
        store_chunk<V>(chunk, du_rows, out_.du, same);
        store_chunk<V>(chunk, ddelta_rows, out_.ddelta, same);
        if (gated) store_chunk<V>(chunk, y_rows, out_.dz, same);
    }

    // States n0 .. N-1 in blocks of S, then of S / 2, ... for the remainder. The forward's
    // scan_state_blocks has the same shape; a shared helper taking the block loop as a lambda was
    // tried (2026-11-28) and made GCC 12 call the S = 4 loops out of line instead of inlining them
    // into run_chunk: forward+backward 7% slower at (2, 384, 1024, 16) on one thread, forward unchanged.
    template <int S>
    void state_blocks(int64_t n0, const ScanChunk& chunk) {
        for (; n0 + S <= in_.N; n0 += S) {
            if (in_.B_selective && in_.C_selective)
                states<S, true, true>(n0, chunk);
            else if (in_.B_selective)
                states<S, true, false>(n0, chunk);
            else if (in_.C_selective)
                states<S, false, true>(n0, chunk);
            else
                states<S, false, false>(n0, chunk);
        }
        if constexpr (S > 1) state_blocks<S / 2>(n0, chunk);
    }

    template <int S, bool B_selective, bool C_selective>
    void states(int64_t n0, const ScanChunk& chunk) {
        if (accumulate_) {
            recompute<S, B_selective, C_selective, true>(n0, chunk);
            backpropagate<S, B_selective, C_selective, true>(n0, chunk);
        } else {
            recompute<S, B_selective, C_selective, false>(n0, chunk);
            backpropagate<S, B_selective, C_selective, false>(n0, chunk);
        }
        if (shared_dB_) return;  // the slab reduces the shared records
        reduce_block_records<V, S>(B_selective ? s_.dB_records : nullptr, C_selective ? s_.dC_records : nullptr, n0,
                                   chunk, in_.L, targets_.dB_block, targets_.dC_block);
    }

    // Vector v of a tile row of state n in a [N][kTileRow] array; of (step, state j) in a history.
    static int64_t state_at(int64_t n, int v) { return n * kTileRow + v * kLanes; }
    static int64_t history_at(int64_t step, int j, int v) { return (step * kStateBlock + j) * kTileRow + v * kLanes; }

    // A step's selective dB or dC terms of the block's S states, folded into the step's record
    // (vec_fold.h), stored there or, after the slab's first item, added to it.
    template <bool Accumulate, int S>
    static void keep_record(T* record, const V (&terms)[S]) {
        const V folded = fold_states<S>(terms);
        (Accumulate ? V::load(record) + folded : folded).store(record);
    }

    template <int S, bool B_selective, bool C_selective, bool Accumulate>
    void recompute(int64_t n0, const ScanChunk& chunk) {
        const int64_t L = in_.L;
        const T* const B_rows = B_selective ? in_.B + in_.block_offset(w_.b, w_.g) + n0 * L : s_.B + n0 * kTileRow;
        const T* const C_rows = C_selective ? in_.C + in_.block_offset(w_.b, w_.g) + n0 * L : s_.C + n0 * kTileRow;
        const T* const dt_rows = s_.dt;
        const T* const dtu_rows = s_.dtu;
        const T* const dy_rows = s_.dy;
        T* const y_rows = s_.y;
        T* const decay = s_.decay;
        T* const previous_state = s_.previous_state;
        T* const dC_records = shared_dC_ ? shared_dC_ + n0 * kChunkRows : s_.dC_records;
        const bool gated = in_.z != nullptr;
        V h[S][kVectors], A2[S][kVectors], dC[S][kVectors];
        for (int j = 0; j < S; ++j) {
            for (int v = 0; v < kVectors; ++v) {
                h[j][v] = V::load(s_.h0 + state_at(n0 + j, v));
                A2[j][v] = V::load(s_.A2 + state_at(n0 + j, v));
                dC[j][v] = V::zero();
            }
        }
        const int64_t len = chunk.len;
        ChunkPrefetcher<T>& prefetcher = prefetcher_;
        for (int64_t step = 0; step < len; ++step) {
            prefetcher.issue(2);
            const int64_t t = chunk.time(step);
            const int64_t row = step * kTileRow;
            V dC_terms[S];  // selective C: this step's dy h per state, summed over the tile's vectors
            for (int v = 0; v < kVectors; ++v) {
                const V dt = V::load(dt_rows + row + v * kLanes), dtu = V::load(dtu_rows + row + v * kLanes);
                const V dy = V::load(dy_rows + row + v * kLanes);
                V y = V::zero();
                for (int j = 0; j < S; ++j) {
                    const V B = B_selective ? V::broadcast(B_rows[j * L + t]) : V::load(B_rows + state_at(j, v));
                    const V C = C_selective ? V::broadcast(C_rows[j * L + t]) : V::load(C_rows + state_at(j, v));
                    const V a = vmath::exp2(dt * A2[j][v]);
                    a.store(decay + history_at(step, j, v));
                    h[j][v].store(previous_state + history_at(step, j, v));
                    h[j][v] = mul_add(a, h[j][v], dtu * B);
                    if (gated) y = mul_add(C, h[j][v], y);
                    if (C_selective)
                        dC_terms[j] = v == 0 ? dy * h[j][v] : mul_add(dy, h[j][v], dC_terms[j]);
                    else
                        dC[j][v] = mul_add(dy, h[j][v], dC[j][v]);
                }
                if (gated) (V::load(y_rows + row + v * kLanes) + y).store(y_rows + row + v * kLanes);
            }
            if constexpr (C_selective) keep_record<Accumulate>(dC_records + step * kLanes, dC_terms);
        }
        if (!C_selective) {
            for (int j = 0; j < S; ++j)
                for (int v = 0; v < kVectors; ++v)
                    (V::load(s_.dC + state_at(n0 + j, v)) + dC[j][v]).store(s_.dC + state_at(n0 + j, v));
        }
    }

    template <int S, bool B_selective, bool C_selective, bool Accumulate>
    void backpropagate(int64_t n0, const ScanChunk& chunk) {
        const int64_t L = in_.L;
        const T* const B_rows = B_selective ? in_.B + in_.block_offset(w_.b, w_.g) + n0 * L : s_.B + n0 * kTileRow;
        const T* const C_rows = C_selective ? in_.C + in_.block_offset(w_.b, w_.g) + n0 * L : s_.C + n0 * kTileRow;
        const T* const dt_rows = s_.dt;
        const T* const dtu_rows = s_.dtu;
        const T* const dy_rows = s_.dy;
        const T* const decay = s_.decay;
        const T* const previous_state = s_.previous_state;
        T* const g_B_rows = s_.g_B;
        T* const g_Aw_rows = s_.g_Aw;
        T* const dB_records = shared_dB_ ? shared_dB_ + n0 * kChunkRows : s_.dB_records;
        V dh[S][kVectors], A[S][kVectors], dA[S][kVectors], dB[S][kVectors];
        for (int j = 0; j < S; ++j) {
            for (int v = 0; v < kVectors; ++v) {
                dh[j][v] = V::load(s_.dh + state_at(n0 + j, v));
                A[j][v] = V::load(s_.A + state_at(n0 + j, v));
                dA[j][v] = dB[j][v] = V::zero();
            }
        }
        // This pass issues prefetches too: with N = 1 (one block of states) the prepare and recompute
        // loops alone have fewer steps than the queues have lines, and what is left unissued when the
        // next chunk's plan() comes is never fetched.
        ChunkPrefetcher<T>& prefetcher = prefetcher_;
        for (int64_t step = chunk.len - 1; step >= 0; --step) {
            prefetcher.issue(3);
            const int64_t t = chunk.time(step);
            const int64_t row = step * kTileRow;
            V dB_terms[S];  // selective B: this step's g dt u per state, summed over the tile's vectors
            for (int v = 0; v < kVectors; ++v) {
                const V dt = V::load(dt_rows + row + v * kLanes), dtu = V::load(dtu_rows + row + v * kLanes);
                const V dy = V::load(dy_rows + row + v * kLanes);
                V g_B = V::zero(), g_Aw = V::zero();
                for (int j = 0; j < S; ++j) {
                    const V B = B_selective ? V::broadcast(B_rows[j * L + t]) : V::load(B_rows + state_at(j, v));
                    const V C = C_selective ? V::broadcast(C_rows[j * L + t]) : V::load(C_rows + state_at(j, v));
                    const V g = mul_add(dy, C, dh[j][v]);
                    dh[j][v] = V::load(decay + history_at(step, j, v)) * g;
                    const V w = dh[j][v] * V::load(previous_state + history_at(step, j, v));
                    if (B_selective)
                        dB_terms[j] = v == 0 ? g * dtu : mul_add(g, dtu, dB_terms[j]);
                    else
                        dB[j][v] = mul_add(g, dtu, dB[j][v]);
                    dA[j][v] = mul_add(dt, w, dA[j][v]);
                    g_Aw = mul_add(A[j][v], w, g_Aw);
                    g_B = mul_add(g, B, g_B);
                }
                (V::load(g_B_rows + row + v * kLanes) + g_B).store(g_B_rows + row + v * kLanes);
                (V::load(g_Aw_rows + row + v * kLanes) + g_Aw).store(g_Aw_rows + row + v * kLanes);
            }
            if constexpr (B_selective) keep_record<Accumulate>(dB_records + step * kLanes, dB_terms);
        }
        for (int j = 0; j < S; ++j) {
            for (int v = 0; v < kVectors; ++v) {
                const int64_t i = state_at(n0 + j, v);
                dh[j][v].store(s_.dh + i);
                (V::load(s_.dA + i) + dA[j][v]).store(s_.dA + i);
                if (!B_selective) (V::load(s_.dB + i) + dB[j][v]).store(s_.dB + i);
            }
        }
    }

    void write_totals() {
        const int64_t N = in_.N;
        for (int64_t c = 0; c < w_.width; ++c) {
            const int64_t d = w_.d_begin + c;
            for (int64_t n = 0; n < N; ++n) {
                const int64_t i = n * kTileRow + c;
                targets_.dA[d * N + n] = s_.dA[i];
                if (!in_.B_selective) targets_.dB_rows[d * N + n] = s_.dB[i];
                if (!in_.C_selective) targets_.dC_rows[d * N + n] = s_.dC[i];
            }
            if (targets_.dD) targets_.dD[d] = s_.dD[c];
            if (targets_.ddelta_bias) targets_.ddelta_bias[d] = s_.ddelta_bias[c];
        }
    }

    const ScanInputs<T>& in_;
    const ScanWorkItem& w_;
    const BackwardInputs<T>& bin_;
    const BackwardOutputs<T>& out_;
    const ItemTargets<T>& targets_;
    BackwardScratch<T> s_;
    ChunkPrefetcher<T> prefetcher_;
    T* const shared_dB_;
    T* const shared_dC_;
    bool accumulate_ = false;
};

// A slab: count (<= kMaxSlabTiles) work items of consecutive tiles of one (batch, group), run chunk
// by chunk, one item after another inside each chunk. Their per-channel terms of selective dB and dC
// are folded and summed lane by lane in shared records, in item order, and reduced over the lanes
// once per chunk into dB_block and dC_block ((N, L) each): one horizontal sum per slab instead of
// one per item.
// Each item's other sums go to its own targets. scratch: backward_slab_scratch_elements(N, count).
template <class V>
void backward_slab(const ScanInputs<typename V::Scalar>& in, const ScanWorkItem* items, int count,
                   const BackwardInputs<typename V::Scalar>& bin, const BackwardOutputs<typename V::Scalar>& out,
                   const ItemTargets<typename V::Scalar>* targets, typename V::Scalar* dB_block,
                   typename V::Scalar* dC_block, typename V::Scalar* scratch) {
    using T = typename V::Scalar;
    const int64_t item_elements = BackwardScratch<T>::item_elements(in.N);
    T* const item_scratch = scratch + BackwardScratch<T>::chunk_elements();
    T* const dB_records = item_scratch + count * item_elements;
    T* const dC_records = dB_records + in.N * kChunkRows;
    std::optional<BackwardItem<V>> slab[kMaxSlabTiles];
    for (int i = 0; i < count; ++i) {
        slab[i].emplace(in, items[i], bin, out, targets[i], scratch, item_scratch + i * item_elements, dB_records,
                        dC_records);
        slab[i]->start();
    }
    // The slab runs (chunk, item) units in the order n_chunks - 1 .. 0, and items 0 .. count - 1
    // inside each; the unit at position q of that order, if there is one, is what to prefetch. (Slabs
    // run only from N = 4 (slab_tiles), where far_prefetch_pays is false today; the far unit is kept
    // so that the slab stays right if that limit changes.)
    const int64_t n_chunks = scan_num_chunks(in.L);
    auto unit = [&](int64_t q, std::optional<TileChunk>& chunk) -> const TileChunk* {
        if (q >= n_chunks * count) return nullptr;
        chunk.emplace(slab[q % count]->tile_chunk(n_chunks - 1 - q / count));
        return &*chunk;
    };
    for (int64_t k = n_chunks - 1; k >= 0; --k) {
        for (int i = 0; i < count; ++i) {
            const int64_t q = (n_chunks - 1 - k) * count + i;
            std::optional<TileChunk> next, far;
            slab[i]->run_chunk(k, unit(q + 1, next), far_prefetch_pays(in.N) ? unit(q + 2, far) : nullptr,
                               i > 0);
        }
        reduce_state_records<V, BackwardItem<V>::kStateBlock>(in.B_selective ? dB_records : nullptr,
                                                              in.C_selective ? dC_records : nullptr, 0, in.N,
                                                              ScanChunk(k, in.L, in.reverse), in.L, dB_block,
                                                              dC_block);
    }
    for (int i = 0; i < count; ++i) slab[i]->finish_item();
}

// With one state, on the vector types that set kOneStateAlongTime, vectors along time
// (scan_kernel_bwd_one_state.h); else lanes = channels.
template <class V>
void backward_item(const ScanInputs<typename V::Scalar>& in, const ScanWorkItem& w,
                   const BackwardInputs<typename V::Scalar>& bin, const BackwardOutputs<typename V::Scalar>& out,
                   const ItemTargets<typename V::Scalar>& targets, typename V::Scalar* scratch) {
    if constexpr (V::kOneStateAlongTime) {
        if (in.N == 1) return BackwardItemOneState<V>(in, w, bin, out, targets).run();
    }
    BackwardItem<V>(in, w, bin, out, targets, scratch).run();
}

}  // namespace ssmb::cpu
