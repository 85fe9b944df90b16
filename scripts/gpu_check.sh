#!/usr/bin/env bash
# GPU check for a machine with an NVIDIA GPU, nvcc, CMake and PyTorch (no .NET, no network needed):
#   1. builds libssmbridge with the CUDA kernels (-DSSMB_CUDA=ON, CMAKE_CUDA_ARCHITECTURES=90 unless
#      SSMB_CUDA_ARCH says otherwise) into build/gpu;
#   2. runs the native CUDA tests (CUDA kernels against the CPU kernels), built with GoogleTest when
#      it is installed, else with the small built-in harness (native/tests/mini_test.h);
#   3. times the fused CUDA selective scan, forward and forward+backward, against a PyTorch reference
#      that materializes every state (like Mamba's selective_scan_ref), through ctypes on
#      libssmbridge, checks that their values agree, and prints a short table last.
# Usage: scripts/gpu_check.sh (about 2 minutes on an H200 with 16 cores). SSMB_CUDA_ARCH, SSMB_GPU_BUILD_DIR,
# PYTHON override the defaults; SSMB_GPU_NO_GTEST=1 and SSMB_GPU_SANITIZE=1 are described below.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BUILD="${SSMB_GPU_BUILD_DIR:-build/gpu}"
ARCH="${SSMB_CUDA_ARCH:-90}"
JOBS="$(nproc)"
PYTHON="${PYTHON:-python3}"
step() { printf '\n==> %s (%ss)\n' "$1" "$SECONDS"; }

step "machine"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || echo "nvidia-smi: not available"
nvcc --version | tail -n 2
cmake --version | head -n 1
"$PYTHON" -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "device", torch.cuda.get_device_name(0))'

# GoogleTest, if installed (headers in a standard place); SSMB_GPU_NO_GTEST=1 uses the built-in
# harness even so.
have_gtest=OFF
for dir in /usr/include /usr/local/include; do
  if [ -f "$dir/gtest/gtest.h" ] && [ "${SSMB_GPU_NO_GTEST:-0}" != 1 ]; then have_gtest=ON; fi
done

step "configure and build libssmbridge with CUDA (sm_$ARCH, tests with GoogleTest: $have_gtest)"
mkdir -p "$BUILD"
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DSSMB_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES="$ARCH" \
  -DSSMB_BUILD_TESTS="$have_gtest" >"$BUILD/configure.log" 2>&1 || { cat "$BUILD/configure.log"; exit 1; }
cmake --build "$BUILD" --parallel "$JOBS"

step "native CUDA tests"
if [ "$have_gtest" = ON ]; then
  tests="$BUILD/native/tests/ssmbridge_cuda_tests"
else
  # The same test sources against the built-in harness; nvcc supplies the CUDA headers and runtime.
  tests="$BUILD/ssmbridge_cuda_tests_mini"
  nvcc -std=c++17 -O2 -DSSMB_MINI_TEST -Inative/include -Inative/tests \
    native/tests/test_cuda_selective_scan.cpp native/tests/test_cuda_image_ops.cpp \
    native/tests/test_cuda_s4d.cpp native/tests/test_cuda_cross_selective_scan.cpp native/tests/mini_test_main.cpp \
    -L"$BUILD/lib" -lssmbridge -lstdc++ -lm -Xlinker -rpath="$(cd "$BUILD/lib" && pwd)" -o "$tests"
fi
tests_status=0
"$tests" || tests_status=$?

# SSMB_GPU_SANITIZE=1: the short and half-precision cases and the image ops again under
# compute-sanitizer's memcheck (out-of-bounds and misaligned accesses) and racecheck (shared memory).
if [ "${SSMB_GPU_SANITIZE:-0}" = 1 ]; then
  if [ "$have_gtest" = ON ]; then
    only="--gtest_filter=*ShortAndOdd*:*HalfPrecision*:*ImageOps*"
  else
    only="ShortAndOdd:HalfPrecision:ImageOps"
  fi
  for tool in memcheck racecheck; do
    step "compute-sanitizer --tool $tool"
    compute-sanitizer --tool "$tool" --error-exitcode 1 "$tests" "$only" || tests_status=$?
  done
fi

step "fused CUDA selective scan vs PyTorch reference"
PYTHONUNBUFFERED=1 "$PYTHON" scripts/gpu_bench.py --lib "$BUILD/lib/libssmbridge.so"
step "done"
if [ "$tests_status" -ne 0 ]; then
  echo "native CUDA tests FAILED (exit status $tests_status): see above" >&2
  exit "$tests_status"
fi
