/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the plugin's faces (its D-Bus service, dbus/) may read of it, and
 * how they hear that it changed. The plugin's own state lives in plugin.c
 * and is read only through these functions; a face registers a listener
 * and calls back in for what it shows. */
#pragma once

#include <stdbool.h>

#include "hostendpoint/plugin.h"
#include "calc.h"
#include "datastore.h"
#include "links.h"
#include "ruleset.h"

/* The plugin's core (plugin.c); the host's hep_plugin holds it and its faces. */
typedef struct PluginCore PluginCore;

typedef enum PluginState {
        PLUGIN_STATE_STARTING, /* the first ruleset is not in the kernel yet */
        PLUGIN_STATE_RUNNING,
        PLUGIN_STATE_DEGRADED, /* enforcing, but plugin_last_error() says what is wrong */
        _PLUGIN_STATE_MAX,
        _PLUGIN_STATE_INVALID = -EINVAL,
} PluginState;

typedef enum PluginChange {
        PLUGIN_CHANGED_STATE,   /* endpoints, interfaces, what is enforced */
        PLUGIN_CHANGED_MANAGER, /* readiness, last error, restorations */
        _PLUGIN_CHANGE_MAX,
        _PLUGIN_CHANGE_INVALID = -EINVAL,
} PluginChange;

/* ---- starting and stopping (plugin-entry.c) ---- */

/* Opens everything (datastore, nftables, netlink, timers) without
 * committing. 0 or -errno, with the reason logged. */
int plugin_new(const hep_host *host, PluginCore **ret);
/* The first commit (unless the host still has to say which interfaces
 * exist: then sync_done makes it). */
void plugin_start(PluginCore *p);
void plugin_free(PluginCore *p);
/* The host ABI's events (HEP_HOST_TRACKS_LINKS). */
void plugin_link_event(PluginCore *p, const hep_link *l);
void plugin_address_event(PluginCore *p, const hep_address *a);
void plugin_sync_done(PluginCore *p);

/* ---- what a face shows: as of the last commit ---- */

PluginState plugin_state(const PluginCore *p);
const char *plugin_state_to_string(PluginState s);
/* What is wrong while degraded (a datastore file, a failed commit), as
 * anyone may be shown it; NULL when nothing is. */
const char *plugin_last_error(const PluginCore *p);
/* Why the last commit failed, until one succeeds; NULL if it did not. */
const char *plugin_commit_error(const PluginCore *p);
/* The kernel's ruleset accounts for every change seen so far. */
bool plugin_settled(const PluginCore *p);
const char *plugin_nodename(const PluginCore *p);
/* The program the plugin runs in (hep_host.host_name), or "". */
const char *plugin_host_name(const PluginCore *p);
const char *plugin_datastore_spec(const PluginCore *p);
/* How many times our table was restored after another program changed it. */
unsigned plugin_restorations(const PluginCore *p);
/* The last committed calculation (NULL before the first) and the
 * interfaces it was made for. */
const Calc *plugin_calc(const PluginCore *p);
/* The staged view of the last commit: the ruleset the datastore would give
 * if every StagedGlobalNetworkPolicy were promoted now, for the same
 * interfaces (never committed); its verdict for a flow is the flow's
 * pending one. NULL when the datastore has no staged policy. */
const Ruleset *plugin_staged_ruleset(const PluginCore *p);
/* What the last committed calculation tells the user (a missing profile,
 * a FelixConfiguration field that means nothing here, ...), as logged:
 * *ret_n of them (none before the first commit). */
char *const *plugin_warnings(const PluginCore *p, size_t *ret_n);
const InterfaceList *plugin_interfaces(const PluginCore *p);
/* The ruleset in the kernel, as last committed (NULL before the first
 * commit, or after one failed): what D-Bus Explain walks. */
const Ruleset *plugin_committed_ruleset(const PluginCore *p);
const hep_host *plugin_host(const PluginCore *p);
/* Whether the rules log flows (hep_host.flow_logs); and the flows read
 * back, NULL when off or when they cannot be read. */
bool plugin_flow_logs(const PluginCore *p);
typedef struct FlowLog FlowLog;
FlowLog *plugin_flow_log(PluginCore *p);

/* ---- what a face may ask ---- */

/* The datastore, for writes on a user's behalf (D-Bus Apply, Delete). */
Datastore *plugin_datastore(PluginCore *p);
/* After such a write: re-read the datastore and commit now, so that the
 * caller's answer follows the change's signals. On failure the previous
 * rules stay, a retry is scheduled and plugin_commit_error() says why. */
int plugin_commit_written(PluginCore *p);
/* Re-reads everything and re-commits in full (SIGHUP, the bus' Reload). */
int plugin_reload(PluginCore *p);

/* ---- hearing of changes ---- */

typedef void (*PluginListener)(void *userdata, PluginChange what);
/* At most PLUGIN_LISTENERS_MAX listeners, called in the order added,
 * after each commit (STATE) and when the manager's state changes. */
#define PLUGIN_LISTENERS_MAX 4
int plugin_listen(PluginCore *p, PluginListener cb, void *userdata);
void plugin_unlisten(PluginCore *p, PluginListener cb, void *userdata);
