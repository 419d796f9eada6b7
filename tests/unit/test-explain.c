/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Explain on compiled rulesets: resources (YAML through the loader) and
 * interfaces in, the same calculation and compiler as the daemon, then one
 * packet walked through the result: the verdict, the tier, policy and rule
 * that decided, and the path. */
#include <netinet/in.h>

#include "tests.h"
#include "calc.h"
#include "check.h"
#include "compile.h"
#include "explain.h"
#include "loader.h"

#define HEAD "---\napiVersion: projectcalico.org/v3\n"
#define HEP(name, spec) \
        HEAD "kind: HostEndpoint\nmetadata: {name: " name ", labels: {role: web}}\nspec: {node: node1, " spec "}\n"
#define GNP(name, spec) HEAD "kind: GlobalNetworkPolicy\nmetadata: {name: " name "}\nspec: " spec "\n"
#define TIER(name, order) HEAD "kind: Tier\nmetadata: {name: " name "}\nspec: {order: " order "}\n"
#define PROFILE(name, spec) HEAD "kind: Profile\nmetadata: {name: " name "}\nspec: " spec "\n"

static Ruleset *compile_yaml(const char *yaml) {
        ResourceList l = RESOURCE_LIST_INIT;
        ParseError e = PARSE_ERROR_INIT;
        HostInterface ifs[] = { { .name = (char *)"eth0", .ifindex = 2, .oper_up = true },
                                { .name = (char *)"eth1", .ifindex = 3, .oper_up = true } };
        Calc *c = NULL;
        Ruleset *rs = NULL;
        char *why = NULL;

        if (resources_parse("t.yaml", yaml, strlen(yaml), &l, &e) < 0)
                TEST_FAIL("load: %s", parse_error_format(&e));
        for (size_t i = 0; i < l.n; i++)
                if (resource_check(l.v[i], &e) < 0)
                        TEST_FAIL("invalid test resource: %s", parse_error_format(&e));
        ASSERT_OK(calc_run(l.v, l.n, "node1", ifs, ELEMENTSOF(ifs), NULL, &c));
        ASSERT_OK(ruleset_compile(c, NULL, &rs));
        if (ruleset_explain_check(rs, &why) < 0)
                TEST_FAIL("explain: %s", why);
        calc_free(c);
        /* The ruleset holds no pointer into the resources. */
        resource_list_done(&l);
        return rs;
}

typedef struct Pkt {
        const char *hook, *iif, *oif, *src, *dst, *proto;
        uint16_t dport;
        uint8_t icmp_type;
        uint16_t sport; /* 0: 40000 */
} Pkt;

static ExplainResult *explain(const Ruleset *rs, Pkt k) {
        ExplainPacket p = { .hook = k.hook, .iifname = k.iif ? k.iif : "", .oifname = k.oif ? k.oif : "",
                            .sport = k.sport ? k.sport : 40000, .dport = k.dport, .icmp_type = k.icmp_type, .ct_new = true };
        ExplainResult *res = NULL;
        char *why = NULL;

        ASSERT_TRUE(ipaddr_parse_go(k.src, &p.src));
        ASSERT_TRUE(ipaddr_parse_go(k.dst, &p.dst));
        p.family = p.src.family;
        ASSERT_OK(explain_parse_protocol(k.proto, &p.proto));
        if (p.proto != IPPROTO_TCP && p.proto != IPPROTO_UDP)
                p.sport = 0;
        if (ruleset_explain_error(rs, &p, &res, &why) < 0)
                TEST_FAIL("explain: %s", why);
        return res;
}

#define IN(port) ((Pkt) { "input", "eth0", NULL, "10.0.0.9", "10.0.0.1", "tcp", port })

static void expect(const ExplainResult *r, const char *action, const char *tier, const char *policy, int rule) {
        /* On a mismatch, the path says why. */
        if (!streq(r->action, action) || !streq_ptr(r->tier, tier) || !streq_ptr(r->policy, policy) || r->rule != rule)
                for (size_t i = 0; i < r->n_steps; i++)
                        fprintf(stderr, "  %s: %s -> %s\n", r->steps[i].chain,
                                r->steps[i].rule ? r->steps[i].rule : "(end)", r->steps[i].result);
        ASSERT_STREQ(r->action, action);
        ASSERT_STREQ(r->tier ? r->tier : "(none)", tier ? tier : "(none)");
        ASSERT_STREQ(r->policy ? r->policy : "(none)", policy ? policy : "(none)");
        ASSERT_EQ(r->rule, rule);
}

static bool path_has(const ExplainResult *r, const char *chain, const char *result) {
        for (size_t i = 0; i < r->n_steps; i++)
                if (streq(r->steps[i].chain, chain) && (!result || streq(r->steps[i].result, result)))
                        return true;
        return false;
}

/* Policies in order: the first that decides wins; the rule index counts
 * Calico rules, not the nft rules (one per family) they render. */
static void test_policy_order(void) {
        Ruleset *rs = compile_yaml(HEP("web", "interfaceName: eth0")
                GNP("a-allow", "{order: 20, selector: \"role == 'web'\", ingress: [{action: Allow, protocol: TCP, "
                               "destination: {ports: [8022, 80]}}]}")
                HEAD "kind: GlobalNetworkSet\nmetadata: {name: lan, labels: {zone: lan}}\n"
                     "spec: {nets: [10.0.0.0/8, \"fd00::/8\"]}\n"
                GNP("b-deny", "{order: 10, selector: \"role == 'web'\", ingress: ["
                              "{action: Deny, protocol: UDP, source: {selector: \"zone == 'lan'\"}}, "
                              "{action: Deny, protocol: TCP, source: {selector: \"zone == 'lan'\"}, "
                              "destination: {ports: [80]}}]}"));
        ExplainResult *r;

        r = explain(rs, IN(80));
        expect(r, "deny", "default", "gnp b-deny", 1);
        ASSERT_TRUE(path_has(r, "input", "jump ep-in.web"));
        ASSERT_TRUE(path_has(r, "pol-in.b-deny", "deny, return"));
        ASSERT_FALSE(path_has(r, "pol-in.a-allow", NULL));
        explain_result_free(r);

        r = explain(rs, IN(8022));
        expect(r, "allow", "default", "gnp a-allow", 0);
        ASSERT_TRUE(path_has(r, "pol-in.b-deny", "end: return"));
        ASSERT_TRUE(path_has(r, "pol-in.a-allow", "allow, return"));
        explain_result_free(r);

        /* Neither: the end of the default tier denies. */
        r = explain(rs, IN(443));
        expect(r, "deny", "default", "default deny", -1);
        explain_result_free(r);

        /* From elsewhere, b-deny does not match: a-allow decides. */
        r = explain(rs, ((Pkt) { "input", "eth0", NULL, "192.168.1.1", "10.0.0.1", "tcp", 80 }));
        expect(r, "allow", "default", "gnp a-allow", 0);
        explain_result_free(r);
        ruleset_free(rs);
}

/* Pass skips the rest of its tier; the next tier decides. A tier whose
 * policies apply but do not decide denies at its end. */
static void test_tiers(void) {
        Ruleset *rs = compile_yaml(HEP("web", "interfaceName: eth0") TIER("security", "100")
                GNP("security.pass-web", "{tier: security, order: 1, selector: \"role == 'web'\", "
                                         "ingress: [{action: Pass, protocol: TCP, destination: {ports: [80]}}]}")
                GNP("security.block", "{tier: security, order: 2, selector: \"role == 'web'\", "
                                      "ingress: [{action: Deny, protocol: TCP, destination: {ports: [80, 81]}}]}")
                GNP("allow-web", "{selector: \"role == 'web'\", ingress: [{action: Allow, protocol: TCP}]}"));
        ExplainResult *r;

        r = explain(rs, IN(80));
        expect(r, "allow", "default", "gnp allow-web", 0);
        ASSERT_TRUE(path_has(r, "pol-in.security.pass-web", "pass, return"));
        ASSERT_FALSE(path_has(r, "pol-in.security.block", NULL));
        explain_result_free(r);

        r = explain(rs, IN(81));
        expect(r, "deny", "security", "gnp security.block", 0);
        explain_result_free(r);

        /* No policy of security decides: its end denies. */
        r = explain(rs, IN(82));
        expect(r, "deny", "security", "default deny", -1);
        explain_result_free(r);
        ruleset_free(rs);
}

/* Profiles after policies; no policy and a profile that allows nothing of
 * the kind: the endpoint's default deny. */
static void test_profiles(void) {
        Ruleset *rs = compile_yaml(HEP("web", "interfaceName: eth0, profiles: [p1, p2]")
                PROFILE("p1", "{ingress: [{action: Deny, protocol: UDP}, {action: Allow, protocol: TCP, "
                              "destination: {ports: [8080]}}]}")
                PROFILE("p2", "{ingress: [{action: Allow, protocol: TCP, destination: {ports: [9090]}}]}"));
        ExplainResult *r;

        r = explain(rs, IN(8080));
        expect(r, "allow", NULL, "profile p1", 1);
        explain_result_free(r);

        r = explain(rs, IN(9090));
        expect(r, "allow", NULL, "profile p2", 0);
        ASSERT_TRUE(path_has(r, "pro-in.p1", "end: return"));
        explain_result_free(r);

        r = explain(rs, ((Pkt) { "input", "eth0", NULL, "10.0.0.9", "10.0.0.1", "udp", 9090 }));
        expect(r, "deny", NULL, "profile p1", 0);
        explain_result_free(r);

        r = explain(rs, IN(1));
        expect(r, "deny", NULL, "default deny", -1);
        explain_result_free(r);

        /* Egress: neither profile has rules that way. */
        r = explain(rs, ((Pkt) { "output", NULL, "eth0", "10.0.0.1", "10.0.0.9", "tcp", 443 }));
        expect(r, "deny", NULL, "default deny", -1);
        explain_result_free(r);
        ruleset_free(rs);
}

/* Failsafe ports pass whatever policy says; an interface without a host
 * endpoint gets no verdict of ours. */
static void test_failsafe_and_none(void) {
        Ruleset *rs = compile_yaml(HEP("web", "interfaceName: eth0")
                GNP("deny-all", "{selector: \"role == 'web'\", types: [Ingress, Egress]}"));
        ExplainResult *r;

        r = explain(rs, IN(22));
        expect(r, "allow", NULL, "failsafe", -1);
        ASSERT_TRUE(path_has(r, "failsafe-in", "goto ct-admit"));
        explain_result_free(r);

        r = explain(rs, IN(23));
        expect(r, "deny", "default", "default deny", -1);
        explain_result_free(r);

        r = explain(rs, ((Pkt) { "input", "eth1", NULL, "10.0.0.9", "10.0.0.1", "tcp", 23 }));
        expect(r, "none", NULL, NULL, -1);
        ASSERT_TRUE(path_has(r, "input", "end: policy accept"));
        explain_result_free(r);

        /* DNS out is a failsafe too (udp 53). */
        r = explain(rs, ((Pkt) { "output", NULL, "eth0", "10.0.0.1", "10.0.0.53", "udp", 53 }));
        expect(r, "allow", NULL, "failsafe", -1);
        explain_result_free(r);
        ruleset_free(rs);
}

/* A named port resolves through the HEP's ports into a set of address .
 * protocol . port: only that endpoint's address and port match. */
static void test_named_ports(void) {
        Ruleset *rs = compile_yaml(
                HEAD "kind: HostEndpoint\nmetadata: {name: web, labels: {role: web}}\n"
                     "spec: {node: node1, interfaceName: eth0, expectedIPs: [10.0.0.1, \"fd00::1\"], "
                     "ports: [{name: http, port: 8080, protocol: TCP}]}\n"
                GNP("allow-http", "{selector: \"role == 'web'\", ingress: [{action: Allow, protocol: TCP, "
                                  "destination: {ports: [http]}}]}"));
        ExplainResult *r;

        r = explain(rs, IN(8080));
        expect(r, "allow", "default", "gnp allow-http", 0);
        explain_result_free(r);

        r = explain(rs, IN(8081));
        expect(r, "deny", "default", "default deny", -1);
        explain_result_free(r);

        /* Another address of the host is not the endpoint's. */
        r = explain(rs, ((Pkt) { "input", "eth0", NULL, "10.0.0.9", "10.0.0.2", "tcp", 8080 }));
        expect(r, "deny", "default", "default deny", -1);
        explain_result_free(r);

        r = explain(rs, ((Pkt) { "input", "eth0", NULL, "fd00::9", "fd00::1", "tcp", 8080 }));
        expect(r, "allow", "default", "gnp allow-http", 0);
        explain_result_free(r);
        ruleset_free(rs);
}

/* IPv6: nets and ICMPv6 by family; neighbour discovery always passes. */
static void test_ipv6(void) {
        Ruleset *rs = compile_yaml(HEP("web", "interfaceName: eth0")
                GNP("v6", "{selector: \"role == 'web'\", ingress: ["
                          "{action: Allow, protocol: TCP, source: {nets: [\"10.1.0.0/16\"]}}, "
                          "{action: Allow, protocol: TCP, source: {nets: [\"fd00:1::/64\"]}, destination: {ports: [443]}}, "
                          "{action: Allow, protocol: ICMPv6, icmp: {type: 128}}]}"));
        ExplainResult *r;

        r = explain(rs, ((Pkt) { "input", "eth0", NULL, "fd00:1::5", "fd00::1", "tcp", 443 }));
        expect(r, "allow", "default", "gnp v6", 1);
        explain_result_free(r);

        r = explain(rs, ((Pkt) { "input", "eth0", NULL, "fd00:2::5", "fd00::1", "tcp", 443 }));
        expect(r, "deny", "default", "default deny", -1);
        explain_result_free(r);

        r = explain(rs, ((Pkt) { "input", "eth0", NULL, "fd00:2::5", "fd00::1", "icmpv6", 0, 128 }));
        expect(r, "allow", "default", "gnp v6", 2);
        explain_result_free(r);

        r = explain(rs, ((Pkt) { "input", "eth0", NULL, "fe80::5", "fe80::1", "icmpv6", 0, 135 }));
        expect(r, "allow", NULL, "neighbour discovery", -1);
        explain_result_free(r);

        r = explain(rs, ((Pkt) { "input", "eth0", NULL, "10.1.2.3", "10.0.0.1", "tcp", 5 }));
        expect(r, "allow", "default", "gnp v6", 0);
        explain_result_free(r);
        ruleset_free(rs);
}

/* applyOnForward, preDNAT and doNotTrack policy: their hooks, in order. */
static void test_forward_prednat_untracked(void) {
        Ruleset *rs = compile_yaml(HEP("web", "interfaceName: eth0")
                GNP("fwd", "{selector: \"role == 'web'\", applyOnForward: true, ingress: [{action: Allow, "
                           "protocol: TCP, destination: {ports: [8000]}}], egress: [{action: Allow}]}")
                GNP("pre", "{selector: \"role == 'web'\", applyOnForward: true, preDNAT: true, ingress: [{action: Deny, "
                           "protocol: TCP, destination: {ports: [8001]}}]}")
                GNP("raw", "{selector: \"role == 'web'\", applyOnForward: true, doNotTrack: true, ingress: [{action: Allow, "
                           "protocol: UDP, destination: {ports: [9000]}}], egress: [{action: Allow, protocol: UDP, "
                           "source: {ports: [9000]}}]}"));
        ExplainResult *r;

        r = explain(rs, ((Pkt) { "forward", "eth0", "eth1", "10.0.0.9", "10.2.0.1", "tcp", 8000 }));
        expect(r, "allow", "default", "gnp fwd", 0);
        explain_result_free(r);

        r = explain(rs, ((Pkt) { "forward", "eth0", "eth1", "10.0.0.9", "10.2.0.1", "tcp", 8001 }));
        expect(r, "deny", "default", "gnp pre", 0);
        ASSERT_TRUE(path_has(r, "prednat", "jump ep-prednat.web"));
        explain_result_free(r);

        r = explain(rs, ((Pkt) { "input", "eth0", NULL, "10.0.0.9", "10.0.0.1", "udp", 9000 }));
        expect(r, "allow", "default", "gnp raw", 0);
        ASSERT_TRUE(path_has(r, "raw-prerouting", "notrack, accept"));
        explain_result_free(r);

        /* Forwarded from an interface without an endpoint to one with: its
         * egress forward policy decides. */
        r = explain(rs, ((Pkt) { "forward", "eth1", "eth0", "10.2.0.1", "10.0.0.9", "tcp", 7 }));
        expect(r, "allow", "default", "gnp fwd", 0);
        explain_result_free(r);
        ruleset_free(rs);
}

/* Source and destination ports are told apart: a reply from a served
 * port, and a port range. */
static void test_ports(void) {
        Ruleset *rs = compile_yaml(HEP("web", "interfaceName: eth0")
                GNP("out", "{selector: \"role == 'web'\", egress: [{action: Allow, protocol: TCP, "
                           "source: {ports: [8080]}}, {action: Allow, protocol: UDP, destination: {ports: [\"6000:6010\"]}}]}"));
        ExplainResult *r;

        r = explain(rs, ((Pkt) { "output", NULL, "eth0", "10.0.0.1", "10.0.0.9", "tcp", 40000, 0, 8080 }));
        expect(r, "allow", "default", "gnp out", 0);
        explain_result_free(r);

        r = explain(rs, ((Pkt) { "output", NULL, "eth0", "10.0.0.1", "10.0.0.9", "tcp", 8080, 0, 40000 }));
        expect(r, "deny", "default", "default deny", -1);
        explain_result_free(r);

        r = explain(rs, ((Pkt) { "output", NULL, "eth0", "10.0.0.1", "10.0.0.9", "udp", 6005 }));
        expect(r, "allow", "default", "gnp out", 1);
        explain_result_free(r);

        r = explain(rs, ((Pkt) { "output", NULL, "eth0", "10.0.0.1", "10.0.0.9", "udp", 6011 }));
        expect(r, "deny", "default", "default deny", -1);
        explain_result_free(r);
        ruleset_free(rs);
}

/* A statement the evaluator does not know is an error naming the rule,
 * never a guess. */
static void test_unknown_rule(void) {
        Ruleset *rs = compile_yaml(HEP("web", "interfaceName: eth0"));
        NftChain *input = ruleset_find_chain(rs, "input");
        ExplainPacket p = { .hook = "input", .iifname = "eth0", .oifname = "", .family = AF_INET,
                            .proto = IPPROTO_TCP, .dport = 80, .ct_new = true };
        ExplainResult *r = NULL;
        char *why = NULL;

        ASSERT_TRUE(ipaddr_parse_go("10.0.0.9", &p.src));
        ASSERT_TRUE(ipaddr_parse_go("10.0.0.1", &p.dst));
        ASSERT_OK(chain_add_rule(input, "tcp flags syn queue num 3"));
        ASSERT_EQ(ruleset_explain_check(rs, &why), -EBADMSG);
        ASSERT_CONTAINS(why, "'tcp flags syn queue num 3' of chain input");
        free(why);
        why = NULL;
        /* eth1 has no endpoint: the packet gets to the new rule. */
        p.iifname = "eth1";
        ASSERT_EQ(ruleset_explain_error(rs, &p, &r, &why), -EBADMSG);
        ASSERT_NULL(r);
        ASSERT_CONTAINS(why, "tcp flags syn queue num 3");
        free(why);
        ruleset_free(rs);
}

int main(void) {
        RUN(test_policy_order);
        RUN(test_tiers);
        RUN(test_profiles);
        RUN(test_failsafe_and_none);
        RUN(test_named_ports);
        RUN(test_ipv6);
        RUN(test_forward_prednat_untracked);
        RUN(test_ports);
        RUN(test_unknown_rule);
        return 0;
}
