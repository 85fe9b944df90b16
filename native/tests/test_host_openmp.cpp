// The kernels' threads when a GNU OpenMP runtime is already in the process (libtorch's libgomp in a
// .NET process): parallel_for must run its slices on that runtime's team, with the same static
// partition as the library's own pool, so results and their bits do not change; parallel_queue's
// threads take every item once, their own range from the front and then the others' from the back.
// This program loads the system's libgomp.so.1 with dlopen, as TorchSharp loads libtorch's copy.
// ctest runs it several times (native/tests/CMakeLists.txt):
//   HostOpenMPAbsent.*                alone in its process, before anything loads libgomp
//   HostOpenMP.*                      the rest, after the load (SetUpTestSuite)
//   HostOpenMP.SmallTeam              with OMP_THREAD_LIMIT=1: a team smaller than asked for
//   HostOpenMP.PoolForcedByEnvironment with SSMB_CPU_THREADS=pool
#include <gtest/gtest.h>

#include <dlfcn.h>

#include <atomic>
#include <chrono>
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
using ssmb::cpu::parallel_queue;
using ssmb::cpu::WorkQueue;

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

// parallel_queue over n items: how often each item ran, and in which order each worker (own) took its
// items.
struct QueueRun {
    std::vector<std::atomic<int>> runs;
    std::vector<std::vector<int64_t>> taken;  // per worker, in order
    explicit QueueRun(int64_t n) : runs(static_cast<size_t>(n)), taken(WorkQueue::kMaxRanges) {}
};

// before_first(own) runs in each worker before it takes anything; on_item(own, item) after each item.
template <class BeforeFirst, class OnItem>
void drain(int64_t n, QueueRun& run, BeforeFirst before_first, OnItem on_item) {
    parallel_queue(n, [&](WorkQueue& queue, int own) {
        before_first(own);
        for (int64_t item; (item = queue.next(own)) >= 0;) {
            run.runs[static_cast<size_t>(item)].fetch_add(1);
            run.taken[static_cast<size_t>(own)].push_back(item);
            on_item(own, item);
        }
    });
}

template <class BeforeFirst>
void drain(int64_t n, QueueRun& run, BeforeFirst before_first) {
    drain(n, run, before_first, [](int, int64_t) {});
}

// Every item ran exactly once (a Coverage of parallel_for or a QueueRun of parallel_queue).
template <class Run>
void expect_each_item_once(const Run& run) {
    for (size_t i = 0; i < run.runs.size(); ++i) EXPECT_EQ(run.runs[i].load(), 1) << "item " << i;
}

// Two workers over n items: worker 0 owns [0, n/2), worker 1 the rest. Worker 0 waits (up to 10 s) until
// worker 1 has taken an item of its range, so worker 1 must drain its own range and then steal.
void expect_stealing_from_a_slow_thread(int64_t n) {
    QueueRun run(n);
    std::atomic<bool> stolen{false};
    const int64_t half = n / 2;
    drain(
        n, run,
        [&](int own) {
            if (own == 0)
                for (int spin = 0; spin < 10000 && !stolen.load(); ++spin)
                    std::this_thread::sleep_for(std::chrono::milliseconds(1));
        },
        [&](int own, int64_t item) {
            if (own == 1 && item < half) stolen.store(true);
        });
    expect_each_item_once(run);
    ASSERT_TRUE(stolen.load()) << "worker 1 never took an item of worker 0's range";
    // Worker 1: its own range front to back, then worker 0's from the back.
    const auto& fast = run.taken[1];
    ASSERT_GT(fast.size(), static_cast<size_t>(n - half));
    for (size_t k = 0; k < fast.size(); ++k)
        EXPECT_EQ(fast[k], k < static_cast<size_t>(n - half) ? half + static_cast<int64_t>(k)
                                                             : half - 1 - static_cast<int64_t>(k - (n - half)))
            << "worker 1's take " << k;
    // Worker 0: what is left of its range, front to back.
    const auto& slow = run.taken[0];
    for (size_t k = 0; k < slow.size(); ++k) EXPECT_EQ(slow[k], static_cast<int64_t>(k)) << "worker 0's take " << k;
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

TEST(HostOpenMPAbsent, PoolRunsEverySliceWhoeverClaimsIt) {
    ASSERT_EQ(ssmb_set_num_threads(4), SSMB_OK);
    // Tiny calls back to back: the caller often runs slices before the workers wake; every slice still
    // runs exactly once and the call returns only after all of them.
    for (int rep = 0; rep < 2000; ++rep) {
        std::vector<std::atomic<int>> runs(4);
        parallel_for(4, [&](int64_t begin, int64_t end) {
            for (int64_t i = begin; i < end; ++i) runs[static_cast<size_t>(i)].fetch_add(1);
        });
        for (size_t i = 0; i < 4; ++i) ASSERT_EQ(runs[i].load(), 1) << "rep " << rep << ", slice " << i;
    }
    // A worker's wake-up takes microseconds; a trivial slice 0 takes nanoseconds. So in some of these
    // calls the caller must have claimed and run a later slice itself instead of waiting for a worker.
    const auto caller = std::this_thread::get_id();
    int caller_ran_more = 0;
    for (int rep = 0; rep < 2000; ++rep) {
        std::atomic<int> on_caller{0};
        parallel_for(4, [&](int64_t begin, int64_t) {
            if (begin > 0 && std::this_thread::get_id() == caller) on_caller.fetch_add(1);
        });
        caller_ran_more += on_caller.load() > 0;
    }
    EXPECT_GT(caller_ran_more, 0) << "the caller never ran a slice a worker had not claimed yet";
    std::atomic<int> finished{0};
    EXPECT_THROW(parallel_for(4, [&](int64_t begin, int64_t) {
                     if (begin == 2) throw std::runtime_error("slice 2 failed");
                     finished.fetch_add(1);
                 }),
                 std::runtime_error);
    EXPECT_EQ(finished.load(), 3);  // the other slices still ran
    expect_each_item_once(cover(1000, nullptr));  // and the pool is usable afterwards
    ASSERT_EQ(ssmb_set_num_threads(2), SSMB_OK);
}

TEST(HostOpenMPAbsent, QueueOnThePool) {
    EXPECT_STREQ(ssmb_cpu_threading(), "pool");
    ASSERT_EQ(ssmb_set_num_threads(2), SSMB_OK);
    QueueRun run(1000);
    drain(1000, run, [](int) {});
    expect_each_item_once(run);
    expect_stealing_from_a_slow_thread(1000);
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

TEST_F(HostOpenMP, QueueGivesEveryItemOnceOwnRangeFirst) {
    for (int rep = 0; rep < 20; ++rep) {
        QueueRun run(1000);
        std::vector<int> team_thread(2, -1);
        drain(1000, run, [&](int own) { team_thread[static_cast<size_t>(own)] = omp_thread_num()(); });
        expect_each_item_once(run);
        // Worker own runs slice own, on team thread own (a worker that found the queue empty still ran).
        EXPECT_EQ(team_thread[0], 0);
        EXPECT_EQ(team_thread[1], 1);
        // Whatever the timing: each worker takes a prefix of its own range (0..499 or 500..999) in order,
        // then a run of the other range from its back.
        for (int own = 0; own < 2; ++own) {
            const auto& taken = run.taken[static_cast<size_t>(own)];
            const int64_t begin = own * 500, other_end = own == 0 ? 1000 : 500;
            size_t k = 0;
            for (; k < taken.size() && taken[k] >= begin && taken[k] < begin + 500; ++k)
                ASSERT_EQ(taken[k], begin + static_cast<int64_t>(k)) << "worker " << own << ", take " << k;
            for (size_t j = 0; k + j < taken.size(); ++j)
                ASSERT_EQ(taken[k + j], other_end - 1 - static_cast<int64_t>(j)) << "worker " << own << ", take " << k + j;
        }
    }
}

TEST_F(HostOpenMP, QueueLetsAFastThreadTakeFromASlowOne) { expect_stealing_from_a_slow_thread(1000); }

TEST_F(HostOpenMP, QueueOnOneThreadRunsInOrder) {
    ASSERT_EQ(ssmb_set_num_threads(1), SSMB_OK);
    QueueRun run(37);
    drain(37, run, [](int) {});
    expect_each_item_once(run);
    ASSERT_EQ(run.taken[0].size(), 37u);
    for (size_t k = 0; k < 37; ++k) EXPECT_EQ(run.taken[0][k], static_cast<int64_t>(k));
}

TEST_F(HostOpenMP, QueueNestedInASliceRunsInline) {
    std::atomic<int> inner_items{0};
    parallel_for(2, [&](int64_t, int64_t) {
        parallel_queue(10, [&](WorkQueue& queue, int own) {
            while (queue.next(own) >= 0) inner_items.fetch_add(1);
        });
    });
    EXPECT_EQ(inner_items.load(), 20);
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
    QueueRun run(103);
    drain(103, run, [](int) {});
    expect_each_item_once(run);  // the one team thread runs the 4 workers in turn; the first takes all
    EXPECT_EQ(run.taken[0].size(), 103u);
}

TEST_F(HostOpenMP, PoolForcedByEnvironment) {
    const char* forced = std::getenv("SSMB_CPU_THREADS");
    if (forced == nullptr || std::strcmp(forced, "pool") != 0) GTEST_SKIP() << "run by ctest with SSMB_CPU_THREADS=pool";
    EXPECT_STREQ(ssmb_cpu_threading(), "pool");
    const Coverage coverage = cover(1000, omp_thread_num());
    expect_each_item_once(coverage);
    for (size_t i = 0; i < 1000; ++i) EXPECT_EQ(coverage.thread_of[i], 0) << "item " << i << " ran on an OpenMP worker";
}
