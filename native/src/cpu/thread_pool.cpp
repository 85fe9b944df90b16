#include "cpu/thread_pool.h"

#include "cpu/host_openmp.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

namespace ssmb::cpu {

namespace {

// True on pool workers and on a caller while it runs its own slice: a parallel_for from there
// runs inline (and a caller must not try_lock a mutex it already holds).
thread_local bool t_inside_parallel_region = false;

// Where slice `slice` of `slices` starts in [0, n_items): parallel_for's static partition, which
// parallel_queue's ranges follow too.
int64_t slice_start(int64_t n_items, int64_t slice, int64_t slices) { return n_items * slice / slices; }

int default_num_threads() {
    const unsigned hw = std::thread::hardware_concurrency();
    return hw == 0 ? 1 : static_cast<int>(hw);
}

// Workers sleep on a condition variable between calls. Each call publishes one task under a new
// generation number. The caller runs slice 0, and every thread, the caller included, then claims the
// task's next unclaimed slice until none is left: a worker that wakes late finds its slice already
// run by the caller instead of making the caller wait for its wake-up (tens of microseconds on a VM).
class ThreadPool {
public:
    void set_num_threads(int n) { num_threads_.store(std::max(1, n), std::memory_order_relaxed); }
    int num_threads() const { return num_threads_.load(std::memory_order_relaxed); }

    void parallel_for(int64_t n_items, const std::function<void(int64_t, int64_t)>& fn) {
        if (n_items <= 0) return;
        const int64_t slices = std::min<int64_t>(num_threads(), n_items);
        if (slices <= 1 || t_inside_parallel_region) {
            fn(0, n_items);
            return;
        }
        std::unique_lock<std::mutex> running(run_mutex_, std::try_to_lock);
        if (!running.owns_lock()) {
            fn(0, n_items);
            return;
        }
        if (const HostOpenMP* omp = host_openmp(); omp != nullptr && !omp->in_parallel()) {
            run_on_openmp(*omp, n_items, slices, fn);
            return;
        }
        start_workers(static_cast<int>(slices) - 1);
        {
            std::lock_guard<std::mutex> lock(mutex_);
            task_ = Task{n_items, slices, &fn};
            next_slice_ = 1;  // slice 0 is the caller's
            pending_ = slices;
            error_ = nullptr;
            ++generation_;
        }
        work_ready_.notify_all();

        t_inside_parallel_region = true;
        run_slice(0);
        std::unique_lock<std::mutex> lock(mutex_);
        --pending_;
        run_claimed_slices(lock);
        t_inside_parallel_region = false;
        work_done_.wait(lock, [this] { return pending_ == 0; });
        task_ = Task{};
        if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
    }

private:
    struct Task {
        int64_t n_items = 0;
        int64_t slices = 0;
        const std::function<void(int64_t, int64_t)>* fn = nullptr;
    };

    // Runs slice `slice` of `task` (the static partition both the pool and the OpenMP team use); the first
    // exception of the call is kept in `error`, under `mutex`.
    static void run_task_slice(const Task& task, int64_t slice, std::mutex& mutex, std::exception_ptr& error) {
        const int64_t begin = slice_start(task.n_items, slice, task.slices);
        const int64_t end = slice_start(task.n_items, slice + 1, task.slices);
        try {
            (*task.fn)(begin, end);
        } catch (...) {
            std::lock_guard<std::mutex> lock(mutex);
            if (!error) error = std::current_exception();
        }
    }

    // One call's slices on the host OpenMP runtime's team. A team smaller than asked for runs slices
    // i, i + team, ... on its thread i.
    struct OpenMPCall {
        const HostOpenMP* omp;
        Task task;
        std::mutex mutex;
        std::exception_ptr error;
    };

    static void run_openmp_thread(void* data) {
        auto& call = *static_cast<OpenMPCall*>(data);
        const int64_t team = call.omp->num_threads();
        const bool was_inside = t_inside_parallel_region;
        t_inside_parallel_region = true;
        for (int64_t slice = call.omp->thread_num(); slice < call.task.slices; slice += team)
            run_task_slice(call.task, slice, call.mutex, call.error);
        t_inside_parallel_region = was_inside;
    }

    static void run_on_openmp(const HostOpenMP& omp, int64_t n_items, int64_t slices,
                              const std::function<void(int64_t, int64_t)>& fn) {
        OpenMPCall call{&omp, Task{n_items, slices, &fn}, {}, nullptr};
        omp.parallel(run_openmp_thread, &call, static_cast<unsigned>(slices), 0);
        if (call.error) std::rethrow_exception(call.error);
    }

    // Runs one slice of the current task.
    void run_slice(int64_t slice) { run_task_slice(task_, slice, mutex_, error_); }

    // With mutex_ held (by lock): claims and runs the current task's unclaimed slices, one at a time,
    // until none is left, and counts each one done. The caller returns only when pending_ is 0, so the
    // task (and the function it points to) outlives every slice anyone claimed.
    void run_claimed_slices(std::unique_lock<std::mutex>& lock) {
        while (next_slice_ < task_.slices) {
            const int64_t slice = next_slice_++;
            lock.unlock();
            run_slice(slice);
            lock.lock();
            if (--pending_ == 0) work_done_.notify_one();
        }
    }

    // Called with run_mutex_ held: only its holder changes workers_ and generation_. Workers are
    // never stopped; when set_num_threads lowers the count, the extra ones just sleep.
    void start_workers(int count) {
        while (static_cast<int>(workers_.size()) < count) {
            // The worker waits for the generation after this one, even if it starts running only
            // after the next task was published.
            const uint64_t seen = generation_;
            workers_.emplace_back([this, seen] { worker_loop(seen); });
        }
    }

    void worker_loop(uint64_t seen) {
        t_inside_parallel_region = true;
        std::unique_lock<std::mutex> lock(mutex_);
        for (;;) {
            work_ready_.wait(lock, [&] { return generation_ != seen; });
            seen = generation_;
            run_claimed_slices(lock);  // nothing left when the caller (or other workers) took every slice
        }
    }

    std::atomic<int> num_threads_{default_num_threads()};
    std::mutex run_mutex_;  // held by the one caller whose task the workers are running
    std::vector<std::thread> workers_;

    std::mutex mutex_;  // guards everything below
    std::condition_variable work_ready_;
    std::condition_variable work_done_;
    uint64_t generation_ = 0;
    Task task_;
    int64_t next_slice_ = 0;  // the task's first slice nobody has claimed
    int64_t pending_ = 0;     // the task's slices not finished yet
    std::exception_ptr error_;
};

// Intentionally leaked: the workers sleep until process exit. Joining them from a static destructor
// can hang (dlclose holds the loader lock that exiting threads may need on Windows; at exit() other
// threads may still be inside a call), so the pool is never destroyed and the OS reclaims it.
ThreadPool& pool() {
    static ThreadPool* const instance = new ThreadPool();
    return *instance;
}

}  // namespace

void set_num_threads(int n) { pool().set_num_threads(n); }

int get_num_threads() { return pool().num_threads(); }

void parallel_for(int64_t n_items, const std::function<void(int64_t begin, int64_t end)>& fn) {
    pool().parallel_for(n_items, fn);
}

namespace {
uint64_t pack_range(int64_t front, int64_t end) {
    return static_cast<uint64_t>(front) | static_cast<uint64_t>(end) << 32;
}
}  // namespace

WorkQueue::WorkQueue(int64_t n_items, int ranges) : count_(std::clamp(ranges, 1, kMaxRanges)) {
    for (int r = 0; r < count_; ++r)
        ranges_[r].store(pack_range(slice_start(n_items, r, count_), slice_start(n_items, r + 1, count_)),
                         std::memory_order_relaxed);
}

int64_t WorkQueue::next(int own) {
    for (int k = 0; k < count_; ++k) {
        const int r = (own + k) % count_;
        const bool front = k == 0;  // the owner takes from the front, others from the back
        uint64_t range = ranges_[r].load(std::memory_order_relaxed);
        for (;;) {
            const int64_t begin = static_cast<int64_t>(range & 0xffffffffu), end = static_cast<int64_t>(range >> 32);
            if (begin >= end) break;
            const uint64_t taken = front ? pack_range(begin + 1, end) : pack_range(begin, end - 1);
            if (ranges_[r].compare_exchange_weak(range, taken, std::memory_order_relaxed))
                return front ? begin : end - 1;
        }
    }
    return -1;
}

void parallel_queue(int64_t n_items, const std::function<void(WorkQueue& queue, int own)>& worker) {
    if (n_items <= 0) return;
    if (n_items >= (int64_t{1} << 31)) throw std::length_error("parallel_queue: too many items");
    // One slice per thread. A thread that runs several slices (the caller, when the threads are busy,
    // or a smaller OpenMP team) finds the queue drained after its first.
    const int64_t slices = std::min<int64_t>({get_num_threads(), n_items, WorkQueue::kMaxRanges});
    WorkQueue queue(n_items, static_cast<int>(slices));
    pool().parallel_for(slices, [&](int64_t begin, int64_t) { worker(queue, static_cast<int>(begin)); });
}

}  // namespace ssmb::cpu
