/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hostendpoint.so's entry point: the host ABI (include/hostendpoint/
 * plugin.h) turned into calls on the plugin's core (plugin.c), which it
 * starts together with the core's faces: the D-Bus service (dbus/) when
 * built with libdbus. The core knows nothing of its faces; they read it
 * through plugin-state.h. */
#include <stdlib.h>

#include "config.h"
#include "host.h"
#include "plugin-state.h"
#if HEP_WITH_DBUS
#include "bus-service.h"
#endif

/* What the host holds (include/hostendpoint/plugin.h leaves it to us to
 * define): the core and its faces. */
struct hep_plugin {
        PluginCore *core;
#if HEP_WITH_DBUS
        BusService *bus;
#endif
};

static void entry_shutdown(hep_plugin *p) {
        if (!p)
                return;
#if HEP_WITH_DBUS
        bus_service_free(p->bus);
#endif
        plugin_free(p->core);
        free(p);
}

static int entry_init(const hep_host *host, hep_plugin **ret) {
        hep_plugin *p = calloc(1, sizeof(hep_plugin));
        int r;

        if (!p)
                return -ENOMEM;
        r = plugin_new(host, &p->core);
#if HEP_WITH_DBUS
        /* Before the first commit, so that its signals go out. */
        if (r >= 0)
                r = bus_service_new(p->core, &p->bus);
#endif
        if (r < 0) {
                entry_shutdown(p);
                return r;
        }
        plugin_start(p->core);
        *ret = p;
        return 0;
}

static int entry_reload(hep_plugin *p) {
        return plugin_reload(p->core);
}

static void entry_link_event(hep_plugin *p, const hep_link *l) {
        plugin_link_event(p->core, l);
}

static void entry_address_event(hep_plugin *p, const hep_address *a) {
        plugin_address_event(p->core, a);
}

static void entry_sync_done(hep_plugin *p) {
        plugin_sync_done(p->core);
}

static const hep_plugin_ops ops = {
        .size = sizeof(hep_plugin_ops),
        .abi_version = HEP_PLUGIN_ABI_VERSION,
        .version = HEP_VERSION,
        .init = entry_init,
        .shutdown = entry_shutdown,
        .reload = entry_reload,
        .link_event = entry_link_event,
        .address_event = entry_address_event,
        .sync_done = entry_sync_done,
};

/* The one exported symbol (see plugin.map). */
__attribute__((visibility("default"))) const hep_plugin_ops *hep_plugin_entry(uint32_t host_abi_version) {
        return host_abi_version == HEP_PLUGIN_ABI_VERSION ? &ops : NULL;
}
