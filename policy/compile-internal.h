/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the two halves of the compiler share (internal to policy/):
 * compile.c renders the calculation as chains, sets and maps;
 * compile-cache.c keeps what it rendered and decides, compilation by
 * compilation, what can be taken as it was instead of rendered again. */
#pragma once

#include "compile-rule.h"
#include "compile.h"

/* The chains and maps of each flavour and direction (NULL where there is
 * none): endpoint chains "<prefix>.<HEP>", the dispatch maps, and the
 * address dispatch chains (see compile.c). */
extern const char *const flavour_chain_prefix[_FLAVOUR_MAX][_DIRECTION_MAX];
extern const char *const flavour_map[_FLAVOUR_MAX][_DIRECTION_MAX];
extern const char *const flavour_addr_chain[_FLAVOUR_MAX][_DIRECTION_MAX];

/* Conntrack generations (compile.c, compile_ct_generation): bits 20-27
 * of the conntrack mark (not the packet mark, whose bits 16-18 the chains
 * speak through) carry the generation of the ruleset that last admitted
 * the flow, 1 to 255; 0 is a flow no endpoint's policy admitted. Their
 * objects' names start with CT_PREFIX. */
#define CT_GEN_MASK_STR "0x0ff00000" /* CT_GEN_MASK (compile.h) */
#define CT_GEN_MAX 255u
#define CT_PREFIX "ct-"
#define CT_ADMIT "ct-admit"
#define CT_ADMIT_RETURN "ct-admit-return"
#define CT_STAMP_MAP "ct-stamp"
/* The set of the interfaces bound to an endpoint (the blocks' elements). */
#define OWN_IFNAMES "own-ifnames"

/* prefix.name, shortened with a hash when it would be too long for the
 * kernel (object names are at most 255 bytes). */
#define OBJECT_NAME_MAX 256
const char *object_name_buf(const char *prefix, const char *name, char buf[static OBJECT_NAME_MAX]);

/* A policy's or profile's chain as last compiled (compile-cache.c). */
typedef struct CachedChain CachedChain;
const char *cached_chain_name(const CachedChain *cc);

/* What an endpoint's block was compiled from (compile-cache.c). */
typedef struct EndpointRecord EndpointRecord;

/* What an endpoint chain jumps to: a policy's or profile's chain (cc), or
 * nothing for a profile that does not exist (a drop rule). res and rules
 * are what the cache needs to put cc into a ruleset again. */
typedef struct ChainTarget {
        CachedChain *cc;
        const Resource *res;
        const RuleList *rules;
} ChainTarget;

/* What an endpoint chain jumps to, in order: collected first (which also
 * puts those chains into the ruleset), so that an unchanged endpoint chain
 * can be reused without formatting its rules again: the signature tells
 * the cache whether it is unchanged. */
typedef struct ChainPlan {
        ChainTarget *targets;
        size_t n, alloc;
        uint64_t signature;
} ChainPlan;

/* The chains of a block and their plans' signatures, and how its
 * interfaces are dispatched: in the record only once the block is in the
 * ruleset (a failed build leaves it as it was). */
typedef struct BlockChains {
        NftChain *chains[_FLAVOUR_MAX][_DIRECTION_MAX];
        uint64_t signatures[_FLAVOUR_MAX][_DIRECTION_MAX];
        bool *settled; /* per ifname of the endpoint (owned) */
        size_t n_unsettled;
} BlockChains;

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
        bool prebind; /* some waiting HEP's addresses are pre-bound (compile_prebind) */
        bool flow_logs; /* the deciding rules log (flowlog.h; compile_cache_set_flow_logs) */
} Compiler;

/* ---- compile.c: the rendering ---- */

/* Whether an endpoint gets chains: of this node, enforced or waiting (and
 * for "*", the one in force); and whether it is bound by address. Inline,
 * as the flavour test below: both halves ask, for every endpoint at every
 * compilation, on the path bench/bench-hotplug.c times. */
static inline bool endpoint_compiled(const Calc *calc, const Endpoint *e) {
        return (!e->wildcard || e == calc->wildcard) &&
               (e->state == ENDPOINT_ENFORCED || e->state == ENDPOINT_WAITING);
}

static inline bool dispatched_by_address(const Calc *calc, const Endpoint *e) {
        return endpoint_compiled(calc, e) && endpoint_by_address(e);
}

/* Which flavour chains an endpoint gets: normal and forward always (as
 * Felix: every bound interface has them); pre-DNAT and untracked only when
 * such policy applies, to keep the per-packet cost of those hooks low. */
static inline bool endpoint_has_flavour(const Endpoint *e, Flavour f, Direction d) {
        if (!flavour_chain_prefix[f][d])
                return false;
        if (f == FLAVOUR_NORMAL || f == FLAVOUR_FORWARD)
                return true;
        return endpoint_order(e, f, d)->n_tiers > 0;
}
/* The FelixConfiguration knobs an endpoint chain is rendered with, as
 * bits: part of its plan's signature, and a change in them keeps the
 * cache from taking the endpoints' chains as they were. */
static inline uint64_t verdict_config(const Calc *calc, bool flow_logs) {
        uint64_t h = (calc->deny_reject ? 1 : 0) | (calc->no_invalid_check ? 2 : 0) | ((uint64_t)calc->log_burst << 2);

        h ^= flow_logs ? 0x5bd1e9955bd1e995ULL : 0;
        h ^= calc->log_prefix ? strmap_hash(calc->log_prefix) * 3 : 0;
        h ^= calc->log_rate ? strmap_hash(calc->log_rate) * 5 : 0;
        return h;
}
/* The rules of a policy's or profile's chain. */
int rules_chain_fill(Compiler *k, NftChain *c, const Resource *res, const RuleList *rules);
/* The plan of one endpoint chain, appended to p (which may hold the plans
 * of the endpoint's other chains); its signature in *ret_signature. */
int plan_endpoint(Compiler *k, const Endpoint *e, Flavour f, Direction d, ChainPlan *p, uint64_t *ret_signature);
/* The rules of an endpoint chain; targets: its plan; flow_logs: its
 * deciding denies log (flowlog.h). */
int build_endpoint_chain(const Calc *calc, bool flow_logs, NftChain *c, const Endpoint *e, Flavour f, Direction d,
                         const ChainTarget *targets);
/* An endpoint's block: its counters, chains and dispatch elements. rec:
 * the record it was last built from; plan: where the chains' plans go
 * (NULL while sharing). */
int build_block(Compiler *k, const EndpointRecord *rec, const Endpoint *e, ChainPlan *plan, NftBlock **ret,
                BlockChains *ret_chains);

/* ---- compile-cache.c: what is taken as it was ---- */

/* The conntrack generation of this compilation (k->rs finished, its
 * CT_PREFIX objects still empty): the last compilation's, or the next one
 * when this ruleset adds anything to the last one's (ruleset_adds_to). */
unsigned compile_cache_ct_generation(Compiler *k);
/* Keeps what this ruleset is, complete, for the next compilation's
 * compile_cache_ct_generation(). */
void compile_cache_ct_keep(Compiler *k);

/* Before anything is compiled: a new generation, the set cache lent to
 * k->rules, whether this compilation settles (k->settle). */
int compile_cache_begin(Compiler *k);
/* After the endpoints' blocks: frees what the compilation held; when r >=
 * 0, keeps what it built (the chains and sets from chains_from and
 * sets_from on are the endpoints' shared ones) and forgets what it did not
 * use. Returns r. */
int compile_cache_end(Compiler *k, int r, size_t chains_from, size_t sets_from);
/* Takes the last compilation's policy and profile chains and sets whole
 * when no endpoint's policies and no HEP changed (sets k->sharing). */
int compile_cache_share(Compiler *k);
/* A policy's or profile's chain "prefix.name" into this ruleset, once
 * however many endpoints jump to it: reused, or filled by
 * rules_chain_fill(). */
int cache_rules_chain(Compiler *k, const char *prefix, const char *name, const Resource *res,
                      const RuleList *rules, ChainTarget *ret);
/* The block of every endpoint that gets chains (endpoint_compiled()), into
 * this ruleset: as last compiled, or built again by build_block(). */
int compile_endpoints(Compiler *k);
/* How each interface of an endpoint is dispatched (bc->settled). */
int plan_dispatch(const Compiler *k, const EndpointRecord *rec, const Endpoint *e, BlockChains *bc);
/* One chain of a new block (into bc): the record's previous one when its
 * plan is the same, else built. */
int block_chain(Compiler *k, const EndpointRecord *rec, NftBlock *b, const Endpoint *e, Flavour f, Direction d,
                ChainPlan *plan, BlockChains *bc);
/* The address dispatch as last built, into this ruleset, if the endpoints
 * matched by address and their hooks are the same: 1 if so, 0 if it must
 * be built, or -errno. */
/* A few sets built from the same inputs as last time, kept whole by the
 * signature of those inputs: the pre-binding maps and sets. */
typedef enum KeptGroup {
        KEPT_PREBIND_MAPS,
        KEPT_PREBIND_BOUND,
        _KEPT_MAX,
} KeptGroup;

typedef struct KeptSets {
        uint64_t signature;
        NftSet *sets[4];
        size_t n;
        bool valid;
} KeptSets;

/* Puts the group's kept sets into this ruleset if they were built for
 * signature: 1, else 0 (build them, then kept_sets_keep), or -ENOMEM. */
int kept_sets_reuse(Compiler *k, KeptGroup which, uint64_t signature);
/* Keeps the sets from position sets_from of the ruleset on as the group. */
void kept_sets_keep(Compiler *k, KeptGroup which, uint64_t signature, size_t sets_from);
int addr_dispatch_reuse(Compiler *k);
/* Keeps the address dispatch just built (the sets from position sets_from
 * of the ruleset on) for the next compilation. */
void addr_dispatch_keep(Compiler *k, size_t sets_from);
