/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The nftables sets that selectors and named ports resolve to, kept from
 * one compilation to the next. A set is rebuilt only when its members
 * change, and finding out is incremental: only the host endpoints the
 * calculation reports as changed are evaluated again (Felix's label index
 * does the same), so one HEP edit costs one evaluation per selector, not
 * one per selector and HEP. */
#pragma once

#include "calc.h"
#include "ruleset.h"

typedef struct SetCache SetCache;
typedef struct CachedSet CachedSet; /* one selector's (or named port's) pair of sets */

SetCache *set_cache_new(void);
SetCache *set_cache_free(SetCache *sc);
DEFINE_CLEANUP_FUNC(SetCache, set_cache_free)

/* Puts the sets "sel4-<hash>"/"sel6-<hash>" for a selector (canon: its
 * canonical text) into rs and returns the entry (its names below); a
 * family's set that holds a network is "net4-<hash>"/"net6-<hash>". */
int set_cache_selector(SetCache *sc, const Calc *calc, Ruleset *rs, const char *canon, CachedSet **ret);
/* The same for a named port: "port4-<hash>"/"port6-<hash>" with elements
 * "addr . proto . port". proto 0: any protocol of that name. */
int set_cache_named_port(SetCache *sc, const Calc *calc, Ruleset *rs, const char *canon, const char *port,
                         uint8_t proto, CachedSet **ret);
/* Brings an entry obtained in an earlier compilation up to date and puts
 * its sets into rs, without looking it up again. Entries stay valid until
 * a sweep that finds them unused. */
int set_cache_use(SetCache *sc, const Calc *calc, Ruleset *rs, CachedSet *cs);
const char *cached_set_name(const CachedSet *cs, int family);
bool cached_set_empty(const CachedSet *cs, int family);
/* A selector's set holds a network ("net4-"/"net6-", an interval set). */
bool cached_set_has_nets(const CachedSet *cs, int family);
/* Before each compilation, failed ones included. */
void set_cache_begin(SetCache *sc);
/* After a compilation: forget the sets it did not use. */
void set_cache_sweep(SetCache *sc);
/* Instead of a sweep, after a compilation that took the previous sets
 * whole for a calculation in which no HEP changed (calc): nothing is
 * dropped, and every set stays current for incremental updates. */
void set_cache_keep_all(SetCache *sc, const Calc *calc);
