/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The Manager's Explain method: one packet, described by an a{sv}, walked
 * through the ruleset the plugin committed (policy/explain.h), answered
 * with the verdict, the deciding policy and rule, and the path. It reads
 * only; the question is the one hepctl explain asks offline. */
#include <stdlib.h>
#include <string.h>

#include "bus-internal.h"
#include "explain.h"

typedef struct Key {
        const char *name;
        int type;
        bool seen;
} Key;

/* The packet's keys into q: 0, or an InvalidArgs error sent. */
static int read_packet(BusService *s, DBusMessage *m, ExplainQuestion *q) {
        Key keys[] = {
                { "Interface", DBUS_TYPE_STRING },       { "Direction", DBUS_TYPE_STRING },
                { "Source", DBUS_TYPE_STRING },          { "Destination", DBUS_TYPE_STRING },
                { "Protocol", DBUS_TYPE_STRING },        { "DestinationPort", DBUS_TYPE_UINT16 },
                { "SourcePort", DBUS_TYPE_UINT16 },      { "OutInterface", DBUS_TYPE_STRING },
                { "IcmpType", DBUS_TYPE_BYTE },
        };
        const char **strings[] = { &q->interface, &q->direction, &q->src, &q->dst, &q->proto, NULL, NULL,
                                   &q->out_interface, NULL };
        DBusMessageIter it, dict;

        *q = (ExplainQuestion) { .sport = -1, .dport = -1, .icmp_type = -1 };
        if (!dbus_message_has_signature(m, "a{sv}")) {
                bus_reply_error(s, m, DBUS_ERROR_INVALID_ARGS, "Explain takes (a{sv} packet), not (%s)",
                                dbus_message_get_signature(m));
                return -EINVAL;
        }
        dbus_message_iter_init(m, &it);
        dbus_message_iter_recurse(&it, &dict);
        for (; dbus_message_iter_get_arg_type(&dict) == DBUS_TYPE_DICT_ENTRY; dbus_message_iter_next(&dict)) {
                DBusMessageIter entry, var;
                const char *key;
                size_t k = 0;

                dbus_message_iter_recurse(&dict, &entry);
                dbus_message_iter_get_basic(&entry, &key);
                dbus_message_iter_next(&entry);
                dbus_message_iter_recurse(&entry, &var);
                while (k < ELEMENTSOF(keys) && !streq(keys[k].name, key))
                        k++;
                if (k == ELEMENTSOF(keys)) {
                        bus_reply_error(s, m, DBUS_ERROR_INVALID_ARGS, "Explain: packet key '%.100s' is unknown", key);
                        return -EINVAL;
                }
                if (dbus_message_iter_get_arg_type(&var) != keys[k].type) {
                        bus_reply_error(s, m, DBUS_ERROR_INVALID_ARGS, "Explain: packet key %s must be of type %c",
                                        key, keys[k].type);
                        return -EINVAL;
                }
                keys[k].seen = true;
                if (strings[k])
                        dbus_message_iter_get_basic(&var, strings[k]);
                else if (keys[k].type == DBUS_TYPE_UINT16) {
                        uint16_t v;
                        dbus_message_iter_get_basic(&var, &v);
                        *(streq(key, "SourcePort") ? &q->sport : &q->dport) = v;
                } else {
                        uint8_t v;
                        dbus_message_iter_get_basic(&var, &v);
                        q->icmp_type = v;
                }
        }
        for (size_t k = 0; k < 5; k++)
                if (!keys[k].seen) {
                        bus_reply_error(s, m, DBUS_ERROR_INVALID_ARGS, "Explain: packet key %s is missing",
                                        keys[k].name);
                        return -EINVAL;
                }
        return 0;
}

static void out_entry(Out *o, const char *key, const char *value) {
        out_open(o, DBUS_TYPE_DICT_ENTRY, NULL);
        out_str(o, key);
        out_open(o, DBUS_TYPE_VARIANT, "s");
        out_str(o, value);
        out_close(o);
        out_close(o);
}

void bus_handle_explain(BusService *s, DBusMessage *m) {
        static const struct {
                const char *bad, *key;
        } keys[] = {
                { "interface", "Interface" },  { "direction", "Direction" },     { "source", "Source" },
                { "destination", "Destination" }, { "family", "Destination" }, { "protocol", "Protocol" },
        };
        _cleanup_(explain_result_freep) ExplainResult *r = NULL;
        _cleanup_free_ char *why = NULL;
        const Ruleset *rs = plugin_committed_ruleset(s->p);
        const char *bad = NULL;
        ExplainQuestion q;
        ExplainPacket p;
        DBusMessage *reply;
        DBusMessageIter it;
        Out o;
        int k;

        if (read_packet(s, m, &q) < 0)
                return;
        if (explain_packet_from(&q, &p, &bad) < 0) {
                const char *key = bad;
                for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                        if (streq(keys[i].bad, bad))
                                key = keys[i].key;
                bus_reply_error(s, m, DBUS_ERROR_INVALID_ARGS, "Explain: packet key %s: %s", key,
                                streq(bad, "family") ? "Source and Destination are not of one address family"
                                                     : "not a valid value");
                return;
        }
        if (!rs) {
                bus_reply_error(s, m, DBUS_ERROR_FAILED, "Explain: no ruleset is committed yet");
                return;
        }
        k = ruleset_explain_error(rs, &p, &r, &why);
        if (k < 0) {
                bus_reply_error(s, m, DBUS_ERROR_FAILED, "Explain: %s", why ? why : strerror(-k));
                return;
        }
        reply = bus_new_reply(s, m, &it, &o);
        if (!reply)
                return;
        out_str(&o, r->action);
        out_str(&o, r->policy ? r->policy : "");
        out_i32(&o, r->rule);
        out_open(&o, DBUS_TYPE_ARRAY, "a{sv}");
        for (size_t i = 0; i < r->n_steps; i++) {
                out_open(&o, DBUS_TYPE_ARRAY, "{sv}");
                out_entry(&o, "Chain", r->steps[i].chain);
                out_entry(&o, "Rule", r->steps[i].rule ? r->steps[i].rule : "");
                out_entry(&o, "Result", r->steps[i].result);
                out_close(&o);
        }
        out_close(&o);
        bus_send(s, bus_new_reply_or_oom(m, &o, reply));
}
