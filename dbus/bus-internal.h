/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the files of the D-Bus service share (bus-service.c and the files
 * it dispatches to): its state and its replies. Nothing outside dbus/
 * includes this; the plugin's side is bus-service.h. */
#pragma once

#include <dbus/dbus.h>

#include "bus-loop.h"
#include "bus-service.h"
#include "objects.h"
#include "plugin-state.h"
#include "strmap.h"

#define WAITERS_MAX 256
/* One caller cannot take every place in line. */
#define WAITERS_PER_CALLER_MAX 16
/* Longer waits are cut to this: NetworkManager's hook waits 5 s. */
#define WAIT_TIMEOUT_MAX_MS (5u * 60 * 1000)

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

typedef struct CallerCheck CallerCheck;

struct BusService {
        PluginCore *p;
        const hep_host *host;
        char *bus;             /* hep_host.bus, copied: the host's string lives for init only */
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
        CallerCheck *checks;   /* GetNameOwner calls in flight (bus-wait.c) */
        QueuedWrite *writes, **writes_tail; /* in arrival order */
        size_t n_writes;
        hep_timer *writes_timer;
        bool retrying;         /* a queued write is being run again */
        bool store_busy;       /* ... and the datastore was still busy */
};

/* ---- replies (bus-service.c) ---- */

/* Sends m if connected; always releases it. */
void bus_send(BusService *s, DBusMessage *m);
void bus_reply_error(BusService *s, DBusMessage *call, const char *name, const char *fmt, ...) _printf_(4, 5);
void bus_reply_empty(BusService *s, DBusMessage *call);
/* A method return whose arguments are written through o; NULL (after
 * trying to say so) when there is no memory for it. */
DBusMessage *bus_new_reply(BusService *s, DBusMessage *call, DBusMessageIter *it, Out *o);
/* reply, or an error if writing its arguments ran out of memory. */
DBusMessage *bus_new_reply_or_oom(DBusMessage *call, Out *o, DBusMessage *reply);

/* ---- the object tree: paths, introspection, properties (bus-tree.c) ---- */

typedef struct Target {
        BusObjectKind kind;
        const BusInterface *iface; /* NULL for the directories */
        const void *object;
} Target;

/* The object a path names, as of the last commit; -ENOENT if none. */
int bus_resolve(BusService *s, const char *path, Target *ret);
void bus_handle_introspect(BusService *s, DBusMessage *m, const Target *t);
void bus_handle_get(BusService *s, DBusMessage *m, const Target *t);
void bus_handle_get_all(BusService *s, DBusMessage *m, const Target *t);
void bus_handle_get_managed_objects(BusService *s, DBusMessage *m);
/* For "/", "/org" and "/org/projectcalico": introspection only. */
extern const DBusObjectPathVTable bus_parent_vtable;

/* ---- change signals (bus-signals.c) ---- */

/* After a commit: InterfacesAdded, InterfacesRemoved and PropertiesChanged
 * for what changed since the last call. */
void bus_signals_sync_objects(BusService *s);
void bus_signals_sync_manager(BusService *s);
void bus_signals_done(BusService *s);

/* ---- WaitInterface (bus-wait.c) ---- */

void bus_handle_wait_interface(BusService *s, DBusMessage *m);
/* Answers the waits that can be answered now. */
void bus_waiters_answer(BusService *s);
/* Drops every wait (reason: the error sent to each caller, or NULL to send
 * nothing, as when the connection is gone). */
void bus_waiters_drop(BusService *s, const char *reason);
/* The caller left the bus. */
void bus_waiters_drop_caller(BusService *s, const char *sender);

/* ---- the Manager's other methods and the write queue (bus-manager.c) ---- */

void bus_handle_apply(BusService *s, DBusMessage *m);
void bus_handle_delete(BusService *s, DBusMessage *m);
void bus_handle_reload(BusService *s, DBusMessage *m);

/* ---- flow logs (bus-flows.c) ---- */

void bus_handle_get_flows(BusService *s, DBusMessage *m);
/* Sends the flow log's Flows and FlowDenied as signals (if it is on). */
void bus_flows_attach(BusService *s);
void bus_flows_detach(BusService *s);

/* bus-explain.c */
void bus_handle_explain(BusService *s, DBusMessage *m);
void bus_on_writes_timer(void *userdata);
/* Drops the queued writes (reason as for bus_waiters_drop). */
void bus_writes_drop(BusService *s, const char *reason);
