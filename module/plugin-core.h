/* The plugin's state, shared by its parts: the enforcement loop
 * (plugin.c) and the D-Bus service (dbus/service.c), which reads it and
 * is told when it changes. */
#pragma once

#include <stdint.h>

#include "hostendpoint/plugin.h"
#include "datastore.h"
#include "enforcer.h"
#include "nft-monitor.h"
#include "strmap.h"
#include "tracker.h"

typedef struct BusService BusService;

/* A HEP's state and reason as last logged. */
typedef struct LoggedState {
        char *name;
        EndpointState state;
        char *reason;
} LoggedState;

struct hep_plugin {
        const hep_host *host;
        char *nodename;
        Datastore *ds;
        Enforcer *enforcer;
        LinkTracker *tracker;
        NftMonitor *monitor;   /* other programs' changes to our table */
        hep_timer *apply_timer;
        hep_timer *settle_timer; /* moves interfaces bound by address to the dispatch maps */
        hep_timer *warm_timer;   /* re-reads libnftables' cache after a commit (nft.h) */
        hep_timer *trim_timer;   /* returns freed memory once commits are quiet */
        BusService *bus;

        bool ready;            /* the first ruleset is in the kernel */
        bool datastore_dirty;
        bool settling;         /* this apply settles (see on_settle_timer) */
        uint64_t retry_usec;   /* backoff after a failed commit */
        double tokens;         /* commits that may happen at once (a token bucket) */
        uint64_t tokens_usec;  /* when the bucket was last refilled */
        uint64_t event_usec;   /* when the first change of this batch arrived */
        uint64_t unsettled_usec; /* since when some interface bound by address is unsettled, or 0 */
        char *commit_error;    /* the last failed commit, until one succeeds */
        char *last_error;      /* shown as the Manager's LastError */
        char **problems;       /* datastore files that cannot be used (logged once) */
        char *shown_problem;   /* the last of them, as LastError may show it */
        size_t n_problems;
        char **warned;         /* calculation warnings already logged */
        size_t n_warned;
        LoggedState *logged;   /* this node's HEPs as last logged, sorted by name */
        size_t n_logged;

        /* statistics */
        uint64_t commits;
        uint64_t last_commit_usec;
        uint64_t last_commit_end_usec;
        uint64_t last_event_to_commit_usec;
};

typedef enum PluginChange {
        PLUGIN_CHANGED_STATE,   /* endpoints, interfaces, what is enforced */
        PLUGIN_CHANGED_MANAGER, /* readiness, last error */
        _PLUGIN_CHANGE_MAX,
        _PLUGIN_CHANGE_INVALID = -EINVAL,
} PluginChange;

/* Something changed that needs a recomputation (from the bus: Apply, Delete). */
void plugin_mark_dirty(hep_plugin *p);
/* Recomputes and commits now (after a write through the bus). On failure
 * the previous rules stay, a retry is scheduled and p->commit_error says
 * why. */
int plugin_apply_now(hep_plugin *p);
/* Re-reads everything and re-commits in full (SIGHUP, the bus' Reload). */
int plugin_reload(hep_plugin *p);
/* How many times our table was restored after another program changed it. */
unsigned plugin_restorations(const hep_plugin *p);

/* Implemented by the D-Bus service. */
int plugin_bus_start(hep_plugin *p);
void plugin_bus_stop(hep_plugin *p);
void plugin_notify(hep_plugin *p, PluginChange what);
