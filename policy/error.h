/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Errors in user input, with where they are: file, line, column and the
 * field path. Formatted as "file:line:col: path: message", the form
 * compilers use, so editors can jump to it. */
#pragma once

#include <stdarg.h>

#include "macro.h"

typedef struct ParseError {
        char *file;     /* as the user named it; NULL if not from a file */
        unsigned line;  /* 1-based; 0 = unknown */
        unsigned column;
        char *path;     /* field path such as "spec.ports[0].port", or NULL */
        char *message;
} ParseError;

#define PARSE_ERROR_INIT {}

/* Replaces any previous content. Returns -EINVAL so callers can
 * "return parse_error_set(...)". Never fails: on allocation failure the
 * message is left NULL and formatting says "out of memory". */
int parse_error_set(ParseError *e, const char *file, unsigned line, unsigned column, const char *path,
                    const char *fmt, ...) _printf_(6, 7);
int parse_error_setv(ParseError *e, const char *file, unsigned line, unsigned column, const char *path,
                     const char *fmt, va_list ap) _printf_(6, 0);
/* "file:line:col: path: message"; parts that are unknown are left out. */
char *parse_error_format(const ParseError *e);
/* The same place, with `instead` for the message: for readers who may not
 * see the file's content (messages quote the offending value). */
char *parse_error_format_redacted(const ParseError *e, const char *instead);
void parse_error_done(ParseError *e);
void parse_error_move(ParseError *dst, ParseError *src);
