// Helpers of the one-state kernels (scan_kernel_fwd_one_state.h, scan_kernel_bwd_one_state.h), whose
// vectors hold kLanes consecutive times of one channel.
#pragma once

#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "common/scan_math.h"
#include "cpu/selective_scan_cpu.h"
#include "cpu/simd_target.h"
#include "cpu/vec_lanes.h"
#include "cpu/vec_pack.h"

#if defined(_MSC_VER) && !defined(__clang__)
#include <intrin.h>
#endif

namespace ssmb::cpu {

// Fetches the 64-byte line of p into L2 (prefetcht1). An asm statement on GCC and clang: GCC 12
// dropped the __builtin_prefetch calls of the one-state backward's 4-channel loop (it kept those of
// its 1-channel loop).
SSMB_ALWAYS_INLINE void prefetch_to_l2(const void* p) {
#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
    __asm__ volatile("prefetcht1 %0" : : "m"(*static_cast<const char*>(p)));
#elif defined(__GNUC__) || defined(__clang__)
    __builtin_prefetch(p, 0, 2);
#elif defined(_MSC_VER) && (defined(_M_X64) || defined(_M_IX86))
    _mm_prefetch(static_cast<const char*>(p), _MM_HINT_T1);
#else
    (void)p;
#endif
}

template <class V>
struct TimeVectors {
    using T = typename V::Scalar;
    static constexpr int kLanes = V::kLanes;

    // A vector's lanes first .. first + count - 1 hold times lowest .. lowest + count - 1 of a
    // sequence; the other lanes hold the identity map. count < kLanes only at the end of a scan, where
    // a forward scan fills the low lanes (first = 0) and a reverse scan the high ones, so that a
    // reverse scan is a forward scan with the lanes mirrored, partial vectors included.
    struct Span {
        int64_t lowest, count, first;
        bool full() const { return count == kLanes; }
    };

    // The span of scan steps step .. step + count - 1 of chunk, count <= kLanes.
    static Span span(const ScanChunk& chunk, int64_t step, int64_t count) {
        const bool reverse = chunk.direction < 0;
        return Span{std::min(chunk.time(step), chunk.time(step + count - 1)), count, reverse ? kLanes - count : 0};
    }

    // p[lowest + i] in lane first + i, 0 in the other lanes.
    static V load(const T* p, const Span& s) {
        if (s.full()) return V::load(p + s.lowest);
        T buffer[kLanes] = {};
        std::copy(p + s.lowest, p + s.lowest + s.count, buffer + s.first);
        return V::load(buffer);
    }

    static void store(V v, T* p, const Span& s) {
        if (s.full()) return v.store(p + s.lowest);
        T buffer[kLanes];
        v.store(buffer);
        std::copy(buffer + s.first, buffer + s.first + s.count, p + s.lowest);
    }

    // 1 in the span's lanes, 0 in the others.
    static V existing(const Span& s) {
        T mask[kLanes] = {};
        for (int64_t i = 0; i < s.count; ++i) mask[s.first + i] = T(1);
        return V::load(mask);
    }

    static T first_lane(V v) {
        T buffer[kLanes];
        v.store(buffer);
        return buffer[0];
    }

    // The prefix scan of the affine maps (a_i, b_i) towards higher lanes (forward) or lower ones.
    template <bool reverse, int s = 1, class P>
    SSMB_ALWAYS_INLINE static void compose(P& a, P& b) {
        if constexpr (s < kLanes) {
            const P one = P::broadcast(T(1));
            if constexpr (reverse) {
                b = mul_add(a, shift_down(b, P::zero(), Lanes<s>()), b);
                a = a * shift_down(a, one, Lanes<s>());
            } else {
                b = mul_add(a, shift_up(b, P::zero(), Lanes<s>()), b);
                a = a * shift_up(a, one, Lanes<s>());
            }
            compose<reverse, 2 * s>(a, b);
        }
    }
};

// Channels d0 .. d0 + K - 1 of a work item, run together (vec_pack.h): where their rows are (they
// follow each other L apart from row) and their constants, each in every lane of its member.
template <class V, int K>
struct OneStateChannels {
    using T = typename V::Scalar;
    using P = Pack<V, K>;
    int64_t row;
    const T* B_row;  // B_t, C_t of the item's batch and group where selective, else null
    const T* C_row;
    P A2, B_const, C_const, D, bias;  // A2 = A log2(e); a constant absent from the inputs is 0

    OneStateChannels(const ScanInputs<T>& in, const ScanWorkItem& w, int64_t d0)
        : row(in.row_offset(w.b, d0)),
          B_row(in.B_selective ? in.B + in.block_offset(w.b, w.g) : nullptr),
          C_row(in.C_selective ? in.C + in.block_offset(w.b, w.g) : nullptr),
          A2(per_channel(in.A, d0, T(kLog2e))),
          B_const(per_channel(in.B_selective ? nullptr : in.B, d0, T(1))),
          C_const(per_channel(in.C_selective ? nullptr : in.C, d0, T(1))),
          D(per_channel(in.D, d0, T(1))),
          bias(per_channel(in.delta_bias, d0, T(1))) {}

    // values[d0 + j] * scale in member j (values of a (dim) or, with N = 1, (dim, N) array).
    static P per_channel(const T* values, int64_t d0, T scale) {
        P r;
        for (int j = 0; j < K; ++j) r.v[j] = V::broadcast(values ? values[d0 + j] * scale : T(0));
        return r;
    }
};

// Loads and stores of one span of times of K channels' rows (row: the first channel's, L apart). The
// kernels instantiate their per-vector code for whole vectors (full) and for the last, partial one
// of a scan separately: compiled as one body with a run-time test, GCC kept every row of the
// whole-vector loop on the stack.
template <class V, int K, bool full>
struct SpanRows {
    using T = typename V::Scalar;
    using P = Pack<V, K>;
    const typename TimeVectors<V>::Span span;
    int64_t row, L;

    // p[t] at the span's times, for a sequence shared by the channels.
    SSMB_ALWAYS_INLINE V lanes(const T* p) const {
        if constexpr (full) return V::load(p + span.lowest);
        else return TimeVectors<V>::load(p, span);
    }
    SSMB_ALWAYS_INLINE P rows(const T* seq) const {
        P r;
        for (int j = 0; j < K; ++j) r.v[j] = lanes(seq + row + j * L);
        return r;
    }
    SSMB_ALWAYS_INLINE void store_rows(const P& x, T* seq) const {
        for (int j = 0; j < K; ++j) {
            T* const dst = seq + row + j * L;
            if constexpr (full) x.v[j].store(dst + span.lowest);
            else TimeVectors<V>::store(x.v[j], dst, span);
        }
    }
    // block[t] += the sum of x over the channels, at the span's times.
    SSMB_ALWAYS_INLINE void add_sum(T* block, const P& x) const {
        V sum = x.v[0];
        for (int j = 1; j < K; ++j) sum = sum + x.v[j];
        sum = lanes(block) + sum;
        if constexpr (full) sum.store(block + span.lowest);
        else TimeVectors<V>::store(sum, block, span);
    }
    // B_t or C_t at the span's times in every member where the row is given (selective), else the
    // channels' constants.
    SSMB_ALWAYS_INLINE P per_time(const T* selective_row, const P& constant) const {
        return selective_row ? same(lanes(selective_row)) : constant;
    }
    SSMB_ALWAYS_INLINE static P same(V x) {
        P r;
        for (int j = 0; j < K; ++j) r.v[j] = x;
        return r;
    }
    // 1 in the span's lanes, 0 in the others (1 everywhere for a whole vector).
    SSMB_ALWAYS_INLINE P existing() const { return same(TimeVectors<V>::existing(span)); }
};

// f(std::integral_constant<int, K>(), std::bool_constant<reverse>(), d0) for the item's channels in
// groups of kGroup, then one by one, with d0 the group's first channel.
template <int kGroup, class F>
void for_channel_groups(const ScanWorkItem& w, bool reverse, F&& f) {
    auto run = [&](auto k, int64_t d0) {
        if (reverse)
            f(k, std::true_type(), d0);
        else
            f(k, std::false_type(), d0);
    };
    int64_t c = 0;
    for (; c + kGroup <= w.width; c += kGroup) run(std::integral_constant<int, kGroup>(), w.d_begin + c);
    for (; c < w.width; ++c) run(std::integral_constant<int, 1>(), w.d_begin + c);
}

}  // namespace ssmb::cpu
