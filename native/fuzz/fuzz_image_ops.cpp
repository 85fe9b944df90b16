// Fuzzes the image ops, which share one signature: ssmb_cross_scan, ssmb_cross_merge,
// ssmb_patch_merge_fwd and ssmb_patch_merge_bwd (sizes, layout flag, dtype, values; fuzz_support.h
// for the contract).
#include "fuzz_support.h"

using namespace fuzz;

namespace {

using ImageOp = ssmb_status (*)(ssmb_dtype, int64_t, int64_t, int64_t, int64_t, int32_t, const void*, void*);

struct Entry {
    ImageOp op;
    bool merged_output;  // patch merging: the output is the merged image (forward) or the input is (backward)
    bool reads_image;    // the input is the image (cross scan, patch merge forward)
};

constexpr Entry kEntries[] = {
    {ssmb_cross_scan, false, true},
    {ssmb_cross_merge, false, false},
    {ssmb_patch_merge_fwd, true, true},
    {ssmb_patch_merge_bwd, true, false},
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    FuzzInput in(data, size);
    const Entry& entry = kEntries[in.byte() % 4];
    const ssmb_dtype dtype = in.dtype();
    const int64_t batch = in.size(), channels = in.size(), height = in.size(), width = in.size();
    const int32_t channel_first = in.flag();
    const Sabotage sabotage = fuzz::sabotage(in);
    Values values(in.seed(), in.byte() & 1);

    const int64_t e = elem_size(dtype);
    const int64_t image = bytes_of({batch, channels, height, width}, e);
    // The other side: the four scan orders, or the 2x2-merged image (odd sides padded).
    const int64_t other = entry.merged_output
                              ? bytes_of({batch, 4, channels, height / 2 + height % 2, width / 2 + width % 2}, e)
                              : bytes_of({batch, 4, channels, height, width}, e);
    const bool valid_shape = cpu_dtype(dtype) && image > 0 && other > 0;
    if (valid_shape && (image / e > kMaxElements || other / e > kMaxElements)) return 0;

    const int64_t in_bytes = entry.reads_image ? image : other, out_bytes = entry.reads_image ? other : image;
    Call call(valid_shape);
    void* x = call.input(sabotage != Sabotage::NullInput, in_bytes, dtype, values);
    void* y = call.output(sabotage != Sabotage::NullOutput, out_bytes);
    // An output starting inside the input (the input is at least as long as its first element).
    const bool overlap = sabotage == Sabotage::OverlappingOutput && x != nullptr;
    if (overlap) y = x;
    const bool valid = valid_shape && x != nullptr && y != nullptr && !overlap;
    call.check(entry.op(dtype, batch, channels, height, width, channel_first, x, y), valid);
    return 0;
}
