/* SPDX-License-Identifier: GPL-2.0-or-later */
/* An HTTP/1.1 response, parsed as its bytes arrive: the status line, the
 * headers that matter to a client of etcd's gateway (Content-Length,
 * Transfer-Encoding: chunked, Connection: close), and the body, handed on
 * de-chunked as it comes. Knows nothing of sockets (http.c feeds it), so a
 * fuzzer can drive it alone. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Body bytes as they arrive; a negative return stops the parse with it. */
typedef int (*http_body_fn)(void *userdata, const char *data, size_t n);

typedef enum HttpResponseState {
        HTTP_RESPONSE_STATUS,
        HTTP_RESPONSE_HEADERS,
        HTTP_RESPONSE_BODY,       /* Content-Length bytes */
        HTTP_RESPONSE_UNTIL_CLOSE, /* neither length nor chunks: the body ends with the connection */
        HTTP_RESPONSE_CHUNK_SIZE,
        HTTP_RESPONSE_CHUNK_DATA,
        HTTP_RESPONSE_CHUNK_END, /* the CRLF after a chunk's data */
        HTTP_RESPONSE_TRAILERS,
        HTTP_RESPONSE_DONE,
        HTTP_RESPONSE_FAILED,
} HttpResponseState;

/* A header line, the status line or a chunk's size line may be this long. */
#define HTTP_LINE_MAX 8192
/* All of the headers together (etcd's are a few hundred bytes). */
#define HTTP_HEADERS_MAX 65536

typedef struct HttpResponse {
        HttpResponseState state;
        int status;
        bool chunked, has_length;
        bool keep_alive; /* the connection may carry another request after this one */
        bool started;    /* a byte has arrived */
        uint64_t remaining; /* of Content-Length, or of the current chunk */
        size_t header_bytes;
        char line[HTTP_LINE_MAX + 1];
        size_t line_len;
        const char *error; /* what was wrong, once FAILED (a static string) */
} HttpResponse;

void http_response_init(HttpResponse *r);
/* Parses n bytes. Returns how many it used (fewer than n only once the
 * response is complete: what follows belongs to the next one), -EBADMSG
 * for a malformed response (r->error says why), or the body callback's
 * negative return. */
ssize_t http_response_feed(HttpResponse *r, const char *data, size_t n, http_body_fn body, void *userdata);
/* The connection has closed: 0 if that completes the response (a body
 * read until the close), else -EBADMSG with r->error set. */
int http_response_eof(HttpResponse *r);
static inline bool http_response_done(const HttpResponse *r) {
        return r->state == HTTP_RESPONSE_DONE;
}
