// Sums over the lanes for the backward kernel's selective dB and dC (scan_kernel_bwd.h), on any
// vector type of vec_scalar.h's interface. A block of S states has one vector of per-channel terms
// per state and step; fold_states folds the S vectors into one, whose lane i holds terms of state
// i mod S only, so one store per step keeps them; state_sums then sums each state's lanes, kLanes
// steps at a time.
#pragma once

#include "cpu/vec_lanes.h"

namespace ssmb::cpu {

// One vector of S (1, 2 or 4; S <= kLanes / 4 unless 1) vectors of per-state terms: lane i of the
// result holds terms of state i mod S only, and the sum of those lanes is the sum of state
// i mod S's lanes.
template <int S, class V>
V fold_states(const V (&terms)[S]) {
    if constexpr (S == 1) {
        return terms[0];
    } else if constexpr (S == 2) {
        return interleave_add(terms[0], terms[1], Lanes<1>());
    } else {
        static_assert(S == 4, "blocks of 1, 2 or 4 states");
        return interleave_add(interleave_add(terms[0], terms[1], Lanes<1>()),
                              interleave_add(terms[2], terms[3], Lanes<1>()), Lanes<2>());
    }
}

// out[j] lane q = the sum of the lanes i = j mod S of rows[q], for j < S: horizontal sums of the
// rows with the other states' lanes masked out. Vector types may provide a faster overload for
// their S (vec_avx512.h), which overload resolution prefers to this template.
template <class V, int S>
void state_sums(const V (&rows)[V::kLanes], V (&out)[S], Lanes<S>) {
    using T = typename V::Scalar;
    constexpr int W = V::kLanes;
    if constexpr (S == 1) {
        out[0] = horizontal_sums(rows);
    } else {
        for (int j = 0; j < S; ++j) {
            T pattern[W];
            for (int i = 0; i < W; ++i) pattern[i] = i % S == j ? T(1) : T(0);
            const typename V::Mask lanes_of_j = V::zero() < V::load(pattern);
            V masked[W];
            for (int q = 0; q < W; ++q) masked[q] = select(lanes_of_j, rows[q], V::zero());
            out[j] = horizontal_sums(masked);
        }
    }
}

}  // namespace ssmb::cpu
