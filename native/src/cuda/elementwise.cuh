// Launch shape of the one-thread-per-element kernels (cross scan, patch merge): a grid-stride loop
// over int64 indices, so any size fits in a bounded grid; and dtype dispatch to a typed launcher.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "ssmbridge.h"

namespace ssmb::cuda {

constexpr int kElementwiseThreads = 256;

inline unsigned elementwise_blocks(int64_t elements) {
    const int64_t blocks = (elements + kElementwiseThreads - 1) / kElementwiseThreads;
    constexpr int64_t kMaxBlocks = int64_t(1) << 20;  // the grid-stride loop covers the rest
    return static_cast<unsigned>(blocks < kMaxBlocks ? blocks : kMaxBlocks);
}

#define SSMB_ELEMENTS(e, total) \
    for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < (total); e += int64_t(gridDim.x) * blockDim.x)

// Runs fn(T{}) with T the element type of a validated CUDA dtype.
template <class Fn>
void dispatch_cuda_dtype(ssmb_dtype dtype, Fn&& fn) {
    switch (dtype) {
        case SSMB_FLOAT16: fn(__half{}); break;
        case SSMB_BFLOAT16: fn(__nv_bfloat16{}); break;
        default: fn(float{}); break;
    }
}

}  // namespace ssmb::cuda
