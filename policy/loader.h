/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Resources from YAML/JSON text: each document may be one resource, a
 * <Kind>List with items, or a list of resources (calicoctl's three shapes).
 * Empty documents are skipped. The first error stops loading, as in
 * calicoctl, and names file:line:col and the field path. */
#pragma once

#include "error.h"
#include "resource.h"

typedef struct ResourceList {
        Resource **v;
        size_t n, alloc;
} ResourceList;

#define RESOURCE_LIST_INIT {}

/* One parsed document: takes what it decodes out of *doc (leaving NULL
 * where a whole document was taken). *ret_whole says whether the document
 * was exactly one resource (not a list), which matters for editing files. */
int resources_from_document(const char *file, Node **doc, ResourceList *out, bool *ret_whole, ParseError *reterr);
int resources_parse(const char *file, const char *data, size_t len, ResourceList *ret, ParseError *reterr);
int resource_list_add(ResourceList *l, Resource *r); /* takes ownership on success */
void resource_list_done(ResourceList *l);
/* Positions an error about field `path` of r at the place r was read from
 * (the deepest part of the path that exists there). */
int resource_error_at(const Resource *r, const char *path, ParseError *e, const char *fmt, ...) _printf_(4, 5);
