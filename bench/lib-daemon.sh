# SPDX-License-Identifier: GPL-2.0-or-later
# What the daemon benchmarks share (sourced; they set PY, DAEMON, NS and
# T): a datastore, hostendpointd started in $NS and stopped, percentiles.

# gen DIR N_HEPS N_LOCAL N_POLICIES: HostEndpoints matched by address (the
# first N_LOCAL of this node, "bench", expecting 10.150.0.1, 10.150.0.2,
# ...; the others spread over 50 nodes), and policies of 10 rules (8 with
# a selector on the source) selecting them by label.
gen() {
        $PY - "$@" <<'PY'
import os, sys
d, n, local, npol = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
os.makedirs(d, exist_ok=True)
with open(os.path.join(d, "heps.yaml"), "w") as f:
    for i in range(n):
        node = "bench" if i < local else "node%d" % (i % 50)
        f.write("---\napiVersion: projectcalico.org/v3\nkind: HostEndpoint\n"
                "metadata: {name: hep%d, labels: {app: a%d, tier: t%d}}\n"
                "spec: {node: %s, expectedIPs: [10.%d.%d.%d], ports: [{name: http, protocol: TCP, port: 8080}]}\n"
                % (i, i % 50, i % 7, node, 150 + (i >> 16), (i >> 8) & 255, (i & 255) + 1 if i < local else i & 255))
with open(os.path.join(d, "policies.yaml"), "w") as f:
    for p in range(npol):
        f.write("---\napiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\n"
                "metadata: {name: pol%d}\nspec:\n  order: %d\n  selector: app == 'a%d'\n  ingress:\n" % (p, p, p % 50))
        for r in range(8):
            f.write("  - {action: Allow, protocol: TCP, source: {selector: tier == 't%d'}, destination: {ports: [%d]}}\n" % ((p + r) % 7, 1000 + r))
        f.write("  - {action: Allow, protocol: TCP, destination: {ports: [http]}}\n")
        f.write("  - {action: Deny, protocol: UDP, source: {nets: [10.%d.0.0/16]}}\n" % (p % 200))
PY
}

# start DATASTORE: hostendpointd in $NS, as node bench; $PID, its log in $T/log.
start() { # DATASTORE
        ip netns exec "$NS" "$DAEMON" --datastore "dir:$1" --nodename bench --bus none --log-level debug 2>"$T/log" &
        PID=$!
        until grep -q "Ready" "$T/log"; do
                kill -0 "$PID" 2>/dev/null || { cat "$T/log"; exit 1; }
                sleep 0.05
        done
}

# stop: SIGTERM, and wait.
stop() {
        kill "$PID"
        wait "$PID" 2>/dev/null
        PID=
}

percentiles() { # label, then one number per line on stdin
        $PY -c '
import sys
v = sorted(float(x) for x in sys.stdin if x.strip())
if not v: sys.exit("no samples")
p = lambda q: v[min(len(v) - 1, int(q * len(v)))]
print("%s: n=%d p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms" % (sys.argv[1], len(v), p(.5), p(.9), p(.99), v[-1]))
' "$1"
}
