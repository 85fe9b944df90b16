// CUDA fused cross selective scan (decomposition in cross_selective_scan_cuda.h): the selective scan
// kernels' per-chunk work (forward_chunk / backward_chunk of scan_block.cuh) with direction k's
// step -> pixel map.
#include "common/cross_scan_index.h"
#include "checked_size.h"
#include "common/scan_math.h"
#include "cuda/cross_selective_scan_cuda.h"
#include "cuda/cuda_check.h"
#include "cuda/partial_sums.h"
#include "cuda/scan_block.cuh"
#include "cuda/selective_scan_cuda.h"
#include "selective_scan.h"

namespace ssmb::cuda {

namespace {

constexpr int kDirections = kCrossScanDirections;
// The forward's launch order, which is also the order the directions' outputs are added in.
constexpr int kForwardOrder[kDirections] = {0, 2, 1, 3};

// Direction k's scan, seen from pixel order: step s visits pixel `position(s)` (see the header).
struct DirectionMap {
    int64_t L, H, W;
    bool columns, reverse;

    __device__ DirectionMap(const CrossSelectiveScanParams& p, int k)
        : L(p.L()), H(p.height), W(p.width), columns((k & 1) != 0), reverse(k >= 2) {}

    // Positions are kept: each costs a division.
    struct Positions {
        int64_t t[kItems];
        __device__ __forceinline__ int64_t operator[](int i) const { return t[i]; }
    };

    __device__ __forceinline__ int64_t position(int64_t step) const {
        const int64_t q = reverse ? L - 1 - step : step;
        return columns ? (q % H) * W + q / H : q;
    }
    __device__ __forceinline__ Positions positions(int64_t first_step) const {
        Positions p;
#pragma unroll
        for (int i = 0; i < kItems; ++i) p.t[i] = first_step + i < L ? position(first_step + i) : 0;
        return p;
    }
};

// ---- forward -----------------------------------------------------------------------------------

template <int kWarps>
__global__ void __launch_bounds__(kWarps * kWarpSize)
    cross_scan_fwd_kernel(CrossSelectiveScanParams p, int k, bool accumulate) {
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
    const int64_t state_block = (b * kDirections + k) * N * L;
    const float* const u_row = static_cast<const float*>(p.u) + (b * dim + c) * L;
    const float* const delta_row = static_cast<const float*>(p.delta) + ((b * kDirections + k) * dim + c) * L;
    const SelectiveRows B{static_cast<const float*>(p.B) + state_block};
    const SelectiveRows C{static_cast<const float*>(p.C) + state_block};
    const float* const A = static_cast<const float*>(p.A) + ch * N;
    const float D = p.D ? static_cast<const float*>(p.D)[ch] : 0.0f;
    const float delta_bias = p.delta_bias ? static_cast<const float*>(p.delta_bias)[ch] : 0.0f;
    float* const chunk_states =
        static_cast<float*>(p.chunk_states) + (b * kDirections * dim + ch) * scan_num_chunks(L) * N;
    float* const out_row = static_cast<float*>(p.out) + (b * dim + c) * L;

    const int64_t n_chunks = (L + kStepsPerChunk - 1) / kStepsPerChunk;
    for (int64_t chunk = 0; chunk < n_chunks; ++chunk) {
        const int64_t first_step = chunk * kStepsPerChunk + lane * kItems;
        StepInputs<float, DirectionMap> in;
        in.load(map, p.delta_softplus, u_row, delta_row, delta_bias, first_step);
        float y[kItems];
#pragma unroll
        for (int i = 0; i < kItems; ++i) y[i] = D * in.u[i];
        forward_chunk(in, first_step, L, N, A, B, C, carry, chunk_states, lane, y);
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

    explicit CrossWorkspace(const CrossSelectiveScanParams& p) {
        tiles = (p.dim + kBackwardWarps - 1) / kBackwardWarps;
        tile_partials = tiles > 1;
        const int64_t L = p.L(), channels = size_product({p.batch, kDirections, p.dim}, "workspace");
        const int64_t tile_blocks =
            tile_partials ? size_product({p.batch, kDirections, tiles, p.N, L}, "workspace") : 0;
        du = take_part(floats, size_product({channels, L}, "workspace"), kWorkspaceAlign);
        dA = take_part(floats, size_product({channels, p.N}, "workspace"), kWorkspaceAlign);
        dD = take_part(floats, channels, kWorkspaceAlign);
        ddelta_bias = take_part(floats, channels, kWorkspaceAlign);
        dB_tiles = take_part(floats, tile_blocks, kWorkspaceAlign);
        dC_tiles = take_part(floats, tile_blocks, kWorkspaceAlign);
    }
};

template <int kWarps>
__global__ void __launch_bounds__(kWarps * kWarpSize)
    cross_scan_bwd_kernel(CrossSelectiveScanParams p, CrossWorkspace ws) {
    const int64_t N = p.N, L = p.L(), dim = p.dim;
    const int64_t tiles = ws.tiles;
    const int64_t tile = blockIdx.x % tiles;
    const int k = static_cast<int>((blockIdx.x / tiles) % kDirections);
    const int64_t b = blockIdx.x / (tiles * kDirections);
    const int warp = threadIdx.x / kWarpSize, lane = threadIdx.x % kWarpSize;
    const bool live = tile * kWarps + warp < dim;
    const int64_t c = live ? tile * kWarps + warp : dim - 1;
    const DirectionMap map(p, k);

    const int64_t ch = k * dim + c;
    const int64_t image_row = (b * dim + c) * L;
    const int64_t direction_row = ((b * kDirections + k) * dim + c) * L;
    const int64_t state_block = (b * kDirections + k) * N * L;
    float* const workspace = static_cast<float*>(p.workspace);
    // Where the tile's dB / dC sums go: the gradient itself with one tile, else the tile's partial.
    const int64_t tile_block = ((b * kDirections + k) * tiles + tile) * N * L;
    float* const dB_out = ws.tile_partials ? workspace + ws.dB_tiles + tile_block : static_cast<float*>(p.dB) + state_block;
    float* const dC_out = ws.tile_partials ? workspace + ws.dC_tiles + tile_block : static_cast<float*>(p.dC) + state_block;
    // Shared memory: per warp and state, q carried into the chunk and the chunk-summed dA; per warp
    // and step, this state's dB / dC terms for the block's sum over channels.
    extern __shared__ float shared[];
    const BackwardWarp<float, SelectiveRows> bw{L,
                                 N,
                                 warp,
                                 lane,
                                 live ? 1.0f : 0.0f,
                                 static_cast<const float*>(p.A) + ch * N,
                                 SelectiveRows{static_cast<const float*>(p.B) + state_block},
                                 SelectiveRows{static_cast<const float*>(p.C) + state_block},
                                 static_cast<const float*>(p.chunk_states) +
                                     (b * kDirections * dim + ch) * scan_num_chunks(L) * N,
                                 shared + warp * N,
                                 shared + (kWarps + warp) * N,
                                 nullptr,
                                 nullptr,
                                 shared + 2 * kWarps * N,
                                 shared + 2 * kWarps * N + kWarps * kStepsPerChunk,
                                 SelectiveTarget<float>{nullptr, dB_out},
                                 SelectiveTarget<float>{nullptr, dC_out}};
    for (int64_t n = lane; n < N; n += kWarpSize) bw.q_carry[n] = bw.dA_sum[n] = 0.0f;
    __syncwarp();

    const float* const u_row = static_cast<const float*>(p.u) + image_row;
    const float* const delta_row = static_cast<const float*>(p.delta) + direction_row;
    const float* const dout_row = static_cast<const float*>(p.dout) + image_row;
    float* const du_row = workspace + ws.du + direction_row;
    float* const ddelta_row = static_cast<float*>(p.ddelta) + direction_row;
    const float D = p.D ? static_cast<const float*>(p.D)[ch] : 0.0f;
    const float delta_bias = p.delta_bias ? static_cast<const float*>(p.delta_bias)[ch] : 0.0f;

    float dD_lane = 0.0f, ddelta_bias_lane = 0.0f;
    const int64_t n_chunks = (L + kStepsPerChunk - 1) / kStepsPerChunk;
    for (int64_t chunk = n_chunks - 1; chunk >= 0; --chunk) {
        const int64_t chunk_step = chunk * kStepsPerChunk;
        const int64_t first_step = chunk_step + lane * kItems;
        StepInputs<float, DirectionMap> in;
        in.load(map, p.delta_softplus, u_row, delta_row, delta_bias, first_step);
        float dy[kItems], y[kItems], g_B[kItems], g_Aw[kItems];
#pragma unroll
        for (int i = 0; i < kItems; ++i) {
            dy[i] = first_step + i < L ? dout_row[in.t[i]] : 0.0f;
            g_B[i] = g_Aw[i] = 0.0f;
        }
        backward_chunk<kWarps, false>(bw, map, in, chunk_step, first_step, dy, y, g_B, g_Aw);

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
    for (int64_t n = lane; n < N; n += kWarpSize) workspace[ws.dA + channel_row * N + n] = bw.dA_sum[n];
    if (lane == 0) {
        workspace[ws.dD + channel_row] = dD_warp;
        workspace[ws.ddelta_bias + channel_row] = ddelta_bias_warp;
    }
}

}  // namespace

void cross_selective_scan_fwd(const CrossSelectiveScanParams& p, cudaStream_t stream) {
    const int64_t tiles = (p.dim + kForwardWarps - 1) / kForwardWarps;
    const dim3 grid(static_cast<unsigned>(p.batch * tiles));
    const size_t shared = sizeof(float) * kForwardWarps * p.N;
    for (int i = 0; i < kDirections; ++i) {
        cross_scan_fwd_kernel<kForwardWarps><<<grid, kForwardWarps * kWarpSize, shared, stream>>>(p, kForwardOrder[i],
                                                                                                  i > 0);
        check_launch("cross_scan_fwd_kernel launch");
    }
}

int64_t cross_selective_scan_bwd_workspace_bytes(const CrossSelectiveScanParams& p) {
    return size_product({CrossWorkspace(p).floats, static_cast<int64_t>(sizeof(float))}, "workspace");
}

void cross_selective_scan_bwd(const CrossSelectiveScanParams& p, cudaStream_t stream) {
    const CrossWorkspace ws(p);
    const dim3 grid(static_cast<unsigned>(p.batch * kDirections * ws.tiles));
    const size_t shared = sizeof(float) * (2 * kBackwardWarps * p.N + 2 * kBackwardWarps * kStepsPerChunk);
    cross_scan_bwd_kernel<kBackwardWarps><<<grid, kBackwardWarps * kWarpSize, shared, stream>>>(p, ws);
    check_launch("cross_scan_bwd_kernel launch");

    const float* const workspace = static_cast<const float*>(p.workspace);
    auto out = [](void* gradient) { return static_cast<float*>(gradient); };
    const int64_t L = p.L(), channels = kDirections * p.dim;
    sum_partials(workspace + ws.du, p.batch, kDirections, p.dim * L, out(p.du), stream);
    sum_partials(workspace + ws.dA, 1, p.batch, channels * p.N, out(p.dA), stream);
    if (p.dD) sum_partials(workspace + ws.dD, 1, p.batch, channels, out(p.dD), stream);
    if (p.ddelta_bias) sum_partials(workspace + ws.ddelta_bias, 1, p.batch, channels, out(p.ddelta_bias), stream);
    if (ws.tile_partials) {
        const int64_t blocks = p.batch * kDirections, NL = p.N * L;
        sum_partials(workspace + ws.dB_tiles, blocks, ws.tiles, NL, out(p.dB), stream);
        sum_partials(workspace + ws.dC_tiles, blocks, ws.tiles, NL, out(p.dC), stream);
    }
}

}  // namespace ssmb::cuda
