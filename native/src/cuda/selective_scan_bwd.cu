// Backward selective scan on CUDA (decomposition in selective_scan_cuda.h). Chunks run from last
// to first; per chunk each lane loads its steps once, backward_chunk (scan_block.cuh) recomputes
// the states and runs the reverse-time scan of dL/dh for every state, and the lane writes du,
// ddelta and dz of its steps. With the gate, dy = dout silu(z) and dz = dout y silu'(z).
#include "checked_size.h"
#include "common/scan_math.h"
#include "cuda/cuda_check.h"
#include "cuda/partial_sums.h"
#include "cuda/scan_block.cuh"
#include "cuda/selective_scan_cuda.h"

namespace ssmb::cuda {

namespace {

// Float workspace: per-(batch, channel) sums reduced over batch afterwards, and, when a group has
// more than one tile, per-tile selective dB / dC blocks reduced over tiles afterwards. Offsets in
// floats; a size of 0 means "not used".
struct BackwardWorkspace {
    int64_t tiles_per_group = 1;
    bool tile_partials = false;
    int64_t dA = 0, dB_invariant = 0, dC_invariant = 0, dD = 0, ddelta_bias = 0, dB_tiles = 0, dC_tiles = 0;
    int64_t floats = 0;

    explicit BackwardWorkspace(const SelectiveScanParams& p) {
        tiles_per_group = (p.channels_per_group() + kBackwardWarps - 1) / kBackwardWarps;
        tile_partials = tiles_per_group > 1;
        const int64_t matrix = size_product({p.batch, p.dim, p.N}, "workspace");
        const int64_t vector = size_product({p.batch, p.dim}, "workspace");
        const int64_t tile_blocks =
            tile_partials ? size_product({p.batch, p.groups, tiles_per_group, p.N, p.L}, "workspace") : 0;
        dA = take_part(floats, matrix, kWorkspaceAlign);
        dB_invariant = take_part(floats, p.B_selective ? 0 : matrix, kWorkspaceAlign);
        dC_invariant = take_part(floats, p.C_selective ? 0 : matrix, kWorkspaceAlign);
        dD = take_part(floats, vector, kWorkspaceAlign);
        ddelta_bias = take_part(floats, vector, kWorkspaceAlign);
        dB_tiles = take_part(floats, p.B_selective ? tile_blocks : 0, kWorkspaceAlign);
        dC_tiles = take_part(floats, p.C_selective ? tile_blocks : 0, kWorkspaceAlign);
    }
};

template <typename T>
__device__ SelectiveTarget<T> selective_target(void* output, float* workspace, bool selective,
                                               const BackwardWorkspace& ws, const SelectiveScanParams& p,
                                               const ScanLane& w) {
    SelectiveTarget<T> target{nullptr, nullptr};
    if (!selective) return target;
    const int64_t NL = p.N * p.L;
    if (ws.tile_partials)
        target.partial = workspace + ((w.b * p.groups + w.g) * ws.tiles_per_group + w.tile) * NL;
    else
        target.output = static_cast<T*>(output) + (w.b * p.groups + w.g) * NL;
    return target;
}

template <typename T, int kWarps, bool kReverse>
__global__ void __launch_bounds__(kWarps * kWarpSize)
    selective_scan_bwd_kernel(SelectiveScanParams p, BackwardWorkspace ws) {
    const ScanLane w(p, kWarps);
    const int64_t N = p.N, L = p.L;
    const SequenceMap<kReverse> map(p);
    const int warp = threadIdx.x / kWarpSize;
    float* const workspace = static_cast<float*>(p.workspace);
    // Shared memory: per warp and state, q carried into the chunk and the chunk-summed dA / dB / dC;
    // per warp and step, this state's selective dB / dC terms for the block's sum over channels.
    extern __shared__ float shared[];
    const BackwardWarp<T, Projection<T>> bw{L,
                             N,
                             warp,
                             w.lane,
                             w.live ? 1.0f : 0.0f,
                             static_cast<const float*>(p.A) + w.d * N,
                             Projection<T>(p.B, p.B_selective, p, w.b, w.g, w.d),
                             Projection<T>(p.C, p.C_selective, p, w.b, w.g, w.d),
                             static_cast<const float*>(p.chunk_states) + (w.b * p.dim + w.d) * scan_num_chunks(L) * N,
                             shared + warp * N,
                             shared + (kWarps + warp) * N,
                             shared + (2 * kWarps + warp) * N,
                             shared + (3 * kWarps + warp) * N,
                             shared + 4 * kWarps * N,
                             shared + 4 * kWarps * N + kWarps * kStepsPerChunk,
                             selective_target<T>(p.dB, workspace + ws.dB_tiles, p.B_selective, ws, p, w),
                             selective_target<T>(p.dC, workspace + ws.dC_tiles, p.C_selective, ws, p, w)};

    const int64_t row = (w.b * p.dim + w.d) * L;
    const int64_t state_row = (w.b * p.dim + w.d) * N;
    const float* const dlast = p.dlast_state ? static_cast<const float*>(p.dlast_state) + state_row : nullptr;
    for (int64_t n = w.lane; n < N; n += kWarpSize) {
        bw.q_carry[n] = dlast ? dlast[n] : 0.0f;
        bw.dA_sum[n] = bw.dB_sum[n] = bw.dC_sum[n] = 0.0f;
    }
    __syncwarp();

    const T* const u_row = static_cast<const T*>(p.u) + row;
    const T* const delta_row = static_cast<const T*>(p.delta) + row;
    const T* const z_row = p.z ? static_cast<const T*>(p.z) + row : nullptr;
    const T* const dout_row = static_cast<const T*>(p.dout) + row;
    T* const du_row = static_cast<T*>(p.du) + row;
    T* const ddelta_row = static_cast<T*>(p.ddelta) + row;
    T* const dz_row = p.dz ? static_cast<T*>(p.dz) + row : nullptr;
    const float D = p.D ? static_cast<const float*>(p.D)[w.d] : 0.0f;
    const float delta_bias = p.delta_bias ? static_cast<const float*>(p.delta_bias)[w.d] : 0.0f;

    float dD_lane = 0.0f, ddelta_bias_lane = 0.0f;
    const int64_t n_chunks = (L + kStepsPerChunk - 1) / kStepsPerChunk;
    for (int64_t chunk = n_chunks - 1; chunk >= 0; --chunk) {
        const int64_t chunk_step = chunk * kStepsPerChunk;
        const int64_t first_step = chunk_step + w.lane * kItems;
        StepInputs<T, SequenceMap<kReverse>> in;
        in.load(map, p.delta_softplus, u_row, delta_row, delta_bias, first_step);
        float dy[kItems], dout[kItems], y[kItems], g_B[kItems], g_Aw[kItems];
#pragma unroll
        for (int i = 0; i < kItems; ++i) {
            const bool in_range = first_step + i < L;
            dout[i] = in_range ? to_float(dout_row[in.t[i]]) : 0.0f;
            dy[i] = z_row && in_range ? dout[i] * silu(to_float(z_row[in.t[i]])) : dout[i];
            y[i] = D * in.u[i];
            g_B[i] = g_Aw[i] = 0.0f;
        }
        backward_chunk<kWarps, true>(bw, map, in, chunk_step, first_step, dy, y, g_B, g_Aw);

        const bool softplus_on = p.delta_softplus;
#pragma unroll
        for (int i = 0; i < kItems; ++i) {
            if (first_step + i >= L) break;
            const int64_t t = in.t[i];
            const float ddt = in.u[i] * g_B[i] + g_Aw[i];
            const float ddelta = softplus_on ? ddt * softplus_grad(in.raw[i]) : ddt;
            dD_lane += dy[i] * in.u[i];
            ddelta_bias_lane += ddelta;
            if (!w.live) continue;
            du_row[t] = from_float<T>(in.dt[i] * g_B[i] + D * dy[i]);
            ddelta_row[t] = from_float<T>(ddelta);
            if (dz_row) dz_row[t] = from_float<T>(dout[i] * y[i] * silu_grad(to_float(z_row[t])));
        }
    }

    // Per-(batch, channel) sums; the batch reduction runs afterwards.
    const float dD_warp = warp_sum(dD_lane), ddelta_bias_warp = warp_sum(ddelta_bias_lane);
    if (!w.live) return;
    __syncwarp();
    for (int64_t n = w.lane; n < N; n += kWarpSize) {
        workspace[ws.dA + state_row + n] = bw.dA_sum[n];
        if (!p.B_selective) workspace[ws.dB_invariant + state_row + n] = bw.dB_sum[n];
        if (!p.C_selective) workspace[ws.dC_invariant + state_row + n] = bw.dC_sum[n];
    }
    if (w.lane == 0) {
        workspace[ws.dD + w.b * p.dim + w.d] = dD_warp;
        workspace[ws.ddelta_bias + w.b * p.dim + w.d] = ddelta_bias_warp;
    }
}

template <typename T>
void launch_bwd(const SelectiveScanParams& p, cudaStream_t stream) {
    const BackwardWorkspace ws(p);
    const dim3 grid(static_cast<unsigned>(p.batch * p.groups * ws.tiles_per_group));
    const size_t shared = sizeof(float) * (4 * kBackwardWarps * p.N + 2 * kBackwardWarps * kStepsPerChunk);
    if (p.reverse)
        selective_scan_bwd_kernel<T, kBackwardWarps, true><<<grid, kBackwardWarps * kWarpSize, shared, stream>>>(p, ws);
    else
        selective_scan_bwd_kernel<T, kBackwardWarps, false><<<grid, kBackwardWarps * kWarpSize, shared, stream>>>(p, ws);
    check_launch("selective_scan_bwd_kernel launch");

    const float* const workspace = static_cast<const float*>(p.workspace);
    const int64_t matrix = p.dim * p.N;
    sum_partials(workspace + ws.dA, 1, p.batch, matrix, static_cast<float*>(p.dA), stream);
    if (!p.B_selective) sum_partials(workspace + ws.dB_invariant, 1, p.batch, matrix, static_cast<float*>(p.dB), stream);
    if (!p.C_selective) sum_partials(workspace + ws.dC_invariant, 1, p.batch, matrix, static_cast<float*>(p.dC), stream);
    if (p.dD) sum_partials(workspace + ws.dD, 1, p.batch, p.dim, static_cast<float*>(p.dD), stream);
    if (p.ddelta_bias) sum_partials(workspace + ws.ddelta_bias, 1, p.batch, p.dim, static_cast<float*>(p.ddelta_bias), stream);
    if (ws.tile_partials) {
        const int64_t blocks = p.batch * p.groups, NL = p.N * p.L;
        if (p.B_selective) sum_partials(workspace + ws.dB_tiles, blocks, ws.tiles_per_group, NL, static_cast<T*>(p.dB), stream);
        if (p.C_selective) sum_partials(workspace + ws.dC_tiles, blocks, ws.tiles_per_group, NL, static_cast<T*>(p.dC), stream);
    }
}

}  // namespace

int64_t selective_scan_bwd_workspace_bytes(const SelectiveScanParams& p) {
    return size_product({BackwardWorkspace(p).floats, static_cast<int64_t>(sizeof(float))}, "workspace");
}

void selective_scan_bwd(const SelectiveScanParams& p, ssmb_dtype dtype, cudaStream_t stream) {
    switch (dtype) {
        case SSMB_FLOAT16: launch_bwd<__half>(p, stream); break;
        case SSMB_BFLOAT16: launch_bwd<__nv_bfloat16>(p, stream); break;
        default: launch_bwd<float>(p, stream); break;
    }
}

}  // namespace ssmb::cuda
