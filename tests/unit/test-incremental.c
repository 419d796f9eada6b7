/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The caches that make re-computation incremental (CalcCache,
 * CompileCache) must never change the answer: after every edit in a long
 * sequence — labels, addresses, ports, profiles, policies, tiers,
 * interfaces — the ruleset computed with the caches must be exactly the
 * one computed from scratch. */
#include "tests.h"
#include "calc.h"
#include "check.h"
#include "compile.h"
#include "explain.h"
#include "loader.h"

typedef struct World {
        ResourceList res;
        HostInterface ifaces[4];
        size_t n_ifaces;
        /* The previous rulesets: the diffs to the next must agree too. */
        Ruleset *prev_cached, *prev_fresh;
        size_t unsettled_seen; /* interfaces bound by address seen before settling */
} World;

static Resource *parse_one(const char *yaml) {
        ResourceList l = RESOURCE_LIST_INIT;
        ParseError e = PARSE_ERROR_INIT;
        Resource *r;

        if (resources_parse("t.yaml", yaml, strlen(yaml), &l, &e) < 0 || l.n != 1 || resource_check(l.v[0], &e) < 0)
                TEST_FAIL("invalid test resource: %s\n%s", parse_error_format(&e), yaml);
        r = l.v[0];
        l.n = 0;
        resource_list_done(&l);
        return r;
}

/* Replaces (or adds) the resource of the same kind and name. */
static void put(World *w, const char *yaml) {
        Resource *r = parse_one(yaml);

        for (size_t i = 0; i < w->res.n; i++)
                if (w->res.v[i]->kind == r->kind && streq(w->res.v[i]->meta.name, r->meta.name)) {
                        resource_free(w->res.v[i]);
                        w->res.v[i] = r;
                        return;
                }
        ASSERT_OK(resource_list_add(&w->res, r));
}

static void del(World *w, ResourceKind kind, const char *name) {
        for (size_t i = 0; i < w->res.n; i++)
                if (w->res.v[i]->kind == kind && streq(w->res.v[i]->meta.name, name)) {
                        resource_free(w->res.v[i]);
                        w->res.v[i] = w->res.v[--w->res.n];
                        return;
                }
        TEST_FAIL("no %s to delete", name);
}

/* How many of block b's elements of set `set` are the interface q ("\"eth0\""
 * or, in a map, "\"eth0\" : jump ..."). */
static size_t block_count(const NftBlock *b, const char *set, const char *q) {
        size_t n = 0, lq = strlen(q);

        for (size_t i = 0; i < b->n_elements; i++)
                if (streq(b->elements[i].set, set) && strncmp(b->elements[i].element, q, lq) == 0 &&
                    (b->elements[i].element[lq] == '\0' || b->elements[i].element[lq] == ' '))
                        n++;
        return n;
}

/* Before settling, each interface of an endpoint is dispatched exactly
 * once: in the input map, or (bound by address) through the sets. */
static void check_dispatch_once(const Ruleset *rs) {
        size_t unsettled = 0;

        for (size_t i = 0; i < rs->n_blocks; i++) {
                const NftBlock *b = rs->blocks[i];
                for (size_t j = 0; j < b->n_elements; j++) {
                        const char *q = b->elements[j].element;
                        if (!streq(b->elements[j].set, "own-ifnames"))
                                continue;
                        size_t in_map = block_count(b, "disp-in", q), in_sets = block_count(b, "addr-ifnames", q);
                        if (in_map + in_sets != 1)
                                TEST_FAIL("%s of %s: %zu map and %zu set elements", q, b->name, in_map, in_sets);
                        unsettled += in_sets;
                }
        }
        ASSERT_EQ(unsettled, rs->n_unsettled);
}

static char *compute(World *w, CalcCache *cc, CompileCache *kc, Ruleset **prev, char **ret_diff) {
        Calc *c = NULL;
        Ruleset *rs = NULL;
        StrBuf b = STRBUF_INIT, d = STRBUF_INIT;

        /* As the plugin runs it: first a compilation that leaves new
         * bindings by address in the sets, then one that settles them
         * (what is compared: a compilation without cache settles all). */
        if (kc) {
                ASSERT_OK(calc_run(w->res.v, w->res.n, "node1", w->ifaces, w->n_ifaces, cc, &c));
                ASSERT_OK(ruleset_compile(c, kc, &rs));
                check_dispatch_once(rs);
                w->unsettled_seen += rs->n_unsettled;
                ruleset_free(rs);
                calc_free(c);
                rs = NULL;
                c = NULL;
                compile_cache_settle_next(kc);
        }
        ASSERT_OK(calc_run(w->res.v, w->res.n, "node1", w->ifaces, w->n_ifaces, cc, &c));
        ASSERT_OK(ruleset_compile(c, kc, &rs));
        ASSERT_EQ(rs->n_unsettled, 0);
        /* What the cache took as it was, explain understands as well. */
        {
                _cleanup_free_ char *why = NULL;
                if (ruleset_explain_check(rs, &why) < 0)
                        TEST_FAIL("explain: %s", why ? why : "out of memory");
        }
        ruleset_print(rs, &b);
        if (*prev)
                ruleset_commands_diff(*prev, rs, &d);
        ASSERT_TRUE(strbuf_ok(&d));
        *ret_diff = strbuf_steal(&d);
        ruleset_free(*prev);
        *prev = rs;
        calc_free(c);
        return strbuf_steal(&b);
}

/* Does [s, end) contain needle? */
static bool strstr_n(const char *s, const char *end, const char *needle) {
        size_t n = strlen(needle);

        for (; s + n <= end; s++)
                if (memcmp(s, needle, n) == 0)
                        return true;
        return false;
}

/* Without what tells the conntrack generation: a cached compilation takes
 * a new one at each change, a fresh one always starts at the first. Lines
 * of the printed ruleset or of the commands that name it are left out. */
static char *without_ct_generation(char *s) {
        char *in = s, *out = s;
        bool in_gen_set = false;

        while (*in) {
                char *eol = strchrnul(in, '\n');
                size_t n = (size_t)(eol - in) + (*eol ? 1 : 0);
                bool drop = strstr_n(in, eol, " ct-gen ") || strstr_n(in, eol, " ct-stamp ") ||
                            (in_gen_set && strstr_n(in, eol, "elements = {"));

                if (strstr_n(in, eol, "set ct-gen {") || strstr_n(in, eol, "map ct-stamp {"))
                        in_gen_set = true;
                else if (strstr_n(in, eol, "}") && !strstr_n(in, eol, "{"))
                        in_gen_set = false;
                if (!drop) {
                        memmove(out, in, n);
                        out += n;
                }
                in += n;
        }
        *out = 0;
        return s;
}

static bool quiet; /* the randomised sequences say only how they ended */

/* Cached and fresh computations agree, and so do the commands from the
 * previous ruleset to this one (the cached rulesets share the blocks of
 * unchanged endpoints, which the diff skips; the fresh ones share none). */
static void check_same(World *w, CalcCache *cc, CompileCache *kc, const char *step) {
        char *cached_diff, *fresh_diff;
        char *cached = without_ct_generation(compute(w, cc, kc, &w->prev_cached, &cached_diff));
        char *fresh = without_ct_generation(compute(w, NULL, NULL, &w->prev_fresh, &fresh_diff));

        without_ct_generation(cached_diff);
        without_ct_generation(fresh_diff);

        if (!streq(cached, fresh))
                TEST_FAIL("after %s the cached ruleset differs:\n--- cached\n%s\n--- fresh\n%s", step, cached, fresh);
        if (!streq(cached_diff, fresh_diff))
                TEST_FAIL("after %s the commands differ:\n--- cached\n%s\n--- fresh\n%s", step, cached_diff, fresh_diff);
        if (!quiet)
                printf("  same after %s (%zu bytes of commands)\n", step, strlen(cached_diff));
        free(cached);
        free(fresh);
        free(cached_diff);
        free(fresh_diff);
}

#define HEAD "apiVersion: projectcalico.org/v3\n"

static void test_edit_sequence(void) {
        World w = {};
        CalcCache *cc = calc_cache_new();
        CompileCache *kc = compile_cache_new();
        IPAddr a, b;

        ASSERT_TRUE(ipaddr_parse_go("10.0.0.1", &a));
        ASSERT_TRUE(ipaddr_parse_go("10.0.0.5", &b));
        w.ifaces[0] = (HostInterface) { .name = (char *)"eth0", .ifindex = 2, .oper_up = true, .addrs = &a, .n_addrs = 1 };
        w.ifaces[1] = (HostInterface) { .name = (char *)"eth1", .ifindex = 3, .oper_up = true };
        w.n_ifaces = 2;

        put(&w, HEAD "kind: HostEndpoint\nmetadata: {name: local-a, labels: {role: web}}\n"
                     "spec: {node: node1, interfaceName: eth0, expectedIPs: [10.0.0.1], profiles: [p1], ports: [{name: http, protocol: TCP, port: 80}]}\n");
        put(&w, HEAD "kind: HostEndpoint\nmetadata: {name: local-ip}\nspec: {node: node1, expectedIPs: [10.0.0.1]}\n");
        put(&w, HEAD "kind: HostEndpoint\nmetadata: {name: remote-b, labels: {role: db}}\n"
                     "spec: {node: node2, interfaceName: eth0, expectedIPs: [10.9.0.2, \"fd00::2\"], ports: [{name: http, protocol: TCP, port: 8080}]}\n");
        put(&w, HEAD "kind: HostEndpoint\nmetadata: {name: remote-c, labels: {role: web}}\n"
                     "spec: {node: node3, interfaceName: eth0, expectedIPs: [10.9.0.3]}\n");
        put(&w, HEAD "kind: Profile\nmetadata: {name: p1}\nspec: {labelsToApply: {zone: a}, egress: [{action: Allow}]}\n");
        put(&w, HEAD "kind: GlobalNetworkPolicy\nmetadata: {name: web}\n"
                     "spec: {selector: \"role == 'web'\", ingress: [{action: Allow, protocol: TCP, source: {selector: \"role == 'db'\"}, destination: {ports: [http, 443]}},"
                     " {action: Deny, source: {notSelector: \"zone == 'a'\", nets: [10.9.0.0/16, 10.8.0.0/16]}}]}\n");
        put(&w, HEAD "kind: GlobalNetworkPolicy\nmetadata: {name: db}\nspec: {selector: \"zone == 'a'\", order: 5, egress: [{action: Pass}]}\n");
        check_same(&w, cc, kc, "the first run");
        check_same(&w, cc, kc, "a run with no change");

        put(&w, HEAD "kind: HostEndpoint\nmetadata: {name: remote-b, labels: {role: other}}\n"
                     "spec: {node: node2, interfaceName: eth0, expectedIPs: [10.9.0.2, \"fd00::2\"], ports: [{name: http, protocol: TCP, port: 8080}]}\n");
        check_same(&w, cc, kc, "a remote HEP relabelled out of a selector");
        put(&w, HEAD "kind: HostEndpoint\nmetadata: {name: remote-b, labels: {role: db}}\n"
                     "spec: {node: node2, interfaceName: eth0, expectedIPs: [10.9.0.7], ports: [{name: http, protocol: UDP, port: 9}]}\n");
        check_same(&w, cc, kc, "a member's addresses and named port changed (v6 set now empty)");
        put(&w, HEAD "kind: HostEndpoint\nmetadata: {name: remote-d, labels: {role: db}}\n"
                     "spec: {node: node4, interfaceName: eth0, expectedIPs: [\"fd00::4\"], ports: [{name: http, protocol: TCP, port: 81}]}\n");
        check_same(&w, cc, kc, "a HEP added to a selector (v6 set non-empty again)");
        del(&w, KIND_HOST_ENDPOINT, "remote-c");
        check_same(&w, cc, kc, "a HEP deleted");
        put(&w, HEAD "kind: Profile\nmetadata: {name: p1}\nspec: {labelsToApply: {zone: b}, egress: [{action: Allow}]}\n");
        check_same(&w, cc, kc, "a profile's labelsToApply changed");
        put(&w, HEAD "kind: GlobalNetworkPolicy\nmetadata: {name: web}\n"
                     "spec: {selector: \"role == 'web'\", ingress: [{action: Allow, protocol: UDP, destination: {ports: [53]}}]}\n");
        check_same(&w, cc, kc, "a policy edited");
        put(&w, HEAD "kind: Tier\nmetadata: {name: early}\nspec: {order: 1}\n");
        put(&w, HEAD "kind: GlobalNetworkPolicy\nmetadata: {name: early.x}\nspec: {tier: early, selector: all(), ingress: [{action: Pass}]}\n");
        check_same(&w, cc, kc, "a tier and a policy in it added");
        put(&w, HEAD "kind: Tier\nmetadata: {name: early}\nspec: {order: 2000000, defaultAction: Pass}\n");
        check_same(&w, cc, kc, "the tier moved after the default tier, passing at its end");
        /* The same tier again (a new object, as an Apply makes), then a
         * label edit that rebuilds the endpoint's block: the old Tier object
         * must not be referenced any more. */
        put(&w, HEAD "kind: Tier\nmetadata: {name: early}\nspec: {order: 2000000, defaultAction: Pass}\n");
        check_same(&w, cc, kc, "the same tier applied again");
        put(&w, HEAD "kind: HostEndpoint\nmetadata: {name: local-a, labels: {role: web, extra: x}}\n"
                     "spec: {node: node1, interfaceName: eth0, expectedIPs: [10.0.0.1], profiles: [p1], ports: [{name: http, protocol: TCP, port: 80}]}\n");
        check_same(&w, cc, kc, "then a local HEP relabelled");
        /* A rule with more ports than any fixed bound, numeric and named. */
        {
                StrBuf doc = STRBUF_INIT;
                strbuf_append(&doc, HEAD "kind: GlobalNetworkPolicy\nmetadata: {name: many-ports}\n"
                                         "spec: {selector: all(), ingress: [{action: Allow, protocol: TCP, destination: {ports: [http");
                for (int p = 1; p <= 150; p++)
                        strbuf_printf(&doc, ", %d", 1000 + p * 3);
                strbuf_append(&doc, "]}}]}\n");
                put(&w, strbuf_str(&doc));
                strbuf_done(&doc);
        }
        check_same(&w, cc, kc, "a rule with 151 ports");
        del(&w, KIND_GLOBAL_NETWORK_POLICY, "many-ports");
        check_same(&w, cc, kc, "that policy deleted");
        put(&w, HEAD "kind: GlobalNetworkPolicy\nmetadata: {name: db}\nspec: {selector: \"zone == 'b'\", order: 1, egress: [{action: Pass}]}\n");
        check_same(&w, cc, kc, "a policy's order and selector changed");
        del(&w, KIND_GLOBAL_NETWORK_POLICY, "db");
        check_same(&w, cc, kc, "a policy deleted");
        w.ifaces[1].name = (char *)"eth9";
        check_same(&w, cc, kc, "an interface renamed");
        w.n_ifaces = 1;
        check_same(&w, cc, kc, "an interface removed");
        put(&w, HEAD "kind: HostEndpoint\nmetadata: {name: by-ip}\nspec: {node: node1, expectedIPs: [10.0.0.5]}\n");
        put(&w, HEAD "kind: HostEndpoint\nmetadata: {name: by-name}\nspec: {node: node1, interfaceName: eth2}\n");
        check_same(&w, cc, kc, "HEPs for interfaces not there yet");
        w.ifaces[1] = (HostInterface) { .name = (char *)"eth2", .ifindex = 4, .oper_up = true };
        w.ifaces[2] = (HostInterface) { .name = (char *)"eth3", .ifindex = 5, .oper_up = true, .addrs = &b, .n_addrs = 1 };
        w.n_ifaces = 3;
        check_same(&w, cc, kc, "their interfaces hot-plugged");
        w.ifaces[2].n_addrs = 0;
        check_same(&w, cc, kc, "the address gone");
        w.ifaces[1].addrs = &b;
        w.ifaces[1].n_addrs = 1;
        check_same(&w, cc, kc, "the address on the by-name HEP's interface");
        w.n_ifaces = 1;
        check_same(&w, cc, kc, "both interfaces unplugged");
        /* A calculation that is never compiled (the enforcer's, when its
         * computation fails part way) must not let the next one take the
         * previous sets as they were: here a remote selector member goes. */
        put(&w, HEAD "kind: GlobalNetworkPolicy\nmetadata: {name: from-db}\n"
                     "spec: {selector: all(), ingress: [{action: Allow, source: {selector: \"role == 'db'\"}}]}\n");
        check_same(&w, cc, kc, "a policy allowing the db HEPs");
        {
                Calc *lost = NULL;
                del(&w, KIND_HOST_ENDPOINT, "remote-b");
                ASSERT_OK(calc_run(w.res.v, w.res.n, "node1", w.ifaces, w.n_ifaces, cc, &lost));
                calc_free(lost);
        }
        check_same(&w, cc, kc, "one of them deleted in a calculation that was not compiled");
        /* GlobalNetworkSets feed the same sets, with no HEP changed. */
        put(&w, HEAD "kind: GlobalNetworkSet\nmetadata: {name: db-nets, labels: {role: db}}\n"
                     "spec: {nets: [192.0.2.0/24, 192.0.2.128/25, \"2001:db8::/32\"]}\n");
        check_same(&w, cc, kc, "a network set added to a selector");
        check_same(&w, cc, kc, "a run with no change, with a network set");
        put(&w, HEAD "kind: GlobalNetworkSet\nmetadata: {name: db-nets, labels: {role: db}}\n"
                     "spec: {nets: [10.9.0.0/16, 198.51.100.7]}\n");
        check_same(&w, cc, kc, "its nets changed (v6 gone, a HEP's address inside)");
        put(&w, HEAD "kind: GlobalNetworkSet\nmetadata: {name: db-nets, labels: {role: other}}\n"
                     "spec: {nets: [10.9.0.0/16, 198.51.100.7]}\n");
        check_same(&w, cc, kc, "the network set relabelled out of the selector");
        put(&w, HEAD "kind: GlobalNetworkSet\nmetadata: {name: db-nets, labels: {role: db}}\n"
                     "spec: {nets: [203.0.113.0/24]}\n");
        check_same(&w, cc, kc, "and back in");
        {
                Calc *lost = NULL;
                del(&w, KIND_GLOBAL_NETWORK_SET, "db-nets");
                ASSERT_OK(calc_run(w.res.v, w.res.n, "node1", w.ifaces, w.n_ifaces, cc, &lost));
                calc_free(lost);
        }
        check_same(&w, cc, kc, "the network set deleted in a calculation that was not compiled");
        del(&w, KIND_GLOBAL_NETWORK_POLICY, "from-db");
        put(&w, HEAD "kind: HostEndpoint\nmetadata: {name: local-a, labels: {role: web}}\n"
                     "spec: {node: node2, interfaceName: eth0, expectedIPs: [10.0.0.1]}\n");
        check_same(&w, cc, kc, "a local HEP moved to another node");
        ASSERT_TRUE(w.unsettled_seen > 0);

        ruleset_free(w.prev_cached);
        ruleset_free(w.prev_fresh);
        compile_cache_free(kc);
        calc_cache_free(cc);
        resource_list_done(&w.res);
}

/* ---- randomised sequences ---- */

static uint64_t rng = 1;

/* xorshift64*: the same sequence for the same seed, on any machine. */
static unsigned rnd(unsigned n) {
        rng ^= rng >> 12;
        rng ^= rng << 25;
        rng ^= rng >> 27;
        return (unsigned)((rng * 0x2545f4914f6cdd1dull) >> 33) % n;
}

static unsigned env_or(const char *name, unsigned def) {
        const char *v = getenv(name);

        return v && *v ? (unsigned)strtoul(v, NULL, 10) : def;
}

static void del_numbered(World *w, ResourceKind kind, const char *prefix, unsigned n) {
        char name[32];

        snprintf(name, sizeof(name), "%s%u", prefix, n);
        del(w, kind, name);
}

/* HEP h<i>: the first n_local of node1 (by interface name, or by address,
 * some on the addresses the interfaces hold), the others remote; labels,
 * addresses (shared between HEPs at times) and the named port at random. */
static void random_hep(World *w, unsigned i, unsigned n_local) {
        char yaml[1024], ips[128] = "", ports[128] = "", where[64] = "", tier[32] = "";
        unsigned n_ips = 1 + rnd(2);

        for (unsigned k = 0; k < n_ips; k++) {
                char ip[48];
                if (i < n_local && rnd(3) == 0)
                        snprintf(ip, sizeof(ip), "10.0.0.%u", 1 + rnd(2));
                else if (rnd(4) == 0)
                        snprintf(ip, sizeof(ip), "\"fd00::%x\"", rnd(64));
                else
                        snprintf(ip, sizeof(ip), "10.%u.%u.%u", rnd(3), rnd(8), rnd(16));
                snprintf(ips + strlen(ips), sizeof(ips) - strlen(ips), "%s%s", k ? ", " : "", ip);
        }
        if (rnd(3))
                snprintf(ports, sizeof(ports), ", ports: [{name: http, protocol: %s, port: %u}]", rnd(4) ? "TCP" : "UDP",
                         80 + rnd(3));
        if (i < n_local && rnd(2))
                snprintf(where, sizeof(where), "interfaceName: eth%u, ", rnd(4));
        if (rnd(4))
                snprintf(tier, sizeof(tier), ", tier: t%u", rnd(4));
        snprintf(yaml, sizeof(yaml),
                 HEAD "kind: HostEndpoint\nmetadata: {name: h%u, labels: {app: a%u%s}}\n"
                      "spec: {node: node%u, %sexpectedIPs: [%s]%s}\n",
                 i, rnd(6), tier, i < n_local ? 1 : 2 + i % 5, where, ips, ports);
        put(w, yaml);
}

/* Policy p: a selector, and rules that take selectors, named and numeric
 * ports, nets that nest, negations and each action, at random. */
static void random_policy(World *w, unsigned p) {
        static const char *const actions[] = { "Allow", "Deny", "Pass", "Log" };

        char yaml[2048];
        size_t len;
        unsigned n = 1 + rnd(3);

        len = (size_t)snprintf(yaml, sizeof(yaml),
                               HEAD "kind: GlobalNetworkPolicy\nmetadata: {name: pol%u}\nspec:\n  order: %u\n"
                                    "  selector: \"%s\"\n  ingress:\n",
                               p, rnd(20), rnd(5) ? "app == 'a0' || app == 'a1' || app == 'a2'" : "all()");
        if (rnd(5) == 0)
                len = (size_t)snprintf(yaml, sizeof(yaml),
                                       HEAD "kind: GlobalNetworkPolicy\nmetadata: {name: pol%u}\nspec:\n  order: %u\n"
                                            "  selector: \"app == 'a%u'\"\n  ingress:\n",
                                       p, rnd(20), rnd(6));
        for (unsigned r = 0; r < n; r++) {
                char rule[256];
                unsigned v = rnd(4);
                switch (rnd(6)) {
                case 0:
                        snprintf(rule, sizeof(rule),
                                 "protocol: TCP, source: {selector: \"tier == 't%u'\"}, destination: {ports: [http]}", v);
                        break;
                case 1:
                        snprintf(rule, sizeof(rule), "protocol: TCP, destination: {ports: [%u, \"90:95\", 443]}", 90 + v);
                        break;
                case 2:
                        snprintf(rule, sizeof(rule), "source: {nets: [10.%u.0.0/16, 10.1.1.0/24, 10.2.0.0/16]}", v);
                        break;
                case 3:
                        snprintf(rule, sizeof(rule), "protocol: UDP, source: {notSelector: \"app == 'a%u'\"}", v);
                        break;
                case 4:
                        snprintf(rule, sizeof(rule),
                                 "protocol: TCP, destination: {selector: \"tier == 't%u' || app == 'a1'\", notPorts: [22]}", v);
                        break;
                default:
                        snprintf(rule, sizeof(rule), "source: {selector: \"has(tier)\"}, ipVersion: %u", v % 2 ? 4 : 6);
                }
                len += (size_t)snprintf(yaml + len, sizeof(yaml) - len, "  - {action: %s, %s}\n",
                                        actions[rnd(ELEMENTSOF(actions))], rule);
        }
        put(w, yaml);
}

static void random_netset(World *w, unsigned k) {
        char yaml[512];

        snprintf(yaml, sizeof(yaml),
                 HEAD "kind: GlobalNetworkSet\nmetadata: {name: ns%u, labels: {tier: t%u}}\n"
                      "spec: {nets: [10.%u.0.0/16, 10.0.%u.%u/32, \"fd00::%x/128\"]}\n",
                 k, rnd(4), rnd(3), rnd(8), rnd(16), rnd(64));
        put(w, yaml);
}

/* Long random sequences of edits (HEPS, HEP_TEST_STEPS and the seed from
 * the environment, to run one at fleet size by hand: HEP_TEST_HEPS=10000),
 * each checked against a computation from scratch. */
static void test_random_sequences(void) {
        unsigned n_heps = env_or("HEP_TEST_HEPS", 240), n_local = n_heps / 12 + 1, n_pol = n_heps / 10 + 2;
        unsigned steps = env_or("HEP_TEST_STEPS", 150), seeds = env_or("HEP_TEST_SEEDS", 3);
        unsigned first_seed = env_or("HEP_TEST_SEED", 1);

        quiet = true;
        for (unsigned seed = first_seed; seed < first_seed + seeds; seed++) {
                World w = {};
                CalcCache *cc = calc_cache_new();
                CompileCache *kc = compile_cache_new();
                bool *hep = calloc(n_heps, sizeof(bool)), *pol = calloc(n_pol, sizeof(bool)), ns[3] = {};
                IPAddr a[2];
                char what[96];

                ASSERT_TRUE(hep && pol);
                rng = 0x9e3779b97f4a7c15ull * seed;
                ASSERT_TRUE(ipaddr_parse_go("10.0.0.1", &a[0]));
                ASSERT_TRUE(ipaddr_parse_go("10.0.0.2", &a[1]));
                for (int i = 0; i < 4; i++) {
                        static char names[4][8] = { "eth0", "eth1", "eth2", "eth3" };
                        w.ifaces[i] = (HostInterface) { .name = names[i], .ifindex = 2 + i, .oper_up = true };
                }
                w.ifaces[2].addrs = &a[0];
                w.ifaces[2].n_addrs = 1;
                w.ifaces[3].addrs = &a[1];
                w.ifaces[3].n_addrs = 1;
                w.n_ifaces = 4;
                for (unsigned i = 0; i < n_heps; i++, hep[i - 1] = true)
                        random_hep(&w, i, n_local);
                for (unsigned p = 0; p < n_pol; p++, pol[p - 1] = true)
                        random_policy(&w, p);
                check_same(&w, cc, kc, "the first run");
                for (unsigned step = 0; step < steps; step++) {
                        unsigned i = rnd(n_heps), p = rnd(n_pol), k = rnd(3), e = rnd(10);
                        if (e < 4) {
                                random_hep(&w, i, n_local);
                                hep[i] = true;
                                snprintf(what, sizeof(what), "seed %u step %u: HEP h%u put", seed, step, i);
                        } else if (e == 4 && hep[i]) {
                                del_numbered(&w, KIND_HOST_ENDPOINT, "h", i);
                                hep[i] = false;
                                snprintf(what, sizeof(what), "seed %u step %u: HEP h%u deleted", seed, step, i);
                        } else if (e == 5 || (e == 6 && !pol[p])) {
                                random_policy(&w, p);
                                pol[p] = true;
                                snprintf(what, sizeof(what), "seed %u step %u: policy pol%u put", seed, step, p);
                        } else if (e == 6) {
                                del_numbered(&w, KIND_GLOBAL_NETWORK_POLICY, "pol", p);
                                pol[p] = false;
                                snprintf(what, sizeof(what), "seed %u step %u: policy pol%u deleted", seed, step, p);
                        } else if (e == 7 && ns[k]) {
                                del_numbered(&w, KIND_GLOBAL_NETWORK_SET, "ns", k);
                                ns[k] = false;
                                snprintf(what, sizeof(what), "seed %u step %u: network set ns%u deleted", seed, step, k);
                        } else if (e == 7) {
                                random_netset(&w, k);
                                ns[k] = true;
                                snprintf(what, sizeof(what), "seed %u step %u: network set ns%u put", seed, step, k);
                        } else if (e == 8) {
                                HostInterface *h = &w.ifaces[2 + rnd(2)];
                                h->n_addrs = !h->n_addrs;
                                snprintf(what, sizeof(what), "seed %u step %u: %s's address %s", seed, step, h->name,
                                         h->n_addrs ? "added" : "removed");
                        } else
                                snprintf(what, sizeof(what), "seed %u step %u: nothing changed", seed, step);
                        check_same(&w, cc, kc, what);
                }
                printf("  seed %u: %u steps on %u HEPs (%u local), %u policies: cached equals fresh after each\n", seed,
                       steps, n_heps, n_local, n_pol);
                ruleset_free(w.prev_cached);
                ruleset_free(w.prev_fresh);
                compile_cache_free(kc);
                calc_cache_free(cc);
                resource_list_done(&w.res);
                free(hep);
                free(pol);
        }
        quiet = false;
}

int main(void) {
        RUN(test_edit_sequence);
        RUN(test_random_sequences);
        return 0;
}
