#!/bin/bash
# The main job, for a new user: installs what is needed, builds, and shows
# hostendpoint enforcing the shipped example HostEndpoints
# (packaging/examples/, Calico's sample "some.name" on eth0 of node
# "myhost") on a directory datastore, in a demo network namespace so that
# nothing on this machine's own interfaces changes. Everything it creates
# is removed when it ends.
#
#   demo client namespace  ── veth ──  demo host namespace (node "myhost")
#   192.168.0.100                      eth0: 192.168.0.1, 192.168.0.2
#                                      listening: tcp 1234 ("some-port"), tcp 8080
set -u
cd "$(dirname "$0")/.."
tools/install-deps.sh || exit 1

BUILD=build-demo
if [ ! -d "$BUILD" ]; then
        meson setup "$BUILD" >/dev/null || exit 1
fi
ninja -C "$BUILD" >/dev/null || { ninja -C "$BUILD"; exit 1; }

HEPCTL="$PWD/$BUILD/dbus/hepctl"
DAEMON="$PWD/$BUILD/module/hostendpointd"
HOSTNS="hep-demo-$$-host"
CLIENTNS="hep-demo-$$-client"
DS=$(mktemp -d /tmp/hep-demo-XXXXXX)
PIDS=()

cleanup() {
        for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
        for ns in "$HOSTNS" "$CLIENTNS"; do
                for p in $(ip netns pids "$ns" 2>/dev/null); do kill "$p" 2>/dev/null; done
                ip netns del "$ns" 2>/dev/null
        done
        rm -rf "$DS"
}
trap cleanup EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '$ %s\n' "$*"; "$@"; }

step "1. The resources: Calico YAML, loaded with hepctl (calicoctl's commands) into dir:$DS"
show "$HEPCTL" --datastore "dir:$DS" create -f packaging/examples/ || exit 1
show "$HEPCTL" --datastore "dir:$DS" get hostendpoints -o wide
show "$HEPCTL" --datastore "dir:$DS" get globalnetworkpolicies -o wide
show "$HEPCTL" --datastore "dir:$DS" get hostendpoints -l "role == 'server'"

step "2. A demo host: namespace $HOSTNS with eth0 (192.168.0.1) and a client peer"
ip netns add "$HOSTNS" && ip netns add "$CLIENTNS" || exit 1
ip -n "$HOSTNS" link set lo up
ip -n "$CLIENTNS" link set lo up
ip -n "$HOSTNS" link add eth0 type veth peer name eth0 netns "$CLIENTNS"
ip -n "$HOSTNS" addr add 192.168.0.1/24 dev eth0
ip -n "$HOSTNS" addr add 192.168.0.2/24 dev eth0
ip -n "$CLIENTNS" addr add 192.168.0.100/24 dev eth0
ip -n "$HOSTNS" link set eth0 up
ip -n "$CLIENTNS" link set eth0 up
for port in 1234 8080; do
        ip netns exec "$HOSTNS" socat "TCP-LISTEN:$port,reuseaddr,fork" SYSTEM:"echo hello from port $port" &
        PIDS+=($!)
done
until ip netns exec "$HOSTNS" ss -ltn | grep -q ':8080 '; do sleep 0.05; done

probe() { # port
        if out=$(ip netns exec "$CLIENTNS" timeout 2 socat -T1 - "TCP:192.168.0.1:$1,connect-timeout=1" </dev/null 2>/dev/null) &&
                [ -n "$out" ]; then
                echo "   tcp $1: passes ($out)"
        else
                echo "   tcp $1: dropped"
        fi
}
echo "Before enforcement:"
probe 1234
probe 8080

step "3. The ruleset hostendpoint computes for node myhost"
show "$HEPCTL" --datastore "dir:$DS" ruleset --node myhost --no-interfaces | sed -n '/chain ep-in.some.name/,/^\t}/p'

step "4. Enforce it: hostendpointd --oneshot in the demo host namespace"
show ip netns exec "$HOSTNS" "$DAEMON" --oneshot --datastore "dir:$DS" --nodename myhost || exit 1
echo "After enforcement (policy allow-some-port allows the named port some-port = tcp 1234):"
probe 1234
probe 8080
ok=1
ip netns exec "$CLIENTNS" timeout 2 socat -T1 - TCP:192.168.0.1:1234,connect-timeout=1 </dev/null >/dev/null 2>&1 || ok=0
ip netns exec "$CLIENTNS" timeout 2 socat -T1 - TCP:192.168.0.1:8080,connect-timeout=1 </dev/null >/dev/null 2>&1 && ok=0

step "5. What the kernel holds (table inet hostendpoint, counters included)"
ip netns exec "$HOSTNS" nft list chain inet hostendpoint ep-in.some.name

if [ "$ok" = 1 ]; then
        printf '\nDemo done: port 1234 allowed, port 8080 dropped, as the policy says.\n'
        exit 0
fi
printf '\nDemo FAILED: the traffic did not match the policy.\n'
exit 1
