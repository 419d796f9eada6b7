/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The Calico v3 resources hostendpoint understands, as typed C structs that
 * mirror the Go API types field for field (projectcalico.org/v3). Decoding
 * from documents and encoding back is table-driven (schema.c), so adding a
 * field means adding one line there. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "labels.h"
#include "node.h"

#define CALICO_API_VERSION "projectcalico.org/v3"

typedef enum ResourceKind {
        KIND_HOST_ENDPOINT,
        KIND_PROFILE,
        KIND_GLOBAL_NETWORK_POLICY,
        KIND_NETWORK_POLICY,
        KIND_TIER,
        KIND_FELIX_CONFIGURATION,
        KIND_GLOBAL_NETWORK_SET,
        KIND_STAGED_GLOBAL_NETWORK_POLICY, /* never enforced; see staged.h */
        _KIND_MAX,
        _KIND_INVALID = -EINVAL,
} ResourceKind;

typedef struct StrList {
        char **v;
        size_t n;
} StrList;

/* An optional integer or float, as Go's *int / *float64. */
typedef struct OptInt {
        bool set;
        int64_t v;
} OptInt;

typedef struct OptFloat {
        bool set;
        double v;
} OptFloat;

/* numorstring.Protocol: a number 0..255 or a name kept verbatim. */
typedef struct Protocol {
        bool set;
        bool is_number;
        uint8_t number;
        char *name;
} Protocol;

typedef enum PortKind {
        PORT_SINGLE,
        PORT_RANGE,
        PORT_NAMED,
        _PORT_KIND_MAX,
        _PORT_KIND_INVALID = -EINVAL,
} PortKind;

/* numorstring.Port: a number, "min:max" or a named port. */
typedef struct Port {
        PortKind kind;
        uint16_t min, max; /* equal for PORT_SINGLE */
        char *name;        /* PORT_NAMED */
} Port;

typedef struct PortList {
        Port *v;
        size_t n;
} PortList;

typedef struct ObjectMeta {
        char *name;
        char *namespace;
        char *uid;
        char *resource_version;
        const char *creation_timestamp; /* RFC 3339, UTC, seconds; shared (intern_ref): a file's resources share it */
        Labels labels;
        Labels annotations;
} ObjectMeta;

typedef struct EndpointPort {
        char *name;
        Protocol protocol;
        uint16_t port;
} EndpointPort;

typedef struct HostEndpointSpec {
        const char *node; /* many HEPs per node: a shared copy, set with intern_ref() */
        char *interface_name;
        StrList expected_ips;
        StrList profiles;
        struct {
                EndpointPort *v;
                size_t n;
        } ports;
} HostEndpointSpec;

typedef struct ICMPFields {
        OptInt type;
        OptInt code;
} ICMPFields;

typedef struct ServiceAccountMatch {
        StrList names;
        char *selector;
} ServiceAccountMatch;

typedef struct ServiceMatch {
        char *name;
        char *namespace;
} ServiceMatch;

typedef struct EntityRule {
        StrList nets;
        char *selector;
        char *namespace_selector;
        PortList ports;
        StrList not_nets;
        char *not_selector;
        PortList not_ports;
        ServiceAccountMatch *service_accounts;
        ServiceMatch *services;
} EntityRule;

typedef struct HTTPPath {
        char *exact;
        char *prefix;
} HTTPPath;

typedef struct HTTPMatch {
        StrList methods;
        struct {
                HTTPPath *v;
                size_t n;
        } paths;
} HTTPMatch;

typedef struct RuleMetadata {
        Labels annotations;
} RuleMetadata;

typedef struct Rule {
        char *action; /* kept as written; validation checks the enum */
        OptInt ip_version;
        Protocol protocol;
        ICMPFields *icmp;
        Protocol not_protocol;
        ICMPFields *not_icmp;
        EntityRule source;
        EntityRule destination;
        HTTPMatch *http;
        RuleMetadata *metadata;
} Rule;

typedef struct RuleList {
        Rule *v;
        size_t n;
} RuleList;

/* GlobalNetworkPolicy, NetworkPolicy and StagedGlobalNetworkPolicy share
 * one spec type; the fields a kind lacks are rejected by its schema, not
 * here (only the staged kind has staged_action). */
typedef struct PolicySpec {
        char *staged_action; /* "Set", "Delete", "Learn", "Ignore"; StagedGlobalNetworkPolicy only */
        char *tier;
        OptFloat order;
        char *selector;
        StrList types;
        RuleList ingress;
        RuleList egress;
        bool do_not_track;
        bool pre_dnat;
        bool apply_on_forward;
        char *namespace_selector;
        char *service_account_selector;
        StrList performance_hints;
} PolicySpec;

typedef struct ProfileSpec {
        RuleList ingress;
        RuleList egress;
        Labels labels_to_apply;
} ProfileSpec;

typedef struct TierSpec {
        OptFloat order;
        char *default_action;
} TierSpec;

typedef struct GlobalNetworkSetSpec {
        StrList nets; /* as written: CIDRs, or bare addresses (calicoctl's "cidr" tag takes both) */
} GlobalNetworkSetSpec;

typedef struct ProtoPort {
        char *protocol;
        uint16_t port;
        char *net;
} ProtoPort;

/* Go's *[]ProtoPort: absent (defaults apply) differs from empty (none). */
typedef struct ProtoPortList {
        bool set;
        ProtoPort *v;
        size_t n;
} ProtoPortList;

typedef struct FelixConfigurationSpec {
        ProtoPortList failsafe_inbound_host_ports;
        ProtoPortList failsafe_outbound_host_ports;
        char *interface_exclude;
        /* Every other FelixConfiguration field: accepted, kept for output,
         * not used. A map node, or NULL. */
        Node *other;
} FelixConfigurationSpec;

typedef struct Resource {
        ResourceKind kind;
        ObjectMeta meta;
        union {
                HostEndpointSpec hep;
                ProfileSpec profile;
                PolicySpec policy; /* GlobalNetworkPolicy, NetworkPolicy, StagedGlobalNetworkPolicy */
                TierSpec tier;
                FelixConfigurationSpec felix;
                GlobalNetworkSetSpec gns;
        } spec;
        /* Where it came from, for error messages: the file as named by the
         * user and the resource's own document node (owned). */
        char *file;
        Node *source;
        /* Resources are not changed once loaded; a reference keeps one
         * alive for whoever still computes with it (the enforcer). */
        unsigned n_ref;
} Resource;

Resource *resource_new(ResourceKind kind);
/* Drops a reference; frees on the last. */
Resource *resource_free(Resource *r);
Resource *resource_ref(Resource *r);
DEFINE_CLEANUP_FUNC(Resource, resource_free)
Resource *resource_copy(const Resource *r);
/* Without the source document: for copies that never report positions. */
Resource *resource_copy_full(const Resource *r, bool with_source);
/* Field-by-field equality of metadata name/labels/annotations and spec
 * (ignores uid, resourceVersion, creationTimestamp and source). */
bool resource_spec_equal(const Resource *a, const Resource *b);

/* ---- kinds ---- */

typedef struct KindInfo {
        ResourceKind kind;
        const char *name;      /* "HostEndpoint" */
        const char *list_name; /* "HostEndpointList" */
        const char *plural;    /* "hostendpoints", the etcd key segment */
        const char *const *aliases; /* for the CLI, matched case-insensitively */
        bool namespaced;
} KindInfo;

const KindInfo *kind_info(ResourceKind k);
/* The kinds whose spec is a PolicySpec (spec.policy): tiered policies. */
static inline bool kind_is_policy(ResourceKind k) {
        return k == KIND_GLOBAL_NETWORK_POLICY || k == KIND_NETWORK_POLICY || k == KIND_STAGED_GLOBAL_NETWORK_POLICY;
}
const KindInfo *kind_from_name(const char *name);  /* exact, as in files */
const KindInfo *kind_from_list_name(const char *name);
const KindInfo *kind_from_alias(const char *alias); /* CLI, case-insensitive */
/* "HostEndpoint(name)" or "NetworkPolicy(ns/name)", as Calico's errors say. */
char *resource_identifier(const Resource *r);

/* ---- decoding and encoding (schema.c) ---- */

/* Decodes one resource from its map node. Strict: unknown fields, wrong
 * types and out-of-range numbers are errors naming file:line:col and the
 * field path. On success takes ownership of *node (sets it NULL). */
int resource_decode(const char *file, Node **node, Resource **ret, ParseError *reterr);
/* Canonical tree in Calico's JSON field order (kind, apiVersion, metadata,
 * spec), empty optional fields left out as Go's omitempty does. */
Node *resource_encode(const Resource *r);
/* The document for a list: { apiVersion, kind: <Kind>List, items, metadata }. */
Node *resource_encode_list(const KindInfo *k, Resource *const *items, size_t n, const char *list_revision);

/* Go's strconv.FormatFloat(f, 'g'-like, -1) as encoding/json prints floats. */
void format_go_float(double v, char buf[static 32]);
/* strconv.FormatFloat(v, 'g', -1, 32 or 64), as fmt's %v prints floats. */
void format_go_g(double v, bool float32, char buf[static 32]);
