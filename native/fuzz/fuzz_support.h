// What every fuzz target shares: buffers of exactly the size a shape needs (each its own heap block,
// so AddressSanitizer flags any access past it), an independent model of which sizes are valid, and
// the C ABI's contract, checked after every call:
//   - a rejected call returns a defined non-OK status with a non-empty message and writes nothing;
//   - an accepted call leaves an empty message;
//   - no call modifies its inputs.
// A broken contract aborts, so libFuzzer keeps the input as a crash.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <vector>

#include "fuzz_input.h"
#include "ssmbridge/ssmbridge.h"

#define FUZZ_REQUIRE(condition, what)                                                                      \
    do {                                                                                                   \
        if (!(condition)) {                                                                                \
            std::fprintf(stderr, "%s:%d: contract broken: %s (last error: \"%s\")\n", __FILE__, __LINE__, \
                         what, ssmb_last_error());                                                         \
            std::abort();                                                                                  \
        }                                                                                                  \
    } while (0)

namespace fuzz {

// Buffers of valid calls stay this small (elements), so each run takes well under a millisecond.
constexpr int64_t kMaxElements = int64_t(1) << 14;
// Bytes of each buffer handed to a call that must be rejected: small, whatever the sizes claim.
constexpr int64_t kDecoyBytes = 64;

// Byte count of an array of these sizes, or -1 when a size is < 1 or the count overflows int64.
inline int64_t bytes_of(std::initializer_list<int64_t> sizes, int64_t elem) {
    int64_t bytes = elem;
    for (int64_t s : sizes)
        if (s < 1 || __builtin_mul_overflow(bytes, s, &bytes)) return -1;
    return bytes;
}

inline bool cpu_dtype(ssmb_dtype d) { return d == SSMB_FLOAT32 || d == SSMB_FLOAT64; }
inline int64_t elem_size(ssmb_dtype d) { return d == SSMB_FLOAT64 ? 8 : d == SSMB_FLOAT32 ? 4 : 2; }

inline int64_t scan_chunks(int64_t L) {
    const int64_t chunk = ssmb_selective_scan_chunk_size();
    return L / chunk + (L % chunk != 0);
}

// Values for input buffers: uniform in [-1, 1], or with specials (NaN, infinities, zeros, huge and tiny
// magnitudes, exp() overflow thresholds) sprinkled in.
class Values {
public:
    Values(uint64_t seed, bool specials) : state_(seed | 1), specials_(specials) {}

    double next() {
        state_ ^= state_ << 13;
        state_ ^= state_ >> 7;
        state_ ^= state_ << 17;
        const double unit = static_cast<double>(state_ >> 11) * 0x1.0p-53;
        if (specials_ && (state_ & 7) == 0) {
            static const double kSpecials[] = {NAN, INFINITY, -INFINITY, 0.0, -0.0, 1e30, -1e30, 1e-30,
                                               88.7, -88.7, 709.8, 1e4, -1e4, 4e-45};
            return kSpecials[(state_ >> 3) % (sizeof kSpecials / sizeof kSpecials[0])];
        }
        return 2 * unit - 1;
    }

private:
    uint64_t state_;
    bool specials_;
};

// One argument's memory, exactly `bytes` long. Inputs are filled with values and snapshotted; outputs
// are filled with a sentinel so that a rejected call's writes show.
class Buffer {
public:
    static constexpr unsigned char kSentinel = 0xA5;

    Buffer() = default;
    static Buffer input(int64_t bytes, ssmb_dtype dtype, Values& values) {
        Buffer b(bytes);
        const int64_t n = bytes / elem_size(dtype);
        for (int64_t i = 0; i < n; ++i) {
            if (dtype == SSMB_FLOAT64) {
                const double v = values.next();
                std::memcpy(b.data_ + 8 * i, &v, 8);
            } else if (dtype == SSMB_FLOAT32) {
                const float v = static_cast<float>(values.next());
                std::memcpy(b.data_ + 4 * i, &v, 4);
            } else {
                // 16-bit types only reach the dtype checks: any bit pattern will do.
                const double v = values.next();
                std::memcpy(b.data_ + 2 * i, reinterpret_cast<const unsigned char*>(&v) + 6, 2);
            }
        }
        b.snapshot_.assign(b.data_, b.data_ + bytes);
        return b;
    }
    static Buffer output(int64_t bytes) {
        Buffer b(bytes);
        std::memset(b.data_, kSentinel, static_cast<size_t>(bytes));
        b.snapshot_.assign(b.data_, b.data_ + bytes);
        return b;
    }

    Buffer(Buffer&& other) noexcept { *this = static_cast<Buffer&&>(other); }
    Buffer& operator=(Buffer&& other) noexcept {
        std::free(data_);
        data_ = other.data_, bytes_ = other.bytes_, snapshot_ = static_cast<std::vector<unsigned char>&&>(other.snapshot_);
        other.data_ = nullptr, other.bytes_ = 0;
        return *this;
    }
    Buffer(const Buffer&) = delete;
    Buffer& operator=(const Buffer&) = delete;
    ~Buffer() { std::free(data_); }

    void* data() { return data_; }
    int64_t bytes() const { return bytes_; }
    bool unchanged() const { return bytes_ == 0 || std::memcmp(data_, snapshot_.data(), bytes_) == 0; }

private:
    explicit Buffer(int64_t bytes)
        : data_(static_cast<unsigned char*>(std::malloc(static_cast<size_t>(bytes)))), bytes_(bytes) {
        FUZZ_REQUIRE(data_ != nullptr, "fuzz harness out of memory");
    }

    unsigned char* data_ = nullptr;
    int64_t bytes_ = 0;
    std::vector<unsigned char> snapshot_;
};

// The buffers of one call; `valid` says whether the sizes, dtypes and pointers make a valid call
// according to the target's own model of the header's rules.
class Call {
public:
    // A valid call gets buffers of the exact size; an invalid one gets decoys (the native side must
    // reject it before touching them). Returns null for an absent optional argument.
    void* input(bool present, int64_t bytes, ssmb_dtype dtype, Values& values) {
        if (!present) return nullptr;
        inputs_.push_back(Buffer::input(exact_ ? bytes : kDecoyBytes, dtype, values));
        return inputs_.back().data();
    }
    void* output(bool present, int64_t bytes) {
        if (!present) return nullptr;
        outputs_.push_back(Buffer::output(exact_ ? bytes : kDecoyBytes));
        return outputs_.back().data();
    }

    explicit Call(bool exact) : exact_(exact) {
        inputs_.reserve(16);
        outputs_.reserve(16);
    }

    // The status must be OK exactly when the call is valid; either way the inputs are untouched.
    void check(ssmb_status status, bool valid) {
        for (const Buffer& b : inputs_) FUZZ_REQUIRE(b.unchanged(), "an input buffer was modified");
        if (valid) {
            FUZZ_REQUIRE(status == SSMB_OK, "a valid call was rejected");
            FUZZ_REQUIRE(ssmb_last_error()[0] == '\0', "an accepted call left an error message");
        } else {
            check_rejected(status);
            for (const Buffer& b : outputs_) FUZZ_REQUIRE(b.unchanged(), "a rejected call wrote an output");
        }
    }

    static void check_rejected(ssmb_status status) {
        FUZZ_REQUIRE(status == SSMB_ERROR_INVALID_ARGUMENT || status == SSMB_ERROR_UNSUPPORTED,
                     "an invalid call did not return INVALID_ARGUMENT or UNSUPPORTED");
        FUZZ_REQUIRE(ssmb_last_error()[0] != '\0', "a rejected call left no error message");
    }

private:
    bool exact_;
    std::vector<Buffer> inputs_, outputs_;
};

// A workspace size query: OK with a non-negative size, or a rejection with a message.
inline void check_workspace_query(ssmb_status status, int64_t bytes, bool valid, bool small) {
    if (status == SSMB_OK) {
        FUZZ_REQUIRE(valid, "an invalid shape got a workspace size");
        FUZZ_REQUIRE(bytes >= 0, "negative workspace size");
        return;
    }
    Call::check_rejected(status);
    // Only sizes too large to allocate anyway may be refused a workspace size.
    FUZZ_REQUIRE(!(valid && small), "a small valid shape was refused a workspace size");
}

}  // namespace fuzz
