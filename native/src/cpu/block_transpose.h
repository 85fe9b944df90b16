// Square blocks of kLanes x kLanes values held in kLanes registers, for kernels that move data
// between layouts: load rows, transpose them into columns, reverse lanes, add, store. On x86-64 the
// registers are SSE2 (part of the x86-64 baseline, so no run-time dispatch is needed; these kernels
// are bound by memory bandwidth, which 16-byte registers already reach); elsewhere a block is one
// value and every loop over blocks is a plain scalar loop.
//
// stream() is a non-temporal store (to an address aligned to kLanes * sizeof(T) bytes): it writes a
// line without reading it first, for outputs too large to stay in the cache; fence() orders such
// stores before the caller's later writes (call it before other threads read the output). Without
// SSE2 both fall back to a plain store and nothing.
#pragma once

#if defined(__SSE2__) || defined(_M_X64) || (defined(_M_IX86_FP) && _M_IX86_FP >= 2)
#define SSMB_BLOCK_SSE2 1
#include <emmintrin.h>
#endif

namespace ssmb::cpu {

template <typename T>
struct Block {
    static constexpr int kLanes = 1;
    using Reg = T;
    static Reg load(const T* p) { return *p; }
    static void store(T* p, Reg r) { *p = r; }
    static Reg add(Reg a, Reg b) { return a + b; }
    static Reg reverse(Reg r) { return r; }
    static void transpose(Reg (&)[kLanes]) {}
    static void stream(T* p, Reg r) { *p = r; }
    static void fence() {}
};

#ifdef SSMB_BLOCK_SSE2
template <>
struct Block<float> {
    static constexpr int kLanes = 4;
    using Reg = __m128;
    static Reg load(const float* p) { return _mm_loadu_ps(p); }
    static void store(float* p, Reg r) { _mm_storeu_ps(p, r); }
    static Reg add(Reg a, Reg b) { return _mm_add_ps(a, b); }
    static Reg reverse(Reg r) { return _mm_shuffle_ps(r, r, _MM_SHUFFLE(0, 1, 2, 3)); }
    static void transpose(Reg (&r)[kLanes]) { _MM_TRANSPOSE4_PS(r[0], r[1], r[2], r[3]); }
    static void stream(float* p, Reg r) { _mm_stream_ps(p, r); }
    static void fence() { _mm_sfence(); }
};

template <>
struct Block<double> {
    static constexpr int kLanes = 2;
    using Reg = __m128d;
    static Reg load(const double* p) { return _mm_loadu_pd(p); }
    static void store(double* p, Reg r) { _mm_storeu_pd(p, r); }
    static Reg add(Reg a, Reg b) { return _mm_add_pd(a, b); }
    static Reg reverse(Reg r) { return _mm_shuffle_pd(r, r, 1); }
    static void transpose(Reg (&r)[kLanes]) {
        const Reg lo = _mm_unpacklo_pd(r[0], r[1]);
        r[1] = _mm_unpackhi_pd(r[0], r[1]);
        r[0] = lo;
    }
    static void stream(double* p, Reg r) { _mm_stream_pd(p, r); }
    static void fence() { _mm_sfence(); }
};
#endif

}  // namespace ssmb::cpu
