// The scan kernels compiled for AVX2 + FMA (8 floats / 4 doubles per vector).
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

SSMB_TARGET_BEGIN("avx2,fma")
#include "cpu/vec_avx2.h"
#include "cpu/vec_math.h"
#include "cpu/scan_chunk_io.h"
#include "cpu/scan_kernel_bwd.h"
#include "cpu/scan_kernel_fwd.h"

namespace ssmb::cpu {

const ScanKernelTable avx2_kernels = SSMB_SCAN_KERNEL_TABLE(avx2::F32, avx2::F64);

}  // namespace ssmb::cpu
SSMB_TARGET_END

#endif
