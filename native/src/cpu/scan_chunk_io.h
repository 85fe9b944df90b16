// Moves a chunk of (batch, dim, L) sequences between memory, where each channel's times are
// contiguous, and the kernels' scratch rows, where each row holds one time step of a work item's
// tile of channels: kLanes x kLanes blocks go through in-register transposes, and the rows follow
// scan order (reversed in time when the scan is). An elementwise op can ride along on the
// memory side, so a gate like y * silu(z) needs no transposed copy of z. Channels past the tile's
// width read as 0, so the kernels run full vectors and their lanes stay finite; they are never
// written back.
#pragma once

#include <algorithm>
#include <cstdint>

#include "cpu/scan_scratch.h"
#include "cpu/scan_tile_chunk.h"
#include "cpu/selective_scan_cpu.h"
#include "cpu/vec_fold.h"

namespace ssmb::cpu {

namespace chunk_io_detail {

// The values of sequence seq at (channel c, times i .. i + count - 1), count <= kLanes, as a
// vector padded with zeros.
template <class V>
V load_partial(const typename V::Scalar* seq, const TileChunk& tc, int64_t c, int64_t i, int64_t count) {
    typename V::Scalar buffer[V::kLanes] = {};
    for (int64_t j = 0; j < count; ++j) buffer[j] = seq[tc.at(c, i + j)];
    return V::load(buffer);
}

}  // namespace chunk_io_detail

// rows[step][c] = op(seqs[b, d_begin + c, chunk.time(step)]...), op applied to whole vectors of
// consecutive times of one channel.
template <class V, class Op, class... Seq>
void load_chunk(const TileChunk& tc, typename V::Scalar* rows, Op op, const Seq*... seqs) {
    using T = typename V::Scalar;
    constexpr int W = V::kLanes;
    const int64_t len = tc.chunk.len;
    int64_t i = 0;  // time offset inside the chunk, from its lowest time
    for (; i + W <= len; i += W) {
        for (int c0 = 0; c0 < kChannelTile; c0 += W) {
            V block[W];
            for (int q = 0; q < W; ++q)
                block[q] = c0 + q < tc.width ? op(V::load(seqs + tc.at(c0 + q, i))...) : op((void(seqs), V::zero())...);
            transpose(block);
            for (int q = 0; q < W; ++q) block[q].store(rows + tc.row_of(i + q) + c0);
        }
    }
    if (i == len) return;
    const int64_t rest = len - i;
    for (int64_t c = 0; c < kChannelTile; ++c) {
        T values[W];
        const V v = c < tc.width ? op(chunk_io_detail::load_partial<V>(seqs, tc, c, i, rest)...)
                                 : op((void(seqs), V::zero())...);
        v.store(values);
        for (int64_t j = 0; j < rest; ++j) rows[tc.row_of(i + j) + c] = values[j];
    }
}

// out[b, d_begin + c, chunk.time(step)] = op(rows[step][c], seqs[same place]...) for the tile's
// width channels.
template <class V, class Op, class... Seq>
void store_chunk(const TileChunk& tc, const typename V::Scalar* rows, typename V::Scalar* out, Op op,
                 const Seq*... seqs) {
    using T = typename V::Scalar;
    constexpr int W = V::kLanes;
    const int64_t len = tc.chunk.len;
    int64_t i = 0;
    for (; i + W <= len; i += W) {
        for (int c0 = 0; c0 < kChannelTile && c0 < tc.width; c0 += W) {
            V block[W];
            for (int q = 0; q < W; ++q) block[q] = V::load(rows + tc.row_of(i + q) + c0);
            transpose(block);
            for (int q = 0; q < W && c0 + q < tc.width; ++q)
                op(block[q], V::load(seqs + tc.at(c0 + q, i))...).store(out + tc.at(c0 + q, i));
        }
    }
    if (i == len) return;
    const int64_t rest = len - i;
    for (int64_t c = 0; c < tc.width; ++c) {
        T values[W] = {};
        for (int64_t j = 0; j < rest; ++j) values[j] = rows[tc.row_of(i + j) + c];
        op(V::load(values), chunk_io_detail::load_partial<V>(seqs, tc, c, i, rest)...).store(values);
        for (int64_t j = 0; j < rest; ++j) out[tc.at(c, i + j)] = values[j];
    }
}

// out[j * L + t] for the chunk's times and j < S = the sum over lanes i = j mod S of records[step]
// (one vector per step, kLanes wide): the per-channel terms of a selective dB or dC of S states,
// folded by the backward kernel (vec_fold.h: fold_states), reduced to the item's contribution.
// kLanes steps at a time go through state_sums, ordered so that lane q lands on the q-th lowest
// time.
template <class V, int S>
void reduce_chunk_records(const typename V::Scalar* records, const ScanChunk& chunk, int64_t L,
                          typename V::Scalar* out) {
    using T = typename V::Scalar;
    constexpr int W = V::kLanes;
    static_assert(W % S == 0, "a record holds whole groups of S lanes");
    const int64_t len = chunk.len;
    int64_t step = 0;
    for (; step + W <= len; step += W) {
        V rows[W], sums[S];
        for (int q = 0; q < W; ++q)
            rows[q] = V::load(records + (chunk.direction > 0 ? step + q : step + W - 1 - q) * W);
        state_sums(rows, sums, Lanes<S>());
        T* const first = out + std::min(chunk.time(step), chunk.time(step + W - 1));
        for (int j = 0; j < S; ++j) sums[j].store(first + j * L);
    }
    for (; step < len; ++step) {
        T lanes[W];
        V::load(records + step * W).store(lanes);
        for (int j = 0; j < S; ++j) {
            T sum = lanes[j];
            for (int i = j + S; i < W; i += S) sum += lanes[i];
            out[j * L + chunk.time(step)] = sum;
        }
    }
}

}  // namespace ssmb::cpu
