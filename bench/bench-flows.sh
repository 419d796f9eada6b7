#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# hostendpointd's CPU per 10,000 flows with flow logs on (run as root):
# a client namespace sends one UDP datagram to each of N distinct ports of
# the host namespace (N flows, all allowed by a policy: each logged once
# through NFLOG), conntrack ends each 1 s later (its DESTROY event, read
# too); the daemon's utime+stime (/proc/PID/stat) before and after, once
# every flow has ended and the daemon is idle again. Several rounds; prints
# each, then the median and spread of the CPU milliseconds per 10,000 flows.
# Usage: bench/bench-flows.sh [BUILDDIR]
# Environment: FLOWS (default 10000), ROUNDS (default 5).
set -u
. "$(dirname "$0")/lib-daemon.sh" # bench_init, PY
[ "$(id -u)" -eq 0 ] || { echo "run as root (network namespaces, nftables)" >&2; exit 1; }
bench_init "${1:-build}"
FLOWS=${FLOWS:-10000}
ROUNDS=${ROUNDS:-5}
[[ $FLOWS =~ ^[1-9][0-9]*$ && $FLOWS -le 40000 && $ROUNDS =~ ^[1-9][0-9]*$ ]] ||
        { echo "FLOWS (1-40000) and ROUNDS must be positive integers" >&2; exit 1; }
HOST_IP=10.89.0.1 PEER_IP=10.89.0.2

ip netns add "$NS" && ip netns add "$NS-peer" || exit 1
ip -n "$NS" link set lo up
ip -n "$NS" link add eth0 type veth peer name eth0 netns "$NS-peer" || exit 1
ip -n "$NS" addr add "$HOST_IP/24" dev eth0
ip -n "$NS-peer" addr add "$PEER_IP/24" dev eth0
ip -n "$NS" link set eth0 up
ip -n "$NS-peer" link set eth0 up
ip netns exec "$NS" sysctl -qw net.netfilter.nf_conntrack_udp_timeout=1
# No ICMP port unreachable for each datagram: they would be the host's own flows.
ip netns exec "$NS" sysctl -qw net.ipv4.icmp_ratelimit=1000000000 net.ipv4.icmp_msgs_per_sec=1

mkdir -p "$T/ds"
cat >"$T/ds/flows.yaml" <<EOF2
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: host-eth0, labels: {role: bench}}
spec: {node: bench, interfaceName: eth0}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: allow-udp}
spec:
  selector: role == 'bench'
  ingress: [{action: Allow, protocol: UDP, destination: {ports: ["20000:60000"]}}]
  egress: [{action: Allow}]
EOF2
ip netns exec "$NS" "$DAEMON" --datastore "dir:$T/ds" --nodename bench --bus none --flow-logs=yes \
        --log-level info 2>"$T/daemon.log" &
PID=$!
for i in $(seq 200); do
        grep -q "Ready: the first ruleset is committed" "$T/daemon.log" && break
        [ "$i" = 200 ] && { echo "hostendpointd did not start:" >&2; cat "$T/daemon.log" >&2; exit 1; }
        sleep 0.05
done
ip netns exec "$NS" nft list chain inet hostendpoint pol-in.allow-udp | grep -q 'log prefix "hep:AI:' ||
        { echo "the policy does not log: flow logs are off" >&2; exit 1; }

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$PID/stat"; }
ct_count() { ip netns exec "$NS" cat /proc/sys/net/netfilter/nf_conntrack_count; }
HZ=$(getconf CLK_TCK)
: >"$T/per10k"
echo "== $FLOWS UDP flows per round (one datagram each, distinct ports), $ROUNDS rounds"
for r in $(seq "$ROUNDS"); do
        # Idle first: no flow of the last round left.
        for i in $(seq 400); do [ "$(ct_count)" -eq 0 ] && break; sleep 0.05; done
        before=$(cpu_ticks)
        start=$EPOCHREALTIME
        ip netns exec "$NS-peer" "$PY" - "$HOST_IP" "$FLOWS" "$r" <<'PY'
import socket, sys
host, n, r = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 10000 + r))
for i in range(n):
    s.sendto(b"x" * 16, (host, 20000 + i))
PY
        sent=$EPOCHREALTIME
        # Every flow ended (conntrack destroyed it) and the daemon idle.
        for i in $(seq 600); do [ "$(ct_count)" -eq 0 ] && break; sleep 0.05; done
        last=-1
        while now=$(cpu_ticks) && [ "$now" != "$last" ]; do last=$now; sleep 0.3; done
        after=$(cpu_ticks)
        ms=$(( (after - before) * 1000 / HZ ))
        per=$($PY -c 'import sys; print("%.1f" % (float(sys.argv[1]) * 10000 / float(sys.argv[2])))' "$ms" "$FLOWS")
        echo "$per" >>"$T/per10k"
        printf 'round %d: daemon CPU %d ms for %d flows (%s ms per 10,000); sent in %.2f s\n' "$r" "$ms" "$FLOWS" "$per" \
                "$($PY -c 'import sys; print(float(sys.argv[2]) - float(sys.argv[1]))' "$start" "$sent")"
done
$PY - "$T/per10k" <<'PY'
import statistics, sys
v = sorted(float(x) for x in open(sys.argv[1]))
print("daemon CPU per 10,000 flows: median %.1f ms, min %.1f, max %.1f (in clock ticks of 10 ms)"
      % (statistics.median(v), v[0], v[-1]))
PY
