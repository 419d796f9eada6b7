#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# hostendpointd and hepctl on etcd (run as root): a real etcd (Debian's
# etcd-server) in a network namespace of its own making, holding 10,000
# HostEndpoints (100 of this node) and 1,000 policies of 10 rules, written
# by hepctl in Calico's layout. Prints:
#  1. loading them with hepctl create (one transaction each);
#  2. cold start: from starting hostendpointd to its first commit (target
#     <= 1.5 s), RUNS times;
#  3. a watch event to its commit: a remote HEP's labels rewritten in etcd
#     (a put on the JSON gateway over a kept connection) until the daemon
#     logs the commit, 200 times (target p99 <= 10 ms, etcd's delivery
#     included);
#  4. hostendpointd's RSS on etcd (target <= 35 MB);
#  5. hepctl get hostendpoints -l SELECTOR over etcd (target <= 400 ms).
# Usage: bench/bench-etcd.sh [BUILDDIR] (RUNS=3 by default)
set -u
. "$(dirname "$0")/lib-daemon.sh"
bench_init "${1:-build}"
HEPCTL="$BUILD/cli/hepctl"
RUNS=${RUNS:-3}
command -v etcd >/dev/null || { echo "etcd not found (apt-get install etcd-server etcd-client)" >&2; exit 1; }

ip netns add "$NS" || exit 1
ip -n "$NS" link set lo up
# etcd on the namespace's own loopback: nothing of the machine's is used.
ip netns exec "$NS" etcd --data-dir "$T/etcd" --listen-client-urls http://127.0.0.1:2379 \
        --advertise-client-urls http://127.0.0.1:2379 --listen-peer-urls http://127.0.0.1:2380 \
        --quota-backend-bytes 4294967296 >"$T/etcd.log" 2>&1 &
DS=etcdv3:http://127.0.0.1:2379
until ip netns exec "$NS" "$HEPCTL" -d "$DS" get tiers >/dev/null 2>&1; do sleep 0.1; done

echo "== 1. loading 10000 HEPs (100 local) and 1000 policies x 10 rules with hepctl create"
gen "$T/ds" 10000 100 1000
s=$(date +%s%N)
ip netns exec "$NS" "$HEPCTL" -d "$DS" create -f "$T/ds/heps.yaml" >/dev/null || exit 1
ip netns exec "$NS" "$HEPCTL" -d "$DS" create -f "$T/ds/policies.yaml" >/dev/null || exit 1
echo "loaded 11000 resources in $((($(date +%s%N) - s) / 1000000)) ms"

start_etcd() {
        ip netns exec "$NS" "$DAEMON" --datastore "$DS" --nodename bench --bus none --log-level debug 2>"$T/log" &
        PID=$!
}

echo "== 2. cold start to the first commit ($RUNS runs)"
for i in $(seq "$RUNS"); do
        s=$(date +%s%N)
        start_etcd
        until grep -q "Ready" "$T/log"; do
                kill -0 "$PID" 2>/dev/null || { cat "$T/log"; exit 1; }
                sleep 0.005
        done
        echo $((($(date +%s%N) - s) / 1000)) >>"$T/cold-us"
        [ "$i" -lt "$RUNS" ] && stop
done
awk '{print $1 / 1000}' "$T/cold-us" | percentiles "cold start to the first commit (target <= 1500 ms)"

echo "== 3. a watch event to its commit (200 changes of a remote HEP's labels)"
sleep 1
ip netns exec "$NS" "$PY" - "$T/log" <<'PY' | percentiles "etcd put to commit (target p99 <= 10 ms)"
import base64, http.client, json, sys, time
log = sys.argv[1]
conn = http.client.HTTPConnection("127.0.0.1", 2379)
key = "/calico/resources/v3/projectcalico.org/hostendpoints/hep5000"
def commits():
    with open(log, "rb") as f:
        return f.read().count(b"Committed in")
for i in range(200):
    value = {"kind": "HostEndpoint", "apiVersion": "projectcalico.org/v3",
             "metadata": {"name": "hep5000", "uid": "0f8a3a43-7c2e-4f6e-9d55-6a0a5b3f0e01",
                          "creationTimestamp": "2026-12-07T00:00:00Z",
                          "labels": {"app": "a0", "tier": "t%d" % (i % 7)}},
             "spec": {"node": "node0", "expectedIPs": ["10.150.19.%d" % (i % 250 + 1)],
                      "ports": [{"name": "http", "protocol": "TCP", "port": 8080}]}}
    body = json.dumps({"key": base64.b64encode(key.encode()).decode(),
                       "value": base64.b64encode(json.dumps(value, separators=(",", ":")).encode()).decode()})
    n = commits()
    start = time.monotonic()
    conn.request("POST", "/v3/kv/put", body, {"Content-Type": "application/json"})
    conn.getresponse().read()
    while commits() <= n:
        time.sleep(0.0002)
    print((time.monotonic() - start) * 1000)
    time.sleep(0.03)
PY

# The daemon's own account of the same commits: event to commit, and the
# computing and nftables parts of it, and the kernel's part of nftables'.
grep "Committed in" "$T/log" | tail -200 |
        sed -n 's/.*event to commit \([0-9]*\) us; computing \([0-9]*\) us, nftables \([0-9]*\) us, kernel \([0-9]*\) us.*/\1 \2 \3 \4/p' >"$T/parts"
awk '{print $1 / 1000}' "$T/parts" | percentiles "  in the daemon: watch event to commit"
awk '{print $2 / 1000}' "$T/parts" | percentiles "  of which computing"
awk '{print $3 / 1000}' "$T/parts" | percentiles "  of which nftables"
awk '{print $4 / 1000}' "$T/parts" | percentiles "    of which the kernel (the netlink batch's sendmsg)"

echo "== 4. memory"
sleep 3
echo "RSS of hostendpointd on etcd: $(grep VmRSS /proc/$PID/status | awk '{print $2}') kB (target <= 35840 kB)"
stop

echo "== 5. hepctl get hostendpoints -l over etcd ($RUNS runs)"
for i in $(seq "$RUNS"); do
        s=$(date +%s%N)
        n=$(ip netns exec "$NS" "$HEPCTL" -d "$DS" get hostendpoints -l "app == 'a1'" | wc -l)
        echo $((($(date +%s%N) - s) / 1000)) >>"$T/get-us"
done
echo "($((n - 1)) HEPs listed)"
awk '{print $1 / 1000}' "$T/get-us" | percentiles "hepctl get -l (target <= 400 ms)"
