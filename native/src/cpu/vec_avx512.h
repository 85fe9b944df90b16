// AVX-512 vectors for the CPU kernels: 16 floats or 8 doubles (interface: vec_scalar.h). Include
// inside SSMB_TARGET_BEGIN("avx512f,avx512dq,avx512bw,avx512vl,avx2,fma") (selective_scan_avx512.cpp).
#pragma once

#include <immintrin.h>

#include "cpu/vec_lanes.h"


namespace ssmb::cpu::avx512 {

struct F32 {
    using Scalar = float;
    using Mask = __mmask16;
    static constexpr int kLanes = 16;
    static constexpr bool kExactLdexp = true;  // scalef: any k, subnormals, overflow to +inf
    static constexpr bool kExp2TakesInfinity = true;  // fraction (vreduceps) of +-inf is 0
    static constexpr bool kOneStateAlongTime = true;
    __m512 v;

    static F32 load(const float* p) { return {_mm512_loadu_ps(p)}; }
    static F32 broadcast(float x) { return {_mm512_set1_ps(x)}; }
    static F32 zero() { return {_mm512_setzero_ps()}; }
    void store(float* p) const { _mm512_storeu_ps(p, v); }
};

struct F64 {
    using Scalar = double;
    using Mask = __mmask8;
    static constexpr int kLanes = 8;
    static constexpr bool kExactLdexp = true;
    static constexpr bool kExp2TakesInfinity = true;
    static constexpr bool kOneStateAlongTime = true;
    __m512d v;

    static F64 load(const double* p) { return {_mm512_loadu_pd(p)}; }
    static F64 broadcast(double x) { return {_mm512_set1_pd(x)}; }
    static F64 zero() { return {_mm512_setzero_pd()}; }
    void store(double* p) const { _mm512_storeu_pd(p, v); }
};

inline F32 operator+(F32 a, F32 b) { return {_mm512_add_ps(a.v, b.v)}; }
inline F32 operator-(F32 a, F32 b) { return {_mm512_sub_ps(a.v, b.v)}; }
inline F32 operator*(F32 a, F32 b) { return {_mm512_mul_ps(a.v, b.v)}; }
inline F32 operator/(F32 a, F32 b) { return {_mm512_div_ps(a.v, b.v)}; }
inline F32 mul_add(F32 a, F32 b, F32 c) { return {_mm512_fmadd_ps(a.v, b.v, c.v)}; }
inline F32 min(F32 a, F32 b) { return {_mm512_min_ps(a.v, b.v)}; }
inline F32 max(F32 a, F32 b) { return {_mm512_max_ps(a.v, b.v)}; }
inline F32 abs(F32 a) { return {_mm512_abs_ps(a.v)}; }
inline __mmask16 operator<(F32 a, F32 b) { return _mm512_cmp_ps_mask(a.v, b.v, _CMP_LT_OQ); }
inline F32 select(__mmask16 m, F32 yes, F32 no) { return {_mm512_mask_blend_ps(m, no.v, yes.v)}; }
inline F32 round_nearest(F32 x) { return {_mm512_roundscale_ps(x.v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)}; }
// x - round_nearest(x) in one instruction (vreduceps), exact; 0 for +-inf, NaN for NaN.
inline F32 fraction(F32 x) { return {_mm512_reduce_ps(x.v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)}; }
inline F32 ldexp(F32 p, F32 k) { return {_mm512_scalef_ps(p.v, k.v)}; }
inline float reduce_add(F32 a) { return _mm512_reduce_add_ps(a.v); }
// valignd takes the 16 lanes starting at lane imm of (first:second), second in the low lanes.
template <int s>
inline F32 shift_up(F32 x, F32 fill, Lanes<s>) {
    return {_mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(x.v), _mm512_castps_si512(fill.v), 16 - s))};
}
template <int s>
inline F32 shift_down(F32 x, F32 fill, Lanes<s>) {
    return {_mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(fill.v), _mm512_castps_si512(x.v), s))};
}
inline F32 broadcast_first(F32 x) { return {_mm512_broadcastss_ps(_mm512_castps512_ps128(x.v))}; }
inline F32 broadcast_last(F32 x) { return {_mm512_permutexvar_ps(_mm512_set1_epi32(15), x.v)}; }

inline F64 operator+(F64 a, F64 b) { return {_mm512_add_pd(a.v, b.v)}; }
inline F64 operator-(F64 a, F64 b) { return {_mm512_sub_pd(a.v, b.v)}; }
inline F64 operator*(F64 a, F64 b) { return {_mm512_mul_pd(a.v, b.v)}; }
inline F64 operator/(F64 a, F64 b) { return {_mm512_div_pd(a.v, b.v)}; }
inline F64 mul_add(F64 a, F64 b, F64 c) { return {_mm512_fmadd_pd(a.v, b.v, c.v)}; }
inline F64 min(F64 a, F64 b) { return {_mm512_min_pd(a.v, b.v)}; }
inline F64 max(F64 a, F64 b) { return {_mm512_max_pd(a.v, b.v)}; }
inline F64 abs(F64 a) { return {_mm512_abs_pd(a.v)}; }
inline __mmask8 operator<(F64 a, F64 b) { return _mm512_cmp_pd_mask(a.v, b.v, _CMP_LT_OQ); }
inline F64 select(__mmask8 m, F64 yes, F64 no) { return {_mm512_mask_blend_pd(m, no.v, yes.v)}; }
inline F64 round_nearest(F64 x) { return {_mm512_roundscale_pd(x.v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)}; }
inline F64 fraction(F64 x) { return {_mm512_reduce_pd(x.v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)}; }
inline F64 ldexp(F64 p, F64 k) { return {_mm512_scalef_pd(p.v, k.v)}; }
inline double reduce_add(F64 a) { return _mm512_reduce_add_pd(a.v); }
template <int s>
inline F64 shift_up(F64 x, F64 fill, Lanes<s>) {
    return {_mm512_castsi512_pd(_mm512_alignr_epi64(_mm512_castpd_si512(x.v), _mm512_castpd_si512(fill.v), 8 - s))};
}
template <int s>
inline F64 shift_down(F64 x, F64 fill, Lanes<s>) {
    return {_mm512_castsi512_pd(_mm512_alignr_epi64(_mm512_castpd_si512(fill.v), _mm512_castpd_si512(x.v), s))};
}
inline F64 broadcast_first(F64 x) { return {_mm512_broadcastsd_pd(_mm512_castpd512_pd128(x.v))}; }
inline F64 broadcast_last(F64 x) { return {_mm512_permutexvar_pd(_mm512_set1_epi64(7), x.v)}; }

// Within each 128-bit block of E lanes, a[k] + a[k + E/2] and b[k] + b[k + E/2] for k < E/2,
// interleaved in groups of g lanes, a's first (vec_scalar.h): unpacklo + unpackhi at g lanes.
inline F32 interleave_add(F32 a, F32 b, Lanes<1>) {
    return {_mm512_add_ps(_mm512_unpacklo_ps(a.v, b.v), _mm512_unpackhi_ps(a.v, b.v))};
}
inline F32 interleave_add(F32 a, F32 b, Lanes<2>) {
    const __m512d x = _mm512_castps_pd(a.v), y = _mm512_castps_pd(b.v);
    return {_mm512_add_ps(_mm512_castpd_ps(_mm512_unpacklo_pd(x, y)), _mm512_castpd_ps(_mm512_unpackhi_pd(x, y)))};
}
inline F64 interleave_add(F64 a, F64 b, Lanes<1>) {
    return {_mm512_add_pd(_mm512_unpacklo_pd(a.v, b.v), _mm512_unpackhi_pd(a.v, b.v))};
}

// r[i][j] <- r[j][i]. Four rounds of two-source shuffles at growing granularity: 32-bit pairs,
// 64-bit pairs, then 128-bit blocks twice.
inline void transpose(F32 (&r)[16]) {
    __m512 t[16];
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i].v, r[i + 1].v);
        t[i + 1] = _mm512_unpackhi_ps(r[i].v, r[i + 1].v);
    }
    // u[4q + m] holds columns m, m + 4, m + 8, m + 12 of rows 4q .. 4q + 3, one per block.
    __m512 u[16];
    for (int q = 0; q < 16; q += 4) {
        for (int m = 0; m < 2; ++m) {
            const __m512d lo = _mm512_castps_pd(t[q + m]), hi = _mm512_castps_pd(t[q + m + 2]);
            u[q + 2 * m] = _mm512_castpd_ps(_mm512_unpacklo_pd(lo, hi));
            u[q + 2 * m + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(lo, hi));
        }
    }
    // w[m] (m < 4): column m and m + 8 of rows 0..7; w[m + 4]: columns m + 4 and m + 12; w[8 + ..]
    // likewise for rows 8..15.
    __m512 w[16];
    for (int half = 0; half < 16; half += 8) {
        for (int m = 0; m < 4; ++m) {
            w[half + m] = _mm512_shuffle_f32x4(u[half + m], u[half + 4 + m], 0x88);
            w[half + 4 + m] = _mm512_shuffle_f32x4(u[half + m], u[half + 4 + m], 0xdd);
        }
    }
    for (int m = 0; m < 8; ++m) {
        r[m].v = _mm512_shuffle_f32x4(w[m], w[8 + m], 0x88);
        r[m + 8].v = _mm512_shuffle_f32x4(w[m], w[8 + m], 0xdd);
    }
}

inline void transpose(F64 (&r)[8]) {
    __m512d t[8];
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm512_unpacklo_pd(r[i].v, r[i + 1].v);
        t[i + 1] = _mm512_unpackhi_pd(r[i].v, r[i + 1].v);
    }
    // u[q + m] holds columns m and m + 4 of rows q .. q + 3, one per block pair.
    __m512d u[8];
    for (int q = 0; q < 8; q += 4) {
        u[q] = _mm512_shuffle_f64x2(t[q], t[q + 2], 0x88);      // columns 0, 4
        u[q + 1] = _mm512_shuffle_f64x2(t[q + 1], t[q + 3], 0x88);  // columns 1, 5
        u[q + 2] = _mm512_shuffle_f64x2(t[q], t[q + 2], 0xdd);      // columns 2, 6
        u[q + 3] = _mm512_shuffle_f64x2(t[q + 1], t[q + 3], 0xdd);  // columns 3, 7
    }
    for (int m = 0; m < 4; ++m) {
        r[m].v = _mm512_shuffle_f64x2(u[m], u[4 + m], 0x88);
        r[m + 4].v = _mm512_shuffle_f64x2(u[m], u[4 + m], 0xdd);
    }
}

// Lane i of the result is the sum of the lanes of v[i]: a tree of pairwise adds that halves the
// lanes per input at each level (45 instructions for 16 inputs instead of a full transpose).
inline F32 horizontal_sums(const F32 (&v)[16]) {
    // e[m]: v[m] and v[m + 4] folded to 8 partial sums each; e[4 + m]: v[m + 8] and v[m + 12].
    __m512 e[8];
    for (int q = 0; q < 8; q += 4) {
        for (int m = 0; m < 4; ++m) {
            const __m512 a = v[2 * q + m].v, b = v[2 * q + m + 4].v;
            e[q + m] = _mm512_add_ps(_mm512_shuffle_f32x4(a, b, 0x44), _mm512_shuffle_f32x4(a, b, 0xee));
        }
    }
    // c[m]: block j holds 4 partial sums of v[4j + m].
    __m512 c[4];
    for (int m = 0; m < 4; ++m)
        c[m] = _mm512_add_ps(_mm512_shuffle_f32x4(e[m], e[4 + m], 0x88), _mm512_shuffle_f32x4(e[m], e[4 + m], 0xdd));
    // a: block j holds 2 partial sums each of v[4j], v[4j + 1]; b: of v[4j + 2], v[4j + 3].
    const __m512 a = _mm512_add_ps(_mm512_shuffle_ps(c[0], c[1], 0x44), _mm512_shuffle_ps(c[0], c[1], 0xee));
    const __m512 b = _mm512_add_ps(_mm512_shuffle_ps(c[2], c[3], 0x44), _mm512_shuffle_ps(c[2], c[3], 0xee));
    return {_mm512_add_ps(_mm512_shuffle_ps(a, b, 0x88), _mm512_shuffle_ps(a, b, 0xdd))};
}

// out[j] lane q = the sum of the lanes i = j mod 4 of rows[q] (vec_fold.h: state_sums, for the
// records of 4 states that fold_states makes). Rows m, m + 4, m + 8, m + 12 have their
// four 128-bit blocks added (two rounds of block shuffles) into c[m], whose block k then holds the
// 4 state sums of row 4k + m; a 4 x 4 transpose of 32-bit lanes sorts them by state: 44
// instructions for 16 rows, against 4 x 61 for masked horizontal sums.
inline void state_sums(const F32 (&rows)[16], F32 (&out)[4], Lanes<4>) {
    __m512 c[4];
    for (int m = 0; m < 4; ++m) {
        const __m512 r0 = rows[m].v, r1 = rows[m + 4].v, r2 = rows[m + 8].v, r3 = rows[m + 12].v;
        const __m512 a = _mm512_add_ps(_mm512_shuffle_f32x4(r0, r1, 0x44), _mm512_shuffle_f32x4(r0, r1, 0xee));
        const __m512 b = _mm512_add_ps(_mm512_shuffle_f32x4(r2, r3, 0x44), _mm512_shuffle_f32x4(r2, r3, 0xee));
        c[m] = _mm512_add_ps(_mm512_shuffle_f32x4(a, b, 0x88), _mm512_shuffle_f32x4(a, b, 0xdd));
    }
    // Per block k: t0 = c0[k][0], c1[k][0], c0[k][1], c1[k][1]; t2 likewise of c2, c3; so the low
    // 64-bit halves of t0 and t2 make state 0 of rows 4k .. 4k + 3, the high ones state 1.
    const __m512d t0 = _mm512_castps_pd(_mm512_unpacklo_ps(c[0], c[1]));
    const __m512d t1 = _mm512_castps_pd(_mm512_unpackhi_ps(c[0], c[1]));
    const __m512d t2 = _mm512_castps_pd(_mm512_unpacklo_ps(c[2], c[3]));
    const __m512d t3 = _mm512_castps_pd(_mm512_unpackhi_ps(c[2], c[3]));
    out[0].v = _mm512_castpd_ps(_mm512_unpacklo_pd(t0, t2));
    out[1].v = _mm512_castpd_ps(_mm512_unpackhi_pd(t0, t2));
    out[2].v = _mm512_castpd_ps(_mm512_unpacklo_pd(t1, t3));
    out[3].v = _mm512_castpd_ps(_mm512_unpackhi_pd(t1, t3));
}

inline F64 horizontal_sums(const F64 (&v)[8]) {
    // e[m]: v[m] and v[m + 2] folded to 4 partial sums each; e[2 + m]: v[m + 4] and v[m + 6].
    __m512d e[4];
    for (int q = 0; q < 4; q += 2) {
        for (int m = 0; m < 2; ++m) {
            const __m512d a = v[2 * q + m].v, b = v[2 * q + m + 2].v;
            e[q + m] = _mm512_add_pd(_mm512_shuffle_f64x2(a, b, 0x44), _mm512_shuffle_f64x2(a, b, 0xee));
        }
    }
    // a: block j holds 2 partial sums of v[2j]; b: of v[2j + 1].
    const __m512d a =
        _mm512_add_pd(_mm512_shuffle_f64x2(e[0], e[2], 0x88), _mm512_shuffle_f64x2(e[0], e[2], 0xdd));
    const __m512d b =
        _mm512_add_pd(_mm512_shuffle_f64x2(e[1], e[3], 0x88), _mm512_shuffle_f64x2(e[1], e[3], 0xdd));
    return {_mm512_add_pd(_mm512_unpacklo_pd(a, b), _mm512_unpackhi_pd(a, b))};
}

}  // namespace ssmb::cpu::avx512
