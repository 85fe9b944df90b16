#include "cpu/host_openmp.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>

#if defined(__linux__)
#include <dlfcn.h>
#include <link.h>
#endif

namespace ssmb::cpu {

#if defined(__linux__)

namespace {

bool own_pool_requested() {
    const char* value = std::getenv("SSMB_CPU_THREADS");
    return value != nullptr && std::strcmp(value, "pool") == 0;
}

const char* file_name(const char* path) {
    const char* slash = std::strrchr(path, '/');
    return slash ? slash + 1 : path;
}

// libgomp under any name: the system's libgomp.so.1, or a wheel's / libtorch's renamed copy
// (libgomp-<hash>.so.1).
bool is_libgomp(const char* path) {
    const char* name = file_name(path);
    return std::strncmp(name, "libgomp", 7) == 0 && std::strstr(name, ".so") != nullptr;
}

// Stores the path of the first libgomp among the loaded objects into *data (a std::string).
int find_libgomp(dl_phdr_info* info, size_t, void* data) {
    if (info->dlpi_name != nullptr && is_libgomp(info->dlpi_name)) {
        *static_cast<std::string*>(data) = info->dlpi_name;
        return 1;
    }
    return 0;
}

// dlpi_adds: how many libraries the process has loaded so far (the first object's record suffices).
unsigned long long libraries_loaded() {
    unsigned long long adds = 0;
    dl_iterate_phdr([](dl_phdr_info* info, size_t, void* data) {
        *static_cast<unsigned long long*>(data) = info->dlpi_adds;
        return 1;
    }, &adds);
    return adds;
}

// Only the thread holding it scans; found is published once and never changes after.
std::mutex g_scan_mutex;
unsigned long long g_scanned_adds = ~0ULL;
HostOpenMP g_runtime;
std::atomic<const HostOpenMP*> g_found{nullptr};

const HostOpenMP* scan_for_runtime() {
    std::lock_guard<std::mutex> lock(g_scan_mutex);
    if (const HostOpenMP* found = g_found.load(std::memory_order_acquire)) return found;
    // Cheap test first: nothing new loaded since the last scan means nothing new to find.
    const unsigned long long adds = libraries_loaded();
    if (adds == g_scanned_adds) return nullptr;
    std::string path;
    dl_iterate_phdr(find_libgomp, &path);
    g_scanned_adds = adds;
    if (path.empty()) return nullptr;
    // RTLD_NOLOAD: a reference to the copy already mapped, never a second load. The handle is kept
    // for the life of the process.
    void* handle = dlopen(path.c_str(), RTLD_LAZY | RTLD_NOLOAD);
    if (handle == nullptr) return nullptr;
    HostOpenMP runtime;
    runtime.parallel = reinterpret_cast<decltype(runtime.parallel)>(dlsym(handle, "GOMP_parallel"));
    runtime.thread_num = reinterpret_cast<decltype(runtime.thread_num)>(dlsym(handle, "omp_get_thread_num"));
    runtime.num_threads = reinterpret_cast<decltype(runtime.num_threads)>(dlsym(handle, "omp_get_num_threads"));
    runtime.in_parallel = reinterpret_cast<decltype(runtime.in_parallel)>(dlsym(handle, "omp_in_parallel"));
    if (!runtime.parallel || !runtime.thread_num || !runtime.num_threads || !runtime.in_parallel) return nullptr;
    static std::string library;
    library = file_name(path.c_str());
    runtime.library = library.c_str();
    g_runtime = runtime;
    g_found.store(&g_runtime, std::memory_order_release);
    return &g_runtime;
}

}  // namespace

const HostOpenMP* host_openmp() {
    static const bool own_pool = own_pool_requested();
    if (own_pool) return nullptr;
    if (const HostOpenMP* found = g_found.load(std::memory_order_acquire)) return found;
    return scan_for_runtime();
}

#else

const HostOpenMP* host_openmp() { return nullptr; }

#endif

}  // namespace ssmb::cpu
