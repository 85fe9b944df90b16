#!/usr/bin/env bash
# The arm64 (NEON) CPU path, checked on an x86-64 Linux machine: cross-builds the native library and
# its GoogleTest suite for aarch64 Linux with Debian's aarch64-linux-gnu-g++ (and GoogleTest from
# /usr/src/googletest, built for aarch64), then runs the tests under qemu-user. No macOS or arm64
# machine is needed; Apple's clang is not what compiles here, but the NEON intrinsics are the same.
#
# Usage: scripts/arm64_check.sh [REGEX|all]
#   REGEX  ctest -R filter; the default runs the path tests: the vector math of the scalar and NEON
#          paths, ISA detection, the selective scan forced onto each path against the reference, the
#          paths' agreement and the unsupported-request fallbacks (about 3 minutes on 2 cores).
#   all    the whole native suite (about 10 minutes on 2 cores under emulation).
# Installs g++-aarch64-linux-gnu, qemu-user and libgtest-dev with apt when they are missing (as root,
# or through sudo). Builds in build/arm64.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
filter="${1:-^(VecMath|CpuIsa|IsaPath|IsaPathsAgree|IsaUnsupportedRequest)}"
root="$PWD/build/arm64"
jobs="$(nproc)"

scripts/apt_install_missing.sh g++-aarch64-linux-gnu qemu-user libgtest-dev

mkdir -p "$root"
cat > "$root/toolchain.cmake" <<EOF
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu $root/prefix)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# ctest and gtest_discover_tests run the test programs through this.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64;-L;/usr/aarch64-linux-gnu)
EOF

if [ ! -f "$root/prefix/lib/cmake/GTest/GTestConfig.cmake" ]; then
  echo "==> GoogleTest for aarch64 (from /usr/src/googletest)"
  cmake -S /usr/src/googletest -B "$root/gtest-build" -DCMAKE_TOOLCHAIN_FILE="$root/toolchain.cmake" \
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$root/prefix" -DBUILD_GMOCK=OFF >/dev/null
  cmake --build "$root/gtest-build" --parallel "$jobs" >/dev/null
  cmake --install "$root/gtest-build" >/dev/null
fi

echo "==> cross-build for aarch64 ($(aarch64-linux-gnu-g++ --version | head -n 1))"
cmake -S . -B "$root/build" -DCMAKE_TOOLCHAIN_FILE="$root/toolchain.cmake" -DCMAKE_BUILD_TYPE=Release \
  -DSSMB_CUDA=OFF -DSSMB_BUILD_TESTS=ON >/dev/null
if [ "$filter" = all ]; then
  cmake --build "$root/build" --parallel "$jobs" >/dev/null
  filter="."
else
  # The path tests live in these two programs; the others' tests stay unbuilt (and unlisted by -R).
  cmake --build "$root/build" --parallel "$jobs" --target ssmbridge_internal_tests ssmbridge_isa_env_tests >/dev/null
fi

echo "==> native tests under qemu-aarch64 (ctest -R '$filter')"
if ! ctest --test-dir "$root/build" --output-on-failure --parallel "$jobs" -R "$filter" >"$root/ctest.log" 2>&1; then
  grep -E -A30 '\*\*\*Failed|\[  FAILED  \]' "$root/ctest.log" | head -n 200 || true
  tail -n 20 "$root/ctest.log"
  echo "arm64 tests failed (log: $root/ctest.log)" >&2
  exit 1
fi
grep -E "tests passed|tests failed" "$root/ctest.log"
