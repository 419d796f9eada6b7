/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Load + validate speed: 10,000 HostEndpoints in one YAML file (generated
 * in memory, each with labels, expected IPs, profiles and named ports),
 * parsed, decoded, defaulted and validated as hepctl and the daemon do.
 * Runs several times and prints each run, the median and the spread.
 * Target: <= 150 ms on a 2-core machine. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bench-util.h"
#include "check.h"
#include "loader.h"
#include "strbuf.h"

#define N_HEPS 10000
#define RUNS 7

static void generate(StrBuf *b, size_t n) {
        for (size_t i = 0; i < n; i++)
                strbuf_printf(b,
                              "---\n"
                              "apiVersion: projectcalico.org/v3\n"
                              "kind: HostEndpoint\n"
                              "metadata:\n"
                              "  name: host%zu.eth0\n"
                              "  labels:\n"
                              "    role: %s\n"
                              "    zone: zone-%zu\n"
                              "    env: production\n"
                              "spec:\n"
                              "  node: host%zu\n"
                              "  interfaceName: eth0\n"
                              "  expectedIPs:\n"
                              "  - 10.%zu.%zu.%zu\n"
                              "  - fd00::%zx\n"
                              "  profiles:\n"
                              "  - base\n"
                              "  ports:\n"
                              "  - name: http\n"
                              "    port: 8080\n"
                              "    protocol: TCP\n"
                              "  - name: dns\n"
                              "    port: 53\n"
                              "    protocol: UDP\n",
                              i, i % 3 ? "web" : "db", i % 16, i, i >> 16, (i >> 8) & 255, i & 255, i + 1);
}

int main(void) {
        StrBuf yaml = STRBUF_INIT;
        double runs[RUNS];

        generate(&yaml, N_HEPS);
        if (!strbuf_ok(&yaml))
                return 1;
        for (int k = 0; k < RUNS; k++) {
                ResourceList l = RESOURCE_LIST_INIT;
                ParseError e = PARSE_ERROR_INIT;
                double t0 = now_ms();

                if (resources_parse("bench.yaml", yaml.data, yaml.len, &l, &e) < 0) {
                        fprintf(stderr, "parse failed: %s\n", e.message);
                        return 1;
                }
                for (size_t i = 0; i < l.n; i++)
                        if (resource_check(l.v[i], &e) < 0) {
                                fprintf(stderr, "invalid: %s\n", e.message);
                                return 1;
                        }
                runs[k] = now_ms() - t0;
                if (l.n != N_HEPS) {
                        fprintf(stderr, "loaded %zu, expected %d\n", l.n, N_HEPS);
                        return 1;
                }
                resource_list_done(&l);
                printf("run %d: %.1f ms\n", k + 1, runs[k]);
        }
        qsort(runs, RUNS, sizeof(double), compare_doubles);
        printf("load+validate %d HostEndpoints (%.1f MB of YAML): median %.1f ms, min %.1f, max %.1f (target <= 150 ms)\n",
               N_HEPS, (double)yaml.len / 1e6, runs[RUNS / 2], runs[0], runs[RUNS - 1]);
        strbuf_done(&yaml);
        return 0;
}
