/* For builds without libdbus: the plugin enforces all the same and has
 * nothing to announce on a bus. */
#include "plugin-core.h"

int plugin_bus_start(hep_plugin *p) {
        return 0;
}

void plugin_bus_stop(hep_plugin *p) {
}

void plugin_notify(hep_plugin *p, PluginChange what) {
}
