// CUDA fused cross selective scan (decomposition in cross_selective_scan_cuda.h): the selective scan
// kernels' chunked warp scans (selective_scan_fwd.cu / _bwd.cu) with direction k's step -> pixel map.
#include "common/cross_scan_index.h"
#include "common/scan_math.h"
#include "cuda/cross_selective_scan_cuda.h"
#include "cuda/cuda_check.h"
#include "cuda/partial_sums.h"
#include "cuda/selective_scan_cuda.h"
#include "cuda/warp_scan.cuh"
#include "selective_scan.h"

namespace ssmb::cuda {

namespace {

constexpr int kDirections = kCrossScanDirections;
// The forward's launch order, which is also the order the directions' outputs are added in.
constexpr int kForwardOrder[kDirections] = {0, 2, 1, 3};

// Direction k's scan, seen from pixel order: step s visits pixel `pixel(s)` (see the header).
struct DirectionMap {
    int64_t L, H, W;
    bool columns, reverse;

    __device__ DirectionMap(const CrossScanCudaParams& p, int k)
        : L(p.L()), H(p.height), W(p.width), columns((k & 1) != 0), reverse(k >= 2) {}

    __device__ __forceinline__ int64_t pixel(int64_t step) const {
        const int64_t q = reverse ? L - 1 - step : step;
        return columns ? (q % H) * W + q / H : q;
    }
};

// Per-step inputs of a lane's kItems steps, loaded through the direction's map: the pixel t of each
// step, dt (after bias and softplus), u, dt * u, and delta + bias before softplus. Steps past L are
// identity steps (dt = u = 0).
struct CrossStepInputs {
    int64_t t[kItems];
    float dt[kItems], u[kItems], dtu[kItems], raw[kItems];

    __device__ void load(const CrossScanCudaParams& p, const DirectionMap& map, const float* u_row,
                         const float* delta_row, float delta_bias, int64_t first_step) {
        const int64_t L = map.L;
#pragma unroll
        for (int i = 0; i < kItems; ++i) {
            const int64_t step = first_step + i;
            if (step < L) {
                t[i] = map.pixel(step);
                u[i] = u_row[t[i]];
                raw[i] = delta_row[t[i]] + delta_bias;
                dt[i] = p.delta_softplus ? softplus(raw[i]) : raw[i];
            } else {
                t[i] = 0;
                u[i] = raw[i] = dt[i] = 0.0f;
            }
            dtu[i] = dt[i] * u[i];
        }
    }
};

// ---- forward -----------------------------------------------------------------------------------

template <int kWarps>
__global__ void __launch_bounds__(kWarps * kWarpSize)
    cross_scan_fwd_kernel(CrossScanCudaParams p, int k, bool accumulate) {
    extern __shared__ float shared[];
    const int64_t tiles = (p.dim + kWarps - 1) / kWarps;
    const int64_t b = blockIdx.x / tiles, tile = blockIdx.x % tiles;
    const int64_t c = tile * kWarps + threadIdx.x / kWarpSize;
    if (c >= p.dim) return;  // no block-wide synchronization below
    const int lane = threadIdx.x % kWarpSize;
    const int64_t N = p.N, L = p.L(), dim = p.dim;
    const DirectionMap map(p, k);
    float* const carry = shared + (threadIdx.x / kWarpSize) * N;
    for (int64_t n = lane; n < N; n += kWarpSize) carry[n] = 0.0f;
    __syncwarp();

    const int64_t ch = k * dim + c;  // row of A, D, delta_bias, chunk_states
    const float* const u_row = p.u + (b * dim + c) * L;
    const float* const delta_row = p.delta + ((b * kDirections + k) * dim + c) * L;
    const float* const Bk = p.B + (b * kDirections + k) * N * L;
    const float* const Ck = p.C + (b * kDirections + k) * N * L;
    const float* const A = p.A + ch * N;
    const float D = p.D ? p.D[ch] : 0.0f;
    const float delta_bias = p.delta_bias ? p.delta_bias[ch] : 0.0f;
    float* const chunk_states = p.chunk_states + (b * kDirections * dim + ch) * scan_num_chunks(L) * N;
    float* const out_row = p.out + (b * dim + c) * L;

    const int64_t n_chunks = (L + kStepsPerChunk - 1) / kStepsPerChunk;
    for (int64_t chunk = 0; chunk < n_chunks; ++chunk) {
        const int64_t first_step = chunk * kStepsPerChunk + lane * kItems;
        CrossStepInputs in;
        in.load(p, map, u_row, delta_row, delta_bias, first_step);
        float y[kItems];
#pragma unroll
        for (int i = 0; i < kItems; ++i) y[i] = D * in.u[i];
        const bool saves_state = first_step < L && first_step % kScanChunkSize == 0;

        for (int64_t n = 0; n < N; ++n) {
            const float A2 = A[n] * float(kLog2e);
            ScanPair<float> steps[kItems];
            ScanPair<float> lane_pair = ScanPair<float>::identity();
#pragma unroll
            for (int i = 0; i < kItems; ++i) {
                const float B_t = first_step + i < L ? Bk[n * L + in.t[i]] : 0.0f;
                steps[i] = {exp2f(in.dt[i] * A2), in.dtu[i] * B_t};
                lane_pair = compose(lane_pair, steps[i]);
            }
            const WarpScan scan = warp_scan(lane_pair, false);
            const float h_before = carry[n];
            float h = scan.exclusive.apply(h_before);
            if (saves_state) chunk_states[(first_step / kScanChunkSize) * N + n] = h;
#pragma unroll
            for (int i = 0; i < kItems; ++i) {
                h = steps[i].apply(h);
                if (first_step + i < L) y[i] += Ck[n * L + in.t[i]] * h;
            }
            __syncwarp();  // every lane has read carry[n]
            if (lane == 0) carry[n] = scan.total.apply(h_before);
            __syncwarp();
        }
#pragma unroll
        for (int i = 0; i < kItems; ++i) {
            if (first_step + i >= L) break;
            float* const o = out_row + in.t[i];
            *o = accumulate ? *o + y[i] : y[i];
        }
    }
}

// ---- backward ----------------------------------------------------------------------------------

// Float workspace (offsets in floats; 0-sized parts unused): du per direction (batch, 4, dim, L);
// per-(batch, channel) dA (batch, 4 dim, N), dD and ddelta_bias (batch, 4 dim); and, when dim spans
// more than one tile, per-tile dB / dC blocks (batch, 4, tiles, N, L).
struct CrossWorkspace {
    int64_t tiles = 1;
    bool tile_partials = false;
    int64_t du = 0, dA = 0, dD = 0, ddelta_bias = 0, dB_tiles = 0, dC_tiles = 0;
    int64_t floats = 0;

    explicit CrossWorkspace(const CrossScanCudaParams& p) {
        tiles = (p.dim + kBackwardWarps - 1) / kBackwardWarps;
        tile_partials = tiles > 1;
        const int64_t L = p.L(), channels = p.batch * kDirections * p.dim;
        const int64_t tile_blocks = tile_partials ? p.batch * kDirections * tiles * p.N * L : 0;
        du = take(channels * L);
        dA = take(channels * p.N);
        dD = take(channels);
        ddelta_bias = take(channels);
        dB_tiles = take(tile_blocks);
        dC_tiles = take(tile_blocks);
    }

private:
    int64_t take(int64_t size) {
        const int64_t offset = floats;
        floats += (size + 31) / 32 * 32;  // 128-byte aligned parts
        return offset;
    }
};

template <int kWarps>
__global__ void __launch_bounds__(kWarps * kWarpSize)
    cross_scan_bwd_kernel(CrossScanCudaParams p, CrossWorkspace ws) {
    const int64_t N = p.N, L = p.L(), dim = p.dim;
    const int64_t tiles = ws.tiles;
    const int64_t tile = blockIdx.x % tiles;
    const int k = static_cast<int>((blockIdx.x / tiles) % kDirections);
    const int64_t b = blockIdx.x / (tiles * kDirections);
    const int warp = threadIdx.x / kWarpSize, lane = threadIdx.x % kWarpSize;
    const bool live = tile * kWarps + warp < dim;
    const int64_t c = live ? tile * kWarps + warp : dim - 1;
    const DirectionMap map(p, k);

    extern __shared__ float shared[];
    float* const q_carry = shared + warp * N;
    float* const dA_sum = shared + (kWarps + warp) * N;
    float* const dB_terms = shared + 2 * kWarps * N;
    float* const dC_terms = dB_terms + kWarps * kStepsPerChunk;
    for (int64_t n = lane; n < N; n += kWarpSize) q_carry[n] = dA_sum[n] = 0.0f;
    __syncwarp();

    const int64_t ch = k * dim + c;
    const int64_t image_row = (b * dim + c) * L;
    const int64_t direction_row = ((b * kDirections + k) * dim + c) * L;
    const int64_t state_block = (b * kDirections + k) * N * L;
    const float* const u_row = p.u + image_row;
    const float* const delta_row = p.delta + direction_row;
    const float* const dout_row = p.dout + image_row;
    float* const workspace = p.workspace;
    float* const du_row = workspace + ws.du + direction_row;
    float* const ddelta_row = p.ddelta + direction_row;
    const float* const Bk = p.B + state_block;
    const float* const Ck = p.C + state_block;
    const float* const A = p.A + ch * N;
    const float D = p.D ? p.D[ch] : 0.0f;
    const float delta_bias = p.delta_bias ? p.delta_bias[ch] : 0.0f;
    const float* const chunk_states = p.chunk_states + (b * kDirections * dim + ch) * scan_num_chunks(L) * N;
    // Where the tile's dB / dC sums go: the gradient itself with one tile, else the tile's partial.
    const int64_t tile_block = ((b * kDirections + k) * tiles + tile) * N * L;
    float* const dB_out = ws.tile_partials ? workspace + ws.dB_tiles + tile_block : p.dB + state_block;
    float* const dC_out = ws.tile_partials ? workspace + ws.dC_tiles + tile_block : p.dC + state_block;
    const float alive = live ? 1.0f : 0.0f;

    float dD_lane = 0.0f, ddelta_bias_lane = 0.0f;
    const int64_t n_chunks = (L + kStepsPerChunk - 1) / kStepsPerChunk;
    for (int64_t chunk = n_chunks - 1; chunk >= 0; --chunk) {
        const int64_t chunk_step = chunk * kStepsPerChunk;
        const int64_t first_step = chunk_step + lane * kItems;
        CrossStepInputs in;
        in.load(p, map, u_row, delta_row, delta_bias, first_step);
        float dy[kItems], g_B[kItems], g_Aw[kItems];
#pragma unroll
        for (int i = 0; i < kItems; ++i) {
            dy[i] = first_step + i < L ? dout_row[in.t[i]] : 0.0f;
            g_B[i] = g_Aw[i] = 0.0f;
        }
        const float* const saved = chunk_states + (chunk_step / kScanChunkSize) * N;

        for (int64_t n = 0; n < N; ++n) {
            const float A_n = A[n], A2 = A_n * float(kLog2e);
            float a[kItems], h_prev[kItems], B_t[kItems], C_t[kItems];
            ScanPair<float> lane_pair = ScanPair<float>::identity();
#pragma unroll
            for (int i = 0; i < kItems; ++i) {
                const bool in_range = first_step + i < L;
                B_t[i] = in_range ? Bk[n * L + in.t[i]] : 0.0f;
                C_t[i] = in_range ? Ck[n * L + in.t[i]] : 0.0f;
                a[i] = exp2f(in.dt[i] * A2);
                lane_pair = compose(lane_pair, ScanPair<float>{a[i], in.dtu[i] * B_t[i]});
            }
            // Recompute the chunk's states from the saved one.
            const WarpScan forward = warp_scan(lane_pair, false);
            float h = forward.exclusive.apply(saved[n]);
#pragma unroll
            for (int i = 0; i < kItems; ++i) {
                h_prev[i] = h;
                h = a[i] * h + in.dtu[i] * B_t[i];
                dC_terms[warp * kStepsPerChunk + lane * kItems + i] = alive * dy[i] * h;
            }
            // Reverse-time scan of q = dL/dh_{t-1} through h_t.
            ScanPair<float> lane_q = ScanPair<float>::identity();
#pragma unroll
            for (int i = kItems - 1; i >= 0; --i) lane_q = compose(lane_q, ScanPair<float>{a[i], a[i] * C_t[i] * dy[i]});
            const WarpScan backward = warp_scan(lane_q, true);
            const float q_after = q_carry[n];
            float q = backward.exclusive.apply(q_after);
            float dA_lane = 0.0f;
#pragma unroll
            for (int i = kItems - 1; i >= 0; --i) {
                const float g = C_t[i] * dy[i] + q;
                dB_terms[warp * kStepsPerChunk + lane * kItems + i] = alive * g * in.dtu[i];
                const float w_t = g * a[i] * h_prev[i];
                dA_lane += in.dt[i] * w_t;
                g_Aw[i] += A_n * w_t;
                g_B[i] += g * B_t[i];
                q = a[i] * g;
            }
            const float dA_warp = warp_sum(dA_lane);
            __syncwarp();  // every lane has read q_carry[n]
            if (lane == 0) {
                q_carry[n] = backward.total.apply(q_after);
                dA_sum[n] += dA_warp;
            }
            // Sum the tile's channels in warp order, one thread per step of the chunk.
            __syncthreads();
            for (int s = threadIdx.x; s < kStepsPerChunk; s += kWarps * kWarpSize) {
                const int64_t step = chunk_step + s;
                if (step >= L) break;
                const int64_t t = map.pixel(step);
                float dB_value = 0.0f, dC_value = 0.0f;
#pragma unroll
                for (int w = 0; w < kWarps; ++w) {
                    dB_value += dB_terms[w * kStepsPerChunk + s];
                    dC_value += dC_terms[w * kStepsPerChunk + s];
                }
                dB_out[n * L + t] = dB_value;
                dC_out[n * L + t] = dC_value;
            }
            __syncthreads();
        }

        const bool softplus_on = p.delta_softplus;
#pragma unroll
        for (int i = 0; i < kItems; ++i) {
            if (first_step + i >= L) break;
            const int64_t t = in.t[i];
            const float ddt = in.u[i] * g_B[i] + g_Aw[i];
            const float ddelta = softplus_on ? ddt * softplus_grad(in.raw[i]) : ddt;
            dD_lane += dy[i] * in.u[i];
            ddelta_bias_lane += ddelta;
            if (!live) continue;
            du_row[t] = in.dt[i] * g_B[i] + D * dy[i];
            ddelta_row[t] = ddelta;
        }
    }

    const float dD_warp = warp_sum(dD_lane), ddelta_bias_warp = warp_sum(ddelta_bias_lane);
    if (!live) return;
    __syncwarp();
    const int64_t channel_row = b * kDirections * dim + ch;
    for (int64_t n = lane; n < N; n += kWarpSize) workspace[ws.dA + channel_row * N + n] = dA_sum[n];
    if (lane == 0) {
        workspace[ws.dD + channel_row] = dD_warp;
        workspace[ws.ddelta_bias + channel_row] = ddelta_bias_warp;
    }
}

}  // namespace

void cross_selective_scan_fwd(const CrossScanCudaParams& p, cudaStream_t stream) {
    const int64_t tiles = (p.dim + kForwardWarps - 1) / kForwardWarps;
    const dim3 grid(static_cast<unsigned>(p.batch * tiles));
    const size_t shared = sizeof(float) * kForwardWarps * p.N;
    for (int i = 0; i < kDirections; ++i) {
        cross_scan_fwd_kernel<kForwardWarps><<<grid, kForwardWarps * kWarpSize, shared, stream>>>(p, kForwardOrder[i],
                                                                                                  i > 0);
        check_launch("cross_scan_fwd_kernel launch");
    }
}

int64_t cross_selective_scan_bwd_workspace_bytes(const CrossScanCudaParams& p) {
    return CrossWorkspace(p).floats * static_cast<int64_t>(sizeof(float));
}

void cross_selective_scan_bwd(const CrossScanCudaParams& p, cudaStream_t stream) {
    const CrossWorkspace ws(p);
    const dim3 grid(static_cast<unsigned>(p.batch * kDirections * ws.tiles));
    const size_t shared = sizeof(float) * (2 * kBackwardWarps * p.N + 2 * kBackwardWarps * kStepsPerChunk);
    cross_scan_bwd_kernel<kBackwardWarps><<<grid, kBackwardWarps * kWarpSize, shared, stream>>>(p, ws);
    check_launch("cross_scan_bwd_kernel launch");

    const float* const workspace = p.workspace;
    const int64_t L = p.L(), channels = kDirections * p.dim;
    sum_partials(workspace + ws.du, p.batch, kDirections, p.dim * L, p.du, stream);
    sum_partials(workspace + ws.dA, 1, p.batch, channels * p.N, p.dA, stream);
    if (p.dD) sum_partials(workspace + ws.dD, 1, p.batch, channels, p.dD, stream);
    if (p.ddelta_bias) sum_partials(workspace + ws.ddelta_bias, 1, p.batch, channels, p.ddelta_bias, stream);
    if (ws.tile_partials) {
        const int64_t blocks = p.batch * kDirections, NL = p.N * L;
        sum_partials(workspace + ws.dB_tiles, blocks, ws.tiles, NL, p.dB, stream);
        sum_partials(workspace + ws.dC_tiles, blocks, ws.tiles, NL, p.dC, stream);
    }
}

}  // namespace ssmb::cuda
