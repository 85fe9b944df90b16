// vec_math_checks.h on AArch64 Advanced SIMD.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "cpu/isa.h"

#if defined(SSMB_CPU_ARM64)

#include "cpu/vec_neon.h"
#include "cpu/vec_math.h"
#include "vec_math_checks.h"

namespace ssmb_test {

void check_vec_math_neon() {
    check_vec_math<ssmb::cpu::neon::F32>();
    check_vec_math<ssmb::cpu::neon::F64>();
    check_transposes<ssmb::cpu::neon::F32>();
    check_transposes<ssmb::cpu::neon::F64>();
    check_state_folds<ssmb::cpu::neon::F32>();
    check_state_folds<ssmb::cpu::neon::F64>();
}

}  // namespace ssmb_test

#else

namespace ssmb_test {

void check_vec_math_neon() {}  // never called: not an AArch64 build

}  // namespace ssmb_test

#endif
