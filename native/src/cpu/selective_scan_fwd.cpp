// Forward selective scan on the CPU: runs the active ISA's per-item kernel (scan_kernel_fwd.h)
// over the work items, each thread with its own scratch, taking items from a shared queue
// (thread_pool.h: parallel_queue). Items write disjoint outputs, so which thread runs which changes no bit.
#include "cpu/isa.h"
#include "cpu/scan_kernels.h"
#include "cpu/scan_scratch.h"
#include "cpu/selective_scan_cpu.h"
#include "cpu/thread_pool.h"

namespace ssmb::cpu {

template <typename T>
void selective_scan_fwd(const SelectiveScanParams& p) {
    const ScanInputs<T> in(p);
    const ScanWorkItems items(p);
    const ForwardOutputs<T> out{static_cast<T*>(p.out), static_cast<T*>(p.chunk_states),
                                static_cast<T*>(p.last_state)};
    const auto forward_item = kernels_for<T>(active_isa()).forward;
    const int64_t scratch_elements = ForwardScratch<T>(p.N, nullptr).elements;
    parallel_queue(items.count, [&](WorkQueue& queue, int own) {
        ScratchBuffer<T> scratch(scratch_elements);
        for (int64_t item; (item = queue.next(own)) >= 0;) forward_item(in, items[item], out, scratch.data());
    });
}

template void selective_scan_fwd<float>(const SelectiveScanParams& p);
template void selective_scan_fwd<double>(const SelectiveScanParams& p);

}  // namespace ssmb::cpu
