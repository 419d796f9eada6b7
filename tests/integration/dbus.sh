#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The D-Bus service against real clients (busctl, gdbus, dbus-send,
# dbus-monitor, hepctl status) on a private system bus that uses the bus
# policy file we ship: the object tree, every property, GetManagedObjects,
# signals on hot-plug, unplug, resource changes and HEP conflicts,
# Apply/Delete round trips, calls by a non-root user, malformed arguments,
# WaitInterface, the bus daemon restarted under the service, and the
# daemon without a bus.
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
for tool in dbus-daemon busctl gdbus dbus-send dbus-monitor setpriv; do
        command -v "$tool" >/dev/null || { echo "skipping: $tool is not installed"; exit 77; }
done

topo_two_hosts
for p in 8080 8081; do serve_tcp host "$p"; done
bus_start

put_resource web.yaml <<'EOF'
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: web.host, labels: {role: web}}
spec:
  node: node1
  interfaceName: eth0
  expectedIPs: [10.77.0.1]
  profiles: [base]
  ports: [{name: http, protocol: TCP, port: 8080}]
EOF
put_resource policies.yaml <<'EOF'
apiVersion: projectcalico.org/v3
kind: Profile
metadata: {name: base}
spec: {labelsToApply: {zone: a}}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: allow-http}
spec:
  order: 10
  selector: role == 'web'
  ingress: [{action: Allow, protocol: TCP, destination: {ports: [http]}}]
  egress: [{action: Allow}]
---
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: db-remote}
spec: {node: node2, expectedIPs: [10.9.0.1]}
EOF

echo "# the tree, once the daemon is ready"
start_daemon --bus "$BUS"
expect_true 'grep -q "D-Bus: serving org.projectcalico.HostEndpoint1" "$DAEMON_LOG"' "the daemon owns its name"
WEB=$(endpoint_path web.host)
IDX=$(ip -n "$(ns host)" -o link show eth0 | cut -d: -f1)
ETH0="$BUS_ROOT/interface/$IDX"
run bctl tree "$BUS_NAME"
expect_out_contains "$BUS_ROOT/endpoint/web_2ehost" "busctl tree shows the endpoint, its name escaped"
expect_out_contains "$BUS_ROOT/endpoint/db_2dremote" "and another node's endpoint"
expect_out_contains "$ETH0" "and eth0 by its index"
expect_out_contains "$BUS_ROOT/interface/1" "and lo"
run bctl introspect "$BUS_NAME" "$BUS_ROOT"
expect_out_contains ".WaitInterface" "the Manager's methods are introspectable"
expect_out_contains "org.freedesktop.DBus.ObjectManager" "the root is an ObjectManager"

echo "# the introspection data is the shipped XML"
# Every property and method of the shipped file, with its signature, is
# what the running service introspects (and nothing else).
xml_members() { # FILE|-
        /usr/bin/python3 -c '
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1] if sys.argv[1] != "-" else sys.stdin).getroot()
out = set()
for i in root.iter("interface"):
    if not i.get("name").startswith("org.projectcalico."):
        continue
    for m in i:
        if m.tag == "property":
            out.add("%s.%s %s %s" % (i.get("name"), m.get("name"), m.get("type"), m.get("access")))
        elif m.tag in ("method", "signal"):
            sig = ",".join("%s:%s" % (a.get("direction", "out"), a.get("type")) for a in m.iter("arg"))
            out.add("%s.%s(%s)" % (i.get("name"), m.get("name"), sig))
print("\n".join(sorted(out)))' "$1"
}
introspected() {
        for path in "$BUS_ROOT" "$WEB" "$ETH0"; do
                gdbus call --address "$BUS" --dest "$BUS_NAME" --object-path "$path" \
                        --method org.freedesktop.DBus.Introspectable.Introspect |
                        /usr/bin/python3 -c 'import ast, sys; print(ast.literal_eval(sys.stdin.read().strip().rstrip(",)").lstrip("(")))' |
                        xml_members -
        done | sort
}
expect_true '[ "$(introspected)" = "$(xml_members "$SRCDIR/dbus/org.projectcalico.HostEndpoint1.xml")" ]' \
        "Introspect serves exactly the interfaces of dbus/org.projectcalico.HostEndpoint1.xml"
# And GetAll returns exactly the properties the XML declares.
getall_names() { bctl call "$BUS_NAME" "$1" org.freedesktop.DBus.Properties GetAll s "$BUS_NAME.$2" --json=short | json_get '" ".join(sorted(d["data"][0]))'; }
xml_props() { /usr/bin/python3 -c '
import sys, xml.etree.ElementTree as ET
for i in ET.parse(sys.argv[1]).getroot().iter("interface"):
    if i.get("name") == sys.argv[2]:
        print(" ".join(sorted(p.get("name") for p in i.iter("property"))))' "$SRCDIR/dbus/org.projectcalico.HostEndpoint1.xml" "$BUS_NAME.$1"; }
expect_true '[ "$(getall_names "$BUS_ROOT" Manager)" = "$(xml_props Manager)" ]' "GetAll on the Manager: the XML's properties"
expect_true '[ "$(getall_names "$WEB" Endpoint)" = "$(xml_props Endpoint)" ]' "GetAll on an Endpoint: the XML's properties"
expect_true '[ "$(getall_names "$ETH0" Interface)" = "$(xml_props Interface)" ]' "GetAll on an Interface: the XML's properties"

echo "# FelixConfiguration fields that mean nothing here: named in Manager.Warnings, and logged once"
put_resource felix.yaml <<'EOF'
apiVersion: projectcalico.org/v3
kind: FelixConfiguration
metadata: {name: default}
spec: {ipipEnabled: true, iptablesMangleAllowAction: Return, logPrefix: web}
EOF
expect_true 'wait_for "prop \"$BUS_ROOT\" Manager Warnings | grep -q ipipEnabled"' "Manager.Warnings names ipipEnabled"
WARNINGS=$(prop "$BUS_ROOT" Manager Warnings)
expect_true '[[ $WARNINGS == *"FelixConfiguration(default): iptablesMangleAllowAction is set"* ]]' "and iptablesMangleAllowAction (Felix reads it in iptables mode only)"
expect_true '[[ $WARNINGS != *logPrefix* ]]' "but not logPrefix, which is honoured"
N=$(commits)
put_resource felix.yaml <<'EOF'
apiVersion: projectcalico.org/v3
kind: FelixConfiguration
metadata: {name: default}
spec: {ipipEnabled: true, iptablesMangleAllowAction: Return, logPrefix: web2}
EOF
expect_true 'wait_for "[ \$(commits) -gt $N ]"' "a changed FelixConfiguration is committed"
expect_true '[ "$(grep -c "FelixConfiguration(default): ipipEnabled is set but means nothing" "$DAEMON_LOG")" = 1 ]' \
        "the daemon logs each field once, while it stays set"
rm "$DS/felix.yaml"
expect_true 'wait_for "[ \"\$(prop \"$BUS_ROOT\" Manager Warnings)\" = \"[]\" ]"' "without it, Warnings is empty again"

echo "# every property"
expect_true '[ "$(prop "$BUS_ROOT" Manager Version)" = "$("$HOSTENDPOINTD" --version | awk "{print \$2}")" ]' "Manager.Version"
expect_true '[ "$(prop "$BUS_ROOT" Manager Host)" = "$("$HOSTENDPOINTD" --version)" ]' "Manager.Host: the program it runs in"
expect_true '[ "$(prop "$BUS_ROOT" Manager NodeName)" = node1 ]' "Manager.NodeName"
expect_true '[ "$(prop "$BUS_ROOT" Manager Datastore)" = "dir:$DS" ]' "Manager.Datastore"
expect_true '[ "$(prop "$BUS_ROOT" Manager State)" = running ]' "Manager.State"
expect_true '[ "$(prop "$BUS_ROOT" Manager LastError)" = "" ]' "Manager.LastError"
expect_true '[ "$(prop "$BUS_ROOT" Manager Warnings)" = "[]" ]' "Manager.Warnings: nothing to say"
expect_true '[ "$(prop "$WEB" Endpoint Name)" = web.host ]' "Endpoint.Name"
expect_true '[ "$(prop "$WEB" Endpoint Node)" = node1 ]' "Endpoint.Node"
expect_true '[ "$(prop "$WEB" Endpoint Labels)" = "{\"role\": \"web\"}" ]' "Endpoint.Labels: its own"
expect_true '[ "$(prop "$WEB" Endpoint EffectiveLabels)" = "{\"role\": \"web\", \"zone\": \"a\"}" ]' "Endpoint.EffectiveLabels: with its profile's"
expect_true '[ "$(prop "$WEB" Endpoint InterfaceName)" = eth0 ]' "Endpoint.InterfaceName"
expect_true '[ "$(prop "$WEB" Endpoint ExpectedIPs)" = "[\"10.77.0.1\"]" ]' "Endpoint.ExpectedIPs"
expect_true '[ "$(prop "$WEB" Endpoint Profiles)" = "[\"base\"]" ]' "Endpoint.Profiles"
expect_true '[ "$(prop "$WEB" Endpoint Ports)" = "[[\"http\", \"TCP\", 8080]]" ]' "Endpoint.Ports"
expect_true '[ "$(prop "$WEB" Endpoint State)" = enforced ]' "Endpoint.State"
expect_true '[ "$(prop "$WEB" Endpoint StateReason)" = "enforced on eth0" ]' "Endpoint.StateReason"
expect_true '[ "$(prop "$WEB" Endpoint Interfaces)" = "[\"$ETH0\"]" ]' "Endpoint.Interfaces"
expect_true '[ "$(prop "$WEB" Endpoint Policies)" = "[\"allow-http\"]" ]' "Endpoint.Policies"
expect_true '[ "$(prop "$(endpoint_path db-remote)" Endpoint State)" = remote ]' "another node's endpoint is remote"
expect_true '[ "$(prop "$(endpoint_path db-remote)" Endpoint StateReason)" = "belongs to node '"'"'node2'"'"'" ]' "and says whose it is"
expect_true '[ "$(prop "$ETH0" Interface Name)" = eth0 ]' "Interface.Name"
expect_true '[ "$(prop "$ETH0" Interface Index)" = "$IDX" ]' "Interface.Index"
expect_true '[ "$(prop "$ETH0" Interface OperState)" = up ]' "Interface.OperState"
expect_true '[ "$(prop "$ETH0" Interface Addresses | json_get "\"10.77.0.1\" in d and \"fd77::1\" in d")" = true ]' "Interface.Addresses"
expect_true '[ "$(prop "$ETH0" Interface Endpoint)" = "$WEB" ]' "Interface.Endpoint"
expect_true '[ "$(prop "$ETH0" Interface Enforced)" = true ]' "Interface.Enforced"
expect_true '[ "$(prop "$BUS_ROOT/interface/1" Interface Endpoint)" = / ]' "lo has no endpoint: /"

echo "# counters come from the kernel when asked"
acc0=$(prop "$WEB" Endpoint PacketsAccepted)
drop0=$(prop "$WEB" Endpoint PacketsDropped)
expect_pass "tcp 8080 is allowed" probe_tcp peer 10.77.0.1 8080
expect_blocked "tcp 8081 is dropped" probe_tcp peer 10.77.0.1 8081
expect_true '[ "$(prop "$WEB" Endpoint PacketsAccepted)" -gt "$acc0" ]' "PacketsAccepted grew"
expect_true '[ "$(prop "$WEB" Endpoint PacketsDropped)" -gt "$drop0" ]' "PacketsDropped grew"
expect_true '[ "$(prop "$WEB" Endpoint BytesDropped)" -ge $((60 * ($(prop "$WEB" Endpoint PacketsDropped)))) ]' \
        "BytesDropped counts whole packets"

echo "# GetManagedObjects: every object with every property"
run bctl call "$BUS_NAME" "$BUS_ROOT" org.freedesktop.DBus.ObjectManager GetManagedObjects --json=short
expect_rc 0 "GetManagedObjects"
OBJECTS=$OUT
n_eps=$(json_get 'len([p for p in d["data"][0] if "/endpoint/" in p])' <<<"$OBJECTS")
n_ifs=$(json_get 'len([p for p in d["data"][0] if "/interface/" in p])' <<<"$OBJECTS")
expect_true '[ "$n_eps" = 2 ]' "one Endpoint object per HostEndpoint (2)"
expect_true '[ "$n_ifs" = "$(ip -n "$(ns host)" -o link | wc -l)" ]' "one Interface object per interface ($n_ifs)"
expect_true '[ "$(json_get "d[\"data\"][0][\"$WEB\"][\"$BUS_NAME.Endpoint\"][\"State\"][\"data\"]" <<<"$OBJECTS")" = enforced ]' \
        "with the same values as Get"

echo "# signals: hot-plug, unplug, resource change, conflict"
MON="$T/monitor.txt"
dbus-monitor --address "$BUS" "sender=$BUS_NAME" >"$MON" 2>&1 &
MONPID=$!
CLEANUP_HOOKS=("kill $MONPID 2>/dev/null" "${CLEANUP_HOOKS[@]}")
sleep 0.5
put_resource eth1.yaml <<'EOF'
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: eth1-hep}
spec: {node: node1, interfaceName: eth1}
EOF
EP1=$(endpoint_path eth1-hep)
expect_true 'wait_for "grep -a -A1 -q \"member=InterfacesAdded\" \"$MON\" && grep -aq \"object path \\\"$EP1\\\"\" \"$MON\""' \
        "a new resource file: InterfacesAdded for its endpoint"
netns_add h1
veth_add host eth1 h1 eth1
IDX1=$(ip -n "$(ns host)" -o link show eth1 | cut -d: -f1)
expect_true 'wait_for "grep -aq \"object path \\\"$BUS_ROOT/interface/$IDX1\\\"\" \"$MON\""' "hot-plug: InterfacesAdded for eth1"
expect_true 'wait_for "grep -a -B2 -A12 \"path=$EP1; interface=org.freedesktop.DBus.Properties; member=PropertiesChanged\" \"$MON\" | grep -q \"enforced on eth1\""' \
        "and PropertiesChanged: its endpoint is enforced on eth1"
expect_true '[ "$(prop "$EP1" Endpoint Interfaces)" = "[\"$BUS_ROOT/interface/$IDX1\"]" ]' "Interfaces lists eth1"
ip -n "$(ns host)" link del eth1
expect_true 'wait_for "grep -a -A2 \"member=InterfacesRemoved\" \"$MON\" | grep -q \"$BUS_ROOT/interface/$IDX1\""' "unplug: InterfacesRemoved for eth1"
expect_true 'wait_for "[ \"\$(prop \"$EP1\" Endpoint State)\" = waiting ]"' "its endpoint waits again"
: >"$MON"
put_resource conflict.yaml <<'EOF'
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: zz-also-eth0}
spec: {node: node1, interfaceName: eth0}
EOF
ZZ=$(endpoint_path zz-also-eth0)
expect_true 'wait_for "grep -aq \"object path \\\"$ZZ\\\"\" \"$MON\""' "conflict: the second HEP for eth0 appears"
expect_true '[ "$(prop "$ZZ" Endpoint State)" = inactive ]' "and is inactive"
expect_true '[ "$(prop "$ZZ" Endpoint StateReason)" = "interface eth0 is held by '"'"'web.host'"'"'" ]' "because web.host holds eth0"
: >"$MON"
rm "$DS/web.yaml"
expect_true 'wait_for "grep -a -B2 -A12 \"path=$ZZ; interface=org.freedesktop.DBus.Properties; member=PropertiesChanged\" \"$MON\" | grep -q \"enforced on eth0\""' \
        "the holder's file removed: PropertiesChanged, the other HEP takes eth0"
expect_true 'grep -a -A2 "member=InterfacesRemoved" "$MON" | grep -q "$WEB"' "and InterfacesRemoved for the removed HEP"
expect_true '[ "$(prop "$ETH0" Interface Endpoint)" = "$ZZ" ]' "eth0's Endpoint follows"
rm "$DS/conflict.yaml"

echo "# an interface's own state and addresses: PropertiesChanged"
veth_add host eth5 h1 eth5
# No IPv6 on it: link down then changes OperState alone (not its link-local address).
ip netns exec "$(ns host)" sysctl -qw net.ipv6.conf.eth5.disable_ipv6=1
IDX5=$(ip -n "$(ns host)" -o link show eth5 | cut -d: -f1)
ETH5="$BUS_ROOT/interface/$IDX5"
wait_for "[ \"\$(prop \"$ETH5\" Interface OperState)\" = up ]"
changed_eth5() { # what a PropertiesChanged of eth5's object must contain
        local want=$1
        wait_for 'grep -a -A14 "path=$ETH5; interface=org.freedesktop.DBus.Properties; member=PropertiesChanged" "$MON" |
                grep -aqF -- "$want"'
}
: >"$MON"
ip -n "$(ns host)" link set eth5 down
expect_true 'changed_eth5 "string \"down\""' "link down: PropertiesChanged with OperState down"
: >"$MON"
ip -n "$(ns host)" link set eth5 up
expect_true 'changed_eth5 "string \"up\""' "link up again: OperState up"
: >"$MON"
ip -n "$(ns host)" addr add 10.55.0.1/32 dev eth5
expect_true 'changed_eth5 "string \"10.55.0.1\""' "an address added: PropertiesChanged with Addresses"
expect_true '[ "$(prop "$ETH5" Interface Addresses | json_get "\"10.55.0.1\" in d")" = true ]' "and Get agrees"
ip -n "$(ns host)" link del eth5

echo "# Apply and Delete, as hepctl apply/delete"
DOC='apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: web.host, labels: {role: web}}
spec: {node: node1, interfaceName: eth0, expectedIPs: [10.77.0.1], profiles: [base], ports: [{name: http, protocol: TCP, port: 8080}]}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: allow-8081}
spec: {selector: role == "web", ingress: [{action: Allow, protocol: TCP, destination: {ports: [8081]}, http: {methods: [GET]}}]}'
run manager_call Apply s "$DOC"
expect_rc 0 "Apply of a HostEndpoint and a policy"
expect_out "ao 1 \"$WEB\"" "returns the endpoint's path"
expect_true '[ "$(prop "$WEB" Endpoint State)" = enforced ]' "enforced when Apply returns"
expect_pass "the applied policy is in force when Apply returns" probe_tcp peer 10.77.0.1 8081
expect_true '[ "$(prop "$WEB" Endpoint Policies)" = "[\"allow-http\", \"allow-8081\"]" ]' \
        "Endpoint.Policies lists both in evaluation order (order 10 before no order)"
expect_true '[ "$(prop "$WEB" Endpoint StateReason)" = "enforced on eth0; http matches are not enforced on host endpoints, only the rest of their rules: GlobalNetworkPolicy(allow-8081)" ]' \
        "Endpoint.StateReason says that the policy's http match is not enforced (its port is)"
run "$HEPCTL" --datastore "dir:$DS" get globalnetworkpolicy allow-8081 -o yaml
expect_out_contains "name: allow-8081" "written to the datastore, as hepctl apply does"
run manager_call Apply s "$DOC"
expect_rc 0 "Apply again updates (apply semantics)"
: >"$MON"
run manager_call Delete ss gnp allow-8081
expect_rc 0 "Delete gnp allow-8081"
expect_true 'wait_for "grep -a -A12 \"path=$WEB; interface=org.freedesktop.DBus.Properties; member=PropertiesChanged\" \"$MON\" | grep -aq \"string \\\"Policies\\\"\""' \
        "a PropertiesChanged carries the endpoint's new Policies"
expect_blocked "deleted: tcp 8081 dropped again" probe_tcp peer 10.77.0.1 8081
expect_true '[ "$(prop "$WEB" Endpoint StateReason)" = "enforced on eth0" ]' "and StateReason no longer mentions http"
run "$HEPCTL" --datastore "dir:$DS" get globalnetworkpolicy allow-8081
expect_rc 1 "gone from the datastore"

echo "# Apply and Delete of a staged policy: stored, never enforced"
before=$(nft_host -s list table inet hostendpoint | md5sum)
run manager_call Apply s 'apiVersion: projectcalico.org/v3
kind: StagedGlobalNetworkPolicy
metadata: {name: allow-http}
spec: {stagedAction: Delete}'
expect_rc 0 "Apply of a StagedGlobalNetworkPolicy"
expect_out "ao 0" "returns no endpoint"
run "$HEPCTL" --datastore "dir:$DS" get sgnp allow-http -o yaml
expect_out_contains "stagedAction: Delete" "written to the datastore"
expect_true '[ "$(nft_host -s list table inet hostendpoint | md5sum)" = "$before" ]' "the committed table is unchanged"
expect_pass "tcp 8080 is still allowed: the staged Delete of allow-http is not enforced" probe_tcp peer 10.77.0.1 8080
run manager_call Delete ss StagedGlobalNetworkPolicy allow-http
expect_rc 0 "Delete StagedGlobalNetworkPolicy allow-http"
run "$HEPCTL" --datastore "dir:$DS" get sgnp allow-http
expect_rc 1 "gone from the datastore"

echo "# a hepctl holding the datastore's lock: writes wait in line, the daemon keeps answering"
ms_since() { echo $(( (${EPOCHREALTIME/./} - ${1/./}) / 1000 )); }
flock "$DS" sleep 1.5 &
LOCKER=$!
sleep 0.2
start=$EPOCHREALTIME
manager_call Apply s "$DOC" >"$T/apply.out" 2>&1 &
APPLIER=$!
sleep 0.2
t=$EPOCHREALTIME
state=$(prop "$WEB" Endpoint State)
expect_true '[ "$state" = enforced ] && [ "$(ms_since "$t")" -lt 500 ]' \
        "a property is read at once while an Apply waits for the lock ($(ms_since "$t") ms)"
wait "$APPLIER"
rc=$?
waited=$(ms_since "$start")
expect_true '[ "$rc" = 0 ] && [ "$waited" -ge 1000 ]' "the Apply went through once the lock was released ($waited ms)"
wait "$LOCKER"
run "$HEPCTL" --datastore "dir:$DS" get globalnetworkpolicy allow-8081 -o yaml
expect_out_contains "name: allow-8081" "and wrote to the datastore"
flock "$DS" sleep 6.5 &
LOCKER=$!
sleep 0.2
run send_call "$BUS_ROOT" "$BUS_NAME.Manager.Delete" string:gnp string:allow-8081
expect_err_contains "Error $BUS_NAME.Error.Datastore: Delete: dir:$DS stayed locked by another writer (a hepctl?) for 5 s" \
        "a lock held beyond 5 s: Error.Datastore, nothing written"
wait "$LOCKER"
run "$HEPCTL" --datastore "dir:$DS" get globalnetworkpolicy allow-8081
expect_rc 0 "the policy is still there"
run manager_call Delete ss gnp allow-8081
expect_rc 0 "and Delete works once the lock is free"

echo "# errors: distinct names, and nothing changes"
before=$(nft_host -s list table inet hostendpoint | md5sum)
run send_call "$BUS_ROOT" "$BUS_NAME.Manager.Apply" string:"$(printf 'apiVersion: projectcalico.org/v3\nkind: HostEndpoint\nmetadata: {name: bad}\nspec:\n  node: node1\n  interfaceName: [1]\n')"
expect_err_contains "Error $BUS_NAME.Error.InvalidResource: Apply(document):6:18: spec.interfaceName" \
        "a wrong type: InvalidResource, naming Apply(document):line:column and the field"
run send_call "$BUS_ROOT" "$BUS_NAME.Manager.Apply" string:"$(printf 'apiVersion: projectcalico.org/v3\nkind: HostEndpoint\nmetadata: {name: bad}\nspec: {node: node1}\n')"
expect_err_contains "Error $BUS_NAME.Error.InvalidResource: Apply(document):4:7: spec.interfaceName: error with the following fields" \
        "Calico's validation message"
run send_call "$BUS_ROOT" "$BUS_NAME.Manager.Apply" string:"$(printf 'apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {name: np, namespace: a/../../escaped}\nspec: {selector: all()}\n')"
expect_err_contains "Error $BUS_NAME.Error.InvalidResource: Apply(document):3:33: metadata.namespace: error with field Metadata.Namespace = 'a/../../escaped'" \
        "a namespace that is not a DNS label: InvalidResource, positioned"
expect_true '[ -z "$(find "$T" -name "*escaped*")" ]' "and no file is written, inside the datastore or out of it"
run send_call "$BUS_ROOT" "$BUS_NAME.Manager.Delete" string:networkpolicy string:"../../x/np"
expect_err_contains "Error org.freedesktop.DBus.Error.InvalidArgs: Delete: argument name: '..' is not a namespace" \
        "Delete with a namespace that is not one: InvalidArgs"
run send_call "$BUS_ROOT" "$BUS_NAME.Manager.Apply" string:"kind: Frobnicator"
expect_err_contains "Error $BUS_NAME.Error.InvalidResource:" "an unknown kind: InvalidResource"
run send_call "$BUS_ROOT" "$BUS_NAME.Manager.Apply" string:"a: [unclosed"
expect_err_contains "Error $BUS_NAME.Error.InvalidResource: Apply(document):2:1: did not find expected ',' or ']'" \
        "malformed YAML: InvalidResource with its position"
run send_call "$BUS_ROOT" "$BUS_NAME.Manager.Apply" string:"$(printf 'apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: allow-http, resourceVersion: "1"}\nspec: {selector: all()}\n')"
expect_err_contains "Error $BUS_NAME.Error.Conflict:" "a stale resourceVersion: Conflict"
run send_call "$BUS_ROOT" "$BUS_NAME.Manager.Delete" string:hep string:no-such-hep
expect_err_contains "Error $BUS_NAME.Error.NotFound: resource does not exist: HostEndpoint(no-such-hep)" "Delete of nothing: NotFound"
run send_call "$BUS_ROOT" "$BUS_NAME.Manager.Delete" string:frobs string:x
expect_err_contains "Error org.freedesktop.DBus.Error.InvalidArgs: Delete: argument kind: resource type 'frobs' is not supported" \
        "an unknown kind: InvalidArgs naming the argument"
run send_call "$BUS_ROOT" "$BUS_NAME.Manager.Apply" int32:5
expect_err_contains "Error org.freedesktop.DBus.Error.InvalidArgs: Apply takes (s document), not (i)" "a wrong signature: InvalidArgs"
run send_call "$BUS_ROOT" "$BUS_NAME.Manager.WaitInterface" string:eth0
expect_err_contains "Error org.freedesktop.DBus.Error.InvalidArgs" "a missing argument: InvalidArgs"
run send_call "$BUS_ROOT" "$BUS_NAME.Manager.WaitInterface" string:"$(printf 'x%.0s' $(seq 1 40))" uint32:10
expect_err_contains "Error org.freedesktop.DBus.Error.InvalidArgs: WaitInterface: argument ifname" "an impossible interface name: InvalidArgs"
run send_call "$WEB" org.freedesktop.DBus.Properties.Get string:"$BUS_NAME.Endpoint" string:Nope
expect_err_contains "Error org.freedesktop.DBus.Error.UnknownProperty" "an unknown property"
run send_call "$WEB" org.freedesktop.DBus.Properties.Set string:"$BUS_NAME.Endpoint" string:Name variant:string:x
expect_err_contains "Error org.freedesktop.DBus.Error.PropertyReadOnly" "properties are read-only"
run send_call "$BUS_ROOT/endpoint/nothing_2dhere" org.freedesktop.DBus.Properties.GetAll string:"$BUS_NAME.Endpoint"
expect_err_contains "Error org.freedesktop.DBus.Error.UnknownObject" "an object that does not exist"
run send_call "$BUS_ROOT/endpoint/bad_zz" org.freedesktop.DBus.Properties.GetAll string:"$BUS_NAME.Endpoint"
expect_err_contains "Error org.freedesktop.DBus.Error.UnknownObject" "a malformed escape in a path"
run send_call "$BUS_ROOT/endpoint/web_2eho_73t" org.freedesktop.DBus.Properties.GetAll string:"$BUS_NAME.Endpoint"
expect_err_contains "Error org.freedesktop.DBus.Error.UnknownObject" "one path per object: an escaped letter is not an alias"
# A huge document (20 MB, over the 16 MiB input limit) and a huge
# interface name: refused, the daemon unharmed.
/usr/bin/python3 - "$BUS" >"$T/huge.out" 2>&1 <<'PY'
import sys, dbus
bus = dbus.bus.BusConnection(sys.argv[1])
m = dbus.Interface(bus.get_object("org.projectcalico.HostEndpoint1", "/org/projectcalico/HostEndpoint1"),
                   "org.projectcalico.HostEndpoint1.Manager")
for args in (("Apply", "# " + "x" * (20 << 20) + "\n"), ("Delete", "hep", "y" * (1 << 20))):
    try:
        getattr(m, args[0])(*args[1:], timeout=60)
        print(args[0], "accepted")
    except dbus.DBusException as e:
        print(args[0], e.get_dbus_name(), e.get_dbus_message()[:120])
PY
expect_true 'grep -q "^Apply org.projectcalico.HostEndpoint1.Error.InvalidResource Apply(document): file is larger than the 16 MiB limit" "$T/huge.out"' \
        "a 20 MB document: InvalidResource ($(head -c 160 "$T/huge.out" | head -1))"
expect_true 'grep -q "^Delete org.projectcalico.HostEndpoint1.Error.NotFound" "$T/huge.out"' "a 1 MB name: NotFound"
# Invalid UTF-8 never reaches the service: the bus refuses the message.
run /usr/bin/python3 -c '
import sys, dbus
bus = dbus.bus.BusConnection(sys.argv[1])
m = bus.get_object("org.projectcalico.HostEndpoint1", "/org/projectcalico/HostEndpoint1")
m.Apply(dbus.ByteArray(b"kind: \xff\xfe"), dbus_interface="org.projectcalico.HostEndpoint1.Manager", signature="s")' "$BUS"
expect_true '[ "$RC" -ne 0 ]' "invalid UTF-8 is refused before the service"
expect_true 'kill -0 "$DAEMON_PID"' "the daemon survived every bad call"
expect_true '[ "$(nft_host -s list table inet hostendpoint | md5sum)" = "$before" ]' "and the kernel's rules did not change"

echo "# as a non-root user: reads allowed, Manager methods refused"
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
run as_nobody busctl --address="$BUS" get-property "$BUS_NAME" "$WEB" "$BUS_NAME.Endpoint" State
expect_out 's "enforced"' "nobody reads a property"
run as_nobody busctl --address="$BUS" call "$BUS_NAME" "$BUS_ROOT" org.freedesktop.DBus.ObjectManager GetManagedObjects
expect_rc 0 "nobody calls GetManagedObjects"
run as_nobody busctl --address="$BUS" introspect "$BUS_NAME" "$BUS_ROOT"
expect_rc 0 "nobody introspects"
run as_nobody "$HEPCTL" status --bus "$BUS"
expect_rc 0 "nobody runs hepctl status"
for call in "Reload" "Delete string:hep string:web.host" "Apply string:kind:x" "WaitInterface string:eth0 uint32:10"; do
        args=""
        [ "$call" != "${call#* }" ] && args=${call#* }
        # shellcheck disable=SC2086
        run as_nobody dbus-send --bus="$BUS" --print-reply --dest="$BUS_NAME" "$BUS_ROOT" "$BUS_NAME.Manager.${call%% *}" $args
        expect_err_contains "Error org.freedesktop.DBus.Error.AccessDenied" "nobody may not call ${call%% *}"
done
expect_true '[ "$(prop "$WEB" Endpoint State)" = enforced ]' "web.host is still there"
# A user who cannot read the datastore: hepctl get shows the daemon's view.
printf 'datastore = dir:%s\nbus = %s\n' "$DS" "$BUS" >"$T/hostendpoint.conf"
chmod 644 "$T/hostendpoint.conf"
chmod 2750 "$DS"
run as_nobody "$HEPCTL" --config "$T/hostendpoint.conf" get hostendpoints -o wide
expect_rc 0 "nobody cannot read the datastore, yet hepctl get hostendpoints works"
expect_true 'grep -Eq "^web.host +node1 +eth0 +10.77.0.1 +base" <<<"$OUT"' "with the daemon's HostEndpoints"
expect_err_contains "is not readable by this user; these are the HostEndpoints hostendpointd knows (over D-Bus)" "and says where they come from"
chmod 2775 "$DS"

echo "# WaitInterface"
# waiting_hep IFNAME: a HostEndpoint IFNAME-hep for an interface not there yet.
waiting_hep() {
        put_resource "$1.yaml" <<EOF
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: $1-hep}
spec: {node: node1, interfaceName: $1}
EOF
        wait_for "[ \"\$(prop \"\$(endpoint_path $1-hep)\" Endpoint State)\" = waiting ]"
}
# started_then_plugged IFNAME WHAT COMMAND...: COMMAND, in the background,
# is still running 300 ms later; then IFNAME is plugged in and COMMAND's
# exit status is in $WRC, its output in $T/started.out.
started_then_plugged() {
        local ifname=$1 what=$2 pid
        shift 2
        "$@" >"$T/started.out" 2>&1 &
        pid=$!
        sleep 0.3
        expect_true "kill -0 $pid" "$what"
        veth_add host "$ifname" h2 "$ifname"
        wait "$pid"
        WRC=$?
}
waiting_hep eth2
netns_add h2
started_then_plugged eth2 "WaitInterface waits while eth2 does not exist" manager_call WaitInterface su eth2 10000
cp "$T/started.out" "$T/wait.out"
expect_true '[ $WRC -eq 0 ] && [ "$(cat "$T/wait.out")" = "s \"eth2-hep\"" ]' "returns eth2-hep once eth2 is hot-plugged and enforced"
expect_true '[ "$(prop "$BUS_ROOT/interface/$(ip -n "$(ns host)" -o link show eth2 | cut -d: -f1)" Interface Enforced)" = true ]' \
        "and the interface says Enforced"
run manager_call WaitInterface su lo 1000
expect_out 's ""' "an interface no HostEndpoint matches: returns '' at once"
start=$(date +%s%N)
run send_call "$BUS_ROOT" "$BUS_NAME.Manager.WaitInterface" string:eth9 uint32:300
elapsed=$((($(date +%s%N) - start) / 1000000))
expect_err_contains "Error $BUS_NAME.Error.Timeout: Interface 'eth9' did not appear within 300 ms" "times out, saying why"
expect_true '[ "$elapsed" -ge 300 ]' "not before its timeout (${elapsed} ms)"

echo "# WaitInterface calls of callers that left do not hold the line"
WAIT_CLIENT="$BUILDDIR/tests/wait-client"
run "$WAIT_CLIENT" "$BUS" 20 nope0 4000000000 1000
expect_out "ok 0 limits 4 timeout 0 other 0" "one caller gets 16 places in line, then LimitsExceeded"
pids=()
for i in $(seq 1 16); do
        "$WAIT_CLIENT" "$BUS" 16 "nope$i" 4000000000 300 >"$T/wait-$i.out" 2>&1 &
        pids+=($!)
done
wait "${pids[@]}"
expect_true '! grep -v "ok 0 limits 0 timeout 0 other 0" "$T"/wait-*.out' "16 callers wait 16 times each with a 49-day timeout, then leave"
run manager_call WaitInterface su eth0 1000
expect_out 's "web.host"' "a later call for an enforced interface is answered (its waiters left with them)"
run "$WAIT_CLIENT" "$BUS" 16 nope0 1000 2000
expect_out "ok 0 limits 0 timeout 16 other 0" "and a new caller gets all 16 places, each timed out as asked"

echo "# the NetworkManager dispatcher pre-up hook (run as NM runs it: INTERFACE ACTION)"
HOOK="$BUILDDIR/packaging/50-hostendpoint"
nm_hook() { DBUS_SYSTEM_BUS_ADDRESS=$BUS "$HOOK" "$@"; }
waiting_hep eth3
started_then_plugged eth3 "pre-up for eth3 holds activation while eth3 is not enforced" nm_hook eth3 pre-up
expect_true '[ $WRC -eq 0 ] && [ "$(prop "$(endpoint_path eth3-hep)" Endpoint State)" = enforced ]' \
        "and lets it go on (exit 0) once eth3 is enforced"
expect_true 'grep -q "eth3: enforced by HostEndpoint .eth3-hep." "$T/started.out"' "saying which HostEndpoint"
run nm_hook eth3 up
expect_rc 0 "other actions pass at once"
run env HOSTENDPOINT_WAIT_MS=300 DBUS_SYSTEM_BUS_ADDRESS="$BUS" "$HOOK" eth8 pre-up
expect_rc 1 "an interface that never appears: gives up after HOSTENDPOINT_WAIT_MS"
expect_err_contains "eth8: not confirmed enforced: $BUS_NAME.Error.Timeout" "saying why"
printf '# as an admin writes it\n  nm-wait-ms = 400\n' >"$T/nm.conf"
start_ms=$(date +%s%3N)
run env HOSTENDPOINT_CONFIG="$T/nm.conf" DBUS_SYSTEM_BUS_ADDRESS="$BUS" "$HOOK" eth8 pre-up
took_ms=$(($(date +%s%3N) - start_ms))
expect_rc 1 "the wait comes from hostendpoint.conf's nm-wait-ms (NetworkManager passes no environment)"
# hostendpointd is asked for 300 of the 400 ms, to answer its Timeout in time.
expect_true '[ $took_ms -ge 300 ] && [ $took_ms -lt 4000 ]' "it waited about 400 ms, not the default 5000 ($took_ms ms)"
run env DBUS_SYSTEM_BUS_ADDRESS="unix:path=$T/no-such-bus" "$HOOK" eth3 pre-up
expect_rc 0 "no bus at all: activation is not held up"
rm "$DS/eth3.yaml"
ip -n "$(ns host)" link del eth3
wait_for '! bctl introspect "$BUS_NAME" "$(endpoint_path eth3-hep)" >/dev/null 2>&1'

echo "# hepctl status"
run "$HEPCTL" status --bus "$BUS"
expect_rc 0 "hepctl status"
expect_out_contains "on node node1, datastore dir:$DS: running" "says the node, datastore and state"
expect_true 'grep -Eq "^eth0 +web.host +enforced +enforced on eth0 +allow-http" <<<"$OUT"' "eth0, its HEP, state, reason and policies"
expect_true 'grep -Eq "^lo +- +unprotected" <<<"$OUT"' "lo is unprotected"
expect_true 'grep -Eq "^eth1 +eth1-hep +waiting" <<<"$OUT"' "a HEP without its interface, waiting"
run "$HEPCTL" status --bus "$BUS" -o json
expect_true '[ "$(json_get "[i[\"enforced\"] for i in d[\"interfaces\"] if i[\"name\"] == \"eth0\"][0]" <<<"$OUT")" = true ]' \
        "-o json: eth0 enforced"
expect_true '[ "$(json_get "sorted(e[\"name\"] for e in d[\"hostEndpoints\"])" <<<"$OUT")" = "[\"eth1-hep\", \"eth2-hep\", \"web.host\"]" ]' \
        "-o json: this node's HostEndpoints"

echo "# the bus daemon restarted under the service"
bus_stop
expect_true 'wait_log "D-Bus: connection lost; enforcing goes on, reconnecting"' "the daemon notices"
expect_true 'kill -0 "$DAEMON_PID"' "and keeps running"
expect_pass "still enforcing: tcp 8080 allowed" probe_tcp peer 10.77.0.1 8080
expect_blocked "still enforcing: tcp 8081 dropped" probe_tcp peer 10.77.0.1 8081
bus_start
expect_true 'wait_for "bctl status $BUS_NAME >/dev/null 2>&1" 40' "it reconnects and owns its name again"
expect_true '[ "$(prop "$WEB" Endpoint State)" = enforced ]' "and answers with the truth"
run "$HEPCTL" status --bus "$BUS"
expect_rc 0 "hepctl status works again"

echo "# no daemon, no bus"
stop_daemon
run "$HEPCTL" status --bus "$BUS"
expect_rc 1 "hepctl status without the daemon fails"
expect_err "hostendpointd is not running: nothing owns org.projectcalico.HostEndpoint1 on the $BUS bus" "and says so"
start_daemon --bus "unix:path=$T/no-such-socket"
expect_true 'grep -c "D-Bus is off" "$DAEMON_LOG" | grep -qx 1' "a bus that is not there: D-Bus is off, said once"
expect_pass "enforcing all the same" probe_tcp peer 10.77.0.1 8080
expect_blocked "all the same" probe_tcp peer 10.77.0.1 8081
stop_daemon
start_daemon
expect_true 'grep -q "D-Bus is off (--bus none)" "$DAEMON_LOG"' "--bus none: said once"
expect_blocked "--bus none: enforcing" probe_tcp peer 10.77.0.1 8081
