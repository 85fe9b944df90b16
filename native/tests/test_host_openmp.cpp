// The kernels' threads when a GNU OpenMP runtime is already in the process (libtorch's libgomp in a
// .NET process): parallel_for must run its slices on that runtime's team, with the same static
// partition as the library's own pool, so results and their bits do not change. This program loads the
// system's libgomp.so.1 with dlopen, as TorchSharp loads libtorch's copy. ctest runs it several times
// (native/tests/CMakeLists.txt):
//   HostOpenMP.PoolBeforeAnyRuntime   alone in its process, before anything loads libgomp
//   HostOpenMP.*                      the rest, after the load (SetUpTestSuite)
//   HostOpenMP.SmallTeam              with OMP_THREAD_LIMIT=1: a team smaller than asked for
//   HostOpenMP.PoolForcedByEnvironment with SSMB_CPU_THREADS=pool
#include <gtest/gtest.h>

#include <dlfcn.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "cpu/thread_pool.h"
#include "scan_test_support.h"
#include "ssmbridge/ssmbridge.h"

namespace {

using ssmb::cpu::parallel_for;

void* load_libgomp() {
    static void* handle = dlopen("libgomp.so.1", RTLD_NOW | RTLD_GLOBAL);
    return handle;
}

int (*omp_thread_num())() {
    return reinterpret_cast<int (*)()>(dlsym(load_libgomp(), "omp_get_thread_num"));
}

// Which thread ran each item, and how often each item ran.
struct Coverage {
    std::vector<int> thread_of;
    std::vector<std::atomic<int>> runs;
    explicit Coverage(int64_t n) : thread_of(static_cast<size_t>(n), -1), runs(static_cast<size_t>(n)) {}
};

Coverage cover(int64_t n, int (*thread_num)()) {
    Coverage coverage(n);
    parallel_for(n, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) {
            coverage.thread_of[static_cast<size_t>(i)] = thread_num ? thread_num() : 0;
            coverage.runs[static_cast<size_t>(i)].fetch_add(1);
        }
    });
    return coverage;
}

void expect_each_item_once(const Coverage& coverage) {
    for (size_t i = 0; i < coverage.runs.size(); ++i) EXPECT_EQ(coverage.runs[i].load(), 1) << "item " << i;
}

class HostOpenMP : public ::testing::Test {
protected:
    static void SetUpTestSuite() { load_libgomp(); }
    void SetUp() override {
        if (load_libgomp() == nullptr) GTEST_SKIP() << "no libgomp.so.1 on this system: " << dlerror();
        ASSERT_EQ(ssmb_set_num_threads(2), SSMB_OK);
    }
};

}  // namespace

TEST(HostOpenMPAbsent, PoolBeforeAnyRuntime) {
    EXPECT_STREQ(ssmb_cpu_threading(), "pool");
    ASSERT_EQ(ssmb_set_num_threads(2), SSMB_OK);
    expect_each_item_once(cover(1000, nullptr));
}

TEST_F(HostOpenMP, FoundOnceLoaded) {
    EXPECT_STREQ(ssmb_cpu_threading(), "openmp libgomp.so.1");
}

TEST_F(HostOpenMP, SlicesRunOnTheTeamInOrder) {
    const Coverage coverage = cover(1000, omp_thread_num());
    expect_each_item_once(coverage);
    // The pool's static partition: the first half on the caller (team thread 0), the rest on thread 1.
    for (size_t i = 0; i < 1000; ++i) EXPECT_EQ(coverage.thread_of[i], i < 500 ? 0 : 1) << "item " << i;
}

TEST_F(HostOpenMP, FollowsTheThreadCount) {
    ASSERT_EQ(ssmb_set_num_threads(3), SSMB_OK);
    const Coverage coverage = cover(9, omp_thread_num());
    expect_each_item_once(coverage);
    for (size_t i = 0; i < 9; ++i) EXPECT_EQ(coverage.thread_of[i], static_cast<int>(i / 3)) << "item " << i;
    ASSERT_EQ(ssmb_set_num_threads(1), SSMB_OK);
    const Coverage serial = cover(9, omp_thread_num());
    expect_each_item_once(serial);
    for (size_t i = 0; i < 9; ++i) EXPECT_EQ(serial.thread_of[i], 0) << "item " << i;
}

TEST_F(HostOpenMP, ExceptionFromASliceReachesTheCaller) {
    std::atomic<int> finished{0};
    EXPECT_THROW(parallel_for(2, [&](int64_t begin, int64_t) {
                     if (begin == 1) throw std::runtime_error("slice 1 failed");
                     finished.fetch_add(1);
                 }),
                 std::runtime_error);
    EXPECT_EQ(finished.load(), 1);  // the other slice still ran to its end
    expect_each_item_once(cover(100, nullptr));  // and the team is usable afterwards
}

TEST_F(HostOpenMP, NestedCallRunsInline) {
    std::atomic<int> inner_items{0};
    parallel_for(2, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i)
            parallel_for(10, [&](int64_t b, int64_t e) { inner_items.fetch_add(static_cast<int>(e - b)); });
    });
    EXPECT_EQ(inner_items.load(), 20);
}

TEST_F(HostOpenMP, ConcurrentCallersEachGetEveryItem) {
    std::vector<std::thread> threads;
    std::vector<int> ok(6, 0);
    for (int t = 0; t < 6; ++t) {
        threads.emplace_back([&, t] {
            for (int rep = 0; rep < 50; ++rep) {
                Coverage coverage = cover(257, nullptr);
                for (auto& runs : coverage.runs)
                    if (runs.load() != 1) return;
            }
            ok[static_cast<size_t>(t)] = 1;
        });
    }
    for (auto& thread : threads) thread.join();
    for (int t = 0; t < 6; ++t) EXPECT_EQ(ok[static_cast<size_t>(t)], 1) << "caller " << t;
}

// Forward and backward on the team give the same bits as one thread: the partition decides nothing.
TEST_F(HostOpenMP, KernelResultsMatchOneThreadBitwise) {
    using namespace ssmb_test;
    // 3 channel tiles per batch (the last one partial) and 3 chunks, every option on.
    const ScanShape shape{2, 40, 150, 16, 1, true, true, true, true, true, true, false};
    const ScanData<float> d = random_inputs<float>(shape, 11);
    auto run = [&](int threads, Forward<float>& f, Gradients<float>& g) {
        ASSERT_EQ(ssmb_set_num_threads(threads), SSMB_OK);
        run_forward(d, f);
        run_backward(d, f.chunk_states, g);
    };
    Forward<float> f1, f2;
    Gradients<float> g1, g2;
    run(1, f1, g1);
    run(2, f2, g2);
    EXPECT_TRUE(bitwise_equal(f1.out, f2.out));
    EXPECT_TRUE(bitwise_equal(f1.chunk_states, f2.chunk_states));
    EXPECT_TRUE(bitwise_equal(f1.last_state, f2.last_state));
    for (auto member : {&Gradients<float>::du, &Gradients<float>::ddelta, &Gradients<float>::dA, &Gradients<float>::dB,
                        &Gradients<float>::dC, &Gradients<float>::dD, &Gradients<float>::dz, &Gradients<float>::ddelta_bias})
        EXPECT_TRUE(bitwise_equal(g1.*member, g2.*member));
}

TEST_F(HostOpenMP, SmallTeam) {
    // ctest sets OMP_THREAD_LIMIT=1 for this one: the team is the caller alone and runs every slice.
    if (std::getenv("OMP_THREAD_LIMIT") == nullptr) GTEST_SKIP() << "run by ctest with OMP_THREAD_LIMIT=1";
    ASSERT_EQ(ssmb_set_num_threads(4), SSMB_OK);
    const Coverage coverage = cover(103, omp_thread_num());
    expect_each_item_once(coverage);
    for (size_t i = 0; i < 103; ++i) EXPECT_EQ(coverage.thread_of[i], 0) << "item " << i;
}

TEST_F(HostOpenMP, PoolForcedByEnvironment) {
    const char* forced = std::getenv("SSMB_CPU_THREADS");
    if (forced == nullptr || std::strcmp(forced, "pool") != 0) GTEST_SKIP() << "run by ctest with SSMB_CPU_THREADS=pool";
    EXPECT_STREQ(ssmb_cpu_threading(), "pool");
    const Coverage coverage = cover(1000, omp_thread_num());
    expect_each_item_once(coverage);
    for (size_t i = 0; i < 1000; ++i) EXPECT_EQ(coverage.thread_of[i], 0) << "item " << i << " ran on an OpenMP worker";
}
