// Accuracy and range checks of the CPU kernels' vector math (src/cpu/vec_math.h) and of the
// vector types' transposes, for one vector type. Included once per ISA by test_vec_math_<isa>.cpp
// after vec_math.h, inside that ISA's target region (so the standard and gtest headers must come
// first); test_vec_math.cpp runs the ISAs this CPU supports.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "cpu/vec_fold.h"
#include "cpu/vec_lanes.h"

namespace ssmb_test {

// Documented bounds (vec_math.h) with room for the scalar path, which has no fused multiply-add.
template <typename T>
struct MathBounds;
template <>
struct MathBounds<float> {
    static constexpr double exp2 = 2.5e-7, log1p = 4e-7, sigmoid = 1e-6, epsilon = 5.96e-8;
};
template <>
struct MathBounds<double> {
    static constexpr double exp2 = 1e-15, log1p = 2e-14, sigmoid = 1e-14, epsilon = 1.11e-16;
};

// f applied to every element of xs, a vector at a time.
template <class V, class F>
std::vector<typename V::Scalar> apply(F f, const std::vector<typename V::Scalar>& xs) {
    std::vector<typename V::Scalar> padded(xs), ys;
    padded.resize((xs.size() + V::kLanes - 1) / V::kLanes * V::kLanes, 0);
    ys.resize(padded.size());
    for (size_t i = 0; i < padded.size(); i += V::kLanes) f(V::load(padded.data() + i)).store(ys.data() + i);
    ys.resize(xs.size());
    return ys;
}

template <typename T>
std::vector<T> grid(double lo, double hi, int n) {
    std::vector<T> xs(n + 1);
    for (int i = 0; i <= n; ++i) xs[i] = static_cast<T>(lo + (hi - lo) * i / n);
    return xs;
}

// max over xs of |f(x) - ref(x)| / (|ref(x)| + floor) .
template <class V, class F, class Ref>
double max_relative_error(F f, Ref ref, const std::vector<typename V::Scalar>& xs, double floor = 0) {
    const std::vector<typename V::Scalar> ys = apply<V>(f, xs);
    double worst = 0;
    for (size_t i = 0; i < xs.size(); ++i) {
        const long double exact = ref(static_cast<long double>(xs[i]));
        const double err = static_cast<double>(std::fabs(ys[i] - exact) / (std::fabs(exact) + floor));
        worst = std::isnan(ys[i]) ? std::numeric_limits<double>::infinity() : std::max(worst, err);
    }
    return worst;
}

template <class V>
void check_vec_math() {
    using T = typename V::Scalar;
    using B = MathBounds<T>;
    namespace vm = ssmb::cpu::vmath;
    const bool is_float = sizeof(T) == 4;
    const double max_exp2 = is_float ? 127 : 1023, min_normal_exp2 = is_float ? -125 : -1021;
    auto exp2 = [](V x) { return vm::exp2(x); };
    auto exp = [](V x) { return vm::exp(x); };
    auto softplus = [](V x) { return vm::softplus(x); };
    auto sigmoid = [](V x) { return vm::sigmoid(x); };
    auto silu = [](V x) { return vm::silu(x); };

    EXPECT_LT(max_relative_error<V>(exp2, [](long double x) { return std::exp2(x); },
                                    grid<T>(min_normal_exp2, max_exp2, 400000)),
              B::exp2);
    // exp also rounds x * log2(e): relative error up to |x| epsilon more.
    const double ln2 = 0.6931471805599453, max_exp = max_exp2 * ln2;
    EXPECT_LT(max_relative_error<V>(exp, [](long double x) { return std::exp(x); },
                                    grid<T>(min_normal_exp2 * ln2, max_exp, 400000)),
              B::exp2 + 1.5 * max_exp * B::epsilon);
    EXPECT_LT(max_relative_error<V>(exp, [](long double x) { return std::exp(x); }, grid<T>(-1, 1, 100000)),
              B::exp2 + 1.5 * B::epsilon);
    // Mamba's softplus: log1p(exp(x)) up to 20, x above.
    EXPECT_LT(max_relative_error<V>(softplus, [](long double x) { return x <= 20 ? std::log1p(std::exp(x)) : x; },
                                    grid<T>(-30, 30, 200000)),
              B::exp2 + 30 * B::epsilon + B::log1p);
    // softplus_with_derivative: the same softplus, and sigmoid as its derivative (1 above 20).
    auto softplus_value = [](V x) {
        V derivative;
        return vm::softplus_with_derivative(x, derivative);
    };
    auto softplus_derivative = [](V x) {
        V derivative;
        vm::softplus_with_derivative(x, derivative);
        return derivative;
    };
    EXPECT_LT(max_relative_error<V>(softplus_value,
                                    [](long double x) { return x <= 20 ? std::log1p(std::exp(x)) : x; },
                                    grid<T>(-30, 30, 200000)),
              B::exp2 + 30 * B::epsilon + B::log1p);
    EXPECT_LT(max_relative_error<V>(softplus_derivative,
                                    [](long double x) { return x <= 20 ? 1 / (1 + std::exp(-x)) : 1; },
                                    grid<T>(-60, 60, 200000)),
              B::sigmoid + 60 * B::epsilon);
    EXPECT_LT(max_relative_error<V>(sigmoid, [](long double x) { return 1 / (1 + std::exp(-x)); },
                                    grid<T>(-60, 60, 200000)),
              B::sigmoid + 60 * B::epsilon);
    EXPECT_LT(max_relative_error<V>(silu, [](long double x) { return x / (1 + std::exp(-x)); },
                                    grid<T>(-60, 60, 200000), 1e-30),
              B::sigmoid + 60 * B::epsilon);

    // The whole range: no NaN from a finite input, 0 and +inf where the results leave the range.
    const T huge = std::numeric_limits<T>::max(), inf = std::numeric_limits<T>::infinity();
    const std::vector<T> extremes = {-huge, T(-1e30), T(-5000), T(-2 * max_exp2), T(2 * max_exp2), T(5000), T(1e30),
                                     huge};
    const std::vector<T> e2 = apply<V>(exp2, extremes), sp = apply<V>(softplus, extremes),
                         sg = apply<V>(sigmoid, extremes), sl = apply<V>(silu, extremes),
                         spv = apply<V>(softplus_value, extremes), spd = apply<V>(softplus_derivative, extremes);
    for (size_t i = 0; i < extremes.size(); ++i) {
        const bool negative = extremes[i] < 0;
        SCOPED_TRACE(extremes[i]);
        EXPECT_EQ(e2[i], negative ? T(0) : inf);
        EXPECT_EQ(sp[i], negative ? T(0) : extremes[i]);
        EXPECT_EQ(sg[i], negative ? T(0) : T(1));
        EXPECT_EQ(sl[i], negative ? T(0) : extremes[i]);
        EXPECT_EQ(spv[i], negative ? T(0) : extremes[i]);
        EXPECT_EQ(spd[i], negative ? T(0) : T(1));
    }
    EXPECT_TRUE(std::isnan(apply<V>(exp2, {std::numeric_limits<T>::quiet_NaN()})[0]));
    // Infinite arguments (AVX-512's exp2 has no clamp and relies on fraction(+-inf) = 0).
    const std::vector<T> infinities = {-inf, inf, std::numeric_limits<T>::quiet_NaN()};
    for (const std::vector<T>& y : {apply<V>(exp2, infinities), apply<V>(exp, infinities)}) {
        EXPECT_EQ(y[0], T(0));
        EXPECT_EQ(y[1], inf);
        EXPECT_TRUE(std::isnan(y[2]));
    }
    const std::vector<T> sp_inf = apply<V>(softplus, infinities), sg_inf = apply<V>(sigmoid, infinities);
    EXPECT_EQ(sp_inf[0], T(0));
    EXPECT_EQ(sp_inf[1], inf);
    EXPECT_TRUE(std::isnan(sp_inf[2]));
    EXPECT_EQ(sg_inf[0], T(0));
    EXPECT_EQ(sg_inf[1], T(1));
    EXPECT_TRUE(std::isnan(sg_inf[2]));

    // exp_scaled<-1>(x) has the bits of exp(-x), which softplus and sigmoid rely on.
    {
        const std::vector<T> xs = grid<T>(-100, 100, 20011);
        std::vector<T> negated(xs);
        for (T& x : negated) x = -x;
        const std::vector<T> a = apply<V>([](V x) { return vm::exp_scaled<-1>(x); }, xs), b = apply<V>(exp, negated);
        for (size_t i = 0; i < xs.size(); ++i) ASSERT_EQ(a[i], b[i]) << xs[i];
    }
    // Above the threshold softplus passes x through bit for bit (in float without a select).
    for (T x : grid<T>(20, 80, 30011)) {
        if (x <= T(20)) continue;
        ASSERT_EQ(apply<V>(softplus, {x})[0], x) << x;
        ASSERT_EQ(apply<V>(softplus_value, {x})[0], x) << x;
    }
    // Just below the normal range the result is tiny and non-negative.
    for (T y : apply<V>(exp2, grid<T>(min_normal_exp2 - 4, min_normal_exp2, 1000)))
        EXPECT_TRUE(y >= 0 && y < std::ldexp(T(1), int(min_normal_exp2) + 1)) << y;
}

template <class V>
void check_transposes() {
    using T = typename V::Scalar;
    constexpr int W = V::kLanes;
    std::mt19937 rng(3);
    std::normal_distribution<double> normal;
    T m[W][W];
    for (auto& row : m)
        for (T& x : row) x = static_cast<T>(normal(rng));
    V rows[W];
    for (int i = 0; i < W; ++i) rows[i] = V::load(m[i]);
    const V sums = horizontal_sums(rows);
    transpose(rows);
    T out[W][W], sum_lanes[W];
    for (int i = 0; i < W; ++i) rows[i].store(out[i]);
    sums.store(sum_lanes);
    for (int i = 0; i < W; ++i) {
        long double exact = 0;
        for (int j = 0; j < W; ++j) {
            EXPECT_EQ(out[i][j], m[j][i]) << i << ", " << j;
            exact += m[i][j];
        }
        EXPECT_NEAR(sum_lanes[i], static_cast<double>(exact), 1e-5) << i;
        EXPECT_NEAR(reduce_add(V::load(m[i])), static_cast<double>(exact), 1e-5) << i;
    }
}

// vec_fold.h for blocks of S = 1, 2, 4 states where the type has them (S <= kLanes / 4): the fold
// keeps each state's sum in the lanes i = state mod S, and state_sums (the type's own overload
// where it has one) sums those lanes of kLanes rows.
template <class V, int S = 1>
void check_state_folds() {
    using T = typename V::Scalar;
    constexpr int W = V::kLanes;
    if constexpr (S == 1 || S <= W / 4) {
        std::mt19937 rng(5 + S);
        std::normal_distribution<double> normal;
        T terms[S][W], rows[W][W];
        for (auto& state : terms)
            for (T& x : state) x = static_cast<T>(normal(rng));
        for (auto& row : rows)
            for (T& x : row) x = static_cast<T>(normal(rng));
        V vectors[S];
        for (int j = 0; j < S; ++j) vectors[j] = V::load(terms[j]);
        T folded[W];
        ssmb::cpu::fold_states<S>(vectors).store(folded);
        V row_vectors[W], sums[S];
        for (int q = 0; q < W; ++q) row_vectors[q] = V::load(rows[q]);
        using ssmb::cpu::state_sums;  // the generic one, unless the type's namespace has its own
        state_sums(row_vectors, sums, ssmb::cpu::Lanes<S>());
        for (int j = 0; j < S; ++j) {
            long double state_total = 0, folded_total = 0;
            for (int i = 0; i < W; ++i) state_total += terms[j][i];
            for (int i = j; i < W; i += S) folded_total += folded[i];
            EXPECT_NEAR(static_cast<double>(folded_total), static_cast<double>(state_total), 1e-5) << S << ", " << j;
            T sum_lanes[W];
            sums[j].store(sum_lanes);
            for (int q = 0; q < W; ++q) {
                long double exact = 0;
                for (int i = j; i < W; i += S) exact += rows[q][i];
                EXPECT_NEAR(sum_lanes[q], static_cast<double>(exact), 1e-5) << S << ", " << j << ", " << q;
            }
        }
        if constexpr (S < 4) check_state_folds<V, 2 * S>();
    }
}

// The lane shifts and broadcasts of the vector types that set kOneStateAlongTime, every shift count.
template <class V, int s = 1>
void check_lane_shifts() {
    using T = typename V::Scalar;
    constexpr int W = V::kLanes;
    if constexpr (s < W) {
        T x[W], up[W], down[W], first[W], last[W];
        for (int i = 0; i < W; ++i) x[i] = static_cast<T>(10 + i);
        const V v = V::load(x), fill = V::broadcast(T(-1));
        shift_up(v, fill, ssmb::cpu::Lanes<s>()).store(up);
        shift_down(v, fill, ssmb::cpu::Lanes<s>()).store(down);
        broadcast_first(v).store(first);
        broadcast_last(v).store(last);
        for (int i = 0; i < W; ++i) {
            EXPECT_EQ(up[i], i >= s ? x[i - s] : T(-1)) << "shift_up " << s << ", lane " << i;
            EXPECT_EQ(down[i], i + s < W ? x[i + s] : T(-1)) << "shift_down " << s << ", lane " << i;
            EXPECT_EQ(first[i], x[0]) << "lane " << i;
            EXPECT_EQ(last[i], x[W - 1]) << "lane " << i;
        }
        check_lane_shifts<V, s + 1>();
    }
}

}  // namespace ssmb_test
