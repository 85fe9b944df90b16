#!/usr/bin/env pwsh
# SsmBridge build entry point (Windows, or anywhere PowerShell 7 runs). Same verbs as build.sh:
#   deps      check/install cmake, swig, GoogleTest (winget/choco on Windows, apt/brew elsewhere)
#   native    configure and build libssmbridge and its native tests (CMake, Release) into build/native
#   build     native + dotnet build Bridge.sln
#   test      build + native tests (ctest) + managed tests (dotnet test)
#   bench     build + run the BenchmarkDotNet suites (extra arguments go to BenchmarkDotNet)
#   bindings  regenerate bindings/generated with SWIG
#   pack      native + NuGet packages in build/packages: SsmBridge (this machine's libssmbridge plus any
#             staged in build/runtimes/<rid>/native/), and SsmBridge.Cuda when nvcc exists (build/cuda) or
#             SSMB_CUDA_LIB_DIR names a CUDA-built libssmbridge
#   demo      Release build of the `ssmbridge` command, then train + evaluate vim_demo on Fashion-MNIST
#             (extra arguments go to `ssmbridge train`; on Windows pass the IDX folder with --dataset)
# Environment: SSMB_CONFIG (Release), SSMB_CUDA (AUTO|ON|OFF), SSMB_SANITIZE (OFF), SSMB_JOBS, SSMB_CUDA_LIB_DIR (pack).
param(
    [Parameter(Position = 0)][ValidateSet('deps', 'native', 'build', 'test', 'bench', 'bindings', 'demo', 'pack')]
    [string]$Verb = 'build',
    [Parameter(ValueFromRemainingArguments = $true)][string[]]$Rest = @()
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$Root = $PSScriptRoot
$Config = if ($env:SSMB_CONFIG) { $env:SSMB_CONFIG } else { 'Release' }
$Jobs = if ($env:SSMB_JOBS) { $env:SSMB_JOBS } else { [Environment]::ProcessorCount }
$NativeDir = Join-Path $Root 'build/native'
$env:DOTNET_CLI_TELEMETRY_OPTOUT = '1'
$env:DOTNET_NOLOGO = '1'

function Log([string]$Message) { Write-Host "`n==> $Message" }

function Invoke([string]$Exe, [string[]]$Arguments) {
    & $Exe @Arguments
    if ($LASTEXITCODE -ne 0) { throw "$Exe $($Arguments -join ' ') failed with exit code $LASTEXITCODE" }
}

function Test-Command([string]$Name) { $null -ne (Get-Command $Name -ErrorAction SilentlyContinue) }

function Deps {
    if ($IsWindows) {
        foreach ($tool in @(@{ Cmd = 'cmake'; Winget = 'Kitware.CMake'; Choco = 'cmake' },
                            @{ Cmd = 'swig'; Winget = 'SWIG.SWIG'; Choco = 'swig' })) {
            if (Test-Command $tool.Cmd) { continue }
            if (Test-Command 'winget') { Invoke 'winget' @('install', '--silent', '--accept-source-agreements', '--accept-package-agreements', $tool.Winget) }
            elseif (Test-Command 'choco') { Invoke 'choco' @('install', '-y', $tool.Choco) }
            else { throw "deps: install $($tool.Cmd) (winget or choco not found)" }
        }
        Log 'GoogleTest: set GTest_DIR or CMAKE_PREFIX_PATH (e.g. vcpkg install gtest) for the native tests'
    } elseif (Test-Command 'apt-get') {
        Invoke 'bash' @((Join-Path $Root 'build.sh'), 'deps')
    } elseif (Test-Command 'brew') {
        foreach ($p in @('cmake', 'swig', 'googletest')) { & brew list $p *> $null; if ($LASTEXITCODE -ne 0) { Invoke 'brew' @('install', $p) } }
    }
    if (-not (Test-Command 'dotnet')) { throw 'deps: the .NET SDK 10 is required (https://dot.net)' }
}

function Native {
    Log "native ($Config) -> $NativeDir"
    $cuda = if ($env:SSMB_CUDA) { $env:SSMB_CUDA } else { 'AUTO' }
    $sanitize = if ($env:SSMB_SANITIZE) { $env:SSMB_SANITIZE } else { 'OFF' }
    Invoke 'cmake' @('-S', $Root, '-B', $NativeDir, "-DCMAKE_BUILD_TYPE=$Config", "-DSSMB_CUDA=$cuda",
                     "-DSSMB_SANITIZE=$sanitize", '-DSSMB_BUILD_TESTS=ON')
    Invoke 'cmake' @('--build', $NativeDir, '--config', $Config, '--parallel', "$Jobs")
}

# Multi-config generators (Visual Studio) put the library under lib/<Config>/.
function NativeLibDir {
    $perConfig = Join-Path $NativeDir "lib/$Config"
    if (Test-Path $perConfig) { return "$perConfig/" }
    return (Join-Path $NativeDir 'lib') + '/'
}

function Managed {
    Log "dotnet build Bridge.sln ($Config)"
    Invoke 'dotnet' @('build', (Join-Path $Root 'Bridge.sln'), '-c', $Config, "-p:SsmbNativeLibDir=$(NativeLibDir)")
}

function Build { Native; Managed }

function Test {
    Build
    Log 'native tests (ctest)'
    Invoke 'ctest' @('--test-dir', $NativeDir, '-C', $Config, '--output-on-failure', '--parallel', "$Jobs")
    Log 'managed tests (dotnet test)'
    Invoke 'dotnet' @('test', (Join-Path $Root 'tests/SsmBridge.Tests/SsmBridge.Tests.csproj'), '-c', $Config,
                      '--no-build', '--logger', 'console;verbosity=normal')
    Log 'ssmbridge command tests (dotnet test)'
    Invoke 'dotnet' @('test', (Join-Path $Root 'tests/SsmBridge.Cli.Tests/SsmBridge.Cli.Tests.csproj'), '-c', $Config,
                      '--no-build', '--logger', 'console;verbosity=normal')
}

function Bench {
    Build
    Log 'benchmarks'
    Invoke 'dotnet' (@('run', '--project', (Join-Path $Root 'bench/SsmBridge.Bench/SsmBridge.Bench.csproj'),
                       '-c', 'Release', '--no-build', '--') + $Rest)
}

# The main job: trains vim_demo (or --model X) on Fashion-MNIST and evaluates it; the last line printed is
# `test accuracy: NN.N% (vim_demo, 10000 test images, <seconds> s)`. Output in build/demo/<model>/.
function Demo {
    Native
    Log 'dotnet build ssmbridge (Release)'
    Invoke 'dotnet' @('build', (Join-Path $Root 'managed/SsmBridge.Cli/SsmBridge.Cli.csproj'), '-c', 'Release',
                      "-p:SsmbNativeLibDir=$(NativeLibDir)", '-nologo', '-v', 'quiet')
    $model = 'vim_demo'
    $dataset = 'fashion-mnist'
    $minutes = '7'   # two epochs of 1875 steps, cut to fit 7 minutes of training on a slower machine
    $pass = [System.Collections.Generic.List[string]]::new()
    for ($i = 0; $i -lt $Rest.Count; $i++) {
        if ($Rest[$i] -in @('--model', '-m') -and $i + 1 -lt $Rest.Count) { $model = $Rest[++$i] }
        elseif ($Rest[$i] -in @('--dataset', '-d') -and $i + 1 -lt $Rest.Count) { $dataset = $Rest[++$i] }
        elseif ($Rest[$i] -eq '--time-limit' -and $i + 1 -lt $Rest.Count) { $minutes = $Rest[++$i] }
        else { $pass.Add($Rest[$i]) }
    }
    $exe = Join-Path $Root 'managed/SsmBridge.Cli/bin/Release/net10.0/ssmbridge'
    if ($IsWindows) { $exe += '.exe' }
    $out = Join-Path $Root "build/demo/$model"
    Log "ssmbridge train --model $model --dataset $dataset --time-limit $minutes --out $out $($pass -join ' ')"
    Invoke $exe (@('train', '--model', $model, '--dataset', $dataset, '--time-limit', $minutes, '--out', $out) + $pass)
}

# NuGet packages (contents: managed/build/SsmBridge.Pack.targets); SsmBridge.Cuda as pack() in build.sh says.
function Pack {
    Native
    $out = Join-Path $Root 'build/packages'
    Remove-Item (Join-Path $out 'SsmBridge.*.nupkg') -ErrorAction SilentlyContinue
    $project = Join-Path $Root 'managed/SsmBridge/SsmBridge.csproj'
    Log "dotnet pack SsmBridge ($Config) -> $out"
    Invoke 'dotnet' @('pack', $project, '-c', $Config, '-o', $out, "-p:SsmbNativeLibDir=$(NativeLibDir)")
    $cudaLib = $env:SSMB_CUDA_LIB_DIR
    if (-not $cudaLib -and (Test-Command 'nvcc')) {
        $cudaDir = Join-Path $Root 'build/cuda'
        Log "CUDA libssmbridge -> $cudaDir"
        if (-not (Test-Path (Join-Path $cudaDir 'CMakeCache.txt'))) {
            $configure = @('-S', $Root, '-B', $cudaDir, '-DCMAKE_BUILD_TYPE=Release', '-DSSMB_CUDA=ON', '-DSSMB_BUILD_TESTS=OFF')
            if ($env:CUDAHOSTCXX) { $configure += "-DCMAKE_CUDA_HOST_COMPILER=$($env:CUDAHOSTCXX)" }
            Invoke 'cmake' $configure
        }
        Invoke 'cmake' @('--build', $cudaDir, '--config', 'Release', '--parallel', "$Jobs", '--target', 'ssmbridge')
        $cudaLib = Join-Path $cudaDir 'lib/Release'
        if (-not (Test-Path $cudaLib)) { $cudaLib = Join-Path $cudaDir 'lib' }
    }
    if (-not $cudaLib) { Log 'no nvcc and no SSMB_CUDA_LIB_DIR: SsmBridge.Cuda not packed'; return }
    Log "dotnet pack SsmBridge.Cuda ($Config, $cudaLib) -> $out"
    # --no-build: the assemblies are the ones just packed; only the native library differs.
    Invoke 'dotnet' @('pack', $project, '-c', $Config, '-o', $out, '--no-build', '-p:PackageId=SsmBridge.Cuda',
                      "-p:SsmbNativeLibDir=$($cudaLib.TrimEnd([char[]]'/\'))/")
}

function Bindings {
    Log 'regenerating bindings/generated with SWIG'
    $dir = Join-Path $Root 'build/bindings'
    Invoke 'cmake' @('-S', (Join-Path $Root 'bindings'), '-B', $dir)
    Invoke 'cmake' @('--build', $dir, '--target', 'bindings')
}

switch ($Verb) {
    'deps' { Deps }
    'native' { Native }
    'build' { Build }
    'test' { Test }
    'bench' { Bench }
    'bindings' { Bindings }
    'demo' { Demo }
    'pack' { Pack }
}
