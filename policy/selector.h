/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Calico label selectors (calico-api.md §3): parse once into a compiled tree,
 * then evaluate against label maps without allocating. Accepts what Calico's Go
 * parser accepts, except NUL bytes and parentheses nested deeper than 512. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "labels.h"
#include "macro.h"

/* Labels longer than this are rejected, as in Calico. */
#define SELECTOR_LABEL_MAX 512
/* Nesting bound for parentheses. Calico has none; we need one so that the
 * recursive parser and evaluator have bounded stack use. 512 is more than any
 * selector that fits Calico's 1024-character field limit can reach. */
#define SELECTOR_DEPTH_MAX 512

typedef struct Selector Selector;

typedef struct SelectorError {
        size_t column;          /* 1-based byte column; length + 1 means "at the end" */
        char message[160];
} SelectorError;

/* Returns 0, -EINVAL (reterr filled, if given) or -ENOMEM. *ret is only
 * written on success. Empty or blank text is the match-everything selector. */
int selector_parse(const char *text, Selector **ret, SelectorError *reterr);
/* Same, for text that need not be NUL-terminated. A NUL byte anywhere in the
 * first len bytes is a syntax error (a C string could not carry it). */
int selector_parse_len(const char *text, size_t len, Selector **ret, SelectorError *reterr);

Selector *selector_free(Selector *s);
DEFINE_CLEANUP_FUNC(Selector, selector_free)

/* Returns the value of key, or NULL if the key is absent. */
typedef const char *(*LabelLookup)(const void *ctx, const char *key);

bool selector_eval(const Selector *s, const Labels *labels);
bool selector_eval_lookup(const Selector *s, LabelLookup lookup, const void *ctx);

/* Canonical form (Calico's String()), malloc'd; NULL only on allocation failure. */
char *selector_to_string(const Selector *s);
/* The same with prefix before every label (Calico's PrefixVisitor). */
char *selector_to_string_prefixed(const Selector *s, const char *prefix);
/* True for the empty selector and a bare all(). */
bool selector_is_all(const Selector *s);

/* The distinct label keys the selector mentions, sorted bytewise. The array
 * belongs to the selector. */
const char *const *selector_keys(const Selector *s, size_t *ret_n);

/* Validation rule E2 looks at tokens, not the parse tree: *ret_only_global is
 * true iff text is exactly one token before the end and it is global().
 * Returns -EINVAL only if text does not tokenize; text that tokenizes but
 * would not parse (e.g. "has (a)") returns 0 with *ret_only_global false. */
int selector_tokens_global_only(const char *text, bool *ret_only_global);

/* Felix sees namespace and service-account selectors rewritten into plain
 * selectors over labels prefixed "pcns." and "pcsa." (libcalico-go's
 * updateprocessors), which a host endpoint carries only if its own labels
 * say so. Both return malloc'd text for selector_parse(), "" for none, or
 * -ENOMEM. A namespace or service-account selector that does not parse is
 * left out, as Felix does. */

/* A GlobalNetworkPolicy's selector (globalnetworkpolicyprocessor.go):
 * selector, then "&& pcns.<namespaceSelector>" and "&& pcsa.<...>", each
 * step replacing every all() in the text with has() of the namespace or
 * service-account label. */
int selector_felix_policy(const char *selector, const char *namespace_selector, const char *sa_selector, char **ret);

/* An EntityRule's positive selector in a global policy or a profile
 * (rules.go getEndpointSelector, parseServiceAccounts): the namespace
 * selector (all() and global() rewritten), the service-account match and
 * selector, ANDed. notSelector stays apart, as in Felix's rule. */
int selector_felix_entity(const char *selector, const char *namespace_selector, bool has_service_accounts,
                          const char *sa_selector, const char *const *sa_names, size_t n_sa_names, char **ret);
