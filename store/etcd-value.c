/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Calico's etcd values, decoded and encoded (see etcd-value.h). */
#include "etcd-value.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "check.h"
#include "node.h"
#include "strbuf.h"

char *etcd_resource_key(ResourceKind kind, const char *ns, const char *name) {
        const KindInfo *k = kind_info(kind);
        char *key;

        if (k->namespaced && !isempty(ns))
                return asprintf(&key, ETCD_PREFIX "%s/%s/%s", k->plural, ns, name) < 0 ? NULL : key;
        return asprintf(&key, ETCD_PREFIX "%s/%s", k->plural, name) < 0 ? NULL : key;
}

/* A JSON value as the tree the YAML parser would have made of it, without
 * positions: strings quoted, numbers, booleans and null plain. */
static Node *node_from_json(json_object *o) {
        Node *n;

        switch (json_object_get_type(o)) {
        case json_type_object:
                n = node_new(NODE_MAP, 0, 0);
                json_object_object_foreach(o, key, val) {
                        Node *k = node_new_scalar(key, true), *v = node_from_json(val);
                        if (!n || !k || !v || node_map_add(n, k, v) < 0) {
                                node_free(k);
                                node_free(v);
                                return node_free(n);
                        }
                }
                return n;
        case json_type_array:
                n = node_new(NODE_SEQ, 0, 0);
                for (size_t i = 0; n && i < json_object_array_length(o); i++) {
                        Node *v = node_from_json(json_object_array_get_idx(o, i));
                        if (!v || node_seq_add(n, v) < 0) {
                                node_free(v);
                                return node_free(n);
                        }
                }
                return n;
        case json_type_string:
                return node_new_scalar(json_object_get_string(o), true);
        case json_type_null:
                return node_new_scalar("null", false);
        case json_type_boolean:
        case json_type_double:
        case json_type_int:
                return node_new_scalar(json_object_get_string(o), false);
        }
        return NULL;
}

/* The fast way for the common case, a value as calicoctl writes it:
 * json-c (several times libyaml's speed) into the same tree. 0 if it
 * decoded and checked; <0 otherwise, and the caller parses again with
 * positions for the message. */
static int parse_fast(const char *key, const char *value, ResourceList *l) {
        json_object *o = json_tokener_parse(value);
        Node *n = o && json_object_is_type(o, json_type_object) ? node_from_json(o) : NULL;
        ParseError e = PARSE_ERROR_INIT;
        int r;

        json_object_put(o);
        if (!n)
                return -EINVAL;
        r = resources_from_document(key, &n, l, NULL, &e);
        node_free(n);
        if (r >= 0 && l->n == 1)
                r = resource_check(l->v[0], &e);
        parse_error_done(&e);
        if (r < 0 || l->n != 1) {
                resource_list_done(l);
                *l = (ResourceList) RESOURCE_LIST_INIT;
                return r == -ENOMEM ? r : -EINVAL;
        }
        return 0;
}

/* Exactly one valid resource, at the key it belongs at. */
static int decode_checked(const char *key, const char *value, size_t value_len, ResourceList *l, ParseError *e) {
        _cleanup_free_ char *want = NULL;
        int r = parse_fast(key, value, l); /* decoded and checked, or not */

        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                /* Again with positions, for the message. */
                r = resources_parse(key, value, value_len, l, e);
                if (r >= 0 && l->n != 1)
                        r = parse_error_set(e, key, 0, 0, NULL, "expected one resource, found %zu", l->n);
                if (r >= 0)
                        r = resource_check(l->v[0], e);
                if (r < 0)
                        return r;
        }
        want = etcd_resource_key(l->v[0]->kind, l->v[0]->meta.namespace, l->v[0]->meta.name);
        if (!want)
                return -ENOMEM;
        if (!streq(want, key))
                return parse_error_set(e, key, 0, 0, NULL, "the value is %s, which belongs at '%s'",
                                       kind_info(l->v[0]->kind)->name, want);
        return 0;
}

int etcd_value_decode(const char *key, const char *value, size_t value_len, int64_t mod_revision, Resource **ret,
                      ParseError *e) {
        _cleanup_(resource_list_done) ResourceList l = RESOURCE_LIST_INIT;
        Resource *res;
        int r = decode_checked(key, value, value_len, &l, e);

        if (r < 0)
                return r;
        res = l.v[0];
        free(res->meta.resource_version);
        if (asprintf(&res->meta.resource_version, "%lld", (long long)mod_revision) < 0) {
                res->meta.resource_version = NULL;
                return -ENOMEM;
        }
        /* The value itself is not kept: the daemon holds 10,000 of these. */
        res->source = node_free(res->source);
        *ret = res;
        l.n = 0;
        return 0;
}

int etcd_value_encode(const Resource *r, char **ret) {
        _cleanup_(resource_freep) Resource *c = resource_copy(r);
        _cleanup_(node_freep) Node *n = NULL;
        StrBuf b = STRBUF_INIT;

        if (!c)
                return -ENOMEM;
        /* Calico blanks resourceVersion before writing: the key's
         * mod_revision is the version. */
        c->meta.resource_version = mfree_ptr(c->meta.resource_version);
        n = resource_encode(c);
        if (!n)
                return -ENOMEM;
        node_emit_json(n, &b, false);
        *ret = strbuf_steal(&b);
        return *ret ? 0 : -ENOMEM;
}
