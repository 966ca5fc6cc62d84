#!/usr/bin/env bash
# netroot's whole test suite, on a fresh Debian 12 machine as root:
#   1. installs the Debian packages the tests need (scripts/deps/*.txt) when missing,
#   2. installs npm dependencies (npm ci) when node_modules is missing or stale, and builds
#      (scripts/setup.js, as npm start does),
#   3. runs unit, integration and end-to-end tests, one file at a time, and prints each suite's time.
# Pass suite names (unit, integration, e2e) or compiled test files to run only those.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -eq 0 ]; then
  mapfile -t wanted < <(cat scripts/deps/*.txt 2>/dev/null | sed 's/#.*//' | tr -s ' \t' '\n' | sed '/^$/d' | sort -u)
  missing=()
  for p in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "test: installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=600 update -qq
    # Services some packages start on install are not ours to run: keep them stopped.
    ours=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && ours=1
    fi
    apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    [ "$ours" -eq 1 ] && rm -f /usr/sbin/policy-rc.d
  fi
else
  echo "test: not root: Debian packages are not installed and namespace tests will fail" >&2
fi

# npm ci when node_modules is missing or stale (with a clear error if a build tool is missing), then build.
node scripts/setup.js
node scripts/run-tests.js "${@:-all}"
