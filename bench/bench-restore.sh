#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# From another program's change to table inet hostendpoint to the
# restored table (target: 10 ms), run as root in network namespaces of
# its own. hostendpointd enforces
#   small: the integration tests' ruleset (one HostEndpoint, one policy);
#   big:   1,000 HostEndpoints (100 of this node, each bound to a veth by
#          its address and settled) and 1,000 policies of 10 rules,
#          bench-daemon.sh's datastore.
# bench-restore (bench/bench-restore.c) commits each of four changes N
# times through libnftables, as nft would (flush ruleset, delete table,
# flush table, the table set dormant), and times, from the kernel's own
# announcements of the two transactions, the change to the daemon's
# restoration, checking the table lists exactly as before. Each size runs
# RUNS times with a fresh daemon; then the median over the runs of each
# percentile and its spread (min-max). The daemon's own measure, from the
# notification it read to its commit, comes from its log.
# Usage: bench/bench-restore.sh [BUILDDIR]   (env: N=50, N_BIG=20, RUNS=3, SIZES="small big")
set -u
. "$(dirname "$0")/lib-daemon.sh"
bench_init "${1:-build}"
BENCH="$BUILD/bench/bench-restore"
[ -x "$BENCH" ] || { echo "build first: meson setup build && ninja -C build" >&2; exit 1; }
N=${N:-50}
N_BIG=${N_BIG:-20}
RUNS=${RUNS:-3}

mkdir -p "$T/small"
cat >"$T/small/web.yaml" <<'YAML'
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: web, labels: {role: web}}
spec: {node: bench, interfaceName: eth0}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: allow-8080}
spec:
  selector: role == 'web'
  ingress: [{action: Allow, protocol: TCP, destination: {ports: [8080]}}]
  egress: [{action: Allow}]
YAML
gen "$T/big" 1000 100 1000

ip netns add "$NS" && ip netns add "$NS-peer" || exit 1
ip -n "$NS" link set lo up
# The big datastore's 100 local HostEndpoints, each bound by its address.
{ for h in $(seq 0 99); do echo "link add b$h type veth peer name c$h netns $NS-peer"; echo "addr add 10.150.0.$((h + 1))/32 dev b$h"; done; } |
        ip -n "$NS" -batch -

# summary: the median over the runs of each percentile, and its spread.
summary() { # file of bench-restore's lines
        $PY - "$1" <<'PY'
import re, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    m = re.match(r"(.*?)\s+-> restored: n=(\d+) p50 ([\d.]+) ms, p90 ([\d.]+) ms, p99 ([\d.]+) ms, max ([\d.]+) ms", line)
    if m:
        rows.setdefault(m.group(1), []).append([float(x) for x in m.groups()[2:]])
for name, runs in rows.items():
    cols = list(zip(*runs))
    print("  %-34s %d runs: " % (name, len(runs)) + ", ".join(
        "%s %.2f ms (%.2f-%.2f)" % (label, statistics.median(c), min(c), max(c))
        for label, c in zip(("p50", "p90", "p99", "max"), cols)))
PY
}

for size in ${SIZES:-small big}; do
        n=$N
        [ "$size" = big ] && n=$N_BIG
        echo "== $size ruleset: $n changes of each kind per run, $RUNS runs"
        : >"$T/$size.results"
        for run in $(seq 1 "$RUNS"); do
                start "$T/$size"
                if [ "$size" = big ]; then
                        until ip netns exec "$NS" nft list map inet hostendpoint disp-in | grep -q '"b99"' &&
                                ! ip netns exec "$NS" nft list set inet hostendpoint addr-ifnames | grep -q '"b[0-9]*"'; do
                                sleep 0.1
                        done
                fi
                [ "$run" = 1 ] && echo "  table: $(grep -o 'Enforcing table.*' "$T/log")"
                echo "-- run $run"
                ip netns exec "$NS" "$BENCH" "$PID" "$n" | tee -a "$T/$size.results"
                grep -o "restored in [0-9.]* ms" "$T/log" | awk '{ print $3 }' |
                        percentiles "$(printf '%-34s' "  daemon: notification read -> committed")"
                stop
        done
        echo "-- median over $RUNS runs (min-max), change -> restored:"
        summary "$T/$size.results"
done
