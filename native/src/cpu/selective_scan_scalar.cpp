// The scan kernels for one lane at a time: the path for CPUs without a vector ISA this build knows.
#include "cpu/scan_kernels.h"
#include "cpu/vec_scalar.h"
#include "cpu/vec_math.h"
#include "cpu/scan_kernel_bwd.h"
#include "cpu/scan_kernel_fwd.h"

namespace ssmb::cpu {

const ScanKernelTable scalar_kernels = SSMB_SCAN_KERNEL_TABLE(scalar::Vec<float>, scalar::Vec<double>);

}  // namespace ssmb::cpu
