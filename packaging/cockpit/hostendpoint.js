/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hostendpoint's Cockpit page: the Manager, the interfaces and endpoints
 * of org.projectcalico.HostEndpoint1 and its flow log, kept current from
 * the service's signals (ObjectManager, PropertiesChanged, Flows), never by
 * polling. Writes (Reload, Apply) are offered to administrators only. */

"use strict";

const BUS_NAME = "org.projectcalico.HostEndpoint1";
const ROOT_PATH = "/org/projectcalico/HostEndpoint1";
const MANAGER = BUS_NAME + ".Manager";
const ENDPOINT = BUS_NAME + ".Endpoint";
const INTERFACE = BUS_NAME + ".Interface";
/* Flow records kept in the page, and rows shown at most. */
const FLOWS_KEPT = 1000;
const FLOWS_SHOWN = 200;

const state = {
        client: null,
        manager: null,
        endpoints: null,
        interfaces: null,
        /* Endpoint path -> {accepted, dropped}: the counters send no change
         * signal, so they are read when the page loads and on request. */
        counters: new Map(),
        flows: new Map(),       /* flow key -> record (plain values) */
        flowsLoaded: false,
        flowsError: "",
        owner: undefined,       /* the service's unique name, null when gone */
        admin: false,
};

/* ---------------------------------------------------------------- helpers */

function $(id) {
        return document.getElementById(id);
}

/* el(tag, {class, text, attrs...}, children...): a DOM element; text only
 * through textContent, so nothing the service says is parsed as HTML. */
function el(tag, props, ...children) {
        const e = document.createElement(tag);
        for (const [k, v] of Object.entries(props || {})) {
                if (v === undefined || v === null)
                        continue;
                if (k === "class")
                        e.className = v;
                else if (k === "text")
                        e.textContent = v;
                else
                        e.setAttribute(k, v);
        }
        for (const c of children)
                if (c !== null && c !== undefined)
                        e.append(c);
        return e;
}

function list(items, ordered) {
        if (!items || items.length === 0)
                return document.createTextNode("—");
        return el(ordered ? "ol" : "ul", {}, ...items.map(i => el("li", { text: i })));
}

function replaceRows(tbody, rows, columns, emptyText) {
        if (rows.length === 0)
                rows = [el("tr", { class: "hep-empty" }, el("td", { colspan: String(columns), text: emptyText }))];
        tbody.replaceChildren(...rows);
}

/* Whether hostendpointd has left the bus: what the proxies still hold
 * is then no longer what the kernel enforces, and is not shown. */
function serviceGone() {
        return state.owner === null;
}

/* The proxy's properties, also those its introspection data may lack (an
 * older daemon has no FlowLogs). */
function props(proxy) {
        return (proxy && proxy.valid && proxy.data && !serviceGone()) ? proxy.data : {};
}

function validProxies(proxies) {
        return serviceGone() ? [] : Object.entries(proxies || {}).filter(([, p]) => p.valid);
}

/* The last element of an object path, unescaped as the service escapes
 * endpoint names (_xx for every byte outside [A-Za-z0-9]). */
function pathName(path) {
        const last = String(path).split("/").pop();
        try {
                return decodeURIComponent(last.replace(/_([0-9a-fA-F]{2})/g, "%$1"));
        } catch (e) {
                return last;
        }
}

function endpointName(path) {
        if (!path || path === "/")
                return "";
        const ep = state.endpoints && state.endpoints[path];
        return (ep && props(ep).Name) || pathName(path);
}

function interfaceName(path) {
        const iface = state.interfaces && state.interfaces[path];
        return (iface && props(iface).Name) || pathName(path);
}

function number(n) {
        return (n === undefined || n === null) ? "—" : Number(n).toLocaleString();
}

function errorText(err) {
        if (!err)
                return "";
        const msg = err.message || String(err);
        return err.name ? err.name + ": " + msg : msg;
}

/* ---------------------------------------------------------------- manager */

function renderManager() {
        const p = props(state.manager);
        const st = $("manager-state");
        st.textContent = p.State || "—";
        st.className = p.State ? "hep-state-" + p.State : "";
        const lastError = $("manager-lasterror");
        lastError.textContent = p.LastError || "none";
        lastError.className = p.LastError ? "hep-error" : "hep-muted";
        $("manager-warnings").replaceChildren(
                p.Warnings && p.Warnings.length ? list(p.Warnings) : el("span", { class: "hep-muted", text: "none" }));
        $("manager-nodename").textContent = p.NodeName || "—";
        $("manager-datastore").textContent = p.Datastore || "—";
        $("manager-version").textContent = p.Version ? p.Version + (p.Host ? " (in " + p.Host + ")" : "") : "—";
        $("manager-restorations").textContent = p.Restorations === undefined ? "—" : String(p.Restorations);
        renderStatus();
        renderFlowsStatus();
}

function renderStatus() {
        const s = $("service-status");
        if (state.owner === null)
                s.textContent = "hostendpointd is not running (nothing owns " + BUS_NAME + " on the system bus).";
        else if (state.manager && state.manager.valid)
                s.textContent = "hostendpointd is " + (props(state.manager).State || "running") + ".";
}

/* ------------------------------------------------------------- interfaces */

function renderInterfaces() {
        const rows = validProxies(state.interfaces)
                .map(([, i]) => props(i))
                .sort((a, b) => (a.Index || 0) - (b.Index || 0))
                .map(i => {
                        const ep = endpointName(i.Endpoint);
                        return el("tr", { "data-name": i.Name, "data-enforced": String(!!i.Enforced) },
                                  el("th", { scope: "row", text: i.Name }),
                                  el("td", { class: i.OperState === "up" ? "hep-yes" : "hep-muted", text: i.OperState || "—" }),
                                  el("td", { class: "hep-mono" }, list(i.Addresses)),
                                  el("td", { text: ep || "none", class: ep ? null : "hep-muted" }),
                                  el("td", { class: i.Enforced ? "hep-yes" : "hep-muted", text: i.Enforced ? "yes" : "no" }));
                });
        replaceRows($("interfaces").tBodies[0], rows, 5, serviceGone() ? "hostendpointd is not running." : "No interfaces.");
        renderInterfaceFilter();
}

/* ------------------------------------------------------------- endpoints */

function renderEndpoints() {
        const rows = validProxies(state.endpoints)
                .map(([path, e]) => [path, props(e)])
                .sort((a, b) => String(a[1].Name).localeCompare(String(b[1].Name)))
                .map(([path, e]) => {
                        const c = state.counters.get(path) || {};
                        const remote = e.State === "remote";
                        return el("tr", { "data-name": e.Name, "data-state": e.State },
                                  el("th", { scope: "row" }, e.Name,
                                     e.Node && e.Node !== props(state.manager).NodeName
                                             ? el("span", { class: "hep-reason", text: "node " + e.Node }) : null),
                                  el("td", {},
                                     el("span", { class: "hep-state-" + e.State, text: e.State || "—" }),
                                     e.StateReason ? el("span", { class: "hep-reason", text: e.StateReason }) : null),
                                  el("td", {}, list((e.Interfaces || []).map(interfaceName))),
                                  el("td", {}, list(e.Policies, true)),
                                  el("td", { class: "hep-num", text: remote ? "—" : number(c.accepted) }),
                                  el("td", { class: "hep-num", text: remote ? "—" : number(c.dropped) }));
                });
        replaceRows($("endpoints").tBodies[0], rows, 6, serviceGone() ? "hostendpointd is not running." : "No HostEndpoints.");
}

function takeCounters(path, p) {
        state.counters.set(path, { accepted: p.PacketsAccepted, dropped: p.PacketsDropped });
}

/* The counters of every local endpoint, read once (one GetAll each). */
function refreshCounters() {
        const button = $("refresh-counters");
        button.disabled = true;
        const reads = validProxies(state.endpoints)
                .filter(([, e]) => props(e).State !== "remote")
                .map(([path]) => state.client.call(path, "org.freedesktop.DBus.Properties", "GetAll", [ENDPOINT])
                        .then(([all]) => takeCounters(path, {
                                PacketsAccepted: all.PacketsAccepted && all.PacketsAccepted.v,
                                PacketsDropped: all.PacketsDropped && all.PacketsDropped.v,
                        })));
        Promise.allSettled(reads).then(results => {
                const failed = results.find(r => r.status === "rejected");
                $("counters-time").textContent = failed
                        ? "Could not read the counters: " + errorText(failed.reason)
                        : "Counters as of " + new Date().toLocaleTimeString() + ".";
                button.disabled = false;
                renderEndpoints();
        });
}

/* -------------------------------------------------------------- flow log */

/* A record from the bus (a{sv}) as plain values. */
function flowRecord(dict) {
        const r = {};
        for (const [k, v] of Object.entries(dict || {}))
                r[k] = (v && typeof v === "object" && "v" in v) ? v.v : v;
        return r;
}

function flowKey(r) {
        return [r.Time, r.Interface, r.Direction, r.Protocol, r.Source, r.SourcePort,
                r.Destination, r.DestinationPort].join("|");
}

function addFlows(records) {
        for (const dict of records || []) {
                const r = flowRecord(dict);
                const key = flowKey(r);
                state.flows.delete(key);        /* re-inserted: newest last */
                state.flows.set(key, r);
        }
        while (state.flows.size > FLOWS_KEPT)
                state.flows.delete(state.flows.keys().next().value);
        renderFlows();
}

function flowLogsOn() {
        return props(state.manager).FlowLogs === true;
}

/* Recent records, once: when the page loads or flow logs come on. */
function loadFlows() {
        if (!flowLogsOn() || state.flowsLoaded)
                return;
        state.flowsLoaded = true;
        state.client.call(ROOT_PATH, MANAGER, "GetFlows", [{}])
                .then(([records]) => {
                        state.flowsError = "";
                        addFlows(records);
                        renderFlowsStatus();
                })
                .catch(err => {
                        /* The bus policy may let only root call GetFlows;
                         * the Flows signal reaches everyone all the same. */
                        state.flowsError = err.name === "org.freedesktop.DBus.Error.AccessDenied"
                                ? "denied" : errorText(err);
                        renderFlowsStatus();
                });
}

function renderFlowsStatus() {
        const s = $("flows-status");
        const p = props(state.manager);
        if (!state.manager || !state.manager.valid)
                s.textContent = "";
        else if (!flowLogsOn())
                s.textContent = "Flow logs off" + (p.FlowLogs === undefined
                        ? ": this hostendpointd does not log flows."
                        : ": hostendpointd is not logging flows.");
        else if (state.flowsError === "denied")
                s.textContent = "Flow logs on. Only an administrator may read the flows seen before this page " +
                        "opened; new flows appear as hostendpointd reports them.";
        else if (state.flowsError)
                s.textContent = "Flow logs on, but the recent flows could not be read: " + state.flowsError;
        else
                s.textContent = "Flow logs on; new flows appear as hostendpointd reports them.";
        $("flows-status").dataset.flowlogs = flowLogsOn() ? "on" : "off";
}

function renderInterfaceFilter() {
        const select = $("filter-interface");
        const names = new Set(validProxies(state.interfaces).map(([, i]) => props(i).Name));
        for (const r of state.flows.values())
                names.add(r.Interface);
        names.delete(undefined);
        const chosen = select.value;
        if (chosen)
                names.add(chosen);
        const have = Array.from(select.options).slice(1).map(o => o.value);
        const want = Array.from(names).sort();
        if (have.join("\n") === want.join("\n"))
                return;
        select.replaceChildren(el("option", { value: "", text: "All" }),
                               ...want.map(n => el("option", { value: n, text: n })));
        select.value = chosen;
}

function decidedBy(r) {
        if (!r.Policy)
                return "—";
        let s = r.Tier && r.Tier !== "default" ? r.Tier + " / " + r.Policy : r.Policy;
        if (r.Rule !== undefined && r.Rule >= 0)
                s += ", rule " + r.Rule;
        return s;
}

/* IANA's names of the protocols a host sees most, for records that give
 * the number. */
const PROTOCOLS = { 0: "hopopt", 1: "icmp", 2: "igmp", 6: "tcp", 17: "udp", 47: "gre", 50: "esp",
                    51: "ah", 58: "icmpv6", 132: "sctp", 136: "udplite" };

function protocolText(p) {
        if (p === undefined || p === "")
                return "—";
        return /^[0-9]+$/.test(String(p)) && PROTOCOLS[p] ? PROTOCOLS[p] : String(p);
}

function endpointText(addr, port) {
        if (!addr)
                return "—";
        if (!port)
                return addr;
        return (String(addr).includes(":") ? "[" + addr + "]" : addr) + ":" + port;
}

function renderFlows() {
        renderInterfaceFilter();
        const iface = $("filter-interface").value;
        const action = $("filter-action").value;
        const shown = [];
        let matching = 0;
        for (const r of Array.from(state.flows.values()).reverse()) {
                if ((iface && r.Interface !== iface) || (action && r.Action !== action))
                        continue;
                matching++;
                if (shown.length >= FLOWS_SHOWN)
                        continue;
                const pending = r.PendingAction
                        ? r.PendingAction + (r.PendingPolicy ? " (" + r.PendingPolicy +
                                (r.PendingRule >= 0 ? ", rule " + r.PendingRule : "") + ")" : "")
                        : "—";
                shown.push(el("tr", { "data-action": r.Action, "data-interface": r.Interface },
                              el("td", { text: r.LastSeen ? new Date(r.LastSeen / 1000).toLocaleTimeString() : "—" }),
                              el("td", { text: r.Interface || "—" }),
                              el("td", { text: r.Endpoint || "—" }),
                              el("td", { text: r.Direction || "—" }),
                              el("td", { text: protocolText(r.Protocol) }),
                              el("td", { class: "hep-mono", text: endpointText(r.Source, r.SourcePort) }),
                              el("td", { class: "hep-mono", text: endpointText(r.Destination, r.DestinationPort) }),
                              el("td", { class: "hep-" + r.Action, text: r.Action + (r.Ended ? " (ended)" : "") }),
                              el("td", { text: decidedBy(r) }),
                              el("td", { class: r.PendingAction ? "hep-" + r.PendingAction : "hep-muted", text: pending }),
                              el("td", { class: "hep-num", text: number(r.Packets) }),
                              el("td", { class: "hep-num", text: number(r.Bytes) })));
        }
        replaceRows($("flows").tBodies[0], shown, 12,
                    flowLogsOn() ? "No flows" + (iface || action ? " match the filters." : " yet.") : "Flow logs off.");
        $("flows-count").textContent = matching > shown.length
                ? "Newest " + shown.length + " of " + matching + " flows." : "";
}

/* ------------------------------------------------------------------ admin */

function showAdmin(allowed) {
        state.admin = !!allowed;
        $("admin").hidden = !state.admin;
}

function adminCall(method, args, done) {
        const result = $("admin-result");
        result.className = "";
        result.textContent = method + "…";
        return state.client.call(ROOT_PATH, MANAGER, method, args)
                .then(reply => {
                        result.textContent = done(reply);
                })
                .catch(err => {
                        result.className = "hep-error";
                        result.textContent = method + " failed: " + errorText(err);
                });
}

function setupAdmin() {
        $("reload").addEventListener("click", () =>
                adminCall("Reload", [], () => "Reloaded at " + new Date().toLocaleTimeString() + "."));
        $("apply").addEventListener("click", () =>
                adminCall("Apply", [$("apply-document").value], ([paths]) =>
                        "Applied" + (paths.length ? "; endpoints: " + paths.map(endpointName).join(", ") : "") + "."));
        /* root, or a user whose administrative access is on (Cockpit's
         * superuser): the calls then go through the superuser bridge. */
        const permission = cockpit.permission({ admin: true });
        showAdmin(permission.allowed);
        permission.addEventListener("changed", () => showAdmin(permission.allowed));
}

/* ------------------------------------------------------------------- main */

function start() {
        state.client = cockpit.dbus(BUS_NAME, { bus: "system", superuser: "try" });
        state.client.addEventListener("owner", (event, owner) => {
                const back = state.owner === null && owner;
                state.owner = owner;
                if (back)
                        state.flowsLoaded = false;
                renderManager();
                renderInterfaces();
                renderEndpoints();
                renderFlows();
                loadFlows();
        });
        state.client.addEventListener("close", (event, options) => {
                $("service-status").textContent = "The system bus connection closed: " +
                        cockpit.message(options || {});
        });

        /* Signals first, so nothing falls between them and GetFlows. */
        state.client.subscribe({ path: ROOT_PATH, interface: MANAGER, member: "Flows" },
                               (path, iface, signal, [records]) => addFlows(records));
        state.client.subscribe({ path: ROOT_PATH, interface: MANAGER, member: "FlowDenied" },
                               (path, iface, signal, [record]) => addFlows([record]));

        state.manager = state.client.proxy(MANAGER, ROOT_PATH);
        state.manager.addEventListener("changed", () => {
                renderManager();
                loadFlows();
        });
        state.interfaces = state.client.proxies(INTERFACE, ROOT_PATH);
        for (const ev of ["added", "changed", "removed"])
                state.interfaces.addEventListener(ev, () => {
                        renderInterfaces();
                        renderEndpoints();
                });
        state.endpoints = state.client.proxies(ENDPOINT, ROOT_PATH);
        state.endpoints.addEventListener("added", (event, proxy) => {
                takeCounters(proxy.path, props(proxy));
                renderEndpoints();
                renderInterfaces();
        });
        state.endpoints.addEventListener("changed", () => {
                renderEndpoints();
                renderInterfaces();
        });
        state.endpoints.addEventListener("removed", (event, proxy) => {
                state.counters.delete(proxy.path);
                renderEndpoints();
                renderInterfaces();
        });

        $("refresh-counters").addEventListener("click", refreshCounters);
        for (const id of ["filter-interface", "filter-action"])
                $(id).addEventListener("change", renderFlows);
        setupAdmin();

        Promise.allSettled([state.manager.wait(), state.interfaces.wait(), state.endpoints.wait()])
                .then(() => {
                        for (const [path, e] of Object.entries(state.endpoints))
                                if (!state.counters.has(path))
                                        takeCounters(path, props(e));
                        if (!state.manager.valid && state.owner !== null)
                                $("service-status").textContent = "hostendpointd does not answer on the system bus.";
                        renderManager();
                        renderInterfaces();
                        renderEndpoints();
                        renderFlows();
                        loadFlows();
                        const app = $("app");
                        app.setAttribute("aria-busy", "false");
                        app.dataset.ready = "true";
                });
}

document.addEventListener("DOMContentLoaded", start);
