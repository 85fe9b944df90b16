// CPU selective scan (float and double; see ssmbridge.h for the math and layouts), plus the typed
// views and the work decomposition that the forward and backward kernels share.
//
// Work is split into items (batch b, group g, tile of up to kChannelTile channels inside g). The
// split depends only on the sizes, never on the thread count, so every item computes the same
// numbers whichever thread runs it; the backward combines items' partial sums in a fixed order.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "common/scan_math.h"
#include "selective_scan.h"

namespace ssmb::cpu {

template <typename T>
void selective_scan_fwd(const SelectiveScanParams& p);

template <typename T>
void selective_scan_bwd(const SelectiveScanParams& p);

// Bytes of p.workspace selective_scan_bwd needs (elem_size: bytes of the weight type).
int64_t selective_scan_bwd_workspace_bytes(const SelectiveScanParams& p, int64_t elem_size);

// Channels per work item. Items of one group share each step's B_t and C_t.
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

// B or C: selective (batch, groups, N, L), one row of L per state, or time-invariant (dim, N), one
// row of N per channel.
template <typename T>
struct ScanProjection {
    const T* data;
    bool selective;
    int64_t groups, N, L;

    // The (N, L) block of batch b, group g (selective only).
    const T* block(int64_t b, int64_t g) const { return data + (b * groups + g) * N * L; }
    // The N values of channel d (time-invariant only).
    const T* row(int64_t d) const { return data + d * N; }
};

// The inputs of one call, typed; sequences (batch, dim, L) are indexed by seq_index.
template <typename T>
struct ScanInputs {
    const T* u;
    const T* delta;
    const T* A;
    ScanProjection<T> B, C;
    const T* D;           // may be null
    const T* z;           // may be null
    const T* delta_bias;  // may be null
    bool delta_softplus, reverse;
    int64_t dim, L, N;

    explicit ScanInputs(const SelectiveScanParams& p)
        : u(static_cast<const T*>(p.u)),
          delta(static_cast<const T*>(p.delta)),
          A(static_cast<const T*>(p.A)),
          B{static_cast<const T*>(p.B), p.B_selective, p.groups, p.N, p.L},
          C{static_cast<const T*>(p.C), p.C_selective, p.groups, p.N, p.L},
          D(static_cast<const T*>(p.D)),
          z(static_cast<const T*>(p.z)),
          delta_bias(static_cast<const T*>(p.delta_bias)),
          delta_softplus(p.delta_softplus),
          reverse(p.reverse),
          dim(p.dim),
          L(p.L),
          N(p.N) {}

    int64_t seq_index(int64_t b, int64_t d, int64_t t) const { return (b * dim + d) * L + t; }

    // Time index of scan position pos: the scan visits t = 0..L-1, or L-1..0 when reverse.
    int64_t time_at(int64_t pos) const { return reverse ? L - 1 - pos : pos; }

    // delta + delta_bias before softplus.
    T dt_raw(int64_t d, int64_t i) const { return delta_bias ? delta[i] + delta_bias[d] : delta[i]; }

    // The step size dt used by the recurrence.
    T dt(int64_t d, int64_t i) const {
        const T raw = dt_raw(d, i);
        return delta_softplus ? softplus(raw) : raw;
    }
};

// The N values of a selective block at time t, copied to a contiguous buffer so the loops over
// states read unit-stride memory; one copy serves every channel of a work item.
template <typename T>
inline void gather_step(const T* block, int64_t N, int64_t L, int64_t t, T* out) {
    for (int64_t n = 0; n < N; ++n) out[n] = block[n * L + t];
}

// One step of the recurrence for one channel: h_next[n] = exp(dt A[n]) h[n] + dt u B[n]. The
// forward (in place) and the backward's recomputation share it, so both see the same states.
template <typename T>
inline void advance_state(const T* h, const T* A, const T* B, T dt, T dt_u, int64_t N, T* h_next) {
    using std::exp;
    for (int64_t n = 0; n < N; ++n) h_next[n] = exp(dt * A[n]) * h[n] + dt_u * B[n];
}

// y without the skip term: sum_n C[n] h[n].
template <typename T>
inline T read_out(const T* C, const T* h, int64_t N) {
    T y = 0;
    for (int64_t n = 0; n < N; ++n) y += C[n] * h[n];
    return y;
}

}  // namespace ssmb::cpu
