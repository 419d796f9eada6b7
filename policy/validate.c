/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Calico v3.32.1 validation of the resources in resource.h, reported as
 * libcalico-go reports it. Two passes, in Calico's order: first the
 * go-playground validator (field tags, then each struct's own check after
 * its fields, depth first, in Go field order), then the CRD OpenAPI schema
 * and CEL rules that v3.32 also runs client-side. Rule names (H1, R6, ...)
 * refer to calico-api.md §2.4. Nothing here modifies the resource. */
#include "validate.h"

#include <stdio.h>
#include <string.h>

#include "felix-config.h"
#include "ipaddr.h"
#include "selector.h"
#include "strbuf.h"
#include "syntax.h"

#define ANNOTATIONS_MAX_BYTES 262144 /* totalAnnotationSizeLimitB, 256 KiB */
#define DEFAULT_TIER_ORDER 1000000.0
#define KUBE_ADMIN_TIER_ORDER 1000.0
#define KUBE_BASELINE_TIER_ORDER 10000000.0
#define GNS_RESERVED_LABEL "projectcalico.org/namespace" /* the v1 data model's, for NetworkSets */

#define MSG_NAMESPACE                                                                                  \
        "namespace must consist of at most 63 lower case alphanumeric characters or '-', and must start and " \
        "end with an alphanumeric character (regex: [a-z0-9]([-a-z0-9]*[a-z0-9])?)"
#define MSG_GLOBAL_ENTITY_ONLY "global() can only be used in an EntityRule namespaceSelector"
#define MSG_PORTS_NEED_PROTO "rules that specify ports must set protocol to TCP or UDP or SCTP"
#define MSG_NUMERIC_PORTS_NEED_PROTO "rules with numeric port or port range must set protocol to TCP or UDP or SCTP"

/* ---- the error list ---- */

static void field_error_done(FieldError *f) {
        free(f->path);
        free(f->field);
        free(f->value);
        free(f->reason);
}

void validation_errors_done(ValidationErrors *e) {
        for (size_t i = 0; i < e->n; i++)
                field_error_done(&e->v[i]);
        free(e->v);
        *e = (ValidationErrors) {};
}

/* Takes ownership of all four strings, also on failure. */
static int errors_append(ValidationErrors *e, char *path, char *field, char *value, char *reason) {
        FieldError *v;

        v = grow_array(e->v, &e->alloc, e->n + 1, sizeof(FieldError));
        if (!v) {
                free(path);
                free(field);
                free(value);
                free(reason);
                return -ENOMEM;
        }
        e->v = v;
        e->v[e->n++] = (FieldError) { .path = path, .field = field, .value = value, .reason = reason };
        return 0;
}

/* ErroredField.String(): "<name>[ = '<value>'][ (<reason>)]". */
static void format_one(StrBuf *b, const FieldError *f) {
        strbuf_append(b, f->field ? f->field : "");
        if (f->value) {
                strbuf_append(b, " = '");
                strbuf_append(b, f->value);
                strbuf_append_char(b, '\'');
        }
        if (!isempty(f->reason)) {
                strbuf_append(b, " (");
                strbuf_append(b, f->reason);
                strbuf_append_char(b, ')');
        }
}

char *validation_errors_format(const ValidationErrors *e) {
        StrBuf b = STRBUF_INIT;

        if (e->n == 0)
                strbuf_append(&b, "unknown validation error");
        else if (e->n == 1 && !e->v[0].field)
                strbuf_append(&b, e->v[0].reason ? e->v[0].reason : "");
        else if (e->n == 1) {
                strbuf_append(&b, "error with field ");
                format_one(&b, &e->v[0]);
        } else {
                strbuf_append(&b, "error with the following fields:\n");
                for (size_t i = 0; i < e->n; i++) {
                        strbuf_append(&b, "-  ");
                        format_one(&b, &e->v[i]);
                        strbuf_append_char(&b, '\n');
                }
        }
        if (!strbuf_ok(&b)) {
                strbuf_done(&b);
                return NULL;
        }
        return strbuf_steal(&b);
}

/* ---- values as Go's fmt %v prints them ----
 * Calico puts reflect values into its errors, so the text between the
 * quotes is fmt's rendering: slices as "[a b]", maps as "map[k:v]", struct
 * pointers as "&{f1 f2}", types with a String() method through it. Where Go
 * would print a pointer address (*int inside a struct), we print the value
 * instead: an address can never be matched and helps nobody. */

static void go_strlist(StrBuf *b, const StrList *l) {
        strbuf_append_char(b, '[');
        for (size_t i = 0; i < l->n; i++) {
                if (i)
                        strbuf_append_char(b, ' ');
                strbuf_append(b, l->v[i] ? l->v[i] : "");
        }
        strbuf_append_char(b, ']');
}

/* numorstring.Port.String(). */
static void go_port(StrBuf *b, const Port *p) {
        if (!isempty(p->name))
                strbuf_append(b, p->name);
        else if (p->min == p->max)
                strbuf_printf(b, "%u", p->min);
        else
                strbuf_printf(b, "%u:%u", p->min, p->max);
}

static void go_ports(StrBuf *b, const PortList *l) {
        strbuf_append_char(b, '[');
        for (size_t i = 0; i < l->n; i++) {
                if (i)
                        strbuf_append_char(b, ' ');
                go_port(b, &l->v[i]);
        }
        strbuf_append_char(b, ']');
}

/* fmt prints maps with their keys sorted, as Labels keeps them. */
static void go_map(StrBuf *b, const Labels *l) {
        strbuf_append(b, "map[");
        for (size_t i = 0; i < l->n; i++) {
                if (i)
                        strbuf_append_char(b, ' ');
                strbuf_printf(b, "%s:%s", l->pairs[i].key, l->pairs[i].value);
        }
        strbuf_append_char(b, ']');
}

/* numorstring.Protocol.String(); an unset EndpointPort protocol is Go's
 * zero value, the number 0. */
static void go_protocol(StrBuf *b, const Protocol *p) {
        if (!p->set || p->is_number)
                strbuf_printf(b, "%u", p->set ? p->number : 0);
        else
                strbuf_append(b, p->name ? p->name : "");
}

/* A *Protocol field: nil prints "<nil>", else String(). */
static void go_protocol_ptr(StrBuf *b, const Protocol *p) {
        if (!p->set)
                strbuf_append(b, "<nil>");
        else
                go_protocol(b, p);
}

static void go_opt_int(StrBuf *b, const OptInt *i) {
        if (i->set)
                strbuf_printf(b, "%lld", (long long)i->v);
        else
                strbuf_append(b, "<nil>");
}

static void go_icmp(StrBuf *b, const ICMPFields *f) {
        if (!f) {
                strbuf_append(b, "<nil>");
                return;
        }
        strbuf_append(b, "&{");
        go_opt_int(b, &f->type);
        strbuf_append_char(b, ' ');
        go_opt_int(b, &f->code);
        strbuf_append_char(b, '}');
}

static void go_service(StrBuf *b, const ServiceMatch *s) {
        if (!s)
                strbuf_append(b, "<nil>");
        else
                strbuf_printf(b, "&{%s %s}", s->name ? s->name : "", s->namespace ? s->namespace : "");
}

static void go_service_accounts(StrBuf *b, const ServiceAccountMatch *s) {
        if (!s) {
                strbuf_append(b, "<nil>");
                return;
        }
        strbuf_append(b, "&{");
        go_strlist(b, &s->names);
        strbuf_printf(b, " %s}", s->selector ? s->selector : "");
}

static void go_http(StrBuf *b, const HTTPMatch *h) {
        if (!h) {
                strbuf_append(b, "<nil>");
                return;
        }
        strbuf_append(b, "&{");
        go_strlist(b, &h->methods);
        strbuf_append(b, " [");
        for (size_t i = 0; i < h->paths.n; i++)
                strbuf_printf(b, "%s{%s %s}", i ? " " : "", h->paths.v[i].exact ? h->paths.v[i].exact : "",
                              h->paths.v[i].prefix ? h->paths.v[i].prefix : "");
        strbuf_append(b, "]}");
}

static const char *str_or_empty(const char *s) {
        return s ? s : "";
}

/* api.EntityRule, fields in Go order. */
static void go_entity(StrBuf *b, const EntityRule *e) {
        strbuf_append_char(b, '{');
        go_strlist(b, &e->nets);
        strbuf_printf(b, " %s %s ", str_or_empty(e->selector), str_or_empty(e->namespace_selector));
        go_service(b, e->services);
        strbuf_append_char(b, ' ');
        go_ports(b, &e->ports);
        strbuf_append_char(b, ' ');
        go_strlist(b, &e->not_nets);
        strbuf_printf(b, " %s ", str_or_empty(e->not_selector));
        go_ports(b, &e->not_ports);
        strbuf_append_char(b, ' ');
        go_service_accounts(b, e->service_accounts);
        strbuf_append_char(b, '}');
}

/* api.Rule, fields in Go order. */
static void go_rule(StrBuf *b, const Rule *r) {
        strbuf_printf(b, "{%s ", str_or_empty(r->action));
        go_opt_int(b, &r->ip_version);
        strbuf_append_char(b, ' ');
        go_protocol_ptr(b, &r->protocol);
        strbuf_append_char(b, ' ');
        go_icmp(b, r->icmp);
        strbuf_append_char(b, ' ');
        go_protocol_ptr(b, &r->not_protocol);
        strbuf_append_char(b, ' ');
        go_icmp(b, r->not_icmp);
        strbuf_append_char(b, ' ');
        go_entity(b, &r->source);
        strbuf_append_char(b, ' ');
        go_entity(b, &r->destination);
        strbuf_append_char(b, ' ');
        go_http(b, r->http);
        strbuf_append_char(b, ' ');
        if (r->metadata) {
                strbuf_append(b, "&{");
                go_map(b, &r->metadata->annotations);
                strbuf_append_char(b, '}');
        } else
                strbuf_append(b, "<nil>");
        strbuf_append_char(b, '}');
}

static void go_rules(StrBuf *b, const RuleList *l) {
        strbuf_append_char(b, '[');
        for (size_t i = 0; i < l->n; i++) {
                if (i)
                        strbuf_append_char(b, ' ');
                go_rule(b, &l->v[i]);
        }
        strbuf_append_char(b, ']');
}

/* strconv.FormatFloat(v, 'g', -1, 64), which is what %v prints: the
 * shortest digits that read back exactly, in exponent form when the
 * exponent is < -4 or >= 6 (Go uses 6 for the shortest format). */
static void go_float(StrBuf *b, double v) {
        char buf[64];
        int digits, exp;

        for (digits = 1; digits < 17; digits++) {
                snprintf(buf, sizeof(buf), "%.*e", digits - 1, v);
                if (strtod(buf, NULL) == v)
                        break;
        }
        snprintf(buf, sizeof(buf), "%.*e", digits - 1, v);
        exp = atoi(strchr(buf, 'e') + 1);
        if (exp < -4 || exp >= 6)
                strbuf_append(b, buf);
        else
                strbuf_printf(b, "%.*f", digits - 1 - exp > 0 ? digits - 1 - exp : 0, v);
}

/* api.StagedGlobalNetworkPolicySpec, fields in Go order (Order, a
 * pointer, printed as its value). */
static void go_sgnp_spec(StrBuf *b, const PolicySpec *s) {
        strbuf_printf(b, "{%s %s ", str_or_empty(s->staged_action), str_or_empty(s->tier));
        if (s->order.set)
                go_float(b, s->order.v);
        else
                strbuf_append(b, "<nil>");
        strbuf_append_char(b, ' ');
        go_rules(b, &s->ingress);
        strbuf_append_char(b, ' ');
        go_rules(b, &s->egress);
        strbuf_printf(b, " %s ", str_or_empty(s->selector));
        go_strlist(b, &s->types);
        strbuf_printf(b, " %s %s %s %s %s ", s->do_not_track ? "true" : "false", s->pre_dnat ? "true" : "false",
                      s->apply_on_forward ? "true" : "false", str_or_empty(s->service_account_selector),
                      str_or_empty(s->namespace_selector));
        go_strlist(b, &s->performance_hints);
        strbuf_append_char(b, '}');
}

/* ---- the walker ---- */

typedef struct Validator {
        ValidationErrors *out;
        StrBuf path; /* JSON path of the struct being checked */
        int error;   /* -ENOMEM once anything failed to allocate */
} Validator;

static size_t path_push(Validator *v, const char *key) {
        return strbuf_push_key(&v->path, key);
}

static size_t path_push_index(Validator *v, size_t i) {
        return strbuf_push_index(&v->path, i);
}

static void path_pop(Validator *v, size_t old) {
        strbuf_truncate(&v->path, old);
}

/* The current path plus sub ("key", "key.sub" or "[i]"), or just the
 * current path when sub is NULL. */
static char *path_at(Validator *v, const char *sub) {
        StrBuf b = STRBUF_INIT;

        strbuf_append(&b, strbuf_str(&v->path) ? strbuf_str(&v->path) : "");
        if (sub) {
                if (b.len && sub[0] != '[')
                        strbuf_append_char(&b, '.');
                strbuf_append(&b, sub);
        }
        if (!strbuf_ok(&b)) {
                strbuf_done(&b);
                return NULL;
        }
        return strbuf_steal(&b);
}

static bool dup_ok(const char *s, char **ret) {
        *ret = NULL;
        if (!s)
                return true;
        *ret = strdup(s);
        return *ret != NULL;
}

/* Records one errored field; value is taken over (may be NULL for Go's
 * nil). On allocation failure the validator remembers -ENOMEM. */
static void report_take(Validator *v, const char *sub, const char *field, char *value, const char *reason) {
        char *p = NULL, *f = NULL, *r = NULL;

        if (v->error < 0) {
                free(value);
                return;
        }
        p = path_at(v, sub);
        if (!p || !dup_ok(field, &f) || !dup_ok(reason, &r)) {
                free(p);
                free(f);
                free(value);
                v->error = -ENOMEM;
                return;
        }
        if (errors_append(v->out, p, f, value, r) < 0)
                v->error = -ENOMEM;
}

static void report(Validator *v, const char *sub, const char *field, const char *value, const char *reason) {
        char *copy = NULL;

        if (value && !(copy = strdup(value))) {
                v->error = -ENOMEM;
                return;
        }
        report_take(v, sub, field, copy, reason);
}

static void reportf(Validator *v, const char *sub, const char *field, const char *value, const char *fmt, ...)
        _printf_(5, 6);
static void reportf(Validator *v, const char *sub, const char *field, const char *value, const char *fmt, ...) {
        StrBuf b = STRBUF_INIT;
        va_list ap;

        va_start(ap, fmt);
        strbuf_vprintf(&b, fmt, ap);
        va_end(ap);
        if (!strbuf_ok(&b)) {
                strbuf_done(&b);
                v->error = -ENOMEM;
                return;
        }
        report(v, sub, field, value, strbuf_str(&b));
        strbuf_done(&b);
}

/* A value rendered into a StrBuf by one of the go_* printers. */
static void report_buf(Validator *v, const char *sub, const char *field, StrBuf *value, const char *reason) {
        if (!strbuf_ok(value)) {
                strbuf_done(value);
                v->error = -ENOMEM;
                return;
        }
        report_take(v, sub, field, strbuf_steal(value), reason);
}

/* A go-playground tag failure, in the words extractReason() builds. */
static void report_tag(Validator *v, const char *sub, const char *field, const char *value, const char *tag) {
        reportf(v, sub, field, value, "Reason: failed to validate Field: %s because of Tag: %s ", field, tag);
}

static void report_tag_buf(Validator *v, const char *sub, const char *field, StrBuf *value, const char *tag) {
        StrBuf reason = STRBUF_INIT;

        strbuf_printf(&reason, "Reason: failed to validate Field: %s because of Tag: %s ", field, tag);
        if (!strbuf_ok(&reason)) {
                strbuf_done(&reason);
                strbuf_done(value);
                v->error = -ENOMEM;
                return;
        }
        report_buf(v, sub, field, value, strbuf_str(&reason));
        strbuf_done(&reason);
}

/* Each line of a syntax_check_*() message is one errored field. */
static void report_lines(Validator *v, const char *sub, const char *field, const char *value, const char *msgs) {
        const char *p = msgs;

        while (p && *p) {
                size_t n = strcspn(p, "\n");
                char *line = strndup(p, n);

                if (!line) {
                        v->error = -ENOMEM;
                        return;
                }
                report(v, sub, field, value, line);
                free(line);
                p += n;
                if (*p == '\n')
                        p++;
        }
}

/* Runs a syntax_check_*() function and reports its messages. */
static void check_syntax(Validator *v, int (*check)(const char *, char **), const char *text, const char *sub,
                         const char *field, const char *value) {
        _cleanup_free_ char *msg = NULL;
        int r = check(text, &msg);

        if (r == -ENOMEM)
                v->error = -ENOMEM;
        else if (r < 0)
                report_lines(v, sub, field, value, msg);
}

/* ---- primitive rules ---- */

static const char *str(const char *s) {
        return s ? s : "";
}

/* The "selector" tag: the text must parse. */
static int selector_valid(const char *text, bool *ret) {
        _cleanup_(selector_freep) Selector *s = NULL;
        int r = selector_parse(str(text), &s, NULL);

        if (r == -ENOMEM)
                return r;
        *ret = r >= 0;
        return 0;
}

static void check_selector_tag(Validator *v, const char *text, const char *sub, const char *field) {
        bool ok;

        if (isempty(text))
                return;
        if (selector_valid(text, &ok) < 0)
                v->error = -ENOMEM;
        else if (!ok)
                report_tag(v, sub, field, text, "selector");
}

/* The "net" tag (validateIPNetwork): cnet.ParseCIDROrIP then "the address
 * as written is the network address". A bare IP counts as a full-length
 * CIDR; an empty string unmarshals to a nil IP that equals its own nil
 * network, so it passes too (scanNets rejects it later). */
static bool net_tag_valid(const char *s) {
        IPNet n;
        IPAddr a;
        bool masked;

        if (ipnet_parse_go(s, &n, &masked) == 0)
                return masked;
        if (isempty(s))
                return true;
        return ipaddr_parse_go(s, &a);
}

/* strconv.ParseUint(s, 10, 8). */
static bool parse_uint8(const char *s, unsigned *ret) {
        unsigned v = 0;

        if (isempty(s))
                return false;
        for (const char *p = s; *p; p++) {
                if (*p < '0' || *p > '9')
                        return false;
                v = v * 10 + (unsigned)(*p - '0');
                if (v > 255)
                        return false;
        }
        *ret = v;
        return true;
}

/* Protocol.NumValue(): the number, or a name that parses as a uint8. An
 * unset protocol is Go's zero value, the number 0. */
static bool protocol_num_value(const Protocol *p, unsigned *ret) {
        if (!p->set || p->is_number) {
                *ret = p->set ? p->number : 0;
                return true;
        }
        return parse_uint8(p->name, ret);
}

/* Protocol.SupportsPorts(): 6, 17, 132, or the names TCP, UDP, SCTP in
 * upper or (v1) lower case. */
static bool protocol_supports_ports(const Protocol *p) {
        static const char *const names[] = { "TCP", "UDP", "SCTP", "tcp", "udp", "sctp" };
        unsigned num;

        if (protocol_num_value(p, &num))
                return num == 6 || num == 17 || num == 132;
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (streq_ptr(p->name, names[i]))
                        return true;
        return false;
}

/* Go struct equality with numorstring.ProtocolFromString(name): a string
 * protocol spelled exactly so. A number never equals a name, which is why
 * v3.32 rejects "protocol: 1" next to icmp fields. */
static bool protocol_is(const Protocol *p, const char *name) {
        return p->set && !p->is_number && streq_ptr(p->name, name);
}

static bool ports_all_named(const PortList *l) {
        for (size_t i = 0; i < l->n; i++)
                if (isempty(l->v[i].name))
                        return false;
        return true;
}

/* Characters as utf8.RuneCountInString counts them: each valid sequence,
 * and each byte of an invalid one, is one. CRD maxLength counts these. */
static size_t rune_count(const char *s) {
        size_t n = 0;
        const unsigned char *p = (const unsigned char *)str(s);

        while (*p) {
                size_t len = *p < 0x80           ? 1
                             : (*p & 0xe0) == 0xc0 ? 2
                             : (*p & 0xf0) == 0xe0 ? 3
                             : (*p & 0xf8) == 0xf0 ? 4
                                                   : 0;
                size_t i;

                for (i = 1; i < len; i++)
                        if ((p[i] & 0xc0) != 0x80)
                                break;
                p += len && i == len ? len : 1;
                n++;
        }
        return n;
}

/* ---- ObjectMeta ---- */

/* Appends ".key" to a labels/annotations path when node_find_path can
 * follow it (no '.' or '['), so errors point at the entry itself. */
static char *map_entry_path(const char *map, const char *key) {
        StrBuf b = STRBUF_INIT;

        strbuf_append(&b, map);
        if (!strpbrk(key, ".[]") && *key) {
                strbuf_append_char(&b, '.');
                strbuf_append(&b, key);
        }
        if (!strbuf_ok(&b)) {
                strbuf_done(&b);
                return NULL;
        }
        return strbuf_steal(&b);
}

/* validateObjectMetaAnnotations(): each key, lower-cased, must be a
 * qualified name (one error per Kubernetes message); then keys plus values
 * may total at most 256 KiB. Also used for rule metadata. */
static void check_annotations(Validator *v, const Labels *a, const char *sub) {
        size_t total = 0;

        for (size_t i = 0; i < a->n; i++) {
                _cleanup_free_ char *p = map_entry_path(sub, a->pairs[i].key);

                if (!p) {
                        v->error = -ENOMEM;
                        return;
                }
                check_syntax(v, syntax_check_annotation_key, a->pairs[i].key, p, "Metadata.Annotations (key)",
                             a->pairs[i].key);
                total += strlen(a->pairs[i].key) + strlen(a->pairs[i].value);
        }
        if (total > ANNOTATIONS_MAX_BYTES) {
                StrBuf val = STRBUF_INIT, reason = STRBUF_INIT;

                go_map(&val, a);
                strbuf_printf(&reason, "total size of annotations is too large by %zu bytes",
                              total - ANNOTATIONS_MAX_BYTES);
                if (strbuf_ok(&reason))
                        report_buf(v, sub, "Metadata.Annotations (key)", &val, strbuf_str(&reason));
                else {
                        strbuf_done(&val);
                        v->error = -ENOMEM;
                }
                strbuf_done(&reason);
        }
}

/* validateObjectMetaLabels(): key as a qualified name, value as a label
 * value; one error per message. Go walks the map in random order; we go
 * in key order. */
static void check_labels(Validator *v, const Labels *l) {
        for (size_t i = 0; i < l->n; i++) {
                _cleanup_free_ char *p = map_entry_path("metadata.labels", l->pairs[i].key);

                if (!p) {
                        v->error = -ENOMEM;
                        return;
                }
                check_syntax(v, syntax_check_label_key, l->pairs[i].key, p, "Metadata.Labels (label)",
                             l->pairs[i].key);
                check_syntax(v, syntax_check_label_value, l->pairs[i].value, p, "Metadata.Labels (value)",
                             l->pairs[i].value);
        }
}

/* metadata.name messages: the generic ObjectMeta pair (kind_specific
 * false) or only the lines a Tier/GNP/NP adds after them. syntax.c
 * returns both groups in one list, generic first. */
static void check_name(Validator *v, const Resource *r, bool kind_specific) {
        _cleanup_free_ char *generic = NULL, *all = NULL;
        const char *name = str(r->meta.name), *rest;
        int k;

        k = syntax_check_resource_name("", name, &generic);
        if (k == -ENOMEM) {
                v->error = k;
                return;
        }
        if (!kind_specific) {
                report_lines(v, "metadata.name", "Metadata.Name", name, generic);
                return;
        }
        k = syntax_check_resource_name(kind_info(r->kind)->name, name, &all);
        if (k == -ENOMEM) {
                v->error = k;
                return;
        }
        rest = all;
        for (const char *g = generic; rest && g && *g;) {
                /* skip as many lines of `all` as `generic` has */
                g += strcspn(g, "\n");
                if (*g)
                        g++;
                rest += strcspn(rest, "\n");
                if (*rest)
                        rest++;
        }
        report_lines(v, "metadata.name", "Metadata.Name", name, rest);
}

/* The ObjectMeta struct check every kind gets (validateObjectMeta). */
static void check_object_meta(Validator *v, const Resource *r) {
        check_name(v, r, false);
        check_annotations(v, &r->meta.annotations, "metadata.annotations");
        check_labels(v, &r->meta.labels);
}

/* What Tier, GNP and NP checks repeat about their metadata in their own
 * struct check (so a bad label is reported twice, as Calico does). */
static void check_kind_meta(Validator *v, const Resource *r) {
        check_name(v, r, true);
        check_annotations(v, &r->meta.annotations, "metadata.annotations");
        check_labels(v, &r->meta.labels);
}

/* ---- shared struct checks ---- */

/* validateProtocol(): 1..255 or one of the six names, exact case. */
static void check_protocol(Validator *v, const Protocol *p, const char *sub) {
        static const char *const names[] = { "TCP", "UDP", "ICMP", "ICMPv6", "SCTP", "UDPLite" };
        unsigned num;

        if (protocol_num_value(p, &num)) {
                if (num == 0)
                        report(v, sub, "Protocol", "0", "protocol number invalid");
                return;
        }
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (streq(p->name, names[i]))
                        return;
        report(v, sub, "Protocol", p->name, "protocol name invalid");
}

/* numorstring.Port: the portName tag on named ports, then validatePort(). */
static void check_port(Validator *v, const Port *p, const char *sub) {
        char buf[16];

        if (!isempty(p->name) && !syntax_is_port_name(p->name))
                report_tag(v, sub, "PortName", p->name, "portName");
        if (p->min > p->max) {
                snprintf(buf, sizeof(buf), "%u", p->max);
                report(v, sub, "Port", buf, "port range invalid");
        }
        if (!isempty(p->name)) {
                if (p->min != 0 || p->max != 0)
                        report(v, sub, "Port", p->name,
                               "named port invalid, if name is specified, min and max should be 0");
        } else if (p->min < 1) {
                snprintf(buf, sizeof(buf), "%u", p->min);
                report(v, sub, "Port", buf, "port range invalid, port number must be between 1 and 65535");
        } else if (p->max < 1) {
                snprintf(buf, sizeof(buf), "%u", p->max);
                report(v, sub, "Port", buf, "port range invalid, port number must be between 1 and 65535");
        }
}

static void check_ports(Validator *v, const PortList *l, const char *key) {
        size_t old = path_push(v, key);

        for (size_t i = 0; i < l->n; i++) {
                char sub[32];

                snprintf(sub, sizeof(sub), "[%zu]", i);
                check_port(v, &l->v[i], sub);
        }
        path_pop(v, old);
}

/* ---- HostEndpoint (H1-H5) ---- */

/* EndpointPort: Name (portName tag, required), Protocol, Port (gt=0),
 * then the struct check (H4). */
static void check_endpoint_port(Validator *v, const EndpointPort *p) {
        StrBuf val = STRBUF_INIT;

        if (!syntax_is_port_name(str(p->name)))
                report_tag(v, "name", "Name", str(p->name), "portName");
        check_protocol(v, &p->protocol, "protocol");
        if (p->port == 0)
                report_tag(v, "port", "Port", "0", "gt");
        if (!protocol_supports_ports(&p->protocol)) {
                go_protocol(&val, &p->protocol);
                report_buf(v, "protocol", "EndpointPort.Protocol", &val,
                           "EndpointPort protocol does not support ports.");
        }
}

static void check_hep_spec(Validator *v, const HostEndpointSpec *s) {
        size_t old = path_push(v, "spec");

        /* H3: field tags, in Go field order. */
        if (!isempty(s->node) && !syntax_is_resource_name(s->node))
                report_tag(v, "node", "Node", s->node, "name");
        if (!isempty(s->interface_name) && !syntax_is_interface_name(s->interface_name))
                report_tag(v, "interfaceName", "InterfaceName", s->interface_name, "interface");
        for (size_t i = 0; i < s->expected_ips.n; i++) {
                IPAddr a;
                char sub[48], field[48];

                if (ipaddr_parse_go(str(s->expected_ips.v[i]), &a))
                        continue;
                snprintf(sub, sizeof(sub), "expectedIPs[%zu]", i);
                snprintf(field, sizeof(field), "ExpectedIPs[%zu]", i);
                report_tag(v, sub, field, str(s->expected_ips.v[i]), "ip");
        }
        for (size_t i = 0; i < s->profiles.n; i++) {
                char sub[48], field[48];

                if (syntax_is_resource_name(str(s->profiles.v[i])))
                        continue;
                snprintf(sub, sizeof(sub), "profiles[%zu]", i);
                snprintf(field, sizeof(field), "Profiles[%zu]", i);
                report_tag(v, sub, field, str(s->profiles.v[i]), "name");
        }
        for (size_t i = 0; i < s->ports.n; i++) {
                size_t o = path_push(v, "ports");

                path_push_index(v, i);
                check_endpoint_port(v, &s->ports.v[i]);
                path_pop(v, o);
        }

        /* H1, H2: both are reported under InterfaceName (sic). */
        if (isempty(s->interface_name) && s->expected_ips.n == 0)
                report(v, "interfaceName", "InterfaceName", "", "no interface or expected IPs have been specified");
        if (isempty(s->node))
                report(v, "node", "InterfaceName", "", "no node has been specified");
        path_pop(v, old);
}

/* ---- rules (R1-R11, E1-E3) ---- */

/* ICMPFields: Type gte=0,lte=254; Code gte=0,lte=255; then R5. */
static void check_icmp(Validator *v, const ICMPFields *f, const char *key) {
        size_t old = path_push(v, key);
        char buf[32];

        if (f->type.set && (f->type.v < 0 || f->type.v > 254)) {
                snprintf(buf, sizeof(buf), "%lld", (long long)f->type.v);
                report_tag(v, "type", "Type", buf, f->type.v < 0 ? "gte" : "lte");
        }
        if (f->code.set && (f->code.v < 0 || f->code.v > 255)) {
                snprintf(buf, sizeof(buf), "%lld", (long long)f->code.v);
                report_tag(v, "code", "Code", buf, f->code.v < 0 ? "gte" : "lte");
        }
        if (f->code.set && !f->type.set) {
                snprintf(buf, sizeof(buf), "%lld", (long long)f->code.v);
                report(v, "code", "Code", buf, "ICMP code specified without an ICMP type");
        }
        path_pop(v, old);
}

static void check_nets_tag(Validator *v, const StrList *nets, const char *key, const char *gofield) {
        for (size_t i = 0; i < nets->n; i++) {
                char sub[48], field[48];

                if (net_tag_valid(str(nets->v[i])))
                        continue;
                snprintf(sub, sizeof(sub), "%s[%zu]", key, i);
                snprintf(field, sizeof(field), "%s[%zu]", gofield, i);
                report_tag(v, sub, field, str(nets->v[i]), "net");
        }
}

/* E1-E3: validateEntityRule(). */
static void check_entity_struct(Validator *v, const EntityRule *e) {
        StrBuf val;

        /* E1: a plain substring test, so any mention of global() fails. */
        if (e->selector && strstr(e->selector, "global()"))
                report(v, "selector", "Selector field", e->selector, MSG_GLOBAL_ENTITY_ONLY);

        /* E2: global() must be the namespaceSelector's only token. */
        if (e->namespace_selector && strstr(e->namespace_selector, "global(") &&
            !streq(e->namespace_selector, "global()")) {
                bool only = false;
                int r = selector_tokens_global_only(e->namespace_selector, &only);

                if (r == -ENOMEM)
                        v->error = r;
                else if (r < 0 || !only)
                        report(v, "namespaceSelector", "NamespaceSelector field", e->namespace_selector,
                               "global() cannot be combined with other selectors");
        }

        /* E3: a service match excludes every other way to pick peers. */
        if (!e->services)
                return;
        if (isempty(e->services->name)) {
                val = (StrBuf) STRBUF_INIT;
                go_service(&val, e->services);
                report_buf(v, "services", "Services field", &val, "must specify a service name");
        }
        if (!isempty(e->namespace_selector)) {
                val = (StrBuf) STRBUF_INIT;
                go_service(&val, e->services);
                report_buf(v, "services", "Services field", &val,
                           "cannot specify NamespaceSelector and Services on the same rule");
        }
        if (!isempty(e->selector) || !isempty(e->not_selector)) {
                val = (StrBuf) STRBUF_INIT;
                go_service(&val, e->services);
                report_buf(v, "services", "Services field", &val,
                           "cannot specify Selector/NotSelector and Services on the same rule");
        }
        if (e->service_accounts) {
                val = (StrBuf) STRBUF_INIT;
                go_service(&val, e->services);
                report_buf(v, "services", "Services field", &val,
                           "cannot specify ServiceAccounts and Services on the same rule");
        }
        if (e->nets.n || e->not_nets.n) {
                val = (StrBuf) STRBUF_INIT;
                go_service(&val, e->services);
                report_buf(v, "services", "Services field", &val,
                           "cannot specify Nets/NotNets and Services on the same rule");
        }
}

/* EntityRule: field tags in Go order (Nets, Selector, NamespaceSelector,
 * Services, Ports, NotNets, NotSelector, NotPorts, ServiceAccounts), then
 * the struct check. */
static void check_entity(Validator *v, const EntityRule *e, const char *key) {
        size_t old = path_push(v, key);

        check_nets_tag(v, &e->nets, "nets", "Nets");
        check_selector_tag(v, e->selector, "selector", "Selector");
        check_selector_tag(v, e->namespace_selector, "namespaceSelector", "NamespaceSelector");
        if (e->services) {
                if (!isempty(e->services->name) && !syntax_is_resource_name(e->services->name))
                        report_tag(v, "services.name", "Name", e->services->name, "name");
                if (!isempty(e->services->namespace) && !syntax_is_resource_name(e->services->namespace))
                        report_tag(v, "services.namespace", "Namespace", e->services->namespace, "name");
        }
        check_ports(v, &e->ports, "ports");
        check_nets_tag(v, &e->not_nets, "notNets", "NotNets");
        check_selector_tag(v, e->not_selector, "notSelector", "NotSelector");
        check_ports(v, &e->not_ports, "notPorts");
        if (e->service_accounts)
                check_selector_tag(v, e->service_accounts->selector, "serviceAccounts.selector", "Selector");
        check_entity_struct(v, e);
        path_pop(v, old);
}

/* R9: validateHTTPRule(). */
static void check_http(Validator *v, const HTTPMatch *h) {
        size_t old = path_push(v, "http");

        for (size_t i = 0; i < h->methods.n; i++) {
                bool dup = false;

                for (size_t j = 0; j < i && !dup; j++)
                        dup = streq(str(h->methods.v[i]), str(h->methods.v[j]));
                if (dup) {
                        StrBuf val = STRBUF_INIT, reason = STRBUF_INIT;

                        go_strlist(&val, &h->methods);
                        strbuf_append(&reason, "Invalid methods (duplicates): ");
                        go_strlist(&reason, &h->methods);
                        if (strbuf_ok(&reason))
                                report_buf(v, "methods", "Methods", &val, strbuf_str(&reason));
                        else {
                                strbuf_done(&val);
                                v->error = -ENOMEM;
                        }
                        strbuf_done(&reason);
                        break;
                }
        }

        for (size_t i = 0; i < h->paths.n; i++) {
                const HTTPPath *p = &h->paths.v[i];
                const char *text = !isempty(p->exact) ? p->exact : str(p->prefix);
                StrBuf val = STRBUF_INIT, reason = STRBUF_INIT;
                bool bad = true;

                if (!isempty(p->exact) && !isempty(p->prefix))
                        strbuf_append(&reason, "Invalid path match. Both 'exact' and 'prefix' are set");
                else if (isempty(text))
                        strbuf_append(&reason, "Invalid path match. Either 'exact' or 'prefix' must be set");
                else if (text[0] != '/' || strpbrk(text, "? #"))
                        strbuf_printf(&reason, "Invalid path %s. (must start with `/` and not contain `?` or `#`",
                                      text);
                else
                        bad = false;
                if (bad) {
                        char sub[32];

                        snprintf(sub, sizeof(sub), "paths[%zu]", i);
                        strbuf_append_char(&val, '[');
                        for (size_t j = 0; j < h->paths.n; j++)
                                strbuf_printf(&val, "%s{%s %s}", j ? " " : "", str(h->paths.v[j].exact),
                                              str(h->paths.v[j].prefix));
                        strbuf_append_char(&val, ']');
                        if (strbuf_ok(&reason))
                                report_buf(v, sub, "Paths", &val, strbuf_str(&reason));
                        else {
                                strbuf_done(&val);
                                v->error = -ENOMEM;
                        }
                        strbuf_done(&reason);
                        break; /* validateHTTPPaths stops at the first bad path */
                }
                strbuf_done(&reason);
                strbuf_done(&val);
        }
        path_pop(v, old);
}

/* R6, R7: scanNets() over one of the four net lists. seen_v4/seen_v6
 * carry what earlier lists contained. */
static void scan_nets(Validator *v, const Rule *rule, const StrList *nets, const char *key, const char *field,
                      bool negated, bool *seen_v4, bool *seen_v6) {
        bool v4 = false, v6 = false;
        StrBuf val;

        for (size_t i = 0; i < nets->n; i++) {
                const char *n = str(nets->v[i]);
                char sub[48];
                IPNet net;

                snprintf(sub, sizeof(sub), "%s[%zu]", key, i);
                if (ipnet_parse_go(n, &net, NULL) < 0) {
                        report(v, sub, field, n, "invalid CIDR");
                        continue;
                }
                v4 = v4 || net.addr.family == AF_INET;
                v6 = v6 || net.addr.family == AF_INET6;
                /* R7: negating everything matches nothing. */
                if (negated && ipnet_is_catch_all(n))
                        report(v, sub, field, n,
                               "catch-all CIDR in negation creates logical contradiction (matches no traffic)");
        }
        if (rule->ip_version.set && ((v4 && rule->ip_version.v != 4) || (v6 && rule->ip_version.v != 6))) {
                /* Calico prints the source nets here whichever list it was. */
                val = (StrBuf) STRBUF_INIT;
                go_strlist(&val, &rule->source.nets);
                report_buf(v, key, field, &val, "rule IP version doesn't match CIDR version");
        }
        if ((v4 && *seen_v6) || (v6 && *seen_v4) || (v4 && v6)) {
                val = (StrBuf) STRBUF_INIT;
                go_strlist(&val, nets);
                report_buf(v, key, field, &val, "rule contains both IPv4 and IPv6 CIDRs");
        }
        *seen_v4 = *seen_v4 || v4;
        *seen_v6 = *seen_v6 || v6;
}

/* R1, R2: ports need a protocol that has ports. */
static void check_rule_ports(Validator *v, const Rule *r) {
        const struct {
                const PortList *l;
                const char *sub, *field;
        } lists[] = {
                { &r->source.ports, "source.ports", "Source.Ports" },
                { &r->source.not_ports, "source.notPorts", "Source.NotPorts" },
                { &r->destination.ports, "destination.ports", "Destination.Ports" },
                { &r->destination.not_ports, "destination.notPorts", "Destination.NotPorts" },
        };

        for (size_t i = 0; i < ELEMENTSOF(lists); i++) {
                StrBuf val = STRBUF_INIT;
                const char *msg = NULL;

                if (!r->protocol.set && !ports_all_named(lists[i].l))
                        msg = MSG_NUMERIC_PORTS_NEED_PROTO; /* R1: named ports alone are fine */
                else if (r->protocol.set && !protocol_supports_ports(&r->protocol) && lists[i].l->n > 0)
                        msg = MSG_PORTS_NEED_PROTO; /* R2 */
                if (!msg)
                        continue;
                go_ports(&val, lists[i].l);
                report_buf(v, lists[i].sub, lists[i].field, &val, msg);
        }
}

/* validateRule(): R1-R4, R6-R8, R10, in Calico's order. */
static void check_rule_struct(Validator *v, const Rule *r) {
        bool seen_v4 = false, seen_v6 = false;
        StrBuf val;

        check_rule_ports(v, r);

        /* R8 (protocol half): HTTP matches only make sense over TCP. */
        if (r->http && r->protocol.set && !protocol_is(&r->protocol, "TCP")) {
                val = (StrBuf) STRBUF_INIT;
                go_protocol(&val, &r->protocol);
                report_buf(v, "protocol", "Protocol", &val,
                           "rules that specify HTTP fields must set protocol to TCP or empty");
        }

        /* R3: icmp needs the protocol *name* ICMP or ICMPv6. */
        if (r->icmp && !protocol_is(&r->protocol, "ICMP") && !protocol_is(&r->protocol, "ICMPv6")) {
                val = (StrBuf) STRBUF_INIT;
                go_icmp(&val, r->icmp);
                report_buf(v, "icmp", "ICMP", &val, "rules that specify ICMP fields must set protocol to ICMP");
        }

        /* R4: the ICMP flavour fixes the IP version. Calico prints the icmp
         * field as the value. */
        if ((protocol_is(&r->protocol, "ICMP") || protocol_is(&r->not_protocol, "ICMP")) && r->ip_version.set &&
            r->ip_version.v != 4) {
                val = (StrBuf) STRBUF_INIT;
                go_icmp(&val, r->icmp);
                report_buf(v, "ipVersion", "IPVersion", &val, "must set ipversion to '4' with protocol icmp");
        }
        if ((protocol_is(&r->protocol, "ICMPv6") || protocol_is(&r->not_protocol, "ICMPv6")) && r->ip_version.set &&
            r->ip_version.v != 6) {
                val = (StrBuf) STRBUF_INIT;
                go_icmp(&val, r->icmp);
                report_buf(v, "ipVersion", "IPVersion", &val, "must set ipversion to '6' with protocol icmpv6");
        }

        /* R6, R7 */
        scan_nets(v, r, &r->source.nets, "source.nets", "Source.Nets", false, &seen_v4, &seen_v6);
        scan_nets(v, r, &r->source.not_nets, "source.notNets", "Source.NotNets", true, &seen_v4, &seen_v6);
        scan_nets(v, r, &r->destination.nets, "destination.nets", "Destination.Nets", false, &seen_v4, &seen_v6);
        scan_nets(v, r, &r->destination.not_nets, "destination.notNets", "Destination.NotNets", true, &seen_v4,
                  &seen_v6);

        /* R8: application-layer matches only on Allow rules. */
        if (r->http && !streq(str(r->action), "Allow")) {
                val = (StrBuf) STRBUF_INIT;
                go_http(&val, r->http);
                report_buf(v, "http", "HTTP", &val, "only valid for Allow rules");
        }

        /* R10: a service destination brings its own ports. */
        if (r->destination.services && r->destination.ports.n) {
                val = (StrBuf) STRBUF_INIT;
                go_ports(&val, &r->destination.ports);
                report_buf(v, "destination.ports", "Destination.Ports", &val,
                           "cannot specify ports with a service selector");
        }
        if (r->destination.services && r->destination.not_ports.n) {
                val = (StrBuf) STRBUF_INIT;
                go_ports(&val, &r->destination.not_ports);
                report_buf(v, "destination.notPorts", "Destination.NotPorts", &val,
                           "cannot specify notports with a service selector");
        }
}

/* One Rule: R11 field tags and the nested structs in Go field order, then
 * validateRule(). */
static void check_rule(Validator *v, const Rule *r) {
        static const char *const actions[] = { "Allow", "Deny", "Log", "Pass" };
        bool action_ok = false;

        for (size_t i = 0; i < ELEMENTSOF(actions); i++)
                action_ok = action_ok || streq(str(r->action), actions[i]);
        if (!action_ok)
                report_tag(v, "action", "Action", str(r->action), "action");
        if (r->ip_version.set && r->ip_version.v != 4 && r->ip_version.v != 6) {
                char buf[32];

                snprintf(buf, sizeof(buf), "%lld", (long long)r->ip_version.v);
                report_tag(v, "ipVersion", "IPVersion", buf, "ipVersion");
        }
        if (r->protocol.set)
                check_protocol(v, &r->protocol, "protocol");
        if (r->icmp)
                check_icmp(v, r->icmp, "icmp");
        if (r->not_protocol.set)
                check_protocol(v, &r->not_protocol, "notProtocol");
        if (r->not_icmp)
                check_icmp(v, r->not_icmp, "notICMP");
        check_entity(v, &r->source, "source");
        check_entity(v, &r->destination, "destination");
        if (r->http)
                check_http(v, r->http);
        if (r->metadata)
                check_annotations(v, &r->metadata->annotations, "metadata.annotations");
        check_rule_struct(v, r);
}

static void check_rule_list(Validator *v, const RuleList *l, const char *key) {
        size_t old = path_push(v, key);

        for (size_t i = 0; i < l->n; i++) {
                size_t o = path_push_index(v, i);

                check_rule(v, &l->v[i]);
                path_pop(v, o);
        }
        path_pop(v, old);
}

/* ---- GlobalNetworkPolicy and NetworkPolicy (G1-G9) ---- */

/* Field tags of the policy spec in Go order: Tier, Ingress, Egress,
 * Selector, Types, [ServiceAccountSelector, NamespaceSelector for GNP
 * after the flags], PerformanceHints. */
static void check_policy_fields(Validator *v, const PolicySpec *s, bool global) {
        if (!isempty(s->tier) && !syntax_is_resource_name(s->tier))
                report_tag(v, "tier", "Tier", s->tier, "name");
        check_rule_list(v, &s->ingress, "ingress");
        check_rule_list(v, &s->egress, "egress");
        check_selector_tag(v, s->selector, "selector", "Selector");
        /* G5 (tag half): each type must be Ingress or Egress. */
        for (size_t i = 0; i < s->types.n; i++) {
                char sub[32], field[32];

                if (streq(str(s->types.v[i]), "Ingress") || streq(str(s->types.v[i]), "Egress"))
                        continue;
                snprintf(sub, sizeof(sub), "types[%zu]", i);
                snprintf(field, sizeof(field), "Types[%zu]", i);
                report_tag(v, sub, field, str(s->types.v[i]), "policyType");
        }
        check_selector_tag(v, s->service_account_selector, "serviceAccountSelector", "ServiceAccountSelector");
        if (global)
                check_selector_tag(v, s->namespace_selector, "namespaceSelector", "NamespaceSelector");

        /* performanceHints: "omitempty,unique,dive,oneof=AssumeNeededOnEveryNode";
         * a failed unique stops before the per-item check. */
        for (size_t i = 0; i < s->performance_hints.n; i++)
                for (size_t j = 0; j < i; j++)
                        if (streq(str(s->performance_hints.v[i]), str(s->performance_hints.v[j]))) {
                                StrBuf val = STRBUF_INIT;

                                go_strlist(&val, &s->performance_hints);
                                report_tag_buf(v, "performanceHints", "PerformanceHints", &val, "unique");
                                return;
                        }
        for (size_t i = 0; i < s->performance_hints.n; i++) {
                char sub[48], field[48];

                if (streq(str(s->performance_hints.v[i]), "AssumeNeededOnEveryNode"))
                        continue;
                snprintf(sub, sizeof(sub), "performanceHints[%zu]", i);
                snprintf(field, sizeof(field), "PerformanceHints[%zu]", i);
                report_tag(v, sub, field, str(s->performance_hints.v[i]), "oneof");
        }
}

/* G5: a type listed twice, reported once per repeat. */
static void check_types_unique(Validator *v, const PolicySpec *s, const char *field) {
        for (size_t i = 0; i < s->types.n; i++)
                for (size_t j = 0; j < i; j++)
                        if (streq(str(s->types.v[i]), str(s->types.v[j]))) {
                                StrBuf val = STRBUF_INIT, reason = STRBUF_INIT;

                                go_strlist(&val, &s->types);
                                strbuf_printf(&reason, "'%s' type specified more than once", str(s->types.v[i]));
                                if (strbuf_ok(&reason))
                                        report_buf(v, "types", field, &val, strbuf_str(&reason));
                                else {
                                        strbuf_done(&val);
                                        v->error = -ENOMEM;
                                }
                                strbuf_done(&reason);
                                break;
                        }
}

/* G6: where service matches and HTTP may appear. `global` selects the GNP
 * wording ("egress rules") and the namespace requirement. */
static void check_policy_rule_placement(Validator *v, const PolicySpec *s, bool global) {
        StrBuf val;

        for (size_t i = 0; i < s->egress.n; i++) {
                const Rule *r = &s->egress.v[i];
                char sub[64];

                if (r->source.services) {
                        snprintf(sub, sizeof(sub), "egress[%zu].source.services", i);
                        val = (StrBuf) STRBUF_INIT;
                        go_service(&val, r->source.services);
                        report_buf(v, sub, "Services", &val, "not allowed in egress rule source");
                }
                if (r->http) {
                        snprintf(sub, sizeof(sub), "egress[%zu].http", i);
                        val = (StrBuf) STRBUF_INIT;
                        go_http(&val, r->http);
                        report_buf(v, sub, "HTTP", &val,
                                   global ? "not allowed in egress rules" : "not allowed in egress rule");
                }
        }
        for (size_t i = 0; i < s->ingress.n; i++) {
                const Rule *r = &s->ingress.v[i];
                char sub[64];

                if (!r->destination.services)
                        continue;
                snprintf(sub, sizeof(sub), "ingress[%zu].destination.services", i);
                val = (StrBuf) STRBUF_INIT;
                go_service(&val, r->destination.services);
                report_buf(v, sub, "Services", &val, "not allowed in ingress rule destination");
        }
        if (!global)
                return;
        /* A cluster-wide policy cannot imply the namespace of a service. */
        for (size_t i = 0; i < s->egress.n; i++) {
                const ServiceMatch *m = s->egress.v[i].destination.services;
                char sub[64];

                if (!m || !isempty(m->namespace))
                        continue;
                snprintf(sub, sizeof(sub), "egress[%zu].destination.services.namespace", i);
                report(v, sub, "Namespace", "", "must specify a namespace");
        }
        for (size_t i = 0; i < s->ingress.n; i++) {
                const ServiceMatch *m = s->ingress.v[i].source.services;
                char sub[64];

                if (!m || !isempty(m->namespace))
                        continue;
                snprintf(sub, sizeof(sub), "ingress[%zu].source.services.namespace", i);
                report(v, sub, "Namespace", "", "must specify a namespace");
        }
}

/* G1-G7 for a GlobalNetworkPolicy (validateGlobalNetworkPolicySpec). */
static void check_gnp_struct(Validator *v, const PolicySpec *s) {
        /* G1: untracked and pre-DNAT policies live in different tables. */
        if (s->do_not_track && s->pre_dnat)
                report(v, "preDNAT", "PolicySpec.PreDNAT", "true",
                       "PreDNAT and DoNotTrack cannot both be true, for a given PolicySpec");
        /* G2, G3: pre-DNAT happens on the way in only. */
        if (s->pre_dnat && s->egress.n > 0) {
                StrBuf val = STRBUF_INIT;

                go_rules(&val, &s->egress);
                report_buf(v, "egress", "PolicySpec.Egress", &val, "PreDNAT PolicySpec cannot have any Egress rules");
        }
        for (size_t i = 0; s->pre_dnat && i < s->types.n; i++)
                if (streq(str(s->types.v[i]), "Egress")) {
                        StrBuf val = STRBUF_INIT;

                        go_strlist(&val, &s->types);
                        report_buf(v, "types", "PolicySpec.Types", &val,
                                   "PreDNAT PolicySpec cannot have 'egress' Type");
                }
        /* G4 */
        if (!s->apply_on_forward && (s->do_not_track || s->pre_dnat))
                report(v, "applyOnForward", "PolicySpec.ApplyOnForward", "false",
                       "ApplyOnForward must be true if either PreDNAT or DoNotTrack is true, for a given PolicySpec");
        check_types_unique(v, s, "GlobalNetworkPolicySpec.Types");
        check_policy_rule_placement(v, s, true);
        /* G7: Calico prints spec.selector as the value of all three. */
        if (s->selector && strstr(s->selector, "global()"))
                report(v, "selector", "GlobalNetworkPolicySpec.Selector", s->selector, MSG_GLOBAL_ENTITY_ONLY);
        if (s->service_account_selector && strstr(s->service_account_selector, "global()"))
                report(v, "serviceAccountSelector", "GlobalNetworkPolicySpec.ServiceAccountSelector", str(s->selector),
                       MSG_GLOBAL_ENTITY_ONLY);
        if (s->namespace_selector && strstr(s->namespace_selector, "global()"))
                report(v, "namespaceSelector", "GlobalNetworkPolicySpec.NamespaceSelector", str(s->selector),
                       MSG_GLOBAL_ENTITY_ONLY);
}

/* G5-G7 for a NetworkPolicy (validateNetworkPolicySpec). */
static void check_np_struct(Validator *v, const PolicySpec *s) {
        check_types_unique(v, s, "NetworkPolicySpec.Types");
        check_policy_rule_placement(v, s, false);
        if (s->selector && strstr(s->selector, "global()"))
                report(v, "selector", "NetworkPolicySpec.Selector", s->selector, MSG_GLOBAL_ENTITY_ONLY);
        if (s->service_account_selector && strstr(s->service_account_selector, "global()"))
                report(v, "serviceAccountSelector", "NetworkPolicySpec.ServiceAccountSelector",
                       s->service_account_selector, MSG_GLOBAL_ENTITY_ONLY);
}

/* ---- StagedGlobalNetworkPolicy ---- */

static bool staged_action_valid(const char *a) {
        static const char *const actions[] = { "Set", "Delete", "Learn", "Ignore" };

        for (size_t i = 0; i < ELEMENTSOF(actions); i++)
                if (streq(a, actions[i]))
                        return true;
        return false;
}

/* Promoted, a staged deletion removes the policy of its name: its spec
 * must say nothing else (its tier may be given). */
static bool staged_delete_empty(const PolicySpec *s) {
        return !s->order.set && s->ingress.n == 0 && s->egress.n == 0 && isempty(s->selector) && s->types.n == 0 &&
               !s->do_not_track && !s->pre_dnat && !s->apply_on_forward && isempty(s->service_account_selector) &&
               isempty(s->namespace_selector) && s->performance_hints.n == 0;
}

/* validateStagedGlobalNetworkPolicy: the fields' tags (stagedAction's
 * first), then the name and metadata again, then either the emptiness a
 * deletion demands or the checks of the GlobalNetworkPolicy it stands for. */
static void check_staged_policy(Validator *v, const Resource *r) {
        const PolicySpec *s = &r->spec.policy;
        size_t old;

        check_object_meta(v, r);
        old = path_push(v, "spec");
        if (!isempty(s->staged_action) && !staged_action_valid(s->staged_action))
                report_tag(v, "stagedAction", "StagedAction", s->staged_action, "stagedAction");
        check_policy_fields(v, s, true);
        path_pop(v, old);

        check_kind_meta(v, r);
        old = path_push(v, "spec");
        if (streq_ptr(s->staged_action, "Delete")) {
                if (!staged_delete_empty(s)) {
                        StrBuf val = STRBUF_INIT;

                        go_sgnp_spec(&val, s);
                        report_buf(v, NULL, "StagedGlobalNetworkPolicySpec", &val,
                                   "Spec fields, except Tier, should all be zero-value if stagedAction is Delete");
                }
        } else
                check_gnp_struct(v, s);
        path_pop(v, old);
}

static void check_policy(Validator *v, const Resource *r) {
        const PolicySpec *s = &r->spec.policy;
        bool global = r->kind == KIND_GLOBAL_NETWORK_POLICY;
        size_t old;

        check_object_meta(v, r);
        old = path_push(v, "spec");
        check_policy_fields(v, s, global);
        path_pop(v, old);

        /* The kind's own struct check: name (G8), metadata again, spec. */
        check_kind_meta(v, r);
        old = path_push(v, "spec");
        if (global)
                check_gnp_struct(v, s);
        else
                check_np_struct(v, s);
        path_pop(v, old);
}

/* ---- Profile ---- */

static void check_profile(Validator *v, const Resource *r) {
        const ProfileSpec *s = &r->spec.profile;
        size_t old;

        check_object_meta(v, r);
        old = path_push(v, "spec");
        check_rule_list(v, &s->ingress, "ingress");
        check_rule_list(v, &s->egress, "egress");
        /* The "labels" tag: one failure for the whole map. */
        for (size_t i = 0; i < s->labels_to_apply.n; i++) {
                const LabelPair *p = &s->labels_to_apply.pairs[i];
                int a = syntax_check_label_key(p->key, NULL), b = syntax_check_label_value(p->value, NULL);

                if (a == -ENOMEM || b == -ENOMEM) {
                        v->error = -ENOMEM;
                        break;
                }
                if (a < 0 || b < 0) {
                        StrBuf val = STRBUF_INIT;

                        go_map(&val, &s->labels_to_apply);
                        report_tag_buf(v, "labelsToApply", "LabelsToApply", &val, "labels");
                        break;
                }
        }
        path_pop(v, old);
}

/* ---- Tier ---- */

/* validateTier(): the three built-in tiers have fixed orders. */
static void check_tier_order(Validator *v, const Resource *r) {
        static const struct {
                const char *name, *msg;
                double order;
        } builtin[] = {
                { "default", "default tier order must be 1e+06", DEFAULT_TIER_ORDER },
                { "kube-admin", "kube-admin tier order must be 1000", KUBE_ADMIN_TIER_ORDER },
                { "kube-baseline", "kube-baseline tier order must be 1e+07", KUBE_BASELINE_TIER_ORDER },
        };
        const OptFloat *o = &r->spec.tier.order;

        for (size_t i = 0; i < ELEMENTSOF(builtin); i++) {
                StrBuf val = STRBUF_INIT;

                if (!streq(str(r->meta.name), builtin[i].name) || (o->set && o->v == builtin[i].order))
                        continue;
                if (o->set)
                        go_float(&val, o->v);
                else
                        strbuf_append(&val, "<nil>");
                report_buf(v, "spec.order", "TierSpec.Order", &val, builtin[i].msg);
        }
}

static void check_tier(Validator *v, const Resource *r) {
        const char *action = r->spec.tier.default_action;

        check_object_meta(v, r);
        if (action && !streq(action, "Deny") && !streq(action, "Pass"))
                report_tag(v, "spec.defaultAction", "DefaultAction", action, "oneof");
        check_name(v, r, true);
        check_tier_order(v, r);
        check_annotations(v, &r->meta.annotations, "metadata.annotations");
        check_labels(v, &r->meta.labels);
}

/* ---- CRD schema and CEL rules (v3.32.1 api/config/crd) ----
 * Reported after the Go checks, as Validate() appends them, with the JSON
 * path as the field name and no value. kube-openapi and the CEL validator
 * walk maps in random order; we use the document's field order. */

static void crd_report(Validator *v, const char *sub, const char *detail) {
        _cleanup_free_ char *p = path_at(v, sub);

        if (!p) {
                v->error = -ENOMEM;
                return;
        }
        report(v, sub, p, NULL, detail);
}

/* enum: "supported values: ..." for the space-separated values. */
static void crd_enum(Validator *v, const char *sub, const char *values);

static void crd_max_length(Validator *v, const char *text, const char *sub, size_t max) {
        if (text && rune_count(text) > max) {
                char detail[64];

                snprintf(detail, sizeof(detail), "may not be more than %zu byte%s", max, max == 1 ? "" : "s");
                crd_report(v, sub, detail);
        }
}

static void crd_max_items(Validator *v, size_t n, const char *sub, size_t max) {
        if (n > max) {
                char detail[64];

                snprintf(detail, sizeof(detail), "must have at most %zu item%s", max, max == 1 ? "" : "s");
                crd_report(v, sub, detail);
        }
}

/* minimum/maximum: kube-openapi's message, with its own copy of the path. */
static void crd_range(Validator *v, const OptInt *i, const char *sub, int64_t min, int64_t max) {
        _cleanup_free_ char *p = NULL;

        if (!i->set || (i->v >= min && i->v <= max))
                return;
        p = path_at(v, sub);
        if (!p) {
                v->error = -ENOMEM;
                return;
        }
        if (i->v < min)
                reportf(v, sub, p, NULL, "%s in body should be greater than or equal to %lld", p, (long long)min);
        else
                reportf(v, sub, p, NULL, "%s in body should be less than or equal to %lld", p, (long long)max);
}

static void crd_icmp(Validator *v, const ICMPFields *f, const char *key) {
        size_t old = path_push(v, key);

        crd_range(v, &f->code, "code", 0, 255);
        crd_range(v, &f->type, "type", 0, 254);
        path_pop(v, old);
}

static void crd_rule_schema(Validator *v, const Rule *r) {
        static const char *const actions[] = { "Allow", "Deny", "Log", "Pass" };
        bool ok = false;

        for (size_t i = 0; i < ELEMENTSOF(actions); i++)
                ok = ok || streq(str(r->action), actions[i]);
        if (!ok)
                crd_report(v, "action", "supported values: \"Allow\", \"Deny\", \"Log\", \"Pass\"");
        if (r->http) {
                size_t old = path_push(v, "http");

                crd_max_items(v, r->http->methods.n, "methods", 20);
                crd_max_items(v, r->http->paths.n, "paths", 20);
                for (size_t i = 0; i < r->http->paths.n; i++) {
                        char sub[64];

                        snprintf(sub, sizeof(sub), "paths[%zu].exact", i);
                        crd_max_length(v, r->http->paths.v[i].exact, sub, 1024);
                        snprintf(sub, sizeof(sub), "paths[%zu].prefix", i);
                        crd_max_length(v, r->http->paths.v[i].prefix, sub, 1024);
                }
                path_pop(v, old);
        }
        if (r->icmp)
                crd_icmp(v, r->icmp, "icmp");
        if (r->ip_version.set && r->ip_version.v != 4 && r->ip_version.v != 6)
                crd_report(v, "ipVersion", "supported values: \"4\", \"6\"");
        if (r->not_icmp)
                crd_icmp(v, r->not_icmp, "notICMP");
}

/* The three CEL rules on each rule, then the ICMP objects' rule. */
static void crd_rule_cel(Validator *v, const Rule *r) {
        bool proto_ok = !r->protocol.set || protocol_is(&r->protocol, "TCP") ||
                        (r->protocol.is_number && r->protocol.number == 6);

        if (r->http && !proto_ok)
                crd_report(v, NULL, "rules with HTTP match must have protocol TCP or unset");
        if (r->http && !streq(str(r->action), "Allow"))
                crd_report(v, NULL, "HTTP match is only valid on Allow rules");
        if (r->destination.services && (r->destination.ports.n || r->destination.not_ports.n))
                crd_report(v, NULL, "ports and notPorts cannot be specified with services");
        if (r->icmp && r->icmp->code.set && !r->icmp->type.set)
                crd_report(v, "icmp", "ICMP code specified without an ICMP type");
        if (r->not_icmp && r->not_icmp->code.set && !r->not_icmp->type.set)
                crd_report(v, "notICMP", "ICMP code specified without an ICMP type");
}

static void crd_rule_list(Validator *v, const RuleList *l, const char *key, bool cel) {
        size_t old = path_push(v, key);

        for (size_t i = 0; i < l->n; i++) {
                size_t o = path_push_index(v, i);

                if (cel)
                        crd_rule_cel(v, &l->v[i]);
                else
                        crd_rule_schema(v, &l->v[i]);
                path_pop(v, o);
        }
        path_pop(v, old);
}

static void crd_policy(Validator *v, const Resource *r) {
        const PolicySpec *s = &r->spec.policy;
        size_t old = path_push(v, "spec");

        /* OpenAPI schema */
        crd_rule_list(v, &s->egress, "egress", false);
        crd_rule_list(v, &s->ingress, "ingress", false);
        for (size_t i = 0; i < s->performance_hints.n; i++) {
                char sub[48];

                if (streq(str(s->performance_hints.v[i]), "AssumeNeededOnEveryNode"))
                        continue;
                snprintf(sub, sizeof(sub), "performanceHints[%zu]", i);
                crd_report(v, sub, "supported values: \"AssumeNeededOnEveryNode\"");
        }
        if (r->kind == KIND_STAGED_GLOBAL_NETWORK_POLICY && !isempty(s->staged_action) &&
            !staged_action_valid(s->staged_action))
                crd_enum(v, "stagedAction", "Set Delete Learn Ignore");
        crd_max_items(v, s->types.n, "types", 2);
        for (size_t i = 0; i < s->types.n; i++) {
                char sub[32];

                if (streq(str(s->types.v[i]), "Ingress") || streq(str(s->types.v[i]), "Egress"))
                        continue;
                snprintf(sub, sizeof(sub), "types[%zu]", i);
                crd_report(v, sub, "supported values: \"Ingress\", \"Egress\"");
        }

        /* CEL: the spec's own rules (GNP and its staged twin only), then
         * each rule's. */
        if (r->kind != KIND_NETWORK_POLICY) {
                bool egress_type = false;

                for (size_t i = 0; i < s->types.n; i++)
                        egress_type = egress_type || streq(str(s->types.v[i]), "Egress");
                if (s->do_not_track && s->pre_dnat)
                        crd_report(v, NULL, "preDNAT and doNotTrack cannot both be true");
                if (s->pre_dnat && s->egress.n > 0)
                        crd_report(v, NULL, "preDNAT policy cannot have any egress rules");
                if (s->pre_dnat && egress_type)
                        crd_report(v, NULL, "preDNAT policy cannot have 'Egress' type");
                if (!s->apply_on_forward && (s->do_not_track || s->pre_dnat))
                        crd_report(v, NULL, "applyOnForward must be true if either preDNAT or doNotTrack is true");
        }
        crd_rule_list(v, &s->egress, "egress", true);
        crd_rule_list(v, &s->ingress, "ingress", true);
        path_pop(v, old);
}

static void crd_hep(Validator *v, const HostEndpointSpec *s) {
        size_t old = path_push(v, "spec");

        crd_max_length(v, s->interface_name, "interfaceName", 15);
        crd_max_length(v, s->node, "node", 253);
        for (size_t i = 0; i < s->ports.n; i++) {
                OptInt port = { .set = true, .v = s->ports.v[i].port };
                char sub[48];

                snprintf(sub, sizeof(sub), "ports[%zu].port", i);
                crd_range(v, &port, sub, 1, 65535);
        }
        if (isempty(s->interface_name) && s->expected_ips.n == 0)
                crd_report(v, NULL, "at least one of interfaceName or expectedIPs must be specified");
        if (isempty(s->node))
                crd_report(v, NULL, "node must be specified");
        path_pop(v, old);
}

/* The "cidr" tag (validateCIDR): cnet.ParseCIDROrIP, the address as
 * written need not be the network's; a bare address is a full-length
 * network. An empty string unmarshals to a nil IP and passes. */
static bool cidr_tag_valid(const char *s) {
        IPNet n;
        IPAddr a;

        return isempty(s) || ipnet_parse_go(s, &n, NULL) == 0 || ipaddr_parse_go(s, &a);
}

/* GlobalNetworkSet: ObjectMeta, then spec.nets (dive,cidr), then the
 * struct check validateGlobalNetworkSet(), which refuses the label the v1
 * data model keeps for a NetworkSet's namespace. */
static void check_gns(Validator *v, const Resource *r) {
        const StrList *nets = &r->spec.gns.nets;
        size_t old;

        check_object_meta(v, r);
        old = path_push(v, "spec");
        for (size_t i = 0; i < nets->n; i++) {
                char sub[48], field[48];

                if (cidr_tag_valid(str(nets->v[i])))
                        continue;
                snprintf(sub, sizeof(sub), "nets[%zu]", i);
                snprintf(field, sizeof(field), "Nets[%zu]", i);
                report_tag(v, sub, field, str(nets->v[i]), "cidr");
        }
        path_pop(v, old);
        if (labels_get(&r->meta.labels, GNS_RESERVED_LABEL)) {
                _cleanup_free_ char *p = map_entry_path("metadata.labels", GNS_RESERVED_LABEL);

                if (!p) {
                        v->error = -ENOMEM;
                        return;
                }
                report(v, p, "Metadata.Labels (label)", GNS_RESERVED_LABEL,
                       GNS_RESERVED_LABEL " is not a valid label name");
        }
}

/* Tier: defaultAction is defaulted to Deny by the CRD before it is
 * checked, against the union of two enums (Action, then Pass/Deny). An
 * error that is not about one field names the kind. */
static void crd_tier(Validator *v, const Resource *r) {
        const char *action = r->spec.tier.default_action ? r->spec.tier.default_action : "Deny";
        const char *name = str(r->meta.name);
        bool any = streq(action, "Allow") || streq(action, "Deny") || streq(action, "Log") || streq(action, "Pass");
        bool tier = streq(action, "Pass") || streq(action, "Deny");

        if (!any)
                crd_report(v, "spec.defaultAction", "supported values: \"Allow\", \"Deny\", \"Log\", \"Pass\"");
        if (!tier)
                crd_report(v, "spec.defaultAction", "supported values: \"Pass\", \"Deny\"");
        if (!any || !tier)
                report(v, "spec.defaultAction", "Tier", NULL,
                       !any ? "\"spec.defaultAction\" must validate all the schemas (allOf). None validated"
                            : "\"spec.defaultAction\" must validate all the schemas (allOf)");

        if (streq(name, "kube-admin") && !streq(action, "Pass"))
                report(v, "spec.defaultAction", "Tier", NULL, "The 'kube-admin' tier must have default action 'Pass'");
        if (streq(name, "kube-baseline") && !streq(action, "Pass"))
                report(v, "spec.defaultAction", "Tier", NULL,
                       "The 'kube-baseline' tier must have default action 'Pass'");
        if (streq(name, "default") && !streq(action, "Deny"))
                report(v, "spec.defaultAction", "Tier", NULL, "The 'default' tier must have default action 'Deny'");
}

/* FelixConfiguration's two CEL rules look at fields we keep verbatim. */
static void crd_felix(Validator *v, const Resource *r) {
        const Node *other = r->spec.felix.other;
        const char *name = str(r->meta.name);

        if (node_map_get(other, "routeTableRange") && node_map_get(other, "routeTableRanges"))
                crd_report(v, "spec", "routeTableRange and routeTableRanges cannot both be set");
        if ((streq(name, "default") || strncmp(name, "node.", 5) == 0) && node_map_get(other, "nodeSelector"))
                report(v, "spec.nodeSelector", "FelixConfiguration", NULL,
                       "nodeSelector must not be set on the 'default' or per-node ('node.*') FelixConfiguration");
}

/* ---- FelixConfiguration ----
 * hostendpoint keeps all but three Felix fields verbatim (spec.felix.other),
 * so they are checked from the document tree: Calico's field tags in Go
 * field order, then validateFelixConfigSpec(), then the CRD's enums and
 * patterns. The failsafe port lists carry no tag ("dive" is missing), so
 * v3.32 accepts anything there; interfaceExclude has no check either. The
 * fields, their tags and CRD alternatives are felix-config.c's table. */

/* A scalar's text, or NULL for null and non-scalars. */
static const char *scalar_text(const Node *n) {
        if (!n || n->type != NODE_SCALAR || node_is_null(n))
                return NULL;
        return n->text;
}

static void felix_report_tag(Validator *v, const FelixField *f, const char *value) {
        report_tag(v, f->json, f->go, value, f->tag);
}

/* An error about field json (at sub, which may index into it), under the
 * Go name Calico gives it. */
static void felix_report(Validator *v, const char *sub, const char *json, const char *value, const char *reason) {
        report(v, sub, felix_field(json)->go, value, reason);
}

/* A list of scalars (anything else would not have decoded). */
static bool node_is_scalar_list(const Node *n) {
        if (!n || n->type != NODE_SEQ)
                return false;
        for (size_t i = 0; i < n->n; i++)
                if (n->items[i]->type != NODE_SCALAR)
                        return false;
        return true;
}

static void go_node_strlist(StrBuf *b, const Node *n) {
        strbuf_append_char(b, '[');
        for (size_t i = 0; i < n->n; i++)
                strbuf_printf(b, "%s%s", i ? " " : "", str(scalar_text(n->items[i])));
        strbuf_append_char(b, ']');
}

/* numorstring.Port from a document node, as its JSON decoder reads it.
 * Returns false for what would not decode (reported elsewhere). */
static bool node_port(const Node *n, Port *ret) {
        const char *s = scalar_text(n), *colon;
        int64_t v;
        unsigned long lo, hi;
        char *end;

        if (!s)
                return false;
        if (!node_is_string(n)) {
                if (node_get_int64(n, &v) < 0 || v < 0 || v > 65535)
                        return false;
                *ret = (Port) { .kind = PORT_SINGLE, .min = (uint16_t)v, .max = (uint16_t)v };
                return true;
        }
        colon = strchr(s, ':');
        if (*s >= '0' && *s <= '9') {
                lo = strtoul(s, &end, 10);
                if (*end == 0 && lo <= 65535 && strspn(s, "0123456789") == strlen(s)) {
                        *ret = (Port) { .kind = PORT_SINGLE, .min = (uint16_t)lo, .max = (uint16_t)lo };
                        return true;
                }
                if (colon && end == colon && colon[1] >= '0' && colon[1] <= '9') {
                        hi = strtoul(colon + 1, &end, 10);
                        if (*end == 0 && lo <= hi && hi <= 65535) {
                                *ret = (Port) { .kind = PORT_RANGE, .min = (uint16_t)lo, .max = (uint16_t)hi };
                                return true;
                        }
                        return false;
                }
        }
        if (!syntax_is_named_port_decode(s))
                return false;
        *ret = (Port) { .kind = PORT_NAMED, .name = (char *)s };
        return true;
}

/* {min, max} of RouteTableRange/RouteTableIDRange. */
static bool node_min_max(const Node *n, int64_t *ret_min, int64_t *ret_max) {
        const Node *lo = node_map_get(n, "min"), *hi = node_map_get(n, "max");

        *ret_min = *ret_max = 0;
        if (!n || n->type != NODE_MAP)
                return false;
        if (lo && node_get_int64(lo, ret_min) < 0)
                return false;
        if (hi && node_get_int64(hi, ret_max) < 0)
                return false;
        return true;
}

static void felix_int(Validator *v, const FelixField *f, const Node *n) {
        const char *tag = NULL;
        char buf[32];
        int64_t i;

        if (node_get_int64(n, &i) < 0)
                return;
        if (f->min_tag && (streq(f->min_tag, "gt") ? i <= f->min : i < f->min))
                tag = f->min_tag;
        else if (f->max_tag && (streq(f->max_tag, "lt") ? i >= f->max : i > f->max))
                tag = f->max_tag;
        if (!tag)
                return;
        snprintf(buf, sizeof(buf), "%lld", (long long)i);
        report_tag(v, f->json, f->go, buf, tag);
}

static void felix_list(Validator *v, const FelixField *f, const Node *n) {
        StrBuf val = STRBUF_INIT;

        if (!node_is_scalar_list(n))
                return;
        for (size_t i = 0; i < n->n; i++) {
                const char *s = str(scalar_text(n->items[i]));
                if (!felix_value_valid(f, s)) {
                        go_node_strlist(&val, n);
                        report_tag_buf(v, f->json, f->go, &val, f->tag);
                        return;
                }
        }
}

static void felix_log_filters(Validator *v, const FelixField *f, const Node *n) {
        if (!n || n->type != NODE_MAP)
                return;
        for (size_t i = 0; i < n->n; i++)
                if (!felix_value_valid(f, n->entries[i].key->text)) {
                        StrBuf val = STRBUF_INIT;

                        strbuf_append(&val, "map[");
                        for (size_t j = 0; j < n->n; j++)
                                strbuf_printf(&val, "%s%s:%s", j ? " " : "", n->entries[j].key->text,
                                              str(scalar_text(n->entries[j].value)));
                        strbuf_append_char(&val, ']');
                        report_tag_buf(v, f->json, f->go, &val, f->tag);
                        return;
                }
}

static void felix_ports(Validator *v, const Node *n) {
        if (!n || n->type != NODE_SEQ)
                return;
        for (size_t i = 0; i < n->n; i++) {
                char sub[64];
                Port p;

                if (!node_port(n->items[i], &p))
                        continue;
                snprintf(sub, sizeof(sub), "kubeNodePortRanges[%zu]", i);
                check_port(v, &p, sub);
        }
}

/* validateRouteTableIDRange(), all under the name RouteTableRange. */
static void felix_route_table_ids(Validator *v, const Node *n) {
        if (!n || n->type != NODE_SEQ)
                return;
        for (size_t i = 0; i < n->n; i++) {
                char sub[48], val[64];
                int64_t lo, hi;

                if (!node_min_max(n->items[i], &lo, &hi))
                        continue;
                snprintf(sub, sizeof(sub), "routeTableRanges[%zu]", i);
                snprintf(val, sizeof(val), "{%lld %lld}", (long long)lo, (long long)hi);
                if (lo > hi)
                        report(v, sub, "RouteTableRange", val, "min value cannot be greater than max value");
                if (lo <= 0)
                        report(v, sub, "RouteTableRange", val, "cannot target indices < 1");
                if (hi > 0xffffffffLL)
                        report(v, sub, "RouteTableRange", val, "max index too high");
        }
}

/* validateRouteTableRange(): indices 1..250. */
static void felix_route_table(Validator *v, const FelixField *f, const Node *n) {
        char val[64];
        int64_t lo, hi;

        if (!node_min_max(n, &lo, &hi))
                return;
        if (lo >= 1 && hi >= lo && hi <= 250)
                return;
        snprintf(val, sizeof(val), "{%lld %lld}", (long long)lo, (long long)hi);
        report(v, f->json, f->go, val, "must be a range of route table indices within 1..250");
}

/* validateHealthTimeoutOverride(): a plain name and a duration >= 0. The
 * value is the override as Go prints it, the timeout as written. */
static void felix_health(Validator *v, const Node *n) {
        if (!n || n->type != NODE_SEQ)
                return;
        for (size_t i = 0; i < n->n; i++) {
                const char *name = str(scalar_text(node_map_get(n->items[i], "name")));
                const char *timeout = str(scalar_text(node_map_get(n->items[i], "timeout")));
                size_t len = strlen(name);
                _cleanup_free_ char *val = NULL;
                char sub[48];

                if (asprintf(&val, "{%s %s}", name, timeout) < 0) {
                        val = NULL;
                        v->error = -ENOMEM;
                        return;
                }
                snprintf(sub, sizeof(sub), "healthTimeoutOverrides[%zu]", i);
                if (len == 0 || strspn(name, FELIX_IFNAME_CHARS " ") != len || strchr(name, '.'))
                        report(v, sub, "HealthTimeoutOverride.Name", val, "name should match regex ^[a-zA-Z0-9_ -]+$");
                /* a negative duration is "-" and some non-zero amount */
                if (timeout[0] == '-' && strpbrk(timeout, "123456789"))
                        report(v, sub, "HealthTimeoutOverride.Timeout", val, "Timeout should not be negative");
        }
}

static void check_felix_field(Validator *v, const FelixField *f, const Node *n) {
        const char *s = scalar_text(n);

        switch (f->rule) {
        case FELIX_ONE_OF:
        case FELIX_KEY_VALUES:
        case FELIX_REGEXP:
        case FELIX_CHARS:
        case FELIX_INTERFACE:
                /* omitempty skips "" unless the field is a pointer */
                if (!s || (!*s && !f->pointer))
                        return;
                if (!felix_value_valid(f, s))
                        felix_report_tag(v, f, s);
                return;
        case FELIX_INT:
                felix_int(v, f, n);
                return;
        case FELIX_CIDRS:
        case FELIX_IFACE_FILTERS:
                felix_list(v, f, n);
                return;
        case FELIX_LOG_FILTERS:
                felix_log_filters(v, f, n);
                return;
        case FELIX_PORTS:
                felix_ports(v, n);
                return;
        case FELIX_ROUTE_TABLE_IDS:
                felix_route_table_ids(v, n);
                return;
        case FELIX_ROUTE_TABLE:
                felix_route_table(v, f, n);
                return;
        case FELIX_HEALTH:
                felix_health(v, n);
                return;
        case FELIX_NONE:
        case _FELIX_RULE_MAX:
        case _FELIX_RULE_INVALID:
                break;
        }
}

/* validateFelixConfigSpec(): node port ranges, external node CIDRs, the
 * OpenStack region, source addresses, route table ranges. */
static void check_felix_struct(Validator *v, const Node *o) {
        const Node *ports = node_map_get(o, "kubeNodePortRanges"), *ext = node_map_get(o, "externalNodesList");
        const Node *ranges = node_map_get(o, "routeTableRanges"), *range = node_map_get(o, "routeTableRange");
        const char *region = scalar_text(node_map_get(o, "openstackRegion"));
        static const struct {
                const char *json, *msg;
                int family;
        } addrs[] = {
                { "natOutgoingAddress", "is not a valid IPv4 address", AF_INET },
                { "deviceRouteSourceAddress", "is not a valid IPv4 address", AF_INET },
                { "deviceRouteSourceAddressIPv6", "is not a valid IPv6 address", AF_INET6 },
        };

        if (ports && ports->type == NODE_SEQ) {
                StrBuf val = STRBUF_INIT;

                /* iptables' multiport takes 15 ports, two per range */
                strbuf_append_char(&val, '[');
                for (size_t i = 0; i < ports->n; i++) {
                        Port p;

                        if (i)
                                strbuf_append_char(&val, ' ');
                        if (node_port(ports->items[i], &p))
                                go_port(&val, &p);
                }
                strbuf_append_char(&val, ']');
                if (ports->n > 7)
                        felix_report(v, "kubeNodePortRanges", "kubeNodePortRanges", strbuf_str(&val),
                                     "node port ranges list is too long (max 7)");
                for (size_t i = 0; i < ports->n; i++) {
                        Port p;

                        if (node_port(ports->items[i], &p) && p.kind == PORT_NAMED)
                                felix_report(v, "kubeNodePortRanges", "kubeNodePortRanges", strbuf_str(&val),
                                             "node port ranges should not contain named ports");
                }
                if (!strbuf_ok(&val))
                        v->error = -ENOMEM;
                strbuf_done(&val);
        }

        for (size_t i = 0; ext && ext->type == NODE_SEQ && i < ext->n; i++) {
                const char *c = str(scalar_text(ext->items[i]));
                IPNet n;
                IPAddr a;
                char sub[48];
                int family = 0;

                /* the version of the address as written, not of the network */
                if (ipnet_parse_go(c, &n, NULL) == 0) {
                        _cleanup_free_ char *ip = strndup(c, strcspn(c, "/"));

                        if (!ip) {
                                v->error = -ENOMEM;
                                return;
                        }
                        family = ipaddr_parse_go(ip, &a) ? a.family : n.addr.family;
                } else if (ipaddr_parse_go(c, &a))
                        family = a.family;
                snprintf(sub, sizeof(sub), "externalNodesList[%zu]", i);
                if (family == 0 && !isempty(c))
                        felix_report(v, sub, "externalNodesList", c, "has invalid CIDR(s)");
                else if (family != AF_INET)
                        felix_report(v, sub, "externalNodesList", c, "has invalid IPv6 CIDR");
        }

        /* the region becomes part of a namespace name "openstack-region-<r>" */
        if (region && strlen(region) > 63 - strlen("openstack-region-"))
                felix_report(v, "openstackRegion", "openstackRegion", region, "is too long");
        else if (!isempty(region) && !syntax_is_dns_label(region))
                felix_report(v, "openstackRegion", "openstackRegion", region, "must be a valid DNS label");

        for (size_t i = 0; i < ELEMENTSOF(addrs); i++) {
                const char *s = scalar_text(node_map_get(o, addrs[i].json));
                IPAddr a;

                if (!isempty(s) && (!ipaddr_parse_go(s, &a) || a.family != addrs[i].family))
                        felix_report(v, addrs[i].json, addrs[i].json, s, addrs[i].msg);
        }

        if (range && ranges && !node_is_null(range) && !node_is_null(ranges)) {
                char val[64];
                int64_t lo, hi;

                node_min_max(range, &lo, &hi);
                snprintf(val, sizeof(val), "&{%lld %lld}", (long long)lo, (long long)hi);
                felix_report(v, "routeTableRange", "routeTableRange", val,
                             "cannot be set when `RouteTableRanges` is also set");
        }
        if (ranges && ranges->type == NODE_SEQ) {
                StrBuf val = STRBUF_INIT;
                int64_t total = 0;

                strbuf_append_char(&val, '[');
                for (size_t i = 0; i < ranges->n; i++) {
                        int64_t lo, hi;

                        node_min_max(ranges->items[i], &lo, &hi);
                        total += hi - lo + 1;
                        strbuf_printf(&val, "%s{%lld %lld}", i ? " " : "", (long long)lo, (long long)hi);
                }
                strbuf_append_char(&val, ']');
                if (total > 0xffff)
                        felix_report(v, "routeTableRanges", "routeTableRanges", strbuf_str(&val),
                                     "targets too many tables");
                if (!strbuf_ok(&val))
                        v->error = -ENOMEM;
                strbuf_done(&val);
        }
}

static void check_felix(Validator *v, const Resource *r) {
        const Node *o = r->spec.felix.other;
        size_t old;

        check_object_meta(v, r);
        old = path_push(v, "spec");
        for (size_t i = 0; i < n_felix_fields; i++) {
                const FelixField *f = &felix_fields[i];
                const Node *n = f->rule != FELIX_NONE ? node_map_get(o, f->json) : NULL;

                if (n && !node_is_null(n))
                        check_felix_field(v, f, n);
        }
        check_felix_struct(v, o);
        path_pop(v, old);
}

static void crd_enum(Validator *v, const char *sub, const char *values) {
        StrBuf d = STRBUF_INIT;

        strbuf_append(&d, "supported values: ");
        for (const char *p = values; p;) {
                const char *end = strchr(p, ' ');
                size_t n = end ? (size_t)(end - p) : strlen(p);

                strbuf_printf(&d, "%s\"%.*s\"", p == values ? "" : ", ", (int)n, p);
                p = end ? end + 1 : NULL;
        }
        if (strbuf_ok(&d))
                crd_report(v, sub, strbuf_str(&d));
        else
                v->error = -ENOMEM;
        strbuf_done(&d);
}

static void crd_pattern(Validator *v, const char *sub, const char *pattern) {
        _cleanup_free_ char *p = path_at(v, sub);

        if (!p) {
                v->error = -ENOMEM;
                return;
        }
        reportf(v, sub, p, NULL, "%s in body should match '%s'", p, pattern);
}

/* The pattern "^(?i)(A|B)?$" of a field's case-insensitive alternatives. */
static void crd_pattern_ci(Validator *v, const FelixField *f) {
        StrBuf p = STRBUF_INIT;

        strbuf_append(&p, "^(?i)(");
        for (const char *w = f->crd_ci; *w; w++)
                strbuf_append_char(&p, *w == ' ' ? '|' : *w);
        strbuf_append(&p, ")?$");
        if (strbuf_ok(&p))
                crd_pattern(v, f->json, strbuf_str(&p));
        else
                v->error = -ENOMEM;
        strbuf_done(&p);
}

/* logActionRateLimit: ^[1-9]\d{0,3}/(?:second|minute|hour|day)$ */
static bool rate_limit_valid(const char *s) {
        size_t digits = strspn(s, "0123456789");

        if (digits < 1 || digits > 4 || s[0] == '0' || s[digits] != '/')
                return false;
        s += digits + 1;
        return streq(s, "second") || streq(s, "minute") || streq(s, "hour") || streq(s, "day");
}

static void crd_felix_fields(Validator *v, const Node *o) {
        size_t old = path_push(v, "spec");
        const char *s;
        const Node *n;
        int64_t i;

        for (const FelixField *f = felix_crd_next(NULL); f; f = felix_crd_next(f)) {
                s = scalar_text(node_map_get(o, f->json));
                if (!s)
                        continue;
                if (f->crd_ci && !felix_one_of_ci(s, f->crd_ci))
                        crd_pattern_ci(v, f);
                if (f->crd_enum && !felix_one_of(s, f->crd_enum))
                        crd_enum(v, f->json, f->crd_enum);
        }
        /* bpfJITHardening: allOf of the same enum twice */
        s = scalar_text(node_map_get(o, "bpfJITHardening"));
        if (s && !felix_one_of(s, "Auto Strict")) {
                crd_enum(v, "bpfJITHardening", "Auto Strict");
                crd_enum(v, "bpfJITHardening", "Auto Strict");
                report(v, "bpfJITHardening", "FelixConfiguration", NULL,
                       "\"spec.bpfJITHardening\" must validate all the schemas (allOf). None validated");
        }
        s = scalar_text(node_map_get(o, "logActionRateLimit"));
        if (s && !rate_limit_valid(s))
                crd_pattern(v, "logActionRateLimit", "^[1-9]\\d{0,3}/(?:second|minute|hour|day)$");
        n = node_map_get(o, "logActionRateLimitBurst");
        if (n && node_get_int64(n, &i) == 0) {
                OptInt oi = { .set = true, .v = i };
                crd_range(v, &oi, "logActionRateLimitBurst", 0, 9999);
        }
        s = scalar_text(node_map_get(o, "logPrefix"));
        if (s && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789%: /_-") != strlen(s))
                crd_pattern(v, "logPrefix", "^([a-zA-Z0-9%: /_-])*$");
        n = node_map_get(o, "bpfMapSizeConntrackCleanupQueue");
        if (n && node_get_int64(n, &i) == 0 && i < 1) {
                OptInt oi = { .set = true, .v = i };
                crd_range(v, &oi, "bpfMapSizeConntrackCleanupQueue", 1, INT64_MAX);
        }
        crd_max_length(v, scalar_text(node_map_get(o, "nodeSelector")), "nodeSelector", 1024);
        path_pop(v, old);
}

/* ---- entry points ---- */

/* calicoctl refuses a namespace on a cluster-scoped kind before anything
 * else, with a plain message (§2.5). */
static bool check_namespace_scope(Validator *v, const Resource *r, const KindInfo *k) {
        StrBuf reason = STRBUF_INIT;

        if (k->namespaced || isempty(r->meta.namespace))
                return false;
        strbuf_printf(&reason,
                      "namespace should not be specified for a non-namespaced resource. %s is not a namespaced resource",
                      k->name);
        if (!strbuf_ok(&reason)) {
                strbuf_done(&reason);
                v->error = -ENOMEM;
                return true;
        }
        report(v, "metadata.namespace", NULL, NULL, strbuf_str(&reason));
        strbuf_done(&reason);
        return true;
}

/* 0, -EINVAL if errors were added since `before`, or -ENOMEM (also when
 * the path buffer could not grow, as the paths would then be wrong). */
static int validator_finish(Validator *v, size_t before) {
        if (!strbuf_ok(&v->path))
                v->error = -ENOMEM;
        strbuf_done(&v->path);
        if (v->error < 0)
                return v->error;
        return v->out->n > before ? -EINVAL : 0;
}

int resource_validate(const Resource *r, ValidationErrors *ret) {
        Validator v = { .out = ret };
        const KindInfo *k = kind_info(r->kind);
        size_t before = ret->n;

        if (!k)
                return -EINVAL;
        if (check_namespace_scope(&v, r, k))
                return validator_finish(&v, before);
        /* The Kubernetes API server refuses any other namespace before
         * Calico sees it; here a namespace also names a file. */
        if (k->namespaced && !isempty(r->meta.namespace) && !syntax_is_namespace(r->meta.namespace))
                report(&v, "metadata.namespace", "Metadata.Namespace", r->meta.namespace, MSG_NAMESPACE);

        switch (r->kind) {
        case KIND_HOST_ENDPOINT:
                check_object_meta(&v, r);
                check_hep_spec(&v, &r->spec.hep);
                crd_hep(&v, &r->spec.hep);
                break;
        case KIND_PROFILE:
                /* No Profile CRD exists, so no second pass. */
                check_profile(&v, r);
                break;
        case KIND_GLOBAL_NETWORK_POLICY:
        case KIND_NETWORK_POLICY:
                check_policy(&v, r);
                crd_policy(&v, r);
                break;
        case KIND_TIER:
                check_tier(&v, r);
                crd_tier(&v, r);
                break;
        case KIND_FELIX_CONFIGURATION:
                check_felix(&v, r);
                crd_felix_fields(&v, r->spec.felix.other);
                crd_felix(&v, r);
                break;
        case KIND_GLOBAL_NETWORK_SET:
                check_gns(&v, r);
                break;
        case KIND_STAGED_GLOBAL_NETWORK_POLICY:
                check_staged_policy(&v, r);
                crd_policy(&v, r);
                break;
        case _KIND_MAX:
        case _KIND_INVALID:
                validator_finish(&v, before);
                return -EINVAL;
        }

        /* libcalico-go's Create/Update: a namespaced kind needs a namespace
         * (calicoctl fills in "default" before it gets here). */
        if (v.error >= 0 && ret->n == before && k->namespaced && isempty(r->meta.namespace))
                report(&v, "metadata.namespace", "Metadata.Namespace", NULL,
                       "namespace is not specified on namespaced resource");

        return validator_finish(&v, before);
}

int proto_port_validate(const ProtoPort *p, const char *path, ValidationErrors *ret) {
        Validator v = { .out = ret };
        const char *proto = str(p->protocol);
        size_t before = ret->n;

        if (!streq(proto, "TCP") && !streq(proto, "UDP") && !streq(proto, "SCTP")) {
                path_push(&v, str(path));
                report(&v, "protocol", "ProtoPort.Protocol", proto, "protocol must be 'TCP' or 'UDP' or 'SCTP'.");
        }
        return validator_finish(&v, before);
}

/* ---- defaulting ---- */

static int strlist_set(StrList *l, const char *const *items, size_t n) {
        char **v = new_array(n, sizeof(char *));

        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                v[i] = strdup(items[i]);
                if (!v[i]) {
                        for (size_t j = 0; j < i; j++)
                                free(v[j]);
                        free(v);
                        return -ENOMEM;
                }
        }
        for (size_t i = 0; i < l->n; i++)
                free(l->v[i]);
        free(l->v);
        l->v = v;
        l->n = n;
        return 0;
}

int policy_spec_default_types(PolicySpec *s) {
        static const char *const ingress[] = { "Ingress" }, *const egress[] = { "Egress" },
                                 *const both[] = { "Ingress", "Egress" };

        if (s->types.n > 0)
                return 0;
        /* No egress rules: ingress only, even with no rules at all. */
        if (s->egress.n == 0)
                return strlist_set(&s->types, ingress, 1);
        if (s->ingress.n == 0)
                return strlist_set(&s->types, egress, 1);
        return strlist_set(&s->types, both, 2);
}

int tier_spec_default(TierSpec *s) {
        if (!s->order.set)
                s->order = (OptFloat) { .set = true, .v = DEFAULT_TIER_ORDER };
        if (!s->default_action) {
                s->default_action = strdup("Deny");
                if (!s->default_action)
                        return -ENOMEM;
        }
        return 0;
}
