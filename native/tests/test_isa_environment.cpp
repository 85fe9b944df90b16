// The CPU code path as a user picks it: SSMB_CPU_ISA in the environment of a fresh process, read by the
// shipped libssmbridge when it loads (this test links the shared library, not its objects). ctest runs
// this program once per path with SSMB_CPU_ISA set (see CMakeLists.txt):
//   IsaEnvironment.RequestedPathRuns      the library reports the requested path, its forward and backward
//                                         match the long-double reference, and its results are written
//                                         to $SSMB_ISA_RESULTS/<path>.bin
//   IsaEnvironment.UnsupportedRequest     a path this CPU (or build) cannot run falls back to the best one
//                                         (ctest also checks the line on stderr)
//   IsaEnvironment.PathsAgree             run last: every path this CPU runs wrote its results, and each
//                                         agrees with the scalar path
// Which paths exist is decided here independently of the library (compiler builtins), so a library that
// silently ignored the variable, or fell back when it need not, fails.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "scan_test_support.h"
#include "ssmbridge/ssmbridge.h"

namespace {

using namespace ssmb_test;

// The paths this CPU runs, best first, as the library documents them. The library compiles its x86
// kernels only with GCC or clang (MSVC builds get the scalar path), so this mirrors that.
std::vector<std::string> paths_this_cpu_runs() {
    std::vector<std::string> paths;
#if (defined(__x86_64__) || defined(_M_X64)) && defined(__GNUC__)
    const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl"))
        paths.push_back("avx512");
    if (avx2) paths.push_back("avx2");
#endif
#if defined(__aarch64__) || defined(_M_ARM64)
    paths.push_back("neon");
#endif
    paths.push_back("scalar");
    return paths;
}

bool runs_here(const std::string& path) {
    for (const std::string& p : paths_this_cpu_runs())
        if (p == path) return true;
    return false;
}

std::string env(const char* name) {
    const char* value = std::getenv(name);
    return value ? value : "";
}

// Inputs must be equal in every process, so the seed is fixed here; fresh seeds per run are the job of
// the in-process comparison (test_selective_scan_isa.cpp).
constexpr uint64_t kSeed = 20261127;

// Every fourth shape of the sweep: all lengths (1 to 4100) and option sets, tiles with remainders;
// and the first shape whose backward runs in slabs.
std::vector<ScanShape> shapes() {
    std::vector<ScanShape> picked;
    const std::vector<ScanShape> sweep = sweep_shapes();
    for (size_t i = 0; i < sweep.size(); i += 4) picked.push_back(sweep[i]);
    picked.push_back(slab_shapes().front());
    return picked;
}

// Results by name ("<shape>/<dtype>/<output>"), widened to double; the tolerance travels with them.
struct Named {
    std::vector<double> values;
    double tolerance;
};
using Results = std::map<std::string, Named>;

template <typename T>
void run_and_check(const ScanShape& s, Results& results) {
    const ScanData<T> d = random_inputs<T>(s, kSeed);
    Forward<T> f;
    Gradients<T> g;
    ASSERT_NO_FATAL_FAILURE(run_forward(d, f));
    ASSERT_NO_FATAL_FAILURE(run_backward(d, f.chunk_states, g));
    const ReferenceResult r = reference(d);
    const std::string prefix = shape_name(s) + (sizeof(T) == 4 ? "/float32/" : "/float64/");
    auto keep = [&](const char* name, const std::vector<T>& x, const std::vector<Real>& ref, double tol) {
        EXPECT_LT(relative_error(x, ref), tol) << prefix << name << " against the reference";
        results[prefix + name] = Named{std::vector<double>(x.begin(), x.end()), tol};
    };
    keep("out", f.out, r.out, Tolerance<T>::forward);
    keep("last_state", f.last_state, r.last_state, Tolerance<T>::forward);
    const double tol = Tolerance<T>::gradient;
    keep("du", g.du, r.du, tol);
    keep("ddelta", g.ddelta, r.ddelta, tol);
    keep("dA", g.dA, r.dA, tol);
    keep("dB", g.dB, r.dB, tol);
    keep("dC", g.dC, r.dC, tol);
    keep("dD", g.dD, r.dD, tol);
    keep("dz", g.dz, r.dz, tol);
    keep("ddelta_bias", g.ddelta_bias, r.ddelta_bias, tol);
}

std::string results_file(const std::string& path) { return env("SSMB_ISA_RESULTS") + "/" + path + ".bin"; }

// Layout: per entry, name length (uint64), name, tolerance (double), count (uint64), values (double).
void write_results(const std::string& file, const Results& results) {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    ASSERT_TRUE(out) << "cannot write " << file;
    for (const auto& [name, named] : results) {
        const uint64_t name_size = name.size(), count = named.values.size();
        out.write(reinterpret_cast<const char*>(&name_size), sizeof name_size);
        out.write(name.data(), static_cast<std::streamsize>(name.size()));
        out.write(reinterpret_cast<const char*>(&named.tolerance), sizeof named.tolerance);
        out.write(reinterpret_cast<const char*>(&count), sizeof count);
        out.write(reinterpret_cast<const char*>(named.values.data()), static_cast<std::streamsize>(count * sizeof(double)));
    }
    ASSERT_TRUE(out.good()) << "writing " << file << " failed";
}

Results read_results(const std::string& file) {
    Results results;
    std::ifstream in(file, std::ios::binary);
    uint64_t name_size = 0;
    while (in.read(reinterpret_cast<char*>(&name_size), sizeof name_size)) {
        std::string name(name_size, '\0');
        Named named{};
        uint64_t count = 0;
        in.read(name.data(), static_cast<std::streamsize>(name_size));
        in.read(reinterpret_cast<char*>(&named.tolerance), sizeof named.tolerance);
        in.read(reinterpret_cast<char*>(&count), sizeof count);
        named.values.resize(count);
        in.read(reinterpret_cast<char*>(named.values.data()), static_cast<std::streamsize>(count * sizeof(double)));
        if (!in) break;
        results[name] = std::move(named);
    }
    return results;
}

TEST(IsaEnvironment, RequestedPathRuns) {
    const std::string requested = env("SSMB_CPU_ISA");
    if (requested.empty()) GTEST_SKIP() << "run by ctest with SSMB_CPU_ISA set";
    if (!runs_here(requested)) GTEST_SKIP() << "this CPU cannot run the " << requested << " path";
    ASSERT_EQ(std::string(ssmb_cpu_isa()), requested) << "SSMB_CPU_ISA=" << requested << " was not honoured";
    ASSERT_FALSE(env("SSMB_ISA_RESULTS").empty()) << "SSMB_ISA_RESULTS must name a folder for the results";
    std::remove(results_file(requested).c_str());
    Results results;
    for (const ScanShape& s : shapes()) {
        SCOPED_TRACE(shape_name(s));
        ASSERT_NO_FATAL_FAILURE(run_and_check<float>(s, results));
        ASSERT_NO_FATAL_FAILURE(run_and_check<double>(s, results));
    }
    if (!HasFailure()) write_results(results_file(requested), results);
}

TEST(IsaEnvironment, UnsupportedRequest) {
    const std::string requested = env("SSMB_CPU_ISA");
    if (requested.empty() || runs_here(requested)) GTEST_SKIP() << "run by ctest with a path this CPU lacks";
    EXPECT_EQ(std::string(ssmb_cpu_isa()), paths_this_cpu_runs().front())
        << "SSMB_CPU_ISA=" << requested << " should fall back to the best path";
}

TEST(IsaEnvironment, PathsAgree) {
    if (env("SSMB_ISA_RESULTS").empty()) GTEST_SKIP() << "run by ctest after the per-path runs";
    const Results scalar = read_results(results_file("scalar"));
    ASSERT_FALSE(scalar.empty()) << "no results from the scalar path in " << results_file("scalar");
    for (const std::string& path : paths_this_cpu_runs()) {
        if (path == "scalar") continue;
        SCOPED_TRACE(path + " against scalar");
        const Results other = read_results(results_file(path));
        ASSERT_EQ(other.size(), scalar.size()) << "results of the " << path << " path missing or incomplete";
        for (const auto& [name, expected] : scalar) {
            const auto found = other.find(name);
            ASSERT_NE(found, other.end()) << name;
            const std::vector<Real> ref(expected.values.begin(), expected.values.end());
            EXPECT_LT(relative_error(found->second.values, ref), expected.tolerance) << name;
        }
    }
}

}  // namespace
