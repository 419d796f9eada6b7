/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Calculation + compilation + commit to the kernel, in a network namespace
 * of its own (run as root). Input: 10,000 HostEndpoints (100 of them on
 * this node, on interfaces eth0..eth99 that exist in the namespace) and
 * 1,000 GlobalNetworkPolicies of 10 rules each, selecting endpoints by
 * label and peers by selector. Measures, several times each, with the
 * median and spread:
 *   - the first full commit (everything built and replaced);
 *   - one policy edited and re-committed;
 *   - one HostEndpoint added for one interface.
 * Targets: <= 500 ms, <= 10 ms, <= 5 ms. Between commits, libnftables'
 * cache is warmed (untimed), as hostendpointd does while idle (nft.h).
 * The full commit is measured for each way of sending it (--backend
 * batch|text|both, default both): a netlink batch built from the ruleset
 * (nft-batch.h), or nft text through libnftables; with both, each run
 * times the two in turn (alternating which goes first), with the time the
 * process spent in the kernel (system time) beside each.
 * Then libnftables' own floor: one dispatch-map element added, then
 * deleted, each its own transaction, on this table and on an empty one
 * (libnftables re-reads its cache of the table's chains, sets and objects
 * before any element command). */
#include <nftables/libnftables.h>
#include <sched.h>
#include <stdio.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "bench-resources.h"
#include "bench-util.h"
#include "compute.h"
#include "enforcer.h"
#include "strbuf.h"

#define N_HEPS 10000
#define N_LOCAL 100
#define N_POLICIES 1000
#define RUNS 5
/* How full replaces are sent (nft.h). */
enum { MODE_TEXT, MODE_BATCH, _MODE_MAX };
static const char *const mode_name[_MODE_MAX] = { "text (libnftables)", "batch (libnftnl)" };
#define EDITS 5 /* policy edits and HEP additions per run */

static void report(const char *what, double *v, size_t n, const char *target) {
        qsort(v, n, sizeof(double), compare_doubles);
        printf("%-44s median %8.2f ms  min %8.2f  max %8.2f  (target %s)\n", what, v[n / 2], v[0], v[n - 1], target);
}

static double kernel_ms(void) {
        struct rusage ru;

        getrusage(RUSAGE_SELF, &ru);
        return (double)ru.ru_stime.tv_sec * 1e3 + (double)ru.ru_stime.tv_usec / 1e3;
}

/* n transactions adding one element to a verdict map of table `inet
 * TABLE` (jumping to CHAIN), each followed by one deleting it, timed one
 * by one into add[] and del[]; the average time spent in the kernel (its
 * dumps for libnftables' cache, and validating the jumps an added element
 * makes reachable) into kernel[0] (adds) and kernel[1] (deletes). */
static int time_element_commits(const char *table, const char *map, const char *chain, double *add, double *del,
                                size_t n, double kernel[2]) {
        struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
        char cmd[256];

        if (!ctx)
                return -1;
        kernel[0] = kernel[1] = 0;
        for (size_t i = 0; i < 2 * n; i++) {
                if (chain)
                        snprintf(cmd, sizeof(cmd), "%s element inet %s %s { \"probe%zu\" : jump %s }\n",
                                 i % 2 ? "delete" : "add", table, map, i / 2, chain);
                else
                        snprintf(cmd, sizeof(cmd), "%s element inet %s %s { \"probe%zu\" }\n",
                                 i % 2 ? "delete" : "add", table, map, i / 2);
                double t = now_ms(), k = kernel_ms();
                if (nft_run_cmd_from_buffer(ctx, cmd) != 0) {
                        nft_ctx_free(ctx);
                        return -1;
                }
                (i % 2 ? del : add)[i / 2] = now_ms() - t;
                kernel[i % 2] += (kernel_ms() - k) / (double)n;
        }
        nft_ctx_free(ctx);
        return 0;
}

static void gen_hep(StrBuf *b, size_t i, const char *node) {
        strbuf_printf(b,
                      "---\napiVersion: projectcalico.org/v3\nkind: HostEndpoint\n"
                      "metadata: {name: hep%zu, labels: {app: a%zu, tier: t%zu, zone: z%zu}}\n"
                      "spec: {node: %s, interfaceName: eth%zu, expectedIPs: [10.%zu.%zu.%zu],"
                      " ports: [{name: http, protocol: TCP, port: 8080}]}\n",
                      i, i % 50, i % 7, i % 13, node, i % N_LOCAL, i >> 16, (i >> 8) & 255, i & 255);
}

static void gen_policy(StrBuf *b, size_t i, unsigned port_base) {
        strbuf_printf(b,
                      "---\napiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\n"
                      "metadata: {name: pol%zu}\nspec:\n  order: %zu\n  selector: app == 'a%zu'\n  ingress:\n",
                      i, i, i % 50);
        for (unsigned r = 0; r < 8; r++)
                strbuf_printf(b, "  - {action: Allow, protocol: TCP, source: {selector: tier == 't%zu'}, destination: {ports: [%u]}}\n",
                              (i + r) % 7, port_base + r);
        strbuf_printf(b, "  - {action: Allow, protocol: TCP, destination: {ports: [http]}}\n"
                         "  - {action: Deny, protocol: UDP, source: {nets: [10.%zu.0.0/16]}}\n",
                      i % 200);
}

/* One daemon's commit: computes (the shared path, compute.h) and commits;
 * how long the computing took into *computing, the whole into *total. */
static int compute_and_commit(NftBackend *nft, const ResourceList *l, const InterfaceList *ifaces, CalcCache *cache,
                              CompileCache *ccache, double *computing, double *total) {
        Computation c = {};
        char *err = NULL;
        double t = now_ms();
        int r;

        r = ruleset_compute(l->v, l->n, "bench", ifaces->v, ifaces->n, cache, ccache, &c);
        *computing = now_ms() - t;
        if (r >= 0 && (r = nft_backend_commit(nft, c.ruleset, &err)) >= 0)
                c.ruleset = NULL; /* the backend's now */
        *total = now_ms() - t;
        if (r < 0)
                fprintf(stderr, "commit failed: %s\n", err ? err : strerror(-r));
        computation_done(&c);
        free(err);
        return r;
}

#define FLOOR_COMMITS 40

int main(int argc, char **argv) {
        double full[_MODE_MAX][RUNS], full_c[_MODE_MAX][RUNS], full_k[_MODE_MAX][RUNS], full_sys[_MODE_MAX][RUNS];
        double edit[RUNS * EDITS], add[RUNS * EDITS];
        bool mode_on[_MODE_MAX] = { true, true };
        double floor_add[FLOOR_COMMITS], floor_del[FLOOR_COMMITS], empty_add[FLOOR_COMMITS], empty_del[FLOOR_COMMITS];
        size_t table_chains = 0, table_sets = 0, table_counters = 0;
        double kernel_table[2], kernel_empty[2], kernel_data[2];
        double data_add[FLOOR_COMMITS], data_del[FLOOR_COMMITS];
        /* The same, split: calculation + compilation, then libnftables. */
        double edit_c[RUNS * EDITS], add_c[RUNS * EDITS], edit_k[RUNS * EDITS], add_k[RUNS * EDITS];
        InterfaceList ifaces = {};
        int r;

        if (argc == 3 && streq(argv[1], "--backend") && (streq(argv[2], "text") || streq(argv[2], "batch")))
                mode_on[streq(argv[2], "text") ? MODE_BATCH : MODE_TEXT] = false;
        else if (argc != 1 && !(argc == 3 && streq(argv[1], "--backend") && streq(argv[2], "both"))) {
                fprintf(stderr, "usage: bench-commit [--backend batch|text|both]\n");
                return 1;
        }
        if (geteuid() != 0 || unshare(CLONE_NEWNET) < 0) {
                fprintf(stderr, "bench-commit: needs root (it works in a network namespace of its own)\n");
                return 1;
        }
        for (int i = 0; i < N_LOCAL; i++) {
                char cmd[128];
                snprintf(cmd, sizeof(cmd), "ip link add eth%d type veth peer name peer%d", i, i);
                if (system(cmd) != 0)
                        return 1;
        }
        if (links_enumerate(&ifaces) < 0)
                return 1;

        for (int run = 0; run < RUNS; run++) {
                StrBuf text = STRBUF_INIT;
                ResourceList l = RESOURCE_LIST_INIT;
                NftBackend *nft = NULL;
                CalcCache *cache = calc_cache_new();
                CompileCache *ccache = compile_cache_new();

                for (size_t i = 0; i < N_HEPS; i++)
                        gen_hep(&text, i, i < N_LOCAL ? "bench" : "other");
                for (size_t i = 0; i < N_POLICIES; i++)
                        gen_policy(&text, i, 1000);
                if (bench_load_resources(strbuf_str(&text), &l) < 0)
                        return 1;
                /* A table from an earlier run (or mode): the first commit
                 * of each backend replaces it. Each mode starts from
                 * nothing computed; the last one's backend goes on. */
                for (int k = 0; k < _MODE_MAX; k++) {
                        int m = (run + k) % _MODE_MAX;
                        const char *why = NULL;
                        if (!mode_on[m])
                                continue;
                        nft = nft_backend_free(nft);
                        compile_cache_free(ccache);
                        calc_cache_free(cache);
                        cache = calc_cache_new();
                        ccache = compile_cache_new();
                        if (nft_backend_new(&nft) < 0 || !cache || !ccache)
                                return 1;
                        nft_backend_use_batch(nft, m == MODE_BATCH);
                        double sys = kernel_ms();
                        if (compute_and_commit(nft, &l, &ifaces, cache, ccache, &full_c[m][run], &full[m][run]) < 0)
                                return 1;
                        full_sys[m][run] = kernel_ms() - sys;
                        full_k[m][run] = full[m][run] - full_c[m][run];
                        if (nft_backend_fallbacks(nft, &why))
                                fprintf(stderr, "warning: the batch fell back to libnftables: %s\n", why);
                }
                if (run == 0) {
                        const Ruleset *rs = nft_backend_committed(nft);
                        printf("ruleset: %zu chains, %zu rules, %zu sets and maps\n", ruleset_count_chains(rs),
                               ruleset_count_rules(rs), rs->n_sets);
                }

                /* Edits and additions, EDITS each: the first follows the
                 * full build (cold), the others are a running daemon's. */
                for (int k = 0; k < EDITS; k++) {
                        size_t at = (size_t)run * EDITS + (size_t)k;

                        nft_backend_warm(nft); /* the idle time between two edits */
                        /* One policy edited: its rules change ports. */
                        StrBuf p = STRBUF_INIT;
                        ResourceList np = RESOURCE_LIST_INIT;
                        gen_policy(&p, 17, 2000 + (unsigned)at * 10);
                        if (bench_load_resources(strbuf_str(&p), &np) < 0)
                                return 1;
                        for (size_t i = 0; i < l.n; i++)
                                if (l.v[i]->kind == KIND_GLOBAL_NETWORK_POLICY && streq(l.v[i]->meta.name, "pol17")) {
                                        resource_free(l.v[i]);
                                        l.v[i] = np.v[0];
                                        np.n = 0;
                                }
                        r = compute_and_commit(nft, &l, &ifaces, cache, ccache, &edit_c[at], &edit[at]);
                        edit_k[at] = edit[at] - edit_c[at];
                        resource_list_done(&np);
                        strbuf_done(&p);
                        if (r < 0)
                                return 1;

                        nft_backend_warm(nft);
                        /* One HostEndpoint added for an interface that had none. */
                        StrBuf h = STRBUF_INIT;
                        ResourceList nh = RESOURCE_LIST_INIT;
                        strbuf_printf(&h, "apiVersion: projectcalico.org/v3\nkind: HostEndpoint\n"
                                          "metadata: {name: added%zu, labels: {app: a1}}\nspec: {node: bench, interfaceName: new%zu}\n",
                                      at, at);
                        if (bench_load_resources(strbuf_str(&h), &nh) < 0 || resource_list_add(&l, nh.v[0]) < 0)
                                return 1;
                        nh.n = 0;
                        r = compute_and_commit(nft, &l, &ifaces, cache, ccache, &add_c[at], &add[at]);
                        add_k[at] = add[at] - add_c[at];
                        resource_list_done(&nh);
                        strbuf_done(&h);
                        if (r < 0)
                                return 1;
                }

                if (run == RUNS - 1) {
                        const Ruleset *committed = nft_backend_committed(nft);
                        table_chains = ruleset_count_chains(committed);
                        table_sets = committed->n_sets;
                        for (size_t i = 0; i < committed->n_blocks; i++)
                                table_counters += committed->blocks[i]->n_counters;
                        if (time_element_commits(HEP_TABLE_NAME, "disp-in", "failsafe-in", floor_add, floor_del,
                                                 FLOOR_COMMITS, kernel_table) < 0 ||
                            time_element_commits(HEP_TABLE_NAME, "own-ifnames", NULL, data_add, data_del,
                                                 FLOOR_COMMITS, kernel_data) < 0)
                                return 1;
                }
                strbuf_done(&text);
                resource_list_done(&l);
                compile_cache_free(ccache);
                calc_cache_free(cache);
                nft_backend_free(nft);
        }
        printf("%d HEPs (%d local), %d policies x 10 rules, %d runs (%d edits and additions each):\n", N_HEPS,
               N_LOCAL, N_POLICIES, RUNS, EDITS);
        for (int m = 0; m < _MODE_MAX; m++) {
                char what[96];
                if (!mode_on[m])
                        continue;
                snprintf(what, sizeof(what), "full build + commit, %s", mode_name[m]);
                report(what, full[m], RUNS, "<= 250 ms");
                report("  computing", full_c[m], RUNS, "-");
                report("  the transaction", full_k[m], RUNS, "-");
                report("  system time (the kernel's share)", full_sys[m], RUNS, "-");
        }
        report("one policy edited, re-committed", edit, RUNS * EDITS, "<= 10 ms");
        report("one HEP added for one interface", add, RUNS * EDITS, "<= 5 ms");
        printf("edits split into calculation + compilation, and the libnftables transaction:\n");
        report("  policy edit: computing", edit_c, RUNS * EDITS, "-");
        report("  policy edit: libnftables", edit_k, RUNS * EDITS, "-");
        report("  HEP added: computing", add_c, RUNS * EDITS, "-");
        report("  HEP added: libnftables", add_k, RUNS * EDITS, "-");

        struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
        if (!ctx || nft_run_cmd_from_buffer(ctx, "add table inet floorprobe\nadd chain inet floorprobe c\n"
                                                 "add map inet floorprobe m { type ifname : verdict; }\n") != 0 ||
            time_element_commits("floorprobe", "m", "c", empty_add, empty_del, FLOOR_COMMITS, kernel_empty) < 0)
                return 1;
        nft_ctx_free(ctx);
        printf("libnftables alone, one map element per transaction (%d each); this table has %zu chains,\n"
               "%zu sets and %zu counters, the empty one is beside it in the same namespace:\n",
               FLOOR_COMMITS, table_chains, table_sets, table_counters);
        report("  element added, this table", floor_add, FLOOR_COMMITS, "-");
        report("  element deleted, this table", floor_del, FLOOR_COMMITS, "-");
        report("  set element (no jump) added, this table", data_add, FLOOR_COMMITS, "-");
        report("  set element (no jump) deleted, this table", data_del, FLOOR_COMMITS, "-");
        report("  element added, empty table", empty_add, FLOOR_COMMITS, "-");
        report("  element deleted, empty table", empty_del, FLOOR_COMMITS, "-");
        printf("  of which in the kernel (averages): this table %.2f ms added, %.2f ms deleted;"
               " set element %.2f, %.2f; empty table %.2f, %.2f\n", kernel_table[0], kernel_table[1], kernel_data[0],
               kernel_data[1], kernel_empty[0], kernel_empty[1]);
        interface_list_done(&ifaces);
        return 0;
}
