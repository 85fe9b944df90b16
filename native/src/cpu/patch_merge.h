// CPU patch merging, forward and backward (float and double; see ssmbridge.h for the layouts).
#pragma once

#include "common/cross_scan_index.h"

namespace ssmb::cpu {

// out (merged image) from x; s describes x.
template <typename T>
void patch_merge_fwd(const ImageShape& s, const T* x, T* out);

// dx from dout (shaped like out); s describes x.
template <typename T>
void patch_merge_bwd(const ImageShape& s, const T* dout, T* dx);

}  // namespace ssmb::cpu
