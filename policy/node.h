/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A parsed YAML/JSON document as a tree that remembers where every value
 * came from (line and column), so that any later error — type, schema or
 * Calico validation — can point at the exact place in the user's file. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"
#include "strbuf.h"

typedef enum NodeType {
        NODE_SCALAR,
        NODE_MAP,
        NODE_SEQ,
        _NODE_TYPE_MAX,
        _NODE_TYPE_INVALID = -EINVAL,
} NodeType;

typedef struct Node Node;

typedef struct NodeEntry {
        Node *key; /* always a scalar */
        Node *value;
} NodeEntry;

struct Node {
        NodeType type;
        unsigned line, column; /* 1-based; 0 = synthesised, no source */
        /* NODE_SCALAR: the text and whether it was quoted. A quoted scalar
         * is always a string; a plain one may resolve to null, bool or a
         * number (YAML 1.1 resolution, as Calico's YAML library does). */
        char *text;
        bool quoted;
        /* NODE_MAP: n entries; NODE_SEQ: n items. */
        size_t n, alloc;
        union {
                NodeEntry *entries;
                Node **items;
        };
};

Node *node_new(NodeType type, unsigned line, unsigned column);
Node *node_new_scalar(const char *text, bool quoted);
Node *node_free(Node *n);
DEFINE_CLEANUP_FUNC(Node, node_free)
Node *node_copy(const Node *n);

/* Append; on success the container owns the child(ren). */
int node_map_add(Node *map, Node *key, Node *value);
int node_seq_add(Node *seq, Node *item);
/* Helpers for building output trees: take ownership of value even on error. */
int node_map_set(Node *map, const char *key, Node *value);
int node_map_set_string(Node *map, const char *key, const char *value);

Node *node_map_get(const Node *map, const char *key) _pure_;
/* Removes and returns the value for key (caller owns it), or NULL. */
Node *node_map_take(Node *map, const char *key);

/* Scalar resolution (YAML 1.1 core, like go-yaml v2 / sigs.k8s.io/yaml). */
bool node_is_null(const Node *n) _pure_;
bool node_is_string(const Node *n) _pure_; /* quoted, or plain that is not null/bool/number */
int node_get_bool(const Node *n, bool *ret);
int node_get_int64(const Node *n, int64_t *ret);
int node_get_double(const Node *n, double *ret);
/* A short human description for type errors: "a map", "a list", "'text'". */
const char *node_kind_name(const Node *n);

/* Finds the node at a field path like "spec.ingress[0].source.nets[1]"
 * (paths as validation reports them). Returns the deepest node that
 * exists along the path, so an error about a missing field points at its
 * parent. */
const Node *node_find_path(const Node *root, const char *path);

/* Serialisation. YAML sorts map keys (as calicoctl does, through its
 * JSON→YAML conversion); JSON keeps insertion order with 2-space indent. */
void node_emit_yaml(const Node *n, StrBuf *out);
void node_emit_json(const Node *n, StrBuf *out, bool pretty);
