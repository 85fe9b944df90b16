// The CUDA section of the C ABI where no GPU is needed: ssmb_has_cuda() says how the library was
// built (SSMB_EXPECT_CUDA, set by CMake), ssmb_cuda_device_count always succeeds, and without a
// usable device every "_cuda" entry point fails cleanly with SSMB_ERROR_UNSUPPORTED and a message
// that says why (built without CUDA, or no device).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ssmbridge/ssmbridge.h"

namespace {

std::string last_error() { return ssmb_last_error(); }

TEST(CudaApi, HasCudaMatchesTheBuild) { EXPECT_EQ(ssmb_has_cuda(), SSMB_EXPECT_CUDA); }

TEST(CudaApi, DeviceCountNeverFails) {
    int32_t count = -1;
    ASSERT_EQ(ssmb_cuda_device_count(&count), SSMB_OK) << last_error();
    EXPECT_GE(count, 0);
    if (!ssmb_has_cuda()) EXPECT_EQ(count, 0);
    EXPECT_EQ(ssmb_cuda_device_count(nullptr), SSMB_ERROR_INVALID_ARGUMENT);
    EXPECT_NE(last_error().find("count: expected a pointer"), std::string::npos) << last_error();
}

TEST(CudaApi, WithoutADeviceEntryPointsSayWhy) {
    int32_t count = 0;
    ASSERT_EQ(ssmb_cuda_device_count(&count), SSMB_OK);
    if (count > 0) GTEST_SKIP() << "a CUDA device is present: test_cuda_*.cpp cover the entry points";
    std::vector<float> x(64, 1.0f), y(256, 0.0f);
    const char* why = ssmb_has_cuda() ? "no CUDA device" : "built without CUDA";
    EXPECT_EQ(ssmb_selective_scan_fwd_cuda(SSMB_FLOAT32, SSMB_FLOAT32, 1, 1, 4, 1, 1, 0, 0, x.data(), x.data(),
                                           x.data(), x.data(), x.data(), nullptr, nullptr, nullptr, 0, 0, y.data(),
                                           y.data() + 64, nullptr, nullptr),
              SSMB_ERROR_UNSUPPORTED);
    EXPECT_NE(last_error().find(why), std::string::npos) << last_error();
    EXPECT_EQ(ssmb_cross_scan_cuda(SSMB_FLOAT32, 1, 1, 2, 2, 1, x.data(), y.data(), nullptr), SSMB_ERROR_UNSUPPORTED);
    EXPECT_NE(last_error().find(why), std::string::npos) << last_error();
    EXPECT_EQ(ssmb_patch_merge_bwd_cuda(SSMB_FLOAT32, 1, 1, 2, 2, 1, x.data(), y.data(), nullptr),
              SSMB_ERROR_UNSUPPORTED);
    EXPECT_NE(last_error().find(why), std::string::npos) << last_error();
    EXPECT_EQ(ssmb_s4d_kernel_fwd_cuda(SSMB_FLOAT32, 1, 1, 4, x.data(), x.data(), x.data(), x.data(), x.data(),
                                       y.data(), nullptr),
              SSMB_ERROR_UNSUPPORTED);
    EXPECT_NE(last_error().find(why), std::string::npos) << last_error();
    EXPECT_EQ(ssmb_cross_selective_scan_fwd_cuda(SSMB_FLOAT32, SSMB_FLOAT32, 1, 1, 2, 2, 1, x.data(), x.data(),
                                                 x.data(), x.data(), x.data(), nullptr, nullptr, 0, y.data(),
                                                 y.data() + 64, nullptr),
              SSMB_ERROR_UNSUPPORTED);
    EXPECT_NE(last_error().find(why), std::string::npos) << last_error();
}

}  // namespace
