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
  - {action: Allow, protocol: UDP, destination: {ports: [5353]}}
  egress: [{action: Allow}]
EOF2

bus_start
start_daemon --bus "$BUS" --flow-logs=yes
wait_for "bctl status $BUS_NAME >/dev/null 2>&1" 5 || fail "the daemon does not serve $BUS_NAME"
hepctl_flows() { "$HEPCTL" --bus "$BUS" flows "$@"; }

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

# flow_line FILTER: the flow's line in `hepctl flows -o json`, as JSON.
flows_json() { hepctl_flows -o json "$@"; }
