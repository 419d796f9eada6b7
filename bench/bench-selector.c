/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Selector evaluation throughput: a three-term selector over a 10-label map,
 * matching and non-matching, for about two seconds each. Prints evals/s.
 * Target (see the selector brief): at least 5 million evals/s. */
#include <stdio.h>
#include <time.h>

#include "labels.h"
#include "selector.h"

#define BATCH 4096

static double now(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* Runs batches until `seconds` have passed; the clock is read once per
 * batch so that it does not dominate. */
static double measure(const Selector *s, const Labels *l, double seconds, bool expect) {
        double start = now(), elapsed;
        unsigned long n = 0, hits = 0;

        do {
                for (int i = 0; i < BATCH; i++)
                        hits += selector_eval(s, l);
                n += BATCH;
                elapsed = now() - start;
        } while (elapsed < seconds);
        if (hits != (expect ? n : 0)) {
                fprintf(stderr, "unexpected result: %lu of %lu matched\n", hits, n);
                return -1;
        }
        return (double) n / elapsed;
}

static int labels_fill(Labels *l, const char *tier) {
        static const char *const kv[][2] = {
                { "app", "payments" }, { "env", "prod" }, { "kubernetes.io/hostname", "node-17" },
                { "owner", "team-a" }, { "projectcalico.org/namespace", "default" }, { "role", "db" },
                { "team", "storage" }, { "version", "v1.2.3" }, { "zone", "us-east-1a" },
        };
        int r = labels_set(l, "tier", tier);

        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(kv); i++)
                r = labels_set(l, kv[i][0], kv[i][1]);
        return r;
}

int main(void) {
        const char *text = "role == \"db\" && has(zone) && tier in {\"a\",\"b\"}";
        _cleanup_(selector_freep) Selector *s = NULL;
        Labels hit = LABELS_INIT, miss = LABELS_INIT;
        SelectorError e;
        double a, b;

        if (selector_parse(text, &s, &e) < 0) {
                fprintf(stderr, "parse: column %zu: %s\n", e.column, e.message);
                return 1;
        }
        if (labels_fill(&hit, "b") < 0 || labels_fill(&miss, "c") < 0)
                return 1;
        a = measure(s, &hit, 2.0, true);
        b = measure(s, &miss, 2.0, false);
        labels_done(&hit);
        labels_done(&miss);
        if (a < 0 || b < 0)
                return 1;
        printf("selector: %s\n", text);
        printf("labels: 10\n");
        printf("match:    %.2f M evals/s\n", a / 1e6);
        printf("no match: %.2f M evals/s\n", b / 1e6);
        return 0;
}
