/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Ruleset IR: building, printing and diffing; see ruleset.h. */
#include "ruleset.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T HEP_TABLE_FAMILY " " HEP_TABLE_NAME

Ruleset *ruleset_new(void) {
        return calloc(1, sizeof(Ruleset));
}

NftChain *nft_chain_ref(NftChain *c) {
        if (c)
                c->n_ref++;
        return c;
}

void nft_chain_unref(NftChain *c) {
        if (!c || --c->n_ref > 0)
                return;
        free(c->name);
        free(c->hook);
        strv_free_n(c->rules, c->n_rules);
        free(c->origin);
        for (size_t i = 0; i < c->n_notes; i++)
                free(c->notes[i].label);
        free(c->notes);
        free(c);
}

NftSet *nft_set_ref(NftSet *s) {
        if (s)
                s->n_ref++;
        return s;
}

void nft_set_unref(NftSet *s) {
        if (!s || --s->n_ref > 0)
                return;
        free(s->name);
        free(s->type);
        strv_free_n(s->elements, s->n_elements);
        free(s);
}

NftShared *nft_shared_new(NftChain *const *chains, size_t n_chains, NftSet *const *sets, size_t n_sets) {
        NftShared *g = calloc(1, sizeof(NftShared));

        if (!g)
                return NULL;
        g->n_ref = 1;
        g->chains = malloc_array(n_chains, sizeof(NftChain *));
        g->sets = malloc_array(n_sets, sizeof(NftSet *));
        if (!g->chains || !g->sets || strmap_reserve(&g->chain_index, n_chains) < 0 ||
            strmap_reserve(&g->set_index, n_sets) < 0) {
                nft_shared_unref(g);
                return NULL;
        }
        for (size_t i = 0; i < n_chains; i++) {
                if (strmap_put_hashed(&g->chain_index, chains[i]->name, chains[i]->name_hash, chains[i]) < 0) {
                        nft_shared_unref(g);
                        return NULL;
                }
                g->chains[g->n_chains++] = nft_chain_ref(chains[i]);
        }
        for (size_t i = 0; i < n_sets; i++) {
                if (strmap_put_hashed(&g->set_index, sets[i]->name, sets[i]->name_hash, sets[i]) < 0) {
                        nft_shared_unref(g);
                        return NULL;
                }
                g->sets[g->n_sets++] = nft_set_ref(sets[i]);
        }
        return g;
}

NftShared *nft_shared_ref(NftShared *g) {
        if (g)
                g->n_ref++;
        return g;
}

void nft_shared_unref(NftShared *g) {
        if (!g || --g->n_ref > 0)
                return;
        for (size_t i = 0; i < g->n_chains; i++)
                nft_chain_unref(g->chains[i]);
        for (size_t i = 0; i < g->n_sets; i++)
                nft_set_unref(g->sets[i]);
        free(g->chains);
        free(g->sets);
        strmap_done(&g->chain_index);
        strmap_done(&g->set_index);
        free(g);
}

/* Whether position i of rs's chains (sets) is the shared group's. */
static bool chain_in_group(const Ruleset *rs, size_t i) {
        return rs->shared && i >= rs->shared_chains_from && i - rs->shared_chains_from < rs->shared->n_chains;
}

static bool set_in_group(const Ruleset *rs, size_t i) {
        return rs->shared && i >= rs->shared_sets_from && i - rs->shared_sets_from < rs->shared->n_sets;
}

Ruleset *ruleset_free(Ruleset *rs) {
        if (!rs)
                return NULL;
        for (size_t i = 0; i < rs->n_chains; i++)
                if (!chain_in_group(rs, i))
                        nft_chain_unref(rs->chains[i]);
        for (size_t i = 0; i < rs->n_sets; i++)
                if (!set_in_group(rs, i))
                        nft_set_unref(rs->sets[i]);
        for (size_t i = 0; i < rs->n_blocks; i++)
                nft_block_unref(rs->blocks[i]);
        nft_shared_unref(rs->shared);
        free(rs->chains);
        free(rs->sets);
        free(rs->blocks);
        strmap_done(&rs->chain_index);
        strmap_done(&rs->set_index);
        free(rs);
        return NULL;
}

/* Lookups of one ruleset's objects in another, with their known hashes:
 * its own, then its group's. */
static NftChain *find_chain_like(const Ruleset *rs, const NftChain *c) {
        NftChain *found = strmap_get_hashed(&rs->chain_index, c->name, c->name_hash);

        return found || !rs->shared ? found : strmap_get_hashed(&rs->shared->chain_index, c->name, c->name_hash);
}

NftSet *ruleset_find_set_like(const Ruleset *rs, const NftSet *s) {
        NftSet *found = strmap_get_hashed(&rs->set_index, s->name, s->name_hash);

        return found || !rs->shared ? found : strmap_get_hashed(&rs->shared->set_index, s->name, s->name_hash);
}

NftChain *ruleset_find_chain(const Ruleset *rs, const char *name) {
        NftChain *found = strmap_get(&rs->chain_index, name);

        return found || !rs->shared ? found : strmap_get(&rs->shared->chain_index, name);
}

/* The same, when c or s is at position i of its own ruleset: successive
 * rulesets share most chains and sets at the same positions (compile.c
 * adds them in the same order), found so without a lookup. */
static NftChain *find_chain_like_at(const Ruleset *rs, size_t i, const NftChain *c) {
        return i < rs->n_chains && rs->chains[i] == c ? rs->chains[i] : find_chain_like(rs, c);
}

static NftSet *find_set_like_at(const Ruleset *rs, size_t i, const NftSet *s) {
        return i < rs->n_sets && rs->sets[i] == s ? rs->sets[i] : ruleset_find_set_like(rs, s);
}

NftChain *nft_chain_new(const char *name, const char *hook) {
        NftChain *c = calloc(1, sizeof(NftChain));

        if (!c)
                return NULL;
        *c = (NftChain) { .n_ref = 1, .name = strdup(name), .hook = hook ? strdup(hook) : NULL };
        if (!c->name || (hook && !c->hook)) {
                nft_chain_unref(c);
                return NULL;
        }
        c->name_hash = strmap_hash(c->name);
        return c;
}

NftChain *ruleset_add_chain(Ruleset *rs, const char *name, const char *hook) {
        NftChain **v = grow_array(rs->chains, &rs->alloc_chains, rs->n_chains + 1, sizeof(NftChain *));
        NftChain *c;

        if (!v)
                return NULL;
        rs->chains = v;
        c = nft_chain_new(name, hook);
        if (!c)
                return NULL;
        if (strmap_put_hashed(&rs->chain_index, c->name, c->name_hash, c) < 0) {
                nft_chain_unref(c);
                return NULL;
        }
        rs->chains[rs->n_chains++] = c;
        return c;
}

int ruleset_add_shared_chain(Ruleset *rs, NftChain *c) {
        NftChain **v = grow_array(rs->chains, &rs->alloc_chains, rs->n_chains + 1, sizeof(NftChain *));

        if (!v)
                return -ENOMEM;
        rs->chains = v;
        if (strmap_put_hashed(&rs->chain_index, c->name, c->name_hash, c) < 0)
                return -ENOMEM;
        rs->chains[rs->n_chains++] = nft_chain_ref(c);
        return 0;
}

int ruleset_add_shared_set(Ruleset *rs, NftSet *s) {
        NftSet **v = grow_array(rs->sets, &rs->alloc_sets, rs->n_sets + 1, sizeof(NftSet *));

        if (!v)
                return -ENOMEM;
        rs->sets = v;
        if (strmap_put_hashed(&rs->set_index, s->name, s->name_hash, s) < 0)
                return -ENOMEM;
        rs->sets[rs->n_sets++] = nft_set_ref(s);
        return 0;
}

int ruleset_add_shared_group(Ruleset *rs, NftShared *g) {
        NftChain **c = grow_array(rs->chains, &rs->alloc_chains, rs->n_chains + g->n_chains, sizeof(NftChain *));
        NftSet **s;

        if (rs->shared)
                return -EBUSY;
        if (!c)
                return -ENOMEM;
        rs->chains = c;
        s = grow_array(rs->sets, &rs->alloc_sets, rs->n_sets + g->n_sets, sizeof(NftSet *));
        if (!s)
                return -ENOMEM;
        rs->sets = s;
        if (g->n_chains)
                memcpy(rs->chains + rs->n_chains, g->chains, g->n_chains * sizeof(NftChain *));
        if (g->n_sets)
                memcpy(rs->sets + rs->n_sets, g->sets, g->n_sets * sizeof(NftSet *));
        rs->shared = nft_shared_ref(g);
        rs->shared_chains_from = rs->n_chains;
        rs->shared_sets_from = rs->n_sets;
        rs->n_chains += g->n_chains;
        rs->n_sets += g->n_sets;
        return 0;
}

int chain_add_rule(NftChain *c, const char *rule) {
        char **v = grow_array(c->rules, &c->alloc_rules, c->n_rules + 1, sizeof(char *));

        if (!v)
                return -ENOMEM;
        c->rules = v;
        c->rules[c->n_rules] = strdup(rule);
        if (!c->rules[c->n_rules])
                return -ENOMEM;
        c->n_rules++;
        return 0;
}

int chain_add_rulef(NftChain *c, const char *fmt, ...) {
        StrBuf b = STRBUF_INIT;
        va_list ap;
        int r;

        va_start(ap, fmt);
        strbuf_vprintf(&b, fmt, ap);
        va_end(ap);
        if (!strbuf_ok(&b))
                return -ENOMEM;
        r = chain_add_rule(c, strbuf_str(&b));
        strbuf_done(&b);
        return r;
}

int chain_add_note(NftChain *c, int index, const char *label) {
        NftNote *v = grow_array(c->notes, &c->alloc_notes, c->n_notes + 1, sizeof(NftNote));

        if (!v)
                return -ENOMEM;
        c->notes = v;
        v[c->n_notes] = (NftNote) { .first = c->n_rules, .index = index, .label = label ? strdup(label) : NULL };
        if (label && !v[c->n_notes].label)
                return -ENOMEM;
        c->n_notes++;
        return 0;
}

const NftNote *chain_note(const NftChain *c, size_t i) {
        const NftNote *found = NULL;

        /* The last note at or before i: notes are in the order of their rules. */
        for (size_t k = 0; k < c->n_notes && c->notes[k].first <= i; k++)
                found = &c->notes[k];
        return found;
}

NftSet *ruleset_find_set(const Ruleset *rs, const char *name) {
        NftSet *found = strmap_get(&rs->set_index, name);

        return found || !rs->shared ? found : strmap_get(&rs->shared->set_index, name);
}

NftSet *ruleset_add_set(Ruleset *rs, const char *name, const char *type, bool is_map) {
        NftSet **v = grow_array(rs->sets, &rs->alloc_sets, rs->n_sets + 1, sizeof(NftSet *));
        NftSet *s;

        if (!v)
                return NULL;
        rs->sets = v;
        s = calloc(1, sizeof(NftSet));
        if (!s)
                return NULL;
        *s = (NftSet) { .n_ref = 1, .name = strdup(name), .type = strdup(type), .is_map = is_map };
        if (!s->name || !s->type) {
                free(s->name);
                free(s->type);
                free(s);
                return NULL;
        }
        s->name_hash = strmap_hash(s->name);
        if (strmap_put_hashed(&rs->set_index, s->name, s->name_hash, s) < 0) {
                free(s->name);
                free(s->type);
                free(s);
                return NULL;
        }
        rs->sets[rs->n_sets++] = s;
        return s;
}

int set_add_element(NftSet *s, const char *element) {
        char **v = grow_array(s->elements, &s->alloc_elements, s->n_elements + 1, sizeof(char *));

        if (!v)
                return -ENOMEM;
        s->elements = v;
        s->elements[s->n_elements] = strdup(element);
        if (!s->elements[s->n_elements])
                return -ENOMEM;
        s->n_elements++;
        return 0;
}

/* ---- blocks ---- */

NftBlock *nft_block_new(const char *name) {
        NftBlock *b = calloc(1, sizeof(NftBlock));

        if (!b)
                return NULL;
        b->n_ref = 1;
        b->name = strdup(name);
        if (!b->name) {
                free(b);
                return NULL;
        }
        return b;
}

NftBlock *nft_block_ref(NftBlock *b) {
        if (b)
                b->n_ref++;
        return b;
}

void nft_block_unref(NftBlock *b) {
        if (!b || --b->n_ref > 0)
                return;
        for (size_t i = 0; i < b->n_chains; i++)
                nft_chain_unref(b->chains[i]);
        free(b->chains);
        strv_free_n(b->counters, b->n_counters);
        for (size_t i = 0; i < b->n_elements; i++) {
                free(b->elements[i].set);
                free(b->elements[i].element);
        }
        free(b->elements);
        free(b->name);
        free(b);
}

int block_add_chain(NftBlock *b, NftChain *c) {
        NftChain **v = grow_array(b->chains, &b->alloc_chains, b->n_chains + 1, sizeof(NftChain *));

        if (!v)
                return -ENOMEM;
        b->chains = v;
        b->chains[b->n_chains++] = nft_chain_ref(c);
        return 0;
}

int block_add_counter(NftBlock *b, const char *name) {
        char **v = grow_array(b->counters, &b->alloc_counters, b->n_counters + 1, sizeof(char *));

        if (!v)
                return -ENOMEM;
        b->counters = v;
        v[b->n_counters] = strdup(name);
        if (!v[b->n_counters])
                return -ENOMEM;
        b->n_counters++;
        return 0;
}

int block_add_element(NftBlock *b, const char *set, const char *element) {
        NftElement *v = grow_array(b->elements, &b->alloc_elements, b->n_elements + 1, sizeof(NftElement));
        NftElement e = { strdup(set), strdup(element) };

        if (!v || !e.set || !e.element) {
                free(e.set);
                free(e.element);
                if (v)
                        b->elements = v;
                return -ENOMEM;
        }
        b->elements = v;
        v[b->n_elements++] = e;
        return 0;
}

int ruleset_add_block(Ruleset *rs, NftBlock *b) {
        NftBlock **v = grow_array(rs->blocks, &rs->alloc_blocks, rs->n_blocks + 1, sizeof(NftBlock *));

        if (!v)
                return -ENOMEM;
        rs->blocks = v;
        v[rs->n_blocks++] = nft_block_ref(b);
        return 0;
}

static int compare_blocks(const void *a, const void *b) {
        return strcmp((*(NftBlock *const *)a)->name, (*(NftBlock *const *)b)->name);
}

NftBlock *ruleset_find_block(const Ruleset *rs, const char *name) {
        NftBlock key = { .name = (char *)name }, *k = &key, **found;

        if (!rs->n_blocks)
                return NULL;
        found = bsearch(&k, rs->blocks, rs->n_blocks, sizeof(NftBlock *), compare_blocks);
        return found ? *found : NULL;
}

static int compare_strings(const void *a, const void *b) {
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool blocks_sorted(const Ruleset *rs) {
        for (size_t i = 1; i < rs->n_blocks; i++)
                if (strcmp(rs->blocks[i - 1]->name, rs->blocks[i]->name) >= 0)
                        return false;
        return true;
}

void ruleset_finish(Ruleset *rs) {
        /* The compiler adds them in order already (endpoints are sorted). */
        if (!blocks_sorted(rs))
                qsort_safe(rs->blocks, rs->n_blocks, sizeof(NftBlock *), compare_blocks);
        for (size_t i = 0; i < rs->n_sets; i++) {
                NftSet *s;
                size_t k = 0;

                if (set_in_group(rs, i)) /* finished with the ruleset they came from */
                        continue;
                s = rs->sets[i];
                if (s->sorted)
                        continue;
                s->sorted = true;
                qsort_safe(s->elements, s->n_elements, sizeof(char *), compare_strings);
                for (size_t j = 0; j < s->n_elements; j++) {
                        if (k > 0 && streq(s->elements[k - 1], s->elements[j])) {
                                free(s->elements[j]);
                                continue;
                        }
                        s->elements[k++] = s->elements[j];
                }
                s->n_elements = k;
        }
}

size_t ruleset_count_chains(const Ruleset *rs) {
        size_t n = rs->n_chains;

        for (size_t i = 0; i < rs->n_blocks; i++)
                n += rs->blocks[i]->n_chains;
        return n;
}

size_t ruleset_count_rules(const Ruleset *rs) {
        size_t n = 0;

        for (size_t i = 0; i < rs->n_chains; i++)
                n += rs->chains[i]->n_rules;
        for (size_t i = 0; i < rs->n_blocks; i++)
                for (size_t j = 0; j < rs->blocks[i]->n_chains; j++)
                        n += rs->blocks[i]->chains[j]->n_rules;
        return n;
}

/* Every chain, the blocks' after the others, in order. */
#define FOREACH_CHAIN(rs, c, ...)                                                         \
        do {                                                                             \
                for (size_t _i = 0; _i < (rs)->n_chains; _i++) {                         \
                        const NftChain *c = (rs)->chains[_i];                            \
                        __VA_ARGS__;                                                     \
                }                                                                        \
                for (size_t _b = 0; _b < (rs)->n_blocks; _b++)                           \
                        for (size_t _i = 0; _i < (rs)->blocks[_b]->n_chains; _i++) {     \
                                const NftChain *c = (rs)->blocks[_b]->chains[_i];        \
                                __VA_ARGS__;                                             \
                        }                                                                \
        } while (0)

/* A set's elements (its own if own) with those the blocks give it, sorted
 * (for printing and replacing: not on the path of a small change). */
static char **set_elements(const Ruleset *rs, const NftSet *s, bool own, size_t *ret_n, StrBuf *out) {
        size_t n = own ? s->n_elements : 0, k = 0;
        char **v;

        for (size_t i = 0; i < rs->n_blocks; i++)
                n += rs->blocks[i]->n_elements;
        v = new_array(n + 1, sizeof(char *));
        if (!v) {
                out->failed = true;
                *ret_n = 0;
                return NULL;
        }
        for (size_t i = 0; own && i < s->n_elements; i++)
                v[k++] = s->elements[i];
        for (size_t i = 0; i < rs->n_blocks; i++)
                for (size_t j = 0; j < rs->blocks[i]->n_elements; j++)
                        if (streq(rs->blocks[i]->elements[j].set, s->name))
                                v[k++] = rs->blocks[i]->elements[j].element;
        qsort_safe(v, k, sizeof(char *), compare_strings);
        *ret_n = k;
        return v;
}

/* Every block's counters, sorted. */
static char **all_counters(const Ruleset *rs, size_t *ret_n, StrBuf *out) {
        size_t n = 0, k = 0;
        char **v;

        for (size_t i = 0; i < rs->n_blocks; i++)
                n += rs->blocks[i]->n_counters;
        v = new_array(n + 1, sizeof(char *));
        if (!v) {
                out->failed = true;
                *ret_n = 0;
                return NULL;
        }
        for (size_t i = 0; i < rs->n_blocks; i++)
                for (size_t j = 0; j < rs->blocks[i]->n_counters; j++)
                        v[k++] = rs->blocks[i]->counters[j];
        qsort_safe(v, k, sizeof(char *), compare_strings);
        *ret_n = k;
        return v;
}

/* ---- printing ---- */

static void print_elements(StrBuf *out, char *const *elems, size_t n, const char *indent) {
        if (n == 0)
                return;
        strbuf_printf(out, "%selements = { ", indent);
        for (size_t i = 0; i < n; i++)
                strbuf_printf(out, "%s%s", i ? ",\n\t\t\t     " : "", elems[i]);
        strbuf_append(out, " }\n");
}

void ruleset_print(const Ruleset *rs, StrBuf *out) {
        size_t n, n_chains = ruleset_count_chains(rs), k = 0;
        char **v = all_counters(rs, &n, out);

        strbuf_append(out, "table " T " {\n");
        for (size_t i = 0; i < n; i++)
                strbuf_printf(out, "\tcounter %s {\n\t}\n\n", v[i]);
        free(v);
        for (size_t i = 0; i < rs->n_sets; i++) {
                const NftSet *s = rs->sets[i];
                strbuf_printf(out, "\t%s %s {\n\t\t%s\n", s->is_map ? "map" : "set", s->name, s->type);
                v = set_elements(rs, s, true, &n, out);
                print_elements(out, v, n, "\t\t");
                free(v);
                strbuf_append(out, "\t}\n\n");
        }
        FOREACH_CHAIN(rs, c, {
                strbuf_printf(out, "\tchain %s {\n", c->name);
                if (c->hook)
                        strbuf_printf(out, "\t\t%s\n", c->hook);
                for (size_t j = 0; j < c->n_rules; j++)
                        strbuf_printf(out, "\t\t%s\n", c->rules[j]);
                strbuf_append(out, "\t}\n");
                if (++k < n_chains)
                        strbuf_append_char(out, '\n');
        });
        strbuf_append(out, "}\n");
}

/* ---- commands ---- */

static void cmd_add_chain(StrBuf *out, const NftChain *c) {
        if (c->hook)
                strbuf_printf(out, "add chain " T " %s { %s }\n", c->name, c->hook);
        else
                strbuf_printf(out, "add chain " T " %s\n", c->name);
}

static void cmd_add_set(StrBuf *out, const NftSet *s) {
        strbuf_printf(out, "add %s " T " %s { %s }\n", s->is_map ? "map" : "set", s->name, s->type);
}

/* Elements in batches, so that one command line stays reasonable. */
static void cmd_elements(StrBuf *out, const char *verb, const NftSet *s, char *const *elems, size_t n) {
        for (size_t i = 0; i < n; i += 256) {
                strbuf_printf(out, "%s element " T " %s { ", verb, s->name);
                for (size_t j = i; j < n && j < i + 256; j++)
                        strbuf_printf(out, "%s%s", j > i ? ", " : "", elems[j]);
                strbuf_append(out, " }\n");
        }
}

static void cmd_rules(StrBuf *out, const NftChain *c) {
        for (size_t j = 0; j < c->n_rules; j++)
                strbuf_printf(out, "add rule " T " %s %s\n", c->name, c->rules[j]);
}

void ruleset_commands_replace(const Ruleset *rs, StrBuf *out) {
        size_t n;
        char **v = all_counters(rs, &n, out);

        /* "add" then "delete" then "add": works whether or not the table
         * exists, and the kernel applies the whole buffer atomically. */
        strbuf_append(out, "add table " T "\ndelete table " T "\nadd table " T "\n");
        for (size_t i = 0; i < n; i++)
                strbuf_printf(out, "add counter " T " %s\n", v[i]);
        free(v);
        FOREACH_CHAIN(rs, c, cmd_add_chain(out, c));
        for (size_t i = 0; i < rs->n_sets; i++)
                cmd_add_set(out, rs->sets[i]);
        for (size_t i = 0; i < rs->n_sets; i++) {
                v = set_elements(rs, rs->sets[i], true, &n, out);
                cmd_elements(out, "add", rs->sets[i], v, n);
                free(v);
        }
        FOREACH_CHAIN(rs, c, cmd_rules(out, c));
}

static bool chain_equal(const NftChain *a, const NftChain *b) {
        if (a == b)
                return true;
        if (!streq_ptr(a->hook, b->hook) || a->n_rules != b->n_rules)
                return false;
        for (size_t i = 0; i < a->n_rules; i++)
                if (!streq(a->rules[i], b->rules[i]))
                        return false;
        return true;
}

/* Elements of a that are not in b (both sorted). */
static size_t set_difference(const NftSet *a, const NftSet *b, char ***ret, StrBuf *out) {
        char **v;
        size_t n = 0, j = 0;

        *ret = NULL;
        if (a == b)
                return 0;
        v = new_array(a->n_elements, sizeof(char *));
        if (!v) {
                out->failed = true;
                return 0;
        }
        for (size_t i = 0; i < a->n_elements; i++) {
                while (b && j < b->n_elements && strcmp(b->elements[j], a->elements[i]) < 0)
                        j++;
                if (!b || j >= b->n_elements || !streq(b->elements[j], a->elements[i]))
                        v[n++] = a->elements[i];
        }
        *ret = v;
        return n;
}

/* ---- what two rulesets do not share ---- */

/* The position after a group both rulesets hold at the same place, when i
 * is where it starts (its objects are the same on both sides), else i. */
static size_t skip_group_chains(const Ruleset *a, const Ruleset *b, size_t i) {
        return a->shared && a->shared == b->shared && a->shared_chains_from == b->shared_chains_from &&
                               i == a->shared_chains_from
                       ? i + a->shared->n_chains
                       : i;
}

static size_t skip_group_sets(const Ruleset *a, const Ruleset *b, size_t i) {
        return a->shared && a->shared == b->shared && a->shared_sets_from == b->shared_sets_from &&
                               i == a->shared_sets_from
                       ? i + a->shared->n_sets
                       : i;
}

/* a's chains (sets) but those of a group b holds at the same place. */
#define FOREACH_UNSHARED_CHAIN(i, a, b) \
        for (size_t i = skip_group_chains(a, b, 0); i < (a)->n_chains; i = skip_group_chains(a, b, i + 1))
#define FOREACH_UNSHARED_SET(i, a, b) \
        for (size_t i = skip_group_sets(a, b, 0); i < (a)->n_sets; i = skip_group_sets(a, b, i + 1))

/* ---- the diff of blocks ---- */

/* The blocks that differ between old and new, paired by name (either
 * side may be NULL): a merge of the two sorted arrays in which a block
 * both share costs one comparison of pointers. */
typedef struct BlockPair {
        const NftBlock *o, *n;
} BlockPair;

typedef struct BlockPairs {
        BlockPair *v;
        size_t n, alloc;
} BlockPairs;

static int changed_blocks(const Ruleset *old, const Ruleset *new, BlockPairs *ret) {
        size_t i = 0, j = 0;

        *ret = (BlockPairs) {};
        while (i < old->n_blocks || j < new->n_blocks) {
                const NftBlock *o = i < old->n_blocks ? old->blocks[i] : NULL;
                const NftBlock *n = j < new->n_blocks ? new->blocks[j] : NULL;
                BlockPair *v;
                int c;

                if (o == n) {
                        i++, j++;
                        continue;
                }
                c = !o ? 1 : !n ? -1 : strcmp(o->name, n->name);
                v = grow_array(ret->v, &ret->alloc, ret->n + 1, sizeof(BlockPair));
                if (!v)
                        return -ENOMEM;
                ret->v = v;
                v[ret->n++] = (BlockPair) { c <= 0 ? o : NULL, c >= 0 ? n : NULL };
                i += c <= 0;
                j += c >= 0;
        }
        return 0;
}

/* No pairs: v is NULL, and NULL + 0 is undefined, hence the first test. */
#define FOREACH_PAIR(p, pairs) for (const BlockPair *p = (pairs)->v; p && p < (pairs)->v + (pairs)->n; p++)

static const NftChain *block_find_chain(const NftBlock *b, const char *name) {
        for (size_t i = 0; b && i < b->n_chains; i++)
                if (streq(b->chains[i]->name, name))
                        return b->chains[i];
        return NULL;
}

static bool block_has_counter(const NftBlock *b, const char *name) {
        for (size_t i = 0; b && i < b->n_counters; i++)
                if (streq(b->counters[i], name))
                        return true;
        return false;
}

static bool block_has_element(const NftBlock *b, const NftElement *e) {
        for (size_t i = 0; b && i < b->n_elements; i++)
                if (streq(b->elements[i].set, e->set) && streq(b->elements[i].element, e->element))
                        return true;
        return false;
}

/* The elements that changed blocks of a (the old ruleset, or the new) have
 * in set s and the matching block of b has not: to delete, or to add. */
static int block_elements(const RulesetDiffOps *ops, void *u, bool add, const BlockPairs *pairs, const NftSet *s) {
        _cleanup_free_ char **v = NULL;
        size_t n = 0, alloc = 0;

        FOREACH_PAIR(p, pairs) {
                const NftBlock *a = add ? p->n : p->o, *b = add ? p->o : p->n;
                for (size_t i = 0; a && i < a->n_elements; i++) {
                        const NftElement *e = &a->elements[i];
                        char **g;
                        if (!streq(e->set, s->name) || block_has_element(b, e))
                                continue;
                        g = grow_array(v, &alloc, n + 1, sizeof(char *));
                        if (!g)
                                return -ENOMEM;
                        v = g;
                        v[n++] = e->element;
                }
        }
        return n ? ops->elements(u, s, add, v, n) : 0;
}

/* The elements of a its own set b lacks (b NULL: all of them). */
static int own_elements(const RulesetDiffOps *ops, void *u, bool add, const NftSet *a, const NftSet *b,
                        const NftSet *target) {
        _cleanup_free_ char **v = NULL;
        StrBuf oom = STRBUF_INIT;
        size_t n = set_difference(a, b, &v, &oom);

        if (oom.failed)
                return -ENOMEM;
        return n ? ops->elements(u, target, add, v, n) : 0;
}

/* Stops the walk at the first step that fails. */
#define STEP(call)                       \
        do {                             \
                int _r = (call);         \
                if (_r < 0) {            \
                        free(pairs.v);   \
                        return _r;       \
                }                        \
        } while (0)

int ruleset_diff(const Ruleset *old, const Ruleset *new, const RulesetDiffOps *ops, void *u) {
        BlockPairs pairs;
        StrBuf oom = STRBUF_INIT;

        if (changed_blocks(old, new, &pairs) < 0)
                return -ENOMEM;

        /* 1. New counters, chains and sets, so that anything below may
         * reference them. */
        FOREACH_PAIR(p, &pairs)
                for (size_t i = 0; p->n && i < p->n->n_counters; i++)
                        if (!block_has_counter(p->o, p->n->counters[i]))
                                STEP(ops->add_counter(u, p->n->counters[i]));
        FOREACH_UNSHARED_CHAIN(i, new, old)
                if (!find_chain_like_at(old, i, new->chains[i]))
                        STEP(ops->add_chain(u, new->chains[i]));
        FOREACH_PAIR(p, &pairs)
                for (size_t i = 0; p->n && i < p->n->n_chains; i++)
                        if (!block_find_chain(p->o, p->n->chains[i]->name))
                                STEP(ops->add_chain(u, p->n->chains[i]));
        FOREACH_UNSHARED_SET(i, new, old) {
                const NftSet *o = find_set_like_at(old, i, new->sets[i]);
                if (o && !streq(o->type, new->sets[i]->type))
                        o = NULL; /* a changed type is a different set; names encode types */
                if (!o)
                        STEP(ops->add_set(u, new->sets[i]));
        }
        /* 2. Elements: removals first, so a map key can move to a new verdict. */
        for (size_t i = 0; i < old->n_sets; i++) {
                const NftSet *s = find_set_like_at(new, i, old->sets[i]);
                if (!s && old->sets[i]->is_map) {
                        /* A map that goes may jump to chains that go too:
                         * emptied now, they can be deleted before it. */
                        size_t n;
                        _cleanup_free_ char **v = set_elements(old, old->sets[i], true, &n, &oom);
                        if (oom.failed)
                                STEP(-ENOMEM);
                        if (n)
                                STEP(ops->elements(u, old->sets[i], false, v, n));
                }
                if (!s)
                        continue;
                STEP(own_elements(ops, u, false, old->sets[i], s, s));
                STEP(block_elements(ops, u, false, &pairs, s));
        }
        for (size_t i = 0; i < new->n_sets; i++) {
                const NftSet *o = find_set_like_at(old, i, new->sets[i]);
                STEP(own_elements(ops, u, true, new->sets[i], o, new->sets[i]));
                if (o) {
                        STEP(block_elements(ops, u, true, &pairs, new->sets[i]));
                        continue;
                }
                /* A new set: every block's elements, shared blocks too. */
                size_t n;
                _cleanup_free_ char **v = set_elements(new, new->sets[i], false, &n, &oom);
                if (oom.failed)
                        STEP(-ENOMEM);
                if (n)
                        STEP(ops->elements(u, new->sets[i], true, v, n));
        }
        /* 3. Changed chains are flushed and refilled within the transaction. */
        FOREACH_UNSHARED_CHAIN(i, new, old) {
                const NftChain *o = find_chain_like_at(old, i, new->chains[i]);
                if (o && chain_equal(o, new->chains[i]))
                        continue;
                if (o)
                        STEP(ops->flush_chain(u, new->chains[i]));
                STEP(ops->add_rules(u, new->chains[i]));
        }
        FOREACH_PAIR(p, &pairs)
                for (size_t i = 0; p->n && i < p->n->n_chains; i++) {
                        const NftChain *c = p->n->chains[i], *o = block_find_chain(p->o, c->name);
                        if (o && chain_equal(o, c))
                                continue;
                        if (o)
                                STEP(ops->flush_chain(u, c));
                        STEP(ops->add_rules(u, c));
                }
        /* 4. Whatever is gone, now that nothing refers to it. Chains that
         * jump to each other are flushed first. */
        FOREACH_UNSHARED_CHAIN(i, old, new)
                if (!find_chain_like_at(new, i, old->chains[i]))
                        STEP(ops->flush_chain(u, old->chains[i]));
        FOREACH_PAIR(p, &pairs)
                for (size_t i = 0; p->o && i < p->o->n_chains; i++)
                        if (!block_find_chain(p->n, p->o->chains[i]->name))
                                STEP(ops->flush_chain(u, p->o->chains[i]));
        FOREACH_UNSHARED_CHAIN(i, old, new)
                if (!find_chain_like_at(new, i, old->chains[i]))
                        STEP(ops->delete_chain(u, old->chains[i]));
        FOREACH_PAIR(p, &pairs)
                for (size_t i = 0; p->o && i < p->o->n_chains; i++)
                        if (!block_find_chain(p->n, p->o->chains[i]->name))
                                STEP(ops->delete_chain(u, p->o->chains[i]));
        FOREACH_UNSHARED_SET(i, old, new)
                if (!find_set_like_at(new, i, old->sets[i]))
                        STEP(ops->delete_set(u, old->sets[i]));
        FOREACH_PAIR(p, &pairs)
                for (size_t i = 0; p->o && i < p->o->n_counters; i++)
                        if (!block_has_counter(p->n, p->o->counters[i]))
                                STEP(ops->delete_counter(u, p->o->counters[i]));
        free(pairs.v);
        return 0;
}

/* ---- the diff as nft commands ---- */

static int text_add_counter(void *u, const char *name) {
        strbuf_printf(u, "add counter " T " %s\n", name);
        return 0;
}

static int text_add_chain(void *u, const NftChain *c) {
        cmd_add_chain(u, c);
        return 0;
}

static int text_add_set(void *u, const NftSet *s) {
        cmd_add_set(u, s);
        return 0;
}

static int text_elements(void *u, const NftSet *s, bool add, char *const *elems, size_t n) {
        cmd_elements(u, add ? "add" : "delete", s, elems, n);
        return 0;
}

static int text_flush_chain(void *u, const NftChain *c) {
        strbuf_printf(u, "flush chain " T " %s\n", c->name);
        return 0;
}

static int text_add_rules(void *u, const NftChain *c) {
        cmd_rules(u, c);
        return 0;
}

static int text_delete_chain(void *u, const NftChain *c) {
        strbuf_printf(u, "delete chain " T " %s\n", c->name);
        return 0;
}

static int text_delete_set(void *u, const NftSet *s) {
        strbuf_printf(u, "delete %s " T " %s\n", s->is_map ? "map" : "set", s->name);
        return 0;
}

static int text_delete_counter(void *u, const char *name) {
        strbuf_printf(u, "delete counter " T " %s\n", name);
        return 0;
}

static const RulesetDiffOps text_ops = {
        .add_counter = text_add_counter,
        .add_chain = text_add_chain,
        .add_set = text_add_set,
        .elements = text_elements,
        .flush_chain = text_flush_chain,
        .add_rules = text_add_rules,
        .delete_chain = text_delete_chain,
        .delete_set = text_delete_set,
        .delete_counter = text_delete_counter,
};

void ruleset_commands_diff(const Ruleset *old, const Ruleset *new, StrBuf *out) {
        if (ruleset_diff(old, new, &text_ops, out) < 0)
                out->failed = true;
}

/* ---- what a ruleset adds to the previous one ---- */

Ruleset *ruleset_snapshot(const Ruleset *rs) {
        Ruleset *s = ruleset_new();

        if (!s)
                return NULL;
        s->chains = malloc_array(rs->n_chains, sizeof(NftChain *));
        s->sets = malloc_array(rs->n_sets, sizeof(NftSet *));
        s->blocks = malloc_array(rs->n_blocks, sizeof(NftBlock *));
        if (!s->chains || !s->sets || !s->blocks)
                return ruleset_free(s);
        /* The group's objects are referenced through the group. */
        for (size_t i = 0; i < rs->n_chains; i++)
                s->chains[s->n_chains++] = chain_in_group(rs, i) ? rs->chains[i] : nft_chain_ref(rs->chains[i]);
        for (size_t i = 0; i < rs->n_sets; i++)
                s->sets[s->n_sets++] = set_in_group(rs, i) ? rs->sets[i] : nft_set_ref(rs->sets[i]);
        for (size_t i = 0; i < rs->n_blocks; i++)
                s->blocks[s->n_blocks++] = nft_block_ref(rs->blocks[i]);
        s->shared = nft_shared_ref(rs->shared);
        s->shared_chains_from = rs->shared_chains_from;
        s->shared_sets_from = rs->shared_sets_from;
        s->alloc_chains = s->n_chains;
        s->alloc_sets = s->n_sets;
        s->alloc_blocks = s->n_blocks;
        return s;
}

/* Do a and b (sorted) hold the same elements? */
static bool set_equal(const NftSet *a, const NftSet *b) {
        if (a == b)
                return true;
        if (a->n_elements != b->n_elements || !streq(a->type, b->type))
                return false;
        for (size_t i = 0; i < a->n_elements; i++)
                if (!streq(a->elements[i], b->elements[i]))
                        return false;
        return true;
}

/* A block adds to its previous version a chain that is new or changed, or
 * an element of the set binding. */
static bool block_adds_to(const NftBlock *o, const NftBlock *n, const char *binding) {
        if (o == n)
                return false;
        for (size_t i = 0; i < n->n_chains; i++) {
                const NftChain *c = block_find_chain(o, n->chains[i]->name);
                if (!c || !chain_equal(c, n->chains[i]))
                        return true;
        }
        for (size_t i = 0; i < n->n_elements; i++)
                if (streq(n->elements[i].set, binding) && !block_has_element(o, &n->elements[i]))
                        return true;
        return false;
}

static bool skipped(const char *name, const char *skip) {
        return skip && strncmp(name, skip, strlen(skip)) == 0;
}

/* Each object of old is looked up in new (which has the indexes): new
 * adds nothing when every one of its objects was matched so. */
bool ruleset_adds_to(const Ruleset *old, const Ruleset *new, const char *skip, const char *binding) {
        size_t matched = 0, counted = 0, i = 0, j = 0;

        /* The same object at the same place (most of them) would count on
         * both sides, or be skipped on both: passed over with no look at
         * the object itself. */
        FOREACH_UNSHARED_CHAIN(k, old, new) {
                const NftChain *o = old->chains[k], *n;
                if ((k < new->n_chains && new->chains[k] == o) || skipped(o->name, skip))
                        continue;
                n = find_chain_like(new, o);
                matched += n && chain_equal(o, n);
        }
        FOREACH_UNSHARED_CHAIN(k, new, old)
                if (!(k < old->n_chains && old->chains[k] == new->chains[k]))
                        counted += !skipped(new->chains[k]->name, skip);
        if (matched != counted)
                return true;
        matched = counted = 0;
        FOREACH_UNSHARED_SET(k, old, new) {
                const NftSet *o = old->sets[k], *n;
                if ((k < new->n_sets && new->sets[k] == o) || skipped(o->name, skip))
                        continue;
                n = ruleset_find_set_like(new, o);
                matched += n && set_equal(n, o);
        }
        FOREACH_UNSHARED_SET(k, new, old)
                if (!(k < old->n_sets && old->sets[k] == new->sets[k]))
                        counted += !skipped(new->sets[k]->name, skip);
        if (matched != counted)
                return true;
        /* Blocks, sorted by name on both sides. */
        while (j < new->n_blocks) {
                const NftBlock *n = new->blocks[j];
                int c = i < old->n_blocks ? strcmp(old->blocks[i]->name, n->name) : 1;
                if (c < 0) {
                        i++;
                        continue;
                }
                if (c > 0 || block_adds_to(old->blocks[i], n, binding))
                        return true;
                i++, j++;
        }
        return false;
}
