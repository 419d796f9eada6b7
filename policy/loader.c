/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Document shapes → resources; see loader.h. */
#include "loader.h"

#include <stdarg.h>

#include "parse.h"

int resource_list_add(ResourceList *l, Resource *r) {
        Resource **v = grow_array(l->v, &l->alloc, l->n + 1, sizeof(Resource *));

        if (!v)
                return -ENOMEM;
        l->v = v;
        l->v[l->n++] = r;
        return 0;
}

void resource_list_done(ResourceList *l) {
        for (size_t i = 0; i < l->n; i++)
                resource_free(l->v[i]);
        free(l->v);
        *l = (ResourceList) RESOURCE_LIST_INIT;
}

static int add_one(const char *file, Node **node, ResourceList *out, ParseError *reterr) {
        Resource *r = NULL;
        int k = resource_decode(file, node, &r, reterr);

        if (k < 0)
                return k;
        k = resource_list_add(out, r);
        if (k < 0)
                resource_free(r);
        return k;
}

/* A <Kind>List: its items are resources (of any kind, as calicoctl allows). */
static int add_list(const char *file, Node *doc, ResourceList *out, ParseError *reterr) {
        Node *items = node_map_get(doc, "items");

        for (size_t i = 0; i < doc->n; i++) {
                const char *key = doc->entries[i].key->text;
                if (!streq(key, "apiVersion") && !streq(key, "kind") && !streq(key, "items") &&
                    !streq(key, "metadata"))
                        return parse_error_set(reterr, file, doc->entries[i].key->line,
                                               doc->entries[i].key->column, key,
                                               "field in document is not recognized or is in the wrong location: %s",
                                               key);
        }
        if (!items || node_is_null(items))
                return 0;
        if (items->type != NODE_SEQ)
                return parse_error_set(reterr, file, items->line, items->column, "items",
                                       "expected a list of resources, got %s", node_kind_name(items));
        for (size_t i = 0; i < items->n; i++) {
                int r = add_one(file, &items->items[i], out, reterr);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Decoding takes ownership of what it decodes, leaving NULL behind. */
int resources_from_document(const char *file, Node **docp, ResourceList *out, bool *ret_whole, ParseError *reterr) {
        Node *doc = *docp;
        const Node *kind;

        if (ret_whole)
                *ret_whole = false;

        if (node_is_null(doc))
                return 0;
        if (doc->type == NODE_SEQ) {
                for (size_t i = 0; i < doc->n; i++) {
                        int r = add_one(file, &doc->items[i], out, reterr);
                        if (r < 0)
                                return r;
                }
                return 0;
        }
        kind = node_map_get(doc, "kind");
        if (kind && kind->type == NODE_SCALAR && kind_from_list_name(kind->text))
                return add_list(file, doc, out, reterr);
        if (ret_whole)
                *ret_whole = true;
        return add_one(file, docp, out, reterr);
}

typedef struct ParseContext {
        const char *file;
        ResourceList *out;
        ParseError *err;
} ParseContext;

static int parse_one_document(Document *doc, void *userdata) {
        ParseContext *c = userdata;

        return resources_from_document(c->file, &doc->root, c->out, NULL, c->err);
}

int resources_parse(const char *file, const char *data, size_t len, ResourceList *ret, ParseError *reterr) {
        _cleanup_(resource_list_done) ResourceList out = RESOURCE_LIST_INIT;
        ParseContext c = { file, &out, reterr };
        int r;

        r = parse_documents_foreach(file, data, len, parse_one_document, &c, reterr);
        if (r < 0)
                return r;
        for (size_t i = 0; i < out.n; i++) {
                r = resource_list_add(ret, out.v[i]);
                if (r < 0)
                        return r;
                out.v[i] = NULL;
        }
        return 0;
}

int resource_error_at(const Resource *r, const char *path, ParseError *e, const char *fmt, ...) {
        const Node *n = r->source ? node_find_path(r->source, path) : NULL;
        va_list ap;

        va_start(ap, fmt);
        parse_error_setv(e, r->file, n ? n->line : 0, n ? n->column : 0, path, fmt, ap);
        va_end(ap);
        return -EINVAL;
}
