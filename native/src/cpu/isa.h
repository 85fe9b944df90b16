// Which instruction set the CPU kernels run on. Picked once per process: the best one this CPU
// supports, or a lower one named by the environment variable SSMB_CPU_ISA ("avx512", "avx2",
// "neon", "scalar"), so tests and benchmarks can compare paths on one machine.
#pragma once

#include <vector>

#if defined(__x86_64__) || defined(_M_X64)
#define SSMB_CPU_X86_64 1  // the build carries the avx2 and avx512 kernels
#endif
#if defined(__aarch64__) || defined(_M_ARM64)
#define SSMB_CPU_ARM64 1  // the build carries the neon kernels
#endif

namespace ssmb::cpu {

enum class Isa { scalar, avx2, avx512, neon };

// The name ssmb_cpu_isa() reports, e.g. "avx512".
const char* isa_name(Isa isa);

// Every ISA this build carries and this CPU can run, best first; scalar is always last.
std::vector<Isa> supported_isas();

// The ISA a value of SSMB_CPU_ISA asks for: that one when it is supported here, else (unknown,
// unsupported, null or empty) the best supported one.
Isa isa_for_request(const char* requested);

// The ISA the kernels use. The first call (at library load) reads SSMB_CPU_ISA; a value that is
// unknown or not supported here falls back to the best supported ISA, with one line on stderr.
Isa active_isa();

// Switches the kernels to another supported ISA. For tests that compare paths in one process;
// not exported from the library.
void set_active_isa(Isa isa);

}  // namespace ssmb::cpu
