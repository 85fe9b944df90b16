// What the selective scan's kernels (selective_scan_fwd.cu / _bwd.cu) and the fused cross selective
// scan's (cross_selective_scan.cu) share: the (batch, group, tile, channel) a warp works on, the
// step -> position maps, the loads of a lane's steps, and the per-chunk work over the states of
// the forward (forward_chunk) and of the backward (backward_chunk). A kernel brings its own map
// (plain or reversed time; a cross-scan direction's pixel order), its projections and targets.
#pragma once

#include <cstdint>

#include "common/scan_math.h"
#include "cuda/cuda_types.cuh"
#include "cuda/selective_scan_cuda.h"
#include "cuda/warp_scan.cuh"
#include "selective_scan.h"

namespace ssmb::cuda {

// The channel of warp `warp` in block `block` (blocks of `warps` channels, tiles inside a group).
struct ScanLane {
    int64_t b, g, tile, d;
    bool live;  // false for the warps of a last tile past the group's channels
    int lane;
    int64_t tiles_per_group;

    __device__ ScanLane(const SelectiveScanParams& p, int warps) {
        const int64_t per_group = p.channels_per_group();
        tiles_per_group = (per_group + warps - 1) / warps;
        const int64_t block = blockIdx.x;
        tile = block % tiles_per_group;
        g = (block / tiles_per_group) % p.groups;
        b = block / (tiles_per_group * p.groups);
        const int64_t c = tile * warps + threadIdx.x / kWarpSize;
        live = c < per_group;
        // A dead warp shadows the group's last channel so that its loads stay in bounds.
        d = g * per_group + (live ? c : per_group - 1);
        lane = threadIdx.x % kWarpSize;
    }
};

// A map says where each step of a scan sits in the sequence rows: it has L, position(step), and
// positions(first_step), the positions of a lane's kItems steps from first_step (indexed by i;
// only those below L may be used).
//
// Step s of a selective scan visits time s, or L - 1 - s when kReverse (a template argument, so
// that positions cost no selects): they are computed when asked, which costs no registers.
template <bool kReverse>
struct SequenceMap {
    int64_t L;

    struct Positions {
        int64_t first;
        __device__ __forceinline__ int64_t operator[](int i) const { return kReverse ? first - i : first + i; }
    };

    __device__ explicit SequenceMap(const SelectiveScanParams& p) : L(p.L) {}
    __device__ __forceinline__ int64_t position(int64_t step) const { return kReverse ? L - 1 - step : step; }
    __device__ __forceinline__ Positions positions(int64_t first_step) const { return {position(first_step)}; }
};

// Projection B or C at (state n, position t): a row of the (N, L) block of (b, g) when selective,
// else the channel's (d, n) weight; is_selective() says which.
template <typename T>
struct Projection {
    const T* selective;      // (N, L) block, or null
    const float* invariant;  // the channel's N weights, or null

    __device__ Projection(const void* data, bool is_selective, const SelectiveScanParams& p, int64_t b, int64_t g,
                          int64_t d)
        : selective(is_selective ? static_cast<const T*>(data) + (b * p.groups + g) * p.N * p.L : nullptr),
          invariant(is_selective ? nullptr : static_cast<const float*>(data) + d * p.N) {}
    __device__ __forceinline__ bool is_selective() const { return selective != nullptr; }
    __device__ __forceinline__ float at(int64_t n, int64_t t, int64_t L) const {
        return selective ? to_float(selective[n * L + t]) : invariant[n];
    }
};

// A projection known to be selective: the rows of an (N, L) float block.
struct SelectiveRows {
    const float* block;

    __device__ __forceinline__ static constexpr bool is_selective() { return true; }
    __device__ __forceinline__ float at(int64_t n, int64_t t, int64_t L) const { return block[n * L + t]; }
};

// Per-step inputs of a lane's kItems steps: the positions t of the steps in the rows (see the
// maps), dt (after bias and softplus), u, dt * u, and delta + bias before softplus (for the
// backward's softplus'). Steps past L get dt = u = 0, which makes them the identity step (a = 1,
// b = 0): they contribute nothing.
template <typename T, class Map>
struct StepInputs {
    typename Map::Positions t;
    float dt[kItems], u[kItems], dtu[kItems], raw[kItems];

    __device__ __forceinline__ void load(const Map& map, bool softplus_on, const T* u_row, const T* delta_row,
                                         float delta_bias, int64_t first_step) {
        t = map.positions(first_step);
#pragma unroll
        for (int i = 0; i < kItems; ++i) {
            if (first_step + i < map.L) {
                u[i] = to_float(u_row[t[i]]);
                raw[i] = to_float(delta_row[t[i]]) + delta_bias;
                dt[i] = softplus_on ? softplus(raw[i]) : raw[i];
            } else {
                u[i] = raw[i] = dt[i] = 0.0f;
            }
            dtu[i] = dt[i] * u[i];
        }
    }
};

// The forward's work on one chunk, for every state n of one warp's channel: the lane composes its
// steps (a_t = exp(dt_t A_n), b_t = dt_t u_t B_t), the warp scan gives the state before the
// lane's first step, then h_t = a_t h + b_t and y_t += C_t h_t; the lanes whose first step starts
// a CPU-sized chunk save the state there, and the warp's total moves carry[n] past the chunk.
template <class Inputs, class Proj>
__device__ __forceinline__ void forward_chunk(const Inputs& in, int64_t first_step, int64_t L, int64_t N,
                                              const float* A, const Proj& B, const Proj& C, float* carry,
                                              float* chunk_states, int lane, float (&y)[kItems]) {
    const bool saves_state = first_step < L && first_step % kScanChunkSize == 0;
    for (int64_t n = 0; n < N; ++n) {
        const float A2 = A[n] * float(kLog2e);
        ScanPair<float> steps[kItems];
        ScanPair<float> lane_pair = ScanPair<float>::identity();
#pragma unroll
        for (int i = 0; i < kItems; ++i) {
            const float B_t = first_step + i < L ? B.at(n, in.t[i], L) : 0.0f;
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
            if (first_step + i < L) y[i] += C.at(n, in.t[i], L) * h;
        }
        __syncwarp();  // every lane has read carry[n]
        if (lane == 0) carry[n] = scan.total.apply(h_before);
        __syncwarp();
    }
}

// Where a block writes the selective dB or dC sums of its tile: the output itself (type T) when
// the group has one tile, else the tile's float partial block.
template <typename T>
struct SelectiveTarget {
    T* output;       // (N, L) block, or null
    float* partial;  // (N, L) block of the tile, or null

    __device__ __forceinline__ void store(int64_t n, int64_t t, int64_t L, float value) const {
        if (output)
            output[n * L + t] = from_float<T>(value);
        else
            partial[n * L + t] = value;
    }
};

// What one warp's backward keeps across chunks: its channel's weights and saved states, its block's
// shared memory, and where the tile's selective dB / dC go (of element type T).
template <typename T, class Proj>
struct BackwardWarp {
    int64_t L, N;
    int warp, lane;
    float live;  // 0 for a dead warp, which adds zeros to the block's sums
    const float* A;
    Proj B, C;
    const float* chunk_states;  // the channel's (n_chunks, N)
    // Shared: per warp and state, q carried into the chunk and the chunk-summed dA (and, for a
    // time-invariant B / C, dB / dC; null when both are selective); per warp and step of a chunk,
    // one state's selective dB / dC terms.
    float *q_carry, *dA_sum, *dB_sum, *dC_sum, *dB_terms, *dC_terms;
    SelectiveTarget<T> dB_target, dC_target;
};

// The backward's work on one chunk, for every state n of one warp's channel:
//   - recompute: the warp scan of (a_t, b_t) from the state saved before the chunk gives h_{t-1}
//     and h_t of every step (and C h into y when kTrackY, for dz);
//   - reverse scan: q_t = dL/dh_{t-1} through h_t obeys q_t = a_t q_{t+1} + a_t C_t dy_t, a pair
//     recurrence in reverse time, scanned the same way with q after the chunk carried in shared
//     memory. Then per step, g = dL/dh_t = C_t dy_t + q_{t+1}:
//       dB_t += g dt u,  dC_t += dy h_t,  w = g a_t h_{t-1}:  dA += dt w,
//       g_Aw += A w,  g_B += g B_t   (ddt = u g_B + g_Aw and du = dt g_B + D dy afterwards).
// Selective dB / dC add the tile's channels in warp order, one thread per step (every warp of the
// block must call this).
template <int kWarps, bool kTrackY, class Warp, class Map, class Inputs>
__device__ __forceinline__ void backward_chunk(const Warp& w, const Map& map, const Inputs& in, int64_t chunk_step,
                                               int64_t first_step, const float (&dy)[kItems], float (&y)[kItems],
                                               float (&g_B)[kItems], float (&g_Aw)[kItems]) {
    const int64_t L = w.L, N = w.N;
    const bool B_selective = w.B.is_selective(), C_selective = w.C.is_selective();
    const float* const saved = w.chunk_states + (chunk_step / kScanChunkSize) * N;
    float* const dB_terms = w.dB_terms + w.warp * kStepsPerChunk + w.lane * kItems;
    float* const dC_terms = w.dC_terms + w.warp * kStepsPerChunk + w.lane * kItems;
    for (int64_t n = 0; n < N; ++n) {
        const float A_n = w.A[n], A2 = A_n * float(kLog2e);
        float a[kItems], h_prev[kItems], B_t[kItems], C_t[kItems];
        ScanPair<float> lane_pair = ScanPair<float>::identity();
#pragma unroll
        for (int i = 0; i < kItems; ++i) {
            const bool in_range = first_step + i < L;
            B_t[i] = in_range ? w.B.at(n, in.t[i], L) : 0.0f;
            C_t[i] = in_range ? w.C.at(n, in.t[i], L) : 0.0f;
            a[i] = exp2f(in.dt[i] * A2);
            lane_pair = compose(lane_pair, ScanPair<float>{a[i], in.dtu[i] * B_t[i]});
        }
        // Recompute the chunk's states from the saved one.
        const WarpScan forward = warp_scan(lane_pair, false);
        float h = forward.exclusive.apply(saved[n]);
        float dB_invariant = 0.0f, dC_invariant = 0.0f;
#pragma unroll
        for (int i = 0; i < kItems; ++i) {
            h_prev[i] = h;
            h = a[i] * h + in.dtu[i] * B_t[i];
            if (kTrackY) y[i] += C_t[i] * h;
            const float dC_term = dy[i] * h;
            if (C_selective)
                dC_terms[i] = w.live * dC_term;
            else
                dC_invariant += dC_term;
        }
        // Reverse-time scan of q, this lane's steps composed from its last to its first.
        ScanPair<float> lane_q = ScanPair<float>::identity();
#pragma unroll
        for (int i = kItems - 1; i >= 0; --i) lane_q = compose(lane_q, ScanPair<float>{a[i], a[i] * C_t[i] * dy[i]});
        const WarpScan backward = warp_scan(lane_q, true);
        const float q_after = w.q_carry[n];
        float q = backward.exclusive.apply(q_after);  // q_{t+1} of the lane's last step
        float dA_lane = 0.0f;
#pragma unroll
        for (int i = kItems - 1; i >= 0; --i) {
            const float g = C_t[i] * dy[i] + q;
            const float dB_term = g * in.dtu[i];
            if (B_selective)
                dB_terms[i] = w.live * dB_term;
            else
                dB_invariant += dB_term;
            const float w_t = g * a[i] * h_prev[i];
            dA_lane += in.dt[i] * w_t;
            g_Aw[i] += A_n * w_t;
            g_B[i] += g * B_t[i];
            q = a[i] * g;
        }
        const float dA_warp = warp_sum(dA_lane);
        const float dB_warp = B_selective ? 0.0f : warp_sum(dB_invariant);
        const float dC_warp = C_selective ? 0.0f : warp_sum(dC_invariant);
        __syncwarp();  // every lane has read q_carry[n]
        if (w.lane == 0) {
            w.q_carry[n] = backward.total.apply(q_after);
            w.dA_sum[n] += dA_warp;
            if (!B_selective) w.dB_sum[n] += dB_warp;
            if (!C_selective) w.dC_sum[n] += dC_warp;
        }
        if (B_selective || C_selective) {
            // Sum the tile's channels in warp order, one thread per step of the chunk.
            __syncthreads();
            for (int s = threadIdx.x; s < kStepsPerChunk; s += kWarps * kWarpSize) {
                const int64_t step = chunk_step + s;
                if (step >= L) break;
                const int64_t t = map.position(step);
                float dB_value = 0.0f, dC_value = 0.0f;
#pragma unroll
                for (int k = 0; k < kWarps; ++k) {
                    dB_value += w.dB_terms[k * kStepsPerChunk + s];
                    dC_value += w.dC_terms[k * kStepsPerChunk + s];
                }
                if (B_selective) w.dB_target.store(n, t, L, dB_value);
                if (C_selective) w.dC_target.store(n, t, L, dC_value);
            }
            __syncthreads();
        } else {
            __syncwarp();
        }
    }
}

}  // namespace ssmb::cuda
