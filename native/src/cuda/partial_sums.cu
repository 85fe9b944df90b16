#include "cuda/cuda_check.h"
#include "cuda/cuda_types.cuh"
#include "cuda/partial_sums.h"

namespace ssmb::cuda {

namespace {

// One thread per output element: reads of consecutive j are coalesced, the sum order is fixed.
template <typename Out>
__global__ void sum_partials_kernel(const float* partials, int64_t outer, int64_t count, int64_t inner, Out* out) {
    const int64_t total = outer * inner;
    for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < total; e += int64_t(gridDim.x) * blockDim.x) {
        const int64_t o = e / inner, j = e % inner;
        const float* part = partials + o * count * inner + j;
        float sum = 0.0f;
        for (int64_t p = 0; p < count; ++p) sum += part[p * inner];
        out[e] = from_float<Out>(sum);
    }
}

}  // namespace

template <typename Out>
void sum_partials(const float* partials, int64_t outer, int64_t count, int64_t inner, Out* out, cudaStream_t stream) {
    constexpr int kThreads = 256;
    const int64_t total = outer * inner;
    const int64_t blocks = (total + kThreads - 1) / kThreads;
    const unsigned grid = static_cast<unsigned>(blocks < 65535 * 16 ? blocks : 65535 * 16);
    sum_partials_kernel<Out><<<grid, kThreads, 0, stream>>>(partials, outer, count, inner, out);
    check_launch("sum_partials_kernel launch");
}

template void sum_partials<float>(const float*, int64_t, int64_t, int64_t, float*, cudaStream_t);
template void sum_partials<__half>(const float*, int64_t, int64_t, int64_t, __half*, cudaStream_t);
template void sum_partials<__nv_bfloat16>(const float*, int64_t, int64_t, int64_t, __nv_bfloat16*, cudaStream_t);

}  // namespace ssmb::cuda
