// The C ABI's contract outside the kernels' math: statuses, thread-local messages that name the
// argument, checks that run before anything is written.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "ssmbridge/ssmbridge.h"

namespace {

// A small valid forward call (float32, selective B/C, every option on) whose fields tests break.
struct ForwardCall {
    int64_t batch = 2, dim = 4, L = 5, N = 3, groups = 2;
    int32_t B_sel = 1, C_sel = 1;
    ssmb_dtype dtype = SSMB_FLOAT32, weight_dtype = SSMB_FLOAT32;
    std::vector<float> u, delta, A, B, C, D, z, bias, out, states, last;
    const void* u_ptr;

    ForwardCall()
        : u(batch * dim * L, 0.5f), delta(batch * dim * L, 0.1f), A(dim * N, -1.f),
          B(batch * groups * N * L, 0.3f), C(batch * groups * N * L, 0.2f), D(dim, 1.f), z(batch * dim * L, 0.7f),
          bias(dim, 0.05f), out(batch * dim * L, 123.f), states(batch * dim * ((L + 63) / 64) * N, 0.f),
          last(batch * dim * N, 0.f), u_ptr(u.data()) {}

    ssmb_status run() {
        return ssmb_selective_scan_fwd(dtype, weight_dtype, batch, dim, L, N, groups, B_sel, C_sel, u_ptr,
                                       delta.data(), A.data(), B.data(), C.data(), D.data(), z.data(), bias.data(),
                                       1, 0, out.data(), states.data(), last.data());
    }
};

std::string last_error() { return ssmb_last_error(); }

}  // namespace

TEST(Api, VersionAndBuildFacts) {
    EXPECT_STREQ(ssmb_version(), SSMB_VERSION);
    EXPECT_EQ(ssmb_has_cuda(), 0);
    EXPECT_GT(std::strlen(ssmb_cpu_isa()), 0u);
    EXPECT_EQ(ssmb_selective_scan_chunk_size() > 0, true);
}

TEST(Api, ThreadCountIsValidated) {
    const int32_t before = ssmb_get_num_threads();
    EXPECT_EQ(ssmb_set_num_threads(0), SSMB_ERROR_INVALID_ARGUMENT);
    EXPECT_NE(last_error().find("num_threads"), std::string::npos);
    EXPECT_EQ(ssmb_get_num_threads(), before);
    ASSERT_EQ(ssmb_set_num_threads(3), SSMB_OK);
    EXPECT_EQ(ssmb_get_num_threads(), 3);
    EXPECT_EQ(last_error(), "");
    ASSERT_EQ(ssmb_set_num_threads(before), SSMB_OK);
}

TEST(Api, ValidForwardSucceedsAndClearsTheError) {
    ForwardCall call;
    call.dim = 0;
    ASSERT_NE(call.run(), SSMB_OK);
    ForwardCall good;
    ASSERT_EQ(good.run(), SSMB_OK) << last_error();
    EXPECT_EQ(last_error(), "");
    EXPECT_NE(good.out[0], 123.f);
}

struct BadForward {
    const char* name;
    void (*spoil)(ForwardCall&);
    ssmb_status status;
    const char* message_part;
};

class ApiBadForward : public ::testing::TestWithParam<BadForward> {};

TEST_P(ApiBadForward, FailsWithANamedArgumentAndWritesNothing) {
    ForwardCall call;
    GetParam().spoil(call);
    EXPECT_EQ(call.run(), GetParam().status);
    EXPECT_NE(last_error().find(GetParam().message_part), std::string::npos) << last_error();
    for (float v : call.out) ASSERT_EQ(v, 123.f);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ApiBadForward,
    ::testing::Values(
        BadForward{"zero_batch", [](ForwardCall& c) { c.batch = 0; }, SSMB_ERROR_INVALID_ARGUMENT, "batch: expected a size >= 1, got 0"},
        BadForward{"negative_L", [](ForwardCall& c) { c.L = -3; }, SSMB_ERROR_INVALID_ARGUMENT, "L: expected a size >= 1, got -3"},
        BadForward{"zero_N", [](ForwardCall& c) { c.N = 0; }, SSMB_ERROR_INVALID_ARGUMENT, "N: expected"},
        BadForward{"groups_not_dividing", [](ForwardCall& c) { c.groups = 3; }, SSMB_ERROR_INVALID_ARGUMENT, "groups: expected a divisor of dim (4), got 3"},
        BadForward{"groups_without_selective", [](ForwardCall& c) { c.B_sel = 0; c.C_sel = 0; }, SSMB_ERROR_INVALID_ARGUMENT, "groups: expected 1"},
        BadForward{"null_u", [](ForwardCall& c) { c.u_ptr = nullptr; }, SSMB_ERROR_INVALID_ARGUMENT, "u: expected a data pointer, got null"},
        BadForward{"half_on_cpu", [](ForwardCall& c) { c.dtype = SSMB_FLOAT16; c.weight_dtype = SSMB_FLOAT16; }, SSMB_ERROR_UNSUPPORTED, "dtype: the CPU kernels support float32 and float64, got float16"},
        BadForward{"mixed_weight_dtype", [](ForwardCall& c) { c.weight_dtype = SSMB_FLOAT64; }, SSMB_ERROR_UNSUPPORTED, "weight_dtype"},
        BadForward{"unknown_dtype", [](ForwardCall& c) { c.dtype = static_cast<ssmb_dtype>(42); }, SSMB_ERROR_INVALID_ARGUMENT, "dtype: expected a ssmb_dtype value, got 42"},
        BadForward{"overflowing_sizes", [](ForwardCall& c) { c.batch = int64_t(1) << 40; c.L = int64_t(1) << 30; }, SSMB_ERROR_INVALID_ARGUMENT, "overflows int64"},
        BadForward{"output_aliases_input", [](ForwardCall& c) { c.u_ptr = c.out.data(); }, SSMB_ERROR_INVALID_ARGUMENT, "out: output memory overlaps input u"}),
    [](const ::testing::TestParamInfo<BadForward>& info) { return std::string(info.param.name); });

TEST(Api, LastErrorIsPerThread) {
    ForwardCall bad;
    bad.dim = 0;
    ASSERT_NE(bad.run(), SSMB_OK);
    std::string other_thread_error = "unset";
    std::thread([&] { other_thread_error = ssmb_last_error(); }).join();
    EXPECT_EQ(other_thread_error, "");
    EXPECT_NE(last_error().find("dim"), std::string::npos);
}

TEST(Api, WorkspaceQueryValidates) {
    int64_t bytes = -1;
    EXPECT_EQ(ssmb_selective_scan_bwd_workspace_size(SSMB_FLOAT32, SSMB_FLOAT32, 2, 4, 5, 3, 2, 1, 1, nullptr),
              SSMB_ERROR_INVALID_ARGUMENT);
    EXPECT_NE(last_error().find("bytes"), std::string::npos);
    ASSERT_EQ(ssmb_selective_scan_bwd_workspace_size(SSMB_FLOAT32, SSMB_FLOAT32, 2, 4, 5, 3, 2, 1, 1, &bytes), SSMB_OK);
    EXPECT_GE(bytes, 0);
}

TEST(Api, BackwardChecksGradientPairingAndWorkspace) {
    ForwardCall f;
    ASSERT_EQ(f.run(), SSMB_OK) << last_error();
    int64_t bytes = 0;
    ASSERT_EQ(ssmb_selective_scan_bwd_workspace_size(f.dtype, f.weight_dtype, f.batch, f.dim, f.L, f.N, f.groups,
                                                     f.B_sel, f.C_sel, &bytes), SSMB_OK);
    std::vector<float> dout(f.u.size(), 1.f), du(f.u.size()), ddelta(f.u.size()), dA(f.A.size()), dB(f.B.size()),
        dC(f.C.size()), dD(f.D.size()), dz(f.z.size()), dbias(f.bias.size()), ws(bytes / 4 + 1);
    auto run = [&](void* dD_ptr, void* ws_ptr, int64_t ws_bytes) {
        return ssmb_selective_scan_bwd(f.dtype, f.weight_dtype, f.batch, f.dim, f.L, f.N, f.groups, f.B_sel, f.C_sel,
                                       f.u.data(), f.delta.data(), f.A.data(), f.B.data(), f.C.data(), f.D.data(),
                                       f.z.data(), f.bias.data(), 1, 0, f.states.data(), dout.data(), nullptr, du.data(),
                                       ddelta.data(), dA.data(), dB.data(), dC.data(), dD_ptr, dz.data(),
                                       dbias.data(), ws_ptr, ws_bytes);
    };
    EXPECT_EQ(run(nullptr, ws.data(), bytes), SSMB_ERROR_INVALID_ARGUMENT);
    EXPECT_NE(last_error().find("dD: expected a buffer because D is given"), std::string::npos) << last_error();
    if (bytes > 0) {
        EXPECT_EQ(run(dD.data(), ws.data(), bytes - 1), SSMB_ERROR_INVALID_ARGUMENT);
        EXPECT_NE(last_error().find("workspace_bytes: expected at least"), std::string::npos) << last_error();
    }
    EXPECT_EQ(run(dD.data(), ws.data(), bytes), SSMB_OK) << last_error();
}
