#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The etcdv3 datastore against a real etcd (Debian's etcd-server 3.4):
# Calico's keys and values as calicoctl writes them, hepctl's commands,
# three hosts with their own hostendpointd sharing one etcd, etcd gone and
# back under traffic, compaction past a watcher, bad values, and TLS.
#
#                 +--------------------------------------------+
#                 | hep-<pid>-etcd: etcd on 10.88.0.1:23791    |
#                 |  br-mgmt 10.88.0.1/24     br-data (no IP)  |
#                 +----+------+------+---------+------+------+-+
#                 mgmt |      |      |   eth0  |      |      |
#          +-----------+-+ +--+----------+ +---+------+-+    |
#          | hep-<pid>-a | | hep-<pid>-b | | hep-<pid>-c |   ...
#          | mgmt .11    | | mgmt .12    | | mgmt .13    |
#          | eth0 .11    | | eth0 .12    | | eth0 .13    |  (10.89.0.0/24)
#          +-------------+ +-------------+ +-------------+
# Each host runs hostendpointd --nodename a|b|c against etcd over "mgmt"
# (no HostEndpoint there); HostEndpoints are on "eth0", whose traffic goes
# host to host through br-data. TCP servers: 8080, 8081, 9090 on each host.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-netns.sh"
netns_require

ETCD=${HEP_ETCD:-/usr/bin/etcd}
ETCDCTL=${HEP_ETCDCTL:-/usr/bin/etcdctl}
for tool in "$ETCD" "$ETCDCTL" openssl; do
        command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed (apt-get install etcd-server etcd-client openssl)"; exit 77; }
done
export ETCDCTL_API=3
HOSTENDPOINTD="$BUILDDIR/module/hostendpointd"
HOSTS=(a b c)
declare -A MGMT_IP=([a]=10.88.0.11 [b]=10.88.0.12 [c]=10.88.0.13)
declare -A DATA_IP=([a]=10.89.0.11 [b]=10.89.0.12 [c]=10.89.0.13)
ETCD_IP=10.88.0.1
ETCD_PORT=23791
ETCD_TLS_PORT=23792
ETCD_URL="http://$ETCD_IP:$ETCD_PORT"
DSPEC="etcdv3:$ETCD_URL"
PREFIX=/calico/resources/v3/projectcalico.org
ETCD_DATA="$T/etcd-data"
ETCD_LOG="$T/etcd.log"
ETCD_PID=
DAEMON_USER=hostendpoint

# ------------------------------------------------------------------ etcd

_etcd_cleanup() {
        if [ -n "$ETCD_PID" ]; then
                kill "$ETCD_PID" 2>/dev/null
                _netns_poll 5 _netns_dead "$ETCD_PID" || kill -KILL "$ETCD_PID" 2>/dev/null
                wait "$ETCD_PID" 2>/dev/null
        fi
        ETCD_PID=
        rm -rf "$ETCD_DATA"
}

# etcd_start [EXTRA ARGS...]: etcd in the etcd namespace on $ETCD_URL (or
# what the arguments say), its data in $ETCD_DATA; waits until it answers.
etcd_start() {
        local url=$ETCD_URL
        [ $# -gt 0 ] && url=$1 && shift
        ip netns exec "$(ns etcd)" "$ETCD" --name hep-test --data-dir "$ETCD_DATA" \
                --listen-client-urls "$url" --advertise-client-urls "$url" \
                --listen-peer-urls http://127.0.0.1:23801 --initial-advertise-peer-urls http://127.0.0.1:23801 \
                --initial-cluster hep-test=http://127.0.0.1:23801 \
                --log-outputs stderr "$@" >>"$ETCD_LOG" 2>&1 &
        ETCD_PID=$!
        if ! wait_for 'ectl_at "$url" endpoint health >/dev/null 2>&1 || _netns_dead $ETCD_PID' 15 ||
                _netns_dead "$ETCD_PID"; then
                CHECKS=$((CHECKS + 1))
                fail "etcd did not start on $url: $(tail -20 "$ETCD_LOG")"
                exit 1
        fi
}

# etcd_stop: stops our etcd by its PID and waits until it is gone.
etcd_stop() {
        kill "$ETCD_PID"
        _netns_poll 10 _netns_dead "$ETCD_PID" || kill -KILL "$ETCD_PID"
        wait "$ETCD_PID" 2>/dev/null
        ETCD_PID=
}

# ectl ARGS...: etcdctl, from the etcd namespace, at the plain endpoint.
ectl() { ip netns exec "$(ns etcd)" "$ETCDCTL" --endpoints="$ETCD_URL" "$@"; }
ectl_at() {
        local url=$1
        shift
        ip netns exec "$(ns etcd)" "$ETCDCTL" --endpoints="$url" "$@"
}
# value KEY: the key's value, as etcd has it.
value() { ectl get --print-value-only "$PREFIX/$1"; }
# put KEY JSON: writes a key as calicoctl would (compact JSON).
put() { ectl put "$PREFIX/$1" "$2" >/dev/null || fail "etcdctl put $1 failed"; }
# mod_revision KEY
mod_revision() {
        ectl get "$PREFIX/$1" -w json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["kvs"][0]["mod_revision"])'
}

# hep NS ARGS...: hepctl in host namespace NS, on the etcd datastore.
hep() {
        local n=$1
        shift
        ip netns exec "$(ns "$n")" "$HEPCTL" -d "$DSPEC" "$@"
}

# ------------------------------------------------------------- daemons

declare -A DPID=()
dlog() { echo "$T/daemon-$1.log"; }

_daemon_check_sanitizers() {
        local log
        log=$(dlog "$1")
        [ -s "$log" ] || return 0
        if grep -Eq "runtime error:|ERROR: (Address|Leak)Sanitizer" "$log"; then
                CHECKS=$((CHECKS + 1))
                fail "hostendpointd on $1: its log has a sanitizer report:
$(grep -E -A20 "runtime error:|ERROR: (Address|Leak)Sanitizer" "$log" | head -40)"
        fi
}

_daemons_cleanup() {
        local h
        for h in "${!DPID[@]}"; do
                if [ -n "${DPID[$h]}" ]; then
                        kill -CONT "${DPID[$h]}" 2>/dev/null
                        kill "${DPID[$h]}" 2>/dev/null
                        wait "${DPID[$h]}" 2>/dev/null
                fi
                _daemon_check_sanitizers "$h"
        done
        DPID=()
}

# daemon_start HOST [ARGS...]: hostendpointd --nodename HOST in HOST's
# namespace, on etcd (or --datastore in ARGS); waits for readiness.
daemon_start() {
        local h=$1
        shift
        : >"$(dlog "$h")"
        ip netns exec "$(ns "$h")" "$HOSTENDPOINTD" --datastore "$DSPEC" --nodename "$h" --bus none \
                --log-level debug "$@" 2>>"$(dlog "$h")" &
        DPID[$h]=$!
        if ! wait_for "grep -q 'Ready: the first ruleset is committed' '$(dlog "$h")'" 15; then
                CHECKS=$((CHECKS + 1))
                fail "hostendpointd on $h did not become ready: $(tail -20 "$(dlog "$h")")"
                exit 1
        fi
}

daemon_stop() {
        kill -CONT "${DPID[$1]}" 2>/dev/null
        kill "${DPID[$1]}"
        wait "${DPID[$1]}"
        DPID[$1]=
        _daemon_check_sanitizers "$1"
}

# log_mark HOST: lines in HOST's log so far; wait_log HOST MARK PATTERN [SECONDS].
log_mark() { wc -l <"$(dlog "$1")"; }
wait_log() {
        local log
        log=$(dlog "$1")
        wait_for "tail -n +$(($2 + 1)) '$log' | grep -q -- \"$3\"" "${4:-5}" && return 0
        echo "--- $1's log since line $2 (no line matching '$3'):" >&2
        tail -n +$(($2 + 1)) "$log" | tail -20 >&2
        return 1
}

nft_in() {
        local n=$1
        shift
        ip netns exec "$(ns "$n")" nft "$@"
}

# Hooks run in order: daemons, then etcd, then the namespaces.
CLEANUP_HOOKS=("_daemons_cleanup" "_etcd_cleanup" "${CLEANUP_HOOKS[@]}")

# ------------------------------------------------------------ topology

netns_add etcd
netns_exec etcd ip link add br-mgmt type bridge || _netns_die "bridge br-mgmt"
netns_exec etcd ip link add br-data type bridge || _netns_die "bridge br-data"
netns_exec etcd ip link set br-mgmt up
netns_exec etcd ip link set br-data up
addr_add etcd br-mgmt "$ETCD_IP/24"
for h in "${HOSTS[@]}"; do
        netns_add "$h"
        veth_add "$h" mgmt etcd "m-$h"
        veth_add "$h" eth0 etcd "d-$h"
        netns_exec etcd ip link set "m-$h" master br-mgmt || _netns_die "m-$h into br-mgmt"
        netns_exec etcd ip link set "d-$h" master br-data || _netns_die "d-$h into br-data"
        addr_add "$h" mgmt "${MGMT_IP[$h]}/24"
        addr_add "$h" eth0 "${DATA_IP[$h]}/24"
done
for h in "${HOSTS[@]}"; do
        for p in 8080 8081 9090; do serve_tcp "$h" "$p"; done
done
for h in "${HOSTS[@]}"; do
        for o in "${HOSTS[@]}"; do
                [ "$h" = "$o" ] && continue
                wait_for "probe_tcp $h ${DATA_IP[$o]} 8080" 5 || _netns_die "$h cannot reach $o over br-data"
        done
done

echo "# etcd in its own namespace, reached from every host"
mkdir -p "$ETCD_DATA"
etcd_start
CHECKS=$((CHECKS + 1))
pass "etcd $(ectl version 2>/dev/null | head -1) answers on $ETCD_URL (pid $ETCD_PID, data in $ETCD_DATA)"
for h in "${HOSTS[@]}"; do
        run ip netns exec "$(ns "$h")" "$ETCDCTL" --endpoints="$ETCD_URL" endpoint health
        expect_rc 0 "etcd is reachable from host $h"
done

# vcheck KEY PYEXPR: PYEXPR holds for the key's value parsed as JSON (d),
# and the value is compact JSON (no whitespace between tokens).
vcheck() {
        value "$1" | /usr/bin/python3 -c '
import json, sys
v = sys.stdin.read().rstrip("\n")
d = json.loads(v)
if json.dumps(d, separators=(",", ":"), ensure_ascii=False) != v:
    sys.exit("not compact JSON: " + v)
if not eval(sys.argv[1]):
    sys.exit("does not hold: " + sys.argv[1] + " for " + v)' "$2"
}
# h ARGS...: hepctl in host a, through run (OUT, ERR, RC).
h() { run hep a "$@"; }
# rv_of OUT: the resourceVersion of a single object in hepctl's YAML.
rv_of() { printf '%s\n' "$1" | sed -n 's/^  resourceVersion: "\(.*\)"/\1/p'; }

TS=2026-01-02T03:04:05Z
# calicoctl's own values: compact, Go's key order, defaults filled in.
hep_json() { # NAME NODE IF IP LABELS(JSON)
        printf '{"kind":"HostEndpoint","apiVersion":"projectcalico.org/v3","metadata":{"name":"%s","uid":"%s","creationTimestamp":"%s","labels":%s},"spec":{"node":"%s","interfaceName":"%s","expectedIPs":["%s"]}}' \
                "$1" "$(cat /proc/sys/kernel/random/uuid)" "$TS" "$5" "$2" "$3" "$4"
}
gnp_json() { # NAME SELECTOR INGRESS-RULES(JSON) [ORDER]
        printf '{"kind":"GlobalNetworkPolicy","apiVersion":"projectcalico.org/v3","metadata":{"name":"%s","uid":"%s","creationTimestamp":"%s"},"spec":{"tier":"default","order":%s,"selector":"%s","ingress":%s,"egress":[{"action":"Allow","source":{},"destination":{}}],"types":["Ingress","Egress"]}}' \
                "$1" "$(cat /proc/sys/kernel/random/uuid)" "$TS" "${4:-100}" "$2" "$3"
}
tcp_rule() { # ACTION PORT [SOURCE(JSON)]
        printf '{"action":"%s","protocol":"TCP","source":%s,"destination":{"ports":[%s]}}' "$1" "${3:-{\}}" "$2"
}

echo "# resources written with etcdctl as calicoctl lays them out: listed and enforced"
put hostendpoints/a-eth0 "$(hep_json a-eth0 a eth0 "${DATA_IP[a]}" '{"role":"a-ish"}')"
put globalnetworkpolicies/a-web "$(gnp_json a-web "role == 'a-ish'" "[$(tcp_rule Deny 8081),$(tcp_rule Allow 8080)]")"
h get hep -o wide
expect_rc 0 "hepctl get hep on etcd"
expect_out "$(printf 'NAME     NODE   INTERFACE   IPS          PROFILES   \na-eth0   a      eth0        10.89.0.11              ')" "lists the HEP etcdctl wrote"
h get gnp a-web -o yaml
expect_out_contains "resourceVersion: \"$(mod_revision globalnetworkpolicies/a-web)\"" "resourceVersion is the key's mod_revision"
expect_out_contains "selector: role == 'a-ish'" "the policy as written"
daemon_start a
expect_true 'nft_in a list table inet hostendpoint >/dev/null' "hostendpointd on a committed its table from etcd"
expect_pass "a's policy allows tcp 8080 from b" probe_tcp b "${DATA_IP[a]}" 8080
expect_blocked "and denies tcp 8081" probe_tcp b "${DATA_IP[a]}" 8081
expect_blocked "and anything else (9090)" probe_tcp b "${DATA_IP[a]}" 9090
expect_pass "b is not filtered (no HEP for b)" probe_tcp a "${DATA_IP[b]}" 8081

echo "# hepctl create/apply/replace/delete/get/patch/label on etcd, read back with etcdctl"
cat >"$T/web2.yaml" <<'EOF'
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata:
  name: a-web2
  labels: {owner: test}
spec:
  order: 50
  selector: role == 'a-ish'
  ingress:
  - action: Allow
    protocol: TCP
    destination: {ports: [9090]}
EOF
mark=$(log_mark a)
h create -f "$T/web2.yaml"
expect_rc 0 "hepctl create"
expect_out "Successfully created 1 'GlobalNetworkPolicy' resource(s)" "calicoctl's message"
expect_true "vcheck globalnetworkpolicies/a-web2 'd[\"kind\"] == \"GlobalNetworkPolicy\" and d[\"apiVersion\"] == \"projectcalico.org/v3\" and d[\"metadata\"][\"name\"] == \"a-web2\" and len(d[\"metadata\"][\"uid\"]) == 36 and d[\"metadata\"][\"creationTimestamp\"].endswith(\"Z\") and \"resourceVersion\" not in d[\"metadata\"]'" \
        "etcdctl reads it at Calico's key: kind, apiVersion, name, uid, creationTimestamp, no resourceVersion"
expect_true "vcheck globalnetworkpolicies/a-web2 'd[\"spec\"][\"order\"] == 50 and d[\"spec\"][\"selector\"] == \"role == '\\''a-ish'\\''\" and d[\"spec\"][\"ingress\"][0][\"destination\"][\"ports\"] == [9090] and d[\"metadata\"][\"labels\"][\"owner\"] == \"test\"'" \
        "with the spec fields and labels as written"
expect_true 'wait_log a "$mark" "Committed in"' "a's daemon saw the watch event and committed"
expect_pass "the created policy is enforced on a (9090 allowed)" probe_tcp b "${DATA_IP[a]}" 9090
h create -f "$T/web2.yaml"
expect_rc 1 "creating it again fails"
expect_err "failed to create 'GlobalNetworkPolicy' resource: [resource already exists: GlobalNetworkPolicy(a-web2) with error: <nil>]" "with calicoctl's message"
h get gnp a-web2 -o yaml
expect_rc 0 "hepctl get -o yaml"
printf '%s\n' "$OUT" >"$T/web2-stored.yaml"
RV=$(rv_of "$OUT")
UID2=$(printf '%s\n' "$OUT" | sed -n 's/^  uid: //p')
expect_true '[ "$RV" = "$(mod_revision globalnetworkpolicies/a-web2)" ]' "its resourceVersion ($RV) is the key's mod_revision"
sed -i 's/order: 50/order: 60/' "$T/web2.yaml"
h apply -f "$T/web2.yaml"
expect_rc 0 "hepctl apply"
expect_out "Successfully applied 1 'GlobalNetworkPolicy' resource(s)" "apply message"
expect_true "vcheck globalnetworkpolicies/a-web2 'd[\"spec\"][\"order\"] == 60 and d[\"metadata\"][\"uid\"] == \"$UID2\" and \"resourceVersion\" not in d[\"metadata\"]'" "the update is in etcd, uid kept"
h replace -f "$T/web2-stored.yaml"
expect_rc 1 "replace with a stale resourceVersion"
expect_err "hit error: update conflict: GlobalNetworkPolicy(a-web2)" "update conflict message"
expect_true "vcheck globalnetworkpolicies/a-web2 'd[\"spec\"][\"order\"] == 60'" "and nothing was written"
h get gnp a-web2 -o yaml
sed 's/order: 60/order: 70/' <<<"$OUT" >"$T/web2-fresh.yaml"
h replace -f "$T/web2-fresh.yaml"
expect_rc 0 "replace with the current resourceVersion"
expect_out "Successfully replaced 1 'GlobalNetworkPolicy' resource(s)" "replace message"
expect_true "vcheck globalnetworkpolicies/a-web2 'd[\"spec\"][\"order\"] == 70'" "replaced in etcd"
h patch gnp a-web2 -p '{"metadata":{"labels":{"extra":"yes"}}}'
expect_rc 0 "hepctl patch"
expect_true "vcheck globalnetworkpolicies/a-web2 'd[\"metadata\"][\"labels\"].get(\"extra\") == \"yes\" and d[\"metadata\"][\"labels\"].get(\"owner\") == \"test\"'" "patched labels merged in etcd"
h label hep a-eth0 zone=blue
expect_rc 0 "hepctl label"
expect_out "Successfully set label zone on hep a-eth0" "label message"
expect_true "vcheck hostendpoints/a-eth0 'd[\"metadata\"][\"labels\"] == {\"role\": \"a-ish\", \"zone\": \"blue\"} and d[\"spec\"][\"expectedIPs\"] == [\"10.89.0.11\"]'" "the label is in etcd, the rest of the HEP untouched"
h get hep -l "zone == 'blue'"
expect_rc 0 "hepctl get -l"
expect_out "$(printf 'NAME     NODE   \na-eth0   a      ')" "the selector picks the labelled HEP"
h get hep -l "zone == 'red'"
expect_out "$(printf 'NAME   NODE   ')" "and not for another value"
h delete gnp a-web2
expect_rc 0 "hepctl delete"
expect_out "Successfully deleted 1 'GlobalNetworkPolicy' resource(s)" "delete message"
expect_true '[ -z "$(ectl get --keys-only "$PREFIX/globalnetworkpolicies/a-web2")" ]' "the key is gone from etcd"
expect_true 'wait_for "! probe_tcp b ${DATA_IP[a]} 9090" 5' "a's daemon withdrew it: 9090 blocked again"
h delete gnp a-web2
expect_rc 1 "deleting it again fails"
expect_err_contains "resource does not exist: GlobalNetworkPolicy(a-web2)" "calicoctl's message"

echo "# three hosts, one etcd: a HEP for b changes what a's source selector admits"
daemon_start b
daemon_start c
mark=$(log_mark a)
put globalnetworkpolicies/b-open "$(gnp_json b-open "role == 'b-ish' || role == 'c-ish'" '[{"action":"Allow","source":{},"destination":{}}]')"
put globalnetworkpolicies/a-from-b "$(gnp_json a-from-b "role == 'a-ish'" "[$(tcp_rule Allow 9090 '{"selector":"role == '"'b-ish'"'"}')]" 50)"
h get gnp a-from-b -o yaml
expect_out_contains "selector: role == 'b-ish'" "a's policy admits tcp 9090 from role == 'b-ish'"
expect_true 'wait_log a "$mark" "Datastore changed: ruleset re-committed"' "a's daemon re-committed"
expect_blocked "no HEP for b yet: b's address is not admitted to a:9090" probe_tcp b "${DATA_IP[a]}" 9090
expect_pass "control: a:8080 from b" probe_tcp b "${DATA_IP[a]}" 8080
mark_b=$(log_mark b)
put hostendpoints/b-eth0 "$(hep_json b-eth0 b eth0 "${DATA_IP[b]}" '{"role":"b-ish","fleet":"yes"}')"
expect_true 'wait_for "nft_in a list table inet hostendpoint | grep -q ${DATA_IP[b]}" 5' "a's table now has b's expectedIP in a set"
expect_pass "b's HEP (expectedIPs ${DATA_IP[b]}) puts b's address in a's source set: a:9090 admits it" probe_tcp b "${DATA_IP[a]}" 9090
expect_blocked "still nothing else from b (8081)" probe_tcp b "${DATA_IP[a]}" 8081
expect_blocked "and not from c, which is not b-ish" probe_tcp c "${DATA_IP[a]}" 9090
expect_true 'wait_log b "$mark_b" "b-eth0. enforced: enforced on eth0"' "b's own daemon enforces b's HEP on its eth0"
put hostendpoints/c-eth0 "$(hep_json c-eth0 c eth0 "${DATA_IP[c]}" '{"role":"c-ish","fleet":"yes"}')"
h label hep a-eth0 fleet=yes
expect_rc 0 "a's HEP joins the fleet"

echo "# one policy change, enforced on all three hosts"
for x in a:b b:c c:a; do
        expect_pass "before: ${x%%:*} serves tcp 8080 to ${x#*:}" probe_tcp "${x#*:}" "${DATA_IP[${x%%:*}]}" 8080
done
cat >"$T/fleet.yaml" <<'EOF'
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: fleet}
spec:
  order: 10
  selector: has(fleet)
  ingress: [{action: Deny, protocol: TCP, destination: {ports: [8080]}}]
EOF
h apply -f "$T/fleet.yaml"
expect_rc 0 "hepctl apply of the fleet policy"
for x in a:b b:c c:a; do
        expect_true "wait_for 'nft_in ${x%%:*} list table inet hostendpoint | grep -q fleet' 5" "${x%%:*}'s table has the fleet policy"
        expect_blocked "${x%%:*} now denies tcp 8080 (from ${x#*:})" probe_tcp "${x#*:}" "${DATA_IP[${x%%:*}]}" 8080
done
expect_pass "and what b-open allows still passes (c:9090 from a)" probe_tcp a "${DATA_IP[c]}" 9090
expect_pass "and a:9090 from b still passes" probe_tcp b "${DATA_IP[a]}" 9090

echo "# values that cannot be used: logged with their key; the other keys apply; nothing loosened"
mark=$(log_mark a)
put hostendpoints/garbage 'this is {not JSON'
put hostendpoints/bad "$(hep_json bad a eth9 10.0.0.300 '{"role":"a-ish"}')"
expect_true 'wait_log a "$mark" "<3>$PREFIX/hostendpoints/garbage:1:1: expected a resource"' "the value that is not JSON is logged with its key"
expect_true 'wait_log a "$mark" "<3>$PREFIX/hostendpoints/bad:1:[0-9]*: spec.expectedIPs\[0\]: .*10.0.0.300"' "the invalid one with key:line:column, the field and the value"
h get hep
expect_rc 0 "hepctl get hep still works"
expect_out "$(printf 'NAME     NODE   \na-eth0   a      \nb-eth0   b      \nc-eth0   c      ')" "and lists the usable HEPs"
expect_err_contains "$PREFIX/hostendpoints/garbage" "naming the unusable key on stderr"
expect_blocked "a still denies 8081" probe_tcp b "${DATA_IP[a]}" 8081
expect_pass "a still allows 9090 from b" probe_tcp b "${DATA_IP[a]}" 9090
mark=$(log_mark a)
h delete gnp fleet
expect_rc 0 "the fleet policy deleted while the bad keys are there"
expect_true 'wait_for "probe_tcp b ${DATA_IP[a]} 8080" 5' "the other keys still apply: a serves 8080 again"
mark=$(log_mark a)
put hostendpoints/a-eth0 'garbage over an enforced HEP'
put globalnetworkpolicies/a-web '{"kind":"GlobalNetworkPolicy","apiVersion":"projectcalico.org/v3","metadata":{"name":"a-web"},"spec":{"selector":"role == '"'a-ish'"'","ingress":[{"action":"Allow","protocol":"TCP","destination":{"ports":[70000]}}]}}'
expect_true 'wait_log a "$mark" "<3>$PREFIX/hostendpoints/a-eth0:1:1: .*keeping its previous resources"' "garbage over a's enforced HEP is logged with its key"
expect_true 'wait_log a "$mark" "<3>$PREFIX/globalnetworkpolicies/a-web:1:[0-9]*: .*keeping its previous resources"' "an invalid value over a's policy too"
sleep 0.3
expect_true '! tail -n +$mark "$(dlog a)" | grep -q "a-eth0. withdrawn"' "a's HEP is not withdrawn"
expect_blocked "a still denies 8081: the HEP's and the policy's previous values stay in force" probe_tcp b "${DATA_IP[a]}" 8081
expect_pass "and still allows 8080" probe_tcp b "${DATA_IP[a]}" 8080
expect_blocked "and still denies what nothing allows (c to a:9090)" probe_tcp c "${DATA_IP[a]}" 9090
mark=$(log_mark a)
put hostendpoints/a-eth0 "$(hep_json a-eth0 a eth0 "${DATA_IP[a]}" '{"role":"a-ish","fleet":"yes"}')"
put globalnetworkpolicies/a-web "$(gnp_json a-web "role == 'a-ish'" "[$(tcp_rule Deny 8081),$(tcp_rule Allow 8080)]")"
ectl del "$PREFIX/hostendpoints/garbage" >/dev/null
ectl del "$PREFIX/hostendpoints/bad" >/dev/null
expect_true 'wait_log a "$mark" "Datastore changed"' "good values again: a's daemon takes them"
expect_blocked "8081 denied" probe_tcp b "${DATA_IP[a]}" 8081
expect_pass "8080 allowed" probe_tcp b "${DATA_IP[a]}" 8080
