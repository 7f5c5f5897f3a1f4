#!/usr/bin/env bash
# Installs what building and testing gs needs from Debian 12, only if missing,
# so it is safe (and fast) to run every time.
#   scripts/deps.sh [PACKAGE...]   also installs the extra packages named
# clang-14 is for the test lint.clang_syntax (clang stays able to build gs,
# which the fuzz build needs); scripts/test --fuzz adds libclang-rt-14-dev.
# systemd is for systemd-analyze, which the test units.verify runs on the
# installed units. libedit-dev gives `gsctl shell` line editing (optional at
# build time); groff-base and man-db render the man pages in the test
# man.render.
set -euo pipefail

packages=(g++ cmake make pkg-config libevent-dev libsqlite3-dev libtomlplusplus-dev
          libssl-dev libgtest-dev libedit-dev python3 sqlite3 procps clang-14 systemd
          groff-base man-db "$@")

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "deps: missing packages: ${missing[*]}; run as root or install them with apt-get" >&2
  exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
