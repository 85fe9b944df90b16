// The scan kernels compiled for AVX-512 (16 floats / 8 doubles per vector).
#include "cpu/isa.h"

#if defined(SSMB_CPU_X86_64)

#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <type_traits>
#include <vector>

#include "cpu/scan_kernels.h"
#include "cpu/scan_scratch.h"
#include "cpu/scan_tile_chunk.h"
#include "cpu/selective_scan_cpu.h"
#include "cpu/simd_target.h"

// GCC 12 warns about the deliberately undefined vectors inside its own AVX-512 intrinsics.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

SSMB_TARGET_BEGIN("avx512f,avx512dq,avx512bw,avx512vl,avx2,fma")
#include "cpu/vec_avx512.h"
#include "cpu/vec_math.h"
#include "cpu/scan_chunk_io.h"
#include "cpu/scan_kernel_bwd.h"
#include "cpu/scan_kernel_fwd.h"

namespace ssmb::cpu {

const ScanKernelTable avx512_kernels = SSMB_SCAN_KERNEL_TABLE(avx512::F32, avx512::F64);

}  // namespace ssmb::cpu
SSMB_TARGET_END

#endif
