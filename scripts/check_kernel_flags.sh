#!/usr/bin/env bash
# Checks that every CPU kernel source compiles at -O3 (its last -O flag) in the optimized build types
# other than Release too: at RelWithDebInfo's -O2, GCC 12 made the scans 1.4-7x slower
# (native/CMakeLists.txt, bench/RESULTS.md). Configure only, with compile_commands.json; a few seconds.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
status=0
for config in RelWithDebInfo MinSizeRel Release; do
  cmake -S "$root" -B "$work/$config" -DCMAKE_BUILD_TYPE="$config" -DCMAKE_EXPORT_COMPILE_COMMANDS=ON \
    -DSSMB_BUILD_TESTS=OFF -DSSMB_CUDA=OFF >/dev/null
  python3 - "$work/$config/compile_commands.json" "$config" <<'PY' || status=1
import json, re, sys
commands, config = json.load(open(sys.argv[1])), sys.argv[2]
kernels = [c for c in commands if re.search(r"/native/src/cpu/[^/]+\.cpp$", c["file"])]
bad = []
for c in kernels:
    levels = re.findall(r"(?:^|\s)(-O[0-9sgz]?)(?=\s|$)", c.get("command") or " ".join(c["arguments"]))
    if not levels or levels[-1] != "-O3":
        bad.append(f"{c['file'].split('/native/')[-1]}: {' '.join(levels) or 'no -O flag'}")
if len(kernels) < 10:
    bad.append(f"only {len(kernels)} CPU kernel sources found in compile_commands.json")
for line in bad:
    print(f"{config}: {line} (expected -O3 last)", file=sys.stderr)
print(f"{config}: {len(kernels)} CPU kernel sources, {'all at -O3' if not bad else f'{len(bad)} wrong'}")
sys.exit(1 if bad else 0)
PY
done
exit $status
