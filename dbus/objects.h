/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What hostendpoint shows on D-Bus: the objects (the Manager, one
 * Endpoint per HostEndpoint, one Interface per network interface), their
 * paths, and a table per D-Bus interface saying where each property's
 * value comes from. The values are written through an Out, either into a
 * message or into a hash, so the service can tell which properties
 * changed after a commit without building messages for those that did
 * not. The interfaces themselves are described in
 * org.projectcalico.HostEndpoint1.xml, which these tables must match. */
#pragma once

#include <dbus/dbus.h>
#include <stdbool.h>
#include <stdint.h>

#include "calc.h"
#include "nft-counters.h"
#include "plugin-state.h"

#ifndef DBUS_INTERFACE_OBJECT_MANAGER /* libdbus >= 1.15 has it */
#define DBUS_INTERFACE_OBJECT_MANAGER "org.freedesktop.DBus.ObjectManager"
#endif

#define BUS_NAME "org.projectcalico.HostEndpoint1"
#define BUS_ROOT_PATH "/org/projectcalico/HostEndpoint1"
#define BUS_ENDPOINT_PREFIX BUS_ROOT_PATH "/endpoint/"
#define BUS_INTERFACE_PREFIX BUS_ROOT_PATH "/interface/"
#define BUS_MANAGER_INTERFACE BUS_NAME ".Manager"
#define BUS_ENDPOINT_INTERFACE BUS_NAME ".Endpoint"
#define BUS_INTERFACE_INTERFACE BUS_NAME ".Interface"
#define BUS_ERROR(e) BUS_NAME ".Error." e

/* Paths are at most this long (a 253-character name, escaped). */
#define BUS_PATH_MAX 1024

/* ---- where values go ---- */

typedef struct Out {
        bool hashing;
        uint64_t hash;
        bool oom;
        int depth;
        DBusMessageIter *top;
        DBusMessageIter frames[16]; /* a{oa{sa{sv}}} holding an a{ss} nests 9 deep */
} Out;

void out_init_message(Out *o, DBusMessageIter *top);
void out_init_hash(Out *o);
void out_str(Out *o, const char *s);
void out_path(Out *o, const char *path);
void out_bool(Out *o, bool b);
void out_i32(Out *o, int32_t v);
void out_u16(Out *o, uint16_t v);
void out_u32(Out *o, uint32_t v);
void out_u64(Out *o, uint64_t v);
/* type: DBUS_TYPE_ARRAY (sig: the element's), _STRUCT, _DICT_ENTRY or
 * _VARIANT (sig: the value's). */
void out_open(Out *o, int type, const char *sig);
void out_close(Out *o);

/* ---- the state shown: as of the last commit ---- */

typedef struct BusView {
        PluginCore *plugin;
        const Calc *calc;         /* NULL before the first commit */
        HostInterface *ifaces;    /* copied, sorted by ifindex */
        size_t n_ifaces;
        const Endpoint **policing; /* per interface: the endpoint whose policy it gets, or NULL */
        NftCounters counters;     /* read from the kernel on first use */
        bool counters_read;
} BusView;

/* Takes the plugin's current state (after a commit). */
int bus_view_refresh(BusView *v, PluginCore *p);
/* Counters are read again on next use (one request, one reading). */
void bus_view_forget_counters(BusView *v);
void bus_view_done(BusView *v);
const HostInterface *bus_view_find_interface(const BusView *v, int ifindex);

/* ---- properties ---- */

typedef struct BusProperty {
        const char *name;
        const char *signature;
        void (*get)(Out *o, BusView *v, const void *object);
        bool dynamic; /* can change while the HostEndpoint resource stays the same */
        bool emits;   /* PropertiesChanged when it changes (not counters) */
} BusProperty;

#define BUS_PROPERTIES_MAX 20

typedef struct BusInterface {
        const char *name;
        const BusProperty *properties;
        size_t n_properties;
        /* A hash of everything the dynamic properties are computed from,
         * much cheaper than the properties themselves: while it is the
         * same, so are they, and a commit that changed one endpoint skips
         * the others. 0: not known (compute the properties). NULL for
         * interfaces without it. */
        uint64_t (*fingerprint)(BusView *v, const void *object);
} BusInterface;

extern const BusInterface bus_manager_interface;
extern const BusInterface bus_endpoint_interface;
extern const BusInterface bus_interface_interface;

const BusProperty *bus_interface_property(const BusInterface *i, const char *name);
/* One property's value, as a variant. */
void bus_append_property_value(Out *o, const BusProperty *p, BusView *v, const void *object);
/* The a{sv} of every property of i. */
void bus_append_properties(Out *o, const BusInterface *i, BusView *v, const void *object);
/* An object's a{sa{sv}}: its one interface of ours, with every property. */
void bus_append_object_interfaces(Out *o, const BusInterface *i, BusView *v, const void *object);

/* ---- paths ---- */

typedef enum BusObjectKind {
        BUS_OBJECT_MANAGER,
        BUS_OBJECT_ENDPOINT,
        BUS_OBJECT_INTERFACE,
        BUS_OBJECT_ENDPOINT_DIR,  /* .../endpoint: only children */
        BUS_OBJECT_INTERFACE_DIR, /* .../interface */
        _BUS_OBJECT_KIND_MAX,
        _BUS_OBJECT_KIND_INVALID = -EINVAL,
} BusObjectKind;

void bus_endpoint_path(const char *name, char buf[static BUS_PATH_MAX]);
void bus_interface_path(int ifindex, char buf[static BUS_PATH_MAX]);
/* Which object a path names: for endpoints *ret_name (the unescaped HEP
 * name, in buf), for interfaces *ret_ifindex. -ENOENT if none. */
int bus_path_parse(const char *path, BusObjectKind *ret_kind, char name[static BUS_PATH_MAX], int *ret_ifindex);
