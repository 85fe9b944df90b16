// The C ABI's CUDA entry points (ssmbridge.h, CUDA section), in a build with CUDA: validation,
// device and stream, dispatch to cuda/. Every entry point runs its body inside guarded() (error.h).
// A build without CUDA compiles api_cuda_stub.cpp instead.
#include <cuda_runtime.h>

#include <string>
#include <vector>

#include "cuda/cuda_check.h"
#include "cuda/device.h"
#include "cuda/image_ops_cuda.h"
#include "cuda/selective_scan_cuda.h"
#include "error.h"
#include "image_args.h"
#include "scan_args.h"
#include "ssmbridge.h"
#include "validate.h"

namespace ssmb {

namespace {

// The CUDA kernels read float32, float16 or bfloat16 and compute in float32.
void require_cuda_dtype(ssmb_dtype dtype) {
    dtype_size(dtype);
    if (dtype != SSMB_FLOAT32 && dtype != SSMB_FLOAT16 && dtype != SSMB_BFLOAT16)
        throw Error(SSMB_ERROR_UNSUPPORTED,
                    "dtype: the CUDA kernels support float32, float16 and bfloat16, got " + dtype_name(dtype));
}

SelectiveScanParams cuda_scan_sizes(ssmb_dtype dtype, ssmb_dtype weight_dtype, int64_t batch, int64_t dim,
                                    int64_t L, int64_t N, int64_t groups, int32_t B_selective, int32_t C_selective) {
    require_cuda_dtype(dtype);
    dtype_size(weight_dtype);
    if (weight_dtype != SSMB_FLOAT32)
        throw Error(SSMB_ERROR_UNSUPPORTED,
                    "weight_dtype: the CUDA kernels expect float32, got " + dtype_name(weight_dtype));
    SelectiveScanParams p = scan_shape(batch, dim, L, N, groups, B_selective, C_selective);
    require(N <= cuda::kMaxStates, "N: expected at most " + std::to_string(cuda::kMaxStates) +
                                       " states on CUDA, got " + std::to_string(N));
    // One block per (batch, group, tile of channels): the grid's x size is at most 2^31 - 1.
    require(batch * dim <= (int64_t(1) << 31) - 1,
            "batch: batch * dim must stay below 2^31 on CUDA, got " + std::to_string(batch) + " * " + std::to_string(dim));
    return p;
}

std::vector<Buffer> all_buffers(const ScanCallBuffers& buffers) {
    std::vector<Buffer> all = buffers.inputs;
    all.insert(all.end(), buffers.outputs.begin(), buffers.outputs.end());
    return all;
}

ImageShape cuda_image_shape(ssmb_dtype dtype, int64_t batch, int64_t channels, int64_t height, int64_t width,
                            int32_t channel_first) {
    require_cuda_dtype(dtype);
    return image_sizes(batch, channels, height, width, channel_first);
}

// Checks one input and one output of an image op, then runs launch(stream) on their device.
template <class Launch>
void run_image_op(const Buffer& in, const Buffer& out, void* stream, Launch&& launch) {
    require_non_null(in);
    require_non_null(out);
    require_no_overlap({in}, {out});
    const cuda::DeviceScope scope(cuda::device_of({in, out}));
    launch(static_cast<cudaStream_t>(stream));
}

}  // namespace
}  // namespace ssmb

using namespace ssmb;

extern "C" {

SSMB_API ssmb_status ssmb_cuda_device_count(int32_t* count) {
    return guarded([&] {
        require(count != nullptr, "count: expected a pointer to receive the count, got null");
        *count = cuda::device_count();
    });
}

SSMB_API ssmb_status ssmb_selective_scan_fwd_cuda(ssmb_dtype dtype, ssmb_dtype weight_dtype, int64_t batch,
                                                  int64_t dim, int64_t L, int64_t N, int64_t groups,
                                                  int32_t B_selective, int32_t C_selective, const void* u,
                                                  const void* delta, const void* A, const void* B, const void* C,
                                                  const void* D, const void* z, const void* delta_bias,
                                                  int32_t delta_softplus, int32_t reverse, void* out,
                                                  void* chunk_states, void* last_state, void* stream) {
    return guarded([&] {
        SelectiveScanParams p =
            cuda_scan_sizes(dtype, weight_dtype, batch, dim, L, N, groups, B_selective, C_selective);
        const ScanCallBuffers buffers =
            forward_buffers(p, dtype_size(dtype), dtype_size(weight_dtype), u, delta, A, B, C, D, z, delta_bias,
                            delta_softplus, reverse, out, chunk_states, last_state);
        require_no_overlap(buffers.inputs, buffers.outputs);
        const cuda::DeviceScope scope(cuda::device_of(all_buffers(buffers)));
        cuda::selective_scan_fwd(p, dtype, static_cast<cudaStream_t>(stream));
    });
}

SSMB_API ssmb_status ssmb_selective_scan_bwd_workspace_size_cuda(ssmb_dtype dtype, ssmb_dtype weight_dtype,
                                                                 int64_t batch, int64_t dim, int64_t L, int64_t N,
                                                                 int64_t groups, int32_t B_selective,
                                                                 int32_t C_selective, int64_t* bytes) {
    return guarded([&] {
        require(bytes != nullptr, "bytes: expected a pointer to receive the size, got null");
        const SelectiveScanParams p =
            cuda_scan_sizes(dtype, weight_dtype, batch, dim, L, N, groups, B_selective, C_selective);
        // Overflow checks for the sizes the workspace is made of.
        checked_bytes("u", {p.batch, p.dim, p.L}, 4);
        checked_bytes("B", {p.batch, p.dim, p.N, p.L}, 4);
        *bytes = cuda::selective_scan_bwd_workspace_bytes(p);
    });
}

SSMB_API ssmb_status ssmb_selective_scan_bwd_cuda(
    ssmb_dtype dtype, ssmb_dtype weight_dtype, int64_t batch, int64_t dim, int64_t L, int64_t N, int64_t groups,
    int32_t B_selective, int32_t C_selective, const void* u, const void* delta, const void* A, const void* B,
    const void* C, const void* D, const void* z, const void* delta_bias, int32_t delta_softplus, int32_t reverse,
    const void* chunk_states, const void* dout, const void* dlast_state, void* du, void* ddelta, void* dA, void* dB,
    void* dC, void* dD, void* dz, void* ddelta_bias, void* workspace, int64_t workspace_bytes, void* stream) {
    return guarded([&] {
        SelectiveScanParams p =
            cuda_scan_sizes(dtype, weight_dtype, batch, dim, L, N, groups, B_selective, C_selective);
        checked_bytes("B", {p.batch, p.dim, p.N, p.L}, 4);
        const ScanCallBuffers buffers = backward_buffers(
            p, dtype_size(dtype), dtype_size(weight_dtype), u, delta, A, B, C, D, z, delta_bias, delta_softplus,
            reverse, chunk_states, dout, dlast_state, du, ddelta, dA, dB, dC, dD, dz, ddelta_bias, workspace,
            workspace_bytes, cuda::selective_scan_bwd_workspace_bytes(p),
            "ssmb_selective_scan_bwd_workspace_size_cuda");
        require_no_overlap(buffers.inputs, buffers.outputs);
        const cuda::DeviceScope scope(cuda::device_of(all_buffers(buffers)));
        cuda::selective_scan_bwd(p, dtype, static_cast<cudaStream_t>(stream));
    });
}

SSMB_API ssmb_status ssmb_cross_scan_cuda(ssmb_dtype dtype, int64_t batch, int64_t channels, int64_t height,
                                          int64_t width, int32_t channel_first, const void* x, void* ys,
                                          void* stream) {
    return guarded([&] {
        const ImageShape s = cuda_image_shape(dtype, batch, channels, height, width, channel_first);
        const CrossScanBytes bytes = cross_scan_bytes(s, dtype);
        run_image_op({"x", x, bytes.image}, {"ys", ys, bytes.sequences}, stream,
                     [&](cudaStream_t st) { cuda::cross_scan(s, dtype, x, ys, st); });
    });
}

SSMB_API ssmb_status ssmb_cross_merge_cuda(ssmb_dtype dtype, int64_t batch, int64_t channels, int64_t height,
                                           int64_t width, int32_t channel_first, const void* ys, void* y,
                                           void* stream) {
    return guarded([&] {
        const ImageShape s = cuda_image_shape(dtype, batch, channels, height, width, channel_first);
        const CrossScanBytes bytes = cross_scan_bytes(s, dtype);
        run_image_op({"ys", ys, bytes.sequences}, {"y", y, bytes.image}, stream,
                     [&](cudaStream_t st) { cuda::cross_merge(s, dtype, ys, y, st); });
    });
}

SSMB_API ssmb_status ssmb_patch_merge_fwd_cuda(ssmb_dtype dtype, int64_t batch, int64_t channels, int64_t height,
                                               int64_t width, int32_t channel_first, const void* x, void* out,
                                               void* stream) {
    return guarded([&] {
        const ImageShape s = cuda_image_shape(dtype, batch, channels, height, width, channel_first);
        const PatchMergeBytes bytes = patch_merge_bytes(s, dtype, "x", "out");
        run_image_op({"x", x, bytes.image}, {"out", out, bytes.merged}, stream,
                     [&](cudaStream_t st) { cuda::patch_merge_fwd(s, dtype, x, out, st); });
    });
}

SSMB_API ssmb_status ssmb_patch_merge_bwd_cuda(ssmb_dtype dtype, int64_t batch, int64_t channels, int64_t height,
                                               int64_t width, int32_t channel_first, const void* dout, void* dx,
                                               void* stream) {
    return guarded([&] {
        const ImageShape s = cuda_image_shape(dtype, batch, channels, height, width, channel_first);
        const PatchMergeBytes bytes = patch_merge_bytes(s, dtype, "dx", "dout");
        run_image_op({"dout", dout, bytes.merged}, {"dx", dx, bytes.image}, stream,
                     [&](cudaStream_t st) { cuda::patch_merge_bwd(s, dtype, dout, dx, st); });
    });
}

}  // extern "C"
