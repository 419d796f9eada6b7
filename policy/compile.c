/* The calculation compiled to nftables, the way Felix renders it for
 * iptables (felix/rules: static.go, endpoints.go, policy.go, dispatch.go)
 * but in nftables' own terms: verdict maps dispatch on interface names (one
 * lookup per packet; an interface bound by address goes through sets for
 * its first second, see flavour_addr_chain), sets hold selector IPs and
 * named ports, and each policy and profile is one chain shared by every
 * endpoint that uses it.
 *
 * Where a packet's verdict is decided:
 *   base chain (hook) → dispatch map, or, for an interface bound by address
 *   and not settled yet, the address dispatch chain → endpoint chain
 *   ep-*.<HEP> → per tier: policy chains pol-in/out.<GNP> → profiles
 *   pro-in/out.<name>.
 * Policy chains speak through three packet-mark bits, as Felix's do:
 * Allow sets ACCEPT, Deny sets DROP, Pass sets PASS, then return; the
 * endpoint chain acts on them and counts its verdicts. */
#include "compile.h"

#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile-rule.h"
#include "setcache.h"
#include "strbuf.h"

#define CLEAR_ALL "meta mark set meta mark & 0xfff8ffff"
#define CLEAR_PASS_DROP "meta mark set meta mark & 0xfff9ffff"
#define IF_ACCEPT "meta mark & " MARK_ACCEPT " != 0"
#define IF_DROP "meta mark & " MARK_DROP " != 0"
#define IF_NOT_PASSED "meta mark & " MARK_PASS " == 0"
#define IF_UNDECIDED "meta mark & 0x00070000 == 0"
#define SET_ACCEPT "meta mark set meta mark | " MARK_ACCEPT
/* IPv6 neighbour discovery and MLD always pass (our decision 10). */
#define ALLOW_ND "icmpv6 type @nd-types accept"

static const char *const flavour_chain_prefix[_FLAVOUR_MAX][_DIRECTION_MAX] = {
        [FLAVOUR_NORMAL] = { "ep-in", "ep-out" },
        [FLAVOUR_FORWARD] = { "ep-fwd-in", "ep-fwd-out" },
        [FLAVOUR_PREDNAT] = { "ep-prednat", NULL },
        [FLAVOUR_UNTRACKED] = { "ep-raw-in", "ep-raw-out" },
};

static const char *const flavour_map[_FLAVOUR_MAX][_DIRECTION_MAX] = {
        [FLAVOUR_NORMAL] = { "disp-in", "disp-out" },
        [FLAVOUR_FORWARD] = { "disp-fwd-in", "disp-fwd-out" },
        [FLAVOUR_PREDNAT] = { "disp-prednat", NULL },
        [FLAVOUR_UNTRACKED] = { "disp-raw-in", "disp-raw-out" },
};

/* HEPs matched by expectedIPs are bound at an address event, on the path
 * whose latency matters. Adding a map element that jumps makes the kernel
 * validate every rule reachable from the hooks again (milliseconds on a
 * large ruleset), while a plain set element costs nothing of the kind. So
 * an interface bound by address goes first into sets: its endpoint's own
 * (ep-ifs.<HEP>) and addr-ifnames; a chain per hook tries each such
 * endpoint's set in turn, for the packets of those interfaces only. The
 * endpoints' chains, and these rules, exist before any interface is bound
 * (state waiting). That costs a set lookup per such endpoint per packet,
 * so once the interfaces are quiet the plugin asks for a compilation that
 * settles them (compile_cache_settle_next): they move to the dispatch
 * maps, one lookup per packet, in a commit off the path of any event. */
static const char *const flavour_addr_chain[_FLAVOUR_MAX][_DIRECTION_MAX] = {
        [FLAVOUR_NORMAL] = { "disp-addr-in", "disp-addr-out" },
        [FLAVOUR_FORWARD] = { "disp-addr-fwd-in", "disp-addr-fwd-out" },
        [FLAVOUR_PREDNAT] = { "disp-addr-prednat", NULL },
        [FLAVOUR_UNTRACKED] = { "disp-addr-raw-in", "disp-addr-raw-out" },
};
#define ADDR_IFNAMES "addr-ifnames"
#define ENDPOINT_IFNAMES "ep-ifs"

typedef struct CachedChain {
        char *name;          /* the map key: outlives the chains compiled under it */
        uint64_t name_hash;
        const Resource *res; /* the policy or profile it was compiled from (referenced), or NULL */
        NftChain *chain;
        SetDeps deps;        /* the sets its rules use, as they were */
        uint64_t used;
} CachedChain;

typedef struct EndpointRecord EndpointRecord;

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
        NftChain **shared_chains;
        size_t n_shared_chains;
        NftSet **shared_sets;
        size_t n_shared_sets;
        bool shared_valid;
        /* The calculation the last successful compilation was for: only
         * its direct successor (same CalcCache, next run) can share, since
         * the change list covers one run. */
        const CalcCache *last_calc_cache;
        uint64_t last_calc_gen;
        uint64_t generation; /* of the compilation under way, or the last one */
        bool settle_next;
        AddrDispatch addr;
};

typedef struct Compiler {
        const Calc *calc;
        Ruleset *rs;
        CompileCache *cache;
        RuleCompiler rules; /* what turns each rule into nft rules */
        /* Whether any endpoint has untracked (doNotTrack) or pre-DNAT
         * policy: their hooks exist only then, as every packet pays for a
         * hook it passes through. */
        bool untracked, prednat;
        /* Taking the cache's shared chains and sets (see CompileCache);
         * then recs[i] is endpoint i's record and full[i] whether its block
         * is right as it is (else only its interfaces changed). */
        bool sharing;
        EndpointRecord **recs;
        bool *full;
        /* Which hooks have an address dispatch chain (flavour_addr_chain). */
        bool addr_dispatch[_FLAVOUR_MAX][_DIRECTION_MAX];
        bool settle; /* every interface goes into the dispatch maps */
} Compiler;

/* ---- names ---- */

/* prefix.name, shortened with a hash when it would be too long for the
 * kernel (object names are at most 255 bytes). */
#define OBJECT_NAME_MAX 256

static const char *object_name_buf(const char *prefix, const char *name, char buf[static OBJECT_NAME_MAX]) {
        size_t lp = strlen(prefix), ln = strlen(name);

        if (lp + ln + 1 <= 200) {
                memcpy(buf, prefix, lp);
                buf[lp] = '.';
                memcpy(buf + lp + 1, name, ln + 1);
        } else
                snprintf(buf, OBJECT_NAME_MAX, "%.32s.%.150s_%016" PRIx64, prefix, name, strmap_hash(name));
        return buf;
}

static char *object_name(const char *prefix, const char *name) {
        char buf[OBJECT_NAME_MAX];

        return strdup(object_name_buf(prefix, name, buf));
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
 * (or not) as when the chain was compiled, so the chain is still right. */
static int deps_still_hold(Compiler *k, const CachedChain *cc) {
        for (size_t i = 0; i < cc->deps.n; i++) {
                const SetDep *d = &cc->deps.v[i];
                int r;

                switch (d->kind) {
                case DEP_LIST:
                        if (!strmap_get_hashed(&k->rs->set_index, d->list->name, d->list->name_hash) &&
                            ruleset_add_shared_set(k->rs, d->list) < 0)
                                return -ENOMEM;
                        continue;
                case DEP_SELECTOR:
                case DEP_NAMED_PORT:
                        r = set_cache_use(k->cache->sets, k->calc, k->rs, d->set);
                        if (r < 0)
                                return r;
                        if (cached_set_empty(d->set, 4) != d->empty4 || cached_set_empty(d->set, 6) != d->empty6)
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
        if (cc->chain && cc->res == res) {
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
        for (size_t i = 0; r >= 0 && rules && i < rules->n; i++)
                r = rule_compile(&k->rules, c, &rules->v[i]);
        k->rules.recording = NULL;
        if (r < 0)
                return r;
        set_deps_trim(&cc->deps); /* kept as long as the policy: no spare room */
        cc->chain = nft_chain_ref(c);
        cc->res = resource_ref((Resource *)res);
        cc->used = k->cache->generation;
        return 0;
}

/* What an endpoint chain jumps to: a policy's or profile's chain (cc), or
 * nothing for a profile that does not exist (a drop rule). res and rules
 * are what put_rules_chain() needs to put cc into a ruleset again. */
typedef struct ChainTarget {
        CachedChain *cc;
        const Resource *res;
        const RuleList *rules;
} ChainTarget;

static int rules_chain(Compiler *k, const char *prefix, const char *name, const Resource *res,
                       const RuleList *rules, ChainTarget *ret) {
        char buf[OBJECT_NAME_MAX];
        CachedChain *cc = cache_chain_entry(k, object_name_buf(prefix, name, buf));

        if (!cc)
                return -ENOMEM;
        *ret = (ChainTarget) { cc, res, rules };
        return put_rules_chain(k, cc, res, rules);
}

static int policy_chain(Compiler *k, const Resource *p, Direction d, ChainTarget *ret) {
        return rules_chain(k, d == DIRECTION_INGRESS ? "pol-in" : "pol-out", p->meta.name, p,
                           d == DIRECTION_INGRESS ? &p->spec.policy.ingress : &p->spec.policy.egress, ret);
}

static int profile_chain(Compiler *k, const EndpointProfile *p, Direction d, ChainTarget *ret) {
        static Rule allow = { .action = (char *)"Allow" };
        static const RuleList allow_all = { &allow, 1 };
        const RuleList *rules;

        /* The built-in projectcalico-default-allow: one Allow each way. */
        if (!p->profile)
                rules = &allow_all;
        else
                rules = d == DIRECTION_INGRESS ? &p->profile->spec.profile.ingress : &p->profile->spec.profile.egress;
        return rules_chain(k, d == DIRECTION_INGRESS ? "pro-in" : "pro-out", p->name, p->profile, rules, ret);
}

/* ---- endpoint chains ---- */

typedef enum EndpointVerdict {
        VERDICT_ACCEPT, /* normal chains: accept here */
        VERDICT_RETURN, /* other flavours: leave the accept bit for the base chain */
} EndpointVerdict;

/* What an endpoint chain jumps to, in order: collected first (which also
 * puts those chains into the ruleset), so that an unchanged endpoint chain
 * can be reused without formatting its rules again. */
typedef struct ChainPlan {
        ChainTarget *targets;
        size_t n, alloc;
        uint64_t signature;
} ChainPlan;

static void plan_mix(ChainPlan *p, const char *s) {
        p->signature = (p->signature ^ (s ? strmap_hash(s) : 0x9e3779b97f4a7c15ULL)) * 1099511628211ULL;
}

static ChainTarget *plan_next(ChainPlan *p) {
        ChainTarget *v = grow_array(p->targets, &p->alloc, p->n + 1, sizeof(ChainTarget));

        if (!v)
                return NULL;
        p->targets = v;
        v[p->n] = (ChainTarget) {};
        return &v[p->n++];
}

/* The plan of one endpoint chain, appended to p (which may hold the plans
 * of the endpoint's other chains); its signature in *ret_signature. */
static int plan_endpoint(Compiler *k, const Endpoint *e, Flavour f, Direction d, ChainPlan *p,
                         uint64_t *ret_signature) {
        const PolicyOrder *o = endpoint_order(e, f, d);
        ChainTarget *t;
        int r = 0;

        p->signature = 14695981039346656037ULL ^ (uint64_t)(f * 2 + d);
        for (size_t i = 0; r >= 0 && i < o->n_tiers; i++) {
                const TierPolicies *tier = &o->tiers[i];
                plan_mix(p, tier->tier_name);
                plan_mix(p, tier->end_of_tier_drop ? "drop" : "pass");
                for (size_t j = 0; r >= 0 && j < tier->n_policies; j++) {
                        t = plan_next(p);
                        r = t ? policy_chain(k, tier->policies[j], d, t) : -ENOMEM;
                        if (r >= 0)
                                plan_mix(p, t->cc->name);
                }
        }
        if (r >= 0 && f == FLAVOUR_NORMAL) {
                plan_mix(p, "profiles");
                for (size_t i = 0; r >= 0 && i < e->n_profiles; i++) {
                        const EndpointProfile *pr = &e->profiles[i];
                        t = plan_next(p);
                        if (!t)
                                return -ENOMEM;
                        /* A missing profile is deny-all, as in Felix. */
                        if (pr->profile || streq(pr->name, "projectcalico-default-allow"))
                                r = profile_chain(k, pr, d, t);
                        if (r >= 0)
                                plan_mix(p, t->cc ? t->cc->name : NULL);
                }
        }
        *ret_signature = p->signature;
        return r;
}

/* Each policy runs only while no verdict (and no Pass) has been reached in
 * its tier; the verdict is acted on once, at the end of the tier. Same
 * semantics as Felix's return-after-each-policy, a third of the rules. */
/* Verdict statements of an endpoint's chains, counting into its named
 * counters: `counter name "ep-accepted.NAME" accept`. */
typedef struct EndpointVerdicts {
        char accept[OBJECT_NAME_MAX + 32];
        char drop[OBJECT_NAME_MAX + 32];
} EndpointVerdicts;

void endpoint_counter_names(const char *endpoint, char accepted[static 256], char dropped[static 256]) {
        object_name_buf("ep-accepted", endpoint, accepted);
        object_name_buf("ep-dropped", endpoint, dropped);
}

static int add_tiers(NftChain *c, const PolicyOrder *o, const ChainTarget *targets, size_t *next, EndpointVerdict v,
                     const EndpointVerdicts *ev) {
        int r = 0;

        for (size_t t = 0; r >= 0 && t < o->n_tiers; t++) {
                const TierPolicies *tier = &o->tiers[t];
                r = chain_add_rule(c, "meta mark set meta mark & 0xfffdffff"); /* start of tier: clear pass */
                for (size_t i = 0; r >= 0 && i < tier->n_policies; i++)
                        r = chain_add_rulef(c, IF_UNDECIDED " jump %s", targets[(*next)++].cc->name);
                if (r >= 0 && v == VERDICT_ACCEPT)
                        r = chain_add_rulef(c, IF_ACCEPT " %s", ev->accept);
                else if (r >= 0)
                        r = chain_add_rule(c, IF_ACCEPT " counter return");
                if (r >= 0)
                        r = chain_add_rulef(c, IF_DROP " %s", ev->drop);
                /* A policy applied but none decided: the tier's end drops. */
                if (r >= 0 && tier->end_of_tier_drop)
                        r = chain_add_rulef(c, IF_NOT_PASSED " %s", ev->drop);
        }
        return r;
}

static int add_profiles(NftChain *c, const Endpoint *e, const ChainTarget *targets, size_t *next,
                        const EndpointVerdicts *ev) {
        int r = 0;

        for (size_t i = 0; r >= 0 && i < e->n_profiles; i++) {
                const CachedChain *cc = targets[(*next)++].cc;
                if (!cc)
                        r = chain_add_rulef(c, IF_UNDECIDED " %s", ev->drop);
                else
                        r = chain_add_rulef(c, IF_UNDECIDED " jump %s", cc->name);
        }
        if (r >= 0 && e->n_profiles) {
                r = chain_add_rulef(c, IF_ACCEPT " %s", ev->accept);
                if (r >= 0)
                        r = chain_add_rulef(c, IF_DROP " %s", ev->drop);
        }
        return r;
}

static bool order_empty(const PolicyOrder *o) {
        return o->n_tiers == 0;
}

/* The rules of an endpoint chain; targets: its plan. */
static int build_endpoint_chain(NftChain *c, const Endpoint *e, Flavour f, Direction d, const ChainTarget *targets) {
        const PolicyOrder *o = endpoint_order(e, f, d);
        bool in = d == DIRECTION_INGRESS;
        char accepted[OBJECT_NAME_MAX], dropped[OBJECT_NAME_MAX];
        EndpointVerdicts ev;
        size_t next = 0;
        int r = 0;

        endpoint_counter_names(e->name, accepted, dropped);
        snprintf(ev.accept, sizeof(ev.accept), "counter name \"%s\" accept", accepted);
        snprintf(ev.drop, sizeof(ev.drop), "counter name \"%s\" drop", dropped);
        switch (f) {
        case FLAVOUR_NORMAL:
                r = chain_add_rulef(c, "ct state established,related %s", ev.accept);
                if (r >= 0)
                        r = chain_add_rulef(c, "ct state invalid %s", ev.drop);
                if (r >= 0)
                        r = chain_add_rule(c, ALLOW_ND);
                if (r >= 0)
                        r = chain_add_rule(c, in ? "jump failsafe-in" : "jump failsafe-out");
                if (r >= 0)
                        r = chain_add_rule(c, CLEAR_ALL);
                if (r >= 0)
                        r = add_tiers(c, o, targets, &next, VERDICT_ACCEPT, &ev);
                if (r >= 0)
                        r = add_profiles(c, e, targets, &next, &ev);
                /* "Drop if no profiles matched" */
                if (r >= 0)
                        r = chain_add_rule(c, ev.drop);
                return r;
        case FLAVOUR_FORWARD:
                /* No failsafes and no profiles for forwarded traffic. */
                r = chain_add_rulef(c, "ct state established,related %s", ev.accept);
                if (r >= 0)
                        r = chain_add_rulef(c, "ct state invalid %s", ev.drop);
                if (r >= 0)
                        r = chain_add_rule(c, CLEAR_ALL);
                if (r >= 0 && order_empty(o))
                        r = chain_add_rule(c, SET_ACCEPT " return"); /* allowed by default */
                else if (r >= 0)
                        r = add_tiers(c, o, targets, &next, VERDICT_RETURN, &ev);
                return r;
        case FLAVOUR_PREDNAT:
                r = chain_add_rulef(c, "ct state established,related %s", ev.accept);
                if (r >= 0)
                        r = chain_add_rulef(c, "ct state invalid %s", ev.drop);
                _fallthrough_;
        case FLAVOUR_UNTRACKED:
                /* Tiers here pass at their end; unmatched traffic goes on
                 * to the later stages. */
                if (r >= 0)
                        r = chain_add_rule(c, ALLOW_ND);
                if (r >= 0)
                        r = chain_add_rule(c, f == FLAVOUR_PREDNAT ? "jump failsafe-in"
                                                 : in                ? "jump raw-failsafe-in"
                                                                     : "jump raw-failsafe-out");
                if (r >= 0)
                        r = chain_add_rule(c, CLEAR_ALL);
                if (r >= 0)
                        r = add_tiers(c, o, targets, &next, VERDICT_RETURN, &ev);
                return r;
        case _FLAVOUR_MAX:
        case _FLAVOUR_INVALID:
                break;
        }
        return -EINVAL;
}

/* Which flavour chains an endpoint gets: normal and forward always (as
 * Felix: every bound interface has them); pre-DNAT and untracked only when
 * such policy applies, to keep the per-packet cost of those hooks low. */
static bool endpoint_has_flavour(const Endpoint *e, Flavour f, Direction d) {
        if (!flavour_chain_prefix[f][d])
                return false;
        if (f == FLAVOUR_NORMAL || f == FLAVOUR_FORWARD)
                return true;
        return !order_empty(endpoint_order(e, f, d));
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

static bool record_matches(const EndpointRecord *rec, const Endpoint *e, const uintptr_t *shape, size_t n_shape) {
        if (rec->info != e->info || rec->n_ifnames != e->n_ifnames || rec->n_shape != n_shape)
                return false;
        for (size_t i = 0; i < e->n_ifnames; i++)
                if (!streq(rec->ifnames[i], e->ifnames[i]))
                        return false;
        return memcmp(rec->shape, shape, n_shape * sizeof(uintptr_t)) == 0;
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

/* The chains of a block and their plans' signatures, and how its
 * interfaces are dispatched: in the record only once the block is in the
 * ruleset (a failed build leaves it as it was). */
typedef struct BlockChains {
        NftChain *chains[_FLAVOUR_MAX][_DIRECTION_MAX];
        uint64_t signatures[_FLAVOUR_MAX][_DIRECTION_MAX];
        bool *settled; /* per ifname of the endpoint (owned) */
        size_t n_unsettled;
} BlockChains;

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
static int plan_dispatch(const Compiler *k, const EndpointRecord *rec, const Endpoint *e, BlockChains *bc) {
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
static int block_chain(Compiler *k, const EndpointRecord *rec, NftBlock *b, const Endpoint *e, Flavour f,
                       Direction d, ChainPlan *plan, BlockChains *out) {
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
                r = build_endpoint_chain(c, e, f, d, plan->n > first ? plan->targets + first : NULL);
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

/* An endpoint's block, built: its counters, its chains and its elements in
 * the dispatch maps or address dispatch sets, and own-ifnames. */
static int build_block(Compiler *k, const EndpointRecord *rec, const Endpoint *e, ChainPlan *plan, NftBlock **ret,
                       BlockChains *ret_chains) {
        char accepted[OBJECT_NAME_MAX], dropped[OBJECT_NAME_MAX], ifset[OBJECT_NAME_MAX];
        NftBlock *b = nft_block_new(e->name);
        BlockChains bc = {};
        int r;

        if (!b)
                return -ENOMEM;
        endpoint_counter_names(e->name, accepted, dropped);
        r = plan_dispatch(k, rec, e, &bc);
        if (r >= 0)
                r = block_add_counter(b, accepted);
        if (r >= 0)
                r = block_add_counter(b, dropped);
        for (int f = 0; r >= 0 && f < _FLAVOUR_MAX; f++)
                for (int d = 0; r >= 0 && d < _DIRECTION_MAX; d++) {
                        if (!endpoint_has_flavour(e, (Flavour)f, (Direction)d))
                                continue;
                        r = block_chain(k, rec, b, e, (Flavour)f, (Direction)d, plan, &bc);
                        for (size_t i = 0; r >= 0 && i < e->n_ifnames; i++) {
                                _cleanup_free_ char *elem = NULL;
                                if (!bc.settled[i])
                                        continue;
                                if (asprintf(&elem, "\"%s\" : jump %s", e->ifnames[i], bc.chains[f][d]->name) < 0)
                                        r = -ENOMEM;
                                else
                                        r = block_add_element(b, flavour_map[f][d], elem);
                        }
                }
        /* Interfaces with a host endpoint of their own: the "*" fallback
         * applies to every other one. */
        if (bc.n_unsettled)
                object_name_buf(ENDPOINT_IFNAMES, e->name, ifset);
        for (size_t i = 0; r >= 0 && i < e->n_ifnames; i++) {
                _cleanup_free_ char *q = NULL;
                r = asprintf(&q, "\"%s\"", e->ifnames[i]) < 0 ? -ENOMEM : block_add_element(b, "own-ifnames", q);
                if (r >= 0 && !bc.settled[i])
                        r = block_add_element(b, ADDR_IFNAMES, q);
                if (r >= 0 && !bc.settled[i])
                        r = block_add_element(b, ifset, q);
        }
        if (r < 0) {
                free(bc.settled);
                nft_block_unref(b);
                return r;
        }
        *ret = b;
        *ret_chains = bc;
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

static int compile_endpoint_block(Compiler *k, EndpointRecord *rec, const Endpoint *e, size_t index) {
        ChainPlan plan = {};
        NftBlock *b = NULL;
        BlockChains bc = {};
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

/* ---- sharing the policy chains whole ---- */

static void shared_drop(CompileCache *c) {
        for (size_t i = 0; i < c->n_shared_chains; i++)
                nft_chain_unref(c->shared_chains[i]);
        for (size_t i = 0; i < c->n_shared_sets; i++)
                nft_set_unref(c->shared_sets[i]);
        c->shared_chains = mfree_ptr(c->shared_chains);
        c->shared_sets = mfree_ptr(c->shared_sets);
        c->n_shared_chains = c->n_shared_sets = 0;
        c->shared_valid = false;
}

/* Keeps rs's chains and sets from the given positions on: what the
 * endpoints' blocks jump to and match against. */
static int shared_keep(CompileCache *c, const Ruleset *rs, size_t chains_from, size_t sets_from) {
        shared_drop(c);
        c->shared_chains = new_array(rs->n_chains - chains_from, sizeof(NftChain *));
        c->shared_sets = new_array(rs->n_sets - sets_from, sizeof(NftSet *));
        if (!c->shared_chains || !c->shared_sets) {
                shared_drop(c);
                return -ENOMEM;
        }
        for (size_t i = chains_from; i < rs->n_chains; i++)
                c->shared_chains[c->n_shared_chains++] = nft_chain_ref(rs->chains[i]);
        for (size_t i = sets_from; i < rs->n_sets; i++)
                c->shared_sets[c->n_shared_sets++] = nft_set_ref(rs->sets[i]);
        c->shared_valid = true;
        return 0;
}

static bool endpoint_compiled(const Calc *calc, const Endpoint *e) {
        return (!e->wildcard || e == calc->wildcard) &&
               (e->state == ENDPOINT_ENFORCED || e->state == ENDPOINT_WAITING);
}

/* Whether this compilation can take the shared chains and sets: no HEP's
 * labels, addresses or ports changed (so no set did), and the endpoints
 * compiled are those of last time, each with the same EndpointInfo and
 * the same policy objects in the same order (so the same chains are
 * jumped to, compiled from the same objects). Fills k->recs and k->full. */
static int plan_sharing(Compiler *k) {
        const Calc *calc = k->calc;
        CompileCache *c = k->cache;
        size_t matched = 0, n_shape;
        int r;

        k->sharing = false;
        if (!c->shared_valid || !calc->cache || calc->cache != c->last_calc_cache ||
            calc->cache->generation != c->last_calc_gen + 1 || calc->cache->n_changed)
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
                if (rec->n_shape != n_shape || memcmp(rec->shape, c->shape, n_shape * sizeof(uintptr_t)) != 0)
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

static int put_shared(Compiler *k) {
        const CompileCache *c = k->cache;
        int r = 0;

        for (size_t i = 0; r >= 0 && i < c->n_shared_chains; i++)
                r = ruleset_add_shared_chain(k->rs, c->shared_chains[i]);
        for (size_t i = 0; r >= 0 && i < c->n_shared_sets; i++)
                r = ruleset_add_shared_set(k->rs, c->shared_sets[i]);
        return r;
}

/* ---- static parts ---- */

static int failsafe_chain(Compiler *k, const char *name, const FailsafePort *ports, size_t n, bool inbound,
                          const FailsafePort *reverse, size_t n_reverse) {
        NftChain *c = ruleset_add_chain(k->rs, name, NULL);
        const char *peer = inbound ? "saddr" : "daddr";
        int r = 0;

        if (!c)
                return -ENOMEM;
        for (int pass = 0; r >= 0 && pass < 2; pass++) {
                const FailsafePort *v = pass == 0 ? ports : reverse;
                size_t m = pass == 0 ? n : n_reverse;
                const char *port_dir = pass == 0 ? "dport" : "sport";
                char **plain = new_array(m, sizeof(char *)), expr[32];
                size_t n_plain = 0;

                if (!plain)
                        return -ENOMEM;
                for (size_t i = 0; r >= 0 && i < m; i++) {
                        char p[8], net[IPNET_STRLEN];
                        protocol_format(v[i].protocol, p);
                        if (!v[i].has_net) {
                                if (asprintf(&plain[n_plain], "%s . %u", p, v[i].port) < 0)
                                        r = -ENOMEM;
                                else
                                        n_plain++;
                                continue;
                        }
                        ipnet_format(&v[i].net, net);
                        /* Replies (sport) come from the peer: the net is on the other side. */
                        r = chain_add_rulef(c, "%s %s %s meta l4proto %s th %s %u accept",
                                            v[i].net.addr.family == AF_INET ? "ip" : "ip6",
                                            pass == 0 ? peer : (inbound ? "saddr" : "daddr"), net, p, port_dir,
                                            v[i].port);
                }
                if (r >= 0 && n_plain) {
                        char set[40];
                        snprintf(expr, sizeof(expr), "meta l4proto . th %s", port_dir);
                        r = rule_list_set(&k->rules, "failsafe", "type inet_proto . inet_service;", plain, n_plain, set);
                        if (r >= 0)
                                r = chain_add_rulef(c, "%s @%s accept", expr, set);
                }
                strv_free_n(plain, n_plain);
        }
        return r;
}

static int compile_failsafes(Compiler *k) {
        const Calc *c = k->calc;
        int r;

        r = failsafe_chain(k, "failsafe-in", c->failsafe_in, c->n_failsafe_in, true, NULL, 0);
        if (r >= 0)
                r = failsafe_chain(k, "failsafe-out", c->failsafe_out, c->n_failsafe_out, false, NULL, 0);
        /* In the raw table there is no conntrack yet: also let replies to
         * the other direction's failsafe connections through. */
        if (r >= 0)
                r = failsafe_chain(k, "raw-failsafe-in", c->failsafe_in, c->n_failsafe_in, true, c->failsafe_out,
                                   c->n_failsafe_out);
        if (r >= 0)
                r = failsafe_chain(k, "raw-failsafe-out", c->failsafe_out, c->n_failsafe_out, false, c->failsafe_in,
                                   c->n_failsafe_in);
        return r;
}

static int compile_maps(Compiler *k) {
        for (int f = 0; f < _FLAVOUR_MAX; f++)
                for (int d = 0; d < _DIRECTION_MAX; d++)
                        if (flavour_map[f][d] && !ruleset_add_set(k->rs, flavour_map[f][d], "type ifname : verdict;", true))
                                return -ENOMEM;
        /* IPv6 neighbour discovery and MLD, which always pass. */
        NftSet *nd = ruleset_add_set(k->rs, "nd-types", "type icmpv6_type;", false);
        if (!nd)
                return -ENOMEM;
        for (int t = 130; t <= 136; t++) {
                char num[8];
                snprintf(num, sizeof(num), "%d", t);
                if (t != 134 && set_add_element(nd, num) < 0) /* 134: router advertisements do not */
                        return -ENOMEM;
        }
        /* Interfaces with a host endpoint of their own (the blocks' elements). */
        if (!ruleset_add_set(k->rs, "own-ifnames", "type ifname;", false))
                return -ENOMEM;
        return 0;
}

static bool dispatched_by_address(const Calc *calc, const Endpoint *e) {
        return endpoint_compiled(calc, e) && endpoint_by_address(e);
}

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
static int addr_dispatch_keep(Compiler *k, AddrDispatch *a, size_t sets_from) {
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

/* The address dispatch (see flavour_addr_chain): the endpoints' sets and,
 * hook by hook, the chain that tries them. Taken as last built while the
 * endpoints matched by address and their hooks are the same. */
static int compile_addr_dispatch(Compiler *k) {
        const Calc *calc = k->calc;
        AddrDispatch *a = &k->cache->addr;
        char name[OBJECT_NAME_MAX], set[OBJECT_NAME_MAX];
        size_t sets_from = k->rs->n_sets;
        bool any = false;

        if (addr_dispatch_current(a, calc))
                return addr_dispatch_put(k, a);
        for (size_t i = 0; i < calc->n_endpoints; i++) {
                const Endpoint *e = &calc->endpoints[i];
                if (!dispatched_by_address(calc, e))
                        continue;
                if (!ruleset_add_set(k->rs, object_name_buf(ENDPOINT_IFNAMES, e->name, set), "type ifname;", false))
                        return -ENOMEM;
                any = true;
        }
        if (any && !ruleset_add_set(k->rs, ADDR_IFNAMES, "type ifname;", false))
                return -ENOMEM;
        for (int f = 0; any && f < _FLAVOUR_MAX; f++)
                for (int d = 0; d < _DIRECTION_MAX; d++) {
                        NftChain *c = NULL;
                        if (!flavour_addr_chain[f][d])
                                continue;
                        for (size_t i = 0; i < calc->n_endpoints; i++) {
                                const Endpoint *e = &calc->endpoints[i];
                                if (!dispatched_by_address(calc, e) || !endpoint_has_flavour(e, (Flavour)f, (Direction)d))
                                        continue;
                                if (!c && !(c = ruleset_add_chain(k->rs, flavour_addr_chain[f][d], NULL)))
                                        return -ENOMEM;
                                /* goto: the endpoint chain returns to the hook. */
                                if (chain_add_rulef(c, "%s @%s goto %s", d == DIRECTION_INGRESS ? "iifname" : "oifname",
                                                    object_name_buf(ENDPOINT_IFNAMES, e->name, set),
                                                    object_name_buf(flavour_chain_prefix[f][d], e->name, name)) < 0)
                                        return -ENOMEM;
                        }
                        k->addr_dispatch[f][d] = c != NULL;
                }
        /* Without memory to keep it, the next compilation builds it again. */
        (void)addr_dispatch_keep(k, a, sets_from);
        return 0;
}

/* The rule that sends traffic of interfaces bound by address to the
 * address dispatch chain of this hook, if it has one. */
static int add_addr_dispatch(Compiler *k, NftChain *base, Flavour f, Direction d, const char *guard) {
        if (!k->addr_dispatch[f][d])
                return 0;
        return chain_add_rulef(base, "%s%s @" ADDR_IFNAMES " jump %s", guard,
                               d == DIRECTION_INGRESS ? "iifname" : "oifname", flavour_addr_chain[f][d]);
}

/* The rule that sends traffic of interfaces without their own endpoint to
 * the "*" endpoint's chain, if there is one with that flavour. */
static int add_wildcard(Compiler *k, NftChain *base, Flavour f, Direction d, const char *guard) {
        _cleanup_free_ char *name = NULL;
        const Endpoint *w = k->calc->wildcard;

        if (!w || !endpoint_has_flavour(w, f, d))
                return 0;
        name = object_name(flavour_chain_prefix[f][d], w->name);
        if (!name)
                return -ENOMEM;
        return chain_add_rulef(base, "%s%s != @own-ifnames jump %s", guard,
                               d == DIRECTION_INGRESS ? "iifname" : "oifname", name);
}

static int base_chain(Compiler *k, const char *name, const char *hook, NftChain **ret) {
        *ret = ruleset_add_chain(k->rs, name, hook);
        return *ret ? 0 : -ENOMEM;
}

/* The hooks, as Felix's static chains (felix/rules/static.go). */
/* Does any endpoint that can be dispatched to have flavour f? */
static bool any_endpoint_has(const Calc *calc, Flavour f) {
        for (size_t i = 0; i < calc->n_endpoints; i++) {
                const Endpoint *e = &calc->endpoints[i];
                if ((!e->wildcard || e == calc->wildcard) &&
                    (e->state == ENDPOINT_ENFORCED || e->state == ENDPOINT_WAITING) &&
                    (endpoint_has_flavour(e, f, DIRECTION_INGRESS) || endpoint_has_flavour(e, f, DIRECTION_EGRESS)))
                        return true;
        }
        return false;
}

static int compile_base_chains(Compiler *k) {
        NftChain *c;
        int r = 0;

        /* The early hooks mark what they accept (MARK_ACCEPT) for the later
         * ones to let through; each early hook clears the mark first, so a
         * mark set by anyone else is never trusted. Without them, the later
         * hooks clear it themselves. */
        k->untracked = any_endpoint_has(k->calc, FLAVOUR_UNTRACKED);
        k->prednat = any_endpoint_has(k->calc, FLAVOUR_PREDNAT);

        /* raw: untracked (doNotTrack) policy; an Allow skips conntrack. */
        if (k->untracked) {
                r = base_chain(k, "raw-prerouting", "type filter hook prerouting priority raw; policy accept;", &c);
                if (r >= 0)
                        r = chain_add_rule(c, CLEAR_ALL);
                if (r >= 0)
                        r = chain_add_rule(c, "iifname vmap @disp-raw-in");
                if (r >= 0)
                        r = add_addr_dispatch(k, c, FLAVOUR_UNTRACKED, DIRECTION_INGRESS, "");
                if (r >= 0)
                        r = chain_add_rule(c, IF_ACCEPT " notrack accept");
                if (r >= 0)
                        r = base_chain(k, "raw-output", "type filter hook output priority raw; policy accept;", &c);
                if (r >= 0)
                        r = chain_add_rule(c, CLEAR_ALL);
                if (r >= 0)
                        r = chain_add_rule(c, "oifname vmap @disp-raw-out");
                if (r >= 0)
                        r = add_addr_dispatch(k, c, FLAVOUR_UNTRACKED, DIRECTION_EGRESS, "");
                if (r >= 0)
                        r = chain_add_rule(c, IF_ACCEPT " notrack accept");
        }

        /* Before DNAT: pre-DNAT policy sees only new flows. */
        if (r >= 0 && k->prednat) {
                r = base_chain(k, "prednat", "type filter hook prerouting priority mangle; policy accept;", &c);
                /* Without raw-prerouting, the mark is ours from here. */
                if (r >= 0 && !k->untracked)
                        r = chain_add_rule(c, CLEAR_ALL);
                if (r >= 0)
                        r = chain_add_rule(c, "ct state established,related accept");
                if (r >= 0)
                        r = chain_add_rule(c, IF_ACCEPT " accept");
                if (r >= 0)
                        r = chain_add_rule(c, "iifname vmap @disp-prednat");
                if (r >= 0)
                        r = add_addr_dispatch(k, c, FLAVOUR_PREDNAT, DIRECTION_INGRESS, "");
                if (r >= 0)
                        r = add_wildcard(k, c, FLAVOUR_PREDNAT, DIRECTION_INGRESS, "");
                if (r >= 0)
                        r = chain_add_rule(c, IF_ACCEPT " accept");
        }

        /* Traffic for the host. Normal endpoint chains always end in a
         * verdict, so only interfaces without a map entry get past it. */
        if (r >= 0)
                r = base_chain(k, "input", "type filter hook input priority filter; policy accept;", &c);
        if (r >= 0 && (k->untracked || k->prednat))
                r = chain_add_rule(c, IF_ACCEPT " accept");
        if (r >= 0)
                r = chain_add_rule(c, CLEAR_ALL);
        if (r >= 0)
                r = chain_add_rule(c, "iifname vmap @disp-in");
        if (r >= 0)
                r = add_addr_dispatch(k, c, FLAVOUR_NORMAL, DIRECTION_INGRESS, "");
        if (r >= 0)
                r = add_wildcard(k, c, FLAVOUR_NORMAL, DIRECTION_INGRESS, "");

        /* Forwarded: the ingress interface's forward policy (unless raw or
         * pre-DNAT policy accepted it), then the egress interface's. */
        if (r >= 0)
                r = base_chain(k, "forward", "type filter hook forward priority filter; policy accept;", &c);
        if (r >= 0)
                r = chain_add_rule(c, k->untracked || k->prednat ? CLEAR_PASS_DROP : CLEAR_ALL);
        if (r >= 0)
                r = chain_add_rule(c, "meta mark & " MARK_ACCEPT " == 0 iifname vmap @disp-fwd-in");
        if (r >= 0)
                r = add_addr_dispatch(k, c, FLAVOUR_FORWARD, DIRECTION_INGRESS, "meta mark & " MARK_ACCEPT " == 0 ");
        if (r >= 0)
                r = add_wildcard(k, c, FLAVOUR_FORWARD, DIRECTION_INGRESS, "meta mark & " MARK_ACCEPT " == 0 ");
        if (r >= 0)
                r = chain_add_rule(c, "oifname vmap @disp-fwd-out");
        if (r >= 0)
                r = add_addr_dispatch(k, c, FLAVOUR_FORWARD, DIRECTION_EGRESS, "");
        if (r >= 0)
                r = add_wildcard(k, c, FLAVOUR_FORWARD, DIRECTION_EGRESS, "");
        if (r >= 0)
                r = chain_add_rule(c, IF_ACCEPT " accept");

        /* Traffic from the host. */
        if (r >= 0)
                r = base_chain(k, "output", "type filter hook output priority filter; policy accept;", &c);
        if (r >= 0 && k->untracked)
                r = chain_add_rule(c, IF_ACCEPT " accept");
        if (r >= 0)
                r = chain_add_rule(c, CLEAR_ALL);
        if (r >= 0)
                r = chain_add_rule(c, "oifname vmap @disp-out");
        if (r >= 0)
                r = add_addr_dispatch(k, c, FLAVOUR_NORMAL, DIRECTION_EGRESS, "");
        if (r >= 0)
                r = add_wildcard(k, c, FLAVOUR_NORMAL, DIRECTION_EGRESS, "");
        return r;
}

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
        set_cache_free(c->sets);
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

int ruleset_compile(const Calc *calc, CompileCache *cache, Ruleset **ret) {
        _cleanup_(ruleset_freep) Ruleset *rs = ruleset_new();
        _cleanup_(compile_cache_freep) CompileCache *own = NULL;
        Compiler k = { .calc = calc, .cache = cache };
        int r;

        if (!rs)
                return -ENOMEM;
        if (!cache) {
                k.cache = own = compile_cache_new();
                if (!own)
                        return -ENOMEM;
        }
        k.rs = rs;
        k.rules = (RuleCompiler) { .calc = calc, .rs = rs, .sets = k.cache->sets };
        /* Without a cache, nothing was dispatched before: all settles. */
        k.settle = !cache || k.cache->settle_next;
        k.cache->settle_next = false;
        /* A new generation for each compilation, failed ones included:
         * "used in this one" must never be left over from another. */
        k.cache->generation++;
        set_cache_begin(k.cache->sets);
        /* About as many chains as last time: no rehashing while adding. */
        r = strmap_reserve(&rs->chain_index, k.cache->chains.n + 64);
        if (r >= 0)
                r = compile_addr_dispatch(&k);
        if (r >= 0)
                r = compile_base_chains(&k);
        if (r >= 0)
                r = compile_maps(&k);
        if (r >= 0)
                r = compile_failsafes(&k);
        size_t chains_from = rs->n_chains, sets_from = rs->n_sets;
        if (r >= 0)
                r = plan_sharing(&k);
        if (r >= 0 && k.sharing)
                r = put_shared(&k);
        /* Every endpoint of this node that could be dispatched to gets its
         * chains, bound or not yet: when its interface or address appears,
         * only dispatch elements change (a small, fast commit). */
        for (size_t i = 0; r >= 0 && i < calc->n_endpoints; i++)
                if (endpoint_compiled(calc, &calc->endpoints[i]))
                        r = compile_endpoint(&k, &calc->endpoints[i], i);
        rule_compiler_done(&k.rules);
        free(k.recs);
        free(k.full);
        if (r < 0) {
                /* Records may now describe chains the shared ones lack. */
                shared_drop(k.cache);
                return r;
        }
        /* Without memory to keep them, the next compilation builds all. */
        if (!k.sharing && shared_keep(k.cache, rs, chains_from, sets_from) < 0)
                shared_drop(k.cache);
        k.cache->last_calc_cache = calc->cache;
        k.cache->last_calc_gen = calc->cache ? calc->cache->generation : 0;
        if (k.sharing) {
                /* Nothing was built: nothing can have gone but blocks. */
                sweep_records(k.cache);
                set_cache_keep_all(k.cache->sets, calc);
        } else
                compile_cache_sweep(k.cache);
        ruleset_finish(rs);
        *ret = steal_ptr(rs);
        return 0;
}
