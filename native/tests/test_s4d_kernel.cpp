// The S4D convolution kernel through the C ABI, against an independent long double reference:
// (exp(dt A) - 1) / A as the integral of exp(A s) over [0, dt] (Gauss-Legendre) where dt A is small and
// as the closed form elsewhere, exp(dt A l) straight from the definition, gradients by central
// differences of that reference. Covers tiny dt A (where exp(x) - 1 cancels), A = 0, A_real -> 0 with
// long L, L = 1, float and double, thread-count invariance and argument checks that name the argument.
//
// Input values are fresh on every run; a failure prints its seed, and SSMB_TEST_SEED=<seed> replays it.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "ssmbridge/ssmbridge.h"

namespace {

using cld = std::complex<long double>;

uint64_t fresh_seed() {
    if (const char* fixed = std::getenv("SSMB_TEST_SEED")) return std::strtoull(fixed, nullptr, 10);
    return std::random_device{}();
}

// Parameters of one call in double (the float tests round them to float first, and the reference
// reads the rounded values).
struct Params {
    int64_t H, N, L;
    std::vector<double> log_dt, A_real, A_imag, C_real, C_imag;
};

// S4D-Lin-like modes with random dt in [dt_min, dt_max] (log-uniform) and random C.
Params random_params(int64_t H, int64_t N, int64_t L, double dt_min, double dt_max, uint64_t seed) {
    std::mt19937_64 gen(seed);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    std::normal_distribution<double> normal;
    Params p{H, N, L, {}, {}, {}, {}, {}};
    for (int64_t h = 0; h < H; ++h)
        p.log_dt.push_back(std::log(dt_min) + unit(gen) * (std::log(dt_max) - std::log(dt_min)));
    for (int64_t h = 0; h < H; ++h)
        for (int64_t n = 0; n < N; ++n) {
            p.A_real.push_back(-0.5 * (0.2 + 1.8 * unit(gen)));
            p.A_imag.push_back(-M_PI * n * (0.5 + unit(gen)));
            p.C_real.push_back(normal(gen));
            p.C_imag.push_back(normal(gen));
        }
    return p;
}

template <typename T>
std::vector<T> as(const std::vector<double>& v) {
    return std::vector<T>(v.begin(), v.end());
}

template <typename T>
Params rounded(const Params& p) {
    Params r = p;
    for (auto* v : {&r.log_dt, &r.A_real, &r.A_imag, &r.C_real, &r.C_imag})
        for (double& x : *v) x = static_cast<double>(static_cast<T>(x));
    return r;
}

// Gauss-Legendre nodes and weights on [-1, 1] (Newton on the Legendre recurrence, in long double).
struct GaussLegendre {
    static constexpr int kPoints = 20;
    long double node[kPoints], weight[kPoints];

    GaussLegendre() {
        const long double pi = 3.141592653589793238462643383279503L;
        for (int i = 0; i < kPoints; ++i) {
            long double z = std::cos(pi * (i + 0.75L) / (kPoints + 0.5L)), dp = 1;
            for (int iter = 0; iter < 100; ++iter) {
                long double p0 = 1, p1 = z;
                for (int k = 2; k <= kPoints; ++k) {
                    const long double p2 = ((2 * k - 1) * z * p1 - (k - 1) * p0) / k;
                    p0 = p1;
                    p1 = p2;
                }
                dp = kPoints * (z * p1 - p0) / (z * z - 1);
                const long double next = z - p1 / dp;
                if (next == z) break;
                z = next;
            }
            node[i] = z;
            weight[i] = 2 / ((1 - z * z) * dp * dp);
        }
    }
};

// (exp(dt A) - 1) / A = integral_0^dt exp(A s) ds, by Gauss-Legendre where |dt A| < 1 (no cancellation).
cld zoh_factor(long double dt, cld A) {
    const cld x = dt * A;
    if (std::abs(x) >= 1.0L) return (std::exp(x) - 1.0L) / A;
    static const GaussLegendre rule;
    cld sum = 0;
    for (int i = 0; i < GaussLegendre::kPoints; ++i)
        sum += rule.weight[i] * std::exp(A * (0.5L * dt * (1 + rule.node[i])));
    return 0.5L * dt * sum;
}

std::vector<long double> reference_kernel(const Params& p) {
    std::vector<long double> K(p.H * p.L, 0.0L);
    for (int64_t h = 0; h < p.H; ++h) {
        const long double dt = std::exp(static_cast<long double>(p.log_dt[h]));
        for (int64_t n = 0; n < p.N; ++n) {
            const int64_t i = h * p.N + n;
            const cld A(p.A_real[i], p.A_imag[i]), C(p.C_real[i], p.C_imag[i]);
            const cld w = C * zoh_factor(dt, A);
            for (int64_t l = 0; l < p.L; ++l) K[h * p.L + l] += 2.0L * std::real(w * std::exp(dt * A * (long double)l));
        }
    }
    return K;
}

long double weighted_sum(const Params& p, const std::vector<double>& dK) {
    const std::vector<long double> K = reference_kernel(p);
    long double s = 0;
    for (size_t i = 0; i < K.size(); ++i) s += K[i] * dK[i];
    return s;
}

template <typename T>
std::vector<T> run_forward(const Params& p, ssmb_status* status = nullptr) {
    const ssmb_dtype dtype = sizeof(T) == 8 ? SSMB_FLOAT64 : SSMB_FLOAT32;
    auto log_dt = as<T>(p.log_dt), Ar = as<T>(p.A_real), Ai = as<T>(p.A_imag), Cr = as<T>(p.C_real),
         Ci = as<T>(p.C_imag);
    std::vector<T> K(p.H * p.L, T(-7));
    const ssmb_status s =
        ssmb_s4d_kernel_fwd(dtype, p.H, p.N, p.L, log_dt.data(), Ar.data(), Ai.data(), Cr.data(), Ci.data(), K.data());
    if (status)
        *status = s;
    else
        EXPECT_EQ(s, SSMB_OK) << ssmb_last_error();
    return K;
}

struct Grads {
    std::vector<double> log_dt, A_real, A_imag, C_real, C_imag;
};

template <typename T>
Grads run_backward(const Params& p, const std::vector<double>& dK) {
    const ssmb_dtype dtype = sizeof(T) == 8 ? SSMB_FLOAT64 : SSMB_FLOAT32;
    auto log_dt = as<T>(p.log_dt), Ar = as<T>(p.A_real), Ai = as<T>(p.A_imag), Cr = as<T>(p.C_real),
         Ci = as<T>(p.C_imag), g = as<T>(dK);
    std::vector<T> d0(p.H), d1(p.H * p.N), d2(p.H * p.N), d3(p.H * p.N), d4(p.H * p.N);
    EXPECT_EQ(ssmb_s4d_kernel_bwd(dtype, p.H, p.N, p.L, log_dt.data(), Ar.data(), Ai.data(), Cr.data(), Ci.data(),
                                  g.data(), d0.data(), d1.data(), d2.data(), d3.data(), d4.data()),
              SSMB_OK)
        << ssmb_last_error();
    auto back = [](const std::vector<T>& v) { return std::vector<double>(v.begin(), v.end()); };
    return {back(d0), back(d1), back(d2), back(d3), back(d4)};
}

// max |actual - expected| / max |expected|.
template <typename A, typename E>
double relative_error(const std::vector<A>& actual, const std::vector<E>& expected) {
    long double err = 0, scale = 1e-300L;
    for (size_t i = 0; i < expected.size(); ++i) {
        err = std::max(err, std::fabs(static_cast<long double>(actual[i]) - static_cast<long double>(expected[i])));
        scale = std::max(scale, std::fabs(static_cast<long double>(expected[i])));
    }
    return static_cast<double>(err / scale);
}

// Central differences of sum(dK * K_reference) for every parameter. The step is relative to a
// parameter's size (times A_scale for A: K varies with A on the scale 1 / (dt L), so tiny dt needs
// large steps in A for the differences to rise above the reference's rounding).
Grads reference_gradients(const Params& p, const std::vector<double>& dK, double A_scale) {
    Grads g;
    Params q = p;
    auto diff = [&](std::vector<double>& v, std::vector<double>& out, double scale) {
        for (size_t i = 0; i < v.size(); ++i) {
            // 3e-5: with 1e-4 the truncation error reached 2.7e-6 at L = 300, dt up to 0.5 (seed
            // 2035496972), about 1 seed in 200; rounding stays near eps_long_double / step ~ 1e-14.
            const double x = v[i], step = 3e-5 * scale * std::max(1.0, std::fabs(x));
            auto at = [&](double offset) {
                v[i] = x + offset;
                const long double f = weighted_sum(q, dK);
                v[i] = x;
                return f;
            };
            // Fourth-order central difference: truncation O(step^4), rounding O(eps_long_double / step).
            const long double d1 = at(step) - at(-step), d2 = at(2 * step) - at(-2 * step);
            out.push_back(static_cast<double>((8.0L * d1 - d2) / (12.0L * step)));
        }
    };
    diff(q.log_dt, g.log_dt, 1.0);
    diff(q.A_real, g.A_real, A_scale);
    diff(q.A_imag, g.A_imag, A_scale);
    diff(q.C_real, g.C_real, 1.0);
    diff(q.C_imag, g.C_imag, 1.0);
    return g;
}

std::vector<double> random_vector(int64_t n, uint64_t seed) {
    std::mt19937_64 gen(seed);
    std::normal_distribution<double> normal;
    std::vector<double> v(n);
    for (double& x : v) x = normal(gen);
    return v;
}

struct Case {
    int64_t H, N, L;
    double dt_min, dt_max;
};

class S4dKernelValues : public ::testing::TestWithParam<Case> {};

TEST_P(S4dKernelValues, MatchTheLongDoubleReference) {
    const Case c = GetParam();
    const uint64_t seed = fresh_seed();
    SCOPED_TRACE("seed " + std::to_string(seed));
    const Params p = random_params(c.H, c.N, c.L, c.dt_min, c.dt_max, seed);
    EXPECT_LT(relative_error(run_forward<double>(p), reference_kernel(p)), 1e-12);
    const Params pf = rounded<float>(p);
    EXPECT_LT(relative_error(run_forward<float>(pf), reference_kernel(pf)), c.L > 256 ? 1e-4 : 2e-5);
}

INSTANTIATE_TEST_SUITE_P(Shapes, S4dKernelValues,
                         ::testing::Values(Case{1, 1, 1, 1e-3, 1e-1}, Case{3, 4, 5, 1e-3, 1e-1},
                                           Case{2, 8, 31, 1e-3, 1e-1}, Case{5, 7, 33, 1e-2, 1.0},
                                           Case{4, 32, 256, 1e-3, 1e-1}, Case{2, 16, 1000, 1e-3, 1e-1},
                                           Case{2, 32, 4096, 1e-4, 1e-2}, Case{3, 6, 97, 1e-8, 1e-6}));

TEST(S4dKernel, TinyDtAIsAccurateWhereExpMinusOneCancels) {
    const uint64_t seed = fresh_seed();
    SCOPED_TRACE("seed " + std::to_string(seed));
    for (double dt : {1e-4, 1e-7, 1e-10, 1e-13}) {
        Params p = random_params(3, 8, 40, dt, dt, seed);
        const std::vector<long double> ref = reference_kernel(p);
        EXPECT_LT(relative_error(run_forward<double>(p), ref), 1e-13) << "dt " << dt;
        const Params pf = rounded<float>(p);
        EXPECT_LT(relative_error(run_forward<float>(pf), reference_kernel(pf)), 1e-5) << "dt " << dt;
    }
}

TEST(S4dKernel, ZeroAAndARealNearZeroStayFiniteForLongL) {
    // A = 0: K[l] = 2 Re(C) dt for every l; A_real -> 0 with A_imag != 0: a slowly decaying oscillation.
    Params p{2, 2, 20000, {std::log(0.1), std::log(0.01)}, {0.0, -1e-12, -1e-6, 0.0}, {0.0, -3.0, -1e-3, -40.0},
             {1.5, 0.25, -0.5, 2.0}, {0.5, 1.0, 0.75, -1.0}};
    const std::vector<double> K = run_forward<double>(p);
    for (double k : K) ASSERT_TRUE(std::isfinite(k));
    EXPECT_LT(relative_error(K, reference_kernel(p)), 1e-10);
    const std::vector<float> Kf = run_forward<float>(rounded<float>(p));
    EXPECT_LT(relative_error(Kf, reference_kernel(rounded<float>(p))), 1e-4);
}

TEST(S4dKernel, GradientsMatchCentralDifferencesOfTheReference) {
    const uint64_t seed = fresh_seed();
    SCOPED_TRACE("seed " + std::to_string(seed));
    for (const Case& c : {Case{2, 3, 1, 1e-2, 1e-1}, Case{3, 4, 45, 1e-3, 1e-1}, Case{2, 5, 300, 1e-2, 0.5},
                          Case{2, 3, 50, 1e-9, 1e-7}}) {
        SCOPED_TRACE("H " + std::to_string(c.H) + " N " + std::to_string(c.N) + " L " + std::to_string(c.L));
        const Params p = random_params(c.H, c.N, c.L, c.dt_min, c.dt_max, seed);
        const std::vector<double> dK = random_vector(c.H * c.L, seed + 1);
        const double scale = std::max(1.0, 1e-3 / (c.dt_max * c.L));
        const Grads ref = reference_gradients(p, dK, scale);
        const Grads got = run_backward<double>(p, dK);
        // 4th-order central differences of the reference carry ~1e-7 relative error themselves (seen: 1.07e-7).
        EXPECT_LT(relative_error(got.log_dt, ref.log_dt), 1e-6);
        EXPECT_LT(relative_error(got.A_real, ref.A_real), 1e-6);
        EXPECT_LT(relative_error(got.A_imag, ref.A_imag), 1e-6);
        EXPECT_LT(relative_error(got.C_real, ref.C_real), 1e-6);
        EXPECT_LT(relative_error(got.C_imag, ref.C_imag), 1e-6);
        const Params pf = rounded<float>(p);
        const Grads reff = reference_gradients(pf, dK, scale);
        const Grads gotf = run_backward<float>(pf, dK);
        EXPECT_LT(relative_error(gotf.log_dt, reff.log_dt), 1e-4);
        EXPECT_LT(relative_error(gotf.A_real, reff.A_real), 1e-4);
        EXPECT_LT(relative_error(gotf.A_imag, reff.A_imag), 1e-4);
        EXPECT_LT(relative_error(gotf.C_real, reff.C_real), 1e-4);
        EXPECT_LT(relative_error(gotf.C_imag, reff.C_imag), 1e-4);
    }
}

TEST(S4dKernel, ResultsDoNotDependOnTheThreadCount) {
    const uint64_t seed = fresh_seed();
    const Params p = random_params(7, 16, 300, 1e-3, 1e-1, seed);
    const std::vector<double> dK = random_vector(p.H * p.L, seed + 1);
    const int32_t before = ssmb_get_num_threads();
    ASSERT_EQ(ssmb_set_num_threads(1), SSMB_OK);
    const std::vector<float> K1 = run_forward<float>(p);
    const Grads g1 = run_backward<float>(p, dK);
    ASSERT_EQ(ssmb_set_num_threads(3), SSMB_OK);
    const std::vector<float> K3 = run_forward<float>(p);
    const Grads g3 = run_backward<float>(p, dK);
    ASSERT_EQ(ssmb_set_num_threads(before), SSMB_OK);
    EXPECT_EQ(K1, K3);
    EXPECT_EQ(g1.A_real, g3.A_real);
    EXPECT_EQ(g1.log_dt, g3.log_dt);
    EXPECT_EQ(g1.C_imag, g3.C_imag);
}

TEST(S4dKernel, BadArgumentsAreRejectedByName) {
    std::vector<float> v(64, 0.5f), K(64), d0(64), d1(64), d2(64), d3(64), d4(64);
    const float* in = v.data();
    auto expect = [](ssmb_status got, ssmb_status want, const std::string& starts) {
        EXPECT_EQ(got, want);
        EXPECT_EQ(std::string(ssmb_last_error()).rfind(starts, 0), 0u) << ssmb_last_error();
    };
    expect(ssmb_s4d_kernel_fwd(SSMB_FLOAT16, 2, 2, 4, in, in, in, in, in, K.data()), SSMB_ERROR_UNSUPPORTED, "dtype:");
    expect(ssmb_s4d_kernel_fwd(static_cast<ssmb_dtype>(99), 2, 2, 4, in, in, in, in, in, K.data()),
           SSMB_ERROR_INVALID_ARGUMENT, "dtype:");
    expect(ssmb_s4d_kernel_fwd(SSMB_FLOAT32, 0, 2, 4, in, in, in, in, in, K.data()), SSMB_ERROR_INVALID_ARGUMENT, "H:");
    expect(ssmb_s4d_kernel_fwd(SSMB_FLOAT32, 2, -1, 4, in, in, in, in, in, K.data()), SSMB_ERROR_INVALID_ARGUMENT, "N:");
    expect(ssmb_s4d_kernel_fwd(SSMB_FLOAT32, 2, 2, 0, in, in, in, in, in, K.data()), SSMB_ERROR_INVALID_ARGUMENT, "L:");
    expect(ssmb_s4d_kernel_fwd(SSMB_FLOAT32, 2, INT64_MAX / 2, 4, in, in, in, in, in, K.data()),
           SSMB_ERROR_INVALID_ARGUMENT, "A_real:");
    expect(ssmb_s4d_kernel_fwd(SSMB_FLOAT32, 2, 4, INT64_MAX / 2, in, in, in, in, in, K.data()),
           SSMB_ERROR_INVALID_ARGUMENT, "K:");
    expect(ssmb_s4d_kernel_fwd(SSMB_FLOAT32, 2, 2, 4, in, in, nullptr, in, in, K.data()), SSMB_ERROR_INVALID_ARGUMENT,
           "A_imag:");
    expect(ssmb_s4d_kernel_fwd(SSMB_FLOAT32, 2, 2, 4, in, in, in, in, in, nullptr), SSMB_ERROR_INVALID_ARGUMENT, "K:");
    expect(ssmb_s4d_kernel_fwd(SSMB_FLOAT32, 2, 2, 4, in, in, in, in, in, v.data() + 2), SSMB_ERROR_INVALID_ARGUMENT,
           "K:");
    expect(ssmb_s4d_kernel_bwd(SSMB_FLOAT32, 2, 2, 4, in, in, in, in, in, nullptr, d0.data(), d1.data(), d2.data(),
                               d3.data(), d4.data()),
           SSMB_ERROR_INVALID_ARGUMENT, "dK:");
    expect(ssmb_s4d_kernel_bwd(SSMB_FLOAT32, 2, 2, 4, in, in, in, in, in, K.data(), d0.data(), d1.data(), nullptr,
                               d3.data(), d4.data()),
           SSMB_ERROR_INVALID_ARGUMENT, "dA_imag:");
    expect(ssmb_s4d_kernel_bwd(SSMB_FLOAT32, 2, 2, 4, in, in, in, in, in, K.data(), d0.data(), d1.data(), d1.data(),
                               d3.data(), d4.data()),
           SSMB_ERROR_INVALID_ARGUMENT, "dA_real:");
    expect(ssmb_s4d_kernel_bwd(SSMB_FLOAT32, 2, 2, 4, in, in, in, in, in, K.data(), d0.data(), d1.data(), d2.data(),
                               K.data(), d4.data()),
           SSMB_ERROR_INVALID_ARGUMENT, "dC_real:");
    // Nothing failed for good input afterwards.
    EXPECT_EQ(ssmb_s4d_kernel_fwd(SSMB_FLOAT32, 2, 2, 4, in, in, in, in, in, K.data()), SSMB_OK);
    EXPECT_STREQ(ssmb_last_error(), "");
}

}  // namespace
