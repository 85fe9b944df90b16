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

// Prefetches the cache lines of a later chunk of the tile's rows, a few at a time from inside
// the loops working on this one. A work item reads kChannelTile rows of each sequence at once,
// short runs from each: more concurrent streams than the hardware prefetchers follow, so with
// small N the transposes would wait on memory. Requests must be spread out: a burst of hundreds
// stalls the core on its miss buffers until most of them are back.
template <typename T>
class ChunkPrefetcher {
public:
    // Chunks ahead of the one being worked on that plan() should be given. The kernels issue most
    // of the queue in their prepare pass, so one chunk's work is the lead time; at N = 1 that is
    // ample, and it ran faster than two chunks ahead (bench/RESULTS.md).
    static constexpr int64_t kDistance = 1;

    // Queues the lines of chunk tc of each non-null sequence: those it will read, then those it
    // will write (fetched for ownership, so the stores do not wait on their lines).
    void plan(const TileChunk& tc, std::initializer_list<const T*> reads, std::initializer_list<const T*> writes = {}) {
        count_ = next_ = 0;
        queue(tc, reads);
        first_write_ = count_;
        queue(tc, writes);
    }

    // Issues the next few queued requests.
    void issue(int lines) {
        for (; lines > 0 && next_ < count_; --lines, ++next_) {
            if (next_ < first_write_)
                prefetch_read(lines_[next_]);
            else
                prefetch_write(lines_[next_]);
        }
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

    static void prefetch_read(const T* p) {
#if defined(__GNUC__)
        __builtin_prefetch(p, 0);
#else
        (void)p;
#endif
    }

    static void prefetch_write(const T* p) {
#if defined(__GNUC__)
        __builtin_prefetch(p, 1);
#else
        (void)p;
#endif
    }

    static constexpr int64_t kLine = 64 / sizeof(T);
    static constexpr int64_t kMaxSequences = 7;  // the backward reads 4 and writes 3
    const T* lines_[kMaxSequences * kChannelTile * (kScanChunkSize / kLine + 2)];
    int64_t count_ = 0, next_ = 0, first_write_ = 0;
};

}  // namespace ssmb::cpu
