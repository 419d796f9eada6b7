/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Calico v3.32.1 validation: every H/R/E/G rule from both sides, the
 * messages in calicoctl's words, error order, the CRD/CEL second pass and
 * the defaulting helpers. Resources are written as YAML and decoded by the
 * loader, so the cases read like the files users write. */
#include "tests.h"

#include <stdarg.h>

#include "loader.h"
#include "validate.h"

/* ---- helpers ---- */

static Resource *load(const char *yaml, int line) {
        ResourceList l = RESOURCE_LIST_INIT;
        ParseError e = PARSE_ERROR_INIT;
        Resource *r;

        if (resources_parse(NULL, yaml, strlen(yaml), &l, &e) < 0) {
                fprintf(stderr, "line %d: cannot load test resource: %s\n%s\n", line, parse_error_format(&e), yaml);
                abort();
        }
        if (l.n != 1) {
                fprintf(stderr, "line %d: expected one resource, got %zu\n", line, l.n);
                abort();
        }
        r = steal_ptr(l.v[0]);
        resource_list_done(&l);
        return r;
}

/* NULL if valid, else the calicoctl text. */
static char *validate_text(const char *yaml, int line) {
        _cleanup_(resource_freep) Resource *r = load(yaml, line);
        _cleanup_(validation_errors_done) ValidationErrors errs = {};
        int k = resource_validate(r, &errs);

        if (k == 0) {
                if (errs.n != 0) {
                        fprintf(stderr, "line %d: valid but %zu errors\n", line, errs.n);
                        abort();
                }
                return NULL;
        }
        if (k != -EINVAL || errs.n == 0) {
                fprintf(stderr, "line %d: resource_validate() = %d with %zu errors\n", line, k, errs.n);
                abort();
        }
        return validation_errors_format(&errs);
}

static void expect_valid(const char *yaml, int line) {
        _cleanup_free_ char *t = validate_text(yaml, line);

        if (t) {
                fprintf(stderr, "line %d: expected valid:\n  %s\ngot:\n%s\n", line, yaml, t);
                abort();
        }
}

static void expect_invalid(const char *yaml, int line) {
        _cleanup_free_ char *t = validate_text(yaml, line);

        if (!t) {
                fprintf(stderr, "line %d: expected invalid:\n  %s\n", line, yaml);
                abort();
        }
}

static void expect_error(const char *yaml, const char *want, int line) {
        _cleanup_free_ char *t = validate_text(yaml, line);

        if (!t || !streq(t, want)) {
                fprintf(stderr, "line %d: for\n  %s\nexpected:\n%s\ngot:\n%s\n", line, yaml, want, t ? t : "(valid)");
                abort();
        }
}

static void expect_contains(const char *yaml, const char *want, int line) {
        _cleanup_free_ char *t = validate_text(yaml, line);

        if (!t || !strstr(t, want)) {
                fprintf(stderr, "line %d: for\n  %s\nexpected to contain:\n%s\ngot:\n%s\n", line, yaml, want,
                        t ? t : "(valid)");
                abort();
        }
}

#define VALID(y) expect_valid(y, __LINE__)
#define INVALID(y) expect_invalid(y, __LINE__)
#define ERROR(y, want) expect_error(y, want, __LINE__)
#define CONTAINS(y, want) expect_contains(y, want, __LINE__)
/* One errored field, or several in order. */
#define ONE(e) "error with field " e
#define MANY(...) "error with the following fields:\n" __VA_ARGS__
#define ITEM(e) "-  " e "\n"
#define TAG(field, tag) "(Reason: failed to validate Field: " field " because of Tag: " tag " )"

/* Runtime-built YAML for lengths that are awkward to write out. */
static char *fmt(const char *f, ...) _printf_(1, 2);
static char *fmt(const char *f, ...) {
        va_list ap;
        char *s;

        va_start(ap, f);
        if (vasprintf(&s, f, ap) < 0)
                abort();
        va_end(ap);
        return s;
}

static char *repeat(char c, size_t n) {
        char *s = malloc(n + 1);

        if (!s)
                abort();
        memset(s, c, n);
        s[n] = 0;
        return s;
}

#define API "apiVersion: projectcalico.org/v3, "
#define HEP(spec) "{" API "kind: HostEndpoint, metadata: {name: hep1}, spec: " spec "}"
#define HEPN(name, spec) "{" API "kind: HostEndpoint, metadata: {name: " name "}, spec: " spec "}"
#define PROFILE(spec) "{" API "kind: Profile, metadata: {name: prof}, spec: " spec "}"
#define RULE(rule) PROFILE("{ingress: [" rule "]}")
#define GNPN(name, spec) "{" API "kind: GlobalNetworkPolicy, metadata: {name: " name "}, spec: " spec "}"
#define GNP(spec) GNPN("thing", spec)
#define GNP_IN(rule) GNP("{ingress: [" rule "]}")
#define GNP_OUT(rule) GNP("{egress: [" rule "]}")
#define SGNPN(name, spec) "{" API "kind: StagedGlobalNetworkPolicy, metadata: {name: " name "}, spec: " spec "}"
#define SGNP(spec) SGNPN("thing", spec)
#define NPN(name, spec) "{" API "kind: NetworkPolicy, metadata: {name: " name ", namespace: default}, spec: " spec "}"
#define NP(spec) NPN("thing", spec)
#define TIER(name, spec) "{" API "kind: Tier, metadata: {name: " name "}, spec: " spec "}"
#define FELIX(name, spec) "{" API "kind: FelixConfiguration, metadata: {name: " name "}, spec: " spec "}"

#define SUBDOMAIN_MSG \
        "name must consist of lower case alphanumeric characters, '-' or '.' (regex: " \
        "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)"
#define LABEL_NAME_MSG "name must consist of lower case alphanumeric characters or '-' (regex: [a-z0-9]([-a-z0-9]*[a-z0-9])?)"
#define EMPTY_ENTITY "{[]   <nil> [] []  [] <nil>}"

/* ---- formatting ---- */

/* ErroredField.String() and ErrorValidation.Error(), including the forms
 * with a nil value, no reason, and a plain (non-field) error. */
static void test_format(void) {
        ValidationErrors e = {};
        FieldError f[] = {
                { .field = (char *)"InterfaceName", .value = (char *)"", .reason = (char *)"no node" },
                { .field = (char *)"spec", .reason = (char *)"node must be specified" },
                { .field = (char *)"Port", .value = (char *)"0" },
        };
        char *t;

        t = validation_errors_format(&e);
        ASSERT_STREQ(t, "unknown validation error");
        free(t);

        e.v = f;
        e.n = 1;
        t = validation_errors_format(&e);
        ASSERT_STREQ(t, "error with field InterfaceName = '' (no node)");
        free(t);

        e.n = 3;
        t = validation_errors_format(&e);
        ASSERT_STREQ(t, "error with the following fields:\n"
                        "-  InterfaceName = '' (no node)\n"
                        "-  spec (node must be specified)\n"
                        "-  Port = '0'\n");
        free(t);

        e.v = &(FieldError) { .reason = (char *)"plain words" };
        e.n = 1;
        t = validation_errors_format(&e);
        ASSERT_STREQ(t, "plain words");
        free(t);
}

/* ---- HostEndpoint ---- */

/* H1/H2 accept sides: interface, "*", or expected IPs alone, with a node. */
static void test_hep_valid(void) {
        VALID(HEP("{node: node1, interfaceName: eth0}"));
        VALID(HEP("{node: node1, interfaceName: '*'}"));
        VALID(HEP("{node: node1, expectedIPs: [10.0.0.1]}"));
        VALID(HEP("{node: node1, expectedIPs: ['fd00::1', '::ffff:10.0.0.1', 10.0.0.2]}"));
        VALID(HEP("{node: node1, interfaceName: Valid_Iface.0-9, expectedIPs: [10.0.0.1]}"));
        VALID(HEP("{node: node01, interfaceName: eth0, profiles: [prof-1, a.b, k8s]}"));
        VALID(HEP("{node: my.node-1, interfaceName: eth0}"));
        VALID(HEPN("a.b-c", "{node: n, interfaceName: e}"));
}

/* H1 and H2, with the CRD's CEL copies of both appended after. */
static void test_hep_h1_h2(void) {
        ERROR(HEP("{node: node1}"),
              MANY(ITEM("InterfaceName = '' (no interface or expected IPs have been specified)")
                   ITEM("spec (at least one of interfaceName or expectedIPs must be specified)")));
        ERROR(HEP("{node: node1, interfaceName: '', expectedIPs: []}"),
              MANY(ITEM("InterfaceName = '' (no interface or expected IPs have been specified)")
                   ITEM("spec (at least one of interfaceName or expectedIPs must be specified)")));
        ERROR(HEP("{interfaceName: eth0}"),
              MANY(ITEM("InterfaceName = '' (no node has been specified)") ITEM("spec (node must be specified)")));
        ERROR(HEP("{}"),
              MANY(ITEM("InterfaceName = '' (no interface or expected IPs have been specified)")
                   ITEM("InterfaceName = '' (no node has been specified)")
                   ITEM("spec (at least one of interfaceName or expectedIPs must be specified)")
                   ITEM("spec (node must be specified)")));
        ERROR(HEP("{node: '', expectedIPs: [10.0.0.1]}"),
              MANY(ITEM("InterfaceName = '' (no node has been specified)") ITEM("spec (node must be specified)")));
}

/* H3: node and profiles are resource names, interfaceName the ifname
 * syntax, expectedIPs bare addresses as Go's ParseIP takes them. */
static void test_hep_h3(void) {
        ERROR(HEP("{node: Node_1, interfaceName: eth0}"),
              ONE("Node = 'Node_1' " TAG("Node", "name")));
        ERROR(HEP("{node: node1., interfaceName: eth0}"), ONE("Node = 'node1.' " TAG("Node", "name")));
        ERROR(HEP("{node: node1, interfaceName: Invalid&Intface}"),
              ONE("InterfaceName = 'Invalid&Intface' " TAG("InterfaceName", "interface")));
        ERROR(HEP("{node: node1, interfaceName: 'Invalid#Intface'}"),
              ONE("InterfaceName = 'Invalid#Intface' " TAG("InterfaceName", "interface")));
        ERROR(HEP("{node: node1, interfaceName: 'Invalid:Intface'}"),
              ONE("InterfaceName = 'Invalid:Intface' " TAG("InterfaceName", "interface")));
        ERROR(HEP("{node: node1, interfaceName: 'eth*'}"), ONE("InterfaceName = 'eth*' " TAG("InterfaceName", "interface")));
        ERROR(HEP("{node: node1, interfaceName: 'eth 0'}"),
              ONE("InterfaceName = 'eth 0' " TAG("InterfaceName", "interface")));
        /* 16 characters: the Go regex and the CRD's maxLength both object. */
        ERROR(HEP("{node: node1, interfaceName: interfaceTooLong}"),
              MANY(ITEM("InterfaceName = 'interfaceTooLong' " TAG("InterfaceName", "interface"))
                   ITEM("spec.interfaceName (may not be more than 15 bytes)")));
        VALID(HEP("{node: node1, interfaceName: interfaceToLong}"));

        ERROR(HEP("{node: node1, expectedIPs: [10.0.0.1/32]}"),
              ONE("ExpectedIPs[0] = '10.0.0.1/32' " TAG("ExpectedIPs[0]", "ip")));
        ERROR(HEP("{node: node1, expectedIPs: [10.0.0.1, 999.999.999.999]}"),
              ONE("ExpectedIPs[1] = '999.999.999.999' " TAG("ExpectedIPs[1]", "ip")));
        ERROR(HEP("{node: node1, expectedIPs: [010.0.0.1]}"), ONE("ExpectedIPs[0] = '010.0.0.1' " TAG("ExpectedIPs[0]", "ip")));
        ERROR(HEP("{node: node1, expectedIPs: ['fe80::1%eth0']}"),
              ONE("ExpectedIPs[0] = 'fe80::1%eth0' " TAG("ExpectedIPs[0]", "ip")));
        ERROR(HEP("{node: node1, expectedIPs: ['xyz:::']}"), ONE("ExpectedIPs[0] = 'xyz:::' " TAG("ExpectedIPs[0]", "ip")));
        ERROR(HEP("{node: node1, expectedIPs: [host.example.com]}"),
              ONE("ExpectedIPs[0] = 'host.example.com' " TAG("ExpectedIPs[0]", "ip")));
        /* An empty entry counts as an IP for H1 but is no address. */
        ERROR(HEP("{node: node1, expectedIPs: ['']}"), ONE("ExpectedIPs[0] = '' " TAG("ExpectedIPs[0]", "ip")));

        ERROR(HEP("{node: node1, interfaceName: eth0, profiles: [Prof]}"),
              ONE("Profiles[0] = 'Prof' " TAG("Profiles[0]", "name")));
        ERROR(HEP("{node: node1, interfaceName: eth0, profiles: [ok, '']}"),
              ONE("Profiles[1] = '' " TAG("Profiles[1]", "name")));
        ERROR(HEP("{node: node1, interfaceName: eth0, profiles: [a_b]}"), ONE("Profiles[0] = 'a_b' " TAG("Profiles[0]", "name")));
}

/* The node is a resource name with no Go length limit; the CRD caps it at
 * 253 characters. */
static void test_hep_node_length(void) {
        _cleanup_free_ char *n253 = repeat('a', 253), *n254 = repeat('a', 254);
        _cleanup_free_ char *ok = fmt(HEP("{node: %s, interfaceName: eth0}"), n253);
        _cleanup_free_ char *bad = fmt(HEP("{node: %s, interfaceName: eth0}"), n254);

        VALID(ok);
        ERROR(bad, ONE("spec.node (may not be more than 253 bytes)"));
}

/* H4: named ports. */
static void test_hep_ports(void) {
        VALID(HEP("{node: n, interfaceName: e, ports: [{name: a-valid-port, protocol: TCP, port: 1234}]}"));
        VALID(HEP("{node: n, interfaceName: e, ports: [{name: dns, protocol: UDP, port: 53}, {name: dns, protocol: TCP, port: 53}]}"));
        VALID(HEP("{node: n, interfaceName: e, ports: [{name: x, protocol: SCTP, port: 65535}]}"));
        VALID(HEP("{node: n, interfaceName: e, ports: [{name: x, protocol: 6, port: 1}, {name: y, protocol: 17, port: 2}, {name: z, protocol: 132, port: 3}]}"));
        VALID(HEP("{node: n, interfaceName: e, ports: [{name: x, protocol: '6', port: 1}]}"));

        ERROR(HEP("{node: n, interfaceName: e, ports: [{protocol: TCP, port: 1234}]}"),
              ONE("Name = '' " TAG("Name", "portName")));
        ERROR(HEP("{node: n, interfaceName: e, ports: [{name: Http, protocol: TCP, port: 80}]}"),
              ONE("Name = 'Http' " TAG("Name", "portName")));
        ERROR(HEP("{node: n, interfaceName: e, ports: [{name: a--b, protocol: TCP, port: 80}]}"),
              ONE("Name = 'a--b' " TAG("Name", "portName")));
        ERROR(HEP("{node: n, interfaceName: e, ports: [{name: '1234', protocol: TCP, port: 80}]}"),
              ONE("Name = '1234' " TAG("Name", "portName")));
        ERROR(HEP("{node: n, interfaceName: e, ports: [{name: abcdefghijklmnop, protocol: TCP, port: 80}]}"),
              ONE("Name = 'abcdefghijklmnop' " TAG("Name", "portName")));
        VALID(HEP("{node: n, interfaceName: e, ports: [{name: abcdefghijklmno, protocol: TCP, port: 80}]}"));

        ERROR(HEP("{node: n, interfaceName: e, ports: [{name: p, protocol: TCP, port: 0}]}"),
              MANY(ITEM("Port = '0' " TAG("Port", "gt"))
                   ITEM("spec.ports[0].port (spec.ports[0].port in body should be greater than or equal to 1)")));
        ERROR(HEP("{node: n, interfaceName: e, ports: [{name: p, protocol: ICMP, port: 1}]}"),
              ONE("EndpointPort.Protocol = 'ICMP' (EndpointPort protocol does not support ports.)"));
        ERROR(HEP("{node: n, interfaceName: e, ports: [{name: p, protocol: 1, port: 1}]}"),
              ONE("EndpointPort.Protocol = '1' (EndpointPort protocol does not support ports.)"));
        ERROR(HEP("{node: n, interfaceName: e, ports: [{name: p, protocol: 0, port: 1}]}"),
              MANY(ITEM("Protocol = '0' (protocol number invalid)")
                   ITEM("EndpointPort.Protocol = '0' (EndpointPort protocol does not support ports.)")));
        ERROR(HEP("{node: n, interfaceName: e, ports: [{name: p, port: 1}]}"),
              MANY(ITEM("Protocol = '0' (protocol number invalid)")
                   ITEM("EndpointPort.Protocol = '0' (EndpointPort protocol does not support ports.)")));
        ERROR(HEP("{node: n, interfaceName: e, ports: [{name: p, protocol: tcpx, port: 1}]}"),
              MANY(ITEM("Protocol = 'tcpx' (protocol name invalid)")
                   ITEM("EndpointPort.Protocol = 'tcpx' (EndpointPort protocol does not support ports.)")));
        /* Lower-case names are no valid protocol, yet they do carry ports. */
        ERROR(HEP("{node: n, interfaceName: e, ports: [{name: p, protocol: udp, port: 1}]}"),
              ONE("Protocol = 'udp' (protocol name invalid)"));
        /* Everything wrong at once, in Go field order. */
        ERROR(HEP("{node: n, interfaceName: e, ports: [{name: P, protocol: UDPLite, port: 0}]}"),
              MANY(ITEM("Name = 'P' " TAG("Name", "portName")) ITEM("Port = '0' " TAG("Port", "gt"))
                   ITEM("EndpointPort.Protocol = 'UDPLite' (EndpointPort protocol does not support ports.)")
                   ITEM("spec.ports[0].port (spec.ports[0].port in body should be greater than or equal to 1)")));
}

/* H5 (and every kind): metadata.name length and syntax. */
static void test_metadata_name(void) {
        _cleanup_free_ char *n253 = repeat('a', 253), *n254 = repeat('a', 254), *n300 = repeat('a', 300);
        _cleanup_free_ char *ok = fmt(HEPN("%s", "{node: n, interfaceName: e}"), n253);
        _cleanup_free_ char *bad = fmt(HEPN("%s", "{node: n, interfaceName: e}"), n254);
        _cleanup_free_ char *bad2 = fmt(HEPN("%s", "{node: n, interfaceName: e}"), n300);
        _cleanup_free_ char *want = fmt(ONE("Metadata.Name = '%s' (name is too long by 1 bytes)"), n254);

        VALID(ok);
        ERROR(bad, want);
        CONTAINS(bad2, "' (name is too long by 47 bytes)");

        ERROR(HEPN("Hep1", "{node: n, interfaceName: e}"), ONE("Metadata.Name = 'Hep1' (" SUBDOMAIN_MSG ")"));
        ERROR(HEPN("''", "{node: n, interfaceName: e}"), ONE("Metadata.Name = '' (" SUBDOMAIN_MSG ")"));
        ERROR(HEPN("a..b", "{node: n, interfaceName: e}"), ONE("Metadata.Name = 'a..b' (" SUBDOMAIN_MSG ")"));
        ERROR(HEPN("-a", "{node: n, interfaceName: e}"), ONE("Metadata.Name = '-a' (" SUBDOMAIN_MSG ")"));
        ERROR(HEPN("'test$set'", "{node: n, interfaceName: e}"), ONE("Metadata.Name = 'test$set' (" SUBDOMAIN_MSG ")"));
}

/* H5: labels are Kubernetes qualified names and label values; each
 * message Kubernetes gives is one errored field. */
static void test_metadata_labels(void) {
        _cleanup_free_ char *v63 = repeat('x', 63), *v64 = repeat('x', 64);
        _cleanup_free_ char *ok = fmt("{" API "kind: Profile, metadata: {name: p, labels: {projectcalico.org/label: %s}}, spec: {}}", v63);
        _cleanup_free_ char *bad = fmt("{" API "kind: Profile, metadata: {name: p, labels: {projectcalico.org/label: %s}}, spec: {}}", v64);
        _cleanup_free_ char *want = fmt(ONE("Metadata.Labels (value) = '%s' (must be no more than 63 bytes)"), v64);

        VALID(ok);
        ERROR(bad, want);
        VALID("{" API "kind: Profile, metadata: {name: p, labels: {projectcalico.org/Label: value, a: '', 'x.y/z-1': v.1}}, spec: {}}");
        CONTAINS("{" API "kind: Profile, metadata: {name: p, labels: {ProjectCalico.org/label: value}}, spec: {}}",
                 "error with field Metadata.Labels (label) = 'ProjectCalico.org/label' (prefix part a lowercase RFC 1123 subdomain");
        CONTAINS("{" API "kind: Profile, metadata: {name: p, labels: {a: 'b c'}}, spec: {}}",
                 "error with field Metadata.Labels (value) = 'b c' (a valid label must be an empty string");
        CONTAINS("{" API "kind: Profile, metadata: {name: p, labels: {'a/b/c': x}}, spec: {}}",
                 "Metadata.Labels (label) = 'a/b/c' (a valid label key must consist of");
        CONTAINS("{" API "kind: Profile, metadata: {name: p, labels: {'/a': x}}, spec: {}}",
                 "error with field Metadata.Labels (label) = '/a' (prefix part must be non-empty)");
        /* A bad prefix and a bad name part: two errored fields for one key. */
        CONTAINS("{" API "kind: Profile, metadata: {name: p, labels: {'A_/-': x}}, spec: {}}",
                 "error with the following fields:\n-  Metadata.Labels (label) = 'A_/-' (prefix part ");
        CONTAINS("{" API "kind: Profile, metadata: {name: p, labels: {'A_/-': x}}, spec: {}}",
                 "\n-  Metadata.Labels (label) = 'A_/-' (name part ");
        /* Key and value both wrong: key first. */
        CONTAINS("{" API "kind: Profile, metadata: {name: p, labels: {'-k': '-v'}}, spec: {}}",
                 "-  Metadata.Labels (label) = '-k' (name part must consist of");
        CONTAINS("{" API "kind: Profile, metadata: {name: p, labels: {'-k': '-v'}}, spec: {}}",
                 "-  Metadata.Labels (value) = '-v' (a valid label");
}

/* H5: annotation keys are checked lower-cased; keys plus values may total
 * 256 KiB. */
static void test_metadata_annotations(void) {
        _cleanup_free_ char *v1 = repeat('x', 262144 - 3), *v2 = repeat('x', 262144 - 2);
        _cleanup_free_ char *ok = fmt("{" API "kind: Profile, metadata: {name: p, annotations: {key: %s}}, spec: {}}", v1);
        _cleanup_free_ char *bad = fmt("{" API "kind: Profile, metadata: {name: p, annotations: {key: %s}}, spec: {}}", v2);
        _cleanup_free_ char *want = fmt(ONE("Metadata.Annotations (key) = 'map[key:%s]' (total size of annotations is too large by 1 bytes)"), v2);

        VALID(ok);
        ERROR(bad, want);
        VALID("{" API "kind: Profile, metadata: {name: p, annotations: {ProjectCalico.org/Label: value, 'x': 'any value at all: !'}}, spec: {}}");
        CONTAINS("{" API "kind: Profile, metadata: {name: p, annotations: {'projectcalico.org$label': value}}, spec: {}}",
                 "error with field Metadata.Annotations (key) = 'projectcalico.org$label' (name part must consist of alphanumeric characters");
        CONTAINS("{" API "kind: Profile, metadata: {name: p, annotations: {'...': value}}, spec: {}}",
                 "Metadata.Annotations (key) = '...' (name part");
}

/* A namespace on a cluster-scoped kind is refused before validation, in
 * calicoctl's plain words (§2.5). */
static void test_namespace_scope(void) {
        ERROR("{" API "kind: HostEndpoint, metadata: {name: h, namespace: ns}, spec: {node: n, interfaceName: e}}",
              "namespace should not be specified for a non-namespaced resource. HostEndpoint is not a namespaced resource");
        ERROR("{" API "kind: GlobalNetworkPolicy, metadata: {name: Bad, namespace: ns}, spec: {}}",
              "namespace should not be specified for a non-namespaced resource. GlobalNetworkPolicy is not a namespaced resource");
        ERROR("{" API "kind: Profile, metadata: {name: p, namespace: ns}, spec: {}}",
              "namespace should not be specified for a non-namespaced resource. Profile is not a namespaced resource");
        ERROR("{" API "kind: Tier, metadata: {name: t, namespace: ns}, spec: {order: 10}}",
              "namespace should not be specified for a non-namespaced resource. Tier is not a namespaced resource");
        ERROR("{" API "kind: FelixConfiguration, metadata: {name: default, namespace: ns}, spec: {}}",
              "namespace should not be specified for a non-namespaced resource. FelixConfiguration is not a namespaced resource");
        /* The client needs one on a NetworkPolicy (calicoctl fills in "default"). */
        ERROR("{" API "kind: NetworkPolicy, metadata: {name: np}, spec: {}}",
              ONE("Metadata.Namespace (namespace is not specified on namespaced resource)"));
        ERROR("{" API "kind: NetworkPolicy, metadata: {name: NP}, spec: {}}",
              MANY(ITEM("Metadata.Name = 'NP' (" SUBDOMAIN_MSG ")") ITEM("Metadata.Name = 'NP' (" LABEL_NAME_MSG ")")));
        VALID("{" API "kind: NetworkPolicy, metadata: {name: np, namespace: ns}, spec: {}}");
}

/* A NetworkPolicy's namespace is a DNS label, as the Kubernetes API
 * server requires: it also names a file in a directory datastore, so
 * "a/../NS" must never get that far (issue 10, 12). */
static void test_namespace_label(void) {
#define NS_MSG "namespace must consist of at most 63 lower case alphanumeric characters or '-', and must start " \
               "and end with an alphanumeric character (regex: [a-z0-9]([-a-z0-9]*[a-z0-9])?)"
        ERROR("{" API "kind: NetworkPolicy, metadata: {name: np, namespace: a/../NS}, spec: {}}",
              ONE("Metadata.Namespace = 'a/../NS' (" NS_MSG ")"));
        ERROR("{" API "kind: NetworkPolicy, metadata: {name: np, namespace: a/../../escaped}, spec: {}}",
              ONE("Metadata.Namespace = 'a/../../escaped' (" NS_MSG ")"));
        ERROR("{" API "kind: NetworkPolicy, metadata: {name: np, namespace: ..}, spec: {}}",
              ONE("Metadata.Namespace = '..' (" NS_MSG ")"));
        ERROR("{" API "kind: NetworkPolicy, metadata: {name: np, namespace: kube.system}, spec: {}}",
              ONE("Metadata.Namespace = 'kube.system' (" NS_MSG ")"));
        ERROR("{" API "kind: NetworkPolicy, metadata: {name: np, namespace: "
              "a234567890123456789012345678901234567890123456789012345678901234}, spec: {}}",
              ONE("Metadata.Namespace = 'a234567890123456789012345678901234567890123456789012345678901234' (" NS_MSG ")"));
        VALID("{" API "kind: NetworkPolicy, metadata: {name: np, namespace: "
              "a23456789012345678901234567890123456789012345678901234567890123}, spec: {}}");
        VALID("{" API "kind: NetworkPolicy, metadata: {name: np, namespace: kube-system}, spec: {}}");
#undef NS_MSG
}

/* ---- GlobalNetworkSet ---- */

#define GNS(meta, spec) "{" API "kind: GlobalNetworkSet, metadata: " meta ", spec: " spec "}"

/* spec.nets is "omitempty,dive,cidr": cnet.ParseCIDROrIP, so a bare
 * address and an address with host bits set pass (Felix takes the
 * network); then validateGlobalNetworkSet() refuses the namespace label. */
static void test_gns(void) {
        VALID(GNS("{name: trusted, labels: {role: trusted}}", "{nets: [198.51.100.0/28, '2001:db8::/32']}"));
        VALID(GNS("{name: empty}", "{}"));
        VALID(GNS("{name: hosts}", "{nets: [10.1.2.3, 'fd00::1', 10.0.0.1/24, '::/0', 0.0.0.0/0]}"));
        ERROR(GNS("{name: s}", "{nets: [10.0.0.0/8, 300.0.0.0/8]}"),
              ONE("Nets[1] = '300.0.0.0/8' " TAG("Nets[1]", "cidr")));
        ERROR(GNS("{name: s}", "{nets: [10.0.0.0/33, host.example.com]}"),
              MANY(ITEM("Nets[0] = '10.0.0.0/33' " TAG("Nets[0]", "cidr"))
                   ITEM("Nets[1] = 'host.example.com' " TAG("Nets[1]", "cidr"))));
        ERROR(GNS("{name: s}", "{nets: ['fe80::/10%eth0']}"), ONE("Nets[0] = 'fe80::/10%eth0' " TAG("Nets[0]", "cidr")));
        ERROR(GNS("{name: s, labels: {projectcalico.org/namespace: prod}}", "{nets: [10.0.0.0/8]}"),
              ONE("Metadata.Labels (label) = 'projectcalico.org/namespace' "
                  "(projectcalico.org/namespace is not a valid label name)"));
        /* Other projectcalico.org labels are fine. */
        VALID(GNS("{name: s, labels: {projectcalico.org/name: x}}", "{}"));
        /* ObjectMeta first, then the nets, then the struct check. */
        ERROR(GNS("{name: Bad, labels: {projectcalico.org/namespace: prod}}", "{nets: [x]}"),
              MANY(ITEM("Metadata.Name = 'Bad' (" SUBDOMAIN_MSG ")")
                   ITEM("Nets[0] = 'x' " TAG("Nets[0]", "cidr"))
                   ITEM("Metadata.Labels (label) = 'projectcalico.org/namespace' "
                        "(projectcalico.org/namespace is not a valid label name)")));
        ERROR("{" API "kind: GlobalNetworkSet, metadata: {name: s, namespace: ns}, spec: {}}",
              "namespace should not be specified for a non-namespaced resource. GlobalNetworkSet is not a namespaced resource");
}

/* Fields of other editions (allowedEgressDomains) are unknown fields. */
static void test_gns_unknown_fields(void) {
        static const char *const docs[] = {
                GNS("{name: s}", "{nets: [10.0.0.0/8], allowedEgressDomains: [example.com]}"),
                GNS("{name: s}", "{selector: all()}"),
        };

        for (size_t i = 0; i < ELEMENTSOF(docs); i++) {
                ResourceList l = RESOURCE_LIST_INIT;
                ParseError e = PARSE_ERROR_INIT;
                _cleanup_free_ char *t = NULL;

                ASSERT_TRUE(resources_parse(NULL, docs[i], strlen(docs[i]), &l, &e) < 0);
                t = parse_error_format(&e);
                ASSERT_CONTAINS(t, "field in document is not recognized");
                ASSERT_CONTAINS(t, i == 0 ? "spec.allowedEgressDomains" : "spec.selector");
                parse_error_done(&e);
                resource_list_done(&l);
        }
}

/* ---- Profile ---- */

static void test_profile(void) {
        _cleanup_free_ char *v63 = repeat('x', 63), *v64 = repeat('x', 64);
        _cleanup_free_ char *ok = fmt(PROFILE("{labelsToApply: {project.calico.org/my-valid-label: %s}}"), v63);
        _cleanup_free_ char *bad = fmt(PROFILE("{labelsToApply: {project.calico.org/my-valid-label: %s}}"), v64);
        _cleanup_free_ char *want = fmt(ONE("LabelsToApply = 'map[project.calico.org/my-valid-label:%s]' " TAG("LabelsToApply", "labels")), v64);

        VALID(PROFILE("{}"));
        VALID(PROFILE("{ingress: [{action: Allow}], egress: [{action: Deny, protocol: TCP, destination: {ports: [22]}}]}"));
        VALID(ok);
        ERROR(bad, want);
        ERROR(PROFILE("{labelsToApply: {.mylabel: value}}"),
              ONE("LabelsToApply = 'map[.mylabel:value]' " TAG("LabelsToApply", "labels")));
        ERROR(PROFILE("{labelsToApply: {'my!nvalid-label': value, b: c}}"),
              ONE("LabelsToApply = 'map[b:c my!nvalid-label:value]' " TAG("LabelsToApply", "labels")));
        INVALID(PROFILE("{labelsToApply: {'my-invalid-label$': value}}"));
        /* No Profile CRD: rule errors appear once, with no CEL copy. */
        ERROR(PROFILE("{egress: [{action: Deny, http: {methods: [GET]}}]}"),
              ONE("HTTP = '&{[GET] []}' (only valid for Allow rules)"));
        /* Nor is egress HTTP or an egress source service refused for a profile. */
        VALID(PROFILE("{egress: [{action: Allow, http: {methods: [GET]}, source: {services: {name: s, namespace: ns}}}]}"));
}

/* ---- Rule (R1-R11) and EntityRule (E1-E3), through a Profile so that only
 * the Go validator speaks ---- */

/* R11: action, ipVersion. */
static void test_rule_action_ipversion(void) {
        VALID(RULE("{action: Allow}"));
        VALID(RULE("{action: Deny}"));
        VALID(RULE("{action: Log}"));
        VALID(RULE("{action: Pass}"));
        ERROR(RULE("{action: unknown}"), ONE("Action = 'unknown' " TAG("Action", "action")));
        ERROR(RULE("{action: allowfoo}"), ONE("Action = 'allowfoo' " TAG("Action", "action")));
        ERROR(RULE("{action: allow}"), ONE("Action = 'allow' " TAG("Action", "action")));
        ERROR(RULE("{action: ''}"), ONE("Action = '' " TAG("Action", "action")));
        ERROR(RULE("{protocol: TCP}"), ONE("Action = '' " TAG("Action", "action")));

        VALID(RULE("{action: Allow, ipVersion: 4}"));
        VALID(RULE("{action: Allow, ipVersion: 6}"));
        ERROR(RULE("{action: Allow, ipVersion: 0}"), ONE("IPVersion = '0' " TAG("IPVersion", "ipVersion")));
        ERROR(RULE("{action: Allow, ipVersion: 5}"), ONE("IPVersion = '5' " TAG("IPVersion", "ipVersion")));
        ERROR(RULE("{action: Allow, ipVersion: -4}"), ONE("IPVersion = '-4' " TAG("IPVersion", "ipVersion")));
}

/* Protocol and notProtocol: 1..255 or one of six exact names. */
static void test_rule_protocol(void) {
        static const char *const ok[] = { "TCP", "UDP", "ICMP", "ICMPv6", "SCTP", "UDPLite", "1", "255", "'255'", "'1'", "'017'" };

        for (size_t i = 0; i < ELEMENTSOF(ok); i++) {
                _cleanup_free_ char *a = fmt(RULE("{action: Allow, protocol: %s}"), ok[i]);
                _cleanup_free_ char *b = fmt(RULE("{action: Allow, notProtocol: %s}"), ok[i]);

                VALID(a);
                VALID(b);
        }
        ERROR(RULE("{action: Allow, protocol: 0}"), ONE("Protocol = '0' (protocol number invalid)"));
        ERROR(RULE("{action: Allow, protocol: '0'}"), ONE("Protocol = '0' (protocol number invalid)"));
        ERROR(RULE("{action: Allow, protocol: '256'}"), ONE("Protocol = '256' (protocol name invalid)"));
        ERROR(RULE("{action: Allow, protocol: tcpfoo}"), ONE("Protocol = 'tcpfoo' (protocol name invalid)"));
        ERROR(RULE("{action: Allow, protocol: footcp}"), ONE("Protocol = 'footcp' (protocol name invalid)"));
        ERROR(RULE("{action: Allow, protocol: tcp}"), ONE("Protocol = 'tcp' (protocol name invalid)"));
        ERROR(RULE("{action: Allow, protocol: icmpv6}"), ONE("Protocol = 'icmpv6' (protocol name invalid)"));
        ERROR(RULE("{action: Allow, protocol: '+6'}"), ONE("Protocol = '+6' (protocol name invalid)"));
        ERROR(RULE("{action: Allow, notProtocol: 0}"), ONE("Protocol = '0' (protocol number invalid)"));
        ERROR(RULE("{action: Allow, notProtocol: Tcp}"), ONE("Protocol = 'Tcp' (protocol name invalid)"));
        ERROR(RULE("{action: Allow, protocol: bad, notProtocol: 0}"),
              MANY(ITEM("Protocol = 'bad' (protocol name invalid)") ITEM("Protocol = '0' (protocol number invalid)")));
}

/* R1: numeric ports need a protocol; named ones do not. */
static void test_rule_r1(void) {
        VALID(RULE("{action: Allow, destination: {ports: [foo]}}"));
        VALID(RULE("{action: Allow, source: {notPorts: [foo, bar]}}"));
        VALID(RULE("{action: Allow, source: {ports: []}}"));
        ERROR(RULE("{action: Allow, destination: {ports: [1]}}"),
              ONE("Destination.Ports = '[1]' (rules with numeric port or port range must set protocol to TCP or UDP or SCTP)"));
        ERROR(RULE("{action: Allow, destination: {notPorts: ['1000:2000']}}"),
              ONE("Destination.NotPorts = '[1000:2000]' (rules with numeric port or port range must set protocol to TCP or UDP or SCTP)"));
        ERROR(RULE("{action: Allow, source: {ports: [http, 80]}}"),
              ONE("Source.Ports = '[http 80]' (rules with numeric port or port range must set protocol to TCP or UDP or SCTP)"));
        ERROR(RULE("{action: Allow, source: {notPorts: ['80']}}"),
              ONE("Source.NotPorts = '[80]' (rules with numeric port or port range must set protocol to TCP or UDP or SCTP)"));
        /* notProtocol does not count as a protocol. */
        ERROR(RULE("{action: Allow, notProtocol: TCP, destination: {ports: [80]}}"),
              ONE("Destination.Ports = '[80]' (rules with numeric port or port range must set protocol to TCP or UDP or SCTP)"));
        /* All four lists, in Calico's order. */
        ERROR(RULE("{action: Allow, source: {ports: [1], notPorts: [2]}, destination: {ports: [3], notPorts: [4]}}"),
              MANY(ITEM("Source.Ports = '[1]' (rules with numeric port or port range must set protocol to TCP or UDP or SCTP)")
                   ITEM("Source.NotPorts = '[2]' (rules with numeric port or port range must set protocol to TCP or UDP or SCTP)")
                   ITEM("Destination.Ports = '[3]' (rules with numeric port or port range must set protocol to TCP or UDP or SCTP)")
                   ITEM("Destination.NotPorts = '[4]' (rules with numeric port or port range must set protocol to TCP or UDP or SCTP)")));
}

/* R2: any port, named too, needs a protocol that has ports. */
static void test_rule_r2(void) {
        static const char *const with_ports[] = { "TCP", "UDP", "SCTP", "6", "17", "132", "'6'" };

        for (size_t i = 0; i < ELEMENTSOF(with_ports); i++) {
                _cleanup_free_ char *y = fmt(RULE("{action: Allow, protocol: %s, source: {ports: [1, '2:3', foo]}, destination: {notPorts: [4]}}"),
                                             with_ports[i]);
                VALID(y);
        }
        VALID(RULE("{action: Allow, protocol: 7, source: {ports: []}}"));
        VALID(RULE("{action: Allow, protocol: 100, source: {notPorts: []}}"));
        VALID(RULE("{action: Allow, ipVersion: 6, protocol: ICMPv6, destination: {notPorts: []}}"));
        ERROR(RULE("{action: Allow, protocol: 7, source: {ports: [1]}}"),
              ONE("Source.Ports = '[1]' (rules that specify ports must set protocol to TCP or UDP or SCTP)"));
        ERROR(RULE("{action: Allow, protocol: 100, source: {notPorts: [1]}}"),
              ONE("Source.NotPorts = '[1]' (rules that specify ports must set protocol to TCP or UDP or SCTP)"));
        ERROR(RULE("{action: Allow, ipVersion: 4, protocol: ICMP, destination: {notPorts: [1]}}"),
              ONE("Destination.NotPorts = '[1]' (rules that specify ports must set protocol to TCP or UDP or SCTP)"));
        ERROR(RULE("{action: Allow, protocol: UDPLite, destination: {ports: [http]}}"),
              ONE("Destination.Ports = '[http]' (rules that specify ports must set protocol to TCP or UDP or SCTP)"));
        ERROR(RULE("{action: Allow, protocol: unknown, destination: {notPorts: [foo]}}"),
              MANY(ITEM("Protocol = 'unknown' (protocol name invalid)")
                   ITEM("Destination.NotPorts = '[foo]' (rules that specify ports must set protocol to TCP or UDP or SCTP)")));
        /* Lower-case tcp is an invalid name but still has ports. */
        ERROR(RULE("{action: Allow, protocol: tcp, destination: {ports: [80]}}"), ONE("Protocol = 'tcp' (protocol name invalid)"));
}

/* numorstring.Port itself: port 0 and named-port syntax. */
static void test_rule_port_values(void) {
        VALID(RULE("{action: Allow, protocol: TCP, destination: {ports: [1, 65535, '1:65535', '5:5', a-name, x1]}}"));
        ERROR(RULE("{action: Allow, protocol: TCP, destination: {notPorts: [0]}}"),
              ONE("Port = '0' (port range invalid, port number must be between 1 and 65535)"));
        ERROR(RULE("{action: Allow, protocol: TCP, destination: {notPorts: ['0:100']}}"),
              ONE("Port = '0' (port range invalid, port number must be between 1 and 65535)"));
        ERROR(RULE("{action: Allow, protocol: TCP, source: {ports: ['0:0']}}"),
              ONE("Port = '0' (port range invalid, port number must be between 1 and 65535)"));
        ERROR(RULE("{action: Allow, protocol: TCP, source: {ports: [Foo]}}"), ONE("PortName = 'Foo' " TAG("PortName", "portName")));
        ERROR(RULE("{action: Allow, protocol: TCP, source: {ports: [foo_bar]}}"), ONE("PortName = 'foo_bar' " TAG("PortName", "portName")));
        ERROR(RULE("{action: Allow, protocol: TCP, source: {ports: [-foo]}}"), ONE("PortName = '-foo' " TAG("PortName", "portName")));
        ERROR(RULE("{action: Allow, protocol: TCP, source: {ports: [a.b]}}"), ONE("PortName = 'a.b' " TAG("PortName", "portName")));
        ERROR(RULE("{action: Allow, destination: {ports: [Foo]}}"), ONE("PortName = 'Foo' " TAG("PortName", "portName")));
}

/* R3: icmp needs the protocol name ICMP or ICMPv6 (a number will not do
 * in v3.32); notICMP has no such tie. */
static void test_rule_r3(void) {
        VALID(RULE("{action: Allow, protocol: ICMP, icmp: {type: 0}}"));
        VALID(RULE("{action: Allow, protocol: ICMPv6, icmp: {type: 0}}"));
        VALID(RULE("{action: Allow, notICMP: {type: 3, code: 1}}"));
        VALID(RULE("{action: Allow, protocol: TCP, notICMP: {type: 8}}"));
        ERROR(RULE("{action: Allow, ipVersion: 4, icmp: {type: 0}}"),
              ONE("ICMP = '&{0 <nil>}' (rules that specify ICMP fields must set protocol to ICMP)"));
        ERROR(RULE("{action: Allow, protocol: 1, icmp: {type: 8, code: 0}}"),
              ONE("ICMP = '&{8 0}' (rules that specify ICMP fields must set protocol to ICMP)"));
        ERROR(RULE("{action: Allow, protocol: 58, icmp: {type: 8}}"),
              ONE("ICMP = '&{8 <nil>}' (rules that specify ICMP fields must set protocol to ICMP)"));
        ERROR(RULE("{action: Allow, protocol: TCP, icmp: {}}"),
              ONE("ICMP = '&{<nil> <nil>}' (rules that specify ICMP fields must set protocol to ICMP)"));
        ERROR(RULE("{action: Allow, notProtocol: ICMP, icmp: {type: 1}}"),
              ONE("ICMP = '&{1 <nil>}' (rules that specify ICMP fields must set protocol to ICMP)"));
}

/* R4: ICMP goes with IPv4, ICMPv6 with IPv6, on protocol or notProtocol;
 * Calico prints the icmp field as the value. */
static void test_rule_r4(void) {
        VALID(RULE("{action: Allow, ipVersion: 4, protocol: ICMP, icmp: {type: 0}}"));
        VALID(RULE("{action: Allow, ipVersion: 6, protocol: ICMPv6, icmp: {type: 0}}"));
        VALID(RULE("{action: Allow, protocol: ICMP}"));
        VALID(RULE("{action: Allow, ipVersion: 6, protocol: 1}"));
        ERROR(RULE("{action: Allow, protocol: ICMP, ipVersion: 6}"),
              ONE("IPVersion = '<nil>' (must set ipversion to '4' with protocol icmp)"));
        ERROR(RULE("{action: Allow, protocol: ICMPv6, ipVersion: 4}"),
              ONE("IPVersion = '<nil>' (must set ipversion to '6' with protocol icmpv6)"));
        ERROR(RULE("{action: Allow, notProtocol: ICMP, ipVersion: 6}"),
              ONE("IPVersion = '<nil>' (must set ipversion to '4' with protocol icmp)"));
        ERROR(RULE("{action: Allow, protocol: ICMPv6, ipVersion: 4, icmp: {type: 128}}"),
              ONE("IPVersion = '&{128 <nil>}' (must set ipversion to '6' with protocol icmpv6)"));
        ERROR(RULE("{action: Allow, protocol: ICMP, notProtocol: ICMPv6, ipVersion: 4}"),
              ONE("IPVersion = '<nil>' (must set ipversion to '6' with protocol icmpv6)"));
        /* An invalid version is reported by its tag and then by R4. */
        ERROR(RULE("{action: Allow, protocol: ICMP, ipVersion: 5}"),
              MANY(ITEM("IPVersion = '5' " TAG("IPVersion", "ipVersion"))
                   ITEM("IPVersion = '<nil>' (must set ipversion to '4' with protocol icmp)")));
}

/* R5: type 0..254, code 0..255, no code without a type; for icmp and
 * notICMP alike. */
static void test_rule_r5(void) {
        VALID(RULE("{action: Allow, protocol: ICMP, icmp: {}}"));
        VALID(RULE("{action: Allow, protocol: ICMP, icmp: {type: 0}}"));
        VALID(RULE("{action: Allow, protocol: ICMP, icmp: {type: 254}}"));
        VALID(RULE("{action: Allow, protocol: ICMP, icmp: {type: 128, code: 0}}"));
        VALID(RULE("{action: Allow, protocol: ICMP, icmp: {type: 128, code: 255}}"));
        ERROR(RULE("{action: Allow, protocol: ICMP, icmp: {type: 255}}"), ONE("Type = '255' " TAG("Type", "lte")));
        ERROR(RULE("{action: Allow, protocol: ICMP, icmp: {type: -1}}"), ONE("Type = '-1' " TAG("Type", "gte")));
        ERROR(RULE("{action: Allow, protocol: ICMP, icmp: {type: 128, code: 256}}"), ONE("Code = '256' " TAG("Code", "lte")));
        ERROR(RULE("{action: Allow, protocol: ICMP, icmp: {type: 128, code: -1}}"), ONE("Code = '-1' " TAG("Code", "gte")));
        ERROR(RULE("{action: Allow, protocol: ICMP, icmp: {code: 0}}"), ONE("Code = '0' (ICMP code specified without an ICMP type)"));
        ERROR(RULE("{action: Allow, notICMP: {code: 3}}"), ONE("Code = '3' (ICMP code specified without an ICMP type)"));
        ERROR(RULE("{action: Allow, notICMP: {type: 300, code: 300}}"),
              MANY(ITEM("Type = '300' " TAG("Type", "lte")) ITEM("Code = '300' " TAG("Code", "lte"))));
        ERROR(RULE("{action: Allow, icmp: {code: 300}}"),
              MANY(ITEM("Code = '300' " TAG("Code", "lte")) ITEM("Code = '300' (ICMP code specified without an ICMP type)")
                   ITEM("ICMP = '&{<nil> 300}' (rules that specify ICMP fields must set protocol to ICMP)")));
}

/* R6: nets must be strictly masked CIDRs with /len, of one family, and of
 * the rule's ipVersion. The "net" tag accepts bare IPs; scanNets does not. */
static void test_rule_r6(void) {
        VALID(RULE("{action: Allow, source: {nets: [10.0.0.0/8, 1.2.3.4/32]}, destination: {notNets: [192.168.0.0/16]}}"));
        VALID(RULE("{action: Allow, ipVersion: 6, source: {nets: ['fd00::/8', 'aabb:aabb::ffff/128']}}"));
        VALID(RULE("{action: Allow, ipVersion: 4, source: {nets: ['::ffff:1.2.3.0/120']}}"));
        VALID(RULE("{action: Allow, source: {nets: [0.0.0.0/0]}, destination: {nets: [0.0.0.0/1]}}"));
        ERROR(RULE("{action: Allow, source: {nets: [10.0.0.1]}}"), ONE("Source.Nets = '10.0.0.1' (invalid CIDR)"));
        ERROR(RULE("{action: Allow, source: {nets: [10.0.0.1/24]}}"), ONE("Nets[0] = '10.0.0.1/24' " TAG("Nets[0]", "net")));
        ERROR(RULE("{action: Allow, destination: {notNets: [10.0.0.0/8, 1.2.3.4/16]}}"),
              ONE("NotNets[1] = '1.2.3.4/16' " TAG("NotNets[1]", "net")));
        ERROR(RULE("{action: Allow, source: {nets: [garbage]}}"),
              MANY(ITEM("Nets[0] = 'garbage' " TAG("Nets[0]", "net")) ITEM("Source.Nets = 'garbage' (invalid CIDR)")));
        ERROR(RULE("{action: Allow, destination: {nets: ['10.0.0.0/33']}}"),
              MANY(ITEM("Nets[0] = '10.0.0.0/33' " TAG("Nets[0]", "net")) ITEM("Destination.Nets = '10.0.0.0/33' (invalid CIDR)")));
        ERROR(RULE("{action: Allow, destination: {nets: ['']}}"), ONE("Destination.Nets = '' (invalid CIDR)"));

        ERROR(RULE("{action: Allow, protocol: TCP, ipVersion: 6, source: {nets: [1.2.3.4/32]}}"),
              ONE("Source.Nets = '[1.2.3.4/32]' (rule IP version doesn't match CIDR version)"));
        /* The value is always the source nets, even for another list. */
        ERROR(RULE("{action: Allow, protocol: TCP, ipVersion: 4, destination: {nets: ['aabb:aabb::ffff/128']}}"),
              ONE("Destination.Nets = '[]' (rule IP version doesn't match CIDR version)"));
        ERROR(RULE("{action: Allow, protocol: TCP, source: {nets: [1.2.3.0/26]}, destination: {nets: ['aabb:aabb::/122']}}"),
              ONE("Destination.Nets = '[aabb:aabb::/122]' (rule contains both IPv4 and IPv6 CIDRs)"));
        ERROR(RULE("{action: Allow, protocol: TCP, source: {nets: ['aabb:aabb::/128']}, destination: {nets: [1.2.0.0/32]}}"),
              ONE("Destination.Nets = '[1.2.0.0/32]' (rule contains both IPv4 and IPv6 CIDRs)"));
        ERROR(RULE("{action: Allow, source: {notNets: [10.0.0.0/8, 'fd00::/8']}}"),
              ONE("Source.NotNets = '[10.0.0.0/8 fd00::/8]' (rule contains both IPv4 and IPv6 CIDRs)"));
        ERROR(RULE("{action: Allow, protocol: TCP, ipVersion: 6, source: {nets: [1.0.0.0/10]}, destination: {notNets: [1.2.0.0/32]}}"),
              MANY(ITEM("Source.Nets = '[1.0.0.0/10]' (rule IP version doesn't match CIDR version)")
                   ITEM("Destination.NotNets = '[1.0.0.0/10]' (rule IP version doesn't match CIDR version)")));
        ERROR(RULE("{action: Allow, ipVersion: 4, source: {nets: [10.0.0.0/8], notNets: ['fd00::/8']}}"),
              MANY(ITEM("Source.NotNets = '[10.0.0.0/8]' (rule IP version doesn't match CIDR version)")
                   ITEM("Source.NotNets = '[fd00::/8]' (rule contains both IPv4 and IPv6 CIDRs)")));
}

/* R7: negating a catch-all matches nothing. */
static void test_rule_r7(void) {
        VALID(RULE("{action: Allow, source: {nets: ['::/0']}}"));
        VALID(RULE("{action: Allow, source: {notNets: [0.0.0.0/1, 128.0.0.0/1]}}"));
        VALID(RULE("{action: Allow, source: {notNets: ['::/1']}}"));
        ERROR(RULE("{action: Allow, source: {notNets: [0.0.0.0/0]}}"),
              ONE("Source.NotNets = '0.0.0.0/0' (catch-all CIDR in negation creates logical contradiction (matches no traffic))"));
        ERROR(RULE("{action: Allow, destination: {notNets: ['::/0']}}"),
              ONE("Destination.NotNets = '::/0' (catch-all CIDR in negation creates logical contradiction (matches no traffic))"));
        ERROR(RULE("{action: Allow, destination: {notNets: ['0::0/0']}}"),
              ONE("Destination.NotNets = '0::0/0' (catch-all CIDR in negation creates logical contradiction (matches no traffic))"));
}

/* R8, R9: HTTP matches. */
static void test_rule_http(void) {
        VALID(RULE("{action: Allow, http: {methods: [GET]}}"));
        VALID(RULE("{action: Allow, protocol: TCP, http: {methods: [GET, POST], paths: [{exact: /}, {prefix: /api}]}}"));
        VALID(RULE("{action: Allow, http: {}}"));
        ERROR(RULE("{action: Deny, http: {methods: [GET]}}"), ONE("HTTP = '&{[GET] []}' (only valid for Allow rules)"));
        ERROR(RULE("{action: Allow, protocol: UDP, http: {methods: [GET]}}"),
              ONE("Protocol = 'UDP' (rules that specify HTTP fields must set protocol to TCP or empty)"));
        ERROR(RULE("{action: Allow, protocol: 6, http: {methods: [GET]}}"),
              ONE("Protocol = '6' (rules that specify HTTP fields must set protocol to TCP or empty)"));
        ERROR(RULE("{action: Log, protocol: UDP, http: {paths: [{exact: /a}]}}"),
              MANY(ITEM("Protocol = 'UDP' (rules that specify HTTP fields must set protocol to TCP or empty)")
                   ITEM("HTTP = '&{[] [{/a }]}' (only valid for Allow rules)")));

        ERROR(RULE("{action: Allow, http: {methods: [GET, PUT, GET]}}"),
              ONE("Methods = '[GET PUT GET]' (Invalid methods (duplicates): [GET PUT GET])"));
        VALID(RULE("{action: Allow, http: {methods: [GET, get]}}"));
        ERROR(RULE("{action: Allow, http: {paths: [{exact: /a, prefix: /b}]}}"),
              ONE("Paths = '[{/a /b}]' (Invalid path match. Both 'exact' and 'prefix' are set)"));
        ERROR(RULE("{action: Allow, http: {paths: [{exact: /ok}, {}]}}"),
              ONE("Paths = '[{/ok } { }]' (Invalid path match. Either 'exact' or 'prefix' must be set)"));
        ERROR(RULE("{action: Allow, http: {paths: [{exact: foo}]}}"),
              ONE("Paths = '[{foo }]' (Invalid path foo. (must start with `/` and not contain `?` or `#`)"));
        ERROR(RULE("{action: Allow, http: {paths: [{prefix: '/a?b'}]}}"),
              ONE("Paths = '[{ /a?b}]' (Invalid path /a?b. (must start with `/` and not contain `?` or `#`)"));
        INVALID(RULE("{action: Allow, http: {paths: [{prefix: '/a#b'}]}}"));
        INVALID(RULE("{action: Allow, http: {paths: [{prefix: '/a b'}]}}"));
        /* Only the first bad path is reported. */
        ERROR(RULE("{action: Allow, http: {paths: [{exact: x}, {exact: z}]}}"),
              ONE("Paths = '[{x } {z }]' (Invalid path x. (must start with `/` and not contain `?` or `#`)"));
}

/* R10: a service destination brings its own ports. */
static void test_rule_r10(void) {
        VALID(RULE("{action: Allow, destination: {services: {name: s, namespace: ns}}}"));
        ERROR(RULE("{action: Allow, protocol: TCP, destination: {services: {name: s, namespace: ns}, ports: [80]}}"),
              ONE("Destination.Ports = '[80]' (cannot specify ports with a service selector)"));
        ERROR(RULE("{action: Allow, protocol: TCP, destination: {services: {name: s, namespace: ns}, notPorts: [http]}}"),
              ONE("Destination.NotPorts = '[http]' (cannot specify notports with a service selector)"));
        VALID(RULE("{action: Allow, protocol: TCP, source: {services: {name: s, namespace: ns}, ports: [80]}}"));
}

/* R11: selectors must parse; rule annotations are checked like metadata. */
static void test_rule_selectors(void) {
        VALID(RULE("{action: Allow, source: {selector: 'foo == \"bar\"'}}"));
        VALID(RULE("{action: Allow, source: {selector: 'has(calico/k8s_ns)'}}"));
        VALID(RULE("{action: Allow, source: {selector: 'has(calico/k8s_ns/role)'}}"));
        VALID(RULE("{action: Allow, source: {selector: 'has(calico/k8s_NS-.1/role)'}}"));
        VALID(RULE("{action: Allow, source: {selector: all(), notSelector: '!has(a)', namespaceSelector: 'x in {\"a\"}'}}"));
        ERROR(RULE("{action: Allow, source: {selector: 'thing=hello &'}}"),
              ONE("Selector = 'thing=hello &' " TAG("Selector", "selector")));
        ERROR(RULE("{action: Allow, destination: {notSelector: 'a =='}}"), ONE("NotSelector = 'a ==' " TAG("NotSelector", "selector")));
        ERROR(RULE("{action: Allow, destination: {namespaceSelector: 'a &&'}}"),
              ONE("NamespaceSelector = 'a &&' " TAG("NamespaceSelector", "selector")));
        ERROR(RULE("{action: Allow, source: {serviceAccounts: {names: [a], selector: '(('}}}"),
              ONE("Selector = '((' " TAG("Selector", "selector")));
        VALID(RULE("{action: Allow, source: {serviceAccounts: {names: [a, b], selector: 'k == \"v\"'}}}"));

        VALID(RULE("{action: Allow, metadata: {annotations: {foo: bar, 'ProjectCalico.org/X': y}}}"));
        CONTAINS(RULE("{action: Allow, metadata: {annotations: {'...': bar}}}"),
                 "error with field Metadata.Annotations (key) = '...' (name part must consist of");
}

/* E1: global() is only for namespaceSelector; a substring test, so even a
 * quoted mention fails. notSelector is not checked. */
static void test_entity_e1(void) {
        ERROR(RULE("{action: Allow, source: {selector: global()}}"),
              ONE("Selector field = 'global()' (global() can only be used in an EntityRule namespaceSelector)"));
        ERROR(RULE("{action: Allow, destination: {selector: '  global()  '}}"),
              ONE("Selector field = '  global()  ' (global() can only be used in an EntityRule namespaceSelector)"));
        ERROR(RULE("{action: Allow, source: {selector: 'a == \"global()\"'}}"),
              ONE("Selector field = 'a == \"global()\"' (global() can only be used in an EntityRule namespaceSelector)"));
        VALID(RULE("{action: Allow, source: {notSelector: global()}}"));
        VALID(RULE("{action: Allow, source: {selector: 'a == \"global(\"'}}"));
}

/* E2: global() must be the whole namespaceSelector (spaces allowed). */
static void test_entity_e2(void) {
        VALID(RULE("{action: Allow, source: {namespaceSelector: global()}}"));
        VALID(RULE("{action: Allow, source: {namespaceSelector: '  global()  '}}"));
        VALID(RULE("{action: Allow, source: {namespaceSelector: \"\\tglobal( )\"}}"));
        VALID(RULE("{action: Allow, source: {namespaceSelector: global()}, destination: {namespaceSelector: 'projectcalico.org/name == \"test\"'}}"));
        ERROR(RULE("{action: Allow, source: {namespaceSelector: 'global() && has(a)'}}"),
              ONE("NamespaceSelector field = 'global() && has(a)' (global() cannot be combined with other selectors)"));
        ERROR(RULE("{action: Allow, source: {namespaceSelector: '!global()'}}"),
              ONE("NamespaceSelector field = '!global()' (global() cannot be combined with other selectors)"));
        ERROR(RULE("{action: Allow, source: {namespaceSelector: 'a == \"global(\"'}}"),
              ONE("NamespaceSelector field = 'a == \"global(\"' (global() cannot be combined with other selectors)"));
        ERROR(RULE("{action: Allow, source: {namespaceSelector: 'global('}}"),
              MANY(ITEM("NamespaceSelector = 'global(' " TAG("NamespaceSelector", "selector"))
                   ITEM("NamespaceSelector field = 'global(' (global() cannot be combined with other selectors)")));
}

/* E3: a service match excludes every other peer selection. */
static void test_entity_e3(void) {
        VALID(RULE("{action: Allow, source: {services: {name: svc, namespace: ns}}}"));
        VALID(RULE("{action: Allow, source: {services: {name: svc}}}"));
        ERROR(RULE("{action: Allow, source: {services: {namespace: default}}}"),
              ONE("Services field = '&{ default}' (must specify a service name)"));
        ERROR(RULE("{action: Allow, source: {services: {name: s}, namespaceSelector: all()}}"),
              ONE("Services field = '&{s }' (cannot specify NamespaceSelector and Services on the same rule)"));
        ERROR(RULE("{action: Allow, source: {services: {name: s}, selector: has(a)}}"),
              ONE("Services field = '&{s }' (cannot specify Selector/NotSelector and Services on the same rule)"));
        ERROR(RULE("{action: Allow, source: {services: {name: s}, notSelector: has(a)}}"),
              ONE("Services field = '&{s }' (cannot specify Selector/NotSelector and Services on the same rule)"));
        ERROR(RULE("{action: Allow, source: {services: {name: s}, serviceAccounts: {}}}"),
              ONE("Services field = '&{s }' (cannot specify ServiceAccounts and Services on the same rule)"));
        ERROR(RULE("{action: Allow, destination: {services: {name: s}, nets: [10.0.0.0/8]}}"),
              ONE("Services field = '&{s }' (cannot specify Nets/NotNets and Services on the same rule)"));
        ERROR(RULE("{action: Allow, destination: {services: {name: s}, notNets: [10.0.0.0/8]}}"),
              ONE("Services field = '&{s }' (cannot specify Nets/NotNets and Services on the same rule)"));
        ERROR(RULE("{action: Allow, source: {services: {}, namespaceSelector: all(), selector: all(), serviceAccounts: {}, nets: [10.0.0.0/8]}}"),
              MANY(ITEM("Services field = '&{ }' (must specify a service name)")
                   ITEM("Services field = '&{ }' (cannot specify NamespaceSelector and Services on the same rule)")
                   ITEM("Services field = '&{ }' (cannot specify Selector/NotSelector and Services on the same rule)")
                   ITEM("Services field = '&{ }' (cannot specify ServiceAccounts and Services on the same rule)")
                   ITEM("Services field = '&{ }' (cannot specify Nets/NotNets and Services on the same rule)")));
        ERROR(RULE("{action: Allow, source: {services: {name: Svc, namespace: Ns}}}"),
              MANY(ITEM("Name = 'Svc' " TAG("Name", "name")) ITEM("Namespace = 'Ns' " TAG("Namespace", "name"))));
}

/* Errors come out depth first in Go field order: each struct's own check
 * after its fields, the rule's after both entity rules. */
static void test_rule_order(void) {
        ERROR(RULE("{action: Nope, ipVersion: 6, protocol: ICMP, icmp: {code: 1}, source: {nets: [bad], selector: global()}, destination: {ports: [80]}}"),
              MANY(ITEM("Action = 'Nope' " TAG("Action", "action"))
                   ITEM("Code = '1' (ICMP code specified without an ICMP type)")
                   ITEM("Nets[0] = 'bad' " TAG("Nets[0]", "net"))
                   ITEM("Selector field = 'global()' (global() can only be used in an EntityRule namespaceSelector)")
                   ITEM("Destination.Ports = '[80]' (rules that specify ports must set protocol to TCP or UDP or SCTP)")
                   ITEM("IPVersion = '&{<nil> 1}' (must set ipversion to '4' with protocol icmp)")
                   ITEM("Source.Nets = 'bad' (invalid CIDR)")));
        /* Ingress rules before egress rules, each in list order. */
        ERROR(PROFILE("{egress: [{action: E1}], ingress: [{action: I1}, {action: I2}]}"),
              MANY(ITEM("Action = 'I1' " TAG("Action", "action")) ITEM("Action = 'I2' " TAG("Action", "action"))
                   ITEM("Action = 'E1' " TAG("Action", "action"))));
}

/* ---- GlobalNetworkPolicy (G1-G9) ---- */

/* G8: one optional dot; the ObjectMeta check and the GNP check each report
 * their own message, so some names get two. */
static void test_gnp_name(void) {
        _cleanup_free_ char *n253 = repeat('a', 253), *n254 = repeat('a', 254);
        _cleanup_free_ char *ok = fmt(GNPN("%s", "{}"), n253), *bad = fmt(GNPN("%s", "{}"), n254);
        _cleanup_free_ char *want = fmt(MANY(ITEM("Metadata.Name = '%s' (name is too long by 1 bytes)")
                                                ITEM("Metadata.Name = '%s' (name is too long by 1 bytes)")),
                                        n254, n254);

        VALID(GNPN("thing", "{}"));
        VALID(GNPN("th.ing", "{}"));
        VALID(GNPN("default.thing", "{}"));
        VALID(ok);
        ERROR(bad, want);
        ERROR(GNPN("t.h.i.ng", "{}"), ONE("Metadata.Name = 't.h.i.ng' (" LABEL_NAME_MSG ")"));
        ERROR(GNPN("knp.default.thing", "{}"), ONE("Metadata.Name = 'knp.default.thing' (" LABEL_NAME_MSG ")"));
        ERROR(GNPN("tHiNg", "{}"),
              MANY(ITEM("Metadata.Name = 'tHiNg' (" SUBDOMAIN_MSG ")") ITEM("Metadata.Name = 'tHiNg' (" LABEL_NAME_MSG ")")));
        ERROR(GNPN("'t~!s.h.i.ng'", "{}"),
              MANY(ITEM("Metadata.Name = 't~!s.h.i.ng' (" SUBDOMAIN_MSG ")") ITEM("Metadata.Name = 't~!s.h.i.ng' (" LABEL_NAME_MSG ")")));
        /* Metadata is checked again by the GNP struct check: a bad label
         * shows up twice, around the spec's own errors. */
        CONTAINS("{" API "kind: GlobalNetworkPolicy, metadata: {name: thing, labels: {'-a': b}}, spec: {ingress: [{action: X}]}}",
                 "error with the following fields:\n-  Metadata.Labels (label) = '-a' (name part must");
        CONTAINS("{" API "kind: GlobalNetworkPolicy, metadata: {name: thing, labels: {'-a': b}}, spec: {ingress: [{action: X}]}}",
                 "\n-  Action = 'X' " TAG("Action", "action") "\n-  Metadata.Labels (label) = '-a' (name part must");
}

/* G1-G4: doNotTrack, preDNAT, applyOnForward; each with its CEL twin. */
static void test_gnp_flags(void) {
        VALID(GNP("{preDNAT: true, applyOnForward: true}"));
        VALID(GNP("{doNotTrack: true, applyOnForward: true}"));
        VALID(GNP("{applyOnForward: true}"));
        VALID(GNP("{doNotTrack: false, preDNAT: false, applyOnForward: false}"));
        VALID(GNP("{preDNAT: true, applyOnForward: true, ingress: [{action: Allow}]}"));
        VALID(GNP("{preDNAT: true, applyOnForward: true, types: [Ingress]}"));
        VALID(GNP("{doNotTrack: true, applyOnForward: true, egress: [{action: Allow}], types: [Egress]}"));
        ERROR(GNP("{preDNAT: true, doNotTrack: true, applyOnForward: true}"),
              MANY(ITEM("PolicySpec.PreDNAT = 'true' (PreDNAT and DoNotTrack cannot both be true, for a given PolicySpec)")
                   ITEM("spec (preDNAT and doNotTrack cannot both be true)")));
        ERROR(GNP("{preDNAT: true, applyOnForward: true, egress: [{action: Allow}]}"),
              MANY(ITEM("PolicySpec.Egress = '[{Allow <nil> <nil> <nil> <nil> <nil> " EMPTY_ENTITY " " EMPTY_ENTITY
                        " <nil> <nil>}]' (PreDNAT PolicySpec cannot have any Egress rules)")
                   ITEM("spec (preDNAT policy cannot have any egress rules)")));
        ERROR(GNP("{preDNAT: true, applyOnForward: true, types: [Egress]}"),
              MANY(ITEM("PolicySpec.Types = '[Egress]' (PreDNAT PolicySpec cannot have 'egress' Type)")
                   ITEM("spec (preDNAT policy cannot have 'Egress' type)")));
        ERROR(GNP("{preDNAT: true, applyOnForward: true, types: [Ingress, Egress]}"),
              MANY(ITEM("PolicySpec.Types = '[Ingress Egress]' (PreDNAT PolicySpec cannot have 'egress' Type)")
                   ITEM("spec (preDNAT policy cannot have 'Egress' type)")));
        ERROR(GNP("{preDNAT: true}"),
              MANY(ITEM("PolicySpec.ApplyOnForward = 'false' (ApplyOnForward must be true if either PreDNAT or DoNotTrack is true, for a given PolicySpec)")
                   ITEM("spec (applyOnForward must be true if either preDNAT or doNotTrack is true)")));
        ERROR(GNP("{doNotTrack: true}"),
              MANY(ITEM("PolicySpec.ApplyOnForward = 'false' (ApplyOnForward must be true if either PreDNAT or DoNotTrack is true, for a given PolicySpec)")
                   ITEM("spec (applyOnForward must be true if either preDNAT or doNotTrack is true)")));
        /* Everything at once, Go's order then CEL's. */
        ERROR(GNP("{preDNAT: true, doNotTrack: true, types: [Egress], egress: [{action: Deny, protocol: TCP}]}"),
              MANY(ITEM("PolicySpec.PreDNAT = 'true' (PreDNAT and DoNotTrack cannot both be true, for a given PolicySpec)")
                   ITEM("PolicySpec.Egress = '[{Deny <nil> TCP <nil> <nil> <nil> " EMPTY_ENTITY " " EMPTY_ENTITY
                        " <nil> <nil>}]' (PreDNAT PolicySpec cannot have any Egress rules)")
                   ITEM("PolicySpec.Types = '[Egress]' (PreDNAT PolicySpec cannot have 'egress' Type)")
                   ITEM("PolicySpec.ApplyOnForward = 'false' (ApplyOnForward must be true if either PreDNAT or DoNotTrack is true, for a given PolicySpec)")
                   ITEM("spec (preDNAT and doNotTrack cannot both be true)")
                   ITEM("spec (preDNAT policy cannot have any egress rules)")
                   ITEM("spec (preDNAT policy cannot have 'Egress' type)")
                   ITEM("spec (applyOnForward must be true if either preDNAT or doNotTrack is true)")));
}

/* G5, G9: types are Ingress/Egress, once each, and need not match the
 * rules present. */
static void test_gnp_types(void) {
        VALID(GNP("{}"));
        VALID(GNP("{types: []}"));
        VALID(GNP("{types: [Ingress]}"));
        VALID(GNP("{types: [Egress]}"));
        VALID(GNP("{types: [Ingress, Egress]}"));
        VALID(GNP("{types: [Egress, Ingress]}"));
        VALID(GNP("{ingress: [{action: Allow}], types: [Egress]}"));
        VALID(GNP("{egress: [{action: Allow}], types: [Ingress]}"));
        VALID(GNP("{ingress: [{action: Allow}], types: [Ingress, Egress]}"));
        VALID(GNP("{egress: [{action: Allow}], types: [Ingress, Egress]}"));
        ERROR(GNP("{types: [Egress, Egress]}"),
              ONE("GlobalNetworkPolicySpec.Types = '[Egress Egress]' ('Egress' type specified more than once)"));
        ERROR(GNP("{types: [unexpected]}"),
              MANY(ITEM("Types[0] = 'unexpected' " TAG("Types[0]", "policyType"))
                   ITEM("spec.types[0] (supported values: \"Ingress\", \"Egress\")")));
        ERROR(GNP("{types: [Ingress, ingress]}"),
              MANY(ITEM("Types[1] = 'ingress' " TAG("Types[1]", "policyType"))
                   ITEM("spec.types[1] (supported values: \"Ingress\", \"Egress\")")));
        ERROR(GNP("{types: [Ingress, Ingress, Ingress]}"),
              MANY(ITEM("GlobalNetworkPolicySpec.Types = '[Ingress Ingress Ingress]' ('Ingress' type specified more than once)")
                   ITEM("GlobalNetworkPolicySpec.Types = '[Ingress Ingress Ingress]' ('Ingress' type specified more than once)")
                   ITEM("spec.types (must have at most 2 items)")));
}

/* G6: where service matches and HTTP may appear in a GNP. */
static void test_gnp_placement(void) {
        VALID(GNP_OUT("{action: Allow, destination: {services: {name: s, namespace: ns}}}"));
        VALID(GNP_IN("{action: Allow, source: {services: {name: s, namespace: ns}}}"));
        VALID(GNP_IN("{action: Allow, http: {methods: [GET]}}"));
        ERROR(GNP_OUT("{action: Allow, source: {services: {name: s, namespace: ns}}}"),
              ONE("Services = '&{s ns}' (not allowed in egress rule source)"));
        ERROR(GNP_OUT("{action: Allow, http: {methods: [GET]}}"), ONE("HTTP = '&{[GET] []}' (not allowed in egress rules)"));
        ERROR(GNP_IN("{action: Allow, destination: {services: {name: s, namespace: ns}}}"),
              ONE("Services = '&{s ns}' (not allowed in ingress rule destination)"));
        ERROR(GNP_OUT("{action: Allow, destination: {services: {name: s}}}"), ONE("Namespace = '' (must specify a namespace)"));
        ERROR(GNP_IN("{action: Allow, source: {services: {name: s}}}"), ONE("Namespace = '' (must specify a namespace)"));
        ERROR(GNP("{egress: [{action: Allow, http: {methods: [GET]}}], types: [Ingress, Egress]}"),
              ONE("HTTP = '&{[GET] []}' (not allowed in egress rules)"));
        /* Egress checks come before ingress ones; the namespace checks last. */
        ERROR(GNP("{ingress: [{action: Allow, source: {services: {name: a}}, destination: {services: {name: b, namespace: ns}}}], "
                  "egress: [{action: Allow, source: {services: {name: c, namespace: ns}}, destination: {services: {name: d}}}]}"),
              MANY(ITEM("Services = '&{c ns}' (not allowed in egress rule source)")
                   ITEM("Services = '&{b ns}' (not allowed in ingress rule destination)")
                   ITEM("Namespace = '' (must specify a namespace)") ITEM("Namespace = '' (must specify a namespace)")));
}

/* G7: no global() in the policy's own selectors; Calico prints the main
 * selector as the value of all three. */
static void test_gnp_global(void) {
        ERROR(GNP("{selector: global()}"),
              ONE("GlobalNetworkPolicySpec.Selector = 'global()' (global() can only be used in an EntityRule namespaceSelector)"));
        ERROR(GNP("{selector: 'a == \"b\"', serviceAccountSelector: global()}"),
              ONE("GlobalNetworkPolicySpec.ServiceAccountSelector = 'a == \"b\"' (global() can only be used in an EntityRule namespaceSelector)"));
        ERROR(GNP("{namespaceSelector: global()}"),
              ONE("GlobalNetworkPolicySpec.NamespaceSelector = '' (global() can only be used in an EntityRule namespaceSelector)"));
        ERROR(GNP_IN("{action: Allow, source: {selector: global()}}"),
              ONE("Selector field = 'global()' (global() can only be used in an EntityRule namespaceSelector)"));
        VALID(GNP_IN("{action: Allow, source: {namespaceSelector: global()}, destination: {namespaceSelector: 'projectcalico.org/name == \"test\"'}}"));
}

/* Tier reference, selectors, performance hints. */
static void test_gnp_fields(void) {
        VALID(GNP("{tier: default, order: 100, selector: 'role == \"db\"', namespaceSelector: has(x), serviceAccountSelector: all()}"));
        VALID(GNP("{tier: my.tier}"));
        ERROR(GNP("{tier: Bad}"), ONE("Tier = 'Bad' " TAG("Tier", "name")));
        ERROR(GNP("{selector: 'a =='}"), ONE("Selector = 'a ==' " TAG("Selector", "selector")));
        ERROR(GNP("{namespaceSelector: '&&'}"), ONE("NamespaceSelector = '&&' " TAG("NamespaceSelector", "selector")));
        ERROR(GNP("{serviceAccountSelector: 'x in'}"), ONE("ServiceAccountSelector = 'x in' " TAG("ServiceAccountSelector", "selector")));
        VALID(GNP("{performanceHints: [AssumeNeededOnEveryNode]}"));
        ERROR(GNP("{performanceHints: [junk]}"),
              MANY(ITEM("PerformanceHints[0] = 'junk' " TAG("PerformanceHints[0]", "oneof"))
                   ITEM("spec.performanceHints[0] (supported values: \"AssumeNeededOnEveryNode\")")));
        ERROR(GNP("{performanceHints: [AssumeNeededOnEveryNode, AssumeNeededOnEveryNode]}"),
              ONE("PerformanceHints = '[AssumeNeededOnEveryNode AssumeNeededOnEveryNode]' " TAG("PerformanceHints", "unique")));
        /* A failed unique stops the per-item check; the CRD still checks items. */
        ERROR(GNP("{performanceHints: [junk, junk]}"),
              MANY(ITEM("PerformanceHints = '[junk junk]' " TAG("PerformanceHints", "unique"))
                   ITEM("spec.performanceHints[0] (supported values: \"AssumeNeededOnEveryNode\")")
                   ITEM("spec.performanceHints[1] (supported values: \"AssumeNeededOnEveryNode\")")));
}

/* The CRD schema and CEL rules on rules: copies of the Go checks, plus
 * the HTTP list and length limits the Go validator does not have. */
static void test_gnp_crd_rules(void) {
        _cleanup_free_ char *p1024 = repeat('p', 1023), *p1025 = repeat('p', 1024);
        _cleanup_free_ char *ok = fmt(GNP_IN("{action: Allow, http: {paths: [{exact: /%s}, {prefix: /%s}]}}"), p1024, p1024);
        _cleanup_free_ char *bad = fmt(GNP_IN("{action: Allow, http: {paths: [{exact: /%s}, {prefix: /%s}]}}"), p1025, p1025);

        ERROR(GNP_IN("{action: unknown}"),
              MANY(ITEM("Action = 'unknown' " TAG("Action", "action"))
                   ITEM("spec.ingress[0].action (supported values: \"Allow\", \"Deny\", \"Log\", \"Pass\")")));
        ERROR(GNP("{egress: [{action: Allow}, {}]}"),
              MANY(ITEM("Action = '' " TAG("Action", "action"))
                   ITEM("spec.egress[1].action (supported values: \"Allow\", \"Deny\", \"Log\", \"Pass\")")));
        ERROR(GNP_IN("{action: Allow, ipVersion: 5}"),
              MANY(ITEM("IPVersion = '5' " TAG("IPVersion", "ipVersion"))
                   ITEM("spec.ingress[0].ipVersion (supported values: \"4\", \"6\")")));
        ERROR(GNP_IN("{action: Allow, protocol: ICMP, icmp: {type: 255}}"),
              MANY(ITEM("Type = '255' " TAG("Type", "lte"))
                   ITEM("spec.ingress[0].icmp.type (spec.ingress[0].icmp.type in body should be less than or equal to 254)")));
        ERROR(GNP_IN("{action: Allow, notICMP: {type: 1, code: -1}}"),
              MANY(ITEM("Code = '-1' " TAG("Code", "gte"))
                   ITEM("spec.ingress[0].notICMP.code (spec.ingress[0].notICMP.code in body should be greater than or equal to 0)")));
        ERROR(GNP_IN("{action: Allow, protocol: ICMP, icmp: {code: 0}}"),
              MANY(ITEM("Code = '0' (ICMP code specified without an ICMP type)")
                   ITEM("spec.ingress[0].icmp (ICMP code specified without an ICMP type)")));
        ERROR(GNP_IN("{action: Deny, http: {methods: [GET]}}"),
              MANY(ITEM("HTTP = '&{[GET] []}' (only valid for Allow rules)")
                   ITEM("spec.ingress[0] (HTTP match is only valid on Allow rules)")));
        ERROR(GNP_IN("{action: Allow, protocol: UDP, http: {methods: [GET]}}"),
              MANY(ITEM("Protocol = 'UDP' (rules that specify HTTP fields must set protocol to TCP or empty)")
                   ITEM("spec.ingress[0] (rules with HTTP match must have protocol TCP or unset)")));
        /* v3.32's CEL accepts protocol 6 with HTTP, its Go check does not. */
        ERROR(GNP_IN("{action: Allow, protocol: 6, http: {methods: [GET]}}"),
              ONE("Protocol = '6' (rules that specify HTTP fields must set protocol to TCP or empty)"));
        ERROR(GNP_OUT("{action: Allow, protocol: TCP, destination: {services: {name: s, namespace: ns}, ports: [80]}}"),
              MANY(ITEM("Destination.Ports = '[80]' (cannot specify ports with a service selector)")
                   ITEM("spec.egress[0] (ports and notPorts cannot be specified with services)")));

        /* Only the CRD limits these. */
        VALID(GNP_IN("{action: Allow, http: {methods: [A1, A2, A3, A4, A5, A6, A7, A8, A9, A10, A11, A12, A13, A14, A15, A16, A17, A18, A19, A20]}}"));
        ERROR(GNP_IN("{action: Allow, http: {methods: [A1, A2, A3, A4, A5, A6, A7, A8, A9, A10, A11, A12, A13, A14, A15, A16, A17, A18, A19, A20, A21]}}"),
              ONE("spec.ingress[0].http.methods (must have at most 20 items)"));
        VALID(GNP_IN("{action: Allow, http: {paths: [{exact: /1}, {exact: /2}, {exact: /3}, {exact: /4}, {exact: /5}, {exact: /6}, {exact: /7}, {exact: /8}, {exact: /9}, {exact: /10}, "
                     "{exact: /11}, {exact: /12}, {exact: /13}, {exact: /14}, {exact: /15}, {exact: /16}, {exact: /17}, {exact: /18}, {exact: /19}, {exact: /20}]}}"));
        ERROR(GNP_IN("{action: Allow, http: {paths: [{exact: /1}, {exact: /2}, {exact: /3}, {exact: /4}, {exact: /5}, {exact: /6}, {exact: /7}, {exact: /8}, {exact: /9}, {exact: /10}, "
                     "{exact: /11}, {exact: /12}, {exact: /13}, {exact: /14}, {exact: /15}, {exact: /16}, {exact: /17}, {exact: /18}, {exact: /19}, {exact: /20}, {exact: /21}]}}"),
              ONE("spec.ingress[0].http.paths (must have at most 20 items)"));
        VALID(ok);
        ERROR(bad, MANY(ITEM("spec.ingress[0].http.paths[0].exact (may not be more than 1024 bytes)")
                        ITEM("spec.ingress[0].http.paths[1].prefix (may not be more than 1024 bytes)")));
        /* A Profile has no CRD, so the same rule passes there. */
        VALID(RULE("{action: Allow, http: {methods: [A1, A2, A3, A4, A5, A6, A7, A8, A9, A10, A11, A12, A13, A14, A15, A16, A17, A18, A19, A20, A21]}}"));
}

/* ---- StagedGlobalNetworkPolicy (v3.32.1 validateStagedGlobalNetworkPolicy
 * and the stagedglobalnetworkpolicies CRD) ---- */

#define DELETE_ONLY "(Spec fields, except Tier, should all be zero-value if stagedAction is Delete)"

/* stagedAction: one of four words, exact case; absent is fine (Set). */
static void test_sgnp_action(void) {
        VALID(SGNP("{}"));
        VALID(SGNP("{stagedAction: Set, selector: all(), ingress: [{action: Deny}]}"));
        VALID(SGNP("{stagedAction: Learn, ingress: [{action: Allow}]}"));
        VALID(SGNP("{stagedAction: Ignore, egress: [{action: Allow}]}"));
        ERROR(SGNP("{stagedAction: Remove}"),
              MANY(ITEM("StagedAction = 'Remove' " TAG("StagedAction", "stagedAction"))
                   ITEM("spec.stagedAction (supported values: \"Set\", \"Delete\", \"Learn\", \"Ignore\")")));
        ERROR(SGNP("{stagedAction: delete}"),
              MANY(ITEM("StagedAction = 'delete' " TAG("StagedAction", "stagedAction"))
                   ITEM("spec.stagedAction (supported values: \"Set\", \"Delete\", \"Learn\", \"Ignore\")")));
        /* Its tag is checked first, before the other fields'. */
        ERROR(SGNP("{stagedAction: X, selector: 'a =='}"),
              MANY(ITEM("StagedAction = 'X' " TAG("StagedAction", "stagedAction"))
                   ITEM("Selector = 'a ==' " TAG("Selector", "selector"))
                   ITEM("spec.stagedAction (supported values: \"Set\", \"Delete\", \"Learn\", \"Ignore\")")));
}

/* Delete: nothing but the tier, the whole spec printed as Go prints it. */
static void test_sgnp_delete(void) {
        VALID(SGNP("{stagedAction: Delete}"));
        VALID(SGNP("{stagedAction: Delete, tier: default}"));
        VALID(SGNP("{stagedAction: Delete, tier: other, selector: '', doNotTrack: false}"));
        ERROR(SGNP("{stagedAction: Delete, selector: all(), order: 3}"),
              ONE("StagedGlobalNetworkPolicySpec = '{Delete  3 [] [] all() [] false false false   []}' " DELETE_ONLY));
        ERROR(SGNP("{stagedAction: Delete, tier: t1, order: 2.5, types: [Ingress], performanceHints: [AssumeNeededOnEveryNode]}"),
              ONE("StagedGlobalNetworkPolicySpec = '{Delete t1 2.5 [] []  [Ingress] false false false   [AssumeNeededOnEveryNode]}' "
                  DELETE_ONLY));
        ERROR(SGNP("{stagedAction: Delete, egress: [{action: Allow}]}"),
              ONE("StagedGlobalNetworkPolicySpec = '{Delete  <nil> [] [{Allow <nil> <nil> <nil> <nil> <nil> " EMPTY_ENTITY
                  " " EMPTY_ENTITY " <nil> <nil>}]  [] false false false   []}' " DELETE_ONLY));
        /* A deletion skips the GNP checks, not the CRD's CEL rules. */
        ERROR(SGNP("{stagedAction: Delete, preDNAT: true, doNotTrack: true, applyOnForward: true}"),
              MANY(ITEM("StagedGlobalNetworkPolicySpec = '{Delete  <nil> [] []  [] true true true   []}' " DELETE_ONLY)
                   ITEM("spec (preDNAT and doNotTrack cannot both be true)")));
        /* Field tags still apply to what it holds. */
        ERROR(SGNP("{stagedAction: Delete, namespaceSelector: '&&'}"),
              MANY(ITEM("NamespaceSelector = '&&' " TAG("NamespaceSelector", "selector"))
                   ITEM("StagedGlobalNetworkPolicySpec = '{Delete  <nil> [] []  [] false false false  && []}' " DELETE_ONLY)));
}

/* Otherwise it is checked as the GlobalNetworkPolicy it stands for, in
 * the GNP's words, name rules included. */
static void test_sgnp_as_gnp(void) {
        ERROR(SGNP("{preDNAT: true}"),
              MANY(ITEM("PolicySpec.ApplyOnForward = 'false' (ApplyOnForward must be true if either PreDNAT or DoNotTrack is true, for a given PolicySpec)")
                   ITEM("spec (applyOnForward must be true if either preDNAT or doNotTrack is true)")));
        ERROR(SGNP("{stagedAction: Learn, types: [Egress, Egress]}"),
              ONE("GlobalNetworkPolicySpec.Types = '[Egress Egress]' ('Egress' type specified more than once)"));
        ERROR(SGNP("{selector: global()}"),
              ONE("GlobalNetworkPolicySpec.Selector = 'global()' (global() can only be used in an EntityRule namespaceSelector)"));
        ERROR(SGNP("{ingress: [{action: unknown}]}"),
              MANY(ITEM("Action = 'unknown' " TAG("Action", "action"))
                   ITEM("spec.ingress[0].action (supported values: \"Allow\", \"Deny\", \"Log\", \"Pass\")")));
        ERROR(SGNP("{types: [unexpected]}"),
              MANY(ITEM("Types[0] = 'unexpected' " TAG("Types[0]", "policyType"))
                   ITEM("spec.types[0] (supported values: \"Ingress\", \"Egress\")")));
        VALID(SGNPN("th.ing", "{}"));
        ERROR(SGNPN("t.h.i.ng", "{}"), ONE("Metadata.Name = 't.h.i.ng' (" LABEL_NAME_MSG ")"));
        ERROR(SGNPN("tHiNg", "{}"),
              MANY(ITEM("Metadata.Name = 'tHiNg' (" SUBDOMAIN_MSG ")") ITEM("Metadata.Name = 'tHiNg' (" LABEL_NAME_MSG ")")));
        ERROR("{" API "kind: StagedGlobalNetworkPolicy, metadata: {name: s, namespace: ns}, spec: {}}",
              "namespace should not be specified for a non-namespaced resource. StagedGlobalNetworkPolicy is not a namespaced resource");
}

/* ---- NetworkPolicy ---- */

static void test_np(void) {
        _cleanup_free_ char *n253 = repeat('a', 253), *n254 = repeat('a', 254);
        _cleanup_free_ char *ok = fmt(NPN("%s", "{}"), n253), *bad = fmt(NPN("%s", "{}"), n254);

        VALID(NP("{}"));
        VALID(NPN("th.ing", "{}"));
        VALID(NPN("knp.default.thing", "{}"));
        VALID(NPN("knp.default.a.b.c", "{}"));
        VALID(NPN("ossg.default.x-y", "{}"));
        VALID(ok);
        CONTAINS(bad, "error with the following fields:\n-  Metadata.Name = 'aaa");
        CONTAINS(bad, "' (name is too long by 1 bytes)\n-  Metadata.Name = 'aaa");
        ERROR(NPN("t.h.i.ng", "{}"), ONE("Metadata.Name = 't.h.i.ng' (" LABEL_NAME_MSG ")"));
        ERROR(NPN("knp.other.thing", "{}"), ONE("Metadata.Name = 'knp.other.thing' (" LABEL_NAME_MSG ")"));
        ERROR(NPN("tHiNg", "{}"),
              MANY(ITEM("Metadata.Name = 'tHiNg' (" SUBDOMAIN_MSG ")") ITEM("Metadata.Name = 'tHiNg' (" LABEL_NAME_MSG ")")));

        VALID(NP("{types: [Ingress, Egress], ingress: [{action: Allow}]}"));
        VALID(NP("{egress: [{action: Allow}], types: [Ingress]}"));
        ERROR(NP("{types: [Egress, Egress]}"), ONE("NetworkPolicySpec.Types = '[Egress Egress]' ('Egress' type specified more than once)"));
        ERROR(NP("{types: [unexpected]}"),
              MANY(ITEM("Types[0] = 'unexpected' " TAG("Types[0]", "policyType"))
                   ITEM("spec.types[0] (supported values: \"Ingress\", \"Egress\")")));
        ERROR(NP("{egress: [{action: Allow, http: {methods: [GET]}}], types: [Ingress, Egress]}"),
              ONE("HTTP = '&{[GET] []}' (not allowed in egress rule)"));
        ERROR(NP("{selector: global()}"),
              ONE("NetworkPolicySpec.Selector = 'global()' (global() can only be used in an EntityRule namespaceSelector)"));
        ERROR(NP("{selector: has(a), serviceAccountSelector: global()}"),
              ONE("NetworkPolicySpec.ServiceAccountSelector = 'global()' (global() can only be used in an EntityRule namespaceSelector)"));
        ERROR(NP("{performanceHints: [junk]}"),
              MANY(ITEM("PerformanceHints[0] = 'junk' " TAG("PerformanceHints[0]", "oneof"))
                   ITEM("spec.performanceHints[0] (supported values: \"AssumeNeededOnEveryNode\")")));
        VALID(NP("{performanceHints: [AssumeNeededOnEveryNode]}"));
        ERROR(NP("{performanceHints: [AssumeNeededOnEveryNode, AssumeNeededOnEveryNode]}"),
              ONE("PerformanceHints = '[AssumeNeededOnEveryNode AssumeNeededOnEveryNode]' " TAG("PerformanceHints", "unique")));
        VALID(NP("{ingress: [{action: Allow, source: {namespaceSelector: global()}, destination: {namespaceSelector: 'projectcalico.org/name == \"test\"'}}]}"));
        /* Services: a namespaced policy implies the namespace. */
        VALID(NP("{egress: [{action: Allow, destination: {services: {name: service1, namespace: default}}}]}"));
        VALID(NP("{egress: [{action: Allow, destination: {services: {name: service1}}}]}"));
        VALID(NP("{ingress: [{action: Allow, source: {services: {name: service1}}}]}"));
        ERROR(NP("{egress: [{action: Allow, source: {services: {name: service1, namespace: default}}}]}"),
              ONE("Services = '&{service1 default}' (not allowed in egress rule source)"));
        ERROR(NP("{ingress: [{action: Allow, destination: {services: {name: service1, namespace: default}}}]}"),
              ONE("Services = '&{service1 default}' (not allowed in ingress rule destination)"));
        ERROR(NP("{ingress: [{action: Deny, http: {}}]}"),
              MANY(ITEM("HTTP = '&{[] []}' (only valid for Allow rules)") ITEM("spec.ingress[0] (HTTP match is only valid on Allow rules)")));
        ERROR(NP("{tier: '-x'}"), ONE("Tier = '-x' " TAG("Tier", "name")));
}

/* ---- Tier ---- */

static void test_tier(void) {
        _cleanup_free_ char *n63 = repeat('x', 63), *n64 = repeat('x', 64);
        _cleanup_free_ char *ok = fmt(TIER("%s", "{order: 100}"), n63), *bad = fmt(TIER("%s", "{order: 100}"), n64);
        _cleanup_free_ char *want = fmt(ONE("Metadata.Name = '%s' (name is too long by 1 bytes)"), n64);

        VALID(TIER("foo", "{order: 100}"));
        VALID(TIER("fo-o", "{order: 100}"));
        VALID(TIER("platform", "{order: 100}"));
        VALID(TIER("platform", "{}"));
        VALID(TIER("p", "{order: 1, defaultAction: Pass}"));
        VALID(TIER("p", "{defaultAction: Deny}"));
        VALID(ok);
        ERROR(bad, want);
        ERROR(TIER("fo.o", "{order: 100}"), ONE("Metadata.Name = 'fo.o' (" LABEL_NAME_MSG ")"));
        ERROR(TIER("'t~!s.h.i.ng'", "{order: 100}"),
              MANY(ITEM("Metadata.Name = 't~!s.h.i.ng' (" SUBDOMAIN_MSG ")") ITEM("Metadata.Name = 't~!s.h.i.ng' (" LABEL_NAME_MSG ")")));

        /* The built-in tiers: fixed order (Go) and default action (CEL, after
         * the CRD defaults a missing action to Deny). */
        VALID(TIER("default", "{order: 1000000, defaultAction: Deny}"));
        VALID(TIER("default", "{order: 1000000.0}"));
        ERROR(TIER("default", "{order: 10, defaultAction: Deny}"), ONE("TierSpec.Order = '10' (default tier order must be 1e+06)"));
        ERROR(TIER("default", "{defaultAction: Deny}"), ONE("TierSpec.Order = '<nil>' (default tier order must be 1e+06)"));
        ERROR(TIER("default", "{order: 1000000, defaultAction: Pass}"), ONE("Tier (The 'default' tier must have default action 'Deny')"));
        VALID(TIER("kube-admin", "{order: 1000, defaultAction: Pass}"));
        ERROR(TIER("kube-admin", "{order: 10, defaultAction: Pass}"), ONE("TierSpec.Order = '10' (kube-admin tier order must be 1000)"));
        ERROR(TIER("kube-admin", "{order: 1000, defaultAction: Deny}"), ONE("Tier (The 'kube-admin' tier must have default action 'Pass')"));
        ERROR(TIER("kube-admin", "{order: 1000}"), ONE("Tier (The 'kube-admin' tier must have default action 'Pass')"));
        VALID(TIER("kube-baseline", "{order: 10000000, defaultAction: Pass}"));
        ERROR(TIER("kube-baseline", "{order: 10.5, defaultAction: Pass}"),
              ONE("TierSpec.Order = '10.5' (kube-baseline tier order must be 1e+07)"));
        ERROR(TIER("kube-baseline", "{order: 10000000, defaultAction: Deny}"),
              ONE("Tier (The 'kube-baseline' tier must have default action 'Pass')"));
        ERROR(TIER("kube-baseline", "{}"),
              MANY(ITEM("TierSpec.Order = '<nil>' (kube-baseline tier order must be 1e+07)")
                   ITEM("Tier (The 'kube-baseline' tier must have default action 'Pass')")));

        /* defaultAction: Deny or Pass only. */
        ERROR(TIER("t", "{defaultAction: Allow}"),
              MANY(ITEM("DefaultAction = 'Allow' " TAG("DefaultAction", "oneof"))
                   ITEM("spec.defaultAction (supported values: \"Pass\", \"Deny\")")
                   ITEM("Tier (\"spec.defaultAction\" must validate all the schemas (allOf))")));
        ERROR(TIER("t", "{defaultAction: deny}"),
              MANY(ITEM("DefaultAction = 'deny' " TAG("DefaultAction", "oneof"))
                   ITEM("spec.defaultAction (supported values: \"Allow\", \"Deny\", \"Log\", \"Pass\")")
                   ITEM("spec.defaultAction (supported values: \"Pass\", \"Deny\")")
                   ITEM("Tier (\"spec.defaultAction\" must validate all the schemas (allOf). None validated)")));
        ERROR(TIER("default", "{order: 1000000, defaultAction: Log}"),
              MANY(ITEM("DefaultAction = 'Log' " TAG("DefaultAction", "oneof"))
                   ITEM("spec.defaultAction (supported values: \"Pass\", \"Deny\")")
                   ITEM("Tier (\"spec.defaultAction\" must validate all the schemas (allOf))")
                   ITEM("Tier (The 'default' tier must have default action 'Deny')")));
}

/* ---- FelixConfiguration ---- */

static void test_felix(void) {
        VALID(FELIX("default", "{}"));
        VALID(FELIX("node.my-node", "{interfaceExclude: 'kube-ipvs0,/^veth/'}"));
        /* v3.32 never validates the failsafe entries (no dive tag). */
        VALID(FELIX("default", "{failsafeInboundHostPorts: [{protocol: jolly-UDP, port: 0}], failsafeOutboundHostPorts: []}"));
        VALID(FELIX("default", "{failsafeInboundHostPorts: [{protocol: tcp, port: 22, net: not-a-cidr}]}"));
        ERROR(FELIX("Default", "{}"), ONE("Metadata.Name = 'Default' (" SUBDOMAIN_MSG ")"));
        VALID(FELIX("other", "{nodeSelector: all()}"));
        ERROR(FELIX("default", "{nodeSelector: all()}"),
              ONE("FelixConfiguration (nodeSelector must not be set on the 'default' or per-node ('node.*') FelixConfiguration)"));
        ERROR(FELIX("node.x", "{nodeSelector: all()}"),
              ONE("FelixConfiguration (nodeSelector must not be set on the 'default' or per-node ('node.*') FelixConfiguration)"));
        CONTAINS(FELIX("other", "{routeTableRange: {min: 1, max: 250}, routeTableRanges: [{min: 1, max: 250}]}"),
                 "\n-  spec (routeTableRange and routeTableRanges cannot both be set)\n");
}

/* Felix field tags, as the validator tests exercise them, each case as a
 * FelixConfiguration named "default". */
static void test_felix_fields(void) {
        static const struct {
                const char *spec;
                bool valid;
        } cases[] = {
                { "{iptablesBackend: Legacy}", true },
                { "{iptablesBackend: NFT}", true },
                { "{iptablesBackend: Auto}", true },
                { "{iptablesBackend: badVal}", false },
                { "{iptablesBackend: legacy}", false },
                { "{defaultEndpointToHostAction: Drop}", true },
                { "{defaultEndpointToHostAction: drop}", false },
                { "{iptablesFilterAllowAction: Accept}", true },
                { "{iptablesMangleAllowAction: Return}", true },
                { "{iptablesMangleAllowAction: Drop}", false },
                { "{iptablesFilterDenyAction: Drop}", true },
                { "{iptablesFilterDenyAction: Reject}", true },
                { "{iptablesFilterDenyAction: Accept}", false },
                { "{kubeNodePortRanges: ['3000:4000', '5000:6000', '7000:8000', '8000:9000', '10000:11000', '12000:13000', 15000]}", true },
                { "{kubeNodePortRanges: ['3000:4000', '5000:6000', '7000:8000', '8000:9000', '10000:11000', '12000:13000', '14000:15000', '16000:17000']}", false },
                { "{kubeNodePortRanges: [testport]}", false },
                { "{kubeNodePortRanges: [0]}", false },
                { "{externalNodesList: [1.1.1.1, 1.1.1.2/32, 1.1.3.0/23]}", true },
                { "{externalNodesList: [foobar, 1.1.1.1]}", false },
                { "{externalNodesList: ['abcd::1', 'abef::2/128']}", false },
                { "{openstackRegion: ''}", true },
                { "{openstackRegion: foo}", true },
                { "{openstackRegion: FOO}", false },
                { "{openstackRegion: my-region-has-a-very-long-and-extremely-interesting-name}", false },
                { "{logSeverityScreen: badVal}", false },
                { "{logSeverityFile: badVal}", false },
                { "{logSeveritySys: badVal}", false },
                { "{logSeveritySys: Critical}", false },
                { "{logSeverityScreen: Fatal}", true },
                { "{logSeverityScreen: Warning}", true },
                { "{logSeverityScreen: Trace}", true },
                { "{logSeverityFile: Debug}", true },
                { "{logSeveritySys: Info}", true },
                { "{logSeveritySys: Trace}", true },
                { "{logSeverityScreen: info}", false },
                { "{iptablesNATOutgoingInterfaceFilter: cali-123}", true },
                { "{iptablesNATOutgoingInterfaceFilter: 'cali@123'}", false },
                { "{bpfLogLevel: badVal}", false },
                { "{bpfLogLevel: Info}", true },
                { "{bpfLogLevel: Debug}", true },
                { "{bpfLogLevel: 'Off'}", true },
                { "{bpfExternalServiceMode: Foo}", false },
                { "{bpfExternalServiceMode: Tunnel}", true },
                { "{bpfExternalServiceMode: DSR}", true },
                { "{bpfExtToServiceConnmark: -1}", false },
                { "{bpfExtToServiceConnmark: 4294967296}", false },
                { "{bpfExtToServiceConnmark: 0}", true },
                { "{bpfExtToServiceConnmark: 4294967295}", true },
                { "{bpfDataIfacePattern: '*'}", false },
                { "{bpfDataIfacePattern: 'eth.*'}", true },
                { "{mtuIfacePattern: '*'}", false },
                { "{mtuIfacePattern: 'eth.*'}", true },
                { "{mtuIfacePattern: '^(eth|en)[0-9]+$'}", true },
                { "{mtuIfacePattern: 'a**'}", false },
                { "{mtuIfacePattern: '(a'}", false },
                { "{mtuIfacePattern: 'a)'}", false },
                { "{mtuIfacePattern: '[a'}", false },
                { "{mtuIfacePattern: 'a{2,1}'}", false },
                { "{mtuIfacePattern: 'a{1001}'}", false },
                { "{mtuIfacePattern: 'x{'}", true },
                { "{mtuIfacePattern: '\\q'}", false },
                { "{mtuIfacePattern: '(?i)eth'}", true },
                { "{mtuIfacePattern: '(?x)eth'}", false },
                { "{routeTableRange: {min: 1, max: 250}}", true },
                { "{routeTableRange: {min: 0, max: 250}}", false },
                { "{routeTableRange: {min: -5, max: 250}}", false },
                { "{routeTableRange: {min: 50, max: 45}}", false },
                { "{routeTableRange: {min: 1, max: 253}}", false },
                { "{routeTableRange: {min: 8, max: 8}}", true },
                { "{routeTableRanges: [{min: 1, max: 10000}]}", true },
                { "{routeTableRanges: [{min: 8, max: 8}]}", true },
                { "{routeTableRanges: [{min: 8, max: 8}, {min: 7, max: 7}]}", true },
                { "{routeTableRanges: [{min: 0, max: 250}]}", false },
                { "{routeTableRanges: [{min: -5, max: 250}]}", false },
                { "{routeTableRanges: [{min: 50, max: 45}]}", false },
                { "{routeTableRanges: [{min: 1, max: 64424509440}]}", false },
                { "{routeTableRanges: [{min: 1, max: 65536}]}", false },
                { "{routeTableRanges: [{min: 1, max: 2}, {min: 3, max: 4}, {min: 5, max: 65536}]}", false },
                { "{routeTableRanges: [{min: 1, max: 65535}]}", true },
                { "{routeTableRange: {min: 1, max: 250}, routeTableRanges: [{min: 1, max: 250}]}", false },
                { "{healthTimeoutOverrides: [{name: Valid, timeout: 0s}]}", true },
                { "{healthTimeoutOverrides: [{name: Valid, timeout: -1ns}]}", false },
                { "{healthTimeoutOverrides: [{name: '%', timeout: 10ns}]}", false },
                { "{healthTimeoutOverrides: [{name: '', timeout: 10ns}]}", false },
                { "{healthTimeoutOverrides: [{name: With space_and-dash, timeout: 30s}]}", true },
                { "{ipv4ElevatedRoutePriority: 0}", false },
                { "{ipv4ElevatedRoutePriority: 1}", true },
                { "{ipv4ElevatedRoutePriority: 10000}", true },
                { "{ipv4ElevatedRoutePriority: 2147483646}", true },
                { "{ipv4ElevatedRoutePriority: 2147483647}", false },
                { "{awsSrcDstCheck: DoNothing}", true },
                { "{awsSrcDstCheck: Enable}", true },
                { "{awsSrcDstCheck: Disable}", true },
                { "{awsSrcDstCheck: enable}", false },
                { "{awsSrcDstCheck: badVal}", false },
                { "{bpfHostNetworkedNATWithoutCTLB: Disabled}", true },
                { "{bpfHostNetworkedNATWithoutCTLB: Enabled}", true },
                { "{bpfConnectTimeLoadBalancing: Enabled}", true },
                { "{bpfConnectTimeLoadBalancing: Disabled}", true },
                { "{bpfConnectTimeLoadBalancing: TCP}", true },
                { "{bpfHostNetworkedNATWithoutCTLB: enabled}", false },
                { "{bpfHostNetworkedNATWithoutCTLB: BadVal}", false },
                { "{bpfConnectTimeLoadBalancing: BadVal}", false },
                { "{natOutgoingAddress: 999.999.999.999}", false },
                { "{natOutgoingAddress: 1.2.3.4/32}", false },
                { "{natOutgoingAddress: 'aabb:aabb::ffff'}", false },
                { "{natOutgoingAddress: 1.2.3.4}", true },
                { "{prometheusMetricsHost: localhost}", true },
                { "{prometheusMetricsHost: 10.0.0.1}", true },
                { "{prometheusMetricsHost: 'fe80::ea7a:70fa:cf74:25d5'}", true },
                { "{prometheusMetricsHost: 'localhost#'}", false },
                { "{prometheusMetricsHost: '0: 1::1'}", false },
                { "{deviceRouteSourceAddress: 1.2.3.4}", true },
                { "{deviceRouteSourceAddress: 'aabb:aabb::ffff'}", false },
                { "{deviceRouteSourceAddress: 999.999.999.999}", false },
                { "{deviceRouteSourceAddress: 1.2.3.4/32}", false },
                { "{deviceRouteSourceAddressIPv6: 'aabb:aabb::ffff'}", true },
                { "{deviceRouteSourceAddressIPv6: 1.2.3.4}", false },
                { "{deviceRouteSourceAddressIPv6: 'xyz:::'}", false },
                { "{deviceRouteSourceAddressIPv6: 'aabb:aabb::ffff/128'}", false },
                { "{wireguardListeningPort: 12345}", true },
                { "{wireguardListeningPort: 99999}", false },
                { "{wireguardListeningPort: 0}", false },
                { "{wireguardRoutingRulePriority: 12345}", true },
                { "{wireguardRoutingRulePriority: 99999}", false },
                { "{wireguardRoutingRulePriority: 32766}", false },
                { "{wireguardInterfaceName: wg0}", true },
                { "{wireguardInterfaceName: 'wg&0'}", false },
                { "{serviceLoopPrevention: Drop}", true },
                { "{serviceLoopPrevention: Reject}", true },
                { "{serviceLoopPrevention: Disabled}", true },
                { "{serviceLoopPrevention: Wibbly}", false },
                { "{windowsManageFirewallRules: Disabled}", true },
                { "{windowsManageFirewallRules: Enabled}", true },
                { "{windowsManageFirewallRules: blah}", false },
                { "{bpfForceTrackPacketsFromIfaces: [docker+]}", true },
                { "{bpfForceTrackPacketsFromIfaces: [docker0, docker1]}", true },
                { "{bpfForceTrackPacketsFromIfaces: [cali-123, 'cali@456']}", false },
                { "{featureDetectOverride: 'SNATFullyRandom=true,MASQFullyRandom=false'}", true },
                { "{featureDetectOverride: 'foo'}", false },
                { "{featureGates: 'BPFConnectTimeLoadBalancingWorkaround=enabled'}", true },
                { "{debugPort: 65536}", false },
                { "{debugPort: 0}", true },
                { "{bpfLogFilters: {all: 'tcp port 80', eth0: ''}}", true },
                { "{bpfLogFilters: {'bad*': x}}", false },
                { "{bpfDSROptoutCIDRs: [10.0.0.0/8, 'fd00::1']}", true },
                { "{bpfDSROptoutCIDRs: [nope]}", false },
                { "{goGCThreshold: -1}", true },
                { "{goGCThreshold: -2}", false },
                { "{bpfMaglevMaxServices: 3000}", true },
                { "{bpfMaglevMaxServices: 0}", false },
                { "{bpfJITHardening: Strict}", true },
                { "{bpfJITHardening: Loose}", false },
                { "{workloadSourceSpoofing: Any}", true },
                { "{workloadSourceSpoofing: any}", false },
                /* CRD-only constraints */
                { "{ipForwarding: Enabled}", true },
                { "{ipForwarding: enabled}", false },
                { "{chainInsertMode: append}", true },
                { "{chainInsertMode: Prepend}", false },
                { "{logActionRateLimit: 10/second}", true },
                { "{logActionRateLimit: 0/second}", false },
                { "{logActionRateLimitBurst: 10000}", false },
                { "{logPrefix: 'calico-drop: %t'}", true },
                { "{logPrefix: 'bad!'}", false },
                { "{nftablesMode: Auto}", true },
                { "{nftablesMode: auto}", false },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *y = fmt(FELIX("default", "%s"), cases[i].spec);
                _cleanup_free_ char *t = validate_text(y, __LINE__);

                if (!!t == cases[i].valid) {
                        fprintf(stderr, "felix case %zu: expected %s:\n  %s\ngot:\n%s\n", i,
                                cases[i].valid ? "valid" : "invalid", y, t ? t : "(valid)");
                        abort();
                }
        }
}

/* The Felix messages, Go's then the CRD's. */
static void test_felix_messages(void) {
        ERROR(FELIX("default", "{logSeverityScreen: info}"), ONE("LogSeverityScreen = 'info' " TAG("LogSeverityScreen", "logLevel")));
        ERROR(FELIX("default", "{logSeverityScreen: badVal}"),
              MANY(ITEM("LogSeverityScreen = 'badVal' " TAG("LogSeverityScreen", "logLevel"))
                   ITEM("spec.logSeverityScreen (spec.logSeverityScreen in body should match '^(?i)(Trace|Debug|Info|Warning|Error|Fatal)?$')")));
        ERROR(FELIX("default", "{awsSrcDstCheck: enable}"),
              MANY(ITEM("AWSSrcDstCheck = 'enable' " TAG("AWSSrcDstCheck", "oneof"))
                   ITEM("spec.awsSrcDstCheck (supported values: \"DoNothing\", \"Enable\", \"Disable\")")));
        ERROR(FELIX("default", "{iptablesBackend: legacy}"),
              MANY(ITEM("IptablesBackend = 'legacy' " TAG("IptablesBackend", "iptablesBackend"))
                   ITEM("spec.iptablesBackend (supported values: \"Legacy\", \"NFT\", \"Auto\")")));
        ERROR(FELIX("default", "{wireguardListeningPort: 0}"), ONE("WireguardListeningPort = '0' " TAG("WireguardListeningPort", "gt")));
        ERROR(FELIX("default", "{wireguardRoutingRulePriority: 32766}"),
              ONE("WireguardRoutingRulePriority = '32766' " TAG("WireguardRoutingRulePriority", "lt")));
        ERROR(FELIX("default", "{bpfExtToServiceConnmark: -1}"),
              ONE("BPFExtToServiceConnmark = '-1' " TAG("BPFExtToServiceConnmark", "gte")));
        ERROR(FELIX("default", "{mtuIfacePattern: '*'}"), ONE("MTUIfacePattern = '*' " TAG("MTUIfacePattern", "regexp")));
        ERROR(FELIX("default", "{bpfForceTrackPacketsFromIfaces: [cali-123, 'cali@456']}"),
              ONE("BPFForceTrackPacketsFromIfaces = '[cali-123 cali@456]' " TAG("BPFForceTrackPacketsFromIfaces", "ifaceFilterSlice")));
        ERROR(FELIX("default", "{kubeNodePortRanges: [testport]}"),
              ONE("KubeNodePortRanges = '[testport]' (node port ranges should not contain named ports)"));
        ERROR(FELIX("default", "{externalNodesList: [foobar, 'abcd::1']}"),
              MANY(ITEM("ExternalNodesCIDRList = 'foobar' (has invalid CIDR(s))") ITEM("ExternalNodesCIDRList = 'abcd::1' (has invalid IPv6 CIDR)")));
        ERROR(FELIX("default", "{openstackRegion: FOO}"), ONE("OpenstackRegion = 'FOO' (must be a valid DNS label)"));
        ERROR(FELIX("default", "{natOutgoingAddress: 'aabb::1'}"), ONE("NATOutgoingAddress = 'aabb::1' (is not a valid IPv4 address)"));
        ERROR(FELIX("default", "{deviceRouteSourceAddressIPv6: 1.2.3.4}"),
              ONE("DeviceRouteSourceAddressIPv6 = '1.2.3.4' (is not a valid IPv6 address)"));
        ERROR(FELIX("default", "{routeTableRange: {min: 0, max: 250}}"),
              ONE("RouteTableRange = '{0 250}' (must be a range of route table indices within 1..250)"));
        ERROR(FELIX("default", "{routeTableRanges: [{min: 50, max: 45}]}"),
              ONE("RouteTableRange = '{50 45}' (min value cannot be greater than max value)"));
        ERROR(FELIX("default", "{routeTableRanges: [{min: 1, max: 65536}]}"),
              ONE("RouteTableRanges = '[{1 65536}]' (targets too many tables)"));
        ERROR(FELIX("other", "{routeTableRange: {min: 1, max: 250}, routeTableRanges: [{min: 1, max: 250}]}"),
              MANY(ITEM("RouteTableRange = '&{1 250}' (cannot be set when `RouteTableRanges` is also set)")
                   ITEM("spec (routeTableRange and routeTableRanges cannot both be set)")));
        ERROR(FELIX("default", "{healthTimeoutOverrides: [{name: '', timeout: -1s}]}"),
              MANY(ITEM("HealthTimeoutOverride.Name = '{ -1s}' (name should match regex ^[a-zA-Z0-9_ -]+$)")
                   ITEM("HealthTimeoutOverride.Timeout = '{ -1s}' (Timeout should not be negative)")));
        ERROR(FELIX("default", "{bpfJITHardening: Loose}"),
              MANY(ITEM("BPFJITHardening = 'Loose' " TAG("BPFJITHardening", "oneof"))
                   ITEM("spec.bpfJITHardening (supported values: \"Auto\", \"Strict\")")
                   ITEM("spec.bpfJITHardening (supported values: \"Auto\", \"Strict\")")
                   ITEM("FelixConfiguration (\"spec.bpfJITHardening\" must validate all the schemas (allOf). None validated)")));
        ERROR(FELIX("default", "{logActionRateLimitBurst: 10000}"),
              ONE("spec.logActionRateLimitBurst (spec.logActionRateLimitBurst in body should be less than or equal to 9999)"));
        /* Pointer fields check an explicit empty string; plain ones skip it. */
        ERROR(FELIX("default", "{awsSrcDstCheck: ''}"),
              MANY(ITEM("AWSSrcDstCheck = '' " TAG("AWSSrcDstCheck", "oneof"))
                   ITEM("spec.awsSrcDstCheck (supported values: \"DoNothing\", \"Enable\", \"Disable\")")));
        VALID(FELIX("default", "{logSeverityScreen: '', defaultEndpointToHostAction: ''}"));
}

/* Several fields wrong at once: the tags' errors in Go field order, then
 * the CRD's alternatives by property name (a (?i) pattern lets "any"
 * through where the tag does not). */
static void test_felix_order(void) {
        ERROR(FELIX("default", "{workloadSourceSpoofing: any, bpfLogLevel: bad, chainInsertMode: Prepend, awsSrcDstCheck: enable}"),
              MANY(ITEM("BPFLogLevel = 'bad' " TAG("BPFLogLevel", "bpfLogLevel"))
                   ITEM("AWSSrcDstCheck = 'enable' " TAG("AWSSrcDstCheck", "oneof"))
                   ITEM("WorkloadSourceSpoofing = 'any' " TAG("WorkloadSourceSpoofing", "oneof"))
                   ITEM("spec.awsSrcDstCheck (supported values: \"DoNothing\", \"Enable\", \"Disable\")")
                   ITEM("spec.bpfLogLevel (spec.bpfLogLevel in body should match '^(?i)(Off|Info|Debug)?$')")
                   ITEM("spec.chainInsertMode (spec.chainInsertMode in body should match '^(?i)(Insert|Append)?$')")));
}

/* ProtoPort's own check, for users of the failsafe lists. */
static void test_proto_port(void) {
        static const char *const ok[] = { "TCP", "UDP", "SCTP" }, *const bad[] = { "jolly-UDP", "tcp", "", "ICMP" };

        for (size_t i = 0; i < ELEMENTSOF(ok); i++) {
                ValidationErrors e = {};
                ProtoPort p = { .protocol = (char *)ok[i], .port = 0 };

                ASSERT_EQ(proto_port_validate(&p, "spec.failsafeInboundHostPorts[0]", &e), 0);
                ASSERT_EQ(e.n, 0);
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_(validation_errors_done) ValidationErrors e = {};
                _cleanup_free_ char *t = NULL, *want = NULL;
                ProtoPort p = { .protocol = (char *)bad[i], .port = 20 };

                ASSERT_EQ(proto_port_validate(&p, "spec.failsafeInboundHostPorts[2]", &e), -EINVAL);
                ASSERT_EQ(e.n, 1);
                ASSERT_STREQ(e.v[0].path, "spec.failsafeInboundHostPorts[2].protocol");
                t = validation_errors_format(&e);
                want = fmt("error with field ProtoPort.Protocol = '%s' (protocol must be 'TCP' or 'UDP' or 'SCTP'.)", bad[i]);
                ASSERT_STREQ(t, want);
        }
}

/* ---- paths, defaulting, purity ---- */

static void expect_paths(const char *yaml, const char *const *want, size_t n, int line) {
        _cleanup_(resource_freep) Resource *r = load(yaml, line);
        _cleanup_(validation_errors_done) ValidationErrors e = {};

        ASSERT_EQ(resource_validate(r, &e), -EINVAL);
        if (e.n != n) {
                fprintf(stderr, "line %d: %zu errors, expected %zu\n", line, e.n, n);
                abort();
        }
        for (size_t i = 0; i < n; i++)
                if (!streq(e.v[i].path, want[i])) {
                        fprintf(stderr, "line %d: error %zu at '%s', expected '%s'\n", line, i, e.v[i].path, want[i]);
                        abort();
                }
}

#define PATHS(y, ...)                                                         \
        do {                                                                  \
                static const char *const _w[] = { __VA_ARGS__ };              \
                expect_paths(y, _w, ELEMENTSOF(_w), __LINE__);                \
        } while (0)

/* Each error names the document field the loader should point at. */
static void test_paths(void) {
        PATHS(HEP("{}"), "spec.interfaceName", "spec.node", "spec", "spec");
        PATHS(HEP("{node: n, interfaceName: e, expectedIPs: [1.2.3.4, x], ports: [{name: p, protocol: TCP, port: 1}, {name: Q, protocol: TCP, port: 1}]}"),
              "spec.expectedIPs[1]", "spec.ports[1].name");
        PATHS(GNP("{ingress: [{action: Allow}, {action: Allow, source: {nets: [10.0.0.0/8, 10.0.0.1/8, x]}}]}"),
              "spec.ingress[1].source.nets[1]", "spec.ingress[1].source.nets[2]", "spec.ingress[1].source.nets[2]");
        PATHS(GNP("{egress: [{action: Allow, protocol: ICMP, icmp: {type: 300}}]}"),
              "spec.egress[0].icmp.type", "spec.egress[0].icmp.type");
        PATHS("{" API "kind: Profile, metadata: {name: p, labels: {foo: '-v', 'a.b/c': '-w'}}, spec: {}}",
              "metadata.labels", "metadata.labels.foo");
        PATHS("{" API "kind: HostEndpoint, metadata: {name: h, namespace: x}, spec: {}}", "metadata.namespace");
        PATHS(TIER("default", "{order: 1000000, defaultAction: Pass}"), "spec.defaultAction");
        PATHS(GNP("{preDNAT: true, applyOnForward: true, egress: [{action: Allow, source: {services: {name: s, namespace: ns}}}]}"),
              "spec.egress", "spec.egress[0].source.services", "spec");
}

/* §1.4: types derived from the rules when empty, kept otherwise. */
static void test_default_types(void) {
        static const struct {
                const char *spec, *want;
        } cases[] = {
                { "{}", "Ingress" },
                { "{ingress: [{action: Allow}]}", "Ingress" },
                { "{egress: [{action: Allow}]}", "Egress" },
                { "{ingress: [{action: Allow}], egress: [{action: Deny}]}", "Ingress,Egress" },
                { "{types: [Egress], ingress: [{action: Allow}]}", "Egress" },
                { "{types: [Egress, Ingress]}", "Egress,Ingress" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *y = fmt(GNP("%s"), cases[i].spec);
                _cleanup_(resource_freep) Resource *r = load(y, __LINE__);
                char got[64] = "";

                ASSERT_OK(policy_spec_default_types(&r->spec.policy));
                for (size_t j = 0; j < r->spec.policy.types.n; j++) {
                        if (j)
                                strcat(got, ",");
                        strcat(got, r->spec.policy.types.v[j]);
                }
                ASSERT_STREQ(got, cases[i].want);
        }
}

/* After defaulting, preDNAT with egress rules also trips G3. */
static void test_default_then_validate(void) {
        _cleanup_(resource_freep) Resource *r = load(GNP("{preDNAT: true, applyOnForward: true, egress: [{action: Allow}]}"), __LINE__);
        _cleanup_(validation_errors_done) ValidationErrors e = {};

        ASSERT_OK(policy_spec_default_types(&r->spec.policy));
        ASSERT_EQ(resource_validate(r, &e), -EINVAL);
        ASSERT_EQ(e.n, 4);
        ASSERT_STREQ(e.v[0].field, "PolicySpec.Egress");
        ASSERT_STREQ(e.v[1].field, "PolicySpec.Types");
        ASSERT_STREQ(e.v[1].value, "[Egress]");
        ASSERT_STREQ(e.v[2].reason, "preDNAT policy cannot have any egress rules");
        ASSERT_STREQ(e.v[3].reason, "preDNAT policy cannot have 'Egress' type");
}

static void test_default_tier(void) {
        _cleanup_(resource_freep) Resource *r = load(TIER("default", "{}"), __LINE__);
        _cleanup_(resource_freep) Resource *a = load(TIER("kube-admin", "{order: 1000, defaultAction: Pass}"), __LINE__);
        _cleanup_(validation_errors_done) ValidationErrors e = {};

        ASSERT_EQ(resource_validate(r, &e), -EINVAL);
        ASSERT_OK(tier_spec_default(&r->spec.tier));
        ASSERT_TRUE(r->spec.tier.order.set);
        ASSERT_TRUE(r->spec.tier.order.v == 1000000.0);
        ASSERT_STREQ(r->spec.tier.default_action, "Deny");
        validation_errors_done(&e);
        ASSERT_EQ(resource_validate(r, &e), 0);
        /* Values already set are kept. */
        ASSERT_OK(tier_spec_default(&a->spec.tier));
        ASSERT_TRUE(a->spec.tier.order.v == 1000.0);
        ASSERT_STREQ(a->spec.tier.default_action, "Pass");
}

/* Validation reads only: the resource is unchanged and types stay empty;
 * errors are appended to what the list already holds. */
static void test_no_side_effects(void) {
        _cleanup_(resource_freep) Resource *r = load(GNP("{ingress: [{action: Bad, source: {nets: [x]}}], egress: [{action: Allow}]}"), __LINE__);
        _cleanup_(resource_freep) Resource *copy = resource_copy(r);
        _cleanup_(validation_errors_done) ValidationErrors e = {};
        size_t first;

        ASSERT_NOT_NULL(copy);
        ASSERT_EQ(resource_validate(r, &e), -EINVAL);
        first = e.n;
        ASSERT_TRUE(resource_spec_equal(r, copy));
        ASSERT_EQ(r->spec.policy.types.n, 0);
        ASSERT_EQ(resource_validate(r, &e), -EINVAL);
        ASSERT_EQ(e.n, 2 * first);
        for (size_t i = 0; i < first; i++)
                ASSERT_STREQ(e.v[i].reason, e.v[first + i].reason);
}

/* ---- verdicts, restated from the cases Calico's validator tests cover ---- */

static void test_verdict_table(void) {
        static const struct {
                const char *yaml;
                bool valid;
        } cases[] = {
                /* HostEndpoint */
                { HEP("{node: node01, interfaceName: eth0, ports: [{name: a-valid-port, protocol: TCP, port: 1234}]}"), true },
                { HEP("{node: node01, interfaceName: eth0, ports: [{protocol: TCP, port: 1234}]}"), false },
                { HEP("{interfaceName: eth0, ports: [{name: a-valid-port, protocol: TCP, port: 1234}]}"), false },
                { HEP("{node: node01, interfaceName: eth0, ports: [{name: a-valid-port, protocol: TCP, port: 1234}, {name: a-valid-port, protocol: UDP, port: 5456}]}"), true },
                { HEP("{node: node01, interfaceName: '*'}"), true },
                { HEP("{node: node01, interfaceName: eth0, ports: [{name: p, protocol: 123, port: 1}]}"), false },
                { HEP("{node: node01, interfaceName: eth0, ports: [{name: p, protocol: SCTP, port: 1}]}"), true },
                { HEP("{node: node01, interfaceName: eth0, expectedIPs: ['aabb:aabb::ffff', 100.200.0.0]}"), true },
                /* Rules */
                { RULE("{action: Allow, protocol: SCTP}"), true },
                { RULE("{action: Allow, protocol: 6, source: {ports: [1]}}"), true },
                { RULE("{action: Allow, protocol: 6, source: {ports: [foo]}}"), true },
                { RULE("{action: Allow, protocol: 7, source: {ports: []}}"), true },
                { RULE("{action: Allow, protocol: 17, source: {notPorts: [1]}}"), true },
                { RULE("{action: Allow, destination: {ports: [1]}}"), false },
                { RULE("{action: Allow, destination: {ports: [foo]}}"), true },
                { RULE("{action: Allow, source: {notPorts: [foo]}}"), true },
                { RULE("{action: Allow, protocol: TCP, destination: {notPorts: [0]}}"), false },
                { RULE("{action: Allow, protocol: unknown, destination: {notPorts: [foo]}}"), false },
                { RULE("{action: Allow, protocol: SCTP, destination: {ports: []}}"), true },
                { RULE("{action: Allow, ipVersion: 4, icmp: {type: 0}}"), false },
                { RULE("{action: Allow, protocol: ICMP, icmp: {type: 0}}"), true },
                { RULE("{action: Allow, protocol: ICMPv6, icmp: {type: 0}}"), true },
                { RULE("{action: Allow, protocol: ICMP, ipVersion: 6}"), false },
                { RULE("{action: Allow, protocol: ICMPv6, ipVersion: 4}"), false },
                { RULE("{action: Allow, protocol: 7, source: {ports: [1]}}"), false },
                { RULE("{action: Allow, protocol: 100, source: {notPorts: [1]}}"), false },
                { RULE("{action: Allow, protocol: SCTP, destination: {ports: [1]}}"), true },
                { RULE("{action: Allow, ipVersion: 4, protocol: icmp, destination: {notPorts: [1]}}"), false },
                { RULE("{action: Allow, protocol: TCP, destination: {notPorts: ['0:100']}}"), false },
                { RULE("{action: Allow, protocol: TCP, source: {nets: [1.2.3.0/26]}, destination: {nets: ['aabb:aabb::0000/122']}}"), false },
                { RULE("{action: Allow, protocol: TCP, ipVersion: 6, source: {nets: [1.0.0.0/10]}, destination: {nets: [1.2.0.0/32]}}"), false },
                { RULE("{action: Allow, protocol: TCP, ipVersion: 6, source: {nets: [1.0.0.0/10]}, destination: {notNets: [1.2.0.0/32]}}"), false },
                { RULE("{action: Allow, protocol: TCP, ipVersion: 6, source: {nets: [1.2.3.4/32]}}"), false },
                { RULE("{action: Allow, protocol: TCP, ipVersion: 4, destination: {nets: ['aabb:aabb::ffff/128']}}"), false },
                { RULE("{action: Allow, protocol: TCP, ipVersion: 6, destination: {nets: ['aabb:aabb::ffff/128']}}"), true },
                { RULE("{action: Allow, http: {methods: [GET]}}"), true },
                { RULE("{action: Deny, http: {methods: [GET]}}"), false },
                { RULE("{action: Allow, protocol: UDP, http: {methods: [GET]}}"), false },
                { RULE("{action: Allow, protocol: TCP, http: {methods: [GET]}}"), true },
                { RULE("{action: Allow, metadata: {annotations: {foo: bar}}}"), true },
                { RULE("{action: Allow, metadata: {annotations: {'...': bar}}}"), false },
                { RULE("{}"), false },
                /* Profile */
                { PROFILE("{labelsToApply: {'my-invalid-label$': value}}"), false },
                /* GNP */
                { GNPN("'t~!s.h.i.ng'", "{}"), false },
                { GNPN("tHiNg", "{}"), false },
                { GNPN("thing", "{}"), true },
                { GNPN("knp.default.thing", "{}"), false },
                { GNPN("t.h.i.ng", "{}"), false },
                { GNP("{preDNAT: true, doNotTrack: true, applyOnForward: true}"), false },
                { GNP("{preDNAT: true, applyOnForward: true}"), true },
                { GNP("{doNotTrack: true, applyOnForward: true}"), true },
                { GNP("{preDNAT: true, applyOnForward: true, egress: [{action: Allow}]}"), false },
                { GNP("{preDNAT: true, applyOnForward: true, ingress: [{action: Allow}]}"), true },
                { GNP("{preDNAT: true}"), false },
                { GNP("{doNotTrack: true}"), false },
                { GNP("{types: [Egress, Egress]}"), false },
                { GNP("{types: [unexpected]}"), false },
                { GNP("{preDNAT: true, applyOnForward: true, types: [Ingress]}"), true },
                { GNP("{preDNAT: true, applyOnForward: true, types: [Egress]}"), false },
                { GNP("{preDNAT: true, applyOnForward: true, types: [Ingress, Egress]}"), false },
                { GNP("{egress: [{action: Allow, http: {methods: [GET]}}], types: [Ingress, Egress]}"), false },
                { GNP("{namespaceSelector: global()}"), false },
                { GNP("{selector: global()}"), false },
                { GNP("{serviceAccountSelector: global()}"), false },
                { GNP_IN("{action: Allow, source: {selector: global()}}"), false },
                { GNP("{performanceHints: [junk]}"), false },
                { GNP("{performanceHints: [AssumeNeededOnEveryNode]}"), true },
                { GNP("{performanceHints: [AssumeNeededOnEveryNode, AssumeNeededOnEveryNode]}"), false },
                /* NP */
                { NPN("thing", "{}"), true },
                { NPN("th.ing", "{}"), true },
                { NPN("t.h.i.ng", "{}"), false },
                { NPN("tHiNg", "{}"), false },
                { NPN("knp.default.thing", "{}"), true },
                { NP("{types: [Egress, Egress]}"), false },
                { NP("{types: [unexpected]}"), false },
                { NP("{ingress: [{action: Allow}], types: [Egress]}"), true },
                { NP("{egress: [{action: Allow, http: {methods: [GET]}}], types: [Ingress, Egress]}"), false },
                { NP("{selector: global()}"), false },
                { NP("{serviceAccountSelector: global()}"), false },
                { NP("{egress: [{action: Allow, destination: {services: {name: service1, namespace: default}}}]}"), true },
                { NP("{egress: [{action: Allow, source: {services: {name: service1, namespace: default}}}]}"), false },
                { NP("{ingress: [{action: Allow, source: {services: {name: service1, namespace: default}}}]}"), true },
                { NP("{ingress: [{action: Allow, destination: {services: {name: service1, namespace: default}}}]}"), false },
                /* Tier */
                { TIER("foo", "{order: 100}"), true },
                { TIER("fo.o", "{order: 100}"), false },
                { TIER("default", "{order: 10, defaultAction: Deny}"), false },
                { TIER("default", "{order: 1000000, defaultAction: Pass}"), false },
                { TIER("default", "{order: 1000000, defaultAction: Deny}"), true },
                { TIER("kube-admin", "{order: 10, defaultAction: Pass}"), false },
                { TIER("kube-admin", "{order: 1000, defaultAction: Deny}"), false },
                { TIER("kube-admin", "{order: 1000, defaultAction: Pass}"), true },
                { TIER("kube-baseline", "{order: 10, defaultAction: Pass}"), false },
                { TIER("kube-baseline", "{order: 10000000, defaultAction: Deny}"), false },
                { TIER("kube-baseline", "{order: 10000000, defaultAction: Pass}"), true },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *t = validate_text(cases[i].yaml, __LINE__);

                if (!!t == cases[i].valid) {
                        fprintf(stderr, "case %zu: expected %s:\n  %s\ngot:\n%s\n", i, cases[i].valid ? "valid" : "invalid",
                                cases[i].yaml, t ? t : "(valid)");
                        abort();
                }
        }
}

int main(void) {
        RUN(test_format);
        RUN(test_hep_valid);
        RUN(test_hep_h1_h2);
        RUN(test_hep_h3);
        RUN(test_hep_node_length);
        RUN(test_hep_ports);
        RUN(test_metadata_name);
        RUN(test_metadata_labels);
        RUN(test_metadata_annotations);
        RUN(test_namespace_scope);
        RUN(test_namespace_label);
        RUN(test_profile);
        RUN(test_rule_action_ipversion);
        RUN(test_rule_protocol);
        RUN(test_rule_r1);
        RUN(test_rule_r2);
        RUN(test_rule_port_values);
        RUN(test_rule_r3);
        RUN(test_rule_r4);
        RUN(test_rule_r5);
        RUN(test_rule_r6);
        RUN(test_rule_r7);
        RUN(test_rule_http);
        RUN(test_rule_r10);
        RUN(test_rule_selectors);
        RUN(test_entity_e1);
        RUN(test_entity_e2);
        RUN(test_entity_e3);
        RUN(test_rule_order);
        RUN(test_gnp_name);
        RUN(test_gnp_flags);
        RUN(test_gnp_types);
        RUN(test_gnp_placement);
        RUN(test_gnp_global);
        RUN(test_gnp_fields);
        RUN(test_gnp_crd_rules);
        RUN(test_sgnp_action);
        RUN(test_sgnp_delete);
        RUN(test_sgnp_as_gnp);
        RUN(test_np);
        RUN(test_tier);
        RUN(test_felix);
        RUN(test_gns);
        RUN(test_gns_unknown_fields);
        RUN(test_felix_fields);
        RUN(test_felix_messages);
        RUN(test_felix_order);
        RUN(test_proto_port);
        RUN(test_paths);
        RUN(test_default_types);
        RUN(test_default_then_validate);
        RUN(test_default_tier);
        RUN(test_no_side_effects);
        RUN(test_verdict_table);
        return 0;
}
