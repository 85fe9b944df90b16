// CUDA cross scan / cross merge and patch merge (semantics in ssmbridge.h, index maps in
// common/cross_scan_index.h, shared with the CPU kernels). Each is a gather: one thread per output
// element reads its one source (or, for the merge, its four), so no two threads write one element.
#pragma once

#include <cuda_runtime.h>

#include "common/cross_scan_index.h"
#include "ssmbridge.h"

namespace ssmb::cuda {

void cross_scan(const ImageShape& s, ssmb_dtype dtype, const void* x, void* ys, cudaStream_t stream);
void cross_merge(const ImageShape& s, ssmb_dtype dtype, const void* ys, void* y, cudaStream_t stream);
void patch_merge_fwd(const ImageShape& s, ssmb_dtype dtype, const void* x, void* out, cudaStream_t stream);
void patch_merge_bwd(const ImageShape& s, ssmb_dtype dtype, const void* dout, void* dx, cudaStream_t stream);

}  // namespace ssmb::cuda
