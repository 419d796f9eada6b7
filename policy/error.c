/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ParseError formatting; see error.h. */
#include "error.h"

#include <stdio.h>
#include <stdlib.h>

#include "strbuf.h"

int parse_error_setv(ParseError *e, const char *file, unsigned line, unsigned column, const char *path,
                     const char *fmt, va_list ap) {
        StrBuf b = STRBUF_INIT;

        if (!e)
                return -EINVAL;
        parse_error_done(e);
        e->file = file ? strdup(file) : NULL;
        e->line = line;
        e->column = column;
        e->path = path && *path ? strdup(path) : NULL;
        strbuf_vprintf(&b, fmt, ap);
        e->message = strbuf_steal(&b);
        return -EINVAL;
}

int parse_error_set(ParseError *e, const char *file, unsigned line, unsigned column, const char *path,
                    const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        parse_error_setv(e, file, line, column, path, fmt, ap);
        va_end(ap);
        return -EINVAL;
}

static char *format_with(const ParseError *e, const char *message) {
        StrBuf b = STRBUF_INIT;

        if (e->file) {
                strbuf_append(&b, e->file);
                if (e->line)
                        strbuf_printf(&b, ":%u:%u", e->line, e->column);
                strbuf_append(&b, ": ");
        } else if (e->line)
                strbuf_printf(&b, "%u:%u: ", e->line, e->column);
        if (e->path)
                strbuf_printf(&b, "%s: ", e->path);
        strbuf_append(&b, message ? message : "out of memory");
        return strbuf_steal(&b);
}

char *parse_error_format(const ParseError *e) {
        return format_with(e, e->message);
}

char *parse_error_format_redacted(const ParseError *e, const char *instead) {
        return format_with(e, instead);
}

void parse_error_done(ParseError *e) {
        free(e->file);
        free(e->path);
        free(e->message);
        *e = (ParseError) PARSE_ERROR_INIT;
}

void parse_error_move(ParseError *dst, ParseError *src) {
        parse_error_done(dst);
        *dst = *src;
        *src = (ParseError) PARSE_ERROR_INIT;
}
