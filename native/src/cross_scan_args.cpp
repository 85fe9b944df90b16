#include "cross_scan_args.h"

#include "common/cross_scan_index.h"
#include "selective_scan.h"

namespace ssmb {

CrossScanBuffers cross_scan_inputs(int64_t batch, int64_t dim, int64_t height, int64_t width, int64_t N,
                                   int64_t elem_size, const void* u, const void* delta, const void* A,
                                   const void* B, const void* C, const void* D, const void* delta_bias) {
    const int64_t K = kCrossScanDirections;
    CrossScanBuffers s;
    s.image = checked_bytes("u", {batch, dim, height, width}, elem_size);
    s.directions = checked_bytes("delta", {batch, K, dim, height, width}, elem_size);
    s.states = checked_bytes("B", {batch, K, N, height, width}, elem_size);
    s.A = checked_bytes("A", {K * dim, N}, elem_size);
    s.channels = checked_bytes("D", {K * dim}, elem_size);
    s.chunk_states = checked_bytes("chunk_states", {batch, K * dim, scan_num_chunks(height * width), N}, elem_size);
    s.inputs = {{"u", u, s.image}, {"delta", delta, s.directions}, {"A", A, s.A},
                {"B", B, s.states}, {"C", C, s.states},        {"D", D, s.channels},
                {"delta_bias", delta_bias, s.channels}};
    for (int i = 0; i < 5; ++i) require_non_null(s.inputs[i]);
    return s;
}

}  // namespace ssmb
