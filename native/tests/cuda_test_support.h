// Shared by the CUDA tests: the test framework (GoogleTest, or mini_test.h where GoogleTest is
// missing), device buffers that convert from and to float on the way, rounding of host data to a
// dtype (so the CPU oracle sees exactly the values the GPU reads), and a tolerance check.
#pragma once

#ifdef SSMB_MINI_TEST
#include "mini_test.h"
#else
#include <gtest/gtest.h>
#endif

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "ssmbridge/ssmbridge.h"

namespace ssmb_cuda_test {

inline bool has_device() {
    int32_t count = 0;
    return ssmb_cuda_device_count(&count) == SSMB_OK && count > 0;
}

inline const char* dtype_label(ssmb_dtype dtype) {
    return dtype == SSMB_FLOAT16 ? "float16" : dtype == SSMB_BFLOAT16 ? "bfloat16" : "float32";
}

inline size_t elem_size(ssmb_dtype dtype) { return dtype == SSMB_FLOAT32 ? 4 : 2; }

inline uint16_t to_bits16(float x, ssmb_dtype dtype) {
    uint16_t bits;
    if (dtype == SSMB_FLOAT16) {
        const __half h = __float2half_rn(x);
        std::memcpy(&bits, &h, 2);
    } else {
        const __nv_bfloat16 h = __float2bfloat16_rn(x);
        std::memcpy(&bits, &h, 2);
    }
    return bits;
}

inline float from_bits16(uint16_t bits, ssmb_dtype dtype) {
    if (dtype == SSMB_FLOAT16) {
        __half h;
        std::memcpy(&h, &bits, 2);
        return __half2float(h);
    }
    __nv_bfloat16 h;
    std::memcpy(&h, &bits, 2);
    return __bfloat162float(h);
}

// Values as the dtype stores them.
inline void round_to(std::vector<float>& v, ssmb_dtype dtype) {
    if (dtype == SSMB_FLOAT32) return;
    for (float& x : v) x = from_bits16(to_bits16(x, dtype), dtype);
}

// A device array of `count` elements of `dtype`; empty (null) when count is 0.
class DeviceArray {
public:
    DeviceArray() = default;
    DeviceArray(size_t count, ssmb_dtype dtype) : count_(count), dtype_(dtype) {
        if (count && cudaMalloc(&data_, count * elem_size(dtype)) != cudaSuccess) data_ = nullptr;
        if (data_) cudaMemset(data_, 0xff, count * elem_size(dtype));  // NaN-ish garbage: outputs must be written
    }
    DeviceArray(const std::vector<float>& values, ssmb_dtype dtype) : DeviceArray(values.size(), dtype) {
        upload(values);
    }
    ~DeviceArray() {
        if (data_) cudaFree(data_);
    }
    DeviceArray(DeviceArray&& o) noexcept { *this = std::move(o); }
    DeviceArray& operator=(DeviceArray&& o) noexcept {
        std::swap(data_, o.data_);
        std::swap(count_, o.count_);
        std::swap(dtype_, o.dtype_);
        return *this;
    }

    void upload(const std::vector<float>& values) {
        if (!data_) return;
        if (dtype_ == SSMB_FLOAT32) {
            cudaMemcpy(data_, values.data(), values.size() * 4, cudaMemcpyHostToDevice);
            return;
        }
        std::vector<uint16_t> bits(values.size());
        for (size_t i = 0; i < values.size(); ++i) bits[i] = to_bits16(values[i], dtype_);
        cudaMemcpy(data_, bits.data(), bits.size() * 2, cudaMemcpyHostToDevice);
    }

    std::vector<float> download() const {
        std::vector<float> values(count_);
        if (!data_) return values;
        if (dtype_ == SSMB_FLOAT32) {
            cudaMemcpy(values.data(), data_, count_ * 4, cudaMemcpyDeviceToHost);
        } else {
            std::vector<uint16_t> bits(count_);
            cudaMemcpy(bits.data(), data_, count_ * 2, cudaMemcpyDeviceToHost);
            for (size_t i = 0; i < count_; ++i) values[i] = from_bits16(bits[i], dtype_);
        }
        return values;
    }

    void* get() const { return data_; }
    size_t bytes() const { return count_ * elem_size(dtype_); }

private:
    void* data_ = nullptr;
    size_t count_ = 0;
    ssmb_dtype dtype_ = SSMB_FLOAT32;
};

// Largest error |got - want| / (|want| + rms(want)) and where it is: relative for large values,
// relative to the tensor's typical size for values near zero.
struct Mismatch {
    double error = 0;
    size_t index = 0;
    float got = 0, want = 0;
};

inline Mismatch compare(const std::vector<float>& got, const std::vector<float>& want) {
    Mismatch m;
    if (got.size() != want.size()) {
        m.error = INFINITY;
        return m;
    }
    double sum_sq = 0;
    for (float w : want) sum_sq += double(w) * w;
    const double rms = want.empty() ? 0 : std::sqrt(sum_sq / want.size());
    const double floor = rms > 0 ? rms : 1e-30;
    for (size_t i = 0; i < got.size(); ++i) {
        const double e = std::fabs(double(got[i]) - want[i]) / (std::fabs(double(want[i])) + floor);
        if (!(e <= m.error)) {  // NaN counts as the worst
            m = {std::isnan(e) ? INFINITY : e, i, got[i], want[i]};
            if (std::isnan(e)) break;
        }
    }
    return m;
}

inline std::string describe(const char* name, const Mismatch& m) {
    return std::string(name) + ": error " + std::to_string(m.error) + " at " + std::to_string(m.index) + " (got " +
           std::to_string(m.got) + ", want " + std::to_string(m.want) + ")";
}

inline uint64_t fresh_seed() {
    if (const char* env = std::getenv("SSMB_TEST_SEED")) return std::strtoull(env, nullptr, 10);
    std::random_device device;
    return (static_cast<uint64_t>(device()) << 32) ^ device();
}

}  // namespace ssmb_cuda_test
