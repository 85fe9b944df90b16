// Deterministic reduction of float partial sums on CUDA: out[o, j] = sum over p = 0..count-1, in
// that order, of partials[o, p, j]; partials is (outer, count, inner) and out (outer, inner), cast
// to the output type at the end. Used instead of atomics so gradients are reproducible.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>

namespace ssmb::cuda {

template <typename Out>
void sum_partials(const float* partials, int64_t outer, int64_t count, int64_t inner, Out* out, cudaStream_t stream);

}  // namespace ssmb::cuda
