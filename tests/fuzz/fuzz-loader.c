/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fuzz target: the YAML/JSON loader, from bytes to validated resources and
 * back to canonical text. Any input must end in a resource list or one
 * positioned error, never a crash, hang or leak. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fuzz-util.h"
#include "intern.h"
#include "loader.h"
#include "parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        ResourceList l = RESOURCE_LIST_INIT;
        ParseError e = PARSE_ERROR_INIT;

        if (resources_parse("fuzz.yaml", (const char *)data, size, &l, &e) < 0) {
                /* Every error formats to a message with a position or file. */
                char *msg = parse_error_format(&e);
                FUZZ_ASSERT(msg && *msg, "an error without a message");
                free(msg);
        }
        for (size_t i = 0; i < l.n; i++) {
                StrBuf b = STRBUF_INIT;
                ParseError ve = PARSE_ERROR_INIT;
                Node *n;

                (void)resource_check(l.v[i], &ve);
                parse_error_done(&ve);
                n = resource_encode(l.v[i]);
                if (n) {
                        node_emit_yaml(n, &b);
                        node_emit_json(n, &b, true);
                }
                node_free(n);
                strbuf_done(&b);
        }
        resource_list_done(&l);
        parse_error_done(&e);
        /* Every shared string went with the resources that used it. */
        FUZZ_ASSERT(intern_count() == 0, "%zu shared strings left", intern_count());
        return 0;
}
