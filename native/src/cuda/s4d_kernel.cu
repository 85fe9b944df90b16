// CUDA S4D convolution kernel (decomposition in s4d_cuda.h).
#include "common/s4d_math.h"
#include "cuda/cuda_check.h"
#include "cuda/s4d_cuda.h"

namespace ssmb::cuda {

namespace {

using s4d::Complex;

constexpr int kFwdThreads = 128;
constexpr int kFwdItems = 16;                              // consecutive l per thread
constexpr int64_t kFwdSteps = int64_t(kFwdThreads) * kFwdItems;  // l per block
constexpr int kModeTile = 128;                             // modes staged in shared memory at a time

constexpr int kBwdWarps = 8;                               // segments of L per row
constexpr int kLanes = 32;                                 // modes per tile
constexpr int64_t kAnchorEvery = 32;                       // backward: a direct exp(x l) every 32 steps

// Forward: K[h, l] = 2 Re sum_n W_n exp(x_n l).
template <typename T>
__global__ void __launch_bounds__(kFwdThreads)
    s4d_fwd_kernel(S4dSizes s, const T* log_dt, const T* A_real, const T* A_imag, const T* C_real,
                   const T* C_imag, T* K) {
    __shared__ Complex x_s[kModeTile], z_s[kModeTile], w_s[kModeTile];
    const int64_t h = blockIdx.x;
    const int64_t l0 = blockIdx.y * kFwdSteps + int64_t(threadIdx.x) * kFwdItems;
    const double dt = exp(static_cast<double>(log_dt[h]));
    double acc[kFwdItems];
#pragma unroll
    for (int i = 0; i < kFwdItems; ++i) acc[i] = 0.0;

    for (int64_t n0 = 0; n0 < s.N; n0 += kModeTile) {
        const int count = static_cast<int>(s.N - n0 < kModeTile ? s.N - n0 : kModeTile);
        __syncthreads();  // the previous tile is consumed
        for (int j = threadIdx.x; j < count; j += kFwdThreads) {
            const int64_t i = h * s.N + n0 + j;
            const s4d::Mode m = s4d::make_mode(dt, A_real[i], A_imag[i], C_real[i], C_imag[i]);
            x_s[j] = m.x;
            z_s[j] = m.z;
            w_s[j] = m.weight;
        }
        __syncthreads();
        if (l0 < s.L) {
            for (int j = 0; j < count; ++j) {
                const Complex z = z_s[j];
                Complex v = w_s[j] * s4d::power_at(x_s[j], l0);
#pragma unroll
                for (int i = 0; i < kFwdItems; ++i) {
                    acc[i] += v.re;
                    v = v * z;
                }
            }
        }
    }
    if (l0 >= s.L) return;
    T* const out = K + h * s.L;
#pragma unroll
    for (int i = 0; i < kFwdItems; ++i)
        if (l0 + i < s.L) out[l0 + i] = static_cast<T>(2.0 * acc[i]);
}

__device__ __forceinline__ double shfl_xor(double v, int offset) { return __shfl_xor_sync(0xffffffffu, v, offset); }

// Backward: per row h (block) and mode tile, S0 / S1 per lane over each warp's segment of L.
template <typename T>
__global__ void __launch_bounds__(kBwdWarps * kLanes)
    s4d_bwd_kernel(S4dSizes s, const T* log_dt, const T* A_real, const T* A_imag, const T* C_real,
                   const T* C_imag, const T* dK, T* dlog_dt, T* dA_real, T* dA_imag, T* dC_real, T* dC_imag) {
    __shared__ Complex S0_s[kBwdWarps][kLanes], S1_s[kBwdWarps][kLanes];
    const int64_t h = blockIdx.x;
    const int lane = threadIdx.x % kLanes, warp = threadIdx.x / kLanes;
    const double dt = exp(static_cast<double>(log_dt[h]));
    // Segments of whole anchor blocks, so every segment starts at a direct anchor.
    const int64_t blocks = (s.L + kAnchorEvery - 1) / kAnchorEvery;
    const int64_t per_warp = (blocks + kBwdWarps - 1) / kBwdWarps;
    const int64_t begin = warp * per_warp * kAnchorEvery;
    const int64_t end = min(s.L, begin + per_warp * kAnchorEvery);
    const T* const g = dK + h * s.L;
    double dlog = 0.0;  // lane 0 of warp 0: the row's sum so far

    for (int64_t n0 = 0; n0 < s.N; n0 += kLanes) {
        const int64_t n = n0 + lane;
        const bool live = n < s.N;
        const int64_t i = h * s.N + (live ? n : s.N - 1);
        const s4d::Mode m = s4d::make_mode(dt, A_real[i], A_imag[i], C_real[i], C_imag[i]);
        Complex S0{0.0, 0.0}, S1{0.0, 0.0};
        for (int64_t a = begin; a < end; a += kAnchorEvery) {
            Complex p = s4d::power_at(m.x, a);
            const int64_t stop = min(end, a + kAnchorEvery);
            for (int64_t l = a; l < stop; ++l) {
                const double gl = static_cast<double>(g[l]), gll = gl * static_cast<double>(l);
                S0.re += gl * p.re;
                S0.im += gl * p.im;
                S1.re += gll * p.re;
                S1.im += gll * p.im;
                p = p * m.z;
            }
        }
        S0_s[warp][lane] = S0;
        S1_s[warp][lane] = S1;
        __syncthreads();
        if (warp == 0) {
            Complex T0{0.0, 0.0}, T1{0.0, 0.0};
            for (int k = 0; k < kBwdWarps; ++k) {
                T0 = T0 + S0_s[k][lane];
                T1 = T1 + S1_s[k][lane];
            }
            const Complex C{static_cast<double>(C_real[i]), static_cast<double>(C_imag[i])};
            const s4d::ModeGrad d = s4d::mode_gradient(dt, m, C, T0, T1);
            if (live) {
                dA_real[i] = static_cast<T>(d.dA_real);
                dA_imag[i] = static_cast<T>(d.dA_imag);
                dC_real[i] = static_cast<T>(d.dC_real);
                dC_imag[i] = static_cast<T>(d.dC_imag);
            }
            double term = live ? d.dlog_dt : 0.0;
            for (int offset = kLanes / 2; offset > 0; offset >>= 1) term += shfl_xor(term, offset);
            dlog += term;
        }
        __syncthreads();  // the partials are consumed before the next tile
    }
    if (threadIdx.x == 0) dlog_dt[h] = static_cast<T>(dlog);
}

}  // namespace

template <typename T>
void s4d_kernel_fwd(const S4dSizes& s, const T* log_dt, const T* A_real, const T* A_imag, const T* C_real,
                    const T* C_imag, T* K, cudaStream_t stream) {
    const dim3 grid(static_cast<unsigned>(s.H), static_cast<unsigned>((s.L + kFwdSteps - 1) / kFwdSteps));
    s4d_fwd_kernel<T><<<grid, kFwdThreads, 0, stream>>>(s, log_dt, A_real, A_imag, C_real, C_imag, K);
    check_launch("s4d_fwd_kernel launch");
}

template <typename T>
void s4d_kernel_bwd(const S4dSizes& s, const T* log_dt, const T* A_real, const T* A_imag, const T* C_real,
                    const T* C_imag, const T* dK, T* dlog_dt, T* dA_real, T* dA_imag, T* dC_real, T* dC_imag,
                    cudaStream_t stream) {
    s4d_bwd_kernel<T><<<static_cast<unsigned>(s.H), kBwdWarps * kLanes, 0, stream>>>(
        s, log_dt, A_real, A_imag, C_real, C_imag, dK, dlog_dt, dA_real, dA_imag, dC_real, dC_imag);
    check_launch("s4d_bwd_kernel launch");
}

template void s4d_kernel_fwd<float>(const S4dSizes&, const float*, const float*, const float*, const float*,
                                    const float*, float*, cudaStream_t);
template void s4d_kernel_fwd<double>(const S4dSizes&, const double*, const double*, const double*, const double*,
                                     const double*, double*, cudaStream_t);
template void s4d_kernel_bwd<float>(const S4dSizes&, const float*, const float*, const float*, const float*,
                                    const float*, const float*, float*, float*, float*, float*, float*,
                                    cudaStream_t);
template void s4d_kernel_bwd<double>(const S4dSizes&, const double*, const double*, const double*, const double*,
                                     const double*, const double*, double*, double*, double*, double*, double*,
                                     cudaStream_t);

}  // namespace ssmb::cuda
