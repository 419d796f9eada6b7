/* SPDX-License-Identifier: GPL-2.0-or-later */
/* From resources and interfaces to the nftables ruleset: the calculation
 * (calc.h), then its compilation (compile.h). The one path that the
 * daemon's enforcer, `hepctl ruleset` and the benchmarks all take, so
 * that what each shows or measures is what the kernel gets. Pure: no I/O. */
#pragma once

#include <stdint.h>

#include "calc.h"
#include "compile.h"

/* What one computation made, and what each half of it took. */
typedef struct Computation {
        Calc *calc;       /* borrows the resources it was given */
        Ruleset *ruleset;
        uint64_t calc_usec, compile_usec;
} Computation;

/* calc_run() then ruleset_compile(). The caches are optional and go
 * together (compile.h): both NULL computes everything afresh. On failure
 * *ret is left untouched. */
int ruleset_compute(Resource *const *resources, size_t n_resources, const char *nodename,
                    const HostInterface *ifaces, size_t n_ifaces, CalcCache *calc_cache,
                    CompileCache *compile_cache, Computation *ret);
/* Frees what the computation still holds (take a field and set it to
 * NULL to keep it). */
void computation_done(Computation *c);
