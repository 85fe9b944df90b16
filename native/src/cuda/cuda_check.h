// Host-side helpers of the CUDA entry points: CUDA errors become ssmb::Error (and so a status and a
// message at the ABI boundary), and the device of a call is made current for its duration.
#pragma once

#include <cuda_runtime.h>

#include <string>

#include "error.h"

namespace ssmb::cuda {

// Throws SSMB_ERROR_INTERNAL naming what failed when result is not cudaSuccess.
inline void check(cudaError_t result, const char* what) {
    if (result != cudaSuccess) {
        cudaGetLastError();  // clear the sticky-free error so later calls start clean
        throw Error(SSMB_ERROR_INTERNAL, std::string(what) + " failed: " + cudaGetErrorName(result) + " (" +
                                             cudaGetErrorString(result) + ")");
    }
}

// After every kernel launch: a bad configuration or a broken context surfaces here, not later.
inline void check_launch(const char* kernel) { check(cudaGetLastError(), kernel); }

// Makes `device` current and restores the caller's device when the call ends.
class DeviceScope {
public:
    explicit DeviceScope(int device) {
        check(cudaGetDevice(&previous_), "cudaGetDevice");
        if (device != previous_) check(cudaSetDevice(device), "cudaSetDevice");
    }
    ~DeviceScope() {
        int current = previous_;
        if (cudaGetDevice(&current) == cudaSuccess && current != previous_) cudaSetDevice(previous_);
    }
    DeviceScope(const DeviceScope&) = delete;
    DeviceScope& operator=(const DeviceScope&) = delete;

private:
    int previous_ = 0;
};

}  // namespace ssmb::cuda
