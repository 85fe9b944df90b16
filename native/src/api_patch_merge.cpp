// The C ABI of patch merging: validation and dispatch. Every entry point runs its body inside
// guarded() (error.h).
#include "cpu/patch_merge.h"
#include "error.h"
#include "image_args.h"
#include "ssmbridge.h"
#include "validate.h"

using namespace ssmb;

extern "C" {

SSMB_API ssmb_status ssmb_patch_merge_fwd(ssmb_dtype dtype, int64_t batch, int64_t channels, int64_t height,
                                          int64_t width, int32_t channel_first, const void* x, void* out) {
    return guarded([&] {
        const ImageShape s = image_shape(dtype, batch, channels, height, width, channel_first);
        const PatchMergeBytes bytes = patch_merge_bytes(s, dtype, "x", "out");
        const Buffer in{"x", x, bytes.image}, merged{"out", out, bytes.merged};
        require_non_null(in);
        require_non_null(merged);
        require_no_overlap({in}, {merged});
        dispatch_float_or_double(dtype, [&](auto t) {
            using T = decltype(t);
            cpu::patch_merge_fwd<T>(s, static_cast<const T*>(x), static_cast<T*>(out));
        });
    });
}

SSMB_API ssmb_status ssmb_patch_merge_bwd(ssmb_dtype dtype, int64_t batch, int64_t channels, int64_t height,
                                          int64_t width, int32_t channel_first, const void* dout, void* dx) {
    return guarded([&] {
        const ImageShape s = image_shape(dtype, batch, channels, height, width, channel_first);
        const PatchMergeBytes bytes = patch_merge_bytes(s, dtype, "dx", "dout");
        const Buffer merged{"dout", dout, bytes.merged}, out{"dx", dx, bytes.image};
        require_non_null(merged);
        require_non_null(out);
        require_no_overlap({merged}, {out});
        dispatch_float_or_double(dtype, [&](auto t) {
            using T = decltype(t);
            cpu::patch_merge_bwd<T>(s, static_cast<const T*>(dout), static_cast<T*>(dx));
        });
    });
}

}  // extern "C"
