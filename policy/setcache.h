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

SetCache *set_cache_new(void);
SetCache *set_cache_free(SetCache *sc);
DEFINE_CLEANUP_FUNC(SetCache, set_cache_free)

/* Puts the sets "sel4-<hash>"/"sel6-<hash>" for a selector (canon: its
 * canonical text) into rs, and returns their names. */
int set_cache_selector(SetCache *sc, const Calc *calc, Ruleset *rs, const char *canon, const Selector *sel,
                       char ret4[static 32], char ret6[static 32]);
/* The same for a named port: "port4-<hash>"/"port6-<hash>" with elements
 * "addr . proto . port". proto 0: any protocol of that name. */
int set_cache_named_port(SetCache *sc, const Calc *calc, Ruleset *rs, const char *canon, const Selector *sel,
                         const char *port, uint8_t proto, char ret4[static 32], char ret6[static 32]);
/* After a compilation: forget the sets it did not use. */
void set_cache_sweep(SetCache *sc);
