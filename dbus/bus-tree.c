/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The service's object tree as clients read it: which object a path
 * names, introspection, and the Properties and ObjectManager methods. The
 * values come from the property tables in objects.c. */
#include <string.h>

#include "bus-internal.h"
#include "introspection.h"
#include "strbuf.h"

/* ---- objects as of the last commit ---- */

static const Endpoint *find_endpoint(BusService *s, const char *name) {
        return s->view.calc ? calc_find_endpoint(s->view.calc, name) : NULL;
}

int bus_resolve(BusService *s, const char *path, Target *ret) {
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

/* Answers an Introspect call with the document in b, and frees b. */
static void reply_xml(BusService *s, DBusMessage *m, StrBuf *b) {
        const char *xml = strbuf_str(b);
        DBusMessage *reply;

        if (!strbuf_ok(b)) {
                strbuf_done(b);
                bus_send(s, dbus_message_new_error(m, DBUS_ERROR_NO_MEMORY, "out of memory"));
                return;
        }
        reply = dbus_message_new_method_return(m);
        if (reply && !dbus_message_append_args(reply, DBUS_TYPE_STRING, &xml, DBUS_TYPE_INVALID))
                reply = (dbus_message_unref(reply), NULL);
        bus_send(s, reply);
        strbuf_done(b);
}

void bus_handle_introspect(BusService *s, DBusMessage *m, const Target *t) {
        StrBuf b = STRBUF_INIT;

        strbuf_append(&b, DBUS_INTROSPECT_1_0_XML_DOCTYPE_DECL_NODE "<node>\n");
        strbuf_append(&b, introspection_standard_interfaces);
        if (t->kind == BUS_OBJECT_MANAGER)
                strbuf_append(&b, introspection_object_manager);
        if (t->iface)
                introspection_append_interface(t->iface->name, &b);
        introspect_children(s, t->kind, &b);
        strbuf_append(&b, "</node>\n");
        reply_xml(s, m, &b);
}

/* The path's parents ("/", "/org", "/org/projectcalico"), so that tools
 * walking the tree from the root find us. */
static DBusHandlerResult on_parent_message(DBusConnection *c, DBusMessage *m, void *userdata) {
        BusService *s = userdata;
        const char *path = dbus_message_get_path(m);
        StrBuf b = STRBUF_INIT;
        const char *child;

        if (!dbus_message_is_method_call(m, DBUS_INTERFACE_INTROSPECTABLE, "Introspect"))
                return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
        child = streq(path, "/") ? "org" : streq(path, "/org") ? "projectcalico" : "HostEndpoint1";
        strbuf_printf(&b, DBUS_INTROSPECT_1_0_XML_DOCTYPE_DECL_NODE "<node>\n%s <node name=\"%s\"/>\n</node>\n",
                      introspection_standard_interfaces, child);
        reply_xml(s, m, &b);
        return DBUS_HANDLER_RESULT_HANDLED;
}


/* ---- org.freedesktop.DBus.Properties ---- */

static bool is_standard_interface(const char *name) {
        return streq(name, DBUS_INTERFACE_PROPERTIES) || streq(name, DBUS_INTERFACE_INTROSPECTABLE) ||
               streq(name, DBUS_INTERFACE_PEER);
}

void bus_handle_get(BusService *s, DBusMessage *m, const Target *t) {
        const char *iface, *prop;
        const BusProperty *p;
        DBusMessageIter it;
        DBusMessage *reply;
        Out o;

        if (!dbus_message_get_args(m, NULL, DBUS_TYPE_STRING, &iface, DBUS_TYPE_STRING, &prop, DBUS_TYPE_INVALID)) {
                bus_reply_error(s, m, DBUS_ERROR_INVALID_ARGS, "Get takes (s interface, s property)");
                return;
        }
        if (!t->iface || !streq(iface, t->iface->name)) {
                bus_reply_error(s, m, DBUS_ERROR_UNKNOWN_INTERFACE, "Object %s has no interface '%s'",
                            dbus_message_get_path(m), iface);
                return;
        }
        p = bus_interface_property(t->iface, prop);
        if (!p) {
                bus_reply_error(s, m, DBUS_ERROR_UNKNOWN_PROPERTY, "Interface %s has no property '%s'", iface, prop);
                return;
        }
        reply = bus_new_reply(s, m, &it, &o);
        if (reply) {
                bus_append_property_value(&o, p, &s->view, t->object);
                reply = bus_new_reply_or_oom(m, &o, reply);
        }
        bus_view_forget_counters(&s->view);
        bus_send(s, reply);
}

void bus_handle_get_all(BusService *s, DBusMessage *m, const Target *t) {
        const char *iface;
        DBusMessageIter it;
        DBusMessage *reply;
        Out o;

        if (!dbus_message_get_args(m, NULL, DBUS_TYPE_STRING, &iface, DBUS_TYPE_INVALID)) {
                bus_reply_error(s, m, DBUS_ERROR_INVALID_ARGS, "GetAll takes (s interface)");
                return;
        }
        reply = bus_new_reply(s, m, &it, &o);
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
                bus_reply_error(s, m, DBUS_ERROR_UNKNOWN_INTERFACE, "Object %s has no interface '%s'",
                            dbus_message_get_path(m), iface);
                return;
        }
        bus_view_forget_counters(&s->view);
        bus_send(s, bus_new_reply_or_oom(m, &o, reply));
}


/* ---- org.freedesktop.DBus.ObjectManager ---- */

static void append_object(Out *o, const char *path, const BusInterface *iface, BusView *v, const void *object) {
        out_open(o, DBUS_TYPE_DICT_ENTRY, NULL);
        out_path(o, path);
        bus_append_object_interfaces(o, iface, v, object);
        out_close(o);
}

void bus_handle_get_managed_objects(BusService *s, DBusMessage *m) {
        uint64_t start = now_usec(), counted;
        char path[BUS_PATH_MAX];
        DBusMessageIter it;
        Out o;
        DBusMessage *reply = bus_new_reply(s, m, &it, &o);

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
        bus_send(s, bus_new_reply_or_oom(m, &o, reply));
        host_log(s->host, LOG_DEBUG, "D-Bus: GetManagedObjects answered in %llu us (%llu us building the reply)",
                 (unsigned long long)(now_usec() - start), (unsigned long long)(counted - start));
}


const DBusObjectPathVTable bus_parent_vtable = { .message_function = on_parent_message };
