/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer harness for the HTTP response parser (store/http-response.c).
 * The input's first byte picks how the rest is cut into reads; the rest is
 * what a server sent. Fed whole and fed in those pieces, the parser must
 * reach the same verdict (status, body, where the response ends, the
 * error), since a socket may split an answer anywhere; a complete answer
 * framed by Content-Length carries exactly that many body bytes. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "fuzz-util.h"
#include "http-response.h"
#include "strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct Outcome {
        int r;      /* 0, or the error */
        size_t used; /* bytes of the input the response took */
        HttpResponse resp;
        StrBuf body;
} Outcome;

static int on_body(void *userdata, const char *data, size_t n) {
        Outcome *o = userdata;

        FUZZ_ASSERT(n > 0, "the body callback got no bytes");
        strbuf_append_len(&o->body, data, n);
        return 0;
}

/* Feeds data in pieces of the sizes step gives (0: whole), then the end of
 * the stream if the response is not complete. */
static void parse(const char *data, size_t size, unsigned step, Outcome *o) {
        *o = (Outcome) { .body = STRBUF_INIT };
        http_response_init(&o->resp);
        for (size_t off = 0; off < size;) {
                size_t n = step ? 1 + (off * 7 + step) % step : size - off;
                ssize_t k;

                if (n > size - off)
                        n = size - off;
                k = http_response_feed(&o->resp, data + off, n, on_body, o);
                if (k < 0) {
                        o->r = (int)k;
                        return;
                }
                FUZZ_ASSERT((size_t)k <= n, "the parser took %zd bytes of %zu", k, n);
                off += (size_t)k;
                o->used = off;
                if (http_response_done(&o->resp))
                        return;
                FUZZ_ASSERT((size_t)k == n, "the parser stopped at %zd of %zu bytes, not done", k, n);
        }
        o->r = http_response_eof(&o->resp);
}

static void check(const Outcome *o) {
        FUZZ_ASSERT(o->r == 0 || o->r == -EBADMSG, "unexpected error %d", o->r);
        FUZZ_ASSERT((o->r == 0) == http_response_done(&o->resp), "a verdict without its state");
        FUZZ_ASSERT(o->r == 0 || (o->resp.error && *o->resp.error), "an error without a reason");
        FUZZ_ASSERT(strbuf_ok(&o->body), "out of memory");
        if (o->r == 0) {
                FUZZ_ASSERT(o->resp.status >= 200 && o->resp.status <= 599, "status %d", o->resp.status);
                if (o->resp.has_length && !o->resp.chunked && o->resp.status != 204 && o->resp.status != 304)
                        FUZZ_ASSERT(o->body.len == 0 || o->resp.remaining == 0, "a body cut short yet complete");
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        Outcome whole, pieces;
        unsigned step;

        if (size < 1)
                return 0;
        step = data[0] % 16 + 1;
        parse((const char *)data + 1, size - 1, 0, &whole);
        parse((const char *)data + 1, size - 1, step, &pieces);
        check(&whole);
        check(&pieces);
        FUZZ_ASSERT(whole.r == pieces.r, "whole: %d, in pieces of up to %u: %d", whole.r, step, pieces.r);
        FUZZ_ASSERT(whole.resp.status == pieces.resp.status, "status %d vs %d", whole.resp.status,
                    pieces.resp.status);
        FUZZ_ASSERT(whole.body.len == pieces.body.len && memcmp(strbuf_str(&whole.body), strbuf_str(&pieces.body),
                                                                whole.body.len) == 0,
                    "the bodies differ (%zu and %zu bytes)", whole.body.len, pieces.body.len);
        FUZZ_ASSERT(whole.r < 0 || whole.used == pieces.used, "the response ends at %zu vs %zu", whole.used,
                    pieces.used);
        FUZZ_ASSERT(whole.r == 0 || strcmp(whole.resp.error, pieces.resp.error) == 0, "'%s' vs '%s'",
                    whole.resp.error, pieces.resp.error);
        FUZZ_ASSERT(whole.resp.keep_alive == pieces.resp.keep_alive, "keep-alive differs");
        strbuf_done(&whole.body);
        strbuf_done(&pieces.body);
        return 0;
}
