/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Connecting to a bus named as hostendpoint's --bus option names it. */
#pragma once

#include <dbus/dbus.h>

/* "system", "session" or a D-Bus address; a private connection, registered
 * with the bus (it has a unique name). NULL with e set on failure. */
DBusConnection *bus_open(const char *bus, DBusError *e);
