#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Dataplane cost of the enforced ruleset (run as root): TCP throughput
# (iperf3, one stream) between a "client" and a "host" network namespace
# joined by a veth, whose host end is a HostEndpoint enforced by
# hostendpointd --oneshot. The ruleset holds 1,000 GlobalNetworkPolicies of
# 10 rules (20 of them select the measured HEP) and 1,000 other enforced
# interfaces (veth pairs, each matched by a HostEndpoint by interfaceName);
# one more policy allows the iperf3 port (5201/TCP and UDP) in, and UDP out
# (iperf3 -R's data). TCP replies leave as established flows.
# Compared with the same transfer with no ruleset at all (no table, hence
# no conntrack either), alternating baseline and enforced runs; prints
# per-run Gbit/s, the median of each and the ratio enforced/baseline, in
# both directions (client->host: data in through the HEP; host->client,
# iperf3 -R: data out). Target: enforced >= 95% of baseline.
# Each round also sends 64-byte UDP datagrams as fast as iperf3 can
# (-u -l 64 -b 0) and counts those received per second: a UDP flow that
# gets no reply stays "new" to conntrack, so every datagram goes through
# the HEP's policies. Target: enforced >= 97% of ctonly.
# A third mode, ctonly (a table whose input and output chains only accept
# established flows), separates conntrack's own cost from the ruleset's.
# A fourth, flowlogs, is enforced with flow logs on (hostendpointd
# --flow-logs=yes running, reading what the rules log): target >= 90% of
# enforced, 64-byte UDP included.
# Before measuring, checks that the ruleset enforces: 5202/TCP, listening
# but not allowed, must be dropped, while it connects without the ruleset.
# With MATCH=address, every HEP is matched by expectedIPs instead (the
# other interfaces get their HEPs' addresses). --oneshot commits them
# settled, through the dispatch maps; the measured HEP sorts last, so had
# they stayed in the address dispatch sets (as for a second after a HEP
# binds), its packets would first try the 1,000 other HEPs' sets.
# Usage: bench/bench-dataplane.sh [BUILDDIR]
# Environment: SECONDS_PER_RUN (default 5), ROUNDS (default 3),
# MATCH (name or address, default name).
set -u
BUILD=$(cd "${1:-build}" && pwd)
DAEMON="$BUILD/module/hostendpointd"
[ -x "$DAEMON" ] || { echo "build first: meson setup build && ninja -C build" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "run as root (network namespaces, nftables)" >&2; exit 1; }
. "$(dirname "$0")/lib-daemon.sh" # gen_policies, PY
IPERF=$(command -v iperf3) || { echo "iperf3 is not installed" >&2; exit 1; }
DURATION=${SECONDS_PER_RUN:-5}
ROUNDS=${ROUNDS:-3}
MATCH=${MATCH:-name}
[[ $MATCH == name || $MATCH == address ]] || { echo "MATCH must be name or address" >&2; exit 1; }
[[ $DURATION =~ ^[1-9][0-9]*$ && $ROUNDS =~ ^[1-9][0-9]*$ ]] ||
        { echo "SECONDS_PER_RUN and ROUNDS must be positive integers" >&2; exit 1; }
T=$(mktemp -d /tmp/hep-bench-dp-XXXXXX)
chmod 711 "$T" # hostendpointd runs as its own user
NS="hep-dp-$$"
HOST="$NS-host" CLIENT="$NS-client" SINK="$NS-sink"
HOST_IP=10.88.0.1 CLIENT_IP=10.88.0.2
N_OTHER=1000 N_POLICIES=1000
PIDS=()

cleanup() {
        local p n
        flowlogs_stop
        for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
        for n in "$CLIENT" "$HOST" "$SINK"; do
                for p in $(ip netns pids "$n" 2>/dev/null); do kill "$p" 2>/dev/null; done
                ip netns del "$n" 2>/dev/null
        done
        rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# gen DIR: the iperf3 HEP (eth0), N_OTHER HEPs (o0..) by interfaceName, or
# by address (MATCH=address: named a-other<i>, to sort before iperf-eth0),
# N_POLICIES policies of 10 rules (lib-daemon.sh's gen_policies), and
# allow-iperf.
gen() {
        gen_policies "$1" "$N_POLICIES"
        $PY - "$1" "$N_OTHER" "$N_POLICIES" "$HOST_IP" "$MATCH" <<'PY'
import os, sys
d, n, npol, host_ip, match = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
os.makedirs(d, exist_ok=True)
def ifname(name):
    return "" if match == "address" else "interfaceName: %s, " % name
other = "a-other" if match == "address" else "other"
with open(os.path.join(d, "heps.yaml"), "w") as f:
    # app a7 is selected by 20 of the policies below; its tier t3 by
    # source selectors of others.
    f.write("---\napiVersion: projectcalico.org/v3\nkind: HostEndpoint\n"
            "metadata: {name: iperf-eth0, labels: {app: a7, tier: t3, role: iperf}}\n"
            "spec: {node: bench, %sexpectedIPs: [%s], ports: [{name: http, protocol: TCP, port: 8080}]}\n"
            % (ifname("eth0"), host_ip))
    for i in range(n):
        f.write("---\napiVersion: projectcalico.org/v3\nkind: HostEndpoint\n"
                "metadata: {name: %s%d, labels: {app: a%d, tier: t%d}}\n"
                "spec: {node: bench, %sexpectedIPs: [10.150.%d.%d], ports: [{name: http, protocol: TCP, port: 8080}]}\n"
                % (other, i, i % 50, i % 7, ifname("o%d" % i), i >> 8, i & 255))
with open(os.path.join(d, "policies.yaml"), "a") as f:
    f.write("---\napiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\n"
            "metadata: {name: allow-iperf}\nspec:\n  order: 100000\n  selector: role == 'iperf'\n"
            "  ingress: [{action: Allow, protocol: TCP, destination: {ports: [5201]}},"
            " {action: Allow, protocol: UDP, destination: {ports: [5201]}}]\n"
            "  egress: [{action: Allow, protocol: UDP}]\n")
PY
}

enforce() {
        local start=$EPOCHREALTIME
        flowlogs_stop
        ip netns exec "$HOST" "$DAEMON" --oneshot --datastore "dir:$T/ds" --nodename bench \
                --bus none --log-level warning 2>"$T/commit.log" ||
                { echo "oneshot commit failed:" >&2; cat "$T/commit.log" >&2; exit 1; }
        COMMIT_MS=$($PY -c 'import sys; print("%.0f" % ((float(sys.argv[2]) - float(sys.argv[1])) * 1000))' "$start" "$EPOCHREALTIME")
}

# flowlogs: the same ruleset with flow logs, from a running hostendpointd
# --flow-logs=yes that reads them (NFLOG, conntrack's events) meanwhile.
FLOWLOGS_PID=
flowlogs_stop() {
        [ -n "$FLOWLOGS_PID" ] || return 0
        kill "$FLOWLOGS_PID" 2>/dev/null
        wait "$FLOWLOGS_PID" 2>/dev/null
        FLOWLOGS_PID=
}
flowlogs() {
        local start=$EPOCHREALTIME i
        flowlogs_stop
        ip netns exec "$HOST" "$DAEMON" --datastore "dir:$T/ds" --nodename bench --bus none --flow-logs=yes \
                --log-level info 2>"$T/flowlogs.log" &
        FLOWLOGS_PID=$!
        for i in $(seq 600); do
                grep -q "Ready: the first ruleset is committed" "$T/flowlogs.log" && break
                [ "$i" = 600 ] && { echo "hostendpointd --flow-logs=yes did not start:" >&2; cat "$T/flowlogs.log" >&2; exit 1; }
                sleep 0.05
        done
        ip netns exec "$HOST" nft list chain inet hostendpoint pol-in.allow-iperf | grep -q 'log prefix "hep:AI:' ||
                { echo "flow logs are not in the ruleset" >&2; exit 1; }
        COMMIT_MS=$($PY -c 'import sys; print("%.0f" % ((float(sys.argv[2]) - float(sys.argv[1])) * 1000))' "$start" "$EPOCHREALTIME")
}

# unenforce: no ruleset at all (neither table: no netfilter hook, no conntrack).
unenforce() {
        local t
        flowlogs_stop
        for t in hostendpoint hep-bench-ct; do
                ip netns exec "$HOST" nft delete table inet "$t" 2>/dev/null
                ! ip netns exec "$HOST" nft list table inet "$t" >/dev/null 2>&1 ||
                        { echo "cannot delete table inet $t" >&2; exit 1; }
        done
}

# ctonly: the reference floor of any stateful ruleset: one input and one
# output chain that only accept established flows (conntrack's own cost).
ctonly() {
        unenforce
        ip netns exec "$HOST" nft -f - <<'NFT' || { echo "cannot load the conntrack-only table" >&2; exit 1; }
table inet hep-bench-ct {
        chain input { type filter hook input priority filter; policy accept; ct state established,related accept; }
        chain output { type filter hook output priority filter; policy accept; ct state established,related accept; }
}
NFT
}

# hep_counters: "ACCEPTED DROPPED" packets counted for HEP iperf-eth0 (named
# counter objects, or the counters of its ep- chains' accept/drop rules).
hep_counters() {
        ip netns exec "$HOST" nft -j list table inet hostendpoint | $PY -c '
import json, sys
items = json.load(sys.stdin)["nftables"]
named = {i["counter"]["name"]: i["counter"]["packets"] for i in items if "counter" in i}
if "ep-accepted.iperf-eth0" in named:
    print(named["ep-accepted.iperf-eth0"], named.get("ep-dropped.iperf-eth0", 0))
    sys.exit()
n = {"accept": 0, "drop": 0}
for i in items:
    r = i.get("rule")
    if not r or r["chain"] not in ("ep-in.iperf-eth0", "ep-out.iperf-eth0"):
        continue
    c = [e["counter"] for e in r["expr"] if isinstance(e.get("counter"), dict)]
    for v in n:
        if c and any(v in e for e in r["expr"]):
            n[v] += c[0]["packets"]
print(n["accept"], n["drop"])
'
}

# connects PORT: true if a TCP handshake from the client to the host's PORT completes within 1 s.
connects() {
        timeout -s KILL 2 ip netns exec "$CLIENT" "$PY" -c '
import socket, sys
s = socket.socket()
s.settimeout(1)
try:
    s.connect((sys.argv[1], int(sys.argv[2])))
except OSError:
    sys.exit(1)
' "$HOST_IP" "$1"
}

# measure MODE DIR: one iperf3 run (DIR in: client->host, out: -R); appends Gbit/s to $T/MODE-DIR and prints it.
measure() {
        local mode=$1 dir=$2 opt= gbps
        [ "$dir" = out ] && opt=-R
        if ! ip netns exec "$CLIENT" "$IPERF" -c "$HOST_IP" -p 5201 -t "$DURATION" -J $opt >"$T/iperf.json" 2>&1; then
                echo "iperf3 failed ($mode, $dir):" >&2
                $PY -c 'import json,sys; print(json.load(open(sys.argv[1])).get("error", "?"))' "$T/iperf.json" 2>/dev/null >&2 ||
                        cat "$T/iperf.json" >&2
                exit 1
        fi
        gbps=$($PY -c 'import json, sys; print("%.2f" % (json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"] / 1e9))' "$T/iperf.json") ||
                { echo "cannot parse iperf3's output" >&2; exit 1; }
        echo "$gbps" >>"$T/$mode-$dir"
        printf '%6s' "$gbps"
}

# measure_udp MODE DIR: one run of 64-byte UDP datagrams; appends the
# thousands received per second to $T/MODE-udp-DIR and prints it.
measure_udp() {
        local mode=$1 dir=$2 opt= kpps
        [ "$dir" = out ] && opt=-R
        if ! ip netns exec "$CLIENT" "$IPERF" -c "$HOST_IP" -p 5201 -u -l 64 -b 0 -t "$DURATION" -J $opt \
                >"$T/iperf.json" 2>&1; then
                echo "iperf3 -u failed ($mode, $dir):" >&2
                cat "$T/iperf.json" >&2
                exit 1
        fi
        kpps=$($PY -c 'import json, sys
r = json.load(open(sys.argv[1]))["end"]["sum_received"]
print("%.1f" % ((r["packets"] - r["lost_packets"]) / r["seconds"] / 1000))' "$T/iperf.json") ||
                { echo "cannot parse iperf3's output" >&2; exit 1; }
        echo "$kpps" >>"$T/$mode-udp-$dir"
        printf '%7s' "$kpps"
}

median() { sort -g "$1" | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

for n in "$HOST" "$CLIENT" "$SINK"; do
        ip netns add "$n" || exit 1
        ip -n "$n" link set lo up
done
ip -n "$HOST" link add eth0 type veth peer name eth0 netns "$CLIENT" || exit 1
ip -n "$HOST" addr add "$HOST_IP/24" dev eth0
ip -n "$CLIENT" addr add "$CLIENT_IP/24" dev eth0
ip -n "$HOST" link set eth0 up
ip -n "$CLIENT" link set eth0 up
# The other enforced interfaces: o<i> in the host namespace, their peers in a third one.
{ for i in $(seq 0 $((N_OTHER - 1))); do
        echo "link add o$i type veth peer name p$i netns $SINK"
        echo "link set o$i up"
        [ "$MATCH" = address ] && echo "addr add 10.150.$((i >> 8)).$((i & 255))/32 dev o$i"
done; } | ip -n "$HOST" -batch - || exit 1
for i in $(seq 1 100); do
        ip netns exec "$CLIENT" ping -c 1 -W 1 "$HOST_IP" >/dev/null 2>&1 && break
        [ "$i" = 100 ] && { echo "the client cannot reach $HOST_IP" >&2; exit 1; }
        sleep 0.05
done

ip netns exec "$HOST" "$IPERF" -s -B "$HOST_IP" -p 5201 >"$T/iperf-server.log" 2>&1 &
PIDS+=($!)
# A listener on 5202, which no policy allows.
ip netns exec "$HOST" "$PY" -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 5202))
s.listen(64)
while True:
    s.accept()[0].close()
' "$HOST_IP" &
PIDS+=($!)
for i in $(seq 1 100); do
        [ "$(ip netns exec "$HOST" ss -Hltn "( sport = :5201 or sport = :5202 )" | wc -l)" -eq 2 ] && break
        [ "$i" = 100 ] && { echo "iperf3 server or 5202 listener not listening" >&2; cat "$T/iperf-server.log" >&2; exit 1; }
        sleep 0.05
done

gen "$T/ds"
echo "== ruleset: $N_POLICIES policies x 10 rules (+ allow-iperf), $N_OTHER other HEPs on veths, matched by $MATCH"
enforce
echo "oneshot compute and commit: $COMMIT_MS ms"
ip netns exec "$HOST" nft -j list table inet hostendpoint >"$T/ruleset.json"
$PY - "$T/ruleset.json" <<'PY'
import json, sys
items = json.load(open(sys.argv[1]))["nftables"]
chains = [i["chain"]["name"] for i in items if "chain" in i]
rules = [i["rule"]["chain"] for i in items if "rule" in i]
sets = [i for i in items if "set" in i]
maps = [i for i in items if "map" in i]
elems = sum(len(i["map"].get("elem", [])) for i in maps)
print("table inet hostendpoint: %d chains, %d rules, %d sets, %d maps (%d dispatch elements)"
      % (len(chains), len(rules), len(sets), len(maps), elems))
print("  measured HEP: ep-in.iperf-eth0 %d rules, ep-out.iperf-eth0 %d rules; policy chains of 'in' rules: %d"
      % (rules.count("ep-in.iperf-eth0"), rules.count("ep-out.iperf-eth0"),
         sum(1 for c in chains if c.startswith("pol-in."))))
PY
if [ "$MATCH" = address ]; then
        ip netns exec "$HOST" nft list map inet hostendpoint disp-in | grep -q '"eth0" : jump ep-in.iperf-eth0' ||
                { echo "eth0 is not dispatched to its HEP's chain" >&2; exit 1; }
        bound=$(ip netns exec "$HOST" nft list map inet hostendpoint disp-in | grep -o '"o[0-9]*" : jump' | wc -l)
        unsettled=$(ip netns exec "$HOST" nft list set inet hostendpoint addr-ifnames | grep -o '"[a-z0-9]*"' | wc -l)
        echo "interfaces bound by address, settled into the dispatch map: eth0 and $bound of $N_OTHER others" \
                "($unsettled still in the address dispatch sets)"
else
        ip netns exec "$HOST" nft list map inet hostendpoint disp-in | grep -q '"eth0" : jump ep-in.iperf-eth0' ||
                { echo "eth0 is not dispatched to its HEP's chain" >&2; exit 1; }
        bound=$(ip netns exec "$HOST" nft list map inet hostendpoint disp-in | grep -o '"o[0-9]*" : jump' | wc -l)
        echo "interfaces dispatched to their HEP: eth0 and $bound of $N_OTHER others"
fi

echo "== enforcement check"
unenforce
if connects 5202; then echo "without the ruleset: 5202/tcp connects (control)"; else echo "FAIL: 5202/tcp does not connect even without the ruleset" >&2; exit 1; fi
enforce
if connects 5202; then echo "FAIL: 5202/tcp connects with the ruleset: it is not enforced" >&2; exit 1; fi
echo "with the ruleset: 5202/tcp dropped (not allowed by any policy)"
if connects 5201; then echo "with the ruleset: 5201/tcp connects (allow-iperf)"; else echo "FAIL: 5201/tcp is dropped with the ruleset" >&2; exit 1; fi
set -- $(hep_counters)
echo "HEP iperf-eth0 counters: ${1:-?} packets accepted, ${2:-?} dropped (the 5202 SYNs)"
[ "${2:-0}" -gt 0 ] || { echo "FAIL: no drop counted for the HEP" >&2; exit 1; }

MODES="baseline ctonly enforced flowlogs"
echo "== throughput, $ROUNDS rounds of $DURATION s per mode and direction (Gbit/s, one TCP stream)"
echo "   baseline: no ruleset; ctonly: conntrack reference (input/output chains accepting established only);"
echo "   enforced: the ruleset above, recommitted by hostendpointd --oneshot before each run;"
echo "   flowlogs: the same with flow logs, hostendpointd --flow-logs=yes running"
for r in $(seq 1 "$ROUNDS"); do
        for mode in $MODES; do
                case $mode in baseline) unenforce ;; ctonly) ctonly ;; enforced) enforce ;; flowlogs) flowlogs ;; esac
                printf 'round %d %-9s client->host ' "$r" "$mode"
                measure "$mode" in
                printf '   host->client '
                measure "$mode" out
                printf '   UDP 64 B kpps in '
                measure_udp "$mode" in
                printf ' out '
                measure_udp "$mode" out
                [ "$mode" = enforced ] && printf '   (commit %s ms)' "$COMMIT_MS"
                [ "$mode" = flowlogs ] && printf '   (start %s ms)' "$COMMIT_MS"
                echo
        done
done
set -- $(hep_counters)
echo "last enforced round: HEP iperf-eth0 accepted ${1:-?} packets (established flows), dropped ${2:-?}"
for dir in in out; do
        if [ "$dir" = in ]; then label="client->host (data in through the HEP)"; else label="host->client (data out through the HEP)"; fi
        $PY -c 'import sys
b, c, e = (float(x) for x in sys.argv[2:5]); r = 100 * e / b
print("%s: median baseline %.2f, ctonly %.2f, enforced %.2f Gbit/s\n  enforced/baseline %.1f%% (target >= 95%%)%s; ctonly/baseline %.1f%%; enforced/ctonly %.1f%%"
      % (sys.argv[1], b, c, e, r, "" if r >= 95 else " BELOW TARGET", 100 * c / b, 100 * e / c))' \
                "$label" "$(median "$T/baseline-$dir")" "$(median "$T/ctonly-$dir")" "$(median "$T/enforced-$dir")"
done
for dir in in out; do
        if [ "$dir" = in ]; then label="64-byte UDP client->host"; else label="64-byte UDP host->client"; fi
        $PY -c 'import sys
b, c, e = (float(x) for x in sys.argv[2:5]); r = 100 * e / c
print("%s: median baseline %.1f, ctonly %.1f, enforced %.1f thousand datagrams/s received\n  enforced/ctonly %.1f%% (target >= 97%%)%s; enforced/baseline %.1f%%"
      % (sys.argv[1], b, c, e, r, "" if r >= 97 else " BELOW TARGET", 100 * e / b))' \
                "$label" "$(median "$T/baseline-udp-$dir")" "$(median "$T/ctonly-udp-$dir")" "$(median "$T/enforced-udp-$dir")"
done
for dir in in out; do
        $PY -c 'import sys
t, tf, u, uf = (float(x) for x in sys.argv[2:6])
print("flow logs, %s: TCP enforced %.2f, flowlogs %.2f Gbit/s (%.1f%%); 64-byte UDP enforced %.1f, flowlogs %.1f k/s (%.1f%%) (target >= 90%%)%s"
      % (sys.argv[1], t, tf, 100 * tf / t, u, uf, 100 * uf / u, "" if tf >= 0.9 * t and uf >= 0.9 * u else " BELOW TARGET"))' \
                "$dir" "$(median "$T/enforced-$dir")" "$(median "$T/flowlogs-$dir")" \
                "$(median "$T/enforced-udp-$dir")" "$(median "$T/flowlogs-udp-$dir")"
done
[ -s "$T/flowlogs.log" ] && echo "flowlogs daemon: $(grep -c 'Flow denied' "$T/flowlogs.log") denied flows logged"
