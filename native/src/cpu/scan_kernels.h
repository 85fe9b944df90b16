// The per-item kernels of each ISA, and the table the drivers (selective_scan_fwd.cpp,
// selective_scan_bwd.cpp) pick them from. Each table is defined in selective_scan_<isa>.cpp,
// where scan_kernel_fwd.h and scan_kernel_bwd.h are compiled for that ISA's vector types.
#pragma once

#include <type_traits>

#include "cpu/isa.h"
#include "cpu/selective_scan_cpu.h"

namespace ssmb::cpu {

template <typename T>
struct ScanKernels {
    // scratch: ForwardScratch<T>(N).elements / BackwardScratch<T>(N).elements, 64-byte aligned.
    void (*forward)(const ScanInputs<T>& in, const ScanWorkItem& w, const ForwardOutputs<T>& out, T* scratch);
    void (*backward)(const ScanInputs<T>& in, const ScanWorkItem& w, const BackwardInputs<T>& bin,
                     const BackwardOutputs<T>& out, const ItemTargets<T>& targets, T* scratch);
    // scratch: backward_slab_scratch_elements<T>(N, count).
    void (*backward_slab)(const ScanInputs<T>& in, const ScanWorkItem* items, int count, const BackwardInputs<T>& bin,
                          const BackwardOutputs<T>& out, const ItemTargets<T>* targets, T* dB_block, T* dC_block,
                          T* scratch);
};

struct ScanKernelTable {
    ScanKernels<float> f32;
    ScanKernels<double> f64;
};

extern const ScanKernelTable scalar_kernels;
#if defined(SSMB_CPU_X86_64)
extern const ScanKernelTable avx2_kernels;
extern const ScanKernelTable avx512_kernels;
#endif
#if defined(SSMB_CPU_ARM64)
extern const ScanKernelTable neon_kernels;
#endif

template <typename T>
const ScanKernels<T>& kernels_for(Isa isa) {
    const ScanKernelTable* table = &scalar_kernels;
#if defined(SSMB_CPU_X86_64)
    if (isa == Isa::avx2) table = &avx2_kernels;
    if (isa == Isa::avx512) table = &avx512_kernels;
#endif
#if defined(SSMB_CPU_ARM64)
    if (isa == Isa::neon) table = &neon_kernels;
#endif
    if constexpr (std::is_same_v<T, float>)
        return table->f32;
    else
        return table->f64;
}

// The table of one ISA from its vector types (used in selective_scan_<isa>.cpp).
#define SSMB_SCAN_KERNEL_TABLE(F32, F64) \
    {{&forward_item<F32>, &backward_item<F32>, &backward_slab<F32>}, \
     {&forward_item<F64>, &backward_item<F64>, &backward_slab<F64>}}

}  // namespace ssmb::cpu
