// vec_math_checks.h compiled for avx2 (run only where the CPU has it).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "cpu/isa.h"

#if defined(SSMB_CPU_X86_64)

#include <immintrin.h>

#include "cpu/simd_target.h"

SSMB_TARGET_BEGIN("avx2,fma")
#include "cpu/vec_avx2.h"
#include "cpu/vec_math.h"
#include "vec_math_checks.h"

namespace ssmb_test {

void check_vec_math_avx2() {
    check_vec_math<ssmb::cpu::avx2::F32>();
    check_vec_math<ssmb::cpu::avx2::F64>();
    check_transposes<ssmb::cpu::avx2::F32>();
    check_transposes<ssmb::cpu::avx2::F64>();
    check_state_folds<ssmb::cpu::avx2::F32>();
    check_state_folds<ssmb::cpu::avx2::F64>();
}

}  // namespace ssmb_test
SSMB_TARGET_END

#else

namespace ssmb_test {

void check_vec_math_avx2() {}  // never called: not an x86-64 build

}  // namespace ssmb_test

#endif
