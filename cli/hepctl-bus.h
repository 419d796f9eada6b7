/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What hepctl's commands that ask the daemon over D-Bus share
 * (hepctl-status.c, hepctl-flows.c). */
#pragma once

#include <dbus/dbus.h>

#include "hepctl.h"
#include "node.h"
#include "settings.h"

#define HEPCTL_BUS_NAME "org.projectcalico.HostEndpoint1"
#define HEPCTL_BUS_ROOT "/org/projectcalico/HostEndpoint1"

/* Any D-Bus value as a document tree: strings and paths quoted scalars,
 * numbers and booleans plain ones, arrays of dict entries maps, other
 * arrays and structs lists, variants their content. */
Node *hepctl_bus_value(DBusMessageIter *it);

/* The daemon's bus (--bus, else the settings'; cfg keeps the string),
 * connected, with hostendpointd on it: the connection and *ret_bus, or
 * NULL after saying why not (cannot connect, or nothing owns the name). */
DBusConnection *hepctl_bus_connect(const HepctlArgs *a, Config *cfg, const char **ret_bus);
