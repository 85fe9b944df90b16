// CUDA selective scan against the CPU kernels (the oracle, itself tested against a long-double
// reference in test_selective_scan.cpp): random inputs, every option, odd sizes, several tiles per
// group, L up to 8192, float32 / bfloat16 / float16. The CPU runs in float32 on the very values the
// GPU reads (16-bit inputs are rounded first). Skipped without a CUDA device.
#include <cstdio>

#include "cuda_test_support.h"

namespace ssmb_cuda_test {
namespace {

struct ScanCase {
    int64_t batch, dim, L, N, groups;
    bool B_selective, C_selective, has_D, has_z, has_delta_bias, delta_softplus, reverse;
    ssmb_dtype dtype;
};

std::string case_name(const ScanCase& c) {
    char text[256];
    std::snprintf(text, sizeof text, "b%lld d%lld L%lld N%lld g%lld B%s C%s%s%s%s%s%s %s", (long long)c.batch,
                  (long long)c.dim, (long long)c.L, (long long)c.N, (long long)c.groups, c.B_selective ? "sel" : "inv",
                  c.C_selective ? "sel" : "inv", c.has_D ? " D" : "", c.has_z ? " z" : "",
                  c.has_delta_bias ? " bias" : "", c.delta_softplus ? " softplus" : "", c.reverse ? " reverse" : "",
                  dtype_label(c.dtype));
    return text;
}

struct ScanData {
    std::vector<float> u, delta, A, B, C, D, z, delta_bias, dout, dlast_state;
};

ScanData random_data(const ScanCase& c, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    auto fill = [&](int64_t n, auto draw) {
        std::vector<float> v(n);
        for (float& x : v) x = draw();
        return v;
    };
    auto gauss = [&] { return normal(rng); };
    auto uniform = [&](float lo, float hi) {
        return [&rng, lo, hi] { return std::uniform_real_distribution<float>(lo, hi)(rng); };
    };
    const int64_t seq = c.batch * c.dim * c.L, proj = c.batch * c.groups * c.N * c.L;
    ScanData d;
    d.u = fill(seq, gauss);
    d.delta = c.delta_softplus ? fill(seq, uniform(-3.0f, 1.0f)) : fill(seq, uniform(0.1f, 1.0f));
    d.A = fill(c.dim * c.N, [&] { return -uniform(0.5f, 2.0f)(); });
    d.B = fill(c.B_selective ? proj : c.dim * c.N, gauss);
    d.C = fill(c.C_selective ? proj : c.dim * c.N, gauss);
    if (c.has_D) d.D = fill(c.dim, gauss);
    if (c.has_z) d.z = fill(seq, gauss);
    if (c.has_delta_bias)
        d.delta_bias = c.delta_softplus ? fill(c.dim, uniform(-1.0f, 1.0f)) : fill(c.dim, uniform(0.0f, 0.5f));
    d.dout = fill(seq, gauss);
    d.dlast_state = fill(c.batch * c.dim * c.N, gauss);
    // What the GPU reads in 16-bit dtypes (weights and time-invariant B / C stay float32).
    for (auto* v : {&d.u, &d.delta, &d.z, &d.dout}) round_to(*v, c.dtype);
    if (c.B_selective) round_to(d.B, c.dtype);
    if (c.C_selective) round_to(d.C, c.dtype);
    return d;
}

float* ptr(std::vector<float>& v) { return v.empty() ? nullptr : v.data(); }

// Forward outputs and every gradient, in float.
struct ScanResults {
    std::vector<float> out, chunk_states, last_state, du, ddelta, dA, dB, dC, dD, dz, ddelta_bias;
};

int64_t n_chunks(const ScanCase& c) {
    const int64_t chunk = ssmb_selective_scan_chunk_size();
    return (c.L + chunk - 1) / chunk;
}

ScanResults run_cpu(const ScanCase& c, ScanData d) {
    const int64_t seq = c.batch * c.dim * c.L, state = c.batch * c.dim * c.N;
    ScanResults r;
    r.out.resize(seq);
    r.chunk_states.resize(state * n_chunks(c));
    r.last_state.resize(state);
    EXPECT_EQ(ssmb_selective_scan_fwd(SSMB_FLOAT32, SSMB_FLOAT32, c.batch, c.dim, c.L, c.N, c.groups, c.B_selective,
                                      c.C_selective, d.u.data(), d.delta.data(), d.A.data(), d.B.data(), d.C.data(),
                                      ptr(d.D), ptr(d.z), ptr(d.delta_bias), c.delta_softplus, c.reverse,
                                      r.out.data(), r.chunk_states.data(), r.last_state.data()),
              SSMB_OK)
        << ssmb_last_error();
    int64_t bytes = 0;
    EXPECT_EQ(ssmb_selective_scan_bwd_workspace_size(SSMB_FLOAT32, SSMB_FLOAT32, c.batch, c.dim, c.L, c.N, c.groups,
                                                     c.B_selective, c.C_selective, &bytes),
              SSMB_OK);
    std::vector<float> workspace(bytes / 4 + 1);
    r.du.resize(seq), r.ddelta.resize(seq), r.dA.resize(d.A.size()), r.dB.resize(d.B.size()), r.dC.resize(d.C.size());
    if (c.has_D) r.dD.resize(c.dim);
    if (c.has_z) r.dz.resize(seq);
    if (c.has_delta_bias) r.ddelta_bias.resize(c.dim);
    EXPECT_EQ(ssmb_selective_scan_bwd(SSMB_FLOAT32, SSMB_FLOAT32, c.batch, c.dim, c.L, c.N, c.groups, c.B_selective,
                                      c.C_selective, d.u.data(), d.delta.data(), d.A.data(), d.B.data(), d.C.data(),
                                      ptr(d.D), ptr(d.z), ptr(d.delta_bias), c.delta_softplus, c.reverse,
                                      r.chunk_states.data(), d.dout.data(), d.dlast_state.data(), r.du.data(),
                                      r.ddelta.data(), r.dA.data(), r.dB.data(), r.dC.data(), ptr(r.dD), ptr(r.dz),
                                      ptr(r.ddelta_bias), workspace.data(), bytes),
              SSMB_OK)
        << ssmb_last_error();
    return r;
}

ScanResults run_cuda(const ScanCase& c, const ScanData& d, ScanResults* second_backward = nullptr) {
    const ssmb_dtype t = c.dtype, f = SSMB_FLOAT32;
    const size_t seq = c.batch * c.dim * c.L, state = c.batch * c.dim * c.N;
    DeviceArray u(d.u, t), delta(d.delta, t), A(d.A, f), B(d.B, c.B_selective ? t : f), C(d.C, c.C_selective ? t : f);
    DeviceArray D(d.D, f), z(d.z, t), delta_bias(d.delta_bias, f), dout(d.dout, t), dlast(d.dlast_state, f);
    DeviceArray out(seq, t), chunk_states(state * n_chunks(c), f), last_state(state, f);
    EXPECT_EQ(ssmb_selective_scan_fwd_cuda(t, f, c.batch, c.dim, c.L, c.N, c.groups, c.B_selective, c.C_selective,
                                           u.get(), delta.get(), A.get(), B.get(), C.get(), D.get(), z.get(),
                                           delta_bias.get(), c.delta_softplus, c.reverse, out.get(),
                                           chunk_states.get(), last_state.get(), nullptr),
              SSMB_OK)
        << ssmb_last_error();
    int64_t bytes = 0;
    EXPECT_EQ(ssmb_selective_scan_bwd_workspace_size_cuda(t, f, c.batch, c.dim, c.L, c.N, c.groups, c.B_selective,
                                                          c.C_selective, &bytes),
              SSMB_OK);
    DeviceArray workspace(bytes / 4 + 1, f);
    DeviceArray du(seq, t), ddelta(seq, t), dA(d.A.size(), f), dB(d.B.size(), c.B_selective ? t : f),
        dC(d.C.size(), c.C_selective ? t : f), dD(d.D.size(), f), dz(d.z.size(), t),
        ddelta_bias(d.delta_bias.size(), f);
    auto backward = [&] {
        EXPECT_EQ(ssmb_selective_scan_bwd_cuda(t, f, c.batch, c.dim, c.L, c.N, c.groups, c.B_selective, c.C_selective,
                                               u.get(), delta.get(), A.get(), B.get(), C.get(), D.get(), z.get(),
                                               delta_bias.get(), c.delta_softplus, c.reverse, chunk_states.get(),
                                               dout.get(), dlast.get(), du.get(), ddelta.get(), dA.get(), dB.get(),
                                               dC.get(), dD.get(), dz.get(), ddelta_bias.get(), workspace.get(), bytes,
                                               nullptr),
                  SSMB_OK)
            << ssmb_last_error();
        EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess);
        ScanResults r;
        r.du = du.download(), r.ddelta = ddelta.download(), r.dA = dA.download(), r.dB = dB.download();
        r.dC = dC.download(), r.dD = dD.download(), r.dz = dz.download(), r.ddelta_bias = ddelta_bias.download();
        return r;
    };
    ScanResults r = backward();
    r.out = out.download(), r.chunk_states = chunk_states.download(), r.last_state = last_state.download();
    if (second_backward) *second_backward = backward();
    return r;
}

void check_case(const ScanCase& c) {
    const uint64_t seed = fresh_seed();
    const ScanData data = random_data(c, seed);
    const ScanResults want = run_cpu(c, data);
    ScanResults again;
    const ScanResults got = run_cuda(c, data, &again);
    const double tol = c.dtype == SSMB_FLOAT32 ? 1e-4 : 1e-2;
    const std::string where = case_name(c) + " (SSMB_TEST_SEED=" + std::to_string(seed) + ")";
    const std::pair<const char*, const std::vector<float> ScanResults::*> fields[] = {
        {"out", &ScanResults::out}, {"chunk_states", &ScanResults::chunk_states}, {"last_state", &ScanResults::last_state},
        {"du", &ScanResults::du},   {"ddelta", &ScanResults::ddelta},             {"dA", &ScanResults::dA},
        {"dB", &ScanResults::dB},   {"dC", &ScanResults::dC},                     {"dD", &ScanResults::dD},
        {"dz", &ScanResults::dz},   {"ddelta_bias", &ScanResults::ddelta_bias}};
    for (const auto& field : fields) {
        const Mismatch m = compare(got.*field.second, want.*field.second);
        EXPECT_LE(m.error, tol) << where << ": " << describe(field.first, m);
    }
    // No atomics: a second backward is bitwise identical.
    for (int i = 3; i < 11; ++i) {
        const auto& a = got.*fields[i].second;
        const auto& b = again.*fields[i].second;
        EXPECT_TRUE(a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * 4) == 0))
            << where << ": " << fields[i].first << " differs between two identical backward calls";
    }
}

const ssmb_dtype F32 = SSMB_FLOAT32, BF16 = SSMB_BFLOAT16, F16 = SSMB_FLOAT16;

TEST(CudaSelectiveScan, MatchesCpuShortAndOdd) {
    if (!has_device()) GTEST_SKIP() << "no CUDA device";
    const ScanCase cases[] = {
        {1, 3, 1, 4, 1, true, true, true, true, true, true, false, F32},
        {2, 5, 7, 1, 1, false, false, false, false, false, false, true, F32},
        {1, 17, 64, 16, 1, true, false, true, false, true, true, false, F32},
        {2, 34, 257, 16, 2, false, true, false, true, false, true, true, F32},
        {1, 8, 256, 5, 1, true, true, true, true, true, false, false, F32},
        {3, 24, 1000, 16, 3, true, true, true, true, true, true, true, F32},
        {1, 9, 2049, 3, 1, false, false, true, true, true, true, false, F32},
        {2, 6, 513, 2, 2, true, false, false, false, true, false, true, F32},
        {1, 4, 100, 256, 1, true, true, true, true, true, true, false, F32},
    };
    for (const ScanCase& c : cases) check_case(c);
}

TEST(CudaSelectiveScan, MatchesCpuLong) {
    if (!has_device()) GTEST_SKIP() << "no CUDA device";
    const ScanCase cases[] = {
        {2, 16, 8192, 16, 1, true, true, true, true, true, true, false, F32},
        {1, 12, 8192, 16, 4, true, true, false, true, false, true, true, F32},
        {1, 10, 4097, 16, 1, false, false, true, false, true, false, false, F32},
    };
    for (const ScanCase& c : cases) check_case(c);
}

TEST(CudaSelectiveScan, MatchesCpuHalfPrecision) {
    if (!has_device()) GTEST_SKIP() << "no CUDA device";
    const ScanCase cases[] = {
        {2, 17, 1000, 16, 1, true, true, true, true, true, true, false, BF16},
        {1, 16, 8192, 16, 2, true, true, true, true, true, true, true, BF16},
        {1, 7, 197, 4, 1, false, true, false, true, true, true, false, BF16},
        {1, 9, 300, 8, 1, true, false, true, true, true, true, false, F16},
    };
    for (const ScanCase& c : cases) check_case(c);
}

TEST(CudaSelectiveScan, RejectsHostMemoryAndBadDtypes) {
    if (!has_device()) GTEST_SKIP() << "no CUDA device";
    std::vector<float> host(64, 1.0f);
    DeviceArray dev(64, SSMB_FLOAT32), out(64, SSMB_FLOAT32), states(64, SSMB_FLOAT32);
    // u on the host: named in the message.
    EXPECT_EQ(ssmb_selective_scan_fwd_cuda(SSMB_FLOAT32, SSMB_FLOAT32, 1, 1, 4, 1, 1, 0, 0, host.data(), dev.get(),
                                           dev.get(), dev.get(), dev.get(), nullptr, nullptr, nullptr, 0, 0, out.get(),
                                           states.get(), nullptr, nullptr),
              SSMB_ERROR_INVALID_ARGUMENT);
    EXPECT_TRUE(std::string(ssmb_last_error()).find("u: expected CUDA device memory") != std::string::npos)
        << ssmb_last_error();
    EXPECT_EQ(ssmb_selective_scan_fwd_cuda(SSMB_FLOAT64, SSMB_FLOAT32, 1, 1, 4, 1, 1, 0, 0, dev.get(), dev.get(),
                                           dev.get(), dev.get(), dev.get(), nullptr, nullptr, nullptr, 0, 0, out.get(),
                                           states.get(), nullptr, nullptr),
              SSMB_ERROR_UNSUPPORTED);
    EXPECT_TRUE(std::string(ssmb_last_error()).find("dtype:") != std::string::npos) << ssmb_last_error();
    EXPECT_EQ(ssmb_selective_scan_fwd_cuda(SSMB_FLOAT32, SSMB_FLOAT32, 1, 1, 4, 300, 1, 0, 0, dev.get(), dev.get(),
                                           dev.get(), dev.get(), dev.get(), nullptr, nullptr, nullptr, 0, 0, out.get(),
                                           states.get(), nullptr, nullptr),
              SSMB_ERROR_INVALID_ARGUMENT);
    EXPECT_TRUE(std::string(ssmb_last_error()).find("N: expected at most 256") != std::string::npos)
        << ssmb_last_error();
}

}  // namespace
}  // namespace ssmb_cuda_test
