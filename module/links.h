/* The host's interfaces (name, index, oper state, addresses) from netlink,
 * via libnl-3's route caches. libnl errors (-NLE_*) are translated to
 * -errno here, where they enter. */
#pragma once

#include "calc.h"

typedef struct InterfaceList {
        HostInterface *v;
        size_t n;
} InterfaceList;

/* A one-off dump of the current network namespace. */
int links_enumerate(InterfaceList *ret);
void interface_list_done(InterfaceList *l);
int nlerr_to_errno(int nlerr);
