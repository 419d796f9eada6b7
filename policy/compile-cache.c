/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What one compilation keeps for the next (CompileCache), so that an
 * interface event costs what changed, not the whole ruleset: policy and
 * profile chains compiled from the same objects, endpoint blocks compiled
 * from the same HEP, interfaces and policies, the address dispatch, and
 * the policy chains and sets taken whole while no HEP changed. compile.c
 * renders; this decides what it need not render again. With 1,000 HEPs a
 * hot-plug's compilation takes a fraction of a millisecond
 * (bench/bench-hotplug.c). */
#include <stdlib.h>
#include <string.h>

#include "compile-internal.h"
#include "setcache.h"

typedef struct CachedChain {
        char *name;          /* the map key: outlives the chains compiled under it */
        uint64_t name_hash;
        const Resource *res; /* the policy or profile it was compiled from (referenced), or NULL */
        uint64_t config;     /* verdict_config() it was compiled with (the Log rules' statement) */
        NftChain *chain;
        SetDeps deps;        /* the sets its rules use, as they were */
        uint64_t used;
} CachedChain;

/* The address dispatch as last built: its sets and chains (referenced) and
 * what it was built from, the endpoints matched by address (their infos,
 * referenced) with the hooks each has a chain for. */
typedef struct AddrDispatch {
        bool valid;
        EndpointInfo **infos;
        unsigned *hooks; /* bit f * _DIRECTION_MAX + d */
        size_t n;
        NftSet **sets; /* in the order they were added */
        size_t n_sets;
        NftChain *chains[_FLAVOUR_MAX][_DIRECTION_MAX];
} AddrDispatch;

struct CompileCache {
        SetCache *sets;
        StrMap chains; /* policy and profile chain name → CachedChain */
        CachedChain **list;
        size_t n, alloc;
        StrMap records; /* endpoint name → EndpointRecord: its block */
        EndpointRecord **record_list;
        size_t n_records, alloc_records;
        uintptr_t *shape; /* scratch for endpoint_shape() */
        size_t alloc_shape;
        /* The policy and profile chains and their sets, as the last
         * compilation that built them left them (referenced): the next one
         * takes them whole while no endpoint's policies and no HEP changed
         * (an interface came or went), without visiting each. */
        NftShared *shared; /* NULL: none kept */
        /* The calculation the last successful compilation was for: only
         * its direct successor (same CalcCache, next run) can share, since
         * the change list covers one run. */
        const CalcCache *last_calc_cache;
        uint64_t last_calc_gen;
        uint64_t last_verdict_config; /* verdict_config() of that calculation */
        uint64_t generation; /* of the compilation under way, or the last one */
        bool settle_next;
        AddrDispatch addr;
        KeptSets kept[_KEPT_MAX]; /* kept_sets_reuse() */
        unsigned ct_gen; /* the conntrack generation last compiled, 0 before any */
        Ruleset *last; /* what it was compiled into (a snapshot), or NULL */
        bool flow_logs; /* compile_cache_set_flow_logs() */
};

/* ---- policy and profile chains ---- */

const char *cached_chain_name(const CachedChain *cc) {
        return cc->name;
}

/* Chains of rules shared by every endpoint that uses them. */
static void cached_chain_clear(CachedChain *cc) {
        set_deps_done(&cc->deps);
        nft_chain_unref(cc->chain);
        cc->chain = NULL;
        resource_free((Resource *)cc->res);
        cc->res = NULL;
}

/* Puts a cached chain's sets into this ruleset; true if each is as empty
 * (or not), and of the same kind (so named the same), as when the chain
 * was compiled, so the chain is still right. */
static int deps_still_hold(Compiler *k, const CachedChain *cc) {
        for (size_t i = 0; i < cc->deps.n; i++) {
                const SetDep *d = &cc->deps.v[i];
                int r;

                switch (d->kind) {
                case DEP_LIST:
                        if (!ruleset_find_set_like(k->rs, d->list) &&
                            ruleset_add_shared_set(k->rs, d->list) < 0)
                                return -ENOMEM;
                        continue;
                case DEP_SELECTOR:
                case DEP_NAMED_PORT:
                        r = set_cache_use(k->cache->sets, k->calc, k->rs, d->set);
                        if (r < 0)
                                return r;
                        if (cached_set_empty(d->set, 4) != d->empty4 || cached_set_empty(d->set, 6) != d->empty6 ||
                            cached_set_has_nets(d->set, 4) != d->nets4 || cached_set_has_nets(d->set, 6) != d->nets6)
                                return 0;
                        continue;
                case _DEP_KIND_MAX:
                case _DEP_KIND_INVALID:
                        break;
                }
                return 0;
        }
        return 1;
}

static CachedChain *cache_chain_entry(Compiler *k, const char *cname) {
        CachedChain *cc = strmap_get(&k->cache->chains, cname), **v;

        if (cc)
                return cc;
        v = grow_array(k->cache->list, &k->cache->alloc, k->cache->n + 1, sizeof(CachedChain *));
        cc = calloc(1, sizeof(CachedChain));
        if (cc) {
                cc->name = strdup(cname);
                cc->name_hash = strmap_hash(cname);
        }
        if (!v || !cc || !cc->name || strmap_put_hashed(&k->cache->chains, cc->name, cc->name_hash, cc) < 0) {
                if (cc)
                        free(cc->name);
                free(cc);
                if (v)
                        k->cache->list = v;
                return NULL;
        }
        k->cache->list = v;
        k->cache->list[k->cache->n++] = cc;
        return cc;
}

/* Puts a policy's or profile's chain into this ruleset, once however many
 * endpoints jump to it: reused from the previous compilation when it was
 * compiled from the same object and its sets did not become empty or
 * non-empty; compiled otherwise. */
static int put_rules_chain(Compiler *k, CachedChain *cc, const Resource *res, const RuleList *rules) {
        NftChain *c;
        int r = 0;

        if (cc->used == k->cache->generation && cc->chain)
                return 0; /* already in this ruleset */
        if (cc->chain && cc->res == res && cc->config == verdict_config(k->calc, k->flow_logs)) {
                r = deps_still_hold(k, cc);
                if (r < 0)
                        return r;
                if (r > 0) {
                        cc->used = k->cache->generation;
                        return ruleset_add_shared_chain(k->rs, cc->chain);
                }
        }
        cached_chain_clear(cc);
        c = ruleset_add_chain(k->rs, cc->name, NULL);
        if (!c)
                return -ENOMEM;
        k->rules.recording = &cc->deps;
        r = rules_chain_fill(k, c, res, rules);
        k->rules.recording = NULL;
        if (r < 0)
                return r;
        set_deps_trim(&cc->deps); /* kept as long as the policy: no spare room */
        cc->chain = nft_chain_ref(c);
        cc->res = resource_ref((Resource *)res);
        cc->config = verdict_config(k->calc, k->flow_logs);
        cc->used = k->cache->generation;
        return 0;
}

int cache_rules_chain(Compiler *k, const char *prefix, const char *name, const Resource *res,
                      const RuleList *rules, ChainTarget *ret) {
        char buf[OBJECT_NAME_MAX];
        CachedChain *cc = cache_chain_entry(k, object_name_buf(prefix, name, buf));

        if (!cc)
                return -ENOMEM;
        *ret = (ChainTarget) { cc, res, rules };
        return put_rules_chain(k, cc, res, rules);
}

/* ---- endpoint blocks ---- */

/* What an endpoint's block was compiled from, so that the next compilation
 * can take the block as it is when nothing it depends on changed: the same
 * EndpointInfo (the same HEP and profile objects), the same interface names
 * and, flavour by flavour, the same tiers and policy objects in the same
 * order (its shape). The policy objects of the shape are referenced, so
 * that their addresses are not reused while compared. */
struct EndpointRecord {
        char *name;
        uint64_t name_hash;
        EndpointInfo *info;
        uintptr_t *shape;
        size_t n_shape;
        Resource **refs;
        size_t n_refs;
        ChainTarget *targets; /* in the order plan_endpoint() visits them */
        size_t n_targets;
        char **ifnames;
        size_t n_ifnames;
        bool *settled; /* per ifname: in the dispatch maps (else in the address dispatch sets) */
        size_t n_unsettled;
        NftChain *chains[_FLAVOUR_MAX][_DIRECTION_MAX]; /* the block's, with their plans' signatures */
        uint64_t signatures[_FLAVOUR_MAX][_DIRECTION_MAX];
        NftBlock *block;
        uint64_t used;
};

static void record_clear(EndpointRecord *rec) {
        endpoint_info_unref(rec->info);
        rec->info = NULL;
        for (size_t i = 0; i < rec->n_refs; i++)
                resource_free(rec->refs[i]);
        rec->refs = mfree_ptr(rec->refs);
        rec->n_refs = 0;
        rec->shape = mfree_ptr(rec->shape);
        rec->n_shape = 0;
        rec->targets = mfree_ptr(rec->targets);
        rec->n_targets = 0;
        strv_free_n(rec->ifnames, rec->n_ifnames);
        rec->ifnames = NULL;
        rec->n_ifnames = 0;
        rec->settled = mfree_ptr(rec->settled);
        rec->n_unsettled = 0;
        nft_block_unref(rec->block);
        rec->block = NULL;
        memset(rec->chains, 0, sizeof(rec->chains));
}

static void record_free(EndpointRecord *rec) {
        record_clear(rec);
        free(rec->name);
        free(rec);
}

/* The endpoint's orders flattened into words, into the cache's scratch. */
static int endpoint_shape(Compiler *k, const Endpoint *e, size_t *ret_n) {
        CompileCache *c = k->cache;
        size_t n = 0;

#define WORD(x)                                                                                            \
        do {                                                                                               \
                uintptr_t *_v = grow_array(c->shape, &c->alloc_shape, n + 1, sizeof(uintptr_t));           \
                if (!_v)                                                                                   \
                        return -ENOMEM;                                                                    \
                c->shape = _v;                                                                             \
                _v[n++] = (uintptr_t)(x);                                                                  \
        } while (0)
        for (int f = 0; f < _FLAVOUR_MAX; f++)
                for (int d = 0; d < _DIRECTION_MAX; d++) {
                        const PolicyOrder *o = endpoint_order(e, (Flavour)f, (Direction)d);
                        WORD(o->n_tiers);
                        for (size_t t = 0; t < o->n_tiers; t++) {
                                const TierPolicies *tier = &o->tiers[t];
                                /* Not the Tier object: the chains depend on its name (a policy's
                                 * field) and default action only. */
                                WORD(tier->tier_name);
                                WORD(tier->end_of_tier_drop);
                                WORD(tier->n_policies);
                                for (size_t i = 0; i < tier->n_policies; i++)
                                        WORD(tier->policies[i]);
                        }
                }
#undef WORD
        *ret_n = n;
        return 0;
}

static bool record_same_shape(const EndpointRecord *rec, const uintptr_t *shape, size_t n_shape) {
        return rec->n_shape == n_shape && memcmp(rec->shape, shape, n_shape * sizeof(uintptr_t)) == 0;
}

static bool record_matches(const EndpointRecord *rec, const Endpoint *e, const uintptr_t *shape, size_t n_shape) {
        if (rec->info != e->info || rec->n_ifnames != e->n_ifnames)
                return false;
        for (size_t i = 0; i < e->n_ifnames; i++)
                if (!streq(rec->ifnames[i], e->ifnames[i]))
                        return false;
        return record_same_shape(rec, shape, n_shape);
}

/* References to the policies of the endpoint's orders (whose fields its
 * shape points into). */
static int record_take_refs(EndpointRecord *rec, const Endpoint *e) {
        size_t n = 0, alloc = 0;

        for (int f = 0; f < _FLAVOUR_MAX; f++)
                for (int d = 0; d < _DIRECTION_MAX; d++) {
                        const PolicyOrder *o = endpoint_order(e, (Flavour)f, (Direction)d);
                        for (size_t t = 0; t < o->n_tiers; t++) {
                                const TierPolicies *tier = &o->tiers[t];
                                for (size_t i = 0; i < tier->n_policies; i++) {
                                        const Resource *res = tier->policies[i];
                                        Resource **v = grow_array(rec->refs, &alloc, n + 1, sizeof(Resource *));
                                        if (!v)
                                                return -ENOMEM;
                                        rec->refs = v;
                                        v[n] = resource_ref((Resource *)res);
                                        rec->n_refs = ++n;
                                }
                        }
                }
        return 0;
}

static EndpointRecord *record_entry(Compiler *k, const Endpoint *e) {
        CompileCache *c = k->cache;
        EndpointRecord *rec = strmap_get_hashed(&c->records, e->name, e->info->name_hash), **v;

        if (rec)
                return rec;
        v = grow_array(c->record_list, &c->alloc_records, c->n_records + 1, sizeof(EndpointRecord *));
        if (!v)
                return NULL;
        c->record_list = v;
        rec = calloc(1, sizeof(EndpointRecord));
        if (!rec)
                return NULL;
        rec->name = strdup(e->name);
        rec->name_hash = e->info->name_hash;
        if (!rec->name || strmap_put_hashed(&c->records, rec->name, rec->name_hash, rec) < 0) {
                free(rec->name);
                free(rec);
                return NULL;
        }
        v[c->n_records++] = rec;
        return rec;
}

/* The block as last compiled is still right: put the policy and profile
 * chains it jumps to into this ruleset (a policy's own chain may have to
 * be recompiled: its name, all the block refers to, stays), then it. */
static int reuse_block(Compiler *k, EndpointRecord *rec) {
        for (size_t i = 0; i < rec->n_targets; i++) {
                const ChainTarget *t = &rec->targets[i];
                int r = t->cc ? put_rules_chain(k, t->cc, t->res, t->rules) : 0;
                if (r < 0)
                        return r;
        }
        rec->used = k->cache->generation;
        return ruleset_add_block(k->rs, rec->block);
}

/* Whether the block as recorded can stay: not while this compilation
 * settles interfaces it has in the address dispatch sets. */
static bool record_settled_enough(const Compiler *k, const EndpointRecord *rec) {
        return !k->settle || rec->n_unsettled == 0;
}

/* Whether ifname was in the dispatch maps in the record's block. */
static bool record_settled(const EndpointRecord *rec, const char *ifname) {
        for (size_t i = 0; rec->settled && i < rec->n_ifnames; i++)
                if (streq(rec->ifnames[i], ifname))
                        return rec->settled[i];
        return false;
}

/* How each interface of the endpoint is dispatched: through the maps when
 * matched by name, or once settled; through the address dispatch sets
 * when bound by address since the last settling. */
int plan_dispatch(const Compiler *k, const EndpointRecord *rec, const Endpoint *e, BlockChains *bc) {
        bool by_address = endpoint_by_address(e);

        bc->settled = new_array(e->n_ifnames ? e->n_ifnames : 1, sizeof(bool));
        if (!bc->settled)
                return -ENOMEM;
        bc->n_unsettled = 0;
        for (size_t i = 0; i < e->n_ifnames; i++) {
                bc->settled[i] = !by_address || k->settle || record_settled(rec, e->ifnames[i]);
                bc->n_unsettled += !bc->settled[i];
        }
        return 0;
}

/* One chain of a new block: the record's previous one if its plan is the
 * same (a policy object replaced by an edit still has the same name),
 * else built. */
int block_chain(Compiler *k, const EndpointRecord *rec, NftBlock *b, const Endpoint *e, Flavour f, Direction d,
                ChainPlan *plan, BlockChains *out) {
        char buf[OBJECT_NAME_MAX];
        uint64_t signature;
        size_t first;
        NftChain *c;
        int r;

        if (k->sharing) {
                /* The same policies: the same chain, its targets in place. */
                if (!rec->chains[f][d])
                        return -EINVAL; /* cannot be, with the same shape */
                out->chains[f][d] = rec->chains[f][d];
                out->signatures[f][d] = rec->signatures[f][d];
                return block_add_chain(b, rec->chains[f][d]);
        }
        first = plan->n;
        r = plan_endpoint(k, e, f, d, plan, &signature);
        if (r < 0)
                return r;
        if (rec->chains[f][d] && rec->signatures[f][d] == signature)
                c = nft_chain_ref(rec->chains[f][d]);
        else {
                c = nft_chain_new(object_name_buf(flavour_chain_prefix[f][d], e->name, buf), NULL);
                if (!c)
                        return -ENOMEM;
                /* No targets planned: plan->targets may be NULL, and NULL + 0 is undefined. */
                r = build_endpoint_chain(k->calc, k->flow_logs, c, e, f, d, plan->n > first ? plan->targets + first : NULL);
                if (r < 0) {
                        nft_chain_unref(c);
                        return r;
                }
        }
        r = block_add_chain(b, c);
        nft_chain_unref(c); /* the block holds it */
        if (r < 0)
                return r;
        out->chains[f][d] = c;
        out->signatures[f][d] = signature;
        return 0;
}

/* Records what the new block (now in the ruleset) was compiled from. */
static int record_update(Compiler *k, EndpointRecord *rec, const Endpoint *e, NftBlock *b, BlockChains *bc,
                         ChainPlan *plan, size_t n_shape) {
        int r;

        record_clear(rec);
        memcpy(rec->chains, bc->chains, sizeof(bc->chains));
        memcpy(rec->signatures, bc->signatures, sizeof(bc->signatures));
        rec->settled = steal_ptr(bc->settled);
        rec->n_unsettled = bc->n_unsettled;
        rec->block = nft_block_ref(b);
        rec->info = endpoint_info_ref(e->info);
        rec->targets = steal_ptr(plan->targets);
        rec->n_targets = plan->n;
        rec->shape = new_array(n_shape, sizeof(uintptr_t));
        rec->ifnames = new_array(e->n_ifnames, sizeof(char *));
        if (!rec->shape || !rec->ifnames)
                goto fail;
        memcpy(rec->shape, k->cache->shape, n_shape * sizeof(uintptr_t));
        rec->n_shape = n_shape;
        for (size_t i = 0; i < e->n_ifnames; i++) {
                rec->ifnames[i] = strdup(e->ifnames[i]);
                if (!rec->ifnames[i])
                        goto fail;
                rec->n_ifnames = i + 1;
        }
        r = record_take_refs(rec, e);
        if (r < 0)
                goto fail;
        rec->used = k->cache->generation;
        return 0;
fail:
        /* Matches nothing next time: the block is built again. */
        record_clear(rec);
        return -ENOMEM;
}

/* Only the endpoint's interfaces changed: a new block with the same chains,
 * and the record otherwise as it was. */
static int rebuild_block_elements(Compiler *k, EndpointRecord *rec, const Endpoint *e) {
        NftBlock *b = NULL;
        BlockChains bc = {};
        char **ifnames = new_array(e->n_ifnames, sizeof(char *));
        size_t n = 0;
        int r;

        if (!ifnames)
                return -ENOMEM;
        r = build_block(k, rec, e, NULL, &b, &bc); /* the record's chains, in the new block */
        for (; r >= 0 && n < e->n_ifnames; n++)
                if (!(ifnames[n] = strdup(e->ifnames[n])))
                        r = -ENOMEM;
        if (r >= 0)
                r = ruleset_add_block(k->rs, b);
        if (r < 0) {
                strv_free_n(ifnames, n);
                free(bc.settled);
                nft_block_unref(b);
                return r;
        }
        strv_free_n(rec->ifnames, rec->n_ifnames);
        rec->ifnames = ifnames;
        rec->n_ifnames = e->n_ifnames;
        free(rec->settled);
        rec->settled = bc.settled;
        rec->n_unsettled = bc.n_unsettled;
        nft_block_unref(rec->block);
        rec->block = b;
        rec->used = k->cache->generation;
        return 0;
}

/* A new block, into this ruleset and the record (n_shape: its shape's
 * length, in the cache's scratch). */
static int build_and_record_block(Compiler *k, EndpointRecord *rec, const Endpoint *e, size_t n_shape) {
        ChainPlan plan = {};
        NftBlock *b = NULL;
        BlockChains bc = {};
        int r;

        r = build_block(k, rec, e, &plan, &b, &bc);
        if (r >= 0)
                r = ruleset_add_block(k->rs, b);
        if (r >= 0)
                r = record_update(k, rec, e, b, &bc, &plan, n_shape);
        free(bc.settled); /* unless the record took it */
        nft_block_unref(b);
        free(plan.targets);
        return r;
}

/* The endpoint's block as it was whenever it can be, as cheaply as can
 * be known: most endpoints take this path at every hot-plug. */
static int compile_endpoint_block(Compiler *k, EndpointRecord *rec, const Endpoint *e, size_t index) {
        size_t n_shape;
        int r;

        if (k->sharing && k->full[index]) {
                rec->used = k->cache->generation;
                return ruleset_add_block(k->rs, rec->block);
        }
        if (k->sharing)
                return rebuild_block_elements(k, rec, e);
        /* Found unchanged while looking for a chance to share. */
        if (k->recs && k->recs[index] == rec && k->full[index])
                return reuse_block(k, rec);
        r = endpoint_shape(k, e, &n_shape);
        if (r < 0)
                return r;
        if (rec->block && record_matches(rec, e, k->cache->shape, n_shape) && record_settled_enough(k, rec))
                return reuse_block(k, rec);
        return build_and_record_block(k, rec, e, n_shape);
}

static int compile_endpoint(Compiler *k, const Endpoint *e, size_t index) {
        EndpointRecord *rec = k->sharing ? k->recs[index] : record_entry(k, e);
        int r;

        if (!rec)
                return -ENOMEM;
        r = compile_endpoint_block(k, rec, e, index);
        if (r >= 0)
                k->rs->n_unsettled += rec->n_unsettled;
        return r;
}

/* The loop is here, and the building apart from the cheap paths, so that
 * an unchanged endpoint costs no call from compile.c and no zeroed plan:
 * with a thousand endpoints those cost a hot-plug's compilation 5% more
 * instructions than before the split (bench-hotplug under callgrind);
 * now 0.3%. */
int compile_endpoints(Compiler *k) {
        const Calc *calc = k->calc;
        int r = 0;

        for (size_t i = 0; r >= 0 && i < calc->n_endpoints; i++)
                if (endpoint_compiled(calc, &calc->endpoints[i]))
                        r = compile_endpoint(k, &calc->endpoints[i], i);
        return r;
}

/* ---- sharing the policy chains whole ---- */

static void shared_drop(CompileCache *c) {
        nft_shared_unref(c->shared);
        c->shared = NULL;
}

/* Keeps rs's chains and sets from the given positions on: what the
 * endpoints' blocks jump to and match against. */
static int shared_keep(CompileCache *c, const Ruleset *rs, size_t chains_from, size_t sets_from) {
        shared_drop(c);
        /* (NULL + 0 is undefined: an empty ruleset has no arrays.) */
        c->shared = nft_shared_new(rs->n_chains > chains_from ? rs->chains + chains_from : NULL,
                                   rs->n_chains - chains_from, rs->n_sets > sets_from ? rs->sets + sets_from : NULL,
                                   rs->n_sets - sets_from);
        return c->shared ? 0 : -ENOMEM;
}

/* Whether this compilation can take the shared chains and sets: no HEP's
 * labels, addresses or ports changed and no network set did (so no set
 * did), and the endpoints compiled are those of last time, each with the
 * same EndpointInfo and the same policy objects in the same order (so the
 * same chains are jumped to, compiled from the same objects). Fills
 * k->recs and k->full. */
static int plan_sharing(Compiler *k) {
        const Calc *calc = k->calc;
        CompileCache *c = k->cache;
        size_t matched = 0, n_shape;
        int r;

        k->sharing = false;
        if (!c->shared || !calc->cache || calc->cache != c->last_calc_cache ||
            calc->cache->generation != c->last_calc_gen + 1 || calc->cache->n_changed || calc->cache->netsets_changed ||
            verdict_config(calc, k->flow_logs) != c->last_verdict_config)
                return 0;
        k->recs = new_array(calc->n_endpoints, sizeof(EndpointRecord *));
        k->full = new_array(calc->n_endpoints, sizeof(bool));
        if (!k->recs || !k->full)
                return -ENOMEM;
        for (size_t i = 0; i < calc->n_endpoints; i++) {
                const Endpoint *e = &calc->endpoints[i];
                EndpointRecord *rec;
                if (!endpoint_compiled(calc, e))
                        continue;
                rec = strmap_get_hashed(&c->records, e->name, e->info->name_hash);
                if (!rec || !rec->block || rec->info != e->info)
                        return 0;
                r = endpoint_shape(k, e, &n_shape);
                if (r < 0)
                        return r;
                if (!record_same_shape(rec, c->shape, n_shape))
                        return 0;
                for (int f = 0; f < _FLAVOUR_MAX; f++)
                        for (int d = 0; d < _DIRECTION_MAX; d++)
                                if (endpoint_has_flavour(e, (Flavour)f, (Direction)d) && !rec->chains[f][d])
                                        return 0;
                k->recs[i] = rec;
                k->full[i] = record_matches(rec, e, c->shape, n_shape) && record_settled_enough(k, rec);
                matched++;
        }
        k->sharing = matched == c->n_records;
        return 0;
}

int compile_cache_share(Compiler *k) {
        int r = plan_sharing(k);

        if (r >= 0 && k->sharing)
                r = ruleset_add_shared_group(k->rs, k->cache->shared);
        return r;
}

/* ---- the address dispatch ---- */

/* The hooks whose address dispatch chain tries the endpoint's set (bit
 * f * _DIRECTION_MAX + d): what the chains were built from, with the
 * endpoints themselves. */
static unsigned endpoint_hooks(const Endpoint *e) {
        unsigned bits = 0;

        for (int f = 0; f < _FLAVOUR_MAX; f++)
                for (int d = 0; d < _DIRECTION_MAX; d++)
                        if (flavour_addr_chain[f][d] && endpoint_has_flavour(e, (Flavour)f, (Direction)d))
                                bits |= 1u << (f * _DIRECTION_MAX + d);
        return bits;
}

static void addr_dispatch_clear(AddrDispatch *a) {
        for (size_t i = 0; i < a->n; i++)
                endpoint_info_unref(a->infos[i]);
        for (size_t i = 0; i < a->n_sets; i++)
                nft_set_unref(a->sets[i]);
        for (int f = 0; f < _FLAVOUR_MAX; f++)
                for (int d = 0; d < _DIRECTION_MAX; d++)
                        nft_chain_unref(a->chains[f][d]);
        free(a->infos);
        free(a->hooks);
        free(a->sets);
        *a = (AddrDispatch) {};
}

/* Whether the endpoints matched by address are those it was built from. */
static bool addr_dispatch_current(const AddrDispatch *a, const Calc *calc) {
        size_t k = 0;

        if (!a->valid)
                return false;
        for (size_t i = 0; i < calc->n_endpoints; i++) {
                const Endpoint *e = &calc->endpoints[i];
                if (!dispatched_by_address(calc, e))
                        continue;
                if (k >= a->n || a->infos[k] != e->info || a->hooks[k] != endpoint_hooks(e))
                        return false;
                k++;
        }
        return k == a->n;
}

/* Keeps what this compilation built (the sets from position sets_from of
 * the ruleset), for the next one. */
static int addr_dispatch_save(Compiler *k, AddrDispatch *a, size_t sets_from) {
        const Calc *calc = k->calc;
        size_t n = 0;

        addr_dispatch_clear(a);
        for (size_t i = 0; i < calc->n_endpoints; i++)
                n += dispatched_by_address(calc, &calc->endpoints[i]);
        a->infos = new_array(n, sizeof(EndpointInfo *));
        a->hooks = new_array(n, sizeof(unsigned));
        a->sets = new_array(k->rs->n_sets - sets_from, sizeof(NftSet *));
        if (!a->infos || !a->hooks || !a->sets) {
                addr_dispatch_clear(a);
                return -ENOMEM;
        }
        for (size_t i = 0; i < calc->n_endpoints; i++) {
                const Endpoint *e = &calc->endpoints[i];
                if (!dispatched_by_address(calc, e))
                        continue;
                a->infos[a->n] = endpoint_info_ref(e->info);
                a->hooks[a->n++] = endpoint_hooks(e);
        }
        for (size_t i = sets_from; i < k->rs->n_sets; i++)
                a->sets[a->n_sets++] = nft_set_ref(k->rs->sets[i]);
        for (int f = 0; f < _FLAVOUR_MAX; f++)
                for (int d = 0; d < _DIRECTION_MAX; d++)
                        if (k->addr_dispatch[f][d])
                                a->chains[f][d] = nft_chain_ref(ruleset_find_chain(k->rs, flavour_addr_chain[f][d]));
        a->valid = true;
        return 0;
}

/* The address dispatch as kept: the same objects, into this ruleset. */
static int addr_dispatch_put(Compiler *k, const AddrDispatch *a) {
        int r = 0;

        for (size_t i = 0; r >= 0 && i < a->n_sets; i++)
                r = ruleset_add_shared_set(k->rs, a->sets[i]);
        for (int f = 0; r >= 0 && f < _FLAVOUR_MAX; f++)
                for (int d = 0; r >= 0 && d < _DIRECTION_MAX; d++)
                        if (a->chains[f][d]) {
                                r = ruleset_add_shared_chain(k->rs, a->chains[f][d]);
                                k->addr_dispatch[f][d] = true;
                        }
        return r;
}

int addr_dispatch_reuse(Compiler *k) {
        AddrDispatch *a = &k->cache->addr;
        int r;

        if (!addr_dispatch_current(a, k->calc))
                return 0;
        r = addr_dispatch_put(k, a);
        return r < 0 ? r : 1;
}

void addr_dispatch_keep(Compiler *k, size_t sets_from) {
        /* Without memory to keep it, the next compilation builds it again. */
        (void)addr_dispatch_save(k, &k->cache->addr, sets_from);
}

/* ---- groups of sets kept by signature ---- */

static void kept_sets_clear(KeptSets *g) {
        for (size_t i = 0; i < g->n; i++)
                nft_set_unref(g->sets[i]);
        *g = (KeptSets) {};
}

int kept_sets_reuse(Compiler *k, KeptGroup which, uint64_t signature) {
        KeptSets *g = &k->cache->kept[which];
        int r = 0;

        if (!g->valid || g->signature != signature)
                return 0;
        for (size_t i = 0; r >= 0 && i < g->n; i++)
                r = ruleset_add_shared_set(k->rs, g->sets[i]);
        return r < 0 ? r : 1;
}

void kept_sets_keep(Compiler *k, KeptGroup which, uint64_t signature, size_t sets_from) {
        KeptSets *g = &k->cache->kept[which];
        size_t n = k->rs->n_sets - sets_from;

        kept_sets_clear(g);
        /* Without room to keep them, the next compilation builds them again. */
        if (n > ELEMENTSOF(g->sets))
                return;
        for (size_t i = 0; i < n; i++)
                g->sets[g->n++] = nft_set_ref(k->rs->sets[sets_from + i]);
        g->signature = signature;
        g->valid = true;
}

/* ---- one compilation ---- */

CompileCache *compile_cache_new(void) {
        CompileCache *c = calloc(1, sizeof(CompileCache));

        if (c) {
                c->sets = set_cache_new();
                if (!c->sets) {
                        free(c);
                        return NULL;
                }
        }
        return c;
}

void compile_cache_set_flow_logs(CompileCache *c, bool on) {
        c->flow_logs = on;
}

bool compile_cache_flow_logs(const CompileCache *c) {
        return c && c->flow_logs;
}

void compile_cache_settle_next(CompileCache *c) {
        c->settle_next = true;
}

CompileCache *compile_cache_free(CompileCache *c) {
        if (!c)
                return NULL;
        for (size_t i = 0; i < c->n; i++) {
                cached_chain_clear(c->list[i]);
                free(c->list[i]->name);
                free(c->list[i]);
        }
        free(c->list);
        strmap_done(&c->chains);
        for (size_t i = 0; i < c->n_records; i++)
                record_free(c->record_list[i]);
        free(c->record_list);
        strmap_done(&c->records);
        free(c->shape);
        shared_drop(c);
        addr_dispatch_clear(&c->addr);
        for (int i = 0; i < _KEPT_MAX; i++)
                kept_sets_clear(&c->kept[i]);
        set_cache_free(c->sets);
        ruleset_free(c->last);
        free(c);
        return NULL;
}

/* Forgets chains this compilation did not use. */
static bool cached_chain_stale(const CompileCache *c, const CachedChain *cc) {
        return cc->used != c->generation || !cc->chain;
}

static void sweep_records(CompileCache *c) {
        size_t k = 0;
        bool any = false;

        for (size_t i = 0; i < c->n_records && !any; i++)
                any = c->record_list[i]->used != c->generation;
        if (!any)
                return;
        strmap_done(&c->records);
        (void)strmap_reserve(&c->records, c->n_records);
        for (size_t i = 0; i < c->n_records; i++) {
                EndpointRecord *rec = c->record_list[i];
                if (rec->used != c->generation) {
                        record_free(rec);
                        continue;
                }
                c->record_list[k++] = rec;
                (void)strmap_put_hashed(&c->records, rec->name, rec->name_hash, rec);
        }
        c->n_records = k;
}

/* Drops the chains and blocks this compilation did not use (a record kept
 * was used, so were the chains it refers to). The indexes are rebuilt only
 * when something went (often nothing does: a hot-plug only changes a
 * block), with the names' hashes kept from before. */
static void compile_cache_sweep(CompileCache *c) {
        size_t k = 0;
        bool any = false;

        sweep_records(c);
        for (size_t i = 0; i < c->n && !any; i++)
                any = cached_chain_stale(c, c->list[i]);
        if (any) {
                strmap_done(&c->chains);
                (void)strmap_reserve(&c->chains, c->n);
                for (size_t i = 0; i < c->n; i++) {
                        CachedChain *cc = c->list[i];
                        if (cached_chain_stale(c, cc)) {
                                cached_chain_clear(cc);
                                free(cc->name);
                                free(cc);
                                continue;
                        }
                        c->list[k++] = cc;
                        (void)strmap_put_hashed(&c->chains, cc->name, cc->name_hash, cc);
                }
                c->n = k;
        }
        set_cache_sweep(c->sets);
}

int compile_cache_begin(Compiler *k) {
        CompileCache *c = k->cache;

        k->rules.sets = c->sets;
        k->settle = c->settle_next;
        c->settle_next = false;
        /* A new generation for each compilation, failed ones included:
         * "used in this one" must never be left over from another. */
        c->generation++;
        set_cache_begin(c->sets);
        return 0;
}

int compile_cache_end(Compiler *k, int r, size_t chains_from, size_t sets_from) {
        CompileCache *c = k->cache;
        const Calc *calc = k->calc;

        k->recs = mfree_ptr(k->recs);
        k->full = mfree_ptr(k->full);
        if (r < 0) {
                /* Records may now describe chains the shared ones lack. */
                shared_drop(c);
                return r;
        }
        /* Without memory to keep them, the next compilation builds all. */
        if (!k->sharing && shared_keep(c, k->rs, chains_from, sets_from) < 0)
                shared_drop(c);
        c->last_calc_cache = calc->cache;
        c->last_calc_gen = calc->cache ? calc->cache->generation : 0;
        c->last_verdict_config = verdict_config(calc, k->flow_logs);
        if (k->sharing) {
                /* Nothing was built: nothing can have gone but blocks. */
                sweep_records(c);
                set_cache_keep_all(c->sets, calc);
        } else
                compile_cache_sweep(c);
        return 0;
}

/* ---- the conntrack generation ---- */

void compile_cache_continue_ct_generation(CompileCache *c, unsigned gen) {
        if (!c->last)
                c->ct_gen = gen % (CT_GEN_MAX + 1);
}

unsigned compile_cache_ct_generation(Compiler *k) {
        CompileCache *c = k->cache;

        if (!c->last || ruleset_adds_to(c->last, k->rs, CT_PREFIX, OWN_IFNAMES))
                c->ct_gen = c->ct_gen % CT_GEN_MAX + 1;
        return c->ct_gen;
}

void compile_cache_ct_keep(Compiler *k) {
        CompileCache *c = k->cache;

        /* Without memory for it, the next compilation takes a new generation. */
        ruleset_free(c->last);
        c->last = ruleset_snapshot(k->rs);
}
