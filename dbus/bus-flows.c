/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The flow logs on D-Bus: the Manager's GetFlows method and its Flows
 * (batched by kernel/flow-log.c, at most 4 a second) and FlowDenied (at
 * most 10 a second) signals; each record an a{sv} with the keys of the
 * XML's GetFlows. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "bus-internal.h"
#include "flow-log.h"

static void entry_begin(Out *o, const char *key, const char *sig) {
        out_open(o, DBUS_TYPE_DICT_ENTRY, NULL);
        out_str(o, key);
        out_open(o, DBUS_TYPE_VARIANT, sig);
}

static void entry_end(Out *o) {
        out_close(o);
        out_close(o);
}

static void kv_str(Out *o, const char *key, const char *v) {
        entry_begin(o, key, "s");
        out_str(o, v ? v : "");
        entry_end(o);
}

static void kv_u64(Out *o, const char *key, uint64_t v) {
        entry_begin(o, key, "t");
        out_u64(o, v);
        entry_end(o);
}

static void kv_u16(Out *o, const char *key, uint16_t v) {
        entry_begin(o, key, "q");
        out_u16(o, v);
        entry_end(o);
}

static void kv_i32(Out *o, const char *key, int32_t v) {
        entry_begin(o, key, "i");
        out_i32(o, v);
        entry_end(o);
}

/* One record, as the XML's GetFlows describes it. */
static void out_flow(Out *o, const FlowRecord *f) {
        char src[IPADDR_STRLEN], dst[IPADDR_STRLEN], proto[8];

        ipaddr_format(&f->src, src);
        ipaddr_format(&f->dst, dst);
        protocol_format(f->proto, proto);
        out_open(o, DBUS_TYPE_ARRAY, "{sv}");
        kv_u64(o, "Time", f->time_usec);
        kv_u64(o, "LastSeen", f->last_seen_usec);
        kv_str(o, "Interface", f->ifname);
        kv_str(o, "Endpoint", f->endpoint);
        kv_str(o, "Direction", f->direction);
        kv_str(o, "Family", f->src.family == AF_INET6 ? "ipv6" : "ipv4");
        kv_str(o, "Protocol", proto);
        kv_str(o, "Source", src);
        kv_u16(o, "SourcePort", f->sport);
        kv_str(o, "Destination", dst);
        kv_u16(o, "DestinationPort", f->dport);
        kv_str(o, "Action", f->allow ? "allow" : "deny");
        kv_str(o, "Tier", f->tier);
        kv_str(o, "Policy", f->policy);
        kv_i32(o, "Rule", f->rule);
        kv_u64(o, "Packets", f->packets);
        kv_u64(o, "Bytes", f->bytes);
        entry_begin(o, "Ended", "b");
        out_bool(o, f->ended);
        entry_end(o);
        kv_str(o, "PendingAction", f->pending_action);
        kv_str(o, "PendingPolicy", f->pending_policy);
        kv_i32(o, "PendingRule", f->pending_rule);
        out_close(o);
}

static void emit(BusService *s, const char *member, const FlowRecord *const *v, size_t n, bool array) {
        DBusMessage *m;
        DBusMessageIter it;
        Out o;

        if (!s->conn || !s->name_owned)
                return;
        m = dbus_message_new_signal(BUS_ROOT_PATH, BUS_MANAGER_INTERFACE, member);
        if (!m)
                return;
        dbus_message_iter_init_append(m, &it);
        out_init_message(&o, &it);
        if (array)
                out_open(&o, DBUS_TYPE_ARRAY, "a{sv}");
        for (size_t i = 0; i < n; i++)
                out_flow(&o, v[i]);
        if (array)
                out_close(&o);
        if (o.oom) {
                dbus_message_unref(m);
                return;
        }
        bus_send(s, m);
}

static void on_flows(void *userdata, const FlowRecord *const *v, size_t n) {
        emit(userdata, "Flows", v, n, true);
}

static void on_flow_denied(void *userdata, const FlowRecord *f) {
        emit(userdata, "FlowDenied", &f, 1, false);
}

void bus_flows_attach(BusService *s) {
        FlowLog *f = plugin_flow_log(s->p);

        if (f)
                flow_log_listen(f, on_flows, on_flow_denied, s);
}

void bus_flows_detach(BusService *s) {
        FlowLog *f = plugin_flow_log(s->p);

        if (f)
                flow_log_listen(f, NULL, NULL, NULL);
}

/* GetFlows' filter: every key optional, each of its one type. */
typedef struct FlowFilter {
        const char *interface, *action;
        uint64_t since;
        uint32_t limit;
} FlowFilter;

static int parse_filter(BusService *s, DBusMessage *m, FlowFilter *ret) {
        DBusMessageIter it, arr;

        *ret = (FlowFilter) { .limit = UINT32_MAX };
        if (!dbus_message_has_signature(m, "a{sv}")) {
                bus_reply_error(s, m, DBUS_ERROR_INVALID_ARGS, "GetFlows takes (a{sv} filter), not (%s)",
                                dbus_message_get_signature(m));
                return -EINVAL;
        }
        dbus_message_iter_init(m, &it);
        dbus_message_iter_recurse(&it, &arr);
        for (; dbus_message_iter_get_arg_type(&arr) == DBUS_TYPE_DICT_ENTRY; dbus_message_iter_next(&arr)) {
                DBusMessageIter e, v;
                const char *key;
                int type;

                dbus_message_iter_recurse(&arr, &e);
                dbus_message_iter_get_basic(&e, &key);
                dbus_message_iter_next(&e);
                dbus_message_iter_recurse(&e, &v);
                type = dbus_message_iter_get_arg_type(&v);
                if (streq(key, "Interface") && type == DBUS_TYPE_STRING)
                        dbus_message_iter_get_basic(&v, &ret->interface);
                else if (streq(key, "Action") && type == DBUS_TYPE_STRING) {
                        dbus_message_iter_get_basic(&v, &ret->action);
                        if (!streq(ret->action, "allow") && !streq(ret->action, "deny")) {
                                bus_reply_error(s, m, DBUS_ERROR_INVALID_ARGS,
                                                "GetFlows: filter key Action: expected allow or deny, got '%.50s'",
                                                ret->action);
                                return -EINVAL;
                        }
                } else if (streq(key, "Since") && type == DBUS_TYPE_UINT64)
                        dbus_message_iter_get_basic(&v, &ret->since);
                else if (streq(key, "Limit") && type == DBUS_TYPE_UINT32)
                        dbus_message_iter_get_basic(&v, &ret->limit);
                else {
                        bus_reply_error(s, m, DBUS_ERROR_INVALID_ARGS,
                                        "GetFlows: filter key %.50s: %s", key,
                                        streq(key, "Interface") || streq(key, "Action") ? "expected a string (s)"
                                        : streq(key, "Since")                          ? "expected microseconds (t)"
                                        : streq(key, "Limit")                          ? "expected a count (u)"
                                                                                       : "unknown key (Interface, Action, Since, Limit)");
                        return -EINVAL;
                }
        }
        return 0;
}

static bool filter_matches(const FlowFilter *flt, const FlowRecord *f) {
        return (!flt->interface || streq(flt->interface, f->ifname)) &&
               (!flt->action || streq(flt->action, f->allow ? "allow" : "deny")) && f->last_seen_usec >= flt->since;
}

void bus_handle_get_flows(BusService *s, DBusMessage *m) {
        FlowLog *flows = plugin_flow_log(s->p);
        const FlowRecord *f;
        DBusMessageIter it;
        DBusMessage *reply;
        FlowFilter flt;
        size_t n = 0, skip;
        Out o;

        if (parse_filter(s, m, &flt) < 0)
                return;
        /* Newest last; with a Limit, the newest that many. */
        for (f = flows ? flow_log_next(flows, NULL) : NULL; f; f = flow_log_next(flows, f))
                n += filter_matches(&flt, f);
        skip = n > flt.limit ? n - flt.limit : 0;
        reply = bus_new_reply(s, m, &it, &o);
        if (!reply)
                return;
        out_open(&o, DBUS_TYPE_ARRAY, "a{sv}");
        for (f = flows ? flow_log_next(flows, NULL) : NULL; f; f = flow_log_next(flows, f))
                if (filter_matches(&flt, f) && (skip == 0 || skip-- == 0))
                        out_flow(&o, f);
        out_close(&o);
        bus_send(s, bus_new_reply_or_oom(m, &o, reply));
}
