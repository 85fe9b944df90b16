// CPU selective scan (float and double; see ssmbridge.h for the math and layouts): the entry
// points, the work decomposition that forward and backward share, and the typed views of a call
// that the per-ISA kernels (scan_kernel_fwd.h, scan_kernel_bwd.h) receive.
//
// Work is split into items (batch b, group g, tile of up to kChannelTile channels inside g). The
// split depends only on the sizes, never on the thread count or the ISA, so every item computes
// the same numbers whichever thread runs it; the backward combines items' partial sums in a fixed
// order.
#pragma once

#include <algorithm>
#include <cstdint>

#include "selective_scan.h"

namespace ssmb::cpu {

template <typename T>
void selective_scan_fwd(const SelectiveScanParams& p);

template <typename T>
void selective_scan_bwd(const SelectiveScanParams& p);

// Bytes of p.workspace selective_scan_bwd needs (elem_size: bytes of the weight type).
int64_t selective_scan_bwd_workspace_bytes(const SelectiveScanParams& p, int64_t elem_size);

// Channels per work item: the kernels' vector lanes (16 floats fill an AVX-512 register). Items of
// one group share each step's B_t and C_t.
constexpr int64_t kChannelTile = 16;

struct ScanWorkItem {
    int64_t b, g, tile;      // batch, group, tile index inside the group
    int64_t d_begin, width;  // first channel and number of channels
};

struct ScanWorkItems {
    int64_t tiles_per_group;
    int64_t count;

    explicit ScanWorkItems(const SelectiveScanParams& p)
        : tiles_per_group((p.channels_per_group() + kChannelTile - 1) / kChannelTile),
          count(p.batch * p.groups * tiles_per_group),
          channels_per_group_(p.channels_per_group()),
          groups_(p.groups) {}

    ScanWorkItem operator[](int64_t i) const {
        ScanWorkItem w;
        w.tile = i % tiles_per_group;
        w.g = (i / tiles_per_group) % groups_;
        w.b = i / (tiles_per_group * groups_);
        const int64_t first = w.tile * kChannelTile;
        w.d_begin = w.g * channels_per_group_ + first;
        w.width = std::min(kChannelTile, channels_per_group_ - first);
        return w;
    }

private:
    int64_t channels_per_group_;
    int64_t groups_;
};

// The inputs of one call, typed. B and C are selective (batch, groups, N, L) or time-invariant
// (dim, N).
template <typename T>
struct ScanInputs {
    const T* u;
    const T* delta;
    const T* A;
    const T* B;
    const T* C;
    const T* D;           // may be null
    const T* z;           // may be null
    const T* delta_bias;  // may be null
    bool B_selective, C_selective, delta_softplus, reverse;
    int64_t dim, L, N, groups;

    explicit ScanInputs(const SelectiveScanParams& p)
        : u(static_cast<const T*>(p.u)),
          delta(static_cast<const T*>(p.delta)),
          A(static_cast<const T*>(p.A)),
          B(static_cast<const T*>(p.B)),
          C(static_cast<const T*>(p.C)),
          D(static_cast<const T*>(p.D)),
          z(static_cast<const T*>(p.z)),
          delta_bias(static_cast<const T*>(p.delta_bias)),
          B_selective(p.B_selective),
          C_selective(p.C_selective),
          delta_softplus(p.delta_softplus),
          reverse(p.reverse),
          dim(p.dim),
          L(p.L),
          N(p.N),
          groups(p.groups) {}

    // The (N, L) block of a selective B or C for batch b, group g.
    int64_t block_offset(int64_t b, int64_t g) const { return (b * groups + g) * N * L; }
    // Offset of channel d's row in a (batch, dim, L) sequence, and in a (batch, dim, N) state.
    int64_t row_offset(int64_t b, int64_t d) const { return (b * dim + d) * L; }
    int64_t state_offset(int64_t b, int64_t d) const { return (b * dim + d) * N; }
    // Offset of the chunk state k of channel d in chunk_states (batch, dim, n_chunks, N).
    int64_t chunk_state_offset(int64_t b, int64_t d, int64_t k) const {
        return ((b * dim + d) * scan_num_chunks(L) + k) * N;
    }
};

// Chunk k of the scan: steps 0 .. len - 1 visit positions k * kScanChunkSize + step, that is
// times 0..L-1 in order, or L-1..0 when reverse.
struct ScanChunk {
    int64_t index, len;
    int64_t first_time;  // time of step 0
    int64_t direction;   // +1, or -1 when reverse

    ScanChunk(int64_t k, int64_t L, bool reverse)
        : index(k),
          len(std::min(kScanChunkSize, L - k * kScanChunkSize)),
          first_time(reverse ? L - 1 - k * kScanChunkSize : k * kScanChunkSize),
          direction(reverse ? -1 : 1) {}

    int64_t time(int64_t step) const { return first_time + direction * step; }
    int64_t step_at(int64_t t) const { return (t - first_time) * direction; }
    // The chunk's times are lowest_time() .. lowest_time() + len - 1.
    int64_t lowest_time() const { return direction > 0 ? first_time : first_time - (len - 1); }
};

template <typename T>
struct ForwardOutputs {
    T* out;           // (batch, dim, L)
    T* chunk_states;  // (batch, dim, n_chunks, N)
    T* last_state;    // (batch, dim, N), may be null
};

template <typename T>
struct BackwardInputs {
    const T* chunk_states;  // the forward's
    const T* dout;          // (batch, dim, L)
    const T* dlast_state;   // (batch, dim, N), may be null (zero)
};

template <typename T>
struct BackwardOutputs {
    T* du;
    T* ddelta;
    T* dz;  // null without z
};

// Where one work item writes its sums: selective dB / dC blocks (N, L) of its (b, g, tile), and
// the (dim, N) / (dim) slices of its batch for the sums over time. Each is either the output
// itself or the item's partial slice in the workspace (selective_scan_bwd.cpp).
template <typename T>
struct ItemTargets {
    T* dB_block;  // selective only
    T* dC_block;
    T* dA;
    T* dB_rows;  // time-invariant only
    T* dC_rows;
    T* dD;           // null without D
    T* ddelta_bias;  // null without delta_bias
};

}  // namespace ssmb::cpu
