// Backward selective scan on CUDA (decomposition in selective_scan_cuda.h). Chunks run from last
// to first; per chunk each lane loads its steps once, then for every state n:
//   - recompute: the warp scan of (a_t, b_t) from the state saved before the chunk gives h_{t-1}
//     and h_t of every step (and C h into y, which dz needs);
//   - reverse scan: q_t = dL/dh_{t-1} through h_t obeys q_t = a_t q_{t+1} + a_t C_t dy_t, a pair
//     recurrence in reverse time, scanned the same way with q after the chunk carried in shared
//     memory (dlast_state, or 0, after the last step). Then per step, g = dL/dh_t = C_t dy_t + q_{t+1}:
//       dB_t += g dt u,  dC_t += dy h_t,  w = g a_t h_{t-1}:  dA += dt w,
//       ddt += A w + g B_t u,  du += g B_t dt.
// With the gate, dy = dout silu(z) and dz = dout y silu'(z).
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
        const int64_t matrix = p.batch * p.dim * p.N, vector = p.batch * p.dim;
        const int64_t tile_blocks = tile_partials ? p.batch * p.groups * tiles_per_group * p.N * p.L : 0;
        dA = take(matrix);
        dB_invariant = take(p.B_selective ? 0 : matrix);
        dC_invariant = take(p.C_selective ? 0 : matrix);
        dD = take(vector);
        ddelta_bias = take(vector);
        dB_tiles = take(p.B_selective ? tile_blocks : 0);
        dC_tiles = take(p.C_selective ? tile_blocks : 0);
    }

private:
    int64_t take(int64_t size) {
        const int64_t offset = floats;
        floats += (size + 31) / 32 * 32;  // 128-byte aligned parts
        return offset;
    }
};

// Where a block writes the selective dB or dC sums of its tile: the output itself (type T) when
// the group has one tile, else the tile's float partial block.
template <typename T>
struct SelectiveTarget {
    T* output;       // (N, L) block of (b, g), or null
    float* partial;  // (N, L) block of (b, g, tile), or null

    __device__ void store(int64_t n, int64_t t, int64_t L, float value) const {
        if (output)
            output[n * L + t] = from_float<T>(value);
        else
            partial[n * L + t] = value;
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

template <typename T, int kWarps>
__global__ void __launch_bounds__(kWarps * kWarpSize)
    selective_scan_bwd_kernel(SelectiveScanParams p, BackwardWorkspace ws) {
    const ScanLane w(p, kWarps);
    const int64_t N = p.N, L = p.L;
    const int warp = threadIdx.x / kWarpSize;
    // Shared memory: per warp and state, q carried into the chunk and the chunk-summed dA / dB / dC;
    // per warp and step, this state's selective dB / dC terms for the block's sum over channels.
    extern __shared__ float shared[];
    float* const q_carry = shared + warp * N;
    float* const dA_sum = shared + (kWarps + warp) * N;
    float* const dB_sum = shared + (2 * kWarps + warp) * N;
    float* const dC_sum = shared + (3 * kWarps + warp) * N;
    float* const dB_terms = shared + 4 * kWarps * N;
    float* const dC_terms = dB_terms + kWarps * kStepsPerChunk;

    const int64_t row = (w.b * p.dim + w.d) * L;
    const int64_t state_row = (w.b * p.dim + w.d) * N;
    const float* const dlast = p.dlast_state ? static_cast<const float*>(p.dlast_state) + state_row : nullptr;
    for (int64_t n = w.lane; n < N; n += kWarpSize) {
        q_carry[n] = dlast ? dlast[n] : 0.0f;
        dA_sum[n] = dB_sum[n] = dC_sum[n] = 0.0f;
    }
    __syncwarp();

    const T* const u_row = static_cast<const T*>(p.u) + row;
    const T* const delta_row = static_cast<const T*>(p.delta) + row;
    const T* const z_row = p.z ? static_cast<const T*>(p.z) + row : nullptr;
    const T* const dout_row = static_cast<const T*>(p.dout) + row;
    T* const du_row = static_cast<T*>(p.du) + row;
    T* const ddelta_row = static_cast<T*>(p.ddelta) + row;
    T* const dz_row = p.dz ? static_cast<T*>(p.dz) + row : nullptr;
    const float* const A = static_cast<const float*>(p.A) + w.d * N;
    const Projection<T> B(p.B, p.B_selective, p, w.b, w.g, w.d);
    const Projection<T> C(p.C, p.C_selective, p, w.b, w.g, w.d);
    const float D = p.D ? static_cast<const float*>(p.D)[w.d] : 0.0f;
    const float delta_bias = p.delta_bias ? static_cast<const float*>(p.delta_bias)[w.d] : 0.0f;
    const float* const chunk_states =
        static_cast<const float*>(p.chunk_states) + (w.b * p.dim + w.d) * scan_num_chunks(L) * N;
    float* const workspace = static_cast<float*>(p.workspace);
    const SelectiveTarget<T> dB_target = selective_target<T>(p.dB, workspace + ws.dB_tiles, p.B_selective, ws, p, w);
    const SelectiveTarget<T> dC_target = selective_target<T>(p.dC, workspace + ws.dC_tiles, p.C_selective, ws, p, w);
    const float live = w.live ? 1.0f : 0.0f;  // dead warps add zeros to the block's sums

    float dD_lane = 0.0f, ddelta_bias_lane = 0.0f;
    const int64_t n_chunks = (L + kStepsPerChunk - 1) / kStepsPerChunk;
    for (int64_t chunk = n_chunks - 1; chunk >= 0; --chunk) {
        const int64_t chunk_step = chunk * kStepsPerChunk;
        const int64_t first_step = chunk_step + w.lane * kItems;
        StepInputs<T> in;
        in.load(p, u_row, delta_row, delta_bias, first_step);
        float dy[kItems], dout[kItems], y[kItems], g_B[kItems], g_Aw[kItems];
#pragma unroll
        for (int i = 0; i < kItems; ++i) {
            const int64_t step = first_step + i;
            dout[i] = step < L ? to_float(dout_row[scan_time(p, step)]) : 0.0f;
            dy[i] = z_row && step < L ? dout[i] * silu(to_float(z_row[scan_time(p, step)])) : dout[i];
            y[i] = D * in.u[i];
            g_B[i] = g_Aw[i] = 0.0f;
        }
        const float* const saved = chunk_states + (chunk_step / kScanChunkSize) * N;

        for (int64_t n = 0; n < N; ++n) {
            const float A_n = A[n], A2 = A_n * float(kLog2e);
            float a[kItems], h_prev[kItems], B_t[kItems], C_t[kItems];
            ScanPair<float> lane_pair = ScanPair<float>::identity();
#pragma unroll
            for (int i = 0; i < kItems; ++i) {
                const int64_t step = first_step + i;
                const int64_t t = scan_time(p, step);
                B_t[i] = step < L ? B.at(n, t, L) : 0.0f;
                C_t[i] = step < L ? C.at(n, t, L) : 0.0f;
                a[i] = exp2f(in.dt[i] * A2);
                lane_pair = compose(lane_pair, ScanPair<float>{a[i], in.dtu[i] * B_t[i]});
            }
            // Recompute the states of the chunk.
            const WarpScan forward = warp_scan(lane_pair, false);
            float h = forward.exclusive.apply(saved[n]);
            float dB_invariant = 0.0f, dC_invariant = 0.0f;
#pragma unroll
            for (int i = 0; i < kItems; ++i) {
                h_prev[i] = h;
                h = a[i] * h + in.dtu[i] * B_t[i];
                y[i] += C_t[i] * h;
                const float dC_term = dy[i] * h;
                if (p.C_selective)
                    dC_terms[warp * kStepsPerChunk + w.lane * kItems + i] = live * dC_term;
                else
                    dC_invariant += dC_term;
            }
            // Reverse-time scan of q, this lane's steps composed from its last to its first.
            ScanPair<float> lane_q = ScanPair<float>::identity();
#pragma unroll
            for (int i = kItems - 1; i >= 0; --i) lane_q = compose(lane_q, ScanPair<float>{a[i], a[i] * C_t[i] * dy[i]});
            const WarpScan backward = warp_scan(lane_q, true);
            const float q_after = q_carry[n];
            float q = backward.exclusive.apply(q_after);  // q_{t+1} of the lane's last step
            float dA_lane = 0.0f;
#pragma unroll
            for (int i = kItems - 1; i >= 0; --i) {
                const float g = C_t[i] * dy[i] + q;
                const float dB_term = g * in.dtu[i];
                if (p.B_selective)
                    dB_terms[warp * kStepsPerChunk + w.lane * kItems + i] = live * dB_term;
                else
                    dB_invariant += dB_term;
                const float w_t = g * a[i] * h_prev[i];
                dA_lane += in.dt[i] * w_t;
                g_Aw[i] += A_n * w_t;
                g_B[i] += g * B_t[i];
                q = a[i] * g;
            }
            const float dA_warp = warp_sum(dA_lane);
            const float dB_warp = p.B_selective ? 0.0f : warp_sum(dB_invariant);
            const float dC_warp = p.C_selective ? 0.0f : warp_sum(dC_invariant);
            __syncwarp();  // every lane has read q_carry[n]
            if (w.lane == 0) {
                q_carry[n] = backward.total.apply(q_after);
                dA_sum[n] += dA_warp;
                dB_sum[n] += dB_warp;
                dC_sum[n] += dC_warp;
            }
            if (p.B_selective || p.C_selective) {
                // Sum the tile's channels in warp order, one thread per step of the chunk.
                __syncthreads();
                for (int s = threadIdx.x; s < kStepsPerChunk; s += kWarps * kWarpSize) {
                    const int64_t step = chunk_step + s;
                    if (step >= L) break;
                    const int64_t t = scan_time(p, step);
                    float dB_value = 0.0f, dC_value = 0.0f;
#pragma unroll
                    for (int k = 0; k < kWarps; ++k) {
                        dB_value += dB_terms[k * kStepsPerChunk + s];
                        dC_value += dC_terms[k * kStepsPerChunk + s];
                    }
                    if (p.B_selective) dB_target.store(n, t, L, dB_value);
                    if (p.C_selective) dC_target.store(n, t, L, dC_value);
                }
                __syncthreads();
            } else {
                __syncwarp();
            }
        }

        const float softplus_on = p.delta_softplus ? 1.0f : 0.0f;
#pragma unroll
        for (int i = 0; i < kItems; ++i) {
            const int64_t step = first_step + i;
            if (step >= L) break;
            const int64_t t = scan_time(p, step);
            const float ddt = in.u[i] * g_B[i] + g_Aw[i];
            const float ddelta = softplus_on != 0.0f ? ddt * softplus_grad(in.raw[i]) : ddt;
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
        workspace[ws.dA + state_row + n] = dA_sum[n];
        if (!p.B_selective) workspace[ws.dB_invariant + state_row + n] = dB_sum[n];
        if (!p.C_selective) workspace[ws.dC_invariant + state_row + n] = dC_sum[n];
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
    selective_scan_bwd_kernel<T, kBackwardWarps><<<grid, kBackwardWarps * kWarpSize, shared, stream>>>(p, ws);
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
    return BackwardWorkspace(p).floats * static_cast<int64_t>(sizeof(float));
}

void selective_scan_bwd(const SelectiveScanParams& p, ssmb_dtype dtype, cudaStream_t stream) {
    switch (dtype) {
        case SSMB_FLOAT16: launch_bwd<__half>(p, stream); break;
        case SSMB_BFLOAT16: launch_bwd<__nv_bfloat16>(p, stream); break;
        default: launch_bwd<float>(p, stream); break;
    }
}

}  // namespace ssmb::cuda
