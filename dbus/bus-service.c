/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The plugin's D-Bus service, org.projectcalico.HostEndpoint1: connects
 * (or uses the host's connection), exports the objects of objects.h,
 * dispatches calls to the files that answer them (bus-tree.c,
 * bus-manager.c, bus-wait.c), and publishes what changed after every
 * commit (bus-signals.c). The bus is never needed for enforcement:
 * without it, or when it goes away, the plugin enforces all the same and
 * the service reconnects in the background.
 *
 * The well-known name is requested only once the first ruleset is in the
 * kernel, so a client that sees the name sees the truth. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus-internal.h"
#include "bus-open.h"
#include "host.h"

#define RECONNECT_MIN_USEC (1000ULL * 1000)
#define RECONNECT_MAX_USEC (10ULL * 1000 * 1000)

/* ---- replies ---- */

void bus_send(BusService *s, DBusMessage *m) {
        if (!m)
                return;
        if (s->conn)
                (void)dbus_connection_send(s->conn, m, NULL);
        dbus_message_unref(m);
}

void bus_reply_empty(BusService *s, DBusMessage *call) {
        bus_send(s, dbus_message_new_method_return(call));
}

void bus_reply_error(BusService *s, DBusMessage *call, const char *name, const char *fmt, ...) {
        _cleanup_free_ char *text = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&text, fmt, ap) < 0)
                text = NULL;
        va_end(ap);
        bus_send(s, dbus_message_new_error(call, name, text ? text : name));
}

/* reply, or an error if writing its arguments ran out of memory. */
DBusMessage *bus_new_reply_or_oom(DBusMessage *m, Out *o, DBusMessage *reply) {
        if (!reply)
                return NULL;
        if (o->oom) {
                dbus_message_unref(reply);
                return dbus_message_new_error(m, DBUS_ERROR_NO_MEMORY, "out of memory");
        }
        return reply;
}

/* A method return whose arguments are written through o; NULL (after
 * trying to say so) when there is no memory for it. */
DBusMessage *bus_new_reply(BusService *s, DBusMessage *call, DBusMessageIter *it, Out *o) {
        DBusMessage *reply = dbus_message_new_method_return(call);

        if (!reply) {
                bus_send(s, dbus_message_new_error(call, DBUS_ERROR_NO_MEMORY, "out of memory"));
                return NULL;
        }
        dbus_message_iter_init_append(reply, it);
        out_init_message(o, it);
        return reply;
}

/* ---- dispatch ---- */

static DBusHandlerResult on_message(DBusConnection *c, DBusMessage *m, void *userdata) {
        BusService *s = userdata;
        const char *iface = dbus_message_get_interface(m), *member = dbus_message_get_member(m);
        Target t;

        if (dbus_message_get_type(m) != DBUS_MESSAGE_TYPE_METHOD_CALL)
                return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
        if (bus_resolve(s, dbus_message_get_path(m), &t) < 0) {
                bus_reply_error(s, m, DBUS_ERROR_UNKNOWN_OBJECT, "No such object: %s", dbus_message_get_path(m));
                return DBUS_HANDLER_RESULT_HANDLED;
        }
        if (dbus_message_is_method_call(m, DBUS_INTERFACE_INTROSPECTABLE, "Introspect"))
                bus_handle_introspect(s, m, &t);
        else if (dbus_message_is_method_call(m, DBUS_INTERFACE_PROPERTIES, "Get"))
                bus_handle_get(s, m, &t);
        else if (dbus_message_is_method_call(m, DBUS_INTERFACE_PROPERTIES, "GetAll"))
                bus_handle_get_all(s, m, &t);
        else if (dbus_message_is_method_call(m, DBUS_INTERFACE_PROPERTIES, "Set"))
                bus_reply_error(s, m, DBUS_ERROR_PROPERTY_READ_ONLY, "Every property of %s is read-only",
                            t.iface ? t.iface->name : "this object");
        else if (t.kind == BUS_OBJECT_MANAGER &&
                 dbus_message_is_method_call(m, DBUS_INTERFACE_OBJECT_MANAGER, "GetManagedObjects"))
                bus_handle_get_managed_objects(s, m);
        else if (t.kind == BUS_OBJECT_MANAGER && (!iface || streq(iface, BUS_MANAGER_INTERFACE)) && member &&
                 streq(member, "Apply"))
                bus_handle_apply(s, m);
        else if (t.kind == BUS_OBJECT_MANAGER && (!iface || streq(iface, BUS_MANAGER_INTERFACE)) && member &&
                 streq(member, "Delete"))
                bus_handle_delete(s, m);
        else if (t.kind == BUS_OBJECT_MANAGER && (!iface || streq(iface, BUS_MANAGER_INTERFACE)) && member &&
                 streq(member, "WaitInterface"))
                bus_handle_wait_interface(s, m);
        else if (t.kind == BUS_OBJECT_MANAGER && (!iface || streq(iface, BUS_MANAGER_INTERFACE)) && member &&
                 streq(member, "Reload"))
                bus_handle_reload(s, m);
        else if (t.kind == BUS_OBJECT_MANAGER && (!iface || streq(iface, BUS_MANAGER_INTERFACE)) && member &&
                 streq(member, "GetFlows"))
                bus_handle_get_flows(s, m);
        else if (t.kind == BUS_OBJECT_MANAGER && (!iface || streq(iface, BUS_MANAGER_INTERFACE)) && member &&
                 streq(member, "Explain"))
                bus_handle_explain(s, m);
        else
                bus_reply_error(s, m, DBUS_ERROR_UNKNOWN_METHOD, "No method %s.%s on %s", iface ? iface : "(none)",
                            member ? member : "(none)", dbus_message_get_path(m));
        return DBUS_HANDLER_RESULT_HANDLED;
}

static const DBusObjectPathVTable vtable = { .message_function = on_message };


/* ---- the connection ---- */

static void schedule_reconnect(BusService *s);

static void request_name(BusService *s) {
        DBusError e;
        int r;

        /* Once per connection: a refusal (another owner, the bus policy)
         * is logged once, not retried on every commit. */
        if (!s->conn || s->name_tried || plugin_state(s->p) == PLUGIN_STATE_STARTING)
                return;
        s->name_tried = true;
        dbus_error_init(&e);
        r = dbus_bus_request_name(s->conn, BUS_NAME, DBUS_NAME_FLAG_DO_NOT_QUEUE, &e);
        if (r == DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER || r == DBUS_REQUEST_NAME_REPLY_ALREADY_OWNER) {
                s->name_owned = true;
                host_log(s->host, LOG_INFO, "D-Bus: serving %s", BUS_NAME);
        } else if (r == DBUS_REQUEST_NAME_REPLY_EXISTS)
                host_log(s->host, LOG_ERR, "D-Bus: %s is owned by another process; not serving it", BUS_NAME);
        else
                host_log(s->host, LOG_ERR, "D-Bus: cannot own %s: %s", BUS_NAME, e.message ? e.message : "refused");
        dbus_error_free(&e);
}

static void on_reconnect_timer(void *userdata);
static DBusHandlerResult on_filter(DBusConnection *c, DBusMessage *m, void *userdata);

/* On a lent connection, which stays open, our name goes with our
 * handlers: else callers would find it owned and nothing answering. Not
 * waiting for the bus' answer (the host's loop), only for the write. */
static void release_name(BusService *s) {
        const char *name = BUS_NAME;
        DBusMessage *m;

        if (!s->name_owned || !dbus_connection_get_is_connected(s->conn))
                return;
        m = dbus_message_new_method_call(DBUS_SERVICE_DBUS, DBUS_PATH_DBUS, DBUS_INTERFACE_DBUS, "ReleaseName");
        if (m && dbus_message_append_args(m, DBUS_TYPE_STRING, &name, DBUS_TYPE_INVALID)) {
                dbus_message_set_no_reply(m, TRUE);
                if (dbus_connection_send(s->conn, m, NULL))
                        dbus_connection_flush(s->conn);
        }
        if (m)
                dbus_message_unref(m);
}

/* Undoes exactly what attach() did; a lent connection stays open. */
static void disconnect(BusService *s) {
        if (!s->conn)
                return;
        /* Their replies could not reach the callers any more. */
        bus_waiters_drop(s, NULL);
        bus_writes_drop(s, NULL);
        s->loop = bus_loop_free(s->loop);
        if (s->filtering)
                dbus_connection_remove_filter(s->conn, on_filter, s);
        if (s->exported) {
                dbus_connection_unregister_object_path(s->conn, BUS_ROOT_PATH);
                if (!s->lent) {
                        dbus_connection_unregister_object_path(s->conn, "/");
                        dbus_connection_unregister_object_path(s->conn, "/org");
                        dbus_connection_unregister_object_path(s->conn, "/org/projectcalico");
                }
        }
        if (s->lent)
                release_name(s);
        else
                dbus_connection_close(s->conn);
        dbus_connection_unref(s->conn);
        s->conn = NULL;
        s->filtering = s->exported = false;
        s->name_owned = s->name_tried = false;
}

static DBusHandlerResult on_filter(DBusConnection *c, DBusMessage *m, void *userdata) {
        BusService *s = userdata;

        if (dbus_message_is_signal(m, DBUS_INTERFACE_LOCAL, "Disconnected")) {
                /* Not here: we are inside this connection's dispatch. */
                host_log(s->host, LOG_WARNING, "D-Bus: connection lost; enforcing goes on, reconnecting");
                s->reconnect_usec = RECONNECT_MIN_USEC;
                host_timer_rearm(s->host, s->reconnect_timer, 0);
                /* A host that lent the connection wants to see it too. */
                return s->lent ? DBUS_HANDLER_RESULT_NOT_YET_HANDLED : DBUS_HANDLER_RESULT_HANDLED;
        }
        if (dbus_message_is_signal(m, DBUS_INTERFACE_DBUS, "NameOwnerChanged") &&
            streq_ptr(dbus_message_get_sender(m), DBUS_SERVICE_DBUS)) {
                const char *name, *old_owner, *new_owner;
                if (dbus_message_get_args(m, NULL, DBUS_TYPE_STRING, &name, DBUS_TYPE_STRING, &old_owner,
                                          DBUS_TYPE_STRING, &new_owner, DBUS_TYPE_INVALID) &&
                    name[0] == ':' && !*new_owner)
                        bus_waiters_drop_caller(s, name);
        }
        if (dbus_message_is_signal(m, DBUS_INTERFACE_DBUS, "NameLost")) {
                s->name_owned = false;
                host_log(s->host, LOG_WARNING, "D-Bus: lost the name %s", BUS_NAME);
        }
        return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
}

static int attach(BusService *s, DBusConnection *c) {
        DBusError e;
        int r = 0;

        dbus_error_init(&e);
        s->conn = c;
        /* The host decides what its own connection does on disconnect. */
        if (!s->lent)
                dbus_connection_set_exit_on_disconnect(c, FALSE);
        if (!dbus_connection_try_register_fallback(c, BUS_ROOT_PATH, &vtable, s, &e))
                r = -EBUSY;
        else
                s->exported = true;
        /* The parents are ours only on our own connection. */
        if (r >= 0 && !s->lent &&
            (!dbus_connection_register_object_path(c, "/", &bus_parent_vtable, s) ||
             !dbus_connection_register_object_path(c, "/org", &bus_parent_vtable, s) ||
             !dbus_connection_register_object_path(c, "/org/projectcalico", &bus_parent_vtable, s)))
                r = -ENOMEM;
        if (r >= 0) {
                if (dbus_connection_add_filter(c, on_filter, s, NULL))
                        s->filtering = true;
                else
                        r = -ENOMEM;
        }
        if (r >= 0 && !s->lent)
                r = bus_loop_attach(s->host, c, &s->loop);
        if (r < 0)
                host_log(s->host, LOG_ERR, "D-Bus: cannot export %s: %s", BUS_ROOT_PATH, e.message ? e.message : strerror(-r));
        dbus_error_free(&e);
        return r;
}

static int connect_bus(BusService *s) {
        const char *bus = s->bus;
        DBusConnection *c;
        DBusError e;
        int r;

        dbus_error_init(&e);
        /* Blocking, but only towards the local bus daemon, once. */
        c = bus_open(bus, &e);
        if (!c) {
                if (!s->off_logged)
                        host_log(s->host, LOG_WARNING, "D-Bus is off: cannot connect to the %s bus (%s); enforcing without it, retrying in the background",
                                 bus, e.message ? e.message : "unknown error");
                s->off_logged = true;
                dbus_error_free(&e);
                return -ENOTCONN;
        }
        dbus_error_free(&e);
        r = attach(s, c);
        if (r < 0) {
                disconnect(s);
                return r;
        }
        if (s->off_logged)
                host_log(s->host, LOG_INFO, "D-Bus: connected to the %s bus", bus);
        s->off_logged = false;
        request_name(s);
        return 0;
}

static void schedule_reconnect(BusService *s) {
        host_timer_rearm(s->host, s->reconnect_timer, s->reconnect_usec);
        s->reconnect_usec = s->reconnect_usec * 2 > RECONNECT_MAX_USEC ? RECONNECT_MAX_USEC : s->reconnect_usec * 2;
}

static void on_reconnect_timer(void *userdata) {
        BusService *s = userdata;

        if (s->lent) {
                /* The host owns the connection and its fate. */
                disconnect(s);
                return;
        }
        if (s->conn && dbus_connection_get_is_connected(s->conn))
                return;
        disconnect(s);
        if (connect_bus(s) < 0)
                schedule_reconnect(s);
}


/* ---- the plugin's side ---- */

static void on_plugin_changed(void *userdata, PluginChange what) {
        BusService *s = userdata;

        if (what == PLUGIN_CHANGED_STATE) {
                uint64_t start = now_usec();
                bus_signals_sync_objects(s);
                bus_waiters_answer(s);
                host_log(s->host, LOG_DEBUG, "D-Bus: changes published in %llu us",
                         (unsigned long long)(now_usec() - start));
        }
        if (s->view.plugin)
                bus_signals_sync_manager(s);
        /* Readiness settles waiters too (the first commit comes before it). */
        if (what == PLUGIN_CHANGED_MANAGER)
                bus_waiters_answer(s);
        request_name(s);
}

BusService *bus_service_free(BusService *s) {
        if (!s)
                return NULL;
        plugin_unlisten(s->p, on_plugin_changed, s);
        bus_flows_detach(s);
        bus_waiters_drop(s, "hostendpoint is stopping");
        bus_writes_drop(s, "hostendpoint is stopping; nothing was written");
        if (s->conn)
                dbus_connection_flush(s->conn);
        disconnect(s);
        host_timer_remove(s->host, s->reconnect_timer);
        host_timer_remove(s->host, s->writes_timer);
        bus_signals_done(s);
        bus_view_done(&s->view);
        free(s->bus);
        free(s);
        return NULL;
}

int bus_service_new(PluginCore *p, BusService **ret) {
        const hep_host *host = plugin_host(p);
        const char *bus = host->bus ? host->bus : "system";
        BusService *s;
        int r;

        *ret = NULL;
        if (!host->dbus_connection && streq(bus, "none")) {
                host_log(host, LOG_INFO, "D-Bus is off (--bus none); enforcing without it");
                return 0;
        }
        s = calloc(1, sizeof(BusService));
        if (!s)
                return -ENOMEM;
        s->p = p;
        s->host = host;
        s->view.plugin = p;
        s->manager.iface = &bus_manager_interface;
        s->manager.path = (char *)BUS_ROOT_PATH;
        s->reconnect_usec = RECONNECT_MIN_USEC;
        s->writes_tail = &s->writes;
        /* A reconnection, later, needs it again. */
        s->bus = strdup(bus);
        if (!s->bus) {
                free(s);
                return -ENOMEM;
        }
        r = host_timer_add(host, UINT64_MAX, on_reconnect_timer, s, &s->reconnect_timer);
        if (r >= 0)
                r = host_timer_add(host, UINT64_MAX, bus_on_writes_timer, s, &s->writes_timer);
        if (r >= 0)
                r = plugin_listen(p, on_plugin_changed, s);
        if (r < 0) {
                bus_service_free(s);
                return r;
        }
        bus_flows_attach(s);
        if (host->dbus_connection) {
                s->lent = true;
                r = attach(s, dbus_connection_ref(host->dbus_connection));
                if (r < 0)
                        disconnect(s);
        } else if (connect_bus(s) < 0)
                schedule_reconnect(s);
        *ret = s;
        return 0;
}
