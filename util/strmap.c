/* SPDX-License-Identifier: GPL-2.0-or-later */
/* String-keyed hash map; see strmap.h. */
#include "strmap.h"

#include <stdlib.h>
#include <string.h>

uint64_t strmap_hash(const char *s) {
        uint64_t h = 14695981039346656037ULL; /* FNV-1a */

        for (; *s; s++) {
                h ^= (unsigned char)*s;
                h *= 1099511628211ULL;
        }
        return h;
}

static int strmap_resize(StrMap *m, size_t cap) {
        StrMapEntry *slots = new_array(cap, sizeof(StrMapEntry));

        if (!slots)
                return -ENOMEM;
        for (size_t i = 0; i < m->cap; i++) {
                if (!m->slots[i].key)
                        continue;
                size_t j = m->slots[i].hash & (cap - 1);
                while (slots[j].key)
                        j = (j + 1) & (cap - 1);
                slots[j] = m->slots[i];
        }
        free(m->slots);
        m->slots = slots;
        m->cap = cap;
        return 0;
}

static int strmap_grow(StrMap *m) {
        return strmap_resize(m, m->cap ? m->cap * 2 : 16);
}

int strmap_reserve(StrMap *m, size_t n) {
        size_t cap = m->cap ? m->cap : 16;

        while (n * 2 > cap)
                cap *= 2;
        return cap > m->cap ? strmap_resize(m, cap) : 0;
}

int strmap_put_hashed(StrMap *m, const char *key, uint64_t hash, void *value) {
        size_t j;

        /* Keep the load factor under 1/2 so probes stay short. */
        if ((m->n + 1) * 2 > m->cap) {
                int r = strmap_grow(m);
                if (r < 0)
                        return r;
        }
        j = hash & (m->cap - 1);
        while (m->slots[j].key) {
                if (m->slots[j].hash == hash && streq(m->slots[j].key, key)) {
                        m->slots[j] = (StrMapEntry) { key, hash, value };
                        return 0;
                }
                j = (j + 1) & (m->cap - 1);
        }
        m->slots[j] = (StrMapEntry) { key, hash, value };
        m->n++;
        return 0;
}

int strmap_put(StrMap *m, const char *key, void *value) {
        return strmap_put_hashed(m, key, strmap_hash(key), value);
}

void *strmap_get_hashed(const StrMap *m, const char *key, uint64_t hash) {
        size_t j;

        if (!m->cap)
                return NULL;
        j = hash & (m->cap - 1);
        while (m->slots[j].key) {
                /* The same pointer is the same key: an object looked up by
                 * its own name, as when two rulesets share a chain. */
                if (m->slots[j].hash == hash && (m->slots[j].key == key || streq(m->slots[j].key, key)))
                        return m->slots[j].value;
                j = (j + 1) & (m->cap - 1);
        }
        return NULL;
}

void *strmap_get(const StrMap *m, const char *key) {
        return strmap_get_hashed(m, key, strmap_hash(key));
}

/* Whether slot k's entry, whose home slot is `home`, may move back to the
 * hole at i: it may unless its home lies cyclically in (i, k]. */
static bool may_fill_hole(size_t i, size_t k, size_t home) {
        return i <= k ? home <= i || home > k : home <= i && home > k;
}

void *strmap_remove_hashed(StrMap *m, const char *key, uint64_t hash) {
        size_t mask = m->cap - 1, i, k;
        void *value;

        if (!m->cap)
                return NULL;
        for (i = hash & mask; m->slots[i].key; i = (i + 1) & mask)
                if (m->slots[i].hash == hash && streq(m->slots[i].key, key))
                        break;
        if (!m->slots[i].key)
                return NULL;
        value = m->slots[i].value;
        /* Linear probing has no tombstones: later entries of the run shift
         * back into the hole, so that every lookup still finds them. */
        for (k = (i + 1) & mask; m->slots[k].key; k = (k + 1) & mask)
                if (may_fill_hole(i, k, m->slots[k].hash & mask)) {
                        m->slots[i] = m->slots[k];
                        i = k;
                }
        m->slots[i] = (StrMapEntry) {};
        m->n--;
        return value;
}

void strmap_done(StrMap *m) {
        free(m->slots);
        *m = (StrMap) STRMAP_INIT;
}
