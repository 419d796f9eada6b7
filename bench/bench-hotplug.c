/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What one interface event costs us before libnftables sees it: the
 * calculation, the compilation and the diff against the committed ruleset
 * (the commands text), with no kernel involved (runs as any user).
 * Two inputs, as the daemon and D-Bus benchmarks use them:
 *   - "by name": 1,000 local HostEndpoints by interfaceName, 10 policies;
 *     500 interfaces exist, the others are hot-plugged one at a time;
 *   - "by address": 1,000 HostEndpoints (100 local, by expectedIPs on
 *     100 interfaces), 1,000 policies of 10 rules (bench-daemon.sh's);
 *     an address comes and goes.
 *   - "remote": the "by address" input, in which a remote HEP's tier label
 *     changes (a new resource object in its place, as a datastore event
 *     makes), then changes back.
 * Usage: bench-hotplug [name|address|remote [hot|cold [HEPS [POLICIES]]]]; HEPS
 * and POLICIES size the "by address" input (issue 18's scale point is
 * 10000 5000).
 * Prints p50/p99 of each stage over 400 events per input, three rounds,
 * then the same with the CPU caches evicted before each event (a daemon
 * idle between events meets its data cold). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bench-resources.h"
#include "bench-util.h"
#include "compute.h"
#include "strbuf.h"

#define EVENTS 400
#define ROUNDS 3

/* The "by address" input's size. */
static int n_heps = 1000, n_policies = 1000;

static void report(const char *what, double *v, size_t n) {
        qsort(v, n, sizeof(double), compare_doubles);
        printf("  %-24s p50 %6.3f ms  p99 %6.3f ms  max %6.3f ms\n", what, v[n / 2], v[n * 99 / 100], v[n - 1]);
}

static void by_name_resources(StrBuf *b) {
        for (int i = 0; i < 1000; i++)
                strbuf_printf(b,
                              "---\napiVersion: projectcalico.org/v3\nkind: HostEndpoint\n"
                              "metadata: {name: h%d, labels: {app: a%d}}\nspec: {node: bench, interfaceName: h%d}\n",
                              i, i % 10, i);
        for (int p = 0; p < 10; p++)
                strbuf_printf(b,
                              "---\napiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: pol%d}\n"
                              "spec: {selector: app == 'a%d', ingress: [{action: Allow, protocol: TCP,"
                              " destination: {ports: [%d]}}]}\n",
                              p, p, 8000 + p);
}

static void by_address_resources(StrBuf *b) {
        for (int i = 0; i < n_heps; i++)
                strbuf_printf(b,
                              "---\napiVersion: projectcalico.org/v3\nkind: HostEndpoint\n"
                              "metadata: {name: h%d, labels: {app: a%d, tier: t%d}}\n"
                              "spec: {node: %s, expectedIPs: [10.0.%d.%d], ports: [{name: http, protocol: TCP, port: 8080}]}\n",
                              i, i % 50, i % 7, i < 100 ? "bench" : "other", i >> 8, i & 255);
        for (int p = 0; p < n_policies; p++) {
                strbuf_printf(b,
                              "---\napiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\n"
                              "metadata: {name: pol%d}\nspec:\n  order: %d\n  selector: app == 'a%d'\n  ingress:\n",
                              p, p, p % 50);
                for (int r = 0; r < 8; r++)
                        strbuf_printf(b,
                                      "  - {action: Allow, protocol: TCP, source: {selector: tier == 't%d'},"
                                      " destination: {ports: [%d]}}\n",
                                      (p + r) % 7, 1000 + r);
                strbuf_printf(b, "  - {action: Allow, protocol: TCP, destination: {ports: [http]}}\n"
                                 "  - {action: Deny, protocol: UDP, source: {nets: [10.%d.0.0/16]}}\n",
                              p % 200);
        }
}

typedef struct Pipeline {
        CalcCache *calc_cache;
        CompileCache *compile_cache;
        Ruleset *committed;
        double calc, compile, diff;
} Pipeline;

/* Larger than any CPU cache here: writing it evicts our data. */
#define EVICT_BYTES (64u << 20)
static unsigned char *evict_buf;

static void evict_caches(void) {
        for (size_t i = 0; i < EVICT_BYTES; i += 64)
                evict_buf[i]++;
}

static int step(Pipeline *p, ResourceList *l, const HostInterface *ifaces, size_t n, bool cold) {
        StrBuf cmds = STRBUF_INIT;
        Computation c = {};
        double t;
        int r;

        if (cold)
                evict_caches();
        r = ruleset_compute(l->v, l->n, "bench", ifaces, n, p->calc_cache, p->compile_cache, &c);
        if (r < 0)
                return r;
        t = now_ms();
        if (p->committed)
                ruleset_commands_diff(p->committed, c.ruleset, &cmds);
        p->diff = now_ms() - t;
        p->calc = (double)c.calc_usec / 1e3;
        p->compile = (double)c.compile_usec / 1e3;
        strbuf_done(&cmds);
        ruleset_free(p->committed);
        p->committed = steal_ptr(c.ruleset);
        computation_done(&c);
        return 0;
}

/* A remote HEP (h<i>, i >= 100) with its tier label moved on by one: the
 * object a datastore event puts in its place. */
static Resource *relabelled_remote(int i, int shift, ResourceList *keep) {
        char yaml[512];

        snprintf(yaml, sizeof(yaml),
                 "---\napiVersion: projectcalico.org/v3\nkind: HostEndpoint\n"
                 "metadata: {name: h%d, labels: {app: a%d, tier: t%d}}\n"
                 "spec: {node: other, expectedIPs: [10.0.%d.%d], ports: [{name: http, protocol: TCP, port: 8080}]}\n",
                 i, i % 50, (i + shift) % 7, i >> 8, i & 255);
        if (bench_load_resources(yaml, keep) < 0 || keep->n == 0)
                return NULL;
        return keep->v[keep->n - 1];
}

static int bench(const char *title, bool by_address, bool remote, bool cold) {
        double calc[EVENTS * ROUNDS], compile[EVENTS * ROUNDS], diff[EVENTS * ROUNDS], total[EVENTS * ROUNDS];
        HostInterface ifaces[1000] = {}, cur[501];
        IPAddr addrs[1000];
        StrBuf text = STRBUF_INIT;
        ResourceList l = RESOURCE_LIST_INIT;
        size_t n_present = by_address ? 100 : 500, at = 0;
        ResourceList moved = RESOURCE_LIST_INIT;
        Resource *original = NULL;
        size_t moved_at = 0;

        (by_address ? by_address_resources : by_name_resources)(&text);
        if (bench_load_resources(strbuf_str(&text), &l) < 0)
                return -1;
        for (int i = 0; i < 1000; i++) {
                char name[16], ip[32];
                snprintf(name, sizeof(name), "%s%d", by_address ? "eth" : "h", i);
                snprintf(ip, sizeof(ip), "10.0.%d.%d", i >> 8, i & 255);
                ifaces[i] = (HostInterface) { .name = strdup(name), .ifindex = i + 2, .oper_up = true };
                if (!ipaddr_parse_go(ip, &addrs[i]))
                        return -1;
        }
        for (int round = 0; round < ROUNDS; round++) {
                Pipeline p = { calc_cache_new(), compile_cache_new(), NULL, 0, 0, 0 };
                size_t n = n_present;

                if (by_address)
                        for (size_t i = 0; i < n; i++) {
                                ifaces[i].addrs = &addrs[i];
                                ifaces[i].n_addrs = 1;
                        }
                if (step(&p, &l, ifaces, n, false) < 0)
                        return -1;
                for (int e = 0; e < EVENTS; e++, at++) {
                        if (remote) {
                                /* Remote HEP h<100 + e> relabelled, then back. */
                                int i = 100 + e / 2 % (n_heps - 100);
                                if (e % 2 == 0) {
                                        char name[16];
                                        snprintf(name, sizeof(name), "h%d", i);
                                        for (moved_at = 0; moved_at < l.n && !(l.v[moved_at]->kind == KIND_HOST_ENDPOINT &&
                                                                               streq(l.v[moved_at]->meta.name, name));
                                             moved_at++)
                                                ;
                                        if (moved_at == l.n)
                                                return -1;
                                        original = l.v[moved_at];
                                        l.v[moved_at] = relabelled_remote(i, 1, &moved);
                                        if (!l.v[moved_at])
                                                return -1;
                                } else
                                        l.v[moved_at] = original;
                        } else if (by_address) {
                                /* Interface e % 100 loses its address, then gets it back. */
                                HostInterface *h = &ifaces[e / 2 % 100];
                                h->n_addrs = !h->n_addrs;
                        } else {
                                /* A waiting HEP's interface appears, then goes. */
                                memcpy(cur, ifaces, 500 * sizeof(HostInterface));
                                cur[500] = ifaces[500 + e / 2 % 500];
                                n = e % 2 == 0 ? 501 : 500;
                        }
                        if (step(&p, &l, by_address ? ifaces : cur, n, cold) < 0)
                                return -1;
                        calc[at] = p.calc;
                        compile[at] = p.compile;
                        diff[at] = p.diff;
                        total[at] = p.calc + p.compile + p.diff;
                }
                ruleset_free(p.committed);
                compile_cache_free(p.compile_cache);
                calc_cache_free(p.calc_cache);
        }
        printf("%s%s: %d events x %d rounds\n", title, cold ? ", caches evicted before each" : "", EVENTS, ROUNDS);
        report("calculation", calc, at);
        report("compilation", compile, at);
        report("diff to commands", diff, at);
        report("total", total, at);
        for (int i = 0; i < 1000; i++)
                free(ifaces[i].name);
        resource_list_done(&moved);
        resource_list_done(&l);
        strbuf_done(&text);
        return 0;
}

/* Usage: bench-hotplug [name|address [hot|cold]] (default: all four). */
int main(int argc, char **argv) {
        const char *only = argc > 1 ? argv[1] : NULL, *temp = argc > 2 ? argv[2] : NULL;

        char title[96], remote_title[112];

        if (argc > 3)
                n_heps = atoi(argv[3]);
        if (argc > 4)
                n_policies = atoi(argv[4]);
        if (n_heps < 100 || n_heps > 60000 || n_policies < 1) {
                fprintf(stderr, "bench-hotplug: HEPS must be 100..60000 and POLICIES at least 1\n");
                return 1;
        }
        snprintf(title, sizeof(title), "by address (%d HEPs, 100 local, %d policies)", n_heps, n_policies);
        snprintf(remote_title, sizeof(remote_title), "a remote HEP relabelled (%d HEPs, 100 local, %d policies)", n_heps,
                 n_policies);
        evict_buf = calloc(1, EVICT_BYTES);
        if (!evict_buf)
                return 1;
        for (int cold = 0; cold <= 1; cold++) {
                if (temp && streq(temp, cold ? "hot" : "cold"))
                        continue;
                if ((!only || streq(only, "name")) && bench("by name (1000 local HEPs, 10 policies)", false, false, cold) < 0)
                        return 1;
                if ((!only || streq(only, "address")) && bench(title, true, false, cold) < 0)
                        return 1;
                if ((!only || streq(only, "remote")) && bench(remote_title, true, true, cold) < 0)
                        return 1;
        }
        free(evict_buf);
        return 0;
}
