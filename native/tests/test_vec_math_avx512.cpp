// vec_math_checks.h compiled for avx512 (run only where the CPU has it).
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

SSMB_TARGET_BEGIN("avx512f,avx512dq,avx512bw,avx512vl,avx2,fma")
#include "cpu/vec_avx512.h"
#include "cpu/vec_math.h"
#include "vec_math_checks.h"

namespace ssmb_test {

void check_vec_math_avx512() {
    check_vec_math<ssmb::cpu::avx512::F32>();
    check_vec_math<ssmb::cpu::avx512::F64>();
    check_transposes<ssmb::cpu::avx512::F32>();
    check_transposes<ssmb::cpu::avx512::F64>();
    check_state_folds<ssmb::cpu::avx512::F32>();
    check_state_folds<ssmb::cpu::avx512::F64>();
    check_lane_shifts<ssmb::cpu::avx512::F32>();
    check_lane_shifts<ssmb::cpu::avx512::F64>();
}

}  // namespace ssmb_test
SSMB_TARGET_END

#else

namespace ssmb_test {

void check_vec_math_avx512() {}  // never called: not an x86-64 build

}  // namespace ssmb_test

#endif
