/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Explain (explain.h): a small nftables interpreter for the statements the
 * compiler emits (compile.c, compile-rule.c), over the Ruleset's own text.
 * Each rule is parsed into matches and statements first, so that anything
 * unknown is an error before a single match is tried; then the packet goes
 * through the hooks of its path in priority order (raw, pre-DNAT, filter,
 * postrouting), with the packet mark, the conntrack state and a call stack
 * as the kernel keeps them. Who decided is tracked beside the mark bits:
 * the policy chain rule that set the accept, pass or drop bit is what the
 * endpoint chain acts on later. */
#include "explain.h"

#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"

#define MARK_ACCEPT 0x00010000u
#define MARK_PASS 0x00020000u
#define MARK_DROP 0x00040000u
#define MAX_FIELDS 4
#define MAX_DEPTH 64
#define MAX_RULES_RUN 100000

static const char *strnull(const char *s) {
        return s ? s : "(null)";
}

/* ---- rules as data ---- */

typedef enum FieldKind {
        F_IIFNAME,
        F_OIFNAME,
        F_SADDR4,
        F_DADDR4,
        F_SADDR6,
        F_DADDR6,
        F_L4PROTO,
        F_NFPROTO,
        F_SPORT,
        F_DPORT,
        F_ICMP_TYPE,
        F_ICMP_CODE,
        F_ICMP6_TYPE,
        F_ICMP6_CODE,
        F_MARK,
        F_CTMARK,
        F_CTSTATE,
        F_CTDIRECTION,
        F_CTSTATUS,
} FieldKind;

typedef struct Field {
        FieldKind kind;
        bool masked;
        uint32_t mask;
} Field;

typedef enum ItemKind {
        ITEM_MATCH,    /* fields [!=] value (a literal or @set) */
        ITEM_VMAP,     /* fields vmap @map */
        ITEM_MARK_SET, /* meta mark set meta mark & and | or */
        ITEM_NOTRACK,
        ITEM_NOOP,     /* counter, log, limit, ct mark set */
        ITEM_VERDICT,
} ItemKind;

typedef enum Verdict {
        V_ACCEPT,
        V_DROP,
        V_REJECT,
        V_RETURN,
        V_JUMP,
        V_GOTO,
} Verdict;

typedef struct Item {
        ItemKind kind;
        Field fields[MAX_FIELDS];
        size_t n_fields;
        bool negate;
        const char *value; /* a token: a literal, or "@name" */
        uint32_t and_mask, or_bits;
        Verdict verdict;
        const char *target;
} Item;

typedef struct ParsedRule {
        char *buf;     /* the tokens, NUL-separated */
        char **tokens;
        size_t n_tokens;
        Item *items;
        size_t n_items;
} ParsedRule;

static void parsed_rule_done(ParsedRule *r) {
        free(r->buf);
        free(r->tokens);
        free(r->items);
        *r = (ParsedRule) {};
}

/* Splits at spaces; a quoted string is one token, quotes kept. */
static int tokenize(const char *text, ParsedRule *r) {
        size_t alloc = 0;
        char *p;

        r->buf = strdup(text);
        if (!r->buf)
                return -ENOMEM;
        p = r->buf;
        for (;;) {
                char **v;
                while (*p == ' ')
                        *p++ = 0;
                if (!*p)
                        break;
                v = grow_array(r->tokens, &alloc, r->n_tokens + 1, sizeof(char *));
                if (!v)
                        return -ENOMEM;
                r->tokens = v;
                r->tokens[r->n_tokens++] = p;
                if (*p == '"') {
                        char *q = strchr(p + 1, '"');
                        if (!q)
                                return -EBADMSG;
                        p = q + 1;
                } else
                        p += strcspn(p, " ");
        }
        return 0;
}

typedef struct Parser {
        ParsedRule *r;
        size_t pos;
        char *error; /* why the rule does not parse */
} Parser;

static const char *peek(Parser *p, size_t ahead) {
        return p->pos + ahead < p->r->n_tokens ? p->r->tokens[p->pos + ahead] : NULL;
}

static int fail(Parser *p, const char *fmt, ...) _printf_(2, 3);
static int fail(Parser *p, const char *fmt, ...) {
        va_list ap;

        if (!p->error) {
                va_start(ap, fmt);
                if (vasprintf(&p->error, fmt, ap) < 0)
                        p->error = NULL;
                va_end(ap);
        }
        return -EBADMSG;
}

static bool parse_u32(const char *s, uint32_t *ret) {
        char *end;
        unsigned long v;

        if (!s || !*s || *s == '-')
                return false;
        errno = 0;
        v = strtoul(s, &end, 0);
        if (errno || *end || v > UINT32_MAX)
                return false;
        *ret = (uint32_t)v;
        return true;
}

/* The field at the parser's position, if there is one: 1 and *ret, else 0. */
static int parse_field(Parser *p, Field *ret) {
        static const struct {
                const char *a, *b;
                FieldKind kind;
        } fields[] = {
                { "iifname", NULL, F_IIFNAME },       { "oifname", NULL, F_OIFNAME },
                { "ip", "saddr", F_SADDR4 },          { "ip", "daddr", F_DADDR4 },
                { "ip6", "saddr", F_SADDR6 },         { "ip6", "daddr", F_DADDR6 },
                { "meta", "l4proto", F_L4PROTO },     { "meta", "nfproto", F_NFPROTO },
                { "meta", "mark", F_MARK },           { "th", "sport", F_SPORT },
                { "th", "dport", F_DPORT },           { "icmp", "type", F_ICMP_TYPE },
                { "icmp", "code", F_ICMP_CODE },      { "icmpv6", "type", F_ICMP6_TYPE },
                { "icmpv6", "code", F_ICMP6_CODE },   { "ct", "mark", F_CTMARK },
                { "ct", "state", F_CTSTATE },         { "ct", "direction", F_CTDIRECTION },
                { "ct", "status", F_CTSTATUS },
        };
        const char *a = peek(p, 0), *b = peek(p, 1);

        if (!a)
                return 0;
        for (size_t i = 0; i < ELEMENTSOF(fields); i++) {
                if (!streq(a, fields[i].a) || (fields[i].b && !streq_ptr(b, fields[i].b)))
                        continue;
                *ret = (Field) { .kind = fields[i].kind };
                p->pos += fields[i].b ? 2 : 1;
                if ((ret->kind == F_MARK || ret->kind == F_CTMARK) && streq_ptr(peek(p, 0), "&")) {
                        if (!parse_u32(peek(p, 1), &ret->mask))
                                return fail(p, "a mask that is not a number after '&'");
                        ret->masked = true;
                        p->pos += 2;
                }
                return 1;
        }
        return 0;
}

/* "meta mark set meta mark & X", "... | X", "ct mark set ct mark & X | Y",
 * "ct mark set ct mark & X map @M". */
static int parse_mark_set(Parser *p, Item *it, FieldKind kind) {
        const char *src = kind == F_MARK ? "meta" : "ct";

        if (!streq_ptr(peek(p, 0), src) || !streq_ptr(peek(p, 1), "mark"))
                return fail(p, "a mark set from anything but the mark itself");
        p->pos += 2;
        it->and_mask = UINT32_MAX;
        it->or_bits = 0;
        while (streq_ptr(peek(p, 0), "&") || streq_ptr(peek(p, 0), "|")) {
                uint32_t v;
                bool and = streq(peek(p, 0), "&");
                if (!parse_u32(peek(p, 1), &v))
                        return fail(p, "a mark operand that is not a number");
                if (and) {
                        it->and_mask &= v;
                        it->or_bits &= v;
                } else
                        it->or_bits |= v;
                p->pos += 2;
        }
        /* "ct mark set ct mark & X map @ct-stamp": the conntrack
         * generation's stamp (compile.c), which no verdict depends on. */
        if (kind == F_CTMARK && streq_ptr(peek(p, 0), "map") && peek(p, 1) && peek(p, 1)[0] == '@')
                p->pos += 2;
        it->kind = kind == F_MARK ? ITEM_MARK_SET : ITEM_NOOP;
        return 0;
}

static int parse_match(Parser *p, Item *it) {
        const char *t;
        int r;

        it->kind = ITEM_MATCH;
        for (;;) {
                if (it->n_fields == MAX_FIELDS)
                        return fail(p, "a concatenation of more than %d fields", MAX_FIELDS);
                r = parse_field(p, &it->fields[it->n_fields]);
                if (r < 0)
                        return r;
                if (r == 0)
                        return fail(p, "an unknown expression at '%s'", strnull(peek(p, 0)));
                it->n_fields++;
                if (!streq_ptr(peek(p, 0), "."))
                        break;
                p->pos++;
        }
        t = peek(p, 0);
        if (!t)
                return fail(p, "an expression with nothing to compare it with");
        if (streq(t, "set")) {
                if (it->n_fields != 1 || (it->fields[0].kind != F_MARK && it->fields[0].kind != F_CTMARK) ||
                    it->fields[0].masked)
                        return fail(p, "a set statement on something other than a mark");
                p->pos++;
                return parse_mark_set(p, it, it->fields[0].kind);
        }
        if (streq(t, "vmap")) {
                it->kind = ITEM_VMAP;
                if (!peek(p, 1) || peek(p, 1)[0] != '@')
                        return fail(p, "a verdict map that is not named");
                it->value = peek(p, 1);
                p->pos += 2;
                return 0;
        }
        /* "!" before flags (ct status ! confirmed): none of them, the
         * negation of the bare test (any of them). */
        if (streq(t, "!=") || streq(t, "==") || streq(t, "!")) {
                it->negate = !streq(t, "==");
                p->pos++;
        }
        it->value = peek(p, 0);
        if (!it->value)
                return fail(p, "a comparison with no value");
        p->pos++;
        return 0;
}

/* log [prefix "..."] [level L] [group N] [snaplen N] [queue-threshold N] [flags F] */
static int parse_log(Parser *p) {
        static const char *const options[] = { "prefix", "level", "group", "snaplen", "queue-threshold", "flags" };

        p->pos++;
        for (const char *t; (t = peek(p, 0));) {
                bool known = false;
                for (size_t i = 0; i < ELEMENTSOF(options); i++)
                        known = known || streq(t, options[i]);
                if (!known)
                        break;
                if (!peek(p, 1))
                        return fail(p, "log %s without its value", t);
                p->pos += 2;
        }
        return 0;
}

/* limit rate [over] N/UNIT [burst N packets|bytes] */
static int parse_limit(Parser *p) {
        if (!streq_ptr(peek(p, 1), "rate"))
                return fail(p, "limit without rate");
        p->pos += 2;
        if (streq_ptr(peek(p, 0), "over"))
                return fail(p, "limit rate over, which the compiler never emits");
        if (!peek(p, 0) || !strchr(peek(p, 0), '/'))
                return fail(p, "a limit rate that is not N/UNIT");
        p->pos++;
        if (streq_ptr(peek(p, 0), "burst")) {
                uint32_t n;
                if (!parse_u32(peek(p, 1), &n) || (!streq_ptr(peek(p, 2), "packets") && !streq_ptr(peek(p, 2), "bytes")))
                        return fail(p, "a limit burst that is not N packets|bytes");
                p->pos += 3;
        }
        return 0;
}

static int parse_statement(Parser *p, Item *it) {
        static const struct {
                const char *word;
                Verdict verdict;
                bool target;
        } verdicts[] = {
                { "accept", V_ACCEPT, false }, { "drop", V_DROP, false }, { "reject", V_REJECT, false },
                { "return", V_RETURN, false }, { "jump", V_JUMP, true },  { "goto", V_GOTO, true },
        };
        const char *t = peek(p, 0);

        for (size_t i = 0; i < ELEMENTSOF(verdicts); i++) {
                if (!streq(t, verdicts[i].word))
                        continue;
                it->kind = ITEM_VERDICT;
                it->verdict = verdicts[i].verdict;
                p->pos++;
                if (verdicts[i].target) {
                        it->target = peek(p, 0);
                        if (!it->target)
                                return fail(p, "%s without a chain", t);
                        p->pos++;
                }
                if (peek(p, 0))
                        return fail(p, "'%s' after the verdict", peek(p, 0));
                return 0;
        }
        it->kind = ITEM_NOOP;
        if (streq(t, "counter")) {
                p->pos++;
                if (streq_ptr(peek(p, 0), "name")) {
                        if (!peek(p, 1))
                                return fail(p, "counter name without a name");
                        p->pos += 2;
                }
                return 0;
        }
        if (streq(t, "log"))
                return parse_log(p);
        if (streq(t, "comment")) {
                if (!peek(p, 1) || peek(p, 1)[0] != '"')
                        return fail(p, "comment without a quoted text");
                p->pos += 2;
                return 0;
        }
        if (streq(t, "limit"))
                return parse_limit(p);
        if (streq(t, "notrack")) {
                it->kind = ITEM_NOTRACK;
                p->pos++;
                return 0;
        }
        return parse_match(p, it);
}

/* 0, or -EBADMSG with *ret_error saying what it does not understand. */
static int rule_parse(const char *text, ParsedRule *ret, char **ret_error) {
        Parser p = { .r = ret };
        size_t alloc = 0;
        int r;

        *ret = (ParsedRule) {};
        r = tokenize(text, ret);
        if (r == -EBADMSG)
                r = fail(&p, "an unterminated quoted string");
        while (r >= 0 && peek(&p, 0)) {
                Item *v = grow_array(ret->items, &alloc, ret->n_items + 1, sizeof(Item));
                if (!v) {
                        r = -ENOMEM;
                        break;
                }
                ret->items = v;
                v[ret->n_items] = (Item) {};
                r = parse_statement(&p, &v[ret->n_items]);
                if (r >= 0)
                        ret->n_items++;
        }
        if (r < 0) {
                parsed_rule_done(ret);
                if (r == -EBADMSG && ret_error) {
                        *ret_error = p.error;
                        p.error = NULL;
                }
        }
        free(p.error);
        return r;
}

/* ---- the ruleset's objects ---- */

static const NftChain *find_chain(const Ruleset *rs, const char *name) {
        const NftChain *c = ruleset_find_chain(rs, name);

        for (size_t b = 0; !c && b < rs->n_blocks; b++)
                for (size_t i = 0; !c && i < rs->blocks[b]->n_chains; i++)
                        if (streq(rs->blocks[b]->chains[i]->name, name))
                                c = rs->blocks[b]->chains[i];
        return c;
}

/* Calls f on each element of the set or map name (its own and the
 * blocks'), until f returns non-zero, which is returned. */
typedef int (*ElementFn)(const char *element, void *userdata);

static int each_element(const Ruleset *rs, const char *name, ElementFn f, void *userdata) {
        const NftSet *s = ruleset_find_set(rs, name);
        int r = 0;

        if (!s)
                return -ENOENT;
        for (size_t i = 0; r == 0 && i < s->n_elements; i++)
                r = f(s->elements[i], userdata);
        for (size_t b = 0; r == 0 && b < rs->n_blocks; b++)
                for (size_t i = 0; r == 0 && i < rs->blocks[b]->n_elements; i++)
                        if (streq(rs->blocks[b]->elements[i].set, name))
                                r = f(rs->blocks[b]->elements[i].element, userdata);
        return r;
}

/* ---- the packet's values ---- */

typedef struct State {
        const Ruleset *rs;
        const ExplainPacket *p;
        const char *iif, *oif; /* at the hook being walked */
        uint32_t mark, ct_mark;
        const char *ct_state; /* "new", "established", "untracked" */
        char *error;
} State;

static bool has_ports(uint8_t proto) {
        return proto == IPPROTO_TCP || proto == IPPROTO_UDP || proto == IPPROTO_SCTP || proto == IPPROTO_UDPLITE ||
               proto == IPPROTO_DCCP;
}

typedef enum ValueType {
        T_NONE, /* the packet has no such field: nothing about it matches */
        T_STR,
        T_ADDR,
        T_INT,
        T_STATE,
} ValueType;

typedef struct Value {
        ValueType type;
        const char *s;
        IPAddr a;
        uint32_t n;
} Value;

static Value field_value(const State *st, const Field *f) {
        const ExplainPacket *p = st->p;
        bool v4 = p->family == AF_INET, v6 = p->family == AF_INET6, tracked = !streq(st->ct_state, "untracked");

        switch (f->kind) {
        case F_IIFNAME:
                return (Value) { T_STR, .s = st->iif };
        case F_OIFNAME:
                return (Value) { T_STR, .s = st->oif };
        case F_SADDR4:
        case F_SADDR6:
                if ((f->kind == F_SADDR4) != v4)
                        break;
                return (Value) { T_ADDR, .a = p->src };
        case F_DADDR4:
        case F_DADDR6:
                if ((f->kind == F_DADDR4) != v4)
                        break;
                return (Value) { T_ADDR, .a = p->dst };
        case F_L4PROTO:
                return (Value) { T_INT, .n = p->proto };
        case F_NFPROTO:
                return (Value) { T_INT, .n = v4 ? 2 : 10 };
        case F_SPORT:
        case F_DPORT:
                if (!has_ports(p->proto))
                        break;
                return (Value) { T_INT, .n = f->kind == F_SPORT ? p->sport : p->dport };
        case F_ICMP_TYPE:
        case F_ICMP_CODE:
                if (!v4 || p->proto != IPPROTO_ICMP)
                        break;
                return (Value) { T_INT, .n = f->kind == F_ICMP_TYPE ? p->icmp_type : p->icmp_code };
        case F_ICMP6_TYPE:
        case F_ICMP6_CODE:
                if (!v6 || p->proto != IPPROTO_ICMPV6)
                        break;
                return (Value) { T_INT, .n = f->kind == F_ICMP6_TYPE ? p->icmp_type : p->icmp_code };
        case F_MARK:
                return (Value) { T_INT, .n = f->masked ? st->mark & f->mask : st->mark };
        case F_CTMARK:
                if (!tracked)
                        break;
                return (Value) { T_INT, .n = f->masked ? st->ct_mark & f->mask : st->ct_mark };
        case F_CTSTATE:
                return (Value) { T_STATE, .s = st->ct_state };
        case F_CTDIRECTION:
                /* Explained packets go the way the flow began. */
                if (!tracked)
                        break;
                return (Value) { T_STATE, .s = "original" };
        case F_CTSTATUS:
                /* No DNAT: an explained packet is addressed as it arrives. */
                if (!tracked)
                        break;
                return (Value) { T_STATE, .s = "" };
        }
        return (Value) { T_NONE };
}

static bool parse_int_name(const char *s, uint32_t *ret) {
        static const struct {
                const char *name;
                uint32_t v;
        } names[] = {
                { "tcp", IPPROTO_TCP },   { "udp", IPPROTO_UDP },         { "sctp", IPPROTO_SCTP },
                { "icmp", IPPROTO_ICMP }, { "icmpv6", IPPROTO_ICMPV6 },   { "udplite", IPPROTO_UDPLITE },
                { "dccp", IPPROTO_DCCP }, { "ipv4", 2 },                  { "ipv6", 10 },
        };

        if (parse_u32(s, ret))
                return true;
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (streq(s, names[i].name)) {
                        *ret = names[i].v;
                        return true;
                }
        return false;
}

/* Whether v is one of what text (a literal or one component of an
 * element) stands for: 1, 0, or -EBADMSG when text makes no sense for it. */
static int value_in(const Value *v, const char *text, size_t len) {
        char buf[128], *dash;

        if (len >= sizeof(buf))
                return -EBADMSG;
        memcpy(buf, text, len);
        buf[len] = 0;
        switch (v->type) {
        case T_NONE:
                return 0;
        case T_STR: {
                size_t n = strlen(buf);
                const char *s = buf;
                if (n >= 2 && buf[0] == '"' && buf[n - 1] == '"') {
                        buf[n - 1] = 0;
                        s = buf + 1;
                        n -= 2;
                }
                if (n > 0 && s[n - 1] == '*')
                        return strncmp(v->s, s, n - 1) == 0;
                return streq(v->s, s);
        }
        case T_STATE:
                for (char *save = NULL, *w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save))
                        if (streq(w, v->s))
                                return 1;
                return 0;
        case T_INT: {
                uint32_t lo, hi;
                dash = strchr(buf, '-');
                if (dash)
                        *dash = 0;
                if (!parse_int_name(buf, &lo))
                        return -EBADMSG;
                hi = lo;
                if (dash && !parse_int_name(dash + 1, &hi))
                        return -EBADMSG;
                return v->n >= lo && v->n <= hi;
        }
        case T_ADDR: {
                IPAddr lo, hi;
                IPNet net;
                dash = strchr(buf, '-');
                if (dash) {
                        *dash = 0;
                        if (!ipaddr_parse_go(buf, &lo) || !ipaddr_parse_go(dash + 1, &hi))
                                return -EBADMSG;
                        return lo.family == v->a.family && ipaddr_compare(&lo, &v->a) <= 0 &&
                               ipaddr_compare(&v->a, &hi) <= 0;
                }
                if (strchr(buf, '/')) {
                        if (ipnet_parse_go(buf, &net, NULL) < 0)
                                return -EBADMSG;
                        return ipnet_contains(&net, &v->a);
                }
                if (!ipaddr_parse_go(buf, &lo))
                        return -EBADMSG;
                return ipaddr_compare(&lo, &v->a) == 0;
        }
        }
        return -EBADMSG;
}

/* Whether the packet's values are the element's components (" . "
 * between them): 1, 0 or -EBADMSG. */
static int element_matches(const Value *v, size_t n, const char *element, size_t len) {
        const char *p = element, *end = element + len;

        for (size_t i = 0; i < n; i++) {
                const char *sep = i + 1 < n ? strstr(p, " . ") : NULL;
                size_t l;
                int r;

                if (i + 1 < n && (!sep || sep >= end))
                        return -EBADMSG;
                l = sep ? (size_t)(sep - p) : (size_t)(end - p);
                r = value_in(&v[i], p, l);
                if (r <= 0)
                        return r;
                p = sep ? sep + 3 : end;
        }
        return 1;
}

typedef struct Lookup {
        const Value *v;
        size_t n;
        bool map;
        const char *verdict; /* a map's: the text after " : " */
        const char *bad;     /* an element that makes no sense */
} Lookup;

static int lookup_element(const char *element, void *userdata) {
        Lookup *l = userdata;
        const char *colon = l->map ? strstr(element, " : ") : NULL;
        size_t len = colon ? (size_t)(colon - element) : strlen(element);
        int r;

        if (l->map && !colon) {
                l->bad = element;
                return -EBADMSG;
        }
        r = element_matches(l->v, l->n, element, len);
        if (r < 0) {
                l->bad = element;
                return r;
        }
        if (r > 0 && colon)
                l->verdict = colon + 3;
        return r;
}

static int st_fail(State *st, int r, const char *fmt, ...) _printf_(3, 4);
static int st_fail(State *st, int r, const char *fmt, ...) {
        va_list ap;

        if (!st->error) {
                va_start(ap, fmt);
                if (vasprintf(&st->error, fmt, ap) < 0)
                        st->error = NULL;
                va_end(ap);
        }
        return r;
}

/* Whether the packet matches item (a match or a map lookup): 1, 0 or
 * -errno. For a map, *ret_verdict is the element's verdict text. */
static int item_matches(State *st, const Item *it, const char **ret_verdict) {
        Value v[MAX_FIELDS];
        Lookup l = { .v = v, .n = it->n_fields, .map = it->kind == ITEM_VMAP };
        int r;

        for (size_t i = 0; i < it->n_fields; i++) {
                v[i] = field_value(st, &it->fields[i]);
                /* nft's implicit dependencies: a field the packet lacks fails the rule. */
                if (v[i].type == T_NONE)
                        return 0;
        }
        if (it->value[0] != '@') {
                r = element_matches(v, it->n_fields, it->value, strlen(it->value));
                if (r < 0)
                        return st_fail(st, r, "'%s' is no value for that expression", it->value);
                return it->negate ? !r : r;
        }
        r = each_element(st->rs, it->value + 1, lookup_element, &l);
        if (r == -ENOENT)
                return st_fail(st, -EBADMSG, "no set or map %s", it->value);
        if (r < 0)
                return st_fail(st, r, "the element '%s' of %s does not fit the expression", strnull(l.bad), it->value);
        if (l.map) {
                *ret_verdict = l.verdict;
                return r;
        }
        return it->negate ? !r : r;
}

/* ---- who decided ---- */

typedef struct Who {
        const char *tier;   /* NULL: none */
        size_t tier_len;
        const char *policy; /* NULL: none */
        int rule;
        bool weak;          /* a default, which a decision of policy elsewhere on the path outranks */
} Who;

static const Who nobody = { .rule = -1 };

static Who who(const char *policy, int rule) {
        return (Who) { .policy = policy, .rule = rule };
}

typedef struct Frame {
        const NftChain *c;
        size_t i;
        Who inherited;             /* who the rule that led here speaks for */
        const char *tier;          /* the endpoint chain's tier this policy chain runs in */
        size_t tier_len;
} Frame;

/* Bit index of the mark bits: accept, pass, drop. */
static int bit_index(uint32_t bit) {
        return bit == MARK_ACCEPT ? 0 : bit == MARK_PASS ? 1 : bit == MARK_DROP ? 2 : -1;
}

/* The mark bit a rule tests as set ("meta mark & B != 0"), or 0. */
static uint32_t tests_bit_set(const ParsedRule *r) {
        for (size_t i = 0; i < r->n_items; i++) {
                const Item *it = &r->items[i];
                uint32_t v;
                if (it->kind == ITEM_MATCH && it->n_fields == 1 && it->fields[0].kind == F_MARK &&
                    it->fields[0].masked && it->negate && parse_u32(it->value, &v) && v == 0 &&
                    bit_index(it->fields[0].mask) >= 0)
                        return it->fields[0].mask;
        }
        return 0;
}

/* Whether a rule tests that no pass was reached ("meta mark & PASS == 0"). */
static bool tests_not_passed(const ParsedRule *r) {
        for (size_t i = 0; i < r->n_items; i++) {
                const Item *it = &r->items[i];
                uint32_t v;
                if (it->kind == ITEM_MATCH && it->n_fields == 1 && it->fields[0].kind == F_MARK &&
                    it->fields[0].masked && it->fields[0].mask == MARK_PASS && !it->negate && parse_u32(it->value, &v) &&
                    v == 0)
                        return true;
        }
        return false;
}

static const Item *find_field(const ParsedRule *r, FieldKind k) {
        for (size_t i = 0; i < r->n_items; i++)
                if (r->items[i].kind == ITEM_MATCH && r->items[i].fields[0].kind == k)
                        return &r->items[i];
        return NULL;
}

static bool sets_bit(const ParsedRule *r, uint32_t bit) {
        for (size_t i = 0; i < r->n_items; i++)
                if (r->items[i].kind == ITEM_MARK_SET && (r->items[i].or_bits & bit))
                        return true;
        return false;
}

static bool starts_with(const char *s, const char *prefix) {
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Who rule i of the frame's chain speaks for. */
static Who who_of(const Frame *f, const ParsedRule *r, const Who setters[3]) {
        const NftChain *c = f->c;
        const NftNote *note = chain_note(c, f->i);
        uint32_t bit = tests_bit_set(r);
        const Item *ct = find_field(r, F_CTSTATE);
        Who w;

        if (c->origin) {
                w = who(c->origin, note ? note->index : -1);
                w.tier = f->tier;
                w.tier_len = f->tier_len;
                return w;
        }
        if (starts_with(c->name, "failsafe-") || starts_with(c->name, "raw-failsafe-"))
                return who("failsafe", -1);
        if (bit)
                return setters[bit_index(bit)];
        if (ct && !ct->negate && strstr(ct->value, "established"))
                return who("established", -1);
        if (ct && !ct->negate && strstr(ct->value, "invalid"))
                return who("invalid", -1);
        if (!starts_with(c->name, "ep-"))
                return f->inherited;
        if (!note) {
                const Item *icmp6 = find_field(r, F_ICMP6_TYPE);
                if (icmp6 && streq(icmp6->value, "@nd-types"))
                        return who("neighbour discovery", -1);
                if (sets_bit(r, MARK_ACCEPT)) {
                        w = who("default allow", -1);
                        w.weak = true;
                        return w;
                }
                return f->inherited;
        }
        if (note->label && starts_with(note->label, "tier ") && tests_not_passed(r)) {
                w = who("default deny", -1);
                w.tier = note->label + 5;
                w.tier_len = strlen(w.tier);
                return w;
        }
        if (note->label && (starts_with(note->label, "profile ") || streq(note->label, "default deny")))
                return who(note->label, -1);
        return f->inherited;
}

/* ---- the walk ---- */

typedef struct Walk {
        State st;
        ExplainResult *res;
        Who setters[3];
        Who allowed; /* the strongest allow so far on the path */
        bool denied;
        Who decided;
        size_t budget;
} Walk;

static int add_step(ExplainResult *res, const char *chain, const char *rule, const char *fmt, ...) _printf_(4, 5);
static int add_step(ExplainResult *res, const char *chain, const char *rule, const char *fmt, ...) {
        ExplainStep *v = grow_array(res->steps, &res->alloc_steps, res->n_steps + 1, sizeof(ExplainStep));
        va_list ap;
        int k;

        if (!v)
                return -ENOMEM;
        res->steps = v;
        v = &v[res->n_steps];
        *v = (ExplainStep) { .chain = strdup(chain), .rule = rule ? strdup(rule) : NULL };
        va_start(ap, fmt);
        k = vasprintf(&v->result, fmt, ap);
        va_end(ap);
        if (k < 0)
                v->result = NULL;
        res->n_steps++;
        if (!v->chain || (rule && !v->rule) || !v->result)
                return -ENOMEM;
        return 0;
}

/* "jump NAME" or "goto NAME", as a map's element says it. */
static int map_verdict(State *st, const char *text, Verdict *v, const char **target) {
        if (starts_with(text, "jump "))
                *v = V_JUMP;
        else if (starts_with(text, "goto "))
                *v = V_GOTO;
        else
                return st_fail(st, -EBADMSG, "a map verdict '%s' that is neither jump nor goto", text);
        *target = text + 5;
        return 0;
}

static const char *mark_word(uint32_t bits) {
        return bits & MARK_DROP ? "deny" : bits & MARK_ACCEPT ? "allow" : bits & MARK_PASS ? "pass" : NULL;
}

/* Runs one base chain. 1: the packet was accepted (or left by the
 * policy), 0: dropped or rejected, or -errno. */
static int run_hook(Walk *w, const NftChain *base) {
        Frame stack[MAX_DEPTH];
        size_t depth = 1;
        int r;

        stack[0] = (Frame) { .c = base, .inherited = nobody };
        while (depth > 0) {
                Frame *f = &stack[depth - 1];
                const NftChain *c = f->c;
                _cleanup_(parsed_rule_done) ParsedRule pr = {};
                const char *target = NULL;
                Verdict verdict = V_RETURN;
                bool decided = false, notrack = false;
                uint32_t set_bits = 0;
                char *why = NULL;

                if (w->budget-- == 0)
                        return st_fail(&w->st, -ELOOP, "more than %d rules on the path", MAX_RULES_RUN);
                if (f->i >= c->n_rules) {
                        /* The chain's end: back to the caller, or the base chain's policy (accept). */
                        r = add_step(w->res, c->name, NULL, depth == 1 ? "end: policy accept" : "end: return");
                        if (r < 0)
                                return r;
                        depth--;
                        continue;
                }
                r = rule_parse(c->rules[f->i], &pr, &why);
                if (r < 0) {
                        st_fail(&w->st, r, "cannot explain rule '%s' of chain %s: %s", c->rules[f->i], c->name,
                                strnull(why));
                        free(why);
                        return r;
                }
                for (size_t k = 0; k < pr.n_items && !decided; k++) {
                        const Item *it = &pr.items[k];
                        const char *mv = NULL;
                        switch (it->kind) {
                        case ITEM_MATCH:
                        case ITEM_VMAP:
                                r = item_matches(&w->st, it, &mv);
                                if (r < 0)
                                        return st_fail(&w->st, r, "cannot explain rule '%s' of chain %s",
                                                       c->rules[f->i], c->name);
                                if (r == 0)
                                        goto next_rule;
                                if (it->kind == ITEM_VMAP) {
                                        r = map_verdict(&w->st, mv, &verdict, &target);
                                        if (r < 0)
                                                return r;
                                        decided = true;
                                }
                                break;
                        case ITEM_MARK_SET:
                                w->st.mark = (w->st.mark & it->and_mask) | it->or_bits;
                                set_bits |= it->or_bits;
                                break;
                        case ITEM_NOTRACK:
                                w->st.ct_state = "untracked";
                                notrack = true;
                                break;
                        case ITEM_NOOP:
                                break;
                        case ITEM_VERDICT:
                                verdict = it->verdict;
                                target = it->target;
                                decided = true;
                                break;
                        }
                }
                {
                        Who by = who_of(f, &pr, w->setters);
                        for (uint32_t b = MARK_ACCEPT; b <= MARK_DROP; b <<= 1)
                                if (set_bits & b)
                                        w->setters[bit_index(b)] = by;
                        if (!decided)
                                goto next_rule;
                        switch (verdict) {
                        case V_ACCEPT:
                                r = add_step(w->res, c->name, c->rules[f->i], notrack ? "notrack, accept" : "accept");
                                if (r < 0)
                                        return r;
                                if (by.policy && (!w->allowed.policy || w->allowed.weak || !by.weak))
                                        w->allowed = by;
                                return 1;
                        case V_DROP:
                        case V_REJECT:
                                r = add_step(w->res, c->name, c->rules[f->i], verdict == V_DROP ? "drop" : "reject");
                                if (r < 0)
                                        return r;
                                w->decided = by;
                                return 0;
                        case V_RETURN:
                                r = mark_word(set_bits) ? add_step(w->res, c->name, c->rules[f->i], "%s, return",
                                                                   mark_word(set_bits))
                                                        : add_step(w->res, c->name, c->rules[f->i], "return");
                                if (r < 0)
                                        return r;
                                depth--;
                                continue;
                        case V_JUMP:
                        case V_GOTO: {
                                const NftChain *to = find_chain(w->st.rs, target);
                                const NftNote *note = chain_note(c, f->i);
                                Frame nf = { .c = to, .inherited = by, .tier = f->tier, .tier_len = f->tier_len };
                                if (!to)
                                        return st_fail(&w->st, -EBADMSG, "rule '%s' of chain %s: no chain %s",
                                                       c->rules[f->i], c->name, target);
                                r = add_step(w->res, c->name, c->rules[f->i], "%s %s",
                                             verdict == V_JUMP ? "jump" : "goto", target);
                                if (r < 0)
                                        return r;
                                if (note && note->label && starts_with(note->label, "tier ")) {
                                        nf.tier = note->label + 5;
                                        nf.tier_len = strlen(nf.tier);
                                }
                                f->i++;
                                if (verdict == V_GOTO)
                                        depth--;
                                if (depth == MAX_DEPTH)
                                        return st_fail(&w->st, -ELOOP, "chains nested deeper than %d", MAX_DEPTH);
                                stack[depth++] = nf;
                                continue;
                        }
                        }
                }
        next_rule:
                f->i++;
        }
        return 1;
}

/* The base chains a packet of hook passes, in the kernel's order. */
static int hook_chains(const char *hook, const char *const **ret) {
        static const char *const input[] = { "raw-prerouting", "prednat", "input", NULL };
        static const char *const output[] = { "raw-output", "output", "postrouting", NULL };
        static const char *const forward[] = { "raw-prerouting", "prednat", "forward", "postrouting", NULL };

        if (streq_ptr(hook, "input"))
                *ret = input;
        else if (streq_ptr(hook, "output"))
                *ret = output;
        else if (streq_ptr(hook, "forward"))
                *ret = forward;
        else
                return -EINVAL;
        return 0;
}

static int set_who(ExplainResult *res, const Who *w) {
        res->rule = w->rule;
        if (w->policy && !(res->policy = strdup(w->policy)))
                return -ENOMEM;
        if (w->tier && !(res->tier = strndup(w->tier, w->tier_len)))
                return -ENOMEM;
        return 0;
}

/* The conntrack mark of an established flow: the current generation's. */
static int first_element(const char *element, void *userdata) {
        uint32_t *mark = userdata;

        return parse_u32(element, mark) ? 1 : 0;
}

int ruleset_explain_error(const Ruleset *rs, const ExplainPacket *p, ExplainResult **ret, char **ret_error) {
        _cleanup_(explain_result_freep) ExplainResult *res = calloc(1, sizeof(ExplainResult));
        const char *const *hooks;
        Walk w = { .budget = MAX_RULES_RUN };
        int r = 0;

        if (!res)
                return -ENOMEM;
        if (hook_chains(p->hook, &hooks) < 0 || (p->family != AF_INET && p->family != AF_INET6))
                return -EINVAL;
        res->rule = -1;
        w.res = res;
        w.allowed = nobody;
        for (int i = 0; i < 3; i++)
                w.setters[i] = nobody;
        w.st = (State) { .rs = rs, .p = p, .ct_state = p->ct_new ? "new" : "established" };
        if (!p->ct_new)
                (void)each_element(rs, "ct-gen", first_element, &w.st.ct_mark);
        for (size_t h = 0; hooks[h]; h++) {
                const NftChain *base = ruleset_find_chain(rs, hooks[h]);
                bool pre = starts_with(hooks[h], "raw-prerouting") || streq(hooks[h], "prednat");
                if (!base)
                        continue;
                /* Before routing, the packet has no output interface yet;
                 * after it, locally sent packets have no input one. */
                w.st.iif = p->iifname ? p->iifname : "";
                w.st.oif = pre || !p->oifname ? "" : p->oifname;
                r = run_hook(&w, base);
                if (r <= 0)
                        break;
        }
        if (r < 0) {
                if (ret_error) {
                        *ret_error = w.st.error;
                        w.st.error = NULL;
                }
                free(w.st.error);
                return r;
        }
        free(w.st.error);
        if (r == 0) {
                res->action = "deny";
                r = set_who(res, &w.decided);
        } else if (w.allowed.policy) {
                res->action = "allow";
                r = set_who(res, &w.allowed);
        } else
                res->action = "none";
        if (r < 0)
                return r;
        *ret = steal_ptr(res);
        return 0;
}

int ruleset_explain(const Ruleset *rs, const ExplainPacket *p, ExplainResult **ret) {
        return ruleset_explain_error(rs, p, ret, NULL);
}

ExplainResult *explain_result_free(ExplainResult *r) {
        if (!r)
                return NULL;
        free(r->tier);
        free(r->policy);
        for (size_t i = 0; i < r->n_steps; i++) {
                free(r->steps[i].chain);
                free(r->steps[i].rule);
                free(r->steps[i].result);
        }
        free(r->steps);
        free(r);
        return NULL;
}

/* ---- checking a whole ruleset ---- */

static int check_chain(const Ruleset *rs, const NftChain *c, char **ret_error) {
        for (size_t i = 0; i < c->n_rules; i++) {
                _cleanup_(parsed_rule_done) ParsedRule pr = {};
                char *why = NULL;
                int r = rule_parse(c->rules[i], &pr, &why);

                if (r == -EBADMSG) {
                        if (asprintf(ret_error, "cannot explain rule '%s' of chain %s: %s", c->rules[i], c->name,
                                     strnull(why)) < 0)
                                *ret_error = NULL;
                        free(why);
                        return r;
                }
                if (r < 0)
                        return r;
                for (size_t k = 0; k < pr.n_items; k++) {
                        const Item *it = &pr.items[k];
                        const char *missing = NULL;
                        if ((it->kind == ITEM_MATCH || it->kind == ITEM_VMAP) && it->value[0] == '@' &&
                            !ruleset_find_set(rs, it->value + 1))
                                missing = it->value;
                        else if (it->kind == ITEM_VERDICT && it->target && !find_chain(rs, it->target))
                                missing = it->target;
                        if (missing) {
                                if (asprintf(ret_error, "rule '%s' of chain %s names %s, which the ruleset lacks",
                                             c->rules[i], c->name, missing) < 0)
                                        *ret_error = NULL;
                                return -EBADMSG;
                        }
                }
        }
        return 0;
}

int ruleset_explain_check(const Ruleset *rs, char **ret_error) {
        int r = 0;

        *ret_error = NULL;
        for (size_t i = 0; r >= 0 && i < rs->n_chains; i++)
                r = check_chain(rs, rs->chains[i], ret_error);
        for (size_t b = 0; r >= 0 && b < rs->n_blocks; b++)
                for (size_t i = 0; r >= 0 && i < rs->blocks[b]->n_chains; i++)
                        r = check_chain(rs, rs->blocks[b]->chains[i], ret_error);
        return r;
}

int explain_parse_protocol(const char *s, uint8_t *ret) {
        uint32_t v;

        if (!s || !parse_int_name(s, &v) || v > 255 || streq(s, "ipv4") || streq(s, "ipv6"))
                return -EINVAL;
        *ret = (uint8_t)v;
        return 0;
}

int explain_packet_from(const ExplainQuestion *q, ExplainPacket *ret, const char **ret_bad) {
        ExplainPacket p = { .ct_new = true, .iifname = "", .oifname = "" };

        if (streq_ptr(q->direction, "in")) {
                p.hook = "input";
                p.iifname = q->interface;
        } else if (streq_ptr(q->direction, "out")) {
                p.hook = "output";
                p.oifname = q->interface;
        } else if (streq_ptr(q->direction, "forward")) {
                p.hook = "forward";
                p.iifname = q->interface;
                p.oifname = q->out_interface ? q->out_interface : "";
        } else {
                *ret_bad = "direction";
                return -EINVAL;
        }
        if (!q->interface || !*q->interface) {
                *ret_bad = "interface";
                return -EINVAL;
        }
        if (!q->src || !ipaddr_parse_go(q->src, &p.src)) {
                *ret_bad = "source";
                return -EINVAL;
        }
        if (!q->dst || !ipaddr_parse_go(q->dst, &p.dst)) {
                *ret_bad = "destination";
                return -EINVAL;
        }
        if (p.src.family != p.dst.family) {
                *ret_bad = "family";
                return -EINVAL;
        }
        p.family = p.src.family;
        if (explain_parse_protocol(q->proto, &p.proto) < 0 ||
            (p.proto == IPPROTO_ICMP && p.family != AF_INET) || (p.proto == IPPROTO_ICMPV6 && p.family != AF_INET6)) {
                *ret_bad = "protocol";
                return -EINVAL;
        }
        if (has_ports(p.proto)) {
                p.sport = (uint16_t)(q->sport > 0 ? q->sport : 0);
                p.dport = (uint16_t)(q->dport > 0 ? q->dport : 0);
        } else if (p.proto == IPPROTO_ICMP || p.proto == IPPROTO_ICMPV6)
                p.icmp_type = (uint8_t)(q->icmp_type >= 0 ? q->icmp_type : p.proto == IPPROTO_ICMP ? 8 : 128);
        *ret = p;
        return 0;
}
