/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Selector language (calico-api.md §3): every lexing rule, the grammar, the
 * semantics table, canonical forms and error columns, plus the token-level
 * global() check used by validation rule E2. */
#include "tests.h"
#include "selector.h"

#define KV(...) ((const char *const[]) { __VA_ARGS__, NULL, NULL })
#define NO_LABELS KV(NULL)

static Selector *parse_ok(const char *text) {
        SelectorError e = {};
        Selector *s = NULL;
        int r = selector_parse(text, &s, &e);

        if (r < 0)
                TEST_FAIL("'%s' did not parse: %d, column %zu: %s", text, r, e.column, e.message);
        return s;
}

static Labels labels_from(const char *const *kv) {
        Labels l = LABELS_INIT;

        for (size_t i = 0; kv[i]; i += 2)
                ASSERT_OK(labels_set(&l, kv[i], kv[i + 1]));
        return l;
}

static const char *lookup_labels(const void *ctx, const char *key) {
        return labels_get(ctx, key);
}

/* Evaluates three ways (Labels, lookup callback, re-parsed canonical form)
 * and insists they agree, so every semantics test also checks the printer. */
static bool match(const char *text, const char *const *kv) {
        _cleanup_(selector_freep) Selector *s = parse_ok(text);
        _cleanup_(selector_freep) Selector *again = NULL;
        _cleanup_free_ char *canon = selector_to_string(s);
        Labels l = labels_from(kv);
        bool r = selector_eval(s, &l);

        ASSERT_NOT_NULL(canon);
        again = parse_ok(canon);
        if (selector_eval_lookup(s, lookup_labels, &l) != r || selector_eval(again, &l) != r)
                TEST_FAIL("'%s' (canonical '%s') evaluates inconsistently", text, canon);
        labels_done(&l);
        return r;
}

static void check_canon(const char *text, const char *expected) {
        _cleanup_(selector_freep) Selector *s = parse_ok(text);
        _cleanup_(selector_freep) Selector *again = NULL;
        _cleanup_free_ char *canon = selector_to_string(s);
        _cleanup_free_ char *canon2 = NULL;

        if (!canon || strcmp(canon, expected) != 0)
                TEST_FAIL("canonical('%s'):\n  got:      '%s'\n  expected: '%s'", text, canon, expected);
        again = parse_ok(canon);
        canon2 = selector_to_string(again);
        if (!canon2 || strcmp(canon2, canon) != 0)
                TEST_FAIL("canonical form '%s' of '%s' is not a fixed point: '%s'", canon, text, canon2);
}

static void check_error_len(const char *text, size_t len, size_t column, const char *msg) {
        SelectorError e = {};
        Selector *s = (Selector *) &e;  /* sentinel: must survive a failed parse */
        int r = selector_parse_len(text, len, &s, &e);

        if (r != -EINVAL)
                TEST_FAIL("'%s' should fail with -EINVAL, got %d", text, r);
        if (s != (Selector *) &e)
                TEST_FAIL("'%s': *ret was written on failure", text);
        if (e.column != column || !strstr(e.message, msg))
                TEST_FAIL("'%s':\n  got:      column %zu: %s\n  expected: column %zu: ...%s...",
                          text, e.column, e.message, column, msg);
}

static void check_error(const char *text, size_t column, const char *msg) {
        check_error_len(text, strlen(text), column, msg);
}

static char *repeat(char c, size_t n) {
        char *s = malloc(n + 1);

        ASSERT_NOT_NULL(s);
        memset(s, c, n);
        s[n] = 0;
        return s;
}

/* ---- Lexing (§3.1) ----------------------------------------------------- */

/* Empty and all-blank input is the match-everything selector. */
static void test_empty_and_blank(void) {
        const char *blank[] = { "", " ", "\t", " \t  \t" };

        for (size_t i = 0; i < ELEMENTSOF(blank); i++) {
                _cleanup_(selector_freep) Selector *s = parse_ok(blank[i]);
                ASSERT_TRUE(selector_is_all(s));
                check_canon(blank[i], "all()");
                ASSERT_TRUE(match(blank[i], NO_LABELS));
                ASSERT_TRUE(match(blank[i], KV("a", "b")));
        }
}

/* Space and tab separate tokens anywhere, including inside has( ) and all( ). */
static void test_space_and_tab_are_whitespace(void) {
        check_canon("\ta\t==\t'x'\t", "a == \"x\"");
        check_canon("  has(\t a \t)  ", "has(a)");
        check_canon("all(\t)", "all()");
        check_canon("global( )", "global()");
        check_canon("a\tnot\tin\t{\t\"x\"\t,\t}", "a not in {\"x\"}");
}

/* LF, CR, VT, FF and non-ASCII spaces outside a string are errors at their byte. */
static void test_other_whitespace_is_error(void) {
        check_error("has(a)\n", 7, "control character 0x0a");
        check_error("has(a)\n&& has(b)", 7, "0x0a");
        check_error("\rhas(a)", 1, "0x0d");
        check_error("has(a) &&\vhas(b)", 10, "0x0b");
        check_error("\fhas(a)", 1, "0x0c");
        check_error("\xc2\xa0has(a)", 1, "non-ASCII byte 0xc2");
        check_error("has(\na)", 5, "expected a label after 'has('");
        /* after a label the next byte must start an operator */
        check_error("a\n== \"x\"", 2, "0x0a");
}

/* Inside a string literal any byte but its own quote is content, newline too. */
static void test_newline_inside_string(void) {
        ASSERT_TRUE(match("a == \"x\ny\"", KV("a", "x\ny")));
        ASSERT_FALSE(match("a == \"x\ny\"", KV("a", "xy")));
        check_canon("a == 'x\r\ny'", "a == \"x\r\ny\"");
}

/* Label bytes are [A-Za-z0-9_./-], in any order, as a label or inside has(). */
static void test_label_charset(void) {
        const char *labels[] = { "-a", "1x", "a//b", "calico/k8s_NS-.1/role", "_", ".", "/", "-", "A.b-C_9/z" };

        for (size_t i = 0; i < ELEMENTSOF(labels); i++) {
                char buf[128];

                snprintf(buf, sizeof(buf), "%s == \"v\" && has(%s)", labels[i], labels[i]);
                ASSERT_TRUE(match(buf, KV(labels[i], "v")));
                ASSERT_FALSE(match(buf, KV("other", "v")));
        }
}

/* Labels are 1..512 bytes; the 513th byte is where the error points. */
static void test_label_length(void) {
        _cleanup_free_ char *l512 = repeat('a', 512), *l513 = repeat('b', 513);
        char buf[1200];

        snprintf(buf, sizeof(buf), "%s == \"v\"", l512);
        ASSERT_TRUE(match(buf, KV(l512, "v")));
        snprintf(buf, sizeof(buf), "has(%s)", l512);
        ASSERT_TRUE(match(buf, KV(l512, "")));

        snprintf(buf, sizeof(buf), "%s == \"v\"", l513);
        check_error(buf, 513, "label too long (max 512)");
        snprintf(buf, sizeof(buf), "has(%s)", l513);
        check_error(buf, 5 + 512, "label too long (max 512)");
        snprintf(buf, sizeof(buf), "has(a) || %s in {}", l513);
        check_error(buf, 11 + 512, "label too long (max 512)");
}

/* Non-ASCII bytes are not label bytes. */
static void test_label_non_ascii(void) {
        check_error("caf\xc3\xa9 == \"x\"", 4, "non-ASCII byte 0xc3");
        check_error("has(caf\xc3\xa9)", 8, "expected ')' to close 'has('");
        check_error("\xc3\xa9", 1, "non-ASCII");
}

/* An operator word needs a word boundary after it but none before a non-label byte. */
static void test_operator_word_boundary(void) {
        check_canon("a in{\"x\"}", "a in {\"x\"}");
        check_canon("a contains\"x\"", "a contains \"x\"");
        check_canon("a contains'x'", "a contains \"x\"");
        check_canon("a notin{}", "a not in {}");
        check_canon("a endswith\"x\"", "a ends with \"x\"");
        check_error("a inx {\"x\"}", 3, "expected an operator after label 'a'");
        check_error("a containsb \"x\"", 3, "expected an operator after label 'a'");
        check_error("a in_ {}", 3, "expected an operator");
        check_error("a starts withx \"x\"", 3, "expected an operator");
        check_error("a ends withs \"value\"", 3, "expected an operator");
}

/* Two-word operators allow any blanks between the words, including none. */
static void test_multiword_operators(void) {
        check_canon("a notin {\"x\"}", "a not in {\"x\"}");
        check_canon("a not   in {\"x\"}", "a not in {\"x\"}");
        check_canon("a not \t in {\"x\"}", "a not in {\"x\"}");
        check_canon("a startswith \"x\"", "a starts with \"x\"");
        check_canon("a starts  with \"x\"", "a starts with \"x\"");
        check_canon("a endswith \"x\"", "a ends with \"x\"");
        check_canon("a ends\t\twith \"x\"", "a ends with \"x\"");
        check_error("a starts foo \"x\"", 3, "expected an operator");
        check_error("a ends foo \"x\"", 3, "expected an operator");
        check_error("a not \"x\"", 3, "expected an operator");
        check_error("a not", 3, "expected an operator");
        check_error("a squiggles \"value\"", 3, "expected an operator");
}

/* Operator words are case-sensitive. */
static void test_operator_words_case_sensitive(void) {
        check_error("a IN {\"x\"}", 3, "expected an operator");
        check_error("a Contains \"x\"", 3, "expected an operator");
        check_error("a Not in {}", 3, "expected an operator");
}

/* Where a label is expected, keywords and operator words are just labels. */
static void test_keywords_as_labels(void) {
        check_canon("in in {\"in\"}", "in in {\"in\"}");
        ASSERT_TRUE(match("in in {\"in\"}", KV("in", "in")));
        check_canon("not == \"x\"", "not == \"x\"");
        ASSERT_TRUE(match("not == \"x\"", KV("not", "x")));
        check_canon("contains contains 'contains'", "contains contains \"contains\"");
        check_canon("startswith starts with \"v\"", "startswith starts with \"v\"");
        check_canon("notin not in {}", "notin not in {}");
        check_canon("has == \"x\" && all != \"y\" && global in {}", "(has == \"x\" && all != \"y\" && global in {})");
        ASSERT_TRUE(match("has == \"x\"", KV("has", "x")));
        check_canon("has(has) && has(in)", "(has(has) && has(in))");
        /* after an operator word a label is expected again, so "in" is a label */
        check_error("not in in {\"x\"}", 8, "expected '{' after 'in', found a label");
}

/* "has (a)" is the label "has" followed by '(' — an error, with a hint. */
static void test_call_needs_paren_directly(void) {
        check_error("has (a)", 5, "expected an operator after label 'has' (write 'has(' with no space)");
        check_error("all ()", 5, "write 'all('");
        check_error("global ()", 8, "write 'global('");
        check_error("hasx(a)", 5, "expected an operator after label 'hasx', found '('");
}

/* The inside of has(), all() and global(). */
static void test_call_contents(void) {
        check_canon("has( a )", "has(a)");
        check_canon("all( )", "all()");
        check_error("has()", 5, "expected a label after 'has('");
        check_error("has(", 5, "expected a label after 'has('");
        check_error("has(a b)", 7, "expected ')' to close 'has('");
        check_error("has(foo", 8, "expected ')' to close 'has('");
        check_error("has( foo ", 10, "expected ')' to close 'has('");
        check_error("all(", 5, "expected ')' to close 'all('");
        check_error("all(x)", 5, "expected ')' to close 'all('");
        check_error("global(", 8, "expected ')' to close 'global('");
        check_error("global(a)", 8, "expected ')' to close 'global('");
        /* after a label, has( is not recognised: the operator is missing */
        check_error("a has(b)", 3, "expected an operator after label 'a'");
}

/* "!=" is recognised before "!", and a lone "!" is negation. */
static void test_ne_before_not(void) {
        check_canon("a!=\"x\"", "a != \"x\"");
        check_canon("a!='\"'", "a != '\"'");
        check_canon("!a==\"x\"", "!a == \"x\"");
        check_error("a ! = \"x\"", 5, "expected '==', found a single '='");
        check_error("a !== \"x\"", 5, "expected '==', found a single '='");
}

/* A lone '=', '&' or '|' is a lexing error at that byte. */
static void test_lone_operator_chars(void) {
        check_error("a = \"x\"", 3, "expected '==', found a single '='");
        check_error("a =", 3, "expected '=='");
        check_error("has(a) & has(b)", 8, "expected '&&', found a single '&'");
        check_error("has(a) | has(b)", 8, "expected '||', found a single '|'");
        check_error("a == \"b\" &", 10, "expected '&&'");
        check_error("a == \"b\" |", 10, "expected '||'");
        /* lexing errors win over an earlier grammar error, as in Calico */
        check_error("a == b &", 8, "expected '&&'");
}

/* Either quote works; no escapes; the other quote is ordinary content. */
static void test_string_literals(void) {
        check_canon("a == 'x'", "a == \"x\"");
        check_canon("a == 'x\"y'", "a == 'x\"y'");
        check_canon("a == \"x'y\"", "a == \"x'y\"");
        check_canon("a == \"\"", "a == \"\"");
        check_canon("a == ''", "a == \"\"");
        /* a backslash is literal and does not escape the quote */
        check_canon("a == \"x\\\"", "a == \"x\\\"");
        ASSERT_TRUE(match("a == \"x\\\"", KV("a", "x\\")));
        check_error("a == \"x\\\"\"", 10, "unterminated string literal");
        ASSERT_TRUE(match("a == 'x\"y'", KV("a", "x\"y")));
        /* adjacent literals and labels need no blank between them */
        check_canon("a in {\"x\",'y'}||b==\"z\"", "(a in {\"x\", \"y\"} || b == \"z\")");
}

/* An unterminated literal points at its opening quote. */
static void test_unterminated_string(void) {
        check_error("a == \"x", 6, "unterminated string literal");
        check_error("a == 'x\"", 6, "unterminated string literal");
        check_error("\"FOO'", 1, "unterminated string literal");
        check_error("'FOO", 1, "unterminated string literal");
        check_error("a == \"", 6, "unterminated string literal");
        check_error("a in {\"x\", 'y}", 12, "unterminated string literal");
}

/* selector_parse_len: NUL bytes are errors, and the text need not be terminated. */
static void test_nul_and_length(void) {
        _cleanup_(selector_freep) Selector *s = NULL;
        _cleanup_free_ char *canon = NULL;
        SelectorError e = {};

        check_error_len("has(a)\0", 7, 7, "unexpected NUL byte");
        check_error_len("\0", 1, 1, "unexpected NUL byte");
        check_error_len("a == \"x\0y\"", 10, 8, "NUL byte in string literal");
        check_error_len("a\0", 2, 2, "NUL byte");
        ASSERT_OK(selector_parse_len("has(a)xxxx", 6, &s, &e));
        canon = selector_to_string(s);
        ASSERT_STREQ(canon, "has(a)");
        check_error_len("a == \"xyz\"", 8, 6, "unterminated string literal");
        s = selector_free(s);
        ASSERT_OK(selector_parse_len(NULL, 0, &s, &e));
        ASSERT_TRUE(selector_is_all(s));
}

/* Bytes that start no token; the message names them readably. */
static void test_stray_characters(void) {
        check_error("%", 1, "unexpected character '%'");
        check_error("a == \"b\" && %", 13, "unexpected character '%'");
        check_error("a == \"b\" || #", 13, "unexpected character '#'");
        check_error("a %", 3, "unexpected character '%'");
        check_error("has(a) \x7f", 8, "control character 0x7f");
}

/* ---- Grammar (§3.2) ---------------------------------------------------- */

/* '!' binds to one primary, then '&&', then '||'. */
static void test_precedence(void) {
        check_canon("a == \"1\" || b == \"2\" && c == \"3\"", "(a == \"1\" || (b == \"2\" && c == \"3\"))");
        check_canon("a == \"1\" && b == \"2\" || c == \"3\"", "((a == \"1\" && b == \"2\") || c == \"3\")");
        check_canon("!a == \"x\" && b == \"y\"", "(!a == \"x\" && b == \"y\")");
        check_canon("!has(a) || !has(b) && has(c)", "(!has(a) || (!has(b) && has(c)))");
        ASSERT_TRUE(match("has(a) || has(b) && has(c)", KV("a", "")));
        ASSERT_FALSE(match("(has(a) || has(b)) && has(c)", KV("a", "")));
        /* "!a == 'x'" is "!(a == 'x')", true when a is absent */
        ASSERT_TRUE(match("!a == \"x\"", NO_LABELS));
        ASSERT_FALSE(match("!a == \"x\"", KV("a", "x")));
}

/* Runs of one operator are a single n-ary node; parentheses keep grouping. */
static void test_nary_grouping(void) {
        check_canon("has(a) && has(b) && has(c)", "(has(a) && has(b) && has(c))");
        check_canon("has(a) || has(b) || has(c)", "(has(a) || has(b) || has(c))");
        check_canon("(has(a) && has(b)) && has(c)", "((has(a) && has(b)) && has(c))");
        check_canon("has(a) && (has(b) && has(c))", "(has(a) && (has(b) && has(c)))");
        check_canon("(has(a) || has(b)) && (has(c) || has(d))", "((has(a) || has(b)) && (has(c) || has(d)))");
}

/* Only the parity of a run of '!' counts; "!(!x)" folds to x as well. */
static void test_negation_parity(void) {
        check_canon("!!has(a)", "has(a)");
        check_canon("!!!has(a)", "!has(a)");
        check_canon("! ! has(a)", "has(a)");
        check_canon("!! ! has(a)", "!has(a)");
        check_canon("!(!has(a))", "has(a)");
        check_canon("!(!(!has(a)))", "!has(a)");
        check_canon("!(has(a))", "!has(a)");
        check_canon("!(has(a) || has(b))", "!(has(a) || has(b))");
        check_canon("!!(has(a) || has(b))", "(has(a) || has(b))");
        check_canon("!all()", "!all()");
        ASSERT_FALSE(match("!!has(b)", KV("a", "b")));
        ASSERT_FALSE(match("!!!has(a)", KV("a", "b")));
        ASSERT_TRUE(match("!(!has(a) || has(b))", KV("a", "a")));
        check_error("!", 2, "expected a label, '(', '!', has(), all() or global(), found end of selector");
        check_error("!!", 3, "found end of selector");
        check_error("has(a) && !", 12, "found end of selector");
}

/* Parentheses nest; redundant ones vanish; depth is bounded. */
static void test_nested_parentheses(void) {
        _cleanup_free_ char *open = repeat('(', SELECTOR_DEPTH_MAX), *close = repeat(')', SELECTOR_DEPTH_MAX);
        _cleanup_free_ char *deep = NULL;
        size_t n = 2 * SELECTOR_DEPTH_MAX + 16;

        check_canon("((((has(a)))))", "has(a)");
        check_canon(" ( all() )", "all()");
        check_canon("(has(a) && (has(b) || (has(c) && !(has(d)))))",
                    "(has(a) && (has(b) || (has(c) && !has(d))))");
        ASSERT_TRUE(match("(has(a) && (has(b) || (has(c))))", KV("a", "", "c", "")));

        deep = malloc(n + 2);
        ASSERT_NOT_NULL(deep);
        snprintf(deep, n + 2, "%shas(a)%s", open, close);
        check_canon(deep, "has(a)");
        snprintf(deep, n + 2, "(%shas(a)%s)", open, close);
        check_error(deep, SELECTOR_DEPTH_MAX + 1, "too many nested parentheses (max 512)");
}

/* Paren errors: missing ')' points where it was expected. */
static void test_paren_errors(void) {
        check_error("(", 2, "found end of selector");
        check_error("(a == \"foo\"", 12, "expected ')'");
        check_error("(has(a) has(b))", 9, "expected ')'");
        check_error(")", 1, "found ')'");
        check_error("()", 2, "found ')'");
        check_error("has(a))", 7, "unexpected content at end of selector");
}

/* Set literals: empty, one trailing comma, sorted and de-duplicated. */
static void test_sets(void) {
        check_canon("a in {}", "a in {}");
        check_canon("a not in {}", "a not in {}");
        check_canon("a in {\"a\",}", "a in {\"a\"}");
        check_canon("a in {\"d\", \"a\", \"b\"}", "a in {\"a\", \"b\", \"d\"}");
        check_canon("a in {\"z\", \"z\", \"x\", \"y\", \"x\", \"a\"}", "a in {\"a\", \"x\", \"y\", \"z\"}");
        check_canon("a in {\"b\", 'b', \"B\", \"\"}", "a in {\"\", \"B\", \"b\"}");
        /* bytewise order: '"' (0x22) < '\'' (0x27) < 'c' */
        check_canon("a in {\"'\", '\"', \"c\"}", "a in {'\"', \"'\", \"c\"}");
}

/* Malformed sets; each error points at the token that broke the rule. */
static void test_set_errors(void) {
        check_error("a in {,}", 7, "expected a string literal or '}' in set, found ','");
        check_error("a in {\"a\" \"b\"}", 11, "expected ',' or '}' in set, found a string literal");
        check_error("a in {\"a\",,\"b\"}", 11, "expected a string literal or '}' in set, found ','");
        check_error("a in {\"a\",,}", 11, "found ','");
        check_error("a in {\"a\"", 10, "expected ',' or '}' in set, found end of selector");
        check_error("a in {", 7, "expected a string literal or '}' in set");
        check_error("a in {b}", 7, "found a label");
        check_error("foo in {\"\", ||", 13, "found '||'");
        check_error("a in \"x\"", 6, "expected '{' after 'in', found a string literal");
        check_error("a not in \"x\"", 10, "expected '{' after 'not in'");
        check_error("a in", 5, "expected '{' after 'in', found end of selector");
        /* rejected by the tokenizer in Calico, with the same position here */
        check_error("a not in x", 10, "expected '{' after 'not in', found a label");
        check_error("a notin  x", 10, "expected '{' after 'not in', found a label");
}

/* Only a string literal may follow a comparison: label-vs-label is an error. */
static void test_label_vs_label(void) {
        check_error("b == b", 6, "expected a string literal after '=='");
        check_error("b != b", 6, "expected a string literal after '!='");
        check_error("b contains b", 12, "expected a string literal after 'contains'");
        check_error("b starts with b", 15, "expected a string literal after 'starts with'");
        check_error("b ends with b", 13, "expected a string literal after 'ends with'");
        check_error("a ==", 5, "expected a string literal after '=='");
        check_error("a == (\"x\")", 6, "expected a string literal after '=='");
        check_error("foo != ||", 8, "expected a string literal after '!='");
}

/* A literal on the left of a comparison is an error at the literal. */
static void test_literal_on_left(void) {
        check_error("'b1' == b", 1, "expected a label, '(', '!', has(), all() or global(), found a string literal");
        check_error("has(a) && \"x\" == a", 11, "found a string literal");
}

/* A label alone, or followed by anything but an operator. */
static void test_label_without_operator(void) {
        check_error("b", 2, "expected an operator after label 'b', found end of selector");
        check_error("a ", 3, "expected an operator after label 'a', found end of selector");
        check_error("a b", 3, "expected an operator after label 'a'");
        check_error("(a)", 3, "expected an operator after label 'a', found ')'");
        check_error("a && has(b)", 3, "found '&&'");
        check_error("a \"x\"", 3, "found a string literal");
        check_error("has(a) && b", 12, "after label 'b', found end of selector");
}

/* Dangling binary operators and leftover tokens. */
static void test_dangling_and_leftover(void) {
        check_error("has(foo) &&", 12, "found end of selector");
        check_error("has(foo) ||", 12, "found end of selector");
        check_error("&& has(a)", 1, "found '&&'");
        check_error("has(a) has(b)", 8, "unexpected content at end of selector");
        check_error("has(a) == \"x\"", 8, "unexpected content at end of selector");
        check_error("a == \"x\" \"y\"", 10, "unexpected content at end of selector");
        check_error("all() global()", 7, "unexpected content at end of selector");
        check_error("has(a) {", 8, "unexpected content at end of selector");
}

/* Long labels are shortened in messages, which always fit the buffer. */
static void test_message_truncation(void) {
        _cleanup_free_ char *l = repeat('x', 500);
        char buf[600];

        snprintf(buf, sizeof(buf), "%s)", l);
        check_error(buf, 501, "after label 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...', found ')'");
}

/* ---- Semantics (§3.3) -------------------------------------------------- */

/* all() and global() match everything as expressions. */
static void test_eval_all_global(void) {
        ASSERT_TRUE(match("all()", NO_LABELS));
        ASSERT_TRUE(match("all()", KV("a", "b")));
        ASSERT_TRUE(match("global()", NO_LABELS));
        ASSERT_TRUE(match(" global()", KV("a", "b")));
        ASSERT_FALSE(match("!all()", NO_LABELS));
        ASSERT_FALSE(match("!global()", KV("a", "b")));
}

/* has(k) is true iff the key is present, even with an empty value. */
static void test_eval_has(void) {
        ASSERT_TRUE(match("has(a)", KV("a", "b")));
        ASSERT_TRUE(match("has(a)", KV("a", "")));
        ASSERT_FALSE(match("has(b)", KV("a", "b")));
        ASSERT_TRUE(match("!has(a)", KV("b", "b")));
        ASSERT_FALSE(match("!has(a)", KV("a", "")));
}

/* == needs the key; != is true when the key is absent. */
static void test_eval_eq_ne(void) {
        ASSERT_TRUE(match("a == \"b\"", KV("a", "b")));
        ASSERT_TRUE(match("a == \"b\"", KV("a", "b", "c", "d")));
        ASSERT_FALSE(match("a == \"b\"", NO_LABELS));
        ASSERT_FALSE(match("a == \"b\"", KV("a", "c")));
        ASSERT_FALSE(match("a == \"b\"", KV("a", "bb")));
        ASSERT_FALSE(match("a == \"b\"", KV("c", "b")));
        ASSERT_TRUE(match("a == \"\"", KV("a", "")));
        ASSERT_FALSE(match("a == \"\"", NO_LABELS));
        ASSERT_TRUE(match("a != \"b\"", KV("a", "a")));
        ASSERT_TRUE(match("a != \"a\"", NO_LABELS));
        ASSERT_FALSE(match("a != \"a\"", KV("a", "a")));
        ASSERT_TRUE(match("a != \"\"", NO_LABELS));
        ASSERT_FALSE(match("a != \"\"", KV("a", "")));
}

/* Keys and values compare exactly and case-sensitively. */
static void test_eval_case_sensitive(void) {
        ASSERT_FALSE(match("A == \"x\"", KV("a", "x")));
        ASSERT_FALSE(match("a == \"X\"", KV("a", "x")));
        ASSERT_FALSE(match("has(a)", KV("A", "x")));
        ASSERT_FALSE(match("a in {\"X\"}", KV("a", "x")));
}

/* in needs the key and a member; not in is true when absent; {} edge cases. */
static void test_eval_in_not_in(void) {
        ASSERT_TRUE(match("a in {\"a\"}", KV("a", "a")));
        ASSERT_FALSE(match("a in {\"a\"}", KV("a", "b")));
        ASSERT_FALSE(match("a in {\"a\"}", NO_LABELS));
        ASSERT_TRUE(match("a in {\"'\", '\"', \"c\"}", KV("a", "\"")));
        ASSERT_TRUE(match("a in {\"'\", '\"', \"c\"}", KV("a", "'")));
        ASSERT_TRUE(match("a in {\"'\", '\"', \"c\"}", KV("a", "c")));
        ASSERT_FALSE(match("a in {\"'\", '\"', \"c\"}", KV("a", "e")));
        ASSERT_TRUE(match("a in {\"\"}", KV("a", "")));
        ASSERT_TRUE(match("a not in {\"d\", \"e\"}", KV("a", "a")));
        ASSERT_TRUE(match("a not in {\"a\"}", NO_LABELS));
        ASSERT_FALSE(match("a not in {\"a\"}", KV("a", "a")));
        ASSERT_TRUE(match("!a in {\"a\"}", KV("a", "b")));
        /* the empty set */
        ASSERT_FALSE(match("a in {}", KV("a", "")));
        ASSERT_FALSE(match("a in {}", NO_LABELS));
        ASSERT_TRUE(match("a not in {}", KV("a", "x")));
        ASSERT_TRUE(match("a not in {}", NO_LABELS));
}

/* Sets of many values: every member is found by the binary search. */
static void test_eval_large_set(void) {
        char text[4096] = "k in {", value[16];
        size_t n = strlen(text);

        for (int i = 99; i >= 0; i--)
                n += (size_t) snprintf(text + n, sizeof(text) - n, "\"v%d\",", i);
        snprintf(text + n, sizeof(text) - n, "}");
        for (int i = 0; i < 100; i++) {
                snprintf(value, sizeof(value), "v%d", i);
                ASSERT_TRUE(match(text, KV("k", value)));
        }
        ASSERT_FALSE(match(text, KV("k", "v100")));
        ASSERT_FALSE(match(text, KV("k", "v")));
        ASSERT_FALSE(match(text, KV("k", "")));
}

/* contains / starts with / ends with need the key; "" matches any present value. */
static void test_eval_substring_ops(void) {
        ASSERT_TRUE(match("a contains \"a\"", KV("a", "a")));
        ASSERT_TRUE(match("a contains \"a\"", KV("a", "bab")));
        ASSERT_FALSE(match("a contains \"a\"", KV("a", "b")));
        ASSERT_FALSE(match("a contains \"a\"", KV("b", "aaa")));
        ASSERT_TRUE(match("a starts with \"ab\"", KV("a", "abb")));
        ASSERT_FALSE(match("a starts with \"ab\"", KV("a", "bab")));
        ASSERT_FALSE(match("a starts with \"ab\"", KV("a", "a")));
        ASSERT_TRUE(match("a ends with \"ab\"", KV("a", "bab")));
        ASSERT_FALSE(match("a ends with \"ab\"", KV("a", "abb")));
        ASSERT_FALSE(match("a ends with \"ab\"", KV("a", "b")));
        ASSERT_FALSE(match("a ends with \"ab\"", NO_LABELS));
        ASSERT_TRUE(match("a contains \"\"", KV("a", "")));
        ASSERT_TRUE(match("a starts with \"\"", KV("a", "x")));
        ASSERT_TRUE(match("a ends with \"\"", KV("a", "")));
        ASSERT_FALSE(match("a contains \"\"", NO_LABELS));
        ASSERT_FALSE(match("a starts with \"\"", NO_LABELS));
        ASSERT_FALSE(match("a ends with \"\"", NO_LABELS));
        ASSERT_TRUE(match("!a contains \"x\"", NO_LABELS));
}

/* && and || over mixed leaves (Calico's boolean test table). */
static void test_eval_boolean(void) {
        const char *const *ab = KV("a", "a1", "b", "b1");

        ASSERT_TRUE(match("a == 'a1' && b == 'b1'", ab));
        ASSERT_FALSE(match("a == 'a1' && b != 'b1'", ab));
        ASSERT_FALSE(match("a != 'a1' && !b == 'b1'", ab));
        ASSERT_TRUE(match("a == 'a1' || b != 'b1'", ab));
        ASSERT_FALSE(match("a != 'a1' || b != 'b1'", ab));
        ASSERT_FALSE(match("! a == 'a1' || ! b == 'b1'", ab));
        ASSERT_TRUE(match("has(a) && !has(c)", ab));
        ASSERT_TRUE(match("!(has(c) || !has(a))", ab));
}

typedef struct CountingLookup {
        const Labels *labels;
        unsigned calls;
} CountingLookup;

static const char *lookup_counting(const void *ctx, const char *key) {
        CountingLookup *c = (CountingLookup *) ctx;

        c->calls++;
        return labels_get(c->labels, key);
}

/* && stops at the first false operand and || at the first true one. */
static void test_eval_short_circuit(void) {
        _cleanup_(selector_freep) Selector *and = parse_ok("has(a) && has(b) && has(c)");
        _cleanup_(selector_freep) Selector *or = parse_ok("has(a) || has(b) || has(c)");
        Labels l = labels_from(KV("a", "1"));
        CountingLookup c = { .labels = &l };

        ASSERT_FALSE(selector_eval_lookup(and, lookup_counting, &c));
        ASSERT_EQ(c.calls, 2);
        c.calls = 0;
        ASSERT_TRUE(selector_eval_lookup(or, lookup_counting, &c));
        ASSERT_EQ(c.calls, 1);
        labels_done(&l);
}

static const char *lookup_fixed(const void *ctx, const char *key) {
        return streq(key, "role") ? "db" : streq(key, "zone") ? "" : NULL;
}

/* Evaluation through a caller-supplied lookup, with no Labels at all. */
static void test_eval_lookup_callback(void) {
        _cleanup_(selector_freep) Selector *s = parse_ok("role == \"db\" && has(zone) && tier not in {\"a\"}");
        _cleanup_(selector_freep) Selector *t = parse_ok("role in {\"web\"} || zone != \"\"");

        ASSERT_TRUE(selector_eval_lookup(s, lookup_fixed, NULL));
        ASSERT_FALSE(selector_eval_lookup(t, lookup_fixed, NULL));
}

/* A NULL or empty Labels has no keys. */
static void test_eval_null_labels(void) {
        _cleanup_(selector_freep) Selector *s = parse_ok("a != \"x\" && !has(b)");
        Labels empty = LABELS_INIT;

        ASSERT_TRUE(selector_eval(s, NULL));
        ASSERT_TRUE(selector_eval(s, &empty));
}

/* ---- Canonical form (§3.4) --------------------------------------------- */

/* Calico's own canonicalisation table. */
static void test_canonical_calico_table(void) {
        check_canon("", "all()");
        check_canon(" all() ", "all()");
        check_canon(" (all() )", "all()");
        check_canon("! (has( b)||! has(a ))", "!(has(b) || !has(a))");
        check_canon("! (a == \"b\"&&! c != \"d\")", "!(a == \"b\" && !c != \"d\")");
        check_canon("a == \"'\"", "a == \"'\"");
        check_canon("a == '\"'", "a == '\"'");
        check_canon("a contains '\"'", "a contains '\"'");
        check_canon("a contains \"'\"", "a contains \"'\"");
        check_canon("a startswith '\"'", "a starts with '\"'");
        check_canon("a endswith \"'\"", "a ends with \"'\"");
        check_canon("a!='\"'", "a != '\"'");
        check_canon("a in {\"d\"}", "a in {\"d\"}");
        check_canon("a in {\"a\", \"b\"}", "a in {\"a\", \"b\"}");
        check_canon("!(!(k == 'v' && has(t) || all()) && (a in {'b', 'c'}))",
                    "!(!((k == \"v\" && has(t)) || all()) && a in {\"b\", \"c\"})");
}

/* Each operator's printed spelling and spacing. */
static void test_canonical_operators(void) {
        check_canon("a==\"x\"", "a == \"x\"");
        check_canon("a  !=  \"x\"", "a != \"x\"");
        check_canon("a contains 'x'", "a contains \"x\"");
        check_canon("a starts with 'x'", "a starts with \"x\"");
        check_canon("a ends with 'x'", "a ends with \"x\"");
        check_canon("a in{'x','y'}", "a in {\"x\", \"y\"}");
        check_canon("a not in{'y','x'}", "a not in {\"x\", \"y\"}");
        check_canon("has(a)&&!has(b)||global()", "((has(a) && !has(b)) || global())");
        check_canon("!a in {}", "!a in {}");
        check_canon("!a not in {}", "!a not in {}");
        check_canon("!a != \"\"", "!a != \"\"");
}

/* canonical(parse(canonical(s))) == canonical(s) over a varied list. */
static void test_canonical_round_trip(void) {
        const char *sels[] = {
                "role == \"db\" && has(zone) && tier in {\"a\",\"b\"}",
                "!(a == 'x' || !(b != \"y\" && c contains 'z')) && !d in {'1','2',}",
                "x starts with '\"' || y ends with \"'\"",
                "!!(!(has(a)) && (all() || global()))",
                "((a in {}) && (b not in {'q'}))",
                "calico/k8s_ns == \"kube-system\" && k8s-app == \"kube-dns\"",
                "!!!!!!!has(a)",
                "(((a == \"1\") || (b == \"2\")) && ((c == \"3\")))",
        };

        for (size_t i = 0; i < ELEMENTSOF(sels); i++) {
                _cleanup_(selector_freep) Selector *s = parse_ok(sels[i]);
                _cleanup_free_ char *canon = selector_to_string(s);
                check_canon(canon, canon);
        }
}

/* ---- Helpers ----------------------------------------------------------- */

/* selector_is_all: empty, all(), (all()) only. */
static void test_is_all(void) {
        const char *yes[] = { "", "  ", "all()", "(all())", "!!all()" };
        const char *no[] = { "!all()", "global()", "all() && all()", "has(a)", "a not in {}" };

        for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
                _cleanup_(selector_freep) Selector *s = parse_ok(yes[i]);
                ASSERT_TRUE(selector_is_all(s));
        }
        for (size_t i = 0; i < ELEMENTSOF(no); i++) {
                _cleanup_(selector_freep) Selector *s = parse_ok(no[i]);
                ASSERT_FALSE(selector_is_all(s));
        }
}

/* selector_keys: every mentioned key once, sorted. */
static void test_keys(void) {
        _cleanup_(selector_freep) Selector *s =
                parse_ok("z == \"x\" && (has(b) || z in {\"y\"}) && !a != \"q\" || has(b) || m starts with ''");
        _cleanup_(selector_freep) Selector *all = parse_ok("all() || global()");
        const char *const *k;
        size_t n;

        k = selector_keys(s, &n);
        ASSERT_EQ(n, 4);
        ASSERT_STREQ(k[0], "a");
        ASSERT_STREQ(k[1], "b");
        ASSERT_STREQ(k[2], "m");
        ASSERT_STREQ(k[3], "z");
        selector_keys(all, &n);
        ASSERT_EQ(n, 0);
}

/* NULL is a valid argument to selector_free, which returns NULL. */
static void test_free_null(void) {
        ASSERT_NULL(selector_free(NULL));
}

/* Errors without a reterr still return -EINVAL. */
static void test_no_reterr(void) {
        Selector *s = NULL;

        ASSERT_EQ(selector_parse("a ==", &s, NULL), -EINVAL);
        ASSERT_NULL(s);
        ASSERT_EQ(selector_parse("a\n", &s, NULL), -EINVAL);
        ASSERT_NULL(s);
}

/* ---- global() and rule E2 (§2.4) --------------------------------------- */

static int global_only(const char *text, bool *only) {
        *only = true;
        return selector_tokens_global_only(text, only);
}

/* Exactly one global() token, blanks allowed around and inside. */
static void test_global_only(void) {
        const char *yes[] = { "global()", "  global( )  ", "\tglobal(\t)" };
        const char *no[] = { "", "!global()", "global() && has(a)", "global() global()", "(global())",
                             "all()", "a == \"global()\"", "has (a)", "global == \"x\"", "a in x" };
        bool only;

        for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
                ASSERT_OK(global_only(yes[i], &only));
                ASSERT_TRUE(only);
        }
        /* these tokenize (some would not parse) but are not global() alone */
        for (size_t i = 0; i < ELEMENTSOF(no); i++) {
                ASSERT_OK(global_only(no[i], &only));
                ASSERT_FALSE(only);
        }
}

/* Text that does not tokenize is -EINVAL, which E2 reports as "combined". */
static void test_global_only_untokenizable(void) {
        /* Calico's tokenizer accepts "a in x" but not "a not in x": after a
         * two-word operator the word boundary is checked past the blanks. */
        const char *bad[] = { "global(", "global() &", "global()\n", "global(x)", "a not in x", "\"x", "a b" };
        bool only;

        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                ASSERT_EQ(global_only(bad[i], &only), -EINVAL);
}

/* The tokenizer/parser split matches Calico: these tokenize but do not parse. */
static void test_tokenizes_but_does_not_parse(void) {
        bool only;

        ASSERT_OK(global_only("a in x", &only));
        check_error("a in x", 6, "expected '{' after 'in', found a label");
        ASSERT_OK(global_only("has (a)", &only));
        ASSERT_OK(global_only("a not in \"bar\" && !has(foo) || b in c", &only));
}

/* ---- Felix's rewriting of namespace and service-account selectors ---- */

static void check_entity(const char *sel, const char *ns, bool has_sa, const char *sa_sel, const char *const *names,
                         size_t n_names, const char *expected) {
        _cleanup_free_ char *got = NULL;

        ASSERT_OK(selector_felix_entity(sel, ns, has_sa, sa_sel, names, n_names, &got));
        if (!streq(got, expected))
                TEST_FAIL("entity(%s, ns %s):\n  got:      '%s'\n  expected: '%s'", sel, ns, got, expected);
}

static void check_policy(const char *sel, const char *ns, const char *sa, const char *expected) {
        _cleanup_free_ char *got = NULL;

        ASSERT_OK(selector_felix_policy(sel, ns, sa, &got));
        if (!streq(got, expected))
                TEST_FAIL("policy(%s, ns %s, sa %s):\n  got:      '%s'\n  expected: '%s'", sel, ns, sa, got, expected);
}

/* The expectations of libcalico-go's rules_test.go (those for rules
 * outside a namespace), and what they mean for a HEP's labels. */
static void test_felix_entity(void) {
        const char *sa12[] = { "sa1", "sa2" }, *sa3[] = { "sa3" };

        check_entity("has(foo)", NULL, false, NULL, NULL, 0, "has(foo)");
        check_entity(NULL, NULL, false, NULL, NULL, 0, "");
        check_entity(NULL, "namespacelabel1 == 'value1'", false, NULL, NULL, 0, "pcns.namespacelabel1 == \"value1\"");
        check_entity("projectcalico.org/orchestrator == 'k8s'", "key == 'value'", false, NULL, NULL, 0,
                     "(pcns.key == \"value\") && (projectcalico.org/orchestrator == 'k8s')");
        check_entity(NULL, "!has(key) || (has(key) && !key in {'value'})", false, NULL, NULL, 0,
                     "(!has(pcns.key) || (has(pcns.key) && !pcns.key in {\"value\"}))");
        check_entity("has(label1)", "namespace == 'red'", false, NULL, NULL, 0, "(pcns.namespace == \"red\") && (has(label1))");
        check_entity("has(label2)", "all()", false, NULL, NULL, 0, "(has(projectcalico.org/namespace)) && (has(label2))");
        check_entity("has(label3)", "global()", false, NULL, NULL, 0, "(!has(projectcalico.org/namespace)) && (has(label3))");
        check_entity(NULL, " global() ", false, NULL, NULL, 0, "!has(projectcalico.org/namespace)");
        check_entity(NULL, NULL, true, "key == 'value1'", sa12, 2,
                     "(pcsa.key == \"value1\") && (projectcalico.org/serviceaccount in {\"sa1\", \"sa2\"})");
        check_entity(NULL, "nskey == 'nsvalue'", true, "key == 'value2'", sa3, 1,
                     "(pcns.nskey == \"nsvalue\") && ((pcsa.key == \"value2\") && "
                     "(projectcalico.org/serviceaccount in {\"sa3\"}))");
        check_entity("has(x)", NULL, true, NULL, sa3, 1, "(projectcalico.org/serviceaccount in {\"sa3\"}) && (has(x))");
        /* An empty match adds nothing; a selector all() is kept as it is,
         * so it selects every endpoint, HEPs included. */
        check_entity(NULL, NULL, true, NULL, NULL, 0, "");
        check_entity(NULL, NULL, true, "all()", NULL, 0, "all()");
        /* Names that do not make a selector: Felix drops the match. */
        check_entity(NULL, NULL, true, NULL, (const char *[]) { "it's" }, 1, "");

        /* On a HEP's own labels: none of them is prefixed. */
        ASSERT_TRUE(match("!has(pcns.team)", KV("team", "a")));
        ASSERT_FALSE(match("(!has(projectcalico.org/namespace)) && (has(label3))", KV("label2", "")));
}

/* globalnetworkpolicyprocessor_test.go's expectations; all() is replaced
 * in the whole text, the user's selector included. */
static void test_felix_policy(void) {
        const char *sel = "mylabel == 'selectme'";

        check_policy(sel, NULL, NULL, "mylabel == 'selectme'");
        check_policy(sel, NULL, "role == 'development'", "(mylabel == 'selectme') && pcsa.role == \"development\"");
        check_policy(sel, NULL, "role 'development'", "mylabel == 'selectme'");
        check_policy(sel, NULL, "all()", "(mylabel == 'selectme') && has(projectcalico.org/serviceaccount)");
        check_policy(sel, "name == 'testing'", NULL, "(mylabel == 'selectme') && pcns.name == \"testing\"");
        check_policy(sel, "all()", NULL, "(mylabel == 'selectme') && has(projectcalico.org/namespace)");
        check_policy(sel, "name == 'testing'", "role == 'development'",
                     "((mylabel == 'selectme') && pcns.name == \"testing\") && pcsa.role == \"development\"");
        check_policy("", "name == 'testing'", NULL, "pcns.name == \"testing\"");
        check_policy("", "name == 'testing'", "role == 'development'", "(pcns.name == \"testing\") && pcsa.role == \"development\"");
        check_policy("all()", "!has(team)", NULL, "(has(projectcalico.org/namespace)) && !has(pcns.team)");
        check_policy("x == 'all()'", "all()", NULL,
                     "(x == 'has(projectcalico.org/namespace)') && has(projectcalico.org/namespace)");
}

int main(void) {
        RUN(test_empty_and_blank);
        RUN(test_space_and_tab_are_whitespace);
        RUN(test_other_whitespace_is_error);
        RUN(test_newline_inside_string);
        RUN(test_label_charset);
        RUN(test_label_length);
        RUN(test_label_non_ascii);
        RUN(test_operator_word_boundary);
        RUN(test_multiword_operators);
        RUN(test_operator_words_case_sensitive);
        RUN(test_keywords_as_labels);
        RUN(test_call_needs_paren_directly);
        RUN(test_call_contents);
        RUN(test_ne_before_not);
        RUN(test_lone_operator_chars);
        RUN(test_string_literals);
        RUN(test_unterminated_string);
        RUN(test_nul_and_length);
        RUN(test_stray_characters);
        RUN(test_precedence);
        RUN(test_nary_grouping);
        RUN(test_negation_parity);
        RUN(test_nested_parentheses);
        RUN(test_paren_errors);
        RUN(test_sets);
        RUN(test_set_errors);
        RUN(test_label_vs_label);
        RUN(test_literal_on_left);
        RUN(test_label_without_operator);
        RUN(test_dangling_and_leftover);
        RUN(test_message_truncation);
        RUN(test_eval_all_global);
        RUN(test_eval_has);
        RUN(test_eval_eq_ne);
        RUN(test_eval_case_sensitive);
        RUN(test_eval_in_not_in);
        RUN(test_eval_large_set);
        RUN(test_eval_substring_ops);
        RUN(test_eval_boolean);
        RUN(test_eval_short_circuit);
        RUN(test_eval_lookup_callback);
        RUN(test_eval_null_labels);
        RUN(test_canonical_calico_table);
        RUN(test_canonical_operators);
        RUN(test_canonical_round_trip);
        RUN(test_is_all);
        RUN(test_keys);
        RUN(test_free_null);
        RUN(test_no_reterr);
        RUN(test_global_only);
        RUN(test_global_only_untokenizable);
        RUN(test_tokenizes_but_does_not_parse);
        RUN(test_felix_entity);
        RUN(test_felix_policy);
        return 0;
}
