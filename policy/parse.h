/* SPDX-License-Identifier: GPL-2.0-or-later */
/* YAML and JSON text → document trees, with hard limits so that hostile
 * input (alias bombs, deep nesting, huge files) costs bounded time and
 * memory and ends in one clear, positioned error. JSON is read by the same
 * parser: it is a subset of the YAML that libyaml accepts. */
#pragma once

#include <stddef.h>

#include "error.h"
#include "node.h"

/* Limits, documented in hepctl(8) and the README. */
#define HEP_MAX_FILE_SIZE (16u * 1024 * 1024) /* bytes per input file */
#define HEP_MAX_DEPTH 64u                     /* nested maps and lists */
#define HEP_MIN_ALIAS_BUDGET 10000u           /* nodes an alias may copy... */
/* ...or as many as the document itself holds, whichever is larger: aliases
 * can at most double a document. */

typedef struct Document {
        Node *root;         /* null scalar for an empty document */
        unsigned line;      /* where the document's content starts */
        size_t start_index; /* character offsets of the content, for editing */
        size_t end_index;   /* in place; see datastore-dir.c */
} Document;

typedef struct DocumentList {
        Document *docs;
        size_t n, alloc;
} DocumentList;

#define DOCUMENT_LIST_INIT {}

/* Called for each document as soon as it is complete; it may take
 * doc->root (leaving NULL). A negative return stops parsing. */
typedef int (*DocumentCallback)(Document *doc, void *userdata);
int parse_documents_foreach(const char *file, const char *data, size_t len, DocumentCallback cb, void *userdata,
                            ParseError *reterr);

/* file is used only in error messages. On failure *ret is untouched. */
int parse_documents(const char *file, const char *data, size_t len, DocumentList *ret, ParseError *reterr);
void document_list_done(DocumentList *l);

/* Converts a character offset from Document (libyaml counts characters)
 * to a byte offset in data. */
size_t parse_char_to_byte_offset(const char *data, size_t len, size_t char_index);
