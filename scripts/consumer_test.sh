#!/usr/bin/env bash
# Consumer test of the NuGet package that `./build.sh pack` wrote to build/packages: a throw-away application
# (scripts/consumer/) in a temporary folder references SsmBridge from that folder feed plus a libtorch CPU
# backend from the machine's normal NuGet sources, builds, and runs a selective scan with gradients against
# SsmBridge.reference (scripts/consumer/Program.cs). Fails when the package lacks the native library, the
# interop assembly or (on a libstdc++ without GLIBCXX_3.4.32, e.g. Debian 12) the buildTransitive step.
#
# Why a script and not a test project in Bridge.sln: the consumer must see SsmBridge only as a package, with
# none of this repository's Directory.Build.* files above it (they import the libstdc++ step and the native
# library themselves and would hide a broken package), so it is built outside the tree, after pack.
#
# Usage: scripts/consumer_test.sh [PackageId]   (SsmBridge, or SsmBridge.Cuda; Linux x64 and macOS arm64)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
package_id="${1:-SsmBridge}"
version="$(tr -d '[:space:]' < "$ROOT/VERSION")"
feed="$ROOT/build/packages"
nupkg="$feed/$package_id.$version.nupkg"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

fail() { echo "consumer test: $*" >&2; exit 1; }
[ -f "$nupkg" ] || fail "$nupkg not found: run ./build.sh pack first"

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) rid=linux-x64 native=libssmbridge.so ;;
  Darwin-arm64) rid=osx-arm64 native=libssmbridge.dylib ;;
  *) fail "no libtorch CPU backend package is set up here for $(uname -s)-$(uname -m)" ;;
esac
libtorch_version="$(sed -n 's:.*<LibTorchCpuVersion>\(.*\)</LibTorchCpuVersion>.*:\1:p' "$ROOT/Directory.Build.props")"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# The project has a folder of its own: its default **/*.cs glob must not reach the package folders below.
app="$work/app"
mkdir -p "$app"
cp "$ROOT/scripts/consumer/Consumer.csproj" "$ROOT/scripts/consumer/Program.cs" "$app/"

# No stale SsmBridge: packages are restored into a fresh folder inside $work. Everything else comes from
# the machine's global packages folder (this repository's build restored TorchSharp and libtorch there), seen
# through a read-only fallback folder of links that leaves out any SsmBridge package a developer may have
# restored before, so the 600 MB libtorch package is neither downloaded nor extracted again. The feed is added
# to the sources of the user's NuGet configuration (no <clear/>), which keep their normal role.
global_packages="$(dotnet nuget locals global-packages --list | sed -n 's/^global-packages: //p')"
mkdir -p "$work/fallback"
for dir in "$global_packages"/*/; do
  case "$(basename "$dir")" in ssmbridge | ssmbridge.*) continue ;; esac
  ln -s "${dir%/}" "$work/fallback/"
done
cat > "$app/nuget.config" <<EOF
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <add key="ssmbridge-local" value="$feed" />
  </packageSources>
  <fallbackPackageFolders>
    <add key="machine" value="$work/fallback" />
  </fallbackPackageFolders>
</configuration>
EOF

echo "==> consumer of $package_id $version ($rid, libtorch-cpu-$rid $libtorch_version) in $work"
# RestorePackagesPath, unlike the config's globalPackagesFolder, also wins over a NUGET_PACKAGES variable.
props=(-p:RestorePackagesPath="$work/packages" -p:SsmBridgePackageId="$package_id" -p:SsmBridgeVersion="$version"
       -p:LibTorchPackage="libtorch-cpu-$rid" -p:LibTorchVersion="$libtorch_version")
( cd "$app" && dotnet build Consumer.csproj -c Release -nologo -v minimal "${props[@]}" ) | tee "$work/build.log"

# The restored package must be the one just packed, not one found in the fallback folder.
id_lower="$(echo "$package_id" | tr '[:upper:]' '[:lower:]')"
restored="$work/packages/$id_lower/$version"
cmp -s "$restored/$id_lower.$version.nupkg" "$nupkg" ||
  fail "$package_id $version in $restored is not $nupkg"
out="$app/bin/Release/net10.0"
cmp -s "$out/SsmBridge.dll" "$restored/lib/net10.0/SsmBridge.dll" || fail "SsmBridge.dll in $out is not the packed one"
[ -f "$out/SsmBridge.Interop.dll" ] || fail "SsmBridge.Interop.dll missing from $out: not in the package"
[ -f "$out/runtimes/$rid/native/$native" ] || fail "runtimes/$rid/native/$native missing from $out: not in the package"

# On a libstdc++ without GLIBCXX_3.4.32 the package's buildTransitive targets must have patched TorchSharp.
if [ "$rid" = linux-x64 ]; then
  # The library the compat targets look at first; else ldconfig's cache (in /sbin, off a user's PATH).
  libstdcxx=/usr/lib/x86_64-linux-gnu/libstdc++.so.6
  [ -f "$libstdcxx" ] || libstdcxx="$( { ldconfig -p 2>/dev/null || /sbin/ldconfig -p 2>/dev/null || true; } |
    sed -n 's/^\s*libstdc++\.so\.6 (libc6,x86-64) => //p' | head -n 1)"
  [ -n "$libstdcxx" ] || fail "no libstdc++.so.6 found"
  if ! grep -qa 'GLIBCXX_3\.4\.32' "$libstdcxx"; then
    grep -q 'libLibTorchSharp.so with that requirement made weak' "$work/build.log" ||
      fail "the system libstdc++ lacks GLIBCXX_3.4.32 and the package's buildTransitive step did not run"
  fi
fi

echo "==> run"
expect=()
case "$package_id" in *.Cuda) expect=(--expect-cuda) ;; esac
dotnet "$out/Consumer.dll" ${expect[@]+"${expect[@]}"}
