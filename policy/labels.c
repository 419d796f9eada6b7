/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Sorted label map; see labels.h. */
#include "labels.h"

#include <string.h>

#include "intern.h"

/* Index of key, or of the slot where it would be inserted (*found false). */
static size_t labels_find(const Labels *l, const char *key, bool *found) {
        size_t lo = 0, hi = l->n;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int c = strcmp(l->pairs[mid].key, key);

                if (c == 0) {
                        *found = true;
                        return mid;
                }
                if (c < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        *found = false;
        return lo;
}

static int labels_put(Labels *l, const char *key, const char *value, bool replace) {
        bool found;
        size_t i = labels_find(l, key, &found);
        const char *v;

        if (found && !replace)
                return 0;
        v = intern_ref(value);
        if (!v)
                return -ENOMEM;
        if (found) {
                intern_unref(l->pairs[i].value);
                l->pairs[i].value = v;
                return 0;
        }

        const char *k = intern_ref(key);
        LabelPair *p = grow_array(l->pairs, &l->alloc, l->n + 1, sizeof(LabelPair));
        if (!k || !p) {
                intern_unref(k);
                intern_unref(v);
                if (p)
                        l->pairs = p;
                return -ENOMEM;
        }
        l->pairs = p;
        memmove(&l->pairs[i + 1], &l->pairs[i], (l->n - i) * sizeof(LabelPair));
        l->pairs[i] = (LabelPair) { .key = k, .value = v };
        l->n++;
        return 0;
}

int labels_set(Labels *l, const char *key, const char *value) {
        return labels_put(l, key, value, true);
}

int labels_set_default(Labels *l, const char *key, const char *value) {
        return labels_put(l, key, value, false);
}

const char *labels_get(const Labels *l, const char *key) {
        bool found;
        size_t i;

        if (!l || l->n == 0)
                return NULL;
        i = labels_find(l, key, &found);
        return found ? l->pairs[i].value : NULL;
}

bool labels_has(const Labels *l, const char *key) {
        return labels_get(l, key) != NULL;
}

int labels_remove(Labels *l, const char *key) {
        bool found;
        size_t i = labels_find(l, key, &found);

        if (!found)
                return -ENOENT;
        intern_unref(l->pairs[i].key);
        intern_unref(l->pairs[i].value);
        memmove(&l->pairs[i], &l->pairs[i + 1], (l->n - i - 1) * sizeof(LabelPair));
        l->n--;
        return 0;
}

int labels_copy(Labels *dst, const Labels *src) {
        for (size_t i = 0; i < src->n; i++) {
                int r = labels_set(dst, src->pairs[i].key, src->pairs[i].value);
                if (r < 0)
                        return r;
        }
        return 0;
}

bool labels_equal(const Labels *a, const Labels *b) {
        if (a->n != b->n)
                return false;
        for (size_t i = 0; i < a->n; i++)
                if (!streq(a->pairs[i].key, b->pairs[i].key) || !streq(a->pairs[i].value, b->pairs[i].value))
                        return false;
        return true;
}

void labels_done(Labels *l) {
        for (size_t i = 0; i < l->n; i++) {
                intern_unref(l->pairs[i].key);
                intern_unref(l->pairs[i].value);
        }
        free(l->pairs);
        *l = (Labels) LABELS_INIT;
}
