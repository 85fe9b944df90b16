// Forward selective scan of one work item on a vector type V (vec_scalar.h) whose lanes are
// channels: a row of the item's tile is kVectors = kChannelTile / kLanes vectors, B_t and C_t of
// a selective projection are broadcast to every lane, and no step needs a horizontal sum.
//
// Per chunk of kScanChunkSize steps: u and delta are transposed into scratch rows and dt and
// dt * u computed once per (step, channel); then, for a block of states whose h stay in
// registers, every step of the chunk runs
//   h_n = exp(dt A_n) h_n + dt u B_n,   y += C_n h_n
// with y in the scratch rows, and at the end out = y * silu(z) goes back transposed. The state
// at each chunk start is saved for the backward.
#pragma once

#include <cstdint>

#include "cpu/scan_chunk_io.h"
#include "cpu/scan_kernel_fwd_one_state.h"
#include "cpu/scan_scratch.h"
#include "cpu/selective_scan_cpu.h"
#include "common/scan_math.h"
#include "cpu/vec_math.h"

namespace ssmb::cpu {

template <class V>
class ForwardItem {
public:
    using T = typename V::Scalar;
    static constexpr int kLanes = V::kLanes;
    static constexpr int kVectors = kChannelTile / kLanes;
    // States per pass over a chunk: about 8 vectors of h (and as many of A) stay in registers.
    static constexpr int kStateBlock = kVectors >= 8 ? 1 : 8 / kVectors;

    ForwardItem(const ScanInputs<T>& in, const ScanWorkItem& w, const ForwardOutputs<T>& out, T* scratch)
        : in_(in), w_(w), out_(out), s_(in.N, scratch) {}

    void run() {
        load_constants();
        for (int64_t i = 0; i < in_.N * kTileRow; ++i) s_.h[i] = T(0);
        const int64_t n_chunks = scan_num_chunks(in_.L);
        for (int64_t k = 0; k < n_chunks; ++k) {
            save_states(out_.chunk_states, [&](int64_t d) { return in_.chunk_state_offset(w_.b, d, k); });
            if (k + 1 < n_chunks) {
                const bool has_far = k + 2 < n_chunks && far_prefetch_pays(in_.N);
                const TileChunk far = tile_chunk(has_far ? k + 2 : k);
                prefetcher_.plan(tile_chunk(k + 1), has_far ? &far : nullptr, {in_.u, in_.delta, in_.z}, {out_.out});
            }
            const TileChunk chunk = tile_chunk(k);
            prepare(chunk);
            scan_state_blocks<kStateBlock>(0, chunk.chunk);
            finish(chunk);
        }
        if (out_.last_state) save_states(out_.last_state, [&](int64_t d) { return in_.state_offset(w_.b, d); });
    }

private:
    TileChunk tile_chunk(int64_t k) const {
        return TileChunk(ScanChunk(k, in_.L, in_.reverse), in_.row_offset(w_.b, w_.d_begin), in_.L, w_.width);
    }

    // A (scaled for exp2), time-invariant B and C, D and delta_bias as tile rows; 0 past the width.
    void load_constants() {
        const T log2e = T(kLog2e);
        const int64_t N = in_.N;
        for (int64_t c = 0; c < kChannelTile; ++c) {
            const bool live = c < w_.width;
            const int64_t d = w_.d_begin + c;
            for (int64_t n = 0; n < N; ++n) {
                s_.A2[n * kTileRow + c] = live ? in_.A[d * N + n] * log2e : T(0);
                s_.B[n * kTileRow + c] = live && !in_.B_selective ? in_.B[d * N + n] : T(0);
                s_.C[n * kTileRow + c] = live && !in_.C_selective ? in_.C[d * N + n] : T(0);
            }
            s_.D[c] = live && in_.D ? in_.D[d] : T(0);
            s_.delta_bias[c] = live && in_.delta_bias ? in_.delta_bias[d] : T(0);
        }
    }

    template <class Offset>
    void save_states(T* dst, Offset offset_of_channel) {
        for (int64_t c = 0; c < w_.width; ++c) {
            T* state = dst + offset_of_channel(w_.d_begin + c);
            for (int64_t n = 0; n < in_.N; ++n) state[n] = s_.h[n * kTileRow + c];
        }
    }

    // dt = softplus(delta + delta_bias) (or without softplus), dt * u, and y = D u to start from.
    void prepare(const TileChunk& chunk) {
        auto same = [](V x) { return x; };
        T* const u_rows = s_.u;
        T* const dt_rows = s_.dt;
        T* const dtu_rows = s_.dtu;
        T* const y_rows = s_.y;
        load_chunk<V>(chunk, u_rows, same, in_.u);
        load_chunk<V>(chunk, dt_rows, same, in_.delta);
        const bool softplus = in_.delta_softplus;
        const T* const D = s_.D;
        const T* const delta_bias = s_.delta_bias;
        const int64_t end = chunk.chunk.len * kTileRow;
        for (int64_t i = 0; i < end; i += kLanes) {
            // 5 a step of each level: both queues (u, delta, z and out, 16 rows of up to 5 lines, of
            // the next chunk and of the one after) go out during this pass.
            prefetcher_.issue(5);
            const int64_t c = i % kTileRow;
            const V u = V::load(u_rows + i);
            V dt = V::load(dt_rows + i) + V::load(delta_bias + c);
            if (softplus) dt = vmath::softplus(dt);
            dt.store(dt_rows + i);
            (dt * u).store(dtu_rows + i);
            (V::load(D + c) * u).store(y_rows + i);
        }
    }

    // out = y * silu(z) (or y), transposed back.
    void finish(const TileChunk& chunk) {
        if (in_.z)
            store_chunk<V>(chunk, s_.y, out_.out, [](V y, V z) { return y * vmath::silu(z); }, in_.z);
        else
            store_chunk<V>(chunk, s_.y, out_.out, [](V y) { return y; });
    }

    // States n0 .. N-1 in blocks of S, then of S / 2, ... for the remainder.
    template <int S>
    void scan_state_blocks(int64_t n0, const ScanChunk& chunk) {
        for (; n0 + S <= in_.N; n0 += S) {
            if (in_.B_selective && in_.C_selective)
                scan_states<S, true, true>(n0, chunk);
            else if (in_.B_selective)
                scan_states<S, true, false>(n0, chunk);
            else if (in_.C_selective)
                scan_states<S, false, true>(n0, chunk);
            else
                scan_states<S, false, false>(n0, chunk);
        }
        if constexpr (S > 1) scan_state_blocks<S / 2>(n0, chunk);
    }

    // The recurrence for states n0 .. n0 + S - 1 over one chunk, adding their C_n h_n into y.
    // Everything the loop reads is copied to locals first: vector stores may alias any memory,
    // and would make the compiler reload the scratch pointers at every step.
    template <int S, bool B_selective, bool C_selective>
    void scan_states(int64_t n0, const ScanChunk& chunk) {
        const int64_t L = in_.L;
        const T* const dt_rows = s_.dt;
        const T* const dtu_rows = s_.dtu;
        T* const y_rows = s_.y;
        // Selective B_t, C_t of state n: row n of the item's (N, L) block; else tile rows.
        const T* const B_rows = B_selective ? in_.B + in_.block_offset(w_.b, w_.g) + n0 * L : s_.B + n0 * kTileRow;
        const T* const C_rows = C_selective ? in_.C + in_.block_offset(w_.b, w_.g) + n0 * L : s_.C + n0 * kTileRow;
        V h[S][kVectors], A2[S][kVectors];
        for (int j = 0; j < S; ++j) {
            for (int v = 0; v < kVectors; ++v) {
                h[j][v] = V::load(s_.h + (n0 + j) * kTileRow + v * kLanes);
                A2[j][v] = V::load(s_.A2 + (n0 + j) * kTileRow + v * kLanes);
            }
        }
        const int64_t len = chunk.len;
        ChunkPrefetcher<T>& prefetcher = prefetcher_;
        for (int64_t step = 0; step < len; ++step) {
            prefetcher.issue(2);
            const int64_t t = chunk.time(step);
            const int64_t row = step * kTileRow;
            V dt[kVectors], dtu[kVectors], y[kVectors];
            for (int v = 0; v < kVectors; ++v) {
                dt[v] = V::load(dt_rows + row + v * kLanes);
                dtu[v] = V::load(dtu_rows + row + v * kLanes);
                y[v] = V::zero();
            }
            for (int j = 0; j < S; ++j) {
                for (int v = 0; v < kVectors; ++v) {
                    const V B = B_selective ? V::broadcast(B_rows[j * L + t]) : V::load(B_rows + j * kTileRow + v * kLanes);
                    const V C = C_selective ? V::broadcast(C_rows[j * L + t]) : V::load(C_rows + j * kTileRow + v * kLanes);
                    const V a = vmath::exp2(dt[v] * A2[j][v]);
                    h[j][v] = mul_add(a, h[j][v], dtu[v] * B);
                    y[v] = mul_add(C, h[j][v], y[v]);
                }
            }
            for (int v = 0; v < kVectors; ++v) (V::load(y_rows + row + v * kLanes) + y[v]).store(y_rows + row + v * kLanes);
        }
        for (int j = 0; j < S; ++j)
            for (int v = 0; v < kVectors; ++v) h[j][v].store(s_.h + (n0 + j) * kTileRow + v * kLanes);
    }

    const ScanInputs<T>& in_;
    const ScanWorkItem& w_;
    const ForwardOutputs<T>& out_;
    ForwardScratch<T> s_;
    ChunkPrefetcher<T> prefetcher_;
};

// With one state, on the vector types that set kOneStateAlongTime, vectors along time
// (scan_kernel_fwd_one_state.h); else lanes = channels.
template <class V>
void forward_item(const ScanInputs<typename V::Scalar>& in, const ScanWorkItem& w,
                  const ForwardOutputs<typename V::Scalar>& out, typename V::Scalar* scratch) {
    if constexpr (V::kOneStateAlongTime) {
        if (in.N == 1) return ForwardItemOneState<V>(in, w, out).run();
    }
    ForwardItem<V>(in, w, out, scratch).run();
}

}  // namespace ssmb::cpu
