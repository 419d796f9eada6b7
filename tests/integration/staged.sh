#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# StagedGlobalNetworkPolicy on a running hostendpointd: staged policies
# (Set over an enforced policy, Delete of another, a new one) change
# nothing in the kernel, not a byte of the table, and real traffic goes on
# as before; the daemon computes their view beside what it commits;
# `hepctl ruleset --staged` prints that view, which is exactly the table
# the daemon commits once the admin promotes them. Then the promotion
# itself, seen in traffic.
#
#   +-------------------+  eth0  +------------------------------+
#   | hep-<pid>-peer    |--------| hep-<pid>-host: hostendpointd |
#   | 10.77.0.2         |  veth  | 10.77.0.1 tcp 8080 8081 8443 |
#   +-------------------+        +------------------------------+
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-netns.sh"
. "$(dirname "$0")/lib-daemon.sh"
netns_require

HEPCTL="$BUILDDIR/cli/hepctl"
hepctl() { ip netns exec "$(ns host)" "$HEPCTL" -d "dir:$DS" "$@"; }

topo_two_hosts
for p in 8080 8081 8443; do serve_tcp host "$p"; done

put_resource base.yaml <<'EOF'
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: host-eth0, labels: {role: web}}
spec: {node: node1, interfaceName: eth0}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: allow-web}
spec:
  order: 10
  selector: role == 'web'
  ingress: [{action: Allow, protocol: TCP, destination: {ports: [8080]}}]
  egress: [{action: Allow}]
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: allow-admin}
spec:
  order: 20
  selector: role == 'web'
  ingress: [{action: Allow, protocol: TCP, destination: {ports: [8081]}}]
EOF
start_daemon
expect_pass "tcp 8080 is allowed" probe_tcp peer "$HOST_IP4" 8080
expect_pass "tcp 8081 is allowed" probe_tcp peer "$HOST_IP4" 8081
expect_blocked "tcp 8443 is denied" probe_tcp peer "$HOST_IP4" 8443
before=$(nft_dump host)
run hepctl ruleset --node node1
expect_rc 0 "hepctl ruleset prints the table to commit"
enforced_text=$OUT
run hepctl ruleset --node node1 --staged
expect_out "$enforced_text" "without staged policies, the staged view is the table committed"
expect_true '! grep -q "Staged view" "$DAEMON_LOG"' "and the daemon computes no staged view"

echo "# staging: a Set that replaces allow-web, a Delete of allow-admin, a new policy"
cat >"$T/staged.yaml" <<'EOF'
apiVersion: projectcalico.org/v3
kind: StagedGlobalNetworkPolicy
metadata: {name: allow-web}
spec:
  order: 10
  selector: role == 'web'
  ingress: [{action: Allow, protocol: TCP, destination: {ports: [8443]}}]
  egress: [{action: Allow}]
---
apiVersion: projectcalico.org/v3
kind: StagedGlobalNetworkPolicy
metadata: {name: allow-admin}
spec: {stagedAction: Delete}
---
apiVersion: projectcalico.org/v3
kind: StagedGlobalNetworkPolicy
metadata: {name: deny-probe}
spec:
  order: 5
  selector: role == 'web'
  ingress: [{action: Deny, protocol: TCP, source: {nets: [10.77.0.0/24]}, destination: {ports: [9999]}}]
EOF
mark=$(log_lines)
run hepctl create -f "$T/staged.yaml"
expect_rc 0 "hepctl creates the staged policies"
expect_out "Successfully created 3 'StagedGlobalNetworkPolicy' resource(s)" "in calicoctl's words"
expect_true 'wait_log_since "$mark" "Staged view (not committed)"' "the daemon computes the staged view beside the ruleset it commits"
expect_true 'tail -n +$((mark + 1)) "$DAEMON_LOG" | grep -q "Datastore changed: the rules in force stay as they are"' \
        "and says the rules in force stay as they are"
expect_true '[ "$(nft_dump host)" = "$before" ]' "the committed table is byte for byte what it was (nft list table)"
expect_pass "tcp 8080 is still allowed: a staged Set is not enforced" probe_tcp peer "$HOST_IP4" 8080
expect_pass "tcp 8081 is still allowed: a staged Delete is not enforced" probe_tcp peer "$HOST_IP4" 8081
expect_blocked "tcp 8443 is still denied" probe_tcp peer "$HOST_IP4" 8443
run hepctl ruleset --node node1
expect_out "$enforced_text" "hepctl ruleset still prints the table in force"

run hepctl ruleset --node node1 --staged
expect_rc 0 "hepctl ruleset --staged works offline"
staged_text=$OUT
expect_true 'printf "%s\n" "$staged_text" | grep -q "chain pol-in.allow-web {"' "the staged view has allow-web"
expect_true 'printf "%s\n" "$staged_text" | sed -n "/chain pol-in.allow-web {/,/}/p" | grep -q "th dport 8443 "' \
        "with the staged spec (8443)"
expect_true '! printf "%s\n" "$staged_text" | grep -q "th dport 8080 "' "not the enforced one (8080)"
expect_true '! printf "%s\n" "$staged_text" | grep -q "pol-in.allow-admin"' "allow-admin is gone from it (Delete)"
expect_true 'printf "%s\n" "$staged_text" | grep -q "chain pol-in.deny-probe {"' "the new staged policy is in it"

run hepctl get sgnp -o wide
expect_out "NAME          TIER      ORDER   SELECTOR        
allow-admin   default   <nil>                   
allow-web     default   10      role == 'web'   
deny-probe    default   5       role == 'web'   " "hepctl get sgnp -o wide shows calicoctl's columns"

echo "# promoting: the staged policies become what is enforced"
mark=$(log_lines)
cat >"$T/promote.yaml" <<'EOF'
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: allow-web}
spec:
  order: 10
  selector: role == 'web'
  ingress: [{action: Allow, protocol: TCP, destination: {ports: [8443]}}]
  egress: [{action: Allow}]
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: deny-probe}
spec:
  order: 5
  selector: role == 'web'
  ingress: [{action: Deny, protocol: TCP, source: {nets: [10.77.0.0/24]}, destination: {ports: [9999]}}]
EOF
run hepctl apply -f "$T/promote.yaml"
expect_rc 0 "the staged Sets are applied as GlobalNetworkPolicies"
run hepctl delete globalnetworkpolicy allow-admin
expect_rc 0 "the staged Delete is carried out"
run hepctl delete sgnp allow-web allow-admin deny-probe
expect_rc 0 "the staged policies are removed"
expect_true 'wait_log_since "$mark" "Committed in"' "the daemon commits the promoted policies"
run hepctl ruleset --node node1
expect_out "$staged_text" "the table now enforced is exactly the staged view shown before"
expect_blocked "tcp 8080 is now denied" probe_tcp peer "$HOST_IP4" 8080
expect_blocked "tcp 8081 is now denied" probe_tcp peer "$HOST_IP4" 8081
expect_pass "tcp 8443 is now allowed" probe_tcp peer "$HOST_IP4" 8443
mark=$(log_lines)
put_resource nets.yaml <<'EOF'
apiVersion: projectcalico.org/v3
kind: GlobalNetworkSet
metadata: {name: unrelated}
spec: {nets: [192.0.2.0/24]}
EOF
expect_true 'wait_log_since "$mark" "Datastore changed"' "another change is recomputed"
expect_true '! tail -n +$((mark + 1)) "$DAEMON_LOG" | grep -q "Staged view"' \
        "with no staged policy left, no staged view is computed"
