/* SPDX-License-Identifier: GPL-2.0-or-later */
/* WaitInterface: a call answered once an interface of that name exists
 * and the kernel's ruleset accounts for it (for NetworkManager's pre-up
 * hook), or at its timeout. Waits are bounded per caller and in all, and
 * dropped when their caller leaves the bus. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus-internal.h"
#include "host.h"

static size_t waiters_of(BusService *s, const char *sender) {
        size_t n = 0;

        for (Waiter *w = s->waiters; w; w = w->next)
                n += streq_ptr(w->sender, sender);
        return n;
}

/* While a caller has waiters, the bus tells us when it leaves: its calls
 * are then dropped, so they no longer hold places in line. */
static void caller_watch(BusService *s, const char *sender, bool on) {
        char rule[256];

        if (!sender || !s->conn)
                return;
        snprintf(rule, sizeof(rule),
                 "type='signal',sender='" DBUS_SERVICE_DBUS "',path='" DBUS_PATH_DBUS "',interface='" DBUS_INTERFACE_DBUS
                 "',member='NameOwnerChanged',arg0='%s'",
                 sender);
        /* Without an error argument, neither call waits for the bus. */
        if (on)
                dbus_bus_add_match(s->conn, rule, NULL);
        else
                dbus_bus_remove_match(s->conn, rule, NULL);
}

static void waiter_free(Waiter *w) {
        BusService *s = w->service;

        for (Waiter **p = &s->waiters; *p; p = &(*p)->next)
                if (*p == w) {
                        *p = w->next;
                        break;
                }
        s->n_waiters--;
        if (w->sender && waiters_of(s, w->sender) == 0)
                caller_watch(s, w->sender, false);
        host_timer_remove(s->host, w->timer);
        dbus_message_unref(w->call);
        free(w->ifname);
        free(w);
}

/* The caller left the bus: nobody will read the answers. */
void bus_waiters_drop_caller(BusService *s, const char *sender) {
        Waiter *next;

        for (Waiter *w = s->waiters; w; w = next) {
                next = w->next;
                if (streq_ptr(w->sender, sender))
                        waiter_free(w);
        }
}

/* A caller that left before our match rule reached the bus would never be
 * reported: ask the bus (after the rule, in order) whether it is still
 * there. Pending questions are cancelled when the connection goes. */
struct CallerCheck {
        BusService *service;
        DBusPendingCall *pending;
        char *sender;
        struct CallerCheck *next;
};

static void caller_check_free(CallerCheck *c) {
        for (CallerCheck **p = &c->service->checks; *p; p = &(*p)->next)
                if (*p == c) {
                        *p = c->next;
                        break;
                }
        if (c->pending) {
                dbus_pending_call_cancel(c->pending);
                dbus_pending_call_unref(c->pending);
        }
        free(c->sender);
        free(c);
}

static void on_caller_checked(DBusPendingCall *pending, void *userdata) {
        CallerCheck *c = userdata;
        BusService *s = c->service;
        DBusMessage *reply = dbus_pending_call_steal_reply(pending);
        _cleanup_free_ char *sender = steal_ptr(c->sender);

        dbus_pending_call_unref(c->pending);
        c->pending = NULL;
        caller_check_free(c);
        if (reply && dbus_message_get_type(reply) == DBUS_MESSAGE_TYPE_ERROR)
                bus_waiters_drop_caller(s, sender);
        if (reply)
                dbus_message_unref(reply);
}

static void caller_check(BusService *s, const char *sender) {
        DBusMessage *m = dbus_message_new_method_call(DBUS_SERVICE_DBUS, DBUS_PATH_DBUS, DBUS_INTERFACE_DBUS,
                                                      "GetNameOwner");
        CallerCheck *c = calloc(1, sizeof(CallerCheck));
        bool sent = false;

        if (c) {
                *c = (CallerCheck) { .service = s, .sender = strdup(sender), .next = s->checks };
                s->checks = c;
        }
        if (m && c && c->sender && dbus_message_append_args(m, DBUS_TYPE_STRING, &sender, DBUS_TYPE_INVALID) &&
            dbus_connection_send_with_reply(s->conn, m, &c->pending, DBUS_TIMEOUT_USE_DEFAULT) && c->pending)
                sent = dbus_pending_call_set_notify(c->pending, on_caller_checked, c, NULL);
        /* Without the check, the capped timeout still ends the wait. */
        if (c && !sent)
                caller_check_free(c);
        if (m)
                dbus_message_unref(m);
}

static const HostInterface *interface_named(const BusView *v, const char *name, size_t *ret_i) {
        for (size_t i = 0; i < v->n_ifaces; i++)
                if (streq(v->ifaces[i].name, name)) {
                        *ret_i = i;
                        return &v->ifaces[i];
                }
        return NULL;
}

/* Answers the call if it can be answered now; true if it was. */
static bool waiter_try(Waiter *w) {
        BusService *s = w->service;
        const Endpoint *e;
        const char *name;
        DBusMessage *reply;
        size_t i;

        if (!plugin_settled(s->p) || !interface_named(&s->view, w->ifname, &i))
                return false;
        e = s->view.policing[i];
        name = e ? e->name : "";
        reply = dbus_message_new_method_return(w->call);
        if (reply && !dbus_message_append_args(reply, DBUS_TYPE_STRING, &name, DBUS_TYPE_INVALID))
                reply = (dbus_message_unref(reply), NULL);
        bus_send(s, reply);
        return true;
}

static void on_waiter_timeout(void *userdata) {
        Waiter *w = userdata;
        BusService *s = w->service;
        size_t i;

        if (!interface_named(&s->view, w->ifname, &i))
                bus_reply_error(s, w->call, BUS_ERROR("Timeout"), "Interface '%s' did not appear within %u ms", w->ifname,
                            w->timeout_ms);
        else if (plugin_state(s->p) == PLUGIN_STATE_STARTING)
                bus_reply_error(s, w->call, BUS_ERROR("Timeout"),
                            "Interface '%s' is not enforced after %u ms: the first ruleset is not in the kernel yet%s%s",
                            w->ifname, w->timeout_ms, plugin_last_error(s->p) ? ": " : "",
                            plugin_last_error(s->p) ? plugin_last_error(s->p) : "");
        else
                bus_reply_error(s, w->call, BUS_ERROR("Timeout"),
                            "Interface '%s' is not enforced after %u ms: %s", w->ifname, w->timeout_ms,
                            plugin_commit_error(s->p) ? plugin_commit_error(s->p) : "changes are still being committed");
        waiter_free(w);
}

void bus_waiters_drop(BusService *s, const char *reason) {
        while (s->waiters) {
                if (reason)
                        bus_reply_error(s, s->waiters->call, BUS_ERROR("Timeout"), "%s", reason);
                waiter_free(s->waiters);
        }
        while (s->checks)
                caller_check_free(s->checks);
}

void bus_waiters_answer(BusService *s) {
        Waiter *next;

        for (Waiter *w = s->waiters; w; w = next) {
                next = w->next;
                if (waiter_try(w))
                        waiter_free(w);
        }
}

void bus_handle_wait_interface(BusService *s, DBusMessage *m) {
        const char *ifname, *sender;
        uint32_t timeout_ms;
        size_t n_mine;
        Waiter *w;

        if (!dbus_message_has_signature(m, "su") ||
            !dbus_message_get_args(m, NULL, DBUS_TYPE_STRING, &ifname, DBUS_TYPE_UINT32, &timeout_ms, DBUS_TYPE_INVALID)) {
                bus_reply_error(s, m, DBUS_ERROR_INVALID_ARGS,
                            "WaitInterface takes (s ifname, u timeout_ms), not (%s)", dbus_message_get_signature(m));
                return;
        }
        if (*ifname == 0 || strlen(ifname) >= 16 || strchr(ifname, '/')) {
                bus_reply_error(s, m, DBUS_ERROR_INVALID_ARGS,
                            "WaitInterface: argument ifname: '%.64s' is not an interface name (1-15 bytes, no '/')",
                            ifname);
                return;
        }
        if (s->n_waiters >= WAITERS_MAX) {
                bus_reply_error(s, m, DBUS_ERROR_LIMITS_EXCEEDED, "WaitInterface: %d calls are already waiting",
                            WAITERS_MAX);
                return;
        }
        sender = dbus_message_get_sender(m);
        n_mine = sender ? waiters_of(s, sender) : 0;
        if (n_mine >= WAITERS_PER_CALLER_MAX) {
                bus_reply_error(s, m, DBUS_ERROR_LIMITS_EXCEEDED, "WaitInterface: %d calls of yours are already waiting",
                            WAITERS_PER_CALLER_MAX);
                return;
        }
        if (timeout_ms > WAIT_TIMEOUT_MAX_MS)
                timeout_ms = WAIT_TIMEOUT_MAX_MS;
        w = calloc(1, sizeof(Waiter));
        if (w)
                *w = (Waiter) { .service = s, .ifname = strdup(ifname), .timeout_ms = timeout_ms, .next = s->waiters };
        if (!w || !w->ifname) {
                free(w);
                bus_reply_error(s, m, DBUS_ERROR_NO_MEMORY, "out of memory");
                return;
        }
        w->call = dbus_message_ref(m);
        s->waiters = w;
        s->n_waiters++;
        if (waiter_try(w)) {
                waiter_free(w);
                return;
        }
        w->sender = sender;
        if (w->sender && n_mine == 0) {
                caller_watch(s, w->sender, true);
                caller_check(s, w->sender);
        }
        if (host_timer_add(s->host, (uint64_t)timeout_ms * 1000, on_waiter_timeout, w, &w->timer) < 0) {
                bus_reply_error(s, m, DBUS_ERROR_NO_MEMORY, "cannot arm a timer");
                waiter_free(w);
        }
}

