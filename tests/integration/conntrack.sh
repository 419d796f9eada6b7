#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Flows admitted before protection began, or before a policy edit, do not
# outlive it (issue 16): with hostendpointd, real flows between namespaces
# (TCP echo streams and ping streams) that started while eth0 had no HEP
# are cut when eth0 is bound, by name and by address, when the policy
# denies them, while allowed ones keep going; a policy edit that denies an
# established flow's port cuts it; edits that keep a flow allowed lose not
# one of its packets.
#
#   +-------------------+  eth0  +----------------------------------+
#   | hep-<pid>-peer    |--------| hep-<pid>-host: hostendpointd    |
#   | 10.77.0.2 fd77::2 |  veth  | 10.77.0.1 fd77::1, tcp echo 9080 |
#   +-------------------+        | and 9081                         |
#                                +----------------------------------+
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-netns.sh"
. "$(dirname "$0")/lib-daemon.sh"
netns_require

topo_two_hosts
for p in 9080 9081; do
        setsid ip netns exec "$(ns host)" socat "TCP6-LISTEN:$p,ipv6only=0,reuseaddr,fork" PIPE </dev/null \
                >/dev/null 2>&1 &
        _NETNS_SERVERS+=("$!")
done
wait_for '[ "$(ip netns exec "$(ns host)" ss -Hltn "( sport = :9080 or sport = :9081 )" | wc -l)" -eq 2 ]' ||
        _netns_die "the echo servers do not listen"

# policy PORTS [ICMP]: the web policy, allowing TCP to PORTS (a YAML list)
# and, with a third word, ICMP; egress is open.
policy() {
        local icmp=
        [ -n "${2:-}" ] && icmp=', {action: Allow, protocol: ICMP}, {action: Allow, protocol: ICMPv6}'
        put_resource policy.yaml <<EOF
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: web}
spec:
  selector: has(web)
  ingress: [{action: Allow, protocol: TCP, destination: {ports: $1}}$icmp]
  egress: [{action: Allow}]
EOF
}

FLOWS=()
# flow NAME ADDR PORT: a TCP echo stream from peer to the host, counted in $T/NAME.
flow() {
        : >"$T/$1"
        ip netns exec "$(ns peer)" python3 "$SRCDIR/tests/integration/flow-echo.py" "$2" "$3" "$T/$1" "$T/stop" &
        FLOWS+=("$!")
}
# ping_flow NAME ADDR: a ping stream (one conntrack flow) from peer, counted in $T/NAME.
ping_flow() {
        ip netns exec "$(ns peer)" ping -n -i 0.05 "$2" >"$T/$1" 2>&1 &
        FLOWS+=("$!")
}
# count NAME: the echoes (or ping replies) the flow has had so far.
count() {
        if grep -q "bytes from" "$T/$1" 2>/dev/null; then grep -c "bytes from" "$T/$1"; else wc -l <"$T/$1"; fi
}
# flows_stop: ends the flows of a scenario.
flows_stop() {
        touch "$T/stop"
        for p in "${FLOWS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
        FLOWS=()
        rm -f "$T/stop"
}
CLEANUP_HOOKS=("flows_stop" "${CLEANUP_HOOKS[@]}")
# flowing NAME...: waits until each flow has had 5 more echoes than now.
flowing() {
        local n
        for n in "$@"; do
                wait_for "[ \$(count $n) -ge $(($(count "$n") + 5)) ]" 5 || return 1
        done
}
# cut_while ALLOWED CUT...: the flows CUT get nothing more while ALLOWED gets 20
# more echoes (2 s of its traffic; a flow that was not cut gets as many).
cut_while() {
        local allowed=$1 n before=()
        shift
        # A packet already on its way when the commit came may still land.
        flowing "$allowed" || return 1
        for n in "$@"; do before+=("$(count "$n")"); done
        wait_for "[ \$(count $allowed) -ge $(($(count "$allowed") + 20)) ]" 10 || return 1
        for n in "$@"; do
                if [ "$(count "$n")" -ne "${before[0]}" ]; then
                        echo "flow $n still flows: $(count "$n") echoes, ${before[0]} when the allowed one had its first 5" >&2
                        return 1
                fi
                before=("${before[@]:1}")
        done
}

policy '[9080]'
start_daemon

echo "# bound by name: early flows the policy denies are cut, an allowed one keeps going"
flow early-allowed 10.77.0.1 9080
flow early-denied 10.77.0.1 9081
ping_flow early-ping 10.77.0.1
expect_true 'flowing early-allowed early-denied early-ping' "before eth0 has a HEP, all three flows work (unprotected)"
mark=$(log_lines)
put_resource hep.yaml <<'EOF'
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: eth0-hep, labels: {web: ""}}
spec: {node: node1, interfaceName: eth0}
EOF
expect_true 'wait_log_since "$mark" "eth0-hep. enforced: enforced on eth0"' "eth0 is bound by name"
expect_true 'cut_while early-allowed early-denied early-ping' \
        "the early flows to tcp 9081 and the ping stream, which the policy denies, are cut; tcp 9080 keeps going"
flows_stop
mark=$(log_lines)
rm "$DS/hep.yaml"
expect_true 'wait_log_since "$mark" "eth0-hep. withdrawn"' "the HEP is withdrawn"

echo "# bound by address: the interface's other flows, unprotected until then, are cut when the address appears"
ip -n "$(ns host)" addr del 10.77.0.1/24 dev eth0
mark=$(log_lines)
put_resource hep.yaml <<'EOF'
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: by-ip, labels: {web: ""}}
spec: {node: node1, expectedIPs: [10.77.0.1]}
EOF
expect_true 'wait_log_since "$mark" "by-ip. waiting: no interface has the address 10.77.0.1"' "the HEP waits for its address"
flow v6-allowed fd77::1 9080
flow v6-denied fd77::1 9081
ping_flow v6-ping fd77::1
expect_true 'flowing v6-allowed v6-denied v6-ping' "flows to eth0's IPv6 address work (it is not pre-bound: unprotected)"
mark=$(log_lines)
ip -n "$(ns host)" addr add 10.77.0.1/24 dev eth0
expect_true 'wait_log_since "$mark" "by-ip. enforced: enforced on eth0"' "the address appears: eth0 is bound by address"
expect_true 'cut_while v6-allowed v6-denied v6-ping' "the early IPv6 flows the policy denies are cut; tcp 9080 keeps going"
flows_stop

echo "# a policy edit that denies an established flow's port cuts it"
before=$(commits)
policy '[9080, 9081]' icmp
expect_true 'wait_commits $((before + 1))' "the policy that allows 9081 and ICMP is committed"
flow edit-allowed 10.77.0.1 9080
flow edit-denied 10.77.0.1 9081
ping_flow edit-ping 10.77.0.1
expect_true 'flowing edit-allowed edit-denied edit-ping' "the three flows work under the policy that allows them"
before=$(commits)
policy '[9080]'
expect_true 'wait_commits $((before + 1))' "the policy that drops 9081 and ICMP is committed"
expect_true 'cut_while edit-allowed edit-denied edit-ping' "the established 9081 flow and the ping stream are cut; 9080 keeps going"
flows_stop

echo "# policy edits that keep a flow allowed lose none of its packets"
policy '[9080]' icmp
expect_true 'wait_for "probe_ping peer 10.77.0.1"' "ICMP allowed again"
ip netns exec "$(ns peer)" ping -n -c 150 -i 0.02 10.77.0.1 >"$T/kept-ping" 2>&1 &
PING=$!
flow kept-tcp 10.77.0.1 9080
expect_true 'flowing kept-tcp' "a tcp flow and a ping stream run"
for p in 9082 9083 9084 9085 9086; do
        before=$(commits)
        policy "[9080, $p]" icmp
        wait_commits $((before + 1))
done
wait "$PING"
expect_true 'grep -q " 150 received" "$T/kept-ping"' "five edits during 150 pings: every one answered ($(grep received "$T/kept-ping"))"
expect_true 'flowing kept-tcp' "the tcp flow still flows"
flows_stop

echo "# a restart with a policy that denies a flow cuts it"
# A table the daemon starts from scratch: its first commit is the first
# generation. The next daemon must go on from the kernel's, not start again.
stop_daemon TERM
nft_host delete table inet hostendpoint
policy '[9080, 9081]'
start_daemon
flow restart-allowed 10.77.0.1 9080
flow restart-denied 10.77.0.1 9081
expect_true 'flowing restart-allowed restart-denied' "both flows work under the policy that allows them"
stop_daemon TERM
policy '[9080]'
start_daemon
expect_true 'cut_while restart-allowed restart-denied' \
        "restarted with a policy that denies 9081: that flow is cut, 9080 keeps going"
flows_stop
