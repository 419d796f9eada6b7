/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A growable, always NUL-terminated string buffer. Allocation failure is
 * sticky: after the first failure every append is a no-op and
 * strbuf_ok() reports false, so long emitters check once at the end. */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "macro.h"

typedef struct StrBuf {
        char *data;
        size_t len;
        size_t alloc;
        bool failed;
} StrBuf;

#define STRBUF_INIT {}

void strbuf_append(StrBuf *b, const char *s);
void strbuf_append_len(StrBuf *b, const char *s, size_t n);
void strbuf_append_char(StrBuf *b, char c);
void strbuf_printf(StrBuf *b, const char *fmt, ...) _printf_(2, 3);
void strbuf_vprintf(StrBuf *b, const char *fmt, va_list ap) _printf_(2, 0);
void strbuf_truncate(StrBuf *b, size_t len);
bool strbuf_ok(const StrBuf *b);
/* Returns the string (never NULL unless allocation failed) and resets b. */
char *strbuf_steal(StrBuf *b);
void strbuf_done(StrBuf *b);
const char *strbuf_str(const StrBuf *b);

/* Field paths as errors name them ("spec.ingress[0].action"): ".key"
 * ("key" at the start) or "[i]" appended. Both return the length before,
 * for strbuf_truncate() to go back to. */
size_t strbuf_push_key(StrBuf *b, const char *key);
size_t strbuf_push_index(StrBuf *b, size_t i);
