/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Change signals: after each commit, what clients were last told about
 * each object (a hash per property) is compared with what the property
 * tables give now, and InterfacesAdded, InterfacesRemoved and
 * PropertiesChanged say the difference. A fingerprint per object skips
 * those whose inputs did not change. */
#include <stdlib.h>
#include <string.h>

#include "bus-internal.h"

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
        bus_send(s, sig);
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

void bus_signals_sync_manager(BusService *s) {
        uint64_t old[BUS_PROPERTIES_MAX];

        memcpy(old, s->manager.hashes, sizeof(old));
        hash_properties(&s->manager, &s->view, NULL, false);
        emit_changed(s, &s->manager, old, NULL);
}

void bus_signals_sync_objects(BusService *s) {
        char path[BUS_PATH_MAX];
        int r = bus_view_refresh(&s->view, s->p);

        if (r < 0) {
                host_log_errno(s->host, LOG_ERR, r, "D-Bus: cannot take the current state: %m");
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
                host_log_errno(s->host, LOG_ERR, r, "D-Bus: cannot publish the current state: %m");
}


void bus_signals_done(BusService *s) {
        for (size_t i = 0; i < s->records.cap; i++)
                if (s->records.slots[i].key)
                        record_free(s->records.slots[i].value);
        strmap_done(&s->records);
}
