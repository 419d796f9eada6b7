/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hepctl explain: the path one packet takes through the ruleset and its
 * verdict (policy/explain.h). Asked of the running daemon over D-Bus
 * (Explain, about the ruleset it committed), or computed offline from the
 * datastore exactly as `hepctl ruleset` computes the ruleset. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "explain.h"
#include "hepctl.h"
#include "node.h"
#include "strbuf.h"
#if HEP_WITH_DBUS
#include <dbus/dbus.h>

#include "bus-open.h"
#endif
#include "config.h"

#define BUS_NAME "org.projectcalico.HostEndpoint1"
#define ROOT_PATH "/org/projectcalico/HostEndpoint1"
#define CALL_TIMEOUT_MS 10000

/* ---- printing ---- */

static void print_packet(const HepctlArgs *a, const ExplainPacket *p, const char *source) {
        char src[IPADDR_STRLEN], dst[IPADDR_STRLEN];

        ipaddr_format(&p->src, src);
        ipaddr_format(&p->dst, dst);
        printf("Packet: %s %s", a->proto, src);
        if (p->sport)
                printf(" port %u", p->sport);
        printf(" -> %s", dst);
        if (p->dport)
                printf(" port %u", p->dport);
        if (!p->sport && !p->dport && (streq(a->proto, "icmp") || streq(a->proto, "icmpv6")))
                printf(" type %u", p->icmp_type);
        if (streq(a->direction, "forward"))
                printf(", forwarded from %s%s%s", a->interface, a->out_interface ? " to " : "", a->out_interface ? a->out_interface : "");
        else
                printf(", %s %s", streq(a->direction, "in") ? "in by" : "out by", a->interface);
        printf(" (the first packet of a flow)\nRuleset: %s\n", source);
}

static void print_table(const ExplainResult *r) {
        printf("\nPath:\n");
        for (size_t i = 0; i < r->n_steps; i++)
                printf("  %s: %s\n      => %s\n", r->steps[i].chain, r->steps[i].rule ? r->steps[i].rule : "(no rule matched)",
                       r->steps[i].result);
        printf("\nVerdict: %s", r->action);
        if (r->policy) {
                printf(" by %s", r->policy);
                if (r->rule >= 0)
                        printf(", rule %d", r->rule);
                if (r->tier)
                        printf(" (tier %s)", r->tier);
        } else if (streq(r->action, "none"))
                printf(" (no host endpoint's policy applies: the packet passes)");
        printf("\n");
}

static int print_json(const ExplainResult *r) {
        _cleanup_(node_freep) Node *root = node_new(NODE_MAP, 0, 0);
        Node *path = node_new(NODE_SEQ, 0, 0);
        StrBuf out = STRBUF_INIT;
        char rule[16];
        int k = root && path ? 0 : -ENOMEM;

        snprintf(rule, sizeof(rule), "%d", r->rule);
        if (k >= 0)
                k = node_map_set_string(root, "verdict", r->action);
        if (k >= 0)
                k = node_map_set_string(root, "tier", r->tier ? r->tier : "");
        if (k >= 0)
                k = node_map_set_string(root, "policy", r->policy ? r->policy : "");
        if (k >= 0)
                k = node_map_set(root, "rule", node_new_scalar(rule, false));
        for (size_t i = 0; k >= 0 && i < r->n_steps; i++) {
                Node *step = node_new(NODE_MAP, 0, 0);
                k = step ? 0 : -ENOMEM;
                if (k >= 0)
                        k = node_map_set_string(step, "chain", r->steps[i].chain);
                if (k >= 0)
                        k = node_map_set_string(step, "rule", r->steps[i].rule ? r->steps[i].rule : "");
                if (k >= 0)
                        k = node_map_set_string(step, "result", r->steps[i].result);
                if (k >= 0)
                        k = node_seq_add(path, step);
                else
                        node_free(step);
        }
        if (k >= 0)
                k = node_map_set(root, "path", steal_ptr(path));
        node_free(path);
        if (k < 0)
                return k;
        node_emit_json(root, &out, true);
        printf("%s\n", strbuf_str(&out));
        strbuf_done(&out);
        return 0;
}

static int print_result(const HepctlArgs *a, const ExplainPacket *p, const ExplainResult *r, const char *source) {
        if (streq(a->output, "json"))
                return print_json(r);
        print_packet(a, p, source);
        print_table(r);
        return 0;
}

/* ---- offline: the ruleset hepctl ruleset prints ---- */

static int explain_offline(const HepctlArgs *a, const ExplainPacket *p) {
        _cleanup_(datastore_freep) Datastore *ds = NULL;
        _cleanup_(staged_computation_done) StagedComputation s = {};
        _cleanup_(explain_result_freep) ExplainResult *r = NULL;
        _cleanup_free_ char *why = NULL, *source = NULL;
        int k;

        if (hepctl_compute(a, &ds, &s) < 0)
                return HEPCTL_FAIL;
        k = ruleset_explain_error(s.c.ruleset, p, &r, &why);
        if (k < 0) {
                hepctl_error("Cannot explain: %s", why ? why : strerror(-k));
                return HEPCTL_FAIL;
        }
        if (asprintf(&source, "computed from the datastore for node %s", s.c.calc->nodename) < 0)
                return HEPCTL_FAIL;
        return print_result(a, p, r, source) < 0 ? HEPCTL_FAIL : HEPCTL_OK;
}

/* ---- over D-Bus: the ruleset the daemon committed ---- */

#if HEP_WITH_DBUS
static bool append_entry(DBusMessageIter *dict, const char *key, int type, const void *value) {
        DBusMessageIter entry, var;
        char sig[2] = { (char)type, 0 };

        return dbus_message_iter_open_container(dict, DBUS_TYPE_DICT_ENTRY, NULL, &entry) &&
               dbus_message_iter_append_basic(&entry, DBUS_TYPE_STRING, &key) &&
               dbus_message_iter_open_container(&entry, DBUS_TYPE_VARIANT, sig, &var) &&
               dbus_message_iter_append_basic(&var, type, value) && dbus_message_iter_close_container(&entry, &var) &&
               dbus_message_iter_close_container(dict, &entry);
}

static DBusMessage *explain_call(const HepctlArgs *a) {
        DBusMessage *m = dbus_message_new_method_call(BUS_NAME, ROOT_PATH, BUS_NAME ".Manager", "Explain");
        DBusMessageIter it, dict;
        bool ok;

        if (!m)
                return NULL;
        dbus_message_iter_init_append(m, &it);
        ok = dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, "{sv}", &dict) &&
             append_entry(&dict, "Interface", DBUS_TYPE_STRING, &a->interface) &&
             append_entry(&dict, "Direction", DBUS_TYPE_STRING, &a->direction) &&
             append_entry(&dict, "Source", DBUS_TYPE_STRING, &a->src) &&
             append_entry(&dict, "Destination", DBUS_TYPE_STRING, &a->dst) &&
             append_entry(&dict, "Protocol", DBUS_TYPE_STRING, &a->proto);
        if (ok && a->dport >= 0) {
                uint16_t v = (uint16_t)a->dport;
                ok = append_entry(&dict, "DestinationPort", DBUS_TYPE_UINT16, &v);
        }
        if (ok && a->sport >= 0) {
                uint16_t v = (uint16_t)a->sport;
                ok = append_entry(&dict, "SourcePort", DBUS_TYPE_UINT16, &v);
        }
        if (ok && a->icmp_type >= 0) {
                uint8_t v = (uint8_t)a->icmp_type;
                ok = append_entry(&dict, "IcmpType", DBUS_TYPE_BYTE, &v);
        }
        if (ok && a->out_interface)
                ok = append_entry(&dict, "OutInterface", DBUS_TYPE_STRING, &a->out_interface);
        if (!ok || !dbus_message_iter_close_container(&it, &dict)) {
                dbus_message_unref(m);
                return NULL;
        }
        return m;
}

/* The string of a variant in a step's dict, or "". */
static const char *step_string(DBusMessageIter *entry) {
        DBusMessageIter var;
        const char *s = "";

        dbus_message_iter_recurse(entry, &var);
        if (dbus_message_iter_get_arg_type(&var) == DBUS_TYPE_STRING)
                dbus_message_iter_get_basic(&var, &s);
        return s;
}

/* The reply (s verdict, s policy, i rule, aa{sv} path) as a result. */
static int result_from_reply(DBusMessage *reply, ExplainResult **ret) {
        _cleanup_(explain_result_freep) ExplainResult *r = calloc(1, sizeof(ExplainResult));
        static const char *const actions[] = { "allow", "deny", "none" };
        const char *verdict, *policy;
        DBusMessageIter it, path, step;
        int32_t rule;

        if (!r)
                return -ENOMEM;
        if (!dbus_message_iter_init(reply, &it) || !streq(dbus_message_get_signature(reply), "ssiaa{sv}"))
                return -EBADMSG;
        dbus_message_iter_get_basic(&it, &verdict);
        dbus_message_iter_next(&it);
        dbus_message_iter_get_basic(&it, &policy);
        dbus_message_iter_next(&it);
        dbus_message_iter_get_basic(&it, &rule);
        dbus_message_iter_next(&it);
        for (size_t i = 0; i < ELEMENTSOF(actions); i++)
                if (streq(verdict, actions[i]))
                        r->action = actions[i];
        if (!r->action)
                return -EBADMSG;
        r->rule = rule;
        if (*policy && !(r->policy = strdup(policy)))
                return -ENOMEM;
        dbus_message_iter_recurse(&it, &path);
        for (; dbus_message_iter_get_arg_type(&path) == DBUS_TYPE_ARRAY; dbus_message_iter_next(&path)) {
                ExplainStep *v = grow_array(r->steps, &r->alloc_steps, r->n_steps + 1, sizeof(ExplainStep));
                const char *chain = "", *text = "", *result = "";
                if (!v)
                        return -ENOMEM;
                r->steps = v;
                dbus_message_iter_recurse(&path, &step);
                for (; dbus_message_iter_get_arg_type(&step) == DBUS_TYPE_DICT_ENTRY; dbus_message_iter_next(&step)) {
                        DBusMessageIter entry;
                        const char *key;
                        dbus_message_iter_recurse(&step, &entry);
                        dbus_message_iter_get_basic(&entry, &key);
                        dbus_message_iter_next(&entry);
                        if (streq(key, "Chain"))
                                chain = step_string(&entry);
                        else if (streq(key, "Rule"))
                                text = step_string(&entry);
                        else if (streq(key, "Result"))
                                result = step_string(&entry);
                }
                v[r->n_steps] = (ExplainStep) { strdup(chain), *text ? strdup(text) : NULL, strdup(result) };
                if (!v[r->n_steps].chain || !v[r->n_steps].result || (*text && !v[r->n_steps].rule)) {
                        r->n_steps++;
                        return -ENOMEM;
                }
                r->n_steps++;
        }
        *ret = steal_ptr(r);
        return 0;
}

/* 1: the daemon answered (and the answer is printed, or the error);
 * 0: no daemon owns the name on that bus; -errno: no bus. */
static int explain_daemon(const HepctlArgs *a, const ExplainPacket *p, const char *bus, int *code) {
        _cleanup_(explain_result_freep) ExplainResult *r = NULL;
        DBusMessage *m = NULL, *reply = NULL;
        DBusConnection *c;
        DBusError e;
        int k = 1;

        dbus_error_init(&e);
        c = bus_open(bus, &e);
        if (!c) {
                if (a->bus)
                        hepctl_error("Cannot connect to the %s bus: %s", bus, e.message ? e.message : "unknown error");
                dbus_error_free(&e);
                return -ENOTCONN;
        }
        if (!dbus_bus_name_has_owner(c, BUS_NAME, NULL)) {
                k = 0;
                goto out;
        }
        *code = HEPCTL_FAIL;
        m = explain_call(a);
        if (m)
                reply = dbus_connection_send_with_reply_and_block(c, m, CALL_TIMEOUT_MS, &e);
        if (!reply) {
                hepctl_error("Cannot ask hostendpointd: %s", dbus_error_is_set(&e) ? e.message : "out of memory");
                goto out;
        }
        if (result_from_reply(reply, &r) < 0) {
                hepctl_error("Cannot ask hostendpointd: unexpected reply");
                goto out;
        }
        if (print_result(a, p, r, "committed by hostendpointd") >= 0)
                *code = HEPCTL_OK;
out:
        if (m)
                dbus_message_unref(m);
        if (reply)
                dbus_message_unref(reply);
        dbus_error_free(&e);
        dbus_connection_close(c);
        dbus_connection_unref(c);
        return k;
}
#endif

int hepctl_explain(const HepctlArgs *a) {
        ExplainQuestion q = { a->interface, a->direction, a->out_interface, a->src, a->dst, a->proto,
                              a->sport, a->dport, a->icmp_type };
        bool offline = a->global.datastore || a->node || a->no_interfaces;
        ExplainPacket p;
        const char *bad = NULL;

        if (explain_packet_from(&q, &p, &bad) < 0) {
                if (streq(bad, "family"))
                        hepctl_error("--src %s and --dst %s are not of one address family", a->src, a->dst);
                else if (streq(bad, "protocol"))
                        hepctl_error("Invalid value for --proto: '%s' (tcp, udp, sctp, icmp for IPv4, icmpv6 for IPv6, "
                                     "or a number)", a->proto);
                else if (streq(bad, "source") || streq(bad, "destination"))
                        hepctl_error("Invalid value for --%s: '%s' (an IPv4 or IPv6 address)",
                                     streq(bad, "source") ? "src" : "dst", streq(bad, "source") ? a->src : a->dst);
                else
                        hepctl_error("Invalid value for --%s", bad);
                return HEPCTL_FAIL;
        }
        if (a->bus && offline) {
                hepctl_error("--bus asks hostendpointd; --datastore, --node and --no-interfaces are for offline use");
                return HEPCTL_FAIL;
        }
#if HEP_WITH_DBUS
        if (!offline) {
                _cleanup_(config_done) Config cfg = {};
                const char *bus = a->bus ? a->bus : hepctl_configured_bus(&a->global, &cfg);
                int code = HEPCTL_FAIL, k = explain_daemon(a, &p, bus, &code);
                if (k > 0)
                        return code;
                if (a->bus) {
                        if (k == 0)
                                hepctl_error("hostendpointd is not running: nothing owns %s on the %s bus", BUS_NAME,
                                             bus);
                        return HEPCTL_FAIL;
                }
        }
#else
        if (a->bus) {
                hepctl_error("hepctl was built without D-Bus support: explain cannot ask hostendpointd");
                return HEPCTL_FAIL;
        }
#endif
        return explain_offline(a, &p);
}
