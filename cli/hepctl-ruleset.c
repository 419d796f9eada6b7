/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hepctl ruleset: prints the nftables table hostendpointd would commit for
 * this node, from the datastore and this network namespace's interfaces,
 * without committing anything. The same calculation and compiler as the
 * daemon, so what it shows is what the kernel would get; with --staged,
 * what it would get if every staged policy were promoted (staged.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hepctl.h"
#include "links.h"
#include "settings.h"
#include "staged.h"

/* The ruleset this node would commit, computed as the daemon does: from
 * the datastore (--datastore), for --node (default: this host's name),
 * with this namespace's interfaces (unless --no-interfaces). Errors are
 * printed. On success *ret holds the computation (of the staged view
 * with --staged, else ret->c alone) and *ret_ds the datastore, whose
 * resources the calculation borrows. */
int hepctl_compute(const HepctlArgs *a, Datastore **ret_ds, StagedComputation *ret) {
        _cleanup_(datastore_freep) Datastore *ds = NULL;
        _cleanup_(interface_list_done) InterfaceList ifaces = {};
        _cleanup_free_ Resource **res = NULL;
        _cleanup_free_ char *host = NULL;
        const char *node = a->node;
        const StoreEntry *e;
        size_t n;
        int r;

        if (!node) {
                r = default_nodename(&host);
                if (r < 0) {
                        hepctl_error("cannot determine the node name (%s); use --node", strerror(-r));
                        return r;
                }
                node = host;
        }
        r = hepctl_open_datastore(&a->global, &ds);
        if (r < 0)
                return r;
        r = datastore_refresh(ds);
        if (r < 0) {
                hepctl_error("cannot read datastore: %s", strerror(-r));
                return r;
        }
        hepctl_report_problems(ds);
        if (!a->no_interfaces && (r = links_enumerate(&ifaces)) < 0) {
                hepctl_error("cannot list network interfaces: %s", strerror(-r));
                return r;
        }
        datastore_entries(ds, &e, &n);
        res = new_array(n, sizeof(Resource *));
        if (!res)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                res[i] = e[i].res;
        if (a->staged)
                r = staged_compute(res, n, node, ifaces.v, ifaces.n, ret);
        else
                r = ruleset_compute(res, n, node, ifaces.v, ifaces.n, NULL, NULL, &ret->c);
        if (r < 0) {
                hepctl_error("cannot compute the ruleset: %s", strerror(-r));
                return r;
        }
        for (size_t i = 0; i < ret->c.calc->n_warnings; i++)
                fprintf(stderr, "warning: %s\n", ret->c.calc->warnings[i]);
        *ret_ds = steal_ptr(ds);
        return 0;
}

int hepctl_ruleset(const HepctlArgs *a) {
        _cleanup_(datastore_freep) Datastore *ds = NULL;
        _cleanup_(staged_computation_done) StagedComputation s = {};
        StrBuf out = STRBUF_INIT;

        if (hepctl_compute(a, &ds, &s) < 0)
                return HEPCTL_FAIL;
        ruleset_print(s.c.ruleset, &out);
        fputs(strbuf_str(&out), stdout);
        strbuf_done(&out);
        return HEPCTL_OK;
}
