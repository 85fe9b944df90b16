// Decodes a libFuzzer input into the arguments of a C ABI call: sizes, flags, dtypes and the
// values that fill the buffers. The encodings favour what reaches the kernels (small valid sizes,
// float32/float64) but keep every edge reachable: 0, negative sizes, sizes whose products overflow
// int64, unknown dtype enums, flags other than 0 and 1, NaN and infinities in the data.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>

#include "ssmbridge/ssmbridge.h"

namespace fuzz {

class FuzzInput {
public:
    FuzzInput(const uint8_t* data, size_t size) : data_(data), size_(size) {}

    // Past the end of the input every byte reads as 0, so a short input is still a whole call.
    uint8_t byte() { return pos_ < size_ ? data_[pos_++] : 0; }

    int64_t raw_int64() {
        uint64_t v = 0;
        for (int i = 0; i < 8; ++i) v = (v << 8) | byte();
        int64_t out;
        std::memcpy(&out, &v, sizeof out);
        return out;
    }

    // A dimension: usually 1..8, sometimes up to 264 (several 64-step scan chunks), sometimes an edge
    // value (zero, negative, or large enough that a product of a few overflows int64), sometimes any int64.
    int64_t size() {
        static constexpr int64_t kEdges[] = {
            0, -1, std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(),
            int64_t(1) << 31, (int64_t(1) << 32) + 1, int64_t(1) << 62, int64_t(3037000500) /* ~sqrt(2^63) */,
            int64_t(1) << 40, -(int64_t(1) << 40)};
        const uint8_t b = byte();
        if (b < 160) return 1 + b % 8;
        if (b < 200) return 9 + byte();
        if (b < 240) return kEdges[b % (sizeof kEdges / sizeof kEdges[0])];
        return raw_int64();
    }

    // A boolean flag of the ABI (int32): usually 0 or 1; any other value must read as "true".
    int32_t flag() {
        const uint8_t b = byte();
        if (b < 240) return b & 1;
        static constexpr int32_t kOthers[] = {2, -1, std::numeric_limits<int32_t>::min(), 0x7fffffff};
        return kOthers[b % 4];
    }

    // A dtype enum: float32 or float64 mostly, sometimes a 16-bit type (GPU only) or no valid enum at all.
    ssmb_dtype dtype() {
        const uint8_t b = byte();
        if (b < 150) return SSMB_FLOAT32;
        if (b < 230) return SSMB_FLOAT64;
        static constexpr int32_t kOthers[] = {SSMB_FLOAT16, SSMB_BFLOAT16, 4, -1, 0x7fffffff, 42};
        return static_cast<ssmb_dtype>(kOthers[b % 6]);
    }

    // The weight dtype of a call whose data dtype is given: usually the same.
    ssmb_dtype weight_dtype(ssmb_dtype dtype) { return byte() < 220 ? dtype : this->dtype(); }

    // Seed for the buffers' values.
    uint64_t seed() { return static_cast<uint64_t>(raw_int64()); }

private:
    const uint8_t* data_;
    size_t size_;
    size_t pos_ = 0;
};

// How a call is deliberately broken beyond its sizes (most calls are not).
enum class Sabotage { None, NullInput, NullOutput, OverlappingOutput, ShortWorkspace, UnpairedGradient };

inline Sabotage sabotage(FuzzInput& in) {
    const uint8_t b = in.byte();
    if (b < 200) return Sabotage::None;
    return static_cast<Sabotage>(1 + b % 5);
}

}  // namespace fuzz
