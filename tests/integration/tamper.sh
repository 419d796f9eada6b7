#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Another program changes table inet hostendpoint while hostendpointd
# runs: `nft flush ruleset` (Debian's nftables.service does it on start,
# reload and stop), `nft delete table`, `nft flush table`, the table set
# dormant, and a program that keeps changing it. Each time the table comes
# back exactly as committed, traffic is filtered as before, the restoration
# is logged and counted on D-Bus (Manager.Restorations, PropertiesChanged).
# The daemon's own commits are not mistaken for another program's.
#
#   +-------------------+  eth0  +-------------------------------+
#   | hep-<pid>-peer    |--------| hep-<pid>-host: hostendpointd |
#   | 10.77.0.2 fd77::2 |  veth  | 10.77.0.1  tcp 8080 8081      |
#   +-------------------+        +-------------------------------+
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-netns.sh"
. "$(dirname "$0")/lib-daemon.sh"
. "$(dirname "$0")/lib-bus.sh"
netns_require
for tool in dbus-daemon busctl dbus-monitor; do
        command -v "$tool" >/dev/null || { echo "skipping: $tool is not installed"; exit 77; }
done

topo_two_hosts
for p in 8080 8081; do serve_tcp host "$p"; done
bus_start

put_resource web.yaml <<'EOF'
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: web, labels: {role: web}}
spec: {node: node1, interfaceName: eth0}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: allow-8080}
spec:
  selector: role == 'web'
  ingress: [{action: Allow, protocol: TCP, destination: {ports: [8080]}}]
  egress: [{action: Allow}]
EOF
start_daemon --bus "$BUS" 9</dev/null # an fd a careless parent left open
wait_for "[ \"\$(prop $BUS_ROOT Manager State 2>/dev/null)\" = running ]"
MON="$T/monitor.txt"
dbus-monitor --address "$BUS" "sender=$BUS_NAME" >"$MON" 2>&1 &
MONPID=$!
CLEANUP_HOOKS=("kill $MONPID 2>/dev/null" "${CLEANUP_HOOKS[@]}")
wait_for "[ -s '$MON' ]"

# fds_cloexec: every fd of the daemon but stdin, stdout and stderr is
# close-on-exec: its own, libnftables' netlink socket (opened without
# SOCK_CLOEXEC), and those it was started with (fd 9, below).
fds_cloexec() {
        local fd flags
        for fd in /proc/"$DAEMON_PID"/fd/*; do
                [ "${fd##*/}" -gt 2 ] || continue
                flags=$(awk '/^flags:/ { print $2 }' "/proc/$DAEMON_PID/fdinfo/${fd##*/}")
                ((8#$flags & 8#2000000)) || { echo "fd ${fd##*/} ($(readlink "$fd")) is not close-on-exec" >&2; return 1; }
        done
}
expect_true fds_cloexec "every fd of hostendpointd is close-on-exec, the one it inherited too"
restorations() { prop "$BUS_ROOT" Manager Restorations; }
# signalled N: a PropertiesChanged of the Manager said Restorations is N.
signalled() { grep -a -A1 'string "Restorations"' "$MON" | grep -q "uint32 $1\$"; }
expect_true '[ "$(restorations)" = 0 ]' "Manager.Restorations is 0 at first"
expect_pass "tcp 8080 is allowed" probe_tcp peer 10.77.0.1 8080
expect_blocked "tcp 8081 is denied" probe_tcp peer 10.77.0.1 8081
# The table as nft_dump prints it, without what says its conntrack
# generation (the elements of the ct-gen set and the ct-stamp map): the daemon's own
# commits move that on (README, Semantics), a restoration does not.
table_now() {
        nft_dump host | python3 -c '
import json, sys
d = json.load(sys.stdin)
keep = lambda i: not (i.get("set", {}).get("name") == "ct-gen" or i.get("map", {}).get("name") == "ct-stamp")
print(json.dumps({"nftables": [i for i in d["nftables"] if keep(i)]}, indent=2, sort_keys=True))'
}
COMMITTED=$(table_now)

# tamper DESCRIPTION LOGGED NFT-ARGS...: another program runs nft in the
# host namespace; the table must come back exactly as it was committed,
# traffic must be filtered as before, and the restoration logged (LOGGED:
# what the line says was changed) and counted.
tamper() {
        local what=$1 logged=$2 before mark
        shift 2
        echo "# $what"
        before=$(restorations)
        mark=$(log_lines)
        nft_host "$@" || fail "nft $* failed"
        expect_true 'wait_for "[ \"\$(table_now)\" = \"\$COMMITTED\" ]"' "$what: the table is back exactly as committed"
        expect_blocked "$what: tcp 8081 is denied again" probe_tcp peer 10.77.0.1 8081
        expect_pass "$what: tcp 8080 still passes" probe_tcp peer 10.77.0.1 8080
        expect_true 'wait_log_since "$mark" "Table inet hostendpoint changed by another program (pid [0-9]* .nft.): $logged; restored in [0-9.]* ms"' \
                "$what: logged as '$logged', with the program and the time it took"
        expect_true 'wait_for "[ \"\$(restorations)\" -eq $((before + 1)) ]"' "$what: Manager.Restorations went from $before to $((before + 1))"
        expect_true "wait_for 'signalled $((before + 1))'" "$what: PropertiesChanged says so"
}

tamper "nft flush ruleset" "table deleted" flush ruleset
tamper "nft delete table inet hostendpoint" "table deleted" delete table inet hostendpoint
tamper "nft flush table inet hostendpoint" "[0-9]* rules deleted" flush table inet hostendpoint
tamper "the table set dormant" "table set dormant" add table inet hostendpoint '{ flags dormant; }'
tamper "a rule added to one of our chains" "1 rule added" insert rule inet hostendpoint input tcp dport 8081 accept

echo "# the daemon's own commits are not another program's"
before=$(restorations)
mark=$(log_lines)
put_resource web2.yaml <<'EOF'
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: allow-8081}
spec:
  selector: role == 'web'
  ingress: [{action: Allow, protocol: TCP, destination: {ports: [8081]}}]
EOF
expect_true 'wait_for "probe_tcp peer 10.77.0.1 8081"' "a policy added: committed, tcp 8081 now allowed"
rm "$DS/web2.yaml"
expect_true 'wait_for "! PROBE_TIMEOUT=0.2 probe_tcp peer 10.77.0.1 8081"' "removed: committed, tcp 8081 denied again"
kill -HUP "$DAEMON_PID"
expect_true 'wait_log_since "$mark" "Reloading"' "a reload: a full replace of our own"
expect_true 'wait_for "[ \"\$(table_now)\" = \"\$COMMITTED\" ]"' "after which the table is as before"
# A transaction of ours is seen by the kernel before the daemon could
# misread it: one more foreign change, restored, shows that every
# notification before it was read.
tamper "after our own commits" "table deleted" delete table inet hostendpoint
expect_true '[ "$(restorations)" -eq $((before + 1)) ]' "the daemon's own commits caused no restoration"
expect_true '[ "$(tail -n +$((mark + 1)) "$DAEMON_LOG" | grep -c "changed by another program")" -eq 1 ]' \
        "and no log line but the foreign change's"

echo "# a program that keeps changing the table"
before=$(restorations)
mark=$(log_lines)
# One nft process, one transaction per line, as fast as it can: 100
# changes, ending with the table deleted.
for i in $(seq 1 50); do
        echo "add table inet hostendpoint { flags dormant; }"
        echo "add table inet hostendpoint { }"
done | { cat; echo "delete table inet hostendpoint"; } | ip netns exec "$(ns host)" nft -i >/dev/null
expect_true 'wait_for "[ \"\$(table_now)\" = \"\$COMMITTED\" ]" 10' "the table ends exactly as committed"
expect_blocked "tcp 8081 is denied" probe_tcp peer 10.77.0.1 8081
expect_pass "tcp 8080 passes" probe_tcp peer 10.77.0.1 8080
n=$(($(restorations) - before))
expect_true "[ $n -ge 1 ] && [ $n -lt 101 ]" "101 foreign transactions cost $n restorations"
expect_true 'wait_log_since "$mark" "restored in [0-9.]* ms (held back [0-9]* ms: the table keeps being changed)"' \
        "restorations are held back while the table keeps being changed, and the log says so"

echo "# hepctl status shows the count"
run "$HEPCTL" status --bus "$BUS"
expect_out_contains "Table restored after changes by other programs: $(restorations) times" "hepctl status"
