// Size arithmetic that cannot overflow silently. Each array a call reads or writes is checked on its
// own (validate.h), but a workspace adds several of them up, and tiles times groups can exceed the
// channel count: for huge shapes the sum overflows int64 even when every argument fits (found by
// native/fuzz). These throw the error the C ABI reports instead of wrapping around.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <string>

#include "error.h"

namespace ssmb {

// Sizes are non-negative here (validated shapes and counts derived from them).
[[noreturn]] inline void size_overflow(const char* what) {
    throw Error(SSMB_ERROR_INVALID_ARGUMENT, std::string(what) + ": size for these shapes overflows int64");
}

inline int64_t size_product(std::initializer_list<int64_t> factors, const char* what) {
    int64_t product = 1;
    for (int64_t f : factors) {
        if (f != 0 && product > std::numeric_limits<int64_t>::max() / f) size_overflow(what);
        product *= f;
    }
    return product;
}

inline int64_t size_sum(int64_t a, int64_t b, const char* what) {
    if (a > std::numeric_limits<int64_t>::max() - b) size_overflow(what);
    return a + b;
}

// Lays a workspace out part after part: appends a part of `size` elements to the `total` so far,
// its length rounded up to a multiple of `align` elements (so with every part rounded, every offset
// is a multiple of align), and returns the part's offset.
inline int64_t take_part(int64_t& total, int64_t size, int64_t align = 1) {
    const int64_t offset = total;
    const int64_t rounded = size_sum(size, align - 1, "workspace") / align * align;
    total = size_sum(total, rounded, "workspace");
    return offset;
}

}  // namespace ssmb
