#!/usr/bin/env bash
# Builds the libFuzzer targets of native/fuzz (clang-14, ASan + UBSan, CPU only) into build/fuzz and
# runs each for a bounded time:
#   scripts/fuzz.sh [seconds-per-target] [target...]      (default: 20 seconds, every target)
# Each target starts from what earlier runs found (build/fuzz/corpus/<target>; empty on a fresh clone: the
# input decoding makes the first inputs valid calls). A crash, sanitizer report or broken contract stops that target,
# leaves the input in build/fuzz/crashes/ and makes the script fail. The last lines are a table:
# target, seconds, executions, corpus size, result.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="$ROOT/build/fuzz"
SECONDS_PER_TARGET="${1:-20}"
shift || true
ALL_TARGETS=(fuzz_selective_scan fuzz_cross_selective_scan fuzz_image_ops fuzz_s4d_kernel fuzz_library)
TARGETS=("$@")
((${#TARGETS[@]})) || TARGETS=("${ALL_TARGETS[@]}")
CC_BIN="${SSMB_FUZZ_CC:-clang-14}"
CXX_BIN="${SSMB_FUZZ_CXX:-clang++-14}"

if ! [[ "$SECONDS_PER_TARGET" =~ ^[1-9][0-9]*$ ]]; then
  echo "fuzz.sh: seconds-per-target: expected a positive integer, got '$SECONDS_PER_TARGET'" >&2
  exit 2
fi
for tool in "$CC_BIN" "$CXX_BIN" cmake; do
  command -v "$tool" >/dev/null 2>&1 || { echo "fuzz.sh: $tool not found (Debian: apt-get install clang-14 libclang-rt-14-dev cmake)" >&2; exit 2; }
done

echo "==> fuzz build ($CXX_BIN, ASan + UBSan + libFuzzer) -> $BUILD"
# -O1 with line tables: compiles much faster than -O2 (the build is most of a short CI run) and keeps
# sanitizer reports readable.
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Fuzz -DCMAKE_C_FLAGS_FUZZ="-O1 -gline-tables-only" \
  -DCMAKE_CXX_FLAGS_FUZZ="-O1 -gline-tables-only" -DCMAKE_C_COMPILER="$CC_BIN" \
  -DCMAKE_CXX_COMPILER="$CXX_BIN" -DSSMB_FUZZ=ON -DSSMB_CUDA=OFF -DSSMB_BUILD_TESTS=OFF >/dev/null
cmake --build "$BUILD" --parallel "${SSMB_JOBS:-$(nproc)}" --target fuzz_targets >/dev/null

mkdir -p "$BUILD/crashes"
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
summary=()
failed=0
for target in "${TARGETS[@]}"; do
  [ -x "$BUILD/bin/$target" ] || { echo "fuzz.sh: unknown target '$target' (have: ${ALL_TARGETS[*]})" >&2; exit 2; }
  corpus="$BUILD/corpus/$target"
  mkdir -p "$corpus"
  log="$BUILD/$target.log"
  echo "==> $target for ${SECONDS_PER_TARGET}s"
  result=ok
  # -max_len: the longest call decodes from under 100 bytes; longer inputs only add value bytes.
  if ! "$BUILD/bin/$target" -max_total_time="$SECONDS_PER_TARGET" -max_len=256 -timeout=30 -rss_limit_mb=4096 \
      -print_final_stats=1 -artifact_prefix="$BUILD/crashes/$target-" "$corpus" >"$log" 2>&1; then
    result=FAILED
    failed=1
    grep -E "ERROR|contract broken|runtime error|Test unit written" "$log" | head -n 20 >&2 || true
  fi
  execs=$(grep -Eo "stat::number_of_executed_units: *[0-9]+" "$log" | tail -n 1 | grep -Eo "[0-9]+$" || echo "?")
  summary+=("$(printf '%-28s %6ss %12s execs %6s corpus  %s' "$target" "$SECONDS_PER_TARGET" "$execs" \
    "$(find "$corpus" -type f | wc -l)" "$result")")
done
printf '%s\n' "${summary[@]}"
exit "$failed"
