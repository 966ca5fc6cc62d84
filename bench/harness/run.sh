#!/bin/bash
# The independent protocol harness (real tftp-hpa, atftp, perfdhcp and its own DORA generator,
# nftables loss) with netroot plugged in as its `custom` server, beside tftpd-hpa, dnsmasq and Kea.
#
#   bash bench/harness/run.sh HARNESS_DIR [OUT_FILE]
#
# HARNESS_DIR is the harness checkout (its tftp-bench.sh, dhcp-capacity.sh, ...). netroot runs
# as a user runs it: `node bin/netroot.js serve --config FILE`, from this checkout (build it
# first: npm run build), with the two configs below, printed at the top of the output. The
# harness keeps the order it is given, so each script runs once per order and the runs are the
# rounds. Before each part the 1-minute load must fall below 1.0 (up to SETTLE seconds, default
# 300): its 20-client cases raise it to ~12, which would otherwise weigh on what follows.
# Root; the harness's own packages (tftpd-hpa, tftp-hpa, atftp, dnsmasq, kea, nftables).
# Network safety: the harness's two namespaces (here nrh-srv and nrh-cli, 10.88.0.0/16 only
# inside), deleted at the end, also on Ctrl-C.
set -uo pipefail
harness=$(cd "${1:?usage: run.sh HARNESS_DIR [OUT_FILE]}" && pwd) || exit 2
out=${2:-}
repo=$(cd "$(dirname "$0")/../.." && pwd)
settle=${SETTLE:-300}
export PB_SRV_NS=nrh-srv PB_CLI_NS=nrh-cli PB_START_WAIT=3
export PB_WORK=${PB_WORK:-/tmp/netroot-harness}
export PB_ROOT=$PB_WORK/tftproot
mkdir -p "$PB_WORK"

load() { cut -d' ' -f1-3 /proc/loadavg; }
wait_quiet() {
  local end=$((SECONDS + settle))
  while (( SECONDS < end )) && awk '{exit !($1 >= 1.0)}' /proc/loadavg; do sleep 5; done
}
part() { wait_quiet; echo "=== $1 (load $(load), $(date -u +%T) UTC)"; }

cd "$harness" || exit 2
trap './netns.sh down >/dev/null 2>&1 || true' EXIT
{
  ./netns.sh up
  ./make-files.sh >/dev/null
  cat > "$PB_WORK/netroot-tftp.json" <<JSON
{
  "dataDir": "$PB_WORK/nr-tftp-data",
  "http": { "listen": "127.0.0.1", "port": 18080 },
  "tftp": { "enabled": true, "listen": "10.88.0.1", "port": 69, "root": "$PB_ROOT",
            "maxTransfers": 1000, "maxPerClient": 1000, "workers": 2 },
  "nfs": { "backend": "none" }
}
JSON
  cat > "$PB_WORK/netroot-dhcp.json" <<JSON
{
  "dataDir": "$PB_WORK/nr-dhcp-data",
  "http": { "listen": "127.0.0.1", "port": 18081 },
  "tftp": { "enabled": false },
  "dhcp": {
    "interfaces": ["pbs0"],
    "mode": "full",
    "subnets": [ { "cidr": "10.88.0.0/16", "router": "10.88.0.1", "serverAddress": "10.88.0.1", "leaseTimeSec": 43200,
                   "pool": { "start": "10.88.16.1", "end": "10.88.63.254" } } ],
    "bootFiles": { "0": "pxelinux.0", "7": "ipxe.efi" },
    "detectRivalsAtStart": false
  },
  "nfs": { "backend": "none" }
}
JSON
  echo "netroot $(git -C "$repo" rev-parse --short HEAD), node $(node --version)"
  cat "$PB_WORK/netroot-tftp.json" "$PB_WORK/netroot-dhcp.json"
  export TFTP_SERVER_CMD="exec node $repo/bin/netroot.js serve --config $PB_WORK/netroot-tftp.json"
  # The data dir is wiped before each start, as the harness wipes Kea's lease file.
  export DHCP_SERVER_CMD="rm -rf $PB_WORK/nr-dhcp-data && mkdir -p $PB_WORK/nr-dhcp-data && exec node $repo/bin/netroot.js serve --config $PB_WORK/netroot-dhcp.json"
  part tftp-bench
  ./tftp-bench.sh 1 custom hpa dnsmasq
  part tftp-bench; ./tftp-bench.sh 1 hpa dnsmasq custom | tail -n +2
  part tftp-bench; ./tftp-bench.sh 1 dnsmasq custom hpa | tail -n +2
  part "tftp-loss 50 2 custom"
  ./tftp-loss.sh 50 2 custom
  part dhcp-capacity
  ./dhcp-capacity.sh 1 custom kea
  part dhcp-capacity; ./dhcp-capacity.sh 1 kea custom
  part dhcp-capacity; ./dhcp-capacity.sh 1 custom kea
  echo "=== end (load $(load), $(date -u +%T) UTC)"
} 2>&1 | if [ -n "$out" ]; then tee "$out"; else cat; fi
