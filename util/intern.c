/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared strings; see intern.h. */
#include "intern.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "strmap.h"

#define INTERNED_MAGIC 0x696e746eU /* "intn" */

typedef struct Interned {
        uint32_t magic;
        unsigned n_ref;
        uint64_t hash;
        char s[];
} Interned;

/* s of each entry → the entry. */
static StrMap interned;

static Interned *entry_of(const char *s) {
        return (Interned *)(s - offsetof(Interned, s));
}

const char *intern_ref(const char *s) {
        uint64_t hash = strmap_hash(s);
        Interned *e = strmap_get_hashed(&interned, s, hash);
        size_t len;

        if (e) {
                e->n_ref++;
                return e->s;
        }
        len = strlen(s);
        e = malloc(sizeof(Interned) + len + 1);
        if (!e)
                return NULL;
        e->magic = INTERNED_MAGIC;
        e->n_ref = 1;
        e->hash = hash;
        memcpy(e->s, s, len + 1);
        if (strmap_put_hashed(&interned, e->s, hash, e) < 0) {
                free(e);
                return NULL;
        }
        return e->s;
}

void intern_unref(const char *s) {
        Interned *e;

        if (!s)
                return;
        e = entry_of(s);
        if (e->magic != INTERNED_MAGIC || e->n_ref == 0)
                abort();
        if (--e->n_ref > 0)
                return;
        strmap_remove_hashed(&interned, e->s, e->hash);
        e->magic = 0;
        free(e);
        /* The last one gone: no table left behind either. */
        if (interned.n == 0)
                strmap_done(&interned);
}

size_t intern_count(void) {
        return interned.n;
}
