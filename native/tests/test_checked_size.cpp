// The size arithmetic behind every workspace layout (checked_size.h): products and sums that would
// overflow int64 throw the error the C ABI reports, and take_part() lays parts out back to back.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

#include "checked_size.h"

namespace {

using ssmb::Error;
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

// Runs f, which must throw ssmb::Error with SSMB_ERROR_INVALID_ARGUMENT; returns its message.
template <class F>
std::string error_of(F&& f) {
    try {
        f();
    } catch (const Error& e) {
        EXPECT_EQ(e.status(), SSMB_ERROR_INVALID_ARGUMENT);
        return e.what();
    }
    ADD_FAILURE() << "no ssmb::Error thrown";
    return {};
}

TEST(CheckedSize, ProductAndSumAreExactUpToTheLimit) {
    EXPECT_EQ(ssmb::size_product({3, 5, 7}, "x"), 105);
    EXPECT_EQ(ssmb::size_product({int64_t(1) << 31, int64_t(1) << 31}, "x"), int64_t(1) << 62);
    EXPECT_EQ(ssmb::size_product({kMax, 1}, "x"), kMax);
    EXPECT_EQ(ssmb::size_product({kMax, 0}, "x"), 0);
    EXPECT_EQ(ssmb::size_product({0, kMax, kMax}, "x"), 0);
    EXPECT_EQ(ssmb::size_sum(kMax - 5, 5, "x"), kMax);
}

TEST(CheckedSize, OverflowThrowsAndNamesWhat) {
    EXPECT_EQ(error_of([] { ssmb::size_product({int64_t(1) << 31, int64_t(1) << 31, 2}, "state"); }),
              "state: size for these shapes overflows int64");
    EXPECT_EQ(error_of([] { ssmb::size_sum(kMax - 4, 5, "u"); }), "u: size for these shapes overflows int64");
}

TEST(CheckedSize, TakePartLaysPartsOutBackToBack) {
    int64_t total = 0;
    EXPECT_EQ(ssmb::take_part(total, 10), 0);
    EXPECT_EQ(ssmb::take_part(total, 0), 10);  // an empty part takes no space
    EXPECT_EQ(ssmb::take_part(total, 7), 10);
    EXPECT_EQ(total, 17);
}

TEST(CheckedSize, TakePartRoundsEachPartToTheAlignment) {
    int64_t total = 0;
    EXPECT_EQ(ssmb::take_part(total, 1, 32), 0);
    EXPECT_EQ(ssmb::take_part(total, 32, 32), 32);
    EXPECT_EQ(ssmb::take_part(total, 33, 32), 64);
    EXPECT_EQ(ssmb::take_part(total, 0, 32), 128);
    EXPECT_EQ(total, 128);
}

TEST(CheckedSize, TakePartRejectsAWorkspaceThatOverflows) {
    int64_t total = 0;
    ssmb::take_part(total, kMax - 8);
    EXPECT_EQ(error_of([&] { ssmb::take_part(total, 9); }), "workspace: size for these shapes overflows int64");
    EXPECT_EQ(total, kMax - 8) << "a rejected part changed the total";
    int64_t aligned = 0;
    EXPECT_EQ(error_of([&] { ssmb::take_part(aligned, kMax - 2, 32); }),
              "workspace: size for these shapes overflows int64");
    EXPECT_EQ(aligned, 0);
}

}  // namespace
