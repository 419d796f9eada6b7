/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The host's interfaces (name, index, oper state, addresses) from netlink,
 * via libnl-3's route caches. libnl errors (-NLE_*) are translated to
 * -errno here, where they enter. */
#pragma once

#include "calc.h"

typedef struct InterfaceList {
        HostInterface *v;
        size_t n;
} InterfaceList;

struct nl_cache;

/* A one-off dump of the current network namespace. */
int links_enumerate(InterfaceList *ret);
/* The interfaces in libnl's route/link and route/addr caches (links of
 * family AF_UNSPEC, with their IPv4 and IPv6 addresses): what
 * links_enumerate dumps and what the tracker's cache manager keeps. */
int interface_list_from_caches(struct nl_cache *links, struct nl_cache *addrs, InterfaceList *ret);
void interface_list_done(InterfaceList *l);
int nlerr_to_errno(int nlerr);
