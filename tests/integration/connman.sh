#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# ConnMan hosts hostendpoint: a real connmand in the "host" namespace, on a
# private system bus, loads the built shim (connman/hostendpoint-connman.so)
# from its plugin directory, bind-mounted in a mount namespace of its own
# (with tmpfs on ConnMan's state directories), and the shim loads the built
# hostendpoint.so. ConnMan brings up eth0 (a veth to "peer") with the
# address its provisioning file gives; the plugin's first ruleset must be
# in the kernel before ConnMan adds that interface (the log's order), and
# the HEP on eth0 enforces its policy on traffic from the peer. Both
# net.connman and org.projectcalico.HostEndpoint1 belong to connmand's PID.
# Then hot-plug: a second veth ConnMan configures is filtered from its
# first packet. Skips (77) only when connmand cannot run here.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-netns.sh"
. "$(dirname "$0")/lib-bus.sh"

SHIM="$BUILDDIR/connman/hostendpoint-connman.so"
PLUGIN="$BUILDDIR/module/hostendpoint.so"
CONNMAND=$(command -v connmand || echo /usr/sbin/connmand)
[ -x "$CONNMAND" ] || { echo "SKIP: connmand is not installed (apt-get install connman)"; exit 77; }
[ -e "$SHIM" ] || { echo "SKIP: the ConnMan shim was not built (no connman-dev)"; exit 77; }
netns_require
PLUGINDIR=$(pkg-config --variable=plugindir connman 2>/dev/null)
[ -n "$PLUGINDIR" ] || { echo "SKIP: connman.pc not found (apt-get install connman-dev)"; exit 77; }

CONNMAN_PID=
CONNMAN_LOG="$T/connmand.log"
DS="$T/ds"
mkdir -p "$DS" "$T/plugins" "$T/state"
NODE=hep-connman-node # the namespace's host name, HEP-ConnMan-Node, lower-cased
HOST_MAC=02:48:45:50:00:01
HOT_MAC=02:48:45:50:00:02

_connman_cleanup() {
        if [ -n "$CONNMAN_PID" ]; then
                kill -TERM "$CONNMAN_PID" 2>/dev/null
                wait_for "! kill -0 $CONNMAN_PID 2>/dev/null" 5 || kill -KILL "$CONNMAN_PID" 2>/dev/null
                wait "$CONNMAN_PID" 2>/dev/null
        fi
        CONNMAN_PID=
}
# Before the namespaces and the bus go.
CLEANUP_HOOKS=("_connman_cleanup" "${CLEANUP_HOOKS[@]}")

# ---- the world: host <-> peer, eth0 down and unaddressed until ConnMan ----
netns_add host
netns_add peer
ip -n "$(ns host)" link add eth0 address "$HOST_MAC" type veth peer name eth0 netns "$(ns peer)" ||
        _netns_die "veth eth0"
ip -n "$(ns peer)" link set eth0 up
addr_add peer eth0 10.81.0.2/24

cp "$SHIM" "$T/plugins/"
cat >"$T/hostendpoint.conf" <<EOF
# hostendpoint.conf as an admin would write it; no nodename: the host name.
datastore = dir:$DS
log-level = debug
EOF
cat >"$DS/hep.yaml" <<EOF
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: connman-eth0, labels: {role: web}}
spec: {node: $NODE, interfaceName: eth0}
---
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: connman-eth1, labels: {role: web}}
spec: {node: $NODE, interfaceName: eth1}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: web}
spec:
  selector: role == 'web'
  ingress: [{action: Allow, protocol: TCP, destination: {ports: [8080]}}]
  egress: [{action: Allow}]
EOF
cat >"$T/main.conf" <<'EOF'
[General]
AllowHostnameUpdates = false
AllowDomainnameUpdates = false
EOF
# ConnMan's provisioning: static addresses for both veths, by MAC.
cat >"$T/state/hep.config" <<EOF
[service_hep0]
Type = ethernet
MAC = $HOST_MAC
IPv4 = 10.81.0.1/255.255.255.0
IPv6 = off

[service_hep1]
Type = ethernet
MAC = $HOT_MAC
IPv4 = 10.82.0.1/255.255.255.0
IPv6 = off
EOF

# A sanitized build (tools/run-tests.sh's ASan+UBSan run): connmand is
# not instrumented, so the runtimes the shim and the plugin were linked
# with are preloaded into it (ASan's must come first). Leaks are not
# checked there: connmand's and GLib's own would be reported at exit (the
# plugin's are, under hostendpointd, in the other tests).
SAN_ENV=
SAN_PRELOAD=$(ldd "$SHIM" | awk '$1 ~ /^libasan\.so/ {print $3}')
SAN_PRELOAD="$SAN_PRELOAD $(ldd "$SHIM" | awk '$1 ~ /^libubsan\.so/ {print $3}')"
SAN_PRELOAD=$(echo $SAN_PRELOAD)
if [ -n "$SAN_PRELOAD" ]; then
        SAN_ENV="export LD_PRELOAD='$SAN_PRELOAD' ASAN_OPTIONS='${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0'"
        echo "# sanitized build: connmand runs with LD_PRELOAD=$SAN_PRELOAD"
fi

mount_point "$PLUGINDIR"
mount_point /var/lib/connman
mount_point /run/connman
# connmand's world: tmpfs state, our plugin directory, a host name of its
# own (-u), then connmand itself in the foreground (-n), no DNS proxy (-r).
cat >"$T/run-connmand.sh" <<EOF
set -e
mount -t tmpfs tmpfs /var/lib/connman
mount -t tmpfs tmpfs /run/connman
mount --bind "$T/plugins" "$PLUGINDIR"
cp "$T/state/hep.config" /var/lib/connman/
hostname HEP-ConnMan-Node
export DBUS_SYSTEM_BUS_ADDRESS="$BUS" HEP_CONFIG="$T/hostendpoint.conf" HEP_PLUGIN="$PLUGIN"
$SAN_ENV
exec "$CONNMAND" -n -r -c "$T/main.conf"
EOF

# start_connmand LOG: connmand in the host namespace, its output in LOG.
start_connmand() {
        : >"$1"
        ip netns exec "$(ns host)" unshare -m -u sh "$T/run-connmand.sh" >"$1" 2>&1 &
        CONNMAN_PID=$!
}
bus_start /usr/share/dbus-1/system.d/connman.conf
start_connmand "$CONNMAN_LOG"

echo "# connmand loads the shim"
if ! wait_for 'grep -q "hostendpoint: ready" "$CONNMAN_LOG"' 10; then
        if ! kill -0 "$CONNMAN_PID" 2>/dev/null && ! grep -q "hostendpoint" "$CONNMAN_LOG"; then
                echo "SKIP: connmand cannot run here: $(tail -5 "$CONNMAN_LOG")"
                exit 77
        fi
        # Seen with Debian's connmand 1.41 and gcc 12's libasan: with the
        # runtime preloaded, connmand (even with -p none, no plugin at
        # all) waits on a futex forever after its first log line.
        if [ -n "$SAN_PRELOAD" ] && ! grep -q "hostendpoint" "$CONNMAN_LOG"; then
                echo "SKIP: connmand cannot run with the sanitizer runtimes preloaded (needed for this sanitized build's" \
                        "shim): it never got to loading its plugins: $(tail -3 "$CONNMAN_LOG"); the plain build runs this test"
                exit 77
        fi
        CHECKS=$((CHECKS + 1))
        fail "the plugin did not become ready under connmand: $(cat "$CONNMAN_LOG")"
        exit 1
fi
CHECKS=$((CHECKS + 1))
pass "connmand loaded the shim and the plugin is ready"
expect_true 'grep -q "hostendpoint: loading (shim built for ConnMan $("$CONNMAND" --version)" "$CONNMAN_LOG"' \
        "the shim was built for this connmand's version"
expect_true 'grep -q "starting hostendpoint [0-9.]* in connmand [0-9.]* for node .$NODE. on dir:$DS" "$CONNMAN_LOG"' \
        "node name: the namespace's host name, lower-cased; datastore: hostendpoint.conf's"
# The process that logs is connmand itself (the runner exec'd it).
expect_true '[ "$(cat /proc/$CONNMAN_PID/comm)" = connmand ]' "the plugin runs inside connmand (PID $CONNMAN_PID)"
expect_true 'grep -q "^/.*hostendpoint.so$" <(awk "{print \$6}" /proc/$CONNMAN_PID/maps | sort -u)' \
        "hostendpoint.so is mapped into connmand"

echo "# ConnMan brings eth0 up with its provisioned address"
if ! wait_for '[[ $(ip -n "$(ns host)" -o -4 addr show dev eth0) == *10.81.0.1/24* ]]' 15; then
        fail "ConnMan did not configure eth0: $(ip -n "$(ns host)" addr show dev eth0; cat "$CONNMAN_LOG")"
        exit 1
fi
CHECKS=$((CHECKS + 1))
pass "ConnMan configured eth0 as 10.81.0.1/24"

echo "# the first ruleset came before ConnMan touched an interface"
line_of() { grep -n -m1 -e "$1" "$CONNMAN_LOG" | cut -d: -f1; }
READY=$(line_of "hostendpoint: ready: the first ruleset is committed")
ENFORCING=$(line_of "hostendpoint: Enforcing table inet hostendpoint")
FIRST_ETH0=$(line_of "eth0 {")
ADDING=$(line_of "Adding interface eth0")
ADDRESS=$(line_of "eth0 {add} address 10.81.0.1")
grep -n -e "hostendpoint: Enforcing" -e "hostendpoint: ready" -e "Adding interface eth0" -e "eth0 {add} address" \
        -e "eth0 {create}" -e "eth0 {update}" "$CONNMAN_LOG" | sed 's/^/#   /'
expect_true '[ -n "$FIRST_ETH0" ] && [ -n "$READY" ] && [ "$READY" -lt "$FIRST_ETH0" ]' \
        "ready (line $READY) before ConnMan's first event on eth0 (line $FIRST_ETH0)"
expect_true '[ -n "$ENFORCING" ] && [ -n "$READY" ] && [ -n "$ADDING" ] && [ "$ENFORCING" -lt "$ADDING" ] && [ "$READY" -lt "$ADDING" ]' \
        "the ruleset was committed (line $ENFORCING) before ConnMan added eth0 (line $ADDING)"
expect_true '[ -n "$ADDRESS" ] && [ "$READY" -lt "$ADDRESS" ]' \
        "and before ConnMan gave eth0 its address (line $ADDRESS)"
expect_true 'grep -q "HostEndpoint .connman-eth0. enforced" "$CONNMAN_LOG"' "HEP connman-eth0 is enforced on eth0"

echo "# traffic on the interface ConnMan brought up"
serve_tcp host 8080
serve_tcp host 8081
expect_pass "peer -> host:8080 (allowed by the policy)" probe_tcp peer 10.81.0.1 8080
expect_blocked "peer -> host:8081 (not allowed: denied)" probe_tcp peer 10.81.0.1 8081

echo "# D-Bus: both names belong to connmand"
owner_pid() { bctl status "$1" 2>/dev/null | sed -n 's/^PID=//p'; }
expect_true 'wait_for "[ \"\$(owner_pid $BUS_NAME)\" = $CONNMAN_PID ]" 5' \
        "$BUS_NAME is owned by connmand (PID $CONNMAN_PID)"
expect_true '[ "$(owner_pid net.connman)" = "$CONNMAN_PID" ]' "net.connman is owned by connmand too"
expect_true '[ "$(bctl call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus GetNameOwner s net.connman)" = "$(bctl call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus GetNameOwner s $BUS_NAME)" ]' \
        "one connection serves both names"
expect_true '[ "$(prop "$BUS_ROOT" Manager Host)" = "connmand $("$CONNMAND" --version)" ]' "Manager.Host names connmand"
expect_true '[ "$(prop "$BUS_ROOT" Manager NodeName)" = "$NODE" ]' "Manager.NodeName"
expect_true '[ "$(prop "$BUS_ROOT" Manager State)" = running ]' "Manager.State"
run env DBUS_SYSTEM_BUS_ADDRESS="$BUS" "$HEPCTL" status
expect_out_contains "hostendpoint $(prop "$BUS_ROOT" Manager Version) in connmand $("$CONNMAND" --version) on node $NODE, datastore dir:$DS: running" \
        "hepctl status names the host"
expect_out_contains "eth0" "hepctl status lists eth0"
# ConnMan's own API still answers on the same connection.
expect_true 'bctl call net.connman / net.connman.Manager GetServices --json=short | grep -q "ethernet_${HOST_MAC//:/}_cable"' \
        "net.connman answers beside it (GetServices lists eth0'\''s service)"

echo "# hot-plug: an interface ConnMan configures later is filtered from the start"
expect_true 'ip netns exec "$(ns host)" nft list table inet hostendpoint | grep -q "\"eth1\""' \
        "eth1 is in the kernel's rules before it exists"
ip -n "$(ns host)" link add eth1 address "$HOT_MAC" type veth peer name eth1 netns "$(ns peer)" || _netns_die "veth eth1"
ip -n "$(ns peer)" link set eth1 up
addr_add peer eth1 10.82.0.2/24
if ! wait_for '[[ $(ip -n "$(ns host)" -o -4 addr show dev eth1) == *10.82.0.1/24* ]]' 15; then
        fail "ConnMan did not configure eth1: $(ip -n "$(ns host)" addr show dev eth1; tail -20 "$CONNMAN_LOG")"
        exit 1
fi
expect_blocked "peer -> host:8081 over eth1 (denied from the first probe)" probe_tcp peer 10.82.0.1 8081
expect_pass "peer -> host:8080 over eth1 (allowed)" probe_tcp peer 10.82.0.1 8080
expect_true 'wait_for "grep -q \"HostEndpoint .connman-eth1. enforced\" \"$CONNMAN_LOG\"" 5' "HEP connman-eth1 is enforced on eth1"

echo "# connmand stops; the rules stay"
kill -TERM "$CONNMAN_PID"
expect_true 'wait_for "! kill -0 $CONNMAN_PID 2>/dev/null" 10' "connmand exits on SIGTERM"
wait "$CONNMAN_PID" 2>/dev/null
CONNMAN_PID=
expect_true 'grep -q "hostendpoint: stopping; the rules stay in force" "$CONNMAN_LOG"' "the shim's exit ran"
expect_true 'ip netns exec "$(ns host)" nft list table inet hostendpoint >/dev/null' "table inet hostendpoint is still in the kernel"
# ConnMan deconfigures what it managed as it stops; addressed again by
# hand, eth0 still gets the policy.
ip -n "$(ns host)" addr replace 10.81.0.1/24 dev eth0 && ip -n "$(ns host)" link set eth0 up
wait_operstate host eth0 UP || _netns_die "eth0 did not come back up"
expect_pass "after connmand: peer -> host:8080 still allowed" probe_tcp peer 10.81.0.1 8080
expect_blocked "after connmand: peer -> host:8081 still denied" probe_tcp peer 10.81.0.1 8081

echo "# one enforcer per namespace: with hostendpointd running, the shim stands aside"
HEPD_LOG="$T/hostendpointd.log"
ip netns exec "$(ns host)" "$BUILDDIR/module/hostendpointd" --datastore "dir:$DS" --nodename "$NODE" --bus none \
        --user root 2>"$HEPD_LOG" &
HEPD_PID=$!
CLEANUP_HOOKS=("kill $HEPD_PID 2>/dev/null; wait $HEPD_PID 2>/dev/null" "${CLEANUP_HOOKS[@]}")
wait_for 'grep -q "Ready: the first ruleset is committed" "$HEPD_LOG"' 10 || _netns_die "hostendpointd: $(cat "$HEPD_LOG")"
start_connmand "$T/connmand-2.log"
expect_true 'wait_for "grep -q \"hostendpoint: hostendpointd already enforces in this network namespace\" \"$T/connmand-2.log\"" 10' \
        "connmand's shim sees hostendpointd's lock and does not load the plugin"
expect_true 'wait_for "[ \"\$(owner_pid net.connman)\" = $CONNMAN_PID ]" 10' \
        "connmand runs on without it"
expect_true '! grep -q "hostendpoint: Enforcing" "$T/connmand-2.log" && [ -z "$(owner_pid $BUS_NAME)" ]' \
        "no second enforcer: no commit from connmand, no $BUS_NAME on the bus"
expect_true 'kill -0 $HEPD_PID' "hostendpointd keeps running"
kill -TERM "$CONNMAN_PID"; wait "$CONNMAN_PID" 2>/dev/null; CONNMAN_PID=
kill -TERM "$HEPD_PID"; wait "$HEPD_PID" 2>/dev/null
for log in "$CONNMAN_LOG" "$T/connmand-2.log"; do
        if grep -Eq "runtime error:|ERROR: (Address|Leak)Sanitizer" "$log"; then
                fail "connmand's log has a sanitizer report: $(grep -E -A20 "runtime error:|Sanitizer" "$log" | head -40)"
        fi
done
