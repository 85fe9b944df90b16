// Forward selective scan on CUDA (decomposition in selective_scan_cuda.h). Per chunk, each lane
// loads its kItems steps once, forward_chunk (scan_block.cuh) runs the states, and the lane writes
// out = y (times silu(z) with the gate).
#include "cuda/cuda_check.h"
#include "cuda/scan_block.cuh"
#include "cuda/selective_scan_cuda.h"

namespace ssmb::cuda {

namespace {

template <typename T, int kWarps, bool kReverse>
__global__ void __launch_bounds__(kWarps * kWarpSize) selective_scan_fwd_kernel(SelectiveScanParams p) {
    extern __shared__ float shared[];
    const ScanLane w(p, kWarps);
    if (!w.live) return;  // no block-wide synchronization below: dead warps may leave
    const int64_t N = p.N, L = p.L;
    const SequenceMap<kReverse> map(p);
    float* const carry = shared + (threadIdx.x / kWarpSize) * N;  // h after the chunks so far
    for (int64_t n = w.lane; n < N; n += kWarpSize) carry[n] = 0.0f;
    __syncwarp();

    const int64_t row = (w.b * p.dim + w.d) * L;
    const T* const u_row = static_cast<const T*>(p.u) + row;
    const T* const delta_row = static_cast<const T*>(p.delta) + row;
    const T* const z_row = p.z ? static_cast<const T*>(p.z) + row : nullptr;
    T* const out_row = static_cast<T*>(p.out) + row;
    const float* const A = static_cast<const float*>(p.A) + w.d * N;
    const Projection<T> B(p.B, p.B_selective, p, w.b, w.g, w.d);
    const Projection<T> C(p.C, p.C_selective, p, w.b, w.g, w.d);
    const float D = p.D ? static_cast<const float*>(p.D)[w.d] : 0.0f;
    const float delta_bias = p.delta_bias ? static_cast<const float*>(p.delta_bias)[w.d] : 0.0f;
    float* const chunk_states = static_cast<float*>(p.chunk_states) + (w.b * p.dim + w.d) * scan_num_chunks(L) * N;

    const int64_t n_chunks = (L + kStepsPerChunk - 1) / kStepsPerChunk;
    for (int64_t chunk = 0; chunk < n_chunks; ++chunk) {
        const int64_t first_step = chunk * kStepsPerChunk + w.lane * kItems;
        StepInputs<T, SequenceMap<kReverse>> in;
        in.load(map, p.delta_softplus, u_row, delta_row, delta_bias, first_step);
        float y[kItems];
#pragma unroll
        for (int i = 0; i < kItems; ++i) y[i] = D * in.u[i];
        forward_chunk(in, first_step, L, N, A, B, C, carry, chunk_states, w.lane, y);
#pragma unroll
        for (int i = 0; i < kItems; ++i) {
            if (first_step + i >= L) break;
            const int64_t t = in.t[i];
            out_row[t] = from_float<T>(z_row ? y[i] * silu(to_float(z_row[t])) : y[i]);
        }
    }
    if (p.last_state) {
        float* const last = static_cast<float*>(p.last_state) + (w.b * p.dim + w.d) * N;
        for (int64_t n = w.lane; n < N; n += kWarpSize) last[n] = carry[n];
    }
}

template <typename T>
void launch_fwd(const SelectiveScanParams& p, cudaStream_t stream) {
    const int64_t tiles = (p.channels_per_group() + kForwardWarps - 1) / kForwardWarps;
    const dim3 grid(static_cast<unsigned>(p.batch * p.groups * tiles));
    const size_t shared = sizeof(float) * kForwardWarps * p.N;
    if (p.reverse)
        selective_scan_fwd_kernel<T, kForwardWarps, true><<<grid, kForwardWarps * kWarpSize, shared, stream>>>(p);
    else
        selective_scan_fwd_kernel<T, kForwardWarps, false><<<grid, kForwardWarps * kWarpSize, shared, stream>>>(p);
    check_launch("selective_scan_fwd_kernel launch");
}

}  // namespace

void selective_scan_fwd(const SelectiveScanParams& p, ssmb_dtype dtype, cudaStream_t stream) {
    switch (dtype) {
        case SSMB_FLOAT16: launch_fwd<__half>(p, stream); break;
        case SSMB_BFLOAT16: launch_fwd<__nv_bfloat16>(p, stream); break;
        default: launch_fwd<float>(p, stream); break;
    }
}

}  // namespace ssmb::cuda
