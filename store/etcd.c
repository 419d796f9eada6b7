/* SPDX-License-Identifier: GPL-2.0-or-later */
/* etcd v3 over its JSON gateway, with http.c and json-c; see etcd.h. */
#include "etcd.h"

#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"
#include "http.h"
#include "strbuf.h"

#define DEFAULT_TIMEOUT_USEC (10 * 1000000ULL)
#define LIST_TIMEOUT_USEC (30 * 1000000ULL)

struct EtcdStream {
        EtcdClient *c;
        HttpConn *conn;
        hep_watch *watch_fd;
        uint64_t watched_serial; /* of the socket watch_fd watches */
        hep_timer *timer;
        char *body;
        const char *path;
        char *auth_body;     /* with a user: {"name", "password"} */
        bool authenticating; /* the request in flight is the authentication, then path */
        size_t endpoint;     /* the stream's, c->sync[endpoint]'s URL */
        StrBuf buf;
        bool watch;
        etcd_range_done range_done;
        EtcdWatchCallbacks cb;
        void *userdata;
        bool in_callback, cancelled, ended;
        EtcdStream *next;
};

struct EtcdClient {
        HttpConn **sync; /* one per endpoint, kept between synchronous calls: one connection for many */
        size_t n_urls, current;
        char *endpoints; /* as given, for messages */
        HttpTls tls;
        char *user, *password, *token;
        uint64_t timeout_usec;
        /* on the host's loop */
        const hep_host *host;
        EtcdStream *streams;
};

/* ---- base64, as the gateway carries bytes ---- */

static const char b64chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static char *b64_encode(const char *s, size_t n) {
        char *out = malloc((n + 2) / 3 * 4 + 1), *o = out;

        if (!out)
                return NULL;
        for (size_t i = 0; i < n; i += 3) {
                uint32_t v = (uint32_t)(unsigned char)s[i] << 16;
                if (i + 1 < n)
                        v |= (uint32_t)(unsigned char)s[i + 1] << 8;
                if (i + 2 < n)
                        v |= (unsigned char)s[i + 2];
                *o++ = b64chars[(v >> 18) & 63];
                *o++ = b64chars[(v >> 12) & 63];
                *o++ = i + 1 < n ? b64chars[(v >> 6) & 63] : '=';
                *o++ = i + 2 < n ? b64chars[v & 63] : '=';
        }
        *o = 0;
        return out;
}

/* The value of each base64 character, -1 for the others (a table: values
 * of 10,000 keys are decoded in one list). */
static int b64_value(char ch) {
        static signed char table[256];
        static bool made;

        if (!made) {
                memset(table, -1, sizeof(table));
                for (int i = 0; i < 64; i++)
                        table[(unsigned char)b64chars[i]] = (signed char)i;
                made = true;
        }
        return table[(unsigned char)ch];
}

/* NULL if s is not base64. */
static char *b64_decode(const char *s, size_t *ret_len) {
        size_t n = strlen(s), k = 0;
        char *out = malloc(n / 4 * 3 + 4);
        uint32_t acc = 0;
        int bits = 0;

        if (!out)
                return NULL;
        for (size_t i = 0; i < n && s[i] != '='; i++) {
                int v = b64_value(s[i]);
                if (v < 0) {
                        free(out);
                        return NULL;
                }
                acc = acc << 6 | (uint32_t)v;
                bits += 6;
                if (bits >= 8) {
                        bits -= 8;
                        out[k++] = (char)((acc >> bits) & 0xff);
                }
        }
        out[k] = 0;
        *ret_len = k;
        return out;
}

/* ---- the client ---- */

static int set_error(char **ret_error, const char *fmt, ...) _printf_(2, 3);
static int set_error(char **ret_error, const char *fmt, ...) {
        va_list ap;

        if (!ret_error)
                return -EIO;
        free(*ret_error);
        va_start(ap, fmt);
        if (vasprintf(ret_error, fmt, ap) < 0)
                *ret_error = NULL;
        va_end(ap);
        return -EIO;
}

static int dup_env(char **slot, const char *name) {
        const char *v = getenv(name);

        if (*slot || isempty(v))
                return 0;
        *slot = strdup(v);
        return *slot ? 0 : -ENOMEM;
}

/* "?ca=FILE&cert=FILE&key=FILE" */
static int parse_options(EtcdClient *c, char *q, char **ret_error) {
        for (char *save = NULL, *kv = strtok_r(q, "&", &save); kv; kv = strtok_r(NULL, "&", &save)) {
                char *eq = strchr(kv, '='), **slot;

                if (!eq)
                        return set_error(ret_error, "etcdv3: option '%s' has no value (expected ca=, cert= or key=)", kv);
                *eq = 0;
                slot = streq(kv, "ca")     ? &c->tls.ca
                       : streq(kv, "cert") ? &c->tls.cert
                       : streq(kv, "key")  ? &c->tls.key
                                           : NULL;
                if (!slot)
                        return set_error(ret_error, "etcdv3: unknown option '%s' (expected ca, cert or key)", kv);
                free(*slot);
                *slot = strdup(eq + 1);
                if (!*slot)
                        return -ENOMEM;
        }
        return 0;
}

int etcd_client_new(const char *location, EtcdClient **ret, char **ret_error) {
        _cleanup_(etcd_client_freep) EtcdClient *c = calloc(1, sizeof(EtcdClient));
        _cleanup_free_ char *copy = strdup(location);
        char *q, *save = NULL;
        int r;

        if (!c || !copy)
                return -ENOMEM;
        c->timeout_usec = DEFAULT_TIMEOUT_USEC;
        q = strchr(copy, '?');
        if (q) {
                *q++ = 0;
                r = parse_options(c, q, ret_error);
                if (r < 0)
                        return r;
        }
        c->endpoints = strdup(copy);
        if (!c->endpoints)
                return -ENOMEM;
        for (char *u = strtok_r(copy, ",", &save); u; u = strtok_r(NULL, ",", &save)) {
                _cleanup_free_ char *why = NULL;
                HttpConn **v;

                while (*u == ' ')
                        u++;
                v = realloc(c->sync, (c->n_urls + 1) * sizeof(HttpConn *));
                if (!v)
                        return -ENOMEM;
                c->sync = v;
                r = http_conn_new(u, &c->tls, &c->sync[c->n_urls], &why);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        return set_error(ret_error, "etcdv3: endpoint %s", why ? why : u);
                c->n_urls++;
        }
        if (c->n_urls == 0)
                return set_error(ret_error, "etcdv3: no endpoint (expected etcdv3:http://HOST:PORT[,URL...])");
        /* calicoctl's own settings fill what the location leaves out. */
        if (dup_env(&c->tls.ca, "ETCD_CA_CERT_FILE") < 0 || dup_env(&c->tls.cert, "ETCD_CERT_FILE") < 0 ||
            dup_env(&c->tls.key, "ETCD_KEY_FILE") < 0 || dup_env(&c->user, "ETCD_USERNAME") < 0 ||
            dup_env(&c->password, "ETCD_PASSWORD") < 0)
                return -ENOMEM;
        *ret = steal_ptr(c);
        return 0;
}

EtcdClient *etcd_client_free(EtcdClient *c) {
        if (!c)
                return NULL;
        while (c->streams) {
                EtcdStream *s = c->streams;
                s->in_callback = false;
                etcd_stream_cancel(s);
        }
        for (size_t i = 0; i < c->n_urls; i++)
                http_conn_free(c->sync[i]);
        free(c->sync);
        free(c->endpoints);
        http_tls_done(&c->tls);
        free(c->user);
        free(c->password);
        free(c->token);
        free(c);
        return NULL;
}

static const char *url_of(const EtcdClient *c, size_t i) {
        return http_conn_url(c->sync[i]);
}

const char *etcd_client_endpoints(const EtcdClient *c) {
        return c->endpoints;
}

void etcd_client_set_timeout(EtcdClient *c, uint64_t usec) {
        c->timeout_usec = usec;
}

void etcd_kvs_free(EtcdKV *v, size_t n) {
        for (size_t i = 0; v && i < n; i++) {
                free(v[i].key);
                free(v[i].value);
        }
        free(v);
}

/* ---- HTTP ---- */

static int collect(void *userdata, const char *data, size_t n) {
        StrBuf *b = userdata;

        strbuf_append_len(b, data, n);
        return strbuf_ok(b) ? 0 : -ENOMEM;
}

/* The message of a gateway error body ({"error": "...", "message": "..."}),
 * or the body itself. */
static char *gateway_message(const char *body) {
        json_object *o = json_tokener_parse(body), *m;
        char *s = NULL;

        if (o && (json_object_object_get_ex(o, "message", &m) || json_object_object_get_ex(o, "error", &m)) &&
            json_object_is_type(m, json_type_string))
                s = strdup(json_object_get_string(m));
        json_object_put(o);
        return s ? s : strdup(body);
}

/* The token in an answer to /v3/auth/authenticate. */
static int take_token(EtcdClient *c, const char *body) {
        json_object *res = json_tokener_parse(body), *t;
        int r = -EBADMSG;

        if (res && json_object_object_get_ex(res, "token", &t) && json_object_is_type(t, json_type_string)) {
                free(c->token);
                c->token = strdup(json_object_get_string(t));
                r = c->token ? 0 : -ENOMEM;
        }
        json_object_put(res);
        return r;
}
static int authenticate(EtcdClient *c, char **ret_error);

/* POSTs body to path and parses the answer; tries every endpoint, from
 * the one that last answered. */
static int post_sync(EtcdClient *c, const char *path, const char *body, json_object **ret, char **ret_error) {
        _cleanup_free_ char *last = NULL;

        if (c->user && !c->token && !streq(path, "/v3/auth/authenticate")) {
                int r = authenticate(c, ret_error);
                if (r < 0)
                        return r;
        }
        for (size_t tries = 0; tries < c->n_urls; tries++) {
                size_t i = (c->current + tries) % c->n_urls;
                _cleanup_(strbuf_done) StrBuf b = STRBUF_INIT;
                int status, r;

                r = http_conn_post(c->sync[i], path, c->token, body, c->timeout_usec, collect, &b);
                if (r >= 0)
                        r = http_conn_run(c->sync[i]);
                if (r == -ENOMEM || !strbuf_ok(&b))
                        return -ENOMEM;
                if (r < 0) {
                        free(last);
                        if (asprintf(&last, "cannot reach etcd at %s: %s", url_of(c, i), http_conn_error(c->sync[i])) < 0)
                                last = NULL;
                        continue;
                }
                c->current = i;
                status = http_conn_status(c->sync[i]);
                if (status != 200) {
                        _cleanup_free_ char *m = gateway_message(strbuf_str(&b));
                        /* An expired token: authenticate once more. */
                        if (c->token && m && strstr(m, "invalid auth token")) {
                                c->token = mfree_ptr(c->token);
                                return post_sync(c, path, body, ret, ret_error);
                        }
                        return set_error(ret_error, "etcd at %s refused %s (HTTP %d): %s", url_of(c, i), path, status,
                                         m ? m : "no message");
                }
                *ret = json_tokener_parse(strbuf_str(&b));
                if (!*ret)
                        return set_error(ret_error, "etcd at %s answered %s with something that is not JSON", url_of(c, i),
                                         path);
                return 0;
        }
        return set_error(ret_error, "%s", last ? last : "cannot reach etcd");
}

static int authenticate(EtcdClient *c, char **ret_error) {
        json_object *req = json_object_new_object(), *res = NULL, *t;
        int r;

        if (!req)
                return -ENOMEM;
        json_object_object_add(req, "name", json_object_new_string(c->user));
        json_object_object_add(req, "password", json_object_new_string(c->password ? c->password : ""));
        r = post_sync(c, "/v3/auth/authenticate", json_object_to_json_string(req), &res, ret_error);
        json_object_put(req);
        if (r < 0)
                return r;
        if (json_object_object_get_ex(res, "token", &t) && json_object_is_type(t, json_type_string)) {
                c->token = strdup(json_object_get_string(t));
                r = c->token ? 0 : -ENOMEM;
        } else
                r = set_error(ret_error, "etcd gave no token for user '%s'", c->user);
        json_object_put(res);
        return r;
}

/* ---- JSON ---- */

static int64_t get_int64(json_object *o, const char *field) {
        json_object *v;

        return json_object_object_get_ex(o, field, &v) ? json_object_get_int64(v) : 0;
}

static int kv_from_json(json_object *o, EtcdKV *kv) {
        json_object *k, *v;
        size_t n;

        *kv = (EtcdKV) {};
        if (!json_object_object_get_ex(o, "key", &k) || !json_object_is_type(k, json_type_string))
                return -EBADMSG;
        kv->key = b64_decode(json_object_get_string(k), &n);
        if (!kv->key)
                return -EBADMSG;
        if (json_object_object_get_ex(o, "value", &v) && json_object_is_type(v, json_type_string))
                kv->value = b64_decode(json_object_get_string(v), &kv->value_len);
        else
                kv->value = strdup("");
        if (!kv->value) {
                free(kv->key);
                return -EBADMSG;
        }
        kv->mod_revision = get_int64(o, "mod_revision");
        kv->version = get_int64(o, "version");
        return 0;
}

static int kvs_from_json(json_object *arr, EtcdKV **ret, size_t *ret_n) {
        size_t n = arr && json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : 0;
        EtcdKV *v = calloc(n ? n : 1, sizeof(EtcdKV));

        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                int r = kv_from_json(json_object_array_get_idx(arr, i), &v[i]);
                if (r < 0) {
                        etcd_kvs_free(v, i);
                        return r;
                }
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

static int64_t header_revision(json_object *o) {
        json_object *h;

        return json_object_object_get_ex(o, "header", &h) ? get_int64(h, "revision") : 0;
}

/* The range request body; range_end NULL: the key alone. */
static char *range_body(const char *key, const char *range_end) {
        json_object *req = json_object_new_object();
        char *k = b64_encode(key, strlen(key)), *e = range_end ? b64_encode(range_end, strlen(range_end)) : NULL;
        char *s = NULL;

        if (req && k && (!range_end || e)) {
                json_object_object_add(req, "key", json_object_new_string(k));
                if (e)
                        json_object_object_add(req, "range_end", json_object_new_string(e));
                s = strdup(json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN));
        }
        json_object_put(req);
        free(k);
        free(e);
        return s;
}

static int parse_range(json_object *res, EtcdKV **ret, size_t *ret_n, int64_t *ret_revision) {
        json_object *kvs = NULL;

        (void)json_object_object_get_ex(res, "kvs", &kvs);
        *ret_revision = header_revision(res);
        return kvs_from_json(kvs, ret, ret_n);
}

int etcd_range(EtcdClient *c, const char *key, const char *range_end, EtcdKV **ret, size_t *ret_n,
               int64_t *ret_revision, char **ret_error) {
        _cleanup_free_ char *body = range_body(key, range_end);
        json_object *res = NULL;
        int r;

        if (!body)
                return -ENOMEM;
        r = post_sync(c, "/v3/kv/range", body, &res, ret_error);
        if (r < 0)
                return r;
        r = parse_range(res, ret, ret_n, ret_revision);
        json_object_put(res);
        if (r == -EBADMSG)
                return set_error(ret_error, "etcd's answer to a range request is not as expected");
        return r;
}

static json_object *txn_request(const char *key, const char *compare, int64_t rev, const char *value) {
        json_object *req = json_object_new_object(), *cmp = json_object_new_array(), *ok = json_object_new_array(),
                    *fail = json_object_new_array(), *op = json_object_new_object(), *get = json_object_new_object();
        _cleanup_free_ char *k = b64_encode(key, strlen(key));
        _cleanup_free_ char *v = value ? b64_encode(value, strlen(value)) : NULL;
        json_object *inner = json_object_new_object(), *ginner = json_object_new_object();

        if (!req || !cmp || !ok || !fail || !op || !get || !k || (value && !v) || !inner || !ginner) {
                json_object_put(req);
                json_object_put(cmp);
                json_object_put(ok);
                json_object_put(fail);
                json_object_put(op);
                json_object_put(get);
                json_object_put(inner);
                json_object_put(ginner);
                return NULL;
        }
        if (rev >= 0) {
                json_object *c = json_object_new_object();
                bool version = streq(compare, "version");
                json_object_object_add(c, "key", json_object_new_string(k));
                json_object_object_add(c, "target", json_object_new_string(version ? "VERSION" : "MOD"));
                json_object_object_add(c, "result", json_object_new_string("EQUAL"));
                json_object_object_add(c, version ? "version" : "mod_revision", json_object_new_int64(rev));
                json_object_array_add(cmp, c);
        }
        json_object_object_add(inner, "key", json_object_new_string(k));
        if (value) {
                json_object_object_add(inner, "value", json_object_new_string(v));
                json_object_object_add(op, "request_put", inner);
        } else {
                json_object_object_add(inner, "prev_kv", json_object_new_boolean(1));
                json_object_object_add(op, "request_delete_range", inner);
        }
        json_object_array_add(ok, op);
        json_object_object_add(ginner, "key", json_object_new_string(k));
        json_object_object_add(get, "request_range", ginner);
        json_object_array_add(fail, get);
        json_object_object_add(req, "compare", cmp);
        json_object_object_add(req, "success", ok);
        json_object_object_add(req, "failure", fail);
        return req;
}

int etcd_txn(EtcdClient *c, const char *key, const char *compare, int64_t rev, const char *value,
             EtcdTxnResult *ret, char **ret_error) {
        json_object *req = txn_request(key, compare, rev, value), *res = NULL, *succ, *resps, *first, *inner;
        int r;

        *ret = (EtcdTxnResult) {};
        if (!req)
                return -ENOMEM;
        r = post_sync(c, "/v3/kv/txn", json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN), &res, ret_error);
        json_object_put(req);
        if (r < 0)
                return r;
        /* proto3's JSON leaves out false and empty fields. */
        ret->succeeded = json_object_object_get_ex(res, "succeeded", &succ) && json_object_get_boolean(succ);
        ret->revision = header_revision(res);
        r = 0;
        if (json_object_object_get_ex(res, "responses", &resps) && json_object_array_length(resps) > 0) {
                first = json_object_array_get_idx(resps, 0);
                if (json_object_object_get_ex(first, "response_range", &inner))
                        r = parse_range(inner, &ret->old, &ret->n_old, &(int64_t) { 0 });
                else if (json_object_object_get_ex(first, "response_delete_range", &inner)) {
                        json_object *prev = NULL;
                        (void)json_object_object_get_ex(inner, "prev_kvs", &prev);
                        r = kvs_from_json(prev, &ret->old, &ret->n_old);
                }
        }
        json_object_put(res);
        if (r == -EBADMSG)
                return set_error(ret_error, "etcd's answer to a transaction is not as expected");
        return r;
}

void etcd_txn_result_done(EtcdTxnResult *r) {
        etcd_kvs_free(r->old, r->n_old);
        *r = (EtcdTxnResult) {};
}


/* ---- on the host's loop: each stream its own connection, driven by an
 * fd watch and a timer ---- */

static void stream_unwatch(EtcdStream *s) {
        if (s->watch_fd)
                host_watch_remove(s->c->host, s->watch_fd);
        s->watch_fd = NULL;
}

static void stream_free(EtcdStream *s) {
        EtcdClient *c = s->c;

        for (EtcdStream **p = &c->streams; *p; p = &(*p)->next)
                if (*p == s) {
                        *p = s->next;
                        break;
                }
        stream_unwatch(s);
        if (s->timer)
                host_timer_remove(c->host, s->timer);
        http_conn_free(s->conn);
        free(s->body);
        free(s->auth_body);
        strbuf_done(&s->buf);
        free(s);
}

void etcd_stream_cancel(EtcdStream *s) {
        if (!s)
                return;
        s->cancelled = true;
        /* Inside its own callback: freed when that returns. */
        if (!s->in_callback)
                stream_free(s);
}

static bool watch_line(EtcdStream *s, const char *line) {
        json_object *o = json_tokener_parse(line), *res, *events, *v;
        bool go_on = true;

        if (!o) {
                s->cb.on_end(s->userdata, 0, "etcd's watch stream sent something that is not JSON");
                return false;
        }
        if (json_object_object_get_ex(o, "error", &v)) {
                json_object *m = NULL;
                const char *msg = json_object_object_get_ex(v, "message", &m) ? json_object_get_string(m)
                                                                              : json_object_get_string(v);
                s->cb.on_end(s->userdata, 0, msg);
                json_object_put(o);
                return false;
        }
        if (!json_object_object_get_ex(o, "result", &res)) {
                json_object_put(o);
                return true;
        }
        if (json_object_object_get_ex(res, "canceled", &v) && json_object_get_boolean(v)) {
                int64_t compact = get_int64(res, "compact_revision");
                json_object *reason = NULL;
                (void)json_object_object_get_ex(res, "cancel_reason", &reason);
                s->cb.on_end(s->userdata, compact,
                             reason ? json_object_get_string(reason)
                             : compact ? "the watched revision has been compacted"
                                       : "etcd cancelled the watch");
                json_object_put(o);
                return false;
        }
        if (json_object_object_get_ex(res, "events", &events) && json_object_is_type(events, json_type_array)) {
                size_t n = json_object_array_length(events);
                for (size_t i = 0; go_on && i < n; i++) {
                        json_object *ev = json_object_array_get_idx(events, i), *kvo, *type;
                        bool deleted = json_object_object_get_ex(ev, "type", &type) &&
                                       streq_ptr(json_object_get_string(type), "DELETE");
                        EtcdKV kv;

                        if (!json_object_object_get_ex(ev, "kv", &kvo) || kv_from_json(kvo, &kv) < 0)
                                continue;
                        s->cb.on_event(s->userdata, &kv, deleted);
                        free(kv.key);
                        free(kv.value);
                        go_on = !s->cancelled;
                }
                if (go_on && s->cb.on_batch)
                        s->cb.on_batch(s->userdata, header_revision(res));
        }
        json_object_put(o);
        return go_on && !s->cancelled;
}
static void watch_lines(EtcdStream *s) {
        const char *data = strbuf_str(&s->buf), *nl;
        size_t used = 0;

        while (!s->ended && (nl = memchr(data + used, '\n', s->buf.len - used))) {
                _cleanup_free_ char *line = strndup(data + used, (size_t)(nl - data - used));
                used = (size_t)(nl - data) + 1;
                if (line && *line && !watch_line(s, line))
                        s->ended = true;
        }
        if (used) {
                memmove(s->buf.data, s->buf.data + used, s->buf.len - used + 1);
                s->buf.len -= used;
        }
}

static int stream_body(void *userdata, const char *data, size_t n) {
        EtcdStream *s = userdata;

        if (s->cancelled || s->ended)
                return -ECANCELED;
        strbuf_append_len(&s->buf, data, n);
        if (!strbuf_ok(&s->buf))
                return -ENOMEM;
        if (s->watch && !s->authenticating) {
                watch_lines(s);
                if (s->cancelled || s->ended)
                        return -ECANCELED; /* ends the exchange; freed in finish() */
        }
        return 0;
}

static const char *stream_url(const EtcdStream *s) {
        return url_of(s->c, s->endpoint);
}

static void finish_range(EtcdStream *s, int r, int status) {
        json_object *res = NULL;
        EtcdKV *kvs = NULL;
        size_t n = 0;
        int64_t rev = 0;
        _cleanup_free_ char *msg = NULL;

        if (r < 0) {
                if (asprintf(&msg, "cannot reach etcd at %s: %s", stream_url(s), http_conn_error(s->conn)) < 0)
                        msg = NULL;
        } else if (status != 200) {
                _cleanup_free_ char *m = gateway_message(strbuf_str(&s->buf));
                if (asprintf(&msg, "etcd at %s refused a range (HTTP %d): %s", stream_url(s), status, m ? m : "") < 0)
                        msg = NULL;
        } else if (!(res = json_tokener_parse(strbuf_str(&s->buf))) || parse_range(res, &kvs, &n, &rev) < 0)
                msg = strdup("etcd's answer to a range request is not as expected");
        json_object_put(res);
        s->range_done(s->userdata, kvs, n, rev, msg ? msg : (r < 0 || status != 200) ? "etcd failed" : NULL);
        etcd_kvs_free(kvs, n);
}

/* Why a watch stream ended, for the log and the store's problem. */
static char *watch_end_message(EtcdStream *s, int r, int status) {
        _cleanup_free_ char *m = NULL;
        char *msg = NULL;
        int q;

        if (r < 0)
                q = asprintf(&msg, "the watch on etcd at %s ended: %s", stream_url(s), http_conn_error(s->conn));
        else if (status != 200) {
                m = gateway_message(strbuf_str(&s->buf));
                q = asprintf(&msg, "etcd at %s refused the watch (HTTP %d): %s", stream_url(s), status, m ? m : "");
        } else
                q = asprintf(&msg, "etcd at %s closed the watch", stream_url(s));
        return q < 0 ? NULL : msg;
}

static int stream_send(EtcdStream *s);

/* The exchange is over (r < 0: it failed): the authentication's answer
 * sends the request itself; a request's answer goes to the owner. */
static void finish(EtcdStream *s, int r) {
        EtcdClient *c = s->c;
        int status = r < 0 ? 0 : http_conn_status(s->conn);

        if (!s->ended && (r < 0 || status != 200) && s->endpoint == c->current)
                c->current = (c->current + 1) % c->n_urls;
        /* A token etcd no longer knows (it restarted, or the token's TTL
         * passed): the owner's retry authenticates again. */
        if (c->token && r >= 0 && status != 200 && strstr(strbuf_str(&s->buf), "invalid auth token"))
                c->token = mfree_ptr(c->token);
        if (s->authenticating && r >= 0 && status == 200) {
                /* Authenticated: now the request itself, on the same connection. */
                _cleanup_free_ char *why = NULL;
                int q = take_token(c, strbuf_str(&s->buf));
                strbuf_truncate(&s->buf, 0);
                if (q >= 0)
                        q = stream_send(s);
                if (q >= 0)
                        return;
                /* Reported as a failure of the request, never as its answer. */
                r = -EACCES;
                if (asprintf(&why, "cannot authenticate as '%s': %s", c->user,
                             q == -EBADMSG ? "etcd gave no token" : strerror(-q)) >= 0) {
                        s->in_callback = true;
                        if (!s->watch)
                                s->range_done(s->userdata, NULL, 0, 0, why);
                        else
                                s->cb.on_end(s->userdata, 0, why);
                        s->in_callback = false;
                        stream_free(s);
                        return;
                }
        }
        s->in_callback = true;
        if (!s->watch)
                finish_range(s, r, status);
        else if (!s->ended) {
                _cleanup_free_ char *msg = watch_end_message(s, r, status);
                s->cb.on_end(s->userdata, 0, msg ? msg : "the watch ended");
        }
        s->in_callback = false;
        stream_free(s);
}

static void stream_pump(EtcdStream *s);

static void on_stream_fd(void *userdata, int fd, uint32_t events) {
        stream_pump(userdata);
}

static void on_stream_timer(void *userdata) {
        stream_pump(userdata);
}

/* Waits for what the connection waits for: its socket's readiness (a
 * new socket is watched anew; none while a host name is resolved), until
 * its deadline. */
static int stream_arm(EtcdStream *s) {
        const hep_host *host = s->c->host;
        uint32_t events = http_conn_want_write(s->conn) ? HEP_WATCH_OUT : HEP_WATCH_IN;
        uint64_t deadline = http_conn_deadline(s->conn), now = http_now_usec();
        int r = 0;

        if (s->watch_fd && (s->watched_serial != http_conn_serial(s->conn) || http_conn_fd(s->conn) < 0))
                stream_unwatch(s);
        if (s->watch_fd)
                r = host_watch_update(host, s->watch_fd, events);
        else if (http_conn_fd(s->conn) >= 0)
                r = host_watch_add(host, http_conn_fd(s->conn), events, on_stream_fd, s, &s->watch_fd);
        if (r < 0)
                return r;
        s->watched_serial = http_conn_serial(s->conn);
        return host_timer_rearm(host, s->timer, deadline == UINT64_MAX ? UINT64_MAX : deadline > now ? deadline - now : 0);
}

static void stream_pump(EtcdStream *s) {
        int r;

        s->in_callback = true;
        r = http_conn_step(s->conn);
        s->in_callback = false;
        if (s->cancelled) {
                stream_free(s);
                return;
        }
        if (r == 0)
                r = stream_arm(s);
        if (r != 0)
                finish(s, r);
}

int etcd_client_attach(EtcdClient *c, const hep_host *host) {
        if (c->host)
                return -EBUSY;
        c->host = host;
        return 0;
}

/* Sends a stream's request, or first the authentication etcd wants when
 * a user is set and the client has no token yet (post_sync() does the
 * same for the synchronous calls); finish() then sends the request. */
static int stream_send(EtcdStream *s) {
        EtcdClient *c = s->c;
        const char *path = s->path, *body = s->body;
        uint64_t timeout = 0;
        int r;

        s->authenticating = c->user && !c->token;
        if (s->authenticating) {
                if (!s->auth_body) {
                        json_object *req = json_object_new_object();
                        if (!req)
                                return -ENOMEM;
                        json_object_object_add(req, "name", json_object_new_string(c->user));
                        json_object_object_add(req, "password", json_object_new_string(c->password ? c->password : ""));
                        s->auth_body = strdup(json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN));
                        json_object_put(req);
                        if (!s->auth_body)
                                return -ENOMEM;
                }
                path = "/v3/auth/authenticate";
                body = s->auth_body;
        }
        /* A list of a whole fleet's resources may take a while; a watch
         * lasts as long as it lasts. */
        if (!s->watch || s->authenticating)
                timeout = s->authenticating ? c->timeout_usec : LIST_TIMEOUT_USEC;
        r = http_conn_post(s->conn, path, s->authenticating ? NULL : c->token, body, timeout, stream_body, s);
        if (r < 0)
                return r;
        /* Connecting starts on the loop's next turn: the owner gets its
         * stream back before any callback. */
        return host_timer_rearm(c->host, s->timer, 0);
}

static int stream_start(EtcdClient *c, const char *path, char *body, EtcdStream *s, EtcdStream **ret) {
        int r;

        s->c = c;
        s->body = body;
        s->path = path;
        s->buf = (StrBuf) STRBUF_INIT;
        /* The endpoint that last answered; a failed stream moves the
         * client on (finish()), so its owner's retry fails over. Not the
         * next one each time: a list and the watch after it would always
         * go to different endpoints, one of them perhaps down. */
        s->endpoint = c->current;
        s->next = c->streams;
        c->streams = s;
        if (!body)
                r = -ENOMEM;
        else {
                r = http_conn_new(url_of(c, s->endpoint), &c->tls, &s->conn, NULL);
                if (r >= 0)
                        r = host_timer_add(c->host, UINT64_MAX, on_stream_timer, s, &s->timer);
                if (r >= 0)
                        r = stream_send(s);
        }
        if (r < 0) {
                stream_free(s);
                return r;
        }
        *ret = s;
        return 0;
}

int etcd_range_async(EtcdClient *c, const char *key, const char *range_end, etcd_range_done done, void *userdata,
                     EtcdStream **ret) {
        EtcdStream *s = calloc(1, sizeof(EtcdStream));

        if (!s)
                return -ENOMEM;
        if (!c->host) {
                free(s);
                return -ENOTCONN;
        }
        s->range_done = done;
        s->userdata = userdata;
        return stream_start(c, "/v3/kv/range", range_body(key, range_end), s, ret);
}
int etcd_watch_async(EtcdClient *c, const char *key, const char *range_end, int64_t start_revision,
                     const EtcdWatchCallbacks *cb, void *userdata, EtcdStream **ret) {
        json_object *req = json_object_new_object(), *create = json_object_new_object();
        _cleanup_free_ char *k = b64_encode(key, strlen(key)), *e = b64_encode(range_end, strlen(range_end));
        EtcdStream *s = calloc(1, sizeof(EtcdStream));
        char *body = NULL;

        if (req && create && k && e && s) {
                json_object_object_add(create, "key", json_object_new_string(k));
                json_object_object_add(create, "range_end", json_object_new_string(e));
                json_object_object_add(create, "start_revision", json_object_new_int64(start_revision));
                json_object_object_add(create, "prev_kv", json_object_new_boolean(1));
                json_object_object_add(req, "create_request", create);
                create = NULL;
                body = strdup(json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN));
        }
        json_object_put(req);
        json_object_put(create);
        if (!s || !c->host) {
                free(s);
                free(body);
                return s ? -ENOTCONN : -ENOMEM;
        }
        s->watch = true;
        s->cb = *cb;
        s->userdata = userdata;
        return stream_start(c, "/v3/watch", body, s, ret);
}
