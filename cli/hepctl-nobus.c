/* SPDX-License-Identifier: GPL-2.0-or-later */
/* For builds without libdbus: `hepctl status` and `hepctl flows` say they
 * cannot ask the daemon, and `hepctl get` has no daemon to fall back on; every other
 * command works on the datastore as usual. */
#include "hepctl.h"

int hepctl_status(const HepctlArgs *a) {
        hepctl_error("hepctl was built without D-Bus support: status cannot ask hostendpointd");
        return HEPCTL_FAIL;
}

int hepctl_daemon_host_endpoints(const HepctlOptions *o, ResourceList *ret) {
        return -ENOTCONN;
}

int hepctl_flows(const HepctlArgs *a) {
        hepctl_error("hepctl was built without D-Bus support: flows cannot ask hostendpointd");
        return HEPCTL_FAIL;
}
