/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Calico selector language (calico-api.md §3): a tokenizer that mirrors
 * Calico's, a recursive-descent parser that compiles into a node array, and
 * an evaluator that never allocates because parsing already did all the work. */
#include "selector.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "strbuf.h"

/* ---- Tokens ------------------------------------------------------------ */

typedef enum TokKind {
        TOK_EOF,
        TOK_LABEL,
        TOK_STRING,
        TOK_LBRACE,
        TOK_RBRACE,
        TOK_COMMA,
        TOK_EQ,
        TOK_NE,
        TOK_IN,
        TOK_NOT,
        TOK_NOT_IN,
        TOK_CONTAINS,
        TOK_STARTS_WITH,
        TOK_ENDS_WITH,
        TOK_ALL,
        TOK_HAS,
        TOK_LPAREN,
        TOK_RPAREN,
        TOK_AND,
        TOK_OR,
        TOK_GLOBAL,
        _TOK_MAX,
} TokKind;

/* How a token is named in "found ..." messages. */
static const char *const tok_names[_TOK_MAX] = {
        [TOK_EOF] = "end of selector",
        [TOK_LABEL] = "a label",
        [TOK_STRING] = "a string literal",
        [TOK_LBRACE] = "'{'",
        [TOK_RBRACE] = "'}'",
        [TOK_COMMA] = "','",
        [TOK_EQ] = "'=='",
        [TOK_NE] = "'!='",
        [TOK_IN] = "'in'",
        [TOK_NOT] = "'!'",
        [TOK_NOT_IN] = "'not in'",
        [TOK_CONTAINS] = "'contains'",
        [TOK_STARTS_WITH] = "'starts with'",
        [TOK_ENDS_WITH] = "'ends with'",
        [TOK_ALL] = "all()",
        [TOK_HAS] = "has()",
        [TOK_LPAREN] = "'('",
        [TOK_RPAREN] = "')'",
        [TOK_AND] = "'&&'",
        [TOK_OR] = "'||'",
        [TOK_GLOBAL] = "global()",
};

typedef struct Token {
        TokKind kind;
        size_t pos;             /* offset of the first byte, for error columns */
        size_t value_pos;       /* label, string contents, or the label inside has() */
        size_t value_len;
} Token;

typedef struct Lexer {
        const char *text;
        size_t len;
        size_t pos;
        /* Calico looks for operator words only directly after a label, which
         * is what lets "in in {"in"}" and "not == 'x'" work. */
        bool after_label;
        size_t label_pos, label_len;    /* that label, for messages */
} Lexer;

static int set_error(SelectorError *err, size_t pos, const char *fmt, ...) _printf_(3, 4);
static int set_error(SelectorError *err, size_t pos, const char *fmt, ...) {
        va_list ap;

        if (!err)
                return -EINVAL;
        err->column = pos + 1;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof(err->message), fmt, ap);
        va_end(ap);
        return -EINVAL;
}

/* Shared by lexer and parser. Labels can be 512 bytes; show a prefix. The
 * hint covers "has (a)": with a space, Calico reads "has" as a label. */
static int error_no_operator(SelectorError *err, size_t pos, const char *label, size_t label_len,
                             const char *found) {
        int n = label_len > 40 ? 40 : (int) label_len;
        const char *more = label_len > 40 ? "..." : "";
        bool call = (label_len == 3 && (memcmp(label, "has", 3) == 0 || memcmp(label, "all", 3) == 0)) ||
                    (label_len == 6 && memcmp(label, "global", 6) == 0);

        if (call && found && streq(found, "'('"))
                return set_error(err, pos, "expected an operator after label '%.*s' (write '%.*s(' with no space)",
                                 n, label, n, label);
        return set_error(err, pos, "expected an operator after label '%.*s%s'%s%s",
                         n, label, more, found ? ", found " : "", found ?: "");
}

static bool is_label_char(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '.' || c == '/' || c == '-';
}

/* Only space and tab separate tokens; Calico treats LF, CR etc. as garbage. */
static bool is_blank(char c) {
        return c == ' ' || c == '\t';
}

static size_t skip_blanks(const Lexer *l, size_t p) {
        while (p < l->len && is_blank(l->text[p]))
                p++;
        return p;
}

static size_t label_span(const Lexer *l, size_t p) {
        size_t start = p;

        while (p < l->len && is_label_char(l->text[p]))
                p++;
        return p - start;
}

static bool has_word(const Lexer *l, size_t p, const char *word) {
        size_t n = strlen(word);

        return l->len - p >= n && memcmp(l->text + p, word, n) == 0;
}

static bool at_boundary(const Lexer *l, size_t p) {
        return p >= l->len || !is_label_char(l->text[p]);
}

/* Reports a byte that cannot start any token, naming it readably. */
static int error_bad_byte(const Lexer *l, size_t p, SelectorError *err) {
        unsigned char c = (unsigned char) l->text[p];

        if (c == 0)
                return set_error(err, p, "unexpected NUL byte");
        if (c < 0x20 || c == 0x7f)
                return set_error(err, p, "unexpected control character 0x%02x (only space and tab are whitespace)", c);
        if (c >= 0x80)
                return set_error(err, p, "unexpected non-ASCII byte 0x%02x", c);
        return set_error(err, p, "unexpected character '%c'", c);
}

/* A label as Calico's cutIdentifier sees it: the whole run of label bytes,
 * rejected as a unit if longer than the limit. */
static int lex_label(const Lexer *l, size_t p, size_t *ret_len, const char *after, SelectorError *err) {
        size_t n = label_span(l, p);

        if (n == 0) {
                if (after)
                        return set_error(err, p, "expected a label after '%s'", after);
                return error_bad_byte(l, p, err);
        }
        if (n > SELECTOR_LABEL_MAX)
                return set_error(err, p + SELECTOR_LABEL_MAX, "label too long (max %d)", SELECTOR_LABEL_MAX);
        *ret_len = n;
        return 0;
}

/* Quotes do not nest and there are no escapes: the literal ends at the next
 * copy of its opening quote, whatever lies between (newlines included). */
static int lex_string(const Lexer *l, Token *t, size_t *p, SelectorError *err) {
        size_t start = *p + 1;
        const char *end = memchr(l->text + start, l->text[*p], l->len - start);
        const char *nul;

        if (!end)
                return set_error(err, *p, "unterminated string literal");
        nul = memchr(l->text + start, 0, (size_t) (end - l->text) - start);
        if (nul)
                return set_error(err, (size_t) (nul - l->text), "unexpected NUL byte in string literal");
        t->kind = TOK_STRING;
        t->value_pos = start;
        t->value_len = (size_t) (end - l->text) - start;
        *p = (size_t) (end - l->text) + 1;
        return 0;
}

/* The three keyword calls. Calico needs "has(" etc. with no space before the
 * parenthesis; blanks are allowed inside. */
static int lex_call(const Lexer *l, Token *t, size_t *p, const char *name, TokKind kind, SelectorError *err) {
        size_t q = skip_blanks(l, *p + strlen(name) + 1);
        int r;

        if (kind == TOK_HAS) {
                r = lex_label(l, q, &t->value_len, "has(", err);
                if (r < 0)
                        return r;
                t->value_pos = q;
                q = skip_blanks(l, q + t->value_len);
        }
        if (q >= l->len || l->text[q] != ')')
                return set_error(err, q, "expected ')' to close '%s('", name);
        t->kind = kind;
        *p = q + 1;
        return 0;
}

/* Matches one operator word, or two separated by any number of blanks
 * ("notin", "not   in"). Like Calico, a two-word operator checks the word
 * boundary after the blanks that follow it and a one-word operator right
 * after the word, so "a in x" tokenizes but "a not in x" does not. */
typedef enum OperatorMatch {
        OPERATOR_NONE,
        OPERATOR_FOUND,
        OPERATOR_THEN_LABEL,    /* two-word operator, blanks, then a label byte */
} OperatorMatch;

static OperatorMatch match_operator(const Lexer *l, size_t *p, const char *w1, const char *w2) {
        size_t q = *p, end;

        if (!has_word(l, q, w1))
                return OPERATOR_NONE;
        q += strlen(w1);
        if (w2) {
                q = skip_blanks(l, q);
                if (!has_word(l, q, w2))
                        return OPERATOR_NONE;
                end = q + strlen(w2);
                q = skip_blanks(l, end);
                if (q > end && !at_boundary(l, q)) {
                        *p = q;
                        return OPERATOR_THEN_LABEL;
                }
        }
        if (!at_boundary(l, q))
                return OPERATOR_NONE;
        *p = q;
        return OPERATOR_FOUND;
}

static const struct {
        const char *w1, *w2;
        TokKind kind;
        const char *expect;     /* what must follow, for OPERATOR_THEN_LABEL */
} operator_words[] = {
        /* Calico's order. */
        { "contains", NULL, TOK_CONTAINS, NULL },
        { "starts", "with", TOK_STARTS_WITH, "a string literal after 'starts with'" },
        { "ends", "with", TOK_ENDS_WITH, "a string literal after 'ends with'" },
        { "not", "in", TOK_NOT_IN, "'{' after 'not in'" },
        { "in", NULL, TOK_IN, NULL },
};

static int lex_operator(const Lexer *l, Token *t, size_t *p, SelectorError *err) {
        for (size_t i = 0; i < ELEMENTSOF(operator_words); i++) {
                size_t q = *p;

                switch (match_operator(l, &q, operator_words[i].w1, operator_words[i].w2)) {
                case OPERATOR_NONE:
                        continue;
                case OPERATOR_FOUND:
                        t->kind = operator_words[i].kind;
                        *p = q;
                        return 0;
                case OPERATOR_THEN_LABEL:
                        /* Calico's tokenizer fails here; say what the parser would have. */
                        return set_error(err, q, "expected %s, found a label", operator_words[i].expect);
                }
        }
        if (!is_label_char(l->text[*p]))
                return error_bad_byte(l, *p, err);
        return error_no_operator(err, *p, l->text + l->label_pos, l->label_len, NULL);
}

/* Everything that is not punctuation: keyword calls, labels, operator words. */
static int lex_word(const Lexer *l, Token *t, size_t *p, SelectorError *err) {
        int r;

        if (l->after_label)
                return lex_operator(l, t, p, err);
        if (has_word(l, *p, "has("))
                return lex_call(l, t, p, "has", TOK_HAS, err);
        if (has_word(l, *p, "all("))
                return lex_call(l, t, p, "all", TOK_ALL, err);
        if (has_word(l, *p, "global("))
                return lex_call(l, t, p, "global", TOK_GLOBAL, err);
        r = lex_label(l, *p, &t->value_len, NULL, err);
        if (r < 0)
                return r;
        t->kind = TOK_LABEL;
        t->value_pos = *p;
        *p += t->value_len;
        return 0;
}

/* Two-byte operators; a lone '=', '&' or '|' is an error, a lone '!' is not. */
static int lex_double(const Lexer *l, Token *t, size_t *p, TokKind kind, SelectorError *err) {
        char c = l->text[*p];

        if (*p + 1 >= l->len || l->text[*p + 1] != c)
                return set_error(err, *p, "expected '%c%c', found a single '%c'", c, c, c);
        t->kind = kind;
        *p += 2;
        return 0;
}

static TokKind punctuation(char c) {
        switch (c) {
        case '(':
                return TOK_LPAREN;
        case ')':
                return TOK_RPAREN;
        case '{':
                return TOK_LBRACE;
        case '}':
                return TOK_RBRACE;
        case ',':
                return TOK_COMMA;
        default:
                return TOK_EOF;
        }
}

static int lexer_next(Lexer *l, Token *ret, SelectorError *err) {
        size_t p = skip_blanks(l, l->pos);
        Token t = { .kind = TOK_EOF, .pos = p };
        int r = 0;

        if (p < l->len) {
                char c = l->text[p];

                t.kind = punctuation(c);
                if (t.kind != TOK_EOF)
                        p++;
                else if (c == '"' || c == '\'')
                        r = lex_string(l, &t, &p, err);
                else if (c == '=')
                        r = lex_double(l, &t, &p, TOK_EQ, err);
                else if (c == '&')
                        r = lex_double(l, &t, &p, TOK_AND, err);
                else if (c == '|')
                        r = lex_double(l, &t, &p, TOK_OR, err);
                else if (c == '!') {
                        /* "!=" wins over "!", so "a!=b" is not "a" "!" "=b". */
                        bool ne = p + 1 < l->len && l->text[p + 1] == '=';
                        t.kind = ne ? TOK_NE : TOK_NOT;
                        p += ne ? 2 : 1;
                } else
                        r = lex_word(l, &t, &p, err);
                if (r < 0)
                        return r;
        }
        l->after_label = t.kind == TOK_LABEL;
        l->label_pos = t.value_pos;
        l->label_len = t.value_len;
        l->pos = p;
        *ret = t;
        return 0;
}

/* Calico tokenizes the whole input before parsing, so a lexing error
 * anywhere wins over a grammar error earlier on; we keep that order. */
static int tokenize(const char *text, size_t len, Token **ret, SelectorError *err) {
        _cleanup_free_ Token *toks = NULL;
        size_t n = 0, alloc = 0;
        Lexer l = { .text = text, .len = len };

        for (;;) {
                Token t;
                Token *p;
                int r = lexer_next(&l, &t, err);

                if (r < 0)
                        return r;
                p = grow_array(toks, &alloc, n + 1, sizeof(Token));
                if (!p)
                        return -ENOMEM;
                toks = p;
                toks[n++] = t;
                if (t.kind == TOK_EOF)
                        break;
        }
        *ret = steal_ptr(toks);
        return 0;
}

int selector_tokens_global_only(const char *text, bool *ret_only_global) {
        Lexer l = { .text = text, .len = strlen(text) };
        TokKind first = TOK_EOF;
        size_t n = 0;

        for (;;) {
                Token t;
                int r = lexer_next(&l, &t, NULL);

                if (r < 0)
                        return r;
                if (t.kind == TOK_EOF)
                        break;
                if (n++ == 0)
                        first = t.kind;
        }
        *ret_only_global = n == 1 && first == TOK_GLOBAL;
        return 0;
}

/* ---- Compiled form ----------------------------------------------------- */

/* "!=" and "not in" stay distinct from negated "==" and "in" because the
 * canonical form prints them differently. */
typedef enum NodeOp {
        NODE_ALL,
        NODE_GLOBAL,
        NODE_HAS,
        NODE_EQ,
        NODE_NE,
        NODE_CONTAINS,
        NODE_STARTS_WITH,
        NODE_ENDS_WITH,
        NODE_IN,
        NODE_NOT_IN,
        NODE_AND,
        NODE_OR,
} NodeOp;

typedef struct Node {
        NodeOp op;
        /* Negation is a bit on the node, so "!!x" and "!(!x)" both fold to x
         * and the canonical form is a fixed point of parse(). */
        bool negate;
        uint32_t first;         /* AND/OR: into kids; IN/NOT_IN: into values */
        uint32_t n;
        const char *key;
        const char *value;
        size_t value_len;
} Node;

struct Selector {
        Node *nodes;
        size_t n_nodes, alloc_nodes;
        uint32_t *kids;
        size_t n_kids, alloc_kids;
        const char **values;    /* each set's slice sorted and de-duplicated */
        size_t n_values, alloc_values;
        const char **keys;      /* distinct keys, sorted */
        size_t n_keys;
        char *text;             /* copy of the input; keys and values point into it */
        uint32_t root;
};

Selector *selector_free(Selector *s) {
        if (!s)
                return NULL;
        free(s->nodes);
        free(s->kids);
        free(s->values);
        free(s->keys);
        free(s->text);
        free(s);
        return NULL;
}

/* ---- Parser ------------------------------------------------------------ */

typedef struct Parser {
        Selector *sel;
        const Token *tok;       /* next token; the array always ends with TOK_EOF */
        const char *input;      /* the caller's text, for messages */
        uint32_t *stack;        /* operands of the &&/|| lists being built */
        size_t n_stack, alloc_stack;
        unsigned depth;
        SelectorError *err;
} Parser;

static int parse_binary(Parser *p, NodeOp op, uint32_t *ret);

/* Token contents as a C string inside the selector's own copy of the text.
 * Writing the NUL is safe: the byte after a label or literal is never part
 * of another token's contents, and tokenizing is already over. */
static const char *tok_string(Parser *p, const Token *t) {
        char *s = p->sel->text + t->value_pos;

        s[t->value_len] = 0;
        return s;
}

static int node_new(Parser *p, NodeOp op, uint32_t *ret) {
        Selector *s = p->sel;
        Node *n = grow_array(s->nodes, &s->alloc_nodes, s->n_nodes + 1, sizeof(Node));

        if (!n)
                return -ENOMEM;
        s->nodes = n;
        s->nodes[s->n_nodes] = (Node) { .op = op };
        *ret = (uint32_t) s->n_nodes++;
        return 0;
}

static int leaf_new(Parser *p, NodeOp op, const Token *key, uint32_t *ret) {
        int r = node_new(p, op, ret);

        if (r < 0)
                return r;
        if (key)
                p->sel->nodes[*ret].key = tok_string(p, key);
        return 0;
}

static int stack_push(Parser *p, uint32_t idx) {
        uint32_t *s = grow_array(p->stack, &p->alloc_stack, p->n_stack + 1, sizeof(uint32_t));

        if (!s)
                return -ENOMEM;
        p->stack = s;
        p->stack[p->n_stack++] = idx;
        return 0;
}

/* Turns the operands pushed since base into one AND/OR node; a single
 * operand stands for itself, as in Calico. */
static int reduce(Parser *p, NodeOp op, size_t base, uint32_t *ret) {
        Selector *s = p->sel;
        size_t n = p->n_stack - base;
        uint32_t *k;
        int r;

        if (n == 1) {
                *ret = p->stack[base];
                p->n_stack = base;
                return 0;
        }
        k = grow_array(s->kids, &s->alloc_kids, s->n_kids + n, sizeof(uint32_t));
        if (!k)
                return -ENOMEM;
        s->kids = k;
        r = node_new(p, op, ret);
        if (r < 0)
                return r;
        memcpy(s->kids + s->n_kids, p->stack + base, n * sizeof(uint32_t));
        s->nodes[*ret].first = (uint32_t) s->n_kids;
        s->nodes[*ret].n = (uint32_t) n;
        s->n_kids += n;
        p->n_stack = base;
        return 0;
}

static int compare_strings(const void *a, const void *b) {
        return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/* Sorted and de-duplicated so that evaluation is a binary search and the
 * canonical form lists each value once, in bytewise order like Go. */
static size_t set_normalize(const char **v, size_t n) {
        size_t out = 0;

        if (n > 1)
                qsort_safe(v, n, sizeof(*v), compare_strings);
        for (size_t i = 0; i < n; i++)
                if (out == 0 || !streq(v[out - 1], v[i]))
                        v[out++] = v[i];
        return out;
}

static int set_push(Parser *p, const Token *t) {
        Selector *s = p->sel;
        const char **v = grow_array(s->values, &s->alloc_values, s->n_values + 1, sizeof(char *));

        if (!v)
                return -ENOMEM;
        s->values = v;
        s->values[s->n_values++] = tok_string(p, t);
        return 0;
}

/* '{' [ STRING { ',' STRING } [ ',' ] ] '}' — one trailing comma allowed. */
static int parse_set(Parser *p, const char *opname, uint32_t node) {
        Selector *s = p->sel;
        size_t first = s->n_values;
        int r;

        if (p->tok->kind != TOK_LBRACE)
                return set_error(p->err, p->tok->pos, "expected '{' after '%s', found %s",
                                 opname, tok_names[p->tok->kind]);
        p->tok++;
        while (p->tok->kind == TOK_STRING) {
                r = set_push(p, p->tok++);
                if (r < 0)
                        return r;
                if (p->tok->kind != TOK_COMMA) {
                        if (p->tok->kind != TOK_RBRACE)
                                return set_error(p->err, p->tok->pos, "expected ',' or '}' in set, found %s",
                                                 tok_names[p->tok->kind]);
                        break;
                }
                p->tok++;
        }
        if (p->tok->kind != TOK_RBRACE)
                return set_error(p->err, p->tok->pos, "expected a string literal or '}' in set, found %s",
                                 tok_names[p->tok->kind]);
        p->tok++;
        if (s->n_values > first)        /* values may still be NULL for "{}" */
                s->n_values = first + set_normalize(s->values + first, s->n_values - first);
        s->nodes[node].first = (uint32_t) first;
        s->nodes[node].n = (uint32_t) (s->n_values - first);
        return 0;
}

static const struct {
        TokKind tok;
        NodeOp op;
        const char *name;
        bool set;
} comparisons[] = {
        { TOK_EQ, NODE_EQ, "==", false },
        { TOK_NE, NODE_NE, "!=", false },
        { TOK_CONTAINS, NODE_CONTAINS, "contains", false },
        { TOK_STARTS_WITH, NODE_STARTS_WITH, "starts with", false },
        { TOK_ENDS_WITH, NODE_ENDS_WITH, "ends with", false },
        { TOK_IN, NODE_IN, "in", true },
        { TOK_NOT_IN, NODE_NOT_IN, "not in", true },
};

/* LABEL op STRING, or LABEL (not) in SET. Only a label may be on the left and
 * only a literal on the right. */
static int parse_comparison(Parser *p, uint32_t *ret) {
        const Token *label = p->tok, *op = p->tok + 1;
        size_t i;
        int r;

        /* A label is never the last token before EOF here, so op is valid. */
        for (i = 0; i < ELEMENTSOF(comparisons); i++)
                if (comparisons[i].tok == op->kind)
                        break;
        if (i == ELEMENTSOF(comparisons))
                return error_no_operator(p->err, op->pos, p->input + label->value_pos, label->value_len,
                                         tok_names[op->kind]);
        p->tok += 2;
        r = leaf_new(p, comparisons[i].op, label, ret);
        if (r < 0)
                return r;
        if (comparisons[i].set)
                return parse_set(p, comparisons[i].name, *ret);
        if (p->tok->kind != TOK_STRING)
                return set_error(p->err, p->tok->pos, "expected a string literal after '%s'", comparisons[i].name);
        p->sel->nodes[*ret].value = tok_string(p, p->tok);
        p->sel->nodes[*ret].value_len = p->tok->value_len;
        p->tok++;
        return 0;
}

static int parse_group(Parser *p, uint32_t *ret) {
        int r;

        if (p->depth >= SELECTOR_DEPTH_MAX)
                return set_error(p->err, p->tok->pos, "too many nested parentheses (max %d)", SELECTOR_DEPTH_MAX);
        p->depth++;
        p->tok++;
        r = parse_binary(p, NODE_OR, ret);
        if (r < 0)
                return r;
        if (p->tok->kind != TOK_RPAREN)
                return set_error(p->err, p->tok->pos, "expected ')'");
        p->tok++;
        p->depth--;
        return 0;
}

static int parse_primary(Parser *p, uint32_t *ret) {
        const Token *t = p->tok;
        int r;

        if (t->kind == TOK_LABEL)
                return parse_comparison(p, ret);
        if (t->kind == TOK_LPAREN)
                return parse_group(p, ret);
        if (t->kind == TOK_HAS)
                r = leaf_new(p, NODE_HAS, t, ret);
        else if (t->kind == TOK_ALL)
                r = leaf_new(p, NODE_ALL, NULL, ret);
        else if (t->kind == TOK_GLOBAL)
                r = leaf_new(p, NODE_GLOBAL, NULL, ret);
        else
                return set_error(p->err, t->pos,
                                 "expected a label, '(', '!', has(), all() or global(), found %s",
                                 tok_names[t->kind]);
        if (r < 0)
                return r;
        p->tok++;
        return 0;
}

/* Any number of '!'; only the parity matters. */
static int parse_unary(Parser *p, uint32_t *ret) {
        bool negate = false;
        int r;

        while (p->tok->kind == TOK_NOT) {
                negate = !negate;
                p->tok++;
        }
        r = parse_primary(p, ret);
        if (r < 0)
                return r;
        p->sel->nodes[*ret].negate ^= negate;
        return 0;
}

/* op is NODE_OR (operands are && lists) or NODE_AND (operands are unaries). */
static int parse_binary(Parser *p, NodeOp op, uint32_t *ret) {
        TokKind sep = op == NODE_OR ? TOK_OR : TOK_AND;
        size_t base = p->n_stack;

        for (;;) {
                uint32_t operand;
                int r = op == NODE_OR ? parse_binary(p, NODE_AND, &operand) : parse_unary(p, &operand);

                if (r < 0)
                        return r;
                r = stack_push(p, operand);
                if (r < 0)
                        return r;
                if (p->tok->kind != sep)
                        break;
                p->tok++;
        }
        return reduce(p, op, base, ret);
}

static int parse_tokens(Parser *p) {
        int r;

        if (p->tok->kind == TOK_EOF)
                return node_new(p, NODE_ALL, &p->sel->root);
        r = parse_binary(p, NODE_OR, &p->sel->root);
        if (r < 0)
                return r;
        if (p->tok->kind != TOK_EOF)
                return set_error(p->err, p->tok->pos, "unexpected content at end of selector");
        return 0;
}

/* The distinct keys, for indexing by callers. */
static int collect_keys(Selector *s) {
        size_t n = 0;

        s->keys = new_array(s->n_nodes, sizeof(char *));
        if (!s->keys)
                return -ENOMEM;
        for (size_t i = 0; i < s->n_nodes; i++)
                if (s->nodes[i].key)
                        s->keys[n++] = s->nodes[i].key;
        s->n_keys = set_normalize(s->keys, n);
        return 0;
}

int selector_parse_len(const char *text, size_t len, Selector **ret, SelectorError *reterr) {
        _cleanup_(selector_freep) Selector *s = NULL;
        _cleanup_free_ Token *toks = NULL;
        Parser p = { .input = text, .err = reterr };
        int r;

        /* Node, kid and set indices are 32-bit; nobody writes 4 GiB selectors. */
        if (len >= UINT32_MAX)
                return set_error(reterr, 0, "selector too long");
        r = tokenize(text, len, &toks, reterr);
        if (r < 0)
                return r;

        s = calloc(1, sizeof(Selector));
        if (!s)
                return -ENOMEM;
        s->text = malloc(len + 1);
        if (!s->text)
                return -ENOMEM;
        if (len > 0)
                memcpy(s->text, text, len);
        s->text[len] = 0;

        p.sel = s;
        p.tok = toks;
        r = parse_tokens(&p);
        free(p.stack);
        if (r < 0)
                return r;
        r = collect_keys(s);
        if (r < 0)
                return r;
        *ret = steal_ptr(s);
        return 0;
}

int selector_parse(const char *text, Selector **ret, SelectorError *reterr) {
        return selector_parse_len(text, strlen(text), ret, reterr);
}

/* ---- Evaluation -------------------------------------------------------- */

static bool set_contains(const Selector *s, const Node *n, const char *v) {
        const char *const *set;
        size_t lo = 0, hi = n->n;

        if (hi == 0)
                return false;
        set = s->values + n->first;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int c = strcmp(set[mid], v);

                if (c == 0)
                        return true;
                if (c < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return false;
}

static bool has_suffix(const char *v, const char *suffix, size_t n) {
        size_t l = strlen(v);

        return l >= n && memcmp(v + l - n, suffix, n) == 0;
}

/* A missing key makes every positive comparison false; "!=" and "not in"
 * are written as the negations so they are true for a missing key. */
static bool leaf_eval(const Selector *s, const Node *n, const char *v) {
        switch (n->op) {
        case NODE_ALL:
        case NODE_GLOBAL:
                return true;
        case NODE_HAS:
                return v;
        case NODE_EQ:
                return v && streq(v, n->value);
        case NODE_NE:
                return !v || !streq(v, n->value);
        case NODE_CONTAINS:
                return v && strstr(v, n->value);
        case NODE_STARTS_WITH:
                return v && strncmp(v, n->value, n->value_len) == 0;
        case NODE_ENDS_WITH:
                return v && has_suffix(v, n->value, n->value_len);
        case NODE_IN:
                return v && set_contains(s, n, v);
        case NODE_NOT_IN:
                return !v || !set_contains(s, n, v);
        case NODE_AND:
        case NODE_OR:
                break;
        }
        return false;
}

static bool node_eval(const Selector *s, const Node *n, LabelLookup lookup, const void *ctx) {
        bool r;

        if (n->op == NODE_AND || n->op == NODE_OR) {
                /* AND stops at the first false operand, OR at the first true one. */
                bool stop = n->op == NODE_OR;

                r = !stop;
                for (uint32_t i = 0; i < n->n; i++)
                        if (node_eval(s, s->nodes + s->kids[n->first + i], lookup, ctx) == stop) {
                                r = stop;
                                break;
                        }
        } else
                r = leaf_eval(s, n, n->key ? lookup(ctx, n->key) : NULL);
        return r != n->negate;
}

bool selector_eval_lookup(const Selector *s, LabelLookup lookup, const void *ctx) {
        return node_eval(s, s->nodes + s->root, lookup, ctx);
}

static const char *labels_lookup(const void *ctx, const char *key) {
        return labels_get(ctx, key);
}

bool selector_eval(const Selector *s, const Labels *labels) {
        return selector_eval_lookup(s, labels_lookup, labels);
}

bool selector_is_all(const Selector *s) {
        const Node *n = s->nodes + s->root;

        return n->op == NODE_ALL && !n->negate;
}

const char *const *selector_keys(const Selector *s, size_t *ret_n) {
        *ret_n = s->n_keys;
        return s->keys;
}

/* ---- Canonical form ---------------------------------------------------- */

/* A literal cannot hold its own delimiter, so a value never holds both
 * quote characters: '"' is used unless the value contains one. */
static void append_quoted(StrBuf *b, const char *v) {
        char q = strchr(v, '"') ? '\'' : '"';

        strbuf_append_char(b, q);
        strbuf_append(b, v);
        strbuf_append_char(b, q);
}

static const char *op_word(NodeOp op) {
        for (size_t i = 0; i < ELEMENTSOF(comparisons); i++)
                if (comparisons[i].op == op)
                        return comparisons[i].name;
        return "";
}

/* prefix goes before every label (Calico's PrefixVisitor); "" for none. */
static void node_format(const Selector *s, const Node *n, const char *prefix, StrBuf *b) {
        if (n->negate)
                strbuf_append_char(b, '!');
        switch (n->op) {
        case NODE_ALL:
                strbuf_append(b, "all()");
                break;
        case NODE_GLOBAL:
                strbuf_append(b, "global()");
                break;
        case NODE_HAS:
                strbuf_printf(b, "has(%s%s)", prefix, n->key);
                break;
        case NODE_EQ:
        case NODE_NE:
        case NODE_CONTAINS:
        case NODE_STARTS_WITH:
        case NODE_ENDS_WITH:
                strbuf_printf(b, "%s%s %s ", prefix, n->key, op_word(n->op));
                append_quoted(b, n->value);
                break;
        case NODE_IN:
        case NODE_NOT_IN:
                strbuf_printf(b, "%s%s %s {", prefix, n->key, op_word(n->op));
                for (uint32_t i = 0; i < n->n; i++) {
                        if (i > 0)
                                strbuf_append(b, ", ");
                        append_quoted(b, s->values[n->first + i]);
                }
                strbuf_append_char(b, '}');
                break;
        case NODE_AND:
        case NODE_OR:
                strbuf_append_char(b, '(');
                for (uint32_t i = 0; i < n->n; i++) {
                        if (i > 0)
                                strbuf_append(b, n->op == NODE_AND ? " && " : " || ");
                        node_format(s, s->nodes + s->kids[n->first + i], prefix, b);
                }
                strbuf_append_char(b, ')');
                break;
        }
}

char *selector_to_string_prefixed(const Selector *s, const char *prefix) {
        StrBuf b = STRBUF_INIT;

        node_format(s, s->nodes + s->root, prefix, &b);
        return strbuf_steal(&b);
}

char *selector_to_string(const Selector *s) {
        return selector_to_string_prefixed(s, "");
}

/* ---- Felix's rewriting of namespace and service-account selectors ---- */

#define LABEL_NAMESPACE "projectcalico.org/namespace"
#define LABEL_SERVICE_ACCOUNT "projectcalico.org/serviceaccount"

/* libcalico-go's parseSelectorAttachPrefix: text in canonical form with
 * prefix before every label; "" if it does not parse (Felix logs that and
 * goes on without it; validation keeps such text out). */
static int prefixed(const char *text, const char *prefix, char **ret) {
        _cleanup_(selector_freep) Selector *s = NULL;
        int r = selector_parse(text, &s, NULL);

        if (r == -ENOMEM)
                return r;
        *ret = r < 0 ? strdup("") : selector_to_string_prefixed(s, prefix);
        return *ret ? 0 : -ENOMEM;
}

/* Go's strings.Replace(*text, from, to, -1), as libcalico-go applies it:
 * to the text, so inside quoted values too. */
static int replace_all(char **text, const char *from, const char *to) {
        StrBuf b = STRBUF_INIT;
        const char *p = *text, *q;

        while ((q = strstr(p, from))) {
                strbuf_append_len(&b, p, (size_t) (q - p));
                strbuf_append(&b, to);
                p = q + strlen(from);
        }
        strbuf_append(&b, p);
        if (!strbuf_ok(&b))
                return -ENOMEM;
        free(*text);
        *text = strbuf_steal(&b);
        return 0;
}

/* *ret = "(a) && (b)" ("(a) && b" unless wrap_b), or whichever of them
 * is not empty. */
static int join(const char *a, const char *b, bool wrap_b, char **ret) {
        if (*a && *b)
                return asprintf(ret, wrap_b ? "(%s) && (%s)" : "(%s) && %s", a, b) < 0 ? -ENOMEM : 0;
        *ret = strdup(*a ? a : b);
        return *ret ? 0 : -ENOMEM;
}

/* globalnetworkpolicyprocessor.go: prefixAndAppendSelector, then every
 * all() of the whole text replaced (the user's selector's too). */
static int policy_append(char **text, const char *extra, const char *prefix, const char *all_becomes) {
        _cleanup_free_ char *p = NULL;
        char *joined;
        int r;

        if (isempty(extra))
                return 0;
        r = prefixed(extra, prefix, &p);
        if (r < 0 || !*p)
                return r;
        r = join(*text, p, false, &joined);
        if (r < 0)
                return r;
        free(*text);
        *text = joined;
        return replace_all(text, "all()", all_becomes);
}

int selector_felix_policy(const char *selector, const char *namespace_selector, const char *sa_selector, char **ret) {
        _cleanup_free_ char *text = strdup(selector ? selector : "");
        int r = text ? 0 : -ENOMEM;

        if (r >= 0)
                r = policy_append(&text, namespace_selector, "pcns.", "has(" LABEL_NAMESPACE ")");
        if (r >= 0)
                r = policy_append(&text, sa_selector, "pcsa.", "has(" LABEL_SERVICE_ACCOUNT ")");
        if (r >= 0)
                *ret = steal_ptr(text);
        return r;
}

/* rules.go parseServiceAccounts: the prefixed selector AND the names as
 * "projectcalico.org/serviceaccount in {...}"; "" when neither is given,
 * or when the names do not parse (Felix logs that and drops the match). */
static int service_accounts(const char *selector, const char *const *names, size_t n_names, char **ret) {
        _cleanup_(selector_freep) Selector *s = NULL;
        _cleanup_free_ char *sel = NULL, *in = NULL;
        StrBuf b = STRBUF_INIT;
        int r;

        r = isempty(selector) ? 0 : prefixed(selector, "pcsa.", &sel);
        if (r < 0)
                return r;
        if (n_names == 0)
                return (*ret = strdup(sel ? sel : "")) ? 0 : -ENOMEM;
        strbuf_append(&b, LABEL_SERVICE_ACCOUNT " in { '");
        for (size_t i = 0; i < n_names; i++)
                strbuf_printf(&b, "%s%s", i ? "', '" : "", names[i]);
        strbuf_append(&b, "' }");
        r = strbuf_ok(&b) ? selector_parse(strbuf_str(&b), &s, NULL) : -ENOMEM;
        strbuf_done(&b);
        if (r == -EINVAL)
                return (*ret = strdup("")) ? 0 : -ENOMEM;
        if (r < 0 || !(in = selector_to_string(s)))
                return -ENOMEM;
        return join(sel ? sel : "", in, true, ret);
}

/* rules.go getEndpointSelector, for a rule of a global policy or a
 * profile (no namespace of its own): the service-account and endpoint
 * selectors ANDed, behind the namespace selector with its all() and
 * global() rewritten. */
static int endpoint_selector(const char *selector, const char *namespace_selector, const char *sa, char **ret) {
        _cleanup_free_ char *sel = NULL, *ns = NULL;
        int r = join(sa, selector ? selector : "", true, &sel);

        if (r < 0 || isempty(namespace_selector)) {
                if (r >= 0)
                        *ret = steal_ptr(sel);
                return r;
        }
        r = prefixed(namespace_selector, "pcns.", &ns);
        if (r >= 0)
                r = replace_all(&ns, "all()", "has(" LABEL_NAMESPACE ")");
        if (r >= 0)
                r = replace_all(&ns, "global()", "!has(" LABEL_NAMESPACE ")");
        return r < 0 ? r : join(ns, sel, true, ret);
}

int selector_felix_entity(const char *selector, const char *namespace_selector, bool has_service_accounts,
                          const char *sa_selector, const char *const *sa_names, size_t n_sa_names, char **ret) {
        _cleanup_free_ char *sa = NULL;
        int r = has_service_accounts ? service_accounts(sa_selector, sa_names, n_sa_names, &sa) : 0;

        return r < 0 ? r : endpoint_selector(selector, namespace_selector, sa ? sa : "", ret);
}
