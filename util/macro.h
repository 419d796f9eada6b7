/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Small helpers every module uses: automatic cleanup, ownership transfer,
 * array sizes. Kept tiny on purpose; anything bigger gets its own module. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _pure_ __attribute__((pure))
#define _warn_unused_result_ __attribute__((warn_unused_result))

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

/* Take ownership of a pointer: returns it and leaves NULL behind, so the
 * cleanup attribute on the source variable does nothing. */
#define steal_ptr(p)                      \
        ({                                \
                typeof(p) _stolen_ = (p); \
                (p) = NULL;               \
                _stolen_;                 \
        })

static inline void freep(void *p) {
        free(*(void **)p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline void fclosep(FILE **f) {
        if (*f)
                fclose(*f);
}
#define _cleanup_fclose_ _cleanup_(fclosep)

/* Generates type_freep() for use with _cleanup_(). The destructor must
 * accept NULL. */
#define DEFINE_CLEANUP_FUNC(type, func)               \
        static inline void func##p(type **p) {        \
                if (*p)                               \
                        func(*p);                     \
        }

static inline bool streq(const char *a, const char *b) {
        return strcmp(a, b) == 0;
}

static inline bool streq_ptr(const char *a, const char *b) {
        if (!a || !b)
                return a == b;
        return strcmp(a, b) == 0;
}

static inline bool isempty(const char *s) {
        return !s || !*s;
}

/* Like strdup() but NULL-safe: returns NULL for NULL, and sets *ok false on
 * allocation failure so callers can tell the two apart. */
char *strdup_or_null(const char *s, bool *ok);

/* Frees the n strings of v, then v. */
void strv_free_n(char **v, size_t n);

/* malloc wrappers that check multiplication overflow. */
static inline void *new_array(size_t n, size_t size) {
        if (size && n > (size_t)-1 / size)
                return NULL;
        return calloc(n ? n : 1, size);
}

/* The same, not zeroed: for arrays the caller fills before reading (a
 * large calloc() costs a pass over memory that is written again). */
static inline void *malloc_array(size_t n, size_t size) {
        if (size && n > (size_t)-1 / size)
                return NULL;
        return malloc((n ? n : 1) * size);
}

void *grow_array(void *p, size_t *alloc, size_t need, size_t size);

/* CLOCK_MONOTONIC in microseconds, for timers and timings. */
uint64_t now_usec(void);

static inline void *mfree_ptr(void *p) {
        free(p);
        return NULL;
}

#define _fallthrough_ __attribute__((fallthrough))

/* qsort() with n == 0 and base == NULL is undefined; this is not. */
static inline void qsort_safe(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *)) {
        if (n > 1)
                qsort(base, n, size, cmp);
}
