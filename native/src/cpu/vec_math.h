// Vectorized exp, softplus, sigmoid and silu for the CPU kernels, on any vector type of
// vec_scalar.h. Polynomials on reduced ranges, with the error bounds below measured against long
// double over dense grids of the reduced range (coefficients: relative-error minimax fits).
//
//   exp2(x)   float: 1.7e-7 relative (1.4 ulp), double: 4.8e-16, for results in the normal range.
//             x >= 128 (1024) gives +inf, x <= -127 (-1023) gives 0, +-inf give +inf and 0, NaN
//             stays NaN; results below the smallest normal number are inexact (absolute error below
//             it) on paths without an exact ldexp. AVX-512 needs no clamp for any of this (vreduce
//             and vscalef take infinities), which saves two operations per exp.
//   exp(x)    exp2(x * log2(e)): adds the rounding of that product, about |x| * 2^-24 relative
//             (|x| * 2^-53 for double), the same as rounding the argument of std::exp. Any
//             finite x gives a finite result or +inf, never NaN.
//   log1p on [0, 1] (inside softplus): float 1.8e-7, double 5.6e-15 relative.
//   softplus on [-20, 20]: float 1.1e-6, double 5.4e-15; sigmoid on [-40, 40]: float 2e-6, double
//   3.6e-15 (mostly the rounding of the exp argument, which grows with |x|).
#pragma once

#include "common/scan_math.h"
#include "cpu/simd_target.h"

namespace ssmb::cpu::vmath {

template <typename T>
struct Constants;

template <>
struct Constants<float> {
    // 2^f = 1 + f * P(f) on f in [-0.5, 0.5], P of degree 4 (coefficients from f^1 up).
    static constexpr float exp2_poly[] = {6.931469775988574e-01f, 2.402224208517322e-01f, 5.550733743691051e-02f,
                                          9.671512648911279e-03f, 1.326472706532188e-03f};
    // log1p(e) = 2 s + s t Q(t), s = e / (2 + e), t = s^2 in [0, 1/9], Q of degree 3.
    static constexpr float log1p_poly[] = {6.666641628543245e-01f, 4.002152724891127e-01f, 2.800180514429289e-01f,
                                           2.801198735505532e-01f};
    static constexpr float exp2_min = -127.0f, exp2_max = 128.0f;
};

template <>
struct Constants<double> {
    static constexpr double exp2_poly[] = {
        6.931471805599499655e-01, 2.402265069590690930e-01, 5.550410866444369200e-02, 9.618129108740861430e-03,
        1.333355823076827547e-03, 1.540352914722989033e-04, 1.525265697780015022e-05, 1.321603495166750717e-06,
        1.020873283832192557e-07, 6.978187602330915289e-09};
    static constexpr double log1p_poly[] = {6.666666666642782829e-01, 4.000000008992207273e-01,
                                            2.857141848032993669e-01, 2.222272826080411927e-01,
                                            1.816840370997483222e-01, 1.558545559369193433e-01,
                                            1.164174055194247771e-01, 1.902969786858150676e-01};
    static constexpr double exp2_min = -1023.0, exp2_max = 1024.0;
};

// c[0] + x c[1] + x^2 c[2] + ... by Horner's rule.
template <class V, typename T, int n>
SSMB_ALWAYS_INLINE V polynomial(V x, const T (&c)[n]) {
    V p = V::broadcast(c[n - 1]);
    for (int i = n - 2; i >= 0; --i) p = mul_add(p, x, V::broadcast(c[i]));
    return p;
}

template <class V>
SSMB_ALWAYS_INLINE V exp2(V x) {
    using K = Constants<typename V::Scalar>;
    if constexpr (V::kExp2TakesInfinity) {
        // No clamp: an infinite x has fraction 0, and ldexp(1, +-inf) is +inf or 0.
        const V f = fraction(x);  // independent of k, so the polynomial need not wait for it
        return ldexp(mul_add(f, polynomial(f, K::exp2_poly), V::broadcast(1)), round_nearest(x));
    } else {
        // Clamped with x as the second operand of max and the result as the second of min, so a
        // NaN passes through on every ISA.
        if constexpr (!V::kExactLdexp) x = min(V::broadcast(K::exp2_max), max(V::broadcast(K::exp2_min), x));
        const V k = round_nearest(x);
        const V f = x - k;  // exact, in [-0.5, 0.5]
        return ldexp(mul_add(f, polynomial(f, K::exp2_poly), V::broadcast(1)), k);
    }
}

// e^(x * sign) for sign = +-1 through exp2(x * sign * log2(e)); the product is rounded alike for
// either sign, so exp_scaled<-1>(x) has the bits of exp(-x). Where exp2 cannot take an infinite
// argument, x is clamped first to where exp is 0 or inf anyway, so that the product stays finite.
template <int sign, class V>
SSMB_ALWAYS_INLINE V exp_scaled(V x) {
    using T = typename V::Scalar;
    if constexpr (!V::kExp2TakesInfinity) {
        const T limit = sizeof(T) == 4 ? T(1e4) : T(1e5);
        x = min(V::broadcast(limit), max(V::broadcast(-limit), x));
    }
    return exp2(x * V::broadcast(T(sign) * T(1.442695040888963407359924681001892137)));
}

// e^x. Any finite x gives a finite result or +inf, never NaN.
template <class V>
SSMB_ALWAYS_INLINE V exp(V x) {
    return exp_scaled<1>(x);
}

// log(1 + e) for e in [0, 1]: through s = e / (2 + e), log1p(e) = 2 atanh(s), whose series in s
// converges fast for s <= 1/3 and keeps full relative accuracy as e -> 0.
template <class V>
SSMB_ALWAYS_INLINE V log1p_unit(V e) {
    using K = Constants<typename V::Scalar>;
    const V s = e / (V::broadcast(2) + e);
    const V t = s * s;
    return mul_add(s * t, polynomial(t, K::log1p_poly), s + s);
}

// Mamba's softplus (common/scan_math.h): x above 20 passes through (as in selective_scan_fn). Below, log1p(exp(x)) is
// evaluated as max(x, 0) + log1p(e) with e = exp(-|x|), where exp cannot overflow; softplus_of takes that e.
// In float the pass-through needs no select: above the threshold (20) e < 2.1e-9 and log1p(e) <= e
// is under half an ulp of x (2^-20 at 20), so x + log1p(e) rounds to x, the same bits.
template <class V>
SSMB_ALWAYS_INLINE V softplus_of(V x, V e) {
    const V below = max(x, V::zero()) + log1p_unit(e);
    if constexpr (sizeof(typename V::Scalar) == 4) return below;
    else return select(V::broadcast(kSoftplusThreshold) < x, x, below);
}

template <class V>
SSMB_ALWAYS_INLINE V softplus(V x) {
    return softplus_of(x, exp_scaled<-1>(abs(x)));
}

// softplus(x) as above and its derivative (common/scan_math.h's softplus_grad: sigmoid(x), 1 above
// the threshold) from one exp: with e = exp(-|x|), log1p(exp(x)) = max(x, 0) + log1p(e) and
// sigmoid(x) = 1 / (1 + e) for x >= 0, e / (1 + e) below. Both errors are within the bounds of
// softplus and sigmoid above.
template <class V>
SSMB_ALWAYS_INLINE V softplus_with_derivative(V x, V& derivative) {
    const V one = V::broadcast(1);
    const V e = exp_scaled<-1>(abs(x));
    const V r = one / (one + e);
    derivative = select(V::broadcast(kSoftplusThreshold) < x, one, select(x < V::zero(), e * r, r));
    return softplus_of(x, e);
}

template <class V>
SSMB_ALWAYS_INLINE V sigmoid(V x) {
    const V one = V::broadcast(1);
    return one / (one + exp_scaled<-1>(x));
}

// x * sigmoid(x) as x / (1 + e^-x): one operation fewer. Below about -88 (float) e^-x is +inf and
// the quotient 0 (-0), never NaN, for any finite x.
template <class V>
SSMB_ALWAYS_INLINE V silu(V x) {
    return x / (V::broadcast(1) + exp_scaled<-1>(x));
}

}  // namespace ssmb::cpu::vmath
