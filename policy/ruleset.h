/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The kernel ruleset as data: the chains, sets and verdict maps of our one
 * table, `inet hostendpoint`, with rules as nft statements. The compiler
 * (compile.c) produces it; this module prints it (a readable block for
 * `hepctl ruleset`, or commands for libnftables) and computes the commands
 * that turn one ruleset into another, so that a re-commit sends only what
 * changed, in one transaction. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "macro.h"
#include "strbuf.h"
#include "strmap.h"

#define HEP_TABLE_FAMILY "inet"
#define HEP_TABLE_NAME "hostendpoint"

/* Chains and sets are reference counted so that a ruleset can share the
 * unchanged ones with the previous ruleset (compile-cache.c): they are
 * not modified once a ruleset is finished. Sharing also makes the diff
 * cheap: the same object is the same content. */
/* What a stretch of a chain's rules stands for, for explain.c (never
 * printed or committed: the kernel's rules carry no such text). A note
 * covers its chain's rules from first up to the next note's first. */
typedef struct NftNote {
        size_t first;
        int index;   /* in a policy's or profile's chain: the index of the Calico rule; else -1 */
        char *label; /* in an endpoint chain: "tier NAME", "profile NAME", "default deny"; else NULL */
} NftNote;

typedef struct NftChain {
        unsigned n_ref;
        char *name;
        uint64_t name_hash;
        char *hook;  /* base chains: "type filter hook input priority filter; policy accept;", else NULL */
        char **rules;
        size_t n_rules, alloc_rules;
        /* For explain.c: a policy's or profile's chain says whose it is
         * ("gnp NAME", "np NAMESPACE/NAME", "profile NAME"), and its notes
         * which rule each stretch renders; an endpoint chain's notes name
         * its tiers and profiles. */
        char *origin;
        NftNote *notes;
        size_t n_notes, alloc_notes;
} NftChain;

typedef struct NftSet {
        unsigned n_ref;
        bool sorted;
        char *name;
        uint64_t name_hash;
        char *type; /* "type ipv4_addr;" or "type ifname : verdict;" (then it is a map) */
        bool is_map;
        char **elements; /* sorted, unique after ruleset_finish() */
        size_t n_elements, alloc_elements;
} NftSet;

/* One endpoint's part of the ruleset: its chains, its named counters (what
 * D-Bus reports as its accepted and dropped traffic) and its elements in
 * the ruleset's sets and maps (dispatch maps or sets, own-ifnames). Immutable
 * once added: successive rulesets share the block of an endpoint that
 * compiled the same, and the diff passes over a shared block in one
 * comparison, so a hot-plug costs what changed, not every endpoint. */
typedef struct NftElement {
        char *set; /* the name of a set or map of the ruleset */
        char *element;
} NftElement;

typedef struct NftBlock {
        unsigned n_ref;
        char *name; /* unique in a ruleset: blocks are kept sorted by it */
        NftChain **chains;
        size_t n_chains, alloc_chains;
        char **counters;
        size_t n_counters, alloc_counters;
        NftElement *elements;
        size_t n_elements, alloc_elements;
} NftBlock;

/* Finished chains and sets that successive rulesets take as a whole (the
 * compiler's unchanged policy and profile chains and selector sets): the
 * group holds the references and the indexes, so a ruleset that takes it
 * costs a copy of pointers, not a reference and an index entry for each
 * of thousands of objects. */
typedef struct NftShared {
        unsigned n_ref;
        NftChain **chains;
        size_t n_chains;
        NftSet **sets;
        size_t n_sets;
        StrMap chain_index, set_index;
} NftShared;

/* NULL without memory. */
NftShared *nft_shared_new(NftChain *const *chains, size_t n_chains, NftSet *const *sets, size_t n_sets);
NftShared *nft_shared_ref(NftShared *s);
void nft_shared_unref(NftShared *s);

/* Arrays of pointers: a chain or set keeps its address while others are
 * added, so builders can hold on to it. */
typedef struct Ruleset {
        NftChain **chains; /* the chains no block holds (hooks, policies, profiles) */
        size_t n_chains, alloc_chains;
        NftSet **sets;
        size_t n_sets, alloc_sets;
        NftBlock **blocks; /* sorted by name after ruleset_finish() */
        size_t n_blocks, alloc_blocks;
        StrMap chain_index, set_index; /* by name; chains of blocks are not in chain_index */
        /* The group whose chains and sets are chains[shared_chains_from..]
         * and sets[shared_sets_from..] (referenced through it, indexed in
         * it), or NULL. */
        NftShared *shared;
        size_t shared_chains_from, shared_sets_from;
        /* Interfaces dispatched through the address dispatch sets rather
         * than the maps: bound lately, not settled yet (compile.h). */
        size_t n_unsettled;
} Ruleset;

#define RULESET_INIT {}

Ruleset *ruleset_new(void);
Ruleset *ruleset_free(Ruleset *rs);
DEFINE_CLEANUP_FUNC(Ruleset, ruleset_free)

/* Building. Names must be unique; lookups are by name. */
NftChain *nft_chain_new(const char *name, const char *hook);
NftChain *ruleset_add_chain(Ruleset *rs, const char *name, const char *hook);
/* Chains outside blocks only. */
NftChain *ruleset_find_chain(const Ruleset *rs, const char *name);
/* Adds an existing (finished) chain or set, shared with its other owners. */
int ruleset_add_shared_chain(Ruleset *rs, NftChain *c);
int ruleset_add_shared_set(Ruleset *rs, NftSet *s);
/* Adds every chain and set of a group (once per ruleset: -EBUSY after). */
int ruleset_add_shared_group(Ruleset *rs, NftShared *g);
NftChain *nft_chain_ref(NftChain *c);
void nft_chain_unref(NftChain *c);
NftSet *nft_set_ref(NftSet *s);
void nft_set_unref(NftSet *s);
int chain_add_rule(NftChain *c, const char *rule);
int chain_add_rulef(NftChain *c, const char *fmt, ...) _printf_(2, 3);
/* Notes that the rules added next (up to the next note) stand for the
 * Calico rule index, or the part of an endpoint chain label (NULL: none). */
int chain_add_note(NftChain *c, int index, const char *label);
/* The note that covers rule i of c, or NULL. */
const NftNote *chain_note(const NftChain *c, size_t i);
NftSet *ruleset_add_set(Ruleset *rs, const char *name, const char *type, bool is_map);
NftSet *ruleset_find_set(const Ruleset *rs, const char *name);
/* The set of s's name in rs (its hash known), or NULL. */
NftSet *ruleset_find_set_like(const Ruleset *rs, const NftSet *s);
int set_add_element(NftSet *s, const char *element);

NftBlock *nft_block_new(const char *name);
NftBlock *nft_block_ref(NftBlock *b);
void nft_block_unref(NftBlock *b);
/* Takes a reference to c. */
int block_add_chain(NftBlock *b, NftChain *c);
/* A named counter (each name once in a ruleset). */
int block_add_counter(NftBlock *b, const char *name);
/* An element of the ruleset's set or map named set (each once). */
int block_add_element(NftBlock *b, const char *set, const char *element);
/* Takes a reference to b, a finished block. */
int ruleset_add_block(Ruleset *rs, NftBlock *b);
/* The block of that name, or NULL; after ruleset_finish(). */
NftBlock *ruleset_find_block(const Ruleset *rs, const char *name);

/* Sorts and de-duplicates set elements, sorts blocks; call once building
 * is done. */
void ruleset_finish(Ruleset *rs);

size_t ruleset_count_chains(const Ruleset *rs);
size_t ruleset_count_rules(const Ruleset *rs);

/* "table inet hostendpoint { ... }" as nft prints a table. */
void ruleset_print(const Ruleset *rs, StrBuf *out);
/* The commands that replace whatever table exists with rs in one
 * transaction: the table is never flushed first, so there is no instant
 * without policy. */
void ruleset_commands_replace(const Ruleset *rs, StrBuf *out);
/* The commands that turn old into new: new chains and sets first, element
 * additions and removals, changed chains flushed and refilled, then
 * deletions of what is no longer referenced. Empty if nothing changed.
 * Counters that stay keep their values. */
void ruleset_commands_diff(const Ruleset *old, const Ruleset *new, StrBuf *out);

/* The steps that turn one ruleset into another, in the order one
 * transaction needs them: new counters, chains and sets; elements
 * (removals first); changed chains flushed and refilled; then what is
 * gone. ruleset_diff() walks the two rulesets and calls them; each
 * backend says them its way: ruleset_commands_diff() as nft commands,
 * kernel/nft-batch.c as netlink messages. A step's error stops the walk
 * and is returned. For elements, s is the new ruleset's set, or the old
 * one's for a map that goes (emptied before the chains it jumps to). */
typedef struct RulesetDiffOps {
        int (*add_counter)(void *userdata, const char *name);
        int (*add_chain)(void *userdata, const NftChain *c);
        int (*add_set)(void *userdata, const NftSet *s);
        int (*elements)(void *userdata, const NftSet *s, bool add, char *const *elems, size_t n);
        int (*flush_chain)(void *userdata, const NftChain *c);
        int (*add_rules)(void *userdata, const NftChain *c);
        int (*delete_chain)(void *userdata, const NftChain *c);
        int (*delete_set)(void *userdata, const NftSet *s);
        int (*delete_counter)(void *userdata, const char *name);
} RulesetDiffOps;
int ruleset_diff(const Ruleset *old, const Ruleset *new, const RulesetDiffOps *ops, void *userdata);

/* A copy of rs that shares its chains, sets and blocks (referenced), for
 * ruleset_adds_to() to compare the next ruleset with; it has no indexes,
 * so it is only the "old" side of that. NULL without memory. */
Ruleset *ruleset_snapshot(const Ruleset *rs);
/* Whether new (finished) has anything old had not: a chain, set or block
 * that is new, a chain or set that changed (a set that loses an element
 * can tighten a rule as much as one that gains one), a block with a
 * chain that is new or changed or with an element of the set binding it
 * lacked (its other elements say how its interfaces are dispatched,
 * which can change with nothing bound). Objects whose names start with
 * skip are passed over on both sides. Costs a comparison of pointers for
 * each object the two share. */
bool ruleset_adds_to(const Ruleset *old, const Ruleset *new, const char *skip, const char *binding);
