// The vector interface the CPU kernels are written against, here for one lane: the scalar path,
// which runs anywhere. vec_avx2.h and vec_avx512.h (and vec_neon.h) provide the same for wider
// registers. A vector type V has
//   V::Scalar, V::Mask, V::kLanes, V::kExactLdexp (ldexp handles any k; else exp2 clamps first)
//   V::load(const Scalar*), V::broadcast(Scalar), V::zero(), v.store(Scalar*)  (unaligned)
//   + - * /, mul_add(a, b, c) = a * b + c (fused where the ISA has FMA), min, max, abs,
//   a < b -> Mask, select(mask, yes, no), round_nearest (ties to even), ldexp(p, k) = p * 2^k,
//   reduce_add (sum of the lanes), transpose(V (&rows)[kLanes]) (rows become columns),
//   horizontal_sums(const V (&rows)[kLanes]) (lane i = sum of the lanes of rows[i]),
//   interleave_add(a, b, Lanes<g>()) for powers of two g < kLanes / 4 (vec_fold.h): within each
//   128-bit block of E lanes, a[k] + a[k + E/2] and b[k] + b[k + E/2] for k < E/2, interleaved in
//   groups of g lanes, a's first; so if lane i of a holds a term of item i mod g and lane i of b one
//   of item g + i mod g, lane i of the result holds terms of item i mod 2g only. And
//   V::kExp2TakesInfinity: types that set it also provide fraction(x) = x - round_nearest(x), 0 for
//   +-inf, and have kExactLdexp and ldexp(1, +-inf) = +inf / 0, so exp2 needs no clamp;
//   V::kOneStateAlongTime: whether the forward with one state runs its vectors along time
//   (scan_kernel_fwd_one_state.h). Types that set it also provide, for 0 < s < kLanes,
//   shift_up(x, fill, Lanes<s>()) (lane i = x[i - s], fill's value below s), shift_down(x, fill,
//   Lanes<s>()) (lane i = x[i + s], fill's value from kLanes - s on), fill a broadcast, and
//   broadcast_first(x), broadcast_last(x) (lane 0 or kLanes - 1 in every lane).
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace ssmb::cpu::scalar {

template <typename T>
struct Vec {
    using Scalar = T;
    using Mask = bool;
    static constexpr int kLanes = 1;
    static constexpr bool kExactLdexp = false;
    static constexpr bool kExp2TakesInfinity = false;
    static constexpr bool kOneStateAlongTime = false;
    T v;

    static Vec load(const T* p) { return {*p}; }
    static Vec broadcast(T x) { return {x}; }
    static Vec zero() { return {T(0)}; }
    void store(T* p) const { *p = v; }
};

template <typename T>
inline Vec<T> operator+(Vec<T> a, Vec<T> b) {
    return {a.v + b.v};
}
template <typename T>
inline Vec<T> operator-(Vec<T> a, Vec<T> b) {
    return {a.v - b.v};
}
template <typename T>
inline Vec<T> operator*(Vec<T> a, Vec<T> b) {
    return {a.v * b.v};
}
template <typename T>
inline Vec<T> operator/(Vec<T> a, Vec<T> b) {
    return {a.v / b.v};
}
// Unfused: the baseline x86-64 ISA has no FMA instruction, and std::fma would call into libm.
template <typename T>
inline Vec<T> mul_add(Vec<T> a, Vec<T> b, Vec<T> c) {
    return {a.v * b.v + c.v};
}
// As x86's minps / maxps: the second operand when either is NaN.
template <typename T>
inline Vec<T> min(Vec<T> a, Vec<T> b) {
    return {a.v < b.v ? a.v : b.v};
}
template <typename T>
inline Vec<T> max(Vec<T> a, Vec<T> b) {
    return {a.v > b.v ? a.v : b.v};
}
template <typename T>
inline Vec<T> abs(Vec<T> a) {
    return {std::fabs(a.v)};
}
template <typename T>
inline bool operator<(Vec<T> a, Vec<T> b) {
    return a.v < b.v;
}
template <typename T>
inline Vec<T> select(bool m, Vec<T> yes, Vec<T> no) {
    return m ? yes : no;
}
// Adding and subtracting 1.5 * 2^(mantissa bits) rounds to an integer (ties to even) without a
// call into libm: exact for |x| < 2^22 (2^51), which covers what exp2 passes after its clamp.
template <typename T>
inline Vec<T> round_nearest(Vec<T> x) {
    const T shift = sizeof(T) == 4 ? T(12582912.0f) : T(6755399441055744.0);
    return {(x.v + shift) - shift};
}
// p * 2^k through the exponent bits, for what exp2 passes (as in vec_avx2.h).
template <typename T>
inline Vec<T> ldexp(Vec<T> p, Vec<T> k) {
    using Bits = std::conditional_t<sizeof(T) == 4, int32_t, int64_t>;
    using Unsigned = std::make_unsigned_t<Bits>;
    Bits bits;
    std::memcpy(&bits, &p.v, sizeof bits);
    // Unsigned arithmetic: the shift of a negative k and the wrap-around are well defined.
    const Unsigned sum = Unsigned(bits) + (Unsigned(Bits(k.v)) << (sizeof(T) == 4 ? 23 : 52));
    T result;
    std::memcpy(&result, &sum, sizeof result);
    return {result};
}
template <typename T>
inline T reduce_add(Vec<T> a) {
    return a.v;
}
template <typename T>
inline void transpose(Vec<T> (&)[1]) {}
template <typename T>
inline Vec<T> horizontal_sums(const Vec<T> (&v)[1]) {
    return v[0];
}

}  // namespace ssmb::cpu::scalar
