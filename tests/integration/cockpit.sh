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
WS_PID='' DRIVER_PID='' SESSION='' MONITOR_PID=''
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
# Flow logs on, when this hostendpointd has them.
FLOW_LOGS=false FLOW_ARGS=()
if "$HOSTENDPOINTD" --help | grep -q -- --flow-logs; then
        FLOW_LOGS=true FLOW_ARGS=(--flow-logs=yes)
fi
start_daemon --bus "$BUS" "${FLOW_ARGS[@]}"
expect_true 'wait_log "D-Bus: serving"' "hostendpointd serves on the test's private system bus"

echo "# cockpit-ws serves the page of the source tree"
# Cockpit finds packages in the cockpit folder of each XDG_DATA_DIRS entry
# (its own base1 stays in /usr/share), and of XDG_DATA_HOME first: both
# point at the test's directory, so an installed copy cannot be used.
mkdir -p "$T/share/cockpit" "$T/home/share"
ln -s "$SRCDIR/packaging/cockpit" "$T/share/cockpit/hostendpoint"
for _ in 1 2 3; do
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

echo "# a hot-plugged interface under a HostEndpoint's name: shown enforced within a second"
# A MutationObserver in the page notes (Date.now(), the same clock as
# EPOCHREALTIME) when the row appears enforced and when it is gone; the
# time from "ip link add" to that is the page's whole path: the kernel,
# hostendpointd's commit, its D-Bus signals, cockpit-bridge, cockpit-ws,
# the browser.
WATCH='(() => {
        const sel = "#interfaces tbody tr[data-name=\"hep1\"]";
        window.hepShown = window.hepGone = null;
        const check = () => {
                const r = document.querySelector(sel);
                if (r && r.dataset.enforced === "true" && !window.hepShown)
                        window.hepShown = Date.now();
                if (!r && window.hepShown && !window.hepGone)
                        window.hepGone = Date.now();
        };
        if (window.hepObserver)
                window.hepObserver.disconnect();
        window.hepObserver = new MutationObserver(check);
        window.hepObserver.observe(document.getElementById("interfaces"), {subtree: true, childList: true, attributes: true});
        return true;
})()'
now_ms() { local t=${EPOCHREALTIME//[.,]/}; echo $((t / 1000)); }
SHOWN_MS=()
GONE_MS=()
for cycle in 1 2 3; do
        wd js "$WATCH" >/dev/null
        t0=$(now_ms)
        ip -n "$(ns host)" link add hep1 type veth peer name hep1p netns "$(ns peer)"
        if page_wait "window.hepShown" 5; then
                SHOWN_MS+=($((${OUT%% *} - t0)))
        else
                SHOWN_MS+=(never)
        fi
        if [ "$cycle" = 1 ]; then
                run wd js "$(row endpoints hotplug).dataset.state + \" \" + $(row endpoints hotplug).innerText"
                expect_out_contains "enforced" "the endpoint hotplug is now enforced"
                expect_out_contains "hep1" "on hep1"
                ip -n "$(ns host)" link set hep1 up
                ip -n "$(ns peer)" link set hep1p up
                expect_true "page_wait '$(row interfaces hep1).cells[1].textContent === \"up\"'" "hep1's state follows it up"
                wd screenshot "$SHOTS/cockpit-hotplug.png"
                echo "  screenshot: $SHOTS/cockpit-hotplug.png"
        fi
        t0=$(now_ms)
        ip -n "$(ns host)" link del hep1
        if page_wait "window.hepGone" 5; then
                GONE_MS+=($((${OUT%% *} - t0)))
        else
                GONE_MS+=(never)
        fi
done
echo "  ip link add -> page shows hep1 enforced (ms): ${SHOWN_MS[*]}"
echo "  ip link del -> hep1 gone from the page (ms): ${GONE_MS[*]}"
for ms in "${SHOWN_MS[@]}"; do
        expect_true "[ '$ms' != never ] && [ '$ms' -lt 1000 ]" "the page shows hep1 enforced within a second ($ms ms)"
done
for ms in "${GONE_MS[@]}"; do
        expect_true "[ '$ms' != never ] && [ '$ms' -lt 1000 ]" "and drops it within a second of its removal ($ms ms)"
done
expect_true "page_wait '$(row endpoints hotplug).dataset.state === \"waiting\"'" "hotplug is waiting again"

echo "# idle, the page calls nothing on the bus; the counters are read when asked"
# dbus-monitor sees every method call on the test's bus. The window is a
# fixed time by nature: it watches for calls that must not come.
dbus-monitor --address "$BUS" "type='method_call'" >"$T/monitor.log" 2>&1 &
MONITOR_PID=$!
wait_for 'grep -q NameAcquired "$T/monitor.log"' 5
calls() { grep -c '^method call' "$T/monitor.log"; }
sleep 5
expect_true '[ "$(calls)" = 0 ]' "no method call in 5 idle seconds (saw $(calls): $(grep -A1 '^method call' "$T/monitor.log" | head -6))"
WEB_PATH=$(endpoint_path web.host)
dropped_shown() { wd js "$(row endpoints web.host).cells[5].textContent"; }
BEFORE=$(dropped_shown)
for _ in 1 2 3; do probe_ping peer "$HOST_IP4"; done
expect_true '[ "$(prop "$WEB_PATH" Endpoint PacketsDropped)" -ge 3 ]' "pings to web.host are dropped (its counter: $(prop "$WEB_PATH" Endpoint PacketsDropped))"
expect_true '[ "$(dropped_shown)" = "$BEFORE" ]' "the page still shows the counter it read ($BEFORE): no polling"
wd click "#refresh-counters"
expect_true "page_wait '$(row endpoints web.host).cells[5].textContent === \"$(prop "$WEB_PATH" Endpoint PacketsDropped)\"'" \
        "Refresh counters shows the kernel's count ($(prop "$WEB_PATH" Endpoint PacketsDropped))"
expect_true 'grep -q "member=GetAll" "$T/monitor.log"' "read with GetAll, on the click (the monitor sees calls: $(calls))"
expect_true "page_wait 'document.getElementById(\"counters-time\").textContent.startsWith(\"Counters as of\")'" "and says when they were read"

echo "# the flow log"
if [ "$FLOW_LOGS" = true ]; then
        expect_true "page_wait 'document.getElementById(\"flows-status\").dataset.flowlogs === \"on\"'" "the page says flow logs are on"
        # An allowed connection (allow-http): its flow is logged once, at
        # its first packet.
        serve_tcp host 80
        expect_true 'probe_tcp peer "$HOST_IP4" 80' "a connection allow-http allows"
        expect_true "page_wait 'document.querySelector(\"#flows tbody tr[data-action=allow][data-interface=eth0]\")'" \
                "the allowed flow is listed (GetFlows at load, then the Flows signal)"
        for _ in 1 2 3; do probe_ping peer "$HOST_IP4"; done
        expect_true "page_wait 'document.querySelector(\"#flows tbody tr[data-action=deny][data-interface=eth0]\")'" \
                "a denied ping on eth0 appears in the flow log, from the Flows signal"
        run wd js 'document.querySelector("#flows tbody tr[data-action=deny][data-interface=eth0]").innerText'
        expect_out_contains "$PEER_IP4" "with its source"
        expect_out_contains "icmp" "its protocol"
        expect_out_contains "web.host" "and its endpoint"
        wd screenshot "$SHOTS/cockpit-flows.png"
        echo "  screenshot: $SHOTS/cockpit-flows.png"

        # A roll-out, as an admin makes it: the policy staged first, the
        # page shows which real flows it would deny (their pending
        # verdict); promoted, new ones are denied, the policy named.
        allowed_pending() { # the page's rows of allowed eth0 flows the staged lockdown would deny
                printf '%s' 'Array.from(document.querySelectorAll("#flows tbody tr[data-action=allow][data-interface=eth0]")).filter(r => r.innerText.includes("deny (gnp lockdown, rule 0)")).length'
        }
        mark=$(log_lines)
        put_resource lockdown.yaml <<'EOF'
apiVersion: projectcalico.org/v3
kind: StagedGlobalNetworkPolicy
metadata: {name: lockdown}
spec:
  order: 5
  selector: role == 'web'
  ingress: [{action: Deny, protocol: TCP, destination: {ports: [80]}}]
EOF
        expect_true 'wait_log_since "$mark" "Staged view (not committed)"' "a policy staged: hostendpointd computes what it would do"
        expect_true 'probe_tcp peer "$HOST_IP4" 80' "staged, it denies nothing: port 80 still connects"
        expect_true "page_wait '$(allowed_pending) >= 1'" \
                "the page lists that connection allowed, pending deny by the staged lockdown, rule 0"
        wd screenshot "$SHOTS/cockpit-staged.png"
        echo "  screenshot: $SHOTS/cockpit-staged.png"
        mark=$(log_lines)
        rm "$DS/lockdown.yaml"
        put_resource lockdown.yaml <<'EOF'
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: lockdown}
spec:
  order: 5
  selector: role == 'web'
  ingress: [{action: Deny, protocol: TCP, destination: {ports: [80]}}]
EOF
        expect_true 'wait_log_since "$mark" "ruleset re-committed"' "promoted (the staged policy deleted, the policy applied), it is committed"
        expect_blocked "promoted, port 80 is denied" probe_tcp peer "$HOST_IP4" 80
        expect_true "page_wait 'Array.from(document.querySelectorAll(\"#flows tbody tr[data-action=deny][data-interface=eth0]\")).some(r => r.innerText.includes(\"gnp lockdown, rule 0\"))'" \
                "the page lists the new connection denied, decided by gnp lockdown, rule 0"
        wd screenshot "$SHOTS/cockpit-promoted.png"
        echo "  screenshot: $SHOTS/cockpit-promoted.png"
        mark=$(log_lines)
        rm "$DS/lockdown.yaml"
        expect_true 'wait_log_since "$mark" "ruleset re-committed"' "the lockdown deleted again"
else
        expect_true "page_wait 'document.getElementById(\"flows-status\").textContent.startsWith(\"Flow logs off\")'" \
                "without flow logs, the page says: flow logs off"
fi
# Records as the contract (a{sv}) has them, handed to the page's own
# handler of the Flows signal, on interfaces of their own: rows, newest
# first, and the filters.
FLOW_JS='(() => {
        const t = (v) => ({t: "t", v: v}), s = (v) => ({t: "s", v: v}), q = (v) => ({t: "q", v: v}), i = (v) => ({t: "i", v: v});
        const now = Date.now() * 1000;
        const rec = (n, ifname, action, policy) => ({
                Time: t(now + n), LastSeen: t(now + n), Interface: s(ifname), Endpoint: s("demo"),
                Direction: s("in"), Family: s("ipv4"), Protocol: s("tcp"), Source: s("192.0.2.7"), SourcePort: q(40000 + n),
                Destination: s("192.0.2.1"), DestinationPort: q(8080), Action: s(action), Tier: s("default"), Policy: s(policy),
                Rule: i(action === "allow" ? 0 : -1), Packets: t(3), Bytes: t(180), Ended: {t: "b", v: false},
                PendingAction: s(action === "allow" ? "deny" : ""), PendingPolicy: s(action === "allow" ? "gnp staged-lockdown" : ""), PendingRule: i(0)});
        addFlows([rec(1, "demo0", "allow", "gnp allow-http"), rec(2, "demo0", "deny", "default deny"), rec(3, "demo1", "allow", "gnp allow-http")]);
        return document.querySelectorAll("#flows tbody tr[data-interface^=demo]").length;
})()'
run wd js "$FLOW_JS"
expect_out 3 "three records, three rows"
select_filter() { wd js "(() => { const e = document.getElementById(\"$1\"); e.value = \"$2\"; e.dispatchEvent(new Event(\"change\")); return e.value; })()" >/dev/null; }
shown_flows() { wd js 'Array.from(document.querySelectorAll("#flows tbody tr")).map(r => r.dataset.interface + " " + r.dataset.action).join(",")'; }
select_filter filter-interface demo0
run shown_flows
expect_out '"demo0 deny,demo0 allow"' "the interface filter keeps demo0's flows, newest first"
select_filter filter-action deny
run shown_flows
expect_out '"demo0 deny"' "and the action filter its denied one"
run wd js 'document.querySelector("#flows tbody tr").innerText'
expect_out_contains "default deny" "which names what decided it"
select_filter filter-action allow
run wd js 'document.querySelector("#flows tbody tr").innerText'
expect_out_contains "gnp staged-lockdown" "an allowed flow shows its pending verdict"
select_filter filter-action ""
select_filter filter-interface ""

echo "# root may reload and apply"
wd click "#reload"
expect_true "page_wait 'document.getElementById(\"admin-result\").textContent.startsWith(\"Reloaded\")'" "Reload: the page says it reloaded"
expect_true 'wait_log "Reloading: re-reading the datastore"' "and hostendpointd did"
wd js '(() => { document.querySelector("#admin details").open = true; document.getElementById("apply-document").value = "apiVersion: projectcalico.org/v3\nkind: HostEndpoint\nmetadata: {name: applied}\nspec: {node: node1, interfaceName: hep9}\n"; return true; })()' >/dev/null
wd click "#apply"
expect_true "page_wait 'document.getElementById(\"admin-result\").textContent === \"Applied; endpoints: applied.\"'" "Apply: the page names the endpoint it applied"
expect_true "page_wait '$(row endpoints applied)'" "which appears in the endpoints"
expect_true '[ -n "$(grep -l "name: applied" "$DS"/* 2>/dev/null)" ]' "and is in the datastore"
run wd errors
expect_true '[ "$RC" = 0 ] && [ -z "$OUT" ]' "no error in the browser's console (${OUT:-none}${ERR:+; $ERR})"

echo "# another user reads, and is offered nothing that writes"
mkdir -p "$T/nobody"
chown nobody "$T/nobody"
chmod 755 "$T/share" "$T/share/cockpit"
for _ in 1 2 3; do
        NR_PORT=$(free_port)
        setpriv --reuid=nobody --regid=nogroup --clear-groups \
                env HOME="$T/nobody" DBUS_SYSTEM_BUS_ADDRESS="$BUS" XDG_DATA_DIRS="$T/share:/usr/share" XDG_DATA_HOME="$T/nobody" \
                "$COCKPIT_WS" --no-tls --local-session=cockpit-bridge -p "$NR_PORT" -a 127.0.0.1 \
                >"$T/cockpit-ws-nobody.log" 2>&1 &
        NR_WS_PID=$!
        wait_for "curl -sf -o /dev/null http://127.0.0.1:$NR_PORT/cockpit/@localhost/manifests.json || ! kill -0 $NR_WS_PID" 10
        kill -0 "$NR_WS_PID" 2>/dev/null && break
        wait "$NR_WS_PID"
        NR_WS_PID=
done
[ -n "$NR_WS_PID" ] || { fail "cockpit-ws as nobody did not start: $(cat "$T/cockpit-ws-nobody.log")"; exit 1; }
CLEANUP_HOOKS=("_stop_tree $NR_WS_PID" "${CLEANUP_HOOKS[@]}")
for _ in 1 2; do probe_ping peer "$HOST_IP4"; done      # dropped: counted before the page loads
wd open "http://127.0.0.1:$NR_PORT/cockpit/@localhost/hostendpoint/index.html"
expect_true 'page_wait "document.getElementById(\"app\").dataset.ready === \"true\""' "as nobody, the page loads"
expect_true "page_wait '$(row interfaces eth0) && $(row interfaces eth0).dataset.enforced === \"true\"'" "and shows eth0 enforced"
run wd js 'document.getElementById("manager-state").textContent'
expect_out '"running"' "and the daemon's state"
run wd js 'Array.from(document.querySelectorAll("button, textarea")).filter(e => e.offsetParent !== null).map(e => e.id).join(",")'
expect_out '"refresh-counters"' "its only visible control reads the counters: no Reload, no Apply"
expect_true "page_wait '$(row endpoints web.host).cells[5].textContent === \"$(prop "$WEB_PATH" Endpoint PacketsDropped)\"'" \
        "and it shows the kernel's counters as they were when it loaded ($(prop "$WEB_PATH" Endpoint PacketsDropped) dropped)"
if [ "$FLOW_LOGS" = true ]; then
        # hostendpoint's bus policy lets only root call the Manager's methods.
        expect_true "page_wait 'document.getElementById(\"flows-status\").textContent.startsWith(\"Flow logs on. Only an administrator\")'" \
                "the flows before the page opened are root's (GetFlows is denied), and it says so"
        for _ in 1 2; do probe_ping peer "$HOST_IP4"; done
        expect_true "page_wait 'document.querySelector(\"#flows tbody tr[data-action=deny][data-interface=eth0]\")'" \
                "but the Flows signal reaches it: a denied ping appears"
fi
wd screenshot "$SHOTS/cockpit-nobody.png"
echo "  screenshot: $SHOTS/cockpit-nobody.png"

echo "# hostendpointd stops and starts again under the open page"
stop_daemon
expect_true "page_wait 'document.getElementById(\"service-status\").textContent.startsWith(\"hostendpointd is not running\")'" \
        "the page says hostendpointd is not running"
expect_true "page_wait '! $(row interfaces eth0)'" "and shows no interface it no longer knows about"
start_daemon --bus "$BUS" "${FLOW_ARGS[@]}"
expect_true "page_wait '$(row interfaces eth0) && $(row interfaces eth0).dataset.enforced === \"true\"'" \
        "back: eth0 is shown enforced again, with no reload of the page"
expect_true "page_wait 'document.getElementById(\"service-status\").textContent === \"hostendpointd is running.\"'" \
        "and the service running"
run wd errors
expect_true '[ "$RC" = 0 ] && [ -z "$OUT" ]' "no error in the browser's console (${OUT:-none}${ERR:+; $ERR})"
