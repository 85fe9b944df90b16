// Shared by the selective-scan tests: the shapes of the sweep, random inputs, calls through the C
// ABI, and a plain long-double reference that materializes every state and differentiates by
// backpropagation through time.
//
// Input values are fresh on every run; a failure prints its seed, and SSMB_TEST_SEED=<seed>
// replays it.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "ssmbridge/ssmbridge.h"

namespace ssmb_test {

using Real = long double;

// ---- cases ------------------------------------------------------------------------------------

struct ScanShape {
    int64_t batch, dim, L, N, groups;
    bool B_selective, C_selective, has_D, has_z, has_delta_bias, delta_softplus, reverse;
};

inline std::string shape_name(const ScanShape& s) {
    std::string name = "L" + std::to_string(s.L) + "_N" + std::to_string(s.N) + "_b" + std::to_string(s.batch) + "_d" +
                       std::to_string(s.dim) + "_g" + std::to_string(s.groups);
    name += s.B_selective ? "_Bsel" : "_Binv";
    name += s.C_selective ? "_Csel" : "_Cinv";
    if (s.has_D) name += "_D";
    if (s.has_z) name += "_z";
    if (s.has_delta_bias) name += "_bias";
    if (s.delta_softplus) name += "_softplus";
    if (s.reverse) name += "_reverse";
    return name;
}

// gtest prints a failing case's parameter with this instead of its bytes.
inline void PrintTo(const ScanShape& s, std::ostream* os) { *os << shape_name(s); }

// gtest's test-name generator for suites parameterized by ScanShape.
inline std::string shape_param_name(const ::testing::TestParamInfo<ScanShape>& info) {
    return shape_name(info.param);
}

// Shapes whose backward runs in slabs: with selective B or C, N >= 4 and at least 32 channel tiles
// in the call, up to 4 tiles of a group run together and sum their dB / dC terms lane by lane before
// reducing over the lanes (selective_scan_bwd.cpp: slab_tiles). The sweep's shapes are too small
// for that.
inline std::vector<ScanShape> slab_shapes() {
    return {
        // 2 groups of 132 channels: 9 tiles a group (the last 4 wide), 36 in all: slabs of 2, the last
        // of one tile; the slabs' partial sums go through the workspace.
        {2, 264, 130, 8, 2, true, true, true, true, true, true, false},
        // 13 tiles, 52 in all: slabs of 3 (3, 3, 3, 3, 1); selective B only, reverse.
        {4, 200, 70, 4, 1, true, false, true, false, true, true, true},
        // 2 tiles a group, 32 in all: one slab of 2 per group, written straight into dC; C only.
        {16, 32, 70, 4, 1, false, true, false, true, false, false, false},
        // 64 tiles: slabs of 4; the second chunk has one step.
        {1, 1024, 65, 16, 1, true, true, true, true, true, true, false},
    };
}

// State counts that are not a multiple of the backward's block of 4 (2 on AVX2 and for doubles):
// the kernel runs a block of 4, then of 2, then of 1 state, and folds each block's selective dB /
// dC terms into one vector per step (vec_fold.h). The sweep's N are 1, 4 and 16 only.
inline std::vector<ScanShape> state_block_shapes() {
    return {
        // 4 + 2 + 1 states, in slabs (36 tiles).
        {2, 264, 130, 7, 2, true, true, true, true, true, true, false},
        // 4 + 2, one item at a time, reverse, with a 22-step last chunk.
        {2, 40, 150, 6, 1, true, true, true, true, true, true, true},
        // 2 + 1, selective C only; 2 states, selective B only.
        {1, 20, 83, 3, 1, false, true, false, true, false, true, false},
        {3, 17, 70, 2, 1, true, false, true, false, true, false, true},
    };
}

// The sweep: every L of the issue with every N, each with pairs of complementary option sets (so
// every option is on once and off once per (L, N)), more pairs for short sequences. A few cases per
// L have dims wider than one 16-channel tile with a remainder tile. Options are drawn from a fixed
// seed so test names stay stable; input values are fresh.
inline std::vector<ScanShape> sweep_shapes() {
    const int64_t lengths[] = {1, 2, 7, 64, 257, 1000, 2048, 2049, 4100};
    const int64_t states[] = {1, 4, 16};
    std::mt19937 pick(20240607);
    unsigned flags = 0;
    std::vector<ScanShape> shapes;
    for (int64_t L : lengths) {
        for (int j = 0; j < 3; ++j) {
            const int pairs = L <= 257 ? 2 : 1;
            for (int i = 0; i < 2 * pairs; ++i) {
                flags = i % 2 == 0 ? pick() : ~flags;
                auto bit = [&](int k) { return ((flags >> k) & 1u) != 0; };
                ScanShape s{};
                s.L = L;
                s.N = states[j];
                s.B_selective = bit(0);
                s.C_selective = bit(1);
                s.has_D = bit(2);
                s.has_z = bit(3);
                s.has_delta_bias = bit(4);
                s.delta_softplus = bit(5);
                s.reverse = bit(6);
                s.batch = 1 + (i + j) % 2;
                s.groups = (s.B_selective || s.C_selective) && i % 2 == 1 ? 2 : 1;
                const bool wide = j == 1 && i < 2;
                if (s.groups == 1)
                    s.dim = wide ? 33 : 3 + 2 * ((i / 2 + j) % 2);
                else
                    s.dim = wide ? 34 : 6;
                shapes.push_back(s);
            }
        }
    }
    return shapes;
}

inline uint64_t fresh_seed() {
    if (const char* env = std::getenv("SSMB_TEST_SEED")) return std::strtoull(env, nullptr, 10);
    std::random_device device;
    return (static_cast<uint64_t>(device()) << 32) ^ device();
}

// ---- inputs -------------------------------------------------------------------------------------

template <typename T>
struct ScanData {
    ScanShape s;
    std::vector<T> u, delta, A, B, C, D, z, delta_bias, dout, dlast_state;

    int64_t seq_size() const { return s.batch * s.dim * s.L; }
    int64_t proj_size(bool selective) const { return selective ? s.batch * s.groups * s.N * s.L : s.dim * s.N; }
    int64_t n_chunks() const {
        const int64_t chunk = ssmb_selective_scan_chunk_size();
        return (s.L + chunk - 1) / chunk;
    }
};

// Optional tensors are empty vectors; the ABI wants null for them.
template <typename T>
T* data_or_null(std::vector<T>& v) {
    return v.empty() ? nullptr : v.data();
}
template <typename T>
const T* data_or_null(const std::vector<T>& v) {
    return v.empty() ? nullptr : v.data();
}

// u, z, B, C, D ~ N(0, 1); A = -U(0.5, 2); delta ~ U(-3, 1) and delta_bias ~ U(-1, 1) under
// softplus, otherwise positive (delta ~ U(0.1, 1), delta_bias ~ U(0, 0.5)) as a step size must be.
template <typename T>
ScanData<T> random_inputs(const ScanShape& s, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> normal(0.0, 1.0);
    auto fill = [&](int64_t n, auto&& draw) {
        std::vector<T> v(n);
        for (T& x : v) x = static_cast<T>(draw());
        return v;
    };
    auto gauss = [&] { return normal(rng); };
    auto uniform = [&](double lo, double hi) {
        return [&rng, lo, hi] { return std::uniform_real_distribution<double>(lo, hi)(rng); };
    };
    ScanData<T> d;
    d.s = s;
    d.u = fill(d.seq_size(), gauss);
    d.delta = s.delta_softplus ? fill(d.seq_size(), uniform(-3.0, 1.0)) : fill(d.seq_size(), uniform(0.1, 1.0));
    d.A = fill(s.dim * s.N, [&] { return -uniform(0.5, 2.0)(); });
    d.B = fill(d.proj_size(s.B_selective), gauss);
    d.C = fill(d.proj_size(s.C_selective), gauss);
    if (s.has_D) d.D = fill(s.dim, gauss);
    if (s.has_z) d.z = fill(d.seq_size(), gauss);
    if (s.has_delta_bias)
        d.delta_bias = s.delta_softplus ? fill(s.dim, uniform(-1.0, 1.0)) : fill(s.dim, uniform(0.0, 0.5));
    d.dout = fill(d.seq_size(), gauss);
    d.dlast_state = fill(s.batch * s.dim * s.N, gauss);
    return d;
}

// ---- native calls -------------------------------------------------------------------------------

template <typename T>
constexpr ssmb_dtype dtype_of() {
    return sizeof(T) == 4 ? SSMB_FLOAT32 : SSMB_FLOAT64;
}

template <typename T>
struct Forward {
    std::vector<T> out, chunk_states, last_state;
};

template <typename T>
struct Gradients {
    std::vector<T> du, ddelta, dA, dB, dC, dD, dz, ddelta_bias;
};

// Outputs start as NaN so anything the kernel fails to write shows up.
template <typename T>
std::vector<T> nan_filled(int64_t n) {
    return std::vector<T>(n, std::numeric_limits<T>::quiet_NaN());
}

template <typename T>
void run_forward(const ScanData<T>& d, Forward<T>& f) {
    const ScanShape& s = d.s;
    f.out = nan_filled<T>(d.seq_size());
    f.chunk_states = nan_filled<T>(s.batch * s.dim * d.n_chunks() * s.N);
    f.last_state = nan_filled<T>(s.batch * s.dim * s.N);
    const ssmb_status status =
        ssmb_selective_scan_fwd(dtype_of<T>(), dtype_of<T>(), s.batch, s.dim, s.L, s.N, s.groups, s.B_selective,
                                s.C_selective, d.u.data(), d.delta.data(), d.A.data(), d.B.data(), d.C.data(),
                                data_or_null(d.D), data_or_null(d.z), data_or_null(d.delta_bias), s.delta_softplus,
                                s.reverse, f.out.data(), f.chunk_states.data(), f.last_state.data());
    ASSERT_EQ(status, SSMB_OK) << ssmb_last_error();
}

template <typename T>
void run_backward(const ScanData<T>& d, const std::vector<T>& chunk_states, Gradients<T>& g) {
    const ScanShape& s = d.s;
    int64_t bytes = -1;
    ASSERT_EQ(ssmb_selective_scan_bwd_workspace_size(dtype_of<T>(), dtype_of<T>(), s.batch, s.dim, s.L, s.N, s.groups,
                                                     s.B_selective, s.C_selective, &bytes),
              SSMB_OK)
        << ssmb_last_error();
    ASSERT_GE(bytes, 0);
    std::vector<T> workspace = nan_filled<T>(bytes / static_cast<int64_t>(sizeof(T)) + 1);
    g.du = nan_filled<T>(d.seq_size());
    g.ddelta = nan_filled<T>(d.seq_size());
    g.dA = nan_filled<T>(s.dim * s.N);
    g.dB = nan_filled<T>(d.proj_size(s.B_selective));
    g.dC = nan_filled<T>(d.proj_size(s.C_selective));
    g.dD = s.has_D ? nan_filled<T>(s.dim) : std::vector<T>();
    g.dz = s.has_z ? nan_filled<T>(d.seq_size()) : std::vector<T>();
    g.ddelta_bias = s.has_delta_bias ? nan_filled<T>(s.dim) : std::vector<T>();
    const ssmb_status status = ssmb_selective_scan_bwd(
        dtype_of<T>(), dtype_of<T>(), s.batch, s.dim, s.L, s.N, s.groups, s.B_selective, s.C_selective, d.u.data(),
        d.delta.data(), d.A.data(), d.B.data(), d.C.data(), data_or_null(d.D), data_or_null(d.z),
        data_or_null(d.delta_bias), s.delta_softplus, s.reverse, chunk_states.data(), d.dout.data(), d.dlast_state.data(), g.du.data(),
        g.ddelta.data(), g.dA.data(), g.dB.data(), g.dC.data(), data_or_null(g.dD), data_or_null(g.dz),
        data_or_null(g.ddelta_bias), workspace.data(), bytes);
    ASSERT_EQ(status, SSMB_OK) << ssmb_last_error();
}

// ---- reference ----------------------------------------------------------------------------------

struct ReferenceResult {
    std::vector<Real> out, chunk_states, last_state;
    std::vector<Real> du, ddelta, dA, dB, dC, dD, dz, ddelta_bias;
};

inline Real sigmoid_ref(Real x) { return 1 / (1 + std::exp(-x)); }

// Straight from the recurrence in ssmbridge.h: per (batch, channel), all L + 1 states in scan
// order, then the chain rule backwards over them.
template <typename T>
ReferenceResult reference(const ScanData<T>& d) {
    const ScanShape& s = d.s;
    const int64_t L = s.L, N = s.N, chunk = ssmb_selective_scan_chunk_size(), n_chunks = d.n_chunks();
    ReferenceResult r;
    r.out.assign(d.seq_size(), 0);
    r.chunk_states.assign(s.batch * s.dim * n_chunks * N, 0);
    r.last_state.assign(s.batch * s.dim * N, 0);
    r.du.assign(d.seq_size(), 0);
    r.ddelta.assign(d.seq_size(), 0);
    r.dz.assign(s.has_z ? d.seq_size() : 0, 0);
    r.dA.assign(s.dim * N, 0);
    r.dB.assign(d.proj_size(s.B_selective), 0);
    r.dC.assign(d.proj_size(s.C_selective), 0);
    r.dD.assign(s.has_D ? s.dim : 0, 0);
    r.ddelta_bias.assign(s.has_delta_bias ? s.dim : 0, 0);

    std::vector<Real> H((L + 1) * N);  // H[(p + 1) * N + n]: state after scan position p
    for (int64_t b = 0; b < s.batch; ++b) {
        for (int64_t ch = 0; ch < s.dim; ++ch) {
            const int64_t g = ch / (s.dim / s.groups);
            auto at = [&](int64_t t) { return (b * s.dim + ch) * L + t; };
            auto B_index = [&](int64_t n, int64_t t) {
                return s.B_selective ? ((b * s.groups + g) * N + n) * L + t : ch * N + n;
            };
            auto C_index = [&](int64_t n, int64_t t) {
                return s.C_selective ? ((b * s.groups + g) * N + n) * L + t : ch * N + n;
            };
            auto time_of = [&](int64_t p) { return s.reverse ? L - 1 - p : p; };
            auto dt_raw = [&](int64_t t) {
                return Real(d.delta[at(t)]) + (s.has_delta_bias ? Real(d.delta_bias[ch]) : 0);
            };
            auto dt_of = [&](int64_t t) { return s.delta_softplus ? std::log1p(std::exp(dt_raw(t))) : dt_raw(t); };
            auto y_of = [&](int64_t p) {
                const int64_t t = time_of(p);
                Real y = s.has_D ? Real(d.D[ch]) * Real(d.u[at(t)]) : 0;
                for (int64_t n = 0; n < N; ++n) y += Real(d.C[C_index(n, t)]) * H[(p + 1) * N + n];
                return y;
            };

            std::fill(H.begin(), H.begin() + N, Real(0));
            for (int64_t p = 0; p < L; ++p) {
                const int64_t t = time_of(p);
                const Real dt = dt_of(t);
                for (int64_t n = 0; n < N; ++n)
                    H[(p + 1) * N + n] = std::exp(dt * Real(d.A[ch * N + n])) * H[p * N + n] +
                                         dt * Real(d.B[B_index(n, t)]) * Real(d.u[at(t)]);
                const Real y = y_of(p);
                r.out[at(t)] = s.has_z ? y * Real(d.z[at(t)]) * sigmoid_ref(d.z[at(t)]) : y;
            }
            for (int64_t k = 0; k < n_chunks; ++k)
                for (int64_t n = 0; n < N; ++n)
                    r.chunk_states[((b * s.dim + ch) * n_chunks + k) * N + n] = H[k * chunk * N + n];
            for (int64_t n = 0; n < N; ++n) r.last_state[(b * s.dim + ch) * N + n] = H[L * N + n];

            // dL/dh after the step that follows; after the last step, the gradient of last_state.
            std::vector<Real> dh_next(N);
            for (int64_t n = 0; n < N; ++n) dh_next[n] = d.dlast_state[(b * s.dim + ch) * N + n];
            for (int64_t p = L - 1; p >= 0; --p) {
                const int64_t t = time_of(p);
                const Real u = d.u[at(t)], dt = dt_of(t), dout = d.dout[at(t)];
                Real dy = dout;
                if (s.has_z) {
                    const Real z = d.z[at(t)], sz = sigmoid_ref(z);
                    dy = dout * z * sz;
                    r.dz[at(t)] = dout * y_of(p) * (sz + z * sz * (1 - sz));
                }
                Real ddt = 0;
                for (int64_t n = 0; n < N; ++n) {
                    const Real A = d.A[ch * N + n], Bv = d.B[B_index(n, t)], Cv = d.C[C_index(n, t)];
                    const Real decay = std::exp(dt * A);
                    const Real dh = dh_next[n] + dy * Cv;
                    r.dC[C_index(n, t)] += dy * H[(p + 1) * N + n];
                    r.dB[B_index(n, t)] += dh * dt * u;
                    r.du[at(t)] += dh * dt * Bv;
                    r.dA[ch * N + n] += dh * dt * decay * H[p * N + n];
                    ddt += dh * (A * decay * H[p * N + n] + Bv * u);
                    dh_next[n] = dh * decay;
                }
                if (s.has_D) {
                    r.du[at(t)] += dy * Real(d.D[ch]);
                    r.dD[ch] += dy * u;
                }
                const Real ddelta = s.delta_softplus ? ddt * sigmoid_ref(dt_raw(t)) : ddt;
                r.ddelta[at(t)] = ddelta;
                if (s.has_delta_bias) r.ddelta_bias[ch] += ddelta;
            }
        }
    }
    return r;
}

// ---- comparisons --------------------------------------------------------------------------------

// max |x - ref| / max |ref|: the error relative to the tensor's scale.
template <typename T>
double relative_error(const std::vector<T>& x, const std::vector<Real>& ref) {
    if (x.size() != ref.size()) return std::numeric_limits<double>::infinity();
    Real diff = 0, scale = 0;
    for (size_t i = 0; i < x.size(); ++i) {
        const Real e = std::fabs(Real(x[i]) - ref[i]);
        diff = std::isnan(static_cast<double>(x[i])) ? std::numeric_limits<Real>::infinity() : std::max(diff, e);
        scale = std::max(scale, std::fabs(ref[i]));
    }
    return static_cast<double>(scale > 0 ? diff / scale : diff);
}

template <typename T>
bool bitwise_equal(const std::vector<T>& a, const std::vector<T>& b) {
    return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0);
}

template <typename T>
struct Tolerance;
template <>
struct Tolerance<float> {
    static constexpr double forward = 2e-4, gradient = 1e-3;
};
template <>
struct Tolerance<double> {
    static constexpr double forward = 1e-10, gradient = 1e-10;
};

}  // namespace ssmb_test
