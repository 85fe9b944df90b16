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
// Requests go out a few per loop step: issued back to back, hundreds of them stall the core on its
// miss buffers (bench/RESULTS.md has what was measured).
// The far level pays only where a chunk's work is short. At N = 1 it made the forward about 20% and
// the backward about 30% faster; at N = 16, where one chunk's work is already ample lead time, the
// forward was 6% slower on one thread and the backward 9% slower on two (bench/RESULTS.md). So the
// kernels give plan() a far chunk only up to this many states (far_prefetch_pays).
constexpr int64_t kFarPrefetchMaxStates = 1;

// Whether the kernels prefetch a far chunk at N states.
constexpr bool far_prefetch_pays(int64_t N) { return N <= kFarPrefetchMaxStates; }

template <typename T>
class ChunkPrefetcher {
public:
    // Queues the lines of chunk near (into L1: those it will read, then those it will write,
    // fetched for ownership so the stores do not wait) and of chunk far if not null (into L2). The
    // last plan's far chunk is usually this one's near chunk: then its queue is kept, not rebuilt.
    void plan(const TileChunk& near, const TileChunk* far, std::initializer_list<const T*> reads,
              std::initializer_list<const T*> writes = {}) {
        if (far_ && queues_[1 - near_].holds(near, reads, writes))
            near_ = 1 - near_;
        else
            queues_[near_].fill(near, reads, writes);
        far_ = far != nullptr;
        if (far) queues_[1 - near_].fill(*far, reads, writes);
        const Queue& n = queues_[near_];
        near_lines_ = n.lines;
        near_first_write_ = n.first_write;
        near_end_ = n.count;
        far_lines_ = queues_[1 - near_].lines;
        far_end_ = far ? queues_[1 - near_].count : 0;
        next_ = far_next_ = 0;
    }

    // Issues the next few queued requests of each level.
    void issue(int lines) {
        for (int i = 0; i < lines && next_ < near_end_; ++i, ++next_) {
            if (next_ < near_first_write_)
                prefetch<0, 3>(near_lines_[next_]);
            else
                prefetch<1, 3>(near_lines_[next_]);
        }
        for (int i = 0; i < lines && far_next_ < far_end_; ++i, ++far_next_) prefetch<0, 2>(far_lines_[far_next_]);
    }

    // The current plan's queues (for tests): the lines of each level and how many; near lines from
    // index near_first_write() on are fetched for writing.
    const T* const* near_lines() const { return near_lines_; }
    int64_t near_count() const { return near_end_; }
    int64_t near_first_write() const { return near_first_write_; }
    const T* const* far_lines() const { return far_lines_; }
    int64_t far_count() const { return far_end_; }

private:
    static constexpr int64_t kLine = 64 / sizeof(T);
    static constexpr int kMaxSequences = 7;  // the backward reads 4 and writes 3

    // The lines of one chunk of the non-null sequences, reads first, and what they were taken from.
    struct Queue {
        const T* lines[kMaxSequences * kChannelTile * (kScanChunkSize / kLine + 2)];
        int64_t count = 0, first_write = 0;
        int64_t first = -1, len = 0, width = 0;
        const T* seqs[kMaxSequences] = {};
        int n_seqs = 0, n_reads = 0;

        void fill(const TileChunk& tc, std::initializer_list<const T*> reads, std::initializer_list<const T*> writes) {
            count = 0;
            n_seqs = 0;
            add(tc, reads);
            first_write = count;
            n_reads = n_seqs;
            add(tc, writes);
            first = tc.first;
            len = tc.chunk.len;
            width = tc.width;
        }

        bool holds(const TileChunk& tc, std::initializer_list<const T*> reads,
                   std::initializer_list<const T*> writes) const {
            if (first != tc.first || len != tc.chunk.len || width != tc.width) return false;
            int i = 0;
            for (const T* seq : reads)
                if (seq && (i >= n_reads || seqs[i++] != seq)) return false;
            if (i != n_reads) return false;
            for (const T* seq : writes)
                if (seq && (i >= n_seqs || seqs[i++] != seq)) return false;
            return i == n_seqs;
        }

        void add(const TileChunk& tc, std::initializer_list<const T*> list) {
            // A local count: through the member, each row's stores would wait on the last row's.
            int64_t n = count;
            const bool unaligned = (tc.chunk.len - 1) % kLine != 0;
            for (const T* seq : list) {
                if (!seq) continue;
                seqs[n_seqs++] = seq;
                for (int64_t c = 0; c < tc.width; ++c) {
                    const T* row = seq + tc.at(c, 0);
                    for (int64_t i = 0; i < tc.chunk.len; i += kLine) lines[n++] = row + i;
                    if (unaligned) lines[n++] = row + tc.chunk.len - 1;  // a row that starts inside a line
                }
            }
            count = n;
        }
    };

    // rw 1: for writing; locality 3: into L1, 2: into L2 (prefetcht1).
    template <int rw, int locality>
    static void prefetch(const T* p) {
#if defined(__GNUC__)
        __builtin_prefetch(p, rw, locality);
#else
        (void)p;
#endif
    }

    Queue queues_[2];
    int near_ = 0;      // queues_[near_] is the near chunk's, the other the far chunk's
    bool far_ = false;  // whether the other holds a far chunk
    // The current plan, as issue() reads it.
    const T* const* near_lines_ = nullptr;
    const T* const* far_lines_ = nullptr;
    int64_t next_ = 0, near_first_write_ = 0, near_end_ = 0, far_next_ = 0, far_end_ = 0;
};

}  // namespace ssmb::cpu
