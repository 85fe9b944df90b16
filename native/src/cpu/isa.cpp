#include "cpu/isa.h"

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

#if defined(SSMB_CPU_X86_64)
#if defined(_MSC_VER) && !defined(__clang__)
#include <intrin.h>
#else
#include <cpuid.h>
#endif
#endif

namespace ssmb::cpu {

namespace {

#if defined(SSMB_CPU_X86_64)
// CPUID leaf / subleaf: eax, ebx, ecx, edx.
struct CpuidRegisters {
    uint32_t eax, ebx, ecx, edx;
};

CpuidRegisters cpuid(uint32_t leaf, uint32_t subleaf) {
#if defined(_MSC_VER) && !defined(__clang__)
    int r[4];
    __cpuidex(r, static_cast<int>(leaf), static_cast<int>(subleaf));
    return {uint32_t(r[0]), uint32_t(r[1]), uint32_t(r[2]), uint32_t(r[3])};
#else
    CpuidRegisters r{};
    __cpuid_count(leaf, subleaf, r.eax, r.ebx, r.ecx, r.edx);
    return r;
#endif
}

// XCR0: the register states the OS saves on a context switch (ask only when CPUID has OSXSAVE).
uint64_t xcr0() {
#if defined(_MSC_VER) && !defined(__clang__)
    return _xgetbv(0);
#else
    uint32_t lo = 0, hi = 0;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (uint64_t(hi) << 32) | lo;
#endif
}

bool bit(uint32_t word, int n) { return (word >> n) & 1u; }

// What the x86 kernels need, from CPUID and XCR0 (the same way with every compiler): the
// instructions, and the OS's support for the wider registers. The avx2 path: AVX2 + FMA with YMM
// state; the avx512 path: also AVX-512 F, DQ, BW and VL with opmask and ZMM state.
struct X86Support {
    bool avx2 = false, avx512 = false;

    X86Support() {
        if (cpuid(0, 0).eax < 7) return;
        const CpuidRegisters leaf1 = cpuid(1, 0);
        const bool fma = bit(leaf1.ecx, 12), osxsave = bit(leaf1.ecx, 27), avx = bit(leaf1.ecx, 28);
        if (!osxsave || !avx) return;
        const uint64_t saved = xcr0();
        const bool ymm_state = (saved & 0x6) == 0x6;     // SSE and AVX state
        const bool zmm_state = (saved & 0xe6) == 0xe6;  // and opmask, ZMM_Hi256, Hi16_ZMM
        const uint32_t leaf7 = cpuid(7, 0).ebx;
        avx2 = ymm_state && fma && bit(leaf7, 5);
        avx512 = avx2 && zmm_state && bit(leaf7, 16) && bit(leaf7, 17) && bit(leaf7, 30) && bit(leaf7, 31);
    }
};

const X86Support& x86_support() {
    static const X86Support support;
    return support;
}
#endif

bool cpu_runs(Isa isa) {
    switch (isa) {
        case Isa::scalar:
            return true;
#if defined(SSMB_CPU_X86_64)
        case Isa::avx2:
            return x86_support().avx2;
        case Isa::avx512:
            return x86_support().avx512;
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
