/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hostendpoint.conf parsing, and the default node name; see settings.h. */
#include "settings.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "fileio.h"
#include "node.h"
#include "parse.h"
#include "strbuf.h"

static char *strip(char *s) {
        char *e;

        while (isspace((unsigned char)*s))
                s++;
        e = s + strlen(s);
        while (e > s && isspace((unsigned char)e[-1]))
                *--e = 0;
        return s;
}

static int config_set(Config *c, const char *key, const char *value) {
        char **slot = streq(key, "datastore") ? &c->datastore
                      : streq(key, "nodename") ? &c->nodename
                      : streq(key, "bus")      ? &c->bus
                      : streq(key, "log-level") ? &c->log_level
                      : streq(key, "nm-wait-ms") ? &c->nm_wait_ms
                      : streq(key, "flow-logs") ? &c->flow_logs
                                               : NULL;

        if (!slot)
                return -ENOENT;
        if (slot == &c->nm_wait_ms && (!*value || strspn(value, "0123456789") != strlen(value) || strlen(value) > 9))
                return -EINVAL;
        if (slot == &c->flow_logs && config_parse_bool(value) < 0)
                return -EDOM;
        free(*slot);
        *slot = strdup(value);
        return *slot ? 0 : -ENOMEM;
}

static int calico_config_parse(const char *path, const char *data, size_t len, char **ret, ParseError *reterr);

/* hostendpoint.conf's "key = value" lines, from the file's text. */
static int parse_settings(const char *path, char *data, Config *c, ParseError *reterr) {
        unsigned lineno = 0;
        int r = 0;

        for (char *line, *rest = data; r >= 0 && (line = strsep(&rest, "\n"));) {
                char *s = strip(line), *eq;

                lineno++;
                if (!*s || *s == '#' || *s == ';')
                        continue;
                eq = strchr(s, '=');
                if (!eq)
                        return parse_error_set(reterr, path, lineno, 1, NULL, "expected 'key = value', got '%s'", s);
                *eq = 0;
                char *key = strip(s), *value = strip(eq + 1);
                r = config_set(c, key, value);
                if (r == -ENOENT)
                        r = parse_error_set(reterr, path, lineno, 1, NULL,
                                            "unknown setting '%s' (known: datastore, nodename, bus, log-level, nm-wait-ms, flow-logs)",
                                            key);
                else if (r == -EINVAL)
                        r = parse_error_set(reterr, path, lineno, (unsigned)(value - line) + 1, NULL,
                                            "%s must be a whole number of milliseconds, got '%s'", key, value);
                else if (r == -EDOM)
                        r = parse_error_set(reterr, path, lineno, (unsigned)(value - line) + 1, NULL,
                                            "%s must be yes or no, got '%s'", key, value);
        }
        return r;
}

int config_load(const char *path, bool missing_ok, Config *ret, ParseError *reterr) {
        _cleanup_(config_done) Config c = {};
        _cleanup_free_ char *data = NULL;
        size_t len;
        int r;

        r = read_file_limited(path, 1 << 20, &data, &len, reterr);
        if (r == -ENOENT && missing_ok) {
                parse_error_done(reterr);
                *ret = c;
                c = (Config) {};
                return 0;
        }
        /* calicoctl's configuration file works here too (hepctl --config),
         * else the text is hostendpoint.conf's. */
        if (r >= 0)
                r = calico_config_parse(path, data, len, &c.datastore, reterr);
        if (r >= 0 && !c.datastore)
                r = parse_settings(path, data, &c, reterr);
        if (r < 0)
                return r;
        *ret = c;
        c = (Config) {};
        return 0;
}

void config_done(Config *c) {
        free(c->datastore);
        free(c->nodename);
        free(c->bus);
        free(c->log_level);
        free(c->nm_wait_ms);
        free(c->flow_logs);
        *c = (Config) {};
}

int config_parse_bool(const char *s) {
        static const char *const yes[] = { "yes", "true", "on", "1" }, *const no[] = { "no", "false", "off", "0" };

        for (size_t i = 0; s && i < ELEMENTSOF(yes); i++) {
                if (strcasecmp(s, yes[i]) == 0)
                        return 1;
                if (strcasecmp(s, no[i]) == 0)
                        return 0;
        }
        return -EINVAL;
}

int default_nodename(char **ret) {
        char buf[256] = {};

        if (gethostname(buf, sizeof(buf) - 1) < 0)
                return -errno;
        if (!buf[0])
                return -ENOENT;
        for (char *p = buf; *p; p++)
                *p = (char)tolower((unsigned char)*p);
        *ret = strdup(buf);
        return *ret ? 0 : -ENOMEM;
}

/* ---- calicoctl's settings ---- */

static const char *scalar_at(const Node *spec, const char *key) {
        const Node *v = spec ? node_map_get(spec, key) : NULL;

        return v && v->type == NODE_SCALAR && !node_is_null(v) && !isempty(v->text) ? v->text : NULL;
}

/* "etcdv3:ENDPOINTS[?ca=…&cert=…&key=…]" */
static int etcd_spec(const char *endpoints, const char *ca, const char *cert, const char *key, char **ret) {
        StrBuf b = STRBUF_INIT;
        char sep = '?';

        strbuf_printf(&b, "etcdv3:%s", endpoints);
        if (ca) {
                strbuf_printf(&b, "%cca=%s", sep, ca);
                sep = '&';
        }
        if (cert) {
                strbuf_printf(&b, "%ccert=%s", sep, cert);
                sep = '&';
        }
        if (key)
                strbuf_printf(&b, "%ckey=%s", sep, key);
        *ret = strbuf_steal(&b);
        return *ret ? 0 : -ENOMEM;
}

static int datastore_type_ok(const char *type, const char *file, const Node *at, ParseError *reterr) {
        if (isempty(type) || streq(type, "etcdv3"))
                return 0;
        return parse_error_set(reterr, file, at ? at->line : 0, at ? at->column : 0, NULL,
                               "datastoreType '%s' is not supported here (only etcdv3; the Kubernetes API "
                               "datastore is not implemented)",
                               type);
}

int calico_config_load(const char *path, char **ret, ParseError *reterr) {
        _cleanup_free_ char *data = NULL;
        size_t len;
        int r;

        *ret = NULL;
        r = read_file_limited(path, 1 << 20, &data, &len, reterr);
        return r < 0 ? r : calico_config_parse(path, data, len, ret, reterr);
}

static int calico_config_parse(const char *path, const char *data, size_t len, char **ret, ParseError *reterr) {
        DocumentList docs = DOCUMENT_LIST_INIT;
        const Node *root, *spec, *kind;
        int r;

        *ret = NULL;
        /* hostendpoint.conf is "key = value": not YAML that says CalicoAPIConfig. */
        if (!strstr(data, "CalicoAPIConfig"))
                return 0;
        r = parse_documents(path, data, len, &docs, reterr);
        if (r < 0)
                return r;
        root = docs.n ? docs.docs[0].root : NULL;
        kind = root && root->type == NODE_MAP ? node_map_get(root, "kind") : NULL;
        if (!kind || kind->type != NODE_SCALAR || !streq(kind->text, "CalicoAPIConfig")) {
                document_list_done(&docs);
                return 0;
        }
        spec = node_map_get(root, "spec");
        r = datastore_type_ok(scalar_at(spec, "datastoreType"), path, spec ? node_map_get(spec, "datastoreType") : NULL,
                              reterr);
        if (r >= 0 && !scalar_at(spec, "etcdEndpoints"))
                r = parse_error_set(reterr, path, spec ? spec->line : root->line, spec ? spec->column : root->column,
                                    NULL, "spec.etcdEndpoints is required");
        if (r >= 0 && scalar_at(spec, "etcdUsername") && (setenv("ETCD_USERNAME", scalar_at(spec, "etcdUsername"), 1) < 0 ||
                                                          setenv("ETCD_PASSWORD", scalar_at(spec, "etcdPassword") ? scalar_at(spec, "etcdPassword") : "", 1) < 0))
                r = -errno;
        if (r >= 0)
                r = etcd_spec(scalar_at(spec, "etcdEndpoints"), scalar_at(spec, "etcdCACertFile"),
                              scalar_at(spec, "etcdCertFile"), scalar_at(spec, "etcdKeyFile"), ret);
        document_list_done(&docs);
        return r;
}

int calico_env_datastore(char **ret, ParseError *reterr) {
        const char *endpoints = getenv("ETCD_ENDPOINTS");
        int r;

        *ret = NULL;
        if (isempty(endpoints))
                return 0;
        r = datastore_type_ok(getenv("DATASTORE_TYPE"), "DATASTORE_TYPE", NULL, reterr);
        if (r < 0)
                return r;
        /* The certificates and credentials are read from ETCD_* by the client. */
        return etcd_spec(endpoints, NULL, NULL, NULL, ret);
}

int config_default_datastore(char **ret, ParseError *reterr) {
        const char *env = getenv("HEP_DATASTORE");
        int r;

        if (!isempty(env)) {
                *ret = strdup(env);
                return *ret ? 0 : -ENOMEM;
        }
        r = calico_env_datastore(ret, reterr);
        if (r < 0 || *ret)
                return r;
        if (access(CALICOCTL_DEFAULT_CONFIG, F_OK) == 0) {
                r = calico_config_load(CALICOCTL_DEFAULT_CONFIG, ret, reterr);
                if (r < 0 || *ret)
                        return r;
        }
        *ret = strdup(HEP_DEFAULT_DATASTORE);
        return *ret ? 0 : -ENOMEM;
}

int config_datastore(const char *flag, const Config *c, char **ret, ParseError *reterr) {
        const char *spec = flag ? flag : c->datastore;

        if (!spec)
                return config_default_datastore(ret, reterr);
        *ret = strdup(spec);
        return *ret ? 0 : -ENOMEM;
}
