// CPU S4D convolution kernel. Each thread takes whole rows h. A row is produced in blocks of
// kBlock steps: inside a block the powers exp(x j), j < kBlock, come from a per-row table (repeated
// double multiplication by exp(x)), and the block's anchor exp(x l0) is either computed directly (every
// kReanchor blocks) or advanced from the previous anchor by exp(x kBlock), so no value ever comes from
// more than about kBlock (kReanchor + 1) double multiplications: no drift, however long L is. Setup and anchors run
// in double; the per-block products (the O(N L) part) run in T over contiguous arrays that the
// compiler vectorizes: forward sums over n into a block of outputs, backward sums over j into
// per-mode accumulators.
#include "cpu/s4d_kernel.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "common/s4d_math.h"
#include "cpu/thread_pool.h"

namespace ssmb::cpu {

namespace {

using s4d::Complex;

constexpr int64_t kBlock = 32;
constexpr int64_t kReanchor = 8;

// The anchors exp(x l0) of successive blocks of one mode: block 0 is 1, every kReanchor-th block is
// computed directly, the others advance the previous anchor by step = exp(x block) (the end of the
// per-row power table: block double-precision multiplications from exp(x)).
class Anchor {
public:
    Anchor(Complex x, Complex step, int64_t block) : x_(x), step_(step), block_(block) {}

    Complex at(int64_t index) {
        if (index == 0)
            value_ = Complex{1.0, 0.0};
        else
            value_ = index % kReanchor == 0 ? s4d::power_at(x_, index * block_) : value_ * step_;
        return value_;
    }

private:
    Complex x_, step_;
    int64_t block_;
    Complex value_{1.0, 0.0};
};

// Per-row scratch of one thread.
template <typename T>
struct RowScratch {
    std::vector<s4d::Mode> modes;
    std::vector<Anchor> anchors;
    std::vector<T> power_re, power_im;  // exp(x j), j < block: forward [n][j], backward [j][n]
    std::vector<T> a0, a1, a2, a3;      // block accumulators

    RowScratch(const S4dShape& s, int64_t block)
        : power_re(s.N * block), power_im(s.N * block), a0(std::max(s.N, block)), a1(s.N), a2(s.N), a3(s.N) {
        modes.reserve(s.N);
        anchors.reserve(s.N);
    }

    void setup(const S4dShape& s, int64_t h, int64_t block, bool mode_major, const T* log_dt, const T* A_real,
               const T* A_imag, const T* C_real, const T* C_imag) {
        const double dt = std::exp(static_cast<double>(log_dt[h]));
        modes.clear();
        anchors.clear();
        for (int64_t n = 0; n < s.N; ++n) {
            const int64_t i = h * s.N + n;
            modes.push_back(s4d::make_mode(dt, A_real[i], A_imag[i], C_real[i], C_imag[i]));
            Complex p{1.0, 0.0};
            for (int64_t j = 0; j < block; ++j) {
                const int64_t at = mode_major ? n * block + j : j * s.N + n;
                power_re[at] = static_cast<T>(p.re);
                power_im[at] = static_cast<T>(p.im);
                p = p * modes.back().z;
            }
            anchors.emplace_back(modes.back().x, p, block);
        }
    }
};

}  // namespace

template <typename T>
void s4d_kernel_fwd(const S4dShape& s, const T* log_dt, const T* A_real, const T* A_imag, const T* C_real,
                    const T* C_imag, T* K) {
    const int64_t block = std::min(kBlock, s.L), N = s.N;
    parallel_for(s.H, [&](int64_t begin, int64_t end) {
        RowScratch<T> r(s, block);
        for (int64_t h = begin; h < end; ++h) {
            r.setup(s, h, block, true, log_dt, A_real, A_imag, C_real, C_imag);
            T* __restrict acc = r.a0.data();
            for (int64_t b = 0, l0 = 0; l0 < s.L; ++b, l0 += block) {
                std::fill(acc, acc + block, T(0));
                for (int64_t n = 0; n < N; ++n) {
                    // K[l0 + j] += 2 Re(W exp(x l0) exp(x j)).
                    const Complex v = r.modes[n].weight * r.anchors[n].at(b);
                    const T vr = static_cast<T>(v.re), vi = static_cast<T>(v.im);
                    const T* __restrict pr = r.power_re.data() + n * block;
                    const T* __restrict pi = r.power_im.data() + n * block;
                    for (int64_t j = 0; j < block; ++j) acc[j] += vr * pr[j] - vi * pi[j];
                }
                T* out = K + h * s.L + l0;
                const int64_t len = std::min(block, s.L - l0);
                for (int64_t j = 0; j < len; ++j) out[j] = T(2) * acc[j];
            }
        }
    });
}

template <typename T>
void s4d_kernel_bwd(const S4dShape& s, const T* log_dt, const T* A_real, const T* A_imag, const T* C_real,
                    const T* C_imag, const T* dK, T* dlog_dt, T* dA_real, T* dA_imag, T* dC_real, T* dC_imag) {
    const int64_t block = std::min(kBlock, s.L), N = s.N;
    parallel_for(s.H, [&](int64_t begin, int64_t end) {
        RowScratch<T> r(s, block);
        std::vector<Complex> S0(N), S1(N);
        for (int64_t h = begin; h < end; ++h) {
            r.setup(s, h, block, false, log_dt, A_real, A_imag, C_real, C_imag);
            std::fill(S0.begin(), S0.end(), Complex{0.0, 0.0});
            std::fill(S1.begin(), S1.end(), Complex{0.0, 0.0});
            T* __restrict t0r = r.a0.data();
            T* __restrict t0i = r.a1.data();
            T* __restrict t1r = r.a2.data();
            T* __restrict t1i = r.a3.data();
            const T* g = dK + h * s.L;
            for (int64_t b = 0, l0 = 0; l0 < s.L; ++b, l0 += block) {
                // T0 = sum_j dK[l0 + j] exp(x j), T1 = sum_j dK[l0 + j] j exp(x j), per mode.
                std::fill(t0r, t0r + N, T(0));
                std::fill(t0i, t0i + N, T(0));
                std::fill(t1r, t1r + N, T(0));
                std::fill(t1i, t1i + N, T(0));
                const int64_t len = std::min(block, s.L - l0);
                for (int64_t j = 0; j < len; ++j) {
                    const T gj = g[l0 + j], gjj = gj * static_cast<T>(j);
                    const T* __restrict pr = r.power_re.data() + j * N;
                    const T* __restrict pi = r.power_im.data() + j * N;
                    for (int64_t n = 0; n < N; ++n) {
                        t0r[n] += gj * pr[n];
                        t0i[n] += gj * pi[n];
                        t1r[n] += gjj * pr[n];
                        t1i[n] += gjj * pi[n];
                    }
                }
                // S0 += exp(x l0) T0, S1 += exp(x l0) (l0 T0 + T1).
                const double base = static_cast<double>(l0);
                for (int64_t n = 0; n < N; ++n) {
                    const Complex e = r.anchors[n].at(b);
                    const Complex t0{t0r[n], t0i[n]}, t1{t1r[n], t1i[n]};
                    S0[n] = S0[n] + e * t0;
                    S1[n] = S1[n] + e * (base * t0 + t1);
                }
            }
            const double dt = std::exp(static_cast<double>(log_dt[h]));
            double dlog = 0.0;
            for (int64_t n = 0; n < N; ++n) {
                const int64_t i = h * N + n;
                const s4d::ModeGrad d =
                    s4d::mode_gradient(dt, r.modes[n], Complex{C_real[i], C_imag[i]}, S0[n], S1[n]);
                dA_real[i] = static_cast<T>(d.dA_real);
                dA_imag[i] = static_cast<T>(d.dA_imag);
                dC_real[i] = static_cast<T>(d.dC_real);
                dC_imag[i] = static_cast<T>(d.dC_imag);
                dlog += d.dlog_dt;
            }
            dlog_dt[h] = static_cast<T>(dlog);
        }
    });
}

template void s4d_kernel_fwd<float>(const S4dShape&, const float*, const float*, const float*, const float*,
                                    const float*, float*);
template void s4d_kernel_fwd<double>(const S4dShape&, const double*, const double*, const double*, const double*,
                                     const double*, double*);
template void s4d_kernel_bwd<float>(const S4dShape&, const float*, const float*, const float*, const float*,
                                    const float*, const float*, float*, float*, float*, float*, float*);
template void s4d_kernel_bwd<double>(const S4dShape&, const double*, const double*, const double*, const double*,
                                     const double*, const double*, double*, double*, double*, double*, double*);

}  // namespace ssmb::cpu
