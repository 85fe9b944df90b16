// Scalar math of the selective scan shared by the CPU and CUDA kernels (the CPU's hot loops use
// their vectorized twins in cpu/vec_math.h, which follow the same definitions):
//   - Mamba's softplus and its derivative, silu and its derivative;
//   - the pair operator of the recurrence h -> a h + b, whose composition is associative, so a
//     sequence of steps can be scanned in parallel (the CUDA kernels' warp scans).
#pragma once

#include <cmath>

#include "common/host_device.h"

namespace ssmb {

// log2(e): the kernels evaluate exp(dt A) as exp2(dt (A log2 e)) with A scaled once.
constexpr double kLog2e = 1.442695040888963407359924681001892137;

// Inputs above this pass through softplus unchanged (as in Mamba's selective_scan_fn).
constexpr float kSoftplusThreshold = 20.0f;

template <typename T>
SSMB_HOST_DEVICE inline T sigmoid(T x) {
    return T(1) / (T(1) + std::exp(-x));
}

// softplus(x) = log(1 + e^x), written as max(x, 0) + log1p(e^-|x|) so e^x cannot overflow.
template <typename T>
SSMB_HOST_DEVICE inline T softplus(T x) {
    if (x > T(kSoftplusThreshold)) return x;
    return (x > T(0) ? x : T(0)) + std::log1p(std::exp(-std::fabs(x)));
}

// d softplus / dx = sigmoid(x) (1 above the threshold, where softplus is the identity).
template <typename T>
SSMB_HOST_DEVICE inline T softplus_grad(T x) {
    return x > T(kSoftplusThreshold) ? T(1) : sigmoid(x);
}

template <typename T>
SSMB_HOST_DEVICE inline T silu(T x) {
    return x * sigmoid(x);
}

// d silu / dx = s (1 + x (1 - s)), s = sigmoid(x).
template <typename T>
SSMB_HOST_DEVICE inline T silu_grad(T x) {
    const T s = sigmoid(x);
    return s * (T(1) + x * (T(1) - s));
}

// One step h -> a h + b of the recurrence, or several composed.
template <typename T>
struct ScanPair {
    T a, b;

    SSMB_HOST_DEVICE static ScanPair identity() { return {T(1), T(0)}; }
    SSMB_HOST_DEVICE T apply(T h) const { return a * h + b; }
};

// first, then second: h -> a2 (a1 h + b1) + b2. Associative (not commutative).
template <typename T>
SSMB_HOST_DEVICE inline ScanPair<T> compose(const ScanPair<T>& first, const ScanPair<T>& second) {
    return {first.a * second.a, second.a * first.b + second.b};
}

}  // namespace ssmb
