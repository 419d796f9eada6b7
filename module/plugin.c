/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The plugin's core: it keeps the kernel's enforcement right as
 * interfaces, addresses and resources change, inside a host's main loop.
 * (plugin-entry.c turns the host ABI into calls here; plugin-state.h is
 * what its faces read.)
 *
 * Every change (netlink batch, datastore file, reload) marks the plugin
 * dirty and arms a zero-delay timer; when it fires — after the host has
 * dispatched every pending event — one recomputation commits only what
 * changed. A failed commit leaves the previous rules in force and is
 * retried with exponential backoff. The first commit happens before the
 * host is told the plugin is ready. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "config.h"
#include "datastore.h"
#include "enforcer.h"
#include "explain.h"
#include "flow-log.h"
#include "host.h"
#include "nft-monitor.h"
#include "plugin-state.h"
#include "tracker.h"

#define RETRY_MIN_USEC (10ULL * 1000)
#define RETRY_MAX_USEC (10ULL * 1000 * 1000)
/* Commits draw from a bucket of 10 tokens refilled one per 10 ms (Felix
 * throttles the same way): isolated changes are committed at once, while a
 * storm of events (hundreds of interfaces at once) is batched into at most
 * about 100 commits a second. */
#define COMMIT_TOKENS_MAX 10.0
#define COMMIT_TOKEN_USEC (10ULL * 1000)
/* An interface bound by address is first dispatched through sets, which
 * commits fast but costs a set lookup per such HEP per packet; after this
 * long without a commit it moves to the dispatch maps (one lookup), in a
 * commit of its own that makes the kernel validate the ruleset (compile.c). */
#define SETTLE_USEC (1000ULL * 1000)
/* ... and at the latest this long after the first of them, however busy. */
#define SETTLE_MAX_USEC (10ULL * 1000 * 1000)
/* Freed memory goes back to the system after this long without commits. */
#define TRIM_USEC (1000ULL * 1000)

/* A HEP's state and reason as last logged. */
typedef struct LoggedState {
        char *name;
        EndpointState state;
        char *reason;
} LoggedState;

typedef struct Listener {
        PluginListener cb;
        void *userdata;
} Listener;

struct PluginCore {
        const hep_host *host;
        char *nodename;
        char *host_name;       /* hep_host.host_name, or "" */
        Datastore *ds;
        Enforcer *enforcer;
        LinkTracker *tracker;
        NftMonitor *monitor;   /* other programs' changes to our table */
        bool flow_logs;        /* hep_host.flow_logs: the rules log flows */
        FlowLog *flows;        /* and we read them (NULL if off, or if that failed) */
        hep_timer *apply_timer;
        hep_timer *settle_timer; /* moves interfaces bound by address to the dispatch maps */
        hep_timer *warm_timer;   /* re-reads libnftables' cache after a commit (nft.h) */
        hep_timer *trim_timer;   /* returns freed memory once commits are quiet */
        Listener listeners[PLUGIN_LISTENERS_MAX];
        size_t n_listeners;

        bool ready;            /* the first ruleset is in the kernel */
        bool reload_pending;   /* host->reloaded is owed after the next commit */
        bool waiting_logged;   /* "waiting for the datastore" said once */
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
        unsigned batch_fallbacks; /* the backend's count, as last logged */
        uint64_t last_commit_usec;
        uint64_t last_commit_end_usec;
        uint64_t last_event_to_commit_usec;
};

/* ---- telling the faces ---- */

int plugin_listen(PluginCore *p, PluginListener cb, void *userdata) {
        if (p->n_listeners >= PLUGIN_LISTENERS_MAX)
                return -ENOSPC;
        p->listeners[p->n_listeners++] = (Listener) { cb, userdata };
        return 0;
}

void plugin_unlisten(PluginCore *p, PluginListener cb, void *userdata) {
        for (size_t i = 0; i < p->n_listeners; i++)
                if (p->listeners[i].cb == cb && p->listeners[i].userdata == userdata) {
                        memmove(&p->listeners[i], &p->listeners[i + 1], (p->n_listeners - i - 1) * sizeof(Listener));
                        p->n_listeners--;
                        return;
                }
}

static void notify(PluginCore *p, PluginChange what) {
        for (size_t i = 0; i < p->n_listeners; i++)
                p->listeners[i].cb(p->listeners[i].userdata, what);
}

/* ---- logging what changed ---- */

static void logged_free(LoggedState *v, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(v[i].name);
                free(v[i].reason);
        }
        free(v);
}

static void log_withdrawn(PluginCore *p, const LoggedState *l) {
        host_log(p->host, LOG_INFO, "HostEndpoint '%s' withdrawn: no longer a host endpoint of this node", l->name);
}

/* One line per endpoint whose state or reason changed: the decisions a
 * user cares about (enforced where, withdrawn, inactive and why). Both
 * lists are sorted by name: one merge, and no allocation for an endpoint
 * whose line is unchanged. */
static void log_changes(PluginCore *p, const Calc *c) {
        LoggedState *next;
        size_t n = 0, j = 0, local = 0;

        /* Other nodes' HEPs (most of them, often) are not logged. */
        for (size_t i = 0; i < c->n_endpoints; i++)
                local += c->endpoints[i].state != ENDPOINT_REMOTE;
        next = new_array(local, sizeof(LoggedState));
        if (!next)
                return;
        for (size_t i = 0; i < c->n_endpoints; i++) {
                const Endpoint *e = &c->endpoints[i];
                const char *reason = endpoint_reason(e);
                LoggedState *before = NULL;
                int cmp = 1;

                if (e->state == ENDPOINT_REMOTE)
                        continue;
                for (; j < p->n_logged && (cmp = strcmp(p->logged[j].name, e->name)) < 0; j++)
                        log_withdrawn(p, &p->logged[j]);
                if (j < p->n_logged && cmp == 0)
                        before = &p->logged[j++];
                if (before && before->state == e->state && streq(before->reason, reason)) {
                        next[n++] = *before; /* moved: nothing to allocate */
                        *before = (LoggedState) {};
                        continue;
                }
                host_log(p->host, e->state == ENDPOINT_ERROR ? LOG_WARNING : LOG_INFO, "HostEndpoint '%s' %s: %s", e->name,
                         endpoint_state_to_string(e->state), reason);
                next[n] = (LoggedState) { strdup(e->name), e->state, strdup(reason) };
                if (next[n].name && next[n].reason)
                        n++;
                else {
                        free(next[n].name);
                        free(next[n].reason);
                }
        }
        for (; j < p->n_logged; j++)
                log_withdrawn(p, &p->logged[j]);
        logged_free(p->logged, p->n_logged);
        p->logged = next;
        p->n_logged = n;
}

/* The calculation's warnings, each once while it lasts. */
static void log_warnings(PluginCore *p, const Calc *c) {
        for (size_t i = 0; i < c->n_warnings; i++) {
                bool seen = false;
                for (size_t k = 0; k < p->n_warned; k++)
                        seen = seen || streq(p->warned[k], c->warnings[i]);
                if (!seen)
                        host_log(p->host, LOG_WARNING, "%s", c->warnings[i]);
        }
        for (size_t k = 0; k < p->n_warned; k++)
                free(p->warned[k]);
        free(p->warned);
        p->warned = new_array(c->n_warnings, sizeof(char *));
        p->n_warned = 0;
        for (size_t i = 0; p->warned && i < c->n_warnings; i++)
                if ((p->warned[p->n_warned] = strdup(c->warnings[i])))
                        p->n_warned++;
}

/* LastError is readable by anyone: msg as it may be shown (see
 * StoreProblem.public_message), and only its first line (libnftables
 * follows with the command it refused, which quotes the datastore). */
static void set_last_error(PluginCore *p, const char *msg) {
        _cleanup_free_ char *line = msg ? strndup(msg, strcspn(msg, "\n")) : NULL;

        if (streq_ptr(p->last_error, line))
                return;
        free(p->last_error);
        p->last_error = steal_ptr(line);
        notify(p, PLUGIN_CHANGED_MANAGER);
}

/* Datastore files (and directories) that cannot be used: logged once
 * each; their previous resources stay in force. */
static void log_problems(PluginCore *p) {
        const StoreProblem *probs;
        size_t n;

        datastore_problems(p->ds, &probs, &n);
        for (size_t i = 0; i < n; i++) {
                bool seen = false;
                for (size_t j = 0; j < p->n_problems; j++)
                        seen = seen || streq(p->problems[j], probs[i].message);
                if (!seen)
                        host_log(p->host, LOG_ERR, "%s%s", probs[i].message,
                                 probs[i].origin ? ", keeping its previous resources" : "");
        }
        for (size_t j = 0; j < p->n_problems; j++)
                free(p->problems[j]);
        free(p->problems);
        p->problems = new_array(n, sizeof(char *));
        p->n_problems = 0;
        for (size_t i = 0; p->problems && i < n; i++)
                if ((p->problems[p->n_problems] = strdup(probs[i].message)))
                        p->n_problems++;
        free(p->shown_problem);
        p->shown_problem = n ? strdup(probs[n - 1].public_message ? probs[n - 1].public_message : probs[n - 1].message)
                             : NULL;
        set_last_error(p, n ? p->shown_problem : p->commit_error);
}

/* The store itself could not be read (not one file or key of it). */
static bool store_unreadable(PluginCore *p) {
        const StoreProblem *probs;
        size_t n;

        datastore_problems(p->ds, &probs, &n);
        for (size_t i = 0; i < n; i++)
                if (!probs[i].origin)
                        return true;
        return false;
}

/* ---- applying ---- */

static void refill_tokens(PluginCore *p, uint64_t now) {
        if (p->tokens_usec)
                p->tokens += (double)(now - p->tokens_usec) / (double)COMMIT_TOKEN_USEC;
        else
                p->tokens = COMMIT_TOKENS_MAX;
        if (p->tokens > COMMIT_TOKENS_MAX)
                p->tokens = COMMIT_TOKENS_MAX;
        p->tokens_usec = now;
}


/* Arms t to fire usec from now (UINT64_MAX: disarms it). */
static void arm(PluginCore *p, hep_timer *t, uint64_t usec) {
        int r = host_timer_rearm(p->host, t, usec);

        if (r < 0)
                host_log_errno(p->host, LOG_ERR, r, "Cannot arm a timer: %m");
}

static void schedule(PluginCore *p, uint64_t usec) {
        arm(p, p->apply_timer, usec);
}

/* Settle once quiet: each commit that leaves interfaces unsettled pushes
 * it back, up to SETTLE_MAX_USEC after the first of them. */
static void schedule_settling(PluginCore *p, size_t n_unsettled) {
        uint64_t now = now_usec(), delay = UINT64_MAX;

        if (n_unsettled) {
                if (!p->unsettled_usec)
                        p->unsettled_usec = now;
                uint64_t deadline = p->unsettled_usec + SETTLE_MAX_USEC;
                delay = deadline <= now ? 0 : deadline - now < SETTLE_USEC ? deadline - now : SETTLE_USEC;
        } else
                p->unsettled_usec = 0;
        arm(p, p->settle_timer, delay);
}

/* After a reload: the host learns how the re-commit went (0 or -errno),
 * once. Before the first commit, host->ready says it instead. */
static void tell_reloaded(PluginCore *p, int error) {
        if (!p->reload_pending)
                return;
        p->reload_pending = false;
        if (p->ready && HEP_HOST_HAS(p->host, reloaded) && p->host->reloaded)
                p->host->reloaded(p->host->host_data, error);
}

/* A full replace that went through libnftables instead of a netlink
 * batch is correct, but slower: say so, and why. */
static void log_batch_fallback(PluginCore *p) {
        const char *why = NULL;
        unsigned n = nft_backend_fallbacks(enforcer_backend(p->enforcer), &why);

        if (n == p->batch_fallbacks)
                return;
        p->batch_fallbacks = n;
        host_log(p->host, LOG_WARNING, "Replaced the table through libnftables, not as a netlink batch (%u times so far): %s",
                 n, why ? why : "unknown reason");
}

static int apply_now(PluginCore *p) {
        _cleanup_free_ char *err = NULL;
        const InterfaceList *ifaces = link_tracker_interfaces(p->tracker);
        const Ruleset *before = nft_backend_committed(enforcer_backend(p->enforcer));
        size_t unsettled = before ? before->n_unsettled : 0;
        uint64_t start = now_usec();
        bool read_changes = false; /* the datastore gave something new */
        int r;

        if (p->settling)
                enforcer_settle_next(p->enforcer);

        /* Nothing is committed before the store has given its whole
         * content once (etcd's first list): an empty view would withdraw
         * the rules a previous run left in force. */
        if (!datastore_synced(p->ds)) {
                if (!p->waiting_logged)
                        host_log(p->host, LOG_INFO, "Waiting for datastore '%s' before the first commit",
                                 datastore_spec(p->ds));
                p->waiting_logged = true;
                return 0;
        }
        if (p->datastore_dirty) {
                p->datastore_dirty = false;
                r = datastore_refresh(p->ds);
                if (r < 0)
                        host_log_errno(p->host, LOG_ERR, r, "Cannot read datastore '%s': %m, keeping the previous resources",
                                 datastore_spec(p->ds));
                log_problems(p);
                read_changes = r > 0;
        }
        r = enforcer_apply(p->enforcer, ifaces->v, ifaces->n, &err);
        if (r < 0) {
                free(p->commit_error);
                if (asprintf(&p->commit_error, "Cannot commit the ruleset, previous rules left in place: %s",
                             err ? err : strerror(-r)) < 0)
                        p->commit_error = NULL;
                host_log(p->host, LOG_ERR, "%s (retrying in %llu ms)", p->commit_error ? p->commit_error : "commit failed",
                         (unsigned long long)(p->retry_usec / 1000));
                set_last_error(p, p->commit_error);
                tell_reloaded(p, r);
                return r;
        }
        p->commits++;
        log_batch_fallback(p);
        if (p->flows)
                flow_log_set_calc(p->flows, enforcer_calc(p->enforcer));
        /* If another program had changed the table, this commit restored it. */
        nft_monitor_committed(p->monitor, nft_backend_portid(enforcer_backend(p->enforcer)));
        p->last_commit_end_usec = now_usec();
        p->last_commit_usec = p->last_commit_end_usec - start;
        refill_tokens(p, p->last_commit_end_usec);
        p->tokens -= 1.0;
        if (p->event_usec) {
                p->last_event_to_commit_usec = now_usec() - p->event_usec;
                p->event_usec = 0;
        }
        EnforcerTimings t = enforcer_timings(p->enforcer);
        const Ruleset *committed = nft_backend_committed(enforcer_backend(p->enforcer));
        if (p->settling)
                host_log(p->host, LOG_DEBUG, "Settled %zu interfaces bound by address into the dispatch maps in %llu us",
                         unsettled, (unsigned long long)p->last_commit_usec);
        else
                host_log(p->host, LOG_DEBUG,
                         "Committed in %llu us (event to commit %llu us; computing %llu us, nftables %llu us, "
                         "kernel %llu us)",
                         (unsigned long long)p->last_commit_usec, (unsigned long long)p->last_event_to_commit_usec,
                         (unsigned long long)t.compute_usec, (unsigned long long)t.commit_usec,
                         (unsigned long long)t.kernel_usec);
        /* What the staged policies would commit, beside what was: said at
         * debug level only, it is never in the kernel. */
        const Ruleset *staged = plugin_staged_ruleset(p);
        if (staged)
                host_log(p->host, LOG_DEBUG, "Staged view (not committed): %zu chains, %zu rules",
                         ruleset_count_chains(staged), ruleset_count_rules(staged));
        schedule_settling(p, committed->n_unsettled);
        /* Once the loop has nothing else to do. */
        if (nft_backend_cold(enforcer_backend(p->enforcer)))
                arm(p, p->warm_timer, 0);
        arm(p, p->trim_timer, TRIM_USEC);
        /* A resource change is a decision a user cares about, even when no
         * endpoint changes state (a policy edited, added, removed). */
        if (read_changes && p->ready && t.sent)
                host_log(p->host, LOG_INFO, "Datastore changed: ruleset re-committed in %llu ms",
                         (unsigned long long)((p->last_commit_usec + 500) / 1000));
        else if (read_changes && p->ready)
                host_log(p->host, LOG_INFO, "Datastore changed: the rules in force stay as they are");
        if (p->commit_error) {
                p->commit_error = mfree_ptr(p->commit_error);
                set_last_error(p, p->shown_problem);
        }
        log_changes(p, enforcer_calc(p->enforcer));
        log_warnings(p, enforcer_calc(p->enforcer));
        notify(p, PLUGIN_CHANGED_STATE);
        /* Reading the datastore churns the heap (parse trees): what is
         * free goes back to the system once commits are quiet (the trim
         * timer, armed above), not on the event's path, where it cost
         * about a tenth of each etcd event at 10,000 HEPs. */
        if (!p->ready) {
                p->ready = true;
                const Ruleset *rs = nft_backend_committed(enforcer_backend(p->enforcer));
                host_log(p->host, LOG_INFO, "Enforcing table inet hostendpoint: %zu chains, %zu rules, %zu sets and maps",
                         ruleset_count_chains(rs), ruleset_count_rules(rs), rs->n_sets);
                notify(p, PLUGIN_CHANGED_MANAGER);
                if (p->host->ready)
                        p->host->ready(p->host->host_data);
        }
        /* A reload is done once the store has read everything again: on
         * etcd, when the fresh list has answered (this commit may still be
         * of the keys read before). */
        if (p->reload_pending && !datastore_rereading(p->ds))
                tell_reloaded(p, store_unreadable(p) ? -EIO : 0);
        return 0;
}

static int apply_or_retry(PluginCore *p) {
        int r = apply_now(p);

        if (r < 0) {
                schedule(p, p->retry_usec);
                p->retry_usec = p->retry_usec * 2 > RETRY_MAX_USEC ? RETRY_MAX_USEC : p->retry_usec * 2;
        } else
                p->retry_usec = RETRY_MIN_USEC;
        return r;
}

static void on_apply_timer(void *userdata) {
        (void)apply_or_retry(userdata);
}

static void on_warm_timer(void *userdata) {
        PluginCore *p = userdata;

        /* A commit is due anyway: it reads the cache itself. */
        if (p->event_usec)
                return;
        nft_backend_warm(enforcer_backend(p->enforcer));
}

/* Commits leave freed memory behind (the previous calculation and
 * ruleset, libnftables' previous cache). Given back once quiet rather than
 * after each commit: the next commit would take the pages again, a
 * fraction of a millisecond on its path. */
static void on_trim_timer(void *userdata) {
        PluginCore *p = userdata;
        uint64_t start = now_usec();

        malloc_trim(0);
        host_log(p->host, LOG_DEBUG, "Quiet: free memory returned to the system in %llu us",
                 (unsigned long long)(now_usec() - start));
}

static void on_settle_timer(void *userdata) {
        PluginCore *p = userdata;

        /* Not with a change pending or a failed commit backing off: the
         * commit that follows arms this again, so the settling stays a
         * commit of its own, after a successful one. */
        if (p->event_usec || p->commit_error)
                return;
        p->settling = true;
        /* On failure the next commit arms it again. */
        (void)apply_or_retry(p);
        p->settling = false;
}

int plugin_commit_written(PluginCore *p) {
        p->datastore_dirty = true;
        if (!p->event_usec)
                p->event_usec = now_usec();
        return apply_or_retry(p);
}

static void mark_dirty(PluginCore *p) {
        uint64_t now = now_usec();

        if (!p->event_usec)
                p->event_usec = now;
        /* A change cancels any backoff. */
        p->retry_usec = RETRY_MIN_USEC;
        refill_tokens(p, now);
        schedule(p, p->tokens >= 1.0 ? 0 : (uint64_t)((1.0 - p->tokens) * (double)COMMIT_TOKEN_USEC));
}

static void on_links_changed(void *userdata) {
        mark_dirty(userdata);
}

/* Another program changed our table: replace it in full with what we
 * committed, or only clear its flags if that is all it changed (a
 * replace, a netlink batch, costs about 0.2 s with 15,000 rules, mostly
 * the kernel's). nft-monitor.h paces a
 * program that keeps doing it. */
static void on_table_changed(void *userdata, bool full) {
        PluginCore *p = userdata;

        if (full)
                nft_backend_reset(enforcer_backend(p->enforcer));
        else
                nft_backend_restore_flags(enforcer_backend(p->enforcer));
        mark_dirty(p);
}

static void on_datastore_changed(void *userdata) {
        PluginCore *p = userdata;

        p->datastore_dirty = true;
        mark_dirty(p);
}

/* ---- flow logs ---- */

/* The verdict the staged policies would give a new flow record (its
 * PendingAction, PendingPolicy, PendingRule): the flow's first packet
 * explained through the staged view's ruleset (staged.h, explain.h), the
 * ruleset that would be committed if every staged policy were promoted.
 * Nothing when no staged policy exists. */
static void flow_pending(void *userdata, const FlowRecord *f, FlowPending *ret) {
        PluginCore *p = userdata;
        const Ruleset *staged = enforcer_staged_ruleset(p->enforcer);
        _cleanup_(explain_result_freep) ExplainResult *r = NULL;
        bool in = streq(f->direction, "in"), out = streq(f->direction, "out");
        ExplainPacket pkt = {
                .iifname = out ? "" : f->ifname,
                .oifname = out ? f->ifname : "",
                .hook = in ? "input" : out ? "output" : "forward",
                .family = f->src.family,
                .src = f->src,
                .dst = f->dst,
                .proto = f->proto,
                .sport = f->sport,
                .dport = f->dport,
                /* The record keeps no ICMP type: a flow's first is an echo request. */
                .icmp_type = f->src.family == AF_INET6 ? 128 : 8,
                .ct_new = true,
        };

        if (!staged || ruleset_explain(staged, &pkt, &r) < 0)
                return;
        /* No verdict in our table: the packet would pass. */
        ret->action = streq(r->action, "deny") ? "deny" : "allow";
        ret->policy = r->policy ? strdup(r->policy) : NULL;
        ret->rule = r->rule;
}

bool plugin_flow_logs(const PluginCore *p) {
        return p->flow_logs;
}

FlowLog *plugin_flow_log(PluginCore *p) {
        return p->flows;
}

/* ---- starting and stopping ---- */

void plugin_free(PluginCore *p) {
        if (!p)
                return;
        host_timer_remove(p->host, p->apply_timer);
        host_timer_remove(p->host, p->settle_timer);
        host_timer_remove(p->host, p->warm_timer);
        host_timer_remove(p->host, p->trim_timer);
        nft_monitor_free(p->monitor);
        flow_log_free(p->flows);
        link_tracker_free(p->tracker);
        enforcer_free(p->enforcer);
        datastore_free(p->ds);
        logged_free(p->logged, p->n_logged);
        for (size_t j = 0; j < p->n_problems; j++)
                free(p->problems[j]);
        free(p->problems);
        for (size_t j = 0; j < p->n_warned; j++)
                free(p->warned[j]);
        free(p->warned);
        free(p->last_error);
        free(p->shown_problem);
        free(p->commit_error);
        free(p->nodename);
        free(p->host_name);
        free(p);
}

int plugin_new(const hep_host *host, PluginCore **ret) {
        _cleanup_free_ char *err = NULL;
        PluginCore *p;
        int r;

        /* Every field of version 1 is read below. */
        if (!host || host->size < HEP_HOST_SIZE_V1) {
                if (host && HEP_HOST_HAS(host, log) && host->log)
                        host->log(host->host_data, LOG_ERR, "hostendpoint: the host's hep_host is smaller than "
                                                            "ABI version 1's; not starting");
                return -EINVAL;
        }
        p = calloc(1, sizeof(PluginCore));
        if (!p)
                return -ENOMEM;
        p->host = host;
        p->retry_usec = RETRY_MIN_USEC;
        p->flow_logs = HEP_HOST_HAS(host, flow_logs) && host->flow_logs;
        p->nodename = strdup(host->nodename ? host->nodename : "");
        p->host_name = strdup(HEP_HOST_HAS(host, host_name) && host->host_name ? host->host_name : "");
        if (!p->nodename || !p->host_name) {
                plugin_free(p);
                return -ENOMEM;
        }
        /* Writes on a user's behalf (D-Bus) never wait on the host's loop. */
        r = datastore_open(host->datastore ? host->datastore : HEP_DEFAULT_DATASTORE, DATASTORE_NONBLOCK, &p->ds,
                           &err);
        if (r < 0) {
                host_log(host, LOG_ERR, "%s", err ? err : strerror(-r));
                plugin_free(p);
                return r;
        }
        r = enforcer_new(p->ds, p->nodename, &p->enforcer);
        if (r < 0)
                host_log_errno(host, LOG_ERR, r, "Cannot open nftables: %m");
        if (r >= 0) {
                r = nft_monitor_new(host, nft_backend_portid(enforcer_backend(p->enforcer)), on_table_changed, p,
                                    &p->monitor);
                if (r < 0)
                        host_log_errno(host, LOG_ERR, r, "Cannot watch nftables for changes to our table: %m");
                else if (nft_monitor_also_own(p->monitor, nft_backend_batch_portid(enforcer_backend(p->enforcer))) < 0)
                        host_log(host, LOG_WARNING, "Cannot filter the notifications of our full replaces, reading them all");
        }
        if (r >= 0) {
                r = link_tracker_new(host, !(host->flags & HEP_HOST_TRACKS_LINKS), on_links_changed, p, &p->tracker);
                if (r < 0)
                        host_log_errno(host, LOG_ERR, r, "Cannot watch network interfaces: %m");
        }
        if (r >= 0 && p->flow_logs) {
                enforcer_set_flow_logs(p->enforcer, true);
                /* Enforcement does not depend on reading them: the rules log
                 * all the same, and flow_log_new() said why not. */
                if (flow_log_new(host, link_tracker_interfaces(p->tracker), &p->flows) >= 0)
                        flow_log_set_pending(p->flows, flow_pending, p);
        }
        if (r >= 0) {
                r = datastore_attach(p->ds, host, on_datastore_changed, p);
                if (r < 0)
                        host_log_errno(host, LOG_ERR, r, "Cannot watch datastore '%s': %m", datastore_spec(p->ds));
        }
        if (r >= 0)
                r = host_timer_add(host, UINT64_MAX, on_apply_timer, p, &p->apply_timer);
        if (r >= 0)
                r = host_timer_add(host, UINT64_MAX, on_settle_timer, p, &p->settle_timer);
        if (r >= 0)
                r = host_timer_add(host, UINT64_MAX, on_warm_timer, p, &p->warm_timer);
        if (r >= 0)
                r = host_timer_add(host, UINT64_MAX, on_trim_timer, p, &p->trim_timer);
        if (r < 0) {
                plugin_free(p);
                return r;
        }
        p->datastore_dirty = true;
        *ret = p;
        return 0;
}

/* Enumerate and enforce first (unless the host still has to tell us its
 * interfaces: sync_done does it then), then readiness. */
void plugin_start(PluginCore *p) {
        if (!(p->host->flags & HEP_HOST_TRACKS_LINKS))
                on_apply_timer(p);
}

int plugin_reload(PluginCore *p) {
        int r;

        host_log(p->host, LOG_INFO, "Reloading: re-reading the datastore and interfaces, re-committing in full");
        datastore_forget(p->ds);
        p->datastore_dirty = true;
        p->reload_pending = true;
        r = link_tracker_resync(p->tracker);
        if (r < 0)
                host_log_errno(p->host, LOG_ERR, r, "Cannot re-read interfaces: %m");
        /* A full replace also repairs anything changed behind our back. */
        nft_backend_reset(enforcer_backend(p->enforcer));
        mark_dirty(p);
        return 0;
}

void plugin_link_event(PluginCore *p, const hep_link *l) {
        int r;

        if (l->size < HEP_LINK_SIZE_V1) {
                host_log(p->host, LOG_ERR, "A hep_link smaller than ABI version 1's, ignoring it");
                return;
        }
        r = link_tracker_set_link(p->tracker, l->ifindex, l->name ? l->name : "", l->oper_up, l->removed);

        if (r < 0)
                host_log_errno(p->host, LOG_ERR, r, "Cannot record link %d: %m", l->ifindex);
}

void plugin_address_event(PluginCore *p, const hep_address *a) {
        int r;

        if (a->size < HEP_ADDRESS_SIZE_V1) {
                host_log(p->host, LOG_ERR, "A hep_address smaller than ABI version 1's, ignoring it");
                return;
        }
        r = link_tracker_set_address(p->tracker, a->ifindex, a->family, a->address, a->removed);

        if (r < 0 && r != -ENOENT)
                host_log_errno(p->host, LOG_ERR, r, "Cannot record an address of link %d: %m", a->ifindex);
}

void plugin_sync_done(PluginCore *p) {
        on_apply_timer(p);
}

/* ---- what the faces read ---- */

PluginState plugin_state(const PluginCore *p) {
        return !p->ready ? PLUGIN_STATE_STARTING : p->last_error ? PLUGIN_STATE_DEGRADED : PLUGIN_STATE_RUNNING;
}

const char *plugin_state_to_string(PluginState s) {
        static const char *const names[_PLUGIN_STATE_MAX] = {
                [PLUGIN_STATE_STARTING] = "starting",
                [PLUGIN_STATE_RUNNING] = "running",
                [PLUGIN_STATE_DEGRADED] = "degraded",
        };
        return s >= 0 && s < _PLUGIN_STATE_MAX ? names[s] : NULL;
}

const char *plugin_last_error(const PluginCore *p) {
        return p->last_error;
}

const char *plugin_commit_error(const PluginCore *p) {
        return p->commit_error;
}

bool plugin_settled(const PluginCore *p) {
        return p->ready && p->event_usec == 0 && !p->datastore_dirty && !p->commit_error;
}

const char *plugin_nodename(const PluginCore *p) {
        return p->nodename;
}

const char *plugin_host_name(const PluginCore *p) {
        return p->host_name;
}

const char *plugin_datastore_spec(const PluginCore *p) {
        return datastore_spec(p->ds);
}

unsigned plugin_restorations(const PluginCore *p) {
        return nft_monitor_restorations(p->monitor);
}

const Ruleset *plugin_committed_ruleset(const PluginCore *p) {
        return nft_backend_committed(enforcer_backend(p->enforcer));
}

const Calc *plugin_calc(const PluginCore *p) {
        return enforcer_calc(p->enforcer);
}

const Ruleset *plugin_staged_ruleset(const PluginCore *p) {
        return enforcer_staged_ruleset(p->enforcer);
}

char *const *plugin_warnings(const PluginCore *p, size_t *ret_n) {
        const Calc *c = plugin_calc(p);

        *ret_n = c ? c->n_warnings : 0;
        return c ? c->warnings : NULL;
}

const InterfaceList *plugin_interfaces(const PluginCore *p) {
        return link_tracker_interfaces(p->tracker);
}

const hep_host *plugin_host(const PluginCore *p) {
        return p->host;
}

Datastore *plugin_datastore(PluginCore *p) {
        return p->ds;
}
