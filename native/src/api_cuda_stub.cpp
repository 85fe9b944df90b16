// The C ABI's CUDA entry points in a build without CUDA: each answers SSMB_ERROR_UNSUPPORTED with a
// message saying so, and ssmb_cuda_device_count reports 0 devices. A CUDA build compiles
// api_cuda.cpp instead.
#include "error.h"
#include "ssmbridge.h"
#include "validate.h"

namespace {

ssmb_status built_without_cuda(const char* entry_point) {
    return ssmb::guarded([&] {
        throw ssmb::Error(SSMB_ERROR_UNSUPPORTED, std::string(entry_point) +
                                                      ": this libssmbridge was built without CUDA (ssmb_has_cuda() "
                                                      "is 0); rebuild with nvcc available and -DSSMB_CUDA=ON");
    });
}

}  // namespace

extern "C" {

SSMB_API ssmb_status ssmb_cuda_device_count(int32_t* count) {
    return ssmb::guarded([&] {
        ssmb::require(count != nullptr, "count: expected a pointer to receive the count, got null");
        *count = 0;
    });
}

SSMB_API ssmb_status ssmb_selective_scan_fwd_cuda(ssmb_dtype, ssmb_dtype, int64_t, int64_t, int64_t, int64_t,
                                                  int64_t, int32_t, int32_t, const void*, const void*, const void*,
                                                  const void*, const void*, const void*, const void*, const void*,
                                                  int32_t, int32_t, void*, void*, void*, void*) {
    return built_without_cuda("ssmb_selective_scan_fwd_cuda");
}

SSMB_API ssmb_status ssmb_selective_scan_bwd_workspace_size_cuda(ssmb_dtype, ssmb_dtype, int64_t, int64_t, int64_t,
                                                                 int64_t, int64_t, int32_t, int32_t, int64_t*) {
    return built_without_cuda("ssmb_selective_scan_bwd_workspace_size_cuda");
}

SSMB_API ssmb_status ssmb_selective_scan_bwd_cuda(ssmb_dtype, ssmb_dtype, int64_t, int64_t, int64_t, int64_t,
                                                  int64_t, int32_t, int32_t, const void*, const void*, const void*,
                                                  const void*, const void*, const void*, const void*, const void*,
                                                  int32_t, int32_t, const void*, const void*, const void*, void*,
                                                  void*, void*, void*, void*, void*, void*, void*, void*, int64_t,
                                                  void*) {
    return built_without_cuda("ssmb_selective_scan_bwd_cuda");
}

SSMB_API ssmb_status ssmb_cross_scan_cuda(ssmb_dtype, int64_t, int64_t, int64_t, int64_t, int32_t, const void*,
                                          void*, void*) {
    return built_without_cuda("ssmb_cross_scan_cuda");
}

SSMB_API ssmb_status ssmb_cross_merge_cuda(ssmb_dtype, int64_t, int64_t, int64_t, int64_t, int32_t, const void*,
                                           void*, void*) {
    return built_without_cuda("ssmb_cross_merge_cuda");
}

SSMB_API ssmb_status ssmb_patch_merge_fwd_cuda(ssmb_dtype, int64_t, int64_t, int64_t, int64_t, int32_t,
                                               const void*, void*, void*) {
    return built_without_cuda("ssmb_patch_merge_fwd_cuda");
}

SSMB_API ssmb_status ssmb_patch_merge_bwd_cuda(ssmb_dtype, int64_t, int64_t, int64_t, int64_t, int32_t,
                                               const void*, void*, void*) {
    return built_without_cuda("ssmb_patch_merge_bwd_cuda");
}

}  // extern "C"

// Issue 8, part 2: the S4D kernel and the fused cross selective scan.
extern "C" {

SSMB_API ssmb_status ssmb_s4d_kernel_fwd_cuda(ssmb_dtype, int64_t, int64_t, int64_t, const void*, const void*,
                                              const void*, const void*, const void*, void*, void*) {
    return built_without_cuda("ssmb_s4d_kernel_fwd_cuda");
}

SSMB_API ssmb_status ssmb_s4d_kernel_bwd_cuda(ssmb_dtype, int64_t, int64_t, int64_t, const void*, const void*,
                                              const void*, const void*, const void*, const void*, void*, void*,
                                              void*, void*, void*, void*) {
    return built_without_cuda("ssmb_s4d_kernel_bwd_cuda");
}

SSMB_API ssmb_status ssmb_cross_selective_scan_fwd_cuda(ssmb_dtype, ssmb_dtype, int64_t, int64_t, int64_t, int64_t,
                                                        int64_t, const void*, const void*, const void*, const void*,
                                                        const void*, const void*, const void*, int32_t, void*, void*,
                                                        void*) {
    return built_without_cuda("ssmb_cross_selective_scan_fwd_cuda");
}

SSMB_API ssmb_status ssmb_cross_selective_scan_bwd_workspace_size_cuda(ssmb_dtype, ssmb_dtype, int64_t, int64_t,
                                                                       int64_t, int64_t, int64_t, int64_t*) {
    return built_without_cuda("ssmb_cross_selective_scan_bwd_workspace_size_cuda");
}

SSMB_API ssmb_status ssmb_cross_selective_scan_bwd_cuda(ssmb_dtype, ssmb_dtype, int64_t, int64_t, int64_t, int64_t,
                                                        int64_t, const void*, const void*, const void*, const void*,
                                                        const void*, const void*, const void*, int32_t, const void*,
                                                        const void*, void*, void*, void*, void*, void*, void*, void*,
                                                        void*, int64_t, void*) {
    return built_without_cuda("ssmb_cross_selective_scan_bwd_cuda");
}

}  // extern "C"
