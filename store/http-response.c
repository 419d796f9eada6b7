/* SPDX-License-Identifier: GPL-2.0-or-later */
/* An HTTP/1.1 response parser, fed as bytes arrive; see http-response.h.
 * Strict where a lenient reading could frame the body wrongly (lengths,
 * chunk sizes, folded headers), silent about headers it does not use. */
#include "http-response.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#include "macro.h"

/* A chunk or body larger than this is surely garbage (and its size
 * cannot overflow when counted). */
#define HTTP_SIZE_MAX (UINT64_C(1) << 50)

void http_response_init(HttpResponse *r) {
        *r = (HttpResponse) { .state = HTTP_RESPONSE_STATUS };
}

static ssize_t fail(HttpResponse *r, const char *why) {
        r->state = HTTP_RESPONSE_FAILED;
        r->error = why;
        return -EBADMSG;
}

/* Takes bytes up to and including a newline into r->line. 1: a whole line
 * is there (NUL-terminated, without its CR LF), 0: more bytes are needed,
 * <0: too long, holding a NUL, or one header line too many. *used counts
 * what it took. */
static int take_line(HttpResponse *r, const char *data, size_t n, size_t *used, bool counted) {
        const char *nl = memchr(data, '\n', n);
        size_t k = nl ? (size_t)(nl - data) : n, room = HTTP_LINE_MAX - r->line_len;

        /* The same verdict however the bytes were cut into reads: a NUL
         * within the line's allowed length, else a line too long. */
        if (memchr(data, 0, k < room ? k : room))
                return fail(r, "the response holds a NUL byte in its header");
        if (k > room)
                return fail(r, "a line of the response is too long");
        memcpy(r->line + r->line_len, data, k);
        r->line_len += k;
        *used = k + (nl ? 1 : 0);
        if (!nl)
                return 0;
        if (counted) {
                r->header_bytes += r->line_len + 1;
                if (r->header_bytes > HTTP_HEADERS_MAX)
                        return fail(r, "the response's header is too long");
        }
        if (r->line_len > 0 && r->line[r->line_len - 1] == '\r')
                r->line_len--;
        r->line[r->line_len] = 0;
        return 1;
}

/* A decimal (Content-Length) or hexadecimal (chunk size) number: digits
 * up to end, which must be the end of the string or a char in stop. */
static int parse_size(const char *s, int base, const char *stop, uint64_t *ret) {
        uint64_t v = 0;
        const char *p = s;

        for (; *p; p++) {
                int d = *p >= '0' && *p <= '9'                ? *p - '0'
                        : base == 16 && *p >= 'a' && *p <= 'f' ? *p - 'a' + 10
                        : base == 16 && *p >= 'A' && *p <= 'F' ? *p - 'A' + 10
                                                               : -1;
                if (d < 0)
                        break;
                v = v * (uint64_t)base + (uint64_t)d;
                if (v > HTTP_SIZE_MAX)
                        return -ERANGE;
        }
        if (p == s || (*p && !strchr(stop, *p)))
                return -EINVAL;
        *ret = v;
        return 0;
}

static ssize_t status_line(HttpResponse *r) {
        const char *l = r->line;

        /* Blank lines before a response are tolerated (RFC 9112 2.2). */
        if (!*l)
                return 0;
        if (strncmp(l, "HTTP/1.", 7) != 0 || (l[7] != '0' && l[7] != '1') || l[8] != ' ')
                return fail(r, "the server did not answer in HTTP/1.x");
        if (!(l[9] >= '1' && l[9] <= '5') || !(l[10] >= '0' && l[10] <= '9') || !(l[11] >= '0' && l[11] <= '9') ||
            (l[12] != ' ' && l[12] != 0))
                return fail(r, "the response's status line has no valid status code");
        r->status = (l[9] - '0') * 100 + (l[10] - '0') * 10 + (l[11] - '0');
        r->keep_alive = l[7] == '1';
        r->state = HTTP_RESPONSE_HEADERS;
        return 0;
}

/* Whether a comma-separated header value holds token (any case). */
static bool has_token(const char *value, const char *token) {
        size_t n = strlen(token);

        for (const char *p = value; *p;) {
                p += strspn(p, " \t,");
                size_t k = strcspn(p, ",");
                size_t t = k;
                while (t > 0 && (p[t - 1] == ' ' || p[t - 1] == '\t'))
                        t--;
                if (t == n && strncasecmp(p, token, n) == 0)
                        return true;
                p += k;
        }
        return false;
}

static ssize_t header_line(HttpResponse *r) {
        char *l = r->line, *colon, *v;
        size_t vlen;

        if (*l == ' ' || *l == '\t')
                return fail(r, "the response folds a header over lines");
        colon = strchr(l, ':');
        if (!colon || colon == l)
                return fail(r, "a header line of the response has no name");
        *colon = 0;
        v = colon + 1;
        v += strspn(v, " \t");
        vlen = strlen(v);
        while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
                v[--vlen] = 0;
        if (strcasecmp(l, "Content-Length") == 0) {
                uint64_t len;
                if (parse_size(v, 10, "", &len) < 0)
                        return fail(r, "the response's Content-Length is not a number");
                if (r->has_length && len != r->remaining)
                        return fail(r, "the response has two different Content-Lengths");
                r->has_length = true;
                r->remaining = len;
        } else if (strcasecmp(l, "Transfer-Encoding") == 0) {
                /* Only chunked, the one coding etcd's gateway uses. */
                if (strcasecmp(v, "chunked") != 0 || r->chunked)
                        return fail(r, "the response has a transfer coding other than chunked");
                r->chunked = true;
        } else if (strcasecmp(l, "Connection") == 0) {
                if (has_token(v, "close"))
                        r->keep_alive = false;
                else if (has_token(v, "keep-alive"))
                        r->keep_alive = true;
        }
        return 0;
}

static ssize_t headers_end(HttpResponse *r) {
        if (r->status < 200) {
                /* 100 Continue and the like come before the real answer. */
                r->state = HTTP_RESPONSE_STATUS;
                r->chunked = r->has_length = false;
                r->remaining = 0;
                return 0;
        }
        if (r->status == 204 || r->status == 304)
                r->state = HTTP_RESPONSE_DONE;
        else if (r->chunked)
                r->state = HTTP_RESPONSE_CHUNK_SIZE; /* a Content-Length beside it is ignored */
        else if (r->has_length)
                r->state = r->remaining ? HTTP_RESPONSE_BODY : HTTP_RESPONSE_DONE;
        else {
                r->state = HTTP_RESPONSE_UNTIL_CLOSE;
                r->keep_alive = false;
        }
        return 0;
}

static ssize_t chunk_size_line(HttpResponse *r) {
        uint64_t size;

        /* Chunk extensions (";name=value") are allowed and ignored. */
        if (parse_size(r->line, 16, "; \t", &size) < 0)
                return fail(r, "a chunk size of the response is not a hexadecimal number");
        r->remaining = size;
        r->state = size ? HTTP_RESPONSE_CHUNK_DATA : HTTP_RESPONSE_TRAILERS;
        return 0;
}

/* One complete line, in the state that wanted it. */
static ssize_t on_line(HttpResponse *r) {
        switch (r->state) {
        case HTTP_RESPONSE_STATUS:
                return status_line(r);
        case HTTP_RESPONSE_HEADERS:
                return *r->line ? header_line(r) : headers_end(r);
        case HTTP_RESPONSE_CHUNK_SIZE:
                return chunk_size_line(r);
        case HTTP_RESPONSE_CHUNK_END:
                if (*r->line)
                        return fail(r, "a chunk of the response is longer than its size");
                r->state = HTTP_RESPONSE_CHUNK_SIZE;
                return 0;
        case HTTP_RESPONSE_TRAILERS:
                if (!*r->line)
                        r->state = HTTP_RESPONSE_DONE;
                return 0;
        case HTTP_RESPONSE_BODY:
        case HTTP_RESPONSE_UNTIL_CLOSE:
        case HTTP_RESPONSE_CHUNK_DATA:
        case HTTP_RESPONSE_DONE:
        case HTTP_RESPONSE_FAILED:
                break;
        }
        return fail(r, "internal error: a line in a body");
}

/* Body bytes, as many of data as the current length or chunk takes. */
static ssize_t body_bytes(HttpResponse *r, const char *data, size_t n, http_body_fn body, void *userdata) {
        size_t k = n;
        int q;

        if (r->state != HTTP_RESPONSE_UNTIL_CLOSE && (uint64_t)n > r->remaining)
                k = (size_t)r->remaining;

        if (r->state != HTTP_RESPONSE_UNTIL_CLOSE) {
                r->remaining -= k;
                if (r->remaining == 0)
                        r->state = r->state == HTTP_RESPONSE_BODY ? HTTP_RESPONSE_DONE : HTTP_RESPONSE_CHUNK_END;
        }
        q = body ? body(userdata, data, k) : 0;
        return q < 0 ? q : (ssize_t)k;
}

ssize_t http_response_feed(HttpResponse *r, const char *data, size_t n, http_body_fn body, void *userdata) {
        size_t used = 0;

        if (r->state == HTTP_RESPONSE_FAILED)
                return -EBADMSG;
        if (n > 0)
                r->started = true;
        while (used < n && r->state != HTTP_RESPONSE_DONE) {
                ssize_t k;

                if (r->state == HTTP_RESPONSE_BODY || r->state == HTTP_RESPONSE_CHUNK_DATA ||
                    r->state == HTTP_RESPONSE_UNTIL_CLOSE) {
                        k = body_bytes(r, data + used, n - used, body, userdata);
                        if (k < 0)
                                return k;
                        used += (size_t)k;
                        continue;
                }
                size_t took = 0;
                int got = take_line(r, data + used, n - used, &took,
                                    r->state == HTTP_RESPONSE_STATUS || r->state == HTTP_RESPONSE_HEADERS ||
                                            r->state == HTTP_RESPONSE_TRAILERS);
                if (got < 0)
                        return got;
                used += took;
                if (got == 0)
                        continue;
                r->line_len = 0;
                k = on_line(r);
                if (k < 0)
                        return k;
        }
        return (ssize_t)used;
}

int http_response_eof(HttpResponse *r) {
        switch (r->state) {
        case HTTP_RESPONSE_DONE:
                return 0;
        case HTTP_RESPONSE_UNTIL_CLOSE:
                r->state = HTTP_RESPONSE_DONE;
                return 0;
        case HTTP_RESPONSE_FAILED:
                return -EBADMSG;
        case HTTP_RESPONSE_STATUS:
        case HTTP_RESPONSE_HEADERS:
                return (int)fail(r, r->started ? "the connection closed in the middle of the response's header"
                                               : "the connection closed without an answer");
        case HTTP_RESPONSE_BODY:
        case HTTP_RESPONSE_CHUNK_SIZE:
        case HTTP_RESPONSE_CHUNK_DATA:
        case HTTP_RESPONSE_CHUNK_END:
        case HTTP_RESPONSE_TRAILERS:
                break;
        }
        return (int)fail(r, "the connection closed in the middle of the response's body");
}
