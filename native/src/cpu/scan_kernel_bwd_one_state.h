// Backward selective scan of one work item with a single state (N = 1), with vectors along time as
// in scan_kernel_fwd_one_state.h: a vector's lanes are kLanes consecutive times of one channel, and
// kChannels channels run together (vec_pack.h). Chunks go from last to first in scan order; in each chunk
//   - the recompute pass runs the forward from the state saved before the chunk, a vector at a time
//     (prefix scan inside the vector), and keeps each step's a_t = exp(dt A), dt, softplus'(delta +
//     bias), dL/dy and h_{t-1} in a small history; it adds dy h_t into dC and dy u into dD, and
//     writes dz (out = y silu(z), y = C h + D u);
//   - the backward pass walks the chunk's vectors in reverse. dL/dh_t obeys
//       g_t = dy_t C_t + a_{t+1} g_{t+1},
//     a linear recurrence in the opposite direction, which runs inside a vector as the same prefix
//     scan of affine maps with the decays shifted by one lane; the state carried between vectors
//     is dh = a g of the vector's first step (dL/dh before it). Then, with w = a g h_{t-1},
//       dA += dt w,  dB_t += g dt u,  ddt = g u B + A w,  du = g dt B + D dy.
// Selective dB and dC sum over the item's channels: each vector adds its channels' sum into the
// item's (1, L) block, which run() zeroes first. Sums over time (dA, time-invariant dB and dC, dD,
// ddelta_bias) are kept a lane per time of the vector and summed over the lanes at the end. Values
// differ from the tile kernel (scan_kernel_bwd.h) by rounding only and do not depend on the thread
// count.
#pragma once

#include <algorithm>
#include <cstdint>

#include "common/scan_math.h"
#include "cpu/scan_one_state.h"
#include "cpu/selective_scan_cpu.h"
#include "cpu/simd_target.h"
#include "cpu/vec_math.h"
#include "cpu/vec_pack.h"

namespace ssmb::cpu {

template <class V>
class BackwardItemOneState {
public:
    using T = typename V::Scalar;
    static constexpr int kLanes = V::kLanes;
    // Channels run together (vec_pack.h). The backward keeps more values live than the forward: 2 was
    // measured 2-6% faster than 4 and 3 about 3% (paired runs on the two cores of a Zen 4 VM, in L2
    // and from memory).
    static constexpr int kChannels = 2;
    static constexpr int kChunkVectors = static_cast<int>((kScanChunkSize + kLanes - 1) / kLanes);

    BackwardItemOneState(const ScanInputs<T>& in, const ScanWorkItem& w, const BackwardInputs<T>& bin,
                         const BackwardOutputs<T>& out, const ItemTargets<T>& targets)
        : in_(in), w_(w), bin_(bin), out_(out), targets_(targets) {}

    void run() {
        if (in_.B_selective) std::fill(targets_.dB_block, targets_.dB_block + in_.L, T(0));
        if (in_.C_selective) std::fill(targets_.dC_block, targets_.dC_block + in_.L, T(0));
        for_channel_groups<kChannels>(w_, in_.reverse, [this](auto k, auto reverse, int64_t d0) {
            this->template run_channels<decltype(k)::value, decltype(reverse)::value>(d0);
        });
    }

private:
    using TV = TimeVectors<V>;
    using Span = typename TV::Span;

    template <int K>
    using Channels = OneStateChannels<V, K>;

    // What the recompute pass keeps of each vector of the chunk for the backward pass.
    template <int K>
    struct History {
        Pack<V, K> a[kChunkVectors], dt[kChunkVectors], dsoftplus[kChunkVectors], dy[kChunkVectors],
            h_prev[kChunkVectors];
    };

    // Sums over time, a lane per time of the vector.
    template <int K>
    struct Sums {
        Pack<V, K> dA, dB, dC, dD, ddelta_bias;
    };

    // The forward over one vector from the state h (in every lane; updated), keeping its history.
    template <int K, bool reverse, bool full>
    SSMB_ALWAYS_INLINE void recompute(const Channels<K>& c, const Span& span, Pack<V, K>& h, History<K>& hist,
                                      int v, Sums<K>& sums) const {
        using P = Pack<V, K>;
        const SpanRows<V, K, full> io{span, c.row, in_.L};
        const P u = io.rows(in_.u);
        P dt = io.rows(in_.delta) + c.bias;
        P dsoftplus = P::broadcast(T(1));
        if (in_.delta_softplus) dt = vmath::softplus_with_derivative(dt, dsoftplus);
        // Lanes outside the span: dt = 0 and u = 0 make a = 1 and b = 0, the identity map.
        if constexpr (!full) dt = dt * io.existing();
        const P B = io.per_time(c.B_row, c.B_const);
        const P a = vmath::exp2(dt * c.A2);
        P a_scan = a, b = dt * u * B;
        TV::template compose<reverse>(a_scan, b);
        const P hv = mul_add(a_scan, h, b);
        hist.h_prev[v] = reverse ? shift_down(hv, h, Lanes<1>()) : shift_up(hv, h, Lanes<1>());
        h = reverse ? broadcast_first(hv) : broadcast_last(hv);
        const P C = io.per_time(c.C_row, c.C_const);
        P dy = io.rows(bin_.dout);  // 0 outside the span
        if (in_.z) {
            const P z = io.rows(in_.z), one = P::broadcast(T(1));
            const P s = vmath::sigmoid(z), y = mul_add(C, hv, c.D * u);
            io.store_rows(dy * s * mul_add(z, one - s, one) * y, out_.dz);
            dy = dy * (z * s);
        }
        if (c.C_row) io.add_sum(targets_.dC_block, dy * hv);
        else sums.dC = mul_add(dy, hv, sums.dC);
        sums.dD = mul_add(dy, u, sums.dD);
        hist.a[v] = a;
        hist.dt[v] = dt;
        hist.dsoftplus[v] = dsoftplus;
        hist.dy[v] = dy;
    }

    // The backward over one vector: dh (dL/dh after its last step, in every lane) becomes dL/dh
    // before its first.
    template <int K, bool reverse, bool full>
    SSMB_ALWAYS_INLINE void backpropagate(const Channels<K>& c, const Span& span, Pack<V, K>& dh,
                                          const Pack<V, K>& A, const History<K>& hist, int v, Sums<K>& sums) const {
        using P = Pack<V, K>;
        const SpanRows<V, K, full> io{span, c.row, in_.L};
        const P a = hist.a[v], dt = hist.dt[v], dy = hist.dy[v];
        const P B = io.per_time(c.B_row, c.B_const);
        const P C = io.per_time(c.C_row, c.C_const);
        const P u = io.rows(in_.u);
        // g_i = dy_i C_i + a_{i+1} g_{i+1}: the maps (a_{i+1}, dy_i C_i) composed against the scan's
        // direction; the lane that comes last in scan order takes dh with factor 1.
        const P one = P::broadcast(T(1));
        P a_next = reverse ? shift_up(a, one, Lanes<1>()) : shift_down(a, one, Lanes<1>());
        P g = dy * C;
        TV::template compose<!reverse>(a_next, g);
        g = mul_add(a_next, dh, g);
        const P ag = a * g;  // dL/dh_{t-1}
        dh = reverse ? broadcast_last(ag) : broadcast_first(ag);
        const P w = ag * hist.h_prev[v];
        sums.dA = mul_add(dt, w, sums.dA);
        const P g_dt = g * dt;
        if (c.B_row) io.add_sum(targets_.dB_block, g_dt * u);
        else sums.dB = mul_add(g_dt, u, sums.dB);
        P ddelta = mul_add(g * u, B, A * w);
        if (in_.delta_softplus) ddelta = ddelta * hist.dsoftplus[v];
        if constexpr (!full) ddelta = ddelta * io.existing();
        sums.ddelta_bias = sums.ddelta_bias + ddelta;
        io.store_rows(mul_add(g_dt, B, c.D * dy), out_.du);
        io.store_rows(ddelta, out_.ddelta);
    }

    // Channels d0 .. d0 + K - 1, whose rows follow each other L apart.
    template <int K, bool reverse>
    void run_channels(int64_t d0) {
        using P = Pack<V, K>;
        const int64_t L = in_.L;
        const Channels<K> c(in_, w_, d0);
        const P A = Channels<K>::per_channel(in_.A, d0, T(1));
        // dL/dh after the last step: whatever flows into last_state, else nothing.
        const T* const dlast = bin_.dlast_state ? bin_.dlast_state + in_.state_offset(w_.b, 0) : nullptr;
        P dh = Channels<K>::per_channel(dlast, d0, T(1));
        Sums<K> sums{P::zero(), P::zero(), P::zero(), P::zero(), P::zero()};
        History<K> hist;
        for (int64_t k = scan_num_chunks(L) - 1; k >= 0; --k) {
            const ScanChunk chunk(k, L, reverse);
            P h;
            for (int j = 0; j < K; ++j)
                h.v[j] = V::broadcast(bin_.chunk_states[in_.chunk_state_offset(w_.b, d0 + j, k)]);
            const int whole = static_cast<int>(chunk.len / kLanes);
            const int64_t rest = chunk.len - whole * int64_t(kLanes);
            // The lines of the chunk after next (64 bytes = one vector of times) come into L2 while
            // this one runs, a line of every row per vector of the recompute. Without software
            // prefetch the 7 sequences of 4 channels (2 now), walked backwards a chunk at a time,
            // outran the hardware prefetchers (6.1 s per G elements from memory on one Zen 4 thread,
            // the tile kernel 4.0); into L1 one chunk ahead, 6.2; into L1 for writing, 4.6; into L2
            // two chunks ahead, reads and writes alike, 3.8-3.9; four chunks ahead, 3.9-4.3.
            const int64_t far_lowest = k > 1 ? ScanChunk(k - 2, L, reverse).lowest_time() : -1;
            auto prefetch_far = [&](int v) {
                if (far_lowest < 0) return;
                const int64_t t = c.row + far_lowest + v * int64_t(kLanes);
                for (int j = 0; j < K; ++j) {
                    const int64_t at = t + j * L;
                    prefetch_to_l2(in_.u + at);
                    prefetch_to_l2(in_.delta + at);
                    prefetch_to_l2(bin_.dout + at);
                    prefetch_to_l2(out_.du + at);
                    prefetch_to_l2(out_.ddelta + at);
                    if (in_.z) {
                        prefetch_to_l2(in_.z + at);
                        prefetch_to_l2(out_.dz + at);
                    }
                }
            };
            for (int v = 0; v < whole; ++v) {
                prefetch_far(v);
                recompute<K, reverse, true>(c, TV::span(chunk, v * int64_t(kLanes), kLanes), h, hist, v, sums);
            }
            if (rest > 0) {
                const Span span = TV::span(chunk, whole * int64_t(kLanes), rest);
                recompute<K, reverse, false>(c, span, h, hist, whole, sums);
                backpropagate<K, reverse, false>(c, span, dh, A, hist, whole, sums);
            }
            for (int v = whole - 1; v >= 0; --v)
                backpropagate<K, reverse, true>(c, TV::span(chunk, v * int64_t(kLanes), kLanes), dh, A, hist, v, sums);
        }
        for (int j = 0; j < K; ++j) {
            const int64_t d = d0 + j;
            targets_.dA[d] = reduce_add(sums.dA.v[j]);
            if (!in_.B_selective) targets_.dB_rows[d] = reduce_add(sums.dB.v[j]);
            if (!in_.C_selective) targets_.dC_rows[d] = reduce_add(sums.dC.v[j]);
            if (targets_.dD) targets_.dD[d] = reduce_add(sums.dD.v[j]);
            if (targets_.ddelta_bias) targets_.ddelta_bias[d] = reduce_add(sums.ddelta_bias.v[j]);
        }
    }

    const ScanInputs<T>& in_;
    const ScanWorkItem& w_;
    const BackwardInputs<T>& bin_;
    const BackwardOutputs<T>& out_;
    const ItemTargets<T>& targets_;
};

}  // namespace ssmb::cpu
