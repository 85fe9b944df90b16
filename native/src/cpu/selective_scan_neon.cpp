// The scan kernels on AArch64 Advanced SIMD (4 floats / 2 doubles per vector).
#include "cpu/isa.h"

#if defined(SSMB_CPU_ARM64)

#include "cpu/scan_kernels.h"
#include "cpu/vec_neon.h"
#include "cpu/vec_math.h"
#include "cpu/scan_kernel_bwd.h"
#include "cpu/scan_kernel_fwd.h"

namespace ssmb::cpu {

const ScanKernelTable neon_kernels = SSMB_SCAN_KERNEL_TABLE(neon::F32, neon::F64);

}  // namespace ssmb::cpu

#endif
