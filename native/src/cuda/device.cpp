#include "cuda/device.h"

#include <cuda_runtime.h>

#include <string>

#include "cuda/cuda_check.h"

namespace ssmb::cuda {

int device_count() {
    int count = 0;
    // The runtime is linked statically and finds the driver at run time: without one this reports
    // cudaErrorInsufficientDriver or cudaErrorNoDevice instead of failing to load.
    if (cudaGetDeviceCount(&count) != cudaSuccess) {
        cudaGetLastError();
        return 0;
    }
    return count;
}

int device_of(const std::vector<Buffer>& buffers) {
    if (device_count() == 0)
        throw Error(SSMB_ERROR_UNSUPPORTED, "no CUDA device is available (ssmb_cuda_device_count() is 0)");
    int device = -1;
    const char* first = nullptr;
    for (const Buffer& buffer : buffers) {
        if (!buffer.data) continue;
        cudaPointerAttributes attributes{};
        const cudaError_t result = cudaPointerGetAttributes(&attributes, buffer.data);
        if (result != cudaSuccess) {
            cudaGetLastError();
            throw Error(SSMB_ERROR_INVALID_ARGUMENT, std::string(buffer.name) +
                                                         ": expected CUDA device memory, got a pointer CUDA does "
                                                         "not know (" + cudaGetErrorName(result) + ")");
        }
        if (attributes.type != cudaMemoryTypeDevice && attributes.type != cudaMemoryTypeManaged)
            throw Error(SSMB_ERROR_INVALID_ARGUMENT,
                        std::string(buffer.name) + ": expected CUDA device memory, got " +
                            (attributes.type == cudaMemoryTypeHost ? "pinned host memory" : "host memory"));
        if (device < 0) {
            device = attributes.device;
            first = buffer.name;
        } else if (attributes.device != device) {
            throw Error(SSMB_ERROR_INVALID_ARGUMENT, std::string(buffer.name) + ": expected memory on CUDA device " +
                                                         std::to_string(device) + " (as " + first + "), got device " +
                                                         std::to_string(attributes.device));
        }
    }
    return device;
}

}  // namespace ssmb::cuda
