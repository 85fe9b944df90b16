// vec_math_checks.h on the scalar path.
#include <gtest/gtest.h>

#include "cpu/vec_scalar.h"
#include "cpu/vec_math.h"
#include "vec_math_checks.h"

namespace ssmb_test {

void check_vec_math_scalar() {
    check_vec_math<ssmb::cpu::scalar::Vec<float>>();
    check_vec_math<ssmb::cpu::scalar::Vec<double>>();
    check_transposes<ssmb::cpu::scalar::Vec<float>>();
    check_transposes<ssmb::cpu::scalar::Vec<double>>();
    check_state_folds<ssmb::cpu::scalar::Vec<float>>();
    check_state_folds<ssmb::cpu::scalar::Vec<double>>();
}

}  // namespace ssmb_test
