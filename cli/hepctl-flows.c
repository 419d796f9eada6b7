/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hepctl flows: the daemon's recent flows (the Manager's GetFlows), then,
 * with --follow, those its Flows signal brings, as a table or JSON. */
#include <dbus/dbus.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bus-open.h"
#include "hepctl-bus.h"
#include "strbuf.h"

#define CALL_TIMEOUT_MS 10000

static const char *field(const Node *rec, const char *key) {
        const Node *n = node_map_get(rec, key);

        return n && n->type == NODE_SCALAR ? n->text : "";
}

static bool wanted(const HepctlArgs *a, const Node *rec) {
        return rec->type == NODE_MAP && (!a->interface || streq(field(rec, "Interface"), a->interface)) &&
               (!a->action || streq(field(rec, "Action"), a->action));
}

/* "10.0.0.1:80", "[fd00::1]:80"; the address alone without a port. */
static char *address(const Node *rec, const char *addr, const char *port) {
        const char *a = field(rec, addr), *p = field(rec, port);
        char *s;

        if (streq(p, "0") || !*p)
                return strdup(a);
        if (asprintf(&s, strchr(a, ':') ? "[%s]:%s" : "%s:%s", a, p) < 0)
                return NULL;
        return s;
}

static char *time_text(const char *usec) {
        time_t t = (time_t)(strtoull(usec, NULL, 10) / 1000000);
        struct tm tm;
        char buf[32];

        if (!localtime_r(&t, &tm) || !strftime(buf, sizeof(buf), "%H:%M:%S", &tm))
                return strdup("-");
        return strdup(buf);
}

static const char *const headings[] = { "TIME", "INTERFACE", "DIRECTION", "PROTOCOL", "SOURCE", "DESTINATION",
                                        "ACTION", "POLICY", "RULE", "ENDPOINT", "TIER", "PACKETS", "BYTES", "ENDED",
                                        "PENDING" };
#define COLUMNS_PS 9

static void add_row(Table *t, const Node *rec, bool wide) {
        table_add(t, time_text(field(rec, "Time")));
        table_add(t, strdup(field(rec, "Interface")));
        table_add(t, strdup(field(rec, "Direction")));
        table_add(t, strdup(field(rec, "Protocol")));
        table_add(t, address(rec, "Source", "SourcePort"));
        table_add(t, address(rec, "Destination", "DestinationPort"));
        table_add(t, strdup(field(rec, "Action")));
        table_add(t, strdup(*field(rec, "Policy") ? field(rec, "Policy") : "-"));
        table_add(t, strdup(streq(field(rec, "Rule"), "-1") ? "-" : field(rec, "Rule")));
        if (!wide)
                return;
        table_add(t, strdup(*field(rec, "Endpoint") ? field(rec, "Endpoint") : "-"));
        table_add(t, strdup(*field(rec, "Tier") ? field(rec, "Tier") : "-"));
        table_add(t, strdup(field(rec, "Packets")));
        table_add(t, strdup(field(rec, "Bytes")));
        table_add(t, strdup(streq(field(rec, "Ended"), "true") ? "yes" : "no"));
        table_add(t, strdup(*field(rec, "PendingAction") ? field(rec, "PendingAction") : "-"));
}

/* Records as JSON: their D-Bus keys with a lower-case first letter, as
 * `hepctl status -o json` writes properties. */
static Node *json_record(const Node *rec) {
        Node *n = node_new(NODE_MAP, 0, 0);

        for (size_t i = 0; n && i < rec->n; i++) {
                _cleanup_free_ char *k = strdup(rec->entries[i].key->text);
                if (k && k[0] >= 'A' && k[0] <= 'Z')
                        k[0] = (char)(k[0] - 'A' + 'a');
                if (!k || node_map_set(n, k, node_copy(rec->entries[i].value)) < 0)
                        return node_free(n);
        }
        return n;
}

static void print_json_line(const Node *rec) {
        _cleanup_(node_freep) Node *j = json_record(rec);
        StrBuf out = STRBUF_INIT;

        if (!j)
                return;
        node_emit_json(j, &out, false);
        printf("%s\n", strbuf_str(&out));
        strbuf_done(&out);
}

/* The records of list (a GetFlows reply or a Flows signal) that the
 * filters want. headings: print them first. */
static void print_records(const HepctlArgs *a, const Node *list, bool headings_too) {
        bool wide = streq(a->output, "wide");
        Table t = { .n_cols = wide ? ELEMENTSOF(headings) : COLUMNS_PS };

        if (streq(a->output, "json") && !a->follow) {
                _cleanup_(node_freep) Node *all = node_new(NODE_SEQ, 0, 0);
                StrBuf out = STRBUF_INIT;
                for (size_t i = 0; all && list && i < list->n; i++)
                        if (wanted(a, list->items[i]))
                                (void)node_seq_add(all, json_record(list->items[i]));
                if (!all)
                        return;
                node_emit_json(all, &out, true);
                printf("%s\n", strbuf_str(&out));
                strbuf_done(&out);
                return;
        }
        if (streq(a->output, "json")) {
                for (size_t i = 0; list && i < list->n; i++)
                        if (wanted(a, list->items[i]))
                                print_json_line(list->items[i]);
                fflush(stdout);
                return;
        }
        for (size_t i = 0; headings_too && i < t.n_cols; i++)
                table_add(&t, strdup(headings[i]));
        for (size_t i = 0; list && i < list->n; i++)
                if (wanted(a, list->items[i]))
                        add_row(&t, list->items[i], wide);
        table_print(&t);
        fflush(stdout);
}

static void append_filter(DBusMessageIter *dict, const char *key, const char *value) {
        DBusMessageIter e, v;

        if (!value)
                return;
        dbus_message_iter_open_container(dict, DBUS_TYPE_DICT_ENTRY, NULL, &e);
        dbus_message_iter_append_basic(&e, DBUS_TYPE_STRING, &key);
        dbus_message_iter_open_container(&e, DBUS_TYPE_VARIANT, "s", &v);
        dbus_message_iter_append_basic(&v, DBUS_TYPE_STRING, &value);
        dbus_message_iter_close_container(&e, &v);
        dbus_message_iter_close_container(dict, &e);
}

static Node *get_flows(DBusConnection *c, const HepctlArgs *a, DBusError *e) {
        DBusMessage *m = dbus_message_new_method_call(HEPCTL_BUS_NAME, HEPCTL_BUS_ROOT, HEPCTL_BUS_NAME ".Manager",
                                                      "GetFlows"),
                    *reply;
        DBusMessageIter it, dict;
        Node *n;

        if (!m)
                return NULL;
        dbus_message_iter_init_append(m, &it);
        dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, "{sv}", &dict);
        append_filter(&dict, "Interface", a->interface);
        append_filter(&dict, "Action", a->action);
        dbus_message_iter_close_container(&it, &dict);
        reply = dbus_connection_send_with_reply_and_block(c, m, CALL_TIMEOUT_MS, e);
        dbus_message_unref(m);
        if (!reply)
                return NULL;
        n = dbus_message_iter_init(reply, &it) ? hepctl_bus_value(&it) : NULL;
        dbus_message_unref(reply);
        return n;
}

/* --follow: the Flows signal's records, as they come, until the daemon
 * leaves the bus or hepctl is interrupted. */
static int follow(DBusConnection *c, const HepctlArgs *a) {
        DBusError e;

        dbus_error_init(&e);
        dbus_bus_add_match(c,
                           "type='signal',sender='" HEPCTL_BUS_NAME "',path='" HEPCTL_BUS_ROOT
                           "',interface='" HEPCTL_BUS_NAME ".Manager',member='Flows'",
                           &e);
        if (dbus_error_is_set(&e)) {
                hepctl_error("Cannot follow the flows: %s", e.message);
                dbus_error_free(&e);
                return HEPCTL_FAIL;
        }
        while (dbus_connection_read_write(c, -1)) {
                DBusMessage *m;
                while ((m = dbus_connection_pop_message(c))) {
                        DBusMessageIter it;
                        if (dbus_message_is_signal(m, HEPCTL_BUS_NAME ".Manager", "Flows") &&
                            dbus_message_iter_init(m, &it)) {
                                _cleanup_(node_freep) Node *list = hepctl_bus_value(&it);
                                if (list && list->type == NODE_SEQ)
                                        print_records(a, list, false);
                        }
                        dbus_message_unref(m);
                }
        }
        return HEPCTL_OK;
}

int hepctl_flows(const HepctlArgs *a) {
        _cleanup_(config_done) Config cfg = {};
        _cleanup_(node_freep) Node *list = NULL;
        const char *bus;
        DBusConnection *c = hepctl_bus_connect(a, &cfg, &bus);
        DBusError e;
        int code = HEPCTL_FAIL;

        if (!c)
                return HEPCTL_FAIL;
        dbus_error_init(&e);
        list = get_flows(c, a, &e);
        if (!list || list->type != NODE_SEQ) {
                hepctl_error("Cannot ask hostendpointd: %s", dbus_error_is_set(&e) ? e.message : "unexpected reply");
                goto out;
        }
        print_records(a, list, true);
        code = a->follow ? follow(c, a) : HEPCTL_OK;
out:
        dbus_error_free(&e);
        dbus_connection_close(c);
        dbus_connection_unref(c);
        return code;
}
