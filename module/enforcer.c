/* Calculation → ruleset → kernel; see enforcer.h. */
#include "enforcer.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "compile.h"

struct Enforcer {
        EnforcerTimings timings;
        Datastore *ds; /* borrowed */
        char *nodename;
        NftBackend *nft;
        CalcCache *calc_cache;     /* what the next calculation can reuse */
        CompileCache *compile_cache;
        Calc *calc;
        Resource **snapshot; /* the resources calc borrows */
        size_t n_snapshot;
};

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
        *ret = steal_ptr(e);
        return 0;
}

static void snapshot_free(Resource **v, size_t n) {
        for (size_t i = 0; i < n; i++)
                resource_free(v[i]);
        free(v);
}

Enforcer *enforcer_free(Enforcer *e) {
        if (!e)
                return NULL;
        calc_free(e->calc);
        snapshot_free(e->snapshot, e->n_snapshot);
        compile_cache_free(e->compile_cache);
        calc_cache_free(e->calc_cache);
        nft_backend_free(e->nft);
        free(e->nodename);
        free(e);
        return NULL;
}

/* References to the datastore's resources (never changed once loaded),
 * so the calculation stays valid whatever the datastore does next. */
static int take_snapshot(Enforcer *e, Resource ***ret, size_t *ret_n) {
        const StoreEntry *entries;
        Resource **v;
        size_t n;

        datastore_entries(e->ds, &entries, &n);
        v = new_array(n, sizeof(Resource *));
        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                v[i] = resource_ref(entries[i].res);
        *ret = v;
        *ret_n = n;
        return 0;
}

static int compute(Enforcer *e, const HostInterface *ifaces, size_t n_ifaces, Calc **ret_calc, Resource ***ret_snap,
                   size_t *ret_n, Ruleset **ret_rs) {
        Resource **snap;
        Calc *c = NULL;
        size_t n;
        int r;

        r = take_snapshot(e, &snap, &n);
        if (r < 0)
                return r;
        r = calc_run(snap, n, e->nodename, ifaces, n_ifaces, e->calc_cache, &c);
        if (r >= 0)
                r = ruleset_compile(c, e->compile_cache, ret_rs);
        if (r < 0) {
                calc_free(c);
                snapshot_free(snap, n);
                return r;
        }
        *ret_calc = c;
        *ret_snap = snap;
        *ret_n = n;
        return 0;
}

int enforcer_preview(Enforcer *e, const HostInterface *ifaces, size_t n_ifaces, Ruleset **ret) {
        Resource **snap;
        Calc *c;
        size_t n;
        int r = compute(e, ifaces, n_ifaces, &c, &snap, &n, ret);

        if (r < 0)
                return r;
        calc_free(c);
        snapshot_free(snap, n);
        return 0;
}

int enforcer_apply(Enforcer *e, const HostInterface *ifaces, size_t n_ifaces, char **ret_error) {
        _cleanup_(ruleset_freep) Ruleset *rs = NULL;
        Resource **snap;
        Calc *c;
        size_t n;
        int r;

        uint64_t t0 = now_usec();
        r = compute(e, ifaces, n_ifaces, &c, &snap, &n, &rs);
        if (r < 0)
                return r;
        uint64_t t1 = now_usec();
        r = nft_backend_commit(e->nft, rs, ret_error);
        e->timings = (EnforcerTimings) { .compute_usec = t1 - t0, .commit_usec = now_usec() - t1 };
        if (r < 0) {
                calc_free(c);
                snapshot_free(snap, n);
                return r;
        }
        rs = NULL; /* the backend owns it now */
        calc_free(e->calc);
        snapshot_free(e->snapshot, e->n_snapshot);
        e->calc = c;
        e->snapshot = snap;
        e->n_snapshot = n;
        return 0;
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
