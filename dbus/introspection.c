/* SPDX-License-Identifier: GPL-2.0-or-later */
/* See introspection.h. */
#include "introspection.h"

#include <stdio.h>
#include <string.h>

const char introspection_standard_interfaces[] =
        " <interface name=\"org.freedesktop.DBus.Peer\">\n"
        "  <method name=\"Ping\"/>\n"
        "  <method name=\"GetMachineId\">\n"
        "   <arg name=\"machine_uuid\" type=\"s\" direction=\"out\"/>\n"
        "  </method>\n"
        " </interface>\n"
        " <interface name=\"org.freedesktop.DBus.Introspectable\">\n"
        "  <method name=\"Introspect\">\n"
        "   <arg name=\"xml_data\" type=\"s\" direction=\"out\"/>\n"
        "  </method>\n"
        " </interface>\n"
        " <interface name=\"org.freedesktop.DBus.Properties\">\n"
        "  <method name=\"Get\">\n"
        "   <arg name=\"interface_name\" type=\"s\" direction=\"in\"/>\n"
        "   <arg name=\"property_name\" type=\"s\" direction=\"in\"/>\n"
        "   <arg name=\"value\" type=\"v\" direction=\"out\"/>\n"
        "  </method>\n"
        "  <method name=\"GetAll\">\n"
        "   <arg name=\"interface_name\" type=\"s\" direction=\"in\"/>\n"
        "   <arg name=\"props\" type=\"a{sv}\" direction=\"out\"/>\n"
        "  </method>\n"
        "  <method name=\"Set\">\n"
        "   <arg name=\"interface_name\" type=\"s\" direction=\"in\"/>\n"
        "   <arg name=\"property_name\" type=\"s\" direction=\"in\"/>\n"
        "   <arg name=\"value\" type=\"v\" direction=\"in\"/>\n"
        "  </method>\n"
        "  <signal name=\"PropertiesChanged\">\n"
        "   <arg name=\"interface_name\" type=\"s\"/>\n"
        "   <arg name=\"changed_properties\" type=\"a{sv}\"/>\n"
        "   <arg name=\"invalidated_properties\" type=\"as\"/>\n"
        "  </signal>\n"
        " </interface>\n";

const char introspection_object_manager[] =
        " <interface name=\"org.freedesktop.DBus.ObjectManager\">\n"
        "  <method name=\"GetManagedObjects\">\n"
        "   <arg name=\"object_paths_interfaces_and_properties\" type=\"a{oa{sa{sv}}}\" direction=\"out\"/>\n"
        "  </method>\n"
        "  <signal name=\"InterfacesAdded\">\n"
        "   <arg name=\"object_path\" type=\"o\"/>\n"
        "   <arg name=\"interfaces_and_properties\" type=\"a{sa{sv}}\"/>\n"
        "  </signal>\n"
        "  <signal name=\"InterfacesRemoved\">\n"
        "   <arg name=\"object_path\" type=\"o\"/>\n"
        "   <arg name=\"interfaces\" type=\"as\"/>\n"
        "  </signal>\n"
        " </interface>\n";

void introspection_append_interface(const char *name, StrBuf *out) {
        char open[256];
        const char *start, *end;

        snprintf(open, sizeof(open), "<interface name=\"%s\">", name);
        start = strstr(introspection_xml, open);
        if (!start)
                return;
        end = strstr(start, "</interface>");
        if (!end)
                return;
        end += strlen("</interface>");
        /* From the start of its line, to keep the file's indentation. */
        while (start > introspection_xml && start[-1] == ' ')
                start--;
        strbuf_append_len(out, start, (size_t)(end - start));
        strbuf_append_char(out, '\n');
}
