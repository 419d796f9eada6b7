#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Beside NetworkManager: a real NetworkManager and its nm-dispatcher in the
# "host" namespace, in one mount namespace of their own (read-only /sys, so
# no udev; tmpfs state; the test's dispatcher directories, holding only the
# built pre-up hook, bound over the fixed ones; a hostendpoint.conf with a
# short nm-wait-ms bound where the hook reads it; the private bus's socket
# where the hook's "dbus-send --system" looks, as the dispatcher gives its
# scripts no environment). hostendpointd runs on the same bus. For veths
# hot-plugged into the namespace, NetworkManager activates a keyfile
# connection with a static address, and the hook, run by nm-dispatcher:
#  1. with hostendpointd: reports the interface enforced before
#     NetworkManager reports it activated; the policy holds on traffic;
#     with hostendpointd late (stopped, then continued), activation waits
#     until it has enforced the interface;
#  2. without hostendpointd: returns at once, no failure;
#  3. with hostendpointd hung (SIGSTOP): gives up after nm-wait-ms, says
#     so in the dispatcher's log, and NetworkManager goes on.
# The log's order and NetworkManager's own timings of its dispatcher calls
# are checked.
# Skips (77) only when NetworkManager is not installed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-netns.sh"
. "$(dirname "$0")/lib-bus.sh"
. "$(dirname "$0")/lib-mounts.sh"
. "$(dirname "$0")/lib-daemon.sh"

NM=$(command -v NetworkManager || echo /usr/sbin/NetworkManager)
NM_DISPATCHER=/usr/lib/NetworkManager/nm-dispatcher
for f in "$NM" "$NM_DISPATCHER" "$(command -v nmcli || echo nmcli)"; do
        [ -x "$f" ] || { echo "SKIP: $f is not installed (apt-get install network-manager)"; exit 77; }
done
netns_require
HOOK="$BUILDDIR/packaging/50-hostendpoint"
# Where the hook reads hostendpoint.conf: @DEFAULT_CONFIG@ of this build.
HOOK_CONFIG=$(sed -n 's/^config=\${HOSTENDPOINT_CONFIG:-\(.*\)}$/\1/p' "$HOOK")
[ -n "$HOOK_CONFIG" ] || { CHECKS=$((CHECKS + 1)); fail "no default configuration path in $HOOK"; exit 1; }
WAIT_MS=1500

NM_PID=
NM_DISPATCHER_PID=
NM_LOG="$T/nm.log" # NetworkManager's and nm-dispatcher's (and so the hook's) stderr, in order
NMD="$T/nm"
mkdir -p "$NMD/conf.d" "$NMD/connections" "$NMD/dispatcher-etc" "$NMD/dispatcher/pre-up.d" "$NMD/hostendpoint"

_nm_cleanup() {
        local pid
        # A stopped hostendpointd does not see its SIGTERM (lib-daemon.sh's cleanup).
        [ -z "$DAEMON_PID" ] || kill -CONT "$DAEMON_PID" 2>/dev/null
        for pid in $NM_PID $NM_DISPATCHER_PID; do
                kill -TERM "$pid" 2>/dev/null
                wait_for "! kill -0 $pid 2>/dev/null" 5 || kill -KILL "$pid" 2>/dev/null
                wait "$pid" 2>/dev/null
        done
        NM_PID= NM_DISPATCHER_PID=
        return 0
}
# Before hostendpointd, the namespaces and the bus go.
CLEANUP_HOOKS=("_nm_cleanup" "${CLEANUP_HOOKS[@]}")

# ---- hostendpointd's datastore: a HostEndpoint for each interface NM activates ----
hep() {
        cat <<EOF
---
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: nm-$1, labels: {role: web}}
spec: {node: node1, interfaceName: $1}
EOF
}
{
        hep eth0
        hep eth1
        hep eth2
        hep eth3
        cat <<'EOF'
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: web}
spec:
  selector: role == 'web'
  ingress: [{action: Allow, protocol: TCP, destination: {ports: [8080]}}]
  egress: [{action: Allow}]
EOF
} >"$DS/nm.yaml"

# ---- NetworkManager's world ----
# Its own configuration only (no conf.d of the host's), keyfiles in the
# test's directory, no DNS, no hostname, no connection of its own making,
# no polkit (root may do everything).
cat >"$NMD/NetworkManager.conf" <<EOF
[main]
plugins=keyfile
dns=none
rc-manager=unmanaged
systemd-resolved=false
hostname-mode=none
no-auto-default=*
auth-polkit=false

[keyfile]
path=$NMD/connections

[logging]
level=INFO
domains=DEFAULT,DISPATCH:DEBUG
EOF
# connection IFNAME ADDRESS: a keyfile NetworkManager activates on IFNAME.
connection() {
        cat >"$NMD/connections/hep-$1.nmconnection" <<EOF
[connection]
id=hep-$1
type=ethernet
interface-name=$1
autoconnect=true

[ipv4]
method=manual
address1=$2

[ipv6]
method=disabled
EOF
        chmod 600 "$NMD/connections/hep-$1.nmconnection"
}
connection eth0 10.83.0.1/24
connection eth1 10.84.0.1/24
connection eth2 10.85.0.1/24
connection eth3 10.86.0.1/24
# The hook as the package installs it (in /usr/lib/NetworkManager/
# dispatcher.d/pre-up.d), and nothing else: the host's own dispatcher
# scripts (/etc/NetworkManager/dispatcher.d) are hidden.
install -m 755 "$HOOK" "$NMD/dispatcher/pre-up.d/50-hostendpoint"
printf '# hostendpoint.conf as an admin writes it\nnm-wait-ms = %s\n' "$WAIT_MS" >"$NMD/hostendpoint/$(basename "$HOOK_CONFIG")"

mkdir_host /run/NetworkManager
mkdir_host /var/lib/NetworkManager
mkdir_host /run/dbus
mkdir_host /etc/NetworkManager/dispatcher.d
mkdir_host /usr/lib/NetworkManager/dispatcher.d
mkdir_host "$(dirname "$HOOK_CONFIG")"
cat >"$NMD/run.sh" <<EOF
set -e
# No udev in the namespace: NetworkManager does without it on a read-only /sys.
mount -o remount,bind,ro /sys
mount -t tmpfs tmpfs /run/NetworkManager
mount -t tmpfs tmpfs /var/lib/NetworkManager
mount -t tmpfs tmpfs /run/dbus
ln -s "$BUS_SOCKET" /run/dbus/system_bus_socket
mount --bind "$NMD/dispatcher-etc" /etc/NetworkManager/dispatcher.d
mount --bind "$NMD/dispatcher" /usr/lib/NetworkManager/dispatcher.d
mount --bind "$NMD/hostendpoint" "$(dirname "$HOOK_CONFIG")"
export DBUS_SYSTEM_BUS_ADDRESS="$BUS"
# Not started by the bus (no activation on it): started here, first.
"$NM_DISPATCHER" --persist --debug >>"$NM_LOG" 2>&1 &
echo \$! >"$NMD/dispatcher.pid"
i=0
until dbus-send --system --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \\
        org.freedesktop.DBus.NameHasOwner string:org.freedesktop.nm_dispatcher 2>/dev/null | grep -q true; do
        i=\$((i + 1))
        [ \$i -lt 250 ] || { echo "nm-dispatcher did not take its bus name" >&2; exit 1; }
        sleep 0.02
done
exec "$NM" --debug --config="$NMD/NetworkManager.conf" --config-dir="$NMD/conf.d" \
        --system-config-dir="$NMD/conf.d" --state-file="$NMD/NetworkManager.state" \
        --intern-config="$NMD/NetworkManager-intern.conf" --pid-file="$NMD/NetworkManager.pid"
EOF

# nm_log_line PATTERN: the number of the first line of the log matching PATTERN (grep -E).
nm_log_line() { grep -n -m1 -E -e "$1" "$NM_LOG" | cut -d: -f1; }
# nmcli_state IFNAME: the device's state as nmcli shows it over the bus.
nmcli_state() { DBUS_SYSTEM_BUS_ADDRESS=$BUS nmcli -g GENERAL.STATE device show "$1" 2>/dev/null; }
# plug IFNAME PEER_CIDR: hot-plugs a veth IFNAME (host) <-> IFNAME (peer),
# the peer's end up and addressed; NetworkManager takes the host's end.
plug() {
        ip -n "$(ns host)" link add "$1" type veth peer name "$1" netns "$(ns peer)" || _netns_die "veth $1"
        ip -n "$(ns peer)" link set "$1" up && addr_add peer "$1" "$2"
}
# activated IFNAME: waits until NetworkManager logs IFNAME activated.
activated() {
        if ! wait_for "grep -q 'device ($1): Activation: successful, device activated' '$NM_LOG'" 15; then
                fail "NetworkManager did not activate $1: $(grep -F "($1)" "$NM_LOG" | tail -20)"
                exit 1
        fi
}
# pre_up IFNAME: NetworkManager's own account of its pre-up call to the
# dispatcher for IFNAME: sets PRE_UP_REQ (its number), PRE_UP_MS (how long
# NetworkManager waited for the dispatcher, and so for the hook, from its
# "succeeded (after S sec" line).
pre_up() {
        PRE_UP_REQ=$(sed -n "s/.*dispatcher: (\([0-9]*\)) ($1) dispatching action 'pre-up'.*/\1/p" "$NM_LOG" | head -n 1)
        PRE_UP_MS=$(sed -n "s/.*dispatcher: ($PRE_UP_REQ) succeeded (after \([0-9.]*\) sec.*/\1/p" "$NM_LOG" |
                awk '{ printf "%d", $1 * 1000 }')
        [ -n "$PRE_UP_REQ" ] && [ -n "$PRE_UP_MS" ] || { PRE_UP_REQ=none PRE_UP_MS=0; return 1; }
}

netns_add host
netns_add peer
bus_start /usr/share/dbus-1/system.d/org.freedesktop.NetworkManager.conf /usr/share/dbus-1/system.d/nm-dispatcher.conf
start_daemon --bus "$BUS"
ip netns exec "$(ns host)" unshare -m -u --propagation private sh "$NMD/run.sh" >>"$NM_LOG" 2>&1 &
NM_PID=$!
wait_for "[ -s '$NMD/dispatcher.pid' ]" 10 && NM_DISPATCHER_PID=$(cat "$NMD/dispatcher.pid")
if ! wait_for "grep -q 'manager: startup complete' '$NM_LOG'" 15; then
        CHECKS=$((CHECKS + 1))
        fail "NetworkManager did not start: $(tail -30 "$NM_LOG")"
        exit 1
fi
CHECKS=$((CHECKS + 1))
pass "NetworkManager started"
expect_true '[ "$(cat /proc/$NM_PID/comm)" = NetworkManager ] && [ "$(cat /proc/$NM_DISPATCHER_PID/comm)" = nm-dispatcher ]' \
        "NetworkManager (PID $NM_PID) and nm-dispatcher (PID $NM_DISPATCHER_PID) run in the namespace, on the private bus"

echo "# 1. hostendpointd on the bus: eth0 is enforced before NetworkManager reports it activated"
plug eth0 10.83.0.2/24
activated eth0
pre_up eth0 || { CHECKS=$((CHECKS + 1)); fail "NetworkManager's log has no pre-up call for eth0"; }
HOOK_SAID=$(nm_log_line "^hostendpoint-nm: eth0: enforced by HostEndpoint 'nm-eth0'$")
ACTIVATED=$(nm_log_line "device \(eth0\): Activation: successful, device activated")
expect_true '[ -n "$HOOK_SAID" ]' "the hook, run by nm-dispatcher, says eth0 is enforced by HostEndpoint 'nm-eth0'"
expect_true '[ -n "$HOOK_SAID" ] && [ "$HOOK_SAID" -lt "$ACTIVATED" ]' \
        "before NetworkManager reports eth0 activated (the log's line $HOOK_SAID, then $ACTIVATED)"
expect_true 'grep -q "dispatcher: ($PRE_UP_REQ) .*/pre-up.d/50-hostendpoint succeeded" "$NM_LOG"' \
        "NetworkManager waited for it (pre-up request $PRE_UP_REQ, $PRE_UP_MS ms) and it succeeded"
expect_true '[ "$(nmcli_state eth0)" = "100 (connected)" ]' "nmcli shows eth0 connected"
expect_true '[[ $(ip -n "$(ns host)" -o -4 addr show dev eth0) == *10.83.0.1/24* ]]' "with the address NetworkManager gave it"
serve_tcp host 8080
serve_tcp host 8081
expect_pass "peer -> host:8080 over eth0 (allowed by the policy)" probe_tcp peer 10.83.0.1 8080
expect_blocked "peer -> host:8081 over eth0 (not allowed: denied)" probe_tcp peer 10.83.0.1 8081

echo "# 1b. hostendpointd late (stopped while eth3 is plugged in): activation waits until it enforces eth3"
kill -STOP "$DAEMON_PID"
plug eth3 10.86.0.2/24
if ! wait_for "grep -q \"'pre-up' \\[eth3\\], .*50-hostendpoint\\\": run script\" '$NM_LOG'" 10; then
        kill -CONT "$DAEMON_PID"
        CHECKS=$((CHECKS + 1))
        fail "nm-dispatcher did not run the hook for eth3: $(tail -20 "$NM_LOG")"
        exit 1
fi
STATE=$(nmcli_state eth3)
expect_true '[ "$STATE" != "100 (connected)" ] && ! grep -q "device (eth3): Activation: successful" "$NM_LOG"' \
        "while the hook waits, eth3 is not activated ($STATE)"
kill -CONT "$DAEMON_PID"
activated eth3
pre_up eth3 || { CHECKS=$((CHECKS + 1)); fail "NetworkManager's log has no pre-up call for eth3"; }
HOOK_SAID=$(nm_log_line "^hostendpoint-nm: eth3: enforced by HostEndpoint 'nm-eth3'$")
ACTIVATED=$(nm_log_line "device \(eth3\): Activation: successful, device activated")
expect_true '[ -n "$HOOK_SAID" ] && [ "$HOOK_SAID" -lt "$ACTIVATED" ]' \
        "hostendpointd, continued, enforces eth3; the hook says so before NetworkManager reports eth3 activated (lines $HOOK_SAID, $ACTIVATED)"
expect_pass "peer -> host:8080 over eth3 (allowed by the policy)" probe_tcp peer 10.86.0.1 8080
expect_blocked "peer -> host:8081 over eth3 (not allowed: denied)" probe_tcp peer 10.86.0.1 8081

echo "# 2. no hostendpointd on the bus: the hook returns at once"
stop_daemon
plug eth1 10.84.0.2/24
activated eth1
pre_up eth1 || { CHECKS=$((CHECKS + 1)); fail "NetworkManager's log has no pre-up call for eth1"; }
expect_true 'grep -q "dispatcher: ($PRE_UP_REQ) .*/pre-up.d/50-hostendpoint succeeded" "$NM_LOG"' \
        "NetworkManager ran the hook for eth1 and it succeeded"
# Loosely: it returned long before its wait would have ended.
expect_true '[ "$PRE_UP_MS" -lt "$WAIT_MS" ]' "at once: NetworkManager waited $PRE_UP_MS ms for it (nm-wait-ms is $WAIT_MS)"
expect_true '! grep -q "hostendpoint-nm: eth1" "$NM_LOG" && ! grep -E -i "warn|fail" "$NM_LOG" | grep -q -E "\(eth1\)|\[eth1\]|dispatcher: \($PRE_UP_REQ\)"' \
        "nothing failed or was logged for eth1"
expect_true '[ "$(nmcli_state eth1)" = "100 (connected)" ]' "nmcli shows eth1 connected"

echo "# 3. hostendpointd hung: the hook gives up after nm-wait-ms ($WAIT_MS ms) and says so"
start_daemon --bus "$BUS"
kill -STOP "$DAEMON_PID"
plug eth2 10.85.0.2/24
activated eth2
pre_up eth2 || { CHECKS=$((CHECKS + 1)); fail "NetworkManager's log has no pre-up call for eth2"; }
expect_true 'grep -q "^hostendpoint-nm: eth2: not confirmed enforced: hostendpointd did not answer within $WAIT_MS ms$" "$NM_LOG"' \
        "the dispatcher's log has the hook's 'eth2: not confirmed enforced: hostendpointd did not answer within $WAIT_MS ms'"
expect_true 'grep -q "<warn> .*dispatcher: ($PRE_UP_REQ) .*/pre-up.d/50-hostendpoint failed" "$NM_LOG"' \
        "NetworkManager logs the hook's failure, and goes on"
expect_true '[ "$PRE_UP_MS" -ge "$WAIT_MS" ] && [ "$PRE_UP_MS" -lt $((WAIT_MS + 1000)) ]' \
        "after nm-wait-ms: NetworkManager waited $PRE_UP_MS ms for the hook"
expect_true '[ "$(nmcli_state eth2)" = "100 (connected)" ]' "nmcli shows eth2 connected"
kill -CONT "$DAEMON_PID"
run manager_call WaitInterface su eth2 5000
expect_out 's "nm-eth2"' "hostendpointd, continued, enforces eth2"
expect_pass "peer -> host:8080 over eth2 (allowed by the policy)" probe_tcp peer 10.85.0.1 8080
expect_blocked "peer -> host:8081 over eth2 (not allowed: denied)" probe_tcp peer 10.85.0.1 8081

echo "# the hook, the dispatcher and NetworkManager, as logged"
for ifname in eth0 eth3 eth1 eth2; do
        pre_up "$ifname"
        grep -n -E -e "^hostendpoint-nm: $ifname:" -e "dispatcher: \($PRE_UP_REQ\) " \
                -e "device \($ifname\): Activation: successful" "$NM_LOG" | sed 's/^/#   /'
done
