// Cross scan and cross merge through the C ABI, against loops written straight from the formulas in
// ssmbridge.h: bitwise for the scan (a permutation) and for the merge (same summation order), adjoint
// to each other in float64, the same for both layouts and for any thread count, and argument checks
// that name the argument and write nothing.
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
    int64_t pixels() const { return height * width; }
    int64_t numel() const { return batch * channels * pixels(); }
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

// Index of image element (b, c, h, w) in either layout.
int64_t image_index(const Image& s, bool channel_first, int64_t b, int64_t c, int64_t h, int64_t w) {
    return channel_first ? ((b * s.channels + c) * s.height + h) * s.width + w
                         : ((b * s.height + h) * s.width + w) * s.channels + c;
}

// Sequence position of pixel (h, w) in direction k, written out as in ssmbridge.h.
int64_t position(const Image& s, int k, int64_t h, int64_t w) {
    const int64_t L = s.pixels();
    switch (k) {
        case 0: return h * s.width + w;
        case 1: return w * s.height + h;
        case 2: return L - 1 - (h * s.width + w);
        default: return L - 1 - (w * s.height + h);
    }
}

int64_t seq_index(const Image& s, int64_t b, int k, int64_t c, int64_t l) {
    return ((b * 4 + k) * s.channels + c) * s.pixels() + l;
}

template <typename T>
std::vector<T> expected_scan(const Image& s, bool channel_first, const std::vector<T>& x) {
    std::vector<T> ys(static_cast<size_t>(4 * s.numel()));
    for (int64_t b = 0; b < s.batch; ++b)
        for (int k = 0; k < 4; ++k)
            for (int64_t c = 0; c < s.channels; ++c)
                for (int64_t h = 0; h < s.height; ++h)
                    for (int64_t w = 0; w < s.width; ++w)
                        ys[seq_index(s, b, k, c, position(s, k, h, w))] = x[image_index(s, channel_first, b, c, h, w)];
    return ys;
}

template <typename T>
std::vector<T> expected_merge(const Image& s, bool channel_first, const std::vector<T>& ys) {
    std::vector<T> y(static_cast<size_t>(s.numel()));
    for (int64_t b = 0; b < s.batch; ++b)
        for (int64_t c = 0; c < s.channels; ++c)
            for (int64_t h = 0; h < s.height; ++h)
                for (int64_t w = 0; w < s.width; ++w) {
                    auto at = [&](int k) { return ys[seq_index(s, b, k, c, position(s, k, h, w))]; };
                    y[image_index(s, channel_first, b, c, h, w)] = (at(0) + at(2)) + (at(1) + at(3));
                }
    return y;
}

template <typename T>
constexpr ssmb_dtype dtype_of() {
    return sizeof(T) == 8 ? SSMB_FLOAT64 : SSMB_FLOAT32;
}

template <typename T>
ssmb_status scan(const Image& s, bool channel_first, const std::vector<T>& x, std::vector<T>& ys) {
    return ssmb_cross_scan(dtype_of<T>(), s.batch, s.channels, s.height, s.width, channel_first, x.data(), ys.data());
}

template <typename T>
ssmb_status merge(const Image& s, bool channel_first, const std::vector<T>& ys, std::vector<T>& y) {
    return ssmb_cross_merge(dtype_of<T>(), s.batch, s.channels, s.height, s.width, channel_first, ys.data(), y.data());
}

// Bitwise equality, reporting the first difference.
template <typename T>
::testing::AssertionResult same_bits(const std::vector<T>& actual, const std::vector<T>& expected) {
    if (actual.size() != expected.size()) return ::testing::AssertionFailure() << "sizes differ";
    for (size_t i = 0; i < actual.size(); ++i)
        if (std::memcmp(&actual[i], &expected[i], sizeof(T)) != 0)
            return ::testing::AssertionFailure() << "element " << i << ": " << actual[i] << " != " << expected[i];
    return ::testing::AssertionSuccess();
}

// Odd and even sizes, H != W, H or W = 1, images wider and taller than a kernel tile (8 or 64 rows,
// 64 columns) with remainders, and channel counts around a 128-byte channel block (16 doubles,
// 32 floats).
const Image kShapes[] = {
    {1, 1, 1, 1},   {2, 3, 1, 1},   {2, 3, 1, 7},   {2, 3, 7, 1},  {1, 2, 2, 2},   {2, 5, 4, 6},
    {1, 3, 5, 7},   {2, 4, 6, 3},   {1, 17, 33, 65}, {1, 9, 70, 17}, {2, 20, 18, 19}, {1, 24, 56, 56},
    {3, 1, 1, 130}, {1, 2, 130, 1}, {1, 37, 9, 11},
};

class CrossScanShapes : public ::testing::TestWithParam<Image> {};

TEST_P(CrossScanShapes, ScanIsTheDocumentedPermutationBitwise) {
    const Image s = GetParam();
    const uint64_t seed = fresh_seed();
    for (bool channel_first : {true, false}) {
        SCOPED_TRACE("seed " + std::to_string(seed) + (channel_first ? " channel-first" : " channel-last"));
        const auto x32 = random_values<float>(s.numel(), seed);
        std::vector<float> ys32(4 * s.numel(), NAN);
        ASSERT_EQ(scan(s, channel_first, x32, ys32), SSMB_OK) << ssmb_last_error();
        EXPECT_TRUE(same_bits(ys32, expected_scan(s, channel_first, x32)));

        const auto x64 = random_values<double>(s.numel(), seed);
        std::vector<double> ys64(4 * s.numel(), NAN);
        ASSERT_EQ(scan(s, channel_first, x64, ys64), SSMB_OK) << ssmb_last_error();
        EXPECT_TRUE(same_bits(ys64, expected_scan(s, channel_first, x64)));
    }
}

TEST_P(CrossScanShapes, MergeSumsTheFourDirectionsInTheDocumentedOrderBitwise) {
    const Image s = GetParam();
    const uint64_t seed = fresh_seed();
    for (bool channel_first : {true, false}) {
        SCOPED_TRACE("seed " + std::to_string(seed) + (channel_first ? " channel-first" : " channel-last"));
        const auto ys32 = random_values<float>(4 * s.numel(), seed);
        std::vector<float> y32(s.numel(), NAN);
        ASSERT_EQ(merge(s, channel_first, ys32, y32), SSMB_OK) << ssmb_last_error();
        EXPECT_TRUE(same_bits(y32, expected_merge(s, channel_first, ys32)));

        const auto ys64 = random_values<double>(4 * s.numel(), seed);
        std::vector<double> y64(s.numel(), NAN);
        ASSERT_EQ(merge(s, channel_first, ys64, y64), SSMB_OK) << ssmb_last_error();
        EXPECT_TRUE(same_bits(y64, expected_merge(s, channel_first, ys64)));
    }
}

// <cross_scan(x), ys> == <x, cross_merge(ys)>: merge is the adjoint (the backward) of scan.
TEST_P(CrossScanShapes, MergeIsTheAdjointOfScan) {
    const Image s = GetParam();
    const uint64_t seed = fresh_seed();
    SCOPED_TRACE("seed " + std::to_string(seed));
    for (bool channel_first : {true, false}) {
        const auto x = random_values<double>(s.numel(), seed);
        const auto ys = random_values<double>(4 * s.numel(), seed + 1);
        std::vector<double> scanned(4 * s.numel()), merged(s.numel());
        ASSERT_EQ(scan(s, channel_first, x, scanned), SSMB_OK) << ssmb_last_error();
        ASSERT_EQ(merge(s, channel_first, ys, merged), SSMB_OK) << ssmb_last_error();
        long double lhs = 0, rhs = 0, scale = 0;
        for (size_t i = 0; i < ys.size(); ++i) lhs += (long double)scanned[i] * ys[i];
        for (size_t i = 0; i < x.size(); ++i) rhs += (long double)x[i] * merged[i];
        for (size_t i = 0; i < ys.size(); ++i) scale += std::fabs((long double)scanned[i] * ys[i]);
        EXPECT_LE(std::fabs((double)(lhs - rhs)), 1e-14 * (double)scale + 1e-300) << (double)lhs << " vs " << (double)rhs;
    }
}

// Channel-last results equal channel-first results of the transposed image.
TEST_P(CrossScanShapes, LayoutsAgree) {
    const Image s = GetParam();
    const uint64_t seed = fresh_seed();
    SCOPED_TRACE("seed " + std::to_string(seed));
    const auto first = random_values<float>(s.numel(), seed);
    std::vector<float> last(first.size());
    for (int64_t b = 0; b < s.batch; ++b)
        for (int64_t c = 0; c < s.channels; ++c)
            for (int64_t h = 0; h < s.height; ++h)
                for (int64_t w = 0; w < s.width; ++w)
                    last[image_index(s, false, b, c, h, w)] = first[image_index(s, true, b, c, h, w)];
    std::vector<float> ys_first(4 * s.numel()), ys_last(4 * s.numel());
    ASSERT_EQ(scan(s, true, first, ys_first), SSMB_OK);
    ASSERT_EQ(scan(s, false, last, ys_last), SSMB_OK);
    EXPECT_TRUE(same_bits(ys_last, ys_first));

    std::vector<float> merged_first(s.numel()), merged_last(s.numel()), transposed(s.numel());
    ASSERT_EQ(merge(s, true, ys_first, merged_first), SSMB_OK);
    ASSERT_EQ(merge(s, false, ys_first, merged_last), SSMB_OK);
    for (int64_t b = 0; b < s.batch; ++b)
        for (int64_t c = 0; c < s.channels; ++c)
            for (int64_t h = 0; h < s.height; ++h)
                for (int64_t w = 0; w < s.width; ++w)
                    transposed[image_index(s, true, b, c, h, w)] = merged_last[image_index(s, false, b, c, h, w)];
    EXPECT_TRUE(same_bits(transposed, merged_first));
}

INSTANTIATE_TEST_SUITE_P(Shapes, CrossScanShapes, ::testing::ValuesIn(kShapes),
                         [](const ::testing::TestParamInfo<Image>& info) {
                             std::ostringstream name;
                             PrintTo(info.param, &name);
                             return name.str();
                         });

// Outputs of 32 MiB and more take the streaming-store path (when height and width allow aligned
// stores); it must give the same bits. 4 x 64 x 128 x 256 floats and 4 x 32 x 128 x 256 doubles are
// 32 MiB; the odd width stays on plain stores.
TEST(CrossScan, LargeScansAreExactOnBothStorePaths) {
    const uint64_t seed = fresh_seed();
    SCOPED_TRACE("seed " + std::to_string(seed));
    for (bool channel_first : {true, false}) {
        for (const Image s : {Image{1, 64, 128, 256}, Image{1, 64, 128, 257}}) {
            const auto x = random_values<float>(s.numel(), seed);
            std::vector<float> ys(4 * s.numel());
            ASSERT_EQ(scan(s, channel_first, x, ys), SSMB_OK);
            EXPECT_TRUE(same_bits(ys, expected_scan(s, channel_first, x))) << "float W=" << s.width;
        }
        const Image d{1, 32, 128, 256};
        const auto x = random_values<double>(d.numel(), seed);
        std::vector<double> ys(4 * d.numel());
        ASSERT_EQ(scan(d, channel_first, x, ys), SSMB_OK);
        EXPECT_TRUE(same_bits(ys, expected_scan(d, channel_first, x))) << "double";
    }
}

TEST(CrossScan, ResultsDoNotDependOnTheThreadCount) {
    const Image s{2, 37, 45, 29};
    const int32_t before = ssmb_get_num_threads();
    const auto x = random_values<float>(s.numel(), fresh_seed());
    const auto ys = random_values<float>(4 * s.numel(), fresh_seed());
    std::vector<float> scan1(4 * s.numel()), merge1(s.numel());
    ASSERT_EQ(ssmb_set_num_threads(1), SSMB_OK);
    for (bool channel_first : {true, false}) {
        ASSERT_EQ(scan(s, channel_first, x, scan1), SSMB_OK);
        ASSERT_EQ(merge(s, channel_first, ys, merge1), SSMB_OK);
        for (int32_t threads : {2, 3, 7}) {
            ASSERT_EQ(ssmb_set_num_threads(threads), SSMB_OK);
            std::vector<float> scan_n(4 * s.numel()), merge_n(s.numel());
            ASSERT_EQ(scan(s, channel_first, x, scan_n), SSMB_OK);
            ASSERT_EQ(merge(s, channel_first, ys, merge_n), SSMB_OK);
            EXPECT_TRUE(same_bits(scan_n, scan1)) << threads << " threads";
            EXPECT_TRUE(same_bits(merge_n, merge1)) << threads << " threads";
        }
        ASSERT_EQ(ssmb_set_num_threads(1), SSMB_OK);
    }
    ASSERT_EQ(ssmb_set_num_threads(before), SSMB_OK);
}

// ---- argument checks ---------------------------------------------------------------------------

// A valid call (float32, 2 x 3 x 4 x 5, channel-first) whose fields tests break; out starts as a
// sentinel so tests can check that a failing call wrote nothing.
struct Call {
    ssmb_dtype dtype = SSMB_FLOAT32;
    int64_t batch = 2, channels = 3, height = 4, width = 5;
    int32_t channel_first = 1;
    std::vector<float> image = std::vector<float>(2 * 3 * 4 * 5, 1.f);
    std::vector<float> sequences = std::vector<float>(4 * 2 * 3 * 4 * 5, 1.f);
    std::vector<float> out_image = std::vector<float>(2 * 3 * 4 * 5, 7.f);
    std::vector<float> out_sequences = std::vector<float>(4 * 2 * 3 * 4 * 5, 7.f);
    const void* in = nullptr;
    void* out = nullptr;
};

struct BadCall {
    const char* name;
    bool merge;
    void (*spoil)(Call&);
    ssmb_status status;
    const char* message_part;
};

void PrintTo(const BadCall& c, std::ostream* os) { *os << c.name; }

class CrossScanBadArguments : public ::testing::TestWithParam<BadCall> {};

TEST_P(CrossScanBadArguments, FailWithANamedArgumentAndWriteNothing) {
    const BadCall& bad = GetParam();
    Call call;
    call.in = bad.merge ? static_cast<const void*>(call.sequences.data()) : call.image.data();
    call.out = bad.merge ? static_cast<void*>(call.out_image.data()) : call.out_sequences.data();
    bad.spoil(call);
    const ssmb_status status =
        bad.merge ? ssmb_cross_merge(call.dtype, call.batch, call.channels, call.height, call.width,
                                     call.channel_first, call.in, call.out)
                  : ssmb_cross_scan(call.dtype, call.batch, call.channels, call.height, call.width,
                                    call.channel_first, call.in, call.out);
    EXPECT_EQ(status, bad.status);
    const std::string message = ssmb_last_error();
    EXPECT_NE(message.find(bad.message_part), std::string::npos) << message;
    for (float v : call.out_image) ASSERT_EQ(v, 7.f);
    for (float v : call.out_sequences) ASSERT_EQ(v, 7.f);
}

const BadCall kBadCalls[] = {
    {"scan_batch_0", false, [](Call& c) { c.batch = 0; }, SSMB_ERROR_INVALID_ARGUMENT, "batch: expected a size >= 1, got 0"},
    {"scan_channels_negative", false, [](Call& c) { c.channels = -3; }, SSMB_ERROR_INVALID_ARGUMENT, "channels: expected a size >= 1, got -3"},
    {"scan_height_0", false, [](Call& c) { c.height = 0; }, SSMB_ERROR_INVALID_ARGUMENT, "height: expected"},
    {"merge_width_0", true, [](Call& c) { c.width = 0; }, SSMB_ERROR_INVALID_ARGUMENT, "width: expected"},
    {"scan_x_null", false, [](Call& c) { c.in = nullptr; }, SSMB_ERROR_INVALID_ARGUMENT, "x: expected a data pointer"},
    {"scan_ys_null", false, [](Call& c) { c.out = nullptr; }, SSMB_ERROR_INVALID_ARGUMENT, "ys: expected a data pointer"},
    {"merge_ys_null", true, [](Call& c) { c.in = nullptr; }, SSMB_ERROR_INVALID_ARGUMENT, "ys: expected a data pointer"},
    {"merge_y_null", true, [](Call& c) { c.out = nullptr; }, SSMB_ERROR_INVALID_ARGUMENT, "y: expected a data pointer"},
    {"scan_float16", false, [](Call& c) { c.dtype = SSMB_FLOAT16; }, SSMB_ERROR_UNSUPPORTED, "dtype: the CPU kernels support float32 and float64, got float16"},
    {"merge_bfloat16", true, [](Call& c) { c.dtype = SSMB_BFLOAT16; }, SSMB_ERROR_UNSUPPORTED, "got bfloat16"},
    {"scan_unknown_dtype", false, [](Call& c) { c.dtype = static_cast<ssmb_dtype>(42); }, SSMB_ERROR_INVALID_ARGUMENT, "dtype: expected a ssmb_dtype value, got 42"},
    {"scan_output_overlaps_input", false, [](Call& c) { c.out = c.image.data() + 1; }, SSMB_ERROR_INVALID_ARGUMENT, "ys: output memory overlaps input x"},
    {"merge_output_overlaps_input", true, [](Call& c) { c.out = c.sequences.data() + 8; }, SSMB_ERROR_INVALID_ARGUMENT, "y: output memory overlaps input ys"},
    {"scan_size_overflows", false, [](Call& c) { c.height = int64_t(1) << 40; c.width = int64_t(1) << 30; }, SSMB_ERROR_INVALID_ARGUMENT, "too large"},
};

INSTANTIATE_TEST_SUITE_P(Calls, CrossScanBadArguments, ::testing::ValuesIn(kBadCalls),
                         [](const ::testing::TestParamInfo<BadCall>& info) { return std::string(info.param.name); });

TEST(CrossScan, ASuccessfulCallClearsTheLastError) {
    Call call;
    ASSERT_NE(ssmb_cross_scan(call.dtype, 0, 1, 1, 1, 1, call.image.data(), call.out_sequences.data()), SSMB_OK);
    ASSERT_EQ(ssmb_cross_scan(call.dtype, 1, 1, 1, 1, 1, call.image.data(), call.out_sequences.data()), SSMB_OK);
    EXPECT_STREQ(ssmb_last_error(), "");
}

}  // namespace
