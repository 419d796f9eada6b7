/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The D-Bus objects' properties; see objects.h. Where a property's value
 * comes from is the getter named after it (endpoint_state() is the
 * Endpoint's State, and so on). */
#include "objects.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile.h"
#include "config.h"
#include "datastore.h"

/* ---- Out ---- */

static uint64_t fnv(uint64_t h, const void *p, size_t n) {
        const unsigned char *b = p;

        for (size_t i = 0; i < n; i++)
                h = (h ^ b[i]) * 1099511628211ULL;
        return h;
}

void out_init_message(Out *o, DBusMessageIter *top) {
        *o = (Out) { .top = top };
}

void out_init_hash(Out *o) {
        *o = (Out) { .hashing = true, .hash = 14695981039346656037ULL };
}

static DBusMessageIter *current(Out *o) {
        return o->depth == 0 ? o->top : &o->frames[o->depth - 1];
}

static void out_basic(Out *o, int type, const void *value, size_t size) {
        if (o->hashing) {
                char t = (char)type;
                o->hash = fnv(o->hash, &t, 1);
                o->hash = fnv(o->hash, value, size);
                return;
        }
        if (!o->oom && !dbus_message_iter_append_basic(current(o), type, value))
                o->oom = true;
}

static void out_string_type(Out *o, int type, const char *s) {
        if (o->hashing) {
                char t = (char)type;
                o->hash = fnv(o->hash, &t, 1);
                o->hash = fnv(o->hash, s, strlen(s) + 1);
                return;
        }
        if (!o->oom && !dbus_message_iter_append_basic(current(o), type, &s))
                o->oom = true;
}

void out_str(Out *o, const char *s) {
        out_string_type(o, DBUS_TYPE_STRING, s ? s : "");
}

void out_path(Out *o, const char *path) {
        out_string_type(o, DBUS_TYPE_OBJECT_PATH, path);
}

void out_bool(Out *o, bool b) {
        dbus_bool_t v = b;
        out_basic(o, DBUS_TYPE_BOOLEAN, &v, sizeof(v));
}

void out_i32(Out *o, int32_t v) {
        out_basic(o, DBUS_TYPE_INT32, &v, sizeof(v));
}

void out_u16(Out *o, uint16_t v) {
        out_basic(o, DBUS_TYPE_UINT16, &v, sizeof(v));
}

void out_u32(Out *o, uint32_t v) {
        out_basic(o, DBUS_TYPE_UINT32, &v, sizeof(v));
}

void out_u64(Out *o, uint64_t v) {
        out_basic(o, DBUS_TYPE_UINT64, &v, sizeof(v));
}

void out_open(Out *o, int type, const char *sig) {
        if (o->hashing) {
                char t = (char)type;
                o->hash = fnv(o->hash, &t, 1);
                return;
        }
        if (o->oom)
                return;
        if (o->depth >= (int)ELEMENTSOF(o->frames) ||
            !dbus_message_iter_open_container(current(o), type, type == DBUS_TYPE_STRUCT || type == DBUS_TYPE_DICT_ENTRY ? NULL : sig,
                                              &o->frames[o->depth])) {
                o->oom = true;
                return;
        }
        o->depth++;
}

void out_close(Out *o) {
        if (o->hashing) {
                o->hash = fnv(o->hash, ")", 1);
                return;
        }
        if (o->oom)
                return;
        o->depth--;
        if (!dbus_message_iter_close_container(current(o), &o->frames[o->depth]))
                o->oom = true;
}

static void out_strv(Out *o, const StrList *l) {
        out_open(o, DBUS_TYPE_ARRAY, "s");
        for (size_t i = 0; i < l->n; i++)
                out_str(o, l->v[i]);
        out_close(o);
}

static void out_labels(Out *o, const Labels *l) {
        out_open(o, DBUS_TYPE_ARRAY, "{ss}");
        for (size_t i = 0; l && i < l->n; i++) {
                out_open(o, DBUS_TYPE_DICT_ENTRY, NULL);
                out_str(o, l->pairs[i].key);
                out_str(o, l->pairs[i].value);
                out_close(o);
        }
        out_close(o);
}

/* ---- paths ---- */

/* As systemd's bus_label_escape: [A-Za-z0-9] as is, every other byte
 * _xx; the empty name is "_". */
void bus_endpoint_path(const char *name, char buf[static BUS_PATH_MAX]) {
        static const char hex[] = "0123456789abcdef";
        size_t n = strlen(BUS_ENDPOINT_PREFIX);

        memcpy(buf, BUS_ENDPOINT_PREFIX, n);
        if (!*name)
                buf[n++] = '_';
        for (const unsigned char *c = (const unsigned char *)name; *c && n + 4 < BUS_PATH_MAX; c++) {
                if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9'))
                        buf[n++] = (char)*c;
                else {
                        buf[n++] = '_';
                        buf[n++] = hex[*c >> 4];
                        buf[n++] = hex[*c & 15];
                }
        }
        buf[n] = 0;
}

void bus_interface_path(int ifindex, char buf[static BUS_PATH_MAX]) {
        snprintf(buf, BUS_PATH_MAX, BUS_INTERFACE_PREFIX "%d", ifindex);
}

static const char *startswith(const char *s, const char *prefix) {
        size_t n = strlen(prefix);

        return strncmp(s, prefix, n) == 0 ? s + n : NULL;
}

static int unhex(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        return -1;
}

static int unescape_label(const char *s, char name[static BUS_PATH_MAX]) {
        size_t n = 0;

        if (streq(s, "_")) {
                name[0] = 0;
                return 0;
        }
        for (; *s; s++) {
                if (n + 1 >= BUS_PATH_MAX || *s == '/')
                        return -ENOENT;
                if (*s != '_') {
                        name[n++] = *s;
                        continue;
                }
                int a = unhex(s[1]), b = a < 0 ? -1 : unhex(s[2]);
                if (a < 0 || b < 0)
                        return -ENOENT;
                name[n++] = (char)(a * 16 + b);
                s += 2;
        }
        name[n] = 0;
        return n > 0 ? 0 : -ENOENT;
}

int bus_path_parse(const char *path, BusObjectKind *ret_kind, char name[static BUS_PATH_MAX], int *ret_ifindex) {
        const char *rest;

        if (streq(path, BUS_ROOT_PATH)) {
                *ret_kind = BUS_OBJECT_MANAGER;
                return 0;
        }
        if (streq(path, BUS_ROOT_PATH "/endpoint")) {
                *ret_kind = BUS_OBJECT_ENDPOINT_DIR;
                return 0;
        }
        if (streq(path, BUS_ROOT_PATH "/interface")) {
                *ret_kind = BUS_OBJECT_INTERFACE_DIR;
                return 0;
        }
        if ((rest = startswith(path, BUS_ENDPOINT_PREFIX))) {
                char again[BUS_PATH_MAX];
                *ret_kind = BUS_OBJECT_ENDPOINT;
                if (unescape_label(rest, name) < 0)
                        return -ENOENT;
                /* One path per object: "_61" is not another name for "a". */
                bus_endpoint_path(name, again);
                return streq(again, path) ? 0 : -ENOENT;
        }
        if ((rest = startswith(path, BUS_INTERFACE_PREFIX))) {
                char *end;
                long v;
                if (*rest < '1' || *rest > '9')
                        return -ENOENT;
                v = strtol(rest, &end, 10);
                if (*end || v <= 0 || v > INT32_MAX)
                        return -ENOENT;
                *ret_kind = BUS_OBJECT_INTERFACE;
                *ret_ifindex = (int)v;
                return 0;
        }
        return -ENOENT;
}

/* ---- the view ---- */

static int compare_ifindex(const void *a, const void *b) {
        const HostInterface *x = a, *y = b;

        return (x->ifindex > y->ifindex) - (x->ifindex < y->ifindex);
}

static void ifaces_free(HostInterface *v, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(v[i].name);
                free(v[i].addrs);
        }
        free(v);
}

static int ifaces_copy(const InterfaceList *l, HostInterface **ret) {
        HostInterface *v = new_array(l->n, sizeof(HostInterface));

        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < l->n; i++) {
                v[i] = (HostInterface) { .ifindex = l->v[i].ifindex, .oper_up = l->v[i].oper_up };
                v[i].name = strdup(l->v[i].name);
                v[i].addrs = new_array(l->v[i].n_addrs, sizeof(IPAddr));
                if (!v[i].name || !v[i].addrs) {
                        ifaces_free(v, i + 1);
                        return -ENOMEM;
                }
                if (l->v[i].n_addrs > 0)
                        memcpy(v[i].addrs, l->v[i].addrs, l->v[i].n_addrs * sizeof(IPAddr));
                v[i].n_addrs = l->v[i].n_addrs;
        }
        qsort_safe(v, l->n, sizeof(HostInterface), compare_ifindex);
        *ret = v;
        return 0;
}

const HostInterface *bus_view_find_interface(const BusView *v, int ifindex) {
        HostInterface key = { .ifindex = ifindex };

        if (v->n_ifaces == 0)
                return NULL;
        return bsearch(&key, v->ifaces, v->n_ifaces, sizeof(HostInterface), compare_ifindex);
}

/* Each interface's endpoint: the one bound to its index, else the "*"
 * endpoint (which takes every interface without one of its own). */
static int compute_policing(BusView *v) {
        free(v->policing);
        v->policing = new_array(v->n_ifaces, sizeof(Endpoint *));
        if (!v->policing)
                return -ENOMEM;
        if (!v->calc)
                return 0;
        for (size_t i = 0; i < v->calc->n_endpoints; i++) {
                const Endpoint *e = &v->calc->endpoints[i];
                for (size_t j = 0; j < e->n_ifindexes; j++) {
                        const HostInterface *hi = bus_view_find_interface(v, e->ifindexes[j]);
                        if (hi)
                                v->policing[hi - v->ifaces] = e;
                }
        }
        for (size_t i = 0; i < v->n_ifaces; i++)
                if (!v->policing[i])
                        v->policing[i] = v->calc->wildcard;
        return 0;
}

int bus_view_refresh(BusView *v, PluginCore *p) {
        const InterfaceList *l = plugin_interfaces(p);
        HostInterface *copy = NULL;
        int r = ifaces_copy(l, &copy);

        /* The previous calculation is gone: never keep pointing at it. On
         * failure the view shows no interfaces rather than stale ones. */
        ifaces_free(v->ifaces, v->n_ifaces);
        v->plugin = p;
        v->calc = plugin_calc(p);
        v->ifaces = r >= 0 ? copy : NULL;
        v->n_ifaces = r >= 0 ? l->n : 0;
        bus_view_forget_counters(v);
        if (r >= 0)
                r = compute_policing(v);
        if (r < 0) {
                ifaces_free(v->ifaces, v->n_ifaces);
                v->ifaces = NULL;
                v->n_ifaces = 0;
        }
        return r;
}

void bus_view_forget_counters(BusView *v) {
        nft_counters_done(&v->counters);
        v->counters_read = false;
}

void bus_view_done(BusView *v) {
        ifaces_free(v->ifaces, v->n_ifaces);
        free(v->policing);
        nft_counters_done(&v->counters);
        *v = (BusView) {};
}

static const NftCounters *view_counters(BusView *v) {
        if (!v->counters_read) {
                v->counters_read = true;
                /* Unreadable counters show as zero rather than fail a read
                 * of everything else. */
                if (nft_counters_read(&v->counters) < 0)
                        v->counters = (NftCounters) NFT_COUNTERS_INIT;
        }
        return &v->counters;
}

/* ---- Manager ---- */

static void manager_version(Out *o, BusView *v, const void *obj) {
        out_str(o, HEP_VERSION);
}

static void manager_host(Out *o, BusView *v, const void *obj) {
        out_str(o, plugin_host_name(v->plugin));
}

static void manager_node_name(Out *o, BusView *v, const void *obj) {
        out_str(o, plugin_nodename(v->plugin));
}

static void manager_datastore(Out *o, BusView *v, const void *obj) {
        out_str(o, plugin_datastore_spec(v->plugin));
}

static void manager_state(Out *o, BusView *v, const void *obj) {
        out_str(o, plugin_state_to_string(plugin_state(v->plugin)));
}

static void manager_last_error(Out *o, BusView *v, const void *obj) {
        out_str(o, plugin_last_error(v->plugin));
}

static void manager_restorations(Out *o, BusView *v, const void *obj) {
        out_u32(o, plugin_restorations(v->plugin));
}

static void manager_warnings(Out *o, BusView *v, const void *obj) {
        size_t n;
        char *const *w = plugin_warnings(v->plugin, &n);

        out_open(o, DBUS_TYPE_ARRAY, "s");
        for (size_t i = 0; i < n; i++)
                out_str(o, w[i]);
        out_close(o);
}

static void manager_flow_logs(Out *o, BusView *v, const void *obj) {
        out_bool(o, plugin_flow_logs(v->plugin));
}

static const BusProperty manager_properties[] = {
        { "Version", "s", manager_version, false, false },
        { "Host", "s", manager_host, false, false },
        { "NodeName", "s", manager_node_name, false, false },
        { "Datastore", "s", manager_datastore, false, false },
        { "State", "s", manager_state, true, true },
        { "LastError", "s", manager_last_error, true, true },
        { "Restorations", "u", manager_restorations, true, true },
        { "Warnings", "as", manager_warnings, true, true },
        { "FlowLogs", "b", manager_flow_logs, false, false },
};

const BusInterface bus_manager_interface = {
        BUS_MANAGER_INTERFACE, manager_properties, ELEMENTSOF(manager_properties),
};

/* ---- Endpoint ---- */

static const HostEndpointSpec *spec_of(const void *obj) {
        return &((const Endpoint *)obj)->hep->spec.hep;
}

static void endpoint_name(Out *o, BusView *v, const void *obj) {
        out_str(o, ((const Endpoint *)obj)->name);
}

static void endpoint_node(Out *o, BusView *v, const void *obj) {
        out_str(o, spec_of(obj)->node);
}

static void endpoint_labels(Out *o, BusView *v, const void *obj) {
        out_labels(o, &((const Endpoint *)obj)->hep->meta.labels);
}

static void endpoint_effective_labels(Out *o, BusView *v, const void *obj) {
        out_labels(o, ((const Endpoint *)obj)->labels);
}

static void endpoint_interface_name(Out *o, BusView *v, const void *obj) {
        out_str(o, spec_of(obj)->interface_name);
}

static void endpoint_expected_ips(Out *o, BusView *v, const void *obj) {
        out_strv(o, &spec_of(obj)->expected_ips);
}

static void endpoint_profiles(Out *o, BusView *v, const void *obj) {
        out_strv(o, &spec_of(obj)->profiles);
}

static void endpoint_ports(Out *o, BusView *v, const void *obj) {
        const HostEndpointSpec *s = spec_of(obj);

        out_open(o, DBUS_TYPE_ARRAY, "(ssq)");
        for (size_t i = 0; i < s->ports.n; i++) {
                const EndpointPort *p = &s->ports.v[i];
                char num[8];
                const char *proto = p->protocol.name;
                if (!p->protocol.set)
                        proto = "";
                else if (p->protocol.is_number || !proto) {
                        snprintf(num, sizeof(num), "%u", p->protocol.number);
                        proto = num;
                }
                out_open(o, DBUS_TYPE_STRUCT, NULL);
                out_str(o, p->name);
                out_str(o, proto);
                out_u16(o, p->port);
                out_close(o);
        }
        out_close(o);
}

static void endpoint_state(Out *o, BusView *v, const void *obj) {
        out_str(o, endpoint_state_to_string(((const Endpoint *)obj)->state));
}

static void endpoint_state_reason(Out *o, BusView *v, const void *obj) {
        out_str(o, endpoint_reason(obj));
}

static void endpoint_interfaces(Out *o, BusView *v, const void *obj) {
        const Endpoint *e = obj;
        char path[BUS_PATH_MAX];

        out_open(o, DBUS_TYPE_ARRAY, "o");
        if (v->calc && e == v->calc->wildcard) {
                /* "*": every interface without an endpoint of its own. */
                for (size_t i = 0; i < v->n_ifaces; i++)
                        if (v->policing[i] == e) {
                                bus_interface_path(v->ifaces[i].ifindex, path);
                                out_path(o, path);
                        }
        } else
                for (size_t j = 0; j < e->n_ifindexes; j++) {
                        const HostInterface *hi = bus_view_find_interface(v, e->ifindexes[j]);
                        if (hi && v->policing[hi - v->ifaces] == e) {
                                bus_interface_path(hi->ifindex, path);
                                out_path(o, path);
                        }
                }
        out_close(o);
}

/* The policies applied to it in any flavour and direction, in evaluation
 * order: from its own calculation, whatever later runs computed. */
static void endpoint_policies(Out *o, BusView *v, const void *obj) {
        const Endpoint *e = obj;

        out_open(o, DBUS_TYPE_ARRAY, "s");
        for (size_t i = 0; e->orders && i < e->orders->n_applied; i++)
                out_str(o, e->orders->applied[i]->meta.name);
        out_close(o);
}

static const NftCounter *endpoint_counter(BusView *v, const Endpoint *e, bool accepted) {
        char acc[256], drop[256];

        endpoint_counter_names(e->name, acc, drop);
        return nft_counters_get(view_counters(v), accepted ? acc : drop);
}

static void endpoint_packets_accepted(Out *o, BusView *v, const void *obj) {
        const NftCounter *c = endpoint_counter(v, obj, true);
        out_u64(o, c ? c->packets : 0);
}

static void endpoint_bytes_accepted(Out *o, BusView *v, const void *obj) {
        const NftCounter *c = endpoint_counter(v, obj, true);
        out_u64(o, c ? c->bytes : 0);
}

static void endpoint_packets_dropped(Out *o, BusView *v, const void *obj) {
        const NftCounter *c = endpoint_counter(v, obj, false);
        out_u64(o, c ? c->packets : 0);
}

static void endpoint_bytes_dropped(Out *o, BusView *v, const void *obj) {
        const NftCounter *c = endpoint_counter(v, obj, false);
        out_u64(o, c ? c->bytes : 0);
}

static const BusProperty endpoint_properties[] = {
        { "Name", "s", endpoint_name, false, true },
        { "Node", "s", endpoint_node, false, true },
        { "Labels", "a{ss}", endpoint_labels, false, true },
        { "EffectiveLabels", "a{ss}", endpoint_effective_labels, false, true },
        { "InterfaceName", "s", endpoint_interface_name, false, true },
        { "ExpectedIPs", "as", endpoint_expected_ips, false, true },
        { "Profiles", "as", endpoint_profiles, false, true },
        { "Ports", "a(ssq)", endpoint_ports, false, true },
        { "State", "s", endpoint_state, true, true },
        { "StateReason", "s", endpoint_state_reason, true, true },
        { "Interfaces", "ao", endpoint_interfaces, true, true },
        { "Policies", "as", endpoint_policies, true, true },
        { "PacketsAccepted", "t", endpoint_packets_accepted, true, false },
        { "BytesAccepted", "t", endpoint_bytes_accepted, true, false },
        { "PacketsDropped", "t", endpoint_packets_dropped, true, false },
        { "BytesDropped", "t", endpoint_bytes_dropped, true, false },
};

static uint64_t mix(uint64_t h, uint64_t v) {
        return (h ^ v) * 1099511628211ULL;
}

/* The inputs of State, StateReason, Interfaces and Policies (the getters
 * above); the others depend on the EndpointInfo alone. */
static uint64_t endpoint_fingerprint(BusView *v, const void *obj) {
        const Endpoint *e = obj;
        uint64_t h = mix(14695981039346656037ULL, (uint64_t)e->state);

        if (v->calc && e == v->calc->wildcard)
                return 0; /* its Interfaces are every interface without an endpoint */
        h = mix(h, strmap_hash(endpoint_reason(e)));
        for (size_t j = 0; j < e->n_ifindexes; j++) {
                const HostInterface *hi = bus_view_find_interface(v, e->ifindexes[j]);
                h = mix(mix(h, (uint64_t)e->ifindexes[j]), hi && v->policing[hi - v->ifaces] == e);
        }
        for (size_t i = 0; e->orders && i < e->orders->n_applied; i++)
                h = mix(h, strmap_hash(e->orders->applied[i]->meta.name));
        return h ? h : 1;
}

const BusInterface bus_endpoint_interface = {
        BUS_ENDPOINT_INTERFACE, endpoint_properties, ELEMENTSOF(endpoint_properties), endpoint_fingerprint,
};

/* ---- Interface ---- */

static const Endpoint *interface_endpoint_of(const BusView *v, const HostInterface *i) {
        return v->policing ? v->policing[i - v->ifaces] : NULL;
}

static void interface_name(Out *o, BusView *v, const void *obj) {
        out_str(o, ((const HostInterface *)obj)->name);
}

static void interface_index(Out *o, BusView *v, const void *obj) {
        out_i32(o, ((const HostInterface *)obj)->ifindex);
}

static void interface_oper_state(Out *o, BusView *v, const void *obj) {
        out_str(o, ((const HostInterface *)obj)->oper_up ? "up" : "down");
}

static void interface_addresses(Out *o, BusView *v, const void *obj) {
        const HostInterface *i = obj;
        char buf[IPADDR_STRLEN];

        out_open(o, DBUS_TYPE_ARRAY, "s");
        for (size_t j = 0; j < i->n_addrs; j++) {
                ipaddr_format(&i->addrs[j], buf);
                out_str(o, buf);
        }
        out_close(o);
}

static void interface_endpoint(Out *o, BusView *v, const void *obj) {
        const Endpoint *e = interface_endpoint_of(v, obj);
        char path[BUS_PATH_MAX];

        if (!e) {
                out_path(o, "/");
                return;
        }
        bus_endpoint_path(e->name, path);
        out_path(o, path);
}

static void interface_enforced(Out *o, BusView *v, const void *obj) {
        const Endpoint *e = interface_endpoint_of(v, obj);

        out_bool(o, e && e->state == ENDPOINT_ENFORCED);
}

/* The inputs of every Interface property (the getters above). */
static uint64_t interface_fingerprint(BusView *v, const void *obj) {
        const HostInterface *i = obj;
        const Endpoint *e = interface_endpoint_of(v, i);
        uint64_t h = mix(mix(mix(14695981039346656037ULL, strmap_hash(i->name)), (uint64_t)i->ifindex), i->oper_up);

        for (size_t j = 0; j < i->n_addrs; j++) {
                h = mix(h, (uint64_t)i->addrs[j].family);
                h = fnv(h, i->addrs[j].bytes, sizeof(i->addrs[j].bytes));
        }
        h = mix(mix(h, e ? e->info->name_hash : 0), e && e->state == ENDPOINT_ENFORCED);
        return h ? h : 1;
}

static const BusProperty interface_properties[] = {
        { "Name", "s", interface_name, true, true },
        { "Index", "i", interface_index, true, true },
        { "OperState", "s", interface_oper_state, true, true },
        { "Addresses", "as", interface_addresses, true, true },
        { "Endpoint", "o", interface_endpoint, true, true },
        { "Enforced", "b", interface_enforced, true, true },
};

const BusInterface bus_interface_interface = {
        BUS_INTERFACE_INTERFACE, interface_properties, ELEMENTSOF(interface_properties), interface_fingerprint,
};

/* ---- whole objects ---- */

const BusProperty *bus_interface_property(const BusInterface *i, const char *name) {
        for (size_t j = 0; j < i->n_properties; j++)
                if (streq(i->properties[j].name, name))
                        return &i->properties[j];
        return NULL;
}

void bus_append_property_value(Out *o, const BusProperty *p, BusView *v, const void *object) {
        out_open(o, DBUS_TYPE_VARIANT, p->signature);
        p->get(o, v, object);
        out_close(o);
}

void bus_append_properties(Out *o, const BusInterface *i, BusView *v, const void *object) {
        out_open(o, DBUS_TYPE_ARRAY, "{sv}");
        for (size_t j = 0; j < i->n_properties; j++) {
                out_open(o, DBUS_TYPE_DICT_ENTRY, NULL);
                out_str(o, i->properties[j].name);
                bus_append_property_value(o, &i->properties[j], v, object);
                out_close(o);
        }
        out_close(o);
}

void bus_append_object_interfaces(Out *o, const BusInterface *i, BusView *v, const void *object) {
        /* Only our interface: the standard ones (Properties, Introspectable,
         * Peer) every object has are left out, as GDBus does, which keeps
         * the reply a fifth smaller. */
        out_open(o, DBUS_TYPE_ARRAY, "{sa{sv}}");
        out_open(o, DBUS_TYPE_DICT_ENTRY, NULL);
        out_str(o, i->name);
        bus_append_properties(o, i, v, object);
        out_close(o);
        out_close(o);
}
