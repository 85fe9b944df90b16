// K vectors of type V operated on as one (interface: vec_scalar.h): each operation is done on every
// member in turn. Code written once for V, run on a Pack, interleaves K independent dependency
// chains instruction by instruction; scan_kernel_fwd_one_state.h uses it for K channels at once,
// whose exp, division and prefix-scan chains are otherwise too long for the core to overlap.
#pragma once

#include "cpu/simd_target.h"
#include "cpu/vec_lanes.h"

namespace ssmb::cpu {

template <class V, int K>
struct Pack {
    using Scalar = typename V::Scalar;
    struct Mask {
        typename V::Mask m[K];
    };
    static constexpr int kLanes = V::kLanes;  // lanes of each member: the shifts work per member
    static constexpr bool kExactLdexp = V::kExactLdexp;
    static constexpr bool kExp2TakesInfinity = V::kExp2TakesInfinity;
    V v[K];

    SSMB_ALWAYS_INLINE static Pack broadcast(Scalar x) {
        Pack r;
        for (int j = 0; j < K; ++j) r.v[j] = V::broadcast(x);
        return r;
    }
    SSMB_ALWAYS_INLINE static Pack zero() {
        Pack r;
        for (int j = 0; j < K; ++j) r.v[j] = V::zero();
        return r;
    }
};

namespace pack_detail {
template <class V, int K, class F>
SSMB_ALWAYS_INLINE Pack<V, K> map(F f) {
    Pack<V, K> r;
    for (int j = 0; j < K; ++j) r.v[j] = f(j);
    return r;
}
}  // namespace pack_detail

template <class V, int K>
SSMB_ALWAYS_INLINE Pack<V, K> operator+(const Pack<V, K>& x, const Pack<V, K>& y) {
    return pack_detail::map<V, K>([&](int j) { return x.v[j] + y.v[j]; });
}
template <class V, int K>
SSMB_ALWAYS_INLINE Pack<V, K> operator-(const Pack<V, K>& x, const Pack<V, K>& y) {
    return pack_detail::map<V, K>([&](int j) { return x.v[j] - y.v[j]; });
}
template <class V, int K>
SSMB_ALWAYS_INLINE Pack<V, K> operator*(const Pack<V, K>& x, const Pack<V, K>& y) {
    return pack_detail::map<V, K>([&](int j) { return x.v[j] * y.v[j]; });
}
template <class V, int K>
SSMB_ALWAYS_INLINE Pack<V, K> operator/(const Pack<V, K>& x, const Pack<V, K>& y) {
    return pack_detail::map<V, K>([&](int j) { return x.v[j] / y.v[j]; });
}
template <class V, int K>
SSMB_ALWAYS_INLINE Pack<V, K> mul_add(const Pack<V, K>& x, const Pack<V, K>& y, const Pack<V, K>& z) {
    return pack_detail::map<V, K>([&](int j) { return mul_add(x.v[j], y.v[j], z.v[j]); });
}
template <class V, int K>
SSMB_ALWAYS_INLINE Pack<V, K> min(const Pack<V, K>& x, const Pack<V, K>& y) {
    return pack_detail::map<V, K>([&](int j) { return min(x.v[j], y.v[j]); });
}
template <class V, int K>
SSMB_ALWAYS_INLINE Pack<V, K> max(const Pack<V, K>& x, const Pack<V, K>& y) {
    return pack_detail::map<V, K>([&](int j) { return max(x.v[j], y.v[j]); });
}
template <class V, int K>
SSMB_ALWAYS_INLINE Pack<V, K> abs(const Pack<V, K>& x) {
    return pack_detail::map<V, K>([&](int j) { return abs(x.v[j]); });
}
template <class V, int K>
SSMB_ALWAYS_INLINE typename Pack<V, K>::Mask operator<(const Pack<V, K>& x, const Pack<V, K>& y) {
    typename Pack<V, K>::Mask r;
    for (int j = 0; j < K; ++j) r.m[j] = x.v[j] < y.v[j];
    return r;
}
template <class V, int K>
SSMB_ALWAYS_INLINE Pack<V, K> select(const typename Pack<V, K>::Mask& m, const Pack<V, K>& yes, const Pack<V, K>& no) {
    return pack_detail::map<V, K>([&](int j) { return select(m.m[j], yes.v[j], no.v[j]); });
}
template <class V, int K>
SSMB_ALWAYS_INLINE Pack<V, K> round_nearest(const Pack<V, K>& x) {
    return pack_detail::map<V, K>([&](int j) { return round_nearest(x.v[j]); });
}
template <class V, int K>
SSMB_ALWAYS_INLINE Pack<V, K> fraction(const Pack<V, K>& x) {
    return pack_detail::map<V, K>([&](int j) { return fraction(x.v[j]); });
}
template <class V, int K>
SSMB_ALWAYS_INLINE Pack<V, K> ldexp(const Pack<V, K>& x, const Pack<V, K>& k) {
    return pack_detail::map<V, K>([&](int j) { return ldexp(x.v[j], k.v[j]); });
}
template <class V, int K, int s>
SSMB_ALWAYS_INLINE Pack<V, K> shift_up(const Pack<V, K>& x, const Pack<V, K>& fill, Lanes<s> n) {
    return pack_detail::map<V, K>([&](int j) { return shift_up(x.v[j], fill.v[j], n); });
}
template <class V, int K, int s>
SSMB_ALWAYS_INLINE Pack<V, K> shift_down(const Pack<V, K>& x, const Pack<V, K>& fill, Lanes<s> n) {
    return pack_detail::map<V, K>([&](int j) { return shift_down(x.v[j], fill.v[j], n); });
}
template <class V, int K>
SSMB_ALWAYS_INLINE Pack<V, K> broadcast_first(const Pack<V, K>& x) {
    return pack_detail::map<V, K>([&](int j) { return broadcast_first(x.v[j]); });
}
template <class V, int K>
SSMB_ALWAYS_INLINE Pack<V, K> broadcast_last(const Pack<V, K>& x) {
    return pack_detail::map<V, K>([&](int j) { return broadcast_last(x.v[j]); });
}

}  // namespace ssmb::cpu
