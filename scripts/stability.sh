#!/usr/bin/env bash
# Stability check: runs the given suites (default: unit integration) N times in a row (default 5)
# while CPU hogs keep the machine loaded, and stops at the first run with a failure. A test that
# fails once in a while blocks every landing, so this is how a change to timing-sensitive code is
# shown not to flake. As root, after `npm test` has installed what the tests need:
#   bash scripts/stability.sh [-n RUNS] [-j HOGS] [suite ...]
# HOGS is the number of busy-looping processes (default 1: half of a 2-core machine). Each run's
# summary goes to stdout; the full TAP of run i to $LOGDIR/run-i.log (default /tmp/netroot-stability).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=5 hogs=1
while getopts 'n:j:' o; do
  case $o in
    n) runs=$OPTARG ;;
    j) hogs=$OPTARG ;;
    *) echo "usage: $0 [-n RUNS] [-j HOGS] [suite ...]" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
suites=("$@")
[ $# -eq 0 ] && suites=(unit integration)
logdir=${LOGDIR:-/tmp/netroot-stability}
mkdir -p "$logdir"

npm run build --silent
pids=()
stop_hogs() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap stop_hogs EXIT
for _ in $(seq 1 "$hogs"); do
  (while :; do :; done) &
  pids+=($!)
done

echo "stability: ${suites[*]}, $runs runs, $hogs CPU hog(s), load at start: $(cut -d' ' -f1-3 /proc/loadavg)"
for i in $(seq 1 "$runs"); do
  t0=$(date +%s)
  if node scripts/run-tests.js "${suites[@]}" >"$logdir/run-$i.log" 2>&1; then rc=0; else rc=$?; fi
  summary=$(sed -n '/^# ---- test summary ----$/,/^# slowest/p' "$logdir/run-$i.log" | grep -E '^# (unit|integration|e2e|total) ' | sed 's/^# *//' | tr -s ' ' | paste -sd ';')
  echo "run $i: exit $rc, $(( $(date +%s) - t0 )) s, load $(cut -d' ' -f1-3 /proc/loadavg); $summary"
  if [ "$rc" -ne 0 ]; then
    echo "stability: run $i failed; see $logdir/run-$i.log" >&2
    exit 1
  fi
done
echo "stability: $runs of $runs runs passed"
