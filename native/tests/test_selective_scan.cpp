// The CPU selective scan through the C ABI, against the long-double reference of
// scan_test_support.h; plus float64 finite differences of the native backward against the native
// forward, reproducibility across thread counts, and reverse scanning against scanning
// time-flipped inputs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "scan_test_support.h"
#include "ssmbridge/ssmbridge.h"

namespace {

using namespace ssmb_test;

// ---- the sweep against the reference ------------------------------------------------------------

class SelectiveScanSweep : public ::testing::TestWithParam<ScanShape> {};

template <typename T>
void check_against_reference(const ScanShape& s) {
    const uint64_t seed = fresh_seed();
    SCOPED_TRACE("seed " + std::to_string(seed) + " (SSMB_TEST_SEED replays it)");
    const ScanData<T> d = random_inputs<T>(s, seed);
    const ReferenceResult r = reference(d);

    Forward<T> f;
    ASSERT_NO_FATAL_FAILURE(run_forward(d, f));
    EXPECT_LT(relative_error(f.out, r.out), Tolerance<T>::forward) << "out";
    EXPECT_LT(relative_error(f.last_state, r.last_state), Tolerance<T>::forward) << "last_state";
    EXPECT_LT(relative_error(f.chunk_states, r.chunk_states), Tolerance<T>::forward) << "chunk_states";

    Gradients<T> g;
    ASSERT_NO_FATAL_FAILURE(run_backward(d, f.chunk_states, g));
    const double tol = Tolerance<T>::gradient;
    EXPECT_LT(relative_error(g.du, r.du), tol) << "du";
    EXPECT_LT(relative_error(g.ddelta, r.ddelta), tol) << "ddelta";
    EXPECT_LT(relative_error(g.dA, r.dA), tol) << "dA";
    EXPECT_LT(relative_error(g.dB, r.dB), tol) << "dB";
    EXPECT_LT(relative_error(g.dC, r.dC), tol) << "dC";
    EXPECT_LT(relative_error(g.dD, r.dD), tol) << "dD";
    EXPECT_LT(relative_error(g.dz, r.dz), tol) << "dz";
    EXPECT_LT(relative_error(g.ddelta_bias, r.ddelta_bias), tol) << "ddelta_bias";
}

TEST_P(SelectiveScanSweep, Float32MatchesReference) { check_against_reference<float>(GetParam()); }

TEST_P(SelectiveScanSweep, Float64MatchesReference) { check_against_reference<double>(GetParam()); }

INSTANTIATE_TEST_SUITE_P(Shapes, SelectiveScanSweep, ::testing::ValuesIn(sweep_shapes()), shape_param_name);

// ---- finite differences ------------------------------------------------------------------------

// sum(out * dout) + sum(last_state * dlast_state) in long double, so its gradient is what the
// backward computes from dout and dlast_state.
Real loss_of(const ScanData<double>& d) {
    Forward<double> f;
    run_forward(d, f);
    Real loss = 0;
    for (size_t i = 0; i < f.out.size(); ++i) loss += Real(f.out[i]) * Real(d.dout[i]);
    for (size_t i = 0; i < f.last_state.size(); ++i) loss += Real(f.last_state[i]) * Real(d.dlast_state[i]);
    return loss;
}

// Central differences of the loss at a few random elements of every input against the native
// backward, each within 1e-6 of the largest entry of that gradient.
void check_finite_differences(const ScanShape& s) {
    const uint64_t seed = fresh_seed();
    SCOPED_TRACE("seed " + std::to_string(seed) + " (SSMB_TEST_SEED replays it)");
    ScanData<double> d = random_inputs<double>(s, seed);
    Forward<double> f;
    ASSERT_NO_FATAL_FAILURE(run_forward(d, f));
    Gradients<double> g;
    ASSERT_NO_FATAL_FAILURE(run_backward(d, f.chunk_states, g));

    struct Pair {
        const char* name;
        std::vector<double>* input;
        const std::vector<double>* grad;
    };
    const Pair pairs[] = {{"u", &d.u, &g.du}, {"delta", &d.delta, &g.ddelta},
                          {"A", &d.A, &g.dA}, {"B", &d.B, &g.dB},
                          {"C", &d.C, &g.dC}, {"D", &d.D, &g.dD},
                          {"z", &d.z, &g.dz}, {"delta_bias", &d.delta_bias, &g.ddelta_bias}};
    std::mt19937_64 pick(seed ^ 0x9e3779b97f4a7c15ull);
    for (const Pair& pair : pairs) {
        std::vector<double>& x = *pair.input;
        if (x.empty()) continue;
        double scale = 0;
        for (double v : *pair.grad) scale = std::max(scale, std::fabs(v));
        for (int sample = 0; sample < 6; ++sample) {
            const size_t i = std::uniform_int_distribution<size_t>(0, x.size() - 1)(pick);
            const double original = x[i], eps = 1e-5 * std::max(1.0, std::fabs(original));
            x[i] = original + eps;
            const Real up = loss_of(d);
            x[i] = original - eps;
            const Real down = loss_of(d);
            x[i] = original;
            const double numeric = static_cast<double>((up - down) / (2 * Real(eps)));
            EXPECT_NEAR((*pair.grad)[i], numeric, 1e-6 * std::max(1.0, scale)) << pair.name << "[" << i << "]";
        }
    }
}

TEST(SelectiveScanFiniteDifferences, SelectiveAllOptions) {
    check_finite_differences({2, 6, 70, 3, 2, true, true, true, true, true, true, false});
}

TEST(SelectiveScanFiniteDifferences, TimeInvariantReverse) {
    check_finite_differences({2, 5, 70, 4, 1, false, false, true, true, true, true, true});
}

TEST(SelectiveScanFiniteDifferences, MixedWideGroupsNoSoftplus) {
    check_finite_differences({2, 34, 130, 2, 2, true, false, true, false, true, false, false});
}

// With one state the AVX-512 kernels run their vectors along time (scan_kernel_fwd_one_state.h,
// scan_kernel_bwd_one_state.h): groups of channels (4 in the forward, 2 in the backward) and then one
// at a time, sequences that end inside a vector (70, 83, 130), both directions.
TEST(SelectiveScanFiniteDifferences, OneStateSelectiveAllOptions) {
    check_finite_differences({2, 6, 70, 1, 2, true, true, true, true, true, true, false});
}

TEST(SelectiveScanFiniteDifferences, OneStateTimeInvariantReverse) {
    check_finite_differences({2, 9, 83, 1, 1, false, false, true, true, true, true, true});
}

TEST(SelectiveScanFiniteDifferences, OneStateMixedWideGroupsReverse) {
    check_finite_differences({2, 34, 130, 1, 2, true, false, true, true, true, false, true});
}

// Every output and gradient of two runs, bit for bit.
template <typename T>
void expect_bitwise_equal(const Forward<T>& f, const Gradients<T>& g, const Forward<T>& f_ref,
                          const Gradients<T>& g_ref) {
    EXPECT_TRUE(bitwise_equal(f.out, f_ref.out));
    EXPECT_TRUE(bitwise_equal(f.chunk_states, f_ref.chunk_states));
    EXPECT_TRUE(bitwise_equal(f.last_state, f_ref.last_state));
    EXPECT_TRUE(bitwise_equal(g.du, g_ref.du));
    EXPECT_TRUE(bitwise_equal(g.ddelta, g_ref.ddelta));
    EXPECT_TRUE(bitwise_equal(g.dA, g_ref.dA));
    EXPECT_TRUE(bitwise_equal(g.dB, g_ref.dB));
    EXPECT_TRUE(bitwise_equal(g.dC, g_ref.dC));
    EXPECT_TRUE(bitwise_equal(g.dD, g_ref.dD));
    EXPECT_TRUE(bitwise_equal(g.dz, g_ref.dz));
    EXPECT_TRUE(bitwise_equal(g.ddelta_bias, g_ref.ddelta_bias));
}

// ---- backward slabs ----------------------------------------------------------------------------

class SelectiveScanSlabs : public ::testing::TestWithParam<ScanShape> {};

TEST_P(SelectiveScanSlabs, Float32MatchesReference) { check_against_reference<float>(GetParam()); }

TEST_P(SelectiveScanSlabs, Float64MatchesReference) { check_against_reference<double>(GetParam()); }

INSTANTIATE_TEST_SUITE_P(Shapes, SelectiveScanSlabs, ::testing::ValuesIn(slab_shapes()), shape_param_name);

// ---- softplus threshold ------------------------------------------------------------------------

// Above 20, Mamba's softplus is the identity, so its derivative there is exactly 1 (not sigmoid,
// which differs from 1 by e^-20 in float64). With every delta + bias above 20, the call with
// softplus on must give bitwise the results of the call with it off.
TEST(SelectiveScanSoftplus, AboveTheThresholdBothPassesAreTheIdentity) {
    const uint64_t seed = fresh_seed();
    SCOPED_TRACE("seed " + std::to_string(seed) + " (SSMB_TEST_SEED replays it)");
    ScanData<double> on = random_inputs<double>({2, 20, 150, 4, 1, true, true, true, true, true, true, false}, seed);
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> above(20.5, 24.0), bias(0.0, 0.5);
    for (double& x : on.delta) x = above(rng);
    for (double& x : on.delta_bias) x = bias(rng);
    for (double& x : on.A) x *= 0.05;  // keep exp(dt A) away from 0 so the state stays busy
    ScanData<double> off = on;
    off.s.delta_softplus = false;
    Forward<double> f_on, f_off;
    Gradients<double> g_on, g_off;
    ASSERT_NO_FATAL_FAILURE(run_forward(on, f_on));
    ASSERT_NO_FATAL_FAILURE(run_forward(off, f_off));
    ASSERT_NO_FATAL_FAILURE(run_backward(on, f_on.chunk_states, g_on));
    ASSERT_NO_FATAL_FAILURE(run_backward(off, f_off.chunk_states, g_off));
    expect_bitwise_equal(f_on, g_on, f_off, g_off);
}

// ---- reproducibility ---------------------------------------------------------------------------

// Restores the thread count a test changed.
class ThreadCountGuard {
public:
    ThreadCountGuard() : saved_(ssmb_get_num_threads()) {}
    ~ThreadCountGuard() { ssmb_set_num_threads(saved_); }

private:
    int32_t saved_;
};

template <typename T>
void check_thread_count_independence(const ScanShape& s) {
    const uint64_t seed = fresh_seed();
    SCOPED_TRACE("seed " + std::to_string(seed) + " (SSMB_TEST_SEED replays it)");
    const ScanData<T> d = random_inputs<T>(s, seed);
    ThreadCountGuard guard;
    Forward<T> f1;
    Gradients<T> g1;
    ASSERT_EQ(ssmb_set_num_threads(1), SSMB_OK);
    ASSERT_NO_FATAL_FAILURE(run_forward(d, f1));
    ASSERT_NO_FATAL_FAILURE(run_backward(d, f1.chunk_states, g1));
    for (int threads : {2, 3}) {
        SCOPED_TRACE(std::to_string(threads) + " threads");
        ASSERT_EQ(ssmb_set_num_threads(threads), SSMB_OK);
        Forward<T> f;
        Gradients<T> g;
        ASSERT_NO_FATAL_FAILURE(run_forward(d, f));
        ASSERT_NO_FATAL_FAILURE(run_backward(d, f.chunk_states, g));
        expect_bitwise_equal(f, g, f1, g1);
    }
}

// Two groups of 20 channels: two tiles per group, so selective dB / dC and the sums over batch all
// go through the workspace.
TEST(SelectiveScanDeterminism, SelectiveGradientsAreBitwiseEqualForAnyThreadCount) {
    check_thread_count_independence<float>({2, 40, 300, 8, 2, true, true, true, true, true, true, false});
}

// 36 tiles in slabs of 2 (the first of slab_shapes): the slabs' partial sums are reduced in a fixed order.
TEST(SelectiveScanDeterminism, SlabGradientsAreBitwiseEqualForAnyThreadCount) {
    check_thread_count_independence<float>(slab_shapes().front());
}

TEST(SelectiveScanDeterminism, TimeInvariantGradientsAreBitwiseEqualForAnyThreadCount) {
    check_thread_count_independence<float>({3, 37, 200, 16, 1, false, false, true, true, true, true, true});
}

// Calls from several threads at once share one pool: the ones that find it busy run on their own
// thread. Every call must still finish and give the single-threaded result.
TEST(SelectiveScanDeterminism, ConcurrentCallersGetTheSameResults) {
    const ScanShape s{2, 40, 500, 16, 2, true, true, true, true, true, true, false};
    const ScanData<float> d = random_inputs<float>(s, fresh_seed());
    ThreadCountGuard guard;
    ASSERT_EQ(ssmb_set_num_threads(2), SSMB_OK);
    Forward<float> expected;
    ASSERT_NO_FATAL_FAILURE(run_forward(d, expected));
    Gradients<float> expected_grads;
    ASSERT_NO_FATAL_FAILURE(run_backward(d, expected.chunk_states, expected_grads));

    const int callers = 4;
    std::vector<Forward<float>> forwards(callers);
    std::vector<Gradients<float>> grads(callers);
    std::vector<std::thread> threads;
    for (int c = 0; c < callers; ++c) {
        threads.emplace_back([&, c] {
            for (int repeat = 0; repeat < 3; ++repeat) {
                run_forward(d, forwards[c]);
                run_backward(d, forwards[c].chunk_states, grads[c]);
            }
        });
    }
    for (std::thread& t : threads) t.join();
    for (int c = 0; c < callers; ++c) {
        EXPECT_TRUE(bitwise_equal(forwards[c].out, expected.out)) << "caller " << c;
        EXPECT_TRUE(bitwise_equal(grads[c].dB, expected_grads.dB)) << "caller " << c;
        EXPECT_TRUE(bitwise_equal(grads[c].dA, expected_grads.dA)) << "caller " << c;
        EXPECT_TRUE(bitwise_equal(grads[c].du, expected_grads.du)) << "caller " << c;
    }
}

// ---- reverse -------------------------------------------------------------------------------------

// Reverses every (.., L) row of a sequence tensor.
template <typename T>
std::vector<T> flip_time(const std::vector<T>& x, int64_t L) {
    std::vector<T> y(x.size());
    for (size_t row = 0; row < x.size() / L; ++row)
        for (int64_t t = 0; t < L; ++t) y[row * L + t] = x[row * L + L - 1 - t];
    return y;
}

// reverse = true visits the same values in the same order as a forward scan of time-flipped
// inputs, so outputs and gradients agree bit for bit (after flipping back).
template <typename T>
void check_reverse_equals_flipped(const ScanShape& s) {
    const uint64_t seed = fresh_seed();
    SCOPED_TRACE("seed " + std::to_string(seed) + " (SSMB_TEST_SEED replays it)");
    ScanData<T> reversed = random_inputs<T>(s, seed);
    reversed.s.reverse = true;
    ScanData<T> flipped = reversed;
    flipped.s.reverse = false;
    const int64_t L = s.L;
    flipped.u = flip_time(reversed.u, L);
    flipped.delta = flip_time(reversed.delta, L);
    flipped.dout = flip_time(reversed.dout, L);
    if (s.has_z) flipped.z = flip_time(reversed.z, L);
    if (s.B_selective) flipped.B = flip_time(reversed.B, L);
    if (s.C_selective) flipped.C = flip_time(reversed.C, L);

    Forward<T> fr, ff;
    ASSERT_NO_FATAL_FAILURE(run_forward(reversed, fr));
    ASSERT_NO_FATAL_FAILURE(run_forward(flipped, ff));
    EXPECT_TRUE(bitwise_equal(fr.out, flip_time(ff.out, L)));
    EXPECT_TRUE(bitwise_equal(fr.last_state, ff.last_state));
    EXPECT_TRUE(bitwise_equal(fr.chunk_states, ff.chunk_states));

    Gradients<T> gr, gf;
    ASSERT_NO_FATAL_FAILURE(run_backward(reversed, fr.chunk_states, gr));
    ASSERT_NO_FATAL_FAILURE(run_backward(flipped, ff.chunk_states, gf));
    EXPECT_TRUE(bitwise_equal(gr.du, flip_time(gf.du, L)));
    EXPECT_TRUE(bitwise_equal(gr.ddelta, flip_time(gf.ddelta, L)));
    EXPECT_TRUE(bitwise_equal(gr.dz, s.has_z ? flip_time(gf.dz, L) : gf.dz));
    EXPECT_TRUE(bitwise_equal(gr.dB, s.B_selective ? flip_time(gf.dB, L) : gf.dB));
    EXPECT_TRUE(bitwise_equal(gr.dC, s.C_selective ? flip_time(gf.dC, L) : gf.dC));
    EXPECT_TRUE(bitwise_equal(gr.dA, gf.dA));
    EXPECT_TRUE(bitwise_equal(gr.dD, gf.dD));
    EXPECT_TRUE(bitwise_equal(gr.ddelta_bias, gf.ddelta_bias));
}

TEST(SelectiveScanReverse, SelectiveEqualsForwardScanOfFlippedInputs) {
    check_reverse_equals_flipped<float>({2, 34, 200, 16, 2, true, true, true, true, true, true, true});
}

TEST(SelectiveScanReverse, TimeInvariantEqualsForwardScanOfFlippedInputs) {
    check_reverse_equals_flipped<double>({2, 5, 129, 4, 1, false, false, true, false, false, false, true});
}

// With one state the AVX-512 forward runs its vectors along time (scan_kernel_fwd_one_state.h): a
// reverse scan mirrors the lanes, including those past the end (L = 200 and 129 end inside a vector).
TEST(SelectiveScanReverse, OneStateEqualsForwardScanOfFlippedInputs) {
    check_reverse_equals_flipped<float>({2, 34, 200, 1, 2, true, true, true, true, true, true, true});
    check_reverse_equals_flipped<double>({1, 7, 129, 1, 1, false, true, true, false, true, false, true});
}

}  // namespace
