/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Calculation then compilation, timed; see compute.h. A file of its own
 * rather than a part of compile.c: it stands above both halves, and the
 * compiler stays about turning one calculation into one ruleset. */
#include "compute.h"

int ruleset_compute(Resource *const *resources, size_t n_resources, const char *nodename,
                    const HostInterface *ifaces, size_t n_ifaces, CalcCache *calc_cache,
                    CompileCache *compile_cache, Computation *ret) {
        _cleanup_(calc_freep) Calc *calc = NULL;
        Ruleset *ruleset = NULL;
        uint64_t t0, t1;
        int r;

        t0 = now_usec();
        r = calc_run(resources, n_resources, nodename, ifaces, n_ifaces, calc_cache, &calc);
        if (r < 0)
                return r;
        t1 = now_usec();
        r = ruleset_compile(calc, compile_cache, &ruleset);
        if (r < 0)
                return r;
        *ret = (Computation) {
                .calc = steal_ptr(calc),
                .ruleset = ruleset,
                .calc_usec = t1 - t0,
                .compile_usec = now_usec() - t1,
        };
        return 0;
}

void computation_done(Computation *c) {
        calc_free(c->calc);
        ruleset_free(c->ruleset);
        *c = (Computation) {};
}
