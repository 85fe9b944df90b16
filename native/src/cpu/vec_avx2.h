// AVX2 + FMA vectors for the CPU kernels: 8 floats or 4 doubles (interface: vec_scalar.h). Include
// inside SSMB_TARGET_BEGIN("avx2,fma") (selective_scan_avx2.cpp).
#pragma once

#include <immintrin.h>

#include "cpu/vec_lanes.h"

namespace ssmb::cpu::avx2 {

struct F32 {
    using Scalar = float;
    using Mask = __m256;
    static constexpr int kLanes = 8;
    static constexpr bool kExactLdexp = false;
    static constexpr bool kExp2TakesInfinity = false;
    static constexpr bool kOneStateAlongTime = false;  // measured slower on AVX2 (bench/RESULTS.md)
    __m256 v;

    static F32 load(const float* p) { return {_mm256_loadu_ps(p)}; }
    static F32 broadcast(float x) { return {_mm256_set1_ps(x)}; }
    static F32 zero() { return {_mm256_setzero_ps()}; }
    void store(float* p) const { _mm256_storeu_ps(p, v); }
};

struct F64 {
    using Scalar = double;
    using Mask = __m256d;
    static constexpr int kLanes = 4;
    static constexpr bool kExactLdexp = false;
    static constexpr bool kExp2TakesInfinity = false;
    static constexpr bool kOneStateAlongTime = false;  // measured slower on AVX2 (bench/RESULTS.md)
    __m256d v;

    static F64 load(const double* p) { return {_mm256_loadu_pd(p)}; }
    static F64 broadcast(double x) { return {_mm256_set1_pd(x)}; }
    static F64 zero() { return {_mm256_setzero_pd()}; }
    void store(double* p) const { _mm256_storeu_pd(p, v); }
};

inline F32 operator+(F32 a, F32 b) { return {_mm256_add_ps(a.v, b.v)}; }
inline F32 operator-(F32 a, F32 b) { return {_mm256_sub_ps(a.v, b.v)}; }
inline F32 operator*(F32 a, F32 b) { return {_mm256_mul_ps(a.v, b.v)}; }
inline F32 operator/(F32 a, F32 b) { return {_mm256_div_ps(a.v, b.v)}; }
inline F32 mul_add(F32 a, F32 b, F32 c) { return {_mm256_fmadd_ps(a.v, b.v, c.v)}; }
inline F32 min(F32 a, F32 b) { return {_mm256_min_ps(a.v, b.v)}; }
inline F32 max(F32 a, F32 b) { return {_mm256_max_ps(a.v, b.v)}; }
inline F32 abs(F32 a) { return {_mm256_andnot_ps(_mm256_set1_ps(-0.0f), a.v)}; }
inline __m256 operator<(F32 a, F32 b) { return _mm256_cmp_ps(a.v, b.v, _CMP_LT_OQ); }
inline F32 select(__m256 m, F32 yes, F32 no) { return {_mm256_blendv_ps(no.v, yes.v, m)}; }
inline F32 round_nearest(F32 x) { return {_mm256_round_ps(x.v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)}; }
// p * 2^k through the exponent bits, for what exp2 passes (kExactLdexp = false): k integral in
// [-127, 128], p in [1, 2) when k = -127 and p in (0.5, 1] when k = 128. Results below 2^-126
// come out as some value in [0, 2^-126) (exactly 0 for k = -127, p = 1); k = 128, p = 1 gives +inf.
inline F32 ldexp(F32 p, F32 k) {
    const __m256i exponent = _mm256_slli_epi32(_mm256_cvtps_epi32(k.v), 23);
    return {_mm256_castsi256_ps(_mm256_add_epi32(_mm256_castps_si256(p.v), exponent))};
}
inline float reduce_add(F32 a) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(a.v), _mm256_extractf128_ps(a.v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
}

inline F64 operator+(F64 a, F64 b) { return {_mm256_add_pd(a.v, b.v)}; }
inline F64 operator-(F64 a, F64 b) { return {_mm256_sub_pd(a.v, b.v)}; }
inline F64 operator*(F64 a, F64 b) { return {_mm256_mul_pd(a.v, b.v)}; }
inline F64 operator/(F64 a, F64 b) { return {_mm256_div_pd(a.v, b.v)}; }
inline F64 mul_add(F64 a, F64 b, F64 c) { return {_mm256_fmadd_pd(a.v, b.v, c.v)}; }
inline F64 min(F64 a, F64 b) { return {_mm256_min_pd(a.v, b.v)}; }
inline F64 max(F64 a, F64 b) { return {_mm256_max_pd(a.v, b.v)}; }
inline F64 abs(F64 a) { return {_mm256_andnot_pd(_mm256_set1_pd(-0.0), a.v)}; }
inline __m256d operator<(F64 a, F64 b) { return _mm256_cmp_pd(a.v, b.v, _CMP_LT_OQ); }
inline F64 select(__m256d m, F64 yes, F64 no) { return {_mm256_blendv_pd(no.v, yes.v, m)}; }
inline F64 round_nearest(F64 x) { return {_mm256_round_pd(x.v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)}; }
// As for floats, with k in [-1023, 1024]. AVX2 has no double -> int64 conversion: adding
// 1.5 * 2^52 puts the integer k in the low mantissa bits, and the shift moves it to the exponent.
inline F64 ldexp(F64 p, F64 k) {
    const __m256d shifted = _mm256_add_pd(k.v, _mm256_set1_pd(6755399441055744.0));
    const __m256i exponent = _mm256_slli_epi64(_mm256_castpd_si256(shifted), 52);
    return {_mm256_castsi256_pd(_mm256_add_epi64(_mm256_castpd_si256(p.v), exponent))};
}
inline double reduce_add(F64 a) {
    const __m128d s = _mm_add_pd(_mm256_castpd256_pd128(a.v), _mm256_extractf128_pd(a.v, 1));
    return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
}

// r[i][j] <- r[j][i]: 32-bit pairs, 64-bit pairs, then 128-bit halves.
inline void transpose(F32 (&r)[8]) {
    __m256 t[8];
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_ps(r[i].v, r[i + 1].v);
        t[i + 1] = _mm256_unpackhi_ps(r[i].v, r[i + 1].v);
    }
    // u[q + m] holds columns m and m + 4 of rows q .. q + 3.
    __m256 u[8];
    for (int q = 0; q < 8; q += 4) {
        u[q] = _mm256_shuffle_ps(t[q], t[q + 2], 0x44);
        u[q + 1] = _mm256_shuffle_ps(t[q], t[q + 2], 0xee);
        u[q + 2] = _mm256_shuffle_ps(t[q + 1], t[q + 3], 0x44);
        u[q + 3] = _mm256_shuffle_ps(t[q + 1], t[q + 3], 0xee);
    }
    for (int m = 0; m < 4; ++m) {
        r[m].v = _mm256_permute2f128_ps(u[m], u[4 + m], 0x20);
        r[m + 4].v = _mm256_permute2f128_ps(u[m], u[4 + m], 0x31);
    }
}

inline void transpose(F64 (&r)[4]) {
    const __m256d t0 = _mm256_unpacklo_pd(r[0].v, r[1].v), t1 = _mm256_unpackhi_pd(r[0].v, r[1].v);
    const __m256d t2 = _mm256_unpacklo_pd(r[2].v, r[3].v), t3 = _mm256_unpackhi_pd(r[2].v, r[3].v);
    r[0].v = _mm256_permute2f128_pd(t0, t2, 0x20);
    r[1].v = _mm256_permute2f128_pd(t1, t3, 0x20);
    r[2].v = _mm256_permute2f128_pd(t0, t2, 0x31);
    r[3].v = _mm256_permute2f128_pd(t1, t3, 0x31);
}

// As for AVX-512: per 128-bit block, a[k] + a[k + 2] and b[k] + b[k + 2] interleaved lane by lane.
inline F32 interleave_add(F32 a, F32 b, Lanes<1>) {
    return {_mm256_add_ps(_mm256_unpacklo_ps(a.v, b.v), _mm256_unpackhi_ps(a.v, b.v))};
}

// Lane i of the result is the sum of the lanes of v[i] (pairwise tree, as for AVX-512).
inline F32 horizontal_sums(const F32 (&v)[8]) {
    // c[m]: half j holds 4 partial sums of v[4j + m].
    __m256 c[4];
    for (int m = 0; m < 4; ++m) {
        c[m] = _mm256_add_ps(_mm256_permute2f128_ps(v[m].v, v[m + 4].v, 0x20),
                             _mm256_permute2f128_ps(v[m].v, v[m + 4].v, 0x31));
    }
    const __m256 a = _mm256_add_ps(_mm256_shuffle_ps(c[0], c[1], 0x44), _mm256_shuffle_ps(c[0], c[1], 0xee));
    const __m256 b = _mm256_add_ps(_mm256_shuffle_ps(c[2], c[3], 0x44), _mm256_shuffle_ps(c[2], c[3], 0xee));
    return {_mm256_add_ps(_mm256_shuffle_ps(a, b, 0x88), _mm256_shuffle_ps(a, b, 0xdd))};
}

// out[j] lane q = the sum of the lanes i = j mod 2 of rows[q] (vec_fold.h: state_sums, for the
// records of 2 states that fold_states makes). Rows k and k + 4 have their 128-bit halves added into
// a[k]; pairs of those have their two partials per state added (shuffle + add), and a last shuffle
// takes state 0's and state 1's sums apart: 20 instructions for 8 rows, against 2 x 29 for masked
// horizontal sums. Pairing row k with row k + 4 is what leaves lane q with row q.
inline void state_sums(const F32 (&rows)[8], F32 (&out)[2], Lanes<2>) {
    __m256 a[4];
    for (int k = 0; k < 4; ++k) {
        const __m256 x = rows[k].v, y = rows[k + 4].v;
        a[k] = _mm256_add_ps(_mm256_permute2f128_ps(x, y, 0x20), _mm256_permute2f128_ps(x, y, 0x31));
    }
    // b, low half: rows 0 and 1, states 0, 1 each; high half: rows 4 and 5. c: rows 2, 3 and 6, 7.
    const __m256 b = _mm256_add_ps(_mm256_shuffle_ps(a[0], a[1], 0x44), _mm256_shuffle_ps(a[0], a[1], 0xee));
    const __m256 c = _mm256_add_ps(_mm256_shuffle_ps(a[2], a[3], 0x44), _mm256_shuffle_ps(a[2], a[3], 0xee));
    out[0].v = _mm256_shuffle_ps(b, c, 0x88);
    out[1].v = _mm256_shuffle_ps(b, c, 0xdd);
}

inline F64 horizontal_sums(const F64 (&v)[4]) {
    // a: half j holds 2 partial sums of v[2j]; b: of v[2j + 1].
    const __m256d a = _mm256_add_pd(_mm256_permute2f128_pd(v[0].v, v[2].v, 0x20),
                                    _mm256_permute2f128_pd(v[0].v, v[2].v, 0x31));
    const __m256d b = _mm256_add_pd(_mm256_permute2f128_pd(v[1].v, v[3].v, 0x20),
                                    _mm256_permute2f128_pd(v[1].v, v[3].v, 0x31));
    return {_mm256_add_pd(_mm256_unpacklo_pd(a, b), _mm256_unpackhi_pd(a, b))};
}

}  // namespace ssmb::cpu::avx2
