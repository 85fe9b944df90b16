// The C ABI of the cross scan and cross merge: validation and dispatch. Every entry point runs its
// body inside guarded() (error.h).
#include "cpu/cross_scan.h"
#include "error.h"
#include "image_args.h"
#include "ssmbridge.h"
#include "validate.h"

using namespace ssmb;

extern "C" {

SSMB_API ssmb_status ssmb_cross_scan(ssmb_dtype dtype, int64_t batch, int64_t channels, int64_t height,
                                     int64_t width, int32_t channel_first, const void* x, void* ys) {
    return guarded([&] {
        const ImageShape s = image_shape(dtype, batch, channels, height, width, channel_first);
        const CrossScanBytes bytes = cross_scan_bytes(s, dtype);
        const Buffer in{"x", x, bytes.image}, out{"ys", ys, bytes.sequences};
        require_non_null(in);
        require_non_null(out);
        require_no_overlap({in}, {out});
        dispatch_float_or_double(dtype, [&](auto t) {
            using T = decltype(t);
            cpu::cross_scan<T>(s, static_cast<const T*>(x), static_cast<T*>(ys));
        });
    });
}

SSMB_API ssmb_status ssmb_cross_merge(ssmb_dtype dtype, int64_t batch, int64_t channels, int64_t height,
                                      int64_t width, int32_t channel_first, const void* ys, void* y) {
    return guarded([&] {
        const ImageShape s = image_shape(dtype, batch, channels, height, width, channel_first);
        const CrossScanBytes bytes = cross_scan_bytes(s, dtype);
        const Buffer in{"ys", ys, bytes.sequences}, out{"y", y, bytes.image};
        require_non_null(in);
        require_non_null(out);
        require_no_overlap({in}, {out});
        dispatch_float_or_double(dtype, [&](auto t) {
            using T = decltype(t);
            cpu::cross_merge<T>(s, static_cast<const T*>(ys), static_cast<T*>(y));
        });
    });
}

}  // extern "C"
