// Patch merging through the C ABI, against loops written straight from Swin's definition in
// ssmbridge.h: bitwise forward (with zero padding for odd sizes) and backward, the backward as the
// forward's adjoint, both layouts agreeing, and argument checks that name the argument.
//
// Input values are fresh on every run; a failure prints its seed, and SSMB_TEST_SEED=<seed> replays it.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <ostream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "ssmbridge/ssmbridge.h"

namespace {

struct Image {
    int64_t batch, channels, height, width;
    int64_t merged_height() const { return (height + 1) / 2; }
    int64_t merged_width() const { return (width + 1) / 2; }
    int64_t numel() const { return batch * channels * height * width; }
    int64_t merged_numel() const { return batch * 4 * channels * merged_height() * merged_width(); }
};

void PrintTo(const Image& s, std::ostream* os) {
    *os << "B" << s.batch << "_C" << s.channels << "_H" << s.height << "_W" << s.width;
}

uint64_t fresh_seed() {
    if (const char* fixed = std::getenv("SSMB_TEST_SEED")) return std::strtoull(fixed, nullptr, 10);
    return std::random_device{}();
}

template <typename T>
std::vector<T> random_values(int64_t n, uint64_t seed) {
    std::mt19937_64 gen(seed);
    std::normal_distribution<double> normal;
    std::vector<T> v(static_cast<size_t>(n));
    for (T& x : v) x = static_cast<T>(normal(gen));
    return v;
}

template <typename T>
constexpr ssmb_dtype dtype_of() {
    return sizeof(T) == 8 ? SSMB_FLOAT64 : SSMB_FLOAT32;
}

int64_t image_index(const Image& s, bool channel_first, int64_t b, int64_t c, int64_t h, int64_t w) {
    return channel_first ? ((b * s.channels + c) * s.height + h) * s.width + w
                         : ((b * s.height + h) * s.width + w) * s.channels + c;
}

// Merged element (b, channel m of 4C, i, j) in either layout.
int64_t merged_index(const Image& s, bool channel_first, int64_t b, int64_t m, int64_t i, int64_t j) {
    const int64_t C4 = 4 * s.channels, Ho = s.merged_height(), Wo = s.merged_width();
    return channel_first ? ((b * C4 + m) * Ho + i) * Wo + j : ((b * Ho + i) * Wo + j) * C4 + m;
}

// Swin: cat([x(0::2, 0::2), x(1::2, 0::2), x(0::2, 1::2), x(1::2, 1::2)]) on the channel axis.
const int kRow[4] = {0, 1, 0, 1};
const int kCol[4] = {0, 0, 1, 1};

template <typename T>
std::vector<T> expected_merge(const Image& s, bool channel_first, const std::vector<T>& x) {
    std::vector<T> out(static_cast<size_t>(s.merged_numel()));
    for (int64_t b = 0; b < s.batch; ++b)
        for (int q = 0; q < 4; ++q)
            for (int64_t c = 0; c < s.channels; ++c)
                for (int64_t i = 0; i < s.merged_height(); ++i)
                    for (int64_t j = 0; j < s.merged_width(); ++j) {
                        const int64_t h = 2 * i + kRow[q], w = 2 * j + kCol[q];
                        const bool inside = h < s.height && w < s.width;
                        out[merged_index(s, channel_first, b, q * s.channels + c, i, j)] =
                            inside ? x[image_index(s, channel_first, b, c, h, w)] : T(0);
                    }
    return out;
}

template <typename T>
std::vector<T> expected_unmerge(const Image& s, bool channel_first, const std::vector<T>& dout) {
    std::vector<T> dx(static_cast<size_t>(s.numel()));
    for (int64_t b = 0; b < s.batch; ++b)
        for (int64_t c = 0; c < s.channels; ++c)
            for (int64_t h = 0; h < s.height; ++h)
                for (int64_t w = 0; w < s.width; ++w) {
                    const int q = static_cast<int>(h % 2 + 2 * (w % 2));
                    dx[image_index(s, channel_first, b, c, h, w)] =
                        dout[merged_index(s, channel_first, b, q * s.channels + c, h / 2, w / 2)];
                }
    return dx;
}

template <typename T>
ssmb_status forward(const Image& s, bool channel_first, const std::vector<T>& x, std::vector<T>& out) {
    return ssmb_patch_merge_fwd(dtype_of<T>(), s.batch, s.channels, s.height, s.width, channel_first, x.data(),
                                out.data());
}

template <typename T>
ssmb_status backward(const Image& s, bool channel_first, const std::vector<T>& dout, std::vector<T>& dx) {
    return ssmb_patch_merge_bwd(dtype_of<T>(), s.batch, s.channels, s.height, s.width, channel_first, dout.data(),
                                dx.data());
}

template <typename T>
::testing::AssertionResult same_bits(const std::vector<T>& actual, const std::vector<T>& expected) {
    if (actual.size() != expected.size()) return ::testing::AssertionFailure() << "sizes differ";
    for (size_t i = 0; i < actual.size(); ++i)
        if (std::memcmp(&actual[i], &expected[i], sizeof(T)) != 0)
            return ::testing::AssertionFailure() << "element " << i << ": " << actual[i] << " != " << expected[i];
    return ::testing::AssertionSuccess();
}

const Image kShapes[] = {
    {1, 1, 1, 1}, {2, 3, 1, 1}, {2, 3, 1, 6}, {2, 3, 7, 1}, {1, 2, 2, 2},  {2, 5, 4, 6},
    {1, 3, 5, 7}, {2, 4, 6, 3}, {1, 3, 3, 4}, {1, 17, 9, 13}, {2, 96, 14, 14}, {1, 8, 56, 56},
};

class PatchMergeShapes : public ::testing::TestWithParam<Image> {};

TEST_P(PatchMergeShapes, ForwardIsSwinsGatherWithZeroPaddingBitwise) {
    const Image s = GetParam();
    const uint64_t seed = fresh_seed();
    for (bool channel_first : {false, true}) {
        SCOPED_TRACE("seed " + std::to_string(seed) + (channel_first ? " channel-first" : " channel-last"));
        const auto x32 = random_values<float>(s.numel(), seed);
        std::vector<float> out32(s.merged_numel(), NAN);
        ASSERT_EQ(forward(s, channel_first, x32, out32), SSMB_OK) << ssmb_last_error();
        EXPECT_TRUE(same_bits(out32, expected_merge(s, channel_first, x32)));

        const auto x64 = random_values<double>(s.numel(), seed);
        std::vector<double> out64(s.merged_numel(), NAN);
        ASSERT_EQ(forward(s, channel_first, x64, out64), SSMB_OK) << ssmb_last_error();
        EXPECT_TRUE(same_bits(out64, expected_merge(s, channel_first, x64)));
    }
}

TEST_P(PatchMergeShapes, BackwardGathersEachInputsGradientBitwise) {
    const Image s = GetParam();
    const uint64_t seed = fresh_seed();
    for (bool channel_first : {false, true}) {
        SCOPED_TRACE("seed " + std::to_string(seed) + (channel_first ? " channel-first" : " channel-last"));
        const auto d32 = random_values<float>(s.merged_numel(), seed);
        std::vector<float> dx32(s.numel(), NAN);
        ASSERT_EQ(backward(s, channel_first, d32, dx32), SSMB_OK) << ssmb_last_error();
        EXPECT_TRUE(same_bits(dx32, expected_unmerge(s, channel_first, d32)));

        const auto d64 = random_values<double>(s.merged_numel(), seed);
        std::vector<double> dx64(s.numel(), NAN);
        ASSERT_EQ(backward(s, channel_first, d64, dx64), SSMB_OK) << ssmb_last_error();
        EXPECT_TRUE(same_bits(dx64, expected_unmerge(s, channel_first, d64)));
    }
}

// <patch_merge(x), g> == <x, patch_merge_bwd(g)>.
TEST_P(PatchMergeShapes, BackwardIsTheAdjointOfForward) {
    const Image s = GetParam();
    const uint64_t seed = fresh_seed();
    SCOPED_TRACE("seed " + std::to_string(seed));
    for (bool channel_first : {false, true}) {
        const auto x = random_values<double>(s.numel(), seed);
        const auto g = random_values<double>(s.merged_numel(), seed + 1);
        std::vector<double> out(s.merged_numel()), dx(s.numel());
        ASSERT_EQ(forward(s, channel_first, x, out), SSMB_OK);
        ASSERT_EQ(backward(s, channel_first, g, dx), SSMB_OK);
        long double lhs = 0, rhs = 0, scale = 0;
        for (size_t i = 0; i < g.size(); ++i) lhs += (long double)out[i] * g[i];
        for (size_t i = 0; i < x.size(); ++i) rhs += (long double)x[i] * dx[i];
        for (size_t i = 0; i < x.size(); ++i) scale += std::fabs((long double)x[i] * dx[i]);
        EXPECT_LE(std::fabs((double)(lhs - rhs)), 1e-14 * (double)scale + 1e-300);
    }
}

INSTANTIATE_TEST_SUITE_P(Shapes, PatchMergeShapes, ::testing::ValuesIn(kShapes),
                         [](const ::testing::TestParamInfo<Image>& info) {
                             std::ostringstream name;
                             PrintTo(info.param, &name);
                             return name.str();
                         });

TEST(PatchMerge, ResultsDoNotDependOnTheThreadCount) {
    const Image s{2, 19, 23, 17};
    const int32_t before = ssmb_get_num_threads();
    const auto x = random_values<float>(s.numel(), fresh_seed());
    const auto g = random_values<float>(s.merged_numel(), fresh_seed());
    for (bool channel_first : {false, true}) {
        ASSERT_EQ(ssmb_set_num_threads(1), SSMB_OK);
        std::vector<float> out1(s.merged_numel()), dx1(s.numel());
        ASSERT_EQ(forward(s, channel_first, x, out1), SSMB_OK);
        ASSERT_EQ(backward(s, channel_first, g, dx1), SSMB_OK);
        for (int32_t threads : {2, 5}) {
            ASSERT_EQ(ssmb_set_num_threads(threads), SSMB_OK);
            std::vector<float> out_n(s.merged_numel()), dx_n(s.numel());
            ASSERT_EQ(forward(s, channel_first, x, out_n), SSMB_OK);
            ASSERT_EQ(backward(s, channel_first, g, dx_n), SSMB_OK);
            EXPECT_TRUE(same_bits(out_n, out1));
            EXPECT_TRUE(same_bits(dx_n, dx1));
        }
    }
    ASSERT_EQ(ssmb_set_num_threads(before), SSMB_OK);
}

// ---- argument checks ---------------------------------------------------------------------------

// A valid call (float32, 2 x 3 x 5 x 4, channel-last) whose fields tests break.
struct Call {
    ssmb_dtype dtype = SSMB_FLOAT32;
    int64_t batch = 2, channels = 3, height = 5, width = 4;
    int32_t channel_first = 0;
    std::vector<float> image = std::vector<float>(2 * 3 * 5 * 4, 1.f);
    std::vector<float> merged = std::vector<float>(2 * 12 * 3 * 2, 1.f);
    std::vector<float> out_image = std::vector<float>(2 * 3 * 5 * 4, 7.f);
    std::vector<float> out_merged = std::vector<float>(2 * 12 * 3 * 2, 7.f);
    const void* in = nullptr;
    void* out = nullptr;
};

struct BadCall {
    const char* name;
    bool backward;
    void (*spoil)(Call&);
    ssmb_status status;
    const char* message_part;
};

class PatchMergeBadArguments : public ::testing::TestWithParam<BadCall> {};

TEST_P(PatchMergeBadArguments, FailWithANamedArgumentAndWriteNothing) {
    const BadCall& bad = GetParam();
    Call call;
    call.in = bad.backward ? static_cast<const void*>(call.merged.data()) : call.image.data();
    call.out = bad.backward ? static_cast<void*>(call.out_image.data()) : call.out_merged.data();
    bad.spoil(call);
    const ssmb_status status =
        bad.backward ? ssmb_patch_merge_bwd(call.dtype, call.batch, call.channels, call.height, call.width,
                                            call.channel_first, call.in, call.out)
                     : ssmb_patch_merge_fwd(call.dtype, call.batch, call.channels, call.height, call.width,
                                            call.channel_first, call.in, call.out);
    EXPECT_EQ(status, bad.status);
    const std::string message = ssmb_last_error();
    EXPECT_NE(message.find(bad.message_part), std::string::npos) << message;
    for (float v : call.out_image) ASSERT_EQ(v, 7.f);
    for (float v : call.out_merged) ASSERT_EQ(v, 7.f);
}

const BadCall kBadCalls[] = {
    {"fwd_batch_0", false, [](Call& c) { c.batch = 0; }, SSMB_ERROR_INVALID_ARGUMENT, "batch: expected a size >= 1, got 0"},
    {"fwd_width_negative", false, [](Call& c) { c.width = -1; }, SSMB_ERROR_INVALID_ARGUMENT, "width: expected a size >= 1, got -1"},
    {"bwd_channels_0", true, [](Call& c) { c.channels = 0; }, SSMB_ERROR_INVALID_ARGUMENT, "channels: expected"},
    {"fwd_x_null", false, [](Call& c) { c.in = nullptr; }, SSMB_ERROR_INVALID_ARGUMENT, "x: expected a data pointer"},
    {"fwd_out_null", false, [](Call& c) { c.out = nullptr; }, SSMB_ERROR_INVALID_ARGUMENT, "out: expected a data pointer"},
    {"bwd_dout_null", true, [](Call& c) { c.in = nullptr; }, SSMB_ERROR_INVALID_ARGUMENT, "dout: expected a data pointer"},
    {"bwd_dx_null", true, [](Call& c) { c.out = nullptr; }, SSMB_ERROR_INVALID_ARGUMENT, "dx: expected a data pointer"},
    {"fwd_float16", false, [](Call& c) { c.dtype = SSMB_FLOAT16; }, SSMB_ERROR_UNSUPPORTED, "dtype: the CPU kernels support float32 and float64"},
    {"bwd_unknown_dtype", true, [](Call& c) { c.dtype = static_cast<ssmb_dtype>(77); }, SSMB_ERROR_INVALID_ARGUMENT, "dtype: expected a ssmb_dtype value"},
    {"fwd_overlap", false, [](Call& c) { c.out = c.image.data() + 3; }, SSMB_ERROR_INVALID_ARGUMENT, "out: output memory overlaps input x"},
    {"bwd_overlap", true, [](Call& c) { c.out = c.merged.data(); }, SSMB_ERROR_INVALID_ARGUMENT, "dx: output memory overlaps input dout"},
    {"fwd_size_overflows", false, [](Call& c) { c.channels = int64_t(1) << 62; }, SSMB_ERROR_INVALID_ARGUMENT, "too large"},
};

INSTANTIATE_TEST_SUITE_P(Calls, PatchMergeBadArguments, ::testing::ValuesIn(kBadCalls),
                         [](const ::testing::TestParamInfo<BadCall>& info) { return std::string(info.param.name); });

}  // namespace
