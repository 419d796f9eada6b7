/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One HTTP/1.1 connection, non-blocking, over TCP or TLS; see http.h.
 * A state machine: connect (each address of the host in turn), TLS's
 * handshake, send the request, read the answer into http-response.c's
 * parser. */
#include "http.h"

#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "strbuf.h"

typedef enum HttpState {
        HTTP_IDLE, /* no request; the socket, if open, is kept alive */
        HTTP_CONNECTING,
        HTTP_HANDSHAKE,
        HTTP_SENDING,
        HTTP_RECEIVING,
        HTTP_DONE,
} HttpState;

struct HttpConn {
        char *url, *host, *port, *prefix;
        HttpTls *tls; /* NULL for http:// */
        HttpState state;
        int fd;
        TlsSession *session;
        bool want_write;
        uint64_t serial; /* of the socket: a new one may get the old one's number */
        bool reused; /* this request went on a kept connection: a close before any answer is retried once */
        struct addrinfo *addrs, *addr;
        struct gaicb *lookup; /* a host name being resolved off the loop */
        uint64_t lookup_check; /* when to look at it again */
        bool blocking;        /* inside http_conn_run(): may wait */
        uint64_t deadline, connect_deadline, timeout_usec;
        StrBuf out;
        size_t out_off;
        HttpResponse resp;
        http_body_fn body_cb;
        void *userdata;
        char *error;
};

uint64_t http_now_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

void http_tls_done(HttpTls *t) {
        free(t->ca);
        free(t->cert);
        free(t->key);
        tls_context_free(t->ctx);
        *t = (HttpTls) {};
}

static int set_error(HttpConn *c, int err, const char *fmt, ...) _printf_(3, 4);
static int set_error(HttpConn *c, int err, const char *fmt, ...) {
        va_list ap;

        free(c->error);
        va_start(ap, fmt);
        if (vasprintf(&c->error, fmt, ap) < 0)
                c->error = NULL;
        va_end(ap);
        return err;
}

/* "http[s]://HOST[:PORT][/PREFIX]", HOST an IPv6 address in brackets. */
static int parse_url(HttpConn *c, const char *url, char **ret_error) {
        bool https = strncmp(url, "https://", 8) == 0;
        const char *h = url + (https ? 8 : 7), *end, *port = NULL;
        size_t len;

        if (!https && strncmp(url, "http://", 7) != 0)
                goto bad;
        if (*h == '[') {
                end = strchr(h, ']');
                if (!end)
                        goto bad;
                c->host = strndup(h + 1, (size_t)(end - h - 1));
                end++;
        } else {
                end = h + strcspn(h, ":/");
                c->host = strndup(h, (size_t)(end - h));
        }
        if (!c->host)
                return -ENOMEM;
        /* A name or an address; nothing that could end the Host header. */
        if (!*c->host || c->host[strspn(c->host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_:%")])
                goto bad;
        if (*end == ':') {
                port = end + 1;
                end = port + strspn(port, "0123456789");
                if (end == port)
                        goto bad;
        }
        if (*end && *end != '/')
                goto bad;
        c->port = port ? strndup(port, (size_t)(end - port)) : strdup(https ? "443" : "80");
        len = strlen(end);
        while (len && end[len - 1] == '/')
                len--;
        c->prefix = strndup(end, len);
        c->url = strdup(url);
        if (!c->port || !c->prefix || !c->url)
                return -ENOMEM;
        len = strlen(c->url);
        while (len && c->url[len - 1] == '/')
                c->url[--len] = 0;
        return 0;
bad:
        if (!ret_error)
                return -EINVAL;
        free(*ret_error);
        if (asprintf(ret_error, "'%s' is not an http:// or https:// URL (http[s]://HOST[:PORT])", url) < 0)
                *ret_error = NULL;
        return -EINVAL;
}

int http_conn_new(const char *url, HttpTls *tls, HttpConn **ret, char **ret_error) {
        _cleanup_(http_conn_freep) HttpConn *c = calloc(1, sizeof(HttpConn));
        int r;

        if (!c)
                return -ENOMEM;
        c->fd = -1;
        r = parse_url(c, url, ret_error);
        if (r < 0)
                return r;
        c->tls = strncmp(url, "https://", 8) == 0 ? tls : NULL;
        *ret = steal_ptr(c);
        return 0;
}

/* A lookup getaddrinfo_a() runs on a thread of its own: cancelled, or
 * left to that thread if it cannot be (a few hundred bytes, only when a
 * connection is dropped while DNS does not answer). */
static void lookup_drop(HttpConn *c) {
        int e;

        if (!c->lookup)
                return;
        e = gai_cancel(c->lookup);
        if (e == EAI_CANCELED || e == EAI_ALLDONE) {
                if (c->lookup->ar_result)
                        freeaddrinfo(c->lookup->ar_result);
                free((char *)c->lookup->ar_name);
                free((char *)c->lookup->ar_service);
                free((char *)c->lookup->ar_request);
                free(c->lookup);
        }
        c->lookup = NULL;
}

void http_conn_close(HttpConn *c) {
        lookup_drop(c);
        c->session = tls_session_free(c->session);
        if (c->fd >= 0)
                close(c->fd);
        c->fd = -1;
        if (c->addrs)
                freeaddrinfo(c->addrs);
        c->addrs = c->addr = NULL;
        c->state = HTTP_IDLE;
}

HttpConn *http_conn_free(HttpConn *c) {
        if (!c)
                return NULL;
        http_conn_close(c);
        strbuf_done(&c->out);
        free(c->url);
        free(c->host);
        free(c->port);
        free(c->prefix);
        free(c->error);
        free(c);
        return NULL;
}

const char *http_conn_url(const HttpConn *c) {
        return c->url;
}

int http_conn_fd(const HttpConn *c) {
        return c->fd;
}

uint64_t http_conn_serial(const HttpConn *c) {
        return c->serial;
}

bool http_conn_want_write(const HttpConn *c) {
        return c->want_write;
}

int http_conn_status(const HttpConn *c) {
        return c->resp.status;
}

const char *http_conn_error(const HttpConn *c) {
        return c->error ? c->error : "out of memory";
}

/* When the exchange (or its connecting, a host name's lookup included)
 * times out. */
static uint64_t timeout_at(const HttpConn *c) {
        bool connecting = c->state == HTTP_CONNECTING || c->state == HTTP_HANDSHAKE;

        return connecting && c->connect_deadline < c->deadline ? c->connect_deadline : c->deadline;
}

uint64_t http_conn_deadline(const HttpConn *c) {
        uint64_t t = timeout_at(c);

        return c->lookup && c->lookup_check < t ? c->lookup_check : t;
}

static void start_connect(HttpConn *c) {
        c->state = HTTP_CONNECTING;
        c->connect_deadline = http_now_usec() + HTTP_CONNECT_TIMEOUT_USEC;
}

int http_conn_post(HttpConn *c, const char *path, const char *token, const char *body, uint64_t timeout_usec,
                   http_body_fn body_cb, void *userdata) {
        size_t len = strlen(body);

        /* etcd's token, in a header: a line break would forge another. */
        if (token && token[strcspn(token, "\r\n")])
                return set_error(c, -EBADMSG, "the authentication token holds a line break");
        if (c->state != HTTP_IDLE && c->state != HTTP_DONE)
                http_conn_close(c); /* a request abandoned half-way: its connection cannot carry another */
        strbuf_truncate(&c->out, 0);
        strbuf_printf(&c->out, "POST %s%s HTTP/1.1\r\nHost: %s%s%s:%s\r\nContent-Type: application/json\r\n"
                               "Content-Length: %zu\r\n",
                      c->prefix, path, strchr(c->host, ':') ? "[" : "", c->host, strchr(c->host, ':') ? "]" : "",
                      c->port, len);
        if (token)
                strbuf_printf(&c->out, "Authorization: %s\r\n", token);
        strbuf_append(&c->out, "\r\n");
        strbuf_append_len(&c->out, body, len);
        if (!strbuf_ok(&c->out))
                return -ENOMEM;
        c->out_off = 0;
        http_response_init(&c->resp);
        c->body_cb = body_cb;
        c->userdata = userdata;
        c->timeout_usec = timeout_usec;
        c->deadline = timeout_usec ? http_now_usec() + timeout_usec : UINT64_MAX;
        c->want_write = true;
        c->reused = c->fd >= 0;
        if (c->reused)
                c->state = HTTP_SENDING;
        else
                start_connect(c);
        return 0;
}

/* Failed: the connection goes, the error stays. */
static int fail(HttpConn *c, int err) {
        http_conn_close(c);
        return err < 0 ? err : -EIO;
}

static void socket_options(int fd) {
        int on = 1, idle = 10, intvl = 5;

        /* A peer that vanishes (a host powered off) is noticed on a watch
         * that carries nothing for minutes; requests go out at once. */
        (void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
        (void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
        (void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
}

static int lookup_failed(HttpConn *c, int e) {
        return set_error(c, -EHOSTUNREACH, "cannot resolve '%s': %s", c->host,
                         e == EAI_SYSTEM ? strerror(errno) : gai_strerror(e));
}

/* Starts resolving a host name on getaddrinfo_a()'s thread, so the loop
 * never waits for DNS; http_conn_deadline() brings the caller back every
 * few milliseconds to look at it. */
static int lookup_start(HttpConn *c) {
        struct gaicb *g = calloc(1, sizeof(struct gaicb));
        struct addrinfo *hints = calloc(1, sizeof(struct addrinfo));
        struct gaicb *list[1] = { g };
        int e;

        if (g) /* copies: a lookup left to its thread outlives the connection */
                *g = (struct gaicb) { .ar_name = strdup(c->host), .ar_service = strdup(c->port), .ar_request = hints };
        if (!g || !hints || !g->ar_name || !g->ar_service) {
                e = EAI_MEMORY;
                goto fail;
        }
        hints->ai_family = AF_UNSPEC;
        hints->ai_socktype = SOCK_STREAM;
        e = getaddrinfo_a(GAI_NOWAIT, list, 1, NULL);
        if (e != 0)
                goto fail;
        c->lookup = g;
        return 0;
fail:
        if (g) {
                free((char *)g->ar_name);
                free((char *)g->ar_service);
        }
        free(g);
        free(hints);
        return e == EAI_MEMORY ? -ENOMEM : lookup_failed(c, e);
}

/* The host's addresses, once per connection. 1: there; 0: resolving. An
 * address needs no lookup; a name waits only in http_conn_run(). */
static int resolve(HttpConn *c) {
        struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST };
        int e, r;

        if (c->addrs)
                return 1;
        if (c->lookup) {
                e = gai_error(c->lookup);
                if (e == EAI_INPROGRESS) {
                        c->lookup_check = http_now_usec() + 5000;
                        return 0;
                }
                c->addrs = c->lookup->ar_result;
                c->lookup->ar_result = NULL;
                lookup_drop(c);
                if (e != 0)
                        return lookup_failed(c, e);
        } else {
                e = getaddrinfo(c->host, c->port, &hints, &c->addrs);
                if (e == EAI_NONAME && c->blocking) {
                        hints.ai_flags = 0;
                        e = getaddrinfo(c->host, c->port, &hints, &c->addrs);
                } else if (e == EAI_NONAME) {
                        r = lookup_start(c);
                        return r < 0 ? r : resolve(c);
                }
                if (e != 0)
                        return lookup_failed(c, e);
        }
        c->addr = c->addrs;
        return 1;
}

/* 1: connected; 0: in progress; <0: every address failed. */
static int step_connect(HttpConn *c) {
        int r = -EHOSTUNREACH;

        r = resolve(c);
        if (r <= 0)
                return r;
        r = -EHOSTUNREACH;
        while (c->addr) {
                if (c->fd < 0) {
                        c->fd = socket(c->addr->ai_family, c->addr->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                                       c->addr->ai_protocol);
                        if (c->fd < 0)
                                return set_error(c, -errno, "socket: %s", strerror(errno));
                        c->serial++;
                }
                /* connect() again says how the first one went. */
                if (connect(c->fd, c->addr->ai_addr, c->addr->ai_addrlen) == 0 || errno == EISCONN) {
                        socket_options(c->fd);
                        return 1;
                }
                if (errno == EINPROGRESS || errno == EALREADY || errno == EINTR) {
                        c->want_write = true;
                        return 0;
                }
                r = -errno;
                set_error(c, r, "cannot connect to %s port %s: %s", c->host, c->port, strerror(errno));
                close(c->fd);
                c->fd = -1;
                c->addr = c->addr->ai_next;
        }
        return r;
}

static int step_handshake(HttpConn *c) {
        int r;

        if (!c->tls->ctx) {
                r = tls_context_new(c->tls->ca, c->tls->cert, c->tls->key, &c->tls->ctx, &c->error);
                if (r < 0)
                        return r;
        }
        if (!c->session) {
                r = tls_session_new(c->tls->ctx, c->fd, c->host, &c->session, &c->error);
                if (r < 0)
                        return r;
        }
        r = tls_handshake(c->session, &c->want_write, &c->error);
        return r == -EAGAIN ? 0 : r < 0 ? r : 1;
}

static ssize_t conn_write(HttpConn *c, const char *buf, size_t n) {
        ssize_t k;

        if (c->session)
                return tls_write(c->session, buf, n, &c->want_write, &c->error);
        k = send(c->fd, buf, n, MSG_NOSIGNAL);
        if (k >= 0)
                return k;
        if (errno == EAGAIN || errno == EINTR) {
                c->want_write = true;
                return -EAGAIN;
        }
        return set_error(c, -errno, "cannot send the request: %s", strerror(errno));
}

static ssize_t conn_read(HttpConn *c, char *buf, size_t n) {
        ssize_t k;

        if (c->session)
                return tls_read(c->session, buf, n, &c->want_write, &c->error);
        k = recv(c->fd, buf, n, 0);
        if (k >= 0)
                return k;
        if (errno == EAGAIN || errno == EINTR) {
                c->want_write = false;
                return -EAGAIN;
        }
        return set_error(c, -errno, "cannot read the answer: %s", strerror(errno));
}

/* 1: sent; 0: waiting. */
static int step_send(HttpConn *c) {
        while (c->out_off < c->out.len) {
                ssize_t k = conn_write(c, c->out.data + c->out_off, c->out.len - c->out_off);
                if (k == -EAGAIN)
                        return 0;
                if (k < 0)
                        return (int)k;
                c->out_off += (size_t)k;
        }
        c->want_write = false;
        return 1;
}

/* 1: the answer is complete; 0: waiting. */
static int step_receive(HttpConn *c) {
        char buf[16384];

        for (;;) {
                ssize_t k = conn_read(c, buf, sizeof(buf)), used;
                if (k == -EAGAIN)
                        return 0;
                if (k < 0)
                        return (int)k;
                if (k == 0) {
                        if (http_response_eof(&c->resp) < 0)
                                return set_error(c, -ECONNRESET, "%s", c->resp.error);
                        c->resp.keep_alive = false;
                        return 1;
                }
                used = http_response_feed(&c->resp, buf, (size_t)k, c->body_cb, c->userdata);
                if (used == -EBADMSG)
                        return set_error(c, -EBADMSG, "malformed answer: %s", c->resp.error);
                if (used < 0)
                        return (int)used; /* the body callback's: it knows why */
                if (http_response_done(&c->resp)) {
                        /* Bytes after the answer: nothing was asked for them. */
                        if (used < k)
                                c->resp.keep_alive = false;
                        return 1;
                }
        }
}

/* A kept connection the server closed meanwhile fails before any byte of
 * the answer: that request goes again, once, on a new connection. */
static bool retry_stale(HttpConn *c, int r) {
        if (!c->reused || c->resp.started || r == -ETIMEDOUT || c->state < HTTP_SENDING ||
            c->resp.state == HTTP_RESPONSE_FAILED)
                return false;
        if (r != -ECONNRESET && r != -EPIPE && r != -EPROTO)
                return false;
        c->session = tls_session_free(c->session);
        close(c->fd);
        c->fd = -1;
        c->reused = false;
        c->out_off = 0;
        http_response_init(&c->resp);
        start_connect(c);
        return true;
}

static int step_once(HttpConn *c) {
        switch (c->state) {
        case HTTP_CONNECTING: {
                int r = step_connect(c);
                if (r <= 0)
                        return r;
                c->state = c->tls ? HTTP_HANDSHAKE : HTTP_SENDING;
                c->want_write = true;
                return 2;
        }
        case HTTP_HANDSHAKE: {
                int r = step_handshake(c);
                if (r <= 0)
                        return r;
                c->state = HTTP_SENDING;
                return 2;
        }
        case HTTP_SENDING: {
                int r = step_send(c);
                if (r <= 0)
                        return r;
                c->state = HTTP_RECEIVING;
                return 2;
        }
        case HTTP_RECEIVING: {
                int r = step_receive(c);
                if (r <= 0)
                        return r;
                c->state = HTTP_DONE;
                return 1;
        }
        case HTTP_IDLE:
        case HTTP_DONE:
                break;
        }
        return set_error(c, -EINVAL, "no request in progress");
}

int http_conn_step(HttpConn *c) {
        for (;;) {
                int r;

                if (c->state == HTTP_DONE)
                        return 1;
                if (http_now_usec() >= timeout_at(c)) {
                        bool connecting = c->state == HTTP_CONNECTING || c->state == HTTP_HANDSHAKE;
                        uint64_t usec = connecting && c->connect_deadline < c->deadline ? HTTP_CONNECT_TIMEOUT_USEC
                                                                                        : c->timeout_usec;
                        set_error(c, -ETIMEDOUT, "%s after %" PRIu64 " ms",
                                  connecting ? "timed out connecting" : "no answer", usec / 1000);
                        return fail(c, -ETIMEDOUT);
                }
                r = step_once(c);
                if (r < 0 && retry_stale(c, r))
                        continue;
                if (r < 0)
                        return fail(c, r);
                if (r == 1) {
                        if (!c->resp.keep_alive)
                                http_conn_close(c);
                        c->state = HTTP_DONE;
                        return 1;
                }
                if (r == 0)
                        return 0;
        }
}

int http_conn_run(HttpConn *c) {
        for (;;) {
                uint64_t deadline, now;
                struct pollfd p;
                int r, ms;

                c->blocking = true;
                r = http_conn_step(c);
                c->blocking = false;
                if (r != 0)
                        return r;
                deadline = http_conn_deadline(c);
                now = http_now_usec();
                p = (struct pollfd) { .fd = c->fd, .events = c->want_write ? POLLOUT : POLLIN };
                /* Rounded up: woken before the deadline, step() would wait again. */
                ms = deadline == UINT64_MAX ? -1 : deadline <= now ? 0 : (int)((deadline - now + 999) / 1000);
                if (poll(&p, 1, ms) < 0 && errno != EINTR)
                        return fail(c, set_error(c, -errno, "poll: %s", strerror(errno)));
        }
}
