/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fuzz target: a value read from etcd, as the etcd datastore decodes it
 * (store/etcd-value.c). The input is "KEY\nVALUE": the key the value was
 * read at, then the bytes etcd held there, which anyone with write access
 * to etcd chose. Every input ends in one valid resource that belongs at
 * KEY, or in an error message naming KEY, never a crash, hang or leak. A
 * resource that decoded is encoded as calicoctl would write it; that value
 * must decode again, at the same key, to the same encoding. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "etcd-value.h"
#include "fuzz-util.h"
#include "intern.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool printable(const char *s) {
        for (; *s; s++)
                if (*s < 0x20 || *s > 0x7e)
                        return false;
        return true;
}

/* Decoded once; must come back the same from its own encoding. */
static void check_round_trip(const char *key, const Resource *res) {
        _cleanup_free_ char *want = etcd_resource_key(res->kind, res->meta.namespace, res->meta.name);
        _cleanup_free_ char *value = NULL, *again = NULL;
        _cleanup_(resource_freep) Resource *back = NULL;
        ParseError e = PARSE_ERROR_INIT;
        _cleanup_free_ char *msg = NULL;

        FUZZ_ASSERT(want && streq(want, key), "decoded a %s at '%s', which belongs at '%s'",
                    kind_info(res->kind)->name, key, want ? want : "?");
        FUZZ_ASSERT(res->meta.resource_version && streq(res->meta.resource_version, "7"),
                    "resourceVersion is not the key's mod_revision");
        FUZZ_ASSERT(etcd_value_encode(res, &value) == 0, "encoding failed");
        if (etcd_value_decode(key, value, strlen(value), 8, &back, &e) < 0) {
                msg = parse_error_format(&e);
                FUZZ_ASSERT(false, "its own encoding does not decode: %s\n%s", msg ? msg : "?", value);
        }
        FUZZ_ASSERT(etcd_value_encode(back, &again) == 0, "encoding failed");
        FUZZ_ASSERT(streq(value, again), "encoding changed on a round trip:\n%s\n%s", value, again);
        parse_error_done(&e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const uint8_t *nl = memchr(data, '\n', size);
        _cleanup_free_ char *key = NULL, *value = NULL;
        ParseError e = PARSE_ERROR_INIT;
        Resource *res = NULL;
        size_t key_len, value_len;

        if (!nl || memchr(data, 0, (size_t)(nl - data)))
                return 0;
        key_len = (size_t)(nl - data);
        value_len = size - key_len - 1;
        key = strndup((const char *)data, key_len);
        value = malloc(value_len + 1); /* etcd's values are bytes: NULs stay */
        FUZZ_ASSERT(key && value, "out of memory");
        memcpy(value, nl + 1, value_len);
        value[value_len] = 0;

        if (etcd_value_decode(key, value, value_len, 7, &res, &e) < 0) {
                _cleanup_free_ char *msg = parse_error_format(&e);
                FUZZ_ASSERT(msg && *msg, "an error without a message");
                FUZZ_ASSERT(!*key || !printable(key) || strstr(msg, key), "the error does not name the key: %s", msg);
        } else {
                check_round_trip(key, res);
                resource_free(res);
        }
        parse_error_done(&e);
        FUZZ_ASSERT(intern_count() == 0, "%zu shared strings left", intern_count());
        return 0;
}
