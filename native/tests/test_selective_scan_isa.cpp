// Every CPU code path this machine can run, on a subset of the sweep's shapes: each against the
// long-double reference, and each against the best path, within the tolerances of the sweep.
// Links the library's objects (not libssmbridge) to switch paths in one process.
#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

#include "cpu/isa.h"
#include "scan_test_support.h"
#include "ssmbridge/ssmbridge.h"

namespace ssmb::cpu {
// Test failures name the paths.
inline void PrintTo(Isa isa, std::ostream* os) { *os << isa_name(isa); }
}  // namespace ssmb::cpu

namespace {

using namespace ssmb_test;
using ssmb::cpu::Isa;

// Puts the kernels back on the path they were on.
class IsaGuard {
public:
    IsaGuard() : saved_(ssmb::cpu::active_isa()) {}
    ~IsaGuard() { ssmb::cpu::set_active_isa(saved_); }

private:
    Isa saved_;
};

template <typename T>
std::vector<Real> widened(const std::vector<T>& x) {
    return std::vector<Real>(x.begin(), x.end());
}

template <typename T>
struct PathResult {
    Isa isa;
    Forward<T> f;
    Gradients<T> g;
};

// One path's results in the reference's shape, to compare the other paths with.
template <typename T>
ReferenceResult widened(const PathResult<T>& run) {
    ReferenceResult r;
    r.out = widened(run.f.out);
    r.last_state = widened(run.f.last_state);
    r.chunk_states = widened(run.f.chunk_states);
    r.du = widened(run.g.du);
    r.ddelta = widened(run.g.ddelta);
    r.dA = widened(run.g.dA);
    r.dB = widened(run.g.dB);
    r.dC = widened(run.g.dC);
    r.dD = widened(run.g.dD);
    r.dz = widened(run.g.dz);
    r.ddelta_bias = widened(run.g.ddelta_bias);
    return r;
}

// Name, value and reference of every output and gradient of one run.
template <typename T, class Check>
void for_each_output(const PathResult<T>& run, const ReferenceResult& r, Check check) {
    check("out", run.f.out, r.out, Tolerance<T>::forward);
    check("last_state", run.f.last_state, r.last_state, Tolerance<T>::forward);
    check("chunk_states", run.f.chunk_states, r.chunk_states, Tolerance<T>::forward);
    const double tol = Tolerance<T>::gradient;
    check("du", run.g.du, r.du, tol);
    check("ddelta", run.g.ddelta, r.ddelta, tol);
    check("dA", run.g.dA, r.dA, tol);
    check("dB", run.g.dB, r.dB, tol);
    check("dC", run.g.dC, r.dC, tol);
    check("dD", run.g.dD, r.dD, tol);
    check("dz", run.g.dz, r.dz, tol);
    check("ddelta_bias", run.g.ddelta_bias, r.ddelta_bias, tol);
}

template <typename T>
void check_every_path(const ScanShape& s) {
    const uint64_t seed = fresh_seed();
    SCOPED_TRACE("seed " + std::to_string(seed) + " (SSMB_TEST_SEED replays it)");
    const ScanData<T> d = random_inputs<T>(s, seed);
    const ReferenceResult r = reference(d);
    IsaGuard guard;
    std::vector<PathResult<T>> runs;
    for (Isa isa : ssmb::cpu::supported_isas()) {
        SCOPED_TRACE(ssmb::cpu::isa_name(isa));
        ssmb::cpu::set_active_isa(isa);
        ASSERT_STREQ(ssmb_cpu_isa(), ssmb::cpu::isa_name(isa));
        PathResult<T> run{isa, {}, {}};
        ASSERT_NO_FATAL_FAILURE(run_forward(d, run.f));
        ASSERT_NO_FATAL_FAILURE(run_backward(d, run.f.chunk_states, run.g));
        for_each_output(run, r, [](const char* name, const std::vector<T>& x, const std::vector<Real>& ref,
                                   double tol) { EXPECT_LT(relative_error(x, ref), tol) << name; });
        runs.push_back(run);
    }
    const PathResult<T>& best = runs.front();
    const ReferenceResult best_as_reference = widened(best);
    for (size_t i = 1; i < runs.size(); ++i) {
        SCOPED_TRACE(std::string(ssmb::cpu::isa_name(runs[i].isa)) + " against " + ssmb::cpu::isa_name(best.isa));
        for_each_output(runs[i], best_as_reference,
                        [](const char* name, const std::vector<T>& x, const std::vector<Real>& ref, double tol) {
                            EXPECT_LT(relative_error(x, ref), tol) << name;
                        });
    }
}

// Every third shape of the sweep: all lengths, state sizes and option sets still appear; the
// shapes whose backward runs in slabs; and state counts that split into blocks of 4, 2 and 1.
std::vector<ScanShape> isa_shapes() {
    std::vector<ScanShape> shapes;
    const std::vector<ScanShape> sweep = sweep_shapes();
    for (size_t i = 0; i < sweep.size(); i += 3) shapes.push_back(sweep[i]);
    for (const ScanShape& s : slab_shapes()) shapes.push_back(s);
    for (const ScanShape& s : state_block_shapes()) shapes.push_back(s);
    return shapes;
}

class SelectiveScanEveryIsa : public ::testing::TestWithParam<ScanShape> {};

TEST_P(SelectiveScanEveryIsa, Float32) { check_every_path<float>(GetParam()); }

TEST_P(SelectiveScanEveryIsa, Float64) { check_every_path<double>(GetParam()); }

INSTANTIATE_TEST_SUITE_P(Shapes, SelectiveScanEveryIsa, ::testing::ValuesIn(isa_shapes()), shape_param_name);

TEST(CpuIsa, ScalarIsAlwaysThereAndLast) {
    const std::vector<Isa> isas = ssmb::cpu::supported_isas();
    ASSERT_FALSE(isas.empty());
    EXPECT_EQ(isas.back(), Isa::scalar);
}

TEST(CpuIsa, RequestPicksThatPathOrFallsBackToTheBest) {
    const Isa best = ssmb::cpu::supported_isas().front();
    for (Isa isa : ssmb::cpu::supported_isas()) EXPECT_EQ(ssmb::cpu::isa_for_request(ssmb::cpu::isa_name(isa)), isa);
    EXPECT_EQ(ssmb::cpu::isa_for_request(nullptr), best);
    EXPECT_EQ(ssmb::cpu::isa_for_request(""), best);
    EXPECT_EQ(ssmb::cpu::isa_for_request("avx1024"), best);
    EXPECT_EQ(ssmb::cpu::isa_for_request("AVX2"), best);  // names are exact
}

// The x86 paths are detected from CPUID and XCR0 with every compiler (MSVC has no
// __builtin_cpu_supports); where GCC or clang builds the tests, their builtins, which check the same
// instructions and OS support, are an independent answer.
#if (defined(__x86_64__) || defined(_M_X64)) && defined(__GNUC__)
TEST(CpuIsa, X86DetectionAgreesWithTheCompilersBuiltins) {
    std::vector<Isa> expected;
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        expected.push_back(Isa::avx512);
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) expected.push_back(Isa::avx2);
    expected.push_back(Isa::scalar);
    EXPECT_EQ(ssmb::cpu::supported_isas(), expected);
}
#endif

TEST(CpuIsa, ReportsThePathInUse) {
    IsaGuard guard;
    for (Isa isa : ssmb::cpu::supported_isas()) {
        ssmb::cpu::set_active_isa(isa);
        EXPECT_STREQ(ssmb_cpu_isa(), ssmb::cpu::isa_name(isa));
    }
}

}  // namespace
