/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The loader: YAML/JSON documents → typed resources, strictness, positions
 * of errors, the three document shapes, hostile input, canonical output. */
#include "tests.h"
#include "intern.h"
#include "loader.h"
#include "parse.h"

static int load(const char *text, ResourceList *out, char **ret_err) {
        ParseError e = PARSE_ERROR_INIT;
        int r = resources_parse("t.yaml", text, strlen(text), out, &e);

        if (r < 0 && ret_err)
                *ret_err = parse_error_format(&e);
        parse_error_done(&e);
        return r;
}

static char *load_error(const char *text) {
        ResourceList l = RESOURCE_LIST_INIT;
        char *err = NULL;

        ASSERT_EQ(load(text, &l, &err), -EINVAL);
        resource_list_done(&l);
        ASSERT_NOT_NULL(err);
        return err;
}

#define ASSERT_LOAD_ERROR(text, expected)               \
        do {                                            \
                char *_e = load_error(text);            \
                ASSERT_STREQ(_e, expected);             \
                free(_e);                               \
        } while (0)

static const char sample[] =
        "apiVersion: projectcalico.org/v3\n"
        "kind: HostEndpoint\n"
        "metadata:\n"
        "  name: some.name\n"
        "  labels:\n"
        "    type: production\n"
        "spec:\n"
        "  interfaceName: eth0\n"
        "  node: myhost\n"
        "  expectedIPs:\n"
        "  - 192.168.0.1\n"
        "  - 192.168.0.2\n"
        "  profiles:\n"
        "  - profile1\n"
        "  - profile2\n"
        "  ports:\n"
        "  - name: some-port\n"
        "    port: 1234\n"
        "    protocol: TCP\n"
        "  - name: another-port\n"
        "    port: 5432\n"
        "    protocol: UDP\n";

/* The seed page's sample decodes field by field. */
static void test_sample_hep(void) {
        ResourceList l = RESOURCE_LIST_INIT;
        ASSERT_OK(load(sample, &l, NULL));
        ASSERT_EQ(l.n, 1);
        Resource *r = l.v[0];
        ASSERT_EQ(r->kind, KIND_HOST_ENDPOINT);
        ASSERT_STREQ(r->meta.name, "some.name");
        ASSERT_STREQ(labels_get(&r->meta.labels, "type"), "production");
        ASSERT_STREQ(r->spec.hep.interface_name, "eth0");
        ASSERT_STREQ(r->spec.hep.node, "myhost");
        ASSERT_EQ(r->spec.hep.expected_ips.n, 2);
        ASSERT_STREQ(r->spec.hep.expected_ips.v[1], "192.168.0.2");
        ASSERT_EQ(r->spec.hep.profiles.n, 2);
        ASSERT_EQ(r->spec.hep.ports.n, 2);
        ASSERT_EQ(r->spec.hep.ports.v[1].port, 5432);
        ASSERT_STREQ(r->spec.hep.ports.v[1].protocol.name, "UDP");
        ASSERT_STREQ(r->file, "t.yaml");
        resource_list_done(&l);
}

/* An unknown field is an error at its key, with the field path. */
static void test_unknown_field(void) {
        ASSERT_LOAD_ERROR("apiVersion: projectcalico.org/v3\nkind: HostEndpoint\nmetadata:\n  name: a\nspec:\n  node: n\n  interfaceNme: eth0\n",
                          "t.yaml:7:3: spec.interfaceNme: field in document is not recognized or is in the wrong location: interfaceNme");
}

/* Wrong types name what was expected and what was found. */
static void test_wrong_type(void) {
        ASSERT_LOAD_ERROR("apiVersion: projectcalico.org/v3\nkind: HostEndpoint\nmetadata:\n  name: a\nspec:\n  interfaceName: [eth0]\n",
                          "t.yaml:6:18: spec.interfaceName: expected a string, got a list");
        ASSERT_LOAD_ERROR("apiVersion: projectcalico.org/v3\nkind: HostEndpoint\nmetadata:\n  name: a\nspec:\n  expectedIPs: 10.0.0.1\n",
                          "t.yaml:6:16: spec.expectedIPs: expected a list of strings, got a string");
        ASSERT_LOAD_ERROR("apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata:\n  name: a\nspec:\n  preDNAT: maybe\n",
                          "t.yaml:6:12: spec.preDNAT: expected true or false, got a string");
}

/* Integers out of their Go type's range are decode errors. */
static void test_out_of_range(void) {
        ASSERT_LOAD_ERROR("apiVersion: projectcalico.org/v3\nkind: HostEndpoint\nmetadata: {name: a}\nspec:\n  ports:\n  - {name: p, protocol: TCP, port: 65536}\n",
                          "t.yaml:6:36: spec.ports[0].port: number '65536' is out of range (0..65535)");
        ASSERT_LOAD_ERROR("apiVersion: projectcalico.org/v3\nkind: Profile\nmetadata: {name: a}\nspec:\n  ingress:\n  - action: Allow\n    protocol: 256\n",
                          "t.yaml:7:15: spec.ingress[0].protocol: protocol number '256' is out of range (0..255)");
        ASSERT_LOAD_ERROR("apiVersion: projectcalico.org/v3\nkind: Profile\nmetadata: {name: a}\nspec:\n  ingress:\n  - action: Allow\n    destination: {ports: [70000]}\n",
                          "t.yaml:7:27: spec.ingress[0].destination.ports[0]: invalid port format (70000)");
        ASSERT_LOAD_ERROR("apiVersion: projectcalico.org/v3\nkind: Profile\nmetadata: {name: a}\nspec:\n  ingress:\n  - action: Allow\n    destination: {ports: [\"90:80\"]}\n",
                          "t.yaml:7:27: spec.ingress[0].destination.ports[0]: minimum port number (90) is greater than maximum port number (80) in port range");
        ASSERT_LOAD_ERROR("apiVersion: projectcalico.org/v3\nkind: Profile\nmetadata: {name: a}\nspec:\n  ingress:\n  - action: Allow\n    destination: {ports: [\"a b\"]}\n",
                          "t.yaml:7:27: spec.ingress[0].destination.ports[0]: invalid name for named port (a b)");
}

/* Ports: numbers, all-digit strings, ranges and names. */
static void test_ports(void) {
        ResourceList l = RESOURCE_LIST_INIT;
        ASSERT_OK(load("apiVersion: projectcalico.org/v3\nkind: Profile\nmetadata: {name: a}\nspec:\n  ingress:\n  - action: Allow\n    protocol: 6\n    destination: {ports: [80, \"443\", \"1000:2000\", http]}\n", &l, NULL));
        const Rule *rule = &l.v[0]->spec.profile.ingress.v[0];
        ASSERT_TRUE(rule->protocol.is_number);
        ASSERT_EQ(rule->protocol.number, 6);
        ASSERT_EQ(rule->destination.ports.n, 4);
        ASSERT_EQ(rule->destination.ports.v[0].kind, PORT_SINGLE);
        ASSERT_EQ(rule->destination.ports.v[1].min, 443);
        ASSERT_EQ(rule->destination.ports.v[2].kind, PORT_RANGE);
        ASSERT_EQ(rule->destination.ports.v[2].max, 2000);
        ASSERT_STREQ(rule->destination.ports.v[3].name, "http");
        resource_list_done(&l);
}

/* Several documents, a <Kind>List and a top-level array all load. */
static void test_shapes(void) {
        ResourceList l = RESOURCE_LIST_INIT;
        ASSERT_OK(load("---\n"
                       "apiVersion: projectcalico.org/v3\nkind: Profile\nmetadata: {name: a}\n"
                       "---\n"
                       "---\n"
                       "apiVersion: projectcalico.org/v3\nkind: ProfileList\nitems:\n"
                       "- {apiVersion: projectcalico.org/v3, kind: Profile, metadata: {name: b}}\n"
                       "- {apiVersion: projectcalico.org/v3, kind: HostEndpoint, metadata: {name: c}}\n"
                       "---\n"
                       "[{\"apiVersion\": \"projectcalico.org/v3\", \"kind\": \"Profile\", \"metadata\": {\"name\": \"d\"}}]\n",
                       &l, NULL));
        ASSERT_EQ(l.n, 4);
        ASSERT_STREQ(l.v[0]->meta.name, "a");
        ASSERT_STREQ(l.v[2]->meta.name, "c");
        ASSERT_EQ(l.v[2]->kind, KIND_HOST_ENDPOINT);
        ASSERT_STREQ(l.v[3]->meta.name, "d");
        resource_list_done(&l);
}

/* JSON, including tab indentation, is read by the same parser. */
static void test_json(void) {
        ResourceList l = RESOURCE_LIST_INIT;
        ASSERT_OK(load("{\n\t\"apiVersion\": \"projectcalico.org/v3\",\n\t\"kind\": \"HostEndpoint\",\n"
                       "\t\"metadata\": {\"name\": \"j\"},\n\t\"spec\": {\"node\": \"n\", \"interfaceName\": \"eth\\u0030\"}\n}\n",
                       &l, NULL));
        ASSERT_STREQ(l.v[0]->spec.hep.interface_name, "eth0");
        resource_list_done(&l);
}

/* Unknown kinds and versions get calicoctl's message. */
static void test_unknown_kind(void) {
        ASSERT_LOAD_ERROR("apiVersion: projectcalico.org/v3\nkind: WorkloadThing\nmetadata: {name: a}\n",
                          "t.yaml:2:7: unknown resource type (WorkloadThing) and/or version (projectcalico.org/v3)");
        ASSERT_LOAD_ERROR("apiVersion: projectcalico.org/v1\nkind: HostEndpoint\nmetadata: {name: a}\n",
                          "t.yaml:2:7: unknown resource type (HostEndpoint) and/or version (projectcalico.org/v1)");
}

/* Hostile and malformed input: one positioned error each, no crash. */
static void test_bad_input(void) {
        char *e;

        e = load_error("a: [1, 2\n");
        ASSERT_CONTAINS(e, "t.yaml:2:1: ");
        free(e);
        e = load_error("kind: \xff\xfe\n");
        ASSERT_CONTAINS(e, "t.yaml:1:7: invalid");
        free(e);
        ASSERT_LOAD_ERROR("apiVersion: projectcalico.org/v3\nkind: Profile\nkind: Profile\n",
                          "t.yaml:3:1: duplicate key 'kind' (first defined at line 2, column 1)");
        ASSERT_LOAD_ERROR("just a string\n",
                          "t.yaml:1:1: expected a resource (a map with apiVersion, kind, metadata and spec), got a string");
        ASSERT_LOAD_ERROR("a: *nope\n", "t.yaml:1:4: unknown anchor 'nope' referenced");
}

/* Deep nesting stops at the limit with a position. */
static void test_deep_nesting(void) {
        size_t n = 5000;
        char *s = malloc(2 * n + 2);
        memset(s, '[', n);
        memset(s + n, ']', n);
        s[2 * n] = '\n';
        s[2 * n + 1] = 0;
        char *e = load_error(s);
        ASSERT_STREQ(e, "t.yaml:1:65: nesting deeper than 64 levels");
        free(e);
        free(s);
}

/* The billion-laughs shape is refused after bounded work. */
static void test_alias_bomb(void) {
        const char *bomb =
                "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
                "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
                "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
                "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n";
        char *e = load_error(bomb);
        ASSERT_CONTAINS(e, "expands the document beyond its limit");
        free(e);
}

/* Aliases and merge keys within the budget work as in go-yaml. */
static void test_alias_merge(void) {
        ResourceList l = RESOURCE_LIST_INIT;
        ASSERT_OK(load("apiVersion: projectcalico.org/v3\nkind: HostEndpoint\nmetadata:\n  name: a\n  labels: &l {x: \"1\"}\n"
                       "spec:\n  <<: {node: n1, interfaceName: eth9}\n  interfaceName: eth0\n", &l, NULL));
        ASSERT_STREQ(l.v[0]->spec.hep.node, "n1");
        ASSERT_STREQ(l.v[0]->spec.hep.interface_name, "eth0");
        resource_list_done(&l);
}

/* A merged map with more keys than the target map has room for: adding
 * them moves the target's entries, and the merge must not read its source
 * through the old ones (a use-after-free, issue 10). ASan catches a
 * regression; the result is checked too. */
static void test_merge_grows_map(void) {
        DocumentList d = DOCUMENT_LIST_INIT;
        ParseError e = PARSE_ERROR_INIT;
        const char *text = "{<<: {k1: 1, k2: 1, k3: 1, k4: 1, k5: 1, k6: 1, k7: 1, k8: 1, z: 1}, y: 2}\n";

        ASSERT_OK(parse_documents("t.yaml", text, strlen(text), &d, &e));
        ASSERT_EQ(d.n, 1);
        ASSERT_EQ(d.docs[0].root->n, 10);
        ASSERT_STREQ(node_map_get(d.docs[0].root, "z")->text, "1");
        ASSERT_STREQ(node_map_get(d.docs[0].root, "y")->text, "2");
        ASSERT_NULL(node_map_get(d.docs[0].root, "<<"));
        document_list_done(&d);
        parse_error_done(&e);

        /* Two keys were enough for hepctl validate to crash. */
        text = "{<<: {a: 1, b: 2}, c: 3}\n";
        ASSERT_OK(parse_documents("t.yaml", text, strlen(text), &d, &e));
        ASSERT_EQ(d.docs[0].root->n, 3);
        document_list_done(&d);
}

/* A complex key names what it is, read before the key is freed. */
static void test_complex_key(void) {
        ASSERT_LOAD_ERROR("? {a: b}\n: c\n", "t.yaml:1:3: map keys must be strings, not a map");
        ASSERT_LOAD_ERROR("? [a]\n: c\n", "t.yaml:1:3: map keys must be strings, not a list");
}

/* A file larger than the limit is refused before parsing. */
static void test_size_limit(void) {
        DocumentList d = DOCUMENT_LIST_INIT;
        ParseError e = PARSE_ERROR_INIT;
        ASSERT_EQ(parse_documents("big.yaml", "", HEP_MAX_FILE_SIZE + 1, &d, &e), -EINVAL);
        char *s = parse_error_format(&e);
        ASSERT_STREQ(s, "big.yaml: file is larger than the 16 MiB limit");
        free(s);
        parse_error_done(&e);
}

/* Canonical output: YAML sorted like calicoctl's, JSON in struct order. */
/* Every field of Calico's FelixConfigurationSpec is accepted, its name in
 * any case as Go's JSON decoder matches it: the few hostendpoint acts on
 * are decoded, the others kept as written; any other name is refused. */
static void test_felix_fields(void) {
        ResourceList l = RESOURCE_LIST_INIT;

        ASSERT_OK(load("apiVersion: projectcalico.org/v3\nkind: FelixConfiguration\nmetadata: {name: other}\n"
                       "spec: {nodeSelector: all(), IPV6SUPPORT: false, interfaceexclude: kube-ipvs0,"
                       " bpfMaglevMaxServices: 5, FailsafeInboundHostPorts: [{protocol: TCP, port: 22}],"
                       " wireguardKeepAlive: 0s}\n",
                       &l, NULL));
        ASSERT_EQ(l.n, 1);
        ASSERT_STREQ(l.v[0]->spec.felix.interface_exclude, "kube-ipvs0");
        ASSERT_TRUE(l.v[0]->spec.felix.failsafe_inbound_host_ports.set);
        ASSERT_EQ(l.v[0]->spec.felix.failsafe_inbound_host_ports.n, 1);
        ASSERT_NOT_NULL(l.v[0]->spec.felix.other);
        ASSERT_EQ(l.v[0]->spec.felix.other->n, 4);
        ASSERT_STREQ(l.v[0]->spec.felix.other->entries[1].key->text, "IPV6SUPPORT");
        ASSERT_STREQ(l.v[0]->spec.felix.other->entries[3].key->text, "wireguardKeepAlive");
        resource_list_done(&l);
        ASSERT_LOAD_ERROR("apiVersion: projectcalico.org/v3\nkind: FelixConfiguration\nmetadata: {name: default}\n"
                          "spec: {ipv6Support: true, notAField: 1}\n",
                          "t.yaml:4:27: spec.notAField: field in document is not recognized or is in the wrong location: "
                          "notAField");
}

static void test_encode(void) {
        ResourceList l = RESOURCE_LIST_INIT;
        StrBuf b = STRBUF_INIT;
        ASSERT_OK(load(sample, &l, NULL));
        Node *n = resource_encode(l.v[0]);
        ASSERT_NOT_NULL(n);
        node_emit_yaml(n, &b);
        ASSERT_STREQ(strbuf_str(&b),
                     "apiVersion: projectcalico.org/v3\n"
                     "kind: HostEndpoint\n"
                     "metadata:\n"
                     "  labels:\n"
                     "    type: production\n"
                     "  name: some.name\n"
                     "spec:\n"
                     "  expectedIPs:\n"
                     "  - 192.168.0.1\n"
                     "  - 192.168.0.2\n"
                     "  interfaceName: eth0\n"
                     "  node: myhost\n"
                     "  ports:\n"
                     "  - name: some-port\n"
                     "    port: 1234\n"
                     "    protocol: TCP\n"
                     "  - name: another-port\n"
                     "    port: 5432\n"
                     "    protocol: UDP\n"
                     "  profiles:\n"
                     "  - profile1\n"
                     "  - profile2\n");
        strbuf_done(&b);
        node_emit_json(n, &b, true);
        ASSERT_CONTAINS(strbuf_str(&b), "{\n  \"kind\": \"HostEndpoint\",\n  \"apiVersion\": \"projectcalico.org/v3\",\n  \"metadata\": {\n    \"name\": \"some.name\",");
        ASSERT_CONTAINS(strbuf_str(&b), "\"protocol\": \"TCP\",\n        \"port\": 1234\n");
        strbuf_done(&b);
        node_free(n);
        resource_list_done(&l);
}

/* Empty rule sides are left out (omitzero in v3.32); strings that look like
 * other types are quoted; floats as Go prints them. */
static void test_encode_rules(void) {
        ResourceList l = RESOURCE_LIST_INIT;
        StrBuf b = STRBUF_INIT;
        ASSERT_OK(load("apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: a, labels: {v: \"1\"}}\n"
                       "spec:\n  order: 100.50\n  selector: \"!has(x) && a == 'b'\"\n  ingress:\n  - action: Allow\n    destination: {ports: [\"1:2\"]}\n",
                       &l, NULL));
        Node *n = resource_encode(l.v[0]);
        node_emit_yaml(n, &b);
        ASSERT_STREQ(strbuf_str(&b),
                     "apiVersion: projectcalico.org/v3\n"
                     "kind: GlobalNetworkPolicy\n"
                     "metadata:\n"
                     "  labels:\n"
                     "    v: \"1\"\n"
                     "  name: a\n"
                     "spec:\n"
                     "  ingress:\n"
                     "  - action: Allow\n"
                     "    destination:\n"
                     "      ports:\n"
                     "      - \"1:2\"\n"
                     "  order: 100.5\n"
                     "  selector: '!has(x) && a == ''b'''\n");
        strbuf_done(&b);
        node_emit_json(n, &b, false);
        ASSERT_CONTAINS(strbuf_str(&b), "\"selector\":\"!has(x) \\u0026\\u0026 a == 'b'\"");
        strbuf_done(&b);
        node_free(n);
        resource_list_done(&l);
}

/* Go's float formatting. */
static void test_float_format(void) {
        char buf[32];
        format_go_float(100, buf);
        ASSERT_STREQ(buf, "100");
        format_go_float(0.1, buf);
        ASSERT_STREQ(buf, "0.1");
        format_go_float(1e21, buf);
        ASSERT_STREQ(buf, "1e+21");
        format_go_float(1e-7, buf);
        ASSERT_STREQ(buf, "1e-7");
        format_go_float(-2.5, buf);
        ASSERT_STREQ(buf, "-2.5");
}

/* Plain numbers and booleans given for strings become text, as
 * sigs.k8s.io/yaml converts them knowing the target type. */
static void test_string_coercion(void) {
        ResourceList l = RESOURCE_LIST_INIT;
        ASSERT_OK(load("apiVersion: projectcalico.org/v3\nkind: HostEndpoint\nmetadata:\n  name: a\n"
                       "  labels: {a: 1, b: yes, c: 0x10, d: 1e3, e: 1.5, f: 1234567.0, g: ~, h: '007'}\n"
                       "spec: {node: 123, interfaceName: eth0}\n", &l, NULL));
        const Labels *lb = &l.v[0]->meta.labels;
        ASSERT_STREQ(labels_get(lb, "a"), "1");
        ASSERT_STREQ(labels_get(lb, "b"), "true");
        ASSERT_STREQ(labels_get(lb, "c"), "16");
        ASSERT_STREQ(labels_get(lb, "d"), "1000");
        ASSERT_STREQ(labels_get(lb, "e"), "1.5");
        ASSERT_STREQ(labels_get(lb, "f"), "1.234567e+06");
        ASSERT_STREQ(labels_get(lb, "g"), "");
        ASSERT_STREQ(labels_get(lb, "h"), "007");
        ASSERT_STREQ(l.v[0]->spec.hep.node, "123");
        resource_list_done(&l);
}

/* A plain number too big for a float32, given for a string, is "+Inf" as
 * sigs.k8s.io/yaml makes it (FormatFloat(v, 'g', -1, 32)); it crashed the
 * loader (issue 10, found by the loader fuzzer). */
static void test_string_coercion_overflow(void) {
        ResourceList l = RESOURCE_LIST_INIT;
        char digits[201], yaml[512];

        memset(digits, '2', sizeof(digits) - 1);
        digits[sizeof(digits) - 1] = 0;
        snprintf(yaml, sizeof(yaml),
                 "apiVersion: projectcalico.org/v3\nkind: HostEndpoint\nmetadata:\n  name: a\n"
                 "  labels: {big: 1e39, small: -1e-50, huge: %s}\n"
                 "spec: {node: -1e300, interfaceName: eth0}\n", digits);
        ASSERT_OK(load(yaml, &l, NULL));
        ASSERT_STREQ(labels_get(&l.v[0]->meta.labels, "big"), "+Inf");
        ASSERT_STREQ(labels_get(&l.v[0]->meta.labels, "small"), "-0");
        ASSERT_STREQ(labels_get(&l.v[0]->meta.labels, "huge"), "+Inf");
        ASSERT_STREQ(l.v[0]->spec.hep.node, "-Inf");
        resource_list_done(&l);
}

/* Timestamps are normalised to UTC seconds, as metav1.Time prints them. */
static void test_timestamp(void) {
        ResourceList l = RESOURCE_LIST_INIT;
        ASSERT_OK(load("apiVersion: projectcalico.org/v3\nkind: Profile\nmetadata: {name: a, creationTimestamp: \"2026-01-02T03:04:05.123+01:00\"}\n", &l, NULL));
        ASSERT_STREQ(l.v[0]->meta.creation_timestamp, "2026-01-02T02:04:05Z");
        resource_list_done(&l);
        ASSERT_LOAD_ERROR("apiVersion: projectcalico.org/v3\nkind: Profile\nmetadata: {name: a, creationTimestamp: yesterday}\n",
                          "t.yaml:3:40: metadata.creationTimestamp: expected an RFC 3339 timestamp such as 2006-01-02T15:04:05Z, got 'yesterday'");
}

int main(void) {
        RUN(test_sample_hep);
        RUN(test_unknown_field);
        RUN(test_wrong_type);
        RUN(test_out_of_range);
        RUN(test_ports);
        RUN(test_shapes);
        RUN(test_json);
        RUN(test_unknown_kind);
        RUN(test_bad_input);
        RUN(test_deep_nesting);
        RUN(test_alias_bomb);
        RUN(test_alias_merge);
        RUN(test_merge_grows_map);
        RUN(test_complex_key);
        RUN(test_size_limit);
        RUN(test_felix_fields);
        RUN(test_encode);
        RUN(test_encode_rules);
        RUN(test_float_format);
        RUN(test_string_coercion);
        RUN(test_string_coercion_overflow);
        RUN(test_timestamp);
        /* Every shared string (labels, node names) went with its resources. */
        ASSERT_EQ(intern_count(), 0);
        return 0;
}
