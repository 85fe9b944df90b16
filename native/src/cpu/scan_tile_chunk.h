// A chunk of one work item's tile in the (batch, dim, L) sequences, and the prefetcher that
// brings later ones in. Plain code with no vectors: included by every ISA's kernels before
// their target region (simd_target.h).
#pragma once

#include <algorithm>
#include <cstdint>
#include <initializer_list>

#include "cpu/scan_scratch.h"
#include "cpu/selective_scan_cpu.h"

namespace ssmb::cpu {

// One chunk of one work item's tile in the (batch, dim, L) sequences.
struct TileChunk {
    ScanChunk chunk;
    int64_t first;  // offset of channel d_begin's element at the chunk's lowest time
    int64_t L, width;

    TileChunk(const ScanChunk& c, int64_t row_offset, int64_t L_, int64_t width_)
        : chunk(c), first(row_offset + c.lowest_time()), L(L_), width(width_) {}

    // Offset of (channel c of the tile, i-th lowest time of the chunk) in a sequence.
    int64_t at(int64_t c, int64_t i) const { return first + c * L + i; }
    // The scratch row of the i-th lowest time.
    int64_t row_of(int64_t i) const { return chunk.step_at(chunk.lowest_time() + i) * kTileRow; }
};

// Prefetches the cache lines of later chunks of the tile's rows, a few at a time from inside the
// loops working on this one. A work item reads kChannelTile rows of each sequence at once, short
// runs from each: more concurrent streams than the hardware prefetchers follow, so with small N
// the transposes would wait on memory. Two levels: the next chunk's lines go to L1, the one after
// it to L2 only. One chunk ahead alone leaves too little time for memory when the chunk's work is
// short (N = 1); two chunks ahead into L1 overflows a 32 KiB L1 before the lines are used.
template <typename T>
class ChunkPrefetcher {
public:
    // Queues the lines of chunk near (into L1: those it will read, then those it will write,
    // fetched for ownership so the stores do not wait) and of chunk far if not null (into L2).
    void plan(const TileChunk& near, const TileChunk* far, std::initializer_list<const T*> reads,
              std::initializer_list<const T*> writes = {}) {
        count_ = next_ = 0;
        queue(near, reads);
        first_write_ = count_;
        queue(near, writes);
        far_begin_ = far_next_ = count_;
        if (far) {
            queue(*far, reads);
            queue(*far, writes);
        }
    }

    // Issues the next few queued requests of each level.
    void issue(int lines) {
        for (int i = 0; i < lines && next_ < far_begin_; ++i, ++next_) {
            if (next_ < first_write_)
                prefetch<0, 3>(lines_[next_]);
            else
                prefetch<1, 3>(lines_[next_]);
        }
        for (int i = 0; i < lines && far_next_ < count_; ++i, ++far_next_) prefetch<0, 2>(lines_[far_next_]);
    }

private:
    void queue(const TileChunk& tc, std::initializer_list<const T*> seqs) {
        for (const T* seq : seqs) {
            if (!seq) continue;
            for (int64_t c = 0; c < tc.width; ++c) {
                const T* row = seq + tc.at(c, 0);
                for (int64_t i = 0; i < tc.chunk.len; i += kLine) lines_[count_++] = row + i;
                if ((tc.chunk.len - 1) % kLine != 0) lines_[count_++] = row + tc.chunk.len - 1;  // unaligned row
            }
        }
    }

    // rw 1: for writing; locality 3: into L1, 2: into L2 (prefetcht1).
    template <int rw, int locality>
    static void prefetch(const T* p) {
#if defined(__GNUC__)
        __builtin_prefetch(p, rw, locality);
#else
        (void)p;
#endif
    }

    static constexpr int64_t kLine = 64 / sizeof(T);
    static constexpr int64_t kMaxSequences = 7;  // the backward reads 4 and writes 3
    static constexpr int64_t kMaxLinesPerChunk = kMaxSequences * kChannelTile * (kScanChunkSize / kLine + 2);
    const T* lines_[2 * kMaxLinesPerChunk];
    int64_t count_ = 0, next_ = 0, first_write_ = 0, far_begin_ = 0, far_next_ = 0;
};

}  // namespace ssmb::cpu
