#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Enforcement with real packets: hostendpointd --oneshot commits the
# ruleset in the "host" namespace; TCP, UDP and ICMP over IPv4 and IPv6 from
# the peers show what passes and what is dropped, one Calico behaviour per
# scenario.
#
#   +------------------+  eth0  +----------------------------+  eth1  +------------------+
#   | hep-<pid>-peer   |--------| hep-<pid>-host             |--------| hep-<pid>-far    |
#   | 10.77.0.2        |  veth  | 10.77.0.1     10.79.0.1    |  veth  | 10.79.0.2        |
#   | fd77::2          |        | fd77::1       fd79::1      |        | fd79::2          |
#   | tcp 9000 9002    |        | tcp 22 1234 8080 8081      |        | tcp 9000 9002    |
#   | tcp 2379         |        |                            |        |                  |
#   | udp 9001         |        | udp 5000; forwards         |        |                  |
#   +------------------+        +----------------------------+        +------------------+
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-netns.sh"
netns_require

HOSTENDPOINTD="$BUILDDIR/module/hostendpointd"
DS="$T/ds"

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
serve_tcp peer 2379
serve_udp peer 9001

# enforce YAML: replaces the datastore with these resources and commits.
enforce() {
        rm -rf "$DS"
        mkdir -p "$DS"
        cat > "$DS/resources.yaml"
        run netns_exec host "$HOSTENDPOINTD" --oneshot --datastore "dir:$DS" --nodename node1
        CHECKS=$((CHECKS + 1))
        if [ "$RC" -eq 0 ]; then pass "oneshot commit"; else fail "oneshot commit failed: $ERR"; fi
}

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
enforce </dev/null
expect_pass "tcp 8080 without any HEP" probe_tcp peer 10.77.0.1 8080
expect_pass "udp 5000 without any HEP" probe_udp peer 10.77.0.1 5000

echo "# a HEP with no policy and no profile: deny, except failsafe and established"
enforce <<<"$HEP_ETH0"
expect_blocked "tcp 8080 denied by default" probe_tcp peer 10.77.0.1 8080
expect_blocked "tcp 8080 over IPv6 denied" probe_tcp peer fd77::1 8080
expect_blocked "udp 5000 denied" probe_udp peer 10.77.0.1 5000
expect_blocked "ping denied" probe_ping peer 10.77.0.1
expect_pass "failsafe tcp 22 inbound" probe_tcp peer 10.77.0.1 22
expect_pass "failsafe tcp 22 over IPv6" probe_tcp peer fd77::1 22
expect_blocked "host cannot reach out either (egress denied)" probe_tcp host 10.77.0.2 9000
expect_pass "other interfaces are untouched" probe_tcp far 10.79.0.1 8080
expect_golden enforce-default-deny host

echo "# profiles: after policies, in order; egress allowed lets replies in (established)"
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
expect_pass "profile allows tcp 8080" probe_tcp peer 10.77.0.1 8080
expect_pass "profile allows tcp 8080 over IPv6" probe_tcp peer fd77::1 8080
expect_blocked "tcp 8081 not allowed" probe_tcp peer 10.77.0.1 8081
expect_pass "egress allowed, and the reply comes back as established" probe_tcp host 10.77.0.2 9000

echo "# a profile that does not exist is deny-all"
enforce <<EOF
$HEP_ETH0
  profiles: [no-such-profile]
EOF
expect_blocked "missing profile denies" probe_tcp peer 10.77.0.1 8080
expect_true 'echo "$ERR" | grep -q "profile .no-such-profile. does not exist"' "the missing profile is reported"

echo "# GlobalNetworkPolicy by selector, ingress and egress"
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
expect_pass "GNP allows tcp 8080" probe_tcp peer 10.77.0.1 8080
expect_pass "GNP allows udp 5000" probe_udp peer 10.77.0.1 5000
expect_pass "GNP allows udp 5000 over IPv6" probe_udp peer fd77::1 5000
expect_blocked "end of tier drops tcp 8081" probe_tcp peer 10.77.0.1 8081
expect_pass "egress allowed to 9000" probe_tcp host 10.77.0.2 9000
expect_blocked "egress denied to 9002" probe_tcp host 10.77.0.2 9002

echo "# nftablesFilterDenyAction: Reject refuses what policy denies, at once, instead of dropping it"
# expect_refused DESC CMD...: blocked with the refusal a plain nft reject
# sends (ICMP port unreachable: "Connection refused"), not by a timeout.
expect_refused() {
        expect_blocked "$@"
        expect_true '[[ $PROBE_ERR == *"Connection refused"* ]] && [ "$PROBE_MS" -lt 400 ]' \
                "$1: refused at once (${PROBE_MS} ms: ${PROBE_ERR:-no error})"
}
# expect_dropped DESC CMD...: blocked without a word, after the probe's timeout.
expect_dropped() {
        expect_blocked "$@"
        expect_true '[[ $PROBE_ERR != *"Connection refused"* ]]' "$1: dropped, not refused"
}
DENY_GNP='
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: in-only}
spec:
  selector: role == "server"
  types: [Ingress]
  ingress:
  - {action: Allow, protocol: TCP, destination: {ports: [8080]}}
  - {action: Deny, protocol: TCP, destination: {ports: [8081]}}'
# felixcfg NAME SPEC: a FelixConfiguration document.
felixcfg() { printf -- '---\napiVersion: projectcalico.org/v3\nkind: FelixConfiguration\nmetadata: {name: %s}\nspec: {%s}\n' "$1" "$2"; }
enforce <<EOF
$HEP_ETH0
---$DENY_GNP
$(felixcfg default 'nftablesFilterDenyAction: Reject')
EOF
# Felix: NewRenderer (rules/rule_defs.go) takes FilterDenyAction() =
# nftablesFilterDenyAction in nftables mode (config/config_params.go); the
# rule's Deny (policy.go, CombineMatchAndActionsForProtoRule), the end of
# the tier and "no profile matched" (endpoints.go, endpointIptablesChain)
# all use it.
expect_pass "the allowed port still passes" probe_tcp peer 10.77.0.1 8080
expect_refused "a Deny rule rejects tcp 8081" probe_tcp peer 10.77.0.1 8081
expect_refused "the end of the tier rejects tcp 1234" probe_tcp peer 10.77.0.1 1234
expect_refused "and udp 5000" probe_udp peer 10.77.0.1 5000
# Over IPv6 the reject's ICMPv6 port unreachable does reach the peer, but
# its TCP does not report it (seen with a bare nft table and no
# hostendpoint on this kernel): blocked, without the quick refusal.
expect_blocked "over IPv6 too" probe_tcp peer fd77::1 1234
expect_refused "no egress policy, no profile: the host's own connection is rejected" probe_tcp host 10.77.0.2 9000
expect_pass "failsafe tcp 22 inbound" probe_tcp peer 10.77.0.1 22
expect_pass "other interfaces are untouched" probe_tcp far 10.79.0.1 8080
# Pre-DNAT and untracked policy reject too: Felix renders every Deny rule
# with FilterDenyAction (rules/policy.go), whichever table it lands in.
enforce <<EOF
$HEP_ETH0
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: all-in}
spec: {selector: role == "server", ingress: [{action: Allow}], egress: [{action: Allow}]}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: pre}
spec: {preDNAT: true, applyOnForward: true, ingress: [{action: Deny, protocol: TCP, destination: {ports: [8081]}}]}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: untracked}
spec: {doNotTrack: true, applyOnForward: true, ingress: [{action: Deny, protocol: TCP, destination: {ports: [1234]}}]}
$(felixcfg default 'nftablesFilterDenyAction: Reject')
EOF
expect_pass "normal policy allows tcp 8080" probe_tcp peer 10.77.0.1 8080
expect_refused "a pre-DNAT Deny rejects tcp 8081" probe_tcp peer 10.77.0.1 8081
expect_blocked "and over IPv6" probe_tcp peer fd77::1 8081
# Untracked: the reject's ICMP error is about a packet conntrack never saw,
# so it is ct state invalid on its way out and the endpoint's egress chain
# denies it, as Felix's would: the peer sees a timeout, not a refusal.
expect_blocked "an untracked Deny rejects tcp 1234" probe_tcp peer 10.77.0.1 1234
run netns_exec host nft list chain inet hostendpoint ep-raw-in.host-eth0
expect_true '[[ $OUT == *"counter name \"ep-dropped.host-eth0\" reject"* ]]' "the untracked chain denies with reject"
# FelixConfiguration node.<name> overrides default field by field.
enforce <<EOF
$HEP_ETH0
---$DENY_GNP
$(felixcfg default 'nftablesFilterDenyAction: Reject')
$(felixcfg node.node1 'nftablesFilterDenyAction: Drop')
EOF
expect_dropped "node.node1 says Drop: tcp 8081 is dropped" probe_tcp peer 10.77.0.1 8081
expect_dropped "and so is the host's own connection" probe_tcp host 10.77.0.2 9000
# In nftables mode Felix never reads iptablesFilterDenyAction
# (config_params.go, FilterDenyAction).
enforce <<EOF
$HEP_ETH0
---$DENY_GNP
$(felixcfg default 'iptablesFilterDenyAction: Reject')
EOF
expect_dropped "iptablesFilterDenyAction alone does not reject" probe_tcp peer 10.77.0.1 1234

echo "# nftablesFilterAllowAction and nftablesMangleAllowAction: Return admit exactly what Accept does"
# Felix: FilterAllowAction() and MangleAllowAction() are the nftables*
# fields in nftables mode (config/config_params.go); appendConntrackRules
# (rules/endpoints.go) and the static chains' "accept if the accept mark is
# set" (rules/static.go) use them. Our base chains' policy is accept, so a
# return ends in accept all the same, and the pre-DNAT accept mark still
# carries to the input hook.
enforce <<EOF
$HEP_ETH0
---$DENY_GNP
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: pre-udp}
spec: {preDNAT: true, applyOnForward: true, ingress: [{action: Allow, protocol: UDP, destination: {ports: [5000]}}]}
$(felixcfg default 'nftablesFilterAllowAction: Return, nftablesMangleAllowAction: Return')
EOF
run netns_exec host nft list table inet hostendpoint
expect_true '[[ $OUT == *"ct state established,related counter name \"ep-accepted.host-eth0\" return"* ]]' \
        "the endpoint chains return on conntrack's allow"
expect_pass "the allowed port passes, its replies too" probe_tcp peer 10.77.0.1 8080
expect_pass "and over IPv6" probe_tcp peer fd77::1 8080
expect_blocked "a Deny rule still denies tcp 8081" probe_tcp peer 10.77.0.1 8081
expect_blocked "the end of the tier still denies tcp 1234" probe_tcp peer 10.77.0.1 1234
expect_pass "pre-DNAT's Allow of udp 5000 still skips normal policy" probe_udp peer 10.77.0.1 5000
expect_pass "failsafe tcp 22 inbound" probe_tcp peer 10.77.0.1 22

echo "# disableConntrackInvalidCheck: conntrack-invalid packets go on to policy instead of being denied"
# stray_icmp FROM_NS SRC DST: an ICMP port unreachable from SRC to DST about
# a UDP datagram DST never sent: conntrack finds no connection for it, so it
# is ct state invalid. The host's IcmpInDestUnreachs counts it if it got in.
stray_icmp() {
        netns_exec "$1" python3 -c '
import socket, struct, sys
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff)
    return ~(s + (s >> 16)) & 0xffff
src, dst = socket.inet_aton(sys.argv[1]), socket.inet_aton(sys.argv[2])
ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28, 1, 0, 64, 17, 0, dst, src)
ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
icmp = struct.pack("!BBHI", 3, 3, 0, 0) + ip + struct.pack("!HHHH", 40000, 40001, 8, 0)
icmp = icmp[:2] + struct.pack("!H", csum(icmp)) + icmp[4:]
socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP).sendto(icmp, (sys.argv[2], 0))
' "$2" "$3"
}
# host_unreachs: the host's IcmpInDestUnreachs.
host_unreachs() { netns_exec host awk '/^Icmp:/ { if (!n) { for (i = 1; i <= NF; i++) if ($i == "InDestUnreachs") n = i } else print $n }' /proc/net/snmp; }
# stray_counted: sends one and says whether the host's ICMP layer saw it.
stray_counted() {
        local before after
        before=$(host_unreachs)
        stray_icmp peer 10.77.0.2 10.77.0.1
        wait_for '[ "$(host_unreachs)" != "$before" ]' 1
        after=$(host_unreachs)
        [ "$after" != "$before" ]
}
ALLOW_ALL="$HEP_ETH0
  profiles: [projectcalico-default-allow]"
enforce <<<"$ALLOW_ALL"
# Felix: appendConntrackRules (rules/endpoints.go) denies ct state INVALID
# unless DisableConntrackInvalid, before any policy or profile.
expect_true '! stray_counted' "a HEP that allows everything still drops a conntrack-invalid ICMP error"
enforce <<EOF
$ALLOW_ALL
$(felixcfg default 'disableConntrackInvalidCheck: true')
EOF
expect_true 'stray_counted' "with disableConntrackInvalidCheck, the profile lets it in"
enforce <<EOF
$HEP_ETH0
$(felixcfg default 'disableConntrackInvalidCheck: true')
EOF
expect_true '! stray_counted' "and with no policy, the default deny still drops it"

echo "# logPrefix (with %k %t %n %p), logActionRateLimit and logActionRateLimitBurst for action: Log"
# The kernel logs for other namespaces than the first only with
# nf_log_all_netns; it is put back as it was on exit.
if old=$(cat /proc/sys/net/netfilter/nf_log_all_netns 2>/dev/null) && dmesg >/dev/null 2>&1; then
        CLEANUP_HOOKS+=("echo $old > /proc/sys/net/netfilter/nf_log_all_netns")
        echo 1 > /proc/sys/net/netfilter/nf_log_all_netns
        # logged PREFIX: how many kernel log lines start with "PREFIX: ".
        logged() { dmesg | grep -c -- "$1: IN=eth0 "; }
        LOGGER='
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: logger}
spec:
  selector: role == "server"
  types: [Ingress]
  ingress:
  - {action: Log, protocol: TCP, destination: {ports: [8080]}}
  - {action: Allow, protocol: TCP, destination: {ports: [8080]}}'
        enforce <<EOF
$HEP_ETH0$LOGGER
$(felixcfg default "logPrefix: hep$$-a %k/%t/%n/%p")
EOF
        for i in 1 2 3; do expect_pass "a Log rule does not decide: tcp 8080 passes ($i)" probe_tcp peer 10.77.0.1 8080; done
        # Felix: generateLogPrefix (rules/policy.go); nftables LogAction adds ": ".
        expect_true 'wait_for "[ \$(logged hep$$-a\ gnp/default/logger/logger) -eq 3 ]" 2' \
                "each connection is logged with logPrefix, %k %t %n %p expanded"
        enforce <<EOF
$HEP_ETH0$LOGGER
$(felixcfg default "logPrefix: hep$$-b, logActionRateLimit: 1/minute, logActionRateLimitBurst: 1")
EOF
        for i in 1 2 3; do expect_pass "tcp 8080 passes ($i)" probe_tcp peer 10.77.0.1 8080; done
        # Felix: CombineMatchAndActionsForProtoRule puts Limit(rate, burst) on the log rule.
        expect_true 'wait_for "[ \$(logged hep$$-b) -eq 1 ]" 2 && [ "$(logged hep$$-b)" -eq 1 ]' \
                "logActionRateLimit 1/minute, burst 1: one line of three"
else
        echo "# (skipped: no nf_log_all_netns or no dmesg)"
fi

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
expect_pass "Pass skips the deny later in its tier; the default tier allows" probe_tcp peer 10.77.0.1 8080
expect_pass "an Allow in the first tier is final" probe_tcp peer 10.77.0.1 1234
expect_blocked "lower order first: deny 8081 before allow" probe_tcp peer 10.77.0.1 8081
expect_blocked "a tier that applied but did not decide drops (udp 5000)" probe_udp peer 10.77.0.1 5000
run "$BUILDDIR/cli/hepctl" --datastore "dir:$DS" ruleset --node node1 --no-interfaces
expect_out_contains 'log prefix "calico-packet: " level info' "Log is rendered, and evaluation continues (8080 passed after it)"

echo "# equal order: Felix breaks the tie on name/namespace/kind, not on the bare name"
enforce <<EOF
$HEP_ETH0
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: web}
spec: {order: 10, ingress: [{action: Allow, protocol: TCP, destination: {ports: [8080, 8081, 1234]}}]}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: web-deny}
spec: {order: 10, ingress: [{action: Deny, protocol: TCP, destination: {ports: [8080]}}]}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: web.deny}
spec: {order: 10, ingress: [{action: Deny, protocol: TCP, destination: {ports: [8081]}}]}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: web0}
spec: {order: 10, ingress: [{action: Deny, protocol: TCP, destination: {ports: [1234]}}]}
EOF
# policy_sorter.go PolKVLess: "web-deny//GlobalNetworkPolicy" < "web//..." ('-' < '/')
expect_blocked "web-deny runs before web (equal order)" probe_tcp peer 10.77.0.1 8080
# PolKVLess: "web.deny//..." < "web//..." ('.' < '/')
expect_blocked "web.deny runs before web" probe_tcp peer 10.77.0.1 8081
# PolKVLess: "web//..." < "web0//..." ('/' < '0')
expect_pass "web runs before web0" probe_tcp peer 10.77.0.1 1234

echo "# Pass, then profiles: a Pass skips the rest of its tier, never a profile"
enforce <<EOF
$HEP_ETH0
  profiles: [allow-web]
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: pass-web}
spec: {ingress: [{action: Pass, protocol: TCP, destination: {ports: [8080, 8081]}}]}
---
apiVersion: projectcalico.org/v3
kind: Profile
metadata: {name: allow-web}
spec:
  ingress: [{action: Allow, protocol: TCP, destination: {ports: [8080]}}]
EOF
# endpoints.go endpointIptablesChain: after the tiers, each profile is jumped
# to unconditionally; only the accept bit returns.
expect_pass "passed by the last tier, allowed by the profile" probe_tcp peer 10.77.0.1 8080
expect_blocked "passed, and no profile allows it: the final drop" probe_tcp peer 10.77.0.1 8081
expect_blocked "not passed: the end of the tier drops" probe_tcp peer 10.77.0.1 1234
enforce <<EOF
$HEP_ETH0
  profiles: [pass-web, allow-web]
---
apiVersion: projectcalico.org/v3
kind: Profile
metadata: {name: pass-web}
spec:
  ingress: [{action: Pass, protocol: TCP, destination: {ports: [8080, 1234]}}]
---
apiVersion: projectcalico.org/v3
kind: Profile
metadata: {name: allow-web}
spec:
  ingress: [{action: Allow, protocol: TCP, destination: {ports: [8080]}}]
EOF
# endpointIptablesChain: the next profile's jump does not look at the pass bit.
expect_pass "a Pass in the first profile leaves it to the second" probe_tcp peer 10.77.0.1 8080
expect_blocked "passed by a profile and allowed by none: dropped" probe_tcp peer 10.77.0.1 1234

echo "# http matches: the rule's layer-3/4 part is enforced, its HTTP part is not"
enforce <<EOF
$HEP_ETH0
  profiles: [http-profile]
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: http-web}
spec:
  ingress:
  - {action: Allow, protocol: TCP, destination: {ports: [8080]}, http: {methods: [GET], paths: [{prefix: /api}]}}
  - {action: Pass, protocol: TCP, destination: {ports: [1234]}}
---
apiVersion: projectcalico.org/v3
kind: Profile
metadata: {name: http-profile}
spec:
  ingress: [{action: Allow, protocol: TCP, destination: {ports: [1234]}, http: {methods: [GET]}}]
EOF
# rules/policy.go ProtoRuleToIptablesRules and CalculateRuleMatch never read
# the rule's HttpMatch: the rest of the rule is rendered as it is.
expect_pass "an Allow with an http match allows its port (tcp 8080)" probe_tcp peer 10.77.0.1 8080
expect_pass "and in a profile (tcp 1234, passed by the policy)" probe_tcp peer 10.77.0.1 1234
expect_blocked "what the rule's L4 part does not match is still dropped (8081)" probe_tcp peer 10.77.0.1 8081
expect_err_contains "GlobalNetworkPolicy(http-web): spec.ingress[0] has an http match, which is not enforced on host endpoints" \
        "the http match is reported in the log"
expect_err_contains "HostEndpoint 'host-eth0' enforced: enforced on eth0; http matches are not enforced on host endpoints, only the rest of their rules: GlobalNetworkPolicy(http-web), Profile(http-profile)" \
        "and in the endpoint's state reason"

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
expect_pass "named port 'web' is tcp 1234 on the HEP's IPs" probe_tcp peer 10.77.0.1 1234
expect_pass "named port over IPv6" probe_tcp peer fd77::1 1234
expect_pass "nets: source 10.77.0.2/32 allowed" probe_tcp peer 10.77.0.1 8080
expect_blocked "nets are IPv4 only, so the IPv6 peer is not allowed" probe_tcp peer fd77::1 8080
expect_blocked "notNets excludes the peer" probe_tcp peer 10.77.0.1 8081

echo "# selectors resolve to the expectedIPs of HEPs of all nodes"
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
expect_pass "source selector matches another node's HEP" probe_tcp peer 10.77.0.1 8080
expect_pass "and its IPv6 address" probe_tcp peer fd77::1 8080
expect_blocked "notSelector excludes it" probe_tcp peer 10.77.0.1 8081
expect_pass "selected source to the named port 'web' (tcp 1234)" probe_tcp peer 10.77.0.1 1234
expect_golden enforce-selector-named-port host
enforce <<<"$HEP_ETH0${REMOTE//ROLE/other}"
expect_blocked "relabelled: no longer selected" probe_tcp peer 10.77.0.1 8080
expect_pass "now outside the notSelector" probe_tcp peer 10.77.0.1 8081
expect_blocked "relabelled: named port no longer allowed" probe_tcp peer 10.77.0.1 1234

echo "# a GlobalNetworkSet's nets feed selectors like a HEP's expectedIPs"
# felix/labelindex/named_port_index.go, OnUpdate (model.NetworkSetKey) and
# extractCIDRsFromNetworkSet: a network set is a member of every selector's
# IP set that its labels match, with its nets as its addresses. The nets
# nest (an interval set refuses overlapping elements, so they are merged).
HEP_ETH1='
---
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: host-eth1, labels: {role: server}}
spec: {node: node1, interfaceName: eth1}'
FROM_TRUSTED='
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: from-trusted}
spec:
  selector: role == "server"
  ingress: [{action: Allow, protocol: TCP, source: {selector: role == "trusted"}, destination: {ports: [8080]}}]
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkSet
metadata: {name: clients, labels: {role: ROLE}}
spec: {nets: [10.77.0.0/24, 10.77.0.2, 10.77.0.0/30, "fd77::/64", "fd77::2/128"]}'
enforce <<<"$HEP_ETH0$HEP_ETH1${FROM_TRUSTED//ROLE/trusted}"
expect_pass "source in the trusted network set: allowed" probe_tcp peer 10.77.0.1 8080
expect_pass "and over IPv6" probe_tcp peer fd77::1 8080
expect_blocked "a source outside it: dropped" probe_tcp far 10.79.0.1 8080
expect_blocked "and over IPv6" probe_tcp far fd79::1 8080
# A HEP the selector picks adds its expectedIPs to the same sets.
enforce <<<"$HEP_ETH0$HEP_ETH1${FROM_TRUSTED//ROLE/trusted}
---
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: far-on-node2, labels: {role: trusted}}
spec: {node: node2, interfaceName: eth1, expectedIPs: [10.79.0.2]}"
expect_pass "the network set's net still allowed" probe_tcp peer 10.77.0.1 8080
expect_pass "and a trusted HEP's address beside it" probe_tcp far 10.79.0.1 8080
expect_blocked "that HEP has no IPv6 address" probe_tcp far fd79::1 8080
enforce <<<"$HEP_ETH0$HEP_ETH1${FROM_TRUSTED//ROLE/other}"
expect_blocked "the set relabelled: the client is dropped" probe_tcp peer 10.77.0.1 8080
expect_blocked "over IPv6 too" probe_tcp peer fd77::1 8080

echo "# namespace and service-account selectors: rewritten over pcns./pcsa. labels, which HEPs do not carry"
enforce <<EOF
$HEP_ETH0
---
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: peer-on-node2, labels: {role: client}}
spec: {node: node2, interfaceName: eth0, expectedIPs: [10.77.0.2, "fd77::2"]}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: rules}
spec:
  selector: role == 'server'
  ingress:
  - {action: Allow, protocol: TCP, source: {namespaceSelector: global(), notSelector: role == 'client'}, destination: {ports: [8080]}}
  - {action: Allow, protocol: TCP, source: {namespaceSelector: "!has(team)"}, destination: {ports: [8081]}}
  - {action: Allow, protocol: TCP, source: {serviceAccounts: {selector: "!has(app)"}}, destination: {ports: [1234]}}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: ns-policy}
spec: {selector: role == 'server', namespaceSelector: "!has(team)", egress: [{action: Allow, protocol: TCP, destination: {ports: [9000]}}]}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: sa-policy}
spec: {serviceAccountSelector: "!has(app)", egress: [{action: Allow, protocol: TCP, destination: {ports: [9002]}}]}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: ns-all}
spec: {selector: all(), namespaceSelector: "!has(team)", ingress: [{action: Allow, protocol: UDP, destination: {ports: [5000]}}]}
EOF
# rules.go getEndpointSelector: global() becomes !has(projectcalico.org/namespace);
# rule_scanner.go combineMatchesIfPossible ANDs the notSelector into it.
expect_blocked "global() with a notSelector: the notSelector still excludes the peer" probe_tcp peer 10.77.0.1 8080
# getEndpointSelector: the namespaceSelector's labels get the prefix "pcns.";
# no HEP has pcns.team, so !has(pcns.team) selects every HEP.
expect_pass "a negated namespaceSelector selects the peer's HEP" probe_tcp peer 10.77.0.1 8081
expect_pass "and its IPv6 address" probe_tcp peer fd77::1 8081
# rules.go parseServiceAccounts: "pcsa." before each label: !has(pcsa.app).
expect_pass "a negated serviceAccounts selector selects the peer's HEP" probe_tcp peer 10.77.0.1 1234
# globalnetworkpolicyprocessor.go: selector && !has(pcns.team), which this HEP satisfies.
expect_pass "a GlobalNetworkPolicy whose namespaceSelector the HEP satisfies applies" probe_tcp host 10.77.0.2 9000
# globalnetworkpolicyprocessor.go: serviceAccountSelector becomes !has(pcsa.app).
expect_pass "and one whose serviceAccountSelector it satisfies" probe_tcp host 10.77.0.2 9002
# globalnetworkpolicyprocessor.go replaces every all() of the combined selector:
# (has(projectcalico.org/namespace)) && !has(pcns.team) never selects a HEP.
expect_blocked "selector all() with a namespaceSelector selects no HEP" probe_udp peer 10.77.0.1 5000

echo "# pre-DNAT policy sees the original port; normal policy the translated one"
netns_exec host nft -f - <<'NFT'
table ip hep-test-nat {
        chain pre { type nat hook prerouting priority dstnat; policy accept;
                tcp dport 9090 dnat to 10.77.0.1:8080
                tcp dport 9091 dnat to 10.77.0.1:8080
        }
}
NFT
enforce <<EOF
$HEP_ETH0
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: pre}
spec: {preDNAT: true, applyOnForward: true, ingress: [{action: Deny, protocol: TCP, destination: {ports: [9090]}}]}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: normal}
spec: {ingress: [{action: Deny, protocol: TCP, destination: {ports: [9091]}}, {action: Allow, protocol: TCP, destination: {ports: [8080]}}]}
EOF
expect_blocked "pre-DNAT deny on the original port 9090" probe_tcp peer 10.77.0.1 9090
expect_pass "normal policy never sees port 9091 (it sees 8080 and allows)" probe_tcp peer 10.77.0.1 9091
expect_pass "direct 8080 allowed" probe_tcp peer 10.77.0.1 8080

echo "# host traffic DNAT'd on the way out: egress policy of the interface it leaves by"
# The nat table of the pre-DNAT scenario gets, for this scenario, an output
# chain (kube-proxy's or Docker's local DNAT) and a forwarded port.
run netns_exec host nft -f - <<'NFT'
table ip hep-test-nat {
        chain out { type nat hook output priority -100; policy accept;
                ip daddr 10.79.0.1 tcp dport { 9000, 9002, 2379 } dnat to 10.77.0.2
                ip daddr 10.77.0.2 tcp dport 9100 dnat to 10.77.0.1:8080
        }
        chain pre-fwd { type nat hook prerouting priority dstnat; policy accept;
                tcp dport 9092 dnat to 10.77.0.2:9000
        }
}
NFT
expect_rc 0 "local DNAT (nat output) set up"
enforce <<EOF
$HEP_ETH0
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: out-9002}
spec: {egress: [{action: Allow, protocol: TCP, destination: {ports: [9002]}}]}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: pass-far}
spec: {order: 1, applyOnForward: true, egress: [{action: Pass, source: {nets: [10.79.0.2/32]}}]}
EOF
# static.go StaticManglePostroutingChain: a DNAT'd packet from the host gets
# the egress policy of its post-DNAT interface (eth0), which denies 9000.
expect_blocked "host -> own IP, DNAT'd out eth0: eth0's egress policy denies" probe_tcp host 10.79.0.1 9000
# StaticManglePostroutingChain, through eth0's cali-th chain: its policy allows 9002.
expect_pass "host -> own IP, DNAT'd out eth0: eth0's egress policy allows 9002" probe_tcp host 10.79.0.1 9002
# endpoints.go HostEndpointToMangleEgressChains: the same chain as in filter,
# failsafe-out included (tcp 2379).
expect_pass "host -> own IP, DNAT'd out eth0 to a failsafe port" probe_tcp host 10.79.0.1 2379
# static.go filterOutputChain dispatches only packets without ct status
# DNAT; StaticManglePostroutingChain sees lo, which has no HEP.
expect_pass "host -> peer, DNAT'd to a local address: not eth0's egress" probe_tcp host 10.77.0.2 9100
expect_blocked "host -> peer without DNAT: eth0's egress policy denies" probe_tcp host 10.77.0.2 9000
# StaticManglePostroutingChain returns early on the accept mark, which filter
# FORWARD sets on what it lets through (StaticFilterForwardAppendRules), here
# what pass-far passed: eth0's normal egress chain would drop it.
expect_pass "forwarded far -> peer, DNAT'd before routing: not host egress" probe_tcp far 10.79.0.1 9092
run netns_exec host nft -f - <<'NFT'
flush chain ip hep-test-nat out
delete chain ip hep-test-nat out
flush chain ip hep-test-nat pre-fwd
delete chain ip hep-test-nat pre-fwd
NFT
expect_rc 0 "local DNAT removed"

echo "# applyOnForward: only such policy applies to forwarded traffic"
enforce <<EOF
$HEP_ETH0
EOF
expect_pass "forwarded traffic is not blocked by a HEP without forward policy" probe_tcp peer 10.79.0.2 9000
enforce <<EOF
$HEP_ETH0
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: fwd}
spec: {applyOnForward: true, ingress: [{action: Deny, protocol: TCP, destination: {ports: [9000]}}, {action: Allow}]}
EOF
expect_blocked "forward policy denies 9000 peer->far" probe_tcp peer 10.79.0.2 9000
expect_blocked "and over IPv6" probe_tcp peer fd79::2 9000
expect_pass "forward policy allows 9002" probe_tcp peer 10.79.0.2 9002
expect_pass "the same policy also allows traffic to the host itself" probe_tcp peer 10.77.0.1 8080

echo "# doNotTrack: untracked Allow skips conntrack and normal policy"
# The pre-DNAT policy of the scenario above rides along (its 9090 deny is
# checked there), so that the golden dump holds all three policy kinds.
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
spec: {preDNAT: true, applyOnForward: true, ingress: [{action: Deny, protocol: TCP, destination: {ports: [9090]}}]}
EOF
expect_pass "untracked allow passes although normal policy would deny" probe_tcp peer 10.77.0.1 8080
expect_blocked "normal default deny still applies to 8081" probe_tcp peer 10.77.0.1 8081
expect_pass "failsafe ports beat untracked deny" probe_tcp peer 10.77.0.1 22
expect_golden enforce-untracked-prednat-forward host

echo "# \"*\": the fallback for interfaces without a HEP of their own"
enforce <<EOF
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: all}
spec: {node: node1, interfaceName: "*"}
---
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: own-eth1}
spec: {node: node1, interfaceName: eth1, profiles: [projectcalico-default-allow]}
EOF
expect_blocked "eth0 gets the '*' policy (deny)" probe_tcp peer 10.77.0.1 8080
expect_pass "eth1 has its own HEP (allow-all profile)" probe_tcp far 10.79.0.1 8080

echo "# \"*\" pre-DNAT policy: every interface whose own HEP has none"
# 9090 is DNAT'd to 10.77.0.1:8080 (the nat table of the pre-DNAT scenario).
enforce <<EOF
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: all, labels: {wild: "yes"}}
spec: {node: node1, interfaceName: "*", profiles: [projectcalico-default-allow]}
---
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: own-eth0}
spec: {node: node1, interfaceName: eth0, profiles: [projectcalico-default-allow]}
---
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: own-eth1, labels: {prednat: own}}
spec: {node: node1, interfaceName: eth1, profiles: [projectcalico-default-allow]}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: wild-pre}
spec: {selector: wild == "yes", preDNAT: true, applyOnForward: true, ingress: [{action: Deny, protocol: TCP, destination: {ports: [9090]}}]}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: own-pre}
spec: {selector: prednat == "own", preDNAT: true, applyOnForward: true, ingress: [{action: Deny, protocol: TCP, destination: {ports: [9091]}}]}
EOF
# endpoint_mgr.go updateHostEndpoints lists in the mangle dispatch only HEPs
# with pre-DNAT policy; dispatch.go's default sends the rest to "*".
expect_blocked "eth0's own HEP has no pre-DNAT policy: the '*' one denies 9090" probe_tcp peer 10.77.0.1 9090
expect_pass "eth0's own HEP allows the rest" probe_tcp peer 10.77.0.1 8080
# updateHostEndpoints: eth1's HEP has pre-DNAT policy, so eth1 is dispatched
# to its own chain and never reaches the "*" one.
expect_pass "eth1's own pre-DNAT policy replaces the '*' one (9090 passes)" probe_tcp far 10.79.0.1 9090
expect_blocked "eth1's own pre-DNAT policy denies 9091" probe_tcp far 10.79.0.1 9091

echo "# name and IP matches are equal: the lowest HEP name wins"
TIE='
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: b-named}
spec: {node: node1, interfaceName: eth0, profiles: [projectcalico-default-allow]}
---
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: NAME}
spec: {node: node1, expectedIPs: [10.77.0.1]}'
enforce <<<"${TIE//NAME/a-by-ip}"
expect_blocked "a-by-ip (deny) wins eth0 over b-named" probe_tcp peer 10.77.0.1 8080
expect_true 'echo "$ERR" | grep -q "b-named. inactive: interface eth0 is held by .a-by-ip."' "the loser says why"
enforce <<<"${TIE//NAME/c-by-ip}"
expect_pass "b-named (allow) wins over c-by-ip" probe_tcp peer 10.77.0.1 8080

echo "# a HEP for an interface that does not exist yet blocks it from its first packet"
enforce <<EOF
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: later}
spec: {node: node1, interfaceName: eth2}
EOF
expect_true 'echo "$ERR" | grep -q "later. waiting: interface eth2 does not exist yet"' "waiting, enforced by name"
netns_add late
veth_add host eth2 late eth2
addr_add host eth2 10.80.0.1/24
addr_add late eth2 10.80.0.2/24
expect_blocked "first connection on the new interface is blocked" probe_tcp late 10.80.0.1 8080
expect_blocked "first ping on the new interface is blocked" probe_ping late 10.80.0.1
expect_pass "failsafe still works there" probe_tcp late 10.80.0.1 22

echo "# a failed commit leaves the previous rules in place"
enforce <<<"$HEP_ETH0"
sed -i 's/interfaceName: eth0/interfaceName: eth0\n  profiles: [projectcalico-default-allow]/' "$DS/resources.yaml"
# Without CAP_NET_ADMIN the kernel refuses the transaction.
run netns_exec host setpriv --bounding-set=-net_admin --inh-caps=-net_admin \
        "$HOSTENDPOINTD" --oneshot --datastore "dir:$DS" --nodename node1
expect_rc 1 "the commit is refused"
expect_err_contains "Cannot commit the ruleset, previous rules left in place" "one clear line"
expect_blocked "the previous (deny) rules are still enforced" probe_tcp peer 10.77.0.1 8080
run netns_exec host "$HOSTENDPOINTD" --oneshot --datastore "dir:$T/nonexistent" --nodename node1
expect_rc 1 "an unreadable datastore is an error"
expect_err_contains "datastore directory" "says which datastore"
expect_blocked "rules unchanged" probe_tcp peer 10.77.0.1 8080

echo "# without --nodename, the node is the host name, lower-cased (Felix's default)"
# hostname NAME CMD...: CMD in a UTS namespace of its own named NAME, so
# the machine's own host name is untouched.
hostname_ns() { netns_exec host unshare -u sh -c 'hostname "$0" && exec "$@"' "$@"; }
enforce </dev/null
cat > "$DS/resources.yaml" <<<"$HEP_ETH0"
run hostname_ns Node1 "$BUILDDIR/cli/hepctl" --datastore "dir:$DS" ruleset --no-interfaces
expect_out_contains "chain ep-in.host-eth0" "hepctl ruleset on host Node1 renders node1's HostEndpoint"
run hostname_ns Node2 "$BUILDDIR/cli/hepctl" --datastore "dir:$DS" ruleset --no-interfaces
expect_true '! echo "$OUT" | grep -q "chain ep-in.host-eth0"' "and on host Node2 it does not"
run hostname_ns Node1 "$HOSTENDPOINTD" --oneshot --config /dev/null --datastore "dir:$DS"
expect_rc 0 "hostendpointd --oneshot on host Node1"
expect_err_contains "HostEndpoint 'host-eth0' enforced" "enforces node1's HostEndpoint"
expect_blocked "so tcp 8080 is denied" probe_tcp peer 10.77.0.1 8080
run hostname_ns Node2 "$HOSTENDPOINTD" --oneshot --config /dev/null --datastore "dir:$DS"
expect_rc 0 "hostendpointd --oneshot on host Node2"
expect_pass "enforces nothing of node1's: tcp 8080 passes" probe_tcp peer 10.77.0.1 8080
