/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A hash map from strings to pointers (open addressing, linear probing).
 * Keys are borrowed: they must outlive their entry (they are usually the
 * name field of the object stored). Most maps are rebuilt rather than
 * emptied one entry at a time; strmap_remove_hashed() is for those that
 * live on. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "macro.h"

typedef struct StrMapEntry {
        const char *key;
        uint64_t hash; /* of key: compared before the strings, kept for growing */
        void *value;
} StrMapEntry;

typedef struct StrMap {
        StrMapEntry *slots;
        size_t n, cap;
} StrMap;

#define STRMAP_INIT {}

uint64_t strmap_hash(const char *s) _pure_;
/* Inserts or replaces. */
int strmap_put(StrMap *m, const char *key, void *value);
void *strmap_get(const StrMap *m, const char *key) _pure_;
/* The same, for callers that already know strmap_hash(key). */
int strmap_put_hashed(StrMap *m, const char *key, uint64_t hash, void *value);
void *strmap_get_hashed(const StrMap *m, const char *key, uint64_t hash) _pure_;
/* Removes key's entry; returns its value, or NULL if there was none. */
void *strmap_remove_hashed(StrMap *m, const char *key, uint64_t hash);
/* Makes room for n entries in all, so that filling it never rehashes. */
int strmap_reserve(StrMap *m, size_t n);
void strmap_done(StrMap *m);
