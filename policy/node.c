/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Document tree: construction, YAML 1.1 scalar resolution, path lookup and
 * serialisation (YAML through libyaml's emitter, which makes the same style
 * choices as the Go YAML library calicoctl prints with; JSON by hand, with
 * Go's escaping). */
#include "node.h"

#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

Node *node_new(NodeType type, unsigned line, unsigned column) {
        Node *n = calloc(1, sizeof(Node));

        if (!n)
                return NULL;
        n->type = type;
        n->line = line;
        n->column = column;
        return n;
}

Node *node_new_scalar(const char *text, bool quoted) {
        Node *n = node_new(NODE_SCALAR, 0, 0);

        if (!n)
                return NULL;
        n->text = strdup(text);
        if (!n->text)
                return node_free(n);
        n->quoted = quoted;
        return n;
}

Node *node_free(Node *n) {
        if (!n)
                return NULL;
        switch (n->type) {
        case NODE_SCALAR:
                free(n->text);
                break;
        case NODE_MAP:
                for (size_t i = 0; i < n->n; i++) {
                        node_free(n->entries[i].key);
                        node_free(n->entries[i].value);
                }
                free(n->entries);
                break;
        case NODE_SEQ:
                for (size_t i = 0; i < n->n; i++)
                        node_free(n->items[i]);
                free(n->items);
                break;
        case _NODE_TYPE_MAX:
        case _NODE_TYPE_INVALID:
                break;
        }
        free(n);
        return NULL;
}

Node *node_copy(const Node *n) {
        _cleanup_(node_freep) Node *c = node_new(n->type, n->line, n->column);

        if (!c)
                return NULL;
        c->quoted = n->quoted;
        switch (n->type) {
        case NODE_SCALAR:
                c->text = strdup(n->text);
                if (!c->text)
                        return NULL;
                break;
        case NODE_MAP:
                for (size_t i = 0; i < n->n; i++) {
                        Node *k = node_copy(n->entries[i].key), *v = node_copy(n->entries[i].value);
                        if (!k || !v || node_map_add(c, k, v) < 0) {
                                node_free(k);
                                node_free(v);
                                return NULL;
                        }
                }
                break;
        case NODE_SEQ:
                for (size_t i = 0; i < n->n; i++) {
                        Node *v = node_copy(n->items[i]);
                        if (!v || node_seq_add(c, v) < 0) {
                                node_free(v);
                                return NULL;
                        }
                }
                break;
        case _NODE_TYPE_MAX:
        case _NODE_TYPE_INVALID:
                return NULL;
        }
        return steal_ptr(c);
}

int node_map_add(Node *map, Node *key, Node *value) {
        NodeEntry *e = grow_array(map->entries, &map->alloc, map->n + 1, sizeof(NodeEntry));

        if (!e)
                return -ENOMEM;
        map->entries = e;
        map->entries[map->n++] = (NodeEntry) { key, value };
        return 0;
}

int node_seq_add(Node *seq, Node *item) {
        Node **e = grow_array(seq->items, &seq->alloc, seq->n + 1, sizeof(Node *));

        if (!e)
                return -ENOMEM;
        seq->items = e;
        seq->items[seq->n++] = item;
        return 0;
}

int node_map_set(Node *map, const char *key, Node *value) {
        Node *k;

        if (!value)
                return -ENOMEM;
        k = node_new_scalar(key, true);
        if (!k || node_map_add(map, k, value) < 0) {
                node_free(k);
                node_free(value);
                return -ENOMEM;
        }
        return 0;
}

int node_map_set_string(Node *map, const char *key, const char *value) {
        return node_map_set(map, key, node_new_scalar(value, true));
}

Node *node_map_get(const Node *map, const char *key) {
        if (!map || map->type != NODE_MAP)
                return NULL;
        for (size_t i = 0; i < map->n; i++)
                if (streq(map->entries[i].key->text, key))
                        return map->entries[i].value;
        return NULL;
}

Node *node_map_take(Node *map, const char *key) {
        if (!map || map->type != NODE_MAP)
                return NULL;
        for (size_t i = 0; i < map->n; i++)
                if (streq(map->entries[i].key->text, key)) {
                        Node *v = map->entries[i].value;
                        node_free(map->entries[i].key);
                        memmove(&map->entries[i], &map->entries[i + 1], (map->n - i - 1) * sizeof(NodeEntry));
                        map->n--;
                        return v;
                }
        return NULL;
}

/* ---- YAML 1.1 scalar resolution (the subset go-yaml v2 implements) ---- */

static bool plain_is_null(const char *s) {
        return !*s || streq(s, "~") || streq(s, "null") || streq(s, "Null") || streq(s, "NULL");
}

static int plain_bool(const char *s) {
        static const char *const yes[] = { "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON" };
        static const char *const no[] = { "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF" };

        for (size_t i = 0; i < ELEMENTSOF(yes); i++)
                if (streq(s, yes[i]))
                        return 1;
        for (size_t i = 0; i < ELEMENTSOF(no); i++)
                if (streq(s, no[i]))
                        return 0;
        return -EINVAL;
}

/* Integers: optional sign, then decimal, 0x hex, 0b binary or 0-prefixed
 * octal, with '_' separators ignored. Returns -ERANGE on overflow. */
static int plain_int(const char *s, int64_t *ret) {
        char buf[80];
        size_t j = 0;
        bool neg = false;
        int base = 10;
        uint64_t v = 0, limit;

        for (const char *p = s; *p; p++) {
                if (*p == '_')
                        continue;
                if (j + 1 >= sizeof(buf))
                        return -ERANGE;
                buf[j++] = *p;
        }
        buf[j] = 0;

        const char *p = buf;
        if (*p == '+' || *p == '-')
                neg = *p++ == '-';
        if (!*p)
                return -EINVAL;
        if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
                base = 16, p += 2;
        else if (p[0] == '0' && (p[1] == 'b' || p[1] == 'B'))
                base = 2, p += 2;
        else if (p[0] == '0' && p[1])
                base = 8, p += 1;
        if (!*p)
                return -EINVAL;

        limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
        bool overflow = false;
        for (; *p; p++) {
                int d;
                if (*p >= '0' && *p <= '9')
                        d = *p - '0';
                else if (*p >= 'a' && *p <= 'f')
                        d = *p - 'a' + 10;
                else if (*p >= 'A' && *p <= 'F')
                        d = *p - 'A' + 10;
                else
                        return -EINVAL;
                if (d >= base)
                        return -EINVAL;
                if (v > (limit - (uint64_t)d) / (uint64_t)base)
                        overflow = true;
                else
                        v = v * (uint64_t)base + (uint64_t)d;
        }
        if (overflow)
                return -ERANGE;
        if (ret)
                *ret = neg ? (int64_t)(0 - v) : (int64_t)v;
        return 0;
}

static bool plain_is_float(const char *s, double *ret) {
        static const char *const inf[] = { ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF" };
        static const char *const ninf[] = { "-.inf", "-.Inf", "-.INF" };
        static const char *const nan_[] = { ".nan", ".NaN", ".NAN" };
        const char *p = s;
        bool digits = false;

        for (size_t i = 0; i < ELEMENTSOF(inf); i++)
                if (streq(s, inf[i])) {
                        if (ret)
                                *ret = INFINITY;
                        return true;
                }
        for (size_t i = 0; i < ELEMENTSOF(ninf); i++)
                if (streq(s, ninf[i])) {
                        if (ret)
                                *ret = -INFINITY;
                        return true;
                }
        for (size_t i = 0; i < ELEMENTSOF(nan_); i++)
                if (streq(s, nan_[i])) {
                        if (ret)
                                *ret = NAN;
                        return true;
                }

        /* [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
        if (*p == '+' || *p == '-')
                p++;
        if (*p == '.') {
                p++;
                if (!isdigit((unsigned char)*p))
                        return false;
                while (isdigit((unsigned char)*p))
                        p++;
                digits = true;
        } else {
                while (isdigit((unsigned char)*p))
                        p++, digits = true;
                if (!digits)
                        return false;
                if (*p == '.') {
                        p++;
                        while (isdigit((unsigned char)*p))
                                p++;
                }
        }
        if (*p == 'e' || *p == 'E') {
                p++;
                if (*p == '+' || *p == '-')
                        p++;
                if (!isdigit((unsigned char)*p))
                        return false;
                while (isdigit((unsigned char)*p))
                        p++;
        }
        if (*p)
                return false;
        if (ret)
                *ret = strtod(s, NULL);
        return true;
}

bool node_is_null(const Node *n) {
        return n && n->type == NODE_SCALAR && !n->quoted && plain_is_null(n->text);
}

bool node_is_string(const Node *n) {
        if (!n || n->type != NODE_SCALAR)
                return false;
        if (n->quoted)
                return true;
        return !plain_is_null(n->text) && plain_bool(n->text) < 0 && plain_int(n->text, NULL) == -EINVAL &&
               !plain_is_float(n->text, NULL);
}

int node_get_bool(const Node *n, bool *ret) {
        int b;

        if (!n || n->type != NODE_SCALAR || n->quoted)
                return -EINVAL;
        b = plain_bool(n->text);
        if (b < 0)
                return b;
        *ret = b;
        return 0;
}

int node_get_int64(const Node *n, int64_t *ret) {
        double d;

        if (!n || n->type != NODE_SCALAR || n->quoted)
                return -EINVAL;
        int r = plain_int(n->text, ret);
        if (r != -EINVAL)
                return r;
        /* JSON numbers like 80.0 or 1e2 decode into Go ints only when exact. */
        if (plain_is_float(n->text, &d)) {
                if (!isfinite(d) || d != floor(d))
                        return -EINVAL;
                if (d < -9.2e18 || d > 9.2e18)
                        return -ERANGE;
                *ret = (int64_t)d;
                return 0;
        }
        return -EINVAL;
}

int node_get_double(const Node *n, double *ret) {
        int64_t i;

        if (!n || n->type != NODE_SCALAR || n->quoted)
                return -EINVAL;
        if (plain_int(n->text, &i) == 0) {
                *ret = (double)i;
                return 0;
        }
        return plain_is_float(n->text, ret) ? 0 : -EINVAL;
}

const char *node_kind_name(const Node *n) {
        if (!n)
                return "nothing";
        switch (n->type) {
        case NODE_MAP:
                return "a map";
        case NODE_SEQ:
                return "a list";
        case NODE_SCALAR:
                if (node_is_null(n))
                        return "null";
                if (n->quoted || node_is_string(n))
                        return "a string";
                if (plain_bool(n->text) >= 0)
                        return "a boolean";
                return "a number";
        case _NODE_TYPE_MAX:
        case _NODE_TYPE_INVALID:
                break;
        }
        return "an unknown value";
}

/* ---- path lookup ---- */

const Node *node_find_path(const Node *root, const char *path) {
        const Node *cur = root;
        const char *p = path;

        while (cur && p && *p) {
                if (*p == '.') {
                        p++;
                        continue;
                }
                if (*p == '[') {
                        char *end;
                        unsigned long idx = strtoul(p + 1, &end, 10);
                        if (*end != ']' || cur->type != NODE_SEQ || idx >= cur->n)
                                return cur;
                        cur = cur->items[idx];
                        p = end + 1;
                        continue;
                }
                size_t len = strcspn(p, ".[");
                const Node *next = NULL;
                if (cur->type == NODE_MAP)
                        for (size_t i = 0; i < cur->n; i++) {
                                const char *k = cur->entries[i].key->text;
                                if (strlen(k) == len && memcmp(k, p, len) == 0) {
                                        next = cur->entries[i].value;
                                        break;
                                }
                        }
                if (!next)
                        return cur;
                cur = next;
                p += len;
        }
        return cur;
}

/* ---- YAML output ---- */

static int yaml_write_strbuf(void *data, unsigned char *buffer, size_t size) {
        StrBuf *out = data;

        strbuf_append_len(out, (const char *)buffer, size);
        return strbuf_ok(out);
}

/* YAML 1.1 sexagesimal numbers, [-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?,
 * which go-yaml quotes so that older readers do not take "1:20" for 80. */
static bool is_base60_float(const char *s) {
        const char *p = s;
        bool groups = false;

        if (*p == '+' || *p == '-')
                p++;
        if (!isdigit((unsigned char)*p))
                return false;
        while (isdigit((unsigned char)*p) || *p == '_')
                p++;
        while (*p == ':') {
                p++;
                if (!isdigit((unsigned char)*p))
                        return false;
                if (*p <= '5' && isdigit((unsigned char)p[1]))
                        p += 2;
                else
                        p++;
                groups = true;
        }
        if (!groups)
                return false;
        if (*p == '.')
                for (p++; isdigit((unsigned char)*p) || *p == '_'; p++)
                        ;
        return *p == 0;
}

/* go-yaml double-quotes strings that would otherwise read back as another
 * type, and RFC 3339-looking timestamps. */
static bool string_needs_quotes(const char *s) {
        Node tmp = { .type = NODE_SCALAR, .text = (char *)s };

        if (!node_is_string(&tmp) || is_base60_float(s))
                return true;
        return strlen(s) >= 10 && isdigit((unsigned char)s[0]) && isdigit((unsigned char)s[1]) &&
               isdigit((unsigned char)s[2]) && isdigit((unsigned char)s[3]) && s[4] == '-';
}

static int emit_yaml_node(yaml_emitter_t *e, const Node *n) {
        yaml_event_t ev;

        switch (n->type) {
        case NODE_SCALAR: {
                yaml_scalar_style_t style = YAML_ANY_SCALAR_STYLE;
                if (n->quoted && string_needs_quotes(n->text))
                        style = YAML_DOUBLE_QUOTED_SCALAR_STYLE;
                else if (!n->quoted)
                        style = YAML_PLAIN_SCALAR_STYLE;
                if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)n->text, (int)strlen(n->text),
                                                  1, 1, style))
                        return -ENOMEM;
                return yaml_emitter_emit(e, &ev) ? 0 : -EIO;
        }
        case NODE_MAP: {
                /* calicoctl's YAML comes from JSON through a map, so keys are sorted. */
                _cleanup_free_ size_t *order = new_array(n->n, sizeof(size_t));
                if (!order)
                        return -ENOMEM;
                for (size_t i = 0; i < n->n; i++) {
                        size_t j = i;
                        while (j > 0 && strcmp(n->entries[order[j - 1]].key->text, n->entries[i].key->text) > 0) {
                                order[j] = order[j - 1];
                                j--;
                        }
                        order[j] = i;
                }
                if (!yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE) ||
                    !yaml_emitter_emit(e, &ev))
                        return -EIO;
                for (size_t i = 0; i < n->n; i++) {
                        int r = emit_yaml_node(e, n->entries[order[i]].key);
                        if (r >= 0)
                                r = emit_yaml_node(e, n->entries[order[i]].value);
                        if (r < 0)
                                return r;
                }
                if (!yaml_mapping_end_event_initialize(&ev) || !yaml_emitter_emit(e, &ev))
                        return -EIO;
                return 0;
        }
        case NODE_SEQ:
                /* go-yaml writes empty lists and maps in flow style: [] and {}. */
                if (!yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
                                                          n->n ? YAML_BLOCK_SEQUENCE_STYLE : YAML_FLOW_SEQUENCE_STYLE) ||
                    !yaml_emitter_emit(e, &ev))
                        return -EIO;
                for (size_t i = 0; i < n->n; i++) {
                        int r = emit_yaml_node(e, n->items[i]);
                        if (r < 0)
                                return r;
                }
                if (!yaml_sequence_end_event_initialize(&ev) || !yaml_emitter_emit(e, &ev))
                        return -EIO;
                return 0;
        case _NODE_TYPE_MAX:
        case _NODE_TYPE_INVALID:
                break;
        }
        return -EINVAL;
}

void node_emit_yaml(const Node *n, StrBuf *out) {
        yaml_emitter_t e;
        yaml_event_t ev;
        bool ok;

        if (!yaml_emitter_initialize(&e)) {
                out->failed = true;
                return;
        }
        yaml_emitter_set_output(&e, yaml_write_strbuf, out);
        yaml_emitter_set_unicode(&e, 1);
        yaml_emitter_set_indent(&e, 2);
        ok = yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) && yaml_emitter_emit(&e, &ev) &&
             yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) && yaml_emitter_emit(&e, &ev) &&
             emit_yaml_node(&e, n) >= 0 && yaml_document_end_event_initialize(&ev, 1) &&
             yaml_emitter_emit(&e, &ev) && yaml_stream_end_event_initialize(&ev) && yaml_emitter_emit(&e, &ev);
        yaml_emitter_flush(&e);
        yaml_emitter_delete(&e);
        if (!ok)
                out->failed = true;
}

/* ---- JSON output ---- */

static void json_string(StrBuf *out, const char *s) {
        strbuf_append_char(out, '"');
        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
                switch (*p) {
                case '"':
                        strbuf_append(out, "\\\"");
                        break;
                case '\\':
                        strbuf_append(out, "\\\\");
                        break;
                case '\n':
                        strbuf_append(out, "\\n");
                        break;
                case '\r':
                        strbuf_append(out, "\\r");
                        break;
                case '\t':
                        strbuf_append(out, "\\t");
                        break;
                /* Go's encoding/json escapes these so output is safe in HTML;
                 * calicoctl prints what it produces. */
                case '<':
                case '>':
                case '&':
                        strbuf_printf(out, "\\u%04x", *p);
                        break;
                default:
                        if (*p < 0x20)
                                strbuf_printf(out, "\\u%04x", *p);
                        else
                                strbuf_append_char(out, (char)*p);
                }
        }
        strbuf_append_char(out, '"');
}

/* A plain scalar as a JSON token: numbers and booleans in JSON spelling. */
static void json_plain(StrBuf *out, const Node *n) {
        bool b;
        int64_t i;
        double d;

        if (node_is_null(n))
                strbuf_append(out, "null");
        else if (node_get_bool(n, &b) == 0)
                strbuf_append(out, b ? "true" : "false");
        else if (plain_int(n->text, &i) == 0)
                strbuf_printf(out, "%" PRId64, i);
        else if (plain_is_float(n->text, &d) && isfinite(d))
                strbuf_printf(out, "%.17g", d);
        else
                json_string(out, n->text);
}

static void json_indent(StrBuf *out, bool pretty, unsigned depth) {
        if (!pretty)
                return;
        strbuf_append_char(out, '\n');
        for (unsigned i = 0; i < depth; i++)
                strbuf_append(out, "  ");
}

static void emit_json_node(const Node *n, StrBuf *out, bool pretty, unsigned depth) {
        switch (n->type) {
        case NODE_SCALAR:
                if (n->quoted)
                        json_string(out, n->text);
                else
                        json_plain(out, n);
                return;
        case NODE_MAP:
                if (n->n == 0) {
                        strbuf_append(out, "{}");
                        return;
                }
                strbuf_append_char(out, '{');
                for (size_t i = 0; i < n->n; i++) {
                        if (i)
                                strbuf_append_char(out, ',');
                        json_indent(out, pretty, depth + 1);
                        json_string(out, n->entries[i].key->text);
                        strbuf_append(out, pretty ? ": " : ":");
                        emit_json_node(n->entries[i].value, out, pretty, depth + 1);
                }
                json_indent(out, pretty, depth);
                strbuf_append_char(out, '}');
                return;
        case NODE_SEQ:
                if (n->n == 0) {
                        strbuf_append(out, "[]");
                        return;
                }
                strbuf_append_char(out, '[');
                for (size_t i = 0; i < n->n; i++) {
                        if (i)
                                strbuf_append_char(out, ',');
                        json_indent(out, pretty, depth + 1);
                        emit_json_node(n->items[i], out, pretty, depth + 1);
                }
                json_indent(out, pretty, depth);
                strbuf_append_char(out, ']');
                return;
        case _NODE_TYPE_MAX:
        case _NODE_TYPE_INVALID:
                break;
        }
}

void node_emit_json(const Node *n, StrBuf *out, bool pretty) {
        emit_json_node(n, out, pretty, 0);
}
