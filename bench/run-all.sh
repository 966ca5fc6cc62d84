#!/usr/bin/env bash
# Every protocol bench, one after the other, each waiting for a quiet machine first:
#   bash bench/run-all.sh [--rounds N] [--settle SEC]   (root; 1.5-2 hours with the default 3 rounds)
# Builds, then runs bench/tftp, bench/http, bench/dhcp (registered MACs) and bench/dhcp --pool.
# Before each it waits (at most QUIET_WAIT seconds, default 900) for the 1-minute load average to
# fall below 1.0; a bench that starts anyway says so in its report ("not a quiet machine").
# Within a bench, each round waits up to 120 s (--settle) for the load its last round left.
# Reports: bench/<name>/results/<name>-<time>.md and .json; their paths are listed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
extra=("$@")
wait_quiet() {
  local waited=0
  while awk '{ exit !($1 >= 1.0) }' /proc/loadavg && [ "$waited" -lt "${QUIET_WAIT:-900}" ]; do
    sleep 15; waited=$((waited + 15))
  done
  echo "run-all: load $(cut -d' ' -f1-3 /proc/loadavg) before $1" >&2
}
npm run build --silent
for b in "tftp/run.js" "http/run.js" "dhcp/run.js" "dhcp/run.js --pool"; do
  wait_quiet "$b"
  # shellcheck disable=SC2086
  node dist/bench/$b "${extra[@]}" --settle 120 >/dev/null
done
ls -t bench/*/results/*.md | head -4
