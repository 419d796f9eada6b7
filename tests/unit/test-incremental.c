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

        ASSERT_OK(resources_parse("t.yaml", yaml, strlen(yaml), &l, &e));
        ASSERT_EQ(l.n, 1);
        ASSERT_OK(resource_check(l.v[0], &e));
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

int main(void) {
        RUN(test_edit_sequence);
        return 0;
}
