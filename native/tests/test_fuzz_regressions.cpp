// Regression tests for what native/fuzz found (issue 11). Each failed before its fix: under the
// sanitizer build (SSMB_SANITIZE=ON, .ci/run) as undefined behaviour, elsewhere as a wrapped-around size.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

#include "ssmbridge/ssmbridge.h"

namespace {

bool says_overflow() { return std::string(ssmb_last_error()).find("overflows int64") != std::string::npos; }

}  // namespace

// Every array of this shape fits in int64 bytes, but the backward's workspace (dB and dC partial sums
// of 4 channel tiles) is 2^62 floats: its byte count used to wrap around.
TEST(FuzzRegressions, SelectiveScanWorkspaceOfAHugeValidShapeIsRejectedNotWrapped) {
    const int64_t batch = 1, dim = 64, L = int64_t(1) << 31, N = int64_t(1) << 28;
    int64_t bytes = -7;
    EXPECT_EQ(ssmb_selective_scan_bwd_workspace_size(SSMB_FLOAT32, SSMB_FLOAT32, batch, dim, L, N, 1, 1, 1, &bytes),
              SSMB_ERROR_INVALID_ARGUMENT);
    EXPECT_TRUE(says_overflow()) << ssmb_last_error();
    EXPECT_EQ(bytes, -7) << "a rejected query wrote its result";
    // The backward computes the same size before it looks at its buffers.
    EXPECT_EQ(ssmb_selective_scan_bwd(SSMB_FLOAT32, SSMB_FLOAT32, batch, dim, L, N, 1, 1, 1, nullptr, nullptr, nullptr,
                                      nullptr, nullptr, nullptr, nullptr, nullptr, 0, 0, nullptr, nullptr, nullptr,
                                      nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, 0),
              SSMB_ERROR_INVALID_ARGUMENT);
}

// The state arrays' byte counts (dim x N per batch) overflow while u and B fit: the forward rejects this
// shape, so the workspace query must too (it used to answer with a size).
TEST(FuzzRegressions, WorkspaceQueryRejectsWhatTheCallsReject) {
    const int64_t N = int64_t(0x00e3) << 48;  // the fuzzer's value: 224 * N * 4 bytes overflows
    int64_t bytes = -7;
    EXPECT_EQ(ssmb_selective_scan_bwd_workspace_size(SSMB_FLOAT32, SSMB_FLOAT32, 1, 224, 2, N, 1, 0, 0, &bytes),
              SSMB_ERROR_INVALID_ARGUMENT);
    EXPECT_TRUE(says_overflow()) << ssmb_last_error();
    EXPECT_EQ(bytes, -7);
}

// As above for the fused cross selective scan: the per-batch dA, dD and ddelta_bias partials add up
// to 2^61 floats although each array fits.
TEST(FuzzRegressions, CrossSelectiveScanWorkspaceOfAHugeValidShapeIsRejectedNotWrapped) {
    int64_t bytes = -7;
    EXPECT_EQ(ssmb_cross_selective_scan_bwd_workspace_size(SSMB_FLOAT32, SSMB_FLOAT32, int64_t(1) << 18,
                                                           int64_t(1) << 39, 1, 1, 2, &bytes),
              SSMB_ERROR_INVALID_ARGUMENT);
    EXPECT_TRUE(says_overflow()) << ssmb_last_error();
    EXPECT_EQ(bytes, -7);
}

// A negative dtype from a caller (any int32 may arrive through the ABI) is a value of ssmb_dtype's range
// since SSMB_DTYPE_MIN_ENUM exists, and is rejected by name.
TEST(FuzzRegressions, NegativeDtypeValuesAreRejectedByName) {
    for (const int32_t raw : {-1, std::numeric_limits<int32_t>::min()}) {
        const auto dtype = static_cast<ssmb_dtype>(raw);
        float buffer[16] = {};
        EXPECT_EQ(ssmb_cross_scan(dtype, 1, 1, 1, 1, 1, buffer, buffer + 8), SSMB_ERROR_INVALID_ARGUMENT);
        EXPECT_EQ(std::string(ssmb_last_error()), "dtype: expected a ssmb_dtype value, got " + std::to_string(raw));
        int64_t bytes = 0;
        EXPECT_EQ(ssmb_selective_scan_bwd_workspace_size(SSMB_FLOAT32, dtype, 1, 1, 1, 1, 1, 0, 0, &bytes),
                  SSMB_ERROR_INVALID_ARGUMENT);
        EXPECT_EQ(ssmb_s4d_kernel_fwd(dtype, 1, 1, 1, buffer, buffer + 1, buffer + 2, buffer + 3, buffer + 4, buffer + 5),
                  SSMB_ERROR_INVALID_ARGUMENT);
    }
}
