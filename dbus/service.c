/* The plugin's D-Bus service, org.projectcalico.HostEndpoint1: connects
 * (or uses the host's connection), exports the objects of objects.h, says
 * what changed after every commit (PropertiesChanged, InterfacesAdded,
 * InterfacesRemoved), and serves the Manager's methods. The bus is never
 * needed for enforcement: without it, or when it goes away, the plugin
 * enforces all the same and the service reconnects in the background.
 *
 * The well-known name is requested only once the first ruleset is in the
 * kernel, so a client that sees the name sees the truth. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bus-loop.h"
#include "bus-open.h"
#include "client.h"
#include "check.h"
#include "datastore.h"
#include "host.h"
#include "introspection.h"
#include "loader.h"
#include "objects.h"
#include "plugin-core.h"
#include "strbuf.h"
#include "syntax.h"
#include "strmap.h"
#include "tracker.h"

#define RECONNECT_MIN_USEC (1000ULL * 1000)
#define RECONNECT_MAX_USEC (10ULL * 1000 * 1000)
#define WAITERS_MAX 256
/* One caller cannot take every place in line. */
#define WAITERS_PER_CALLER_MAX 16
/* Longer waits are cut to this: NetworkManager's hook waits 5 s. */
#define WAIT_TIMEOUT_MAX_MS (5u * 60 * 1000)
#define WRITE_RETRY_USEC (20ULL * 1000)
#define WRITE_WAIT_MAX_USEC (5ULL * 1000 * 1000)
#define WRITES_QUEUED_MAX 64

/* What a client was last told about one object, to send only changes. */
typedef struct ObjectRecord {
        char *path;
        const BusInterface *iface;
        const EndpointInfo *info; /* endpoints: the resource side is unchanged while this is */
        uint64_t info_generation;
        uint64_t fingerprint; /* iface->fingerprint() when the hashes were taken */
        uint64_t hashes[BUS_PROPERTIES_MAX];
        bool seen;
} ObjectRecord;

/* An Apply or Delete waiting for the datastore's write lock. */
typedef struct QueuedWrite {
        DBusMessage *call;
        uint64_t deadline;
        struct QueuedWrite *next;
} QueuedWrite;

/* A WaitInterface call not answered yet. */
typedef struct Waiter {
        BusService *service;
        DBusMessage *call;
        const char *sender; /* the caller's unique name (in call) once it waits; NULL off a bus */
        char *ifname;
        uint32_t timeout_ms;
        hep_timer *timer;
        struct Waiter *next;
} Waiter;

struct BusService {
        hep_plugin *p;
        DBusConnection *conn;
        bool lent;             /* the host's connection: not ours to close */
        BusLoop *loop;
        bool name_owned;
        bool name_tried;       /* asked once on this connection (not again per commit) */
        bool exported;         /* our object paths are registered on conn */
        bool filtering;        /* our filter is installed on conn */
        bool off_logged;       /* "D-Bus is off" said once */
        hep_timer *reconnect_timer;
        uint64_t reconnect_usec;
        BusView view;
        StrMap records;        /* path → ObjectRecord */
        ObjectRecord manager;
        Waiter *waiters;
        size_t n_waiters;
        QueuedWrite *writes, **writes_tail; /* in arrival order */
        size_t n_writes;
        hep_timer *writes_timer;
        struct CallerCheck *checks; /* GetNameOwner calls in flight (caller_check) */
        bool retrying;         /* a queued write is being run again */
        bool lock_busy;        /* ... and the lock was still taken */
};

/* ---- replies ---- */

static void send_and_unref(BusService *s, DBusMessage *m) {
        if (!m)
                return;
        if (s->conn)
                (void)dbus_connection_send(s->conn, m, NULL);
        dbus_message_unref(m);
}

static void reply_error(BusService *s, DBusMessage *call, const char *name, const char *fmt, ...) _printf_(4, 5);
static void reply_error(BusService *s, DBusMessage *call, const char *name, const char *fmt, ...) {
        _cleanup_free_ char *text = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&text, fmt, ap) < 0)
                text = NULL;
        va_end(ap);
        send_and_unref(s, dbus_message_new_error(call, name, text ? text : name));
}

/* Our interfaces' error for a client/datastore failure. */
static const char *error_name(int r) {
        switch (r) {
        case -EEXIST:
                return BUS_ERROR("AlreadyExists");
        case -ENOENT:
                return BUS_ERROR("NotFound");
        case -ESTALE:
                return BUS_ERROR("Conflict");
        case -EINVAL:
        case -EOPNOTSUPP:
                return BUS_ERROR("InvalidResource");
        default:
                return BUS_ERROR("Datastore");
        }
}

/* ---- objects as of the last commit ---- */

static const Endpoint *find_endpoint(BusService *s, const char *name) {
        return s->view.calc ? calc_find_endpoint(s->view.calc, name) : NULL;
}

typedef struct Target {
        BusObjectKind kind;
        const BusInterface *iface; /* NULL for the directories */
        const void *object;
} Target;

static int resolve(BusService *s, const char *path, Target *ret) {
        char name[BUS_PATH_MAX];
        int ifindex = 0;
        int r = bus_path_parse(path, &ret->kind, name, &ifindex);

        if (r < 0)
                return r;
        ret->iface = NULL;
        ret->object = NULL;
        switch (ret->kind) {
        case BUS_OBJECT_MANAGER:
                ret->iface = &bus_manager_interface;
                return 0;
        case BUS_OBJECT_ENDPOINT:
                ret->iface = &bus_endpoint_interface;
                ret->object = find_endpoint(s, name);
                return ret->object ? 0 : -ENOENT;
        case BUS_OBJECT_INTERFACE:
                ret->iface = &bus_interface_interface;
                ret->object = bus_view_find_interface(&s->view, ifindex);
                return ret->object ? 0 : -ENOENT;
        case BUS_OBJECT_ENDPOINT_DIR:
        case BUS_OBJECT_INTERFACE_DIR:
                return 0;
        case _BUS_OBJECT_KIND_MAX:
        case _BUS_OBJECT_KIND_INVALID:
                break;
        }
        return -ENOENT;
}

/* ---- org.freedesktop.DBus.Introspectable ---- */

static void introspect_children(BusService *s, BusObjectKind kind, StrBuf *b) {
        char path[BUS_PATH_MAX];

        if (kind == BUS_OBJECT_MANAGER) {
                strbuf_append(b, " <node name=\"endpoint\"/>\n <node name=\"interface\"/>\n");
                return;
        }
        if (kind == BUS_OBJECT_ENDPOINT_DIR && s->view.calc)
                for (size_t i = 0; i < s->view.calc->n_endpoints; i++) {
                        bus_endpoint_path(s->view.calc->endpoints[i].name, path);
                        strbuf_printf(b, " <node name=\"%s\"/>\n", path + strlen(BUS_ENDPOINT_PREFIX));
                }
        if (kind == BUS_OBJECT_INTERFACE_DIR)
                for (size_t i = 0; i < s->view.n_ifaces; i++)
                        strbuf_printf(b, " <node name=\"%d\"/>\n", s->view.ifaces[i].ifindex);
}

static void handle_introspect(BusService *s, DBusMessage *m, const Target *t) {
        StrBuf b = STRBUF_INIT;
        DBusMessage *reply;
        const char *xml;

        strbuf_append(&b, DBUS_INTROSPECT_1_0_XML_DOCTYPE_DECL_NODE "<node>\n");
        strbuf_append(&b, introspection_standard_interfaces);
        if (t->kind == BUS_OBJECT_MANAGER)
                strbuf_append(&b, introspection_object_manager);
        if (t->iface)
                introspection_append_interface(t->iface->name, &b);
        introspect_children(s, t->kind, &b);
        strbuf_append(&b, "</node>\n");
        if (!strbuf_ok(&b)) {
                strbuf_done(&b);
                send_and_unref(s, dbus_message_new_error(m, DBUS_ERROR_NO_MEMORY, "out of memory"));
                return;
        }
        xml = strbuf_str(&b);
        reply = dbus_message_new_method_return(m);
        if (reply && !dbus_message_append_args(reply, DBUS_TYPE_STRING, &xml, DBUS_TYPE_INVALID))
                reply = (dbus_message_unref(reply), NULL);
        send_and_unref(s, reply);
        strbuf_done(&b);
}

/* The path's parents ("/", "/org", "/org/projectcalico"), so that tools
 * walking the tree from the root find us. */
static DBusHandlerResult on_parent_message(DBusConnection *c, DBusMessage *m, void *userdata) {
        BusService *s = userdata;
        const char *path = dbus_message_get_path(m);
        StrBuf b = STRBUF_INIT;
        const char *child, *xml;
        DBusMessage *reply;

        if (!dbus_message_is_method_call(m, DBUS_INTERFACE_INTROSPECTABLE, "Introspect"))
                return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
        child = streq(path, "/") ? "org" : streq(path, "/org") ? "projectcalico" : "HostEndpoint1";
        strbuf_printf(&b, DBUS_INTROSPECT_1_0_XML_DOCTYPE_DECL_NODE "<node>\n%s <node name=\"%s\"/>\n</node>\n",
                      introspection_standard_interfaces, child);
        xml = strbuf_str(&b);
        reply = dbus_message_new_method_return(m);
        if (reply && !dbus_message_append_args(reply, DBUS_TYPE_STRING, &xml, DBUS_TYPE_INVALID))
                reply = (dbus_message_unref(reply), NULL);
        send_and_unref(s, reply);
        strbuf_done(&b);
        return DBUS_HANDLER_RESULT_HANDLED;
}

/* ---- org.freedesktop.DBus.Properties ---- */

static bool is_standard_interface(const char *name) {
        return streq(name, DBUS_INTERFACE_PROPERTIES) || streq(name, DBUS_INTERFACE_INTROSPECTABLE) ||
               streq(name, DBUS_INTERFACE_PEER);
}

static DBusMessage *new_reply_or_oom(DBusMessage *m, Out *o, DBusMessage *reply) {
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
static DBusMessage *new_reply(BusService *s, DBusMessage *call, DBusMessageIter *it, Out *o) {
        DBusMessage *reply = dbus_message_new_method_return(call);

        if (!reply) {
                send_and_unref(s, dbus_message_new_error(call, DBUS_ERROR_NO_MEMORY, "out of memory"));
                return NULL;
        }
        dbus_message_iter_init_append(reply, it);
        out_init_message(o, it);
        return reply;
}

static void handle_get(BusService *s, DBusMessage *m, const Target *t) {
        const char *iface, *prop;
        const BusProperty *p;
        DBusMessageIter it;
        DBusMessage *reply;
        Out o;

        if (!dbus_message_get_args(m, NULL, DBUS_TYPE_STRING, &iface, DBUS_TYPE_STRING, &prop, DBUS_TYPE_INVALID)) {
                reply_error(s, m, DBUS_ERROR_INVALID_ARGS, "Get takes (s interface, s property)");
                return;
        }
        if (!t->iface || !streq(iface, t->iface->name)) {
                reply_error(s, m, DBUS_ERROR_UNKNOWN_INTERFACE, "Object %s has no interface '%s'",
                            dbus_message_get_path(m), iface);
                return;
        }
        p = bus_interface_property(t->iface, prop);
        if (!p) {
                reply_error(s, m, DBUS_ERROR_UNKNOWN_PROPERTY, "Interface %s has no property '%s'", iface, prop);
                return;
        }
        reply = new_reply(s, m, &it, &o);
        if (reply) {
                bus_append_property_value(&o, p, &s->view, t->object);
                reply = new_reply_or_oom(m, &o, reply);
        }
        bus_view_forget_counters(&s->view);
        send_and_unref(s, reply);
}

static void handle_get_all(BusService *s, DBusMessage *m, const Target *t) {
        const char *iface;
        DBusMessageIter it;
        DBusMessage *reply;
        Out o;

        if (!dbus_message_get_args(m, NULL, DBUS_TYPE_STRING, &iface, DBUS_TYPE_INVALID)) {
                reply_error(s, m, DBUS_ERROR_INVALID_ARGS, "GetAll takes (s interface)");
                return;
        }
        reply = new_reply(s, m, &it, &o);
        if (!reply)
                return;
        /* "" means every interface; the standard ones have no properties. */
        if (t->iface && (streq(iface, t->iface->name) || streq(iface, "")))
                bus_append_properties(&o, t->iface, &s->view, t->object);
        else if (is_standard_interface(iface) || (t->kind == BUS_OBJECT_MANAGER && streq(iface, DBUS_INTERFACE_OBJECT_MANAGER)) ||
                 streq(iface, "")) {
                out_open(&o, DBUS_TYPE_ARRAY, "{sv}");
                out_close(&o);
        } else {
                dbus_message_unref(reply);
                reply_error(s, m, DBUS_ERROR_UNKNOWN_INTERFACE, "Object %s has no interface '%s'",
                            dbus_message_get_path(m), iface);
                return;
        }
        bus_view_forget_counters(&s->view);
        send_and_unref(s, new_reply_or_oom(m, &o, reply));
}

/* ---- org.freedesktop.DBus.ObjectManager ---- */

static void append_object(Out *o, const char *path, const BusInterface *iface, BusView *v, const void *object) {
        out_open(o, DBUS_TYPE_DICT_ENTRY, NULL);
        out_path(o, path);
        bus_append_object_interfaces(o, iface, v, object);
        out_close(o);
}

static void handle_get_managed_objects(BusService *s, DBusMessage *m) {
        uint64_t start = now_usec(), counted;
        char path[BUS_PATH_MAX];
        DBusMessageIter it;
        Out o;
        DBusMessage *reply = new_reply(s, m, &it, &o);

        if (!reply)
                return;
        out_open(&o, DBUS_TYPE_ARRAY, "{oa{sa{sv}}}");
        for (size_t i = 0; s->view.calc && i < s->view.calc->n_endpoints; i++) {
                const Endpoint *e = &s->view.calc->endpoints[i];
                bus_endpoint_path(e->name, path);
                append_object(&o, path, &bus_endpoint_interface, &s->view, e);
        }
        for (size_t i = 0; i < s->view.n_ifaces; i++) {
                bus_interface_path(s->view.ifaces[i].ifindex, path);
                append_object(&o, path, &bus_interface_interface, &s->view, &s->view.ifaces[i]);
        }
        out_close(&o);
        counted = now_usec();
        bus_view_forget_counters(&s->view);
        send_and_unref(s, new_reply_or_oom(m, &o, reply));
        host_log(s->p->host, LOG_DEBUG, "D-Bus: GetManagedObjects answered in %llu us (%llu us building the reply)",
                 (unsigned long long)(now_usec() - start), (unsigned long long)(counted - start));
}

/* ---- change signals ---- */

static void record_free(ObjectRecord *r) {
        if (!r)
                return;
        free(r->path);
        free(r);
}

static void hash_properties(ObjectRecord *rec, BusView *v, const void *object, bool only_dynamic) {
        for (size_t i = 0; i < rec->iface->n_properties; i++) {
                const BusProperty *p = &rec->iface->properties[i];
                Out o;
                if (!p->emits || (only_dynamic && !p->dynamic))
                        continue;
                out_init_hash(&o);
                p->get(&o, v, object);
                rec->hashes[i] = o.hash;
        }
}

/* A signal whose arguments are written through o, or NULL when there is
 * no connection to send it on. */
static DBusMessage *new_signal(BusService *s, const char *path, const char *iface, const char *member,
                               DBusMessageIter *it, Out *o) {
        DBusMessage *sig;

        if (!s->conn)
                return NULL;
        sig = dbus_message_new_signal(path, iface, member);
        if (!sig)
                return NULL;
        dbus_message_iter_init_append(sig, it);
        out_init_message(o, it);
        return sig;
}

static void emit(BusService *s, DBusMessage *sig, Out *o) {
        if (sig && o->oom) {
                dbus_message_unref(sig);
                return;
        }
        send_and_unref(s, sig);
}

static void emit_added(BusService *s, const ObjectRecord *rec, const void *object) {
        DBusMessageIter it;
        Out o;
        DBusMessage *sig = new_signal(s, BUS_ROOT_PATH, DBUS_INTERFACE_OBJECT_MANAGER, "InterfacesAdded", &it, &o);

        if (!sig)
                return;
        out_path(&o, rec->path);
        bus_append_object_interfaces(&o, rec->iface, &s->view, object);
        emit(s, sig, &o);
}

static void emit_removed(BusService *s, const ObjectRecord *rec) {
        DBusMessageIter it;
        Out o;
        DBusMessage *sig = new_signal(s, BUS_ROOT_PATH, DBUS_INTERFACE_OBJECT_MANAGER, "InterfacesRemoved", &it, &o);

        if (!sig)
                return;
        out_path(&o, rec->path);
        out_open(&o, DBUS_TYPE_ARRAY, "s");
        out_str(&o, rec->iface->name);
        out_close(&o);
        emit(s, sig, &o);
}

/* PropertiesChanged with the values of the properties whose hash differs
 * from before (old), if any. */
static void emit_changed(BusService *s, const ObjectRecord *rec, const uint64_t *old, const void *object) {
        const char *iface = rec->iface->name;
        DBusMessage *sig;
        DBusMessageIter it;
        bool any = false;
        Out o;

        for (size_t i = 0; i < rec->iface->n_properties; i++)
                any = any || (rec->iface->properties[i].emits && old[i] != rec->hashes[i]);
        if (!any)
                return;
        sig = new_signal(s, rec->path, DBUS_INTERFACE_PROPERTIES, "PropertiesChanged", &it, &o);
        if (!sig)
                return;
        out_str(&o, iface);
        out_open(&o, DBUS_TYPE_ARRAY, "{sv}");
        for (size_t i = 0; i < rec->iface->n_properties; i++) {
                const BusProperty *p = &rec->iface->properties[i];
                if (!p->emits || old[i] == rec->hashes[i])
                        continue;
                out_open(&o, DBUS_TYPE_DICT_ENTRY, NULL);
                out_str(&o, p->name);
                bus_append_property_value(&o, p, &s->view, object);
                out_close(&o);
        }
        out_close(&o);
        out_open(&o, DBUS_TYPE_ARRAY, "s");
        out_close(&o);
        emit(s, sig, &o);
}

/* One object after a commit: new (InterfacesAdded) or changed. */
static int sync_object(BusService *s, const char *path, const BusInterface *iface, const void *object,
                       const EndpointInfo *info) {
        ObjectRecord *rec = strmap_get(&s->records, path);
        uint64_t old[BUS_PROPERTIES_MAX];
        uint64_t fp = iface->fingerprint ? iface->fingerprint(&s->view, object) : 0;

        if (!rec) {
                rec = calloc(1, sizeof(ObjectRecord));
                if (!rec)
                        return -ENOMEM;
                rec->path = strdup(path);
                rec->iface = iface;
                if (!rec->path || strmap_put(&s->records, rec->path, rec) < 0) {
                        record_free(rec);
                        return -ENOMEM;
                }
                rec->info = info;
                rec->info_generation = info ? info->generation : 0;
                rec->seen = true;
                rec->fingerprint = fp;
                hash_properties(rec, &s->view, object, false);
                emit_added(s, rec, object);
                return 0;
        }
        rec->seen = true;
        /* The same EndpointInfo: the same resource, so only what depends on
         * interfaces and policies can have changed (interfaces have no
         * other properties). */
        bool same = info ? rec->info == info && rec->info_generation == info->generation : true;
        if (same && fp && fp == rec->fingerprint)
                return 0; /* nothing they are computed from changed */
        memcpy(old, rec->hashes, sizeof(old));
        rec->info = info;
        rec->info_generation = info ? info->generation : 0;
        rec->fingerprint = fp;
        hash_properties(rec, &s->view, object, same && info);
        emit_changed(s, rec, old, object);
        return 0;
}

static void sync_manager(BusService *s) {
        uint64_t old[BUS_PROPERTIES_MAX];

        memcpy(old, s->manager.hashes, sizeof(old));
        hash_properties(&s->manager, &s->view, NULL, false);
        emit_changed(s, &s->manager, old, NULL);
}

static void sync_objects(BusService *s) {
        char path[BUS_PATH_MAX];
        int r = bus_view_refresh(&s->view, s->p);

        if (r < 0) {
                host_log_errno(s->p->host, LOG_ERR, r, "D-Bus: cannot take the current state: %m");
                return;
        }
        for (size_t i = 0; i < s->records.cap; i++)
                if (s->records.slots[i].key)
                        ((ObjectRecord *)s->records.slots[i].value)->seen = false;
        for (size_t i = 0; r >= 0 && s->view.calc && i < s->view.calc->n_endpoints; i++) {
                const Endpoint *e = &s->view.calc->endpoints[i];
                bus_endpoint_path(e->name, path);
                r = sync_object(s, path, &bus_endpoint_interface, e, e->info);
        }
        for (size_t i = 0; r >= 0 && i < s->view.n_ifaces; i++) {
                bus_interface_path(s->view.ifaces[i].ifindex, path);
                r = sync_object(s, path, &bus_interface_interface, &s->view.ifaces[i], NULL);
        }
        /* What is gone: the map is rebuilt with what is left. */
        size_t n_left = 0;
        for (size_t i = 0; i < s->records.cap; i++)
                if (s->records.slots[i].key && ((ObjectRecord *)s->records.slots[i].value)->seen)
                        n_left++;
        if (r >= 0 && n_left < s->records.n) {
                StrMap next = STRMAP_INIT;
                for (size_t i = 0; i < s->records.cap; i++) {
                        ObjectRecord *rec = s->records.slots[i].value;
                        if (!s->records.slots[i].key)
                                continue;
                        if (rec->seen && strmap_put(&next, rec->path, rec) >= 0)
                                continue;
                        emit_removed(s, rec);
                        record_free(rec);
                }
                strmap_done(&s->records);
                s->records = next;
        }
        bus_view_forget_counters(&s->view);
        if (r < 0)
                host_log_errno(s->p->host, LOG_ERR, r, "D-Bus: cannot publish the current state: %m");
}

/* ---- WaitInterface ---- */

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
        host_timer_remove(s->p->host, w->timer);
        dbus_message_unref(w->call);
        free(w->ifname);
        free(w);
}

/* The caller left the bus: nobody will read the answers. */
static void waiters_drop_caller(BusService *s, const char *sender) {
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
typedef struct CallerCheck {
        BusService *service;
        DBusPendingCall *pending;
        char *sender;
        struct CallerCheck *next;
} CallerCheck;

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
                waiters_drop_caller(s, sender);
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

/* Settled: the kernel's ruleset reflects every change seen so far. */
static bool settled(const hep_plugin *p) {
        return p->ready && p->event_usec == 0 && !p->datastore_dirty && !p->commit_error;
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

        if (!settled(s->p) || !interface_named(&s->view, w->ifname, &i))
                return false;
        e = s->view.policing[i];
        name = e ? e->name : "";
        reply = dbus_message_new_method_return(w->call);
        if (reply && !dbus_message_append_args(reply, DBUS_TYPE_STRING, &name, DBUS_TYPE_INVALID))
                reply = (dbus_message_unref(reply), NULL);
        send_and_unref(s, reply);
        return true;
}

static void on_waiter_timeout(void *userdata) {
        Waiter *w = userdata;
        BusService *s = w->service;
        size_t i;

        if (!interface_named(&s->view, w->ifname, &i))
                reply_error(s, w->call, BUS_ERROR("Timeout"), "Interface '%s' did not appear within %u ms", w->ifname,
                            w->timeout_ms);
        else if (!s->p->ready)
                reply_error(s, w->call, BUS_ERROR("Timeout"),
                            "Interface '%s' is not enforced after %u ms: the first ruleset is not in the kernel yet%s%s",
                            w->ifname, w->timeout_ms, s->p->last_error ? ": " : "",
                            s->p->last_error ? s->p->last_error : "");
        else
                reply_error(s, w->call, BUS_ERROR("Timeout"),
                            "Interface '%s' is not enforced after %u ms: %s", w->ifname, w->timeout_ms,
                            s->p->commit_error ? s->p->commit_error : "changes are still being committed");
        waiter_free(w);
}

static void waiters_drop(BusService *s) {
        while (s->waiters)
                waiter_free(s->waiters);
}

static void answer_waiters(BusService *s) {
        Waiter *next;

        for (Waiter *w = s->waiters; w; w = next) {
                next = w->next;
                if (waiter_try(w))
                        waiter_free(w);
        }
}

static void handle_wait_interface(BusService *s, DBusMessage *m) {
        const char *ifname, *sender;
        uint32_t timeout_ms;
        size_t n_mine;
        Waiter *w;

        if (!dbus_message_has_signature(m, "su") ||
            !dbus_message_get_args(m, NULL, DBUS_TYPE_STRING, &ifname, DBUS_TYPE_UINT32, &timeout_ms, DBUS_TYPE_INVALID)) {
                reply_error(s, m, DBUS_ERROR_INVALID_ARGS,
                            "WaitInterface takes (s ifname, u timeout_ms), not (%s)", dbus_message_get_signature(m));
                return;
        }
        if (*ifname == 0 || strlen(ifname) >= 16 || strchr(ifname, '/')) {
                reply_error(s, m, DBUS_ERROR_INVALID_ARGS,
                            "WaitInterface: argument ifname: '%.64s' is not an interface name (1-15 bytes, no '/')",
                            ifname);
                return;
        }
        if (s->n_waiters >= WAITERS_MAX) {
                reply_error(s, m, DBUS_ERROR_LIMITS_EXCEEDED, "WaitInterface: %d calls are already waiting",
                            WAITERS_MAX);
                return;
        }
        sender = dbus_message_get_sender(m);
        n_mine = sender ? waiters_of(s, sender) : 0;
        if (n_mine >= WAITERS_PER_CALLER_MAX) {
                reply_error(s, m, DBUS_ERROR_LIMITS_EXCEEDED, "WaitInterface: %d calls of yours are already waiting",
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
                reply_error(s, m, DBUS_ERROR_NO_MEMORY, "out of memory");
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
        if (host_timer_add(s->p->host, (uint64_t)timeout_ms * 1000, on_waiter_timeout, w, &w->timer) < 0) {
                reply_error(s, m, DBUS_ERROR_NO_MEMORY, "cannot arm a timer");
                waiter_free(w);
        }
}

/* ---- Manager methods ---- */

static void reply_empty(BusService *s, DBusMessage *m) {
        send_and_unref(s, dbus_message_new_method_return(m));
}

/* ---- writes while a hepctl holds the datastore ---- */

static void queued_write_pop(BusService *s) {
        QueuedWrite *w = s->writes;

        s->writes = w->next;
        if (!s->writes)
                s->writes_tail = &s->writes;
        s->n_writes--;
        dbus_message_unref(w->call);
        free(w);
}

static void writes_drop(BusService *s) {
        while (s->writes)
                queued_write_pop(s);
}

/* The datastore's write lock for an Apply or Delete, taken without
 * waiting: a hepctl may hold it, and the host's loop must not block. Then
 * the call waits in line (writes keep their order) and is run again on a
 * timer, for up to WRITE_WAIT_MAX_USEC. false: the call was queued or
 * answered; true: go ahead, then datastore_unlock(). */
static bool write_lock(BusService *s, DBusMessage *m) {
        QueuedWrite *w;
        int r;

        if (s->writes && !s->retrying)
                r = -EWOULDBLOCK; /* others are waiting already */
        else
                r = datastore_try_lock(s->p->ds);
        if (r >= 0)
                return true;
        if (r != -EWOULDBLOCK) {
                reply_error(s, m, BUS_ERROR("Datastore"), "Cannot lock %s: %s", datastore_spec(s->p->ds),
                            strerror(-r));
                return false;
        }
        if (s->retrying) {
                s->lock_busy = true; /* stays at the head of the line */
                return false;
        }
        if (s->n_writes >= WRITES_QUEUED_MAX) {
                reply_error(s, m, DBUS_ERROR_LIMITS_EXCEEDED, "%d writes are already waiting for %s",
                            WRITES_QUEUED_MAX, datastore_spec(s->p->ds));
                return false;
        }
        w = calloc(1, sizeof(QueuedWrite));
        if (!w) {
                reply_error(s, m, DBUS_ERROR_NO_MEMORY, "out of memory");
                return false;
        }
        *w = (QueuedWrite) { dbus_message_ref(m), now_usec() + WRITE_WAIT_MAX_USEC, NULL };
        *s->writes_tail = w;
        s->writes_tail = &w->next;
        /* The first in line starts the retries; later ones do not delay them. */
        if (s->n_writes++ == 0)
                (void)host_timer_rearm(s->p->host, s->writes_timer, WRITE_RETRY_USEC);
        return false;
}

static void handle_apply(BusService *s, DBusMessage *m);
static void handle_delete(BusService *s, DBusMessage *m);

/* Runs the queued writes in order, until one finds the lock taken. */
static void on_writes_timer(void *userdata) {
        BusService *s = userdata;

        while (s->writes) {
                QueuedWrite *w = s->writes;
                s->retrying = true;
                s->lock_busy = false;
                if (dbus_message_has_member(w->call, "Apply"))
                        handle_apply(s, w->call);
                else
                        handle_delete(s, w->call);
                s->retrying = false;
                if (s->lock_busy && now_usec() < w->deadline) {
                        (void)host_timer_rearm(s->p->host, s->writes_timer, WRITE_RETRY_USEC);
                        return;
                }
                if (s->lock_busy)
                        reply_error(s, w->call, BUS_ERROR("Datastore"),
                                    "%s: %s stayed locked by another writer (a hepctl?) for %llu s",
                                    dbus_message_get_member(w->call), datastore_spec(s->p->ds),
                                    (unsigned long long)(WRITE_WAIT_MAX_USEC / 1000000));
                queued_write_pop(s);
        }
}

/* Writes went through the plugin's own datastore: re-read it and commit
 * now, so that the reply follows the change's signals. */
static int commit_after_write(BusService *s) {
        s->p->datastore_dirty = true;
        return plugin_apply_now(s->p);
}

/* The write is in the datastore, but the kernel did not take the ruleset. */
static void reply_not_enforced(BusService *s, DBusMessage *m) {
        reply_error(s, m, BUS_ERROR("Commit"), "Written to %s but not enforced yet (retrying): %s",
                    datastore_spec(s->p->ds), s->p->commit_error ? s->p->commit_error : "the commit failed");
}

static void handle_apply(BusService *s, DBusMessage *m) {
        _cleanup_(resource_list_done) ResourceList l = RESOURCE_LIST_INIT;
        ParseError e = PARSE_ERROR_INIT;
        const char *doc;
        StrBuf errors = STRBUF_INIT;
        DBusMessage *reply;
        DBusMessageIter it;
        char path[BUS_PATH_MAX];
        size_t applied = 0;
        int r = 0, first_error = 0;
        Out o;

        if (!dbus_message_has_signature(m, "s") ||
            !dbus_message_get_args(m, NULL, DBUS_TYPE_STRING, &doc, DBUS_TYPE_INVALID)) {
                reply_error(s, m, DBUS_ERROR_INVALID_ARGS, "Apply takes (s document), not (%s)",
                            dbus_message_get_signature(m));
                return;
        }
        /* Everything is read and validated before anything is written. */
        r = resources_parse_checked("Apply(document)", doc, strlen(doc), &l, &e);
        if (r < 0) {
                _cleanup_free_ char *msg = parse_error_format(&e);
                parse_error_done(&e);
                reply_error(s, m, BUS_ERROR("InvalidResource"), "%s", msg ? msg : strerror(-r));
                return;
        }
        if (l.n == 0) {
                reply_error(s, m, BUS_ERROR("InvalidResource"), "Apply(document): no resources specified");
                return;
        }
        if (!write_lock(s, m))
                return;
        reply = new_reply(s, m, &it, &o);
        if (!reply) {
                datastore_unlock(s->p->ds);
                return;
        }
        out_open(&o, DBUS_TYPE_ARRAY, "o");
        for (size_t i = 0; i < l.n; i++) {
                _cleanup_free_ char *err = NULL;
                r = client_execute(s->p->ds, CLIENT_APPLY, l.v[i], NULL, &err);
                if (r < 0) {
                        if (!first_error)
                                first_error = r;
                        strbuf_printf(&errors, "%s%s", errors.len ? "; " : "", err ? err : strerror(-r));
                        continue;
                }
                applied++;
                if (l.v[i]->kind == KIND_HOST_ENDPOINT) {
                        bus_endpoint_path(l.v[i]->meta.name, path);
                        out_path(&o, path);
                }
        }
        datastore_unlock(s->p->ds);
        out_close(&o);
        if (applied && commit_after_write(s) < 0) {
                dbus_message_unref(reply);
                reply_not_enforced(s, m);
                strbuf_done(&errors);
                return;
        }
        if (first_error) {
                dbus_message_unref(reply);
                reply_error(s, m, error_name(first_error), "%s%s", strbuf_str(&errors),
                            applied ? " (the other resources were applied)" : "");
        } else
                send_and_unref(s, new_reply_or_oom(m, &o, reply));
        strbuf_done(&errors);
}

static void handle_delete(BusService *s, DBusMessage *m) {
        _cleanup_free_ char *err = NULL, *ns = NULL;
        const char *kind, *name;
        const KindInfo *k;
        int r;

        if (!dbus_message_has_signature(m, "ss") ||
            !dbus_message_get_args(m, NULL, DBUS_TYPE_STRING, &kind, DBUS_TYPE_STRING, &name, DBUS_TYPE_INVALID)) {
                reply_error(s, m, DBUS_ERROR_INVALID_ARGS, "Delete takes (s kind, s name), not (%s)",
                            dbus_message_get_signature(m));
                return;
        }
        k = kind_from_alias(kind);
        if (!k) {
                reply_error(s, m, DBUS_ERROR_INVALID_ARGS, "Delete: argument kind: resource type '%.100s' is not supported",
                            kind);
                return;
        }
        const char *slash = strchr(name, '/');
        if (slash && k->namespaced) {
                ns = strndup(name, (size_t)(slash - name));
                if (!ns) {
                        reply_error(s, m, DBUS_ERROR_NO_MEMORY, "out of memory");
                        return;
                }
                name = slash + 1;
                if (!syntax_is_namespace(ns)) {
                        reply_error(s, m, DBUS_ERROR_INVALID_ARGS,
                                    "Delete: argument name: '%.100s' is not a namespace (a lower-case RFC 1123 label)",
                                    ns);
                        return;
                }
        }
        if (*name == 0) {
                reply_error(s, m, DBUS_ERROR_INVALID_ARGS, "Delete: argument name is empty");
                return;
        }
        if (!write_lock(s, m))
                return;
        r = client_delete_by_name(s->p->ds, k->kind, ns, name, NULL, &err);
        datastore_unlock(s->p->ds);
        if (r < 0) {
                reply_error(s, m, error_name(r), "%s", err ? err : strerror(-r));
                return;
        }
        if (commit_after_write(s) < 0) {
                reply_not_enforced(s, m);
                return;
        }
        reply_empty(s, m);
}

static void handle_reload(BusService *s, DBusMessage *m) {
        if (!dbus_message_has_signature(m, "")) {
                reply_error(s, m, DBUS_ERROR_INVALID_ARGS, "Reload takes no arguments");
                return;
        }
        plugin_reload(s->p);
        reply_empty(s, m);
}

/* ---- dispatch ---- */

static DBusHandlerResult on_message(DBusConnection *c, DBusMessage *m, void *userdata) {
        BusService *s = userdata;
        const char *iface = dbus_message_get_interface(m), *member = dbus_message_get_member(m);
        Target t;

        if (dbus_message_get_type(m) != DBUS_MESSAGE_TYPE_METHOD_CALL)
                return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
        if (resolve(s, dbus_message_get_path(m), &t) < 0) {
                reply_error(s, m, DBUS_ERROR_UNKNOWN_OBJECT, "No such object: %s", dbus_message_get_path(m));
                return DBUS_HANDLER_RESULT_HANDLED;
        }
        if (dbus_message_is_method_call(m, DBUS_INTERFACE_INTROSPECTABLE, "Introspect"))
                handle_introspect(s, m, &t);
        else if (dbus_message_is_method_call(m, DBUS_INTERFACE_PROPERTIES, "Get"))
                handle_get(s, m, &t);
        else if (dbus_message_is_method_call(m, DBUS_INTERFACE_PROPERTIES, "GetAll"))
                handle_get_all(s, m, &t);
        else if (dbus_message_is_method_call(m, DBUS_INTERFACE_PROPERTIES, "Set"))
                reply_error(s, m, DBUS_ERROR_PROPERTY_READ_ONLY, "Every property of %s is read-only",
                            t.iface ? t.iface->name : "this object");
        else if (t.kind == BUS_OBJECT_MANAGER &&
                 dbus_message_is_method_call(m, DBUS_INTERFACE_OBJECT_MANAGER, "GetManagedObjects"))
                handle_get_managed_objects(s, m);
        else if (t.kind == BUS_OBJECT_MANAGER && (!iface || streq(iface, BUS_MANAGER_INTERFACE)) && member &&
                 streq(member, "Apply"))
                handle_apply(s, m);
        else if (t.kind == BUS_OBJECT_MANAGER && (!iface || streq(iface, BUS_MANAGER_INTERFACE)) && member &&
                 streq(member, "Delete"))
                handle_delete(s, m);
        else if (t.kind == BUS_OBJECT_MANAGER && (!iface || streq(iface, BUS_MANAGER_INTERFACE)) && member &&
                 streq(member, "WaitInterface"))
                handle_wait_interface(s, m);
        else if (t.kind == BUS_OBJECT_MANAGER && (!iface || streq(iface, BUS_MANAGER_INTERFACE)) && member &&
                 streq(member, "Reload"))
                handle_reload(s, m);
        else
                reply_error(s, m, DBUS_ERROR_UNKNOWN_METHOD, "No method %s.%s on %s", iface ? iface : "(none)",
                            member ? member : "(none)", dbus_message_get_path(m));
        return DBUS_HANDLER_RESULT_HANDLED;
}

static const DBusObjectPathVTable vtable = { .message_function = on_message };
static const DBusObjectPathVTable parent_vtable = { .message_function = on_parent_message };

/* ---- the connection ---- */

static void schedule_reconnect(BusService *s);

static void request_name(BusService *s) {
        DBusError e;
        int r;

        /* Once per connection: a refusal (another owner, the bus policy)
         * is logged once, not retried on every commit. */
        if (!s->conn || s->name_tried || !s->p->ready)
                return;
        s->name_tried = true;
        dbus_error_init(&e);
        r = dbus_bus_request_name(s->conn, BUS_NAME, DBUS_NAME_FLAG_DO_NOT_QUEUE, &e);
        if (r == DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER || r == DBUS_REQUEST_NAME_REPLY_ALREADY_OWNER) {
                s->name_owned = true;
                host_log(s->p->host, LOG_INFO, "D-Bus: serving %s", BUS_NAME);
        } else if (r == DBUS_REQUEST_NAME_REPLY_EXISTS)
                host_log(s->p->host, LOG_ERR, "D-Bus: %s is owned by another process; not serving it", BUS_NAME);
        else
                host_log(s->p->host, LOG_ERR, "D-Bus: cannot own %s: %s", BUS_NAME, e.message ? e.message : "refused");
        dbus_error_free(&e);
}

static void on_reconnect_timer(void *userdata);

static void waiters_drop(BusService *s);
static void writes_drop(BusService *s);
static DBusHandlerResult on_filter(DBusConnection *c, DBusMessage *m, void *userdata);

/* Undoes exactly what attach() did; a lent connection stays open. */
static void disconnect(BusService *s) {
        if (!s->conn)
                return;
        /* Their replies could not reach the callers any more. */
        waiters_drop(s);
        while (s->checks)
                caller_check_free(s->checks);
        writes_drop(s);
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
        if (!s->lent)
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
                host_log(s->p->host, LOG_WARNING, "D-Bus: connection lost; enforcing goes on, reconnecting");
                s->reconnect_usec = RECONNECT_MIN_USEC;
                host_timer_rearm(s->p->host, s->reconnect_timer, 0);
                /* A host that lent the connection wants to see it too. */
                return s->lent ? DBUS_HANDLER_RESULT_NOT_YET_HANDLED : DBUS_HANDLER_RESULT_HANDLED;
        }
        if (dbus_message_is_signal(m, DBUS_INTERFACE_DBUS, "NameOwnerChanged") &&
            streq_ptr(dbus_message_get_sender(m), DBUS_SERVICE_DBUS)) {
                const char *name, *old_owner, *new_owner;
                if (dbus_message_get_args(m, NULL, DBUS_TYPE_STRING, &name, DBUS_TYPE_STRING, &old_owner,
                                          DBUS_TYPE_STRING, &new_owner, DBUS_TYPE_INVALID) &&
                    name[0] == ':' && !*new_owner)
                        waiters_drop_caller(s, name);
        }
        if (dbus_message_is_signal(m, DBUS_INTERFACE_DBUS, "NameLost")) {
                s->name_owned = false;
                host_log(s->p->host, LOG_WARNING, "D-Bus: lost the name %s", BUS_NAME);
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
            (!dbus_connection_register_object_path(c, "/", &parent_vtable, s) ||
             !dbus_connection_register_object_path(c, "/org", &parent_vtable, s) ||
             !dbus_connection_register_object_path(c, "/org/projectcalico", &parent_vtable, s)))
                r = -ENOMEM;
        if (r >= 0) {
                if (dbus_connection_add_filter(c, on_filter, s, NULL))
                        s->filtering = true;
                else
                        r = -ENOMEM;
        }
        if (r >= 0 && !s->lent)
                r = bus_loop_attach(s->p->host, c, &s->loop);
        if (r < 0)
                host_log(s->p->host, LOG_ERR, "D-Bus: cannot export %s: %s", BUS_ROOT_PATH, e.message ? e.message : strerror(-r));
        dbus_error_free(&e);
        return r;
}

static int connect_bus(BusService *s) {
        const char *bus = s->p->host->bus ? s->p->host->bus : "system";
        DBusConnection *c;
        DBusError e;
        int r;

        dbus_error_init(&e);
        /* Blocking, but only towards the local bus daemon, once. */
        c = bus_open(bus, &e);
        if (!c) {
                if (!s->off_logged)
                        host_log(s->p->host, LOG_WARNING, "D-Bus is off: cannot connect to the %s bus (%s); enforcing without it, retrying in the background",
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
                host_log(s->p->host, LOG_INFO, "D-Bus: connected to the %s bus", bus);
        s->off_logged = false;
        request_name(s);
        return 0;
}

static void schedule_reconnect(BusService *s) {
        host_timer_rearm(s->p->host, s->reconnect_timer, s->reconnect_usec);
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

int plugin_bus_start(hep_plugin *p) {
        const char *bus = p->host->bus ? p->host->bus : "system";
        BusService *s;
        int r;

        if (!p->host->dbus_connection && streq(bus, "none")) {
                host_log(p->host, LOG_INFO, "D-Bus is off (--bus none); enforcing without it");
                return 0;
        }
        s = calloc(1, sizeof(BusService));
        if (!s)
                return -ENOMEM;
        s->p = p;
        s->view.plugin = p;
        s->manager.iface = &bus_manager_interface;
        s->manager.path = (char *)BUS_ROOT_PATH;
        s->reconnect_usec = RECONNECT_MIN_USEC;
        s->writes_tail = &s->writes;
        r = host_timer_add(p->host, UINT64_MAX, on_reconnect_timer, s, &s->reconnect_timer);
        if (r >= 0) {
                r = host_timer_add(p->host, UINT64_MAX, on_writes_timer, s, &s->writes_timer);
                if (r < 0)
                        host_timer_remove(p->host, s->reconnect_timer);
        }
        if (r < 0) {
                free(s);
                return r;
        }
        p->bus = s;
        if (p->host->dbus_connection) {
                s->lent = true;
                r = attach(s, dbus_connection_ref(p->host->dbus_connection));
                if (r < 0)
                        disconnect(s);
                return 0;
        }
        if (connect_bus(s) < 0)
                schedule_reconnect(s);
        return 0;
}

void plugin_bus_stop(hep_plugin *p) {
        BusService *s = p->bus;

        if (!s)
                return;
        for (Waiter *w = s->waiters; w; w = w->next)
                reply_error(s, w->call, BUS_ERROR("Timeout"), "hostendpoint is stopping");
        waiters_drop(s);
        for (QueuedWrite *w = s->writes; w; w = w->next)
                reply_error(s, w->call, BUS_ERROR("Datastore"), "hostendpoint is stopping; nothing was written");
        writes_drop(s);
        if (s->conn)
                dbus_connection_flush(s->conn);
        disconnect(s);
        host_timer_remove(p->host, s->reconnect_timer);
        host_timer_remove(p->host, s->writes_timer);
        for (size_t i = 0; i < s->records.cap; i++)
                if (s->records.slots[i].key)
                        record_free(s->records.slots[i].value);
        strmap_done(&s->records);
        bus_view_done(&s->view);
        free(s);
        p->bus = NULL;
}

void plugin_notify(hep_plugin *p, PluginChange what) {
        BusService *s = p->bus;

        if (!s)
                return;
        if (what == PLUGIN_CHANGED_STATE) {
                uint64_t start = now_usec();
                sync_objects(s);
                answer_waiters(s);
                host_log(p->host, LOG_DEBUG, "D-Bus: changes published in %llu us", (unsigned long long)(now_usec() - start));
        }
        if (s->view.plugin)
                sync_manager(s);
        /* Readiness settles waiters too (the first commit comes before it). */
        if (what == PLUGIN_CHANGED_MANAGER)
                answer_waiters(s);
        request_name(s);
}
