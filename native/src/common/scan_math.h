// Scalar math of the selective scan, shared by the CPU kernels and (later) the CUDA kernels, so
// both compute softplus, silu and their derivatives the same way Mamba does.
#pragma once

#include <cmath>

#ifdef __CUDACC__
#define SSMB_HOST_DEVICE __host__ __device__
#else
#define SSMB_HOST_DEVICE
#endif

namespace ssmb {

template <typename T>
SSMB_HOST_DEVICE inline T sigmoid(T x) {
    using std::exp;
    return T(1) / (T(1) + exp(-x));
}

// Mamba's softplus: above 20, log1p(exp(x)) equals x to float precision, and exp would overflow
// soon after, so the identity is used there.
template <typename T>
SSMB_HOST_DEVICE inline T softplus(T x) {
    using std::exp;
    using std::log1p;
    return x <= T(20) ? log1p(exp(x)) : x;
}

// d softplus(x) / dx. Mamba uses sigmoid on both sides of the threshold (the identity branch has
// slope 1, and sigmoid(x > 20) rounds to 1).
template <typename T>
SSMB_HOST_DEVICE inline T softplus_grad(T x) {
    return sigmoid(x);
}

template <typename T>
SSMB_HOST_DEVICE inline T silu(T x) {
    return x * sigmoid(x);
}

// d silu(x) / dx = s + x s (1 - s) with s = sigmoid(x).
template <typename T>
SSMB_HOST_DEVICE inline T silu_grad(T x) {
    const T s = sigmoid(x);
    return s * (T(1) + x * (T(1) - s));
}

}  // namespace ssmb
