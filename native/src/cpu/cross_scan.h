// CPU cross scan and cross merge (float and double; see ssmbridge.h for the math and layouts).
#pragma once

#include "common/cross_scan_index.h"

namespace ssmb::cpu {

// ys (batch, 4, channels, L) from the image x stored as s says.
template <typename T>
void cross_scan(const ImageShape& s, const T* x, T* ys);

// y (the image layout of s with height and width flattened) from ys (batch, 4, channels, L).
template <typename T>
void cross_merge(const ImageShape& s, const T* ys, T* y);

}  // namespace ssmb::cpu
