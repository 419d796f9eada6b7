# SPDX-License-Identifier: GPL-2.0-or-later
# What the daemon benchmarks share (sourced): their setup (bench_init),
# a datastore, hostendpointd started in $NS and stopped, percentiles.

PY=/usr/bin/python3

# bench_init BUILDDIR: DAEMON, a temporary directory T and a namespace
# name NS (and NS-peer), removed at exit with the daemon ($PID) and
# whatever runs in them.
bench_init() {
        BUILD=$(cd "${1:-build}" && pwd)
        DAEMON="$BUILD/module/hostendpointd"
        [ -x "$DAEMON" ] || { echo "build first: meson setup build && ninja -C build" >&2; exit 1; }
        T=$(mktemp -d /tmp/hep-bench-XXXXXX)
        chmod 711 "$T" # hostendpointd runs as its own user
        NS="hep-bench-$$"
        PID=
        trap bench_cleanup EXIT
}

bench_cleanup() {
        [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
        for p in $(ip netns pids "$NS" 2>/dev/null); do kill "$p" 2>/dev/null; done
        ip netns del "$NS" 2>/dev/null
        ip netns del "$NS-peer" 2>/dev/null
        rm -rf "$T"
}

# gen_policies DIR N_POLICIES: policies.yaml, policies of 10 rules (8 with
# a selector on the source) selecting HEPs labelled app=a0..a49.
gen_policies() {
        $PY - "$@" <<'PY'
import os, sys
d, npol = sys.argv[1], int(sys.argv[2])
os.makedirs(d, exist_ok=True)
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
PY
        gen_policies "$1" "$4"
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
