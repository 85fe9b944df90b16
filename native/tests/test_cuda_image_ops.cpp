// CUDA cross scan / cross merge and patch merge against the CPU kernels: both layouts, odd sizes,
// float32 (bitwise: the kernels only move data, and the merge adds in the CPU's order) and bfloat16
// (the CPU runs on the rounded values). Skipped without a CUDA device.
#include "cuda_test_support.h"

namespace ssmb_cuda_test {
namespace {

struct ImageCase {
    int64_t batch, channels, height, width;
    int32_t channel_first;
};

const ImageCase kCases[] = {{1, 1, 1, 1, 1}, {2, 3, 5, 7, 1}, {2, 3, 5, 7, 0}, {1, 96, 56, 56, 0},
                            {3, 5, 8, 9, 1}, {1, 17, 14, 13, 0}};

std::vector<float> random_values(size_t n, ssmb_dtype dtype, std::mt19937_64& rng) {
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::vector<float> v(n);
    for (float& x : v) x = normal(rng);
    round_to(v, dtype);
    return v;
}

// CPU op on float32 and CUDA op on dtype over the same input; compares the outputs.
template <class Cpu, class Gpu>
void check_op(const char* name, const ImageCase& c, ssmb_dtype dtype, size_t in_count, size_t out_count, Cpu cpu,
              Gpu gpu) {
    const uint64_t seed = fresh_seed();
    std::mt19937_64 rng(seed);
    const std::vector<float> input = random_values(in_count, dtype, rng);
    std::vector<float> want(out_count);
    ASSERT_EQ(cpu(input.data(), want.data()), SSMB_OK) << ssmb_last_error();
    DeviceArray in(input, dtype), out(out_count, dtype);
    ASSERT_EQ(gpu(in.get(), out.get()), SSMB_OK) << ssmb_last_error();
    ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
    std::vector<float> got = out.download();
    round_to(want, dtype);
    const Mismatch m = compare(got, want);
    const double tol = dtype == SSMB_FLOAT32 ? 0.0 : 1e-2;
    EXPECT_LE(m.error, tol) << name << " b" << c.batch << " c" << c.channels << " " << c.height << "x" << c.width
                            << (c.channel_first ? " channel-first " : " channel-last ") << dtype_label(dtype)
                            << " (SSMB_TEST_SEED=" << seed << "): " << describe(name, m);
}

TEST(CudaImageOps, CrossScanAndMergeMatchCpu) {
    if (!has_device()) GTEST_SKIP() << "no CUDA device";
    for (ssmb_dtype dtype : {SSMB_FLOAT32, SSMB_BFLOAT16}) {
        for (const ImageCase& c : kCases) {
            const size_t image = c.batch * c.channels * c.height * c.width, sequences = 4 * image;
            check_op("cross_scan", c, dtype, image, sequences,
                     [&](const float* x, float* ys) {
                         return ssmb_cross_scan(SSMB_FLOAT32, c.batch, c.channels, c.height, c.width, c.channel_first, x, ys);
                     },
                     [&](void* x, void* ys) {
                         return ssmb_cross_scan_cuda(dtype, c.batch, c.channels, c.height, c.width, c.channel_first, x,
                                                     ys, nullptr);
                     });
            check_op("cross_merge", c, dtype, sequences, image,
                     [&](const float* ys, float* y) {
                         return ssmb_cross_merge(SSMB_FLOAT32, c.batch, c.channels, c.height, c.width, c.channel_first, ys, y);
                     },
                     [&](void* ys, void* y) {
                         return ssmb_cross_merge_cuda(dtype, c.batch, c.channels, c.height, c.width, c.channel_first,
                                                      ys, y, nullptr);
                     });
        }
    }
}

TEST(CudaImageOps, PatchMergeMatchesCpu) {
    if (!has_device()) GTEST_SKIP() << "no CUDA device";
    for (ssmb_dtype dtype : {SSMB_FLOAT32, SSMB_BFLOAT16}) {
        for (const ImageCase& c : kCases) {
            const size_t image = c.batch * c.channels * c.height * c.width;
            const size_t merged = c.batch * 4 * c.channels * ((c.height + 1) / 2) * ((c.width + 1) / 2);
            check_op("patch_merge_fwd", c, dtype, image, merged,
                     [&](const float* x, float* out) {
                         return ssmb_patch_merge_fwd(SSMB_FLOAT32, c.batch, c.channels, c.height, c.width,
                                                     c.channel_first, x, out);
                     },
                     [&](void* x, void* out) {
                         return ssmb_patch_merge_fwd_cuda(dtype, c.batch, c.channels, c.height, c.width,
                                                          c.channel_first, x, out, nullptr);
                     });
            check_op("patch_merge_bwd", c, dtype, merged, image,
                     [&](const float* dout, float* dx) {
                         return ssmb_patch_merge_bwd(SSMB_FLOAT32, c.batch, c.channels, c.height, c.width,
                                                     c.channel_first, dout, dx);
                     },
                     [&](void* dout, void* dx) {
                         return ssmb_patch_merge_bwd_cuda(dtype, c.batch, c.channels, c.height, c.width,
                                                          c.channel_first, dout, dx, nullptr);
                     });
        }
    }
}

}  // namespace
}  // namespace ssmb_cuda_test
