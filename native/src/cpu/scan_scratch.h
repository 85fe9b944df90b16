// Per-thread scratch of the CPU kernels: one work item's chunk, transposed so that a row holds
// one time step of the tile's kChannelTile channels (the kernels' vector lanes), plus the item's
// per-channel constants and running sums. Sizes depend on N only, never on the ISA, so a thread
// allocates once for every item it runs.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "cpu/selective_scan_cpu.h"

namespace ssmb::cpu {

// One step of the tile's channels; a chunk of them.
constexpr int64_t kTileRow = kChannelTile;
constexpr int64_t kChunkRows = kScanChunkSize * kTileRow;

// States whose history one backward pass keeps (scan_kernel_bwd.h): the scratch is sized for it.
constexpr int64_t kMaxBackwardStateBlock = 4;

// Hands out consecutive regions of a buffer; with a null buffer it only counts.
template <typename T>
class ScratchCarver {
public:
    explicit ScratchCarver(T* base) : base_(base) {}
    T* take(int64_t elements) {
        T* region = base_ ? base_ + used_ : nullptr;
        used_ += elements;
        return region;
    }
    int64_t used() const { return used_; }

private:
    T* base_;
    int64_t used_ = 0;
};

template <typename T>
struct ForwardScratch {
    T *u, *dt, *dtu, *y;  // [kScanChunkSize][kTileRow]; dt after bias and softplus
    T *A2, *h, *B, *C;        // [N][kTileRow]: A * log2(e), the states, time-invariant B and C
    T *D, *delta_bias;        // [kTileRow]
    int64_t elements;

    ForwardScratch(int64_t N, T* base) {
        ScratchCarver<T> c(base);
        for (T** rows : {&u, &dt, &dtu, &y}) *rows = c.take(kChunkRows);
        for (T** per_state : {&A2, &h, &B, &C}) *per_state = c.take(N * kTileRow);
        for (T** per_channel : {&D, &delta_bias}) *per_channel = c.take(kTileRow);
        elements = c.used();
    }
};

template <typename T>
struct BackwardScratch {
    // [kScanChunkSize][kTileRow]. dy = dL/dy (dout times the gate), dsoftplus = softplus'(delta +
    // bias), y and gate = z, then dout silu'(z) (for dz, which overwrites y); g_B = sum_n dL/dh_n B_n
    // and g_Aw = sum_n A_n dL/dh_n a_n h_n, which du and ddelta then overwrite.
    T *u, *dt, *dtu, *dsoftplus, *dy, *y, *gate, *g_B, *g_Aw;
    // [kScanChunkSize][kMaxBackwardStateBlock][kTileRow]: a_t and h_{t-1} of a block of states.
    T *decay, *previous_state;
    // [kScanChunkSize][kLanes] (kLanes <= kTileRow): one block of states' records of selective dB,
    // dC, their per-channel terms folded into a vector per step (vec_fold.h: fold_states).
    T *dB_records, *dC_records;
    // [N][kTileRow]: A * log2(e), A, time-invariant B and C, the chunk's saved state, dL/dh
    // carried to the previous chunk, and the sums over time of dA and time-invariant dB, dC.
    T *A2, *A, *B, *C, *h0, *dh, *dA, *dB, *dC;
    T *D, *delta_bias, *dD, *ddelta_bias;  // [kTileRow]
    int64_t elements;

    // The rows and the history serve one chunk at a time, so the items of a backward slab share
    // them (chunk_elements); the per-state and per-channel arrays are the item's own (item_elements).
    static constexpr int64_t chunk_elements() { return (9 + 2 * kMaxBackwardStateBlock + 2) * kChunkRows; }
    static int64_t item_elements(int64_t N) { return 9 * N * kTileRow + 4 * kTileRow; }

    // One buffer: the chunk part, then the item's part.
    BackwardScratch(int64_t N, T* base) : BackwardScratch(N, base, base ? base + chunk_elements() : nullptr) {}

    BackwardScratch(int64_t N, T* chunk_base, T* item_base) {
        ScratchCarver<T> c(chunk_base);
        for (T** rows : {&u, &dt, &dtu, &dsoftplus, &dy, &y, &gate, &g_B, &g_Aw}) *rows = c.take(kChunkRows);
        for (T** history : {&decay, &previous_state}) *history = c.take(kMaxBackwardStateBlock * kChunkRows);
        for (T** records : {&dB_records, &dC_records}) *records = c.take(kChunkRows);
        ScratchCarver<T> i(item_base);
        for (T** per_state : {&A2, &A, &B, &C, &h0, &dh, &dA, &dB, &dC}) *per_state = i.take(N * kTileRow);
        for (T** per_channel : {&D, &delta_bias, &dD, &ddelta_bias}) *per_channel = i.take(kTileRow);
        elements = c.used() + i.used();
    }
};

// Work items a backward slab (scan_kernel_bwd.h: backward_slab) runs together, at most.
constexpr int kMaxSlabTiles = 4;

// Scratch of a backward slab of count items: the chunk part they share, each item's own part, then
// the shared dB and dC records ([N][kChunkRows] each, a block's at its first state).
template <typename T>
int64_t backward_slab_scratch_elements(int64_t N, int64_t count) {
    return BackwardScratch<T>::chunk_elements() + count * BackwardScratch<T>::item_elements(N) + 2 * N * kChunkRows;
}

// A thread's scratch, 64-byte aligned so that every region above starts on a cache line.
template <typename T>
class ScratchBuffer {
public:
    explicit ScratchBuffer(int64_t elements) : storage_(static_cast<size_t>(elements) + kAlign / sizeof(T)) {
        void* p = storage_.data();
        size_t space = storage_.size() * sizeof(T);
        data_ = static_cast<T*>(std::align(kAlign, static_cast<size_t>(elements) * sizeof(T), p, space));
    }
    T* data() { return data_; }

private:
    static constexpr size_t kAlign = 64;
    std::vector<T> storage_;
    T* data_;
};

}  // namespace ssmb::cpu
