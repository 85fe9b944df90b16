// Backward selective scan on the CPU: runs the active ISA's per-item kernel (scan_kernel_bwd.h)
// over the work items, or its slab kernel over slabs of consecutive tiles (see slab_tiles).
// Gradients summed over more than one work item (over batch, or over the channel tiles of a group)
// go through per-item (per-slab) partial slices of the workspace and are then reduced in a fixed
// order, so results do not depend on the thread count, nor on which thread runs an item (threads
// take items from a shared queue, thread_pool.h: parallel_queue).
#include <algorithm>

#include "cpu/isa.h"
#include "cpu/scan_kernels.h"
#include "cpu/scan_scratch.h"
#include "cpu/selective_scan_cpu.h"
#include "cpu/thread_pool.h"
#include "checked_size.h"

namespace ssmb::cpu {

namespace {

// Where the partial sums live in the workspace, in elements of the weight type. A gradient with a
// single contributor per element is written straight into its output and takes no space here.
struct WorkspaceLayout {
    int64_t tiles_per_group = 1;
    // Selective dB / dC: one (N, L) block per (b, g, tile). Slabs use the block of their first tile.
    // (Sizing it for the slabs only would shrink it; kept, because the workspace's size steers
    // glibc's malloc thresholds in training loops: see "Tried and reverted" in bench/RESULTS.md.)
    bool per_tile_partials = false;
    bool per_batch_partials = false;  // dA, time-invariant dB / dC, dD, ddelta_bias: one per batch
    int64_t dB_selective = 0, dC_selective = 0;
    int64_t dA = 0, dB_invariant = 0, dC_invariant = 0, dD = 0, ddelta_bias = 0;
    int64_t elements = 0;

    explicit WorkspaceLayout(const SelectiveScanParams& p) {
        tiles_per_group = ScanWorkItems(p).tiles_per_group;
        per_tile_partials = tiles_per_group > 1;
        per_batch_partials = p.batch > 1;
        const int64_t tile_block =
            per_tile_partials ? size_product({p.batch, p.groups, tiles_per_group, p.N, p.L}, "workspace") : 0;
        const int64_t batch_matrix = per_batch_partials ? size_product({p.batch, p.dim, p.N}, "workspace") : 0;
        // dD and ddelta_bias are reserved even when D / delta_bias are absent: the size query
        // does not know about the optional inputs.
        const int64_t batch_vector = per_batch_partials ? size_product({p.batch, p.dim}, "workspace") : 0;
        dB_selective = take_part(elements, p.B_selective ? tile_block : 0);
        dC_selective = take_part(elements, p.C_selective ? tile_block : 0);
        dA = take_part(elements, batch_matrix);
        dB_invariant = take_part(elements, p.B_selective ? 0 : batch_matrix);
        dC_invariant = take_part(elements, p.C_selective ? 0 : batch_matrix);
        dD = take_part(elements, batch_vector);
        ddelta_bias = take_part(elements, batch_vector);
    }
};

// out[o, j] = sum over p = 0..count-1, in that order, of partials[o, p, j]; partial p of o
// starts at o * outer_stride + p * stride (default: (outer, count, inner) contiguous), out is
// (outer, inner). Blocks of consecutive j are summed a whole partial row at a time, so the loops
// read memory in order and vectorize.
template <typename T>
void reduce_partials(const T* partials, int64_t outer, int64_t count, int64_t inner, T* out, int64_t stride = 0,
                     int64_t outer_stride = 0) {
    if (stride == 0) stride = inner;
    if (outer_stride == 0) outer_stride = count * stride;
    constexpr int64_t kBlock = 2048;
    const int64_t blocks_per_row = (inner + kBlock - 1) / kBlock;
    parallel_for(outer * blocks_per_row, [&](int64_t begin, int64_t end) {
        for (int64_t block = begin; block < end; ++block) {
            const int64_t o = block / blocks_per_row;
            const int64_t j0 = (block % blocks_per_row) * kBlock;
            const int64_t size = std::min(kBlock, inner - j0);
            T* sum = out + o * inner + j0;
            const T* part = partials + o * outer_stride + j0;
            std::copy_n(part, size, sum);
            for (int64_t p = 1; p < count; ++p) {
                part += stride;
                for (int64_t j = 0; j < size; ++j) sum[j] += part[j];
            }
        }
    });
}

// Tiles per backward slab (scan_kernel_bwd.h: backward_slab): with selective B or C and N >= 4, up
// to kMaxSlabTiles tiles of a group share one reduction of their dB / dC terms over the lanes and
// one partial slice, as long as that leaves at least 16 work units in the call. Depends only on the
// sizes, so the sums' order does not depend on the thread count. With N < 4 those reductions are
// a small part of the backward, so slabs are not used there (their gain was measured at N = 16).
int64_t slab_tiles(const SelectiveScanParams& p, int64_t tiles_per_group) {
    if (!(p.B_selective || p.C_selective) || p.N < 4) return 1;
    const int64_t tiles = p.batch * p.groups * tiles_per_group;
    return std::clamp<int64_t>(tiles / 16, 1, std::min<int64_t>(kMaxSlabTiles, tiles_per_group));
}

}  // namespace

int64_t selective_scan_bwd_workspace_bytes(const SelectiveScanParams& p, int64_t elem_size) {
    return size_product({WorkspaceLayout(p).elements, elem_size}, "workspace");
}

template <typename T>
void selective_scan_bwd(const SelectiveScanParams& p) {
    const ScanInputs<T> in(p);
    const ScanWorkItems items(p);
    const WorkspaceLayout layout(p);
    T* const workspace = static_cast<T*>(p.workspace);
    T* const dA = static_cast<T*>(p.dA);
    T* const dB = static_cast<T*>(p.dB);
    T* const dC = static_cast<T*>(p.dC);
    T* const dD = static_cast<T*>(p.dD);
    T* const ddelta_bias = static_cast<T*>(p.ddelta_bias);
    const BackwardInputs<T> bin{static_cast<const T*>(p.chunk_states), static_cast<const T*>(p.dout),
                                static_cast<const T*>(p.dlast_state)};
    const BackwardOutputs<T> out{static_cast<T*>(p.du), static_cast<T*>(p.ddelta), static_cast<T*>(p.dz)};
    const int64_t NL = p.N * p.L;

    auto targets_of = [&](const ScanWorkItem& w) {
        const int64_t block = (w.b * p.groups + w.g) * layout.tiles_per_group + w.tile;
        auto tile_block = [&](T* output, int64_t offset) {
            return layout.per_tile_partials ? workspace + offset + block * NL : output + (w.b * p.groups + w.g) * NL;
        };
        auto batch_slice = [&](T* output, int64_t offset, int64_t size) {
            if (!output) return output;
            return layout.per_batch_partials ? workspace + offset + w.b * size : output;
        };
        const int64_t matrix = p.dim * p.N;
        return ItemTargets<T>{p.B_selective ? tile_block(dB, layout.dB_selective) : nullptr,
                              p.C_selective ? tile_block(dC, layout.dC_selective) : nullptr,
                              batch_slice(dA, layout.dA, matrix),
                              p.B_selective ? nullptr : batch_slice(dB, layout.dB_invariant, matrix),
                              p.C_selective ? nullptr : batch_slice(dC, layout.dC_invariant, matrix),
                              batch_slice(dD, layout.dD, p.dim),
                              batch_slice(ddelta_bias, layout.ddelta_bias, p.dim)};
    };

    const ScanKernels<T>& kernels = kernels_for<T>(active_isa());
    const int64_t tiles = items.tiles_per_group;
    const int64_t slab = slab_tiles(p, tiles), slabs = (tiles + slab - 1) / slab;
    if (slab == 1) {
        const int64_t scratch_elements = BackwardScratch<T>(p.N, nullptr).elements;
        parallel_queue(items.count, [&](WorkQueue& queue, int own) {
            ScratchBuffer<T> scratch(scratch_elements);
            for (int64_t item; (item = queue.next(own)) >= 0;) {
                const ScanWorkItem w = items[item];
                kernels.backward(in, w, bin, out, targets_of(w), scratch.data());
            }
        });
    } else {
        // Slab s of (b, g) holds tiles s * slab ..; with more than one slab per group, it writes its
        // selective dB / dC into the partial slice of its first tile, and those are summed below.
        parallel_queue(p.batch * p.groups * slabs, [&](WorkQueue& queue, int own) {
            ScratchBuffer<T> scratch(backward_slab_scratch_elements<T>(p.N, slab));
            ScanWorkItem slab_items[kMaxSlabTiles];
            ItemTargets<T> slab_targets[kMaxSlabTiles];
            for (int64_t unit; (unit = queue.next(own)) >= 0;) {
                const int64_t bg = unit / slabs, first = (unit % slabs) * slab;
                const int count = static_cast<int>(std::min(slab, tiles - first));
                for (int i = 0; i < count; ++i) {
                    slab_items[i] = items[bg * tiles + first + i];
                    slab_targets[i] = targets_of(slab_items[i]);
                }
                T* const dB_block = !p.B_selective ? nullptr : slabs > 1 ? slab_targets[0].dB_block : dB + bg * NL;
                T* const dC_block = !p.C_selective ? nullptr : slabs > 1 ? slab_targets[0].dC_block : dC + bg * NL;
                kernels.backward_slab(in, slab_items, count, bin, out, slab_targets, dB_block, dC_block,
                                      scratch.data());
            }
        });
    }

    if (layout.per_tile_partials && slabs > 1) {
        // One partial per slab (per tile without slabs): the slices of tiles 0, slab, 2 slab, ...
        const int64_t blocks = p.batch * p.groups;
        if (p.B_selective)
            reduce_partials(workspace + layout.dB_selective, blocks, slabs, NL, dB, slab * NL, tiles * NL);
        if (p.C_selective)
            reduce_partials(workspace + layout.dC_selective, blocks, slabs, NL, dC, slab * NL, tiles * NL);
    }
    if (layout.per_batch_partials) {
        const int64_t matrix = p.dim * p.N;
        reduce_partials(workspace + layout.dA, 1, p.batch, matrix, dA);
        if (!p.B_selective) reduce_partials(workspace + layout.dB_invariant, 1, p.batch, matrix, dB);
        if (!p.C_selective) reduce_partials(workspace + layout.dC_invariant, 1, p.batch, matrix, dC);
        if (dD) reduce_partials(workspace + layout.dD, 1, p.batch, p.dim, dD);
        if (ddelta_bias) reduce_partials(workspace + layout.ddelta_bias, 1, p.batch, p.dim, ddelta_bias);
    }
}

template void selective_scan_bwd<float>(const SelectiveScanParams& p);
template void selective_scan_bwd<double>(const SelectiveScanParams& p);

}  // namespace ssmb::cpu
