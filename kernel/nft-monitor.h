/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Notices other programs' changes to table inet hostendpoint (a flush, a
 * delete, dormant, a rule or element added or removed) from nftables'
 * netlink notifications, on the host's loop, and asks for the committed
 * ruleset to be restored. Our own transactions are told apart by the port
 * id of the socket they were committed through; lost notifications count
 * as a change. A program that keeps changing the table is answered after
 * a growing delay, so a fight costs bounded work. */
#pragma once

#include "host.h"

typedef struct NftMonitor NftMonitor;
/* The table must be restored, now: in full, or (full false: another
 * program only changed its flags, e.g. set it dormant) its flags only. */
typedef void (*NftMonitorChanged)(void *userdata, bool full);

/* own_portid: the netlink port id our transactions are committed through
 * (nft_backend_portid()); 0 if unknown (then: the committing process). */
int nft_monitor_new(const hep_host *host, uint32_t own_portid, NftMonitorChanged cb, void *userdata,
                    NftMonitor **ret);
NftMonitor *nft_monitor_free(NftMonitor *m);
/* Another port id our transactions come from: the socket full replaces
 * are sent from (nft_backend_batch_portid()), which does not change. */
int nft_monitor_also_own(NftMonitor *m, uint32_t batch_portid);
DEFINE_CLEANUP_FUNC(NftMonitor, nft_monitor_free)

/* Call after each successful commit, with the port id of the socket the
 * next commits go through (libnftables' socket changes when its context
 * is renewed). The first call arms the monitor: before it, the table is
 * not ours to restore. If a restoration was asked for, this commit was it:
 * logs one line per foreign transaction it undid and counts it. */
void nft_monitor_committed(NftMonitor *m, uint32_t own_portid);
/* How many times the table was restored (Manager.Restorations). */
unsigned nft_monitor_restorations(const NftMonitor *m);
