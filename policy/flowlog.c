/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Flow logs' NFLOG prefixes, written by the compiler and read by the
 * daemon (flowlog.h): one format, in one place. */
#include "flowlog.h"

#include "compile-internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void flow_log_statement(const FlowOrigin *o, char buf[static 96]) {
        char origin[40];

        switch (o->kind) {
        case FLOW_ORIGIN_RULE:
                snprintf(origin, sizeof(origin), "r%016" PRIx64 ":%d", o->hash, o->rule);
                break;
        case FLOW_ORIGIN_MISSING_PROFILE:
                snprintf(origin, sizeof(origin), "p%016" PRIx64, o->hash);
                break;
        case FLOW_ORIGIN_TIER_END:
                snprintf(origin, sizeof(origin), "t%016" PRIx64, o->hash);
                break;
        case FLOW_ORIGIN_DEFAULT_DENY:
                strcpy(origin, "d");
                break;
        case FLOW_ORIGIN_INVALID:
                strcpy(origin, "i");
                break;
        case FLOW_ORIGIN_FAILSAFE:
        case _FLOW_ORIGIN_MAX:
        case _FLOW_ORIGIN_INVALID:
        default:
                strcpy(origin, "f");
                break;
        }
        snprintf(buf, 96, "log group " FLOW_LOG_GROUP_STR " prefix \"" FLOW_LOG_PREFIX "%c%c:%s\"", o->allow ? 'A' : 'D',
                 o->egress ? 'E' : 'I', origin);
}

uint64_t flow_chain_hash(const char *prefix, const char *name) {
        char buf[OBJECT_NAME_MAX];

        return strmap_hash(object_name_buf(prefix, name, buf));
}

static int parse_hash(const char *s, uint64_t *ret, const char **end) {
        char *e;

        if (strspn(s, "0123456789abcdef") < 16)
                return -EINVAL;
        *ret = strtoull(s, &e, 16);
        if (e != s + 16)
                return -EINVAL;
        *end = e;
        return 0;
}

int flow_origin_parse(const char *prefix, FlowOrigin *ret) {
        FlowOrigin o = { .rule = -1 };
        const char *s = prefix, *end;
        char *e;
        long idx;

        if (!s || strncmp(s, FLOW_LOG_PREFIX, strlen(FLOW_LOG_PREFIX)) != 0)
                return -EINVAL;
        s += strlen(FLOW_LOG_PREFIX);
        if ((s[0] != 'A' && s[0] != 'D') || (s[1] != 'I' && s[1] != 'E') || s[2] != ':')
                return -EINVAL;
        o.allow = s[0] == 'A';
        o.egress = s[1] == 'E';
        s += 3;
        switch (*s) {
        case 'r':
                o.kind = FLOW_ORIGIN_RULE;
                if (parse_hash(s + 1, &o.hash, &end) < 0 || *end != ':')
                        return -EINVAL;
                idx = strtol(end + 1, &e, 10);
                if (e == end + 1 || *e || idx < 0 || idx > INT32_MAX)
                        return -EINVAL;
                o.rule = (int)idx;
                break;
        case 'p':
        case 't':
                o.kind = *s == 'p' ? FLOW_ORIGIN_MISSING_PROFILE : FLOW_ORIGIN_TIER_END;
                if (parse_hash(s + 1, &o.hash, &end) < 0 || *end)
                        return -EINVAL;
                break;
        case 'd':
        case 'i':
        case 'f':
                if (s[1])
                        return -EINVAL;
                o.kind = *s == 'd' ? FLOW_ORIGIN_DEFAULT_DENY : *s == 'i' ? FLOW_ORIGIN_INVALID : FLOW_ORIGIN_FAILSAFE;
                break;
        default:
                return -EINVAL;
        }
        *ret = o;
        return 0;
}
