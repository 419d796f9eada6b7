/* hostendpoint.so: the plugin that keeps the kernel's enforcement right as
 * interfaces, addresses and resources change, inside a host's main loop.
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
#include <time.h>

#include "config.h"
#include "datastore.h"
#include "enforcer.h"
#include "host.h"
#include "plugin-core.h"
#include "strmap.h"
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

/* ---- logging what changed ---- */

static void logged_free(LoggedState *v, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(v[i].name);
                free(v[i].reason);
        }
        free(v);
}

static void log_withdrawn(hep_plugin *p, const LoggedState *l) {
        host_log(p->host, LOG_INFO, "HostEndpoint '%s' withdrawn: no longer a host endpoint of this node", l->name);
}

/* One line per endpoint whose state or reason changed: the decisions a
 * user cares about (enforced where, withdrawn, inactive and why). Both
 * lists are sorted by name: one merge, and no allocation for an endpoint
 * whose line is unchanged. */
static void log_changes(hep_plugin *p, const Calc *c) {
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
static void log_warnings(hep_plugin *p, const Calc *c) {
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
static void set_last_error(hep_plugin *p, const char *msg) {
        _cleanup_free_ char *line = msg ? strndup(msg, strcspn(msg, "\n")) : NULL;

        if (streq_ptr(p->last_error, line))
                return;
        free(p->last_error);
        p->last_error = steal_ptr(line);
        plugin_notify(p, PLUGIN_CHANGED_MANAGER);
}

/* Datastore files (and directories) that cannot be used: logged once
 * each; their previous resources stay in force. */
static void log_problems(hep_plugin *p) {
        const StoreProblem *probs;
        size_t n;

        datastore_problems(p->ds, &probs, &n);
        for (size_t i = 0; i < n; i++) {
                bool seen = false;
                for (size_t j = 0; j < p->n_problems; j++)
                        seen = seen || streq(p->problems[j], probs[i].message);
                if (!seen)
                        host_log(p->host, LOG_ERR, "%s%s", probs[i].message,
                                 probs[i].file ? ", keeping that file's previous resources" : "");
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

/* ---- applying ---- */

static void refill_tokens(hep_plugin *p, uint64_t now) {
        if (p->tokens_usec)
                p->tokens += (double)(now - p->tokens_usec) / (double)COMMIT_TOKEN_USEC;
        else
                p->tokens = COMMIT_TOKENS_MAX;
        if (p->tokens > COMMIT_TOKENS_MAX)
                p->tokens = COMMIT_TOKENS_MAX;
        p->tokens_usec = now;
}


/* Arms t to fire usec from now (UINT64_MAX: disarms it). */
static void arm(hep_plugin *p, hep_timer *t, uint64_t usec) {
        int r = host_timer_rearm(p->host, t, usec);

        if (r < 0)
                host_log_errno(p->host, LOG_ERR, r, "Cannot arm a timer: %m");
}

static void schedule(hep_plugin *p, uint64_t usec) {
        arm(p, p->apply_timer, usec);
}

/* Settle once quiet: each commit that leaves interfaces unsettled pushes
 * it back, up to SETTLE_MAX_USEC after the first of them. */
static void schedule_settling(hep_plugin *p, size_t n_unsettled) {
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

static int apply_now(hep_plugin *p) {
        _cleanup_free_ char *err = NULL;
        const InterfaceList *ifaces = link_tracker_interfaces(p->tracker);
        const Ruleset *before = nft_backend_committed(enforcer_backend(p->enforcer));
        size_t unsettled = before ? before->n_unsettled : 0;
        uint64_t start = now_usec();
        bool trim = false;
        int r;

        if (p->settling)
                enforcer_settle_next(p->enforcer);

        if (p->datastore_dirty) {
                p->datastore_dirty = false;
                r = datastore_refresh(p->ds);
                if (r < 0)
                        host_log_errno(p->host, LOG_ERR, r, "Cannot read datastore '%s': %m, keeping the previous resources",
                                 datastore_spec(p->ds));
                log_problems(p);
                trim = r > 0;
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
                return r;
        }
        p->commits++;
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
                host_log(p->host, LOG_DEBUG, "Committed in %llu us (event to commit %llu us; computing %llu us, nftables %llu us)",
                         (unsigned long long)p->last_commit_usec, (unsigned long long)p->last_event_to_commit_usec,
                         (unsigned long long)t.compute_usec, (unsigned long long)t.commit_usec);
        schedule_settling(p, committed->n_unsettled);
        /* Once the loop has nothing else to do. */
        if (nft_backend_cold(enforcer_backend(p->enforcer)))
                arm(p, p->warm_timer, 0);
        arm(p, p->trim_timer, TRIM_USEC);
        /* A resource change is a decision a user cares about, even when no
         * endpoint changes state (a policy edited, added, removed). */
        if (trim && p->ready && t.sent)
                host_log(p->host, LOG_INFO, "Datastore changed: ruleset re-committed in %llu ms",
                         (unsigned long long)((p->last_commit_usec + 500) / 1000));
        else if (trim && p->ready)
                host_log(p->host, LOG_INFO, "Datastore changed: the rules in force stay as they are");
        if (p->commit_error) {
                p->commit_error = mfree_ptr(p->commit_error);
                set_last_error(p, p->shown_problem);
        }
        log_changes(p, enforcer_calc(p->enforcer));
        log_warnings(p, enforcer_calc(p->enforcer));
        plugin_notify(p, PLUGIN_CHANGED_STATE);
        /* Reading files churns the heap (parse trees); give what is free
         * back to the system rather than keep it resident. */
        if (trim)
                malloc_trim(0);
        if (!p->ready) {
                p->ready = true;
                const Ruleset *rs = nft_backend_committed(enforcer_backend(p->enforcer));
                host_log(p->host, LOG_INFO, "Enforcing table inet hostendpoint: %zu chains, %zu rules, %zu sets and maps",
                         ruleset_count_chains(rs), ruleset_count_rules(rs), rs->n_sets);
                plugin_notify(p, PLUGIN_CHANGED_MANAGER);
                if (p->host->ready)
                        p->host->ready(p->host->host_data);
        }
        return 0;
}

static int apply_or_retry(hep_plugin *p) {
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
        hep_plugin *p = userdata;

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
        hep_plugin *p = userdata;
        uint64_t start = now_usec();

        malloc_trim(0);
        host_log(p->host, LOG_DEBUG, "Quiet: free memory returned to the system in %llu us",
                 (unsigned long long)(now_usec() - start));
}

static void on_settle_timer(void *userdata) {
        hep_plugin *p = userdata;

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

int plugin_apply_now(hep_plugin *p) {
        if (!p->event_usec)
                p->event_usec = now_usec();
        return apply_or_retry(p);
}

void plugin_mark_dirty(hep_plugin *p) {
        uint64_t now = now_usec();

        if (!p->event_usec)
                p->event_usec = now;
        /* A change cancels any backoff. */
        p->retry_usec = RETRY_MIN_USEC;
        refill_tokens(p, now);
        schedule(p, p->tokens >= 1.0 ? 0 : (uint64_t)((1.0 - p->tokens) * (double)COMMIT_TOKEN_USEC));
}

static void on_links_changed(void *userdata) {
        plugin_mark_dirty(userdata);
}

/* Another program changed our table: replace it in full with what we
 * committed, or only clear its flags if that is all it changed (a
 * replace costs about 0.6 s with 15,000 rules). nft-monitor.h paces a
 * program that keeps doing it. */
static void on_table_changed(void *userdata, bool full) {
        hep_plugin *p = userdata;

        if (full)
                nft_backend_reset(enforcer_backend(p->enforcer));
        else
                nft_backend_restore_flags(enforcer_backend(p->enforcer));
        plugin_mark_dirty(p);
}

unsigned plugin_restorations(const hep_plugin *p) {
        return nft_monitor_restorations(p->monitor);
}

static void on_datastore_changed(void *userdata) {
        hep_plugin *p = userdata;

        p->datastore_dirty = true;
        plugin_mark_dirty(p);
}

/* ---- the ABI ---- */

static void plugin_shutdown(hep_plugin *p) {
        if (!p)
                return;
        plugin_bus_stop(p);
        host_timer_remove(p->host, p->apply_timer);
        host_timer_remove(p->host, p->settle_timer);
        host_timer_remove(p->host, p->warm_timer);
        host_timer_remove(p->host, p->trim_timer);
        nft_monitor_free(p->monitor);
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
        free(p);
}

static int plugin_init(const hep_host *host, hep_plugin **ret) {
        _cleanup_free_ char *err = NULL;
        hep_plugin *p;
        int r;

        /* Every field of version 1 is read below. */
        if (!host || host->size < HEP_HOST_SIZE_V1) {
                if (host && HEP_HOST_HAS(host, log) && host->log)
                        host->log(host->host_data, LOG_ERR, "hostendpoint: the host's hep_host is smaller than "
                                                            "ABI version 1's; not starting");
                return -EINVAL;
        }
        p = calloc(1, sizeof(hep_plugin));
        if (!p)
                return -ENOMEM;
        p->host = host;
        p->retry_usec = RETRY_MIN_USEC;
        p->nodename = strdup(host->nodename ? host->nodename : "");
        if (!p->nodename) {
                plugin_shutdown(p);
                return -ENOMEM;
        }
        r = datastore_open(host->datastore ? host->datastore : HEP_DEFAULT_DATASTORE, &p->ds, &err);
        if (r < 0) {
                host_log(host, LOG_ERR, "%s", err ? err : strerror(-r));
                plugin_shutdown(p);
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
        }
        if (r >= 0) {
                r = link_tracker_new(host, !(host->flags & HEP_HOST_TRACKS_LINKS), on_links_changed, p, &p->tracker);
                if (r < 0)
                        host_log_errno(host, LOG_ERR, r, "Cannot watch network interfaces: %m");
        }
        if (r >= 0) {
                r = datastore_attach(p->ds, host, on_datastore_changed, p);
                if (r < 0)
                        host_log_errno(host, LOG_ERR, r, "Cannot watch datastore directory '%s': %m", datastore_path(p->ds));
        }
        if (r >= 0)
                r = host_timer_add(host, UINT64_MAX, on_apply_timer, p, &p->apply_timer);
        if (r >= 0)
                r = host_timer_add(host, UINT64_MAX, on_settle_timer, p, &p->settle_timer);
        if (r >= 0)
                r = host_timer_add(host, UINT64_MAX, on_warm_timer, p, &p->warm_timer);
        if (r >= 0)
                r = host_timer_add(host, UINT64_MAX, on_trim_timer, p, &p->trim_timer);
        if (r >= 0)
                r = plugin_bus_start(p);
        if (r < 0) {
                plugin_shutdown(p);
                return r;
        }
        /* Enumerate and enforce first (unless the host still has to tell
         * us its interfaces), then readiness. */
        p->datastore_dirty = true;
        if (!(host->flags & HEP_HOST_TRACKS_LINKS))
                on_apply_timer(p);
        *ret = p;
        return 0;
}

int plugin_reload(hep_plugin *p) {
        int r;

        host_log(p->host, LOG_INFO, "Reloading: re-reading the datastore and interfaces, re-committing in full");
        datastore_forget(p->ds);
        p->datastore_dirty = true;
        r = link_tracker_resync(p->tracker);
        if (r < 0)
                host_log_errno(p->host, LOG_ERR, r, "Cannot re-read interfaces: %m");
        /* A full replace also repairs anything changed behind our back. */
        nft_backend_reset(enforcer_backend(p->enforcer));
        plugin_mark_dirty(p);
        return 0;
}

static void plugin_link_event(hep_plugin *p, const hep_link *l) {
        int r;

        if (l->size < HEP_LINK_SIZE_V1) {
                host_log(p->host, LOG_ERR, "A hep_link smaller than ABI version 1's, ignoring it");
                return;
        }
        r = link_tracker_set_link(p->tracker, l->ifindex, l->name ? l->name : "", l->oper_up, l->removed);

        if (r < 0)
                host_log_errno(p->host, LOG_ERR, r, "Cannot record link %d: %m", l->ifindex);
}

static void plugin_address_event(hep_plugin *p, const hep_address *a) {
        int r;

        if (a->size < HEP_ADDRESS_SIZE_V1) {
                host_log(p->host, LOG_ERR, "A hep_address smaller than ABI version 1's, ignoring it");
                return;
        }
        r = link_tracker_set_address(p->tracker, a->ifindex, a->family, a->address, a->removed);

        if (r < 0 && r != -ENOENT)
                host_log_errno(p->host, LOG_ERR, r, "Cannot record an address of link %d: %m", a->ifindex);
}

static void plugin_sync_done(hep_plugin *p) {
        on_apply_timer(p);
}

static const hep_plugin_ops ops = {
        .size = sizeof(hep_plugin_ops),
        .abi_version = HEP_PLUGIN_ABI_VERSION,
        .version = HEP_VERSION,
        .init = plugin_init,
        .shutdown = plugin_shutdown,
        .reload = plugin_reload,
        .link_event = plugin_link_event,
        .address_event = plugin_address_event,
        .sync_done = plugin_sync_done,
};

/* The one exported symbol (see plugin.map). */
__attribute__((visibility("default"))) const hep_plugin_ops *hep_plugin_entry(uint32_t host_abi_version) {
        return host_abi_version == HEP_PLUGIN_ABI_VERSION ? &ops : NULL;
}
