/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Calculation → ruleset → kernel; see enforcer.h. */
#include "enforcer.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "compute.h"
#include "staged.h"

/* References to the datastore's resources (never changed once loaded),
 * so that a calculation stays valid whatever the datastore does next.
 * Shared by successive calculations while the datastore's view is the
 * same (an interface event): taking one touches every resource. */
typedef struct Snapshot {
        unsigned n_ref;
        uint64_t view_generation;
        Resource **v;
        size_t n;
} Snapshot;

struct Enforcer {
        EnforcerTimings timings;
        Datastore *ds; /* borrowed */
        char *nodename;
        NftBackend *nft;
        CalcCache *calc_cache;     /* what the next calculation can reuse */
        CompileCache *compile_cache;
        Calc *calc;
        Snapshot *snapshot; /* the resources calc borrows */
        /* What the staged view would commit (never committed); NULL while
         * no StagedGlobalNetworkPolicy exists. */
        Ruleset *staged;
};

/* The conntrack generation of the table in the kernel (our ct-gen set's
 * element), 0 if there is none: so that a restarted daemon's first commit
 * moves to the next one rather than starting again at the first, which
 * flows admitted long ago may carry. */
static unsigned kernel_ct_generation(NftBackend *nft) {
        _cleanup_free_ char *json = NULL, *err = NULL;
        const char *p;
        unsigned long mark;

        if (nft_backend_query_json(nft, "list set " HEP_TABLE_FAMILY " " HEP_TABLE_NAME " " CT_GEN_SET, &json, &err) < 0)
                return 0;
        p = strstr(json, "\"elem\"");
        p = p ? strchr(p, '[') : NULL;
        if (!p)
                return 0;
        mark = strtoul(p + 1, NULL, 10);
        return (unsigned)((mark & CT_GEN_MASK) >> CT_GEN_SHIFT);
}

int enforcer_new(Datastore *ds, const char *nodename, Enforcer **ret) {
        _cleanup_(enforcer_freep) Enforcer *e = calloc(1, sizeof(Enforcer));
        int r;

        if (!e)
                return -ENOMEM;
        e->ds = ds;
        e->nodename = strdup(nodename);
        if (!e->nodename)
                return -ENOMEM;
        r = nft_backend_new(&e->nft);
        if (r < 0)
                return r;
        e->calc_cache = calc_cache_new();
        e->compile_cache = compile_cache_new();
        if (!e->calc_cache || !e->compile_cache)
                return -ENOMEM;
        compile_cache_continue_ct_generation(e->compile_cache, kernel_ct_generation(e->nft));
        *ret = steal_ptr(e);
        return 0;
}

static Snapshot *snapshot_unref(Snapshot *s) {
        if (!s || --s->n_ref > 0)
                return NULL;
        for (size_t i = 0; i < s->n; i++)
                resource_free(s->v[i]);
        free(s->v);
        free(s);
        return NULL;
}

Enforcer *enforcer_free(Enforcer *e) {
        if (!e)
                return NULL;
        calc_free(e->calc);
        snapshot_unref(e->snapshot);
        ruleset_free(e->staged);
        compile_cache_free(e->compile_cache);
        calc_cache_free(e->calc_cache);
        nft_backend_free(e->nft);
        free(e->nodename);
        free(e);
        return NULL;
}

/* The current snapshot: the last one while the datastore's view is the
 * same, else a new one. */
static int take_snapshot(Enforcer *e, Snapshot **ret) {
        uint64_t gen = datastore_view_generation(e->ds);
        const StoreEntry *entries;
        Snapshot *s;
        size_t n;

        if (e->snapshot && e->snapshot->view_generation == gen) {
                e->snapshot->n_ref++;
                *ret = e->snapshot;
                return 0;
        }
        datastore_entries(e->ds, &entries, &n);
        s = calloc(1, sizeof(Snapshot));
        if (!s)
                return -ENOMEM;
        s->v = new_array(n, sizeof(Resource *));
        if (!s->v) {
                free(s);
                return -ENOMEM;
        }
        s->n_ref = 1;
        s->view_generation = gen;
        for (size_t i = 0; i < n; i++)
                s->v[s->n++] = resource_ref(entries[i].res);
        *ret = s;
        return 0;
}

int enforcer_apply(Enforcer *e, const HostInterface *ifaces, size_t n_ifaces, char **ret_error) {
        _cleanup_(computation_done) Computation c = {};
        Snapshot *snap;
        int r;

        /* A full replace (the first commit, or after a reset) makes the
         * kernel validate the whole table anyway: settle everything. */
        if (!nft_backend_committed(e->nft))
                compile_cache_settle_next(e->compile_cache);
        uint64_t t0 = now_usec();
        r = take_snapshot(e, &snap);
        if (r < 0)
                return r;
        r = ruleset_compute(snap->v, snap->n, e->nodename, ifaces, n_ifaces, e->calc_cache, e->compile_cache, &c);
        if (r < 0) {
                snapshot_unref(snap);
                return r;
        }
        uint64_t t1 = now_usec();
        r = nft_backend_commit(e->nft, c.ruleset, ret_error);
        e->timings = (EnforcerTimings) { .compute_usec = t1 - t0,
                                         .commit_usec = now_usec() - t1,
                                         .kernel_usec = nft_backend_kernel_usec(e->nft),
                                         .sent = r > 0 };
        if (r < 0) {
                snapshot_unref(snap);
                return r;
        }
        c.ruleset = NULL; /* the backend owns it now */
        calc_free(e->calc);
        snapshot_unref(e->snapshot);
        e->calc = steal_ptr(c.calc);
        e->snapshot = snap;
        /* Beside what was committed, what the staged policies would make
         * of the same resources and interfaces: computed only when there
         * are some, so that a datastore without them pays nothing. */
        e->staged = ruleset_free(e->staged);
        if (resources_have_staged(snap->v, snap->n)) {
                StagedComputation s = {};

                /* Only memory can fail here: the commit stands, and the
                 * staged view is missing until the next one. */
                if (staged_compute(snap->v, snap->n, e->nodename, ifaces, n_ifaces, &s) >= 0) {
                        e->staged = steal_ptr(s.c.ruleset);
                        staged_computation_done(&s);
                }
        }
        return 0;
}

void enforcer_set_flow_logs(Enforcer *e, bool on) {
        compile_cache_set_flow_logs(e->compile_cache, on);
}

const Ruleset *enforcer_staged_ruleset(const Enforcer *e) {
        return e->staged;
}

void enforcer_settle_next(Enforcer *e) {
        compile_cache_settle_next(e->compile_cache);
}

const Calc *enforcer_calc(const Enforcer *e) {
        return e->calc;
}

EnforcerTimings enforcer_timings(const Enforcer *e) {
        return e->timings;
}

NftBackend *enforcer_backend(Enforcer *e) {
        return e->nft;
}
