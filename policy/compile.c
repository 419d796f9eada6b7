/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The calculation compiled to nftables, the way Felix renders it for
 * iptables (felix/rules: static.go, endpoints.go, policy.go, dispatch.go)
 * but in nftables' own terms: verdict maps dispatch on interface names (one
 * lookup per packet; an interface bound by address goes through sets for
 * its first second, see flavour_addr_chain), sets hold selector IPs and
 * named ports, and each policy and profile is one chain shared by every
 * endpoint that uses it. What a compilation can take from the previous one
 * instead of rendering it again is compile-cache.c's business.
 *
 * Where a packet's verdict is decided:
 *   base chain (hook) → dispatch map, or, for an interface bound by address
 *   and not settled yet, the address dispatch chain, or, for an address a
 *   waiting HEP expects on an interface no HEP owns, the pre-binding map
 *   (compile_prebind) → endpoint chain
 *   ep-*.<HEP> → per tier: policy chains pol-in/out.<GNP> → profiles
 *   pro-in/out.<name>.
 * Policy chains speak through three packet-mark bits, as Felix's do:
 * Allow sets ACCEPT, Deny sets DROP, Pass sets PASS, then return; the
 * endpoint chain acts on them and counts its verdicts. Its established
 * shortcut takes only replies and flows that the current ruleset's
 * generation admitted (compile_ct_generation): the others go through
 * policy again. */
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile-internal.h"
#include "flowlog.h"

#define CLEAR_ALL "meta mark set meta mark & 0xfff8ffff"
#define CLEAR_PASS_DROP "meta mark set meta mark & 0xfff9ffff"
#define IF_ACCEPT "meta mark & " MARK_ACCEPT " != 0"
#define IF_DROP "meta mark & " MARK_DROP " != 0"
#define IF_NOT_PASSED "meta mark & " MARK_PASS " == 0"
#define IF_UNDECIDED "meta mark & 0x00070000 == 0"
/* Accept or drop, but not pass: what ends the profiles. */
#define IF_NO_VERDICT "meta mark & 0x00050000 == 0"
#define SET_ACCEPT "meta mark set meta mark | " MARK_ACCEPT
/* A flow whose conntrack mark carries the current generation, or a reply:
 * what the established shortcut accepts (see compile_ct_generation). */
#define IF_CT_CURRENT "ct state established,related ct mark & " CT_GEN_MASK_STR " @" CT_GEN_SET
#define IF_CT_REPLY "ct direction reply ct state established,related"
/* IPv6 neighbour discovery and MLD always pass (our decision 10). */
#define ALLOW_ND "icmpv6 type @nd-types accept"

const char *const flavour_chain_prefix[_FLAVOUR_MAX][_DIRECTION_MAX] = {
        [FLAVOUR_NORMAL] = { "ep-in", "ep-out" },
        [FLAVOUR_FORWARD] = { "ep-fwd-in", "ep-fwd-out" },
        [FLAVOUR_PREDNAT] = { "ep-prednat", NULL },
        [FLAVOUR_UNTRACKED] = { "ep-raw-in", "ep-raw-out" },
};

const char *const flavour_map[_FLAVOUR_MAX][_DIRECTION_MAX] = {
        [FLAVOUR_NORMAL] = { "disp-in", "disp-out" },
        [FLAVOUR_FORWARD] = { "disp-fwd-in", "disp-fwd-out" },
        [FLAVOUR_PREDNAT] = { "disp-prednat", NULL },
        [FLAVOUR_UNTRACKED] = { "disp-raw-in", "disp-raw-out" },
};

/* HEPs matched by expectedIPs are bound at an address event, on the path
 * whose latency matters. Adding a map element that jumps makes the kernel
 * validate every rule reachable from the hooks again (milliseconds on a
 * large ruleset), while a plain set element costs nothing of the kind. So
 * an interface bound by address goes first into sets: its endpoint's own
 * (ep-ifs.<HEP>) and addr-ifnames; a chain per hook tries each such
 * endpoint's set in turn, for the packets of those interfaces only. The
 * endpoints' chains, and these rules, exist before any interface is bound
 * (state waiting). That costs a set lookup per such endpoint per packet,
 * so once the interfaces are quiet the plugin asks for a compilation that
 * settles them (compile_cache_settle_next): they move to the dispatch
 * maps, one lookup per packet, in a commit off the path of any event. */
const char *const flavour_addr_chain[_FLAVOUR_MAX][_DIRECTION_MAX] = {
        [FLAVOUR_NORMAL] = { "disp-addr-in", "disp-addr-out" },
        [FLAVOUR_FORWARD] = { "disp-addr-fwd-in", "disp-addr-fwd-out" },
        [FLAVOUR_PREDNAT] = { "disp-addr-prednat", NULL },
        [FLAVOUR_UNTRACKED] = { "disp-addr-raw-in", "disp-addr-raw-out" },
};
#define ADDR_IFNAMES "addr-ifnames"
#define ENDPOINT_IFNAMES "ep-ifs"
/* Interfaces whose own endpoint has pre-DNAT policy. Felix's pre-DNAT
 * dispatch lists only those; every other interface, with a host endpoint
 * of its own or not, falls through to the "*" endpoint's pre-DNAT chain
 * (updateHostEndpoints; the default rule of dispatch.go). */
#define PREDNAT_IFNAMES "prednat-ifnames"

/* The packet's interface on the endpoint's side: it enters through it
 * (ingress) or leaves through it (egress). */
static const char *ifname_match(Direction d) {
        return d == DIRECTION_INGRESS ? "iifname" : "oifname";
}

/* ---- names ---- */

const char *object_name_buf(const char *prefix, const char *name, char buf[static OBJECT_NAME_MAX]) {
        size_t lp = strlen(prefix), ln = strlen(name);

        if (lp + ln + 1 <= 200) {
                memcpy(buf, prefix, lp);
                buf[lp] = '.';
                memcpy(buf + lp + 1, name, ln + 1);
        } else
                snprintf(buf, OBJECT_NAME_MAX, "%.32s.%.150s_%016" PRIx64, prefix, name, strmap_hash(name));
        return buf;
}

static char *object_name(const char *prefix, const char *name) {
        char buf[OBJECT_NAME_MAX];

        return strdup(object_name_buf(prefix, name, buf));
}

/* ---- policy and profile chains ---- */

/* The statement of a Log rule of res, as Felix's nftables renderer has it
 * (rules/policy.go, CombineMatchAndActionsForProtoRule and
 * generateLogPrefix; nftables/actions.go, LogAction): logActionRateLimit
 * as a limit with logActionRateLimitBurst (when above 0), then logPrefix
 * (default calico-packet) with %t the tier (none for a profile), %k the
 * kind's short name (gnp, np, pro), %n the name, %p namespace/name for a
 * namespaced kind. Quotes and backslashes, which nft would not take in a
 * prefix, are left out, and the prefix is cut to the kernel's 127 bytes. */
static char *log_statement(const Calc *calc, const Resource *res) {
        const char *fmt = !isempty(calc->log_prefix) ? calc->log_prefix : "calico-packet";
        bool profile = !res || res->kind == KIND_PROFILE;
        const char *name = res ? res->meta.name : "", *ns = res && !profile ? res->meta.namespace : NULL;
        const char *tier = profile ? "" : !isempty(res->spec.policy.tier) ? res->spec.policy.tier : "default";
        const char *kind = profile ? "pro" : res->kind == KIND_NETWORK_POLICY ? "np" : "gnp";
        StrBuf p = STRBUF_INIT, b = STRBUF_INIT;

        for (const char *s = fmt; *s; s++) {
                if (s[0] == '%' && s[1] && strchr("tknp", s[1])) {
                        s++;
                        if (*s == 't')
                                strbuf_append(&p, tier);
                        else if (*s == 'k')
                                strbuf_append(&p, kind);
                        else if (*s == 'p' && !isempty(ns))
                                strbuf_printf(&p, "%s/%s", ns, name);
                        else
                                strbuf_append(&p, name);
                } else if (*s != '"' && *s != '\\' && *s != '\n')
                        strbuf_printf(&p, "%c", *s);
        }
        if (!isempty(calc->log_rate)) {
                strbuf_printf(&b, "limit rate %s ", calc->log_rate);
                if (calc->log_burst > 0)
                        strbuf_printf(&b, "burst %" PRId64 " packets ", calc->log_burst);
        }
        /* ": " is appended, as by Felix; the kernel keeps 127 bytes of it all. */
        strbuf_printf(&b, "log prefix \"%.*s: \" level info", (int)(p.len > 125 ? 125 : p.len),
                      strbuf_ok(&p) ? strbuf_str(&p) : "");
        strbuf_done(&p);
        return strbuf_steal(&b);
}

/* Whose chain it is, as explain.c names it (res NULL: the built-in
 * projectcalico-default-allow profile). */
static int chain_origin(NftChain *c, const Resource *res) {
        int k;

        if (!res)
                k = asprintf(&c->origin, "profile projectcalico-default-allow");
        else if (res->kind == KIND_PROFILE)
                k = asprintf(&c->origin, "profile %s", res->meta.name);
        else if (res->kind == KIND_NETWORK_POLICY)
                k = asprintf(&c->origin, "np %s/%s", res->meta.namespace ? res->meta.namespace : "", res->meta.name);
        else
                k = asprintf(&c->origin, "gnp %s", res->meta.name);
        if (k < 0) {
                c->origin = NULL;
                return -ENOMEM;
        }
        return 0;
}

/* A policy's or profile's rules, in order (compile-rule.c renders each). */
int rules_chain_fill(Compiler *k, NftChain *c, const Resource *res, const RuleList *rules) {
        _cleanup_free_ char *log = NULL;
        int r = 0;

        for (size_t i = 0; rules && i < rules->n; i++)
                if (streq_ptr(rules->v[i].action, "Log")) {
                        log = log_statement(k->calc, res);
                        if (!log)
                                return -ENOMEM;
                        break;
                }
        r = chain_origin(c, res);
        k->rules.log = log;
        for (size_t i = 0; r >= 0 && rules && i < rules->n; i++) {
                char flow_log[96];
                const char *action = rules->v[i].action;
                /* An untracked policy sees every packet, not the first of
                 * a flow: it is not logged. */
                if (k->flow_logs && !(res && res->kind != KIND_PROFILE && res->spec.policy.do_not_track) &&
                    (streq_ptr(action, "Allow") || streq_ptr(action, "Deny"))) {
                        FlowOrigin o = { streq(action, "Allow"), strncmp(c->name, "pol-out", 7) == 0 || strncmp(c->name, "pro-out", 7) == 0,
                                         FLOW_ORIGIN_RULE, c->name_hash, (int)i };
                        flow_log_statement(&o, flow_log);
                        k->rules.flow_log = flow_log;
                }
                r = chain_add_note(c, (int)i, NULL);
                if (r >= 0)
                        r = rule_compile(&k->rules, c, &rules->v[i]);
                k->rules.flow_log = NULL;
        }
        k->rules.log = NULL;
        return r;
}

static int policy_chain(Compiler *k, const Resource *p, Direction d, ChainTarget *ret) {
        return cache_rules_chain(k, d == DIRECTION_INGRESS ? "pol-in" : "pol-out", p->meta.name, p,
                                 d == DIRECTION_INGRESS ? &p->spec.policy.ingress : &p->spec.policy.egress, ret);
}

static int profile_chain(Compiler *k, const EndpointProfile *p, Direction d, ChainTarget *ret) {
        static Rule allow = { .action = (char *)"Allow" };
        static const RuleList allow_all = { &allow, 1 };
        const RuleList *rules;

        /* The built-in projectcalico-default-allow: one Allow each way. */
        if (!p->profile)
                rules = &allow_all;
        else
                rules = d == DIRECTION_INGRESS ? &p->profile->spec.profile.ingress : &p->profile->spec.profile.egress;
        return cache_rules_chain(k, d == DIRECTION_INGRESS ? "pro-in" : "pro-out", p->name, p->profile, rules, ret);
}

/* ---- endpoint chains ---- */

typedef enum EndpointVerdict {
        VERDICT_ACCEPT, /* normal chains: accept here */
        VERDICT_RETURN, /* other flavours: leave the accept bit for the base chain */
} EndpointVerdict;

static void plan_mix(ChainPlan *p, const char *s) {
        p->signature = (p->signature ^ (s ? strmap_hash(s) : 0x9e3779b97f4a7c15ULL)) * 1099511628211ULL;
}

static ChainTarget *plan_next(ChainPlan *p) {
        ChainTarget *v = grow_array(p->targets, &p->alloc, p->n + 1, sizeof(ChainTarget));

        if (!v)
                return NULL;
        p->targets = v;
        v[p->n] = (ChainTarget) {};
        return &v[p->n++];
}

/* What the endpoint chain jumps to, tier by tier, then its profiles. */
int plan_endpoint(Compiler *k, const Endpoint *e, Flavour f, Direction d, ChainPlan *p, uint64_t *ret_signature) {
        const PolicyOrder *o = endpoint_order(e, f, d);
        ChainTarget *t;
        int r = 0;

        p->signature = 14695981039346656037ULL ^ (uint64_t)(f * 2 + d) ^ (verdict_config(k->calc, k->flow_logs) << 8);
        for (size_t i = 0; r >= 0 && i < o->n_tiers; i++) {
                const TierPolicies *tier = &o->tiers[i];
                plan_mix(p, tier->tier_name);
                plan_mix(p, tier->end_of_tier_drop ? "drop" : "pass");
                for (size_t j = 0; r >= 0 && j < tier->n_policies; j++) {
                        t = plan_next(p);
                        r = t ? policy_chain(k, tier->policies[j], d, t) : -ENOMEM;
                        if (r >= 0)
                                plan_mix(p, cached_chain_name(t->cc));
                }
        }
        if (r >= 0 && f == FLAVOUR_NORMAL) {
                plan_mix(p, "profiles");
                for (size_t i = 0; r >= 0 && i < e->n_profiles; i++) {
                        const EndpointProfile *pr = &e->profiles[i];
                        t = plan_next(p);
                        if (!t)
                                return -ENOMEM;
                        /* A missing profile is deny-all, as in Felix. */
                        if (pr->profile || streq(pr->name, "projectcalico-default-allow"))
                                r = profile_chain(k, pr, d, t);
                        if (r >= 0)
                                plan_mix(p, t->cc ? cached_chain_name(t->cc) : NULL);
                }
        }
        *ret_signature = p->signature;
        return r;
}

/* Verdict statements of an endpoint's chains, counting into its named
 * counters: `counter name "ep-accepted.NAME" accept`. */
typedef struct EndpointVerdicts {
        char accept[OBJECT_NAME_MAX + 32];
        char admit[OBJECT_NAME_MAX + 48]; /* policy's accept: the flow's generation is stamped */
        char drop[OBJECT_NAME_MAX + 80];
        bool flow_logs; /* the chain's own denies log (flowlog.h) */
        bool egress;
} EndpointVerdicts;

/* Flow logs: a deny the endpoint chain decides itself (not a policy's,
 * whose rule logged) is logged by a rule of its own just before it, under
 * the same condition, at most FLOW_LOG_DENY_LIMIT: over the limit, the
 * log rule does not match and the deny still does. */
static int add_deny_log(NftChain *c, const EndpointVerdicts *ev, const char *cond, FlowOriginKind kind, uint64_t hash) {
        FlowOrigin o = { false, ev->egress, kind, hash, -1 };
        char stmt[96];

        if (!ev->flow_logs)
                return 0;
        flow_log_statement(&o, stmt);
        return chain_add_rulef(c, "%s%s" FLOW_LOG_DENY_LIMIT " %s", cond, *cond ? " " : "", stmt);
}

void endpoint_counter_names(const char *endpoint, char accepted[static 256], char dropped[static 256]) {
        object_name_buf("ep-accepted", endpoint, accepted);
        object_name_buf("ep-dropped", endpoint, dropped);
}

/* Each policy runs only while no verdict (and no Pass) has been reached in
 * its tier; the verdict is acted on once, at the end of the tier. Same
 * semantics as Felix's return-after-each-policy, a third of the rules. */
static int add_tiers(NftChain *c, const PolicyOrder *o, const ChainTarget *targets, size_t *next, EndpointVerdict v,
                     const EndpointVerdicts *ev) {
        int r = 0;

        for (size_t t = 0; r >= 0 && t < o->n_tiers; t++) {
                const TierPolicies *tier = &o->tiers[t];
                _cleanup_free_ char *label = NULL;
                if (asprintf(&label, "tier %s", tier->tier_name) < 0)
                        return -ENOMEM;
                r = chain_add_note(c, -1, label);
                if (r >= 0)
                        r = chain_add_rule(c, "meta mark set meta mark & 0xfffdffff"); /* start of tier: clear pass */
                for (size_t i = 0; r >= 0 && i < tier->n_policies; i++)
                        r = chain_add_rulef(c, IF_UNDECIDED " jump %s", cached_chain_name(targets[(*next)++].cc));
                if (r >= 0 && v == VERDICT_ACCEPT)
                        r = chain_add_rulef(c, IF_ACCEPT " %s", ev->admit);
                else if (r >= 0)
                        r = chain_add_rule(c, IF_ACCEPT " counter return");
                if (r >= 0)
                        r = chain_add_rulef(c, IF_DROP " %s", ev->drop);
                /* A policy applied but none decided: the tier's end drops. */
                if (r >= 0 && tier->end_of_tier_drop)
                        r = add_deny_log(c, ev, IF_NOT_PASSED, FLOW_ORIGIN_TIER_END, strmap_hash(tier->tier_name));
                if (r >= 0 && tier->end_of_tier_drop)
                        r = chain_add_rulef(c, IF_NOT_PASSED " %s", ev->drop);
        }
        return r;
}

/* Felix jumps to each profile in turn and returns only on the accept bit
 * (endpoints.go, endpointIptablesChain): a Pass, from the last tier or
 * inside a profile, skips no profile. */
static int add_profiles(NftChain *c, const Endpoint *e, Direction d, const ChainTarget *targets, size_t *next,
                        const EndpointVerdicts *ev) {
        int r = 0;

        for (size_t i = 0; r >= 0 && i < e->n_profiles; i++) {
                const CachedChain *cc = targets[(*next)++].cc;
                _cleanup_free_ char *label = NULL;
                if (asprintf(&label, "profile %s", e->profiles[i].name) < 0)
                        return -ENOMEM;
                r = chain_add_note(c, -1, label);
                if (r < 0)
                        break;
                if (!cc) {
                        r = add_deny_log(c, ev, IF_NO_VERDICT, FLOW_ORIGIN_MISSING_PROFILE,
                                         flow_chain_hash(d == DIRECTION_INGRESS ? "pro-in" : "pro-out", e->profiles[i].name));
                        if (r >= 0)
                                r = chain_add_rulef(c, IF_NO_VERDICT " %s", ev->drop);
                } else
                        r = chain_add_rulef(c, IF_NO_VERDICT " jump %s", cached_chain_name(cc));
        }
        if (r >= 0 && e->n_profiles) {
                r = chain_add_note(c, -1, "profiles");
                if (r >= 0)
                        r = chain_add_rulef(c, IF_ACCEPT " %s", ev->admit);
                if (r >= 0)
                        r = chain_add_rulef(c, IF_DROP " %s", ev->drop);
        }
        return r;
}

static bool order_empty(const PolicyOrder *o) {
        return o->n_tiers == 0;
}

/* What an allow ends in: "accept", or "return" where FelixConfiguration's
 * nftablesFilterAllowAction (filter hooks) or nftablesMangleAllowAction
 * (before DNAT) says Return. Our base chains' policy is accept and every
 * other table's chains see the packet either way, so the two admit the
 * same traffic; Return lets the rest of our base chain see it. */
static const char *allow_verdict(const Calc *calc, bool mangle) {
        return (mangle ? calc->mangle_allow_return : calc->filter_allow_return) ? "return" : "accept";
}

/* The chain an allow of the filter hooks goes to, to stamp the flow with
 * the current generation and then accept or return (allow_verdict). */
static const char *admit_chain(const Calc *calc) {
        return calc->filter_allow_return ? CT_ADMIT_RETURN : CT_ADMIT;
}

/* The established shortcut of the normal and forward chains: a flow of
 * the current generation, or a reply (which this direction's policy
 * cannot judge; the flow stops anyway once its original direction is
 * dropped). Anything else goes through policy again. */
static int add_established(NftChain *c, const EndpointVerdicts *ev) {
        int r = chain_add_rulef(c, IF_CT_CURRENT " %s", ev->accept);

        if (r >= 0)
                r = chain_add_rulef(c, IF_CT_REPLY " %s", ev->accept);
        return r;
}

/* The rules of an endpoint chain, flavour by flavour; targets: its plan. */
int build_endpoint_chain(const Calc *calc, bool flow_logs, NftChain *c, const Endpoint *e, Flavour f, Direction d,
                         const ChainTarget *targets) {
        const PolicyOrder *o = endpoint_order(e, f, d);
        bool in = d == DIRECTION_INGRESS;
        char accepted[OBJECT_NAME_MAX], dropped[OBJECT_NAME_MAX];
        EndpointVerdicts ev = { .flow_logs = flow_logs && f != FLAVOUR_UNTRACKED, .egress = !in };
        size_t next = 0;
        int r = 0;

        endpoint_counter_names(e->name, accepted, dropped);
        /* Felix allows with FilterAllowAction, and before DNAT with
         * MangleAllowAction (appendConntrackRules, static.go). */
        snprintf(ev.accept, sizeof(ev.accept), "counter name \"%s\" %s", accepted,
                 allow_verdict(calc, f == FLAVOUR_PREDNAT));
        snprintf(ev.admit, sizeof(ev.admit), "counter name \"%s\" goto %s", accepted, admit_chain(calc));
        /* Felix denies with FilterDenyAction in every chain it renders,
         * pre-DNAT and untracked ones included: reject where
         * nftablesFilterDenyAction says so (rules/endpoints.go,
         * endpointIptablesChain and appendConntrackRules; policy.go for a
         * Deny rule). The kernel refuses reject in postrouting, which also
         * runs the normal egress chains (DNAT'd host traffic): there they
         * mark the packet for the hook to reject (output) or drop
         * (postrouting). */
        if (!calc->deny_reject)
                snprintf(ev.drop, sizeof(ev.drop), "counter name \"%s\" drop", dropped);
        else if (f == FLAVOUR_NORMAL && !in)
                snprintf(ev.drop, sizeof(ev.drop), "meta mark set meta mark | " MARK_DROP " counter name \"%s\" return",
                         dropped);
        else
                snprintf(ev.drop, sizeof(ev.drop), "counter name \"%s\" reject", dropped);
        /* Conntrack's verdicts first; invalid is denied unless
         * disableConntrackInvalidCheck (appendConntrackRules). */
        switch (f) {
        case FLAVOUR_NORMAL:
                r = add_established(c, &ev);
                if (r >= 0 && !calc->no_invalid_check)
                        r = add_deny_log(c, &ev, "ct state invalid", FLOW_ORIGIN_INVALID, 0);
                if (r >= 0 && !calc->no_invalid_check)
                        r = chain_add_rulef(c, "ct state invalid %s", ev.drop);
                if (r >= 0)
                        r = chain_add_rule(c, ALLOW_ND);
                if (r >= 0)
                        r = chain_add_rule(c, in ? "jump failsafe-in" : "jump failsafe-out");
                if (r >= 0)
                        r = chain_add_rule(c, CLEAR_ALL);
                if (r >= 0)
                        r = add_tiers(c, o, targets, &next, VERDICT_ACCEPT, &ev);
                if (r >= 0)
                        r = add_profiles(c, e, d, targets, &next, &ev);
                /* "Drop if no profiles matched" */
                if (r >= 0)
                        r = chain_add_note(c, -1, "default deny");
                if (r >= 0)
                        r = add_deny_log(c, &ev, "", FLOW_ORIGIN_DEFAULT_DENY, 0);
                if (r >= 0)
                        r = chain_add_rule(c, ev.drop);
                return r;
        case FLAVOUR_FORWARD:
                /* No failsafes and no profiles for forwarded traffic. */
                r = add_established(c, &ev);
                if (r >= 0 && !calc->no_invalid_check)
                        r = add_deny_log(c, &ev, "ct state invalid", FLOW_ORIGIN_INVALID, 0);
                if (r >= 0 && !calc->no_invalid_check)
                        r = chain_add_rulef(c, "ct state invalid %s", ev.drop);
                if (r >= 0)
                        r = chain_add_rule(c, CLEAR_ALL);
                if (r >= 0 && order_empty(o))
                        r = chain_add_rule(c, SET_ACCEPT " return"); /* allowed by default */
                else if (r >= 0)
                        r = add_tiers(c, o, targets, &next, VERDICT_RETURN, &ev);
                return r;
        case FLAVOUR_PREDNAT:
                r = chain_add_rulef(c, "ct state established,related %s", ev.accept);
                if (r >= 0 && !calc->no_invalid_check)
                        r = add_deny_log(c, &ev, "ct state invalid", FLOW_ORIGIN_INVALID, 0);
                if (r >= 0 && !calc->no_invalid_check)
                        r = chain_add_rulef(c, "ct state invalid %s", ev.drop);
                _fallthrough_;
        case FLAVOUR_UNTRACKED:
                /* Tiers here pass at their end; unmatched traffic goes on
                 * to the later stages. */
                if (r >= 0)
                        r = chain_add_rule(c, ALLOW_ND);
                if (r >= 0)
                        r = chain_add_rule(c, f == FLAVOUR_PREDNAT ? "jump failsafe-in"
                                                 : in                ? "jump raw-failsafe-in"
                                                                     : "jump raw-failsafe-out");
                if (r >= 0)
                        r = chain_add_rule(c, CLEAR_ALL);
                if (r >= 0)
                        r = add_tiers(c, o, targets, &next, VERDICT_RETURN, &ev);
                return r;
        case _FLAVOUR_MAX:
        case _FLAVOUR_INVALID:
                break;
        }
        return -EINVAL;
}

/* ---- endpoint blocks ---- */

/* An endpoint's block, built: its counters, its chains and its elements in
 * the dispatch maps or address dispatch sets, and own-ifnames. */
int build_block(Compiler *k, const EndpointRecord *rec, const Endpoint *e, ChainPlan *plan, NftBlock **ret,
                BlockChains *ret_chains) {
        char accepted[OBJECT_NAME_MAX], dropped[OBJECT_NAME_MAX], ifset[OBJECT_NAME_MAX];
        NftBlock *b = nft_block_new(e->name);
        BlockChains bc = {};
        int r;

        if (!b)
                return -ENOMEM;
        endpoint_counter_names(e->name, accepted, dropped);
        r = plan_dispatch(k, rec, e, &bc);
        if (r >= 0)
                r = block_add_counter(b, accepted);
        if (r >= 0)
                r = block_add_counter(b, dropped);
        for (int f = 0; r >= 0 && f < _FLAVOUR_MAX; f++)
                for (int d = 0; r >= 0 && d < _DIRECTION_MAX; d++) {
                        if (!endpoint_has_flavour(e, (Flavour)f, (Direction)d))
                                continue;
                        r = block_chain(k, rec, b, e, (Flavour)f, (Direction)d, plan, &bc);
                        for (size_t i = 0; r >= 0 && i < e->n_ifnames; i++) {
                                _cleanup_free_ char *elem = NULL;
                                if (!bc.settled[i])
                                        continue;
                                if (asprintf(&elem, "\"%s\" : jump %s", e->ifnames[i], bc.chains[f][d]->name) < 0)
                                        r = -ENOMEM;
                                else
                                        r = block_add_element(b, flavour_map[f][d], elem);
                        }
                }
        /* Interfaces with a host endpoint of their own: the "*" fallback
         * applies to every other one; before DNAT, to every one whose own
         * endpoint has no pre-DNAT policy. */
        if (bc.n_unsettled)
                object_name_buf(ENDPOINT_IFNAMES, e->name, ifset);
        bool prednat = endpoint_has_flavour(e, FLAVOUR_PREDNAT, DIRECTION_INGRESS);
        for (size_t i = 0; r >= 0 && i < e->n_ifnames; i++) {
                _cleanup_free_ char *q = NULL;
                r = asprintf(&q, "\"%s\"", e->ifnames[i]) < 0 ? -ENOMEM : block_add_element(b, OWN_IFNAMES, q);
                if (r >= 0 && prednat)
                        r = block_add_element(b, PREDNAT_IFNAMES, q);
                if (r >= 0 && !bc.settled[i])
                        r = block_add_element(b, ADDR_IFNAMES, q);
                if (r >= 0 && !bc.settled[i])
                        r = block_add_element(b, ifset, q);
        }
        if (r < 0) {
                free(bc.settled);
                nft_block_unref(b);
                return r;
        }
        *ret = b;
        *ret_chains = bc;
        return 0;
}

/* ---- static parts ---- */

static int failsafe_chain(Compiler *k, const char *name, const FailsafePort *ports, size_t n, bool inbound,
                          const FailsafePort *reverse, size_t n_reverse, const char *verdict) {
        NftChain *c = ruleset_add_chain(k->rs, name, NULL);
        const char *peer = inbound ? "saddr" : "daddr";
        int r = 0;

        if (!c)
                return -ENOMEM;
        for (int pass = 0; r >= 0 && pass < 2; pass++) {
                const FailsafePort *v = pass == 0 ? ports : reverse;
                size_t m = pass == 0 ? n : n_reverse;
                const char *port_dir = pass == 0 ? "dport" : "sport";
                char **plain = new_array(m, sizeof(char *)), expr[32];
                size_t n_plain = 0;

                if (!plain)
                        return -ENOMEM;
                for (size_t i = 0; r >= 0 && i < m; i++) {
                        char p[8], net[IPNET_STRLEN];
                        protocol_format(v[i].protocol, p);
                        if (!v[i].has_net) {
                                if (asprintf(&plain[n_plain], "%s . %u", p, v[i].port) < 0)
                                        r = -ENOMEM;
                                else
                                        n_plain++;
                                continue;
                        }
                        ipnet_format(&v[i].net, net);
                        /* Replies (sport) come from the peer: the net is on the other side. */
                        r = chain_add_rulef(c, "%s %s %s meta l4proto %s th %s %u %s",
                                            v[i].net.addr.family == AF_INET ? "ip" : "ip6",
                                            pass == 0 ? peer : (inbound ? "saddr" : "daddr"), net, p, port_dir,
                                            v[i].port, verdict);
                }
                if (r >= 0 && n_plain) {
                        char set[40];
                        snprintf(expr, sizeof(expr), "meta l4proto . th %s", port_dir);
                        r = rule_list_set(&k->rules, "failsafe", "type inet_proto . inet_service;", plain, n_plain, set);
                        if (r >= 0)
                                r = chain_add_rulef(c, "%s @%s %s", expr, set, verdict);
                }
                strv_free_n(plain, n_plain);
        }
        return r;
}

static int compile_failsafes(Compiler *k) {
        const Calc *c = k->calc;
        char admit[2][128] = { "goto " CT_ADMIT, "goto " CT_ADMIT };
        NftChain *c2;
        int r;

        /* Flow logs: what a failsafe admits is logged, once per flow (its
         * first packet: see FLOW_LOG_ALLOW_ONCE), on its way to ct-admit. */
        for (int egress = 0; k->flow_logs && egress < 2; egress++) {
                FlowOrigin o = { true, egress, FLOW_ORIGIN_FAILSAFE, 0, -1 };
                char stmt[96];
                flow_log_statement(&o, stmt);
                snprintf(admit[egress], sizeof(admit[egress]), "goto %s", egress ? "flow-failsafe-out" : "flow-failsafe-in");
                c2 = ruleset_add_chain(k->rs, egress ? "flow-failsafe-out" : "flow-failsafe-in", NULL);
                if (!c2 || chain_add_rulef(c2, FLOW_LOG_ALLOW_ONCE " %s", stmt) < 0 || chain_add_rule(c2, "goto " CT_ADMIT) < 0)
                        return -ENOMEM;
        }
        /* What a failsafe admits is stamped like what policy admits. */
        r = failsafe_chain(k, "failsafe-in", c->failsafe_in, c->n_failsafe_in, true, NULL, 0, admit[0]);
        if (r >= 0)
                r = failsafe_chain(k, "failsafe-out", c->failsafe_out, c->n_failsafe_out, false, NULL, 0, admit[1]);
        /* In the raw table there is no conntrack yet: also let replies to
         * the other direction's failsafe connections through. */
        if (r >= 0)
                r = failsafe_chain(k, "raw-failsafe-in", c->failsafe_in, c->n_failsafe_in, true, c->failsafe_out,
                                   c->n_failsafe_out, "accept");
        if (r >= 0)
                r = failsafe_chain(k, "raw-failsafe-out", c->failsafe_out, c->n_failsafe_out, false, c->failsafe_in,
                                   c->n_failsafe_in, "accept");
        return r;
}

static int compile_maps(Compiler *k) {
        for (int f = 0; f < _FLAVOUR_MAX; f++)
                for (int d = 0; d < _DIRECTION_MAX; d++)
                        if (flavour_map[f][d] && !ruleset_add_set(k->rs, flavour_map[f][d], "type ifname : verdict;", true))
                                return -ENOMEM;
        /* IPv6 neighbour discovery and MLD, which always pass. */
        NftSet *nd = ruleset_add_set(k->rs, "nd-types", "type icmpv6_type;", false);
        if (!nd)
                return -ENOMEM;
        for (int t = 130; t <= 136; t++) {
                char num[8];
                snprintf(num, sizeof(num), "%d", t);
                if (t != 134 && set_add_element(nd, num) < 0) /* 134: router advertisements do not */
                        return -ENOMEM;
        }
        /* Interfaces with a host endpoint of their own (the blocks' elements). */
        if (!ruleset_add_set(k->rs, OWN_IFNAMES, "type ifname;", false))
                return -ENOMEM;
        if (k->prednat && !ruleset_add_set(k->rs, PREDNAT_IFNAMES, "type ifname;", false))
                return -ENOMEM;
        return 0;
}

/* The address dispatch (see flavour_addr_chain): the endpoints' sets and,
 * hook by hook, the chain that tries them. Taken as last built while the
 * endpoints matched by address and their hooks are the same. */
static int compile_addr_dispatch(Compiler *k) {
        const Calc *calc = k->calc;
        char name[OBJECT_NAME_MAX], set[OBJECT_NAME_MAX];
        size_t sets_from = k->rs->n_sets;
        bool any = false;
        int r;

        r = addr_dispatch_reuse(k);
        if (r != 0)
                return r < 0 ? r : 0;
        for (size_t i = 0; i < calc->n_endpoints; i++) {
                const Endpoint *e = &calc->endpoints[i];
                if (!dispatched_by_address(calc, e))
                        continue;
                if (!ruleset_add_set(k->rs, object_name_buf(ENDPOINT_IFNAMES, e->name, set), "type ifname;", false))
                        return -ENOMEM;
                any = true;
        }
        if (any && !ruleset_add_set(k->rs, ADDR_IFNAMES, "type ifname;", false))
                return -ENOMEM;
        for (int f = 0; any && f < _FLAVOUR_MAX; f++)
                for (int d = 0; d < _DIRECTION_MAX; d++) {
                        NftChain *c = NULL;
                        if (!flavour_addr_chain[f][d])
                                continue;
                        for (size_t i = 0; i < calc->n_endpoints; i++) {
                                const Endpoint *e = &calc->endpoints[i];
                                if (!dispatched_by_address(calc, e) || !endpoint_has_flavour(e, (Flavour)f, (Direction)d))
                                        continue;
                                if (!c && !(c = ruleset_add_chain(k->rs, flavour_addr_chain[f][d], NULL)))
                                        return -ENOMEM;
                                /* goto: the endpoint chain returns to the hook. */
                                if (chain_add_rulef(c, "%s @%s goto %s", ifname_match((Direction)d),
                                                    object_name_buf(ENDPOINT_IFNAMES, e->name, set),
                                                    object_name_buf(flavour_chain_prefix[f][d], e->name, name)) < 0)
                                        return -ENOMEM;
                        }
                        k->addr_dispatch[f][d] = c != NULL;
                }
        addr_dispatch_keep(k, sets_from);
        return 0;
}

/* Pre-binding by address: each HEP of this node matched by expectedIPs
 * has, for each of its addresses, an element in prebind-{in,out}{4,6}:
 * traffic to (in) or from (out) that address on an interface that no
 * endpoint owns goes through the HEP's chain, unless the address is in
 * prebind-bound{4,6}, the addresses of the HEPs that are bound. So the
 * moment the address appears on a new interface, before the daemon has
 * heard of it (or while it is slow or stopped), the HEP's policy already
 * applies to that address's traffic; binding then takes the whole
 * interface, as in Felix, and puts the address in prebind-bound: a plain
 * set element, which costs the kernel no revalidation of the ruleset on
 * the address event's path (the maps' elements, which jump, change only
 * with the resources). Two HEPs expecting one address: the first by name
 * has it. Loopback is left alone (the host talking to itself is no
 * interface's traffic). */
static const char *const prebind_map[_DIRECTION_MAX][2] = {
        [DIRECTION_INGRESS] = { "prebind-in4", "prebind-in6" },
        [DIRECTION_EGRESS] = { "prebind-out4", "prebind-out6" },
};
static const char *const prebind_bound[2] = { "prebind-bound4", "prebind-bound6" };

static bool prebinds(const Calc *calc, const Endpoint *e) {
        return dispatched_by_address(calc, e) && e->n_ips > 0;
}

static uint64_t mix(uint64_t h, uint64_t v) {
        return (h ^ v) * 1099511628211ULL;
}

/* What the maps are built from (the HEPs and their addresses), and what
 * the bound sets are built from (the same and their states): equal
 * signatures, equal sets, taken whole from the last compilation. */
static void prebind_signatures(const Calc *calc, uint64_t *maps, uint64_t *bound) {
        *maps = *bound = 14695981039346656037ULL;
        for (size_t i = 0; i < calc->n_endpoints; i++) {
                const Endpoint *e = &calc->endpoints[i];
                uint64_t h;

                if (!prebinds(calc, e))
                        continue;
                h = strmap_hash(e->name);
                for (size_t a = 0; a < e->n_ips; a++) {
                        h = mix(h, (uint64_t)e->ips[a].family);
                        for (size_t j = 0; j < sizeof(e->ips[a].bytes); j++)
                                h = mix(h, e->ips[a].bytes[j]);
                }
                *maps = mix(*maps, h);
                *bound = mix(*bound, mix(h, (uint64_t)e->state));
        }
}

/* The maps: each address to the chains of the first HEP by name that
 * expects it. */
static int build_prebind_maps(Compiler *k) {
        const Calc *calc = k->calc;
        char name[OBJECT_NAME_MAX], addr[IPADDR_STRLEN], elem[IPADDR_STRLEN + OBJECT_NAME_MAX + 16];
        NftSet *m[_DIRECTION_MAX][2];
        StrMap seen = {};
        int r = 0;

        for (int f = 0; f < 2; f++)
                for (int d = 0; d < _DIRECTION_MAX; d++) {
                        m[d][f] = ruleset_add_set(k->rs, prebind_map[d][f],
                                                  f == 0 ? "type ipv4_addr : verdict;" : "type ipv6_addr : verdict;",
                                                  true);
                        if (!m[d][f])
                                return -ENOMEM;
                }
        for (size_t i = 0; r >= 0 && i < calc->n_endpoints; i++) {
                const Endpoint *e = &calc->endpoints[i];
                if (!prebinds(calc, e))
                        continue;
                for (size_t a = 0; r >= 0 && a < e->n_ips; a++) {
                        int f = e->ips[a].family == AF_INET ? 0 : 1;
                        char *key;

                        ipaddr_format(&e->ips[a], addr);
                        if (strmap_get(&seen, addr))
                                continue;
                        for (int d = 0; r >= 0 && d < _DIRECTION_MAX; d++) {
                                snprintf(elem, sizeof(elem), "%s : goto %s", addr,
                                         object_name_buf(flavour_chain_prefix[FLAVOUR_NORMAL][d], e->name, name));
                                r = set_add_element(m[d][f], elem);
                        }
                        key = strdup(addr); /* seen owns its keys */
                        if (r >= 0 && (!key || strmap_put(&seen, key, key) < 0)) {
                                free(key);
                                r = -ENOMEM;
                        }
                }
        }
        for (size_t i = 0; i < seen.cap; i++)
                if (seen.slots[i].key)
                        free(seen.slots[i].value);
        strmap_done(&seen);
        return r;
}

/* The bound sets: the addresses of the HEPs that are bound. */
static int build_prebind_bound(Compiler *k) {
        const Calc *calc = k->calc;
        char addr[IPADDR_STRLEN];
        NftSet *bound[2];
        StrMap in = {};
        int r = 0;

        for (int f = 0; f < 2; f++) {
                bound[f] = ruleset_add_set(k->rs, prebind_bound[f], f == 0 ? "type ipv4_addr;" : "type ipv6_addr;",
                                           false);
                if (!bound[f])
                        return -ENOMEM;
        }
        for (size_t i = 0; r >= 0 && i < calc->n_endpoints; i++) {
                const Endpoint *e = &calc->endpoints[i];
                if (!prebinds(calc, e) || e->state != ENDPOINT_ENFORCED)
                        continue;
                for (size_t a = 0; r >= 0 && a < e->n_ips; a++) {
                        NftSet *set = bound[e->ips[a].family == AF_INET ? 0 : 1];
                        ipaddr_format(&e->ips[a], addr);
                        if (strmap_get(&in, addr))
                                continue;
                        r = set_add_element(set, addr);
                        /* keyed by the element's own copy */
                        if (r >= 0)
                                r = strmap_put(&in, set->elements[set->n_elements - 1], set);
                }
        }
        strmap_done(&in);
        return r;
}

static int compile_prebind(Compiler *k) {
        uint64_t maps_sig, bound_sig;
        size_t from;
        int r;

        k->prebind = false;
        for (size_t i = 0; i < k->calc->n_endpoints; i++)
                k->prebind = k->prebind || prebinds(k->calc, &k->calc->endpoints[i]);
        if (!k->prebind)
                return 0;
        prebind_signatures(k->calc, &maps_sig, &bound_sig);
        r = kept_sets_reuse(k, KEPT_PREBIND_MAPS, maps_sig);
        if (r == 0) {
                from = k->rs->n_sets;
                r = build_prebind_maps(k);
                if (r >= 0)
                        kept_sets_keep(k, KEPT_PREBIND_MAPS, maps_sig, from);
        }
        if (r >= 0)
                r = kept_sets_reuse(k, KEPT_PREBIND_BOUND, bound_sig);
        if (r == 0) {
                from = k->rs->n_sets;
                r = build_prebind_bound(k);
                if (r >= 0)
                        kept_sets_keep(k, KEPT_PREBIND_BOUND, bound_sig, from);
        }
        return r < 0 ? r : 0;
}

/* The rules that send a hook's traffic for a HEP's address that is not
 * bound yet to its chain (see compile_prebind). */
static int add_prebind(Compiler *k, NftChain *base, Direction d, const char *guard) {
        const char *dir = d == DIRECTION_INGRESS ? "daddr" : "saddr";
        int r;

        if (!k->prebind)
                return 0;
        r = chain_add_rulef(base, "%s%s != \"lo\" ip %s != @%s ip %s vmap @%s", guard, ifname_match(d), dir,
                            prebind_bound[0], dir, prebind_map[d][0]);
        if (r >= 0)
                r = chain_add_rulef(base, "%s%s != \"lo\" ip6 %s != @%s ip6 %s vmap @%s", guard, ifname_match(d),
                                    dir, prebind_bound[1], dir, prebind_map[d][1]);
        return r;
}

/* The rule that sends traffic of interfaces bound by address to the
 * address dispatch chain of this hook, if it has one. */
static int add_addr_dispatch(Compiler *k, NftChain *base, Flavour f, Direction d, const char *guard) {
        if (!k->addr_dispatch[f][d])
                return 0;
        return chain_add_rulef(base, "%s%s @" ADDR_IFNAMES " jump %s", guard, ifname_match(d), flavour_addr_chain[f][d]);
}

/* The rule that sends traffic of interfaces without their own endpoint
 * (before DNAT: without their own pre-DNAT policy) to the "*" endpoint's
 * chain, if there is one with that flavour. */
static int add_wildcard(Compiler *k, NftChain *base, Flavour f, Direction d, const char *guard) {
        _cleanup_free_ char *name = NULL;
        const Endpoint *w = k->calc->wildcard;

        if (!w || !endpoint_has_flavour(w, f, d))
                return 0;
        name = object_name(flavour_chain_prefix[f][d], w->name);
        if (!name)
                return -ENOMEM;
        return chain_add_rulef(base, "%s%s != @%s jump %s", guard, ifname_match(d),
                               f == FLAVOUR_PREDNAT ? PREDNAT_IFNAMES : OWN_IFNAMES, name);
}

/* The rules that send a hook's packets on to their endpoint's chain: the
 * dispatch map, the address dispatch chain, then the "*" endpoint's chain
 * where the hook has one. guard: a condition in front of each. */
static int add_dispatch(Compiler *k, NftChain *base, Flavour f, Direction d, const char *guard, bool wildcard) {
        int r = chain_add_rulef(base, "%s%s vmap @%s", guard, ifname_match(d), flavour_map[f][d]);

        if (r >= 0)
                r = add_addr_dispatch(k, base, f, d, guard);
        if (r >= 0 && f == FLAVOUR_NORMAL)
                r = add_prebind(k, base, d, guard);
        if (r >= 0 && wildcard)
                r = add_wildcard(k, base, f, d, guard);
        return r;
}

static int base_chain(Compiler *k, const char *name, const char *hook, NftChain **ret) {
        *ret = ruleset_add_chain(k->rs, name, hook);
        return *ret ? 0 : -ENOMEM;
}

/* Does any endpoint that can be dispatched to have flavour f? */
static bool any_endpoint_has(const Calc *calc, Flavour f) {
        for (size_t i = 0; i < calc->n_endpoints; i++) {
                const Endpoint *e = &calc->endpoints[i];
                if (endpoint_compiled(calc, e) &&
                    (endpoint_has_flavour(e, f, DIRECTION_INGRESS) || endpoint_has_flavour(e, f, DIRECTION_EGRESS)))
                        return true;
        }
        return false;
}

/* The hooks, as Felix's static chains (felix/rules/static.go). */
static int compile_base_chains(Compiler *k) {
        NftChain *c;
        int r = 0;

        /* The early hooks mark what they accept (MARK_ACCEPT) for the later
         * ones to let through; each early hook clears the mark first, so a
         * mark set by anyone else is never trusted. Without them, the later
         * hooks clear it themselves. */
        k->untracked = any_endpoint_has(k->calc, FLAVOUR_UNTRACKED);
        k->prednat = any_endpoint_has(k->calc, FLAVOUR_PREDNAT);

        /* raw: untracked (doNotTrack) policy; an Allow skips conntrack. */
        if (k->untracked) {
                r = base_chain(k, "raw-prerouting", "type filter hook prerouting priority raw; policy accept;", &c);
                if (r >= 0)
                        r = chain_add_rule(c, CLEAR_ALL);
                if (r >= 0)
                        r = add_dispatch(k, c, FLAVOUR_UNTRACKED, DIRECTION_INGRESS, "", false);
                if (r >= 0)
                        r = chain_add_rule(c, IF_ACCEPT " notrack accept");
                if (r >= 0)
                        r = base_chain(k, "raw-output", "type filter hook output priority raw; policy accept;", &c);
                if (r >= 0)
                        r = chain_add_rule(c, CLEAR_ALL);
                if (r >= 0)
                        r = add_dispatch(k, c, FLAVOUR_UNTRACKED, DIRECTION_EGRESS, "", false);
                if (r >= 0)
                        r = chain_add_rule(c, IF_ACCEPT " notrack accept");
        }

        /* Before DNAT: pre-DNAT policy sees only new flows. */
        if (r >= 0 && k->prednat) {
                r = base_chain(k, "prednat", "type filter hook prerouting priority mangle; policy accept;", &c);
                /* Without raw-prerouting, the mark is ours from here. */
                if (r >= 0 && !k->untracked)
                        r = chain_add_rule(c, CLEAR_ALL);
                if (r >= 0)
                        r = chain_add_rulef(c, "ct state established,related %s", allow_verdict(k->calc, true));
                if (r >= 0)
                        r = chain_add_rulef(c, IF_ACCEPT " %s", allow_verdict(k->calc, true));
                if (r >= 0)
                        r = add_dispatch(k, c, FLAVOUR_PREDNAT, DIRECTION_INGRESS, "", true);
                if (r >= 0)
                        r = chain_add_rulef(c, IF_ACCEPT " %s", allow_verdict(k->calc, true));
        }

        /* Traffic for the host. Normal endpoint chains always end in a
         * verdict, so only interfaces without a map entry get past it. */
        if (r >= 0)
                r = base_chain(k, "input", "type filter hook input priority filter; policy accept;", &c);
        if (r >= 0 && (k->untracked || k->prednat))
                r = chain_add_rulef(c, IF_ACCEPT " goto %s", admit_chain(k->calc));
        if (r >= 0)
                r = chain_add_rule(c, CLEAR_ALL);
        if (r >= 0)
                r = add_dispatch(k, c, FLAVOUR_NORMAL, DIRECTION_INGRESS, "", true);

        /* Forwarded: the ingress interface's forward policy (unless raw or
         * pre-DNAT policy accepted it), then the egress interface's. What
         * gets to the end is accepted with MARK_ACCEPT set, so that
         * postrouting knows it was forwarded (Felix's
         * StaticFilterForwardAppendRules). */
        if (r >= 0)
                r = base_chain(k, "forward", "type filter hook forward priority filter; policy accept;", &c);
        if (r >= 0)
                r = chain_add_rule(c, k->untracked || k->prednat ? CLEAR_PASS_DROP : CLEAR_ALL);
        if (r >= 0)
                r = add_dispatch(k, c, FLAVOUR_FORWARD, DIRECTION_INGRESS, "meta mark & " MARK_ACCEPT " == 0 ", true);
        if (r >= 0)
                r = add_dispatch(k, c, FLAVOUR_FORWARD, DIRECTION_EGRESS, "", true);
        /* What an endpoint's policy (or an earlier hook) admitted gets the
         * current generation; forwarded traffic of interfaces without an
         * endpoint has no accept bit here and is not stamped. */
        if (r >= 0)
                r = chain_add_rulef(c, IF_ACCEPT " goto %s", admit_chain(k->calc));
        if (r >= 0)
                r = chain_add_rulef(c, SET_ACCEPT " %s", allow_verdict(k->calc, false));

        /* Traffic from the host, unless DNAT rewrote it (nat output runs
         * before, at priority -100): the output hook keeps the interface
         * of the route to the original address as oifname, even once DNAT
         * has routed the packet elsewhere. Such packets get their policy in
         * postrouting (felix/rules/static.go, filterOutputChain). */
        if (r >= 0)
                r = base_chain(k, "output", "type filter hook output priority filter; policy accept;", &c);
        if (r >= 0 && k->untracked)
                r = chain_add_rulef(c, IF_ACCEPT " %s", allow_verdict(k->calc, false));
        if (r >= 0)
                r = chain_add_rule(c, CLEAR_ALL);
        if (r >= 0)
                r = chain_add_rule(c, "ct status dnat accept");
        if (r >= 0)
                r = add_dispatch(k, c, FLAVOUR_NORMAL, DIRECTION_EGRESS, "", true);
        /* Denied by an egress chain under nftablesFilterDenyAction Reject. */
        if (r >= 0 && k->calc->deny_reject)
                r = chain_add_rule(c, IF_DROP " reject");

        /* Traffic from the host that DNAT rewrote: the same endpoint chains
         * as in output (failsafes included), on the interface it leaves by
         * after DNAT. Forwarded packets carry MARK_ACCEPT from the forward
         * chain and are left alone, as in Felix's
         * StaticManglePostroutingChain (its chains per interface are
         * HostEndpointToMangleEgressChains: the filter ones, with Return
         * for Accept, which ends in accept here all the same). */
        if (r >= 0)
                r = base_chain(k, "postrouting", "type filter hook postrouting priority mangle; policy accept;", &c);
        if (r >= 0)
                r = chain_add_rule(c, IF_ACCEPT " accept");
        if (r >= 0)
                r = chain_add_rule(c, CLEAR_ALL);
        if (r >= 0)
                r = add_dispatch(k, c, FLAVOUR_NORMAL, DIRECTION_EGRESS, "ct status dnat ", true);
        /* The kernel has no reject here: what they denied is dropped. */
        if (r >= 0 && k->calc->deny_reject)
                r = chain_add_rule(c, IF_DROP " drop");
        return r;
}

/* Conntrack generations: what the established shortcut of the normal
 * and forward chains accepts is a reply, or a flow whose conntrack mark
 * carries the current generation (the element of ct-gen). An allow of
 * policy or failsafe goes to ct-admit, which stamps the flow with it and
 * accepts (ct-admit-return: returns, where nftablesFilterAllowAction says
 * Return). A ruleset that adds anything to the last one (an interface or
 * address bound, a rule, set element or chain that is new or changed)
 * takes the next generation, in the same transaction: from then on, the
 * original direction of every flow admitted before, or while no endpoint's
 * policy saw it, goes through policy again at its next packet; allowed,
 * it is stamped again, denied, it is dropped. So protection that begins
 * or tightens cuts what it does not allow, in the kernel, with the commit:
 * no conntrack entry is deleted.
 * The stamp comes from the map ct-stamp, whose one element maps a
 * conntrack mark with none of our bits to that mark with the generation:
 * a new generation changes two plain elements (ct-gen's, ct-stamp's) and
 * no rule. A rule added anywhere makes the kernel check every chain the
 * hooks reach for loops (about 15 ms at 100 local endpoints and 5,000
 * policies); elements that are no verdicts do not. A flow whose mark
 * holds bits of another program's (the map has no such key) is admitted
 * unstamped: policy sees each of its packets in the original direction. */
#define CT_ADMIT_STAMP "ct mark set ct mark & 0xf00fffff map @" CT_STAMP_MAP
static int compile_ct_generation(Compiler *k) {
        NftChain *c;

        if (!ruleset_add_set(k->rs, CT_GEN_SET, "type mark;", false) ||
            !ruleset_add_set(k->rs, CT_STAMP_MAP, "type mark : mark;", true))
                return -ENOMEM;
        c = ruleset_add_chain(k->rs, CT_ADMIT, NULL);
        if (!c || chain_add_rule(c, CT_ADMIT_STAMP " accept") < 0 || chain_add_rule(c, "accept") < 0)
                return -ENOMEM;
        if (!k->calc->filter_allow_return)
                return 0;
        c = ruleset_add_chain(k->rs, CT_ADMIT_RETURN, NULL);
        return c && chain_add_rule(c, CT_ADMIT_STAMP) >= 0 ? 0 : -ENOMEM;
}

/* Once the rest is finished: the generation, into ct-gen and ct-stamp. */
static int fill_ct_generation(Compiler *k) {
        uint32_t mark = (uint32_t)compile_cache_ct_generation(k) << CT_GEN_SHIFT;
        char elem[32];
        int r;

        snprintf(elem, sizeof(elem), "0x%08" PRIx32, mark);
        r = set_add_element(ruleset_find_set(k->rs, CT_GEN_SET), elem);
        snprintf(elem, sizeof(elem), "0x00000000 : 0x%08" PRIx32, mark);
        if (r >= 0)
                r = set_add_element(ruleset_find_set(k->rs, CT_STAMP_MAP), elem);
        if (r >= 0)
                compile_cache_ct_keep(k);
        return r;
}

int ruleset_compile(const Calc *calc, CompileCache *cache, Ruleset **ret) {
        _cleanup_(ruleset_freep) Ruleset *rs = ruleset_new();
        _cleanup_(compile_cache_freep) CompileCache *own = NULL;
        Compiler k = { .calc = calc, .cache = cache };
        int r;

        if (!rs)
                return -ENOMEM;
        if (!cache) {
                k.cache = own = compile_cache_new();
                if (!own)
                        return -ENOMEM;
                /* Nothing was dispatched before: all settles. */
                compile_cache_settle_next(own);
        }
        k.rs = rs;
        k.flow_logs = compile_cache_flow_logs(k.cache);
        k.rules = (RuleCompiler) { .calc = calc, .rs = rs };
        r = compile_cache_begin(&k);
        if (r >= 0)
                r = compile_addr_dispatch(&k);
        if (r >= 0)
                r = compile_prebind(&k);
        if (r >= 0)
                r = compile_base_chains(&k);
        if (r >= 0)
                r = compile_maps(&k);
        if (r >= 0)
                r = compile_failsafes(&k);
        if (r >= 0)
                r = compile_ct_generation(&k);
        size_t chains_from = rs->n_chains, sets_from = rs->n_sets;
        if (r >= 0)
                r = compile_cache_share(&k);
        /* Every endpoint of this node that could be dispatched to gets its
         * chains, bound or not yet: when its interface or address appears,
         * only dispatch elements change (a small, fast commit). */
        if (r >= 0)
                r = compile_endpoints(&k);
        rule_compiler_done(&k.rules);
        r = compile_cache_end(&k, r, chains_from, sets_from);
        if (r < 0)
                return r;
        ruleset_finish(rs);
        r = fill_ct_generation(&k);
        if (r < 0)
                return r;
        *ret = steal_ptr(rs);
        return 0;
}
