// Concurrency (issue 11): every CPU entry point called from 8 threads at once gives results bitwise
// equal to serial calls, while the thread pool is contended (a caller that finds the pool busy runs its
// work itself, so the partition differs from call to call and the results must not depend on it); and
// ssmb_last_error() is per thread: one thread's failure is never seen or overwritten by another's call.
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "scan_test_support.h"
#include "ssmbridge/ssmbridge.h"

namespace {

using namespace ssmb_test;

constexpr int kThreads = 8;
constexpr int kRounds = 3;

// One call of an entry point on fixed inputs; returns every output's bytes.
using Job = std::function<std::vector<unsigned char>()>;

template <typename T>
std::vector<unsigned char> bytes_of(std::initializer_list<const std::vector<T>*> outputs) {
    std::vector<unsigned char> all;
    for (const auto* v : outputs) {
        const auto* p = reinterpret_cast<const unsigned char*>(v->data());
        all.insert(all.end(), p, p + v->size() * sizeof(T));
    }
    return all;
}

std::vector<float> ramp(int64_t n, float scale, float offset) {
    std::vector<float> v(n);
    for (int64_t i = 0; i < n; ++i) v[i] = offset + scale * static_cast<float>((i * 7919) % 1009) / 1009.0f;
    return v;
}

Job selective_scan_job() {
    ScanShape s{2, 24, 200, 8, 2, true, true, true, true, true, true, false};
    auto data = std::make_shared<ScanData<float>>(random_inputs<float>(s, 1234));
    return [data] {
        Forward<float> f;
        Gradients<float> g;
        run_forward(*data, f);
        run_backward(*data, f.chunk_states, g);
        return bytes_of<float>({&f.out, &f.chunk_states, &f.last_state, &g.du, &g.ddelta, &g.dA, &g.dB, &g.dC, &g.dD,
                                &g.dz, &g.ddelta_bias});
    };
}

Job image_ops_job() {
    const int64_t b = 2, c = 6, h = 9, w = 7;
    auto x = std::make_shared<std::vector<float>>(ramp(b * c * h * w, 2.f, -1.f));
    return [=] {
        std::vector<float> ys(4 * x->size()), merged(x->size()), patches(b * 4 * c * 5 * 4), back(x->size());
        EXPECT_EQ(ssmb_cross_scan(SSMB_FLOAT32, b, c, h, w, 1, x->data(), ys.data()), SSMB_OK) << ssmb_last_error();
        EXPECT_EQ(ssmb_cross_merge(SSMB_FLOAT32, b, c, h, w, 0, ys.data(), merged.data()), SSMB_OK) << ssmb_last_error();
        EXPECT_EQ(ssmb_patch_merge_fwd(SSMB_FLOAT32, b, c, h, w, 0, x->data(), patches.data()), SSMB_OK) << ssmb_last_error();
        EXPECT_EQ(ssmb_patch_merge_bwd(SSMB_FLOAT32, b, c, h, w, 1, patches.data(), back.data()), SSMB_OK) << ssmb_last_error();
        return bytes_of<float>({&ys, &merged, &patches, &back});
    };
}

Job s4d_job() {
    const int64_t H = 12, N = 8, L = 300;
    auto log_dt = std::make_shared<std::vector<float>>(ramp(H, 2.f, -4.f));
    auto A_real = std::make_shared<std::vector<float>>(ramp(H * N, -1.f, -0.1f));
    auto A_imag = std::make_shared<std::vector<float>>(ramp(H * N, 6.f, 0.f));
    auto C_real = std::make_shared<std::vector<float>>(ramp(H * N, 2.f, -1.f));
    auto C_imag = std::make_shared<std::vector<float>>(ramp(H * N, 2.f, -1.f));
    auto dK = std::make_shared<std::vector<float>>(ramp(H * L, 2.f, -1.f));
    return [=] {
        std::vector<float> K(H * L), dlog_dt(H), dAr(H * N), dAi(H * N), dCr(H * N), dCi(H * N);
        EXPECT_EQ(ssmb_s4d_kernel_fwd(SSMB_FLOAT32, H, N, L, log_dt->data(), A_real->data(), A_imag->data(),
                                      C_real->data(), C_imag->data(), K.data()),
                  SSMB_OK)
            << ssmb_last_error();
        EXPECT_EQ(ssmb_s4d_kernel_bwd(SSMB_FLOAT32, H, N, L, log_dt->data(), A_real->data(), A_imag->data(),
                                      C_real->data(), C_imag->data(), dK->data(), dlog_dt.data(), dAr.data(),
                                      dAi.data(), dCr.data(), dCi.data()),
                  SSMB_OK)
            << ssmb_last_error();
        return bytes_of<float>({&K, &dlog_dt, &dAr, &dAi, &dCr, &dCi});
    };
}

Job cross_selective_scan_job() {
    const int64_t b = 2, d = 6, h = 9, w = 10, N = 4, L = h * w;
    const int64_t chunks = (L + ssmb_selective_scan_chunk_size() - 1) / ssmb_selective_scan_chunk_size();
    auto u = std::make_shared<std::vector<float>>(ramp(b * d * L, 2.f, -1.f));
    auto delta = std::make_shared<std::vector<float>>(ramp(b * 4 * d * L, 2.f, -1.5f));
    auto A = std::make_shared<std::vector<float>>(ramp(4 * d * N, -1.5f, -0.5f));
    auto B = std::make_shared<std::vector<float>>(ramp(b * 4 * N * L, 2.f, -1.f));
    auto C = std::make_shared<std::vector<float>>(ramp(b * 4 * N * L, -2.f, 1.f));
    auto D = std::make_shared<std::vector<float>>(ramp(4 * d, 1.f, 0.f));
    auto bias = std::make_shared<std::vector<float>>(ramp(4 * d, 1.f, -0.5f));
    auto dout = std::make_shared<std::vector<float>>(ramp(b * d * L, 2.f, -1.f));
    return [=] {
        std::vector<float> out(b * d * L), states(b * 4 * d * chunks * N);
        EXPECT_EQ(ssmb_cross_selective_scan_fwd(SSMB_FLOAT32, SSMB_FLOAT32, b, d, h, w, N, u->data(), delta->data(),
                                                A->data(), B->data(), C->data(), D->data(), bias->data(), 1,
                                                out.data(), states.data()),
                  SSMB_OK)
            << ssmb_last_error();
        int64_t bytes = 0;
        EXPECT_EQ(ssmb_cross_selective_scan_bwd_workspace_size(SSMB_FLOAT32, SSMB_FLOAT32, b, d, h, w, N, &bytes), SSMB_OK);
        std::vector<float> workspace(bytes / sizeof(float) + 1), du(u->size()), ddelta(delta->size()), dA(A->size()),
            dB(B->size()), dC(C->size()), dD(D->size()), dbias(bias->size());
        EXPECT_EQ(ssmb_cross_selective_scan_bwd(SSMB_FLOAT32, SSMB_FLOAT32, b, d, h, w, N, u->data(), delta->data(),
                                                A->data(), B->data(), C->data(), D->data(), bias->data(), 1,
                                                states.data(), dout->data(), du.data(), ddelta.data(), dA.data(),
                                                dB.data(), dC.data(), dD.data(), dbias.data(), workspace.data(), bytes),
                  SSMB_OK)
            << ssmb_last_error();
        return bytes_of<float>({&out, &states, &du, &ddelta, &dA, &dB, &dC, &dD, &dbias});
    };
}

// Restores the library's thread count when a test ends.
class ThreadCount {
public:
    explicit ThreadCount(int n) : before_(ssmb_get_num_threads()) { EXPECT_EQ(ssmb_set_num_threads(n), SSMB_OK); }
    ~ThreadCount() { ssmb_set_num_threads(before_); }

private:
    int before_;
};

}  // namespace

TEST(Concurrency, EightThreadsGiveTheSerialResultsBitwise) {
    ThreadCount pool(2);
    const std::vector<Job> jobs = {selective_scan_job(), image_ops_job(), s4d_job(), cross_selective_scan_job()};
    std::vector<std::vector<unsigned char>> serial;
    for (const Job& job : jobs) serial.push_back(job());

    std::atomic<int> mismatches{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            while (!go.load()) std::this_thread::yield();
            // Each thread starts at another job, so different entry points overlap in time.
            for (int r = 0; r < kRounds; ++r)
                for (size_t j = 0; j < jobs.size(); ++j) {
                    const size_t k = (j + t) % jobs.size();
                    if (jobs[k]() != serial[k]) ++mismatches;
                }
        });
    }
    go = true;
    for (auto& th : threads) th.join();
    EXPECT_EQ(mismatches.load(), 0) << "calls from " << kThreads << " threads differ from the serial calls";
}

TEST(Concurrency, LastErrorIsPerThreadUnderContention) {
    ThreadCount pool(2);
    const Job ok = image_ops_job();
    std::atomic<bool> go{false};
    std::atomic<int> wrong{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            while (!go.load()) std::this_thread::yield();
            std::vector<float> buf(64);
            for (int i = 0; i < 200; ++i) {
                if (t % 2 == 0) {
                    // Each failing thread has its own bad value: its message must name exactly that one.
                    const int64_t bad = -(t + 1) * 1000 - i;
                    const ssmb_status st = ssmb_cross_scan(SSMB_FLOAT32, 1, 1, bad, 2, 1, buf.data(), buf.data() + 32);
                    const std::string expected = "height: expected a size >= 1, got " + std::to_string(bad);
                    if (st != SSMB_ERROR_INVALID_ARGUMENT || ssmb_last_error() != expected) ++wrong;
                    // Other threads' successful calls in between must not clear it.
                    std::this_thread::yield();
                    if (ssmb_last_error() != expected) ++wrong;
                } else {
                    ok();
                    if (ssmb_last_error()[0] != '\0') ++wrong;
                }
            }
        });
    }
    go = true;
    for (auto& th : threads) th.join();
    EXPECT_EQ(wrong.load(), 0);
}
