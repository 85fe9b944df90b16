#!/usr/bin/env bash
# The shipped x86-64 libssmbridge must run on any x86-64-v2 CPU: instructions beyond that (AVX, AVX2, FMA,
# AVX-512, BMI1/2, LZCNT) may appear only in the kernels compiled for those ISAs inside their target regions
# (src/cpu/simd_target.h), which are picked at run time. Those are templates over the ISA's vector types, so
# their demangled names contain "avx2" or "avx512". This lists every function of the library that uses such
# an instruction and fails on any other: a -march flag, or a baseline function that inlined an AVX helper.
# Usage: check_baseline_isa.sh <objdump> <libssmbridge.so>
set -euo pipefail
objdump="$1" library="$2"
"$objdump" -d -C --no-show-raw-insn "$library" | awk '
  /^[0-9a-f]+ <.*>:$/ { fn = substr($0, index($0, "<") + 1); fn = substr(fn, 1, length(fn) - 2); next }
  # VEX/EVEX-encoded (v-prefixed with a vector or mask register), wide registers, masks, BMI1/2 and LZCNT.
  /%[yz]mm|%k[1-7]|\tv[a-z0-9]+ .*%xmm|\t(andn|bextr|blsi|blsmsk|blsr|bzhi|mulx|pdep|pext|rorx|sarx|shlx|shrx|lzcnt|tzcnt) / {
    wide[fn] = 1
  }
  END {
    kernels = 0; stray = 0
    for (f in wide) {
      if (f ~ /avx512|avx2/) kernels++
      else { print "beyond x86-64-v2 outside an ISA kernel: " f; stray++ }
    }
    printf "%d functions use AVX/AVX2/AVX-512 instructions, all in ISA kernels: %s\n", kernels, stray ? "NO" : "yes"
    if (kernels == 0) { print "no AVX2/AVX-512 kernels found: is this the x86-64 library?"; exit 1 }
    exit stray ? 1 : 0
  }'
