/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Flow logs: the packets the deciding rules log (NFLOG, policy/flowlog.h)
 * and conntrack's DESTROY events of the flows our rules admitted (their
 * packet and byte counts, their end), read through libnl-nf on the host's
 * loop and aggregated by flow (interface, direction, 5-tuple) in a table
 * of the last FLOW_LOG_MAX flows. Who decided is read from the prefix and
 * the committed calculation, not looked up in the kernel. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "calc.h"
#include "hostendpoint/plugin.h"
#include "ipaddr.h"
#include "links.h"

#define FLOW_LOG_MAX 4096

typedef struct FlowRecord {
        uint64_t time_usec, last_seen_usec; /* CLOCK_REALTIME, µs */
        char ifname[16];
        char *endpoint; /* the HostEndpoint policing ifname, "" if none */
        const char *direction; /* "in", "out", "forward" */
        uint8_t proto;
        IPAddr src, dst;
        uint16_t sport, dport;
        bool allow;
        char *tier;   /* "" if none */
        char *policy; /* "gnp NAME", "profile NAME", "failsafe", "default deny", "conntrack invalid" */
        int rule;     /* index in its policy's rules, -1 if none */
        uint64_t packets, bytes;
        bool ended;
        /* What the staged policies would have done (see FlowPendingFn). */
        const char *pending_action; /* "allow", "deny", or "" when no staged policy exists */
        char *pending_policy;
        int pending_rule;
} FlowRecord;

/* The pending part of a new record: set by the plugin (the staged
 * evaluation); leaves *ret as it is (action "") when it has nothing to say. */
typedef struct FlowPending {
        const char *action; /* "allow", "deny" or "" (a literal) */
        char *policy;       /* malloc()ed, or NULL; the record takes it */
        int rule;
} FlowPending;
typedef void (*FlowPendingFn)(void *userdata, const FlowRecord *f, FlowPending *ret);

/* New or updated records, at most FLOW_BATCH_PER_SEC times a second. */
#define FLOW_BATCH_USEC (250ULL * 1000)
typedef void (*FlowBatchFn)(void *userdata, const FlowRecord *const *v, size_t n);
/* A denied flow seen for the first time, at most FLOW_DENIED_PER_SEC a second. */
#define FLOW_DENIED_PER_SEC 10
typedef void (*FlowDeniedFn)(void *userdata, const FlowRecord *f);

typedef struct FlowLog FlowLog;

/* Opens the NFLOG group and conntrack's events and turns conntrack's
 * accounting on (net.netfilter.nf_conntrack_acct) in this namespace.
 * ifaces: the interfaces (names of ifindexes), kept and read as it changes. */
int flow_log_new(const hep_host *host, const InterfaceList *ifaces, FlowLog **ret);
FlowLog *flow_log_free(FlowLog *f);
DEFINE_CLEANUP_FUNC(FlowLog, flow_log_free)

/* After each commit: the calculation it was made from (the origins of the
 * prefixes are mapped through it, on the next message that needs them). */
void flow_log_set_calc(FlowLog *f, const Calc *calc);
void flow_log_set_pending(FlowLog *f, FlowPendingFn fn, void *userdata);
void flow_log_listen(FlowLog *f, FlowBatchFn batch, FlowDeniedFn denied, void *userdata);

/* The records, oldest first (by last change). */
size_t flow_log_records(const FlowLog *f, const FlowRecord **ret, size_t max);
/* The same, one by one: the first, then the one after prev; NULL at the end. */
const FlowRecord *flow_log_next(const FlowLog *f, const FlowRecord *prev);

/* Lower-level entry points, for tests and benchmarks: one NFLOG packet and
 * one conntrack end, as the sockets deliver them. */
int flow_log_packet(FlowLog *f, const char *prefix, uint8_t hook, int indev, int outdev, const void *payload,
                    size_t len);
