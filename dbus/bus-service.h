/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The plugin's D-Bus service, org.projectcalico.HostEndpoint1, as the
 * plugin's entry (module/plugin-entry.c) starts and stops it. It reads
 * the plugin only through module/plugin-state.h and hears of its changes
 * through a listener. */
#pragma once

#include "plugin-state.h"

typedef struct BusService BusService;

/* Connects (or uses the host's connection) and exports the objects; *ret
 * is NULL when the host said --bus none. Without a bus, or when it goes
 * away, the plugin enforces all the same and the service reconnects in
 * the background. */
int bus_service_new(PluginCore *p, BusService **ret);
BusService *bus_service_free(BusService *s);
