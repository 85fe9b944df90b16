// The vector math and transposes of every CPU code path this machine can run (vec_math_checks.h).
#include <gtest/gtest.h>

#include "cpu/isa.h"

namespace ssmb_test {

// In test_vec_math_<isa>.cpp, each compiled for its ISA.
void check_vec_math_scalar();
void check_vec_math_avx2();
void check_vec_math_avx512();
void check_vec_math_neon();

}  // namespace ssmb_test

namespace {

using ssmb::cpu::Isa;

void run_checks(Isa isa) {
    switch (isa) {
        case Isa::scalar:
            return ssmb_test::check_vec_math_scalar();
        case Isa::avx2:
            return ssmb_test::check_vec_math_avx2();
        case Isa::avx512:
            return ssmb_test::check_vec_math_avx512();
        case Isa::neon:
            return ssmb_test::check_vec_math_neon();
    }
}

bool supported(Isa isa) {
    for (Isa s : ssmb::cpu::supported_isas())
        if (s == isa) return true;
    return false;
}

void check(Isa isa) {
    if (!supported(isa)) GTEST_SKIP() << ssmb::cpu::isa_name(isa) << " is not available on this CPU";
    SCOPED_TRACE(ssmb::cpu::isa_name(isa));
    run_checks(isa);
}

TEST(VecMath, Scalar) { check(Isa::scalar); }
TEST(VecMath, Avx2) { check(Isa::avx2); }
TEST(VecMath, Avx512) { check(Isa::avx512); }
TEST(VecMath, Neon) { check(Isa::neon); }

}  // namespace
