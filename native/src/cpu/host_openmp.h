// The OpenMP runtime another library already loaded into the process (libtorch's bundled libgomp),
// found at run time and called through its GNU ABI. Running the kernels' slices on that runtime's
// team instead of a second pool means one set of threads for libtorch's ops and ours: the workers
// libgomp leaves spinning after each libtorch op pick up the kernels' slices at once instead of
// competing with a second pool for the same cores.
#pragma once

namespace ssmb::cpu {

struct HostOpenMP {
    // GOMP_parallel(fn, data, num_threads, flags): runs fn(data) on a team of up to num_threads
    // threads, the caller included, and returns when all are done.
    void (*parallel)(void (*fn)(void*), void* data, unsigned num_threads, unsigned flags) = nullptr;
    int (*thread_num)() = nullptr;   // omp_get_thread_num
    int (*num_threads)() = nullptr;  // omp_get_num_threads
    int (*in_parallel)() = nullptr;  // omp_in_parallel
    const char* library = nullptr;   // file name of the runtime, e.g. "libgomp-98b21ff3.so.1"
};

// The loaded GNU OpenMP runtime (libgomp), or null when none is loaded, on platforms other than
// Linux, or when SSMB_CPU_THREADS=pool (read at first use) asks for the library's own pool. A
// runtime loaded after a call that found none is picked up by a later call (the scan repeats only
// when the process loaded new libraries). Thread-safe.
const HostOpenMP* host_openmp();

}  // namespace ssmb::cpu
