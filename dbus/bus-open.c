/* SPDX-License-Identifier: GPL-2.0-or-later */
/* See bus-open.h. */
#include "bus-open.h"

#include <string.h>

DBusConnection *bus_open(const char *bus, DBusError *e) {
        DBusConnection *c;

        if (strcmp(bus, "system") == 0)
                return dbus_bus_get_private(DBUS_BUS_SYSTEM, e);
        if (strcmp(bus, "session") == 0)
                return dbus_bus_get_private(DBUS_BUS_SESSION, e);
        c = dbus_connection_open_private(bus, e);
        if (c && !dbus_bus_register(c, e)) {
                dbus_connection_close(c);
                dbus_connection_unref(c);
                return NULL;
        }
        return c;
}
