/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Calculation → nftables ruleset (the IR of ruleset.h). Pure: no I/O. */
#pragma once

#include "calc.h"
#include "ruleset.h"

/* What the compiler keeps from one run to the next: policy and profile
 * chains and selector sets that did not change are shared, not rebuilt. */
typedef struct CompileCache CompileCache;

CompileCache *compile_cache_new(void);
CompileCache *compile_cache_free(CompileCache *c);
DEFINE_CLEANUP_FUNC(CompileCache, compile_cache_free)

/* cache may be NULL (everything is compiled, and settled). It must always
 * be used with the same CalcCache's calculations, one compilation per
 * calculation. */
int ruleset_compile(const Calc *calc, CompileCache *cache, Ruleset **ret);

/* The next compilation settles every interface bound by address: it goes
 * from the address dispatch sets to the dispatch maps (see compile.c).
 * Without this, an interface keeps the way it was dispatched and a new
 * one goes through the sets; the ruleset's n_unsettled counts those. */
void compile_cache_settle_next(CompileCache *c);
/* Flow logs (flowlog.h): the rules that decide also log to NFLOG, from
 * the next compilation on. Off, the ruleset is as without them. */
void compile_cache_set_flow_logs(CompileCache *c, bool on);
bool compile_cache_flow_logs(const CompileCache *c);
/* Conntrack generations (compile.c, compile_ct_generation) are kept in
 * bits 20-27 of the conntrack mark; ct-gen is the set that holds the
 * current one. The first compilation takes the one after gen (the
 * generation of the table in the kernel, 0 for none) rather than the
 * first. */
#define CT_GEN_MASK 0x0ff00000u
#define CT_GEN_SHIFT 20
#define CT_GEN_SET "ct-gen"
void compile_cache_continue_ct_generation(CompileCache *c, unsigned gen);

/* The named counters of an endpoint's chains: every packet they accept
 * (established ones included) and every packet they drop. */
void endpoint_counter_names(const char *endpoint, char accepted[static 256], char dropped[static 256]);
