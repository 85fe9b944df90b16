#!/usr/bin/env bash
# Installs those of the named Debian packages that are not installed yet, with apt-get (as root, or
# through sudo). Prints "installing PKG..." before it does; prints nothing and exits 0 when every one
# is present. Usage: scripts/apt_install_missing.sh PKG...
set -euo pipefail
missing=()
for p in "$@"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
((${#missing[@]})) || exit 0
sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
