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

static void strv_free_count(char **v, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(v[i]);
        free(v);
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
        strv_free_count(c->rules, c->n_rules);
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
        strv_free_count(s->elements, s->n_elements);
        free(s);
}

Ruleset *ruleset_free(Ruleset *rs) {
        if (!rs)
                return NULL;
        for (size_t i = 0; i < rs->n_chains; i++)
                nft_chain_unref(rs->chains[i]);
        for (size_t i = 0; i < rs->n_sets; i++)
                nft_set_unref(rs->sets[i]);
        strv_free_count(rs->counters, rs->n_counters);
        free(rs->chains);
        free(rs->sets);
        strmap_done(&rs->chain_index);
        strmap_done(&rs->set_index);
        strmap_done(&rs->counter_index);
        free(rs);
        return NULL;
}

NftChain *ruleset_find_chain(const Ruleset *rs, const char *name) {
        return strmap_get(&rs->chain_index, name);
}

/* Lookups of one ruleset's objects in another, with their known hashes. */
static NftChain *find_chain_like(const Ruleset *rs, const NftChain *c) {
        return strmap_get_hashed(&rs->chain_index, c->name, c->name_hash);
}

static NftSet *find_set_like(const Ruleset *rs, const NftSet *s) {
        return strmap_get_hashed(&rs->set_index, s->name, s->name_hash);
}

NftChain *ruleset_add_chain(Ruleset *rs, const char *name, const char *hook) {
        NftChain **v = grow_array(rs->chains, &rs->alloc_chains, rs->n_chains + 1, sizeof(NftChain *));
        NftChain *c;

        if (!v)
                return NULL;
        rs->chains = v;
        c = calloc(1, sizeof(NftChain));
        if (!c)
                return NULL;
        *c = (NftChain) { .n_ref = 1, .name = strdup(name), .hook = hook ? strdup(hook) : NULL };
        if (!c->name || (hook && !c->hook)) {
                free(c->name);
                free(c->hook);
                free(c);
                return NULL;
        }
        c->name_hash = strmap_hash(c->name);
        if (strmap_put_hashed(&rs->chain_index, c->name, c->name_hash, c) < 0) {
                free(c->name);
                free(c->hook);
                free(c);
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

NftSet *ruleset_find_set(const Ruleset *rs, const char *name) {
        return strmap_get(&rs->set_index, name);
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

int ruleset_add_counter(Ruleset *rs, const char *name) {
        char **v;
        char *n;

        v = grow_array(rs->counters, &rs->alloc_counters, rs->n_counters + 1, sizeof(char *));
        if (!v)
                return -ENOMEM;
        rs->counters = v;
        n = strdup(name);
        if (!n || strmap_put(&rs->counter_index, n, n) < 0) {
                free(n);
                return -ENOMEM;
        }
        rs->counters[rs->n_counters++] = n;
        return 0;
}

static int compare_strings(const void *a, const void *b) {
        return strcmp(*(char *const *)a, *(char *const *)b);
}

void ruleset_finish(Ruleset *rs) {
        qsort_safe(rs->counters, rs->n_counters, sizeof(char *), compare_strings);
        for (size_t i = 0; i < rs->n_sets; i++) {
                NftSet *s = rs->sets[i];
                size_t k = 0;

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

size_t ruleset_count_rules(const Ruleset *rs) {
        size_t n = 0;

        for (size_t i = 0; i < rs->n_chains; i++)
                n += rs->chains[i]->n_rules;
        return n;
}

/* ---- printing ---- */

static void print_elements(StrBuf *out, const NftSet *s, const char *indent) {
        if (s->n_elements == 0)
                return;
        strbuf_printf(out, "%selements = { ", indent);
        for (size_t i = 0; i < s->n_elements; i++)
                strbuf_printf(out, "%s%s", i ? ",\n\t\t\t     " : "", s->elements[i]);
        strbuf_append(out, " }\n");
}

void ruleset_print(const Ruleset *rs, StrBuf *out) {
        strbuf_append(out, "table " T " {\n");
        for (size_t i = 0; i < rs->n_counters; i++)
                strbuf_printf(out, "\tcounter %s {\n\t}\n\n", rs->counters[i]);
        for (size_t i = 0; i < rs->n_sets; i++) {
                const NftSet *s = rs->sets[i];
                strbuf_printf(out, "\t%s %s {\n\t\t%s\n", s->is_map ? "map" : "set", s->name, s->type);
                print_elements(out, s, "\t\t");
                strbuf_append(out, "\t}\n\n");
        }
        for (size_t i = 0; i < rs->n_chains; i++) {
                const NftChain *c = rs->chains[i];
                strbuf_printf(out, "\tchain %s {\n", c->name);
                if (c->hook)
                        strbuf_printf(out, "\t\t%s\n", c->hook);
                for (size_t j = 0; j < c->n_rules; j++)
                        strbuf_printf(out, "\t\t%s\n", c->rules[j]);
                strbuf_append(out, "\t}\n");
                if (i + 1 < rs->n_chains)
                        strbuf_append_char(out, '\n');
        }
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
        /* "add" then "delete" then "add": works whether or not the table
         * exists, and the kernel applies the whole buffer atomically. */
        strbuf_append(out, "add table " T "\ndelete table " T "\nadd table " T "\n");
        for (size_t i = 0; i < rs->n_counters; i++)
                strbuf_printf(out, "add counter " T " %s\n", rs->counters[i]);
        for (size_t i = 0; i < rs->n_chains; i++)
                cmd_add_chain(out, rs->chains[i]);
        for (size_t i = 0; i < rs->n_sets; i++)
                cmd_add_set(out, rs->sets[i]);
        for (size_t i = 0; i < rs->n_sets; i++)
                cmd_elements(out, "add", rs->sets[i], rs->sets[i]->elements, rs->sets[i]->n_elements);
        for (size_t i = 0; i < rs->n_chains; i++)
                cmd_rules(out, rs->chains[i]);
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
static size_t set_difference(const NftSet *a, const NftSet *b, char ***ret) {
        char **v;
        size_t n = 0, j = 0;

        *ret = NULL;
        if (a == b)
                return 0;
        v = new_array(a->n_elements, sizeof(char *));
        if (!v) {
                *ret = NULL;
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

void ruleset_commands_diff(const Ruleset *old, const Ruleset *new, StrBuf *out) {
        char **v;
        size_t n;

        /* 1. New counters, chains and sets, so that anything below may
         * reference them. */
        for (size_t i = 0; i < new->n_counters; i++)
                if (!strmap_get(&old->counter_index, new->counters[i]))
                        strbuf_printf(out, "add counter " T " %s\n", new->counters[i]);
        for (size_t i = 0; i < new->n_chains; i++)
                if (!find_chain_like(old, new->chains[i]))
                        cmd_add_chain(out, new->chains[i]);
        for (size_t i = 0; i < new->n_sets; i++) {
                const NftSet *o = find_set_like(old, new->sets[i]);
                if (o && !streq(o->type, new->sets[i]->type))
                        o = NULL; /* a changed type is a different set; names encode types */
                if (!o)
                        cmd_add_set(out, new->sets[i]);
        }
        /* 2. Elements: removals first, so a map key can move to a new verdict. */
        for (size_t i = 0; i < old->n_sets; i++) {
                const NftSet *s = find_set_like(new, old->sets[i]);
                if (!s)
                        continue;
                n = set_difference(old->sets[i], s, &v);
                cmd_elements(out, "delete", s, v, n);
                free(v);
        }
        for (size_t i = 0; i < new->n_sets; i++) {
                n = set_difference(new->sets[i], find_set_like(old, new->sets[i]), &v);
                cmd_elements(out, "add", new->sets[i], v, n);
                free(v);
        }
        /* 3. Changed chains are flushed and refilled within the transaction. */
        for (size_t i = 0; i < new->n_chains; i++) {
                const NftChain *o = find_chain_like(old, new->chains[i]);
                if (o && chain_equal(o, new->chains[i]))
                        continue;
                if (o)
                        strbuf_printf(out, "flush chain " T " %s\n", new->chains[i]->name);
                cmd_rules(out, new->chains[i]);
        }
        /* 4. Whatever is gone, now that nothing refers to it. Chains that
         * jump to each other are flushed first. */
        for (size_t i = 0; i < old->n_chains; i++)
                if (!find_chain_like(new, old->chains[i]))
                        strbuf_printf(out, "flush chain " T " %s\n", old->chains[i]->name);
        for (size_t i = 0; i < old->n_chains; i++)
                if (!find_chain_like(new, old->chains[i]))
                        strbuf_printf(out, "delete chain " T " %s\n", old->chains[i]->name);
        for (size_t i = 0; i < old->n_sets; i++)
                if (!find_set_like(new, old->sets[i]))
                        strbuf_printf(out, "delete %s " T " %s\n", old->sets[i]->is_map ? "map" : "set",
                                      old->sets[i]->name);
        for (size_t i = 0; i < old->n_counters; i++)
                if (!strmap_get(&new->counter_index, old->counters[i]))
                        strbuf_printf(out, "delete counter " T " %s\n", old->counters[i]);
}
