#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Hot-plug cycles under traffic (issue 16): CYCLES times (default 1,000) an
# interface is created, bound, probed and deleted in a namespace where
# hostendpointd runs, alternately one bound by name (HEP "by-name",
# interfaceName hpn) and one bound by address (HEP "by-addr", expectedIPs
# 10.151.0.1, on hpa); every fourth cycle the policy is edited as well
# (the extra port it allows changes; TCP 9080 stays allowed, UDP 5000
# never is). All along, a peer sends UDP 5000 to both addresses every
# 0.5 ms, from the moment each interface exists: every datagram the host
# receives is a leaked packet. Each cycle, a TCP connection to 9080 must
# be accepted at the first try, before and after the daemon has bound the
# interface: one that is not is an allowed packet refused. Prints both
# counts (target 0 and 0) and exits 1 if either is above 0.
# Usage: bench/bench-hotplug-cycles.sh [BUILDDIR [CYCLES]]
set -u
. "$(dirname "$0")/lib-daemon.sh"
[ "$(id -u)" = 0 ] || { echo "bench-hotplug-cycles: needs root (network namespaces)"; exit 77; }
bench_init "${1:-build}"
CYCLES=${2:-1000}

ip netns add "$NS" && ip netns add "$NS-peer" || exit 1
ip -n "$NS" link set lo up
ip -n "$NS-peer" link set lo up

policy() { # EXTRA_PORT
        cat >"$T/ds/.policy.yaml" <<EOF
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: web}
spec:
  selector: has(web)
  ingress: [{action: Allow, protocol: TCP, destination: {ports: [9080, $1]}}]
  egress: [{action: Allow}]
EOF
        mv "$T/ds/.policy.yaml" "$T/ds/policy.yaml"
}
mkdir -p "$T/ds"
cat >"$T/ds/heps.yaml" <<'EOF'
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: by-name, labels: {web: ""}}
spec: {node: bench, interfaceName: hpn}
---
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: by-addr, labels: {web: ""}}
spec: {node: bench, expectedIPs: [10.151.0.1]}
EOF
policy 9100
start "$T/ds"

# The host's servers: TCP 9080 accepts; what UDP 5000 receives leaked.
ip netns exec "$NS" socat TCP4-LISTEN:9080,reuseaddr,fork /dev/null 2>/dev/null &
ip netns exec "$NS" socat -u UDP4-RECV:5000,reuseaddr OPEN:"$T/leaked",creat,append 2>/dev/null &
# The peer's flood: UDP 5000 to both addresses every 0.5 ms while their
# interfaces exist (unreachable otherwise), counting what it sent.
ip netns exec "$NS-peer" "$PY" - "$T/stop" "$T/sent" <<'PY' &
import os, socket, sys, time
stop, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sent = 0
while not os.path.exists(stop):
    for a in ("10.151.0.1", "10.151.1.1"):
        try:
            s.sendto(b"leak", (a, 5000))
            sent += 1
        except OSError:
            pass
    time.sleep(0.0005)
open(out, "w").write("%d\n" % sent)
PY
FLOOD=$!
until ip netns exec "$NS" ss -Hltn "sport = :9080" | grep -q . &&
        ip netns exec "$NS" ss -Hlun "sport = :5000" | grep -q .; do sleep 0.02; done

# connect_ok ADDR: a TCP connection to ADDR:9080 from the peer, one try (2 s).
connect_ok() {
        ip netns exec "$NS-peer" "$PY" -c '
import socket, sys
socket.create_connection((sys.argv[1], 9080), timeout=2).close()' "$1" 2>/dev/null
}
bound() { # IFNAME: its bindings so far, in the log
        grep -cE "enforced on $1([^0-9a-z-]|$)" "$T/log"
}

refused=0 edits=0 t0=$(date +%s)
for i in $(seq 1 "$CYCLES"); do
        if [ $((i % 2)) = 0 ]; then
                ifname=hpn host=10.151.1.1 peer=10.151.1.2
        else
                ifname=hpa host=10.151.0.1 peer=10.151.0.2
        fi
        n=$(bound "$ifname")
        ip -n "$NS" link add "$ifname" type veth peer name "$ifname-p" netns "$NS-peer"
        ip -n "$NS-peer" addr add "$peer/24" dev "$ifname-p"
        ip -n "$NS-peer" link set "$ifname-p" up
        ip -n "$NS" link set "$ifname" up
        ip -n "$NS" addr add "$host/24" dev "$ifname"
        # Allowed at once: by name the HEP is enforced before the interface
        # exists, by address the kernel's pre-binding applies its policy.
        until ip -n "$NS" -o link show "$ifname" | grep -q "state UP"; do sleep 0.005; done
        connect_ok "$host" || { refused=$((refused + 1)); echo "cycle $i ($ifname): tcp 9080 refused before the bind"; }
        if [ $((i % 4)) = 0 ]; then
                c=$(grep -c "Committed in" "$T/log")
                policy $((9100 + i % 7))
                edits=$((edits + 1))
                until [ "$(grep -c "Committed in" "$T/log")" -gt "$c" ]; do sleep 0.005; done
        fi
        until [ "$(bound "$ifname")" -gt "$n" ]; do sleep 0.005; done
        connect_ok "$host" || { refused=$((refused + 1)); echo "cycle $i ($ifname): tcp 9080 refused once bound"; }
        ip -n "$NS" link del "$ifname"
        [ $((i % 100)) = 0 ] && echo "$i cycles: $(wc -l <"$T/leaked") leaked, $refused refused"
done
touch "$T/stop"
wait "$FLOOD"
leaked=$(wc -l <"$T/leaked")
echo "$CYCLES hot-plug cycles ($((CYCLES - CYCLES / 2)) by address, $((CYCLES / 2)) by name) in $(($(date +%s) - t0)) s," \
        "$edits policy edits;" \
        "$(cat "$T/sent") denied datagrams sent, $((CYCLES * 2)) allowed connections tried"
echo "leaked packets: $leaked (target 0)"
echo "allowed connections refused: $refused (target 0)"
[ "$leaked" = 0 ] && [ "$refused" = 0 ]
