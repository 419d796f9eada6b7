/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Small helpers declared in macro.h: allocation, the clock. */
#include "macro.h"

#include <stdint.h>
#include <time.h>

char *strdup_or_null(const char *s, bool *ok) {
        char *r;

        if (!s)
                return NULL;
        r = strdup(s);
        if (!r && ok)
                *ok = false;
        return r;
}

/* Ensure room for 'need' elements; amortised doubling. Returns the (possibly
 * moved) array, or NULL on overflow or allocation failure, leaving p valid. */
void *grow_array(void *p, size_t *alloc, size_t need, size_t size) {
        size_t n;
        void *q;

        if (need <= *alloc)
                return p;
        n = *alloc ? *alloc : 4;
        while (n < need) {
                if (n > SIZE_MAX / 2)
                        return NULL;
                n *= 2;
        }
        if (size && n > SIZE_MAX / size)
                return NULL;
        q = realloc(p, n * size);
        if (!q)
                return NULL;
        *alloc = n;
        return q;
}

uint64_t now_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

void strv_free_n(char **v, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(v[i]);
        free(v);
}
