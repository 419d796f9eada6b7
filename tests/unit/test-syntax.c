/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Name, interface, port, label and annotation syntax against Calico v3.32.1's
 * validator.go and Kubernetes apimachinery v0.35.6's content/kube.go. The
 * expected messages are spelled out in full here on purpose, so a change in
 * how syntax.c assembles them cannot go unnoticed. */
#include "tests.h"
#include "syntax.h"

/* Writes n copies of c (n < sizeof buf) and returns buf. */
static char *fill(char *buf, char c, size_t n) {
        memset(buf, c, n);
        buf[n] = '\0';
        return buf;
}

/* Calls fn(args..., &msg) and asserts -EINVAL with exactly the expected text. */
#define ASSERT_MSG(expected, fn, ...)                                   \
        do {                                                            \
                char *_m = NULL;                                        \
                ASSERT_EQ(fn(__VA_ARGS__, &_m), -EINVAL);               \
                ASSERT_STREQ(_m, expected);                             \
                free(_m);                                               \
        } while (0)

/* Calls fn(args..., &msg) and asserts success with the message reset to NULL. */
#define ASSERT_VALID(fn, ...)                                           \
        do {                                                            \
                char *_m = (char *) "sentinel";                         \
                ASSERT_EQ(fn(__VA_ARGS__, &_m), 0);                     \
                ASSERT_NULL(_m);                                        \
        } while (0)

#define NAME_SUBDOMAIN_MSG                                                                        \
        "name must consist of lower case alphanumeric characters, '-' or '.' (regex: "             \
        "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)"
#define NAME_LABEL_MSG \
        "name must consist of lower case alphanumeric characters or '-' (regex: [a-z0-9]([-a-z0-9]*[a-z0-9])?)"

#define KEY_NAME_REGEX_MSG                                                                        \
        "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and "  \
        "end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex "  \
        "used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
#define KEY_SLASHES_MSG                                                                           \
        "a valid label key must consist of alphanumeric characters, '-', '_' or '.', and must "    \
        "start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or "        \
        "'123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') "     \
        "with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
#define KEY_PREFIX_REGEX_MSG                                                                      \
        "prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "      \
        "characters, '-' or '.', and must start and end with an alphanumeric character (e.g. "     \
        "'example.com', regex used for validation is "                                            \
        "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
#define VALUE_REGEX_MSG                                                                           \
        "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' "   \
        "or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "      \
        "'my_value',  or '12345', regex used for validation is "                                  \
        "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"

/* Calico's label: lower-case alnum at both ends, '-' inside, no length cap. */
static void test_dns_label(void) {
        char buf[128];

        ASSERT_TRUE(syntax_is_dns_label("a"));
        ASSERT_TRUE(syntax_is_dns_label("0"));
        ASSERT_TRUE(syntax_is_dns_label("1a"));
        ASSERT_TRUE(syntax_is_dns_label("a-b"));
        ASSERT_TRUE(syntax_is_dns_label("a--b"));
        ASSERT_TRUE(syntax_is_dns_label("abc123"));
        ASSERT_TRUE(syntax_is_dns_label(fill(buf, 'a', 100)));
        ASSERT_FALSE(syntax_is_dns_label(""));
        ASSERT_FALSE(syntax_is_dns_label("-"));
        ASSERT_FALSE(syntax_is_dns_label("-a"));
        ASSERT_FALSE(syntax_is_dns_label("a-"));
        ASSERT_FALSE(syntax_is_dns_label("A"));
        ASSERT_FALSE(syntax_is_dns_label("aB"));
        ASSERT_FALSE(syntax_is_dns_label("a_b"));
        ASSERT_FALSE(syntax_is_dns_label("a.b"));
        ASSERT_FALSE(syntax_is_dns_label("a b"));
        ASSERT_FALSE(syntax_is_dns_label("\xc3\xa9"));
        ASSERT_FALSE(syntax_is_dns_label("a\n"));
        ASSERT_FALSE(syntax_is_dns_label(NULL));
}

/* Resource names: dot-separated labels; the regex itself has no length cap. */
static void test_resource_name(void) {
        char buf[300];

        ASSERT_TRUE(syntax_is_resource_name("a"));
        ASSERT_TRUE(syntax_is_resource_name("a.b.c"));
        ASSERT_TRUE(syntax_is_resource_name("node-1.example.com"));
        ASSERT_TRUE(syntax_is_resource_name("1.2.3.4"));
        ASSERT_TRUE(syntax_is_resource_name(fill(buf, 'a', 253)));
        ASSERT_TRUE(syntax_is_resource_name(fill(buf, 'a', 254)));
        ASSERT_FALSE(syntax_is_resource_name(""));
        ASSERT_FALSE(syntax_is_resource_name("."));
        ASSERT_FALSE(syntax_is_resource_name("a."));
        ASSERT_FALSE(syntax_is_resource_name(".a"));
        ASSERT_FALSE(syntax_is_resource_name("a..b"));
        ASSERT_FALSE(syntax_is_resource_name("a.-b"));
        ASSERT_FALSE(syntax_is_resource_name("a-.b"));
        ASSERT_FALSE(syntax_is_resource_name("-a.b"));
        ASSERT_FALSE(syntax_is_resource_name("A.b"));
        ASSERT_FALSE(syntax_is_resource_name("a_b"));
        ASSERT_FALSE(syntax_is_resource_name("a/b"));
        ASSERT_FALSE(syntax_is_resource_name("a.b\n"));
}

/* GNP names: one optional dot (v3.29+). */
static void test_gnp_name(void) {
        ASSERT_TRUE(syntax_is_gnp_name("a"));
        ASSERT_TRUE(syntax_is_gnp_name("allow-dns"));
        ASSERT_TRUE(syntax_is_gnp_name("tier1.allow-dns"));
        ASSERT_FALSE(syntax_is_gnp_name("a.b.c"));
        ASSERT_FALSE(syntax_is_gnp_name("a."));
        ASSERT_FALSE(syntax_is_gnp_name(".a"));
        ASSERT_FALSE(syntax_is_gnp_name(""));
        ASSERT_FALSE(syntax_is_gnp_name("Allow"));
        ASSERT_FALSE(syntax_is_gnp_name("a_b"));
}

/* Tier names: one label of at most 63 bytes. */
static void test_tier_name(void) {
        char buf[80];

        ASSERT_TRUE(syntax_is_tier_name("default"));
        ASSERT_TRUE(syntax_is_tier_name(fill(buf, 'a', 63)));
        ASSERT_FALSE(syntax_is_tier_name(fill(buf, 'a', 64)));
        ASSERT_FALSE(syntax_is_tier_name("a.b"));
        ASSERT_FALSE(syntax_is_tier_name("-a"));
        ASSERT_FALSE(syntax_is_tier_name(""));
}

/* NP names: label, label.label, or a knp./ossg.default. prefix plus any resource name. */
static void test_np_name(void) {
        ASSERT_TRUE(syntax_is_np_name("a"));
        ASSERT_TRUE(syntax_is_np_name("a.b"));
        ASSERT_TRUE(syntax_is_np_name("knp.default"));
        ASSERT_TRUE(syntax_is_np_name("knp.default.foo"));
        ASSERT_TRUE(syntax_is_np_name("knp.default.foo.bar.baz"));
        ASSERT_TRUE(syntax_is_np_name("ossg.default.x"));
        ASSERT_FALSE(syntax_is_np_name("a.b.c"));
        ASSERT_FALSE(syntax_is_np_name("knp.default."));
        ASSERT_FALSE(syntax_is_np_name("knp.default..a"));
        ASSERT_FALSE(syntax_is_np_name("knp.other.foo"));
        ASSERT_FALSE(syntax_is_np_name("KNP.default.foo"));
        ASSERT_FALSE(syntax_is_np_name("knp.default.Foo"));
        ASSERT_FALSE(syntax_is_np_name("xknp.default.a"));
        ASSERT_FALSE(syntax_is_np_name("ossg.default.a."));
        ASSERT_FALSE(syntax_is_np_name(""));
}

/* interfaceName: "*" or 1..15 of [a-zA-Z0-9_.-]. */
static void test_interface_name(void) {
        char buf[20];

        ASSERT_TRUE(syntax_is_interface_name("*"));
        ASSERT_TRUE(syntax_is_interface_name("eth0"));
        ASSERT_TRUE(syntax_is_interface_name("eth0.100"));
        ASSERT_TRUE(syntax_is_interface_name("Valid_Iface.0-9"));
        ASSERT_TRUE(syntax_is_interface_name("-"));
        ASSERT_TRUE(syntax_is_interface_name(fill(buf, 'x', 15)));
        ASSERT_FALSE(syntax_is_interface_name(fill(buf, 'x', 16)));
        ASSERT_FALSE(syntax_is_interface_name("interfaceTooLong"));
        ASSERT_FALSE(syntax_is_interface_name(""));
        ASSERT_FALSE(syntax_is_interface_name("**"));
        ASSERT_FALSE(syntax_is_interface_name("eth*"));
        ASSERT_FALSE(syntax_is_interface_name("a b"));
        ASSERT_FALSE(syntax_is_interface_name("eth0:1"));
        ASSERT_FALSE(syntax_is_interface_name("eth/0"));
        ASSERT_FALSE(syntax_is_interface_name("Invalid&Intface"));
        ASSERT_FALSE(syntax_is_interface_name("\xc3\xa9th0"));
        ASSERT_FALSE(syntax_is_interface_name("eth0\n"));
}

/* IANA service names as Kubernetes IsValidPortName (lower case only). */
static void test_port_name(void) {
        ASSERT_TRUE(syntax_is_port_name("http"));
        ASSERT_TRUE(syntax_is_port_name("a"));
        ASSERT_TRUE(syntax_is_port_name("h2"));
        ASSERT_TRUE(syntax_is_port_name("0a"));
        ASSERT_TRUE(syntax_is_port_name("1-a"));
        ASSERT_TRUE(syntax_is_port_name("web-80"));
        ASSERT_TRUE(syntax_is_port_name("abcdefghijklmno"));
        ASSERT_FALSE(syntax_is_port_name("abcdefghijklmnop"));
        ASSERT_FALSE(syntax_is_port_name(""));
        ASSERT_FALSE(syntax_is_port_name("80"));
        ASSERT_FALSE(syntax_is_port_name("8-0"));
        ASSERT_FALSE(syntax_is_port_name("-http"));
        ASSERT_FALSE(syntax_is_port_name("http-"));
        ASSERT_FALSE(syntax_is_port_name("-"));
        ASSERT_FALSE(syntax_is_port_name("ht--tp"));
        ASSERT_FALSE(syntax_is_port_name("HTTP"));
        ASSERT_FALSE(syntax_is_port_name("Http"));
        ASSERT_FALSE(syntax_is_port_name("http_2"));
        ASSERT_FALSE(syntax_is_port_name("http.2"));
        ASSERT_FALSE(syntax_is_port_name("ht tp"));
}

/* The looser decode-time rule for named ports: 1..128 of [a-zA-Z0-9_.-]. */
static void test_named_port_decode(void) {
        char buf[140];

        ASSERT_TRUE(syntax_is_named_port_decode("HTTP_x.y-z"));
        ASSERT_TRUE(syntax_is_named_port_decode("80"));
        ASSERT_TRUE(syntax_is_named_port_decode(fill(buf, 'p', 128)));
        ASSERT_FALSE(syntax_is_named_port_decode(fill(buf, 'p', 129)));
        ASSERT_FALSE(syntax_is_named_port_decode(""));
        ASSERT_FALSE(syntax_is_named_port_decode("a b"));
        ASSERT_FALSE(syntax_is_named_port_decode("a:b"));
}

/* Valid label keys, with and without a prefix, at the length limits. */
static void test_label_key_valid(void) {
        char buf[300], key[400];

        ASSERT_VALID(syntax_check_label_key, "a");
        ASSERT_VALID(syntax_check_label_key, "A");
        ASSERT_VALID(syntax_check_label_key, "my.name");
        ASSERT_VALID(syntax_check_label_key, "My_Name-1");
        ASSERT_VALID(syntax_check_label_key, "example.com/MyName");
        ASSERT_VALID(syntax_check_label_key, "projectcalico.org/tier");
        ASSERT_VALID(syntax_check_label_key, "1/a");
        ASSERT_VALID(syntax_check_label_key, fill(buf, 'k', 63));
        snprintf(key, sizeof key, "%s/n", fill(buf, 'p', 253));
        ASSERT_VALID(syntax_check_label_key, key);
        ASSERT_EQ(syntax_check_label_key("a", NULL), 0);
}

/* The name part: empty (two messages), too long, bad characters or ends. */
static void test_label_key_name(void) {
        char buf[80];

        ASSERT_MSG("name part must be non-empty\n" KEY_NAME_REGEX_MSG, syntax_check_label_key, "");
        ASSERT_MSG("name part must be non-empty\n" KEY_NAME_REGEX_MSG, syntax_check_label_key, "a/");
        ASSERT_MSG("name part must be no more than 63 bytes", syntax_check_label_key, fill(buf, 'k', 64));
        ASSERT_MSG(KEY_NAME_REGEX_MSG, syntax_check_label_key, "-a");
        ASSERT_MSG(KEY_NAME_REGEX_MSG, syntax_check_label_key, "a-");
        ASSERT_MSG(KEY_NAME_REGEX_MSG, syntax_check_label_key, "_a");
        ASSERT_MSG(KEY_NAME_REGEX_MSG, syntax_check_label_key, "a b");
        ASSERT_MSG(KEY_NAME_REGEX_MSG, syntax_check_label_key, "a.b_");
        ASSERT_MSG(KEY_NAME_REGEX_MSG, syntax_check_label_key, "a\n");
        buf[0] = '-';
        ASSERT_MSG("name part must be no more than 63 bytes\n" KEY_NAME_REGEX_MSG,
                   syntax_check_label_key, fill(buf + 1, 'k', 64) - 1);
        ASSERT_EQ(syntax_check_label_key("-a", NULL), -EINVAL);
}

/* The prefix part must be a non-empty, lower-case DNS subdomain <= 253. */
static void test_label_key_prefix(void) {
        char buf[300], key[400];

        ASSERT_MSG("prefix part must be non-empty", syntax_check_label_key, "/a");
        ASSERT_MSG(KEY_PREFIX_REGEX_MSG, syntax_check_label_key, "Example.com/a");
        ASSERT_MSG(KEY_PREFIX_REGEX_MSG, syntax_check_label_key, "example_com/a");
        ASSERT_MSG(KEY_PREFIX_REGEX_MSG, syntax_check_label_key, "example.com./a");
        snprintf(key, sizeof key, "%s/n", fill(buf, 'p', 254));
        ASSERT_MSG("prefix part must be no more than 253 bytes", syntax_check_label_key, key);
        ASSERT_MSG("prefix part must be non-empty\nname part must be non-empty\n" KEY_NAME_REGEX_MSG,
                   syntax_check_label_key, "/");
        ASSERT_MSG(KEY_PREFIX_REGEX_MSG "\n" KEY_NAME_REGEX_MSG, syntax_check_label_key, "A/-");
}

/* Two or more slashes: one message, nothing else examined. */
static void test_label_key_slashes(void) {
        ASSERT_MSG(KEY_SLASHES_MSG, syntax_check_label_key, "a/b/c");
        ASSERT_MSG(KEY_SLASHES_MSG, syntax_check_label_key, "//");
        ASSERT_MSG(KEY_SLASHES_MSG, syntax_check_label_key, "a//b");
        ASSERT_MSG(KEY_SLASHES_MSG, syntax_check_label_key, "Bad Prefix/x/");
}

/* Label values: empty is fine; <= 63; alnum at both ends. */
static void test_label_value(void) {
        char buf[80];

        ASSERT_VALID(syntax_check_label_value, "");
        ASSERT_VALID(syntax_check_label_value, "a");
        ASSERT_VALID(syntax_check_label_value, "A_b.c-D");
        ASSERT_VALID(syntax_check_label_value, fill(buf, 'v', 63));
        ASSERT_MSG("must be no more than 63 bytes", syntax_check_label_value, fill(buf, 'v', 64));
        ASSERT_MSG(VALUE_REGEX_MSG, syntax_check_label_value, "-a");
        ASSERT_MSG(VALUE_REGEX_MSG, syntax_check_label_value, "a-");
        ASSERT_MSG(VALUE_REGEX_MSG, syntax_check_label_value, "_");
        ASSERT_MSG(VALUE_REGEX_MSG, syntax_check_label_value, "a b");
        ASSERT_MSG(VALUE_REGEX_MSG, syntax_check_label_value, "a/b");
        ASSERT_MSG(VALUE_REGEX_MSG, syntax_check_label_value, " ");
        fill(buf, 'v', 64);
        buf[63] = '.';
        ASSERT_MSG("must be no more than 63 bytes\n" VALUE_REGEX_MSG, syntax_check_label_value, buf);
}

/* Annotation keys are lowered (Go strings.ToLower) before the label-key check. */
static void test_annotation_key(void) {
        ASSERT_VALID(syntax_check_annotation_key, "Example.COM/Foo");
        ASSERT_MSG(KEY_PREFIX_REGEX_MSG, syntax_check_label_key, "Example.COM/Foo");
        ASSERT_VALID(syntax_check_annotation_key, "kubectl.kubernetes.io/last-applied-configuration");
        /* U+212A KELVIN SIGN and U+0130 lower-case to ASCII 'k' and 'i'. */
        ASSERT_VALID(syntax_check_annotation_key, "\xe2\x84\xaa");
        ASSERT_VALID(syntax_check_annotation_key, "EX\xc4\xb0T.io/\xe2\x84\xaa" "ey");
        ASSERT_MSG(KEY_NAME_REGEX_MSG, syntax_check_annotation_key, "\xc3\xa9");
        ASSERT_MSG(KEY_SLASHES_MSG, syntax_check_annotation_key, "A/B/C");
        ASSERT_MSG("name part must be non-empty\n" KEY_NAME_REGEX_MSG, syntax_check_annotation_key, "");
}

/* HostEndpoint, Profile, FelixConfiguration: only the ObjectMeta pair. */
static void test_name_messages_plain(void) {
        char buf[320];

        ASSERT_VALID(syntax_check_resource_name, "HostEndpoint", "my-hep.eth0");
        ASSERT_VALID(syntax_check_resource_name, "Profile", "kns.default");
        ASSERT_VALID(syntax_check_resource_name, "FelixConfiguration", "default");
        ASSERT_VALID(syntax_check_resource_name, "HostEndpoint", fill(buf, 'a', 253));
        ASSERT_MSG(NAME_SUBDOMAIN_MSG, syntax_check_resource_name, "HostEndpoint", "My-HEP");
        ASSERT_MSG(NAME_SUBDOMAIN_MSG, syntax_check_resource_name, "Profile", "");
        ASSERT_MSG("name is too long by 1 bytes",
                   syntax_check_resource_name, "HostEndpoint", fill(buf, 'a', 254));
        ASSERT_MSG("name is too long by 47 bytes\n" NAME_SUBDOMAIN_MSG,
                   syntax_check_resource_name, "FelixConfiguration", fill(buf, 'A', 300));
}

/* Tier: the ObjectMeta pair, then its own 63-byte and single-label checks. */
static void test_name_messages_tier(void) {
        char buf[320];

        ASSERT_VALID(syntax_check_resource_name, "Tier", "default");
        ASSERT_VALID(syntax_check_resource_name, "Tier", fill(buf, 't', 63));
        ASSERT_MSG("name is too long by 16 bytes", syntax_check_resource_name, "Tier", fill(buf, 't', 79));
        ASSERT_MSG(NAME_LABEL_MSG, syntax_check_resource_name, "Tier", "a.b");
        ASSERT_MSG(NAME_SUBDOMAIN_MSG "\n" NAME_LABEL_MSG, syntax_check_resource_name, "Tier", "A");
        ASSERT_MSG("name is too long by 1 bytes\nname is too long by 191 bytes",
                   syntax_check_resource_name, "Tier", fill(buf, 't', 254));
}

/* GlobalNetworkPolicy: ObjectMeta pair, then the GNP pair (so "too long" twice). */
static void test_name_messages_gnp(void) {
        char buf[320];

        ASSERT_VALID(syntax_check_resource_name, "GlobalNetworkPolicy", "tier1.allow-dns");
        ASSERT_MSG(NAME_LABEL_MSG, syntax_check_resource_name, "GlobalNetworkPolicy", "a.b.c");
        ASSERT_MSG(NAME_SUBDOMAIN_MSG "\n" NAME_LABEL_MSG,
                   syntax_check_resource_name, "GlobalNetworkPolicy", "Allow");
        ASSERT_MSG("name is too long by 1 bytes\nname is too long by 1 bytes",
                   syntax_check_resource_name, "GlobalNetworkPolicy", fill(buf, 'g', 254));
}

/* NetworkPolicy: ObjectMeta pair, then the NP pair. */
static void test_name_messages_np(void) {
        ASSERT_VALID(syntax_check_resource_name, "NetworkPolicy", "knp.default.a.b.c");
        ASSERT_VALID(syntax_check_resource_name, "NetworkPolicy", "t.p");
        ASSERT_MSG(NAME_LABEL_MSG, syntax_check_resource_name, "NetworkPolicy", "a.b.c");
        ASSERT_MSG(NAME_SUBDOMAIN_MSG "\n" NAME_LABEL_MSG,
                   syntax_check_resource_name, "NetworkPolicy", "a_b");
        ASSERT_EQ(syntax_check_resource_name("NetworkPolicy", "a.b.c", NULL), -EINVAL);
}

int main(void) {
        RUN(test_dns_label);
        RUN(test_resource_name);
        RUN(test_gnp_name);
        RUN(test_tier_name);
        RUN(test_np_name);
        RUN(test_interface_name);
        RUN(test_port_name);
        RUN(test_named_port_decode);
        RUN(test_label_key_valid);
        RUN(test_label_key_name);
        RUN(test_label_key_prefix);
        RUN(test_label_key_slashes);
        RUN(test_label_value);
        RUN(test_annotation_key);
        RUN(test_name_messages_plain);
        RUN(test_name_messages_tier);
        RUN(test_name_messages_gnp);
        RUN(test_name_messages_np);
        return 0;
}
