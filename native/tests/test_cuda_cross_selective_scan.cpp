// CUDA fused cross selective scan against the CPU one (its oracle, itself tested against the
// composition cross_scan + selective_scan + cross_merge in test_cross_selective_scan.cpp): random
// inputs, with and without D / delta_bias / softplus, odd sizes, H != W, H = 1 and W = 1, one and
// several channel tiles, L past several chunks; float32, tolerance 1e-4 (relative as compare()
// measures it). chunk_states is compared too (the CPU's layout), the CUDA backward is also run on
// the CPU's chunk_states, and a second backward must give the same bits. Skipped without a device.
#include <cstdio>

#include "cuda_test_support.h"

namespace ssmb_cuda_test {
namespace {

struct CrossCase {
    int64_t batch, dim, H, W, N;
    bool has_D, has_delta_bias, delta_softplus;
};

std::string case_name(const CrossCase& c) {
    char text[160];
    std::snprintf(text, sizeof text, "b%lld d%lld %lldx%lld N%lld%s%s%s", (long long)c.batch, (long long)c.dim,
                  (long long)c.H, (long long)c.W, (long long)c.N, c.has_D ? " D" : "",
                  c.has_delta_bias ? " bias" : "", c.delta_softplus ? " softplus" : "");
    return text;
}

struct CrossData {
    std::vector<float> u, delta, A, B, C, D, delta_bias, dout;
};

struct CrossResults {
    std::vector<float> out, chunk_states, du, ddelta, dA, dB, dC, dD, ddelta_bias;
};

int64_t chunks(int64_t L) {
    const int64_t size = ssmb_selective_scan_chunk_size();
    return (L + size - 1) / size;
}

CrossData random_data(const CrossCase& c, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    auto uniform = [&](float lo, float hi) { return std::uniform_real_distribution<float>(lo, hi)(rng); };
    const int64_t L = c.H * c.W, K = 4;
    CrossData d;
    d.u.resize(c.batch * c.dim * L);
    for (float& x : d.u) x = normal(rng);
    d.delta.resize(c.batch * K * c.dim * L);
    for (float& x : d.delta) x = c.delta_softplus ? uniform(-3.0f, 1.0f) : uniform(0.05f, 0.6f);
    d.A.resize(K * c.dim * c.N);
    for (float& x : d.A) x = -uniform(0.5f, 2.0f);
    d.B.resize(c.batch * K * c.N * L);
    d.C.resize(d.B.size());
    for (float& x : d.B) x = normal(rng);
    for (float& x : d.C) x = normal(rng);
    if (c.has_D) {
        d.D.resize(K * c.dim);
        for (float& x : d.D) x = normal(rng);
    }
    if (c.has_delta_bias) {
        d.delta_bias.resize(K * c.dim);
        for (float& x : d.delta_bias) x = c.delta_softplus ? uniform(-1.0f, 1.0f) : uniform(0.0f, 0.3f);
    }
    d.dout.resize(c.batch * c.dim * L);
    for (float& x : d.dout) x = normal(rng);
    return d;
}

float* or_null(std::vector<float>& v) { return v.empty() ? nullptr : v.data(); }

CrossResults run_cpu(const CrossCase& c, CrossData d) {
    const int64_t L = c.H * c.W;
    CrossResults r;
    r.out.resize(c.batch * c.dim * L);
    r.chunk_states.resize(c.batch * 4 * c.dim * chunks(L) * c.N);
    EXPECT_EQ(ssmb_cross_selective_scan_fwd(SSMB_FLOAT32, SSMB_FLOAT32, c.batch, c.dim, c.H, c.W, c.N, d.u.data(),
                                            d.delta.data(), d.A.data(), d.B.data(), d.C.data(), or_null(d.D),
                                            or_null(d.delta_bias), c.delta_softplus, r.out.data(),
                                            r.chunk_states.data()),
              SSMB_OK)
        << ssmb_last_error();
    int64_t bytes = 0;
    EXPECT_EQ(ssmb_cross_selective_scan_bwd_workspace_size(SSMB_FLOAT32, SSMB_FLOAT32, c.batch, c.dim, c.H, c.W, c.N,
                                                           &bytes),
              SSMB_OK);
    std::vector<float> workspace(bytes / 4 + 1);
    r.du.resize(d.u.size()), r.ddelta.resize(d.delta.size()), r.dA.resize(d.A.size());
    r.dB.resize(d.B.size()), r.dC.resize(d.C.size()), r.dD.resize(d.D.size());
    r.ddelta_bias.resize(d.delta_bias.size());
    EXPECT_EQ(ssmb_cross_selective_scan_bwd(SSMB_FLOAT32, SSMB_FLOAT32, c.batch, c.dim, c.H, c.W, c.N, d.u.data(),
                                            d.delta.data(), d.A.data(), d.B.data(), d.C.data(), or_null(d.D),
                                            or_null(d.delta_bias), c.delta_softplus, r.chunk_states.data(),
                                            d.dout.data(), r.du.data(), r.ddelta.data(), r.dA.data(), r.dB.data(),
                                            r.dC.data(), or_null(r.dD), or_null(r.ddelta_bias), workspace.data(),
                                            bytes),
              SSMB_OK)
        << ssmb_last_error();
    return r;
}

// The CUDA forward, then the backward on `states` (the GPU's own chunk_states when empty).
CrossResults run_cuda(const CrossCase& c, const CrossData& d, const std::vector<float>& states) {
    const ssmb_dtype f = SSMB_FLOAT32;
    const int64_t L = c.H * c.W;
    DeviceArray u(d.u, f), delta(d.delta, f), A(d.A, f), B(d.B, f), C(d.C, f), D(d.D, f),
        delta_bias(d.delta_bias, f), dout(d.dout, f);
    DeviceArray out(d.u.size(), f), chunk_states(c.batch * 4 * c.dim * chunks(L) * c.N, f);
    EXPECT_EQ(ssmb_cross_selective_scan_fwd_cuda(f, f, c.batch, c.dim, c.H, c.W, c.N, u.get(), delta.get(), A.get(),
                                                 B.get(), C.get(), D.get(), delta_bias.get(), c.delta_softplus,
                                                 out.get(), chunk_states.get(), nullptr),
              SSMB_OK)
        << ssmb_last_error();
    CrossResults r;
    r.out = out.download();
    r.chunk_states = chunk_states.download();
    if (!states.empty()) chunk_states.upload(states);
    int64_t bytes = 0;
    EXPECT_EQ(ssmb_cross_selective_scan_bwd_workspace_size_cuda(f, f, c.batch, c.dim, c.H, c.W, c.N, &bytes), SSMB_OK)
        << ssmb_last_error();
    DeviceArray workspace(bytes / 4 + 1, f);
    DeviceArray du(d.u.size(), f), ddelta(d.delta.size(), f), dA(d.A.size(), f), dB(d.B.size(), f),
        dC(d.C.size(), f), dD(d.D.size(), f), ddelta_bias(d.delta_bias.size(), f);
    EXPECT_EQ(ssmb_cross_selective_scan_bwd_cuda(f, f, c.batch, c.dim, c.H, c.W, c.N, u.get(), delta.get(), A.get(),
                                                 B.get(), C.get(), D.get(), delta_bias.get(), c.delta_softplus,
                                                 chunk_states.get(), dout.get(), du.get(), ddelta.get(), dA.get(),
                                                 dB.get(), dC.get(), dD.get(), ddelta_bias.get(), workspace.get(),
                                                 bytes, nullptr),
              SSMB_OK)
        << ssmb_last_error();
    EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess);
    r.du = du.download(), r.ddelta = ddelta.download(), r.dA = dA.download(), r.dB = dB.download();
    r.dC = dC.download(), r.dD = dD.download(), r.ddelta_bias = ddelta_bias.download();
    return r;
}

using Field = std::vector<float> CrossResults::*;
const std::pair<const char*, Field> kFields[] = {
    {"out", &CrossResults::out},     {"chunk_states", &CrossResults::chunk_states},
    {"du", &CrossResults::du},       {"ddelta", &CrossResults::ddelta},
    {"dA", &CrossResults::dA},       {"dB", &CrossResults::dB},
    {"dC", &CrossResults::dC},       {"dD", &CrossResults::dD},
    {"ddelta_bias", &CrossResults::ddelta_bias}};

void check_case(const CrossCase& c) {
    const uint64_t seed = fresh_seed();
    const CrossData data = random_data(c, seed);
    const CrossResults want = run_cpu(c, data);
    const CrossResults got = run_cuda(c, data, {});
    const CrossResults on_cpu_states = run_cuda(c, data, want.chunk_states);
    const CrossResults again = run_cuda(c, data, {});
    const std::string where = case_name(c) + " (SSMB_TEST_SEED=" + std::to_string(seed) + ")";
    for (const auto& field : kFields) {
        const Mismatch m = compare(got.*field.second, want.*field.second);
        EXPECT_LE(m.error, 1e-4) << where << ": " << describe(field.first, m);
        const Mismatch x = compare(on_cpu_states.*field.second, want.*field.second);
        EXPECT_LE(x.error, 1e-4) << where << " (backward on the CPU's chunk_states): " << describe(field.first, x);
        const auto& a = got.*field.second;
        const auto& b = again.*field.second;
        EXPECT_TRUE(a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * 4) == 0))
            << where << ": " << field.first << " differs between two identical calls";
    }
}

TEST(CudaCrossSelectiveScan, MatchesCpuShortAndOdd) {
    if (!has_device()) GTEST_SKIP() << "no CUDA device";
    const CrossCase cases[] = {
        {1, 1, 1, 1, 1, true, true, true},     {2, 3, 5, 7, 4, true, true, true},
        {1, 5, 7, 5, 3, false, false, false},  {1, 9, 1, 37, 16, true, false, true},
        {2, 10, 29, 1, 2, false, true, true},  {1, 4, 16, 20, 1, true, true, false},
        {2, 17, 13, 14, 16, true, true, true}, {1, 8, 3, 100, 5, false, true, false},
    };
    for (const CrossCase& c : cases) check_case(c);
}

TEST(CudaCrossSelectiveScan, MatchesCpuLarger) {
    if (!has_device()) GTEST_SKIP() << "no CUDA device";
    const CrossCase cases[] = {
        {2, 24, 23, 19, 16, true, true, true},
        {1, 48, 56, 56, 16, true, true, true},
        {1, 16, 40, 33, 256, true, false, true},
    };
    for (const CrossCase& c : cases) check_case(c);
}

TEST(CudaCrossSelectiveScan, RejectsHostMemoryAndBadArguments) {
    if (!has_device()) GTEST_SKIP() << "no CUDA device";
    std::vector<float> host(256, 1.0f);
    DeviceArray dev(256, SSMB_FLOAT32), out(256, SSMB_FLOAT32), states(256, SSMB_FLOAT32);
    EXPECT_EQ(ssmb_cross_selective_scan_fwd_cuda(SSMB_FLOAT32, SSMB_FLOAT32, 1, 1, 2, 2, 1, dev.get(), host.data(),
                                                 dev.get(), dev.get(), dev.get(), nullptr, nullptr, 0, out.get(),
                                                 states.get(), nullptr),
              SSMB_ERROR_INVALID_ARGUMENT);
    EXPECT_TRUE(std::string(ssmb_last_error()).find("delta: expected CUDA device memory") != std::string::npos)
        << ssmb_last_error();
    EXPECT_EQ(ssmb_cross_selective_scan_fwd_cuda(SSMB_BFLOAT16, SSMB_FLOAT32, 1, 1, 2, 2, 1, dev.get(), dev.get(),
                                                 dev.get(), dev.get(), dev.get(), nullptr, nullptr, 0, out.get(),
                                                 states.get(), nullptr),
              SSMB_ERROR_UNSUPPORTED);
    EXPECT_TRUE(std::string(ssmb_last_error()).find("dtype:") != std::string::npos) << ssmb_last_error();
    EXPECT_EQ(ssmb_cross_selective_scan_fwd_cuda(SSMB_FLOAT32, SSMB_FLOAT32, 1, 1, 2, 2, 300, dev.get(), dev.get(),
                                                 dev.get(), dev.get(), dev.get(), nullptr, nullptr, 0, out.get(),
                                                 states.get(), nullptr),
              SSMB_ERROR_INVALID_ARGUMENT);
    EXPECT_TRUE(std::string(ssmb_last_error()).find("N: expected at most 256") != std::string::npos)
        << ssmb_last_error();
    int64_t bytes = 0;
    ASSERT_EQ(ssmb_cross_selective_scan_bwd_workspace_size_cuda(SSMB_FLOAT32, SSMB_FLOAT32, 1, 1, 2, 2, 1, &bytes),
              SSMB_OK);
    EXPECT_EQ(ssmb_cross_selective_scan_bwd_cuda(SSMB_FLOAT32, SSMB_FLOAT32, 1, 1, 2, 2, 1, dev.get(), dev.get(),
                                                 dev.get(), dev.get(), dev.get(), nullptr, nullptr, 0, states.get(),
                                                 dev.get(), out.get(), out.get(), out.get(), out.get(), out.get(),
                                                 nullptr, nullptr, out.get(), bytes - 1, nullptr),
              SSMB_ERROR_INVALID_ARGUMENT);
    EXPECT_TRUE(std::string(ssmb_last_error()).find("workspace_bytes") != std::string::npos) << ssmb_last_error();
}

}  // namespace
}  // namespace ssmb_cuda_test
