/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Hand-written matchers for the regular expressions Calico and Kubernetes
 * validate names with, and the error texts they print; see syntax.h.
 * Go's regexp '$' means end of text, so a trailing newline never matches.
 *
 * What Calico v3.32.1 reports for metadata.name (validator.go), under the
 * field name "Metadata.Name":
 *
 *  - Every kind goes through the ObjectMeta check first (go-playground
 *    validates the embedded ObjectMeta before the kind's own struct check):
 *      longer than 253 bytes -> "name is too long by <len-253> bytes";
 *      not label(.label)*    -> "name must consist of lower case alphanumeric
 *        characters, '-' or '.' (regex: <the subdomain regex>)".
 *    Both can appear together. An empty name fails the regex. HostEndpoint,
 *    Profile, FelixConfiguration and the rest stop there.
 *  - Tier then adds its own pair: longer than 63 bytes -> "name is too long
 *    by <len-63> bytes"; not a single label -> "name must consist of lower
 *    case alphanumeric characters or '-' (regex: <the label regex>)".
 *  - GlobalNetworkPolicy adds: longer than 253 -> the same "too long by
 *    <len-253>" text a second time; not (label.)?label -> the "or '-'"
 *    message, which quotes only the label regex although dots are allowed.
 *  - NetworkPolicy adds the same two, with its own regex (label,
 *    label.label, knp.default.<name> or ossg.default.<name>) behind the
 *    same "or '-'" message.
 * syntax_check_resource_name() returns exactly these, in this order. */
#include "syntax.h"

#include <stdarg.h>
#include <string.h>

#include "strbuf.h"

#define CALICO_LABEL_RE "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
#define CALICO_SUBDOMAIN_RE CALICO_LABEL_RE "(\\." CALICO_LABEL_RE ")*"

#define K8S_NAME_MAX 253        /* DNS1123SubdomainMaxLength */
#define K8S_LABEL_MAX 63        /* DNS1123LabelMaxLength, label key name, label value */

#define K8S_LABEL_KEY_RE "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
#define K8S_LABEL_KEY_ERR \
        "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
#define K8S_LABEL_VALUE_RE "(" K8S_LABEL_KEY_RE ")?"
#define K8S_LABEL_VALUE_ERR \
        "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
#define K8S_SUBDOMAIN_ERR \
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"

/* ---- character classes and matchers ---- */

static bool is_lower_alnum(char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(char c) {
        return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

/* [a-zA-Z0-9_.-], the interface and named-port alphabet. */
static bool is_ifname_char(char c) {
        return is_alnum(c) || c == '_' || c == '.' || c == '-';
}

/* [a-z0-9]([-a-z0-9]*[a-z0-9])? over s[0..n). */
static bool match_label(const char *s, size_t n) {
        if (n == 0 || !is_lower_alnum(s[0]) || !is_lower_alnum(s[n - 1]))
                return false;
        for (size_t i = 1; i + 1 < n; i++)
                if (!is_lower_alnum(s[i]) && s[i] != '-')
                        return false;
        return true;
}

/* label(\.label)* over s[0..n); also reports how many dots it saw. */
static bool match_subdomain(const char *s, size_t n, size_t *ret_dots) {
        size_t start = 0, dots = 0;

        for (size_t i = 0; i <= n; i++) {
                if (i < n && s[i] != '.')
                        continue;
                if (!match_label(s + start, i - start))
                        return false;
                if (i < n)
                        dots++;
                start = i + 1;
        }
        if (ret_dots)
                *ret_dots = dots;
        return true;
}

/* Kubernetes label key name part: ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]. */
static bool match_k8s_key_name(const char *s, size_t n) {
        if (n == 0 || !is_alnum(s[0]) || !is_alnum(s[n - 1]))
                return false;
        for (size_t i = 1; i + 1 < n; i++)
                if (!is_ifname_char(s[i]))
                        return false;
        return true;
}

static bool match_charset(const char *s, size_t min, size_t max, bool (*ok)(char)) {
        size_t n = strlen(s);

        if (n < min || n > max)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!ok(s[i]))
                        return false;
        return true;
}

/* ---- Calico name predicates (validator.go regexes) ---- */

bool syntax_is_dns_label(const char *s) {
        return s && match_label(s, strlen(s));
}

bool syntax_is_resource_name(const char *s) {
        return s && match_subdomain(s, strlen(s), NULL);
}

/* globalNetworkPolicyNameRegex: a subdomain with at most one dot. */
bool syntax_is_gnp_name(const char *s) {
        size_t dots;

        return s && match_subdomain(s, strlen(s), &dots) && dots <= 1;
}

bool syntax_is_namespace(const char *s) {
        return syntax_is_tier_name(s);
}

bool syntax_is_tier_name(const char *s) {
        size_t n;

        if (!s)
                return false;
        n = strlen(s);
        return n <= K8S_LABEL_MAX && match_label(s, n);
}

/* The prefixed form exists for names Calico derives from Kubernetes
 * NetworkPolicies ("knp.default.") and from OpenStack security groups
 * ("ossg.default."); the rest may be any resource name. */
bool syntax_is_np_name(const char *s) {
        static const char *const prefixes[] = { "knp.default.", "ossg.default." };

        if (!s)
                return false;
        if (syntax_is_gnp_name(s))
                return true;
        for (size_t i = 0; i < ELEMENTSOF(prefixes); i++) {
                size_t p = strlen(prefixes[i]);

                if (strncmp(s, prefixes[i], p) == 0)
                        return match_subdomain(s + p, strlen(s + p), NULL);
        }
        return false;
}

bool syntax_is_interface_name(const char *s) {
        return s && (streq(s, "*") || match_charset(s, 1, 15, is_ifname_char));
}

static bool is_port_name_char(char c) {
        return is_lower_alnum(c) || c == '-';
}

/* Calico: non-empty and Kubernetes IsValidPortName has nothing to say, i.e.
 * at most 15 of [-a-z0-9], at least one [a-z], no "--", no '-' at either end. */
bool syntax_is_port_name(const char *s) {
        size_t n;
        bool letter = false;

        if (!s || !match_charset(s, 1, 15, is_port_name_char))
                return false;
        n = strlen(s);
        if (s[0] == '-' || s[n - 1] == '-' || strstr(s, "--"))
                return false;
        for (size_t i = 0; i < n; i++)
                letter = letter || (s[i] >= 'a' && s[i] <= 'z');
        return letter;
}

/* numorstring's nameRegex, checked when a port string is decoded. */
bool syntax_is_named_port_decode(const char *s) {
        return s && match_charset(s, 1, 128, is_ifname_char);
}

/* ---- message lists ---- */

typedef struct Messages {
        StrBuf buf;
        unsigned n;
} Messages;

static void messages_add(Messages *m, const char *fmt, ...) _printf_(2, 3);
static void messages_add(Messages *m, const char *fmt, ...) {
        va_list ap;

        if (m->n++ > 0)
                strbuf_append_char(&m->buf, '\n');
        va_start(ap, fmt);
        strbuf_vprintf(&m->buf, fmt, ap);
        va_end(ap);
}

/* Kubernetes RegexError: msg, then the examples each quoted and followed by
 * ", " (joined by " or ", hence the double space), then the regex. */
static void append_regex_error(StrBuf *b, const char *msg, const char *re, const char *const *examples) {
        strbuf_append(b, msg);
        if (!examples[0]) {
                strbuf_printf(b, " (regex used for validation is '%s')", re);
                return;
        }
        strbuf_append(b, " (e.g. ");
        for (size_t i = 0; examples[i]; i++)
                strbuf_printf(b, "%s'%s', ", i > 0 ? " or " : "", examples[i]);
        strbuf_printf(b, "regex used for validation is '%s')", re);
}

static void messages_add_regex(Messages *m, const char *prefix, const char *msg, const char *re,
                               const char *const *examples, const char *suffix) {
        messages_add(m, "%s", prefix);
        append_regex_error(&m->buf, msg, re, examples);
        strbuf_append(&m->buf, suffix);
}

static int messages_finish(Messages *m, char **ret_msg) {
        if (!strbuf_ok(&m->buf)) {
                strbuf_done(&m->buf);
                return -ENOMEM;
        }
        if (m->n == 0) {
                strbuf_done(&m->buf);
                if (ret_msg)
                        *ret_msg = NULL;
                return 0;
        }
        if (ret_msg) {
                *ret_msg = strbuf_steal(&m->buf);
                if (!*ret_msg)
                        return -ENOMEM;
        } else
                strbuf_done(&m->buf);
        return -EINVAL;
}

/* ---- Kubernetes label keys and values (apimachinery content/kube.go) ---- */

static const char *const key_examples[] = { "MyName", "my.name", "123-abc", NULL };
static const char *const value_examples[] = { "MyValue", "my_value", "12345", NULL };
static const char *const subdomain_examples[] = { "example.com", NULL };

/* IsDNS1123Subdomain for the prefix, each message led by "prefix part ". */
static void check_key_prefix(Messages *m, const char *s, size_t n) {
        if (n == 0) {
                messages_add(m, "prefix part must be non-empty");
                return;
        }
        if (n > K8S_NAME_MAX)
                messages_add(m, "prefix part must be no more than %d bytes", K8S_NAME_MAX);
        if (!match_subdomain(s, n, NULL))
                messages_add_regex(m, "prefix part ", K8S_SUBDOMAIN_ERR, CALICO_SUBDOMAIN_RE,
                                   subdomain_examples, "");
}

/* IsLabelKey: split at every '/'; more than one slash gets a single message,
 * otherwise the prefix and name are judged separately and an empty name
 * earns both "must be non-empty" and the regex message. */
static void check_label_key(Messages *m, const char *key, size_t n) {
        const char *slash = memchr(key, '/', n);
        const char *name = key;
        size_t name_len = n;

        if (slash && memchr(slash + 1, '/', n - (size_t) (slash + 1 - key))) {
                messages_add_regex(m, "a valid label key ", K8S_LABEL_KEY_ERR, K8S_LABEL_KEY_RE, key_examples,
                                   " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')");
                return;
        }
        if (slash) {
                check_key_prefix(m, key, (size_t) (slash - key));
                name = slash + 1;
                name_len = n - (size_t) (name - key);
        }
        if (name_len == 0)
                messages_add(m, "name part must be non-empty");
        else if (name_len > K8S_LABEL_MAX)
                messages_add(m, "name part must be no more than %d bytes", K8S_LABEL_MAX);
        if (!match_k8s_key_name(name, name_len))
                messages_add_regex(m, "name part ", K8S_LABEL_KEY_ERR, K8S_LABEL_KEY_RE, key_examples, "");
}

int syntax_check_label_key(const char *key, char **ret_msg) {
        Messages m = {};

        if (!key)
                return -EINVAL;
        check_label_key(&m, key, strlen(key));
        return messages_finish(&m, ret_msg);
}

int syntax_check_label_value(const char *value, char **ret_msg) {
        Messages m = {};
        size_t n;

        if (!value)
                return -EINVAL;
        n = strlen(value);
        if (n > K8S_LABEL_MAX)
                messages_add(&m, "must be no more than %d bytes", K8S_LABEL_MAX);
        if (n > 0 && !match_k8s_key_name(value, n))
                messages_add_regex(&m, "", K8S_LABEL_VALUE_ERR, K8S_LABEL_VALUE_RE, value_examples, "");
        return messages_finish(&m, ret_msg);
}

/* Go's strings.ToLower as far as it can change validity: ASCII A-Z, plus
 * the only two non-ASCII runes whose simple lower case is ASCII, U+0130
 * (-> 'i') and U+212A KELVIN SIGN (-> 'k'). Other non-ASCII bytes are kept;
 * they fail every check anyway, although Go's re-encoding can change the
 * byte count that a "no more than N bytes" message is based on. */
static size_t go_to_lower(const char *s, char *out) {
        size_t o = 0;

        for (size_t i = 0; s[i]; ) {
                const unsigned char *u = (const unsigned char *) s + i;

                if (u[0] == 0xC4 && u[1] == 0xB0) {
                        out[o++] = 'i';
                        i += 2;
                } else if (u[0] == 0xE2 && u[1] == 0x84 && u[2] == 0xAA) {
                        out[o++] = 'k';
                        i += 3;
                } else {
                        out[o++] = (char) (u[0] >= 'A' && u[0] <= 'Z' ? u[0] + ('a' - 'A') : u[0]);
                        i++;
                }
        }
        out[o] = '\0';
        return o;
}

int syntax_check_annotation_key(const char *key, char **ret_msg) {
        _cleanup_free_ char *lower = NULL;
        Messages m = {};
        size_t n;

        if (!key)
                return -EINVAL;
        /* Lowering never lengthens what we rewrite. */
        lower = malloc(strlen(key) + 1);
        if (!lower)
                return -ENOMEM;
        n = go_to_lower(key, lower);
        check_label_key(&m, lower, n);
        return messages_finish(&m, ret_msg);
}

/* ---- metadata.name per kind (validator.go; table at the top) ---- */

#define NAME_SUBDOMAIN_MSG \
        "name must consist of lower case alphanumeric characters, '-' or '.' (regex: " CALICO_SUBDOMAIN_RE ")"
#define NAME_LABEL_MSG "name must consist of lower case alphanumeric characters or '-' (regex: " CALICO_LABEL_RE ")"

static void check_name_length(Messages *m, size_t len, size_t max) {
        if (len > max)
                messages_add(m, "name is too long by %zu bytes", len - max);
}

int syntax_check_resource_name(const char *kind, const char *name, char **ret_msg) {
        Messages m = {};
        size_t n;

        if (!kind || !name)
                return -EINVAL;
        n = strlen(name);

        check_name_length(&m, n, K8S_NAME_MAX);
        if (!syntax_is_resource_name(name))
                messages_add(&m, NAME_SUBDOMAIN_MSG);

        if (streq(kind, "Tier")) {
                check_name_length(&m, n, K8S_LABEL_MAX);
                if (!syntax_is_dns_label(name))
                        messages_add(&m, NAME_LABEL_MSG);
        } else if (streq(kind, "GlobalNetworkPolicy") || streq(kind, "StagedGlobalNetworkPolicy")) {
                check_name_length(&m, n, K8S_NAME_MAX);
                if (!syntax_is_gnp_name(name))
                        messages_add(&m, NAME_LABEL_MSG);
        } else if (streq(kind, "NetworkPolicy")) {
                check_name_length(&m, n, K8S_NAME_MAX);
                if (!syntax_is_np_name(name))
                        messages_add(&m, NAME_LABEL_MSG);
        }
        return messages_finish(&m, ret_msg);
}
