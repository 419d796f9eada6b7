/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hepctl status: what the running daemon enforces, asked over D-Bus
 * (GetManagedObjects and the Manager's properties), as a table of
 * interfaces and the HostEndpoints of this node, or as JSON. */
#include <dbus/dbus.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus-open.h"
#include "hepctl-bus.h"
#include "intern.h"
#include "node.h"
#include "parse.h"
#include "settings.h"
#include "strbuf.h"

#define BUS_NAME "org.projectcalico.HostEndpoint1"
#define ROOT_PATH "/org/projectcalico/HostEndpoint1"
#define CALL_TIMEOUT_MS 10000

/* ---- D-Bus values as a document tree ---- */

static Node *scalar(const char *text, bool quoted) {
        return node_new_scalar(text, quoted);
}

/* Any D-Bus value: strings and paths are quoted scalars, numbers and
 * booleans plain ones, arrays of dict entries maps, other arrays and
 * structs lists, variants their content. */
Node *hepctl_bus_value(DBusMessageIter *it) {
        int type = dbus_message_iter_get_arg_type(it);
        char buf[32];

        switch (type) {
        case DBUS_TYPE_STRING:
        case DBUS_TYPE_OBJECT_PATH:
        case DBUS_TYPE_SIGNATURE: {
                const char *s;
                dbus_message_iter_get_basic(it, &s);
                return scalar(s, true);
        }
        case DBUS_TYPE_BOOLEAN: {
                dbus_bool_t b;
                dbus_message_iter_get_basic(it, &b);
                return scalar(b ? "true" : "false", false);
        }
        case DBUS_TYPE_INT32: {
                int32_t v;
                dbus_message_iter_get_basic(it, &v);
                snprintf(buf, sizeof(buf), "%d", v);
                return scalar(buf, false);
        }
        case DBUS_TYPE_UINT16: {
                uint16_t v;
                dbus_message_iter_get_basic(it, &v);
                snprintf(buf, sizeof(buf), "%u", v);
                return scalar(buf, false);
        }
        case DBUS_TYPE_UINT32: {
                uint32_t v;
                dbus_message_iter_get_basic(it, &v);
                snprintf(buf, sizeof(buf), "%u", v);
                return scalar(buf, false);
        }
        case DBUS_TYPE_UINT64: {
                uint64_t v;
                dbus_message_iter_get_basic(it, &v);
                snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
                return scalar(buf, false);
        }
        case DBUS_TYPE_VARIANT: {
                DBusMessageIter sub;
                dbus_message_iter_recurse(it, &sub);
                return hepctl_bus_value(&sub);
        }
        case DBUS_TYPE_ARRAY:
        case DBUS_TYPE_STRUCT: {
                DBusMessageIter sub;
                bool dict = type == DBUS_TYPE_ARRAY && dbus_message_iter_get_element_type(it) == DBUS_TYPE_DICT_ENTRY;
                Node *n = node_new(dict ? NODE_MAP : NODE_SEQ, 0, 0);
                if (!n)
                        return NULL;
                dbus_message_iter_recurse(it, &sub);
                for (; dbus_message_iter_get_arg_type(&sub) != DBUS_TYPE_INVALID; dbus_message_iter_next(&sub)) {
                        if (dict) {
                                DBusMessageIter kv;
                                dbus_message_iter_recurse(&sub, &kv);
                                Node *k = hepctl_bus_value(&kv);
                                dbus_message_iter_next(&kv);
                                Node *v = hepctl_bus_value(&kv);
                                if (!k || !v || node_map_add(n, k, v) < 0) {
                                        node_free(k);
                                        node_free(v);
                                        return node_free(n);
                                }
                        } else {
                                Node *v = hepctl_bus_value(&sub);
                                if (!v || node_seq_add(n, v) < 0) {
                                        node_free(v);
                                        return node_free(n);
                                }
                        }
                }
                return n;
        }
        default:
                return scalar("", true);
        }
}

/* ---- asking the daemon ---- */

static Node *call(DBusConnection *c, const char *interface, const char *method, const char *arg, DBusError *e) {
        DBusMessage *m = dbus_message_new_method_call(BUS_NAME, ROOT_PATH, interface, method), *reply;
        DBusMessageIter it;
        Node *n;

        if (!m)
                return NULL;
        if (arg && !dbus_message_append_args(m, DBUS_TYPE_STRING, &arg, DBUS_TYPE_INVALID)) {
                dbus_message_unref(m);
                return NULL;
        }
        reply = dbus_connection_send_with_reply_and_block(c, m, CALL_TIMEOUT_MS, e);
        dbus_message_unref(m);
        if (!reply)
                return NULL;
        n = dbus_message_iter_init(reply, &it) ? hepctl_bus_value(&it) : NULL;
        dbus_message_unref(reply);
        return n;
}

static const char *str(const Node *map, const char *key) {
        const Node *n = map ? node_map_get(map, key) : NULL;

        return n && n->type == NODE_SCALAR ? n->text : "";
}

static const Node *seq(const Node *map, const char *key) {
        const Node *n = map ? node_map_get(map, key) : NULL;

        return n && n->type == NODE_SEQ ? n : NULL;
}

static char *join(const Node *list, const char *sep, const char *empty) {
        StrBuf b = STRBUF_INIT;

        for (size_t i = 0; list && i < list->n; i++)
                if (list->items[i]->type == NODE_SCALAR)
                        strbuf_printf(&b, "%s%s", b.len ? sep : "", list->items[i]->text);
        if (b.len == 0)
                strbuf_append(&b, empty);
        return strbuf_steal(&b);
}

/* The Endpoint and Interface objects, by path. */
typedef struct Objects {
        Node *all; /* path → interface → properties */
} Objects;

static const Node *props(const Node *object, const char *interface) {
        return object ? node_map_get(object, interface) : NULL;
}

static const Node *object_at(const Objects *o, const char *path) {
        return node_map_get(o->all, path);
}

/* ---- the table ---- */

static void print_status(const Node *manager, const Objects *o) {
        Table t = { .n_cols = 5 };
        static const char *const headings[] = { "INTERFACE", "HOSTENDPOINT", "STATE", "REASON", "POLICIES" };

        /* "hostendpoint 0.1.0 in connmand 1.41"; a plugin older than
         * Manager.Host ran in hostendpointd. */
        if (*str(manager, "Host"))
                printf("hostendpoint %s in %s", str(manager, "Version"), str(manager, "Host"));
        else
                printf("hostendpointd %s", str(manager, "Version"));
        printf(" on node %s, datastore %s: %s\n", str(manager, "NodeName"), str(manager, "Datastore"),
               str(manager, "State"));
        if (*str(manager, "LastError"))
                printf("Last error: %s\n", str(manager, "LastError"));
        if (*str(manager, "Restorations") && !streq(str(manager, "Restorations"), "0"))
                printf("Table restored after changes by other programs: %s times\n", str(manager, "Restorations"));
        printf("\n");
        for (size_t i = 0; i < ELEMENTSOF(headings); i++)
                table_add(&t, strdup(headings[i]));
        /* Interfaces first, each with the endpoint whose policy it gets. */
        for (size_t i = 0; i < o->all->n; i++) {
                const Node *iface = props(o->all->entries[i].value, "org.projectcalico.HostEndpoint1.Interface");
                if (!iface)
                        continue;
                const Node *ep = props(object_at(o, str(iface, "Endpoint")), "org.projectcalico.HostEndpoint1.Endpoint");
                table_add(&t, strdup(str(iface, "Name")));
                table_add(&t, strdup(ep ? str(ep, "Name") : "-"));
                table_add(&t, strdup(!ep ? "unprotected" : streq(str(iface, "Enforced"), "true") ? "enforced" : str(ep, "State")));
                table_add(&t, strdup(ep ? str(ep, "StateReason") : "no HostEndpoint matches it"));
                table_add(&t, join(seq(ep, "Policies"), ",", "-"));
        }
        /* Then this node's endpoints that have no interface. */
        for (size_t i = 0; i < o->all->n; i++) {
                const Node *ep = props(o->all->entries[i].value, "org.projectcalico.HostEndpoint1.Endpoint");
                const Node *ifs = seq(ep, "Interfaces");
                if (!ep || streq(str(ep, "State"), "remote") || (ifs && ifs->n > 0))
                        continue;
                table_add(&t, strdup(*str(ep, "InterfaceName") ? str(ep, "InterfaceName") : "-"));
                table_add(&t, strdup(str(ep, "Name")));
                table_add(&t, strdup(str(ep, "State")));
                table_add(&t, strdup(str(ep, "StateReason")));
                table_add(&t, join(seq(ep, "Policies"), ",", "-"));
        }
        table_print(&t);
}

/* ---- JSON: the manager's properties, then interfaces and this node's
 * endpoints, each as its D-Bus properties with lower-case keys ---- */

static char *json_key(const char *prop) {
        char *k = strdup(prop);

        /* "PacketsAccepted" → "packetsAccepted", "ExpectedIPs" → "expectedIPs" */
        if (k && k[0] >= 'A' && k[0] <= 'Z')
                k[0] = (char)(k[0] - 'A' + 'a');
        return k;
}

static Node *json_object(const Node *properties) {
        Node *n = node_new(NODE_MAP, 0, 0);

        for (size_t i = 0; n && properties && i < properties->n; i++) {
                _cleanup_free_ char *k = json_key(properties->entries[i].key->text);
                if (!k || node_map_set(n, k, node_copy(properties->entries[i].value)) < 0)
                        return node_free(n);
        }
        return n;
}

static int print_json(const Node *manager, const Objects *o) {
        _cleanup_(node_freep) Node *root = json_object(manager);
        Node *ifaces = node_new(NODE_SEQ, 0, 0), *eps = node_new(NODE_SEQ, 0, 0);
        StrBuf out = STRBUF_INIT;
        int r = root && ifaces && eps ? 0 : -ENOMEM;

        for (size_t i = 0; r >= 0 && i < o->all->n; i++) {
                const Node *obj = o->all->entries[i].value;
                const Node *iface = props(obj, "org.projectcalico.HostEndpoint1.Interface");
                const Node *ep = props(obj, "org.projectcalico.HostEndpoint1.Endpoint");
                if (iface)
                        r = node_seq_add(ifaces, json_object(iface));
                else if (ep && !streq(str(ep, "State"), "remote"))
                        r = node_seq_add(eps, json_object(ep));
        }
        if (r >= 0)
                r = node_map_set(root, "interfaces", steal_ptr(ifaces));
        if (r >= 0)
                r = node_map_set(root, "hostEndpoints", steal_ptr(eps));
        node_free(ifaces);
        node_free(eps);
        if (r < 0)
                return r;
        node_emit_json(root, &out, true);
        printf("%s\n", strbuf_str(&out));
        strbuf_done(&out);
        return 0;
}

/* ---- the daemon's view of HostEndpoints, for hepctl get ---- */

static int strlist_from(const Node *seq_node, StrList *ret) {
        ret->v = new_array(seq_node ? seq_node->n : 0, sizeof(char *));
        if (!ret->v)
                return -ENOMEM;
        for (size_t i = 0; seq_node && i < seq_node->n; i++)
                if (!(ret->v[ret->n++] = strdup(seq_node->items[i]->text ? seq_node->items[i]->text : "")))
                        return -ENOMEM;
        return 0;
}

/* A HostEndpoint resource from an Endpoint object's properties. */
static int host_endpoint_from(const Node *p, Resource **ret) {
        _cleanup_(resource_freep) Resource *r = resource_new(KIND_HOST_ENDPOINT);
        const Node *labels = node_map_get(p, "Labels"), *ports = seq(p, "Ports");
        HostEndpointSpec *s;
        int k = 0;

        if (!r)
                return -ENOMEM;
        s = &r->spec.hep;
        r->meta.name = strdup(str(p, "Name"));
        s->node = intern_ref(str(p, "Node")); /* shared, as the loader makes it */
        s->interface_name = *str(p, "InterfaceName") ? strdup(str(p, "InterfaceName")) : NULL;
        if (!r->meta.name || !s->node)
                return -ENOMEM;
        for (size_t i = 0; labels && labels->type == NODE_MAP && k >= 0 && i < labels->n; i++)
                k = labels_set(&r->meta.labels, labels->entries[i].key->text, labels->entries[i].value->text);
        if (k >= 0)
                k = strlist_from(seq(p, "ExpectedIPs"), &s->expected_ips);
        if (k >= 0)
                k = strlist_from(seq(p, "Profiles"), &s->profiles);
        s->ports.v = new_array(ports ? ports->n : 0, sizeof(EndpointPort));
        if (k < 0 || !s->ports.v)
                return -ENOMEM;
        for (size_t i = 0; ports && i < ports->n; i++) {
                const Node *t = ports->items[i];
                if (t->type != NODE_SEQ || t->n != 3)
                        continue;
                EndpointPort *e = &s->ports.v[s->ports.n++];
                e->name = strdup(t->items[0]->text);
                e->protocol = (Protocol) { .set = true, .name = strdup(t->items[1]->text) };
                e->port = (uint16_t)strtoul(t->items[2]->text, NULL, 10);
                if (!e->name || !e->protocol.name)
                        return -ENOMEM;
        }
        *ret = steal_ptr(r);
        return 0;
}

int hepctl_daemon_host_endpoints(const HepctlOptions *o, ResourceList *ret) {
        _cleanup_(config_done) Config cfg = {};
        const char *bus = hepctl_configured_bus(o, &cfg);
        Node *all = NULL;
        DBusConnection *c;
        DBusError e;
        int r = -ENOTCONN;

        dbus_error_init(&e);
        c = bus_open(bus, &e);
        if (c && dbus_bus_name_has_owner(c, BUS_NAME, NULL))
                all = call(c, "org.freedesktop.DBus.ObjectManager", "GetManagedObjects", NULL, &e);
        if (all && all->type == NODE_MAP) {
                r = 0;
                for (size_t i = 0; r >= 0 && i < all->n; i++) {
                        const Node *p = props(all->entries[i].value, "org.projectcalico.HostEndpoint1.Endpoint");
                        Resource *res;
                        if (!p)
                                continue;
                        r = host_endpoint_from(p, &res);
                        if (r >= 0 && resource_list_add(ret, res) < 0) {
                                resource_free(res);
                                r = -ENOMEM;
                        }
                }
        }
        node_free(all);
        dbus_error_free(&e);
        if (c) {
                dbus_connection_close(c);
                dbus_connection_unref(c);
        }
        return r;
}

DBusConnection *hepctl_bus_connect(const HepctlArgs *a, Config *cfg, const char **ret_bus) {
        const char *bus = a->bus ? a->bus : hepctl_configured_bus(&a->global, cfg);
        DBusConnection *c;
        DBusError e;

        dbus_error_init(&e);
        c = bus_open(bus, &e);
        if (!c) {
                hepctl_error("Cannot connect to the %s bus: %s", bus, e.message ? e.message : "unknown error");
                dbus_error_free(&e);
                return NULL;
        }
        if (!dbus_bus_name_has_owner(c, BUS_NAME, NULL)) {
                hepctl_error("hostendpointd is not running: nothing owns %s on the %s bus", BUS_NAME, bus);
                dbus_connection_close(c);
                dbus_connection_unref(c);
                return NULL;
        }
        *ret_bus = bus;
        return c;
}

/* ---- the command ---- */

int hepctl_status(const HepctlArgs *a) {
        _cleanup_(config_done) Config cfg = {};
        _cleanup_(node_freep) Node *manager = NULL;
        Objects objects = {};
        const char *bus;
        DBusConnection *c = hepctl_bus_connect(a, &cfg, &bus);
        DBusError e;
        int code = HEPCTL_FAIL;

        if (!c)
                return HEPCTL_FAIL;
        dbus_error_init(&e);
        manager = call(c, DBUS_INTERFACE_PROPERTIES, "GetAll", BUS_NAME ".Manager", &e);
        if (manager)
                objects.all = call(c, "org.freedesktop.DBus.ObjectManager", "GetManagedObjects", NULL, &e);
        if (!manager || !objects.all || manager->type != NODE_MAP || objects.all->type != NODE_MAP) {
                hepctl_error("Cannot ask hostendpointd: %s", dbus_error_is_set(&e) ? e.message : "unexpected reply");
                goto out;
        }
        if (streq(a->output, "json")) {
                if (print_json(manager, &objects) >= 0)
                        code = HEPCTL_OK;
        } else {
                print_status(manager, &objects);
                code = HEPCTL_OK;
        }
out:
        node_free(objects.all);
        dbus_error_free(&e);
        dbus_connection_close(c);
        dbus_connection_unref(c);
        return code;
}
