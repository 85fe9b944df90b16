// CPU cross scan and cross merge. Both are pure data movement (the merge adds four values per
// element), so the kernels are written for memory traffic: every sequence is written or read in
// contiguous runs, a value read once serves both directions that share its run (k = 0 and its
// reverse k = 2, k = 1 and k = 3), and wherever the image and the sequence run along different axes
// (the column-major directions; every direction of a channel-last image) the data is moved in
// register blocks that are transposed on the way (block_transpose.h). The image is walked in tiles
// that stay in L1 while both of its passes run. Scans too large for the cache write their output
// with streaming stores.
#include "cpu/cross_scan.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "cpu/block_transpose.h"
#include "cpu/thread_pool.h"

namespace ssmb::cpu {

namespace {

// ---- runs and blocks ------------------------------------------------------------------------------

// A scan's output is four times its input. Past this size it no longer stays in the cache for
// whoever reads it next, and plain stores would first read every line they write (9 units of memory
// traffic per 5 moved); streaming stores write lines directly.
constexpr int64_t kStreamingBytes = int64_t(32) << 20;

// Stores one register of sequence values: streaming (p aligned, see Block::stream) or plain.
template <bool Streaming, typename T>
inline void put(T* p, typename Block<T>::Reg r) {
    if (Streaming)
        Block<T>::stream(p, r);
    else
        Block<T>::store(p, r);
}

// fwd[j] = bwd[-j] = src[j] for j < n.
template <bool Streaming, typename T>
void copy_to_pair(const T* src, T* fwd, T* bwd, int64_t n) {
    using B = Block<T>;
    constexpr int V = B::kLanes;
    int64_t j = 0;
    if (Streaming) {
        for (; j + V <= n; j += V) {
            const typename B::Reg r = B::load(src + j);
            B::stream(fwd + j, r);
            B::stream(bwd - j - (V - 1), B::reverse(r));
        }
    } else {
        std::memcpy(fwd, src, static_cast<size_t>(n) * sizeof(T));
        for (; j + V <= n; j += V) B::store(bwd - j - (V - 1), B::reverse(B::load(src + j)));
    }
    for (; j < n; ++j) fwd[j] = bwd[-j] = src[j];
}

// dst[j] = fwd[j] + bwd[-j] for j < n.
template <typename T>
void sum_pair(const T* fwd, const T* bwd, T* dst, int64_t n) {
    using B = Block<T>;
    constexpr int V = B::kLanes;
    int64_t j = 0;
    for (; j + V <= n; j += V) B::store(dst + j, B::add(B::load(fwd + j), B::reverse(B::load(bwd - j - (V - 1)))));
    for (; j < n; ++j) dst[j] = fwd[j] + bwd[-j];
}

// fwd[i * fwd_i + j] = bwd[i * bwd_i - j] = src[i + j * src_j] for i < ni, j < nj: src runs along
// i, both sequences along j (bwd backwards), so V x V blocks are transposed between load and store.
template <bool Streaming, typename T>
void scatter_transposed(const T* src, int64_t src_j, T* fwd, int64_t fwd_i, T* bwd, int64_t bwd_i, int64_t ni,
                        int64_t nj) {
    using B = Block<T>;
    constexpr int V = B::kLanes;
    auto one = [&](int64_t i, int64_t j) {
        const T v = src[i + j * src_j];
        fwd[i * fwd_i + j] = v;
        bwd[i * bwd_i - j] = v;
    };
    int64_t i = 0;
    for (; i + V <= ni; i += V) {
        int64_t j = 0;
        for (; j + V <= nj; j += V) {
            typename B::Reg r[V];
            for (int a = 0; a < V; ++a) r[a] = B::load(src + i + (j + a) * src_j);
            B::transpose(r);  // r[a] = src[i + a + (j .. j + V - 1) * src_j]
            for (int a = 0; a < V; ++a) {
                put<Streaming>(fwd + (i + a) * fwd_i + j, r[a]);
                put<Streaming>(bwd + (i + a) * bwd_i - j - (V - 1), B::reverse(r[a]));
            }
        }
        for (; j < nj; ++j)
            for (int a = 0; a < V; ++a) one(i + a, j);
    }
    for (; i < ni; ++i)
        for (int64_t j = 0; j < nj; ++j) one(i, j);
}

// dst[i + j * dst_j] = fwd[i * fwd_i + j] + bwd[i * bwd_i - j] for i < ni, j < nj; with Accumulate
// the pair's sum is added to dst instead (dst + (fwd + bwd), in that order). The sequences run along
// j and dst along i, so V x V blocks of pair sums are transposed before the store.
template <bool Accumulate, typename T>
void gather_pair_transposed(const T* fwd, int64_t fwd_i, const T* bwd, int64_t bwd_i, T* dst, int64_t dst_j,
                            int64_t ni, int64_t nj) {
    using B = Block<T>;
    constexpr int V = B::kLanes;
    auto one = [&](int64_t i, int64_t j) {
        const T pair = fwd[i * fwd_i + j] + bwd[i * bwd_i - j];
        T& d = dst[i + j * dst_j];
        d = Accumulate ? d + pair : pair;
    };
    int64_t i = 0;
    for (; i + V <= ni; i += V) {
        int64_t j = 0;
        for (; j + V <= nj; j += V) {
            typename B::Reg r[V];
            for (int a = 0; a < V; ++a)
                r[a] = B::add(B::load(fwd + (i + a) * fwd_i + j),
                              B::reverse(B::load(bwd + (i + a) * bwd_i - j - (V - 1))));
            B::transpose(r);  // r[a] = pair sums at (i .. i + V - 1, j + a)
            for (int a = 0; a < V; ++a) {
                T* d = dst + i + (j + a) * dst_j;
                B::store(d, Accumulate ? B::add(B::load(d), r[a]) : r[a]);
            }
        }
        for (; j < nj; ++j)
            for (int a = 0; a < V; ++a) one(i + a, j);
    }
    for (; i < ni; ++i)
        for (int64_t j = 0; j < nj; ++j) one(i, j);
}

// ---- work decomposition ---------------------------------------------------------------------------

// Pixels of rows [h0, h1) and columns [w0, w1), channels [c0, c1).
struct Tile {
    int64_t h0, h1, w0, w1, c0, c1;
};

// Work items are (batch b, block of channels, band of tile_h rows); an item walks its band in tiles
// of tile_w columns. A channel-first item is one channel's plane, whole up to 64 x 64 (VMamba's
// largest stage is 56 x 56), so that the column-major sequences are read or written in one run; a
// channel-last item takes a block of channels (128 bytes), so that every pixel it reads is a run of
// channels. Sizes were picked by measurement on VMamba's stage shapes; tile sides are multiples of
// every Block width, which the streaming stores' alignment relies on.
struct Tiling {
    int64_t tile_h, tile_w, channel_block;
    int64_t bands, channel_blocks, items;
};

template <typename T>
Tiling make_tiling(const ImageShape& s) {
    Tiling t;
    t.tile_h = s.channel_first ? 64 : 8;
    t.tile_w = 64;
    t.channel_block = s.channel_first ? 1 : 128 / static_cast<int64_t>(sizeof(T));
    t.bands = (s.height + t.tile_h - 1) / t.tile_h;
    t.channel_blocks = (s.channels + t.channel_block - 1) / t.channel_block;
    t.items = s.batch * t.channel_blocks * t.bands;
    return t;
}

// Calls fn(b, tile) for every tile of every image, in parallel; each thread fences its streaming
// stores (if any) when its share is done.
template <typename T, class Fn>
void for_each_tile(const ImageShape& s, const Fn& fn) {
    const Tiling t = make_tiling<T>(s);
    parallel_for(t.items, [&](int64_t begin, int64_t end) {
        for (int64_t item = begin; item < end; ++item) {
            const int64_t band = item % t.bands;
            const int64_t block = (item / t.bands) % t.channel_blocks;
            const int64_t b = item / (t.bands * t.channel_blocks);
            Tile tile;
            tile.c0 = block * t.channel_block;
            tile.c1 = std::min(s.channels, tile.c0 + t.channel_block);
            tile.h0 = band * t.tile_h;
            tile.h1 = std::min(s.height, tile.h0 + t.tile_h);
            for (tile.w0 = 0; tile.w0 < s.width; tile.w0 += t.tile_w) {
                tile.w1 = std::min(s.width, tile.w0 + t.tile_w);
                fn(b, tile);
            }
        }
        Block<T>::fence();
    });
}

// The four scan directions of one image: sequence of (batch b, direction k, channel c) and the
// position of every pixel in it.
template <typename T>
struct Sequences {
    T* ys;
    int64_t channels, L;
    ScanOrder order[kCrossScanDirections];

    Sequences(T* ys_, const ImageShape& s) : ys(ys_), channels(s.channels), L(s.pixels()) {
        for (int k = 0; k < kCrossScanDirections; ++k) order[k] = cross_scan_order(k, s.height, s.width);
    }

    // Address of pixel (h, w) in the sequence (b, k, c).
    T* at(int64_t b, int k, int64_t c, int64_t h, int64_t w) const {
        return ys + ((b * kCrossScanDirections + k) * channels + c) * L + order[k].position(h, w);
    }
};

// Directions 0 and 2 run along image rows (w steps +1 and -1), 1 and 3 along columns (h steps +1
// and -1). Channel-first: rows are copies, columns are transposes of the plane (i = w, j = h).
// Channel-last: every pass is a transpose with the channels as i.
template <bool Streaming, typename T>
void scan_tiles(const ImageShape& s, const T* x, const Sequences<T>& seq) {
    const ImageStrides st = image_strides(s);
    for_each_tile<T>(s, [&](int64_t b, const Tile& t) {
        const T* image = x + b * st.batch;
        if (s.channel_first) {
            const T* plane = image + t.c0 * st.channel;
            for (int64_t h = t.h0; h < t.h1; ++h)
                copy_to_pair<Streaming>(plane + h * st.row + t.w0, seq.at(b, 0, t.c0, h, t.w0),
                                        seq.at(b, 2, t.c0, h, t.w0), t.w1 - t.w0);
            scatter_transposed<Streaming>(plane + t.h0 * st.row + t.w0, st.row, seq.at(b, 1, t.c0, t.h0, t.w0),
                                          seq.order[1].w_step, seq.at(b, 3, t.c0, t.h0, t.w0),
                                          seq.order[3].w_step, t.w1 - t.w0, t.h1 - t.h0);
        } else {
            for (int64_t h = t.h0; h < t.h1; ++h)
                scatter_transposed<Streaming>(image + h * st.row + t.w0 * st.col + t.c0, st.col,
                                              seq.at(b, 0, t.c0, h, t.w0), seq.L, seq.at(b, 2, t.c0, h, t.w0), seq.L,
                                              t.c1 - t.c0, t.w1 - t.w0);
            for (int64_t w = t.w0; w < t.w1; ++w)
                scatter_transposed<Streaming>(image + t.h0 * st.row + w * st.col + t.c0, st.row,
                                              seq.at(b, 1, t.c0, t.h0, w), seq.L, seq.at(b, 3, t.c0, t.h0, w), seq.L,
                                              t.c1 - t.c0, t.h1 - t.h0);
        }
    });
}

}  // namespace

// Streaming stores need every vector store aligned: an aligned ys, and height and width multiples of
// the block width (tiles start at multiples of it, so every run starts aligned, forwards and
// backwards). Other shapes use plain stores.
template <typename T>
void cross_scan(const ImageShape& s, const T* x, T* ys) {
    constexpr int V = Block<T>::kLanes;
    const int64_t bytes = kCrossScanDirections * s.batch * s.channels * s.pixels() * int64_t(sizeof(T));
    const bool large = bytes >= kStreamingBytes;
    const bool aligned = reinterpret_cast<uintptr_t>(ys) % (V * sizeof(T)) == 0 && s.height % V == 0 &&
                         s.width % V == 0;
    const Sequences<T> seq(ys, s);
    if (V > 1 && large && aligned)
        scan_tiles<true>(s, x, seq);
    else
        scan_tiles<false>(s, x, seq);
}

// y = (ys0 + ys2) + (ys1 + ys3): the row pass stores the first pair's sum, the column pass adds the
// second's.
template <typename T>
void cross_merge(const ImageShape& s, const T* ys, T* y) {
    const ImageStrides st = image_strides(s);
    const Sequences<const T> seq(ys, s);
    for_each_tile<T>(s, [&](int64_t b, const Tile& t) {
        T* image = y + b * st.batch;
        if (s.channel_first) {
            T* plane = image + t.c0 * st.channel;
            for (int64_t h = t.h0; h < t.h1; ++h)
                sum_pair(seq.at(b, 0, t.c0, h, t.w0), seq.at(b, 2, t.c0, h, t.w0), plane + h * st.row + t.w0,
                         t.w1 - t.w0);
            gather_pair_transposed<true>(seq.at(b, 1, t.c0, t.h0, t.w0), seq.order[1].w_step,
                                         seq.at(b, 3, t.c0, t.h0, t.w0), seq.order[3].w_step,
                                         plane + t.h0 * st.row + t.w0, st.row, t.w1 - t.w0, t.h1 - t.h0);
        } else {
            for (int64_t h = t.h0; h < t.h1; ++h)
                gather_pair_transposed<false>(seq.at(b, 0, t.c0, h, t.w0), seq.L, seq.at(b, 2, t.c0, h, t.w0), seq.L,
                                              image + h * st.row + t.w0 * st.col + t.c0, st.col, t.c1 - t.c0,
                                              t.w1 - t.w0);
            for (int64_t w = t.w0; w < t.w1; ++w)
                gather_pair_transposed<true>(seq.at(b, 1, t.c0, t.h0, w), seq.L, seq.at(b, 3, t.c0, t.h0, w), seq.L,
                                             image + t.h0 * st.row + w * st.col + t.c0, st.row, t.c1 - t.c0,
                                             t.h1 - t.h0);
        }
    });
}

template void cross_scan<float>(const ImageShape&, const float*, float*);
template void cross_scan<double>(const ImageShape&, const double*, double*);
template void cross_merge<float>(const ImageShape&, const float*, float*);
template void cross_merge<double>(const ImageShape&, const double*, double*);

}  // namespace ssmb::cpu
