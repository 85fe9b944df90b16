#include "cpu/isa.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

namespace ssmb::cpu {

namespace {

// The x86 paths need their instructions and the OS's support for the wider registers;
// __builtin_cpu_supports checks both (other compilers on x86 get the scalar path).
bool cpu_runs(Isa isa) {
    switch (isa) {
        case Isa::scalar:
            return true;
#if defined(SSMB_CPU_X86_64) && defined(__GNUC__)
        case Isa::avx2:
            return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
        case Isa::avx512:
            return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
                   __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
                   __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
#if defined(SSMB_CPU_ARM64)
        case Isa::neon:
            return true;  // Advanced SIMD is part of every AArch64 CPU.
#endif
        default:
            return false;
    }
}

Isa choose_isa() {
    const char* requested = std::getenv("SSMB_CPU_ISA");
    const Isa isa = isa_for_request(requested);
    if (requested && *requested && std::strcmp(requested, isa_name(isa)) != 0)
        std::fprintf(stderr, "ssmbridge: SSMB_CPU_ISA=%s is not available on this CPU; using %s\n", requested,
                     isa_name(isa));
    return isa;
}

std::atomic<Isa>& active() {
    static std::atomic<Isa> isa{choose_isa()};
    return isa;
}

// Reads SSMB_CPU_ISA when the library loads, so a bad value is reported up front.
[[maybe_unused]] const Isa read_at_load = active_isa();

}  // namespace

const char* isa_name(Isa isa) {
    switch (isa) {
        case Isa::avx512:
            return "avx512";
        case Isa::avx2:
            return "avx2";
        case Isa::neon:
            return "neon";
        case Isa::scalar:
            break;
    }
    return "scalar";
}

std::vector<Isa> supported_isas() {
    std::vector<Isa> isas;
    for (Isa isa : {Isa::avx512, Isa::avx2, Isa::neon}) {
        if (cpu_runs(isa)) isas.push_back(isa);
    }
    isas.push_back(Isa::scalar);
    return isas;
}

Isa isa_for_request(const char* requested) {
    const std::vector<Isa> supported = supported_isas();
    for (Isa isa : supported) {
        if (requested && std::strcmp(requested, isa_name(isa)) == 0) return isa;
    }
    return supported.front();
}

Isa active_isa() { return active().load(std::memory_order_relaxed); }

void set_active_isa(Isa isa) {
    if (!cpu_runs(isa)) throw std::invalid_argument(std::string("ISA not supported here: ") + isa_name(isa));
    active().store(isa, std::memory_order_relaxed);
}

}  // namespace ssmb::cpu
