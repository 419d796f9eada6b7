/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Builds Node trees from libyaml's event stream. Aliases are expanded by
 * copying under a budget, merge keys (<<) are honoured as go-yaml does,
 * and duplicate keys are errors (as in calicoctl's strict decoding). */
#include "parse.h"

#include <stdio.h>
#include <string.h>
#include <yaml.h>

typedef struct Anchor {
        char *name;
        Node *node; /* borrowed: owned by the tree */
} Anchor;

typedef struct Builder {
        const char *file;
        ParseError *err;
        DocumentCallback cb;
        void *userdata;
        Node *stack[HEP_MAX_DEPTH + 1];
        Node *pending_key[HEP_MAX_DEPTH + 1]; /* key waiting for its value, per open map */
        char *stack_anchor[HEP_MAX_DEPTH + 1];
        unsigned depth;
        Anchor *anchors;
        size_t n_anchors, alloc_anchors;
        size_t nodes;        /* built from events */
        size_t alias_nodes;  /* copied by alias expansion */
        Node *root;
} Builder;

static int builder_error(Builder *b, const yaml_mark_t *m, const char *fmt, ...) _printf_(3, 4);
static int builder_error(Builder *b, const yaml_mark_t *m, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        parse_error_setv(b->err, b->file, (unsigned)m->line + 1, (unsigned)m->column + 1, NULL, fmt, ap);
        va_end(ap);
        return -EINVAL;
}

static void builder_reset(Builder *b) {
        /* Open containers are attached to their parent only when they close,
         * so each one on the stack is owned here. */
        for (unsigned i = 0; i < b->depth; i++) {
                node_free(b->pending_key[i]);
                free(b->stack_anchor[i]);
                node_free(b->stack[i]);
        }
        node_free(b->root);
        for (size_t i = 0; i < b->n_anchors; i++)
                free(b->anchors[i].name);
        free(b->anchors);
        b->anchors = NULL;
        b->n_anchors = b->alloc_anchors = 0;
        b->depth = 0;
        b->root = NULL;
        b->nodes = b->alias_nodes = 0;
}

static int builder_add_anchor(Builder *b, const char *name, Node *n) {
        Anchor *a;

        /* A later anchor with the same name shadows the earlier one. */
        for (size_t i = 0; i < b->n_anchors; i++)
                if (streq(b->anchors[i].name, name)) {
                        b->anchors[i].node = n;
                        return 0;
                }
        a = grow_array(b->anchors, &b->alloc_anchors, b->n_anchors + 1, sizeof(Anchor));
        if (!a)
                return -ENOMEM;
        b->anchors = a;
        a[b->n_anchors].name = strdup(name);
        if (!a[b->n_anchors].name)
                return -ENOMEM;
        a[b->n_anchors++].node = n;
        return 0;
}

static size_t node_count(const Node *n, size_t limit) {
        size_t c = 1;

        if (n->type == NODE_MAP)
                for (size_t i = 0; i < n->n && c <= limit; i++)
                        c += 1 + node_count(n->entries[i].value, limit);
        else if (n->type == NODE_SEQ)
                for (size_t i = 0; i < n->n && c <= limit; i++)
                        c += node_count(n->items[i], limit);
        return c;
}

static bool key_is_merge(const Node *k) {
        return !k->quoted && streq(k->text, "<<");
}

/* Duplicate keys are errors; "<<" may repeat (each is a merge). */
static int map_check_duplicate(Builder *b, const Node *map, const Node *key) {
        if (key_is_merge(key))
                return 0;
        for (size_t i = 0; i < map->n; i++)
                if (streq(map->entries[i].key->text, key->text))
                        return parse_error_set(b->err, b->file, key->line, key->column, NULL,
                                               "duplicate key '%s' (first defined at line %u, column %u)",
                                               key->text, map->entries[i].key->line,
                                               map->entries[i].key->column);
        return 0;
}

/* Places a completed node into its parent (or as the document root). */
static int builder_attach(Builder *b, Node *n, const yaml_mark_t *m) {
        Node *parent;
        int r;

        if (b->depth == 0) {
                b->root = n;
                return 0;
        }
        parent = b->stack[b->depth - 1];
        if (parent->type == NODE_SEQ) {
                r = node_seq_add(parent, n);
                if (r < 0)
                        node_free(n);
                return r;
        }
        if (!b->pending_key[b->depth - 1]) {
                if (n->type != NODE_SCALAR) {
                        /* Read before the node is freed; the key's own position. */
                        r = parse_error_set(b->err, b->file, n->line, n->column, NULL,
                                            "map keys must be strings, not %s",
                                            n->type == NODE_MAP ? "a map" : "a list");
                        node_free(n);
                        return r;
                }
                r = map_check_duplicate(b, parent, n);
                if (r < 0) {
                        node_free(n);
                        return r;
                }
                b->pending_key[b->depth - 1] = n;
                return 0;
        }
        r = node_map_add(parent, b->pending_key[b->depth - 1], n);
        if (r < 0) {
                node_free(n);
                return r;
        }
        b->pending_key[b->depth - 1] = NULL;
        return 0;
}

/* Applies "<<: *base" / "<<: [*a, *b]": keys not set explicitly are taken
 * from the merged maps, earlier maps winning, as go-yaml does. */
static int map_apply_merges(Builder *b, Node *map) {
        for (size_t i = 0; i < map->n;) {
                Node *k = map->entries[i].key, *v = map->entries[i].value;
                size_t n_src;
                /* Not a pointer into map->entries: adding the merged keys
                 * below may move them. */
                Node **srcs;

                if (!key_is_merge(k)) {
                        i++;
                        continue;
                }
                if (v->type == NODE_MAP) {
                        srcs = &v;
                        n_src = 1;
                } else if (v->type == NODE_SEQ) {
                        srcs = v->items;
                        n_src = v->n;
                } else
                        return parse_error_set(b->err, b->file, v->line, v->column, NULL,
                                               "map merge requires a map or a list of maps");
                for (size_t s = 0; s < n_src; s++) {
                        if (srcs[s]->type != NODE_MAP)
                                return parse_error_set(b->err, b->file, srcs[s]->line, srcs[s]->column, NULL,
                                                       "map merge requires a map or a list of maps");
                        for (size_t j = 0; j < srcs[s]->n; j++) {
                                NodeEntry *e = &srcs[s]->entries[j];
                                if (node_map_get(map, e->key->text))
                                        continue;
                                Node *ck = node_copy(e->key), *cv = node_copy(e->value);
                                if (!ck || !cv || node_map_add(map, ck, cv) < 0) {
                                        node_free(ck);
                                        node_free(cv);
                                        return -ENOMEM;
                                }
                        }
                }
                node_free(k);
                node_free(v);
                memmove(&map->entries[i], &map->entries[i + 1], (map->n - i - 1) * sizeof(NodeEntry));
                map->n--;
        }
        return 0;
}

static int builder_open(Builder *b, NodeType type, const yaml_mark_t *m, const yaml_char_t *anchor) {
        Node *n;

        if (b->depth >= HEP_MAX_DEPTH)
                return parse_error_set(b->err, b->file, (unsigned)m->line + 1, (unsigned)m->column + 1, NULL,
                                       "nesting deeper than %u levels", HEP_MAX_DEPTH);
        n = node_new(type, (unsigned)m->line + 1, (unsigned)m->column + 1);
        if (!n)
                return -ENOMEM;
        b->nodes++;
        b->stack_anchor[b->depth] = anchor ? strdup((const char *)anchor) : NULL;
        b->pending_key[b->depth] = NULL;
        b->stack[b->depth++] = n;
        return 0;
}

static int builder_close(Builder *b, const yaml_mark_t *m) {
        Node *n = b->stack[--b->depth];
        char *anchor = b->stack_anchor[b->depth];
        int r = 0;

        b->stack_anchor[b->depth] = NULL;
        if (n->type == NODE_MAP)
                r = map_apply_merges(b, n);
        if (r >= 0 && anchor)
                r = builder_add_anchor(b, anchor, n);
        free(anchor);
        if (r < 0) {
                node_free(n);
                return r;
        }
        return builder_attach(b, n, m);
}

static int builder_scalar(Builder *b, const yaml_event_t *ev) {
        const yaml_mark_t *m = &ev->start_mark;
        Node *n;
        int r;

        if (memchr(ev->data.scalar.value, 0, ev->data.scalar.length))
                return builder_error(b, m, "%s", "NUL characters are not allowed in strings");
        n = node_new(NODE_SCALAR, (unsigned)m->line + 1, (unsigned)m->column + 1);
        if (!n)
                return -ENOMEM;
        b->nodes++;
        n->text = strdup((const char *)ev->data.scalar.value);
        if (!n->text) {
                node_free(n);
                return -ENOMEM;
        }
        /* Quoted and block scalars, and explicit !!str, are always strings. */
        n->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE ||
                    (ev->data.scalar.tag && streq((const char *)ev->data.scalar.tag, YAML_STR_TAG));
        if (ev->data.scalar.anchor) {
                r = builder_add_anchor(b, (const char *)ev->data.scalar.anchor, n);
                if (r < 0) {
                        node_free(n);
                        return r;
                }
        }
        return builder_attach(b, n, m);
}

static int builder_alias(Builder *b, const yaml_event_t *ev) {
        const char *name = (const char *)ev->data.alias.anchor;
        const yaml_mark_t *m = &ev->start_mark;
        size_t budget = b->nodes > HEP_MIN_ALIAS_BUDGET ? b->nodes : HEP_MIN_ALIAS_BUDGET;

        for (size_t i = b->n_anchors; i > 0; i--) {
                Anchor *a = &b->anchors[i - 1];
                if (!streq(a->name, name))
                        continue;
                size_t cost = node_count(a->node, budget - b->alias_nodes + 1);
                if (b->alias_nodes + cost > budget)
                        return builder_error(b, m,
                                             "alias '*%s' expands the document beyond its limit "
                                             "(aliases may at most double a document)",
                                             name);
                b->alias_nodes += cost;
                Node *c = node_copy(a->node);
                if (!c)
                        return -ENOMEM;
                /* The copy points at the alias, where the user wrote it. */
                c->line = (unsigned)m->line + 1;
                c->column = (unsigned)m->column + 1;
                return builder_attach(b, c, m);
        }
        return builder_error(b, m, "unknown anchor '%s' referenced", name);
}

/* Reader errors (bad UTF-8, control characters) come with a byte offset
 * instead of a mark. */
static void offset_to_position(const char *data, size_t len, size_t offset, unsigned *line, unsigned *col) {
        *line = 1;
        *col = 1;
        for (size_t i = 0; i < offset && i < len; i++) {
                if (data[i] == '\n') {
                        (*line)++;
                        *col = 1;
                } else if (((unsigned char)data[i] & 0xc0) != 0x80)
                        (*col)++;
        }
}

static int yaml_error(Builder *b, const yaml_parser_t *p, const char *data, size_t len) {
        const yaml_mark_t *m = &p->problem_mark;
        const char *problem = p->problem ? p->problem : "invalid YAML";

        if (p->error == YAML_MEMORY_ERROR)
                return -ENOMEM;
        if (p->error == YAML_READER_ERROR) {
                unsigned line, col;
                offset_to_position(data, len, p->problem_offset, &line, &col);
                return parse_error_set(b->err, b->file, line, col, NULL, "%s", problem);
        }
        if (p->context)
                return parse_error_set(b->err, b->file, (unsigned)m->line + 1, (unsigned)m->column + 1, NULL,
                                       "%s %s (started at line %zu, column %zu)", problem, p->context,
                                       p->context_mark.line + 1, p->context_mark.column + 1);
        return parse_error_set(b->err, b->file, (unsigned)m->line + 1, (unsigned)m->column + 1, NULL, "%s",
                               problem);
}

static int documents_add(DocumentList *l, Document d) {
        Document *p = grow_array(l->docs, &l->alloc, l->n + 1, sizeof(Document));

        if (!p)
                return -ENOMEM;
        l->docs = p;
        l->docs[l->n++] = d;
        return 0;
}

/* Returns >0 when the stream has ended, 0 to go on, <0 on error. */
static int builder_event(Builder *b, const yaml_event_t *ev, Document *doc) {
        switch (ev->type) {
        case YAML_STREAM_START_EVENT:
        case YAML_NO_EVENT:
                return 0;
        case YAML_STREAM_END_EVENT:
                return 1;
        case YAML_DOCUMENT_START_EVENT:
                builder_reset(b);
                *doc = (Document) { .line = (unsigned)ev->end_mark.line + 1, .start_index = ev->end_mark.index };
                return 0;
        case YAML_DOCUMENT_END_EVENT: {
                int r;
                if (!b->root) {
                        b->root = node_new_scalar("", false);
                        if (!b->root)
                                return -ENOMEM;
                }
                doc->root = steal_ptr(b->root);
                doc->end_index = ev->start_mark.index;
                /* Handed over one by one: a file's documents are never all
                 * in memory at once. */
                r = b->cb(doc, b->userdata);
                doc->root = node_free(doc->root);
                return r;
        }
        case YAML_SCALAR_EVENT:
                if (b->depth == 0) {
                        doc->line = (unsigned)ev->start_mark.line + 1;
                        doc->start_index = ev->start_mark.index;
                }
                return builder_scalar(b, ev);
        case YAML_ALIAS_EVENT:
                return builder_alias(b, ev);
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
                if (b->depth == 0) {
                        doc->line = (unsigned)ev->start_mark.line + 1;
                        doc->start_index = ev->start_mark.index;
                }
                return builder_open(b, ev->type == YAML_MAPPING_START_EVENT ? NODE_MAP : NODE_SEQ,
                                    &ev->start_mark,
                                    ev->type == YAML_MAPPING_START_EVENT ? ev->data.mapping_start.anchor
                                                                         : ev->data.sequence_start.anchor);
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
                return builder_close(b, &ev->start_mark);
        }
        return 0;
}

int parse_documents_foreach(const char *file, const char *data, size_t len, DocumentCallback cb, void *userdata,
                            ParseError *reterr) {
        Builder b = { .file = file, .err = reterr, .cb = cb, .userdata = userdata };
        Document doc = {};
        yaml_parser_t p;
        int r = 0;

        if (len > HEP_MAX_FILE_SIZE)
                return parse_error_set(reterr, file, 0, 0, NULL, "file is larger than the %u MiB limit",
                                       HEP_MAX_FILE_SIZE / (1024 * 1024));
        if (!yaml_parser_initialize(&p))
                return -ENOMEM;
        yaml_parser_set_input_string(&p, (const unsigned char *)data, len);
        yaml_parser_set_encoding(&p, YAML_UTF8_ENCODING);

        while (r == 0) {
                yaml_event_t ev;

                if (!yaml_parser_parse(&p, &ev)) {
                        r = yaml_error(&b, &p, data, len);
                        break;
                }
                r = builder_event(&b, &ev, &doc);
                yaml_event_delete(&ev);
        }
        builder_reset(&b);
        yaml_parser_delete(&p);
        return r < 0 ? r : 0;
}

static int collect_document(Document *doc, void *userdata) {
        int r = documents_add(userdata, *doc);

        if (r >= 0)
                doc->root = NULL; /* the list owns it */
        return r;
}

int parse_documents(const char *file, const char *data, size_t len, DocumentList *ret, ParseError *reterr) {
        _cleanup_(document_list_done) DocumentList out = DOCUMENT_LIST_INIT;
        int r = parse_documents_foreach(file, data, len, collect_document, &out, reterr);

        if (r < 0)
                return r;
        *ret = out;
        out = (DocumentList) DOCUMENT_LIST_INIT;
        return 0;
}

void document_list_done(DocumentList *l) {
        for (size_t i = 0; i < l->n; i++)
                node_free(l->docs[i].root);
        free(l->docs);
        *l = (DocumentList) DOCUMENT_LIST_INIT;
}

size_t parse_char_to_byte_offset(const char *data, size_t len, size_t char_index) {
        size_t chars = 0, i = 0;

        while (i < len && chars < char_index) {
                unsigned char c = (unsigned char)data[i];
                i += c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
                chars++;
        }
        return i < len ? i : len;
}
