/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "bench-resources.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

static int compare_identity(const void *a, const void *b) {
        const Resource *x = *(Resource *const *)a, *y = *(Resource *const *)b;

        return x->kind != y->kind ? (int)x->kind - (int)y->kind : strcmp(x->meta.name, y->meta.name);
}

int bench_load_resources(const char *text, ResourceList *l) {
        ParseError e = PARSE_ERROR_INIT;

        if (resources_parse("bench.yaml", text, strlen(text), l, &e) < 0) {
                fprintf(stderr, "%s\n", e.message);
                return -1;
        }
        for (size_t i = 0; i < l->n; i++)
                if (resource_check(l->v[i], &e) < 0) {
                        fprintf(stderr, "%s\n", e.message);
                        return -1;
                }
        qsort(l->v, l->n, sizeof(Resource *), compare_identity);
        return 0;
}
