// Helpers of the one-state kernels (scan_kernel_fwd_one_state.h, scan_kernel_bwd_one_state.h), whose
// vectors hold kLanes consecutive times of one channel.
#pragma once

#include <algorithm>
#include <cstdint>

#include "cpu/selective_scan_cpu.h"
#include "cpu/simd_target.h"
#include "cpu/vec_lanes.h"

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

}  // namespace ssmb::cpu
