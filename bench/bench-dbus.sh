#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The D-Bus service under load, on a private system bus, with hostendpointd
# in a network namespace of its own (run as root):
#  - 1,000 HostEndpoints (500 bound to existing veths, 500 waiting for
#    theirs) and 1,000 interfaces (500 veth pairs): GetManagedObjects
#    round trip, p50 and p99 over 200 calls (target <= 20 ms);
#  - 200 hot-plugs, 30 ms apart, of an interface a HostEndpoint waits for:
#    from the link existing to a client receiving PropertiesChanged (State
#    "enforced"), p50 and p99 (target p99 <= 5 ms).
# Usage: bench/bench-dbus.sh [BUILDDIR]
set -u
cd "$(dirname "$0")/.." || exit 1
BUILD=$(cd "${1:-build}" && pwd)
DAEMON="$BUILD/module/hostendpointd"
CLIENT="$BUILD/bench/bench-dbus-client"
[ -x "$CLIENT" ] || { echo "build first: meson setup build && ninja -C build" >&2; exit 1; }
T=$(mktemp -d /tmp/hep-bench-dbus-XXXXXX)
chmod 711 "$T" # hostendpointd runs as its own user
NS="hep-bench-dbus-$$"
PID=
. tools/private-bus.sh

cleanup() {
        [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
        [ -n "${HOLDER:-}" ] && kill "$HOLDER" 2>/dev/null && wait "$HOLDER" 2>/dev/null
        ip netns del "$NS-peer" 2>/dev/null
        private_bus_stop
        ip netns del "$NS" 2>/dev/null
        rm -rf "$T"
}
trap cleanup EXIT

mkdir "$T/ds"
/usr/bin/python3 - "$T/ds/heps.yaml" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    for i in range(500):
        f.write("---\napiVersion: projectcalico.org/v3\nkind: HostEndpoint\n"
                "metadata: {name: s%d, labels: {app: a%d}}\nspec: {node: bench, interfaceName: s%d}\n" % (i, i % 10, i))
    for i in range(500):
        f.write("---\napiVersion: projectcalico.org/v3\nkind: HostEndpoint\n"
                "metadata: {name: hp%d, labels: {app: a%d}}\nspec: {node: bench, interfaceName: hp%d}\n" % (i, i % 10, i))
    for p in range(10):
        f.write("---\napiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: pol%d}\n"
                "spec: {selector: app == 'a%d', ingress: [{action: Allow, protocol: TCP, destination: {ports: [%d]}}]}\n"
                % (p, p, 8000 + p))
PY
ip netns add "$NS"
{ for i in $(seq 0 499); do echo "link add s$i type veth peer name t$i"; done; } | ip -n "$NS" -batch -
private_bus_start "$T/bus" "$PWD" || exit 1
ip netns exec "$NS" "$DAEMON" --datastore "dir:$T/ds" --nodename bench --bus "$PRIVATE_BUS" --log-level debug 2>"$T/log" &
PID=$!
until grep -q "D-Bus: serving" "$T/log"; do
        kill -0 "$PID" 2>/dev/null || { cat "$T/log"; exit 1; }
        sleep 0.05
done
echo "== 1000 HostEndpoints, $(ip -n "$NS" -o link | wc -l) interfaces"
ip netns exec "$NS" "$CLIENT" "$PRIVATE_BUS" managed 200
commits_before=$(grep -c "Committed in" "$T/log")
# The hot-plugged veths' other ends go to a namespace of their own, held by
# a process whose PID names it.
ip netns add "$NS-peer"
ip netns exec "$NS-peer" sleep infinity &
HOLDER=$!
ip netns exec "$NS" "$CLIENT" "$PRIVATE_BUS" hotplug 200 hp "$HOLDER"
echo "RSS of hostendpointd: $(grep VmRSS /proc/$PID/status | awk '{print $2}') kB"
median() { sort -n | awk '{ v[NR] = $1 } END { printf "%.2f", v[int((NR + 1) / 2)] / 1000 }'; }
echo "  in the daemon: GetManagedObjects answered in $(grep -o "GetManagedObjects answered in [0-9]*" "$T/log" | awk '{print $4}' | median) ms (median)," \
        "of which building the reply $(grep -o "us ([0-9]* us building" "$T/log" | tr -d '(' | awk '{print $2}' | median) ms"
echo "  commits during the hot-plugs: $(($(grep -c "Committed in" "$T/log") - commits_before))"
echo "  per hot-plug commit (median): computing $(grep -o "computing [0-9]*" "$T/log" | tail -200 | awk '{print $2}' | median) ms," \
        "libnftables $(grep -o "nftables [0-9]*" "$T/log" | tail -200 | awk '{print $2}' | median) ms," \
        "event to commit $(grep -o "event to commit [0-9]*" "$T/log" | tail -200 | awk '{print $4}' | median) ms," \
        "then D-Bus signals $(grep -o "changes published in [0-9]*" "$T/log" | tail -200 | awk '{print $4}' | median) ms"
