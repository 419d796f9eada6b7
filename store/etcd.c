/* SPDX-License-Identifier: GPL-2.0-or-later */
/* etcd v3 over its JSON gateway, with libcurl and json-c; see etcd.h. */
#include "etcd.h"

#include <curl/curl.h>
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"
#include "strbuf.h"

#define DEFAULT_TIMEOUT_USEC (10 * 1000000ULL)
#define CONNECT_TIMEOUT_MS 3000L
#define LIST_TIMEOUT_USEC (30 * 1000000ULL)

struct EtcdStream {
        EtcdClient *c;
        CURL *easy;
        struct curl_slist *headers;
        char *body;
        const char *path;
        char *auth_body;     /* with a user: {"name", "password"} */
        bool authenticating; /* the request in flight is the authentication, then path */
        char *url;
        size_t endpoint; /* c->urls[endpoint] is url */
        StrBuf buf;
        bool watch;
        etcd_range_done range_done;
        EtcdWatchCallbacks cb;
        void *userdata;
        bool in_callback, cancelled, ended;
        char errbuf[CURL_ERROR_SIZE]; /* libcurl's detail, as the synchronous calls report it */
        EtcdStream *next;
};

struct EtcdClient {
        char **urls;
        size_t n_urls, current;
        char *endpoints; /* as given, for messages */
        char *ca, *cert, *key;
        char *user, *password, *token;
        uint64_t timeout_usec;
        CURL *sync; /* kept between synchronous calls: one connection for many */
        /* on the host's loop */
        const hep_host *host;
        CURLM *multi;
        hep_timer *timer;
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
                slot = streq(kv, "ca") ? &c->ca : streq(kv, "cert") ? &c->cert : streq(kv, "key") ? &c->key : NULL;
                if (!slot)
                        return set_error(ret_error, "etcdv3: unknown option '%s' (expected ca, cert or key)", kv);
                free(*slot);
                *slot = strdup(eq + 1);
                if (!*slot)
                        return -ENOMEM;
        }
        return 0;
}

/* libcurl, loaded when an etcd datastore is first opened (dlopen): a
 * daemon on a directory never maps it nor the thirty libraries it brings
 * (OpenSSL, nghttp2, LDAP, Kerberos...), about 6 MB of RSS. */
static struct {
        bool loaded;
        CURLcode (*global_init)(long flags);
        CURL *(*easy_init)(void);
        CURLcode (*easy_setopt)(CURL *e, CURLoption o, ...);
        CURLcode (*easy_perform)(CURL *e);
        CURLcode (*easy_getinfo)(CURL *e, CURLINFO i, ...);
        void (*easy_cleanup)(CURL *e);
        void (*easy_reset)(CURL *e);
        const char *(*easy_strerror)(CURLcode c);
        struct curl_slist *(*slist_append)(struct curl_slist *l, const char *s);
        void (*slist_free_all)(struct curl_slist *l);
        CURLM *(*multi_init)(void);
        CURLMcode (*multi_setopt)(CURLM *m, CURLMoption o, ...);
        CURLMcode (*multi_cleanup)(CURLM *m);
        CURLMcode (*multi_add_handle)(CURLM *m, CURL *e);
        CURLMcode (*multi_remove_handle)(CURLM *m, CURL *e);
        CURLMcode (*multi_socket_action)(CURLM *m, curl_socket_t fd, int ev, int *running);
        CURLMsg *(*multi_info_read)(CURLM *m, int *left);
        CURLMcode (*multi_assign)(CURLM *m, curl_socket_t fd, void *p);
} curl;

static int curl_load(char **ret_error) {
        static const char *const names[] = { "libcurl.so.4", "libcurl-gnutls.so.4" };
        void *h = NULL;

        if (curl.loaded)
                return 0;
        for (size_t i = 0; !h && i < ELEMENTSOF(names); i++)
                h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
        if (!h)
                return set_error(ret_error, "etcdv3: cannot load libcurl (%s); install libcurl4", dlerror());
#define SYM(f)                                                          \
        if (!(*(void **)&curl.f = dlsym(h, "curl_" #f)))                \
                return set_error(ret_error, "etcdv3: libcurl has no curl_%s", #f);
        SYM(global_init)
        SYM(easy_init)
        SYM(easy_setopt)
        SYM(easy_perform)
        SYM(easy_getinfo)
        SYM(easy_cleanup)
        SYM(easy_reset)
        SYM(easy_strerror)
        SYM(slist_append)
        SYM(slist_free_all)
        SYM(multi_init)
        SYM(multi_setopt)
        SYM(multi_cleanup)
        SYM(multi_add_handle)
        SYM(multi_remove_handle)
        SYM(multi_socket_action)
        SYM(multi_info_read)
        SYM(multi_assign)
#undef SYM
        if (curl.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
                return set_error(ret_error, "etcdv3: cannot initialise libcurl");
        curl.loaded = true;
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
                size_t len;
                char **v;

                while (*u == ' ')
                        u++;
                len = strlen(u);
                while (len && u[len - 1] == '/')
                        u[--len] = 0;
                if (strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0)
                        return set_error(ret_error, "etcdv3: endpoint '%s' is not an http:// or https:// URL", u);
                v = realloc(c->urls, (c->n_urls + 1) * sizeof(char *));
                if (!v)
                        return -ENOMEM;
                c->urls = v;
                c->urls[c->n_urls] = strdup(u);
                if (!c->urls[c->n_urls])
                        return -ENOMEM;
                c->n_urls++;
        }
        if (c->n_urls == 0)
                return set_error(ret_error, "etcdv3: no endpoint (expected etcdv3:http://HOST:PORT[,URL...])");
        /* calicoctl's own settings fill what the location leaves out. */
        if (dup_env(&c->ca, "ETCD_CA_CERT_FILE") < 0 || dup_env(&c->cert, "ETCD_CERT_FILE") < 0 ||
            dup_env(&c->key, "ETCD_KEY_FILE") < 0 || dup_env(&c->user, "ETCD_USERNAME") < 0 ||
            dup_env(&c->password, "ETCD_PASSWORD") < 0)
                return -ENOMEM;
        r = curl_load(ret_error);
        if (r < 0)
                return r;
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
        if (c->sync)
                curl.easy_cleanup(c->sync);
        if (c->multi)
                curl.multi_cleanup(c->multi);
        if (c->host)
                host_timer_remove(c->host, c->timer);
        for (size_t i = 0; i < c->n_urls; i++)
                free(c->urls[i]);
        free(c->urls);
        free(c->endpoints);
        free(c->ca);
        free(c->cert);
        free(c->key);
        free(c->user);
        free(c->password);
        free(c->token);
        free(c);
        return NULL;
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

static size_t collect(char *data, size_t size, size_t nmemb, void *userdata) {
        StrBuf *b = userdata;

        strbuf_append_len(b, data, size * nmemb);
        return strbuf_ok(b) ? size * nmemb : 0;
}

static int easy_setup(EtcdClient *c, CURL *e, const char *url, const char *body, struct curl_slist **headers) {
        struct curl_slist *h = curl.slist_append(NULL, "Content-Type: application/json");

        if (h && c->token) {
                _cleanup_free_ char *auth = NULL;
                if (asprintf(&auth, "Authorization: %s", c->token) < 0)
                        return -ENOMEM;
                struct curl_slist *h2 = curl.slist_append(h, auth);
                if (!h2) {
                        curl.slist_free_all(h);
                        return -ENOMEM;
                }
                h = h2;
        }
        if (!h)
                return -ENOMEM;
        *headers = h;
        curl.easy_setopt(e, CURLOPT_URL, url);
        curl.easy_setopt(e, CURLOPT_POSTFIELDS, body);
        curl.easy_setopt(e, CURLOPT_HTTPHEADER, h);
        curl.easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        curl.easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
        curl.easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
        curl.easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
        curl.easy_setopt(e, CURLOPT_TCP_KEEPIDLE, 10L);
        curl.easy_setopt(e, CURLOPT_TCP_KEEPINTVL, 5L);
        if (c->ca)
                curl.easy_setopt(e, CURLOPT_CAINFO, c->ca);
        if (c->cert)
                curl.easy_setopt(e, CURLOPT_SSLCERT, c->cert);
        if (c->key)
                curl.easy_setopt(e, CURLOPT_SSLKEY, c->key);
        return 0;
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

static bool transport_failure(CURLcode cc) {
        return cc == CURLE_COULDNT_CONNECT || cc == CURLE_COULDNT_RESOLVE_HOST || cc == CURLE_OPERATION_TIMEDOUT ||
               cc == CURLE_RECV_ERROR || cc == CURLE_SEND_ERROR || cc == CURLE_GOT_NOTHING;
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
                _cleanup_free_ char *url = NULL;
                struct curl_slist *headers = NULL;
                StrBuf b = STRBUF_INIT;
                CURL *e = c->sync ? c->sync : curl.easy_init();
                char errbuf[CURL_ERROR_SIZE] = "";
                long status = 0;
                CURLcode cc;
                int r;

                if (!e)
                        return -ENOMEM;
                c->sync = e;
                curl.easy_reset(e); /* keeps its connections */
                if (asprintf(&url, "%s%s", c->urls[i], path) < 0)
                        return -ENOMEM;
                r = easy_setup(c, e, url, body, &headers);
                if (r < 0)
                        return r;
                curl.easy_setopt(e, CURLOPT_WRITEFUNCTION, collect);
                curl.easy_setopt(e, CURLOPT_WRITEDATA, &b);
                curl.easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
                curl.easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(c->timeout_usec / 1000));
                cc = curl.easy_perform(e);
                curl.easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
                curl.easy_setopt(e, CURLOPT_ERRORBUFFER, NULL);
                curl.slist_free_all(headers);
                if (!strbuf_ok(&b)) {
                        strbuf_done(&b);
                        return -ENOMEM;
                }
                if (cc != CURLE_OK) {
                        free(last);
                        if (asprintf(&last, "cannot reach etcd at %s: %s", c->urls[i],
                                     errbuf[0] ? errbuf : curl.easy_strerror(cc)) < 0)
                                last = NULL;
                        strbuf_done(&b);
                        if (transport_failure(cc))
                                continue;
                        break;
                }
                c->current = i;
                if (status != 200) {
                        _cleanup_free_ char *m = gateway_message(strbuf_str(&b));
                        strbuf_done(&b);
                        /* An expired token: authenticate once more. */
                        if (c->token && m && strstr(m, "invalid auth token")) {
                                c->token = mfree_ptr(c->token);
                                return post_sync(c, path, body, ret, ret_error);
                        }
                        return set_error(ret_error, "etcd at %s refused %s (HTTP %ld): %s", c->urls[i], path, status,
                                         m ? m : "no message");
                }
                *ret = json_tokener_parse(strbuf_str(&b));
                strbuf_done(&b);
                if (!*ret)
                        return set_error(ret_error, "etcd at %s answered %s with something that is not JSON", c->urls[i],
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

/* ---- on the host's loop: libcurl's multi-socket interface ---- */

static void stream_free(EtcdStream *s) {
        EtcdClient *c = s->c;

        for (EtcdStream **p = &c->streams; *p; p = &(*p)->next)
                if (*p == s) {
                        *p = s->next;
                        break;
                }
        if (s->easy) {
                curl.multi_remove_handle(c->multi, s->easy);
                curl.easy_cleanup(s->easy);
        }
        curl.slist_free_all(s->headers);
        free(s->body);
        free(s->auth_body);
        free(s->url);
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

/* One watch response: its events, then the batch, or the end. Returns
 * false once the stream must stop. */
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

/* The gateway ends each watch response with a newline. */
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

static size_t stream_write(char *data, size_t size, size_t nmemb, void *userdata) {
        EtcdStream *s = userdata;

        if (s->cancelled || s->ended)
                return 0;
        strbuf_append_len(&s->buf, data, size * nmemb);
        if (!strbuf_ok(&s->buf))
                return 0;
        if (s->watch && !s->authenticating) {
                s->in_callback = true;
                watch_lines(s);
                s->in_callback = false;
                if (s->cancelled || s->ended)
                        return 0; /* ends the transfer; freed in finish() */
        }
        return size * nmemb;
}

static void finish_range(EtcdStream *s, CURLcode cc, long status) {
        json_object *res = NULL;
        EtcdKV *kvs = NULL;
        size_t n = 0;
        int64_t rev = 0;
        _cleanup_free_ char *msg = NULL;

        if (cc != CURLE_OK) {
                if (asprintf(&msg, "cannot reach etcd at %s: %s", s->url,
                             s->errbuf[0] ? s->errbuf : curl.easy_strerror(cc)) < 0)
                        msg = NULL;
        } else if (status != 200) {
                _cleanup_free_ char *m = gateway_message(strbuf_str(&s->buf));
                if (asprintf(&msg, "etcd at %s refused a range (HTTP %ld): %s", s->url, status, m ? m : "") < 0)
                        msg = NULL;
        } else if (!(res = json_tokener_parse(strbuf_str(&s->buf))) || parse_range(res, &kvs, &n, &rev) < 0)
                msg = strdup("etcd's answer to a range request is not as expected");
        json_object_put(res);
        s->range_done(s->userdata, kvs, n, rev, msg ? msg : (cc != CURLE_OK || status != 200) ? "etcd failed" : NULL);
        etcd_kvs_free(kvs, n);
}

/* Why a watch stream ended, for the log and the store's problem. */
static char *watch_end_message(EtcdStream *s, CURLcode cc, long status) {
        _cleanup_free_ char *m = NULL;
        char *msg = NULL;
        int r;

        if (cc != CURLE_OK)
                r = asprintf(&msg, "the watch on etcd at %s ended: %s", s->url,
                             s->errbuf[0] ? s->errbuf : curl.easy_strerror(cc));
        else if (status != 200) {
                m = gateway_message(strbuf_str(&s->buf));
                r = asprintf(&msg, "etcd at %s refused the watch (HTTP %ld): %s", s->url, status, m ? m : "");
        } else
                r = asprintf(&msg, "etcd at %s closed the watch", s->url);
        return r < 0 ? NULL : msg;
}

static int stream_send(EtcdClient *c, EtcdStream *s);

static void finish(EtcdClient *c, CURL *easy, CURLcode cc) {
        EtcdStream *s = NULL;
        long status = 0;

        curl.easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&s);
        curl.easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
        if (!s)
                return;
        if (!s->cancelled && !s->ended && (cc != CURLE_OK || status != 200) && s->endpoint == c->current)
                c->current = (c->current + 1) % c->n_urls;
        /* A token etcd no longer knows (it restarted, or the token's TTL
         * passed): the owner's retry authenticates again. */
        if (c->token && status != 200 && strstr(strbuf_str(&s->buf), "invalid auth token"))
                c->token = mfree_ptr(c->token);
        if (!s->cancelled && s->authenticating && cc == CURLE_OK && status == 200) {
                /* Authenticated: now the request itself, on the same stream. */
                int r = take_token(c, strbuf_str(&s->buf));
                curl.multi_remove_handle(c->multi, s->easy);
                curl.easy_cleanup(s->easy);
                s->easy = NULL;
                curl.slist_free_all(s->headers);
                s->headers = NULL;
                strbuf_done(&s->buf);
                s->buf = (StrBuf) STRBUF_INIT;
                if (r >= 0)
                        r = stream_send(c, s);
                if (r >= 0)
                        return;
                /* Reported as a failure of the request, never as its answer. */
                snprintf(s->errbuf, sizeof(s->errbuf), "cannot authenticate as '%s': %s", c->user,
                         r == -EBADMSG ? "etcd gave no token" : strerror(-r));
                cc = CURLE_LOGIN_DENIED;
        }
        s->in_callback = true;
        if (!s->cancelled && !s->watch)
                finish_range(s, cc, status);
        else if (!s->cancelled && !s->ended) {
                _cleanup_free_ char *msg = watch_end_message(s, cc, status);
                s->cb.on_end(s->userdata, 0, msg ? msg : "the watch ended");
        }
        s->in_callback = false;
        stream_free(s);
}

static void check_done(EtcdClient *c) {
        CURLMsg *m;
        int left;

        while ((m = curl.multi_info_read(c->multi, &left)))
                if (m->msg == CURLMSG_DONE)
                        finish(c, m->easy_handle, m->data.result);
}

static void on_socket_event(void *userdata, int fd, uint32_t events) {
        EtcdClient *c = userdata;
        int running, action = 0;

        if (events & HEP_WATCH_IN)
                action |= CURL_CSELECT_IN;
        if (events & HEP_WATCH_OUT)
                action |= CURL_CSELECT_OUT;
        if (events & (HEP_WATCH_ERR | HEP_WATCH_HUP))
                action |= CURL_CSELECT_ERR;
        curl.multi_socket_action(c->multi, fd, action, &running);
        check_done(c);
}

static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp) {
        EtcdClient *c = userp;
        hep_watch *w = socketp;
        uint32_t events = (what & CURL_POLL_IN ? HEP_WATCH_IN : 0) | (what & CURL_POLL_OUT ? HEP_WATCH_OUT : 0);

        if (what == CURL_POLL_REMOVE) {
                host_watch_remove(c->host, w);
                curl.multi_assign(c->multi, fd, NULL);
                return 0;
        }
        if (w)
                return host_watch_update(c->host, w, events) < 0 ? -1 : 0;
        if (host_watch_add(c->host, fd, events, on_socket_event, c, &w) < 0)
                return -1;
        curl.multi_assign(c->multi, fd, w);
        return 0;
}

static void on_timer(void *userdata) {
        EtcdClient *c = userdata;
        int running;

        curl.multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
        check_done(c);
}

static int on_timeout_change(CURLM *multi, long timeout_ms, void *userp) {
        EtcdClient *c = userp;

        return host_timer_rearm(c->host, c->timer, timeout_ms < 0 ? UINT64_MAX : (uint64_t)timeout_ms * 1000) < 0 ? -1
                                                                                                                : 0;
}

int etcd_client_attach(EtcdClient *c, const hep_host *host) {
        int r;

        if (c->multi)
                return -EBUSY;
        c->host = host;
        r = host_timer_add(host, UINT64_MAX, on_timer, c, &c->timer);
        if (r < 0)
                return r;
        c->multi = curl.multi_init();
        if (!c->multi)
                return -ENOMEM;
        curl.multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
        curl.multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
        curl.multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, on_timeout_change);
        curl.multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
        return 0;
}

/* Sends a stream's request, or first the authentication etcd wants when
 * a user is set and the client has no token yet (post_sync() does the
 * same for the synchronous calls); finish() then sends the request. */
static int stream_send(EtcdClient *c, EtcdStream *s) {
        _cleanup_free_ char *url = NULL;
        const char *path = s->path, *body = s->body;
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
        s->easy = curl.easy_init();
        if (!s->easy || asprintf(&url, "%s%s", s->url, path) < 0)
                return -ENOMEM;
        r = easy_setup(c, s->easy, url, body, &s->headers);
        if (r < 0)
                return r;
        curl.easy_setopt(s->easy, CURLOPT_WRITEFUNCTION, stream_write);
        curl.easy_setopt(s->easy, CURLOPT_WRITEDATA, s);
        curl.easy_setopt(s->easy, CURLOPT_PRIVATE, s);
        curl.easy_setopt(s->easy, CURLOPT_ERRORBUFFER, s->errbuf);
        /* A list of a whole fleet's resources may take a while. */
        if (!s->watch || s->authenticating)
                curl.easy_setopt(s->easy, CURLOPT_TIMEOUT_MS,
                                 (long)((s->authenticating ? c->timeout_usec : LIST_TIMEOUT_USEC) / 1000));
        return curl.multi_add_handle(c->multi, s->easy) == CURLM_OK ? 0 : -EIO;
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
        if (!body || asprintf(&s->url, "%s", c->urls[c->current]) < 0) {
                free(body);
                free(s);
                return -ENOMEM;
        }
        s->next = c->streams;
        c->streams = s;
        r = stream_send(c, s);
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
        if (!c->multi) {
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
        if (!s || !c->multi) {
                free(s);
                free(body);
                return s ? -ENOTCONN : -ENOMEM;
        }
        s->watch = true;
        s->cb = *cb;
        s->userdata = userdata;
        return stream_start(c, "/v3/watch", body, s, ret);
}
