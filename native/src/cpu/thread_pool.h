// The CPU kernels' threads, sized by set_num_threads (the managed layer passes torch.get_num_threads(),
// so the kernels never oversubscribe next to libtorch): the team of the GNU OpenMP runtime already in the
// process when there is one (host_openmp.h: libtorch's libgomp), else one persistent pool of our own.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>

namespace ssmb::cpu {

// Threads a parallel_for may use, the caller included (n >= 1). Default: hardware concurrency.
void set_num_threads(int n);
int get_num_threads();

// Calls fn(begin, end) on contiguous slices that together cover [0, n_items): a static partition
// into at most get_num_threads() slices, the first run by the calling thread. Returns when every
// slice is done and rethrows the first exception a slice threw. The partition is the same on the
// OpenMP team (slice i on team thread i) and on the pool (where the caller, after slice 0, runs any
// slice no worker has claimed yet, so a slow wake-up never makes it wait). When the threads are
// already running another call (from another thread, or this call is nested in a slice)
// fn(0, n_items) runs on the caller instead, so concurrent callers never wait on each other or
// oversubscribe the machine.
// Callers must not let results depend on the partition.
void parallel_for(int64_t n_items, const std::function<void(int64_t begin, int64_t end)>& fn);

// The items [0, n_items) split into contiguous ranges, one per thread (the static partition of
// parallel_for). A thread takes the items of its own range from the front, in order; when its range is
// empty it takes from the back of another thread's, so a thread that runs slower does fewer items.
class WorkQueue {
public:
    static constexpr int kMaxRanges = 64;

    WorkQueue(int64_t n_items, int ranges);
    // The next item for the thread that owns range `own`, or -1 when no range has any left.
    int64_t next(int own);

private:
    // front in the low 32 bits, end in the high 32: one compare-and-swap takes an item from either end.
    std::atomic<uint64_t> ranges_[kMaxRanges];
    int count_;
};

// Runs worker(queue, own) once on each of up to get_num_threads() threads (as parallel_for places its
// slices; own = the slice), all taking items from one WorkQueue over [0, n_items) until it is empty: a
// thread that runs slower (a busy core on a shared machine, the caller coming in late) takes fewer items
// instead of holding up the others. Which thread runs an item varies from call to call, so each item must
// write only its own outputs; a worker keeps its per-thread setup (scratch) across the items it takes.
void parallel_queue(int64_t n_items, const std::function<void(WorkQueue& queue, int own)>& worker);

}  // namespace ssmb::cpu
