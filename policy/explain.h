/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Explain: one packet walked through a finished Ruleset (the IR that is
 * committed), rule by rule, as the kernel would: the hooks' base chains,
 * the dispatch maps, the endpoint, failsafe, policy and profile chains,
 * the packet-mark bits they speak through, sets and maps. It says the
 * verdict, which tier, policy (or profile, failsafe, default deny) and
 * rule decided, and the path. A rule it does not understand is an error
 * naming the rule, never a guess. Pure: no I/O. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "ipaddr.h"
#include "ruleset.h"

typedef struct ExplainPacket {
        const char *iifname, *oifname; /* "" when none (input: oif ""; output: iif "") */
        const char *hook;              /* "input" | "output" | "forward" (prerouting/raw handled inside) */
        int family;                    /* AF_INET | AF_INET6 */
        IPAddr src, dst;
        uint8_t proto;                 /* IPPROTO_* */
        uint16_t sport, dport;         /* 0 when the protocol has none */
        uint8_t icmp_type, icmp_code;
        bool ct_new;                   /* true: first packet of a flow (the usual question) */
} ExplainPacket;

/* One step of the path: a chain entered and the rule that decided there
 * (NULL: none did, the chain ended), with what it did. */
typedef struct ExplainStep {
        char *chain;
        char *rule;
        char *result; /* "jump ep-in.web", "goto ct-admit", "return", "accept", "drop", "allow, return", "end" ... */
} ExplainStep;

typedef struct ExplainResult {
        const char *action;   /* "allow" | "deny" | "none" (left the table with no verdict) */
        char *tier, *policy;  /* policy: "gnp NAME", "profile NAME", "failsafe", "default deny", ...; NULL if none */
        int rule;             /* index of the deciding rule in that policy/profile (0-based), -1 if none */
        ExplainStep *steps;
        size_t n_steps, alloc_steps;
} ExplainResult;

/* The contract's name for the verdict part. */
typedef ExplainResult ExplainVerdict;

ExplainResult *explain_result_free(ExplainResult *r);
DEFINE_CLEANUP_FUNC(ExplainResult, explain_result_free)

/* 0 and *ret, or -EBADMSG for a rule it does not understand (then
 * *ret_error, if given, names the chain and the rule), -EINVAL for a
 * packet that makes no sense (no such hook), -ENOMEM. */
int ruleset_explain(const Ruleset *rs, const ExplainPacket *p, ExplainResult **ret);
int ruleset_explain_error(const Ruleset *rs, const ExplainPacket *p, ExplainResult **ret, char **ret_error);

/* Parses every rule of every chain of rs, as ruleset_explain() would:
 * 0, or -EBADMSG with *ret_error naming the first it does not understand. */
int ruleset_explain_check(const Ruleset *rs, char **ret_error);

/* "tcp", "udp", "icmp", "icmpv6", "sctp" or a number 0-255: 0 and *ret, or -EINVAL. */
int explain_parse_protocol(const char *s, uint8_t *ret);

/* The question as hepctl explain and the D-Bus method Explain ask it: an
 * interface and a direction ("in", "out", "forward", with out_interface
 * the one a forwarded packet leaves by, or NULL), addresses and a protocol
 * as text, ports and the ICMP type (-1: not given; ICMP's default is an
 * echo request). The first packet of a flow. ret points into the strings.
 * 0, or -EINVAL with *ret_bad naming the argument that is wrong
 * ("direction", "source", "destination", "protocol", "family"). */
typedef struct ExplainQuestion {
        const char *interface, *direction, *out_interface, *src, *dst, *proto;
        int sport, dport, icmp_type;
} ExplainQuestion;
int explain_packet_from(const ExplainQuestion *q, ExplainPacket *ret, const char **ret_bad);
