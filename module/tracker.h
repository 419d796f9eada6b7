/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Interface tracking: links (index, name, oper state) and their addresses,
 * kept current from netlink with libnl-3's cache manager running on the
 * host's loop (an fd and a "data ready" call). Calls back once per batch of
 * events, after draining everything the kernel has queued, so a burst costs
 * one recomputation. Recovers from lost events (ENOBUFS) and, every 90 s as
 * Felix does, re-reads everything. A host that tracks links itself feeds
 * the same table through link_tracker_set_link/_address instead. */
#pragma once

#include "host.h"
#include "links.h"

typedef struct LinkTracker LinkTracker;
typedef void (*LinkTrackerChanged)(void *userdata);

#define LINK_TRACKER_RESYNC_USEC (90ULL * 1000 * 1000)

/* own_socket: open a netlink socket (else the host feeds events). */
int link_tracker_new(const hep_host *host, bool own_socket, LinkTrackerChanged cb, void *userdata,
                     LinkTracker **ret);
LinkTracker *link_tracker_free(LinkTracker *t);
DEFINE_CLEANUP_FUNC(LinkTracker, link_tracker_free)

/* The current interfaces; valid until the next callback. */
const InterfaceList *link_tracker_interfaces(LinkTracker *t);
/* Dumps everything again (SIGHUP, lost events). */
int link_tracker_resync(LinkTracker *t);

/* Host-fed events. */
int link_tracker_set_link(LinkTracker *t, int ifindex, const char *name, bool oper_up, bool removed);
int link_tracker_set_address(LinkTracker *t, int ifindex, int family, const uint8_t *addr, bool removed);
