// The CPU kernels' threads, sized by set_num_threads (the managed layer passes torch.get_num_threads(),
// so the kernels never oversubscribe next to libtorch): the team of the GNU OpenMP runtime already in the
// process when there is one (host_openmp.h: libtorch's libgomp), else one persistent pool of our own.
#pragma once

#include <cstdint>
#include <functional>

namespace ssmb::cpu {

// Threads a parallel_for may use, the caller included (n >= 1). Default: hardware concurrency.
void set_num_threads(int n);
int get_num_threads();

// Calls fn(begin, end) on contiguous slices that together cover [0, n_items): a static partition
// into at most get_num_threads() slices, the first run by the calling thread. Returns when every
// slice is done and rethrows the first exception a slice threw. The partition is the same on the
// OpenMP team and on the pool. When the threads are already running
// another call (from another thread, or this call is nested in a slice) fn(0, n_items) runs on the
// caller instead, so concurrent callers never wait on each other or oversubscribe the machine.
// Callers must not let results depend on the partition.
void parallel_for(int64_t n_items, const std::function<void(int64_t begin, int64_t end)>& fn);

}  // namespace ssmb::cpu
