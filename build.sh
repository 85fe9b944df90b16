#!/usr/bin/env bash
# SsmBridge build entry point (Linux/macOS). Same verbs as build.ps1:
#   deps      install what a fresh Debian/Ubuntu machine lacks (idempotent; needs root or sudo)
#   native    configure and build libssmbridge and its native tests (CMake, Release) into build/native
#   build     native + dotnet build Bridge.sln
#   test      build + native tests (ctest) + managed tests (dotnet test)   <- the README's test command
#   bench     build + run the BenchmarkDotNet suites (extra arguments go to BenchmarkDotNet)
#   bindings  regenerate bindings/generated with SWIG
#   pack      native + NuGet packages in build/packages: SsmBridge (this machine's libssmbridge plus any
#             staged in build/runtimes/<rid>/native/), and SsmBridge.Cuda when nvcc exists (build/cuda) or
#             SSMB_CUDA_LIB_DIR names a CUDA-built libssmbridge
#   demo      Release build of the `ssmbridge` command, then train + evaluate vim_demo on Fashion-MNIST
#             (extra arguments go to `ssmbridge train`, e.g. --model vmamba_demo --epochs 1)
# Environment: SSMB_CONFIG (Release), SSMB_CUDA (AUTO|ON|OFF, default AUTO), SSMB_SANITIZE (OFF),
#              SSMB_JOBS (parallel build jobs, default: number of cores), SSMB_CUDA_LIB_DIR (pack).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"
CONFIG="${SSMB_CONFIG:-Release}"
JOBS="${SSMB_JOBS:-$(nproc 2>/dev/null || sysctl -n hw.ncpu 2>/dev/null || echo 2)}"
NATIVE_DIR="$ROOT/build/native"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

log() { printf '\n==> %s\n' "$*"; }

deps() {
  local apt_packages=(cmake g++ make swig libgtest-dev git ca-certificates)
  if command -v apt-get >/dev/null 2>&1; then
    log "system packages: ${apt_packages[*]}"
    "$ROOT/scripts/apt_install_missing.sh" "${apt_packages[@]}"
  elif command -v brew >/dev/null 2>&1; then
    brew list cmake >/dev/null 2>&1 || brew install cmake
    brew list swig >/dev/null 2>&1 || brew install swig
    brew list googletest >/dev/null 2>&1 || brew install googletest
  else
    echo "deps: no apt-get or brew; install cmake, a C++17 compiler, swig and GoogleTest by hand" >&2
  fi
  fashion_mnist
  if ! command -v dotnet >/dev/null 2>&1; then
    echo "deps: the .NET SDK 10 is required (https://dot.net); it is not in Debian's archive" >&2
    exit 1
  fi
}

# Fashion-MNIST for `./build.sh demo` (Debian/Ubuntu package dataset-fashion-mnist, 30 MB): optional, so a
# distribution without the package still gets the build tools.
fashion_mnist() {
  command -v apt-get >/dev/null 2>&1 || return 0
  if dpkg-query -W -f='${Status}' dataset-fashion-mnist 2>/dev/null | grep -q "install ok installed"; then
    log "Fashion-MNIST present (/usr/share/datasets/fashion-mnist)"
    return 0
  fi
  local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  log "installing dataset-fashion-mnist"
  if ! { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends dataset-fashion-mnist; }; then
    echo "deps: dataset-fashion-mnist is not available here; put the four Fashion-MNIST IDX files in a folder and" \
         "pass it with --dataset (the demo needs them)" >&2
  fi
}

native() {
  log "native ($CONFIG) -> $NATIVE_DIR"
  cmake -S "$ROOT" -B "$NATIVE_DIR" -DCMAKE_BUILD_TYPE="$CONFIG" \
    -DSSMB_CUDA="${SSMB_CUDA:-AUTO}" -DSSMB_SANITIZE="${SSMB_SANITIZE:-OFF}" -DSSMB_BUILD_TESTS=ON
  cmake --build "$NATIVE_DIR" --parallel "$JOBS"
}

managed() {
  log "dotnet build Bridge.sln ($CONFIG)"
  dotnet build "$ROOT/Bridge.sln" -c "$CONFIG" -p:SsmbNativeLibDir="$NATIVE_DIR/lib/"
}

build() { native; managed; }

test_all() {
  build
  log "native tests (ctest)"
  ctest --test-dir "$NATIVE_DIR" --output-on-failure --parallel "$JOBS"
  log "managed tests (dotnet test)"
  dotnet test "$ROOT/tests/SsmBridge.Tests/SsmBridge.Tests.csproj" -c "$CONFIG" --no-build \
    --logger "console;verbosity=normal"
  log "ssmbridge command tests (dotnet test)"
  dotnet test "$ROOT/tests/SsmBridge.Cli.Tests/SsmBridge.Cli.Tests.csproj" -c "$CONFIG" --no-build \
    --logger "console;verbosity=normal"
}

bench() {
  build
  log "benchmarks"
  dotnet run --project "$ROOT/bench/SsmBridge.Bench/SsmBridge.Bench.csproj" -c Release --no-build -- "$@"
}

# The main job: trains vim_demo on Fashion-MNIST on the CPU and evaluates it; the last line printed is
# `test accuracy: NN.N% (vim_demo, 10000 test images, <seconds> s)`. Output in build/demo/<model>/.
demo() {
  native
  log "dotnet build ssmbridge (Release)"
  dotnet build "$ROOT/managed/SsmBridge.Cli/SsmBridge.Cli.csproj" -c Release -p:SsmbNativeLibDir="$NATIVE_DIR/lib/" \
    -nologo -v quiet
  # Two epochs of 1875 steps, cut to fit 7 minutes of training on a slower machine.
  local model="vim_demo" dataset="fashion-mnist" minutes="7" rest=()
  while (($#)); do
    case "$1" in
      --model|-m) model="$2"; shift 2 ;;
      --dataset|-d) dataset="$2"; shift 2 ;;
      --time-limit) minutes="$2"; shift 2 ;;
      *) rest+=("$1"); shift ;;
    esac
  done
  log "ssmbridge train --model $model --dataset $dataset --time-limit $minutes --out build/demo/$model ${rest[*]:-}"
  "$ROOT/managed/SsmBridge.Cli/bin/Release/net10.0/ssmbridge" train --model "$model" --dataset "$dataset" \
    --time-limit "$minutes" --out "$ROOT/build/demo/$model" ${rest[@]+"${rest[@]}"}
}

# NuGet packages (contents: managed/build/SsmBridge.Pack.targets). SsmBridge.Cuda is the same package with a
# CUDA-enabled linux-x64 library (the CUDA runtime is linked statically into it, so it needs only the NVIDIA
# driver, and runs the CPU kernels without one): the one in $SSMB_CUDA_LIB_DIR when set (CI downloads it
# there), else build/cuda's when nvcc exists, reusing its CMake configuration when there is one (.ci/run
# makes it; otherwise CUDAHOSTCXX names nvcc's host compiler).
pack() {
  native
  local out="$ROOT/build/packages" project="$ROOT/managed/SsmBridge/SsmBridge.csproj"
  rm -f "$out"/SsmBridge.*.nupkg
  log "dotnet pack SsmBridge ($CONFIG) -> $out"
  dotnet pack "$project" -c "$CONFIG" -o "$out" -p:SsmbNativeLibDir="$NATIVE_DIR/lib/"
  local cuda_lib="${SSMB_CUDA_LIB_DIR:-}"
  if [ -z "$cuda_lib" ] && command -v nvcc >/dev/null 2>&1; then
    local cuda_dir="$ROOT/build/cuda"
    log "CUDA libssmbridge -> $cuda_dir"
    [ -f "$cuda_dir/CMakeCache.txt" ] || cmake -S "$ROOT" -B "$cuda_dir" -DCMAKE_BUILD_TYPE=Release -DSSMB_CUDA=ON \
      -DSSMB_BUILD_TESTS=OFF ${CUDAHOSTCXX:+-DCMAKE_CUDA_HOST_COMPILER="$CUDAHOSTCXX"}
    cmake --build "$cuda_dir" --parallel "$JOBS" --target ssmbridge
    cuda_lib="$cuda_dir/lib"
  fi
  if [ -z "$cuda_lib" ]; then
    log "no nvcc and no SSMB_CUDA_LIB_DIR: SsmBridge.Cuda not packed"
    return 0
  fi
  log "dotnet pack SsmBridge.Cuda ($CONFIG, $cuda_lib) -> $out"
  # --no-build: the assemblies are the ones just packed; only the native library differs.
  dotnet pack "$project" -c "$CONFIG" -o "$out" --no-build -p:PackageId=SsmBridge.Cuda -p:SsmbNativeLibDir="${cuda_lib%/}/"
}

bindings() {
  log "regenerating bindings/generated with SWIG"
  cmake -S "$ROOT/bindings" -B "$ROOT/build/bindings"
  cmake --build "$ROOT/build/bindings" --target bindings
}

verb="${1:-build}"
shift || true
case "$verb" in
  deps) deps ;;
  native) native ;;
  build) build ;;
  test) test_all ;;
  bench) bench "$@" ;;
  bindings) bindings ;;
  pack) pack ;;
  demo) demo "$@" ;;
  *) echo "usage: ./build.sh {deps|native|build|test|bench|bindings|demo|pack}" >&2; exit 2 ;;
esac
