/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Flow logs' origin ids: what the rules that decide write as their NFLOG
 * prefix (compile.c, compile-rule.c), and what the daemon reads back
 * (module/flows.c). The prefix names the origin without the kernel
 * looking anything up: a hash of the policy's or profile's chain name (or
 * of the tier's name) and the rule's index; the daemon maps the hash back
 * through the committed calculation. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

/* The NFLOG group of the flow logs (per network namespace). */
#define FLOW_LOG_GROUP 4711
#define FLOW_LOG_GROUP_STR "4711"
/* Denied packets repeat (no conntrack entry is ever confirmed for them):
 * each deciding deny logs at most this often, the rest are dropped
 * unlogged. An allow is logged once per flow: for its first packet, whose
 * conntrack entry is not confirmed yet (the later ones of a flow without
 * replies, one-way UDP, still pass policy as "new"). */
#define FLOW_LOG_DENY_LIMIT "limit rate 20/second burst 20 packets"
#define FLOW_LOG_ALLOW_ONCE "ct status ! confirmed"

/* Prefixes, "hep:" then the action (A allow, D deny) and the side of the
 * endpoint whose chain decided (I ingress, E egress: which of a forwarded
 * packet's interfaces), ":", then the origin:
 *   r<hash>:<index>  rule <index> of the chain whose name hashes to <hash>
 *   p<hash>          a profile that does not exist (its chain's name)
 *   t<hash>          the end of the tier whose name hashes to <hash>
 *   d                no policy nor profile decided: the final deny
 *   i                conntrack says invalid
 *   f                a failsafe port
 * At most 44 bytes: far below the kernel's 127 (NF_LOG_PREFIXLEN). */
#define FLOW_LOG_PREFIX "hep:"
#define FLOW_LOG_PREFIX_MAX 48

typedef enum FlowOriginKind {
        FLOW_ORIGIN_RULE,
        FLOW_ORIGIN_MISSING_PROFILE,
        FLOW_ORIGIN_TIER_END,
        FLOW_ORIGIN_DEFAULT_DENY,
        FLOW_ORIGIN_INVALID,
        FLOW_ORIGIN_FAILSAFE,
        _FLOW_ORIGIN_MAX,
        _FLOW_ORIGIN_INVALID = -EINVAL,
} FlowOriginKind;

typedef struct FlowOrigin {
        bool allow;
        bool egress;
        FlowOriginKind kind;
        uint64_t hash; /* RULE, MISSING_PROFILE: of the chain's name; TIER_END: of the tier's */
        int rule;      /* RULE: the rule's index in its list, else -1 */
} FlowOrigin;

/* The statement that logs o ("log group ... prefix \"...\""), into buf. */
void flow_log_statement(const FlowOrigin *o, char buf[static 96]);
/* The hash a policy's or profile's chain name ("pol-in", "pol-out",
 * "pro-in", "pro-out" and its name) has in the prefixes. */
uint64_t flow_chain_hash(const char *prefix, const char *name);
/* Parses a prefix the rules wrote; -EINVAL if it is not one. */
int flow_origin_parse(const char *prefix, FlowOrigin *ret);
