/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer harness for the selector parser. Whatever parses must print a
 * canonical form that re-parses to the same form and the same verdicts;
 * whatever fails must report a column inside the input. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-util.h"
#include "labels.h"
#include "selector.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Keys the seed corpus uses, with values that exercise empty strings,
 * quotes and prefixes. */
static const char *const fixed_labels[][2] = {
        { "a", "x" },
        { "b", "" },
        { "in", "in" },
        { "role", "db" },
        { "tier", "a" },
        { "zone", "us-east-1" },
        { "q", "\"'" },
        { "calico/k8s_ns", "kube-system" },
};

static const Labels *get_labels(void) {
        static Labels labels = LABELS_INIT;
        static bool ready;

        if (!ready) {
                for (size_t i = 0; i < ELEMENTSOF(fixed_labels); i++)
                        if (labels_set(&labels, fixed_labels[i][0], fixed_labels[i][1]) < 0)
                                abort();
                ready = true;
        }
        return &labels;
}

/* Same labels through the callback path, by linear search. */
static const char *lookup_fixed(const void *ctx, const char *key) {
        for (size_t i = 0; i < ELEMENTSOF(fixed_labels); i++)
                if (strcmp(fixed_labels[i][0], key) == 0)
                        return fixed_labels[i][1];
        return NULL;
}

static void check_failure(const uint8_t *data, size_t size, const SelectorError *e) {
        FUZZ_ASSERT(e->column >= 1 && e->column <= size + 1, "error column %zu outside 1..%zu", e->column, size + 1);
        FUZZ_ASSERT(memchr(e->message, 0, sizeof(e->message)) && e->message[0], "error message empty or unterminated");
}

/* The token-level global() check must agree with the parser: text that does
 * not tokenize cannot parse, and global() alone parses to "global()". */
static void check_global_only(const uint8_t *data, size_t size, const char *canon) {
        char *text;
        bool only;
        int r;

        if (memchr(data, 0, size))
                return;
        text = malloc(size + 1);
        if (!text)
                return;
        memcpy(text, data, size);
        text[size] = 0;
        r = selector_tokens_global_only(text, &only);
        FUZZ_ASSERT(r == 0 || !canon, "parsed but did not tokenize");
        FUZZ_ASSERT(r < 0 || !only || (canon && strcmp(canon, "global()") == 0), "global() alone did not parse as global()");
        free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(selector_freep) Selector *s = NULL, *again = NULL;
        _cleanup_free_ char *canon = NULL, *canon2 = NULL;
        SelectorError e = {};
        bool v1, v2;
        int r;

        r = selector_parse_len((const char *) data, size, &s, &e);
        if (r == -ENOMEM)
                return 0;
        if (r < 0) {
                FUZZ_ASSERT(r == -EINVAL, "unexpected error %d", r);
                check_failure(data, size, &e);
                check_global_only(data, size, NULL);
                return 0;
        }

        canon = selector_to_string(s);
        if (!canon)
                return 0;
        r = selector_parse(canon, &again, &e);
        FUZZ_ASSERT(r == 0, "canonical form '%s' does not parse: column %zu: %s", canon, e.column, e.message);
        canon2 = selector_to_string(again);
        if (!canon2)
                return 0;
        FUZZ_ASSERT(strcmp(canon, canon2) == 0, "canonical form not stable: '%s' -> '%s'", canon, canon2);

        v1 = selector_eval(s, get_labels());
        v2 = selector_eval_lookup(s, lookup_fixed, NULL);
        FUZZ_ASSERT(v1 == v2, "Labels and lookup evaluation disagree for '%s'", canon);
        v2 = selector_eval(again, get_labels());
        FUZZ_ASSERT(v1 == v2, "re-parsed canonical form evaluates differently: '%s'", canon);
        FUZZ_ASSERT(!selector_is_all(s) || selector_eval(s, NULL), "all() did not match empty labels");

        check_global_only(data, size, canon);
        return 0;
}
