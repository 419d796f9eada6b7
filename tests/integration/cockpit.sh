#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The Cockpit page (packaging/cockpit/) in a real browser: headless
# Chromium, driven by chromedriver (WebDriver), opens the page from the
# source tree through cockpit-ws (--local-session=cockpit-bridge, no TLS,
# on loopback), whose bridge reads the real hostendpointd on the test's
# private system bus. The page shows the daemon's state, its interfaces
# and endpoints; a veth hot-plugged under a HostEndpoint's name shows up
# enforced within a second, and disappears when it is deleted; while the
# page sits idle it calls nothing on the bus. Screenshots go to the build
# directory. Skips (77) without cockpit-ws or Chromium.
#
#   +-------------------+  eth0  +-------------------------------+
#   | hep-<pid>-peer    |--------| hep-<pid>-host: hostendpointd |
#   +-------------------+  veth  |   + hep1 (hot-plugged later)  |
#                                +-------------------------------+
#   cockpit-ws :PORT <- chromedriver <- Chromium     (root namespace)
. "$(dirname "$0")/lib.sh"
COCKPIT_WS=/usr/lib/cockpit/cockpit-ws
for tool in "$COCKPIT_WS" cockpit-bridge chromium chromedriver; do
        command -v "$tool" >/dev/null ||
                { echo "skipping: $tool is not installed (tools/install-deps.sh installs cockpit-ws, cockpit-bridge, chromium, chromium-driver)"; exit 77; }
done
. "$(dirname "$0")/lib-netns.sh"
. "$(dirname "$0")/lib-daemon.sh"
. "$(dirname "$0")/lib-bus.sh"
netns_require

SHOTS="$BUILDDIR/meson-logs/cockpit"
mkdir -p "$SHOTS"
WD="$HEP_PYTHON $SRCDIR/tests/integration/webdriver.py"

# Processes of ours outside the namespaces (cockpit-ws, its bridge and what
# the bridge starts, chromedriver and its Chromium), stopped by PID: first
# the whole tree under each, as it is when the test ends.
_descendants() { # PID: every descendant's PID, children first
        local c
        for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
                _descendants "$c"
                echo "$c"
        done
}
_stop_tree() { # PID
        local pid=$1 p tree
        [ -n "$pid" ] || return 0
        tree=$(_descendants "$pid")
        kill "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        for p in $tree; do kill "$p" 2>/dev/null; done
        for p in $tree; do _netns_poll 2 _netns_dead "$p" || kill -KILL "$p" 2>/dev/null; done
}
WS_PID= DRIVER_PID= SESSION= MONITOR_PID=
_cockpit_cleanup() {
        [ -n "$SESSION" ] && $WD "$DRIVER" "$SESSION" quit 2>/dev/null
        _stop_tree "$DRIVER_PID"
        _stop_tree "$WS_PID"
        [ -n "$MONITOR_PID" ] && { kill "$MONITOR_PID" 2>/dev/null; wait "$MONITOR_PID" 2>/dev/null; }
        return 0
}
# Before the bus and the namespaces go.
CLEANUP_HOOKS=("_cockpit_cleanup" "${CLEANUP_HOOKS[@]}")

# free_port: a TCP port on loopback that nothing listens on now.
free_port() {
        $HEP_PYTHON -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

topo_two_hosts
bus_start
put_resource heps.yaml <<'EOF'
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: web.host, labels: {role: web}}
spec: {node: node1, interfaceName: eth0, expectedIPs: [10.77.0.1]}
---
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: hotplug, labels: {role: web}}
spec: {node: node1, interfaceName: hep1}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: allow-http}
spec:
  order: 10
  selector: role == 'web'
  ingress: [{action: Allow, protocol: TCP, destination: {ports: [80]}}]
  egress: [{action: Allow}]
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: allow-ssh}
spec:
  order: 20
  selector: role == 'web'
  ingress: [{action: Allow, protocol: TCP, destination: {ports: [22]}}]
EOF
start_daemon --bus "$BUS"
expect_true 'wait_log "D-Bus: serving"' "hostendpointd serves on the test's private system bus"

echo "# cockpit-ws serves the page of the source tree"
# Cockpit finds packages in the cockpit folder of each XDG_DATA_DIRS entry
# (its own base1 stays in /usr/share), and of XDG_DATA_HOME first: both
# point at the test's directory, so an installed copy cannot be used.
mkdir -p "$T/share/cockpit" "$T/home/share"
ln -s "$SRCDIR/packaging/cockpit" "$T/share/cockpit/hostendpoint"
for i in 1 2 3; do
        PORT=$(free_port)
        env DBUS_SYSTEM_BUS_ADDRESS="$BUS" XDG_DATA_DIRS="$T/share:/usr/share" XDG_DATA_HOME="$T/home/share" \
                "$COCKPIT_WS" --no-tls --local-session=cockpit-bridge -p "$PORT" -a 127.0.0.1 \
                >"$T/cockpit-ws.log" 2>&1 &
        WS_PID=$!
        wait_for "curl -sf -o /dev/null http://127.0.0.1:$PORT/cockpit/@localhost/manifests.json || ! kill -0 $WS_PID" 10
        kill -0 "$WS_PID" 2>/dev/null && break
        wait "$WS_PID"
        WS_PID=
done
[ -n "$WS_PID" ] || { fail "cockpit-ws did not start: $(cat "$T/cockpit-ws.log")"; exit 1; }
URL="http://127.0.0.1:$PORT/cockpit/@localhost/hostendpoint"
run curl -sf "http://127.0.0.1:$PORT/cockpit/@localhost/manifests.json"
expect_out_contains '"hostendpoint":{' "cockpit-ws lists the hostendpoint package"
run curl -sf "$URL/hostendpoint.js"
expect_true '[ "$OUT" = "$(cat "$SRCDIR/packaging/cockpit/hostendpoint.js")" ]' "and serves its hostendpoint.js from the source tree"

echo "# Chromium opens the page"
DRIVER_PORT=$(free_port)
chromedriver --port="$DRIVER_PORT" >"$T/chromedriver.log" 2>&1 &
DRIVER_PID=$!
DRIVER="http://127.0.0.1:$DRIVER_PORT"
wait_for "curl -sf -o /dev/null $DRIVER/status" 10 || { fail "chromedriver did not start: $(cat "$T/chromedriver.log")"; exit 1; }
SESSION=$($WD "$DRIVER" start "$T/chromium")
[ -n "$SESSION" ] || { fail "no WebDriver session"; exit 1; }
wd() { $WD "$DRIVER" "$SESSION" "$@"; }
# page_wait EXPR [SECONDS]: until EXPR is truthy in the page ($OUT: value and ms waited).
page_wait() { run wd wait "$1" "${2:-10}"; [ "$RC" -eq 0 ]; }
row() { # TABLE NAME: JS for that table's row of that name
        printf 'document.querySelector("#%s tbody tr[data-name=\\"%s\\"]")' "$1" "$2"
}
wd open "$URL/index.html"
expect_true 'page_wait "document.getElementById(\"app\").dataset.ready === \"true\""' "the page loads its data from the bus"
expect_true 'page_wait "document.getElementById(\"manager-state\").textContent === \"running\""' "it shows the Manager's State: running"
run wd js 'document.getElementById("manager-nodename").textContent + " " + document.getElementById("manager-datastore").textContent'
expect_out "\"node1 dir:$DS\"" "its NodeName and Datastore"
expect_true "page_wait '$(row interfaces eth0) && $(row interfaces eth0).dataset.enforced === \"true\"'" \
        "the existing interface eth0, enforced"
run wd js "$(row interfaces eth0).innerText"
expect_out_contains "web.host" "eth0's row names its endpoint, web.host"
expect_out_contains "10.77.0.1" "and its address"
run wd js "$(row endpoints web.host).innerText"
expect_out_contains "enforced" "the endpoint web.host is enforced"
run wd js "Array.from($(row endpoints web.host).querySelectorAll(\"ol li\")).map(li => li.textContent).join(\",\")"
expect_out '"allow-http,allow-ssh"' "its policies, in order"
expect_true "page_wait '$(row endpoints hotplug) && $(row endpoints hotplug).dataset.state === \"waiting\"'" \
        "the endpoint hotplug is waiting for its interface"
expect_true "page_wait '! document.getElementById(\"admin\").hidden'" "root is offered Reload and Apply"
wd screenshot "$SHOTS/cockpit-loaded.png"
echo "  screenshot: $SHOTS/cockpit-loaded.png"
