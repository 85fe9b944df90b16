// CPU fused cross selective scan: the drivers around the selective-scan kernels (scan_kernels.h).
//
// Direction k of the cross scan, seen from pixel order: k = 0 scans the row-major pixels forwards
// and k = 2 backwards, so both run the kernels' forward and reverse scans on the inputs as they
// are; k = 1 and k = 3 do the same on the column-major order, for which a work item first copies
// its tile (kChannelTile channels of u, and of delta, B, C of the direction) into transposed
// per-thread buffers (a tile's worth, never a tensor's), and transposes the kernels' results back. A work item runs all four
// directions of its channels, so it merges their outputs itself, in cross_merge's order
// (y0 + y2) + (y1 + y3): the forward gives exactly the composition's values.
//
// Work items are (batch, tile) in the forward and (batch, block of tiles) in the backward. The
// backward's selective dB and dC sum over all channels of a direction: a block adds its tiles'
// contributions in order, block 0 into the gradient itself and every later block into a slice of
// the workspace, which are then added in block order. Blocks are sized from dim and N only
// (never from the thread count), so results are bitwise reproducible; more blocks balance
// threads better, fewer keep the workspace small (at most half the size of ddelta). Threads take
// items from a shared queue (thread_pool.h: parallel_queue); every item writes only its own outputs
// and slices, so which thread runs it changes no bit.
#include "cpu/cross_selective_scan.h"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <tuple>
#include <utility>

#include "common/cross_scan_index.h"
#include "cpu/block_transpose.h"
#include "cpu/isa.h"
#include "cpu/scan_kernels.h"
#include "cpu/scan_scratch.h"
#include "cpu/selective_scan_cpu.h"
#include "cpu/thread_pool.h"
#include "checked_size.h"
#include "selective_scan.h"

namespace ssmb::cpu {

namespace {

// ---- layout moves ----------------------------------------------------------------------------------

// Rows of H x W images between pixel order (h * W + w) and column-major order (w * H + h):
// dst[r * dst_row + w * H + h] = src[r * src_row + h * W + w] for rows r < rows. Square blocks go
// through register transposes (block_transpose.h). With Accumulate, dst += instead of =.
template <bool Accumulate, typename T>
void transpose_planes(const T* src, int64_t src_row, T* dst, int64_t dst_row, int64_t rows, int64_t H, int64_t W) {
    using Blk = Block<T>;
    constexpr int V = Blk::kLanes;
    auto one = [&](const T* s, T* d, int64_t h, int64_t w) {
        T& out = d[w * H + h];
        out = Accumulate ? out + s[h * W + w] : s[h * W + w];
    };
    for (int64_t r = 0; r < rows; ++r) {
        const T* s = src + r * src_row;
        T* d = dst + r * dst_row;
        int64_t h = 0;
        for (; h + V <= H; h += V) {
            int64_t w = 0;
            for (; w + V <= W; w += V) {
                typename Blk::Reg reg[V];
                for (int a = 0; a < V; ++a) reg[a] = Blk::load(s + (h + a) * W + w);
                Blk::transpose(reg);  // reg[a] = s[(h .. h + V - 1) * W + w + a]
                for (int a = 0; a < V; ++a) {
                    T* o = d + (w + a) * H + h;
                    Blk::store(o, Accumulate ? Blk::add(Blk::load(o), reg[a]) : reg[a]);
                }
            }
            for (; w < W; ++w)
                for (int a = 0; a < V; ++a) one(s, d, h + a, w);
        }
        for (; h < H; ++h)
            for (int64_t w = 0; w < W; ++w) one(s, d, h, w);
    }
}

// Pixel order to column-major order, and column-major order added back to pixel order.
template <typename T>
void to_columns(const T* src, int64_t src_row, T* dst, int64_t rows, int64_t H, int64_t W) {
    transpose_planes<false>(src, src_row, dst, H * W, rows, H, W);
}

template <bool Accumulate, typename T>
void from_columns(const T* src, T* dst, int64_t dst_row, int64_t rows, int64_t H, int64_t W) {
    transpose_planes<Accumulate>(src, H * W, dst, dst_row, rows, W, H);  // a (W, H) image back to (H, W)
}

// dst[r * dst_row + i] += src[r * L + i].
template <typename T>
void add_rows(const T* src, T* dst, int64_t dst_row, int64_t rows, int64_t L) {
    for (int64_t r = 0; r < rows; ++r) {
        T* d = dst + r * dst_row;
        const T* s = src + r * L;
        for (int64_t i = 0; i < L; ++i) d[i] += s[i];
    }
}

// ---- one call's geometry ---------------------------------------------------------------------------

// The directions in the order their outputs are merged: (0 + 2) + (1 + 3).
constexpr int kMergeOrder[kCrossScanDirections] = {0, 2, 1, 3};

struct Direction {
    int k;
    bool columns;  // column-major (k = 1, 3): read through the transposed buffers
    bool reverse;  // k = 2, 3
    explicit Direction(int k_) : k(k_), columns((k_ & 1) != 0), reverse(k_ >= 2) {}
};

struct Geometry {
    int64_t batch, dim, H, W, L, N, n_chunks, tiles;

    explicit Geometry(const CrossSelectiveScanParams& p)
        : batch(p.batch), dim(p.dim), H(p.height), W(p.width), L(p.L()), N(p.N), n_chunks(scan_num_chunks(p.L())),
          tiles((p.dim + kChannelTile - 1) / kChannelTile) {}

    int64_t tile_width(int64_t tile) const { return std::min(kChannelTile, dim - tile * kChannelTile); }
    // Row (b, c) of u, out, du, dout; row (b, k, c) of delta, ddelta; block (b, k) of B, C, dB, dC;
    // channel (k, c) of A, D, delta_bias and their gradients.
    int64_t image_row(int64_t b, int64_t c) const { return (b * dim + c) * L; }
    int64_t delta_row(int64_t b, int k, int64_t c) const { return ((b * kCrossScanDirections + k) * dim + c) * L; }
    int64_t state_block(int64_t b, int k) const { return (b * kCrossScanDirections + k) * N * L; }
    int64_t channel(int k, int64_t c) const { return k * dim + c; }
    int64_t chunk_states_of(int64_t b, int k, int64_t c) const {
        return (b * kCrossScanDirections * dim + channel(k, c)) * n_chunks * N;
    }
};

// Blocks of tiles of the backward (see the top of the file): at most 1 + dim / (4 N), so that the dB
// and dC partial sums of blocks 1.. (2 * 4 * (blocks - 1) * N * L elements per batch) take at most
// half the size of ddelta (4 * dim * L).
struct TileBlocks {
    int64_t per_block, count;

    explicit TileBlocks(const Geometry& g) {
        const int64_t wanted = std::clamp<int64_t>(1 + g.dim / (4 * g.N), 1, g.tiles);
        per_block = (g.tiles + wanted - 1) / wanted;
        count = (g.tiles + per_block - 1) / per_block;
    }
};

// Workspace of the backward, in elements: dB and dC of blocks 1.. per (b, k); dA, dD, ddelta_bias
// per batch when batch > 1 (reduced over the batch afterwards, in order).
struct BackwardWorkspace {
    int64_t dB = 0, dC = 0, dA = 0, dD = 0, ddelta_bias = 0, elements = 0;
    int64_t block_stride = 0;  // elements between consecutive (b, k) in the dB / dC partials

    BackwardWorkspace(const Geometry& g, const TileBlocks& blocks) {
        block_stride = size_product({blocks.count - 1, g.N, g.L}, "workspace");
        const int64_t partials = size_product({g.batch, kCrossScanDirections, block_stride}, "workspace");
        const int64_t per_batch = g.batch > 1 ? g.batch : 0;
        const int64_t channels = kCrossScanDirections * g.dim;
        dB = take_part(elements, partials);
        dC = take_part(elements, partials);
        dA = take_part(elements, size_product({per_batch, channels, g.N}, "workspace"));
        dD = take_part(elements, per_batch * channels);
        ddelta_bias = take_part(elements, per_batch * channels);
    }

    // Where block `block` of direction k of batch b adds its dB or dC (output: the gradient).
    template <typename T>
    T* partial(T* output, T* workspace, int64_t offset, const Geometry& g, int64_t b, int k, int64_t block) const {
        if (block == 0) return output + g.state_block(b, k);
        return workspace + offset + (b * kCrossScanDirections + k) * block_stride + (block - 1) * g.N * g.L;
    }
};

// The selective-scan call the kernels see for direction d of one tile: batch 1, dim = the tile's
// width, one group, every pointer moved to the tile's first channel.
template <typename T>
SelectiveScanParams tile_call(const CrossSelectiveScanParams& p, const Geometry& g, const Direction& d,
                              int64_t d_begin, int64_t width, const T* u, const T* delta, const T* B, const T* C) {
    SelectiveScanParams s;
    s.batch = 1;
    s.dim = width;
    s.L = g.L;
    s.N = g.N;
    s.groups = 1;
    s.B_selective = s.C_selective = true;
    s.delta_softplus = p.delta_softplus;
    s.reverse = d.reverse;
    const int64_t ch = g.channel(d.k, d_begin);
    s.u = u, s.delta = delta, s.B = B, s.C = C;
    s.A = static_cast<const T*>(p.A) + ch * g.N;
    s.D = p.D ? static_cast<const T*>(p.D) + ch : nullptr;
    s.delta_bias = p.delta_bias ? static_cast<const T*>(p.delta_bias) + ch : nullptr;
    return s;
}

// The buffers of one thread's slice of work items, 64-byte aligned regions: the kernel's scratch
// first, then tile-sized sequences (kChannelTile x L) and state-sized ones (N x L). B and C of the
// two column-major directions are kept per batch (every tile of a direction reads the same ones),
// so a slice transposes them once per batch rather than once per tile.
template <typename T>
struct ItemBuffers {
    T* kernel;
    T *u_cols, *delta_cols, *dout_cols, *seq_a, *seq_b, *seq_c;  // kChannelTile x L
    T *B_cols[2], *C_cols[2], *dB, *dC;                          // N x L; [k / 2] for k = 1, 3
    int64_t elements;

    ItemBuffers(int64_t kernel_elements, const Geometry& g, T* base) {
        ScratchCarver<T> c(base);
        auto aligned = [](int64_t n) { return (n + 15) / 16 * 16; };
        kernel = c.take(aligned(kernel_elements));
        for (T** seq : {&u_cols, &delta_cols, &dout_cols, &seq_a, &seq_b, &seq_c}) *seq = c.take(aligned(kChannelTile * g.L));
        for (T** st : {&B_cols[0], &B_cols[1], &C_cols[0], &C_cols[1], &dB, &dC}) *st = c.take(aligned(g.N * g.L));
        elements = c.used();
    }
};

// B and C of column-major direction k of batch b, transposed once per batch in a slice.
template <typename T>
class ColumnStates {
public:
    ColumnStates(const ItemBuffers<T>& buf, const Geometry& g) : buf_(buf), g_(g) {}

    // (B, C) of direction k (1 or 3) of batch b in column-major order, from their pixel-order blocks.
    std::pair<const T*, const T*> get(int k, int64_t b, const T* B, const T* C) {
        const int slot = k >> 1;
        if (batch_[slot] != b) {
            to_columns(B, g_.L, buf_.B_cols[slot], g_.N, g_.H, g_.W);
            to_columns(C, g_.L, buf_.C_cols[slot], g_.N, g_.H, g_.W);
            batch_[slot] = b;
        }
        return {buf_.B_cols[slot], buf_.C_cols[slot]};
    }

private:
    const ItemBuffers<T>& buf_;
    const Geometry& g_;
    int64_t batch_[2] = {-1, -1};
};

// A slice's buffer of `elements` values, 64-byte aligned and uninitialized (unlike ScratchBuffer):
// the buffers are sized by L, and clearing them on every call would cost more than the transposes
// they serve. Allocated per call rather than cached per thread: a backward often runs on another
// thread (autograd's) than its forward, and a cache per thread would hold both.
template <typename T>
class SliceBuffer {
public:
    explicit SliceBuffer(int64_t elements)
        : size_(static_cast<size_t>(elements) * sizeof(T)), bytes_(new unsigned char[size_ + 64]) {}
    T* data() {
        void* p = bytes_.get();
        size_t space = size_ + 64;
        return static_cast<T*>(std::align(64, size_, p, space));
    }

private:
    size_t size_;
    std::unique_ptr<unsigned char[]> bytes_;
};

// out[j] = out[j] + sum over p = 0..count-1 of parts[p * stride + j], for j < size, in parallel over
// fixed blocks of j (so the order of every sum is fixed).
template <typename T>
void add_partials(T* out, const T* parts, int64_t count, int64_t stride, int64_t size, bool out_is_first) {
    constexpr int64_t kBlock = 4096;
    const int64_t blocks = (size + kBlock - 1) / kBlock;
    parallel_for(blocks, [&](int64_t begin, int64_t end) {
        for (int64_t blk = begin; blk < end; ++blk) {
            const int64_t j0 = blk * kBlock, j1 = std::min(size, j0 + kBlock);
            for (int64_t q = 0; q < count; ++q) {
                const T* part = parts + q * stride;
                if (q == 0 && !out_is_first)
                    std::copy(part + j0, part + j1, out + j0);
                else
                    for (int64_t j = j0; j < j1; ++j) out[j] += part[j];
            }
        }
    });
}

}  // namespace

// ---- forward ------------------------------------------------------------------------------------------

template <typename T>
void cross_selective_scan_fwd(const CrossSelectiveScanParams& p) {
    const Geometry g(p);
    const auto forward_item = kernels_for<T>(active_isa()).forward;
    const int64_t kernel_elements = ForwardScratch<T>(g.N, nullptr).elements;
    const int64_t buffer_elements = ItemBuffers<T>(kernel_elements, g, nullptr).elements;
    const T* const u = static_cast<const T*>(p.u);
    const T* const delta = static_cast<const T*>(p.delta);
    const T* const Bs = static_cast<const T*>(p.B);
    const T* const Cs = static_cast<const T*>(p.C);
    T* const out = static_cast<T*>(p.out);
    T* const chunk_states = static_cast<T*>(p.chunk_states);

    parallel_queue(g.batch * g.tiles, [&](WorkQueue& queue, int own) {
        SliceBuffer<T> storage(buffer_elements);
        const ItemBuffers<T> buf(kernel_elements, g, storage.data());
        ColumnStates<T> column_states(buf, g);
        for (int64_t item; (item = queue.next(own)) >= 0;) {
            const int64_t b = item / g.tiles, tile = item % g.tiles;
            const int64_t d_begin = tile * kChannelTile, width = g.tile_width(tile);
            const T* u_tile = u + g.image_row(b, d_begin);
            T* y = out + g.image_row(b, d_begin);
            to_columns(u_tile, g.L, buf.u_cols, width, g.H, g.W);
            for (int k : kMergeOrder) {
                const Direction d(k);
                const T* delta_tile = delta + g.delta_row(b, k, d_begin);
                const T* B = Bs + g.state_block(b, k);
                const T* C = Cs + g.state_block(b, k);
                if (d.columns) {
                    to_columns(delta_tile, g.L, buf.delta_cols, width, g.H, g.W);
                    std::tie(B, C) = column_states.get(k, b, B, C);
                }
                const SelectiveScanParams call =
                    d.columns ? tile_call<T>(p, g, d, d_begin, width, buf.u_cols, buf.delta_cols, B, C)
                              : tile_call<T>(p, g, d, d_begin, width, u_tile, delta_tile, B, C);
                // y0 straight into the output; y2 and y1 into buffers; y3 next to y1.
                T* target = k == 0 ? y : k == 3 ? buf.seq_b : buf.seq_a;
                const ForwardOutputs<T> outputs{target, chunk_states + g.chunk_states_of(b, k, d_begin), nullptr};
                forward_item(ScanInputs<T>(call), ScanWorkItem{0, 0, 0, 0, width}, outputs, buf.kernel);
                if (k == 2) add_rows(buf.seq_a, y, g.L, width, g.L);
                if (k == 3) {
                    add_rows(buf.seq_b, buf.seq_a, g.L, width, g.L);  // y1 + y3, in column-major order
                    from_columns<true>(buf.seq_a, y, g.L, width, g.H, g.W);
                }
            }
        }
    });
}

// ---- backward -----------------------------------------------------------------------------------------

int64_t cross_selective_scan_bwd_workspace_bytes(const CrossSelectiveScanParams& p, int64_t elem_size) {
    const Geometry g(p);
    return size_product({BackwardWorkspace(g, TileBlocks(g)).elements, elem_size}, "workspace");
}

template <typename T>
void cross_selective_scan_bwd(const CrossSelectiveScanParams& p) {
    const Geometry g(p);
    const TileBlocks blocks(g);
    const BackwardWorkspace ws(g, blocks);
    const auto backward_item = kernels_for<T>(active_isa()).backward;
    const int64_t kernel_elements = BackwardScratch<T>(g.N, nullptr).elements;
    const int64_t buffer_elements = ItemBuffers<T>(kernel_elements, g, nullptr).elements;
    const T* const u = static_cast<const T*>(p.u);
    const T* const delta = static_cast<const T*>(p.delta);
    const T* const Bs = static_cast<const T*>(p.B);
    const T* const Cs = static_cast<const T*>(p.C);
    const T* const chunk_states = static_cast<const T*>(p.chunk_states);
    const T* const dout = static_cast<const T*>(p.dout);
    T* const du = static_cast<T*>(p.du);
    T* const ddelta = static_cast<T*>(p.ddelta);
    T* const dA = static_cast<T*>(p.dA);
    T* const dB = static_cast<T*>(p.dB);
    T* const dC = static_cast<T*>(p.dC);
    T* const dD = static_cast<T*>(p.dD);
    T* const ddelta_bias = static_cast<T*>(p.ddelta_bias);
    T* const workspace = static_cast<T*>(p.workspace);
    const int64_t channels = kCrossScanDirections * g.dim;
    const bool per_batch = g.batch > 1;

    parallel_queue(g.batch * blocks.count, [&](WorkQueue& queue, int own) {
        SliceBuffer<T> storage(buffer_elements);
        const ItemBuffers<T> buf(kernel_elements, g, storage.data());
        ColumnStates<T> column_states(buf, g);
        for (int64_t item; (item = queue.next(own)) >= 0;) {
            const int64_t b = item / blocks.count, block = item % blocks.count;
            const int64_t first_tile = block * blocks.per_block;
            const int64_t last_tile = std::min(g.tiles, first_tile + blocks.per_block);
            // Sums over the batch: this batch's slice of the workspace, or the gradient itself.
            auto batch_slice = [&](T* output, int64_t offset, int64_t size) -> T* {
                if (!output) return nullptr;
                return per_batch ? workspace + offset + b * size : output;
            };
            T* const dA_b = batch_slice(dA, ws.dA, channels * g.N);
            T* const dD_b = batch_slice(dD, ws.dD, channels);
            T* const ddelta_bias_b = batch_slice(ddelta_bias, ws.ddelta_bias, channels);
            for (int64_t tile = first_tile; tile < last_tile; ++tile) {
                const bool first = tile == first_tile;
                const int64_t d_begin = tile * kChannelTile, width = g.tile_width(tile);
                const T* u_tile = u + g.image_row(b, d_begin);
                const T* dout_tile = dout + g.image_row(b, d_begin);
                T* du_tile = du + g.image_row(b, d_begin);
                to_columns(u_tile, g.L, buf.u_cols, width, g.H, g.W);
                to_columns(dout_tile, g.L, buf.dout_cols, width, g.H, g.W);
                for (int k : kMergeOrder) {
                    const Direction d(k);
                    const T* delta_tile = delta + g.delta_row(b, k, d_begin);
                    T* ddelta_tile = ddelta + g.delta_row(b, k, d_begin);
                    const T* B = Bs + g.state_block(b, k);
                    const T* C = Cs + g.state_block(b, k);
                    if (d.columns) {
                        to_columns(delta_tile, g.L, buf.delta_cols, width, g.H, g.W);
                        std::tie(B, C) = column_states.get(k, b, B, C);
                    }
                    const SelectiveScanParams call =
                        d.columns ? tile_call<T>(p, g, d, d_begin, width, buf.u_cols, buf.delta_cols, B, C)
                                  : tile_call<T>(p, g, d, d_begin, width, u_tile, delta_tile, B, C);
                    const BackwardInputs<T> inputs{chunk_states + g.chunk_states_of(b, k, d_begin),
                                                   d.columns ? buf.dout_cols : dout_tile, nullptr};
                    // du0 straight into du, du2 and du1 into buffers, du3 next to du1; ddelta of the
                    // row-major directions straight into ddelta.
                    T* du_target = k == 0 ? du_tile : k == 3 ? buf.seq_b : buf.seq_a;
                    const BackwardOutputs<T> outputs{du_target, d.columns ? buf.seq_c : ddelta_tile, nullptr};
                    // The first tile of a block writes its row-major dB, dC where the block sums them.
                    T* dB_sum = ws.partial(dB, workspace, ws.dB, g, b, k, block);
                    T* dC_sum = ws.partial(dC, workspace, ws.dC, g, b, k, block);
                    const bool direct = first && !d.columns;
                    const int64_t ch = g.channel(k, d_begin);
                    const ItemTargets<T> targets{direct ? dB_sum : buf.dB,
                                                 direct ? dC_sum : buf.dC,
                                                 dA_b + ch * g.N,
                                                 nullptr,
                                                 nullptr,
                                                 dD_b ? dD_b + ch : nullptr,
                                                 ddelta_bias_b ? ddelta_bias_b + ch : nullptr};
                    backward_item(ScanInputs<T>(call), ScanWorkItem{0, 0, 0, 0, width}, inputs, outputs, targets,
                                  buf.kernel);
                    if (k == 2) add_rows(buf.seq_a, du_tile, g.L, width, g.L);
                    if (k == 3) {
                        add_rows(buf.seq_b, buf.seq_a, g.L, width, g.L);
                        from_columns<true>(buf.seq_a, du_tile, g.L, width, g.H, g.W);
                    }
                    if (d.columns) {
                        from_columns<false>(buf.seq_c, ddelta_tile, g.L, width, g.H, g.W);
                        if (first) {
                            from_columns<false>(buf.dB, dB_sum, g.L, g.N, g.H, g.W);
                            from_columns<false>(buf.dC, dC_sum, g.L, g.N, g.H, g.W);
                        } else {
                            from_columns<true>(buf.dB, dB_sum, g.L, g.N, g.H, g.W);
                            from_columns<true>(buf.dC, dC_sum, g.L, g.N, g.H, g.W);
                        }
                    } else if (!first) {
                        add_rows(buf.dB, dB_sum, g.L, g.N, g.L);
                        add_rows(buf.dC, dC_sum, g.L, g.N, g.L);
                    }
                }
            }
        }
    });

    // Blocks 1.. of dB and dC onto block 0, in block order.
    if (blocks.count > 1) {
        for (int64_t bk = 0; bk < g.batch * kCrossScanDirections; ++bk) {
            const int64_t b = bk / kCrossScanDirections;
            const int k = static_cast<int>(bk % kCrossScanDirections);
            add_partials(dB + g.state_block(b, k), ws.partial(dB, workspace, ws.dB, g, b, k, 1), blocks.count - 1,
                         g.N * g.L, g.N * g.L, true);
            add_partials(dC + g.state_block(b, k), ws.partial(dC, workspace, ws.dC, g, b, k, 1), blocks.count - 1,
                         g.N * g.L, g.N * g.L, true);
        }
    }
    // Sums over the batch, in batch order.
    if (per_batch) {
        add_partials(dA, workspace + ws.dA, g.batch, channels * g.N, channels * g.N, false);
        if (dD) add_partials(dD, workspace + ws.dD, g.batch, channels, channels, false);
        if (ddelta_bias) add_partials(ddelta_bias, workspace + ws.ddelta_bias, g.batch, channels, channels, false);
    }
}

template void cross_selective_scan_fwd<float>(const CrossSelectiveScanParams& p);
template void cross_selective_scan_fwd<double>(const CrossSelectiveScanParams& p);
template void cross_selective_scan_bwd<float>(const CrossSelectiveScanParams& p);
template void cross_selective_scan_bwd<double>(const CrossSelectiveScanParams& p);

}  // namespace ssmb::cpu
