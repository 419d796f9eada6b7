/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Table-driven mapping between document trees and the typed resources of
 * resource.h. One table per Go struct, fields in Go's declaration order,
 * which is the order calicoctl prints JSON in. Decoding is strict like
 * calicoctl's: unknown fields, wrong types and out-of-range numbers are
 * errors with file:line:col and the field path. */
#include "resource.h"

#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "felix-config.h"
#include "intern.h"
#include "strbuf.h"

typedef enum FieldType {
        F_STRING,       /* char * */
        F_SHARED,       /* const char *, a shared copy (intern.h): values that repeat, like node names */
        F_STRLIST,      /* StrList */
        F_LABELS,       /* Labels (map of string to string) */
        F_BOOL,         /* bool */
        F_OPT_INT,      /* OptInt, range [min, max] */
        F_OPT_FLOAT,    /* OptFloat */
        F_UINT16,       /* uint16_t */
        F_PROTOCOL,     /* Protocol */
        F_PORTS,        /* PortList */
        F_TIMESTAMP,    /* const char *, shared like F_SHARED: RFC 3339 normalised to UTC seconds */
        F_STRUCT,       /* embedded struct; always printed, as Go does */
        F_OPT_STRUCT,   /* pointer to struct */
        F_ARRAY,        /* struct { T *v; size_t n; } */
        F_OPT_ARRAY,    /* struct { bool set; T *v; size_t n; } */
        F_IGNORED,      /* accepted and dropped (ObjectMeta fields calicoctl strips) */
        _F_MAX,
        _F_INVALID = -EINVAL,
} FieldType;

typedef struct StructDesc StructDesc;

typedef struct FieldDesc {
        const char *name;
        FieldType type;
        size_t offset;
        const StructDesc *sub;
        int64_t min, max;
        bool always; /* printed even when empty (no omitempty in Go) */
} FieldDesc;

struct StructDesc {
        const char *name;
        size_t size;
        const FieldDesc *fields;
        size_t n_fields;
        /* Whether a field name is accepted and kept verbatim in a Node map
         * at other_offset (FelixConfiguration's many unused knobs). */
        bool (*is_other)(const char *name);
        size_t other_offset;
};

typedef struct GenericArray {
        void *v;
        size_t n;
} GenericArray;

typedef struct GenericOptArray {
        bool set;
        void *v;
        size_t n;
} GenericOptArray;

#define FIELD(st, json, t, member, ...) \
        { .name = json, .type = t, .offset = offsetof(st, member), __VA_ARGS__ }
#define STRUCT_DESC(n, st, table) \
        { .name = n, .size = sizeof(st), .fields = table, .n_fields = ELEMENTSOF(table) }

/* ---- the schema ---- */

static const FieldDesc icmp_fields[] = {
        FIELD(ICMPFields, "type", F_OPT_INT, type, .min = INT32_MIN, .max = INT32_MAX),
        FIELD(ICMPFields, "code", F_OPT_INT, code, .min = INT32_MIN, .max = INT32_MAX),
};
static const StructDesc icmp_desc = STRUCT_DESC("ICMPFields", ICMPFields, icmp_fields);

static const FieldDesc sa_fields[] = {
        FIELD(ServiceAccountMatch, "names", F_STRLIST, names),
        FIELD(ServiceAccountMatch, "selector", F_STRING, selector),
};
static const StructDesc sa_desc = STRUCT_DESC("ServiceAccountMatch", ServiceAccountMatch, sa_fields);

static const FieldDesc svc_fields[] = {
        FIELD(ServiceMatch, "name", F_STRING, name),
        FIELD(ServiceMatch, "namespace", F_STRING, namespace),
};
static const StructDesc svc_desc = STRUCT_DESC("ServiceMatch", ServiceMatch, svc_fields);

static const FieldDesc entity_fields[] = {
        FIELD(EntityRule, "nets", F_STRLIST, nets),
        FIELD(EntityRule, "selector", F_STRING, selector),
        FIELD(EntityRule, "namespaceSelector", F_STRING, namespace_selector),
        FIELD(EntityRule, "services", F_OPT_STRUCT, services, .sub = &svc_desc),
        FIELD(EntityRule, "ports", F_PORTS, ports),
        FIELD(EntityRule, "notNets", F_STRLIST, not_nets),
        FIELD(EntityRule, "notSelector", F_STRING, not_selector),
        FIELD(EntityRule, "notPorts", F_PORTS, not_ports),
        FIELD(EntityRule, "serviceAccounts", F_OPT_STRUCT, service_accounts, .sub = &sa_desc),
};
static const StructDesc entity_desc = STRUCT_DESC("EntityRule", EntityRule, entity_fields);

static const FieldDesc http_path_fields[] = {
        FIELD(HTTPPath, "exact", F_STRING, exact),
        FIELD(HTTPPath, "prefix", F_STRING, prefix),
};
static const StructDesc http_path_desc = STRUCT_DESC("HTTPPath", HTTPPath, http_path_fields);

static const FieldDesc http_fields[] = {
        FIELD(HTTPMatch, "methods", F_STRLIST, methods),
        FIELD(HTTPMatch, "paths", F_ARRAY, paths, .sub = &http_path_desc),
};
static const StructDesc http_desc = STRUCT_DESC("HTTPMatch", HTTPMatch, http_fields);

static const FieldDesc rule_meta_fields[] = {
        FIELD(RuleMetadata, "annotations", F_LABELS, annotations),
};
static const StructDesc rule_meta_desc = STRUCT_DESC("RuleMetadata", RuleMetadata, rule_meta_fields);

static const FieldDesc rule_fields[] = {
        FIELD(Rule, "action", F_STRING, action, .always = true),
        FIELD(Rule, "ipVersion", F_OPT_INT, ip_version, .min = INT32_MIN, .max = INT32_MAX),
        FIELD(Rule, "protocol", F_PROTOCOL, protocol),
        FIELD(Rule, "icmp", F_OPT_STRUCT, icmp, .sub = &icmp_desc),
        FIELD(Rule, "notProtocol", F_PROTOCOL, not_protocol),
        FIELD(Rule, "notICMP", F_OPT_STRUCT, not_icmp, .sub = &icmp_desc),
        FIELD(Rule, "source", F_STRUCT, source, .sub = &entity_desc),
        FIELD(Rule, "destination", F_STRUCT, destination, .sub = &entity_desc),
        FIELD(Rule, "http", F_OPT_STRUCT, http, .sub = &http_desc),
        FIELD(Rule, "metadata", F_OPT_STRUCT, metadata, .sub = &rule_meta_desc),
};
static const StructDesc rule_desc = STRUCT_DESC("Rule", Rule, rule_fields);

static const FieldDesc endpoint_port_fields[] = {
        FIELD(EndpointPort, "name", F_STRING, name, .always = true),
        FIELD(EndpointPort, "protocol", F_PROTOCOL, protocol, .always = true),
        FIELD(EndpointPort, "port", F_UINT16, port, .always = true),
};
static const StructDesc endpoint_port_desc = STRUCT_DESC("EndpointPort", EndpointPort, endpoint_port_fields);

static const FieldDesc hep_fields[] = {
        FIELD(HostEndpointSpec, "node", F_SHARED, node),
        FIELD(HostEndpointSpec, "interfaceName", F_STRING, interface_name),
        FIELD(HostEndpointSpec, "expectedIPs", F_STRLIST, expected_ips),
        FIELD(HostEndpointSpec, "profiles", F_STRLIST, profiles),
        FIELD(HostEndpointSpec, "ports", F_ARRAY, ports, .sub = &endpoint_port_desc),
};
static const StructDesc hep_desc = STRUCT_DESC("HostEndpointSpec", HostEndpointSpec, hep_fields);

static const FieldDesc profile_fields[] = {
        FIELD(ProfileSpec, "ingress", F_ARRAY, ingress, .sub = &rule_desc),
        FIELD(ProfileSpec, "egress", F_ARRAY, egress, .sub = &rule_desc),
        FIELD(ProfileSpec, "labelsToApply", F_LABELS, labels_to_apply),
};
static const StructDesc profile_desc = STRUCT_DESC("ProfileSpec", ProfileSpec, profile_fields);

static const FieldDesc gnp_fields[] = {
        FIELD(PolicySpec, "tier", F_STRING, tier),
        FIELD(PolicySpec, "order", F_OPT_FLOAT, order),
        FIELD(PolicySpec, "selector", F_STRING, selector),
        FIELD(PolicySpec, "ingress", F_ARRAY, ingress, .sub = &rule_desc),
        FIELD(PolicySpec, "egress", F_ARRAY, egress, .sub = &rule_desc),
        FIELD(PolicySpec, "doNotTrack", F_BOOL, do_not_track),
        FIELD(PolicySpec, "preDNAT", F_BOOL, pre_dnat),
        FIELD(PolicySpec, "applyOnForward", F_BOOL, apply_on_forward),
        FIELD(PolicySpec, "types", F_STRLIST, types),
        FIELD(PolicySpec, "namespaceSelector", F_STRING, namespace_selector),
        FIELD(PolicySpec, "serviceAccountSelector", F_STRING, service_account_selector),
        FIELD(PolicySpec, "performanceHints", F_STRLIST, performance_hints),
};
static const StructDesc gnp_desc = STRUCT_DESC("GlobalNetworkPolicySpec", PolicySpec, gnp_fields);

static const FieldDesc np_fields[] = {
        FIELD(PolicySpec, "tier", F_STRING, tier),
        FIELD(PolicySpec, "order", F_OPT_FLOAT, order),
        FIELD(PolicySpec, "ingress", F_ARRAY, ingress, .sub = &rule_desc),
        FIELD(PolicySpec, "egress", F_ARRAY, egress, .sub = &rule_desc),
        FIELD(PolicySpec, "selector", F_STRING, selector),
        FIELD(PolicySpec, "types", F_STRLIST, types),
        FIELD(PolicySpec, "serviceAccountSelector", F_STRING, service_account_selector),
        FIELD(PolicySpec, "performanceHints", F_STRLIST, performance_hints),
};
static const StructDesc np_desc = STRUCT_DESC("NetworkPolicySpec", PolicySpec, np_fields);

/* StagedGlobalNetworkPolicySpec: a GNP's fields after stagedAction, in the
 * staged struct's own Go order (which differs from the GNP table's). */
static const FieldDesc sgnp_fields[] = {
        FIELD(PolicySpec, "stagedAction", F_STRING, staged_action),
        FIELD(PolicySpec, "tier", F_STRING, tier),
        FIELD(PolicySpec, "order", F_OPT_FLOAT, order),
        FIELD(PolicySpec, "ingress", F_ARRAY, ingress, .sub = &rule_desc),
        FIELD(PolicySpec, "egress", F_ARRAY, egress, .sub = &rule_desc),
        FIELD(PolicySpec, "selector", F_STRING, selector),
        FIELD(PolicySpec, "types", F_STRLIST, types),
        FIELD(PolicySpec, "doNotTrack", F_BOOL, do_not_track),
        FIELD(PolicySpec, "preDNAT", F_BOOL, pre_dnat),
        FIELD(PolicySpec, "applyOnForward", F_BOOL, apply_on_forward),
        FIELD(PolicySpec, "serviceAccountSelector", F_STRING, service_account_selector),
        FIELD(PolicySpec, "namespaceSelector", F_STRING, namespace_selector),
        FIELD(PolicySpec, "performanceHints", F_STRLIST, performance_hints),
};
static const StructDesc sgnp_desc = STRUCT_DESC("StagedGlobalNetworkPolicySpec", PolicySpec, sgnp_fields);

static const FieldDesc tier_fields[] = {
        FIELD(TierSpec, "order", F_OPT_FLOAT, order),
        FIELD(TierSpec, "defaultAction", F_STRING, default_action),
};
static const StructDesc tier_desc = STRUCT_DESC("TierSpec", TierSpec, tier_fields);

static const FieldDesc gns_fields[] = {
        FIELD(GlobalNetworkSetSpec, "nets", F_STRLIST, nets),
};
static const StructDesc gns_desc = STRUCT_DESC("GlobalNetworkSetSpec", GlobalNetworkSetSpec, gns_fields);

static const FieldDesc proto_port_fields[] = {
        FIELD(ProtoPort, "protocol", F_STRING, protocol, .always = true),
        FIELD(ProtoPort, "port", F_UINT16, port, .always = true),
        FIELD(ProtoPort, "net", F_STRING, net),
};
static const StructDesc proto_port_desc = STRUCT_DESC("ProtoPort", ProtoPort, proto_port_fields);

/* The fields hostendpoint uses (felix-config.c's typed rows); the others
 * are kept verbatim. */
static const FieldDesc felix_spec_fields[] = {
        FIELD(FelixConfigurationSpec, "failsafeInboundHostPorts", F_OPT_ARRAY, failsafe_inbound_host_ports,
              .sub = &proto_port_desc),
        FIELD(FelixConfigurationSpec, "failsafeOutboundHostPorts", F_OPT_ARRAY, failsafe_outbound_host_ports,
              .sub = &proto_port_desc),
        FIELD(FelixConfigurationSpec, "interfaceExclude", F_STRING, interface_exclude),
};
static const StructDesc felix_desc = {
        .name = "FelixConfigurationSpec",
        .size = sizeof(FelixConfigurationSpec),
        .fields = felix_spec_fields,
        .n_fields = ELEMENTSOF(felix_spec_fields),
        .is_other = felix_field_kept,
        .other_offset = offsetof(FelixConfigurationSpec, other),
};

static const FieldDesc meta_fields[] = {
        FIELD(ObjectMeta, "name", F_STRING, name),
        FIELD(ObjectMeta, "generateName", F_IGNORED, name),
        FIELD(ObjectMeta, "namespace", F_STRING, namespace),
        FIELD(ObjectMeta, "selfLink", F_IGNORED, name),
        FIELD(ObjectMeta, "uid", F_STRING, uid),
        FIELD(ObjectMeta, "resourceVersion", F_STRING, resource_version),
        FIELD(ObjectMeta, "generation", F_IGNORED, name),
        FIELD(ObjectMeta, "creationTimestamp", F_TIMESTAMP, creation_timestamp),
        FIELD(ObjectMeta, "deletionTimestamp", F_IGNORED, name),
        FIELD(ObjectMeta, "deletionGracePeriodSeconds", F_IGNORED, name),
        FIELD(ObjectMeta, "labels", F_LABELS, labels),
        FIELD(ObjectMeta, "annotations", F_LABELS, annotations),
        FIELD(ObjectMeta, "ownerReferences", F_IGNORED, name),
        FIELD(ObjectMeta, "finalizers", F_IGNORED, name),
        FIELD(ObjectMeta, "managedFields", F_IGNORED, name),
};
static const StructDesc meta_desc = STRUCT_DESC("ObjectMeta", ObjectMeta, meta_fields);

static const StructDesc *spec_desc(ResourceKind k) {
        switch (k) {
        case KIND_HOST_ENDPOINT:
                return &hep_desc;
        case KIND_PROFILE:
                return &profile_desc;
        case KIND_GLOBAL_NETWORK_POLICY:
                return &gnp_desc;
        case KIND_NETWORK_POLICY:
                return &np_desc;
        case KIND_TIER:
                return &tier_desc;
        case KIND_FELIX_CONFIGURATION:
                return &felix_desc;
        case KIND_GLOBAL_NETWORK_SET:
                return &gns_desc;
        case KIND_STAGED_GLOBAL_NETWORK_POLICY:
                return &sgnp_desc;
        case _KIND_MAX:
        case _KIND_INVALID:
                break;
        }
        return NULL;
}

/* ---- freeing ---- */

static void struct_done(const StructDesc *d, void *p);

static void strlist_done(StrList *l) {
        for (size_t i = 0; i < l->n; i++)
                free(l->v[i]);
        free(l->v);
        *l = (StrList) {};
}

static void field_done(const FieldDesc *f, void *base) {
        void *p = (char *)base + f->offset;

        switch (f->type) {
        case F_STRING:
                free(*(char **)p);
                *(char **)p = NULL;
                break;
        case F_SHARED:
        case F_TIMESTAMP:
                intern_unref(*(const char **)p);
                *(const char **)p = NULL;
                break;
        case F_STRLIST:
                strlist_done(p);
                break;
        case F_LABELS:
                labels_done(p);
                break;
        case F_PROTOCOL:
                free(((Protocol *)p)->name);
                *(Protocol *)p = (Protocol) {};
                break;
        case F_PORTS: {
                PortList *l = p;
                for (size_t i = 0; i < l->n; i++)
                        free(l->v[i].name);
                free(l->v);
                *l = (PortList) {};
                break;
        }
        case F_STRUCT:
                struct_done(f->sub, p);
                break;
        case F_OPT_STRUCT:
                if (*(void **)p) {
                        struct_done(f->sub, *(void **)p);
                        free(*(void **)p);
                        *(void **)p = NULL;
                }
                break;
        case F_ARRAY:
        case F_OPT_ARRAY: {
                GenericArray *a = f->type == F_ARRAY ? p : (void *)&((GenericOptArray *)p)->v;
                for (size_t i = 0; i < a->n; i++)
                        struct_done(f->sub, (char *)a->v + i * f->sub->size);
                free(a->v);
                a->v = NULL;
                a->n = 0;
                if (f->type == F_OPT_ARRAY)
                        ((GenericOptArray *)p)->set = false;
                break;
        }
        case F_BOOL:
        case F_OPT_INT:
        case F_OPT_FLOAT:
        case F_UINT16:
        case F_IGNORED:
        case _F_MAX:
        case _F_INVALID:
                break;
        }
}

static void struct_done(const StructDesc *d, void *p) {
        for (size_t i = 0; i < d->n_fields; i++)
                field_done(&d->fields[i], p);
        if (d->is_other) {
                Node **o = (Node **)((char *)p + d->other_offset);
                *o = node_free(*o);
        }
}

Resource *resource_new(ResourceKind kind) {
        Resource *r = calloc(1, sizeof(Resource));

        if (r) {
                r->kind = kind;
                r->n_ref = 1;
        }
        return r;
}

Resource *resource_ref(Resource *r) {
        if (r)
                r->n_ref++;
        return r;
}

Resource *resource_free(Resource *r) {
        if (!r || --r->n_ref > 0)
                return NULL;
        struct_done(&meta_desc, &r->meta);
        if (spec_desc(r->kind))
                struct_done(spec_desc(r->kind), &r->spec);
        free(r->file);
        node_free(r->source);
        free(r);
        return NULL;
}

/* ---- decoding ---- */

typedef struct Decoder {
        const char *file;
        ParseError *err;
        StrBuf path;
} Decoder;

static int decode_error(Decoder *d, const Node *n, const char *fmt, ...) _printf_(3, 4);
static int decode_error(Decoder *d, const Node *n, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        parse_error_setv(d->err, d->file, n ? n->line : 0, n ? n->column : 0, strbuf_str(&d->path), fmt, ap);
        va_end(ap);
        return -EINVAL;
}

static size_t path_push_key(Decoder *d, const char *key) {
        return strbuf_push_key(&d->path, key);
}

static size_t path_push_index(Decoder *d, size_t i) {
        return strbuf_push_index(&d->path, i);
}

static int decode_struct(Decoder *d, const StructDesc *desc, const Node *n, void *out);

/* strconv.FormatFloat(v, 'g', -1, bits), which is also what fmt's %v
 * prints: the shortest digits that identify the value at that width;
 * exponent form when the decimal exponent is < -4 or >= 6 (Go's threshold
 * for shortest 'g'), else plain digits. */
void format_go_g(double v, bool float32, char buf[static 32]) {
        char digits[32];
        int prec, exp10;

        /* First, as Go does: a float64 beyond float32's range is +-Inf
         * (and has no exponent for the code below to read). */
        if (float32)
                v = (float)v;
        if (v == 0) {
                snprintf(buf, 32, "%s0", signbit(v) ? "-" : "");
                return;
        }
        if (isinf(v) || isnan(v)) {
                snprintf(buf, 32, "%s", isnan(v) ? "NaN" : v > 0 ? "+Inf" : "-Inf");
                return;
        }
        for (prec = 0; prec < 17; prec++) {
                snprintf(digits, sizeof(digits), "%.*e", prec, v);
                if (float32 ? strtof(digits, NULL) == (float)v : strtod(digits, NULL) == v)
                        break;
        }
        exp10 = atoi(strchr(digits, 'e') + 1);
        if (exp10 < -4 || exp10 >= 6) {
                snprintf(buf, 32, "%s", digits);
                return;
        }
        snprintf(buf, 32, "%.*f", prec - exp10 > 0 ? prec - exp10 : 0, v);
}

/* Strings. sigs.k8s.io/yaml, knowing the target is a string, turns plain
 * YAML numbers and booleans into text before decoding: `node: 123` is
 * "123", `0x10` is "16", `yes` is "true", `1e3` is "1000". */
static int decode_string(Decoder *d, const Node *n, char **out) {
        char buf[32];
        const char *text = n->text;
        int64_t i;
        double x;
        bool b;

        if (n->type != NODE_SCALAR)
                return decode_error(d, n, "expected a string, got %s", node_kind_name(n));
        if (!n->quoted) {
                if (node_is_null(n))
                        text = "";
                else if (node_get_bool(n, &b) == 0)
                        text = b ? "true" : "false";
                else if (node_get_int64(n, &i) == 0 && !strpbrk(n->text, ".eE") && !strstr(n->text, "inf")) {
                        snprintf(buf, sizeof(buf), "%" PRId64, i);
                        text = buf;
                } else if (node_get_double(n, &x) == 0) {
                        format_go_g(x, true, buf);
                        text = buf;
                }
        }
        free(*out);
        *out = strdup(text);
        return *out ? 0 : -ENOMEM;
}

static int decode_shared_string(Decoder *d, const Node *n, const char **out) {
        char *text = NULL;
        int r = decode_string(d, n, &text);

        if (r < 0)
                return r;
        intern_unref(*out);
        *out = intern_ref(text);
        free(text);
        return *out ? 0 : -ENOMEM;
}

static int decode_strlist(Decoder *d, const Node *n, StrList *out) {
        if (n->type != NODE_SEQ)
                return decode_error(d, n, "expected a list of strings, got %s", node_kind_name(n));
        strlist_done(out);
        out->v = new_array(n->n, sizeof(char *));
        if (!out->v)
                return -ENOMEM;
        for (size_t i = 0; i < n->n; i++) {
                size_t old = path_push_index(d, i);
                int r = decode_string(d, n->items[i], &out->v[out->n]);
                strbuf_truncate(&d->path, old);
                if (r < 0)
                        return r;
                out->n++;
        }
        return 0;
}

static int decode_labels(Decoder *d, const Node *n, Labels *out) {
        if (n->type != NODE_MAP)
                return decode_error(d, n, "expected a map of strings, got %s", node_kind_name(n));
        labels_done(out);
        for (size_t i = 0; i < n->n; i++) {
                const Node *v = n->entries[i].value;
                size_t old = path_push_key(d, n->entries[i].key->text);
                int r = 0;
                _cleanup_free_ char *value = NULL;
                r = decode_string(d, v, &value);
                if (r >= 0)
                        r = labels_set(out, n->entries[i].key->text, value);
                strbuf_truncate(&d->path, old);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int decode_int(Decoder *d, const Node *n, int64_t min, int64_t max, int64_t *out) {
        int r = node_get_int64(n, out);

        if (r == -ERANGE || (r == 0 && (*out < min || *out > max)))
                return decode_error(d, n, "number '%s' is out of range (%" PRId64 "..%" PRId64 ")",
                                    n->text, min, max);
        if (r < 0)
                return decode_error(d, n, "expected an integer, got %s", node_kind_name(n));
        return 0;
}

/* numorstring.Protocol: numbers and all-digit strings are numeric (0..255);
 * any other string is a name, kept exactly as written. */
static int decode_protocol(Decoder *d, const Node *n, Protocol *out) {
        int64_t v;

        if (n->type != NODE_SCALAR)
                return decode_error(d, n, "expected a protocol name or number, got %s", node_kind_name(n));
        free(out->name);
        *out = (Protocol) { .set = true };
        if (node_is_string(n)) {
                const char *s = n->text;
                bool digits = *s && strspn(s, "0123456789") == strlen(s);
                if (digits && strlen(s) <= 3 && atoi(s) <= 255) {
                        out->is_number = true;
                        out->number = (uint8_t)atoi(s);
                        return 0;
                }
                out->name = strdup(s);
                return out->name ? 0 : -ENOMEM;
        }
        if (node_get_int64(n, &v) < 0)
                return decode_error(d, n, "expected a protocol name or number, got %s", node_kind_name(n));
        if (v < 0 || v > 255)
                return decode_error(d, n, "protocol number '%s' is out of range (0..255)", n->text);
        out->is_number = true;
        out->number = (uint8_t)v;
        return 0;
}

static bool is_named_port_chars(const char *s) {
        size_t len = strlen(s);

        if (len < 1 || len > 128)
                return false;
        for (const char *p = s; *p; p++)
                if (!isalnum((unsigned char)*p) && *p != '_' && *p != '.' && *p != '-')
                        return false;
        return true;
}

static bool parse_port_number(const char *s, size_t len, uint16_t *ret) {
        unsigned long v = 0;

        if (len == 0 || len > 5)
                return false;
        for (size_t i = 0; i < len; i++) {
                if (!isdigit((unsigned char)s[i]))
                        return false;
                v = v * 10 + (unsigned long)(s[i] - '0');
        }
        if (v > 65535)
                return false;
        *ret = (uint16_t)v;
        return true;
}

/* numorstring.Port, with the messages its JSON decoder gives. */
static int decode_port(Decoder *d, const Node *n, Port *out) {
        const char *s = n->text, *colon;
        int64_t v;

        if (n->type != NODE_SCALAR)
                return decode_error(d, n, "expected a port number, range or name, got %s", node_kind_name(n));
        if (!node_is_string(n)) {
                if (node_get_int64(n, &v) < 0 || v < 0 || v > 65535)
                        return decode_error(d, n, "invalid port format (%s)", s);
                *out = (Port) { .kind = PORT_SINGLE, .min = (uint16_t)v, .max = (uint16_t)v };
                return 0;
        }
        if (*s && strspn(s, "0123456789") == strlen(s)) {
                uint16_t p;
                if (!parse_port_number(s, strlen(s), &p))
                        return decode_error(d, n, "invalid port format (%s)", s);
                *out = (Port) { .kind = PORT_SINGLE, .min = p, .max = p };
                return 0;
        }
        colon = strchr(s, ':');
        if (colon && strspn(s, "0123456789") == (size_t)(colon - s) && colon > s && colon[1] &&
            strspn(colon + 1, "0123456789") == strlen(colon + 1)) {
                uint16_t lo, hi;
                if (!parse_port_number(s, (size_t)(colon - s), &lo) ||
                    !parse_port_number(colon + 1, strlen(colon + 1), &hi))
                        return decode_error(d, n, "invalid port format (%s)", s);
                if (lo > hi)
                        return decode_error(d, n,
                                            "minimum port number (%u) is greater than maximum port number (%u) in port range",
                                            lo, hi);
                *out = (Port) { .kind = PORT_RANGE, .min = lo, .max = hi };
                return 0;
        }
        if (!is_named_port_chars(s))
                return decode_error(d, n, "invalid name for named port (%s)", s);
        *out = (Port) { .kind = PORT_NAMED, .name = strdup(s) };
        return out->name ? 0 : -ENOMEM;
}

static int decode_ports(Decoder *d, const Node *n, PortList *out) {
        if (n->type != NODE_SEQ)
                return decode_error(d, n, "expected a list of ports, got %s", node_kind_name(n));
        out->v = new_array(n->n, sizeof(Port));
        if (!out->v)
                return -ENOMEM;
        for (size_t i = 0; i < n->n; i++) {
                size_t old = path_push_index(d, i);
                int r = decode_port(d, n->items[i], &out->v[out->n]);
                strbuf_truncate(&d->path, old);
                if (r < 0)
                        return r;
                out->n++;
        }
        return 0;
}

/* RFC 3339 → "YYYY-MM-DDTHH:MM:SSZ" in UTC, as metav1.Time prints. */
static int decode_timestamp(Decoder *d, const Node *n, const char **out) {
        struct tm tm = {};
        const char *p;
        long off = 0;
        char buf[32];
        time_t t;

        if (n->type != NODE_SCALAR)
                return decode_error(d, n, "expected an RFC 3339 timestamp, got %s", node_kind_name(n));
        p = strptime(n->text, "%Y-%m-%dT%H:%M:%S", &tm);
        if (!p)
                return decode_error(d, n, "expected an RFC 3339 timestamp such as 2006-01-02T15:04:05Z, got '%s'",
                                    n->text);
        if (*p == '.')
                for (p++; isdigit((unsigned char)*p); p++)
                        ;
        if (*p == 'Z' || *p == 'z')
                p++;
        else if ((*p == '+' || *p == '-') && isdigit((unsigned char)p[1]) && isdigit((unsigned char)p[2]) &&
                 p[3] == ':' && isdigit((unsigned char)p[4]) && isdigit((unsigned char)p[5])) {
                off = ((p[1] - '0') * 10 + (p[2] - '0')) * 3600 + ((p[4] - '0') * 10 + (p[5] - '0')) * 60;
                if (*p == '-')
                        off = -off;
                p += 6;
        } else
                p = "x";
        if (*p)
                return decode_error(d, n, "expected an RFC 3339 timestamp such as 2006-01-02T15:04:05Z, got '%s'",
                                    n->text);
        t = timegm(&tm) - off;
        gmtime_r(&t, &tm);
        strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
        intern_unref(*out);
        *out = intern_ref(buf);
        return *out ? 0 : -ENOMEM;
}

static int decode_array(Decoder *d, const FieldDesc *f, const Node *n, GenericArray *out) {
        if (n->type != NODE_SEQ)
                return decode_error(d, n, "expected a list, got %s", node_kind_name(n));
        out->v = new_array(n->n, f->sub->size);
        if (!out->v)
                return -ENOMEM;
        for (size_t i = 0; i < n->n; i++) {
                size_t old = path_push_index(d, i);
                int r = decode_struct(d, f->sub, n->items[i], (char *)out->v + out->n * f->sub->size);
                strbuf_truncate(&d->path, old);
                out->n++; /* counted even on failure so that freeing covers it */
                if (r < 0)
                        return r;
        }
        return 0;
}

static int decode_field(Decoder *d, const FieldDesc *f, const Node *n, void *base) {
        void *p = (char *)base + f->offset;
        int64_t v;
        int r;

        /* null is "not set" for every field, as in Go's JSON decoding. */
        if (node_is_null(n))
                return 0;

        switch (f->type) {
        case F_STRING:
                return decode_string(d, n, p);
        case F_SHARED:
                return decode_shared_string(d, n, p);
        case F_TIMESTAMP:
                return decode_timestamp(d, n, p);
        case F_STRLIST:
                return decode_strlist(d, n, p);
        case F_LABELS:
                return decode_labels(d, n, p);
        case F_BOOL:
                if (node_get_bool(n, p) < 0)
                        return decode_error(d, n, "expected true or false, got %s", node_kind_name(n));
                return 0;
        case F_OPT_INT:
                r = decode_int(d, n, f->min, f->max, &v);
                if (r < 0)
                        return r;
                *(OptInt *)p = (OptInt) { true, v };
                return 0;
        case F_UINT16:
                r = decode_int(d, n, 0, 65535, &v);
                if (r < 0)
                        return r;
                *(uint16_t *)p = (uint16_t)v;
                return 0;
        case F_OPT_FLOAT: {
                double x;
                if (node_get_double(n, &x) < 0 || !isfinite(x))
                        return decode_error(d, n, "expected a number, got %s", node_kind_name(n));
                *(OptFloat *)p = (OptFloat) { true, x };
                return 0;
        }
        case F_PROTOCOL:
                return decode_protocol(d, n, p);
        case F_PORTS:
                return decode_ports(d, n, p);
        case F_STRUCT:
                return decode_struct(d, f->sub, n, p);
        case F_OPT_STRUCT: {
                void *s = calloc(1, f->sub->size);
                if (!s)
                        return -ENOMEM;
                *(void **)p = s;
                return decode_struct(d, f->sub, n, s);
        }
        case F_ARRAY:
                return decode_array(d, f, n, p);
        case F_OPT_ARRAY:
                ((GenericOptArray *)p)->set = true;
                return decode_array(d, f, n, (GenericArray *)&((GenericOptArray *)p)->v);
        case F_IGNORED:
                return 0;
        case _F_MAX:
        case _F_INVALID:
                break;
        }
        return -EINVAL;
}

/* Go's encoding/json matches field names exactly first, then ignoring case. */
static const FieldDesc *struct_find_field(const StructDesc *desc, const char *key) {
        for (size_t i = 0; i < desc->n_fields; i++)
                if (streq(desc->fields[i].name, key))
                        return &desc->fields[i];
        for (size_t i = 0; i < desc->n_fields; i++)
                if (strcasecmp(desc->fields[i].name, key) == 0)
                        return &desc->fields[i];
        return NULL;
}

static int struct_keep_other(const StructDesc *desc, const Node *key, const Node *value, void *out) {
        Node **other = (Node **)((char *)out + desc->other_offset);
        Node *k, *v;

        if (!*other) {
                *other = node_new(NODE_MAP, key->line, key->column);
                if (!*other)
                        return -ENOMEM;
        }
        k = node_copy(key);
        v = node_copy(value);
        if (!k || !v || node_map_add(*other, k, v) < 0) {
                node_free(k);
                node_free(v);
                return -ENOMEM;
        }
        return 0;
}

static bool struct_is_other(const StructDesc *desc, const char *key) {
        return desc->is_other && desc->is_other(key);
}

static int decode_struct(Decoder *d, const StructDesc *desc, const Node *n, void *out) {
        if (n->type != NODE_MAP)
                return decode_error(d, n, "expected a map, got %s", node_kind_name(n));
        for (size_t i = 0; i < n->n; i++) {
                const Node *key = n->entries[i].key, *value = n->entries[i].value;
                const FieldDesc *f = struct_find_field(desc, key->text);
                size_t old = path_push_key(d, key->text);
                int r;

                if (f)
                        r = decode_field(d, f, value, out);
                else if (struct_is_other(desc, key->text))
                        r = struct_keep_other(desc, key, value, out);
                else
                        r = decode_error(d, key, "field in document is not recognized or is in the wrong location: %s",
                                         key->text);
                strbuf_truncate(&d->path, old);
                if (r < 0)
                        return r;
        }
        return 0;
}

static const char *const top_level_fields[] = { "apiVersion", "kind", "metadata", "spec" };

int resource_decode(const char *file, Node **node, Resource **ret, ParseError *reterr) {
        Decoder d = { .file = file, .err = reterr };
        _cleanup_(resource_freep) Resource *res = NULL;
        const Node *n = *node, *kind, *api, *meta, *spec;
        const KindInfo *k;
        int r;

        if (n->type != NODE_MAP)
                return decode_error(&d, n, "expected a resource (a map with apiVersion, kind, metadata and spec), got %s",
                                    node_kind_name(n));
        for (size_t i = 0; i < n->n; i++) {
                bool known = false;
                for (size_t j = 0; j < ELEMENTSOF(top_level_fields); j++)
                        known = known || strcasecmp(n->entries[i].key->text, top_level_fields[j]) == 0;
                if (!known) {
                        path_push_key(&d, n->entries[i].key->text);
                        r = decode_error(&d, n->entries[i].key,
                                         "field in document is not recognized or is in the wrong location: %s",
                                         n->entries[i].key->text);
                        strbuf_done(&d.path);
                        return r;
                }
        }

        kind = node_map_get(n, "kind");
        api = node_map_get(n, "apiVersion");
        k = kind && node_is_string(kind) ? kind_from_name(kind->text) : NULL;
        if (!k || !api || !node_is_string(api) || !streq(api->text, CALICO_API_VERSION))
                return decode_error(&d, kind ? kind : n, "unknown resource type (%s) and/or version (%s)",
                                    kind && kind->type == NODE_SCALAR ? kind->text : "",
                                    api && api->type == NODE_SCALAR ? api->text : "");

        res = resource_new(k->kind);
        if (!res)
                return -ENOMEM;
        meta = node_map_get(n, "metadata");
        spec = node_map_get(n, "spec");
        r = 0;
        if (meta && !node_is_null(meta)) {
                path_push_key(&d, "metadata");
                r = decode_struct(&d, &meta_desc, meta, &res->meta);
                strbuf_truncate(&d.path, 0);
        }
        if (r >= 0 && spec && !node_is_null(spec)) {
                path_push_key(&d, "spec");
                r = decode_struct(&d, spec_desc(k->kind), spec, &res->spec);
        }
        strbuf_done(&d.path);
        if (r < 0)
                return r;

        if (file) {
                res->file = strdup(file);
                if (!res->file)
                        return -ENOMEM;
        }
        res->source = steal_ptr(*node);
        *ret = steal_ptr(res);
        return 0;
}

/* ---- encoding ---- */

/* encoding/json's float format: shortest digits that read back exactly,
 * plain notation for 1e-6 <= |v| < 1e21, else exponent form with "e-07"
 * shortened to "e-7". */
void format_go_float(double v, char buf[static 32]) {
        double a = fabs(v);

        if (a == 0 || (a >= 1e-6 && a < 1e21)) {
                for (int decimals = 0; decimals <= 30; decimals++) {
                        snprintf(buf, 32, "%.*f", decimals, v);
                        if (strtod(buf, NULL) == v)
                                return;
                }
                return;
        }
        for (int prec = 0; prec <= 17; prec++) {
                snprintf(buf, 32, "%.*e", prec, v);
                if (strtod(buf, NULL) == v)
                        break;
        }
        size_t n = strlen(buf);
        if (n >= 4 && buf[n - 4] == 'e' && buf[n - 3] == '-' && buf[n - 2] == '0') {
                buf[n - 2] = buf[n - 1];
                buf[n - 1] = 0;
        }
}

static Node *scalar(const char *text, bool quoted) {
        return node_new_scalar(text, quoted);
}

static Node *encode_struct(const StructDesc *desc, const void *p);

static Node *encode_strlist(const StrList *l) {
        Node *n = node_new(NODE_SEQ, 0, 0);

        for (size_t i = 0; n && i < l->n; i++) {
                Node *s = scalar(l->v[i], true);
                if (!s || node_seq_add(n, s) < 0) {
                        node_free(s);
                        return node_free(n);
                }
        }
        return n;
}

static Node *encode_labels(const Labels *l) {
        Node *n = node_new(NODE_MAP, 0, 0);

        for (size_t i = 0; n && i < l->n; i++)
                if (node_map_set_string(n, l->pairs[i].key, l->pairs[i].value) < 0)
                        return node_free(n);
        return n;
}

static Node *encode_protocol(const Protocol *p) {
        char buf[8];

        if (!p->is_number)
                return scalar(p->name ? p->name : "", true);
        snprintf(buf, sizeof(buf), "%u", p->number);
        return scalar(buf, false);
}

static Node *encode_ports(const PortList *l) {
        Node *n = node_new(NODE_SEQ, 0, 0);
        char buf[16];

        for (size_t i = 0; n && i < l->n; i++) {
                const Port *p = &l->v[i];
                Node *s = NULL;
                switch (p->kind) {
                case PORT_SINGLE:
                        snprintf(buf, sizeof(buf), "%u", p->min);
                        s = scalar(buf, false);
                        break;
                case PORT_RANGE:
                        snprintf(buf, sizeof(buf), "%u:%u", p->min, p->max);
                        s = scalar(buf, true);
                        break;
                case PORT_NAMED:
                        s = scalar(p->name, true);
                        break;
                case _PORT_KIND_MAX:
                case _PORT_KIND_INVALID:
                        break;
                }
                if (!s || node_seq_add(n, s) < 0) {
                        node_free(s);
                        return node_free(n);
                }
        }
        return n;
}

static Node *encode_array(const StructDesc *sub, const GenericArray *a) {
        Node *n = node_new(NODE_SEQ, 0, 0);

        for (size_t i = 0; n && i < a->n; i++) {
                Node *s = encode_struct(sub, (const char *)a->v + i * sub->size);
                if (!s || node_seq_add(n, s) < 0) {
                        node_free(s);
                        return node_free(n);
                }
        }
        return n;
}

/* Returns 1 and sets *ret when the field is to be printed, 0 when Go's
 * omitempty leaves it out, <0 on allocation failure. */
static int encode_field(const FieldDesc *f, const void *base, Node **ret) {
        const void *p = (const char *)base + f->offset;
        char buf[32];
        Node *n = NULL;

        switch (f->type) {
        case F_STRING:
        case F_SHARED:
        case F_TIMESTAMP: {
                const char *s = *(char *const *)p;
                if (isempty(s) && !f->always)
                        return 0;
                n = scalar(s ? s : "", true);
                break;
        }
        case F_STRLIST:
                if (((const StrList *)p)->n == 0)
                        return 0;
                n = encode_strlist(p);
                break;
        case F_LABELS:
                if (((const Labels *)p)->n == 0)
                        return 0;
                n = encode_labels(p);
                break;
        case F_BOOL:
                if (!*(const bool *)p)
                        return 0;
                n = scalar("true", false);
                break;
        case F_OPT_INT:
                if (!((const OptInt *)p)->set)
                        return 0;
                snprintf(buf, sizeof(buf), "%" PRId64, ((const OptInt *)p)->v);
                n = scalar(buf, false);
                break;
        case F_UINT16:
                snprintf(buf, sizeof(buf), "%u", *(const uint16_t *)p);
                n = scalar(buf, false);
                break;
        case F_OPT_FLOAT:
                if (!((const OptFloat *)p)->set)
                        return 0;
                format_go_float(((const OptFloat *)p)->v, buf);
                n = scalar(buf, false);
                break;
        case F_PROTOCOL:
                if (!((const Protocol *)p)->set && !f->always)
                        return 0;
                n = encode_protocol(p);
                break;
        case F_PORTS:
                if (((const PortList *)p)->n == 0)
                        return 0;
                n = encode_ports(p);
                break;
        case F_STRUCT:
                /* Calico v3.32 tags rule sides omitzero: empty ones are left out. */
                n = encode_struct(f->sub, p);
                if (n && n->n == 0 && !f->always) {
                        node_free(n);
                        return 0;
                }
                break;
        case F_OPT_STRUCT:
                if (!*(void *const *)p)
                        return 0;
                n = encode_struct(f->sub, *(void *const *)p);
                break;
        case F_ARRAY:
                if (((const GenericArray *)p)->n == 0)
                        return 0;
                n = encode_array(f->sub, p);
                break;
        case F_OPT_ARRAY: {
                const GenericOptArray *a = p;
                GenericArray g = { a->v, a->n };
                if (!a->set)
                        return 0;
                n = encode_array(f->sub, &g);
                break;
        }
        case F_IGNORED:
                return 0;
        case _F_MAX:
        case _F_INVALID:
                return 0;
        }
        if (!n)
                return -ENOMEM;
        *ret = n;
        return 1;
}

static Node *encode_struct(const StructDesc *desc, const void *p) {
        _cleanup_(node_freep) Node *n = node_new(NODE_MAP, 0, 0);

        if (!n)
                return NULL;
        for (size_t i = 0; i < desc->n_fields; i++) {
                Node *v = NULL;
                int r = encode_field(&desc->fields[i], p, &v);
                if (r < 0)
                        return NULL;
                if (r > 0 && node_map_set(n, desc->fields[i].name, v) < 0)
                        return NULL;
        }
        if (desc->is_other) {
                const Node *other = *(Node *const *)((const char *)p + desc->other_offset);
                for (size_t i = 0; other && i < other->n; i++) {
                        Node *v = node_copy(other->entries[i].value);
                        if (!v || node_map_set(n, other->entries[i].key->text, v) < 0)
                                return NULL;
                }
        }
        return steal_ptr(n);
}

Node *resource_encode(const Resource *r) {
        _cleanup_(node_freep) Node *n = node_new(NODE_MAP, 0, 0);

        if (!n || node_map_set_string(n, "kind", kind_info(r->kind)->name) < 0 ||
            node_map_set_string(n, "apiVersion", CALICO_API_VERSION) < 0 ||
            node_map_set(n, "metadata", encode_struct(&meta_desc, &r->meta)) < 0 ||
            node_map_set(n, "spec", encode_struct(spec_desc(r->kind), &r->spec)) < 0)
                return NULL;
        return steal_ptr(n);
}

Node *resource_encode_list(const KindInfo *k, Resource *const *items, size_t n_items, const char *list_revision) {
        _cleanup_(node_freep) Node *n = node_new(NODE_MAP, 0, 0);
        _cleanup_(node_freep) Node *seq = node_new(NODE_SEQ, 0, 0);
        Node *meta;

        if (!n || !seq)
                return NULL;
        for (size_t i = 0; i < n_items; i++) {
                Node *item = resource_encode(items[i]);
                if (!item || node_seq_add(seq, item) < 0) {
                        node_free(item);
                        return NULL;
                }
        }
        meta = node_new(NODE_MAP, 0, 0);
        if (meta && list_revision && node_map_set_string(meta, "resourceVersion", list_revision) < 0)
                meta = NULL;
        if (node_map_set_string(n, "apiVersion", CALICO_API_VERSION) < 0 ||
            node_map_set_string(n, "kind", k->list_name) < 0 || node_map_set(n, "items", steal_ptr(seq)) < 0 ||
            node_map_set(n, "metadata", meta) < 0)
                return NULL;
        return steal_ptr(n);
}

/* ---- copy and compare, through the canonical tree ---- */

/* ---- deep copy, field by field from the same tables ---- */

static int struct_copy(const StructDesc *d, const void *src, void *dst);

static int strdup_field(char **dst, const char *src) {
        *dst = NULL;
        if (!src)
                return 0;
        *dst = strdup(src);
        return *dst ? 0 : -ENOMEM;
}

static int strlist_copy(StrList *dst, const StrList *src) {
        *dst = (StrList) {};
        if (src->n == 0)
                return 0;
        dst->v = new_array(src->n, sizeof(char *));
        if (!dst->v)
                return -ENOMEM;
        for (size_t i = 0; i < src->n; i++) {
                if (strdup_field(&dst->v[i], src->v[i]) < 0)
                        return -ENOMEM;
                dst->n++;
        }
        return 0;
}

static int array_copy(const StructDesc *sub, GenericArray *dst, const GenericArray *src) {
        *dst = (GenericArray) {};
        if (src->n == 0)
                return 0;
        dst->v = new_array(src->n, sub->size);
        if (!dst->v)
                return -ENOMEM;
        for (size_t i = 0; i < src->n; i++) {
                int r = struct_copy(sub, (const char *)src->v + i * sub->size, (char *)dst->v + i * sub->size);
                dst->n++; /* counted even on failure so that freeing covers it */
                if (r < 0)
                        return r;
        }
        return 0;
}

static int field_copy(const FieldDesc *f, const void *src_base, void *dst_base) {
        const void *src = (const char *)src_base + f->offset;
        void *dst = (char *)dst_base + f->offset;

        switch (f->type) {
        case F_STRING:
                return strdup_field(dst, *(char *const *)src);
        case F_SHARED:
        case F_TIMESTAMP: {
                const char *v = *(const char *const *)src;
                *(const char **)dst = v ? intern_ref(v) : NULL;
                return !v || *(const char **)dst ? 0 : -ENOMEM;
        }
        case F_STRLIST:
                return strlist_copy(dst, src);
        case F_LABELS:
                *(Labels *)dst = (Labels) LABELS_INIT;
                return labels_copy(dst, src);
        case F_BOOL:
                *(bool *)dst = *(const bool *)src;
                return 0;
        case F_OPT_INT:
                *(OptInt *)dst = *(const OptInt *)src;
                return 0;
        case F_OPT_FLOAT:
                *(OptFloat *)dst = *(const OptFloat *)src;
                return 0;
        case F_UINT16:
                *(uint16_t *)dst = *(const uint16_t *)src;
                return 0;
        case F_PROTOCOL:
                *(Protocol *)dst = *(const Protocol *)src;
                return strdup_field(&((Protocol *)dst)->name, ((const Protocol *)src)->name);
        case F_PORTS: {
                const PortList *s = src;
                PortList *d = dst;
                *d = (PortList) {};
                if (s->n == 0)
                        return 0;
                d->v = new_array(s->n, sizeof(Port));
                if (!d->v)
                        return -ENOMEM;
                for (size_t i = 0; i < s->n; i++) {
                        d->v[i] = s->v[i];
                        d->n++;
                        if (strdup_field(&d->v[i].name, s->v[i].name) < 0)
                                return -ENOMEM;
                }
                return 0;
        }
        case F_STRUCT:
                return struct_copy(f->sub, src, dst);
        case F_OPT_STRUCT:
                *(void **)dst = NULL;
                if (!*(void *const *)src)
                        return 0;
                *(void **)dst = calloc(1, f->sub->size);
                if (!*(void **)dst)
                        return -ENOMEM;
                return struct_copy(f->sub, *(void *const *)src, *(void **)dst);
        case F_ARRAY:
                return array_copy(f->sub, dst, src);
        case F_OPT_ARRAY:
                ((GenericOptArray *)dst)->set = ((const GenericOptArray *)src)->set;
                return array_copy(f->sub, (GenericArray *)&((GenericOptArray *)dst)->v,
                                  (const GenericArray *)&((const GenericOptArray *)src)->v);
        case F_IGNORED:
        case _F_MAX:
        case _F_INVALID:
                return 0;
        }
        return -EINVAL;
}

static int struct_copy(const StructDesc *d, const void *src, void *dst) {
        int r = 0;

        for (size_t i = 0; r >= 0 && i < d->n_fields; i++)
                r = field_copy(&d->fields[i], src, dst);
        if (r >= 0 && d->is_other) {
                Node *const *o = (Node *const *)((const char *)src + d->other_offset);
                Node **t = (Node **)((char *)dst + d->other_offset);
                *t = *o ? node_copy(*o) : NULL;
                if (*o && !*t)
                        r = -ENOMEM;
        }
        return r;
}

Resource *resource_copy_full(const Resource *r, bool with_source) {
        _cleanup_(resource_freep) Resource *c = resource_new(r->kind);

        if (!c)
                return NULL;
        if (struct_copy(&meta_desc, &r->meta, &c->meta) < 0 ||
            struct_copy(spec_desc(r->kind), &r->spec, &c->spec) < 0 || strdup_field(&c->file, r->file) < 0)
                return NULL;
        if (with_source && r->source) {
                c->source = node_copy(r->source);
                if (!c->source)
                        return NULL;
        }
        return steal_ptr(c);
}

Resource *resource_copy(const Resource *r) {
        return resource_copy_full(r, true);
}

static bool node_equal(const Node *a, const Node *b) {
        if (a->type != b->type || a->n != b->n)
                return false;
        switch (a->type) {
        case NODE_SCALAR:
                return streq(a->text, b->text);
        case NODE_MAP:
                for (size_t i = 0; i < a->n; i++)
                        if (!streq(a->entries[i].key->text, b->entries[i].key->text) ||
                            !node_equal(a->entries[i].value, b->entries[i].value))
                                return false;
                return true;
        case NODE_SEQ:
                for (size_t i = 0; i < a->n; i++)
                        if (!node_equal(a->items[i], b->items[i]))
                                return false;
                return true;
        case _NODE_TYPE_MAX:
        case _NODE_TYPE_INVALID:
                break;
        }
        return false;
}

bool resource_spec_equal(const Resource *a, const Resource *b) {
        _cleanup_(node_freep) Node *sa = NULL, *sb = NULL;

        if (a->kind != b->kind || !streq_ptr(a->meta.name, b->meta.name) ||
            !streq_ptr(a->meta.namespace, b->meta.namespace) || !labels_equal(&a->meta.labels, &b->meta.labels) ||
            !labels_equal(&a->meta.annotations, &b->meta.annotations))
                return false;
        sa = encode_struct(spec_desc(a->kind), &a->spec);
        sb = encode_struct(spec_desc(b->kind), &b->spec);
        return sa && sb && node_equal(sa, sb);
}
