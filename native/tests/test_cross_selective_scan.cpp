// The fused cross selective scan through the C ABI against its definition: the composition
// ssmb_cross_scan -> ssmb_selective_scan_fwd / _bwd (dim 4 * dim, groups 4) -> ssmb_cross_merge,
// with delta, B and C put into scan order by a loop written from the index formulas in ssmbridge.h.
// Forward values and every gradient, float32 and float64, odd and even sizes, H != W, H or W = 1,
// sequences over several chunks, several tiles per block; results independent of the thread count;
// argument checks that name the argument.
//
// Input values are fresh on every run; a failure prints its seed, and SSMB_TEST_SEED=<seed> replays it.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "ssmbridge/ssmbridge.h"

namespace {

struct Case {
    int64_t batch, dim, H, W, N;
    bool has_D, has_bias, softplus;
    int64_t L() const { return H * W; }
};

void PrintTo(const Case& c, std::ostream* os) {
    *os << "B" << c.batch << "_D" << c.dim << "_H" << c.H << "_W" << c.W << "_N" << c.N << (c.has_D ? "_D" : "")
        << (c.has_bias ? "_bias" : "") << (c.softplus ? "_softplus" : "");
}

uint64_t fresh_seed() {
    if (const char* fixed = std::getenv("SSMB_TEST_SEED")) return std::strtoull(fixed, nullptr, 10);
    return std::random_device{}();
}

template <typename T>
struct Traits;
template <>
struct Traits<float> {
    static constexpr ssmb_dtype dtype = SSMB_FLOAT32;
};
template <>
struct Traits<double> {
    static constexpr ssmb_dtype dtype = SSMB_FLOAT64;
};

template <typename T>
std::vector<T> uniform(int64_t n, double lo, double hi, std::mt19937_64& gen) {
    std::uniform_real_distribution<double> d(lo, hi);
    std::vector<T> v(static_cast<size_t>(n));
    for (T& x : v) x = static_cast<T>(d(gen));
    return v;
}

// Position of pixel (h, w) in scan direction k (ssmbridge.h).
int64_t position(int k, int64_t H, int64_t W, int64_t h, int64_t w) {
    const int64_t L = H * W;
    switch (k) {
        case 0: return h * W + w;
        case 1: return w * H + h;
        case 2: return L - 1 - (h * W + w);
        default: return L - 1 - (w * H + h);
    }
}

// (batch, 4, rows, L) in pixel order <-> the same in scan order of each direction.
template <typename T>
std::vector<T> to_scan_order(const std::vector<T>& natural, int64_t batch, int64_t rows, int64_t H, int64_t W) {
    std::vector<T> seq(natural.size());
    const int64_t L = H * W;
    for (int64_t b = 0; b < batch; ++b)
        for (int k = 0; k < 4; ++k)
            for (int64_t r = 0; r < rows; ++r) {
                const int64_t base = ((b * 4 + k) * rows + r) * L;
                for (int64_t h = 0; h < H; ++h)
                    for (int64_t w = 0; w < W; ++w) seq[base + position(k, H, W, h, w)] = natural[base + h * W + w];
            }
    return seq;
}

template <typename T>
std::vector<T> to_pixel_order(const std::vector<T>& seq, int64_t batch, int64_t rows, int64_t H, int64_t W) {
    std::vector<T> natural(seq.size());
    const int64_t L = H * W;
    for (int64_t b = 0; b < batch; ++b)
        for (int k = 0; k < 4; ++k)
            for (int64_t r = 0; r < rows; ++r) {
                const int64_t base = ((b * 4 + k) * rows + r) * L;
                for (int64_t h = 0; h < H; ++h)
                    for (int64_t w = 0; w < W; ++w) natural[base + h * W + w] = seq[base + position(k, H, W, h, w)];
            }
    return natural;
}

template <typename T>
const T* opt(const std::vector<T>& v) {
    return v.empty() ? nullptr : v.data();
}
template <typename T>
T* opt(std::vector<T>& v) {
    return v.empty() ? nullptr : v.data();
}

template <typename T>
struct Inputs {
    std::vector<T> u, delta, A, B, C, D, bias, dout;
};

template <typename T>
Inputs<T> random_inputs(const Case& c, uint64_t seed) {
    std::mt19937_64 gen(seed);
    const int64_t L = c.L(), K = 4;
    Inputs<T> x;
    x.u = uniform<T>(c.batch * c.dim * L, -1, 1, gen);
    x.delta = c.softplus ? uniform<T>(c.batch * K * c.dim * L, -3, 0, gen) : uniform<T>(c.batch * K * c.dim * L, 0.01, 0.5, gen);
    x.A = uniform<T>(K * c.dim * c.N, -1.5, -0.5, gen);
    x.B = uniform<T>(c.batch * K * c.N * L, -1, 1, gen);
    x.C = uniform<T>(c.batch * K * c.N * L, -1, 1, gen);
    if (c.has_D) x.D = uniform<T>(K * c.dim, -1, 1, gen);
    if (c.has_bias) x.bias = uniform<T>(K * c.dim, -0.5, 0.5, gen);
    x.dout = uniform<T>(c.batch * c.dim * L, -1, 1, gen);
    return x;
}

int64_t n_chunks(int64_t L) { return (L + ssmb_selective_scan_chunk_size() - 1) / ssmb_selective_scan_chunk_size(); }

template <typename T>
struct Results {
    std::vector<T> out, du, ddelta, dA, dB, dC, dD, dbias;
};

// The definition: cross scan, one grouped selective scan over the scan-ordered copies, cross merge.
template <typename T>
Results<T> composition(const Case& c, const Inputs<T>& x) {
    const ssmb_dtype dt = Traits<T>::dtype;
    const int64_t L = c.L(), K = 4, dim4 = K * c.dim;
    std::vector<T> us(c.batch * dim4 * L);
    EXPECT_EQ(ssmb_cross_scan(dt, c.batch, c.dim, c.H, c.W, 1, x.u.data(), us.data()), SSMB_OK);
    const auto delta_s = to_scan_order(x.delta, c.batch, c.dim, c.H, c.W);
    const auto B_s = to_scan_order(x.B, c.batch, c.N, c.H, c.W);
    const auto C_s = to_scan_order(x.C, c.batch, c.N, c.H, c.W);
    std::vector<T> ys(us.size()), states(c.batch * dim4 * n_chunks(L) * c.N);
    EXPECT_EQ(ssmb_selective_scan_fwd(dt, dt, c.batch, dim4, L, c.N, K, 1, 1, us.data(), delta_s.data(), x.A.data(),
                                      B_s.data(), C_s.data(), opt(x.D), nullptr, opt(x.bias), c.softplus, 0, ys.data(),
                                      states.data(), nullptr),
              SSMB_OK) << ssmb_last_error();
    Results<T> r;
    r.out.resize(x.u.size());
    EXPECT_EQ(ssmb_cross_merge(dt, c.batch, c.dim, c.H, c.W, 1, ys.data(), r.out.data()), SSMB_OK);

    std::vector<T> dys(us.size());
    EXPECT_EQ(ssmb_cross_scan(dt, c.batch, c.dim, c.H, c.W, 1, x.dout.data(), dys.data()), SSMB_OK);
    int64_t bytes = 0;
    EXPECT_EQ(ssmb_selective_scan_bwd_workspace_size(dt, dt, c.batch, dim4, L, c.N, K, 1, 1, &bytes), SSMB_OK);
    std::vector<T> ws(bytes / sizeof(T) + 1), du_s(us.size()), ddelta_s(us.size()), dB_s(B_s.size()), dC_s(C_s.size());
    r.dA.resize(x.A.size());
    r.dD.resize(x.D.size());
    r.dbias.resize(x.bias.size());
    EXPECT_EQ(ssmb_selective_scan_bwd(dt, dt, c.batch, dim4, L, c.N, K, 1, 1, us.data(), delta_s.data(), x.A.data(),
                                      B_s.data(), C_s.data(), opt(x.D), nullptr, opt(x.bias), c.softplus, 0,
                                      states.data(), dys.data(), nullptr, du_s.data(), ddelta_s.data(), r.dA.data(),
                                      dB_s.data(), dC_s.data(), opt(r.dD), nullptr, opt(r.dbias), ws.data(),
                                      bytes),
              SSMB_OK) << ssmb_last_error();
    r.du.resize(x.u.size());
    EXPECT_EQ(ssmb_cross_merge(dt, c.batch, c.dim, c.H, c.W, 1, du_s.data(), r.du.data()), SSMB_OK);
    r.ddelta = to_pixel_order(ddelta_s, c.batch, c.dim, c.H, c.W);
    r.dB = to_pixel_order(dB_s, c.batch, c.N, c.H, c.W);
    r.dC = to_pixel_order(dC_s, c.batch, c.N, c.H, c.W);
    return r;
}

template <typename T>
Results<T> fused(const Case& c, const Inputs<T>& x) {
    const ssmb_dtype dt = Traits<T>::dtype;
    const int64_t L = c.L(), K = 4;
    Results<T> r;
    r.out.assign(x.u.size(), T(0));
    std::vector<T> states(c.batch * K * c.dim * n_chunks(L) * c.N);
    EXPECT_EQ(ssmb_cross_selective_scan_fwd(dt, dt, c.batch, c.dim, c.H, c.W, c.N, x.u.data(), x.delta.data(),
                                            x.A.data(), x.B.data(), x.C.data(), opt(x.D), opt(x.bias), c.softplus,
                                            r.out.data(), states.data()),
              SSMB_OK) << ssmb_last_error();
    int64_t bytes = -1;
    EXPECT_EQ(ssmb_cross_selective_scan_bwd_workspace_size(dt, dt, c.batch, c.dim, c.H, c.W, c.N, &bytes), SSMB_OK);
    std::vector<T> ws(bytes / sizeof(T) + 1);
    // Gradients are overwritten, so start them from garbage.
    auto garbage = [](size_t n) { return std::vector<T>(n, T(12345)); };
    r.du = garbage(x.u.size());
    r.ddelta = garbage(x.delta.size());
    r.dA = garbage(x.A.size());
    r.dB = garbage(x.B.size());
    r.dC = garbage(x.C.size());
    r.dD = garbage(x.D.size());
    r.dbias = garbage(x.bias.size());
    EXPECT_EQ(ssmb_cross_selective_scan_bwd(dt, dt, c.batch, c.dim, c.H, c.W, c.N, x.u.data(), x.delta.data(),
                                            x.A.data(), x.B.data(), x.C.data(), opt(x.D), opt(x.bias), c.softplus,
                                            states.data(), x.dout.data(), r.du.data(), r.ddelta.data(), r.dA.data(),
                                            r.dB.data(), r.dC.data(), opt(r.dD), opt(r.dbias), ws.data(), bytes),
              SSMB_OK) << ssmb_last_error();
    return r;
}

// max |a - e| / max |e|.
template <typename T>
double rel(const std::vector<T>& a, const std::vector<T>& e) {
    EXPECT_EQ(a.size(), e.size());
    double diff = 0, scale = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        diff = std::max(diff, std::fabs(double(a[i]) - double(e[i])));
        scale = std::max(scale, std::fabs(double(e[i])));
    }
    if (std::isnan(diff)) return INFINITY;
    return scale > 0 ? diff / scale : diff;
}

template <typename T>
void expect_matches(const Case& c, uint64_t seed, double tol) {
    const Inputs<T> x = random_inputs<T>(c, seed);
    const Results<T> e = composition(c, x), a = fused(c, x);
    const std::string where = "seed " + std::to_string(seed) + " (SSMB_TEST_SEED)";
    // The forward runs the same kernels on the same values and merges in cross_merge's order.
    EXPECT_EQ(a.out, e.out) << "out not bitwise equal, rel " << rel(a.out, e.out) << ", " << where;
    EXPECT_LE(rel(a.du, e.du), tol) << "du, " << where;
    EXPECT_LE(rel(a.ddelta, e.ddelta), tol) << "ddelta, " << where;
    EXPECT_LE(rel(a.dA, e.dA), tol) << "dA, " << where;
    // dB and dC sum over the channels of a direction in blocks: another order than the composition's.
    EXPECT_LE(rel(a.dB, e.dB), tol) << "dB, " << where;
    EXPECT_LE(rel(a.dC, e.dC), tol) << "dC, " << where;
    EXPECT_LE(rel(a.dD, e.dD), tol) << "dD, " << where;
    EXPECT_LE(rel(a.dbias, e.dbias), tol) << "ddelta_bias, " << where;
}

class CrossSelectiveScan : public ::testing::TestWithParam<Case> {};

TEST_P(CrossSelectiveScan, EqualsTheCompositionFloat32) { expect_matches<float>(GetParam(), fresh_seed(), 1e-5); }

TEST_P(CrossSelectiveScan, EqualsTheCompositionFloat64) { expect_matches<double>(GetParam(), fresh_seed(), 1e-12); }

// Odd and even sizes, H != W, H or W = 1, L past one chunk (64), dims with remainder tiles and
// several tiles per backward block (dim / (2 N) blocks), batch > 1.
INSTANTIATE_TEST_SUITE_P(Shapes, CrossSelectiveScan,
                         ::testing::Values(Case{1, 1, 1, 1, 1, true, true, true}, Case{2, 5, 4, 6, 3, true, true, true},
                                           Case{1, 16, 1, 9, 2, false, true, true},
                                           Case{2, 7, 8, 1, 1, true, false, false},
                                           Case{2, 33, 9, 10, 4, true, true, true},
                                           Case{1, 40, 12, 11, 16, true, true, true},
                                           Case{3, 64, 9, 8, 1, true, true, false},
                                           Case{1, 96, 7, 13, 16, false, false, true}));

TEST(CrossSelectiveScanThreads, ResultsDoNotDependOnTheThreadCount) {
    const Case c{2, 48, 9, 11, 2, true, true, true};
    const Inputs<float> x = random_inputs<float>(c, fresh_seed());
    const int32_t saved = ssmb_get_num_threads();
    ASSERT_EQ(ssmb_set_num_threads(1), SSMB_OK);
    const Results<float> one = fused(c, x);
    ASSERT_EQ(ssmb_set_num_threads(3), SSMB_OK);
    const Results<float> three = fused(c, x);
    ASSERT_EQ(ssmb_set_num_threads(saved), SSMB_OK);
    EXPECT_EQ(one.out, three.out);
    EXPECT_EQ(one.du, three.du);
    EXPECT_EQ(one.ddelta, three.ddelta);
    EXPECT_EQ(one.dA, three.dA);
    EXPECT_EQ(one.dB, three.dB);
    EXPECT_EQ(one.dC, three.dC);
    EXPECT_EQ(one.dD, three.dD);
    EXPECT_EQ(one.dbias, three.dbias);
}

// A failing call returns the status and a message naming the argument, and writes nothing.
TEST(CrossSelectiveScanArguments, BadArgumentsNameTheArgument) {
    const Case c{1, 4, 3, 5, 2, true, true, true};
    Inputs<float> x = random_inputs<float>(c, 1);
    std::vector<float> out(x.u.size(), 7.0f), states(4 * c.dim * n_chunks(c.L()) * c.N);
    auto fwd = [&](ssmb_dtype dt, int64_t height, const void* u, void* o) {
        return ssmb_cross_selective_scan_fwd(dt, dt, c.batch, c.dim, height, c.W, c.N, u, x.delta.data(), x.A.data(),
                                             x.B.data(), x.C.data(), x.D.data(), x.bias.data(), 1, o, states.data());
    };
    auto message = [] { return std::string(ssmb_last_error()); };
    EXPECT_EQ(fwd(SSMB_FLOAT32, c.H, nullptr, out.data()), SSMB_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(message().rfind("u:", 0), 0u) << message();
    EXPECT_EQ(fwd(SSMB_FLOAT32, 0, x.u.data(), out.data()), SSMB_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(message().rfind("height:", 0), 0u) << message();
    EXPECT_EQ(fwd(SSMB_FLOAT16, c.H, x.u.data(), out.data()), SSMB_ERROR_UNSUPPORTED);
    EXPECT_EQ(message().rfind("dtype:", 0), 0u) << message();
    EXPECT_EQ(fwd(static_cast<ssmb_dtype>(99), c.H, x.u.data(), out.data()), SSMB_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(fwd(SSMB_FLOAT32, c.H, x.u.data(), x.u.data()), SSMB_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(message().rfind("out:", 0), 0u) << message();
    EXPECT_TRUE(std::all_of(out.begin(), out.end(), [](float v) { return v == 7.0f; }));

    int64_t bytes = 0;
    EXPECT_EQ(ssmb_cross_selective_scan_bwd_workspace_size(SSMB_FLOAT32, SSMB_FLOAT32, 1, 4, 3, 5, 2, nullptr),
              SSMB_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(message().rfind("bytes:", 0), 0u) << message();
    EXPECT_EQ(ssmb_cross_selective_scan_bwd_workspace_size(SSMB_FLOAT32, SSMB_FLOAT64, 1, 4, 3, 5, 2, &bytes),
              SSMB_ERROR_UNSUPPORTED);
    EXPECT_EQ(message().rfind("weight_dtype:", 0), 0u) << message();

    std::vector<float> du(x.u.size(), 7.0f), ddelta(x.delta.size()), dA(x.A.size()), dB(x.B.size()), dC(x.C.size()),
        dD(x.D.size()), dbias(x.bias.size());
    auto bwd = [&](void* dD_ptr, int64_t ws_bytes) {
        std::vector<float> ws(16);
        return ssmb_cross_selective_scan_bwd(SSMB_FLOAT32, SSMB_FLOAT32, c.batch, c.dim, c.H, c.W, c.N, x.u.data(),
                                             x.delta.data(), x.A.data(), x.B.data(), x.C.data(), x.D.data(),
                                             x.bias.data(), 1, states.data(), x.dout.data(), du.data(), ddelta.data(),
                                             dA.data(), dB.data(), dC.data(), dD_ptr, dbias.data(), ws.data(), ws_bytes);
    };
    EXPECT_EQ(bwd(nullptr, 64), SSMB_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(message().rfind("dD:", 0), 0u) << message();
    EXPECT_EQ(bwd(dD.data(), -1), SSMB_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(message().rfind("workspace_bytes:", 0), 0u) << message();
    EXPECT_TRUE(std::all_of(du.begin(), du.end(), [](float v) { return v == 7.0f; }));
}

}  // namespace
