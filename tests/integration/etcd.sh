#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The etcdv3 datastore against a real etcd (Debian's etcd-server 3.4):
# Calico's keys and values as calicoctl writes them, hepctl's commands,
# three hosts with their own hostendpointd sharing one etcd, etcd gone and
# back under traffic, compaction past a daemon's watch, values that cannot
# be used, two endpoints, TLS with client certificates, and etcd's users.
#
#   +----------------------------------------------------------------+
#   | hep-<pid>-etcd: etcd on 10.88.0.1:23791 (later https, :23792)   |
#   |   br-mgmt 10.88.0.1/24                 br-data (no address)     |
#   +---+----------+----------+------------+----------+----------+---+
#       m-a        m-b        m-c          d-a        d-b        d-c     (veths)
#       |          |          |            |          |          |
#   "mgmt" 10.88.0.1x/24 in host x        "eth0" 10.89.0.1x/24 in host x
#   +-------------+ +-------------+ +-------------+
#   | hep-<pid>-a | | hep-<pid>-b | | hep-<pid>-c |    (x = 1, 2, 3)
#   +-------------+ +-------------+ +-------------+
# Each host runs hostendpointd --nodename a|b|c on etcd over "mgmt" (no
# HostEndpoint there); the HostEndpoints are on "eth0", whose traffic goes
# host to host through br-data. TCP servers: 8080, 8081, 9090 on each host.
# etcd's data directory is in $T; etcd and the daemons are stopped by PID.
# HEP_KEEP_LOGS=DIR keeps the daemons' and etcd's logs.
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

# etcd_start [URL [EXTRA ARGS...]]: etcd in the etcd namespace on URL
# (default $ETCD_URL), its data in $ETCD_DATA; waits until it answers.
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

# Host a's daemon is on a private bus (a socket in $T, reached from any
# namespace), where its Manager shows etcd's problems; the others have none.
declare -A DBUS=()
if [ "${HEP_DBUS:-1}" = 1 ] && command -v dbus-daemon >/dev/null && command -v busctl >/dev/null; then
        . "$(dirname "$0")/lib-bus.sh"
        bus_start
        DBUS[a]=$BUS
fi
# manager PROPERTY: a's Manager property (State, LastError).
manager() { prop "$BUS_ROOT" Manager "$1"; }

# daemon_start HOST [ARGS...]: hostendpointd --nodename HOST in HOST's
# namespace, on etcd (or --datastore in ARGS); waits for readiness.
daemon_start() {
        local h=$1
        shift
        : >"$(dlog "$h")"
        ip netns exec "$(ns "$h")" "$HOSTENDPOINTD" --datastore "$DSPEC" --nodename "$h" --bus "${DBUS[$h]:-none}" \
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

# Hooks run in order: daemons, then etcd, then the namespaces; last, the
# logs are kept if HEP_KEEP_LOGS names a directory.
CLEANUP_HOOKS=("_daemons_cleanup" "_etcd_cleanup" "${CLEANUP_HOOKS[@]}"
        '[ -z "${HEP_KEEP_LOGS:-}" ] || cp "$T"/*.log "$HEP_KEEP_LOGS"/')

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
pass "$("$ETCD" --version | head -1) answers on $ETCD_URL (pid $ETCD_PID, data in $ETCD_DATA)"
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

echo "# StagedGlobalNetworkPolicy on etcd: Calico's key and JSON, never enforced"
cat >"$T/staged.yaml" <<'EOF'
apiVersion: projectcalico.org/v3
kind: StagedGlobalNetworkPolicy
metadata: {name: a-stage}
spec:
  order: 1
  selector: role == 'a-ish'
  ingress:
  - action: Deny
    protocol: TCP
    destination: {ports: [8080]}
EOF
table_before=$(nft_dump a)
mark=$(log_mark a)
h create -f "$T/staged.yaml"
expect_rc 0 "hepctl create of a staged policy"
expect_out "Successfully created 1 'StagedGlobalNetworkPolicy' resource(s)" "calicoctl's message"
expect_true "vcheck stagedglobalnetworkpolicies/a-stage 'd[\"kind\"] == \"StagedGlobalNetworkPolicy\" and d[\"apiVersion\"] == \"projectcalico.org/v3\" and d[\"metadata\"][\"name\"] == \"a-stage\" and len(d[\"metadata\"][\"uid\"]) == 36 and \"resourceVersion\" not in d[\"metadata\"] and d[\"metadata\"][\"labels\"] == {\"projectcalico.org/tier\": \"default\"}'" \
        "etcdctl reads it at Calico's key, stagedglobalnetworkpolicies/a-stage, as compact JSON"
expect_true "vcheck stagedglobalnetworkpolicies/a-stage 'list(d[\"spec\"]) == [\"stagedAction\", \"tier\", \"order\", \"ingress\", \"selector\", \"types\"] and d[\"spec\"][\"stagedAction\"] == \"Set\" and d[\"spec\"][\"tier\"] == \"default\" and d[\"spec\"][\"types\"] == [\"Ingress\"] and d[\"spec\"][\"ingress\"][0][\"destination\"][\"ports\"] == [8080]'" \
        "its spec in Calico's field order, with Calico's defaults (stagedAction Set, tier, types)"
expect_true 'wait_log a "$mark" "Staged view (not committed)"' "a's daemon saw it and computed the staged view"
expect_true '[ "$(nft_dump a)" = "$table_before" ]' "a's committed table is byte for byte what it was"
expect_pass "tcp 8080 from b is still allowed on a: a staged Deny is not enforced" probe_tcp b "${DATA_IP[a]}" 8080
put stagedglobalnetworkpolicies/a-web '{"kind":"StagedGlobalNetworkPolicy","apiVersion":"projectcalico.org/v3","metadata":{"name":"a-web","uid":"'"$(cat /proc/sys/kernel/random/uuid)"'","creationTimestamp":"'"$TS"'"},"spec":{"stagedAction":"Delete","tier":"default"}}'
h get sgnp -o wide
expect_rc 0 "hepctl get sgnp -o wide"
expect_out "$(printf 'NAME      TIER      ORDER   SELECTOR          \na-stage   default   1       role == '\''a-ish'\''   \na-web     default   <nil>                     ')" \
        "lists the staged policies, the one etcdctl wrote included, in calicoctl's columns"
run hep a ruleset --node a
expect_true 'printf "%s\n" "$OUT" | grep -q "chain pol-in.a-web {"' "a enforces a-web"
expect_true '! printf "%s\n" "$OUT" | grep -q "chain pol-in.a-stage {"' "and not the staged policy"
run hep a ruleset --node a --staged
expect_rc 0 "hepctl ruleset --staged on etcd"
expect_true 'printf "%s\n" "$OUT" | grep -q "chain pol-in.a-stage {"' "its staged view has the staged Set"
expect_true '! printf "%s\n" "$OUT" | grep -q "chain pol-in.a-web {"' "and not a-web, which the staged Delete removes"
h label sgnp a-stage owner=test
expect_rc 0 "hepctl label on a staged policy"
expect_true "vcheck stagedglobalnetworkpolicies/a-stage 'd[\"metadata\"][\"labels\"].get(\"owner\") == \"test\"'" "the label is in etcd"
h delete sgnp a-stage a-web
expect_rc 0 "hepctl delete sgnp"
expect_out "Successfully deleted 2 'StagedGlobalNetworkPolicy' resource(s)" "delete message"
expect_true '[ -z "$(ectl get --keys-only --prefix "$PREFIX/stagedglobalnetworkpolicies/")" ]' "the keys are gone from etcd"
cat >"$T/np.yaml" <<'EOF'
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: np1, namespace: prod}
spec: {selector: all(), ingress: [{action: Allow}]}
EOF
h create -f "$T/np.yaml"
expect_rc 0 "hepctl create of a namespaced NetworkPolicy"
expect_true "vcheck networkpolicies/prod/np1 'd[\"kind\"] == \"NetworkPolicy\" and d[\"metadata\"][\"namespace\"] == \"prod\"'" "at Calico's namespaced key, networkpolicies/prod/np1"
h get np np1 -n prod -o yaml
printf '%s\n' "$OUT" >"$T/np-stored.yaml"
h label np np1 -n prod tier-test=x
h delete -f "$T/np-stored.yaml"
expect_rc 1 "delete -f with a stale resourceVersion fails"
expect_err_contains "update conflict: NetworkPolicy(prod/np1)" "with calicoctl's conflict message"
expect_true '[ -n "$(ectl get --keys-only "$PREFIX/networkpolicies/prod/np1")" ]' "and the key is still there"
h delete np np1 -n prod
expect_rc 0 "delete by name"
expect_true '[ -z "$(ectl get --keys-only --prefix "$PREFIX/networkpolicies/")" ]' "the key is gone"
h get profiles
expect_out_contains "projectcalico-default-allow" "the built-in profile is listed"
expect_true '[ -z "$(ectl get --keys-only --prefix "$PREFIX/profiles/")" ]' "without a key in etcd (it is synthetic, as in Calico)"
run ip netns exec "$(ns a)" "$HEPCTL" -d "etcdv3:http://$ETCD_IP:1,$ETCD_URL" get hep a-eth0
expect_rc 0 "hepctl with two endpoints, the first one closed"
expect_out_contains "a-eth0" "answers from the second"

echo "# three hosts, one etcd: a HEP for b changes what a's source selector admits"
daemon_start b
# c's daemon has two endpoints, the first one closed: it lists and then
# watches through the one that answers.
C_SPEC="etcdv3:http://$ETCD_IP:1,$ETCD_URL"
daemon_start c --datastore "$C_SPEC"
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
expect_true '[ "$(grep -c "listing again" "$(dlog c)")" -le 1 ]' "c's daemon (endpoints $ETCD_IP:1 and $ETCD_PORT) keeps its watch on the one that answers ($(grep -c "listing again" "$(dlog c)") re-lists)"
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

# prober_start NAME: probes b -> a:8081 (denied) and a:8080 (allowed)
# over and over in the background, one line per probe in $T/probe-NAME,
# until prober_stop NAME; prober_check NAME WHAT records the verdict.
PROBER_PID=
prober_start() {
        local f="$T/probe-$1"
        rm -f "$f.stop"
        : >"$f"
        (
                while [ ! -e "$f.stop" ]; do
                        if probe_tcp b "${DATA_IP[a]}" 8081; then echo "LOOSENED 8081 at $(date +%T.%N)"; else echo "denied 8081"; fi
                        if probe_tcp b "${DATA_IP[a]}" 8080; then echo "allowed 8080"; else echo "LOST 8080 at $(date +%T.%N): $PROBE_ERR"; fi
                done >>"$f"
        ) &
        PROBER_PID=$!
}
prober_stop() {
        touch "$T/probe-$1.stop"
        wait "$PROBER_PID"
        PROBER_PID=
}
prober_check() {
        local f="$T/probe-$1" denied allowed
        denied=$(grep -c "^denied 8081" "$f")
        allowed=$(grep -c "^allowed 8080" "$f")
        expect_true '! grep -q "^LOOSENED" "$f"' "$2: a:8081 was denied by every probe ($denied)"
        expect_true '! grep -q "^LOST" "$f"' "$2: a:8080 was allowed by every probe ($allowed)"
        expect_true "[ $denied -ge 2 ]" "$2: the probes ran all along ($denied + $allowed)"
        grep -E "^(LOOSENED|LOST)" "$f" | head -5 >&2
}
CLEANUP_HOOKS=('[ -z "$PROBER_PID" ] || kill "$PROBER_PID" 2>/dev/null' "${CLEANUP_HOOKS[@]}")

echo "# etcd stopped under traffic: the rules stay and the daemons say why; started again: converged"
declare -A MARK=()
for x in "${HOSTS[@]}"; do MARK[$x]=$(log_mark "$x"); done
prober_start down
sleep 0.5
etcd_stop
for x in "${HOSTS[@]}"; do
        expect_true "wait_log $x ${MARK[$x]} '<4>etcd: cannot reach etcd at $ETCD_URL.*the resources last read stay in force, retrying in'" \
                "$x's daemon logs that etcd is gone and that its rules stay"
done
sleep 1.5
for x in "${HOSTS[@]}"; do
        expect_true "kill -0 ${DPID[$x]}" "$x's daemon keeps running without etcd"
done
if [ -n "${DBUS[a]:-}" ]; then
        expect_true '[ "$(manager State)" = degraded ]' "a's Manager.State is degraded while etcd is gone"
        expect_true '[[ "$(manager LastError)" == "cannot reach etcd at $ETCD_URL"* ]]' "and LastError says why ($(manager LastError))"
fi
h get hep
expect_rc 1 "hepctl without etcd fails"
expect_err_contains "cannot reach etcd at $ETCD_URL" "and says it cannot reach etcd"
# A reload is done when etcd has been listed again: here the list fails, so
# the reload does, and the rules stay (the prober is still running).
hup_mark=$(log_mark a)
kill -HUP "${DPID[a]}"
expect_true 'wait_log a "$hup_mark" "Reload failed: .*the previous rules stay in force" 10' \
        "SIGHUP without etcd: a's daemon says the reload failed, its rules stay"
expect_true '! tail -n +$((hup_mark + 1)) "$(dlog a)" | grep -q "Reloaded: the new ruleset is committed"' \
        "and never that it reloaded"
etcd_start
for x in "${HOSTS[@]}"; do
        expect_true "wait_log $x ${MARK[$x]} 'etcd: reachable again at .*$ETCD_URL' 10" "$x's daemon is back on etcd"
done
prober_stop down
prober_check down "etcd down and back"
if [ -n "${DBUS[a]:-}" ]; then
        expect_true 'wait_for "[ \"\$(manager State)\" = running ]"' "a's Manager.State is running again"
        expect_true '[ -z "$(manager LastError)" ]' "with no LastError"
fi
put globalnetworkpolicies/a-web "$(gnp_json a-web "role == 'a-ish'" "[$(tcp_rule Deny 8081),$(tcp_rule Allow 8080),$(tcp_rule Allow 9090)]")"
expect_true 'wait_for "probe_tcp c ${DATA_IP[a]} 9090" 5' "converged: a change made after the restart is enforced (a:9090 open to c)"
expect_blocked "and 8081 still denied" probe_tcp b "${DATA_IP[a]}" 8081

echo "# compaction past a daemon's watch: etcd cancels it, the daemon lists again, nothing loosened"
mark=$(log_mark a)
kill -STOP "${DPID[a]}"
# Writes while a's daemon reads nothing: its watch falls so far behind that
# etcd stops sending to it (a slow watcher, a "victim", counted in
# etcd_debugging_mvcc_slow_watcher_total); compaction then leaves it
# starting at a revision that no longer exists, which etcd answers by
# cancelling the watch with compact_revision. The values are small, so that
# once running again the daemon drains etcd's queue for it quickly: etcd
# before 3.4.31 and 3.5.13 skips a watcher's events instead when the
# compaction notice finds that queue full (etcd-io/etcd#17529).
run ip netns exec "$(ns etcd)" /usr/bin/python3 - "$ETCD_IP" "$ETCD_PORT" "$PREFIX/globalnetworksets/filler" 1 <<'EOF'
import base64, http.client, json, re, sys
conn = http.client.HTTPConnection(sys.argv[1], int(sys.argv[2]))
b64 = lambda s: base64.b64encode(s.encode()).decode()
def put(i):
    v = json.dumps({"kind": "GlobalNetworkSet", "apiVersion": "projectcalico.org/v3",
                    "metadata": {"name": "filler", "annotations": {"pad": "%d" % i + "x" * 8192}},
                    "spec": {"nets": ["192.0.2.0/24"]}}, separators=(",", ":"))
    conn.request("POST", "/v3/kv/put", json.dumps({"key": b64(sys.argv[3]), "value": b64(v)}))
    r = conn.getresponse()
    r.read()
    if r.status != 200:
        sys.exit("put: HTTP %d" % r.status)
def slow():
    conn.request("GET", "/metrics")
    m = re.search(r"^etcd_debugging_mvcc_slow_watcher_total (\S+)$", conn.getresponse().read().decode(), re.M)
    return float(m.group(1)) if m else 0
for i in range(20000):
    put(i)
    if i % 10 == 9 and slow() >= int(sys.argv[4]):
        # The gauge counts a watcher each time it falls behind: as many
        # puts again, so that every stopped daemon's watch surely has,
        # and its revision is well before the last one.
        for k in range(i + 1):
            put(i + 1 + k)
        print("%d puts of 8 KiB, %d slow watchers" % (2 * (i + 1), slow()))
        sys.exit(0)
sys.exit("after 20000 puts, only %d slow watchers" % slow())
EOF
expect_rc 0 "the stopped daemon's watch fell behind: $OUT$ERR"
put globalnetworkpolicies/a-web "$(gnp_json a-web "role == 'a-ish'" "[$(tcp_rule Deny 8081),$(tcp_rule Allow 8080)]")"
rev=$(ectl get / -w json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["header"]["revision"])')
run ectl compact "$rev"
expect_rc 0 "etcdctl compact $rev (the latest revision)"
prober_start compact
sleep 0.5
kill -CONT "${DPID[a]}"
expect_true 'wait_log a "$mark" "etcd: the watched revision has been compacted; listing again" 10' \
        "a's daemon: etcd cancelled its watch for the compaction, it lists again"
expect_true 'wait_for "! probe_tcp c ${DATA_IP[a]} 9090" 5' "converged: the change made before the compaction is enforced (a:9090 closed to c)"
sleep 0.5
prober_stop compact
prober_check compact "during the re-list"
ectl del "$PREFIX/globalnetworksets/filler" >/dev/null

echo "# SIGHUP: the daemon lists etcd afresh and watches on"
mark=$(log_mark a)
kill -HUP "${DPID[a]}"
expect_true 'wait_log a "$mark" "Reloaded: the new ruleset is committed"' "a's daemon reloads on SIGHUP"
put globalnetworkpolicies/a-web "$(gnp_json a-web "role == 'a-ish'" "[$(tcp_rule Deny 8081),$(tcp_rule Allow 8080),$(tcp_rule Allow 9090)]")"
expect_true 'wait_for "probe_tcp c ${DATA_IP[a]} 9090" 5' "a change after the reload is enforced (a:9090 open to c)"
expect_blocked "8081 still denied" probe_tcp b "${DATA_IP[a]}" 8081

echo "# TLS: etcd with client certificates; hepctl and the daemon with ?ca=&cert=&key= and a CalicoAPIConfig"
TLS="$T/tls"
mkdir -p "$TLS"
# mkcert NAME CN EXT [CA]: an EC key and a certificate signed by CA (default: ours).
mkcert() {
        local ca=${4:-ca}
        openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$TLS/$1-key.pem" \
                -out "$TLS/$1.csr" -subj "/CN=$2" 2>/dev/null &&
                openssl x509 -req -in "$TLS/$1.csr" -CA "$TLS/$ca.pem" -CAkey "$TLS/$ca-key.pem" -CAcreateserial \
                        -out "$TLS/$1.pem" -days 1 -extfile <(printf '%s\n' "$3") 2>/dev/null
}
for ca in ca wrong-ca; do
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$TLS/$ca-key.pem" \
                -out "$TLS/$ca.pem" -days 1 -subj "/CN=hep-test-$ca" 2>/dev/null || _netns_die "openssl: cannot make $ca"
done
# clientAuth too: etcd 3.4's JSON gateway dials etcd's own gRPC server with
# the server certificate, which --client-cert-auth then checks as a client's
# (without it, every gateway call fails with HTTP 503 "connection closed").
mkcert server etcd "subjectAltName=IP:$ETCD_IP
extendedKeyUsage=serverAuth,clientAuth" || _netns_die "openssl: cannot make the server certificate"
mkcert client hep-client "extendedKeyUsage=clientAuth" || _netns_die "openssl: cannot make the client certificate"
mkcert stranger hep-stranger "extendedKeyUsage=clientAuth" wrong-ca || _netns_die "openssl: cannot make the stranger's certificate"
# The daemon runs as its own user: it reads the client key through its group.
if getent group "$DAEMON_USER" >/dev/null; then
        chgrp -R "$DAEMON_USER" "$TLS"
        chmod 750 "$TLS"
        chmod 640 "$TLS"/*
fi
for x in "${HOSTS[@]}"; do daemon_stop "$x"; done
PLAIN_URL=$ETCD_URL
etcd_stop
ETCD_URL="https://$ETCD_IP:$ETCD_TLS_PORT"
export ETCDCTL_CACERT="$TLS/ca.pem" ETCDCTL_CERT="$TLS/client.pem" ETCDCTL_KEY="$TLS/client-key.pem"
ETCD_TLS_ARGS=(--cert-file "$TLS/server.pem" --key-file "$TLS/server-key.pem" --client-cert-auth --trusted-ca-file "$TLS/ca.pem")
etcd_start "$ETCD_URL" "${ETCD_TLS_ARGS[@]}"
CHECKS=$((CHECKS + 1))
pass "etcd serves only TLS with client certificates now, on $ETCD_URL"
run env -u ETCDCTL_CACERT -u ETCDCTL_CERT -u ETCDCTL_KEY ip netns exec "$(ns etcd)" "$ETCDCTL" --endpoints="$PLAIN_URL" --dial-timeout=1s get /x
expect_rc 1 "the plain endpoint is gone"
DSPEC="etcdv3:$ETCD_URL?ca=$TLS/ca.pem&cert=$TLS/client.pem&key=$TLS/client-key.pem"
h get hep
expect_rc 0 "hepctl -d 'etcdv3:https://…?ca=&cert=&key=' reads etcd over TLS"
expect_out "$(printf 'NAME     NODE   \na-eth0   a      \nb-eth0   b      \nc-eth0   c      ')" "the same HEPs as before"
cat >"$T/calicoctl.cfg" <<EOF
apiVersion: projectcalico.org/v3
kind: CalicoAPIConfig
metadata: {}
spec:
  datastoreType: etcdv3
  etcdEndpoints: $ETCD_URL
  etcdCACertFile: $TLS/ca.pem
  etcdCertFile: $TLS/client.pem
  etcdKeyFile: $TLS/client-key.pem
EOF
cat >"$T/c-8081.yaml" <<'EOF'
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: c-no-8081}
spec:
  order: 5
  selector: role == 'c-ish'
  ingress: [{action: Deny, protocol: TCP, destination: {ports: [8081]}}]
EOF
run ip netns exec "$(ns c)" env -u HEP_DATASTORE "$HEPCTL" --config "$T/calicoctl.cfg" get gnp
expect_rc 0 "hepctl --config with calicoctl's CalicoAPIConfig (etcdv3, certificates)"
expect_out_contains "a-from-b" "lists the policies"
run ip netns exec "$(ns c)" env -u HEP_DATASTORE ETCD_ENDPOINTS="$ETCD_URL" ETCD_CA_CERT_FILE="$TLS/ca.pem" \
        ETCD_CERT_FILE="$TLS/client.pem" ETCD_KEY_FILE="$TLS/client-key.pem" "$HEPCTL" get hep c-eth0 -o yaml
expect_rc 0 "hepctl with calicoctl's ETCD_* environment and no -d"
expect_out_contains "interfaceName: eth0" "reads the HEP"
daemon_start c
expect_true 'grep -q "for node .c. on etcdv3:https://" "$(dlog c)"' "c's daemon is ready on etcd over TLS"
expect_pass "before: c serves 8081 to a" probe_tcp a "${DATA_IP[c]}" 8081
run ip netns exec "$(ns c)" "$HEPCTL" --config "$T/calicoctl.cfg" create -f "$T/c-8081.yaml"
expect_rc 0 "hepctl --config creates a policy over TLS"
expect_true "vcheck globalnetworkpolicies/c-no-8081 'd[\"metadata\"][\"name\"] == \"c-no-8081\" and d[\"spec\"][\"order\"] == 5'" "etcdctl (with the client certificate) reads it at Calico's key"
expect_true 'wait_for "! probe_tcp a ${DATA_IP[c]} 8081" 5' "c's daemon, on TLS, enforces it: c:8081 denied"
expect_pass "c:8080 still served" probe_tcp a "${DATA_IP[c]}" 8080

echo "# TLS refused: a CA that did not sign etcd's certificate, a client certificate etcd does not trust"
run ip netns exec "$(ns a)" "$HEPCTL" -d "etcdv3:$ETCD_URL?ca=$TLS/wrong-ca.pem&cert=$TLS/client.pem&key=$TLS/client-key.pem" get hep
expect_rc 1 "hepctl with the wrong CA fails"
expect_err_contains "cannot reach etcd at $ETCD_URL: certificate verify failed: unable to get local issuer certificate" "and says it cannot verify etcd's certificate"
echo "  ($ERR)"
run ip netns exec "$(ns a)" "$HEPCTL" -d "etcdv3:$ETCD_URL?ca=$TLS/ca.pem&cert=$TLS/stranger.pem&key=$TLS/stranger-key.pem" get hep
expect_rc 1 "hepctl with a client certificate etcd does not trust fails"
expect_err_contains "cannot reach etcd at $ETCD_URL" "and says it cannot reach etcd"
# etcd's alert, or (TLS 1.3: etcd checks the certificate after the
# handshake) the reset that may overtake it.
expect_true '[[ "$ERR" == *"the server refused the TLS session: "*certificate* || "$ERR" == *"the server reset the TLS connection"* ]]' \
        "because etcd refused the TLS session"
echo "  ($ERR)"
run ip netns exec "$(ns a)" "$HEPCTL" -d "etcdv3:$ETCD_URL?ca=$TLS/no-such-ca.pem" get hep
expect_rc 1 "hepctl with a CA file that does not exist fails"
expect_err_contains "cannot reach etcd at $ETCD_URL: cannot read the CA file $TLS/no-such-ca.pem: No such file or directory" \
        "and names the file"
run ip netns exec "$(ns a)" "$HEPCTL" -d "etcdv3:$ETCD_URL" get hep
expect_rc 1 "hepctl with no certificates at all fails"
expect_err_contains "cannot reach etcd at $ETCD_URL" "and says it cannot reach etcd"
echo "  ($ERR)"
before=$(nft_dump b)
: >"$(dlog b)"
ip netns exec "$(ns b)" "$HOSTENDPOINTD" --datastore "etcdv3:$ETCD_URL?ca=$TLS/wrong-ca.pem&cert=$TLS/client.pem&key=$TLS/client-key.pem" \
        --nodename b --bus none --log-level debug 2>>"$(dlog b)" &
DPID[b]=$!
expect_true 'wait_log b 0 "<4>etcd: cannot reach etcd at $ETCD_URL: certificate verify failed: unable to get local issuer certificate.*retrying" 10' "a daemon with the wrong CA says etcd's certificate cannot be verified, and retries"
expect_true 'wait_log b 0 "Waiting for datastore"' "it waits for etcd's first answer"
expect_true '! grep -q "Ready:" "$(dlog b)"' "and is not ready"
expect_true '[ "$before" = "$(nft_dump b)" ]' "b's table, left by its previous run, is untouched: nothing committed before etcd answers"
daemon_stop b

echo "# etcd's authentication: hepctl and the daemon as a user, and again once etcd has restarted"
# Server TLS alone: etcd's JSON gateway, which hepctl and the daemon use,
# refuses every request when --client-cert-auth and authentication are both
# on ("CommonName of client sending a request against gateway will be
# ignored and not used as expected"); calicoctl, on gRPC, is not affected.
etcd_stop
ETCD_TLS_ARGS=(--cert-file "$TLS/server.pem" --key-file "$TLS/server-key.pem")
etcd_start "$ETCD_URL" "${ETCD_TLS_ARGS[@]}"
ectl user add root --new-user-password=rootpw >/dev/null &&
        ectl user grant-role root root >/dev/null &&
        ectl user add hep --new-user-password=heppw >/dev/null &&
        ectl role add calico >/dev/null &&
        ectl role grant-permission calico --prefix=true readwrite /calico/ >/dev/null &&
        ectl user grant-role hep calico >/dev/null &&
        ectl auth enable >/dev/null || _netns_die "cannot enable etcd's authentication"
export ETCDCTL_USER=root:rootpw
h get hep
expect_rc 1 "hepctl without a user is refused once authentication is on"
expect_err_contains "etcd at $ETCD_URL refused /v3/kv/range" "with etcd's message"
echo "  ($ERR)"
run ip netns exec "$(ns a)" env ETCD_USERNAME=hep ETCD_PASSWORD=heppw "$HEPCTL" -d "$DSPEC" get hep
expect_rc 0 "hepctl with ETCD_USERNAME/ETCD_PASSWORD"
expect_out_contains "b-eth0" "reads the HEPs"
run ip netns exec "$(ns a)" env ETCD_USERNAME=hep ETCD_PASSWORD=wrong "$HEPCTL" -d "$DSPEC" get hep
expect_rc 1 "a wrong password is refused"
expect_err_contains "authentication failed" "with etcd's message"
cat >"$T/calicoctl-auth.cfg" <<EOF
apiVersion: projectcalico.org/v3
kind: CalicoAPIConfig
metadata: {}
spec:
  datastoreType: etcdv3
  etcdEndpoints: $ETCD_URL
  etcdUsername: hep
  etcdPassword: heppw
  etcdCACertFile: $TLS/ca.pem
  etcdCertFile: $TLS/client.pem
  etcdKeyFile: $TLS/client-key.pem
EOF
cat >"$T/b-8081.yaml" <<'EOF'
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: b-no-8081}
spec:
  order: 5
  selector: role == 'b-ish'
  ingress: [{action: Deny, protocol: TCP, destination: {ports: [8081]}}]
EOF
export ETCD_USERNAME=hep ETCD_PASSWORD=heppw
daemon_start b
unset ETCD_USERNAME ETCD_PASSWORD
CHECKS=$((CHECKS + 1))
pass "b's daemon, as user hep (ETCD_USERNAME), lists etcd and is ready"
expect_pass "before: b serves 8081 to a" probe_tcp a "${DATA_IP[b]}" 8081
run ip netns exec "$(ns a)" "$HEPCTL" --config "$T/calicoctl-auth.cfg" create -f "$T/b-8081.yaml"
expect_rc 0 "hepctl --config with etcdUsername/etcdPassword creates a policy"
expect_true 'wait_for "! probe_tcp a ${DATA_IP[b]} 8081" 5' "b's daemon watches as hep: b:8081 denied"
mark=$(log_mark b)
etcd_stop
etcd_start "$ETCD_URL" "${ETCD_TLS_ARGS[@]}"
run ip netns exec "$(ns a)" "$HEPCTL" --config "$T/calicoctl-auth.cfg" delete gnp b-no-8081
expect_rc 0 "etcd restarted (its tokens forgotten): hepctl deletes the policy"
expect_true 'wait_for "probe_tcp a ${DATA_IP[b]} 8081" 10' "b's daemon authenticated again and took the change: b:8081 served"
expect_true 'wait_log b "$mark" "etcd: reachable again"' "b's daemon says etcd is back"
