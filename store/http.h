/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A small HTTP/1.1 client, made for etcd's JSON gateway: one connection
 * to one endpoint (http:// or https://), carrying POSTs with a JSON body
 * one after another (kept alive between them), each answer's body handed
 * on as it arrives (Content-Length or chunked, so a watch streams).
 * Non-blocking: http_conn_step() goes as far as it can and says what it
 * waits for (the fd's readiness, until a deadline), for a caller on an
 * event loop; http_conn_run() waits itself, for a synchronous caller.
 * Errors are sentences for the user, without the endpoint (the caller
 * says which one it tried). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http-response.h"
#include "macro.h"
#include "tls.h"

/* Connecting (and TLS's handshake) gives up after this long. */
#define HTTP_CONNECT_TIMEOUT_USEC (3 * 1000000ULL)

/* TLS's settings, shared by a client's connections; the context is made
 * at the first https connection (and again after a failure, so a file
 * put right is taken). */
typedef struct HttpTls {
        char *ca, *cert, *key;
        TlsContext *ctx;
} HttpTls;
void http_tls_done(HttpTls *t);

typedef struct HttpConn HttpConn;

/* url: "http[s]://HOST[:PORT][/PREFIX]"; tls is the caller's and must
 * outlive the connection. */
int http_conn_new(const char *url, HttpTls *tls, HttpConn **ret, char **ret_error);
HttpConn *http_conn_free(HttpConn *c);
DEFINE_CLEANUP_FUNC(HttpConn, http_conn_free)
/* As given, without a trailing slash, for messages. */
const char *http_conn_url(const HttpConn *c);

/* Starts a POST of body (JSON) to path, with "Authorization: token" if
 * token is not NULL; the answer's body goes to body_cb as it arrives.
 * timeout_usec bounds the whole exchange (0: none, for a watch). Reuses
 * the connection if the last answer left it open. */
int http_conn_post(HttpConn *c, const char *path, const char *token, const char *body, uint64_t timeout_usec,
                   http_body_fn body_cb, void *userdata);
/* Goes as far as it can without waiting. 1: the answer is complete; 0:
 * waiting for http_conn_fd() to be readable (or writable if
 * http_conn_want_write()), until http_conn_deadline() (no fd, -1, while
 * a host name is resolved: the deadline alone); <0: failed, and the
 * connection is closed (http_conn_error() says why). */
int http_conn_step(HttpConn *c);
int http_conn_fd(const HttpConn *c);
/* Changes with each new socket (whose number may be the last one's): a
 * caller watching the fd watches it anew. */
uint64_t http_conn_serial(const HttpConn *c);
bool http_conn_want_write(const HttpConn *c);
/* CLOCK_MONOTONIC, in µs; UINT64_MAX for none. */
uint64_t http_conn_deadline(const HttpConn *c);
/* http_conn_step() until the answer is complete or fails, waiting in
 * poll(). */
int http_conn_run(HttpConn *c);
/* The answer's status code (200). */
int http_conn_status(const HttpConn *c);
const char *http_conn_error(const HttpConn *c);
/* Drops the connection (a request in progress is abandoned). */
void http_conn_close(HttpConn *c);

uint64_t http_now_usec(void);
