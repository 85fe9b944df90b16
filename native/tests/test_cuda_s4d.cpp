// CUDA S4D convolution kernel against the CPU kernel (its oracle): random S4D-like parameters (plus
// modes with A = 0 and tiny dt A), odd H / N / L, N past the kernels' mode tiles, L up to 4096, in
// float32 (tolerance 1e-4, relative as compare() measures it) and float64 (1e-8); the backward is
// also run twice to check that it is bitwise reproducible. Skipped without a CUDA device.
#include "cuda_test_support.h"

namespace ssmb_cuda_test {
namespace {

struct S4dCase {
    int64_t H, N, L;
};

// A device copy of host values as float32 or float64 (DeviceArray covers the 16-bit types instead).
class RawDeviceArray {
public:
    RawDeviceArray(size_t count, ssmb_dtype dtype) : count_(count), dtype_(dtype) {
        if (cudaMalloc(&data_, count * size()) != cudaSuccess) data_ = nullptr;
        if (data_) cudaMemset(data_, 0xff, count * size());
    }
    RawDeviceArray(const std::vector<double>& values, ssmb_dtype dtype) : RawDeviceArray(values.size(), dtype) {
        if (!data_) return;
        if (dtype_ == SSMB_FLOAT64) {
            cudaMemcpy(data_, values.data(), count_ * 8, cudaMemcpyHostToDevice);
        } else {
            std::vector<float> f(values.begin(), values.end());
            cudaMemcpy(data_, f.data(), count_ * 4, cudaMemcpyHostToDevice);
        }
    }
    ~RawDeviceArray() {
        if (data_) cudaFree(data_);
    }
    RawDeviceArray(const RawDeviceArray&) = delete;
    RawDeviceArray& operator=(const RawDeviceArray&) = delete;

    std::vector<double> download() const {
        std::vector<double> out(count_);
        if (!data_) return out;
        if (dtype_ == SSMB_FLOAT64) {
            cudaMemcpy(out.data(), data_, count_ * 8, cudaMemcpyDeviceToHost);
        } else {
            std::vector<float> f(count_);
            cudaMemcpy(f.data(), data_, count_ * 4, cudaMemcpyDeviceToHost);
            out.assign(f.begin(), f.end());
        }
        return out;
    }
    void* get() const { return data_; }

private:
    size_t size() const { return dtype_ == SSMB_FLOAT64 ? 8 : 4; }
    void* data_ = nullptr;
    size_t count_ = 0;
    ssmb_dtype dtype_ = SSMB_FLOAT32;
};

// Host values in the call's dtype (float32 rounds them), as a byte buffer for the CPU entry points.
struct HostArray {
    std::vector<double> d;
    std::vector<float> f;
    ssmb_dtype dtype;
    HostArray(std::vector<double> values, ssmb_dtype dt) : d(std::move(values)), dtype(dt) {
        if (dtype == SSMB_FLOAT32) {
            f.assign(d.begin(), d.end());
            d.assign(f.begin(), f.end());
        }
    }
    HostArray(size_t count, ssmb_dtype dt) : HostArray(std::vector<double>(count, 0.0), dt) {}
    void* data() { return dtype == SSMB_FLOAT64 ? static_cast<void*>(d.data()) : static_cast<void*>(f.data()); }
    std::vector<double> values() const {
        return dtype == SSMB_FLOAT64 ? d : std::vector<double>(f.begin(), f.end());
    }
};

// compare() of cuda_test_support.h on double values.
Mismatch compare_d(const std::vector<double>& got, const std::vector<double>& want) {
    Mismatch m;
    double sum_sq = 0;
    for (double w : want) sum_sq += w * w;
    const double rms = want.empty() ? 0 : std::sqrt(sum_sq / want.size());
    const double floor = rms > 0 ? rms : 1e-300;
    for (size_t i = 0; i < got.size(); ++i) {
        const double e = std::fabs(got[i] - want[i]) / (std::fabs(want[i]) + floor);
        if (!(e <= m.error)) {
            m = {std::isnan(e) ? INFINITY : e, i, float(got[i]), float(want[i])};
            if (std::isnan(e)) break;
        }
    }
    return m;
}

struct S4dInputs {
    std::vector<double> log_dt, A_real, A_imag, C_real, C_imag, dK;
};

// S4D-Lin-like parameters: dt in [1e-3, 1e-1], A = -1/2 + i pi n (with jitter), C normal; mode 0 of
// row 0 gets A = 0 and the last row a tiny dt, where phi1's series matter.
S4dInputs make_inputs(const S4dCase& c, std::mt19937_64& rng) {
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    std::normal_distribution<double> normal(0.0, 1.0);
    S4dInputs in;
    in.log_dt.resize(c.H);
    for (double& v : in.log_dt) v = std::log(1e-3) + uniform(rng) * (std::log(1e-1) - std::log(1e-3));
    in.log_dt[c.H - 1] = std::log(1e-6);
    const size_t HN = c.H * c.N;
    in.A_real.resize(HN), in.A_imag.resize(HN), in.C_real.resize(HN), in.C_imag.resize(HN);
    for (int64_t h = 0; h < c.H; ++h)
        for (int64_t n = 0; n < c.N; ++n) {
            const size_t i = h * c.N + n;
            in.A_real[i] = -0.5 - 0.3 * uniform(rng);
            in.A_imag[i] = 3.14159265358979 * n + 0.2 * normal(rng);
            in.C_real[i] = normal(rng) * 0.7;
            in.C_imag[i] = normal(rng) * 0.7;
        }
    in.A_real[0] = in.A_imag[0] = 0.0;
    in.dK.resize(c.H * c.L);
    for (double& v : in.dK) v = normal(rng);
    return in;
}

void check_case(const S4dCase& c, ssmb_dtype dtype) {
    const uint64_t seed = fresh_seed();
    std::mt19937_64 rng(seed);
    const S4dInputs x = make_inputs(c, rng);
    const std::string where = "H" + std::to_string(c.H) + " N" + std::to_string(c.N) + " L" + std::to_string(c.L) +
                              (dtype == SSMB_FLOAT64 ? " float64" : " float32") +
                              " (SSMB_TEST_SEED=" + std::to_string(seed) + ")";
    HostArray log_dt(x.log_dt, dtype), Ar(x.A_real, dtype), Ai(x.A_imag, dtype), Cr(x.C_real, dtype),
        Ci(x.C_imag, dtype), dK(x.dK, dtype);
    const size_t HN = c.H * c.N, HL = c.H * c.L;
    HostArray K(HL, dtype), dlog(c.H, dtype), dAr(HN, dtype), dAi(HN, dtype), dCr(HN, dtype), dCi(HN, dtype);
    ASSERT_EQ(ssmb_s4d_kernel_fwd(dtype, c.H, c.N, c.L, log_dt.data(), Ar.data(), Ai.data(), Cr.data(), Ci.data(),
                                  K.data()),
              SSMB_OK)
        << ssmb_last_error();
    ASSERT_EQ(ssmb_s4d_kernel_bwd(dtype, c.H, c.N, c.L, log_dt.data(), Ar.data(), Ai.data(), Cr.data(), Ci.data(),
                                  dK.data(), dlog.data(), dAr.data(), dAi.data(), dCr.data(), dCi.data()),
              SSMB_OK)
        << ssmb_last_error();

    RawDeviceArray g_log(log_dt.values(), dtype), g_Ar(Ar.values(), dtype), g_Ai(Ai.values(), dtype),
        g_Cr(Cr.values(), dtype), g_Ci(Ci.values(), dtype), g_dK(dK.values(), dtype);
    RawDeviceArray g_K(HL, dtype), g_dlog(c.H, dtype), g_dAr(HN, dtype), g_dAi(HN, dtype), g_dCr(HN, dtype),
        g_dCi(HN, dtype);
    ASSERT_EQ(ssmb_s4d_kernel_fwd_cuda(dtype, c.H, c.N, c.L, g_log.get(), g_Ar.get(), g_Ai.get(), g_Cr.get(),
                                       g_Ci.get(), g_K.get(), nullptr),
              SSMB_OK)
        << ssmb_last_error();
    auto backward = [&] {
        return ssmb_s4d_kernel_bwd_cuda(dtype, c.H, c.N, c.L, g_log.get(), g_Ar.get(), g_Ai.get(), g_Cr.get(),
                                        g_Ci.get(), g_dK.get(), g_dlog.get(), g_dAr.get(), g_dAi.get(), g_dCr.get(),
                                        g_dCi.get(), nullptr);
    };
    ASSERT_EQ(backward(), SSMB_OK) << ssmb_last_error();
    ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);

    const double tol = dtype == SSMB_FLOAT32 ? 1e-4 : 1e-8;
    const std::pair<const char*, std::pair<const RawDeviceArray*, const HostArray*>> fields[] = {
        {"K", {&g_K, &K}},        {"dlog_dt", {&g_dlog, &dlog}}, {"dA_real", {&g_dAr, &dAr}},
        {"dA_imag", {&g_dAi, &dAi}}, {"dC_real", {&g_dCr, &dCr}}, {"dC_imag", {&g_dCi, &dCi}},
    };
    std::vector<std::vector<double>> first;
    for (const auto& f : fields) {
        first.push_back(f.second.first->download());
        const Mismatch m = compare_d(first.back(), f.second.second->values());
        EXPECT_LE(m.error, tol) << where << ": " << describe(f.first, m);
    }
    // Bitwise reproducible: a second backward gives the same bits.
    ASSERT_EQ(backward(), SSMB_OK) << ssmb_last_error();
    ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
    for (size_t i = 1; i < 6; ++i)
        EXPECT_TRUE(fields[i].second.first->download() == first[i]) << where << ": " << fields[i].first
                                                                    << " differs between two runs";
}

TEST(CudaS4dKernel, MatchesCpuOddSizes) {
    if (!has_device()) GTEST_SKIP() << "no CUDA device";
    const S4dCase cases[] = {{1, 1, 1}, {3, 5, 7}, {2, 33, 100}, {5, 64, 257}, {1, 130, 2049}, {7, 3, 4095}};
    for (ssmb_dtype dtype : {SSMB_FLOAT32, SSMB_FLOAT64})
        for (const S4dCase& c : cases) check_case(c, dtype);
}

TEST(CudaS4dKernel, MatchesCpuLong) {
    if (!has_device()) GTEST_SKIP() << "no CUDA device";
    const S4dCase cases[] = {{64, 32, 4096}, {17, 64, 4096}};
    for (ssmb_dtype dtype : {SSMB_FLOAT32, SSMB_FLOAT64})
        for (const S4dCase& c : cases) check_case(c, dtype);
}

TEST(CudaS4dKernel, RejectsHostMemoryAndBadDtypes) {
    if (!has_device()) GTEST_SKIP() << "no CUDA device";
    std::vector<float> host(64, 1.0f);
    RawDeviceArray dev(64, SSMB_FLOAT32), out(64, SSMB_FLOAT32);
    EXPECT_EQ(ssmb_s4d_kernel_fwd_cuda(SSMB_FLOAT32, 2, 2, 4, dev.get(), host.data(), dev.get(), dev.get(), dev.get(),
                                       out.get(), nullptr),
              SSMB_ERROR_INVALID_ARGUMENT);
    EXPECT_TRUE(std::string(ssmb_last_error()).find("A_real: expected CUDA device memory") != std::string::npos)
        << ssmb_last_error();
    EXPECT_EQ(ssmb_s4d_kernel_fwd_cuda(SSMB_FLOAT16, 2, 2, 4, dev.get(), dev.get(), dev.get(), dev.get(), dev.get(),
                                       out.get(), nullptr),
              SSMB_ERROR_UNSUPPORTED);
    EXPECT_TRUE(std::string(ssmb_last_error()).find("dtype:") != std::string::npos) << ssmb_last_error();
    EXPECT_EQ(ssmb_s4d_kernel_bwd_cuda(SSMB_FLOAT32, 2, 2, 4, dev.get(), dev.get(), dev.get(), dev.get(), dev.get(),
                                       dev.get(), out.get(), out.get(), nullptr, out.get(), out.get(), nullptr),
              SSMB_ERROR_INVALID_ARGUMENT);
    EXPECT_TRUE(std::string(ssmb_last_error()).find("dA_imag") != std::string::npos) << ssmb_last_error();
    EXPECT_EQ(ssmb_s4d_kernel_fwd_cuda(SSMB_FLOAT32, 2, 0, 4, dev.get(), dev.get(), dev.get(), dev.get(), dev.get(),
                                       out.get(), nullptr),
              SSMB_ERROR_INVALID_ARGUMENT);
    EXPECT_TRUE(std::string(ssmb_last_error()).find("N:") != std::string::npos) << ssmb_last_error();
}

}  // namespace
}  // namespace ssmb_cuda_test
