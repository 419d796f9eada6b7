/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Runs a libdbus connection on the host's loop (include/hostendpoint/
 * plugin.h): libdbus' watches become host fd watches, its timeouts host
 * timers, and incoming messages are dispatched from a zero-delay timer,
 * never from inside libdbus' own callbacks. */
#pragma once

#include <dbus/dbus.h>

#include "host.h"

typedef struct BusLoop BusLoop;

int bus_loop_attach(const hep_host *host, DBusConnection *c, BusLoop **ret);
/* Detaches (call before closing the connection). */
BusLoop *bus_loop_free(BusLoop *l);
