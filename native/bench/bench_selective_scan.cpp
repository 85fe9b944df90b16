// Times the CPU selective scan through the C ABI at the shapes the performance targets name:
// forward and forward+backward throughput in G elements/s (elements = batch*dim*L*N), median of
// several runs, with 1 and 2 threads. The ISA is whatever ssmb_cpu_isa() reports; set
// SSMB_CPU_ISA to time a lower path. Usage: ssmbridge_bench [runs] [shape] [threads] (runs default 7;
// shape: time only the shapes whose name contains it, e.g. "vmamba"; threads: 1 or 2 only).
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <random>
#include <string>
#include <vector>

#include "ssmbridge/ssmbridge.h"

namespace {

struct Shape {
    const char* name;
    int64_t batch, dim, L, N;
};

// Buffers on 64-byte boundaries, as libtorch allocates tensors. malloc's multi-MiB blocks start 16
// bytes past a page, which splits every 64-byte vector load across two cache lines and cost the
// kernels 2-10% here (Zen 4, 2026-11-28, bench/RESULTS.md).
template <typename T>
struct CacheLineAllocator {
    using value_type = T;
    CacheLineAllocator() = default;
    template <typename U>
    CacheLineAllocator(const CacheLineAllocator<U>&) {}
    T* allocate(std::size_t n) { return static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t(64))); }
    void deallocate(T* p, std::size_t) { ::operator delete(p, std::align_val_t(64)); }
    template <typename U>
    bool operator==(const CacheLineAllocator<U>&) const { return true; }
    template <typename U>
    bool operator!=(const CacheLineAllocator<U>&) const { return false; }
};
using Buffer = std::vector<float, CacheLineAllocator<float>>;

// Inputs drawn like a trained Mamba layer's: softplus(delta + bias) around 0.01..1, A < 0.
struct Problem {
    Shape s;
    Buffer u, delta, A, B, C, D, z, bias, out, chunk_states, last_state, dout;
    Buffer du, ddelta, dA, dB, dC, dD, dz, dbias, workspace;

    explicit Problem(const Shape& shape) : s(shape) {
        std::mt19937 rng(7);
        std::normal_distribution<float> normal(0.f, 1.f);
        std::uniform_real_distribution<float> uniform(0.f, 1.f);
        const int64_t seq = s.batch * s.dim * s.L, proj = s.batch * s.N * s.L;
        const int64_t chunks = (s.L + ssmb_selective_scan_chunk_size() - 1) / ssmb_selective_scan_chunk_size();
        auto fill = [&](Buffer& v, int64_t n, auto draw) {
            v.resize(n);
            for (float& x : v) x = draw();
        };
        fill(u, seq, [&] { return normal(rng); });
        fill(delta, seq, [&] { return -4.f + 4.f * uniform(rng); });
        fill(z, seq, [&] { return normal(rng); });
        fill(dout, seq, [&] { return normal(rng); });
        fill(A, s.dim * s.N, [&] { return -(1.f + 15.f * uniform(rng)); });
        fill(B, proj, [&] { return normal(rng); });
        fill(C, proj, [&] { return normal(rng); });
        fill(D, s.dim, [&] { return normal(rng); });
        fill(bias, s.dim, [&] { return -1.f + uniform(rng); });
        out.resize(seq);
        chunk_states.resize(s.batch * s.dim * chunks * s.N);
        last_state.resize(s.batch * s.dim * s.N);
        for (auto* v : {&du, &ddelta, &dz}) v->resize(seq);
        for (auto* v : {&dB, &dC}) v->resize(proj);
        dA.resize(s.dim * s.N);
        dD.resize(s.dim);
        dbias.resize(s.dim);
        int64_t bytes = 0;
        check(ssmb_selective_scan_bwd_workspace_size(SSMB_FLOAT32, SSMB_FLOAT32, s.batch, s.dim, s.L, s.N, 1, 1, 1,
                                                     &bytes));
        workspace.resize(bytes / sizeof(float) + 1);
    }

    static void check(ssmb_status status) {
        if (status != SSMB_OK) {
            std::fprintf(stderr, "ssmbridge: %s\n", ssmb_last_error());
            std::exit(1);
        }
    }

    void forward() {
        check(ssmb_selective_scan_fwd(SSMB_FLOAT32, SSMB_FLOAT32, s.batch, s.dim, s.L, s.N, 1, 1, 1, u.data(),
                                      delta.data(), A.data(), B.data(), C.data(), D.data(), z.data(), bias.data(), 1,
                                      0, out.data(), chunk_states.data(), last_state.data()));
    }

    void backward() {
        check(ssmb_selective_scan_bwd(SSMB_FLOAT32, SSMB_FLOAT32, s.batch, s.dim, s.L, s.N, 1, 1, 1, u.data(),
                                      delta.data(), A.data(), B.data(), C.data(), D.data(), z.data(), bias.data(), 1,
                                      0, chunk_states.data(), dout.data(), nullptr, du.data(), ddelta.data(),
                                      dA.data(), dB.data(), dC.data(), dD.data(), dz.data(), dbias.data(),
                                      workspace.data(), static_cast<int64_t>(workspace.size() * sizeof(float))));
    }

    // Bytes of every input the backward reads (u, delta, z, dout, B, C, chunk states, weights).
    int64_t input_bytes() const {
        return static_cast<int64_t>((u.size() + delta.size() + z.size() + dout.size() + B.size() + C.size() +
                                     A.size() + D.size() + bias.size() + chunk_states.size()) *
                                    sizeof(float));
    }
};

template <class Fn>
double median_seconds(int runs, Fn&& fn) {
    fn();  // warm-up: page faults, thread start
    std::vector<double> times;
    for (int r = 0; r < runs; ++r) {
        const auto start = std::chrono::steady_clock::now();
        fn();
        times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    std::sort(times.begin(), times.end());
    return times[times.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
    const int runs = argc > 1 ? std::max(1, std::atoi(argv[1])) : 7;
    const std::string only = argc > 2 ? argv[2] : "";
    // A third argument runs one thread count only: two builds compared at the same moment, each
    // pinned to its own core (taskset), see only each other's load.
    const int only_threads = argc > 3 ? std::atoi(argv[3]) : 0;
    const Shape shapes[] = {
        {"mamba (2,384,1024,16)", 2, 384, 1024, 16}, {"vmamba (8,192,3136,1)", 8, 192, 3136, 1},
        {"vim-ti (1,384,197,16)", 1, 384, 197, 16},  {"vim-ti (2,384,197,16)", 2, 384, 197, 16},
        {"vim-ti (4,384,197,16)", 4, 384, 197, 16},  {"vim-ti (8,384,197,16)", 8, 384, 197, 16},
    };
    std::printf("isa %s; float32, selective B/C (groups 1), D, z, delta_bias, softplus; median of %d runs\n",
                ssmb_cpu_isa(), runs);
    std::printf("%-24s %7s %12s %12s %12s %10s\n", "shape", "threads", "fwd G/s", "fwd+bwd G/s", "bwd/fwd time",
                "ws/inputs");
    for (const Shape& shape : shapes) {
        if (std::string(shape.name).find(only) == std::string::npos) continue;
        Problem problem(shape);
        const double elements = double(shape.batch) * shape.dim * shape.L * shape.N;
        for (int threads : {1, 2}) {
            if (only_threads > 0 && threads != only_threads) continue;
            Problem::check(ssmb_set_num_threads(threads));
            const double fwd = median_seconds(runs, [&] { problem.forward(); });
            const double bwd = median_seconds(runs, [&] { problem.backward(); });
            std::printf("%-24s %7d %12.3f %12.3f %12.2f %10.3f\n", shape.name, threads, elements / fwd / 1e9,
                        elements / (fwd + bwd) / 1e9, bwd / fwd,
                        double(problem.workspace.size() * sizeof(float)) / problem.input_bytes());
            std::fflush(stdout);
        }
    }
}
