#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# hepctl explain against real traffic: for each scenario of enforce.sh,
# hostendpointd enforces the resources in the "host" namespace; for each
# packet, hepctl explain answers offline (the ruleset computed from the
# datastore) and over the daemon's D-Bus Explain (the ruleset it
# committed); both must name the expected verdict and policy, and real
# traffic between the namespaces must agree: allow or none <-> the
# connection gets through, deny <-> it does not.
#
#   +------------------+  eth0  +----------------------------+  eth1  +------------------+
#   | hep-<pid>-peer   |--------| hep-<pid>-host             |--------| hep-<pid>-far    |
#   | 10.77.0.2        |  veth  | 10.77.0.1     10.79.0.1    |  veth  | 10.79.0.2        |
#   | fd77::2          |        | fd77::1       fd79::1      |        | fd79::2          |
#   | tcp 9000 9002    |        | tcp 22 1234 8080 8081      |        | tcp 9000 9002    |
#   |                  |        | udp 5000; forwards         |        |                  |
#   +------------------+        +----------------------------+        +------------------+
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-netns.sh"
. "$(dirname "$0")/lib-daemon.sh"
. "$(dirname "$0")/lib-bus.sh"
netns_require
command -v dbus-daemon >/dev/null || { echo "skipping: dbus-daemon is not installed"; exit 77; }

topo_two_hosts
netns_add far
veth_add host eth1 far eth1
addr_add host eth1 10.79.0.1/24
addr_add host eth1 fd79::1/64
addr_add far eth1 10.79.0.2/24
addr_add far eth1 fd79::2/64
netns_exec host sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
netns_exec peer ip route add 10.79.0.0/24 via 10.77.0.1
netns_exec peer ip -6 route add fd79::/64 via fd77::1
netns_exec far ip route add 10.77.0.0/24 via 10.79.0.1
netns_exec far ip -6 route add fd77::/64 via fd79::1

for p in 22 1234 8080 8081; do serve_tcp host "$p"; done
serve_udp host 5000
for p in 9000 9002; do serve_tcp peer "$p"; serve_tcp far "$p"; done

bus_start
start_daemon --bus "$BUS"

# enforce YAML: the daemon's datastore becomes these resources; returns
# once it has committed them.
enforce() {
        local before
        before=$(commits)
        put_resource resources.yaml
        CHECKS=$((CHECKS + 1))
        if wait_commits $((before + 1)); then pass "committed"; else fail "the daemon did not commit the change"; fi
}

# verdict_of: "verdict|policy|rule" of hepctl explain -o json on stdin.
verdict_of() {
        /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
print("%s|%s|%s" % (d["verdict"], d["policy"], d["rule"]))'
}

# agree DESC VERDICT POLICY RULE "EXPLAIN ARGS" PROBE...: explain offline
# and over D-Bus says VERDICT|POLICY|RULE, and the probe's traffic agrees.
agree() {
        local desc=$1 verdict=$2 want="$2|$3|$4" args=$5 offline bus
        shift 5
        # Offline in the host namespace, which has the interfaces the daemon sees.
        # shellcheck disable=SC2086
        run netns_exec host "$HEPCTL" --datastore "dir:$DS" explain --node node1 -o json $args
        offline=$(verdict_of <<<"$OUT" 2>/dev/null)
        CHECKS=$((CHECKS + 1))
        if [ "$RC" -eq 0 ] && [ "$offline" = "$want" ]; then pass "$desc: offline explain says $offline"
        else fail "$desc: offline explain says '$offline' (exit $RC), expected '$want': $ERR"; fi
        # shellcheck disable=SC2086
        run "$HEPCTL" explain --bus "$BUS" -o json $args
        bus=$(verdict_of <<<"$OUT" 2>/dev/null)
        CHECKS=$((CHECKS + 1))
        if [ "$RC" -eq 0 ] && [ "$bus" = "$want" ]; then pass "$desc: the daemon's Explain says $bus"
        else fail "$desc: the daemon's Explain says '$bus' (exit $RC), expected '$want': $ERR"; fi
        if [ "$verdict" = deny ]; then expect_blocked "$desc: the traffic is blocked" "$@"
        else expect_pass "$desc: the traffic passes" "$@"; fi
}

IN="--interface eth0 --direction in --src 10.77.0.2 --dst 10.77.0.1"
IN6="--interface eth0 --direction in --src fd77::2 --dst fd77::1"
OUT4="--interface eth0 --direction out --src 10.77.0.1 --dst 10.77.0.2"
FWD="--interface eth0 --direction forward --out-interface eth1 --src 10.77.0.2 --dst 10.79.0.2"

HEP_ETH0='
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: host-eth0, labels: {role: server}}
spec:
  node: node1
  interfaceName: eth0
  expectedIPs: [10.77.0.1, "fd77::1"]
  ports: [{name: web, protocol: TCP, port: 1234}]'

echo "# no host endpoint: nothing is filtered"
agree "no HEP, tcp 8080" none "" -1 "$IN --proto tcp --dport 8080" probe_tcp peer 10.77.0.1 8080

echo "# a HEP with no policy and no profile: default deny, except failsafe"
enforce <<<"$HEP_ETH0"
agree "default deny tcp 8080" deny "default deny" -1 "$IN --proto tcp --dport 8080" probe_tcp peer 10.77.0.1 8080
agree "default deny over IPv6" deny "default deny" -1 "$IN6 --proto tcp --dport 8080" probe_tcp peer fd77::1 8080
agree "default deny of ping" deny "default deny" -1 "$IN --proto icmp" probe_ping peer 10.77.0.1
agree "failsafe tcp 22" allow failsafe -1 "$IN --proto tcp --dport 22" probe_tcp peer 10.77.0.1 22
agree "egress default deny" deny "default deny" -1 "$OUT4 --proto tcp --dport 9000" probe_tcp host 10.77.0.2 9000
agree "eth1 has no HEP" none "" -1 \
        "--interface eth1 --direction in --src 10.79.0.2 --dst 10.79.0.1 --proto tcp --dport 8080" \
        probe_tcp far 10.79.0.1 8080

echo "# profiles"
enforce <<EOF
$HEP_ETH0
  profiles: [allow-web, out-all]
---
apiVersion: projectcalico.org/v3
kind: Profile
metadata: {name: allow-web}
spec:
  ingress: [{action: Allow, protocol: TCP, destination: {ports: [8080]}}]
---
apiVersion: projectcalico.org/v3
kind: Profile
metadata: {name: out-all}
spec:
  egress: [{action: Allow}]
EOF
agree "profile allows tcp 8080" allow "profile allow-web" 0 "$IN --proto tcp --dport 8080" probe_tcp peer 10.77.0.1 8080
agree "profile allows tcp 8080 over IPv6" allow "profile allow-web" 0 "$IN6 --proto tcp --dport 8080" \
        probe_tcp peer fd77::1 8080
agree "no profile allows 8081" deny "default deny" -1 "$IN --proto tcp --dport 8081" probe_tcp peer 10.77.0.1 8081
agree "the second profile allows egress" allow "profile out-all" 0 "$OUT4 --proto tcp --dport 9000" \
        probe_tcp host 10.77.0.2 9000

echo "# a profile that does not exist is deny-all"
enforce <<EOF
$HEP_ETH0
  profiles: [no-such-profile]
EOF
agree "missing profile" deny "profile no-such-profile" -1 "$IN --proto tcp --dport 8080" probe_tcp peer 10.77.0.1 8080

echo "# allow by port, deny, end of tier"
enforce <<EOF
$HEP_ETH0
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: web}
spec:
  selector: role == 'server'
  ingress:
  - {action: Allow, protocol: TCP, destination: {ports: [8080]}}
  - {action: Allow, protocol: UDP, destination: {ports: [5000]}}
  egress:
  - {action: Deny, protocol: TCP, destination: {ports: [9002]}}
  - {action: Allow}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: not-me}
spec:
  selector: role == 'other'
  ingress: [{action: Allow}]
EOF
agree "GNP allows tcp 8080" allow "gnp web" 0 "$IN --proto tcp --dport 8080" probe_tcp peer 10.77.0.1 8080
agree "GNP allows udp 5000" allow "gnp web" 1 "$IN --proto udp --dport 5000" probe_udp peer 10.77.0.1 5000
agree "GNP allows udp 5000 over IPv6" allow "gnp web" 1 "$IN6 --proto udp --dport 5000" probe_udp peer fd77::1 5000
agree "end of tier drops tcp 8081" deny "default deny" -1 "$IN --proto tcp --dport 8081" probe_tcp peer 10.77.0.1 8081
agree "egress allowed to 9000" allow "gnp web" 1 "$OUT4 --proto tcp --dport 9000" probe_tcp host 10.77.0.2 9000
agree "egress denied to 9002" deny "gnp web" 0 "$OUT4 --proto tcp --dport 9002" probe_tcp host 10.77.0.2 9002

echo "# order and Pass: Pass skips the rest of its tier; the next tier decides"
enforce <<EOF
$HEP_ETH0
---
apiVersion: projectcalico.org/v3
kind: Tier
metadata: {name: first}
spec: {order: 10}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: first.pass-8080}
spec: {tier: first, order: 1, ingress: [{action: Pass, protocol: TCP, destination: {ports: [8080]}}]}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: first.deny-8080}
spec: {tier: first, order: 2, ingress: [{action: Deny, protocol: TCP, destination: {ports: [8080]}}, {action: Allow, protocol: TCP, destination: {ports: [1234]}}]}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: a-deny-8081}
spec: {order: 1, ingress: [{action: Deny, protocol: TCP, destination: {ports: [8081]}}]}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: b-allow}
spec: {order: 2, ingress: [{action: Log, protocol: TCP}, {action: Allow, protocol: TCP}]}
EOF
agree "Pass, then the default tier allows (after a Log rule)" allow "gnp b-allow" 1 "$IN --proto tcp --dport 8080" \
        probe_tcp peer 10.77.0.1 8080
agree "an Allow in the first tier is final" allow "gnp first.deny-8080" 1 "$IN --proto tcp --dport 1234" \
        probe_tcp peer 10.77.0.1 1234
# The first tier's policies select every endpoint: 8081, which none of
# them decides, ends at that tier's end, before a-deny-8081.
agree "the first tier ends in a deny for 8081" deny "default deny" -1 "$IN --proto tcp --dport 8081" \
        probe_tcp peer 10.77.0.1 8081
agree "a tier that applied but did not decide denies" deny "default deny" -1 "$IN --proto udp --dport 5000" \
        probe_udp peer 10.77.0.1 5000
run netns_exec host "$HEPCTL" --datastore "dir:$DS" explain --node node1 $IN --proto udp --dport 5000
expect_out_contains "Verdict: deny by default deny (tier first)" "the table output names the tier whose end denied"

echo "# named ports and nets"
enforce <<EOF
$HEP_ETH0
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: named}
spec:
  ingress:
  - {action: Allow, protocol: TCP, destination: {ports: [web]}}
  - {action: Allow, protocol: TCP, source: {nets: [10.77.0.2/32]}, destination: {ports: [8080]}}
  - {action: Allow, protocol: TCP, source: {notNets: [10.77.0.0/30]}, destination: {ports: [8081]}}
EOF
agree "named port web (tcp 1234)" allow "gnp named" 0 "$IN --proto tcp --dport 1234" probe_tcp peer 10.77.0.1 1234
agree "named port over IPv6" allow "gnp named" 0 "$IN6 --proto tcp --dport 1234" probe_tcp peer fd77::1 1234
agree "nets: the peer's /32" allow "gnp named" 1 "$IN --proto tcp --dport 8080" probe_tcp peer 10.77.0.1 8080
agree "nets are IPv4 only" deny "default deny" -1 "$IN6 --proto tcp --dport 8080" probe_tcp peer fd77::1 8080
agree "notNets excludes the peer" deny "default deny" -1 "$IN --proto tcp --dport 8081" probe_tcp peer 10.77.0.1 8081

echo "# selector sets: another node's HEP"
REMOTE='
---
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: peer-on-node2, labels: {role: ROLE}}
spec: {node: node2, interfaceName: eth0, expectedIPs: [10.77.0.2, "fd77::2"]}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: from-clients}
spec:
  selector: role == "server"
  ingress: [{action: Allow, protocol: TCP, source: {selector: role == "client"}, destination: {ports: [8080]}},
            {action: Allow, protocol: TCP, source: {notSelector: role == "client"}, destination: {ports: [8081]}},
            {action: Allow, protocol: TCP, source: {selector: role == "client"}, destination: {ports: [web]}}]'
enforce <<<"$HEP_ETH0${REMOTE//ROLE/client}"
agree "source selector" allow "gnp from-clients" 0 "$IN --proto tcp --dport 8080" probe_tcp peer 10.77.0.1 8080
agree "source selector over IPv6" allow "gnp from-clients" 0 "$IN6 --proto tcp --dport 8080" probe_tcp peer fd77::1 8080
agree "notSelector excludes it" deny "default deny" -1 "$IN --proto tcp --dport 8081" probe_tcp peer 10.77.0.1 8081
agree "selected source to the named port" allow "gnp from-clients" 2 "$IN --proto tcp --dport 1234" \
        probe_tcp peer 10.77.0.1 1234
enforce <<<"$HEP_ETH0${REMOTE//ROLE/other}"
agree "relabelled: no longer selected" deny "default deny" -1 "$IN --proto tcp --dport 8080" probe_tcp peer 10.77.0.1 8080
agree "relabelled: outside the notSelector" allow "gnp from-clients" 1 "$IN --proto tcp --dport 8081" \
        probe_tcp peer 10.77.0.1 8081

echo "# applyOnForward"
enforce <<<"$HEP_ETH0"
agree "forwarded, no forward policy" allow "default allow" -1 "$FWD --proto tcp --dport 9000" probe_tcp peer 10.79.0.2 9000
enforce <<EOF
$HEP_ETH0
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: fwd}
spec: {applyOnForward: true, ingress: [{action: Deny, protocol: TCP, destination: {ports: [9000]}}, {action: Allow}]}
EOF
agree "forward policy denies 9000" deny "gnp fwd" 0 "$FWD --proto tcp --dport 9000" probe_tcp peer 10.79.0.2 9000
agree "and over IPv6" deny "gnp fwd" 0 \
        "--interface eth0 --direction forward --out-interface eth1 --src fd77::2 --dst fd79::2 --proto tcp --dport 9000" \
        probe_tcp peer fd79::2 9000
agree "forward policy allows 9002" allow "gnp fwd" 1 "$FWD --proto tcp --dport 9002" probe_tcp peer 10.79.0.2 9002
agree "the same policy allows traffic to the host" allow "gnp fwd" 1 "$IN --proto tcp --dport 8080" \
        probe_tcp peer 10.77.0.1 8080

echo "# pre-DNAT and doNotTrack (untracked)"
enforce <<EOF
$HEP_ETH0
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: untracked}
spec:
  doNotTrack: true
  applyOnForward: true
  ingress: [{action: Allow, protocol: TCP, destination: {ports: [8080]}}, {action: Deny, protocol: TCP, destination: {ports: [22]}}]
  egress: [{action: Allow, protocol: TCP, source: {ports: [8080]}}]
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: pre}
spec: {preDNAT: true, applyOnForward: true, ingress: [{action: Deny, protocol: TCP, destination: {ports: [8081]}}]}
EOF
agree "untracked allow" allow "gnp untracked" 0 "$IN --proto tcp --dport 8080" probe_tcp peer 10.77.0.1 8080
agree "pre-DNAT deny" deny "gnp pre" 0 "$IN --proto tcp --dport 8081" probe_tcp peer 10.77.0.1 8081
agree "failsafe beats the untracked deny" allow failsafe -1 "$IN --proto tcp --dport 22" probe_tcp peer 10.77.0.1 22
agree "otherwise the normal default deny" deny "default deny" -1 "$IN --proto udp --dport 5000" \
        probe_udp peer 10.77.0.1 5000

echo "# the readable form, and errors"
run "$HEPCTL" explain --bus "$BUS" $IN --proto tcp --dport 8080
expect_out_contains "Ruleset: committed by hostendpointd" "the table output says whose ruleset it is"
expect_out_contains "raw-prerouting: iifname vmap @disp-raw-in" "and the path, chain by chain"
expect_out_contains "Verdict: allow by gnp untracked, rule 0" "and the verdict"
run "$HEPCTL" explain --bus "$BUS" $IN --proto tcp --dst fd77::1
expect_rc 1 "addresses of two families are refused"
expect_err_contains "not of one address family" "saying why"
run manager_call Explain 'a{sv}' 5 Interface s eth0 Direction s sideways Source s 10.77.0.2 \
        Destination s 10.77.0.1 Protocol s tcp
expect_rc 1 "Explain with a bad Direction fails"
expect_err_contains "Direction" "naming the key"
