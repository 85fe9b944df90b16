#include "validate.h"

#include <limits>
#include <sstream>

namespace ssmb {

std::string dtype_name(ssmb_dtype dtype) {
    switch (dtype) {
        case SSMB_FLOAT32: return "float32";
        case SSMB_FLOAT64: return "float64";
        case SSMB_FLOAT16: return "float16";
        case SSMB_BFLOAT16: return "bfloat16";
        default: break;
    }
    return "unknown dtype " + std::to_string(static_cast<int>(dtype));
}

int64_t dtype_size(ssmb_dtype dtype) {
    switch (dtype) {
        case SSMB_FLOAT32: return 4;
        case SSMB_FLOAT64: return 8;
        case SSMB_FLOAT16: return 2;
        case SSMB_BFLOAT16: return 2;
        default: break;
    }
    throw Error(SSMB_ERROR_INVALID_ARGUMENT,
                "dtype: expected a ssmb_dtype value, got " + std::to_string(static_cast<int>(dtype)));
}

void require(bool condition, const std::string& message) {
    if (!condition) throw Error(SSMB_ERROR_INVALID_ARGUMENT, message);
}

void require_cpu_float(ssmb_dtype dtype) {
    dtype_size(dtype);
    if (dtype != SSMB_FLOAT32 && dtype != SSMB_FLOAT64)
        throw Error(SSMB_ERROR_UNSUPPORTED,
                    "dtype: the CPU kernels support float32 and float64, got " + dtype_name(dtype));
}

void require_cpu_dtypes(ssmb_dtype dtype, ssmb_dtype weight_dtype) {
    dtype_size(dtype);
    dtype_size(weight_dtype);
    require_cpu_float(dtype);
    if (weight_dtype != dtype)
        throw Error(SSMB_ERROR_UNSUPPORTED, "weight_dtype: the CPU kernels expect weight_dtype equal to dtype (" +
                                                dtype_name(dtype) + "), got " + dtype_name(weight_dtype));
}

void require_positive(const char* name, int64_t value) {
    require(value >= 1, std::string(name) + ": expected a size >= 1, got " + std::to_string(value));
}

std::string shape_string(const std::vector<int64_t>& shape) {
    std::ostringstream s;
    s << '(';
    for (size_t i = 0; i < shape.size(); ++i) s << (i ? ", " : "") << shape[i];
    s << ')';
    return s.str();
}

int64_t checked_bytes(const char* name, const std::vector<int64_t>& shape, int64_t elem_size) {
    const int64_t limit = std::numeric_limits<int64_t>::max();
    int64_t bytes = elem_size;
    for (int64_t size : shape) {
        if (size != 0 && bytes > limit / size)
            throw Error(SSMB_ERROR_INVALID_ARGUMENT, std::string(name) + ": shape " + shape_string(shape) +
                                                         " is too large (byte count overflows int64)");
        bytes *= size;
    }
    return bytes;
}

void require_non_null(const Buffer& buffer) {
    require(buffer.data != nullptr, std::string(buffer.name) + ": expected a data pointer, got null");
}

void require_paired(const char* grad_name, const void* grad, const char* input_name, const void* input) {
    if (input && !grad)
        throw Error(SSMB_ERROR_INVALID_ARGUMENT, std::string(grad_name) + ": expected a buffer because " +
                                                     input_name + " is given, got null");
    if (!input && grad)
        throw Error(SSMB_ERROR_INVALID_ARGUMENT, std::string(grad_name) + ": expected null because " + input_name +
                                                     " is null, got a buffer");
}

namespace {
bool overlaps(const Buffer& a, const Buffer& b) {
    if (!a.data || !b.data || a.bytes == 0 || b.bytes == 0) return false;
    const auto a0 = reinterpret_cast<uintptr_t>(a.data), b0 = reinterpret_cast<uintptr_t>(b.data);
    return a0 < b0 + static_cast<uintptr_t>(b.bytes) && b0 < a0 + static_cast<uintptr_t>(a.bytes);
}
}  // namespace

void require_no_overlap(const std::vector<Buffer>& inputs, const std::vector<Buffer>& outputs) {
    for (size_t i = 0; i < outputs.size(); ++i) {
        for (const Buffer& in : inputs)
            require(!overlaps(outputs[i], in), std::string(outputs[i].name) + ": output memory overlaps input " +
                                                   in.name + "; outputs must be separate buffers");
        for (size_t j = i + 1; j < outputs.size(); ++j)
            require(!overlaps(outputs[i], outputs[j]), std::string(outputs[i].name) + ": output memory overlaps output " +
                                                           outputs[j].name);
    }
}

}  // namespace ssmb
