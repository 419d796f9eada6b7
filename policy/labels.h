/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A string→string map (Kubernetes labels, annotations, labelsToApply).
 * Kept as an array sorted by key so that lookups during selector evaluation
 * are a binary search with no allocation, and output is in key order. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "macro.h"

/* Keys and values are shared copies (intern.h): labels repeat across
 * thousands of resources. */
typedef struct LabelPair {
        const char *key;
        const char *value;
} LabelPair;

typedef struct Labels {
        LabelPair *pairs;
        size_t n;
        size_t alloc;
} Labels;

#define LABELS_INIT {}

/* Sets key to value (shared copies of both), replacing an existing value. */
int labels_set(Labels *l, const char *key, const char *value);
/* Sets key only if absent; returns 0 if set or already present. */
int labels_set_default(Labels *l, const char *key, const char *value);
const char *labels_get(const Labels *l, const char *key) _pure_;
bool labels_has(const Labels *l, const char *key) _pure_;
int labels_remove(Labels *l, const char *key);
int labels_copy(Labels *dst, const Labels *src);
bool labels_equal(const Labels *a, const Labels *b) _pure_;
void labels_done(Labels *l);
