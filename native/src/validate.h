// Argument checks for the C ABI. Each throws ssmb::Error with a message that names the argument,
// what was expected and what was given; api.cpp turns that into a status at the boundary.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "error.h"

namespace ssmb {

std::string dtype_name(ssmb_dtype dtype);
int64_t dtype_size(ssmb_dtype dtype);  // bytes per element; throws for an unknown enum value

// Runs fn(T{}) with T = double for SSMB_FLOAT64 and float otherwise: the element type of a dtype that
// was already checked to be float32 or float64.
template <class Fn>
void dispatch_float_or_double(ssmb_dtype dtype, Fn&& fn) {
    if (dtype == SSMB_FLOAT64)
        fn(double{});
    else
        fn(float{});
}

void require(bool condition, const std::string& message);

// The CPU kernels compute in float32 or float64 (SSMB_ERROR_UNSUPPORTED otherwise).
void require_cpu_float(ssmb_dtype dtype);

// The CPU scan kernels compute in one float type for inputs and weights alike: dtype as in
// require_cpu_float, and weight_dtype equal to it.
void require_cpu_dtypes(ssmb_dtype dtype, ssmb_dtype weight_dtype);

// size >= 1 (no empty dimensions).
void require_positive(const char* name, int64_t value);

// Product of the sizes in bytes, checked against int64 overflow.
int64_t checked_bytes(const char* name, const std::vector<int64_t>& shape, int64_t elem_size);

// Shape rendered as "(2, 3, 4)".
std::string shape_string(const std::vector<int64_t>& shape);

// A buffer the call reads or writes: name, start, byte size; used for null and overlap checks.
struct Buffer {
    const char* name;
    const void* data;
    int64_t bytes;
};

void require_non_null(const Buffer& buffer);

// An optional gradient buffer is given exactly when its input is.
void require_paired(const char* grad_name, const void* grad, const char* input_name, const void* input);

// An output must not overlap any input or any other output, or the call could corrupt data.
void require_no_overlap(const std::vector<Buffer>& inputs, const std::vector<Buffer>& outputs);

}  // namespace ssmb
