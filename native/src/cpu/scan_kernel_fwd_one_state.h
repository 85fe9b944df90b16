// Forward selective scan of one work item with a single state (N = 1) on a vector type V
// (vec_scalar.h) whose lanes are kLanes consecutive times of one channel, not channels.
//
// With one state the tile layout of scan_kernel_fwd.h costs more than the scan itself: every chunk
// moves u, delta and out through 16 x 16 transposes and scratch rows, and issues software prefetches
// for 64 short streams (bench/RESULTS.md, "Where the N = 1 forward's cycles go"). Here each channel's
// sequences are read and written where they are, as whole vectors, a channel at a time, so the
// hardware prefetchers follow them. The recurrence h_t = a_t h_{t-1} + b_t (a_t = exp(dt A),
// b_t = dt u B_t) runs inside a vector as a prefix scan: after log2(kLanes) rounds of
//   b_i += a_i b_{i-s},  a_i *= a_{i-s}    (s = 1, 2, 4, ...; lanes below s unchanged)
// lane i holds the product of the a's up to it and the recurrence started from h = 0, so
// h_i = a_i h_in + b_i with h_in the state carried in from the previous vector. A reverse scan does
// the same towards lower lanes. The sums are associated differently than one step at a time, so
// values differ from the tile kernel by rounding only; they do not depend on the thread count.
#pragma once

#include <algorithm>
#include <cstdint>

#include "cpu/selective_scan_cpu.h"
#include "cpu/simd_target.h"
#include "common/scan_math.h"
#include "cpu/vec_math.h"
#include "cpu/vec_pack.h"
#include "cpu/scan_one_state.h"

namespace ssmb::cpu {

template <class V>
class ForwardItemOneState {
public:
    using T = typename V::Scalar;
    static constexpr int kLanes = V::kLanes;
    // Channels run together (vec_pack.h), so that their chains interleave: with 32 AVX-512 registers,
    // 4 was measured faster than 2 and 8 (which spills) on Zen 4.
    static constexpr int kChannels = 4;

    ForwardItemOneState(const ScanInputs<T>& in, const ScanWorkItem& w, const ForwardOutputs<T>& out)
        : in_(in), w_(w), out_(out) {}

    void run() {
        for_channel_groups<kChannels>(w_, in_.reverse, [this](auto k, auto reverse, int64_t d0) {
            this->template run_channels<decltype(k)::value, decltype(reverse)::value>(d0);
        });
    }

private:
    using TV = TimeVectors<V>;
    using Span = typename TV::Span;
    template <int K>
    using Channels = OneStateChannels<V, K>;

    // One vector of times of K channels: h carries the state in and out (in every lane). full: a
    // whole vector, else the last, partial one of the scan (SpanRows).
    template <int K, bool reverse, bool full>
    SSMB_ALWAYS_INLINE void scan_vector(const Channels<K>& c, const Span& span, Pack<V, K>& h) const {
        using P = Pack<V, K>;
        const SpanRows<V, K, full> io{span, c.row, in_.L};
        const P u = io.rows(in_.u);
        P dt = io.rows(in_.delta) + c.bias;
        if (in_.delta_softplus) dt = vmath::softplus(dt);
        // Lanes outside the span: dt = 0 and u = 0 make a = 1 and b = 0, which carry the state
        // through unchanged.
        if constexpr (!full) dt = dt * io.existing();
        const P B = io.per_time(c.B_row, c.B_const);
        P a = vmath::exp2(dt * c.A2);
        P b = dt * u * B;
        TV::template compose<reverse>(a, b);
        const P hv = mul_add(a, h, b);
        h = reverse ? broadcast_first(hv) : broadcast_last(hv);
        const P C = io.per_time(c.C_row, c.C_const);
        P y = mul_add(C, hv, c.D * u);
        if (in_.z) y = y * vmath::silu(io.rows(in_.z));
        io.store_rows(y, out_.out);
    }

    // Channels d0 .. d0 + K - 1.
    template <int K, bool reverse>
    void run_channels(int64_t d0) {
        using P = Pack<V, K>;
        Channels<K> c(in_, w_, d0);
        const int64_t n_chunks = scan_num_chunks(in_.L);
        P h = P::zero();  // the state carried in, in every lane
        for (int64_t k = 0; k < n_chunks; ++k) {
            for (int j = 0; j < K; ++j)
                out_.chunk_states[in_.chunk_state_offset(w_.b, d0 + j, k)] = TV::first_lane(h.v[j]);
            const ScanChunk chunk(k, in_.L, reverse);
            // Scan steps step .. step + count - 1 in lane order, or (reverse) against it. A
            // reverse scan is the forward scan's arithmetic mirrored, so it gives the same bits
            // as a forward scan of time-flipped inputs; at the end of a sequence too, where the
            // lanes that come after the last step in scan order hold the identity map
            // (TimeVectors::Span), which composes exactly.
            int64_t step = 0;
            for (; step + kLanes <= chunk.len; step += kLanes)
                scan_vector<K, reverse, true>(c, TV::span(chunk, step, kLanes), h);
            if (step < chunk.len) scan_vector<K, reverse, false>(c, TV::span(chunk, step, chunk.len - step), h);
        }
        if (out_.last_state)
            for (int j = 0; j < K; ++j) out_.last_state[in_.state_offset(w_.b, d0 + j)] = TV::first_lane(h.v[j]);
    }

    const ScanInputs<T>& in_;
    const ScanWorkItem& w_;
    const ForwardOutputs<T>& out_;
};

}  // namespace ssmb::cpu
