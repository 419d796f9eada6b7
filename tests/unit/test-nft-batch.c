/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Netlink batches (kernel/nft-batch.c) against libnftables, in a network
 * namespace of the test's own: each ruleset, and each difference between
 * two, is committed both ways, and the kernel must list the same table
 * (nft's JSON, handles aside) for every shape of rule, set and element
 * the compiler writes, without a single fallback to libnftables. Skips
 * (77) without root. */
#include <sched.h>
#include <stdlib.h>
#include <unistd.h>

#include "tests.h"
#include "calc.h"
#include "check.h"
#include "compile.h"
#include "ipaddr.h"
#include "loader.h"
#include "nft.h"
#include "nft-batch.h"
#include "strbuf.h"

#define HEAD "---\napiVersion: projectcalico.org/v3\n"

/* Every kind of endpoint, rule and setting that changes what the compiler
 * writes: by name, by address (pre-binding, address dispatch), "*",
 * profiles (missing too), selectors and named ports of a remote HEP,
 * network sets, nets and ports inline and in sets (ranges, prefixes on and
 * off byte boundaries), ICMP with codes, negations, Log with a limit,
 * Pass, untracked, pre-DNAT and forward policy, failsafes with nets, and
 * Reject as the deny action. */
#define RICH                                                                                                         \
        HEAD "kind: HostEndpoint\nmetadata: {name: web, labels: {role: web}}\n"                                       \
             "spec: {node: node1, interfaceName: eth0, profiles: [p, projectcalico-default-allow, missing]}\n"        \
        HEAD "kind: HostEndpoint\nmetadata: {name: by-ip, labels: {role: web}}\n"                                     \
             "spec: {node: node1, expectedIPs: [10.0.0.7, \"fd00::7\"]}\n"                                            \
        HEAD "kind: HostEndpoint\nmetadata: {name: star, labels: {role: star}}\nspec: {node: node1, interfaceName: \"*\"}\n" \
        HEAD "kind: HostEndpoint\nmetadata: {name: db, labels: {role: db}}\n"                                         \
             "spec: {node: node2, interfaceName: eth0, expectedIPs: [10.0.0.2, \"fd00::2\"],"                        \
             " ports: [{name: pg, port: 5432, protocol: TCP}, {name: dns, port: 53, protocol: UDP}]}\n"              \
        HEAD "kind: GlobalNetworkSet\nmetadata: {name: nets, labels: {kind: nets}}\n"                                 \
             "spec: {nets: [10.1.0.0/16, 10.2.0.0/24, \"fd01::/64\", 10.3.0.5/32, 10.4.0.0/12]}\n"                   \
        HEAD "kind: Profile\nmetadata: {name: p}\n"                                                                   \
             "spec: {egress: [{action: Log}, {action: Allow, protocol: UDP, destination: {ports: [53]}}],"           \
             " ingress: [{action: Deny}]}\n"                                                                          \
        HEAD "kind: GlobalNetworkPolicy\nmetadata: {name: big}\nspec:\n  selector: \"role == 'web'\"\n  order: 10\n" \
             "  ingress:\n"                                                                                           \
             "  - {action: Allow, protocol: TCP, source: {selector: \"role == 'db'\"}, destination: {ports: [5432, \"8000:8080\", 22]}}\n" \
             "  - {action: Deny, protocol: UDP, source: {notPorts: [1, \"2:3\"]}, destination: {notPorts: [53]}}\n"   \
             "  - {action: Allow, source: {nets: [10.0.0.0/8, 192.168.1.0/24]}}\n"                                    \
             "  - {action: Allow, source: {nets: [\"fd00::/8\", \"fe02::1/128\"]}}\n"                                 \
             "  - {action: Allow, source: {nets: [10.9.0.0/16]}, destination: {notNets: [10.8.0.0/16, 10.7.0.0/16]}}\n" \
             "  - {action: Allow, protocol: ICMP, icmp: {type: 8, code: 0}}\n"                                        \
             "  - {action: Allow, protocol: ICMP, notICMP: {type: 3, code: 1}}\n"                                     \
             "  - {action: Deny, protocol: ICMPv6, notICMP: {type: 128}}\n"                                           \
             "  - {action: Allow, protocol: ICMPv6, icmp: {type: 1, code: 4}}\n"                                      \
             "  - {action: Allow, protocol: TCP, destination: {ports: [pg]}}\n"                                       \
             "  - {action: Allow, protocol: UDP, source: {notSelector: \"kind == 'nets'\"}}\n"                        \
             "  - {action: Allow, source: {selector: \"kind == 'nets'\"}}\n"                                          \
             "  - {action: Log}\n"                                                                                    \
             "  - {action: Pass, ipVersion: 6}\n"                                                                     \
             "  - {action: Deny, notProtocol: TCP}\n"                                                                 \
             "  - {action: Allow, protocol: TCP, destination: {notPorts: [pg]}}\n"                                    \
             "  - {action: Allow, protocol: 132, source: {ports: [1000]}}\n"                                          \
             "  - {action: Allow, protocol: TCP, source: {ports: [1000], nets: [1.2.3.4/32]}, destination: {ports: [80], nets: [10.16.0.0/12]}}\n" \
             "  - {action: Allow, protocol: UDP, source: {ports: [\"1000:2000\"]}, destination: {notPorts: [\"3000:4000\"], notNets: [\"fd00::/17\"]}}\n" \
             "  - {action: Allow, protocol: UDPLite, destination: {notNets: [172.16.0.0/12]}}\n"                     \
             "  egress:\n"                                                                                            \
             "  - {action: Allow, protocol: TCP, destination: {selector: \"role == 'db'\", ports: [pg, 80]}}\n"       \
             "  - {action: Deny, destination: {nets: [1.2.3.4/32]}}\n"                                                \
        HEAD "kind: GlobalNetworkPolicy\nmetadata: {name: untracked}\n"                                               \
             "spec: {selector: \"role == 'web'\", doNotTrack: true, applyOnForward: true,"                           \
             " ingress: [{action: Allow, protocol: UDP, destination: {ports: [123]}}], egress: [{action: Allow}]}\n"  \
        HEAD "kind: GlobalNetworkPolicy\nmetadata: {name: pre}\n"                                                     \
             "spec: {selector: \"role == 'star' || role == 'web'\", preDNAT: true, applyOnForward: true,"            \
             " ingress: [{action: Deny, protocol: TCP, destination: {ports: [23]}}]}\n"                               \
        HEAD "kind: GlobalNetworkPolicy\nmetadata: {name: fwd}\n"                                                     \
             "spec: {selector: \"role == 'web'\", applyOnForward: true, ingress: [{action: Allow, protocol: TCP}],"  \
             " egress: [{action: Deny}]}\n"

#define FELIX_REJECT                                                                                                 \
        HEAD "kind: FelixConfiguration\nmetadata: {name: default}\nspec:\n"                                          \
             "  nftablesFilterDenyAction: Reject\n  logActionRateLimit: 10/second\n  logActionRateLimitBurst: 3\n"  \
             "  failsafeInboundHostPorts: [{protocol: UDP, port: 53, net: 10.0.0.0/8}, {protocol: TCP, port: 22},"  \
             " {protocol: TCP, port: 2222, net: \"fd00::/16\"}]\n"
#define FELIX_RETURN                                                                                                 \
        HEAD "kind: FelixConfiguration\nmetadata: {name: default}\nspec:\n"                                          \
             "  nftablesFilterAllowAction: Return\n  nftablesMangleAllowAction: Return\n"                           \
             "  logActionRateLimit: 5/minute\n  logPrefix: \"%k %n\"\n  disableConntrackInvalidCheck: true\n"

static Ruleset *compile(const char *yaml, const HostInterface *ifs, size_t n_ifs) {
        ResourceList l = RESOURCE_LIST_INIT;
        ParseError e = PARSE_ERROR_INIT;
        Calc *c = NULL;
        Ruleset *rs = NULL;

        if (resources_parse("t.yaml", yaml, strlen(yaml), &l, &e) < 0)
                TEST_FAIL("load: %s", parse_error_format(&e));
        for (size_t i = 0; i < l.n; i++)
                if (resource_check(l.v[i], &e) < 0)
                        TEST_FAIL("invalid test resource: %s", parse_error_format(&e));
        ASSERT_OK(calc_run(l.v, l.n, "node1", ifs, n_ifs, NULL, &c));
        ASSERT_OK(ruleset_compile(c, NULL, &rs));
        calc_free(c);
        resource_list_done(&l);
        return rs;
}

/* The table as nft lists it in JSON, with every handle 0 (the kernel
 * numbers objects per table, from a counter that a new table resets, but
 * the table's own handle is global). */
static char *list_table(NftBackend *b) {
        _cleanup_free_ char *json = NULL, *err = NULL;
        StrBuf out = STRBUF_INIT;
        const char *key = "\"handle\": ";

        if (nft_backend_query_json(b, "list table inet hostendpoint", &json, &err) < 0)
                TEST_FAIL("list table: %s", err ? err : "?");
        for (const char *p = json, *h; *p; p = h) {
                h = strstr(p, key);
                if (!h) {
                        strbuf_append(&out, p);
                        break;
                }
                h += strlen(key);
                strbuf_printf(&out, "%.*s0", (int)(h - p), p);
                h += strspn(h, "0123456789");
        }
        ASSERT_TRUE(strbuf_ok(&out));
        return strbuf_steal(&out);
}

static void delete_table(NftBackend *b) {
        _cleanup_free_ char *out = NULL, *err = NULL;

        (void)nft_backend_query_json(b, "delete table inet hostendpoint", &out, &err);
}

/* Where two listings first differ, with some context. */
static void fail_diff(const char *what, const char *a, const char *b) {
        size_t i = 0;

        while (a[i] && a[i] == b[i])
                i++;
        size_t from = i > 300 ? i - 300 : 0;
        TEST_FAIL("%s: the batch's table differs from libnftables' at byte %zu:\n  text:  ...%.400s\n  batch: ...%.400s",
                  what, i, a + from, b + from);
}

/* Commits yaml's ruleset through libnftables, then (table deleted) as a
 * batch; the two listings must be equal, the batch must not fall back. */
static void check_same(const char *what, const char *yaml, const HostInterface *ifs, size_t n_ifs) {
        _cleanup_(nft_backend_freep) NftBackend *text = NULL, *batch = NULL;
        _cleanup_free_ char *a = NULL, *b = NULL, *err = NULL;
        Ruleset *rs;
        const char *why = NULL;

        ASSERT_OK(nft_backend_new(&text));
        nft_backend_use_batch(text, false);
        ASSERT_OK(nft_backend_new(&batch));
        nft_backend_use_batch(batch, true);

        rs = compile(yaml, ifs, n_ifs);
        if (nft_backend_commit(text, rs, &err) != 1)
                TEST_FAIL("%s: libnftables commit: %s", what, err ? err : "?");
        a = list_table(text);
        delete_table(text);

        rs = compile(yaml, ifs, n_ifs);
        if (nft_backend_commit(batch, rs, &err) != 1)
                TEST_FAIL("%s: batch commit: %s", what, err ? err : "?");
        if (nft_backend_fallbacks(batch, &why) != 0)
                TEST_FAIL("%s: fell back to libnftables: %s", what, why ? why : "?");
        b = list_table(batch);
        delete_table(batch);
        if (!streq(a, b))
                fail_diff(what, a, b);
        ASSERT_TRUE(strlen(a) > 1000);
}

/* eth0 by name; eth1 holds the addresses by-ip expects. */
static IPAddr addrs[2];
static HostInterface ifaces[2];

static void setup_ifaces(void) {
        ASSERT_TRUE(ipaddr_parse_go("10.0.0.7", &addrs[0]));
        ASSERT_TRUE(ipaddr_parse_go("fd00::7", &addrs[1]));
        ifaces[0] = (HostInterface) { .name = (char *)"eth0", .ifindex = 2, .oper_up = true };
        ifaces[1] = (HostInterface) { .name = (char *)"eth1", .ifindex = 3, .oper_up = true, .addrs = addrs, .n_addrs = 2 };
}

static void test_rich_reject(void) {
        check_same("rich, deny Reject", RICH FELIX_REJECT, ifaces, 2);
}

static void test_rich_return(void) {
        check_same("rich, allow Return", RICH FELIX_RETURN, ifaces, 2);
}

static void test_rich_no_interfaces(void) {
        check_same("rich, no interfaces", RICH, NULL, 0);
}

static void test_nothing(void) {
        check_same("no resources", "", ifaces, 2);
}

/* The shape of bench-commit's fleet, smaller: many HEPs, some local, with
 * expected IPs and a named port; policies with selectors, port lists,
 * the named port and a network. */
static void test_fleet(void) {
        enum { N_HEPS = 3000, N_LOCAL = 40, N_POLICIES = 120 };
        HostInterface *ifs = new_array(N_LOCAL, sizeof(HostInterface));
        char (*names)[16] = new_array(N_LOCAL, 16);
        StrBuf y = STRBUF_INIT;

        ASSERT_TRUE(ifs && names);
        for (size_t i = 0; i < N_LOCAL; i++) {
                snprintf(names[i], 16, "eth%zu", i);
                ifs[i] = (HostInterface) { .name = names[i], .ifindex = (int)i + 2, .oper_up = true };
        }
        for (size_t i = 0; i < N_HEPS; i++)
                strbuf_printf(&y,
                              HEAD "kind: HostEndpoint\nmetadata: {name: hep%zu, labels: {app: a%zu, tier: t%zu}}\n"
                                   "spec: {node: %s, interfaceName: eth%zu, expectedIPs: [10.%zu.%zu.%zu, \"fd00::%zx\"],"
                                   " ports: [{name: http, protocol: TCP, port: 8080}]}\n",
                              i, i % 50, i % 7, i < N_LOCAL ? "node1" : "other", i % N_LOCAL, i >> 16, (i >> 8) & 255,
                              i & 255, i);
        for (size_t i = 0; i < N_POLICIES; i++) {
                strbuf_printf(&y,
                              HEAD "kind: GlobalNetworkPolicy\nmetadata: {name: pol%zu}\nspec:\n  order: %zu\n"
                                   "  selector: app == 'a%zu'\n  ingress:\n",
                              i, i, i % 50);
                for (unsigned r = 0; r < 8; r++)
                        strbuf_printf(&y, "  - {action: Allow, protocol: TCP, source: {selector: tier == 't%zu'},"
                                          " destination: {ports: [%u]}}\n", (i + r) % 7, 1000 + r);
                strbuf_printf(&y, "  - {action: Allow, protocol: TCP, destination: {ports: [http]}}\n"
                                  "  - {action: Deny, protocol: UDP, source: {nets: [10.%zu.0.0/16]}}\n", i % 200);
        }
        ASSERT_TRUE(strbuf_ok(&y));
        check_same("fleet", strbuf_str(&y), ifs, N_LOCAL);
        strbuf_done(&y);
        free(names);
        free(ifs);
}

/* A statement the translation does not know: the whole replace goes
 * through libnftables, and says why; no rule is guessed. */
static void test_unknown_falls_back(void) {
        _cleanup_(nft_backend_freep) NftBackend *b = NULL;
        _cleanup_free_ char *err = NULL, *listed = NULL, *reason = NULL;
        Ruleset *rs = ruleset_new();
        const char *why = NULL;
        NftChain *c;

        ASSERT_NOT_NULL(rs);
        c = ruleset_add_chain(rs, "input", "type filter hook input priority filter; policy accept;");
        ASSERT_NOT_NULL(c);
        ASSERT_OK(chain_add_rule(c, "meta l4proto 6 accept"));
        ASSERT_OK(chain_add_rule(c, "meta pkttype host accept"));
        ruleset_finish(rs);
        ASSERT_EQ(nft_batch_translate(rs, &reason), -EOPNOTSUPP);
        ASSERT_CONTAINS(reason, "meta pkttype host accept");

        ASSERT_OK(unsetenv("HEP_NFT_BATCH")); /* not strict: fall back */
        ASSERT_OK(nft_backend_new(&b));
        ASSERT_EQ(nft_backend_commit(b, rs, &err), 1);
        ASSERT_EQ(nft_backend_fallbacks(b, &why), 1);
        ASSERT_CONTAINS(why, "meta pkttype host accept");
        listed = list_table(b);
        ASSERT_CONTAINS(listed, "\"pkttype\"");
        delete_table(b);
}

/* ---- differences ---- */

/* More of everything: a network set that widens the selector's interval
 * set (one net nested in another), an endpoint on an interface that is
 * not there, a policy with its own sets. */
#define EXTRA                                                                                                        \
        HEAD "kind: GlobalNetworkSet\nmetadata: {name: nets2, labels: {kind: nets}}\n"                                \
             "spec: {nets: [10.5.0.0/16, 10.1.2.0/24, \"fd02::/64\"]}\n"                                              \
        HEAD "kind: HostEndpoint\nmetadata: {name: late, labels: {role: web}}\nspec: {node: node1, interfaceName: eth5}\n" \
        HEAD "kind: GlobalNetworkPolicy\nmetadata: {name: late}\n"                                                    \
             "spec: {selector: \"role == 'web'\", order: 5, ingress: [{action: Allow, protocol: TCP,"                  \
             " source: {nets: [10.0.0.0/8, 172.16.0.0/12]}, destination: {ports: [1, 5, \"7:9\"]}}]}\n"

typedef struct Step {
        const char *what, *yaml;
        size_t n_ifs;
} Step;

/* Each step's ruleset committed as the difference to the one before:
 * through libnftables from text, and (table deleted) as netlink batches
 * from the same steps; after each, the kernel must list the same table,
 * and the batches never fall back. */
static void test_differences(void) {
        static const Step steps[] = {
                { "rich", RICH, 2 },
                { "more of everything", RICH EXTRA, 2 },
                { "deny Reject, the extras gone", RICH FELIX_REJECT, 2 },
                { "no interfaces", RICH, 0 },
                { "nothing", "", 2 },
                { "allow Return", RICH FELIX_RETURN, 2 },
                { "more again", RICH FELIX_RETURN EXTRA, 0 },
        };
        _cleanup_(nft_backend_freep) NftBackend *text = NULL, *batch = NULL;
        char *listed[ELEMENTSOF(steps)];
        const char *why = NULL;
        char *err = NULL;

        ASSERT_OK(nft_backend_new(&text));
        nft_backend_use_batch(text, false);
        ASSERT_OK(nft_backend_new(&batch));
        nft_backend_use_batch(batch, true);

        for (size_t i = 0; i < ELEMENTSOF(steps); i++) {
                if (nft_backend_commit(text, compile(steps[i].yaml, ifaces, steps[i].n_ifs), &err) < 0)
                        TEST_FAIL("%s: libnftables commit: %s", steps[i].what, err ? err : "?");
                listed[i] = list_table(text);
        }
        delete_table(text);
        for (size_t i = 0; i < ELEMENTSOF(steps); i++) {
                if (nft_backend_commit(batch, compile(steps[i].yaml, ifaces, steps[i].n_ifs), &err) != 1)
                        TEST_FAIL("%s: batch commit: %s", steps[i].what, err ? err : "?");
                if (nft_backend_fallbacks(batch, &why) != 0)
                        TEST_FAIL("%s: fell back to libnftables: %s", steps[i].what, why ? why : "?");
                _cleanup_free_ char *b = list_table(batch);
                if (!streq(listed[i], b))
                        fail_diff(steps[i].what, listed[i], b);
                free(listed[i]);
        }
        /* The same ruleset again: nothing to send. */
        ASSERT_EQ(nft_backend_commit(batch, compile(steps[ELEMENTSOF(steps) - 1].yaml, ifaces, 0), &err), 0);
        delete_table(batch);
}

/* A table someone set dormant is woken by the next commit, a batch that
 * only clears its flags. */
static void test_restore_flags(void) {
        _cleanup_(nft_backend_freep) NftBackend *b = NULL, *hand = NULL;
        _cleanup_free_ char *out = NULL, *err = NULL;

        ASSERT_OK(nft_backend_new(&b));
        ASSERT_OK(nft_backend_new(&hand));
        ASSERT_EQ(nft_backend_commit(b, compile(RICH, ifaces, 2), &err), 1);
        ASSERT_OK(nft_backend_query_json(hand, "add table inet hostendpoint { flags dormant; }", &out, &err));
        free(out);
        /* (nft 1.0.6's JSON names the flags wrongly, but has them only then.) */
        out = list_table(hand);
        ASSERT_CONTAINS(out, "\"name\": \"hostendpoint\", \"handle\": 0, \"flags\"");
        free(out);
        nft_backend_restore_flags(b);
        ASSERT_EQ(nft_backend_commit(b, compile(RICH, ifaces, 2), &err), 1);
        ASSERT_EQ(nft_backend_fallbacks(b, NULL), 0);
        out = list_table(hand);
        ASSERT_FALSE(strstr(out, "\"name\": \"hostendpoint\", \"handle\": 0, \"flags\""));
        delete_table(b);
}

int main(void) {
        if (geteuid() != 0 || unshare(CLONE_NEWNET) < 0) {
                printf("skipping: needs root and network namespaces\n");
                return 77;
        }
        setup_ifaces();
        RUN(test_rich_reject);
        RUN(test_rich_return);
        RUN(test_rich_no_interfaces);
        RUN(test_nothing);
        RUN(test_fleet);
        RUN(test_differences);
        RUN(test_restore_flags);
        RUN(test_unknown_falls_back);
        return 0;
}
