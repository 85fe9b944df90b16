// Which CUDA devices exist, and on which device a call's buffers live.
#pragma once

#include <vector>

#include "validate.h"

namespace ssmb::cuda {

// Usable CUDA devices; 0 (not an error) when there is no driver or no device.
int device_count();

// The device every non-null buffer lives on. Throws, naming the buffer, when one is not CUDA device
// (or managed) memory or lives on another device than the first; throws SSMB_ERROR_UNSUPPORTED when
// there is no device at all.
int device_of(const std::vector<Buffer>& buffers);

}  // namespace ssmb::cuda
