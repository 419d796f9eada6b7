#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The main job, for a new user: installs what is needed, builds, and shows
# hostendpointd enforcing the shipped example HostEndpoints live
# (packaging/examples/, Calico's sample "some.name" on eth0 of node
# "myhost") on a directory datastore, in a demo network namespace so that
# nothing on this machine's own interfaces changes. The daemon starts before
# eth0 exists; eth0 is then hot-plugged, traffic is probed, and a policy is
# added and removed while it runs; what it enforces is read back over D-Bus
# (a private system bus of the demo's own, with the bus policy we ship).
# Everything it creates is removed when it ends; it exits 0 only if the
# traffic matched the policy at every step. Run from a terminal, it pauses
# before cleaning up so that you can try busctl and hepctl yourself.
#
#   demo client namespace  ── veth ──  demo host namespace (node "myhost")
#   192.168.0.100                      hostendpointd, then eth0 (hot-plugged):
#                                      192.168.0.1, 192.168.0.2
#                                      listening: tcp 1234 ("some-port"), tcp 8080
#
# --host connman runs the same demo with ConnMan as the host: a connmand of
# the demo's own in the host namespace (in a mount namespace, with tmpfs
# state and its plugin directory bind-mounted on one holding the built
# shim, host name "myhost") loads the ConnMan shim, which loads
# hostendpoint.so inside connmand; ConnMan itself configures the
# hot-plugged eth0 (192.168.0.1, from a provisioning file), and serves
# org.projectcalico.HostEndpoint1 on its own bus connection.
set -u
HOST=hostendpointd
while [ $# -gt 0 ]; do
        case "$1" in
        --host) HOST=${2:-}; shift; shift ;;
        --host=*) HOST=${1#--host=}; shift ;;
        -h | --help) echo "Usage: tools/run-demo.sh [--host hostendpointd|connman]"; exit 0 ;;
        *) echo "run-demo.sh: unknown argument '$1' (--host hostendpointd|connman)" >&2; exit 2 ;;
        esac
done
case "$HOST" in
hostendpointd | connman) ;;
*) echo "run-demo.sh: --host is hostendpointd or connman, not '$HOST'" >&2; exit 2 ;;
esac
PROG=$HOST # the program that hosts the plugin
[ "$HOST" = connman ] && PROG=connmand
cd "$(dirname "$0")/.." || exit 1
tools/install-deps.sh || exit 1

BUILD=build-demo
if [ ! -d "$BUILD" ]; then
        meson setup "$BUILD" >/dev/null || exit 1
fi
ninja -C "$BUILD" >/dev/null || { ninja -C "$BUILD"; exit 1; }
SHIM="$PWD/$BUILD/connman/hostendpoint-connman.so"
if [ "$HOST" = connman ] && [ ! -e "$SHIM" ]; then
        echo "run-demo.sh: $BUILD has no ConnMan shim (connman-dev was missing when it was set up): meson setup --reconfigure $BUILD, then run again" >&2
        exit 1
fi

HEPCTL="$PWD/$BUILD/cli/hepctl"
DAEMON="$PWD/$BUILD/module/hostendpointd"
HOSTNS="hep-demo-$$-host"
CLIENTNS="hep-demo-$$-client"
WORK=$(mktemp -d /tmp/hep-demo-XXXXXX)
DS="$WORK/resources.d"     # the datastore the daemon watches
# hostendpointd runs as the hostendpoint user: as the package sets up
# /etc/hostendpoint/resources.d, it reads and writes it through its group.
chmod 711 "$WORK"
mkdir "$DS"
chgrp hostendpoint "$DS" && chmod 2775 "$DS"
LOG="$WORK/$PROG.log"
DAEMON_PID=
PIDS=()
MADE_DIRS=()
CONNMAN_PLUGINDIR=$(pkg-config --variable=plugindir connman 2>/dev/null)
MAC=02:68:65:70:00:01 # eth0's, for ConnMan's provisioning file

. tools/private-bus.sh

cleanup() {
        if [ -n "$DAEMON_PID" ]; then
                kill "$DAEMON_PID" 2>/dev/null
                wait "$DAEMON_PID" 2>/dev/null
        fi
        private_bus_stop
        for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
        for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
        for ns in "$HOSTNS" "$CLIENTNS"; do
                for p in $(ip netns pids "$ns" 2>/dev/null); do kill "$p" 2>/dev/null; done
                ip netns del "$ns" 2>/dev/null
        done
        for ((i = ${#MADE_DIRS[@]} - 1; i >= 0; i--)); do rmdir "${MADE_DIRS[i]}" 2>/dev/null; done
        rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '$ %s\n' "$*"; "$@"; }
die() { printf '\nDemo FAILED: %s\n' "$*"; exit 1; }

# wait_until SECONDS COMMAND...: polls COMMAND every 20 ms until it succeeds.
wait_until() {
        local deadline=$((SECONDS + $1))
        shift
        until "$@"; do
                [ "$SECONDS" -lt "$deadline" ] || return 1
                sleep 0.02
        done
}

# The daemon's log: one line per decision, "<priority>message" (journald's
# convention on stderr; the priority is left out here). new_log prints the
# lines not shown yet.
SHOWN=0
new_log() {
        local n
        n=$(wc -l <"$LOG")
        if [ "$HOST" = connman ]; then
                # The plugin's lines, and connmand's own about eth0's set-up.
                [ "$n" -gt "$SHOWN" ] && sed -n "$((SHOWN + 1)),${n}p" "$LOG" |
                        grep -e 'hostendpoint:' -e 'Adding interface' -e '{add} address' -e 'Connection Manager' |
                        sed 's/^connmand\[[0-9]*\]: /   connmand: /'
        else
                [ "$n" -gt "$SHOWN" ] && sed -n "$((SHOWN + 1)),${n}p" "$LOG" | sed 's/^<[0-7]>/   hostendpointd: /'
        fi
        SHOWN=$n
}
logged() { grep -q -- "$1" "$LOG"; }

ok=1
probe() { # port: can the client open tcp PORT on 192.168.0.1 (and get a reply)?
        local out
        out=$(ip netns exec "$CLIENTNS" timeout 2 socat -T1 - "TCP:192.168.0.1:$1,connect-timeout=1" </dev/null 2>/dev/null) &&
                [ -n "$out" ]
}
expect() { # pass|drop port
        if probe "$2"; then got=pass; else got=drop; fi
        if [ "$got" = pass ]; then printf '   tcp %s: passes' "$2"; else printf '   tcp %s: dropped' "$2"; fi
        if [ "$got" = "$1" ]; then echo; else echo "   <-- WRONG, the policy says $1"; ok=0; fi
}
in_kernel() { ip netns exec "$HOSTNS" nft list chain inet hostendpoint ep-in.some.name 2>/dev/null | grep -q "$1"; }
ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }

step "1. The resources: Calico YAML, loaded with hepctl (calicoctl's commands) into dir:$DS"
show "$HEPCTL" --datastore "dir:$DS" create -f packaging/examples/ || exit 1
show "$HEPCTL" --datastore "dir:$DS" get hostendpoints -o wide
show "$HEPCTL" --datastore "dir:$DS" get globalnetworkpolicies -o wide
show "$HEPCTL" --datastore "dir:$DS" get hostendpoints -l "role == 'server'"

# mkdir_host DIR: a mount point that must exist on this machine; removed
# at the end if the demo made it (and it is still empty).
mkdir_host() {
        local d=$1 missing=()
        while [ ! -d "$d" ]; do missing=("$d" "${missing[@]}"); d=$(dirname "$d"); done
        for d in "${missing[@]}"; do mkdir "$d" && MADE_DIRS+=("$d") || return 1; done
}

# start_connman: connmand in the host namespace, in a mount namespace of
# its own: ConnMan's plugin directory (compiled in) bind-mounted on one
# holding the shim, tmpfs state with a provisioning file for eth0, and a
# host name of its own ("myhost": the node name, as Felix's default).
start_connman() {
        mkdir -p "$WORK/plugins" && cp "$SHIM" "$WORK/plugins/" || return 1
        mkdir_host "$CONNMAN_PLUGINDIR" && mkdir_host /var/lib/connman && mkdir_host /run/connman || return 1
        printf '[General]\nAllowHostnameUpdates = false\nAllowDomainnameUpdates = false\n' >"$WORK/main.conf"
        printf 'datastore = dir:%s\n' "$DS" >"$WORK/hostendpoint.conf"
        printf '[service_demo]\nType = ethernet\nMAC = %s\nIPv4 = 192.168.0.1/255.255.255.0\nIPv6 = off\n' "$MAC" \
                >"$WORK/demo.config"
        {
                echo 'set -e'
                echo 'mount -t tmpfs tmpfs /var/lib/connman'
                echo 'mount -t tmpfs tmpfs /run/connman'
                echo "mount --bind '$WORK/plugins' '$CONNMAN_PLUGINDIR'"
                echo "cp '$WORK/demo.config' /var/lib/connman/"
                echo 'hostname myhost'
                echo "export DBUS_SYSTEM_BUS_ADDRESS='$BUS' HEP_CONFIG='$WORK/hostendpoint.conf' HEP_PLUGIN='$PWD/$BUILD/module/hostendpoint.so'"
                echo "exec connmand -n -r -c '$WORK/main.conf'"
        } >"$WORK/run-connmand.sh"
        show cat "$WORK/run-connmand.sh"
        printf '$ %s\n' "ip netns exec $HOSTNS unshare -m -u sh $WORK/run-connmand.sh 2>$LOG &"
        ip netns exec "$HOSTNS" unshare -m -u sh "$WORK/run-connmand.sh" >"$LOG" 2>&1 &
        DAEMON_PID=$!
}

if [ "$HOST" = connman ]; then
        step "2. Start connmand, which loads hostendpoint, in the demo host namespace $HOSTNS, which has no eth0 yet"
else
        step "2. Start hostendpointd in the demo host namespace $HOSTNS, which has no eth0 yet"
fi
ip netns add "$HOSTNS" && ip netns add "$CLIENTNS" || exit 1
ip -n "$HOSTNS" link set lo up
ip -n "$CLIENTNS" link set lo up
show ip -n "$HOSTNS" -brief link
if [ "$HOST" = connman ]; then
        private_bus_start "$WORK/bus" "$PWD" /usr/share/dbus-1/system.d/connman.conf ||
                die "cannot start a private D-Bus system bus"
        BUS=$PRIVATE_BUS
        echo "(A private system bus for the demo, with the shipped bus policy and ConnMan's: $BUS)"
        start_connman || die "cannot set up connmand"
        wait_until 10 logged "hostendpoint: ready" || { new_log; die "hostendpoint did not become ready in connmand"; }
else
        private_bus_start "$WORK/bus" "$PWD" || die "cannot start a private D-Bus system bus"
        BUS=$PRIVATE_BUS
        echo "(A private system bus for the demo, with the shipped bus policy: $BUS)"
        printf '$ %s 2>%s &\n' "ip netns exec $HOSTNS $DAEMON --datastore dir:$DS --nodename myhost --bus $BUS" "$LOG"
        ip netns exec "$HOSTNS" "$DAEMON" --datastore "dir:$DS" --nodename myhost --bus "$BUS" 2>"$LOG" &
        DAEMON_PID=$!
        wait_until 10 logged "Ready" || { new_log; die "hostendpointd did not become ready"; }
fi
new_log

step "3. eth0 does not exist, yet some.name is already enforced on it, by name"
show ip netns exec "$HOSTNS" nft list map inet hostendpoint disp-in
echo "The input hook dispatches with 'iifname vmap @disp-in': the first packet of an"
echo "eth0, whenever one appears, goes through chain ep-in.some.name. No unfiltered moment."

step "4. Hot-plug eth0: a veth whose other end (192.168.0.100) is in $CLIENTNS"
if [ "$HOST" = connman ]; then
        echo "ConnMan brings eth0 up and gives it 192.168.0.1 (its provisioning file, by MAC $MAC)."
        show ip -n "$HOSTNS" link add eth0 address "$MAC" type veth peer name eth0 netns "$CLIENTNS" || exit 1
else
        show ip -n "$HOSTNS" link add eth0 type veth peer name eth0 netns "$CLIENTNS" || exit 1
        show ip -n "$HOSTNS" addr add 192.168.0.1/24 dev eth0
        show ip -n "$HOSTNS" addr add 192.168.0.2/24 dev eth0
        show ip -n "$HOSTNS" link set eth0 up
fi
show ip -n "$CLIENTNS" addr add 192.168.0.100/24 dev eth0
show ip -n "$CLIENTNS" link set eth0 up
if [ "$HOST" = connman ]; then
        wait_until 15 sh -c "ip -n $HOSTNS -o -4 addr show dev eth0 | grep -q 192.168.0.1/24" ||
                { new_log; die "ConnMan did not configure eth0"; }
fi
wait_until 5 logged "enforced on eth0" || { new_log; die "$PROG did not log that it enforces some.name on eth0"; }
wait_until 5 sh -c "ip -n $HOSTNS -o link show eth0 | grep -q 'state UP'"
sleep 0.2 # the daemon's reaction to the link coming up
new_log

step "5. Traffic from the client: tcp 1234 (some-port, allowed by allow-some-port) and tcp 8080"
for port in 1234 8080; do
        ip netns exec "$HOSTNS" socat "TCP-LISTEN:$port,reuseaddr,fork" SYSTEM:"echo hello from port $port" 2>/dev/null &
        PIDS+=($!)
done
wait_until 5 sh -c "ip netns exec $HOSTNS ss -ltn | grep -q ':8080 '" || die "the listeners did not start"
echo "Listening in $HOSTNS on tcp 1234 and tcp 8080; the client connects to 192.168.0.1:"
expect pass 1234
expect drop 8080

step "6. What the kernel holds for some.name (table inet hostendpoint, counters included)"
show ip netns exec "$HOSTNS" nft list chain inet hostendpoint ep-in.some.name
# Named counters (one pair per endpoint) when the chain counts into them.
if ip netns exec "$HOSTNS" nft list chain inet hostendpoint ep-in.some.name | grep -q 'counter name'; then
        show ip netns exec "$HOSTNS" nft list counters table inet hostendpoint
fi

step "7. What $PROG says over D-Bus (org.projectcalico.HostEndpoint1), for desktop and admin tools"
show busctl --address="$BUS" tree org.projectcalico.HostEndpoint1
if [ "$HOST" = connman ]; then
        echo "connmand is PID $DAEMON_PID; who owns which name on the bus:"
        for name in net.connman org.projectcalico.HostEndpoint1; do
                printf '   %s: PID %s\n' "$name" "$(busctl --address="$BUS" status "$name" 2>/dev/null | sed -n 's/^PID=//p')"
        done
fi
show "$HEPCTL" status --bus "$BUS"
show busctl --address="$BUS" get-property org.projectcalico.HostEndpoint1 \
        /org/projectcalico/HostEndpoint1/endpoint/some_2ename org.projectcalico.HostEndpoint1.Endpoint \
        State Policies PacketsAccepted PacketsDropped

step "8. A live change: a policy allowing tcp 8080 too, applied with hepctl while the daemon runs"
cat >"$WORK/allow-8080.yaml" <<'EOF'
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata:
  name: allow-8080
spec:
  order: 200
  selector: type == 'production'
  ingress:
  - action: Allow
    protocol: TCP
    destination:
      ports: [8080]
EOF
show cat "$WORK/allow-8080.yaml"
start=$(date +%s%N)
show "$HEPCTL" --datastore "dir:$DS" apply -f "$WORK/allow-8080.yaml" || exit 1
wait_until 5 in_kernel "jump pol-in.allow-8080" || die "the new policy did not reach the kernel"
echo "hostendpoint (in $PROG) saw the file change (inotify); in the kernel $(ms_since "$start") ms after hepctl started:"
ip netns exec "$HOSTNS" nft list chain inet hostendpoint ep-in.some.name | grep 'jump pol-in'
expect pass 1234
expect pass 8080
start=$(date +%s%N)
show "$HEPCTL" --datastore "dir:$DS" delete globalnetworkpolicy allow-8080 || exit 1
wait_until 5 sh -c "! ip netns exec $HOSTNS nft list chain inet hostendpoint ep-in.some.name | grep -q allow-8080" ||
        die "the deleted policy stayed in the kernel"
echo "Gone from the kernel $(ms_since "$start") ms after hepctl started:"
expect pass 1234
expect drop 8080
new_log

if [ -t 0 ] && [ -t 1 ]; then
        step "The demo is running: try it from another terminal"
        echo "  busctl --address=$BUS tree org.projectcalico.HostEndpoint1"
        echo "  $HEPCTL status --bus $BUS"
        echo "  $HEPCTL --datastore dir:$DS get hostendpoints -o yaml"
        echo "  ip netns exec $HOSTNS nft list table inet hostendpoint"
        read -r -p "Press Enter to stop $PROG and clean up. " _
fi

step "9. Stop $PROG with SIGTERM: the rules stay in force"
show kill -TERM "$DAEMON_PID"
wait "$DAEMON_PID"
rc=$?
DAEMON_PID=
new_log
[ "$rc" = 0 ] || { echo "   $PROG exited with status $rc, not 0"; ok=0; }
if [ "$HOST" = connman ]; then
        echo "ConnMan deconfigures the interfaces it managed as it stops:"
        show ip -n "$HOSTNS" -brief addr show dev eth0
        echo "The rules are still in the kernel; give eth0 its address back by hand to see them hold:"
        show ip -n "$HOSTNS" addr replace 192.168.0.1/24 dev eth0
        show ip -n "$HOSTNS" link set eth0 up
        wait_until 5 sh -c "ip -n $HOSTNS -o link show eth0 | grep -q 'state UP'"
fi
expect pass 1234
expect drop 8080

echo
echo "Cleaning up: $PROG is stopped; deleting namespaces $HOSTNS and $CLIENTNS"
echo "(and the table inet hostendpoint with it). 'hepctl ruleset --node myhost' prints"
echo "the whole table; 'hostendpointd --help' lists the daemon's options."
if [ "$ok" = 1 ]; then
        printf '\nDemo done: port 1234 allowed throughout, port 8080 dropped except while allow-8080 existed, as the policies say.\n'
        exit 0
fi
printf '\nDemo FAILED: the traffic did not match the policy.\n'
exit 1
