// AArch64 Advanced SIMD (NEON) vectors for the CPU kernels: 4 floats or 2 doubles (interface:
// vec_scalar.h). NEON is part of every AArch64 CPU, so no target region is needed.
#pragma once

#include <arm_neon.h>

namespace ssmb::cpu::neon {

struct F32 {
    using Scalar = float;
    using Mask = uint32x4_t;
    static constexpr int kLanes = 4;
    static constexpr bool kExactLdexp = false;
    static constexpr bool kExp2TakesInfinity = false;
    static constexpr bool kOneStateAlongTime = false;  // not measured on an Arm machine
    float32x4_t v;

    static F32 load(const float* p) { return {vld1q_f32(p)}; }
    static F32 broadcast(float x) { return {vdupq_n_f32(x)}; }
    static F32 zero() { return {vdupq_n_f32(0.0f)}; }
    void store(float* p) const { vst1q_f32(p, v); }
};

struct F64 {
    using Scalar = double;
    using Mask = uint64x2_t;
    static constexpr int kLanes = 2;
    static constexpr bool kExactLdexp = false;
    static constexpr bool kExp2TakesInfinity = false;
    static constexpr bool kOneStateAlongTime = false;  // not measured on an Arm machine
    float64x2_t v;

    static F64 load(const double* p) { return {vld1q_f64(p)}; }
    static F64 broadcast(double x) { return {vdupq_n_f64(x)}; }
    static F64 zero() { return {vdupq_n_f64(0.0)}; }
    void store(double* p) const { vst1q_f64(p, v); }
};

inline F32 operator+(F32 a, F32 b) { return {vaddq_f32(a.v, b.v)}; }
inline F32 operator-(F32 a, F32 b) { return {vsubq_f32(a.v, b.v)}; }
inline F32 operator*(F32 a, F32 b) { return {vmulq_f32(a.v, b.v)}; }
inline F32 operator/(F32 a, F32 b) { return {vdivq_f32(a.v, b.v)}; }
inline F32 mul_add(F32 a, F32 b, F32 c) { return {vfmaq_f32(c.v, a.v, b.v)}; }
inline F32 min(F32 a, F32 b) { return {vminq_f32(a.v, b.v)}; }
inline F32 max(F32 a, F32 b) { return {vmaxq_f32(a.v, b.v)}; }
inline F32 abs(F32 a) { return {vabsq_f32(a.v)}; }
inline uint32x4_t operator<(F32 a, F32 b) { return vcltq_f32(a.v, b.v); }
inline F32 select(uint32x4_t m, F32 yes, F32 no) { return {vbslq_f32(m, yes.v, no.v)}; }
inline F32 round_nearest(F32 x) { return {vrndnq_f32(x.v)}; }
// p * 2^k through the exponent bits, for what exp2 passes (as in vec_avx2.h).
inline F32 ldexp(F32 p, F32 k) {
    const int32x4_t exponent = vshlq_n_s32(vcvtq_s32_f32(k.v), 23);
    return {vreinterpretq_f32_s32(vaddq_s32(vreinterpretq_s32_f32(p.v), exponent))};
}
inline float reduce_add(F32 a) { return vaddvq_f32(a.v); }

inline F64 operator+(F64 a, F64 b) { return {vaddq_f64(a.v, b.v)}; }
inline F64 operator-(F64 a, F64 b) { return {vsubq_f64(a.v, b.v)}; }
inline F64 operator*(F64 a, F64 b) { return {vmulq_f64(a.v, b.v)}; }
inline F64 operator/(F64 a, F64 b) { return {vdivq_f64(a.v, b.v)}; }
inline F64 mul_add(F64 a, F64 b, F64 c) { return {vfmaq_f64(c.v, a.v, b.v)}; }
inline F64 min(F64 a, F64 b) { return {vminq_f64(a.v, b.v)}; }
inline F64 max(F64 a, F64 b) { return {vmaxq_f64(a.v, b.v)}; }
inline F64 abs(F64 a) { return {vabsq_f64(a.v)}; }
inline uint64x2_t operator<(F64 a, F64 b) { return vcltq_f64(a.v, b.v); }
inline F64 select(uint64x2_t m, F64 yes, F64 no) { return {vbslq_f64(m, yes.v, no.v)}; }
inline F64 round_nearest(F64 x) { return {vrndnq_f64(x.v)}; }
inline F64 ldexp(F64 p, F64 k) {
    const int64x2_t exponent = vshlq_n_s64(vcvtq_s64_f64(k.v), 52);
    return {vreinterpretq_f64_s64(vaddq_s64(vreinterpretq_s64_f64(p.v), exponent))};
}
inline double reduce_add(F64 a) { return vaddvq_f64(a.v); }

// r[i][j] <- r[j][i]: 32-bit pairs, then 64-bit pairs.
inline void transpose(F32 (&r)[4]) {
    const float32x4_t t0 = vtrn1q_f32(r[0].v, r[1].v), t1 = vtrn2q_f32(r[0].v, r[1].v);
    const float32x4_t t2 = vtrn1q_f32(r[2].v, r[3].v), t3 = vtrn2q_f32(r[2].v, r[3].v);
    auto pairs = [](float32x4_t x) { return vreinterpretq_f64_f32(x); };
    r[0].v = vreinterpretq_f32_f64(vtrn1q_f64(pairs(t0), pairs(t2)));
    r[1].v = vreinterpretq_f32_f64(vtrn1q_f64(pairs(t1), pairs(t3)));
    r[2].v = vreinterpretq_f32_f64(vtrn2q_f64(pairs(t0), pairs(t2)));
    r[3].v = vreinterpretq_f32_f64(vtrn2q_f64(pairs(t1), pairs(t3)));
}

inline void transpose(F64 (&r)[2]) {
    const float64x2_t t0 = vtrn1q_f64(r[0].v, r[1].v), t1 = vtrn2q_f64(r[0].v, r[1].v);
    r[0].v = t0;
    r[1].v = t1;
}

// Lane i of the result is the sum of the lanes of v[i]: pairwise adds.
inline F32 horizontal_sums(const F32 (&v)[4]) {
    return {vpaddq_f32(vpaddq_f32(v[0].v, v[1].v), vpaddq_f32(v[2].v, v[3].v))};
}

inline F64 horizontal_sums(const F64 (&v)[2]) { return {vpaddq_f64(v[0].v, v[1].v)}; }

}  // namespace ssmb::cpu::neon
