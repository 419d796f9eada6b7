#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# hostendpointd live: hot-plug by name, by address and through "*";
# renames, delete and re-add, flapping, a burst of 500 veths; resource files
# edited, added, removed and broken while it runs; SIGHUP; restarts under
# traffic; kill -9; capabilities, readiness and a second instance.
#
#   +-------------------+  eth0  +-------------------------------+
#   | hep-<pid>-peer    |--------| hep-<pid>-host: hostendpointd |
#   | 10.77.0.2 fd77::2 |  veth  | 10.77.0.1  tcp 22 8080 8081   |
#   +-------------------+        | udp 5000; eth1.. hot-plugged  |
#                                +-------------------------------+
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-netns.sh"
. "$(dirname "$0")/lib-daemon.sh"
netns_require

topo_two_hosts
for p in 22 8080 8081; do serve_tcp host "$p"; done
serve_udp host 5000

POLICY_8080='apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: web}
spec:
  selector: has(web)
  ingress: [{action: Allow, protocol: TCP, destination: {ports: [8080]}}]
  egress: [{action: Allow}]'

echo "# starting: the first commit happens before readiness"
put_resource policy.yaml <<<"$POLICY_8080"
start_daemon
expect_true 'nft_host list table inet hostendpoint >/dev/null' "the table is there when the daemon says it is ready"
PID=$DAEMON_PID
expect_true 'grep -q "^CapEff:\s*0000000000001000$" /proc/$PID/status' "only CAP_NET_ADMIN is effective"
expect_true 'grep -q "^CapPrm:\s*0000000000001000$" /proc/$PID/status' "only CAP_NET_ADMIN is permitted"
expect_true 'grep -q "^CapBnd:\s*0000000000001000$" /proc/$PID/status' "the bounding set is CAP_NET_ADMIN only"
expect_true 'grep -q "^CapAmb:\s*0000000000000000$" /proc/$PID/status' "no ambient capabilities"
uid=$(id -u "$DAEMON_USER")
expect_true "grep -Eq \"^Uid:\\s+$uid\\s+$uid\\s+$uid\\s+$uid\$\" /proc/\$PID/status" "it runs as the $DAEMON_USER user ($uid), not as root"
expect_true 'grep -Eq "^NoNewPrivs:\s+1$" /proc/$PID/status' "with no_new_privs"
gid=$(id -g "$DAEMON_USER")
expect_true "grep -Eq \"^Gid:\\s+$gid\\s+$gid\\s+$gid\\s+$gid\$\" /proc/\$PID/status" "its group is $DAEMON_USER's ($gid)"
groups_want=$(id -G "$DAEMON_USER" | tr ' ' '\n' | sort -n | tr '\n' ' ')
groups_have=$(awk '/^Groups:/ { for (i = 2; i <= NF; i++) print $i }' /proc/$PID/status | sort -n | tr '\n' ' ')
expect_true '[ "$groups_have" = "$groups_want" ]' "with $DAEMON_USER's groups and no others ($groups_want)"
expect_true '! grep -q libnss_ /proc/$PID/maps' "the user was looked up in /etc/passwd, without loading NSS modules for its life"
LOCK="/run/hostendpoint/net-$(ip netns exec "$(ns host)" stat -L -c %i /proc/self/ns/net).lock"
run ip netns exec "$(ns host)" "$HOSTENDPOINTD" --datastore "dir:$DS" --nodename node1 --bus none
expect_rc 1 "a second instance refuses to start"
expect_err "<3>hostendpointd: another hostendpointd is already running in this network namespace (it holds $LOCK)" "and says why"

echo "# no other user can keep it from starting"
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
stop_daemon TERM
ip netns exec "$(ns host)" setpriv --reuid=nobody --regid=nogroup --clear-groups \
        socat ABSTRACT-LISTEN:hostendpointd,fork /dev/null &
SQUAT=$!
CLEANUP_HOOKS=("kill $SQUAT 2>/dev/null" "${CLEANUP_HOOKS[@]}")
wait_for 'ip netns exec "$(ns host)" ss -xl | grep -q "@hostendpointd "'
expect_true '! as_nobody flock -n "$LOCK" true' "another user cannot take the lock (it cannot even open $LOCK)"
expect_true '! as_nobody touch /run/hostendpoint/x' "nor create files beside it"
start_daemon
PID=$DAEMON_PID
expect_true 'kill -0 $PID' "the daemon starts while another user holds the abstract name it used to take"
kill $SQUAT

echo "# hot-plug by name: the HEP is enforced before the interface exists"
netns_add h1
put_resource hep-eth1.yaml <<'EOF'
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: eth1-hep, labels: {web: ""}}
spec: {node: node1, interfaceName: eth1}
EOF
expect_true 'wait_log "eth1-hep. waiting: interface eth1 does not exist yet"' "waiting for eth1, enforced by name"
# A sender floods UDP at the host from the moment the link exists; the
# server must not see a single datagram (udp 5000 is not allowed).
ip netns exec "$(ns host)" socat -u UDP-RECV:5001,reuseaddr OPEN:"$T/leaked",creat,append &
RECV=$!
CLEANUP_HOOKS=("kill $RECV 2>/dev/null" "${CLEANUP_HOOKS[@]}")
veth_add host eth1 h1 eth1
addr_add host eth1 10.78.0.1/24
addr_add h1 eth1 10.78.0.2/24
for i in $(seq 1 200); do echo "leak $i"; done | ip netns exec "$(ns h1)" socat -u - UDP-SENDTO:10.78.0.1:5001 2>/dev/null
for i in $(seq 1 20); do ip netns exec "$(ns h1)" socat -u - UDP-SENDTO:10.78.0.1:5001 <<<"leak" 2>/dev/null; done
expect_blocked "tcp 8081 on the new interface is blocked" probe_tcp h1 10.78.0.1 8081
expect_pass "its policy allows tcp 8080" probe_tcp h1 10.78.0.1 8080
kill "$RECV"
expect_true '[ ! -s "$T/leaked" ]' "not one datagram reached the host on the hot-plugged interface"
expect_true 'wait_log "eth1-hep. enforced: enforced on eth1"' "logged as enforced once it exists"
wait_operstate h1 eth1 UP
sleep 0.2
expect_true '! grep -Eq "enforced on ([^ ,]+), \1($|,)" "$DAEMON_LOG"' "an interface that came up is one interface, not two"

echo "# rename away and back"
mark=$(log_lines)
ip -n "$(ns host)" link set eth1 down
ip -n "$(ns host)" link set eth1 name eth1x
ip -n "$(ns host)" link set eth1x up
expect_true 'wait_log_since "$mark" "eth1-hep. waiting: interface eth1 does not exist yet"' "renamed away: the HEP waits again"
expect_pass "eth1x is not filtered" probe_tcp h1 10.78.0.1 8081
ip -n "$(ns host)" link set eth1x down
ip -n "$(ns host)" link set eth1x name eth1
ip -n "$(ns host)" link set eth1 up
wait_operstate host eth1 up
expect_blocked "renamed back: filtered again" probe_tcp h1 10.78.0.1 8081

echo "# delete and re-add under the same name; link down keeps rules"
ip -n "$(ns host)" link del eth1
veth_add host eth1 h1 eth1
addr_add host eth1 10.78.0.1/24
addr_add h1 eth1 10.78.0.2/24
expect_blocked "re-added eth1 is filtered at once" probe_tcp h1 10.78.0.1 8081
expect_pass "and its policy still allows 8080" probe_tcp h1 10.78.0.1 8080
for i in 1 2 3 4 5; do ip -n "$(ns host)" link set eth1 down; ip -n "$(ns host)" link set eth1 up; done
wait_operstate host eth1 up
expect_true 'nft_host list map inet hostendpoint disp-in | grep -q "\"eth1\" : jump ep-in.eth1-hep"' "after flapping, eth1 is still dispatched to its HEP"
expect_blocked "and still filtered" probe_tcp h1 10.78.0.1 8081

# bound_by_address IFNAME HEP: the kernel dispatches IFNAME's traffic to
# the chains of HEP, a HEP matched by expectedIPs: through HEP's set of
# interfaces when bound lately, through the dispatch map once settled.
bound_by_address() {
        nft_host list set inet hostendpoint "ep-ifs.$2" | grep -qE "[{[:space:]]\"$1\"([[:space:]]|,|\$)" ||
                nft_host list map inet hostendpoint disp-in | grep -qE "\"$1\" : jump ep-in\.$2([[:space:]]|,|\$)"
}
# n_bound_by_address PREFIX: how many interfaces PREFIX<n> are bound by
# address, either way (one listing: a settling commit moves them atomically).
n_bound_by_address() {
        nft_host -j list table inet hostendpoint | python3 -c '
import json, re, sys
n = 0
for item in json.load(sys.stdin)["nftables"]:
    s = item.get("set") or item.get("map")
    if s and s["name"] in ("addr-ifnames", "disp-in"):
        for e in s.get("elem", []):
            key = e[0] if isinstance(e, list) else e
            n += isinstance(key, str) and re.fullmatch(sys.argv[1] + "[0-9]+", key) is not None
print(n)' "$1"
}

echo "# hot-plug by expectedIPs: bound when the address appears, withdrawn when it goes"
put_resource hep-ip.yaml <<'EOF'
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: by-ip}
spec: {node: node1, expectedIPs: [10.77.0.1]}
EOF
expect_true 'wait_log "by-ip. enforced: enforced on eth0"' "bound to eth0, which has 10.77.0.1"
expect_blocked "eth0 is now filtered (no policy for by-ip)" probe_tcp peer 10.77.0.1 8080
expect_pass "failsafe tcp 22 still works" probe_tcp peer 10.77.0.1 22
expect_true 'wait_log "Settled 1 interfaces bound by address into the dispatch maps"' "once quiet for a second, eth0 is settled"
expect_true 'nft_host list map inet hostendpoint disp-in | grep -q "\"eth0\" : jump ep-in.by-ip"' "into the dispatch map"
expect_true '! nft_host list set inet hostendpoint ep-ifs.by-ip | grep -q eth0' "and out of the address dispatch set"
expect_blocked "still filtered" probe_tcp peer 10.77.0.1 8080
expect_pass "failsafe tcp 22 still works when settled" probe_tcp peer 10.77.0.1 22
ip -n "$(ns host)" addr del 10.77.0.1/24 dev eth0
expect_true 'wait_log "by-ip. waiting: no interface has the address 10.77.0.1"' "address removed: withdrawn"
expect_pass "eth0 (IPv6) is unfiltered again" probe_tcp peer fd77::1 8080
ip -n "$(ns host)" addr add 10.77.0.1/24 dev eth0
expect_true 'wait_for "bound_by_address eth0 by-ip"' "address back: bound again"
expect_blocked "filtered again" probe_tcp peer fd77::1 8080
before=$(commits)
ip -n "$(ns host)" link set eth0 down
ip -n "$(ns host)" link set eth0 name eth0r
ip -n "$(ns host)" link set eth0r up
wait_commits $((before + 1))
sleep 0.1
expect_true 'bound_by_address eth0r by-ip' "renamed: the address's HEP follows the new name as soon as the rename is seen"
expect_true '! bound_by_address eth0 by-ip' "and the old name is gone"
expect_blocked "eth0r is filtered" probe_tcp peer fd77::1 8080
ip -n "$(ns host)" link set eth0r down
ip -n "$(ns host)" link set eth0r name eth0
ip -n "$(ns host)" link set eth0 up
expect_true 'wait_for "bound_by_address eth0 by-ip"' "renamed back"
rm "$DS/hep-ip.yaml"
expect_true 'wait_log "by-ip. withdrawn"' "file removed: the HEP is withdrawn"
expect_pass "eth0 unfiltered after the file is gone" probe_tcp peer 10.77.0.1 8080

echo "# pre-binding by address: a waiting HEP's address is filtered from its first packet, the daemon stopped"
# (issue 16) The address is not on eth0: the HEP waits, pre-bound by it.
# (The renames above took eth0 down, which dropped its IPv6 address.)
ip -n "$(ns host)" addr add fd77::1/64 dev eth0 nodad 2>/dev/null
ip -n "$(ns host)" addr del 10.77.0.1/24 dev eth0
mark=$(log_lines)
put_resource hep-ip.yaml <<'EOF'
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: by-ip}
spec: {node: node1, expectedIPs: [10.77.0.1]}
EOF
expect_true 'wait_log_since "$mark" "by-ip. waiting: no interface has the address 10.77.0.1"' "the HEP waits for its address"
expect_true 'nft_host list map inet hostendpoint prebind-in4 | grep -q "10.77.0.1 : goto ep-in.by-ip"' "pre-bound by its address"
expect_true '! nft_host list set inet hostendpoint prebind-bound4 | grep -q 10.77.0.1' "which is not bound yet"
kill -STOP "$DAEMON_PID"
ip -n "$(ns host)" addr add 10.77.0.1/24 dev eth0
expect_blocked "daemon stopped, address just added: its traffic already goes through the HEP (no policy: denied)" \
        probe_tcp peer 10.77.0.1 8080
expect_pass "failsafe tcp 22 to it passes" probe_tcp peer 10.77.0.1 22
expect_pass "another address of the unbound interface is untouched" probe_tcp peer fd77::1 8080
kill -CONT "$DAEMON_PID"
expect_true 'wait_for "bound_by_address eth0 by-ip"' "the daemon continues: eth0 bound"
expect_true 'nft_host list set inet hostendpoint prebind-bound4 | grep -q 10.77.0.1' "and its address is marked bound: the pre-binding no longer applies"
expect_blocked "now the whole interface is filtered" probe_tcp peer fd77::1 8080
mark=$(log_lines)
rm "$DS/hep-ip.yaml"
expect_true 'wait_log_since "$mark" "by-ip. withdrawn"' "file removed: the HEP is withdrawn"
expect_pass "eth0 unfiltered after the file is gone" probe_tcp peer 10.77.0.1 8080

echo "# \"*\" picks up new interfaces"
put_resource hep-star.yaml <<'EOF'
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: star}
spec: {node: node1, interfaceName: "*"}
EOF
expect_true 'wait_log "star. enforced"' "the '*' HEP is enforced"
netns_add h2
veth_add host eth2 h2 eth2
addr_add host eth2 10.79.0.1/24
addr_add h2 eth2 10.79.0.2/24
expect_blocked "a new interface falls under '*' at once" probe_tcp h2 10.79.0.1 8080
expect_pass "failsafe on it" probe_tcp h2 10.79.0.1 22
rm "$DS/hep-star.yaml"
expect_true 'wait_log "star. withdrawn"' "'*' removed"
expect_pass "eth2 unfiltered again" probe_tcp h2 10.79.0.1 8080

echo "# resource files edited, broken and fixed while running (applied within 100 ms)"
before=$(commits)
start=$(date +%s%N)
put_resource policy.yaml <<<"${POLICY_8080//8080/8081}"
wait_commits $((before + 1)) 2
ms=$((($(date +%s%N) - start) / 1000000))
expect_true "[ $ms -lt 100 ]" "an edited file is committed within 100 ms ($ms ms)"
expect_pass "the edit took effect: 8081 allowed" probe_tcp h1 10.78.0.1 8081
expect_blocked "and 8080 not" probe_tcp h1 10.78.0.1 8080
printf 'apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: web}\nspec:\n  ingress: [{action: Allow, protocol: TCP, destination: {ports: [8080]}}\n' >"$DS/policy.yaml"
expect_true 'wait_log "policy.yaml:6:1: .*keeping its previous resources"' "a broken file is reported with file:line:col"
expect_pass "its previous resources stay in force (8081 still allowed)" probe_tcp h1 10.78.0.1 8081
expect_blocked "and nothing was loosened (8080 still blocked)" probe_tcp h1 10.78.0.1 8080
put_resource policy.yaml <<<"$POLICY_8080"
expect_true 'wait_for "probe_tcp h1 10.78.0.1 8080"' "fixed: applied"
lines=$(log_lines)
put_resource remote.yaml <<'EOF'
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: elsewhere}
spec: {node: node9, interfaceName: eth9}
EOF
expect_true 'wait_log_since $lines "Datastore changed: the rules in force stay as they are"' \
        "a change that changes no rule is logged as such"
expect_true '! tail -n +$((lines + 1)) "$DAEMON_LOG" | grep -q "re-committed"' "not as a re-commit"

echo "# SIGHUP: full re-read and re-commit"
# (A chain flushed behind our back is restored at once: tamper.sh.)
mark=$(log_lines)
kill -HUP "$DAEMON_PID"
expect_true 'wait_log "Reloading"' "SIGHUP is logged"
expect_true 'wait_log_since "$mark" "Committed in"' "and the ruleset is committed again"
expect_blocked "still filtered after the reload" probe_tcp h1 10.78.0.1 8081
expect_pass "its policy still allows 8080" probe_tcp h1 10.78.0.1 8080

echo "# restart under continuous traffic: no leak, no allowed flow cut"
probe_loop() { # allowed-port denied-port: counts outcomes until told to stop
        local ok=0 bad=0
        while [ ! -e "$T/stop" ]; do
                if probe_tcp h1 10.78.0.1 "$1"; then ok=$((ok + 1)); else echo "allowed probe failed" >>"$T/violations"; fi
                if PROBE_TIMEOUT=0.2 probe_tcp h1 10.78.0.1 "$2"; then echo "denied probe passed" >>"$T/violations"; fi
        done
        echo "$ok" >"$T/allowed-count"
}
rm -f "$T/stop" "$T/violations"
probe_loop 8080 8081 &
LOOP=$!
sleep 0.5
stop_daemon TERM
RC=$DAEMON_RC
expect_rc 0 "SIGTERM exits 0"
expect_true 'nft_host list table inet hostendpoint >/dev/null' "the rules stay in force after SIGTERM"
sleep 0.3
start_daemon
sleep 0.5
touch "$T/stop"
wait "$LOOP"
expect_true '[ ! -s "$T/violations" ]' "no probe went the wrong way across the restart ($(cat "$T/allowed-count" 2>/dev/null) allowed flows)"

echo "# kill -9 leaves the rules in force"
stop_daemon KILL
expect_blocked "still filtered after kill -9" probe_tcp h1 10.78.0.1 8081
expect_pass "still allowed after kill -9" probe_tcp h1 10.78.0.1 8080
start_daemon
expect_true 'grep -q "Ready" "$DAEMON_LOG"' "it starts again after kill -9 (nothing stale blocks it)"

echo "# readiness is announced to systemd only after the first commit"
stop_daemon TERM
nft_host delete table inet hostendpoint
socat -u UNIX-RECV:"$T/notify" OPEN:"$T/notified",creat &
NOTIFY=$!
CLEANUP_HOOKS=("kill $NOTIFY 2>/dev/null" "${CLEANUP_HOOKS[@]}")
wait_for '[ -S "$T/notify" ]'
chmod 666 "$T/notify" # as systemd's socket: the daemon's user sends there
NOTIFY_SOCKET="$T/notify" WATCHDOG_USEC=200000 start_daemon
wait_for 'grep -q READY=1 "$T/notified"'
expect_true 'grep -q "^READY=1" "$T/notified"' "READY=1 sent to \$NOTIFY_SOCKET"
expect_true 'nft_host list map inet hostendpoint disp-in | grep -q eth1' "by then the ruleset is committed"
# WatchdogSec=: systemd sets WATCHDOG_USEC; the loop pings at half of it.
# (socat writes the datagrams back to back, with no separator.)
expect_true 'wait_for "[ \$(grep -o WATCHDOG=1 \"$T/notified\" | wc -l) -ge 3 ]" 5' "WATCHDOG=1 keeps coming from the main loop"
# systemctl reload: RELOADING=1 (with MONOTONIC_USEC, as systemd asks) at
# SIGHUP, and READY=1 again only once the re-commit is in the kernel.
mark=$(log_lines)
kill -HUP "$DAEMON_PID"
expect_true 'wait_for "grep -q \"Reloaded: the new ruleset is committed\" \"$DAEMON_LOG\""' "the reload's commit is logged"
NOTIFIED=$(tr '\0\n' '  ' <"$T/notified" | sed 's/WATCHDOG=1//g')
expect_true '[[ $NOTIFIED =~ RELOADING=1\ STATUS=Reloading\ MONOTONIC_USEC=[0-9]+READY=1 ]]' \
        "RELOADING=1 with MONOTONIC_USEC, then READY=1 ($NOTIFIED)"
expect_true '[ "$(tail -n +$((mark + 1)) "$DAEMON_LOG" | grep -n -m1 "Committed in" | cut -d: -f1)" -lt \
        "$(tail -n +$((mark + 1)) "$DAEMON_LOG" | grep -n -m1 "Reloaded:" | cut -d: -f1)" ]' \
        "READY=1 follows the commit, not the signal"

echo "# without CAP_NET_ADMIN: one clear line"
run ip netns exec "$(ns host)" setpriv --bounding-set=-net_admin --inh-caps=-net_admin "$HOSTENDPOINTD" --datastore "dir:$DS" --bus none
expect_rc 1 "refuses to run without CAP_NET_ADMIN"
expect_err "<3>hostendpointd: CAP_NET_ADMIN is required to program nftables (run as root, or with AmbientCapabilities=CAP_NET_ADMIN)" "one clear line"

echo "# 500 veths created and deleted at once: the final state is exact"
for i in $(seq 0 499); do
        printf -- '---\napiVersion: projectcalico.org/v3\nkind: HostEndpoint\nmetadata: {name: burst%d}\nspec: {node: node1, expectedIPs: [10.%d.%d.1]}\n' "$i" $((100 + i / 250)) $((i % 250))
done | put_resource burst.yaml
wait_for 'grep -q "burst499. waiting" "$DAEMON_LOG"' 10
netns_add burst
before=$(commits)
# Named once: a $(ns burst) per line forks 500 subshells, and the burst
# then lasts as long as they take, not as long as the kernel does.
burst_ns=$(ns burst)
burst_start=$(date +%s%N)
{
        for i in $(seq 0 499); do echo "link add b$i type veth peer name c$i netns $burst_ns"; done
        for i in $(seq 0 499); do echo "addr add 10.$((100 + i / 250)).$((i % 250)).1/24 dev b$i"; done
} | ip -n "$(ns host)" -batch -
expect_true 'wait_for "[ \$(n_bound_by_address b) -eq 500 ]" 20' "all 500 interfaces bound by address"
burst_ms=$((($(date +%s%N) - burst_start) / 1000000))
expect_true 'bound_by_address b0 burst0 && bound_by_address b250 burst250 && bound_by_address b499 burst499' "each to the HEP that expects its address"
after=$(commits)
# The commit budget (plugin.c): 10 at once, then one per 10 ms; on a
# loaded machine the burst itself lasts longer, so the bound follows it.
budget=$((10 + burst_ms / 10 + 5))
expect_true "[ $((after - before)) -le $budget ] && [ $((after - before)) -lt 300 ]" \
        "the burst of 1500 netlink events cost $((after - before)) commits in $burst_ms ms (at most $budget, and far fewer than events)"
for i in $(seq 0 499); do echo "link del b$i"; done | ip -n "$(ns host)" -batch -
expect_true 'wait_for "[ \$(n_bound_by_address b) -eq 0 ]" 30' "all 500 withdrawn after deletion"
expect_true 'nft_host list map inet hostendpoint disp-in | grep -q "\"eth1\" : jump ep-in.eth1-hep"' "the others are untouched"
