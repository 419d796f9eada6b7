/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One Calico rule → the nft rules that enforce it (one per family and
 * alternative), with the sets its selectors, named ports and lists
 * resolve to; see compile-rule.h. */
#include "compile-rule.h"

#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flowlog.h"
#include "ipaddr.h"
#include "strbuf.h"

#define LOG_PREFIX "calico-packet: "

/* A selector as rules use it, parsed once per compilation however many
 * rules mention it. */
struct ParsedSelector {
        char *text;
        Selector *sel;
        char *canon;
};

/* Notes a set the rules being compiled use (see SetDeps). */
static int record_dep(RuleCompiler *k, SetDepKind kind, CachedSet *set, NftSet *list) {
        SetDeps *deps = k->recording;
        SetDep *d;

        if (!deps)
                return 0;
        d = grow_array(deps->v, &deps->alloc, deps->n + 1, sizeof(SetDep));
        if (!d)
                return -ENOMEM;
        deps->v = d;
        deps->v[deps->n++] = (SetDep) {
                .kind = kind,
                .set = set,
                .list = nft_set_ref(list),
                .empty4 = set && cached_set_empty(set, 4),
                .empty6 = set && cached_set_empty(set, 6),
                .nets4 = set && cached_set_has_nets(set, 4),
                .nets6 = set && cached_set_has_nets(set, 6),
        };
        return 0;
}

/* The sets a selector resolves to ("sel4-<hash>", "sel6-<hash>", or
 * "net4-"/"net6-" when they hold networks). */
static int selector_sets(RuleCompiler *k, ParsedSelector *p, CachedSet **ret) {
        int r = set_cache_selector(k->sets, k->calc, k->rs, p->canon, ret);

        if (r < 0)
                return r;
        return record_dep(k, DEP_SELECTOR, *ret, NULL);
}

static int named_port_sets(RuleCompiler *k, ParsedSelector *p, const char *port, uint8_t proto, CachedSet **ret) {
        int r = set_cache_named_port(k->sets, k->calc, k->rs, p->canon, port, proto, ret);

        if (r < 0)
                return r;
        return record_dep(k, DEP_NAMED_PORT, *ret, NULL);
}

typedef struct Side {
        const EntityRule *e;
        const char *dir; /* "saddr" / "daddr" */
        const char *port_dir; /* "sport" / "dport" */
        ParsedSelector *sel;     /* effective positive selector: (Felix's selector) && !(notSelector), or NULL */
        ParsedSelector *not_sel; /* only when there is no positive selector */
        bool matches_nothing;    /* a services match: only ever Kubernetes services' endpoints */
} Side;

static void parsed_selector_free(ParsedSelector *p) {
        if (!p)
                return;
        free(p->text);
        selector_free(p->sel);
        free(p->canon);
        free(p);
}

/* Parses text once per compilation; later calls return the same object. */
static int parse_sel(RuleCompiler *k, const char *text, ParsedSelector **ret) {
        ParsedSelector *p = strmap_get(&k->selectors, text), **v;
        SelectorError e;
        int r;

        if (p) {
                *ret = p;
                return 0;
        }
        v = grow_array(k->all_selectors, &k->alloc_selectors, k->n_selectors + 1, sizeof(ParsedSelector *));
        p = calloc(1, sizeof(ParsedSelector));
        if (!v || !p) {
                free(p);
                return -ENOMEM;
        }
        k->all_selectors = v;
        p->text = strdup(text);
        if (!p->text) {
                free(p);
                return -ENOMEM;
        }
        r = selector_parse(text, &p->sel, &e);
        if (r >= 0) {
                p->canon = selector_to_string(p->sel);
                r = p->canon ? 0 : -ENOMEM;
        }
        if (r >= 0)
                r = strmap_put(&k->selectors, p->text, p);
        if (r < 0) {
                parsed_selector_free(p);
                return r;
        }
        k->all_selectors[k->n_selectors++] = p;
        *ret = p;
        return 0;
}

/* Blank text is the selector all(), and must stay one once put between
 * parentheses, where it would not parse (nor does it in Felix, which
 * validation lets it reach). */
static const char *selector_text(const char *text) {
        return text && *text && text[strspn(text, " \t")] == 0 ? "all()" : text;
}

/* A side as Felix's rule holds it: one positive selector made of selector,
 * namespaceSelector and serviceAccounts (libcalico-go rules.go,
 * getEndpointSelector), with notSelector folded into it when there is one
 * (rule_scanner.go, combineMatchesIfPossible); a lone notSelector stays a
 * negated match, which also matches addresses of no endpoint. A services
 * match selects a Kubernetes service's endpoints, never this host's. */
static int side_init(RuleCompiler *k, Side *s, const EntityRule *e, bool source) {
        const ServiceAccountMatch *sa = e->service_accounts;
        const char *not_selector = selector_text(e->not_selector);
        _cleanup_free_ char *positive = NULL, *text = NULL;
        int r;

        *s = (Side) { .e = e, .dir = source ? "saddr" : "daddr", .port_dir = source ? "sport" : "dport" };
        if (e->services) {
                s->matches_nothing = true;
                return 0;
        }
        r = selector_felix_entity(selector_text(e->selector), e->namespace_selector, sa != NULL, sa ? sa->selector : NULL,
                                  sa ? (const char *const *) sa->names.v : NULL, sa ? sa->names.n : 0, &positive);
        if (r < 0)
                return r;
        if (!*positive)
                return isempty(not_selector) ? 0 : parse_sel(k, not_selector, &s->not_sel);
        if (!isempty(not_selector) && asprintf(&text, "(%s) && (!(%s))", positive, not_selector) < 0)
                return -ENOMEM;
        return parse_sel(k, text ? text : positive, &s->sel);
}

/* The alternatives for one side's ports: numeric ports (with the side's
 * selector set), or one named-port set each (already filtered by it). */
typedef struct Alt {
        StrBuf text;
} Alt;

static void append_addr_match(StrBuf *b, int family, const char *dir, const char *op, const char *set) {
        strbuf_printf(b, " %s %s %s@%s", family == 4 ? "ip" : "ip6", dir, op, set);
}

/* A named set for a literal list, named after its content so that every
 * rule with the same list shares it. Named, not anonymous: the kernel binds
 * each anonymous set by walking the whole transaction, which makes a large
 * commit quadratic. */
int rule_list_set(RuleCompiler *k, const char *prefix, const char *type, char **elems, size_t n, char ret[static 40]) {
        uint64_t h = 14695981039346656037ULL;
        NftSet *s;

        h ^= strmap_hash(type);
        for (size_t i = 0; i < n; i++) {
                h = (h ^ strmap_hash(elems[i])) * 1099511628211ULL;
        }
        snprintf(ret, 40, "%s-%016" PRIx64, prefix, h);
        s = ruleset_find_set(k->rs, ret);
        if (!s) {
                s = ruleset_add_set(k->rs, ret, type, false);
                if (!s)
                        return -ENOMEM;
                for (size_t i = 0; i < n; i++)
                        if (set_add_element(s, elems[i]) < 0)
                                return -ENOMEM;
        }
        return record_dep(k, DEP_LIST, NULL, s);
}

/* "80" or "1000-2000" */
static char *port_text(const Port *p) {
        char *t;

        if (p->kind == PORT_RANGE && p->max != p->min) {
                if (asprintf(&t, "%u-%u", p->min, p->max) < 0)
                        return NULL;
        } else if (asprintf(&t, "%u", p->min) < 0)
                return NULL;
        return t;
}

/* Matches one of a list: inline for one value, else a named set. */
static int append_list_match(RuleCompiler *k, StrBuf *b, const char *expr, bool negate, const char *set_prefix,
                             const char *set_type, char **elems, size_t n) {
        char name[40];
        int r;

        if (n == 0)
                return 0;
        if (n == 1) {
                strbuf_printf(b, " %s %s%s", expr, negate ? "!= " : "", elems[0]);
                return 0;
        }
        r = rule_list_set(k, set_prefix, set_type, elems, n, name);
        if (r < 0)
                return r;
        strbuf_printf(b, " %s %s@%s", expr, negate ? "!= " : "", name);
        return 0;
}

static int compare_ports(const void *a, const void *b) {
        const Port *x = a, *y = b;

        return x->min < y->min ? -1 : x->min > y->min;
}

/* The numeric ports of l as ranges that neither overlap nor touch, in
 * order: an interval set refuses overlapping elements ("80" with
 * "70:90"), and touching ones match as their union does. */
static size_t merge_port_ranges(const PortList *l, Port *ret) {
        size_t n = 0, k = 0;

        for (size_t i = 0; i < l->n; i++)
                if (l->v[i].kind != PORT_NAMED)
                        ret[n++] = (Port) { .kind = PORT_RANGE, .min = l->v[i].min, .max = l->v[i].max };
        qsort_safe(ret, n, sizeof(Port), compare_ports);
        for (size_t i = 0; i < n; i++) {
                if (k > 0 && (unsigned)ret[i].min <= (unsigned)ret[k - 1].max + 1) {
                        if (ret[i].max > ret[k - 1].max)
                                ret[k - 1].max = ret[i].max;
                        continue;
                }
                ret[k++] = ret[i];
        }
        return k;
}

static int append_port_list(RuleCompiler *k, StrBuf *b, const PortList *l, const char *port_dir, bool negate) {
        _cleanup_free_ Port *ranges = NULL;
        char **v, expr[16];
        size_t n = 0, n_ranges;
        int r = 0;

        /* The common case, one port: no list to build. */
        if (l->n == 1 && l->v[0].kind != PORT_NAMED) {
                strbuf_printf(b, " th %s %s%u", port_dir, negate ? "!= " : "", l->v[0].min);
                if (l->v[0].kind == PORT_RANGE && l->v[0].max != l->v[0].min)
                        strbuf_printf(b, "-%u", l->v[0].max);
                return 0;
        }
        if (l->n == 0)
                return 0;
        ranges = new_array(l->n, sizeof(Port));
        v = new_array(l->n, sizeof(char *));
        if (!v || !ranges) {
                free(v);
                return -ENOMEM;
        }
        n_ranges = merge_port_ranges(l, ranges);
        for (size_t i = 0; i < n_ranges && r >= 0; i++) {
                v[n] = port_text(&ranges[i]);
                r = v[n++] ? 0 : -ENOMEM;
        }
        snprintf(expr, sizeof(expr), "th %s", port_dir);
        if (r >= 0)
                r = append_list_match(k, b, expr, negate, "ports", "type inet_service; flags interval;", v, n);
        strv_free_n(v, n);
        return r;
}

/* A rule's net as written ("10.0.0.0/8", or an address alone). */
static bool parse_net(const char *text, IPNet *ret) {
        if (strchr(text, '/'))
                return ipnet_parse_go(text, ret, NULL) == 0;
        if (!ipaddr_parse_go(text, &ret->addr))
                return false;
        ret->prefixlen = ret->addr.family == AF_INET ? 32 : 128;
        return true;
}

/* Whether net i of v lies inside another of v (the first of equal ones
 * stays): an interval set refuses elements that overlap, and the wider
 * network matches what the narrower one would. */
static bool net_covered(const IPNet *parsed, const bool *ok, size_t n, size_t i) {
        for (size_t j = 0; j < n; j++) {
                if (j == i || !ok[j] || parsed[j].addr.family != parsed[i].addr.family ||
                    parsed[j].prefixlen > parsed[i].prefixlen || !ipnet_contains(&parsed[j], &parsed[i].addr))
                        continue;
                if (parsed[j].prefixlen < parsed[i].prefixlen || j < i)
                        return true;
        }
        return false;
}

/* Drops the nets of v that others cover; v keeps its order. */
static size_t drop_covered_nets(char **v, size_t n) {
        _cleanup_free_ IPNet *parsed = new_array(n + 1, sizeof(IPNet));
        _cleanup_free_ bool *ok = new_array(n + 1, sizeof(bool));
        _cleanup_free_ bool *drop = new_array(n + 1, sizeof(bool));
        size_t k = 0;

        if (!parsed || !ok || !drop)
                return n; /* the kernel will say what it thinks of them */
        for (size_t i = 0; i < n; i++)
                ok[i] = parse_net(v[i], &parsed[i]);
        for (size_t i = 0; i < n; i++)
                drop[i] = ok[i] && net_covered(parsed, ok, n, i);
        for (size_t i = 0; i < n; i++)
                if (!drop[i])
                        v[k++] = v[i];
        return k;
}

static int append_nets(RuleCompiler *k, StrBuf *b, const StrList *nets, int family, const char *dir, bool negate) {
        char **v, expr[16];
        size_t n = 0;

        if (nets->n == 0)
                return 0;
        v = new_array(nets->n, sizeof(char *));
        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < nets->n; i++)
                if ((strchr(nets->v[i], ':') ? 6 : 4) == family)
                        v[n++] = nets->v[i];
        n = drop_covered_nets(v, n);
        snprintf(expr, sizeof(expr), "%s %s", family == 4 ? "ip" : "ip6", dir);
        int r = append_list_match(k, b, expr, negate, family == 4 ? "nets4" : "nets6",
                                  family == 4 ? "type ipv4_addr; flags interval;" : "type ipv6_addr; flags interval;", v, n);
        free(v);
        return r;
}

static bool nets_have_family(const StrList *nets, int family) {
        for (size_t i = 0; i < nets->n; i++)
                if ((strchr(nets->v[i], ':') ? 6 : 4) == family)
                        return true;
        return false;
}

/* The sets of a named port on the endpoints the side selects (all of
 * them without a selector). */
static int side_named_port_sets(RuleCompiler *k, const Side *s, const Port *p, uint8_t proto, CachedSet **ret) {
        ParsedSelector *sel = s->sel;
        int r;

        if (!sel && (r = parse_sel(k, "all()", &sel)) < 0)
                return r;
        return named_port_sets(k, sel, p->name, proto, ret);
}

/* Builds the alternatives of one side for one family, appending to alts. */
static int side_alternatives(RuleCompiler *k, Side *s, int family, uint8_t proto, StrBuf *common, Alt *alts,
                             size_t *n_alts) {
        const EntityRule *e = s->e;
        bool has_numeric = false, has_named = false;
        CachedSet *cs;
        int r;

        for (size_t i = 0; i < e->ports.n; i++) {
                has_named = has_named || e->ports.v[i].kind == PORT_NAMED;
                has_numeric = has_numeric || e->ports.v[i].kind != PORT_NAMED;
        }
        /* Conditions every alternative shares: nets, negations. */
        r = append_nets(k, common, &e->nets, family, s->dir, false);
        if (r >= 0)
                r = append_nets(k, common, &e->not_nets, family, s->dir, true);
        if (r >= 0)
                r = append_port_list(k, common, &e->not_ports, s->port_dir, true);
        if (r < 0)
                return r;
        /* Against an empty set, a negative match is always true: left out.
         * A positive one never matches: that alternative is dropped. Most
         * hosts have addresses of one family only, so this halves the rules. */
        if (s->not_sel) {
                r = selector_sets(k, s->not_sel, &cs);
                if (r < 0)
                        return r;
                if (!cached_set_empty(cs, family))
                        append_addr_match(common, family, s->dir, "!= ", cached_set_name(cs, family));
        }
        for (size_t i = 0; i < e->not_ports.n; i++) {
                const Port *p = &e->not_ports.v[i];
                if (p->kind != PORT_NAMED)
                        continue;
                r = side_named_port_sets(k, s, p, proto, &cs);
                if (r < 0)
                        return r;
                if (!cached_set_empty(cs, family))
                        strbuf_printf(common, " %s %s . meta l4proto . th %s != @%s", family == 4 ? "ip" : "ip6",
                                      s->dir, s->port_dir, cached_set_name(cs, family));
        }

        if (!has_named || has_numeric) {
                Alt *a = &alts[*n_alts];
                *a = (Alt) {};
                if (s->sel) {
                        r = selector_sets(k, s->sel, &cs);
                        if (r < 0)
                                return r;
                        if (family && cached_set_empty(cs, family))
                                goto named;
                        append_addr_match(&a->text, family, s->dir, "", cached_set_name(cs, family));
                }
                r = append_port_list(k, &a->text, &e->ports, s->port_dir, false);
                if (r < 0)
                        return r;
                (*n_alts)++;
        }
named:
        for (size_t i = 0; i < e->ports.n; i++) {
                const Port *p = &e->ports.v[i];
                if (p->kind != PORT_NAMED)
                        continue;
                r = side_named_port_sets(k, s, p, proto, &cs);
                if (r < 0)
                        return r;
                if (cached_set_empty(cs, family))
                        continue;
                Alt *a = &alts[(*n_alts)++];
                *a = (Alt) {};
                strbuf_printf(&a->text, " %s %s . meta l4proto . th %s @%s", family == 4 ? "ip" : "ip6", s->dir,
                              s->port_dir, cached_set_name(cs, family));
        }
        return 0;
}

static int append_icmp(RuleCompiler *k, StrBuf *b, const ICMPFields *f, int family, bool negate) {
        const char *kw = family == 4 ? "icmp" : "icmpv6";
        char elem[32], name[40], *v[] = { elem };
        int r;

        if (!f || !f->type.set)
                return 0;
        if (!negate) {
                strbuf_printf(b, " %s type %" PRId64, kw, f->type.v);
                if (f->code.set)
                        strbuf_printf(b, " %s code %" PRId64, kw, f->code.v);
        } else if (f->code.set) {
                /* not (type and code): a lookup of the pair in a set. */
                snprintf(elem, sizeof(elem), "%" PRId64 " . %" PRId64, f->type.v, f->code.v);
                r = rule_list_set(k, family == 4 ? "icmp4" : "icmp6",
                                  family == 4 ? "type icmp_type . icmp_code;" : "type icmpv6_type . icmpv6_code;", v, 1, name);
                if (r < 0)
                        return r;
                strbuf_printf(b, " %s type . %s code != @%s", kw, kw, name);
        } else
                strbuf_printf(b, " %s type != %" PRId64, kw, f->type.v);
        return 0;
}

/* The families a rule can match at all (Felix's FilterRuleToIPVersion and
 * filterNets: a positive list entirely of the other family skips it). */
static bool rule_applies_to_family(const Rule *rule, int family) {
        uint8_t p = protocol_number(&rule->protocol);
        const EntityRule *sides[] = { &rule->source, &rule->destination };

        if (rule->ip_version.set && rule->ip_version.v != family)
                return false;
        if ((p == IPPROTO_ICMP && family != 4) || (p == IPPROTO_ICMPV6 && family != 6))
                return false;
        for (size_t i = 0; i < ELEMENTSOF(sides); i++) {
                if (sides[i]->nets.n && !nets_have_family(&sides[i]->nets, family))
                        return false;
                if (sides[i]->not_nets.n && !nets_have_family(&sides[i]->not_nets, family))
                        return false;
        }
        return true;
}

static const char *action_statement(const char *action) {
        if (streq(action, "Allow"))
                return "meta mark set meta mark | " MARK_ACCEPT " return";
        if (streq(action, "Deny"))
                return "meta mark set meta mark | " MARK_DROP " return";
        if (streq(action, "Pass"))
                return "meta mark set meta mark | " MARK_PASS " return";
        if (streq(action, "Log"))
                return "log prefix \"" LOG_PREFIX "\" level info";
        return NULL;
}

static int compile_rule_family(RuleCompiler *k, NftChain *chain, const Rule *rule, int family, Side *src, Side *dst) {
        uint8_t proto = protocol_number(&rule->protocol), not_proto = protocol_number(&rule->not_protocol);
        /* At most one alternative for the numeric ports and one per named port. */
        _cleanup_free_ Alt *src_alts = new_array(rule->source.ports.n + 1, sizeof(Alt));
        _cleanup_free_ Alt *dst_alts = new_array(rule->destination.ports.n + 1, sizeof(Alt));
        size_t n_src = 0, n_dst = 0;
        StrBuf common = STRBUF_INIT;
        int r;

        if (!src_alts || !dst_alts)
                return -ENOMEM;
        /* Rules that name a family only through sets need it spelled out. */
        if (!rule_applies_to_family(rule, family == 4 ? 6 : 4))
                strbuf_printf(&common, " meta nfproto %s", family == 4 ? "ipv4" : "ipv6");
        if (rule->protocol.set)
                strbuf_printf(&common, " meta l4proto %u", proto);
        if (rule->not_protocol.set)
                strbuf_printf(&common, " meta l4proto != %u", not_proto);
        r = append_icmp(k, &common, rule->icmp, family, false);
        if (r >= 0)
                r = append_icmp(k, &common, rule->not_icmp, family, true);
        if (r >= 0)
                r = side_alternatives(k, src, family, proto, &common, src_alts, &n_src);
        if (r >= 0)
                r = side_alternatives(k, dst, family, proto, &common, dst_alts, &n_dst);
        /* Alternatives are ORed: one nft rule per combination. */
        for (size_t i = 0; r >= 0 && i < n_src; i++)
                for (size_t j = 0; r >= 0 && j < n_dst; j++) {
                        StrBuf b = STRBUF_INIT;
                        strbuf_append(&b, strbuf_str(&common));
                        strbuf_append(&b, strbuf_str(&src_alts[i].text));
                        strbuf_append(&b, strbuf_str(&dst_alts[j].text));
                        const char *action = k->log && streq(rule->action, "Log") ? k->log : action_statement(rule->action);
                        bool allow = streq(rule->action, "Allow"), deny = streq(rule->action, "Deny");
                        size_t match = b.len;
                        /* Flow logs: a rule of its own before the verdict,
                         * with the same match, which decides nothing (over
                         * its limit it just does not match). An allow logs
                         * a flow's first packet only (its conntrack entry
                         * not confirmed yet): a flow whose replies have not
                         * come yet (one-way UDP) passes policy with every
                         * packet. A deny's packets are never confirmed: it
                         * logs at most FLOW_LOG_DENY_LIMIT. */
                        if (k->flow_log && (allow || deny)) {
                                strbuf_printf(&b, " %s %s", allow ? FLOW_LOG_ALLOW_ONCE : FLOW_LOG_DENY_LIMIT,
                                              k->flow_log);
                                r = strbuf_ok(&b) ? chain_add_rule(chain, strbuf_str(&b) + 1) : -ENOMEM;
                                strbuf_truncate(&b, match);
                        }
                        strbuf_printf(&b, " %s", action);
                        if (r >= 0)
                                r = strbuf_ok(&b) ? chain_add_rule(chain, strbuf_str(&b) + 1) : -ENOMEM;
                        strbuf_done(&b);
                }
        for (size_t i = 0; i < n_src; i++)
                strbuf_done(&src_alts[i].text);
        for (size_t i = 0; i < n_dst; i++)
                strbuf_done(&dst_alts[i].text);
        strbuf_done(&common);
        return r;
}

static bool has_named_port(const PortList *l) {
        for (size_t i = 0; i < l->n; i++)
                if (l->v[i].kind == PORT_NAMED)
                        return true;
        return false;
}

/* Whether the rule needs one nft rule per IP family (sets, nets and ICMP
 * are typed by family), or one rule serves both. */
static bool rule_is_family_specific(const Rule *rule, const Side *src, const Side *dst) {
        uint8_t p = protocol_number(&rule->protocol);
        const EntityRule *sides[] = { &rule->source, &rule->destination };

        if (src->sel || src->not_sel || dst->sel || dst->not_sel || rule->icmp || rule->not_icmp ||
            rule->ip_version.set || p == IPPROTO_ICMP || p == IPPROTO_ICMPV6)
                return true;
        for (size_t i = 0; i < ELEMENTSOF(sides); i++)
                if (sides[i]->nets.n || sides[i]->not_nets.n || has_named_port(&sides[i]->ports) ||
                    has_named_port(&sides[i]->not_ports))
                        return true;
        return false;
}

int rule_compile(RuleCompiler *k, NftChain *chain, const Rule *rule) {
        Side src, dst;
        int r;

        /* An http match is left out, as Felix's renderer (rules/policy.go,
         * CalculateRuleMatch) never reads it: only a pod's sidecar can check
         * HTTP. The rest of the rule is enforced; calc.c tells the user. */
        if (!action_statement(rule->action))
                return 0;
        r = side_init(k, &src, &rule->source, true);
        if (r >= 0)
                r = side_init(k, &dst, &rule->destination, false);
        if (r >= 0 && !src.matches_nothing && !dst.matches_nothing) {
                if (!rule_is_family_specific(rule, &src, &dst))
                        r = compile_rule_family(k, chain, rule, 0, &src, &dst);
                else
                        for (int family = 4; r >= 0 && family <= 6; family += 2)
                                if (rule_applies_to_family(rule, family))
                                        r = compile_rule_family(k, chain, rule, family, &src, &dst);
        }
        return r;
}

void set_deps_done(SetDeps *deps) {
        for (size_t i = 0; i < deps->n; i++)
                nft_set_unref(deps->v[i].list);
        free(deps->v);
        *deps = (SetDeps) {};
}

void set_deps_trim(SetDeps *deps) {
        SetDep *d;

        if (deps->n == deps->alloc)
                return;
        if (deps->n == 0) {
                deps->v = mfree_ptr(deps->v);
                deps->alloc = 0;
                return;
        }
        d = realloc(deps->v, deps->n * sizeof(SetDep));
        if (d) {
                deps->v = d;
                deps->alloc = deps->n;
        }
}

void rule_compiler_done(RuleCompiler *k) {
        for (size_t i = 0; i < k->n_selectors; i++)
                parsed_selector_free(k->all_selectors[i]);
        free(k->all_selectors);
        strmap_done(&k->selectors);
        k->all_selectors = NULL;
        k->n_selectors = k->alloc_selectors = 0;
}
