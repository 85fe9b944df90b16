// Forward selective scan on CUDA (decomposition in selective_scan_cuda.h). Per chunk, each lane
// loads its kItems steps once; then for every state n
//   a_t = exp(dt_t A_n), b_t = dt_t u_t B_t,  lane pair = composition of its steps,
//   warp scan -> the state before the lane's first step -> h_t = a_t h + b_t, y_t += C_t h_t,
// and the warp's total moves the carried state to the next chunk.
#include "cuda/cuda_check.h"
#include "cuda/scan_block.cuh"
#include "cuda/selective_scan_cuda.h"

namespace ssmb::cuda {

namespace {

template <typename T, int kWarps>
__global__ void __launch_bounds__(kWarps * kWarpSize) selective_scan_fwd_kernel(SelectiveScanParams p) {
    extern __shared__ float shared[];
    const ScanLane w(p, kWarps);
    if (!w.live) return;  // no block-wide synchronization below: dead warps may leave
    const int64_t N = p.N, L = p.L;
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
        StepInputs<T> in;
        in.load(p, u_row, delta_row, delta_bias, first_step);
        float y[kItems];
#pragma unroll
        for (int i = 0; i < kItems; ++i) y[i] = D * in.u[i];
        // The lanes whose first step starts a CPU-sized chunk save the state there.
        const bool saves_state = first_step < L && first_step % kScanChunkSize == 0;

        for (int64_t n = 0; n < N; ++n) {
            const float A2 = A[n] * float(kLog2e);
            ScanPair<float> steps[kItems];
            ScanPair<float> lane_pair = ScanPair<float>::identity();
#pragma unroll
            for (int i = 0; i < kItems; ++i) {
                const int64_t step = first_step + i;
                const float B_t = step < L ? B.at(n, scan_time(p, step), L) : 0.0f;
                steps[i] = {exp2f(in.dt[i] * A2), in.dtu[i] * B_t};
                lane_pair = compose(lane_pair, steps[i]);
            }
            const WarpScan scan = warp_scan(lane_pair, false);
            const float h_before = carry[n];
            float h = scan.exclusive.apply(h_before);
            if (saves_state) chunk_states[(first_step / kScanChunkSize) * N + n] = h;
#pragma unroll
            for (int i = 0; i < kItems; ++i) {
                const int64_t step = first_step + i;
                h = steps[i].apply(h);
                if (step < L) y[i] += C.at(n, scan_time(p, step), L) * h;
            }
            __syncwarp();  // every lane has read carry[n]
            if (w.lane == 0) carry[n] = scan.total.apply(h_before);
            __syncwarp();
        }
#pragma unroll
        for (int i = 0; i < kItems; ++i) {
            const int64_t step = first_step + i;
            if (step >= L) break;
            const int64_t t = scan_time(p, step);
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
    selective_scan_fwd_kernel<T, kForwardWarps><<<grid, kForwardWarps * kWarpSize, shared, stream>>>(p);
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
