#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Beside systemd-networkd: a real systemd-networkd configures the "host"
# namespace's interfaces from .network files (a static Address= each),
# with hostendpointd started before it, both on a private bus. Each
# interface is a veth whose host end is moved into the namespace while a
# prober in "peer" is already hammering the address networkd will give
# it: not one TCP connection or UDP datagram to the denied port may reach
# a listener at any moment, whether the HostEndpoint matches by
# interfaceName or by the address networkd assigns (expectedIPs, pre-bound
# in the kernel), while the allowed port answers as soon as networkd has
# configured the link. Each kind is shown with hostendpointd running, and
# again with it stopped (SIGSTOP) until networkd is done: what holds then
# is what was in the kernel before the interface came. Then networkd
# restarts under the same traffic.
#
#   +-----------------+  p0 - eth0  +----------------------------------+
#   | hep-<pid>-peer  |-------------| hep-<pid>-host                   |
#   | the probers     |  p1 - eth1  | hostendpointd, systemd-networkd  |
#   | 10.9N.0.2 on pN |-------------| 10.9N.0.1 on ethN, from networkd |
#   |                 |  ...  eth3  | tcp 8080; tcp+udp 8081 counted   |
#   +-----------------+             +----------------------------------+
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-netns.sh"
. "$(dirname "$0")/lib-bus.sh"
. "$(dirname "$0")/lib-mounts.sh"
. "$(dirname "$0")/lib-daemon.sh"

NETWORKD=/lib/systemd/systemd-networkd
[ -x "$NETWORKD" ] || { echo "SKIP: $NETWORKD is not installed (apt-get install systemd)"; exit 77; }
getent passwd systemd-network >/dev/null ||
        { echo "SKIP: no systemd-network user (systemd-sysusers creates it)"; exit 77; }
command -v unshare >/dev/null || { echo "SKIP: unshare is not installed (util-linux)"; exit 77; }
netns_require

NETWORKD_PID=
NETWORKD_LOG=
NETWORKD_RUNS=0
PROBERS=()
mkdir -p "$T/network"

_networkd_stop() {
        [ -n "$NETWORKD_PID" ] || return 0
        kill -TERM "$NETWORKD_PID" 2>/dev/null
        _netns_poll 5 _netns_dead "$NETWORKD_PID" || kill -KILL "$NETWORKD_PID" 2>/dev/null
        wait "$NETWORKD_PID" 2>/dev/null
        NETWORKD_PID=
}
_networkd_cleanup() {
        local p
        # A stopped hostendpointd would not see lib-daemon.sh's SIGTERM.
        [ -z "$DAEMON_PID" ] || kill -CONT "$DAEMON_PID" 2>/dev/null
        for p in "${PROBERS[@]}"; do
                kill "$p" 2>/dev/null
                wait "$p" 2>/dev/null
        done
        _networkd_stop
        return 0
}
# Before the daemon, the namespaces and the bus go.
CLEANUP_HOOKS=("_networkd_cleanup" "${CLEANUP_HOOKS[@]}")

# networkd's world, in one invocation (ip netns exec makes a new mount
# namespace each time): a private mount namespace; /sys read-only, which
# tells networkd there is no udev to wait for (the container convention);
# its runtime state on a tmpfs, our .network files alone (the machine's
# /etc/systemd/network hidden); the private bus, not the machine's. It
# drops to the systemd-network user itself.
mkdir_host /run/systemd
mkdir_host /etc/systemd/network
cat >"$T/run-networkd.sh" <<EOF
set -e
mount -o remount,bind,ro /sys
mount -t tmpfs tmpfs /run/systemd
mount -t tmpfs tmpfs /etc/systemd/network
mkdir -p /run/systemd/netif/links /run/systemd/netif/leases /run/systemd/network
chown -R systemd-network:systemd-network /run/systemd/netif
cp "$T"/network/*.network /run/systemd/network/
export DBUS_SYSTEM_BUS_ADDRESS="$BUS" SYSTEMD_LOG_LEVEL=debug SYSTEMD_LOG_TARGET=console
exec "$NETWORKD"
EOF

# start_networkd: a networkd in the host namespace, its log in
# $NETWORKD_LOG (a new file each run); waits until it has enumerated the
# namespace's links.
start_networkd() {
        NETWORKD_RUNS=$((NETWORKD_RUNS + 1))
        NETWORKD_LOG="$T/networkd-$NETWORKD_RUNS.log"
        : >"$NETWORKD_LOG"
        ip netns exec "$(ns host)" unshare -m --propagation private sh "$T/run-networkd.sh" >"$NETWORKD_LOG" 2>&1 &
        NETWORKD_PID=$!
        if ! wait_for 'grep -q "^Enumeration completed" "$NETWORKD_LOG"' 10; then
                if ! kill -0 "$NETWORKD_PID" 2>/dev/null && ! grep -q "Enumeration" "$NETWORKD_LOG"; then
                        echo "SKIP: systemd-networkd cannot run here: $(tail -5 "$NETWORKD_LOG")"
                        exit 77
                fi
                _netns_die "systemd-networkd did not start: $(tail -20 "$NETWORKD_LOG")"
        fi
}

# networkd_configured IF: networkd's log says it has configured IF.
networkd_configured() {
        grep -q "^$1: State changed: configuring -> configured" "$NETWORKD_LOG"
}

# The prober, from the peer: every 2 ms a TCP connection attempt to the
# denied and to the allowed port (each given 0.3 s), and in between a UDP
# datagram to the denied port every 0.1 ms or so (the window a missing
# pre-binding would leave is a commit's time, a few milliseconds). It
# stops when the file STOP exists, or AFTER rounds after the allowed port
# first answered, and writes what it saw to REPORT (JSON): how many
# attempts, how many connected, when the allowed port first did
# (microseconds since the epoch). REPORT.started appears once it has sent
# its first probes.
cat >"$T/prober.py" <<'EOF'
import errno, json, os, resource, select, socket, sys, time

addr, denied, allowed, stop, report = sys.argv[1:6]
denied, allowed = int(denied), int(allowed)
after = int(sys.argv[6]) if len(sys.argv) > 6 else 0
resource.setrlimit(resource.RLIMIT_NOFILE, (resource.getrlimit(resource.RLIMIT_NOFILE)[1],) * 2)
r = dict(denied_tries=0, denied_connected=0, denied_after_allowed=0, allowed_tries=0,
         allowed_connected=0, allowed_first=None, udp_sent=0, udp_errors=0)
poll = select.poll()
pending = {}  # fd: (socket, port, when to give up)
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
udp.setblocking(False)

def connect(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setblocking(False)
    if s.connect_ex((addr, port)) in (0, errno.EINPROGRESS):
        pending[s.fileno()] = (s, port, time.monotonic() + 0.3)
        poll.register(s, select.POLLOUT)
    else:
        s.close()

def drop(fd):
    poll.unregister(fd)
    pending.pop(fd)[0].close()

def settle():
    for fd, _ in poll.poll(0):
        s, port, _ = pending[fd]
        if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
            if port == denied:
                r["denied_connected"] += 1
            else:
                r["allowed_connected"] += 1
                if r["allowed_first"] is None:
                    r["allowed_first"] = int(time.time() * 1000000)
        drop(fd)
    now = time.monotonic()
    for fd in [fd for fd, p in pending.items() if p[2] < now]:
        drop(fd)

next_round, deadline = 0, time.monotonic() + 30
while not os.path.exists(stop) and time.monotonic() < deadline:
    if after and r["denied_after_allowed"] >= after:
        break
    if time.monotonic() >= next_round:
        next_round = time.monotonic() + 0.002
        connect(denied)
        r["denied_tries"] += 1
        if r["allowed_first"] is not None:
            r["denied_after_allowed"] += 1
        # Once the allowed port has answered, it is tried less often
        # (each success leaves a TIME_WAIT behind).
        if r["allowed_first"] is None or r["denied_tries"] % 50 == 0:
            connect(allowed)
            r["allowed_tries"] += 1
        if r["denied_tries"] == 1:
            open(report + ".started", "w").close()
    try:
        udp.sendto(b"leak to " + addr.encode() + b"\n", (addr, denied))
        r["udp_sent"] += 1
    except OSError:
        r["udp_errors"] += 1
    settle()
    time.sleep(0.0001)
settle()
with open(report + ".tmp", "w") as f:
    json.dump(r, f)
os.rename(report + ".tmp", report)
EOF

# start_prober NAME ADDR [AFTER]: the prober in the peer namespace
# against ADDR; $T/probe-NAME.json is its report, $T/probe-NAME.stop
# stops it. Waits until it has sent its first probes; sets PROBER_PID.
start_prober() {
        ip netns exec "$(ns peer)" "$HEP_PYTHON" "$T/prober.py" "$2" 8081 8080 \
                "$T/probe-$1.stop" "$T/probe-$1.json" ${3:-} 2>"$T/probe-$1.err" &
        PROBER_PID=$!
        PROBERS+=("$PROBER_PID")
        wait_for "[ -e '$T/probe-$1.json.started' ]" 5 ||
                _netns_die "prober $1 did not start: $(cat "$T/probe-$1.err")"
}
# end_prober NAME PID [SECONDS]: lets the prober stop itself (up to
# SECONDS; default 0), then stops it, and waits for its report.
end_prober() {
        wait_for "! kill -0 $2 2>/dev/null" "${3:-0}"
        touch "$T/probe-$1.stop"
        wait_for "[ -s '$T/probe-$1.json' ] || ! kill -0 $2 2>/dev/null" 10
        wait "$2" 2>/dev/null
        [ -s "$T/probe-$1.json" ] || _netns_die "prober $1 wrote no report: $(cat "$T/probe-$1.err")"
}
# report NAME EXPR: a value from the prober's report.
report() { json_get "$2" <"$T/probe-$1.json"; }

# Listeners on the denied port count what reaches them, by the address it
# was sent to: accepted TCP connections (socat's log line for each) and
# UDP datagrams (the probers' say "leak to ADDR").
accepted_8081() { grep -cF "on AF=2 $1:8081" "$T/tcp-8081.log"; }
received_8081() { grep -cxF "leak to $1" "$T/udp-8081.recv"; }
declare -A ACCEPTED_MARK RECEIVED_MARK
# mark_listeners ADDR: what they counted for ADDR so far (what follows is
# the next scenario's).
mark_listeners() {
        ACCEPTED_MARK[$1]=$(accepted_8081 "$1")
        RECEIVED_MARK[$1]=$(received_8081 "$1")
}

# expect_no_leak NAME ADDR DESC: the prober NAME never got a connection to
# the denied port, and the listeners saw nothing for ADDR since
# mark_listeners.
expect_no_leak() {
        local name=$1 to=$2 desc=$3 tries connected udp after
        tries=$(report "$name" 'd["denied_tries"]')
        after=$(report "$name" 'd["denied_after_allowed"]')
        connected=$(report "$name" 'd["denied_connected"]')
        udp=$(report "$name" 'd["udp_sent"]')
        echo "# prober $name: $tries connection attempts to $to:8081 ($after after 8080 first answered)," \
                "$udp datagrams sent ($(report "$name" 'd["udp_errors"]') could not be sent)"
        expect_true '[ "$connected" -eq 0 ]' "$desc: not one of $tries TCP connections to 8081 was established"
        expect_true '[ "$(accepted_8081 "$to")" -eq "${ACCEPTED_MARK[$to]}" ]' \
                "$desc: the TCP listener on 8081 accepted none for $to"
        expect_true '[ "$(received_8081 "$to")" -eq "${RECEIVED_MARK[$to]}" ]' \
                "$desc: the UDP listener on 8081 received none of $udp datagrams to $to"
}

# expect_bound IF HEP: hepctl status and the bus show IF enforced by HEP,
# which dropped packets (the prober's).
expect_bound() {
        local ifname=$1 hep=$2 ifpath
        ifpath="$BUS_ROOT/interface/$(ip -n "$(ns host)" -o link show dev "$ifname" | cut -d: -f1)"
        expect_true 'wait_for "\"\$HEPCTL\" status --bus \"\$BUS\" | grep -Eq \"^$ifname +$hep +enforced\"" 5' \
                "hepctl status: $ifname is enforced by HostEndpoint $hep"
        expect_true '[ "$(prop "$(endpoint_path "$hep")" Endpoint StateReason)" = "enforced on $ifname" ]' \
                "D-Bus: $hep's StateReason is 'enforced on $ifname'"
        expect_true '[ "$(prop "$ifpath" Interface Endpoint)" = "$(endpoint_path "$hep")" ]' \
                "D-Bus: $ifpath ($ifname) has $hep as its Endpoint"
        expect_true '[ "$(prop "$(endpoint_path "$hep")" Endpoint PacketsDropped)" -gt 0 ]' \
                "D-Bus: $hep dropped packets (the prober's, to 8081)"
}

# plug N: a veth ethN<->pN made in the peer namespace. pN is up with
# 10.9N.0.2/24 and knows ethN's MAC for 10.9N.0.1 (a permanent neighbour
# entry: no ARP to wait for, so the prober's packets reach ethN from the
# moment it is up, and the host's sockets from the moment networkd gives
# it 10.9N.0.1). ethN stays down there: configuring it is networkd's job.
plug() {
        local mac=02:48:45:50:9$1:01
        ip -n "$(ns peer)" link add "eth$1" address "$mac" type veth peer name "p$1" || _netns_die "veth eth$1/p$1"
        ip -n "$(ns peer)" link set "p$1" up || _netns_die "p$1 up"
        addr_add peer "p$1" "10.9$1.0.2/24"
        ip -n "$(ns peer)" neigh replace "10.9$1.0.1" lladdr "$mac" dev "p$1" nud permanent ||
                _netns_die "neighbour 10.9$1.0.1 on p$1"
}

# scenario N HEP [stopped]: ethN comes to the host namespace and networkd
# configures it as 10.9N.0.1, with the prober on it from before; with
# "stopped", hostendpointd is stopped (SIGSTOP) from before ethN comes
# until the prober is done. Then: what got through, and whose ethN is.
scenario() {
        local n=$1 hep=$2 mode=${3:-running} ifname=eth$1 addr=10.9$1.0.1 pid moved first
        plug "$n"
        mark_listeners "$addr"
        start_prober "$ifname" "$addr" 300
        pid=$PROBER_PID
        [ "$mode" = running ] || kill -STOP "$DAEMON_PID"
        moved=${EPOCHREALTIME/[.,]/}
        ip -n "$(ns peer)" link set "$ifname" netns "$(ns host)" || _netns_die "moving $ifname into the host namespace"
        expect_true 'wait_for "networkd_configured $ifname" 10' "networkd configures $ifname"
        expect_true '[[ $(ip -n "$(ns host)" -o -4 addr show dev $ifname) == *$addr/24* ]]' \
                "with its Address= $addr/24"
        end_prober "$ifname" "$pid" 15
        first=$(report "$ifname" 'd["allowed_first"]')
        expect_true '[ "$first" != null ]' "8080 (allowed) answered the prober once networkd had configured $ifname"
        [ "$first" = null ] || echo "# 8080 first answered $(((first - moved) / 1000)) ms after $ifname was moved in"
        expect_no_leak "$ifname" "$addr" "$ifname ($hep, hostendpointd $mode)"
        if [ "$mode" != running ]; then
                expect_true 'grep -q "^State:.*stopped" /proc/$DAEMON_PID/status' "hostendpointd was stopped all along"
                kill -CONT "$DAEMON_PID"
        fi
        expect_pass "peer -> host:8080 over $ifname (allowed)" probe_tcp peer "$addr" 8080
        expect_blocked "peer -> host:8081 over $ifname (denied)" probe_tcp peer "$addr" 8081
        expect_bound "$ifname" "$hep"
}

# ---- the world ----
netns_add host
netns_add peer
cat >"$DS/resources.yaml" <<'EOF'
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: name0, labels: {nwd: ""}}
spec: {node: node1, interfaceName: eth0}
---
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: addr1, labels: {nwd: ""}}
spec: {node: node1, expectedIPs: [10.91.0.1]}
---
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: name2, labels: {nwd: ""}}
spec: {node: node1, interfaceName: eth2}
---
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: addr3, labels: {nwd: ""}}
spec: {node: node1, expectedIPs: [10.93.0.1]}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: web}
spec:
  selector: has(nwd)
  ingress: [{action: Allow, protocol: TCP, destination: {ports: [8080]}}]
  egress: [{action: Allow}]
EOF
for n in 0 1 2 3; do
        cat >"$T/network/10-eth$n.network" <<EOF
[Match]
Name=eth$n

[Network]
Address=10.9$n.0.1/24
# IPv4 only, as the probes are.
LinkLocalAddressing=no
IPv6AcceptRA=no
EOF
done

bus_start /usr/share/dbus-1/system.d/org.freedesktop.network1.conf
echo "# hostendpointd starts first"
start_daemon --bus "$BUS"
serve_tcp host 8080
ip netns exec "$(ns host)" socat -d -d TCP4-LISTEN:8081,reuseaddr,fork,backlog=64 EXEC:"echo hep-ok" \
        2>"$T/tcp-8081.log" &
CLEANUP_HOOKS=("kill $! 2>/dev/null" "${CLEANUP_HOOKS[@]}")
: >"$T/udp-8081.recv"
ip netns exec "$(ns host)" socat -u UDP4-RECV:8081,reuseaddr OPEN:"$T/udp-8081.recv",append &
CLEANUP_HOOKS=("kill $! 2>/dev/null" "${CLEANUP_HOOKS[@]}")
wait_for '[ -n "$(ip netns exec "$(ns host)" ss -Hltn "sport = :8081")" ] &&
        [ -n "$(ip netns exec "$(ns host)" ss -Hlun "sport = :8081")" ]' 5 ||
        _netns_die "the listeners on 8081 did not start"
run "$HEPCTL" status --bus "$BUS"
expect_true 'grep -Eq "^eth0 +name0 +waiting" <<<"$OUT" && grep -Eq "addr1 +waiting" <<<"$OUT"' \
        "hepctl status: name0 waits for eth0, addr1 for 10.91.0.1"

echo "# then systemd-networkd, on the same bus"
start_networkd
expect_true 'wait_for "bctl status org.freedesktop.network1 2>/dev/null | grep -qx PID=$NETWORKD_PID" 5' \
        "networkd (PID $NETWORKD_PID) owns org.freedesktop.network1 on the private bus"
expect_true '[ "$(cat /proc/$NETWORKD_PID/comm)" = systemd-network ] &&
        [ "$(stat -c %U /proc/$NETWORKD_PID)" = systemd-network ]' "it runs as the systemd-network user"

echo "# 1. a HostEndpoint by interfaceName: eth0"
scenario 0 name0
echo "# 1b. the same with hostendpointd stopped while networkd configures eth2: the rules by name hold"
scenario 2 name2 stopped
echo "# 2. a HostEndpoint by expectedIPs, the address networkd gives eth1"
scenario 1 addr1
echo "# 2b. the same with hostendpointd stopped while networkd configures eth3: the pre-binding holds"
scenario 3 addr3 stopped

echo "# 3. networkd restarts under traffic"
mark_listeners 10.90.0.1
mark_listeners 10.91.0.1
start_prober r0 10.90.0.1
P0=$PROBER_PID
start_prober r1 10.91.0.1
P1=$PROBER_PID
FIRST_PID=$NETWORKD_PID
_networkd_stop
expect_true '! kill -0 $FIRST_PID 2>/dev/null && grep -q "^Terminate operation initiated" "$T/networkd-1.log"' \
        "networkd stops on SIGTERM"
start_networkd
expect_true 'wait_for "networkd_configured eth0 && networkd_configured eth1" 10' \
        "a new networkd (PID $NETWORKD_PID) configures eth0 and eth1 again"
expect_pass "peer -> host:8080 over eth0 (allowed)" probe_tcp peer 10.90.0.1 8080
expect_pass "peer -> host:8080 over eth1 (allowed)" probe_tcp peer 10.91.0.1 8080
end_prober r0 "$P0"
end_prober r1 "$P1"
expect_no_leak r0 10.90.0.1 "eth0 across the restart"
expect_no_leak r1 10.91.0.1 "eth1 across the restart"
expect_bound eth0 name0
expect_bound eth1 addr1

echo "# the listeners on 8081 do count (a control from the host itself, over lo)"
mark_listeners 127.0.0.1
expect_true 'ip netns exec "$(ns host)" socat -u TCP4:127.0.0.1:8081 STDOUT | grep -q hep-ok &&
        wait_for "[ \$(accepted_8081 127.0.0.1) -eq $((${ACCEPTED_MARK[127.0.0.1]} + 1)) ]" 2' \
        "one connection over lo: the TCP listener counts it"
expect_true 'echo "leak to 127.0.0.1" | ip netns exec "$(ns host)" socat -u - UDP4-SENDTO:127.0.0.1:8081 &&
        wait_for "[ \$(received_8081 127.0.0.1) -eq $((${RECEIVED_MARK[127.0.0.1]} + 1)) ]" 2' \
        "one datagram over lo: the UDP listener counts it"
