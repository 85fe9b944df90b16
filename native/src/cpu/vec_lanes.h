// A lane count as a type: the argument that selects a lane shift of the vector types (vec_scalar.h).
#pragma once

#include <type_traits>

namespace ssmb::cpu {

template <int s>
using Lanes = std::integral_constant<int, s>;

}  // namespace ssmb::cpu
