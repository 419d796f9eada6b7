/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One Calico rule → nft rules, for compile.c (internal to policy/). A
 * policy's or profile's chain is a list of these; the endpoint chains
 * that jump to it act on the packet-mark bits its rules set. */
#pragma once

#include "calc.h"
#include "ruleset.h"
#include "setcache.h"
#include "strmap.h"

/* The verdict of a policy's rule, for the endpoint chain that jumped to
 * it (Felix's three mark bits): Allow, Pass, Deny. */
#define MARK_ACCEPT "0x00010000"
#define MARK_PASS "0x00020000"
#define MARK_DROP "0x00040000"

/* A set the rules of a chain refer to, recorded when they are compiled so
 * that a later compilation can reuse the chain: it puts the same sets in
 * place and checks that none became empty or non-empty (an empty set can
 * remove rules; see compile_rule_family). */
typedef enum SetDepKind {
        DEP_SELECTOR,
        DEP_NAMED_PORT,
        DEP_LIST,
        _DEP_KIND_MAX,
        _DEP_KIND_INVALID = -EINVAL,
} SetDepKind;

typedef struct SetDep {
        SetDepKind kind;
        CachedSet *set; /* DEP_SELECTOR, DEP_NAMED_PORT: the set cache's entry */
        NftSet *list;   /* DEP_LIST: the set itself (referenced, immutable, shared) */
        bool empty4, empty6;
        bool nets4, nets6; /* the set's kind, which its name says */
} SetDep;

typedef struct SetDeps {
        SetDep *v;
        size_t n, alloc;
} SetDeps;

void set_deps_done(SetDeps *deps);
/* No spare room: for deps kept as long as their chain. */
void set_deps_trim(SetDeps *deps);

typedef struct ParsedSelector ParsedSelector;

/* One compilation's: selectors are parsed once however many rules name
 * them. */
typedef struct RuleCompiler {
        const Calc *calc;
        Ruleset *rs;       /* where the sets go */
        SetCache *sets;
        SetDeps *recording; /* where the sets used are noted, or NULL */
        const char *log; /* the statement of a Log rule in the chain being filled, or NULL for the default */
        /* Flow logs: the statement that logs the rule being compiled, if
         * it allows or denies (flowlog.h), or NULL. */
        const char *flow_log;
        StrMap selectors;  /* text → ParsedSelector */
        ParsedSelector **all_selectors;
        size_t n_selectors, alloc_selectors;
} RuleCompiler;

/* Appends rule's nft rules to chain; the sets they use are put into rs. */
int rule_compile(RuleCompiler *k, NftChain *chain, const Rule *rule);
void rule_compiler_done(RuleCompiler *k);
/* A named set for a literal list (type: its nft type), named "PREFIX-<hash
 * of the content>" into ret, shared by every rule with the same list. */
int rule_list_set(RuleCompiler *k, const char *prefix, const char *type, char **elems, size_t n, char ret[static 40]);
