#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Flow logs (issue 17, items 1 and 2): with flow-logs = yes, real flows
# between namespaces through a HEP with an allow-by-port policy and a
# deny show up once each, with the interface, direction, 5-tuple, action,
# the policy and rule that decided, conntrack's packet and byte counts and
# their end: in `hepctl flows` (filters, JSON) and D-Bus GetFlows, a
# FlowDenied signal for a denied flow, and one journal line per denied
# flow however many packets it sends. Off, nothing of it is in the table.
#
#   +-------------------+  eth0  +---------------------------------------+
#   | hep-<pid>-peer    |--------| hep-<pid>-host: hostendpointd         |
#   | 10.77.0.2 fd77::2 |  veth  | 10.77.0.1 fd77::1, tcp 8080, udp 5353 |
#   +-------------------+        | and tcp 9090 (denied)                 |
#                                +---------------------------------------+
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-netns.sh"
. "$(dirname "$0")/lib-daemon.sh"
. "$(dirname "$0")/lib-bus.sh"
netns_require

topo_two_hosts
serve_tcp host 8080
serve_udp host 5353
serve_tcp host 9090
# UDP flows end (conntrack destroys them) 2 s after their last packet.
ip netns exec "$(ns host)" sysctl -qw net.netfilter.nf_conntrack_udp_timeout=2
ip netns exec "$(ns host)" sysctl -qw net.netfilter.nf_conntrack_udp_timeout_stream=2
# TCP ones 1 s after their close, not after TIME_WAIT's 2 minutes.
ip netns exec "$(ns host)" sysctl -qw net.netfilter.nf_conntrack_tcp_timeout_time_wait=1
ip netns exec "$(ns host)" sysctl -qw net.netfilter.nf_conntrack_tcp_timeout_close=1

put_resource hep.yaml <<EOF2
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: host-eth0, labels: {web: ""}}
spec: {node: node1, interfaceName: eth0}
EOF2
put_resource policy.yaml <<EOF2
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: web}
spec:
  selector: has(web)
  ingress:
  - {action: Deny, protocol: TCP, destination: {ports: [9090]}}
  - {action: Allow, protocol: TCP, destination: {ports: [8080]}}
  - {action: Allow, protocol: UDP, destination: {ports: [5353, 5354]}}
  egress: [{action: Allow}]
EOF2

bus_start
start_daemon --bus "$BUS" --flow-logs=yes
wait_for "bctl status $BUS_NAME >/dev/null 2>&1" 5 || fail "the daemon does not serve $BUS_NAME"
hepctl_flows() { "$HEPCTL" flows --bus "$BUS" "$@"; }
# The records, as `hepctl flows -o json` prints them.
flows_json() { hepctl_flows -o json "$@"; }
# flow_count PYEXPR [HEPCTL ARGS...]: how many records r make PYEXPR true.
flow_count() {
        local expr=$1
        shift
        flows_json "$@" | /usr/bin/python3 -c '
import json, sys
print(sum(1 for r in json.load(sys.stdin) if eval(sys.argv[1])))' "$expr"
}

# The kernel took the logging rules.
run nft_host list chain inet hostendpoint pol-in.web
expect_out_contains "log prefix \"hep:AI:r" "the policy's rules log to NFLOG group 4711"

# FlowDenied, watched on the test's bus from before the first denied packet.
dbus-monitor --address "$BUS" "type='signal',interface='$BUS_NAME.Manager'" >"$T/monitor" 2>&1 &
MONITOR=$!
CLEANUP_HOOKS=("kill $MONITOR" "${CLEANUP_HOOKS[@]}")
wait_for "grep -q NameAcquired '$T/monitor'" 5

# Allowed: TCP (a connection that closes) and UDP, over IPv4 and IPv6.
expect_true 'probe_tcp_from_port peer "$HOST_IP4" 8080 40001' "allowed TCP over IPv4 passes"
expect_true 'probe_udp_from_port peer "$HOST_IP4" 5353 40002' "allowed UDP passes"
expect_true 'probe_tcp_from_port peer "$HOST_IP6" 8080 40003' "allowed TCP over IPv6 passes"
# One-way UDP (5354: no server, no reply): 20 datagrams of one flow,
# each "new" to conntrack and so judged by policy, logged once.
ip netns exec "$(ns peer)" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 40007))
for _ in range(20):
    s.sendto(b"x" * 20, (sys.argv[1], 5354))' "$HOST_IP4"
oneway='r["protocol"] == "udp" and r["sourcePort"] == 40007 and r["destinationPort"] == 5354 and r["action"] == "allow" and r["rule"] == 2'
wait_for "[ \"\$(flow_count '$oneway')\" = 1 ]" 5
expect_true "[ \"\$(flow_count '$oneway and not r[\"ended\"] and r[\"packets\"] == 1')\" = 1 ]" \
        "20 one-way UDP datagrams: one record, only the first packet logged"
# Denied: 50 SYNs of one flow (a fixed source port), for one journal line.
PROBE_TIMEOUT=0.1
for i in $(seq 5); do probe_tcp_from_port peer "$HOST_IP4" 9090 40004; done
PROBE_TIMEOUT=2
ip netns exec "$(ns peer)" python3 - "$HOST_IP4" <<'PY'
import socket, sys
for _ in range(50):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", 40004))
    s.setblocking(False)
    try:
        s.connect((sys.argv[1], 9090))
    except BlockingIOError:
        pass
    s.close()
PY

allowed_tcp4='r["interface"] == "eth0" and r["direction"] == "in" and r["protocol"] == "tcp" and r["source"] == "'$PEER_IP4'" and r["sourcePort"] == 40001 and r["destination"] == "'$HOST_IP4'" and r["destinationPort"] == 8080 and r["action"] == "allow" and r["policy"] == "gnp web" and r["tier"] == "default" and r["rule"] == 1 and r["endpoint"] == "host-eth0" and r["family"] == "ipv4"'
allowed_udp='r["protocol"] == "udp" and r["sourcePort"] == 40002 and r["destinationPort"] == 5353 and r["action"] == "allow" and r["policy"] == "gnp web" and r["rule"] == 2'
allowed_tcp6='r["family"] == "ipv6" and r["source"] == "'$PEER_IP6'" and r["sourcePort"] == 40003 and r["destinationPort"] == 8080 and r["action"] == "allow" and r["rule"] == 1'
denied='r["protocol"] == "tcp" and r["sourcePort"] == 40004 and r["destinationPort"] == 9090 and r["action"] == "deny" and r["policy"] == "gnp web" and r["rule"] == 0 and r["packets"] >= 1'
ended='and r["ended"] and r["packets"] >= 2 and r["bytes"] >= 2 * 40'

# Each flow once, with its counts and its end (conntrack's DESTROY, once
# the entry has timed out: TCP 1 s after its close, UDP 2 s after its last
# packet). The kernel's own garbage collector reaps a timed-out entry only
# when it next scans, which on an idle table can be a minute away; reading
# the conntrack table reaps the timed-out entries it meets, so the waits
# below read it each time they look.
ended_flows() {
        ip netns exec "$(ns host)" cat /proc/net/nf_conntrack >/dev/null 2>&1
        flow_count "$@"
}
wait_for "[ \"\$(ended_flows '$allowed_tcp4 $ended')\" = 1 ]" 10
expect_true "[ \"\$(ended_flows '$allowed_tcp4 $ended')\" = 1 ]" \
        "allowed TCP/IPv4: one record, eth0 in, the 5-tuple, allowed by gnp web rule 1, counted and ended"
wait_for "[ \"\$(ended_flows '$allowed_udp $ended')\" = 1 ]" 10
expect_true "[ \"\$(ended_flows '$allowed_udp $ended')\" = 1 ]" "allowed UDP: one record, gnp web rule 2, counted and ended"
wait_for "[ \"\$(ended_flows '$allowed_tcp6 $ended')\" = 1 ]" 10
expect_true "[ \"\$(ended_flows '$allowed_tcp6 $ended')\" = 1 ]" "allowed TCP/IPv6: one record, gnp web rule 1, counted and ended"
expect_true "[ \"\$(flow_count '$denied')\" = 1 ]" "55 denied SYNs of one flow: one record, denied by gnp web rule 0"
expect_true "[ \"\$(flow_count 'True' --action deny)\" = 1 ] && [ \"\$(flow_count '$denied' --action deny)\" = 1 ]" \
        "--action deny shows the denied flow alone"
expect_true "[ \"\$(flow_count 'r[\"action\"] == \"deny\"' --action allow)\" = 0 ] && [ \"\$(flow_count 'True' --action allow)\" -ge 3 ]" \
        "--action allow leaves it out"
expect_true "[ \"\$(flow_count 'True' --interface lo)\" = 0 ]" "--interface filters by interface"

wait_for "[ \"\$(ended_flows '$oneway and r[\"ended\"] and r[\"packets\"] == 20')\" = 1 ]" 10
expect_true "[ \"\$(ended_flows '$oneway and r[\"ended\"] and r[\"packets\"] == 20')\" = 1 ]" "and conntrack's count at its end: 20 packets"

# The journal: one line for the denied flow, not one per packet.
expect_true "[ \"\$(grep -c 'Flow denied: in eth0 (HostEndpoint .host-eth0.) tcp $PEER_IP4:40004 -> $HOST_IP4:9090 by gnp web (tier default), rule 0' '$DAEMON_LOG')\" = 1 ]" \
        "the daemon logged the denied flow once"
expect_true "[ \"\$(grep -c 'Flow denied' '$DAEMON_LOG')\" = 1 ]" "and no other denied flow"

# FlowDenied on the bus.
wait_for "grep -q 'member=FlowDenied' '$T/monitor'" 5
expect_true "grep -A200 'member=FlowDenied' '$T/monitor' | grep -q 'uint16 9090'" "a FlowDenied signal carried the denied flow"
expect_true "grep -q 'member=Flows' '$T/monitor'" "Flows signals were sent"

# GetFlows itself, with the contract's keys and filters.
run bctl call "$BUS_NAME" "$BUS_ROOT" "$BUS_NAME.Manager" GetFlows 'a{sv}' 2 Action s deny Limit u 5 --json=short
expect_rc 0 "GetFlows with a filter"
expect_true "[ \"\$(printf %s \"\$OUT\" | json_get 'len(d[\"data\"][0])')\" = 1 ]" "GetFlows' Action filter: the one denied flow"
expect_true "[ \"\$(printf %s \"\$OUT\" | json_get 'sorted(d[\"data\"][0][0].keys())')\" = '[\"Action\", \"Bytes\", \"Destination\", \"DestinationPort\", \"Direction\", \"Ended\", \"Endpoint\", \"Family\", \"Interface\", \"LastSeen\", \"Packets\", \"PendingAction\", \"PendingPolicy\", \"PendingRule\", \"Policy\", \"Protocol\", \"Rule\", \"Source\", \"SourcePort\", \"Tier\", \"Time\"]' ]" \
        "a record has the contract's keys"
run gdbus call --address "$BUS" --dest "$BUS_NAME" --object-path "$BUS_ROOT" --method "$BUS_NAME.Manager.GetFlows" \
        "{'Action': <uint32 3>}"
expect_err_contains "InvalidArgs" "a filter key of the wrong type is InvalidArgs"
expect_err_contains "Action" "naming the key"
expect_true "[ \"\$(prop '$BUS_ROOT' Manager FlowLogs)\" = true ]" "FlowLogs is true"

# hepctl flows' table and --follow.
run hepctl_flows --action deny
expect_out_contains "gnp web" "hepctl flows prints the policy"
expect_true "[ \"\$(printf '%s\n' \"\$OUT\" | head -1 | tr -s ' ')\" = 'TIME INTERFACE DIRECTION PROTOCOL SOURCE DESTINATION ACTION POLICY RULE ' ]" "hepctl flows' columns"
hepctl_flows --follow -o json --action allow >"$T/follow" 2>&1 &
FOLLOW=$!
CLEANUP_HOOKS=("kill $FOLLOW 2>/dev/null" "${CLEANUP_HOOKS[@]}")
wait_for "[ \"\$(wc -l <'$T/follow')\" -ge 3 ]" 5
expect_true 'probe_tcp_from_port peer "$HOST_IP4" 8080 40005' "another allowed connection"
wait_for "grep -q '\"sourcePort\":40005' '$T/follow'" 5
expect_true "grep -q '\"sourcePort\":40005' '$T/follow'" "hepctl flows --follow shows a new flow as it comes"
kill $FOLLOW

# A staged policy (item 3): never enforced, but each new flow's record
# says what it would do, from the staged view's ruleset (PendingAction,
# PendingPolicy, PendingRule).
put_resource staged.yaml <<EOF2
apiVersion: projectcalico.org/v3
kind: StagedGlobalNetworkPolicy
metadata: {name: web}
spec:
  selector: has(web)
  ingress:
  - {action: Deny, protocol: TCP, destination: {ports: [8080]}}
  egress: [{action: Allow}]
EOF2
staged_port=40100
# A new connection to 8080; true once its record carries the staged verdict.
staged_probe() {
        staged_port=$((staged_port + 1))
        probe_tcp_from_port peer "$HOST_IP4" 8080 $staged_port >/dev/null 2>&1 || return 1
        [ "$(flow_count "r['sourcePort'] == $staged_port and r['action'] == 'allow' and r['pendingAction'] == 'deny' and r['pendingPolicy'] == 'gnp web' and r['pendingRule'] == 0")" = 1 ]
}
expect_true 'wait_for staged_probe 10' \
        "with a staged policy denying 8080, a new connection is still allowed and its record says the staged policy would deny it (gnp web, rule 0)"
expect_true "[ \"\$(flow_count 'r[\"destinationPort\"] == 5353 and r[\"pendingAction\"] == \"\"')\" -ge 1 ]" \
        "records made before the staged policy existed carry no pending verdict"
expect_true 'probe_udp_from_port peer "$HOST_IP4" 5353 40200' "the staged policy changes no traffic"
expect_true "[ \"\$(flow_count 'r[\"sourcePort\"] == 40200 and r[\"pendingAction\"] == \"deny\" and r[\"pendingPolicy\"] == \"default deny\"')\" = 1 ]" \
        "a flow the staged policy set would leave to the end of the tier: pending deny by the default deny"

# Promoted (the policy applied as staged, the staged one deleted), what it
# would have denied is denied, and the record names it.
mark=$(log_lines)
rm "$DS/staged.yaml"
put_resource policy.yaml <<EOF2
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: web}
spec:
  selector: has(web)
  ingress:
  - {action: Deny, protocol: TCP, destination: {ports: [8080]}}
  egress: [{action: Allow}]
EOF2
expect_true 'wait_log_since "$mark" "ruleset re-committed"' "the promoted policy is committed"
PROBE_TIMEOUT=0.5
expect_true '! probe_tcp_from_port peer "$HOST_IP4" 8080 40300' "promoted, a new connection to 8080 is denied"
PROBE_TIMEOUT=2
promoted_denied() {
        [ "$(flow_count 'r["sourcePort"] == 40300 and r["action"] == "deny" and r["policy"] == "gnp web" and r["rule"] == 0' --action deny)" = 1 ]
}
expect_true 'wait_for promoted_denied 5' "and hepctl flows --action deny shows it, denied by gnp web, rule 0"

# Off (the default), the table is without them and nothing is logged.
stop_daemon
start_daemon --bus "$BUS"
run nft_host list table inet hostendpoint
expect_true "! printf %s \"\$OUT\" | grep -q 'group 4711'" "flow logs off: no rule logs"
expect_true "[ \"\$(prop '$BUS_ROOT' Manager FlowLogs)\" = false ]" "FlowLogs is false"
PROBE_TIMEOUT=0.2
probe_tcp_from_port peer "$HOST_IP4" 9090 40006
PROBE_TIMEOUT=2
expect_true "[ \"\$(flow_count 'True')\" = 0 ]" "and no flows are shown"
