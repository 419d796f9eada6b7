/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Growable string buffer; see strbuf.h for the failure model. */
#include "strbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool strbuf_reserve(StrBuf *b, size_t extra) {
        char *p;

        if (b->failed)
                return false;
        if (extra > (size_t)-1 - b->len - 1) {
                b->failed = true;
                return false;
        }
        p = grow_array(b->data, &b->alloc, b->len + extra + 1, 1);
        if (!p) {
                b->failed = true;
                return false;
        }
        b->data = p;
        return true;
}

void strbuf_append_len(StrBuf *b, const char *s, size_t n) {
        if (!strbuf_reserve(b, n))
                return;
        memcpy(b->data + b->len, s, n);
        b->len += n;
        b->data[b->len] = 0;
}

void strbuf_append(StrBuf *b, const char *s) {
        strbuf_append_len(b, s, strlen(s));
}

void strbuf_append_char(StrBuf *b, char c) {
        strbuf_append_len(b, &c, 1);
}

void strbuf_vprintf(StrBuf *b, const char *fmt, va_list ap) {
        va_list aq;
        int n;

        /* Format straight into the spare room; only if it did not fit,
         * grow and format again. Most appends fit the first time. */
        if (!strbuf_reserve(b, 64))
                return;
        va_copy(aq, ap);
        n = vsnprintf(b->data + b->len, b->alloc - b->len, fmt, aq);
        va_end(aq);
        if (n < 0) {
                b->failed = true;
                return;
        }
        if ((size_t)n >= b->alloc - b->len) {
                if (!strbuf_reserve(b, (size_t)n))
                        return;
                vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
        }
        b->len += (size_t)n;
}

void strbuf_printf(StrBuf *b, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        strbuf_vprintf(b, fmt, ap);
        va_end(ap);
}

void strbuf_truncate(StrBuf *b, size_t len) {
        if (len < b->len) {
                b->len = len;
                b->data[len] = 0;
        }
}

bool strbuf_ok(const StrBuf *b) {
        return !b->failed;
}

const char *strbuf_str(const StrBuf *b) {
        return b->data ? b->data : "";
}

char *strbuf_steal(StrBuf *b) {
        char *r;

        if (b->failed) {
                strbuf_done(b);
                return NULL;
        }
        r = b->data ? b->data : strdup("");
        *b = (StrBuf) STRBUF_INIT;
        return r;
}

void strbuf_done(StrBuf *b) {
        free(b->data);
        *b = (StrBuf) STRBUF_INIT;
}

size_t strbuf_push_key(StrBuf *b, const char *key) {
        size_t old = b->len;

        if (old)
                strbuf_append_char(b, '.');
        strbuf_append(b, key);
        return old;
}

size_t strbuf_push_index(StrBuf *b, size_t i) {
        size_t old = b->len;

        strbuf_printf(b, "[%zu]", i);
        return old;
}
