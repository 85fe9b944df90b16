// The CPU scan kernels' prefetch queues (cpu/scan_tile_chunk.h): each plan queues every cache line
// of the near and far chunks' rows, reads before writes, and a plan that takes over the previous
// far queue ends up with the same queues as one built from nothing.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <set>
#include <vector>

#include "cpu/scan_tile_chunk.h"

namespace {

using ssmb::cpu::ChunkPrefetcher;
using ssmb::cpu::kChannelTile;
using ssmb::scan_num_chunks;
using ssmb::cpu::ScanChunk;
using ssmb::cpu::TileChunk;
using Prefetcher = ChunkPrefetcher<float>;

std::uintptr_t line_of(const float* p) { return reinterpret_cast<std::uintptr_t>(p) / 64; }

// The 64-byte lines that rows c = 0 .. width - 1 of the sequences cover over the chunk's times.
std::set<std::uintptr_t> lines_of_rows(const TileChunk& tc, const std::vector<const float*>& seqs) {
    std::set<std::uintptr_t> lines;
    for (const float* seq : seqs)
        for (int64_t c = 0; c < tc.width; ++c)
            for (int64_t i = 0; i < tc.chunk.len; ++i) lines.insert(line_of(seq + tc.at(c, i)));
    return lines;
}

std::set<std::uintptr_t> lines_of_queue(const float* const* queue, int64_t begin, int64_t end) {
    std::set<std::uintptr_t> lines;
    for (int64_t i = begin; i < end; ++i) lines.insert(line_of(queue[i]));
    return lines;
}

std::vector<const float*> copy(const float* const* queue, int64_t count) { return {queue, queue + count}; }

// Sequences of (batch 2, dim 40, L) floats, an odd L so that rows start at every alignment.
struct Sequences {
    static constexpr int64_t kDim = 40;
    int64_t L;
    std::vector<float> u, delta, z, out;
    explicit Sequences(int64_t L_) : L(L_), u(2 * kDim * L), delta(u.size()), z(u.size()), out(u.size()) {}
    // Tile t of batch b (16 channels, the last one 8 wide) at chunk k.
    TileChunk chunk(int64_t b, int64_t t, int64_t k, bool reverse = false) const {
        const int64_t d0 = t * kChannelTile;
        return TileChunk(ScanChunk(k, L, reverse), (b * kDim + d0) * L, L, std::min(kChannelTile, kDim - d0));
    }
};

TEST(ChunkPrefetcher, QueuesEveryLineOfTheNearAndFarChunksReadsFirst) {
    for (int64_t L : {64, 200, 1031}) {
        SCOPED_TRACE(L);
        const Sequences s(L);
        const int64_t chunks = scan_num_chunks(L);
        auto prefetcher = std::make_unique<Prefetcher>();
        for (int64_t k = 0; k + 1 < chunks; ++k) {
            const TileChunk near = s.chunk(1, 2, k + 1, true);
            const TileChunk far = s.chunk(1, 2, k + 2 < chunks ? k + 2 : k, true);
            prefetcher->plan(near, k + 2 < chunks ? &far : nullptr, {s.u.data(), s.delta.data(), s.z.data()},
                             {s.out.data()});
            const Prefetcher& p = *prefetcher;
            EXPECT_EQ(lines_of_queue(p.near_lines(), 0, p.near_first_write()),
                      lines_of_rows(near, {s.u.data(), s.delta.data(), s.z.data()}));
            EXPECT_EQ(lines_of_queue(p.near_lines(), p.near_first_write(), p.near_count()),
                      lines_of_rows(near, {s.out.data()}));
            if (k + 2 < chunks)
                EXPECT_EQ(lines_of_queue(p.far_lines(), 0, p.far_count()),
                          lines_of_rows(far, {s.u.data(), s.delta.data(), s.z.data(), s.out.data()}));
            else
                EXPECT_EQ(p.far_count(), 0);
        }
    }
}

// Plans in the orders the kernels make them (forward, backward, and the backward's slabs, which
// alternate tiles inside a chunk), each compared with a fresh prefetcher's plan of the same chunks.
TEST(ChunkPrefetcher, ATakenOverFarQueueEqualsOneBuiltFromNothing) {
    const Sequences s(1031);
    const int64_t chunks = scan_num_chunks(s.L);
    struct Unit {
        int64_t tile, k;
    };
    std::vector<std::vector<Unit>> orders(3);
    for (int64_t k = 0; k < chunks; ++k) orders[0].push_back({0, k});
    for (int64_t k = chunks - 1; k >= 0; --k) orders[1].push_back({1, k});
    for (int64_t k = chunks - 1; k >= 0; --k)
        for (int64_t t = 0; t < 3; ++t) orders[2].push_back({t, k});
    const std::vector<const float*> reads = {s.u.data(), s.delta.data()}, writes = {s.z.data(), s.out.data()};
    for (const auto& order : orders) {
        auto kept = std::make_unique<Prefetcher>();
        for (size_t q = 0; q + 1 < order.size(); ++q) {
            const TileChunk near = s.chunk(0, order[q + 1].tile, order[q + 1].k);
            const bool has_far = q + 2 < order.size();
            const TileChunk far = s.chunk(0, order[has_far ? q + 2 : q].tile, order[has_far ? q + 2 : q].k);
            kept->plan(near, has_far ? &far : nullptr, {reads[0], reads[1]}, {writes[0], writes[1]});
            auto fresh = std::make_unique<Prefetcher>();
            fresh->plan(near, has_far ? &far : nullptr, {reads[0], reads[1]}, {writes[0], writes[1]});
            ASSERT_EQ(copy(kept->near_lines(), kept->near_count()), copy(fresh->near_lines(), fresh->near_count()));
            ASSERT_EQ(kept->near_first_write(), fresh->near_first_write());
            ASSERT_EQ(copy(kept->far_lines(), kept->far_count()), copy(fresh->far_lines(), fresh->far_count()));
        }
    }
}

// The far queue is taken over only for the same chunk of the same sequences.
TEST(ChunkPrefetcher, RebuildsWhenTheSequencesDiffer) {
    const Sequences s(300);
    auto p = std::make_unique<Prefetcher>();
    const TileChunk c1 = s.chunk(0, 0, 1), c2 = s.chunk(0, 0, 2), c3 = s.chunk(0, 0, 3);
    p->plan(c1, &c2, {s.u.data()}, {s.out.data()});
    p->plan(c2, &c3, {s.delta.data()}, {s.out.data()});
    EXPECT_EQ(lines_of_queue(p->near_lines(), 0, p->near_first_write()), lines_of_rows(c2, {s.delta.data()}));
    p->plan(c3, nullptr, {s.delta.data()}, {s.z.data()});
    EXPECT_EQ(lines_of_queue(p->near_lines(), p->near_first_write(), p->near_count()), lines_of_rows(c3, {s.z.data()}));
    EXPECT_EQ(p->far_count(), 0);
}

}  // namespace
