/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The nftables backend against the real kernel, in a network namespace of
 * the test's own (unshare(CLONE_NEWNET): it disappears with the process).
 * A re-commit after a policy edit must touch only that policy's chain; a
 * new host endpoint only adds its chains and map entries; what is in the
 * kernel must equal the ruleset we computed. Skips (77) without root. */
#include <arpa/inet.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <sched.h>
#include <unistd.h>
/* After <netinet/in.h> (through arpa/inet.h), so that the kernel headers defer to libc's. */
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "tests.h"
#include "calc.h"
#include "check.h"
#include "compile.h"
#include "loader.h"
#include "nft.h"
#include "nft-counters.h"
#include "parse.h"

static ResourceList load(const char *yaml) {
        ResourceList l = RESOURCE_LIST_INIT;
        ParseError e = PARSE_ERROR_INIT;

        ASSERT_OK(resources_parse("t.yaml", yaml, strlen(yaml), &l, &e));
        for (size_t i = 0; i < l.n; i++)
                ASSERT_OK(resource_check(l.v[i], &e));
        return l;
}

/* With caches, as the daemon compiles; without, everything is new. */
static Ruleset *compile_cached(const char *yaml, const HostInterface *ifaces, size_t n_ifaces, CalcCache *cc,
                               CompileCache *kc) {
        ResourceList l = load(yaml);
        Calc *c = NULL;
        Ruleset *rs = NULL;

        ASSERT_OK(calc_run(l.v, l.n, "node1", ifaces, n_ifaces, cc, &c));
        ASSERT_OK(ruleset_compile(c, kc, &rs));
        calc_free(c);
        resource_list_done(&l);
        return rs;
}

static Ruleset *compile(const char *yaml) {
        return compile_cached(yaml, NULL, 0, NULL, NULL);
}

/* The kernel's rule handles of one chain, as "h1,h2,...". */
static char *chain_handles(NftBackend *b, const char *chain) {
        _cleanup_free_ char *json = NULL, *err = NULL, *cmd = NULL;
        DocumentList docs = DOCUMENT_LIST_INIT;
        ParseError e = PARSE_ERROR_INIT;
        StrBuf out = STRBUF_INIT;

        ASSERT_TRUE(asprintf(&cmd, "list chain inet hostendpoint %s", chain) > 0);
        ASSERT_OK(nft_backend_query_json(b, cmd, &json, &err));
        ASSERT_OK(parse_documents("nft.json", json, strlen(json), &docs, &e));
        const Node *items = node_map_get(docs.docs[0].root, "nftables");
        ASSERT_NOT_NULL(items);
        for (size_t i = 0; i < items->n; i++) {
                const Node *rule = node_map_get(items->items[i], "rule");
                if (rule)
                        strbuf_printf(&out, "%s,", node_map_get(rule, "handle")->text);
        }
        document_list_done(&docs);
        return strbuf_steal(&out);
}

#define BASE                                                                                                   \
        "---\napiVersion: projectcalico.org/v3\nkind: HostEndpoint\nmetadata: {name: h, labels: {role: web}}\n" \
        "spec: {node: node1, interfaceName: eth0}\n"                                                            \
        "---\napiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: other}\n"           \
        "spec: {ingress: [{action: Allow, protocol: UDP}]}\n"
#define POLICY(port)                                                                                     \
        "---\napiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: web}\n"       \
        "spec: {selector: \"role == 'web'\", ingress: [{action: Allow, protocol: TCP, destination: {ports: [" port "]}}]}\n"

/* Editing one policy re-sends only its chain; the endpoint chain and the
 * other policy keep their kernel rule handles (they were not touched). */
static void test_policy_edit_is_minimal(void) {
        _cleanup_(nft_backend_freep) NftBackend *b = NULL;
        Ruleset *a = compile(BASE POLICY("80")), *c = compile(BASE POLICY("8080"));
        StrBuf diff = STRBUF_INIT;
        char *err = NULL;

        ASSERT_OK(nft_backend_new(&b));
        ASSERT_OK(nft_backend_commit(b, a, &err));
        char *ep_before = chain_handles(b, "ep-in.h"), *other_before = chain_handles(b, "pol-in.other");
        char *web_before = chain_handles(b, "pol-in.web");

        ruleset_commands_diff(a, c, &diff);
        ASSERT_STREQ(strbuf_str(&diff), "flush chain inet hostendpoint pol-in.web\n"
                                        "add rule inet hostendpoint pol-in.web meta l4proto 6 th dport 8080 "
                                        "meta mark set meta mark | 0x00010000 return\n");
        strbuf_done(&diff);
        ASSERT_OK(nft_backend_commit(b, c, &err));

        char *ep_after = chain_handles(b, "ep-in.h"), *other_after = chain_handles(b, "pol-in.other");
        char *web_after = chain_handles(b, "pol-in.web");
        ASSERT_STREQ(ep_after, ep_before);
        ASSERT_STREQ(other_after, other_before);
        ASSERT_FALSE(streq(web_after, web_before));
        free(ep_before), free(ep_after), free(other_before), free(other_after), free(web_before), free(web_after);
}

/* A new host endpoint adds its chains and map elements, nothing else. */
static void test_new_endpoint_adds_only(void) {
        _cleanup_(nft_backend_freep) NftBackend *b = NULL;
        Ruleset *a = compile(BASE), *c = compile(BASE "---\napiVersion: projectcalico.org/v3\nkind: HostEndpoint\n"
                                                    "metadata: {name: h2}\nspec: {node: node1, interfaceName: eth7}\n");
        StrBuf diff = STRBUF_INIT;
        char *err = NULL;

        ASSERT_OK(nft_backend_new(&b));
        ASSERT_OK(nft_backend_commit(b, a, &err));
        ruleset_commands_diff(a, c, &diff);
        ASSERT_FALSE(strstr(strbuf_str(&diff), "flush chain"));
        ASSERT_FALSE(strstr(strbuf_str(&diff), "delete"));
        ASSERT_CONTAINS(strbuf_str(&diff), "add element inet hostendpoint disp-in { \"eth7\" : jump ep-in.h2 }");
        ASSERT_CONTAINS(strbuf_str(&diff), "add chain inet hostendpoint ep-in.h2");
        strbuf_done(&diff);
        ASSERT_OK(nft_backend_commit(b, c, &err));

        /* And back: removing it deletes exactly what it added. */
        Ruleset *d = compile(BASE);
        ASSERT_OK(nft_backend_commit(b, d, &err));
        char *json = NULL;
        ASSERT_OK(nft_backend_query_json(b, "list table inet hostendpoint", &json, &err));
        ASSERT_FALSE(strstr(json, "eth7"));
        ASSERT_FALSE(strstr(json, "ep-in.h2"));
        free(json);
}

/* A HEP matched by expectedIPs has its chains before its address shows
 * up; binding it then adds plain set elements only: no element that jumps,
 * which would make the kernel validate the whole ruleset again. Its
 * traffic reaches its chain through the address dispatch chain. Settling
 * then moves it to the dispatch maps, in one transaction. */
static void test_bind_by_address_adds_plain_elements(void) {
        static const char yaml[] = BASE "---\napiVersion: projectcalico.org/v3\nkind: HostEndpoint\n"
                                        "metadata: {name: byip, labels: {role: web}}\nspec: {node: node1, expectedIPs: [10.0.0.9]}\n";
        _cleanup_(nft_backend_freep) NftBackend *b = NULL;
        _cleanup_(calc_cache_freep) CalcCache *cc = calc_cache_new();
        _cleanup_(compile_cache_freep) CompileCache *kc = compile_cache_new();
        IPAddr a;
        ASSERT_TRUE(ipaddr_parse_go("10.0.0.9", &a));
        HostInterface eth5 = { .name = (char *)"eth5", .ifindex = 7, .oper_up = true, .addrs = &a, .n_addrs = 1 };
        Ruleset *waiting = compile_cached(yaml, NULL, 0, cc, kc), *bound = compile_cached(yaml, &eth5, 1, cc, kc);
        StrBuf diff = STRBUF_INIT;
        char *err = NULL, *json = NULL;

        ASSERT_NOT_NULL(ruleset_find_chain(waiting, "disp-addr-in"));
        ASSERT_NOT_NULL(ruleset_find_block(waiting, "byip"));
        ASSERT_EQ(bound->n_unsettled, 1);
        ASSERT_OK(nft_backend_new(&b));
        ASSERT_OK(nft_backend_commit(b, waiting, &err));
        ruleset_commands_diff(waiting, bound, &diff);
        /* The address is bound too: pre-binding steps aside for it (a
         * plain element as well). Protection begins: a new conntrack
         * generation, in plain elements too (no rule, which would make
         * the kernel check the whole table), so that flows admitted
         * before go through policy again. */
        ASSERT_STREQ(strbuf_str(&diff), "delete element inet hostendpoint ct-gen { 0x00100000 }\n"
                                        "delete element inet hostendpoint ct-stamp { 0x00000000 : 0x00100000 }\n"
                                        "add element inet hostendpoint ep-ifs.byip { \"eth5\" }\n"
                                        "add element inet hostendpoint addr-ifnames { \"eth5\" }\n"
                                        "add element inet hostendpoint prebind-bound4 { 10.0.0.9 }\n"
                                        "add element inet hostendpoint own-ifnames { \"eth5\" }\n"
                                        "add element inet hostendpoint ct-gen { 0x00200000 }\n"
                                        "add element inet hostendpoint ct-stamp { 0x00000000 : 0x00200000 }\n");
        strbuf_done(&diff);
        ASSERT_OK(nft_backend_commit(b, bound, &err));
        ASSERT_OK(nft_backend_query_json(b, "list chain inet hostendpoint disp-addr-in", &json, &err));
        ASSERT_CONTAINS(json, "ep-ifs.byip");
        ASSERT_CONTAINS(json, "ep-in.byip");
        free(json);

        /* Unchanged, it stays as it is; settled, it moves to the maps. */
        Ruleset *again = compile_cached(yaml, &eth5, 1, cc, kc);
        ASSERT_EQ(again->n_unsettled, 1);
        ruleset_commands_diff(bound, again, &diff);
        ASSERT_EQ(diff.len, 0);
        ASSERT_OK(nft_backend_commit(b, again, &err));
        compile_cache_settle_next(kc);
        Ruleset *settled = compile_cached(yaml, &eth5, 1, cc, kc);
        ASSERT_EQ(settled->n_unsettled, 0);
        ruleset_commands_diff(again, settled, &diff);
        ASSERT_CONTAINS(strbuf_str(&diff), "delete element inet hostendpoint ep-ifs.byip { \"eth5\" }");
        ASSERT_CONTAINS(strbuf_str(&diff), "delete element inet hostendpoint addr-ifnames { \"eth5\" }");
        ASSERT_CONTAINS(strbuf_str(&diff), "add element inet hostendpoint disp-in { \"eth5\" : jump ep-in.byip }");
        ASSERT_FALSE(strstr(strbuf_str(&diff), "own-ifnames"));
        ASSERT_FALSE(strstr(strbuf_str(&diff), "chain"));
        strbuf_done(&diff);
        ASSERT_OK(nft_backend_commit(b, settled, &err));

        /* A settled interface stays in the maps; its address gone, it leaves them. */
        Ruleset *still = compile_cached(yaml, &eth5, 1, cc, kc), *gone = compile_cached(yaml, NULL, 0, cc, kc);
        ASSERT_EQ(still->n_unsettled, 0);
        ruleset_commands_diff(still, gone, &diff);
        ASSERT_CONTAINS(strbuf_str(&diff), "delete element inet hostendpoint disp-in { \"eth5\" : jump ep-in.byip }");
        strbuf_done(&diff);
        ASSERT_OK(nft_backend_commit(b, still, &err));
        ASSERT_OK(nft_backend_commit(b, gone, &err));
}

/* Committing the same ruleset again sends nothing. */
static void test_idempotent(void) {
        _cleanup_(nft_backend_freep) NftBackend *b = NULL;
        Ruleset *a = compile(BASE), *c = compile(BASE);
        StrBuf diff = STRBUF_INIT;
        char *err = NULL;

        ASSERT_OK(nft_backend_new(&b));
        ASSERT_OK(nft_backend_commit(b, a, &err));
        ruleset_commands_diff(a, c, &diff);
        ASSERT_EQ(diff.len, 0);
        strbuf_done(&diff);
        ASSERT_OK(nft_backend_commit(b, c, &err));
}

/* The first commit replaces a table left by an earlier run in one
 * transaction (no flush first), whatever it contained. */
static void test_replace_existing(void) {
        _cleanup_(nft_backend_freep) NftBackend *b = NULL, *b2 = NULL;
        char *err = NULL, *json = NULL;

        ASSERT_OK(nft_backend_new(&b));
        ASSERT_OK(nft_backend_commit(b, compile(BASE POLICY("80")), &err));
        ASSERT_OK(nft_backend_new(&b2)); /* a restarted daemon */
        ASSERT_OK(nft_backend_commit(b2, compile(BASE), &err));
        ASSERT_OK(nft_backend_query_json(b2, "list table inet hostendpoint", &json, &err));
        ASSERT_FALSE(strstr(json, "pol-in.web"));
        ASSERT_TRUE(strstr(json, "pol-in.other"));
        free(json);
}

static int on_generation(struct nl_msg *msg, void *arg) {
        struct nlattr *tb[NFTA_GEN_MAX + 1];

        if (nlmsg_parse(nlmsg_hdr(msg), sizeof(struct nfgenmsg), tb, NFTA_GEN_MAX, NULL) >= 0 && tb[NFTA_GEN_ID])
                *(uint32_t *)arg = ntohl(nla_get_u32(tb[NFTA_GEN_ID]));
        return NL_OK;
}

/* The kernel's ruleset generation: every transaction that changes
 * anything moves it. */
static uint32_t ruleset_generation(void) {
        struct nfgenmsg g = { .nfgen_family = AF_UNSPEC, .version = NFNETLINK_V0 };
        struct nl_sock *sk = nl_socket_alloc();
        struct nl_msg *m = nlmsg_alloc_simple((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETGEN, NLM_F_REQUEST);
        uint32_t gen = 0;

        ASSERT_NOT_NULL(sk);
        ASSERT_NOT_NULL(m);
        ASSERT_TRUE(nl_connect(sk, NETLINK_NETFILTER) >= 0);
        ASSERT_TRUE(nlmsg_append(m, &g, sizeof(g), NLMSG_ALIGNTO) >= 0);
        ASSERT_TRUE(nl_send_auto(sk, m) >= 0);
        nlmsg_free(m);
        ASSERT_TRUE(nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, on_generation, &gen) >= 0);
        ASSERT_TRUE(nl_recvmsgs_default(sk) >= 0);
        nl_socket_free(sk);
        ASSERT_TRUE(gen != 0);
        return gen;
}

/* Warming libnftables' cache after a commit changes nothing in the kernel,
 * the next commit still lands right, and a table deleted behind our back
 * is not brought back by it. Listings go through a second backend, so as
 * not to touch the first one's cache. */
static void test_warming_changes_nothing(void) {
        _cleanup_(nft_backend_freep) NftBackend *b = NULL, *reader = NULL;
        char *err = NULL, *before = NULL, *after = NULL;

        ASSERT_OK(nft_backend_new(&b));
        ASSERT_OK(nft_backend_new(&reader));
        nft_backend_use_batch(b, false); /* commits through libnftables, whose cache it is */
        ASSERT_FALSE(nft_backend_cold(b)); /* nothing committed */
        ASSERT_OK(nft_backend_commit(b, compile(BASE), &err));
        ASSERT_TRUE(nft_backend_cold(b));
        ASSERT_OK(nft_backend_query_json(reader, "list table inet hostendpoint", &before, &err));
        uint32_t gen = ruleset_generation();
        nft_backend_warm(b);
        ASSERT_FALSE(nft_backend_cold(b));
        ASSERT_EQ(ruleset_generation(), gen); /* no transaction took place */
        ASSERT_OK(nft_backend_query_json(reader, "list table inet hostendpoint", &after, &err));
        ASSERT_STREQ(after, before);
        free(after);
        free(before);

        ASSERT_OK(nft_backend_commit(b, compile(BASE POLICY("80")), &err));
        ASSERT_TRUE(ruleset_generation() != gen); /* as a commit does */
        ASSERT_OK(nft_backend_query_json(reader, "list chain inet hostendpoint pol-in.web", &after, &err));
        ASSERT_CONTAINS(after, "80");
        free(after);

        ASSERT_TRUE(nft_backend_cold(b));
        ASSERT_OK(nft_backend_query_json(reader, "delete table inet hostendpoint", &after, &err));
        free(after);
        nft_backend_warm(b);
        ASSERT_OK(nft_backend_query_json(reader, "list tables", &after, &err));
        ASSERT_FALSE(strstr(after, "hostendpoint"));
        free(after);
}

/* Names up to Kubernetes' 253 characters make valid kernel object names
 * (shortened with a hash), and each endpoint gets its named counters. */
static void test_long_names_and_counters(void) {
        _cleanup_(nft_backend_freep) NftBackend *b = NULL;
        char name[254], accepted[256], dropped[256], yaml[2048];
        char *err = NULL, *json = NULL;

        memset(name, 'a', 253);
        name[253] = 0;
        name[100] = '.';
        snprintf(yaml, sizeof(yaml),
                 "---\napiVersion: projectcalico.org/v3\nkind: HostEndpoint\nmetadata: {name: %s}\n"
                 "spec: {node: node1, interfaceName: eth1}\n"
                 "---\napiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: %s}\n"
                 "spec: {ingress: [{action: Allow}]}\n", name, name);
        ASSERT_OK(nft_backend_new(&b));
        ASSERT_OK(nft_backend_commit(b, compile(yaml), &err));
        endpoint_counter_names(name, accepted, dropped);
        ASSERT_TRUE(strlen(accepted) < 256);
        ASSERT_OK(nft_backend_query_json(b, "list counters table inet hostendpoint", &json, &err));
        ASSERT_TRUE(strstr(json, accepted));
        ASSERT_TRUE(strstr(json, dropped));
        free(json);
        NftCounters counters;
        ASSERT_OK(nft_counters_read(&counters));
        ASSERT_EQ(counters.n, 2); /* the one endpoint: accepted, dropped */
        ASSERT_NOT_NULL(nft_counters_get(&counters, accepted));
        ASSERT_EQ(nft_counters_get(&counters, dropped)->packets, 0);
        nft_counters_done(&counters);
        /* Gone with the endpoint. */
        ASSERT_OK(nft_backend_commit(b, compile(BASE), &err));
        ASSERT_OK(nft_backend_query_json(b, "list counters table inet hostendpoint", &json, &err));
        ASSERT_FALSE(strstr(json, accepted));
        ASSERT_TRUE(strstr(json, "ep-accepted.h"));
        free(json);
}

/* Nets and ports that overlap, as Calico accepts them, make interval sets
 * the kernel takes: a net inside another is dropped, overlapping or
 * touching port ranges merged, in a full replace and in a diff alike. */
#define OVERLAPPING                                                                                            \
        "---\napiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: overlap}\n"          \
        "spec: {ingress: [{action: Allow, protocol: TCP, source: {nets: [fd00::/8, fd02::1/128, fd00:1::/32]}}, " \
        "{action: Allow, protocol: TCP, source: {nets: [10.0.0.0/8, 10.1.2.3/32, 10.1.0.0/16, 192.168.1.0/24, "  \
        "192.168.1.0/24]}, destination: {ports: [80, \"70:90\", 443, 444, \"1000:2000\", 1500, 22]}}]}\n"
static void test_overlapping_nets_and_ports(void) {
        _cleanup_(nft_backend_freep) NftBackend *b = NULL;
        char *err = NULL, *json = NULL;

        ASSERT_OK(nft_backend_new(&b));
        ASSERT_OK(nft_backend_commit(b, compile(BASE OVERLAPPING), &err));
        ASSERT_OK(nft_backend_query_json(b, "list table inet hostendpoint", &json, &err));
        ASSERT_CONTAINS(json, "\"fd00::\"");
        ASSERT_FALSE(strstr(json, "fd02::1"));
        ASSERT_FALSE(strstr(json, "10.1."));
        ASSERT_CONTAINS(json, "192.168.1.0");
        ASSERT_FALSE(strstr(json, "\"1500\""));
        ASSERT_CONTAINS(json, "{\"range\": [70, 90]}");
        ASSERT_CONTAINS(json, "{\"range\": [443, 444]}");
        free(json);
        /* As a diff: from a table without the policy, and back. */
        ASSERT_OK(nft_backend_commit(b, compile(BASE), &err));
        ASSERT_OK(nft_backend_commit(b, compile(BASE OVERLAPPING), &err));
        ASSERT_OK(nft_backend_query_json(b, "list chain inet hostendpoint pol-in.overlap", &json, &err));
        ASSERT_CONTAINS(json, "@nets");
        free(json);
}

int main(void) {
        if (geteuid() != 0 || unshare(CLONE_NEWNET) < 0) {
                printf("skipping: needs root and network namespaces\n");
                return 77;
        }
        RUN(test_policy_edit_is_minimal);
        RUN(test_new_endpoint_adds_only);
        RUN(test_bind_by_address_adds_plain_elements);
        RUN(test_idempotent);
        RUN(test_replace_existing);
        RUN(test_long_names_and_counters);
        RUN(test_warming_changes_nothing);
        RUN(test_overlapping_nets_and_ports);
        return 0;
}
