/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The policy calculation: which HEP each interface uses and why, policy
 * order per flavour and direction, profiles, failsafes, selector IPs and
 * named ports — Felix's rules, checked one by one. */
#include <netinet/in.h>

#include "tests.h"
#include "calc.h"
#include "check.h"
#include "loader.h"
#include "strbuf.h"

static ResourceList load(const char *yaml) {
        ResourceList l = RESOURCE_LIST_INIT;
        ParseError e = PARSE_ERROR_INIT;

        if (resources_parse("t.yaml", yaml, strlen(yaml), &l, &e) < 0) {
                char *m = parse_error_format(&e);
                TEST_FAIL("load: %s", m);
        }
        for (size_t i = 0; i < l.n; i++)
                if (resource_check(l.v[i], &e) < 0) {
                        char *m = parse_error_format(&e);
                        TEST_FAIL("invalid test resource: %s", m);
                }
        return l;
}

static HostInterface iface(const char *name, int index, const char *addr) {
        HostInterface i = { .name = (char *)name, .ifindex = index, .oper_up = true };
        if (addr) {
                i.addrs = calloc(1, sizeof(IPAddr));
                ASSERT_TRUE(ipaddr_parse_go(addr, &i.addrs[0]));
                i.n_addrs = 1;
        }
        return i;
}

static Calc *run(ResourceList *l, HostInterface *ifs, size_t n) {
        Calc *c = NULL;
        ASSERT_OK(calc_run(l->v, l->n, "node1", ifs, n, NULL, &c));
        return c;
}

static void ifaces_done(HostInterface *ifs, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(ifs[i].addrs);
}

#define HEP(name, extra) \
        "---\napiVersion: projectcalico.org/v3\nkind: HostEndpoint\nmetadata: {name: " name "}\nspec: {node: node1, " extra "}\n"
#define GNP(name, spec) \
        "---\napiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: " name "}\nspec: " spec "\n"

static const Endpoint *ep(const Calc *c, const char *name) {
        const Endpoint *e = calc_find_endpoint(c, name);
        ASSERT_NOT_NULL(e);
        return e;
}

/* By name; a named HEP for an absent interface is enforced by name (waiting). */
static void test_match_by_name(void) {
        ResourceList l = load(HEP("a", "interfaceName: eth0") HEP("b", "interfaceName: eth9"));
        HostInterface ifs[] = { iface("eth0", 2, NULL) };
        Calc *c = run(&l, ifs, 1);
        ASSERT_EQ(ep(c, "a")->state, ENDPOINT_ENFORCED);
        ASSERT_EQ(ep(c, "a")->n_ifindexes, 1);
        ASSERT_EQ(ep(c, "b")->state, ENDPOINT_WAITING);
        ASSERT_EQ(ep(c, "b")->n_ifnames, 1);
        ASSERT_STREQ(ep(c, "b")->ifnames[0], "eth9");
        ASSERT_CONTAINS(ep(c, "b")->reason, "does not exist yet");
        ASSERT_TRUE(calc_endpoint_for_interface(c, "eth9") == ep(c, "b"));
        calc_free(c);
        ifaces_done(ifs, 1);
        resource_list_done(&l);
}

/* By expectedIPs when interfaceName is empty; waits with no address. */
static void test_match_by_ip(void) {
        ResourceList l = load(HEP("a", "expectedIPs: [10.0.0.1]") HEP("b", "expectedIPs: [\"fd00::1\", 10.9.9.9]"));
        HostInterface ifs[] = { iface("eth0", 2, "10.0.0.1"), iface("eth1", 3, "fd00:0::1") };
        Calc *c = run(&l, ifs, 2);
        ASSERT_EQ(ep(c, "a")->state, ENDPOINT_ENFORCED);
        ASSERT_STREQ(ep(c, "a")->ifnames[0], "eth0");
        ASSERT_EQ(ep(c, "b")->state, ENDPOINT_ENFORCED);
        ASSERT_STREQ(ep(c, "b")->ifnames[0], "eth1");
        calc_free(c);
        ifaces_done(ifs, 2);
        resource_list_done(&l);

        l = load(HEP("a", "expectedIPs: [10.0.0.1]"));
        c = run(&l, NULL, 0);
        ASSERT_EQ(ep(c, "a")->state, ENDPOINT_WAITING);
        ASSERT_EQ(ep(c, "a")->n_ifnames, 0);
        ASSERT_STREQ(ep(c, "a")->reason, "no interface has the address 10.0.0.1");
        calc_free(c);
        resource_list_done(&l);
}

/* An interface may hold one address several times (different prefix
 * lengths) and a HEP may list it twice: still one binding, one claimant. */
static void test_repeated_addresses(void) {
        ResourceList l = load(HEP("a", "expectedIPs: [10.0.0.1, 10.0.0.1, 10.0.0.1]") HEP("b", "expectedIPs: [10.0.0.1]"));
        HostInterface ifs[] = { iface("eth0", 2, NULL) };
        ifs[0].addrs = calloc(4, sizeof(IPAddr));
        for (size_t i = 0; i < 4; i++)
                ASSERT_TRUE(ipaddr_parse_go("10.0.0.1", &ifs[0].addrs[i]));
        ifs[0].n_addrs = 4;
        Calc *c = run(&l, ifs, 1);
        ASSERT_EQ(ep(c, "a")->state, ENDPOINT_ENFORCED);
        ASSERT_EQ(ep(c, "a")->n_ifnames, 1);
        ASSERT_EQ(ep(c, "b")->state, ENDPOINT_INACTIVE);
        calc_free(c);
        ifaces_done(ifs, 1);
        resource_list_done(&l);
}

/* The lowest HEP name wins, whether it matched by name or by IP. */
static void test_tie_break(void) {
        ResourceList l = load(HEP("b-named", "interfaceName: eth0") HEP("a-ip", "expectedIPs: [10.0.0.1]")
                                      HEP("c-named", "interfaceName: eth0"));
        HostInterface ifs[] = { iface("eth0", 2, "10.0.0.1") };
        Calc *c = run(&l, ifs, 1);
        ASSERT_EQ(ep(c, "a-ip")->state, ENDPOINT_ENFORCED);
        ASSERT_EQ(ep(c, "b-named")->state, ENDPOINT_INACTIVE);
        ASSERT_STREQ(ep(c, "b-named")->reason, "interface eth0 is held by 'a-ip'");
        ASSERT_EQ(ep(c, "c-named")->state, ENDPOINT_INACTIVE);
        calc_free(c);
        ifaces_done(ifs, 1);
        resource_list_done(&l);
}

/* A named HEP never falls back to its expectedIPs. */
static void test_named_never_ip(void) {
        ResourceList l = load(HEP("a", "interfaceName: eth5, expectedIPs: [10.0.0.1]"));
        HostInterface ifs[] = { iface("eth0", 2, "10.0.0.1") };
        Calc *c = run(&l, ifs, 1);
        ASSERT_EQ(ep(c, "a")->state, ENDPOINT_WAITING);
        ASSERT_STREQ(ep(c, "a")->ifnames[0], "eth5");
        ASSERT_NULL(calc_endpoint_for_interface(c, "eth0"));
        calc_free(c);
        ifaces_done(ifs, 1);
        resource_list_done(&l);
}

/* "*" is the fallback for every interface without its own; lowest wins. */
static void test_wildcard(void) {
        ResourceList l = load(HEP("wz", "interfaceName: \"*\"") HEP("wb", "interfaceName: \"*\"") HEP("own", "interfaceName: eth0"));
        HostInterface ifs[] = { iface("eth0", 2, NULL), iface("eth1", 3, NULL) };
        Calc *c = run(&l, ifs, 2);
        ASSERT_TRUE(c->wildcard == ep(c, "wb"));
        ASSERT_EQ(ep(c, "wz")->state, ENDPOINT_INACTIVE);
        ASSERT_TRUE(calc_endpoint_for_interface(c, "eth0") == ep(c, "own"));
        ASSERT_TRUE(calc_endpoint_for_interface(c, "eth1") == ep(c, "wb"));
        calc_free(c);
        ifaces_done(ifs, 2);
        resource_list_done(&l);
}

/* Another node's HEP is remote: never bound, but its IPs feed selectors. */
static void test_remote(void) {
        ResourceList l = load("---\napiVersion: projectcalico.org/v3\nkind: HostEndpoint\nmetadata: {name: r, labels: {role: db}}\n"
                              "spec: {node: node2, interfaceName: eth0, expectedIPs: [10.1.1.1, \"fd01::1\"]}\n"
                              HEP("l", "interfaceName: eth0"));
        HostInterface ifs[] = { iface("eth0", 2, NULL) };
        Calc *c = run(&l, ifs, 1);
        ASSERT_EQ(ep(c, "r")->state, ENDPOINT_REMOTE);
        ASSERT_STREQ(endpoint_reason(ep(c, "r")), "belongs to node 'node2'");
        ASSERT_EQ(ep(c, "l")->state, ENDPOINT_ENFORCED);
        Selector *s;
        SelectorError se;
        IPAddr *ips;
        size_t n;
        ASSERT_OK(selector_parse("role == 'db'", &s, &se));
        ASSERT_OK(calc_selector_ips(c, s, &ips, &n));
        ASSERT_EQ(n, 2);
        ASSERT_EQ(ips[0].family, AF_INET);
        free(ips);
        selector_free(s);
        calc_free(c);
        ifaces_done(ifs, 1);
        resource_list_done(&l);
}

#define GNS(name, labels, nets) \
        "---\napiVersion: projectcalico.org/v3\nkind: GlobalNetworkSet\nmetadata: {name: " name ", labels: {" labels "}}\n" \
        "spec: {nets: " nets "}\n"

/* The networks a selector's sets hold, as "a/len" joined with spaces. */
static char *selector_nets_text(const Calc *c, const char *selector) {
        _cleanup_(selector_freep) Selector *s = NULL;
        _cleanup_free_ IPNet *v = NULL;
        SelectorError se;
        StrBuf b = STRBUF_INIT;
        char buf[IPNET_STRLEN];
        size_t n;

        ASSERT_OK(selector_parse(selector, &s, &se));
        ASSERT_OK(calc_selector_nets(c, s, &v, &n));
        for (size_t i = 0; i < n; i++) {
                ipnet_format(&v[i], buf);
                strbuf_printf(&b, "%s%s", i ? " " : "", buf);
        }
        ASSERT_TRUE(strbuf_ok(&b));
        return strbuf_steal(&b);
}

static void expect_selector_nets(const char *yaml, const char *selector, const char *want) {
        ResourceList l = load(yaml);
        Calc *c = run(&l, NULL, 0);
        _cleanup_free_ char *got = selector_nets_text(c, selector);

        ASSERT_STREQ(got, want);
        calc_free(c);
        resource_list_done(&l);
}

/* Felix's label index (felix/labelindex): a GlobalNetworkSet whose labels
 * a selector matches contributes its nets to the selector's IP sets, as a
 * HEP contributes its expectedIPs. An interval set refuses overlapping
 * elements, so nets inside another are dropped: same, nested, across sets
 * and around a HEP's address; adjacent ones stay. */
static void test_selector_network_sets(void) {
        /* A HEP and a set alongside; a set the selector does not pick adds nothing. */
        expect_selector_nets(GNS("trusted", "role: trusted", "[198.51.100.0/28, \"2001:db8::/32\"]")
                             GNS("other", "role: other", "[172.16.0.0/12]")
                             "---\napiVersion: projectcalico.org/v3\nkind: HostEndpoint\n"
                             "metadata: {name: h, labels: {role: trusted}}\n"
                             "spec: {node: node2, expectedIPs: [10.9.9.9, \"fd00::9\"]}\n",
                             "role == 'trusted'", "10.9.9.9/32 198.51.100.0/28 2001:db8::/32 fd00::9/128");
        /* Nested and repeated, one set and across two; host bits cleared
         * (cnet.ParseCIDROrIP gives the network); a bare address is a /32. */
        expect_selector_nets(GNS("a", "r: x", "[10.0.0.0/8, 10.1.0.0/16, 10.1.2.0/24, 10.1.2.3, 10.0.0.0/8]")
                             GNS("b", "r: x", "[10.200.0.1/16, 11.0.0.0/8, 192.168.1.1, 192.168.1.0/31]"),
                             "r == 'x'", "10.0.0.0/8 11.0.0.0/8 192.168.1.0/31");
        /* Adjacent networks do not overlap and are kept; the wider of two
         * that start at the same address wins. */
        expect_selector_nets(GNS("a", "r: x", "[192.0.2.0/25, 192.0.2.128/25, 198.51.100.0/24, 198.51.100.0/23]"),
                             "r == 'x'", "192.0.2.0/25 192.0.2.128/25 198.51.100.0/23");
        /* IPv6 likewise, apart from IPv4; a HEP address inside a set's net. */
        expect_selector_nets(GNS("a", "r: x", "[\"2001:db8::/32\", \"2001:db8:1::/48\", \"::/0\", 10.0.0.0/24]")
                             "---\napiVersion: projectcalico.org/v3\nkind: HostEndpoint\n"
                             "metadata: {name: h, labels: {r: x}}\n"
                             "spec: {node: node2, expectedIPs: [10.0.0.7, \"2001:db8::1\"]}\n",
                             "r == 'x'", "10.0.0.0/24 ::/0");
        /* all() picks the sets too; a set with no nets adds nothing. */
        expect_selector_nets(GNS("a", "r: x", "[]") GNS("b", "s: y", "[203.0.113.0/24]"), "all()", "203.0.113.0/24");
        expect_selector_nets(GNS("a", "r: x", "[203.0.113.0/24]"), "r == 'y'", "");
}

/* A cache kept across runs for different node names: the same HEP
 * objects change sides (local, remote) with the node. */
static void test_cache_across_nodenames(void) {
        ResourceList l = load("---\napiVersion: projectcalico.org/v3\nkind: HostEndpoint\nmetadata: {name: r}\n"
                              "spec: {node: node2, interfaceName: eth0}\n" HEP("l", "interfaceName: eth1"));
        CalcCache *cache = calc_cache_new();
        Calc *c = NULL;

        ASSERT_NOT_NULL(cache);
        for (int i = 0; i < 4; i++) {
                const char *node = i % 2 ? "node2" : "node1";
                ASSERT_OK(calc_run(l.v, l.n, node, NULL, 0, cache, &c));
                ASSERT_EQ(ep(c, "r")->state, i % 2 ? ENDPOINT_WAITING : ENDPOINT_REMOTE);
                ASSERT_EQ(ep(c, "l")->state, i % 2 ? ENDPOINT_REMOTE : ENDPOINT_WAITING);
                calc_free(c);
        }
        calc_cache_free(cache);
        resource_list_done(&l);
}

/* Order: tier order, then policy order (none = last), then name; types
 * decide the direction; flavours split as Felix does. */
static void test_policy_order(void) {
        ResourceList l = load(HEP("h", "interfaceName: eth0")
                              GNP("p-none", "{selector: all(), ingress: [{action: Allow}]}")
                              GNP("p-20", "{order: 20, selector: all(), ingress: [{action: Allow}]}")
                              GNP("p-10b", "{order: 10, ingress: [{action: Allow}]}")
                              GNP("p-10a", "{order: 10, ingress: [{action: Allow}], egress: [{action: Allow}]}")
                              GNP("p-egress", "{egress: [{action: Deny}]}")
                              GNP("p-fwd", "{applyOnForward: true, ingress: [{action: Allow}]}")
                              GNP("p-pre", "{preDNAT: true, applyOnForward: true, ingress: [{action: Deny}]}")
                              GNP("p-raw", "{doNotTrack: true, applyOnForward: true, ingress: [{action: Deny}], egress: [{action: Deny}]}")
                              GNP("p-other", "{selector: \"role == 'x'\", ingress: [{action: Deny}]}")
                              "---\napiVersion: projectcalico.org/v3\nkind: Tier\nmetadata: {name: first}\nspec: {order: 10}\n"
                              GNP("first.p", "{tier: first, ingress: [{action: Pass}]}"));
        HostInterface ifs[] = { iface("eth0", 2, NULL) };
        Calc *c = run(&l, ifs, 1);
        const PolicyOrder *in = endpoint_order(ep(c, "h"), FLAVOUR_NORMAL, DIRECTION_INGRESS);
        ASSERT_EQ(in->n_tiers, 2);
        ASSERT_STREQ(in->tiers[0].tier_name, "first");
        ASSERT_EQ(in->tiers[0].n_policies, 1);
        ASSERT_STREQ(in->tiers[1].tier_name, "default");
        ASSERT_TRUE(in->tiers[1].end_of_tier_drop);
        const char *expected[] = { "p-10a", "p-10b", "p-20", "p-fwd", "p-none" };
        ASSERT_EQ(in->tiers[1].n_policies, ELEMENTSOF(expected));
        for (size_t i = 0; i < ELEMENTSOF(expected); i++)
                ASSERT_STREQ(in->tiers[1].policies[i]->meta.name, expected[i]);
        const PolicyOrder *out = endpoint_order(ep(c, "h"), FLAVOUR_NORMAL, DIRECTION_EGRESS);
        ASSERT_EQ(out->tiers[0].n_policies, 2); /* p-10a, p-egress */
        ASSERT_STREQ(out->tiers[0].policies[1]->meta.name, "p-egress");
        ASSERT_EQ(endpoint_order(ep(c, "h"), FLAVOUR_FORWARD, DIRECTION_INGRESS)->tiers[0].n_policies, 1);
        ASSERT_EQ(endpoint_order(ep(c, "h"), FLAVOUR_FORWARD, DIRECTION_EGRESS)->n_tiers, 0);
        ASSERT_EQ(endpoint_order(ep(c, "h"), FLAVOUR_PREDNAT, DIRECTION_INGRESS)->tiers[0].n_policies, 1);
        ASSERT_FALSE(endpoint_order(ep(c, "h"), FLAVOUR_PREDNAT, DIRECTION_INGRESS)->tiers[0].end_of_tier_drop);
        ASSERT_EQ(endpoint_order(ep(c, "h"), FLAVOUR_UNTRACKED, DIRECTION_EGRESS)->tiers[0].n_policies, 1);
        calc_free(c);
        ifaces_done(ifs, 1);
        resource_list_done(&l);
}

/* Equal order: Felix's PolKVLess compares "name/namespace/kind", so a
 * name that continues with '-' or '.' sorts before the bare name ('/'),
 * one that continues with '0' after it. */
static void test_policy_tie_break(void) {
        ResourceList l = load(HEP("h", "interfaceName: eth0")
                              GNP("web", "{order: 10, ingress: [{action: Allow}]}")
                              GNP("web0", "{order: 10, ingress: [{action: Allow}]}")
                              GNP("web.deny", "{order: 10, ingress: [{action: Deny}]}")
                              GNP("web-deny", "{order: 10, ingress: [{action: Deny}]}"));
        HostInterface ifs[] = { iface("eth0", 2, NULL) };
        Calc *c = run(&l, ifs, 1);
        const PolicyOrder *in = endpoint_order(ep(c, "h"), FLAVOUR_NORMAL, DIRECTION_INGRESS);
        const char *expected[] = { "web-deny", "web.deny", "web", "web0" };

        ASSERT_EQ(in->n_tiers, 1);
        ASSERT_EQ(in->tiers[0].n_policies, ELEMENTSOF(expected));
        for (size_t i = 0; i < ELEMENTSOF(expected); i++)
                ASSERT_STREQ(in->tiers[0].policies[i]->meta.name, expected[i]);
        calc_free(c);
        ifaces_done(ifs, 1);
        resource_list_done(&l);
}

/* Selection uses labels from profiles too; the endpoint's own label wins. */
static void test_profile_labels(void) {
        ResourceList l = load("---\napiVersion: projectcalico.org/v3\nkind: HostEndpoint\nmetadata: {name: h, labels: {zone: own}}\n"
                              "spec: {node: node1, interfaceName: eth0, profiles: [p1, p2, missing]}\n"
                              "---\napiVersion: projectcalico.org/v3\nkind: Profile\nmetadata: {name: p1}\nspec: {labelsToApply: {zone: p1, role: web}}\n"
                              "---\napiVersion: projectcalico.org/v3\nkind: Profile\nmetadata: {name: p2}\nspec: {labelsToApply: {role: db, tier: t2}}\n"
                              GNP("sel-role", "{selector: \"role == 'web' && zone == 'own' && tier == 't2'\", ingress: [{action: Allow}]}")
                              GNP("sel-p1zone", "{selector: \"zone == 'p1'\", ingress: [{action: Allow}]}"));
        HostInterface ifs[] = { iface("eth0", 2, NULL) };
        Calc *c = run(&l, ifs, 1);
        const Endpoint *e = ep(c, "h");
        ASSERT_STREQ(labels_get(e->labels, "zone"), "own");
        ASSERT_STREQ(labels_get(e->labels, "role"), "web");
        ASSERT_EQ(endpoint_order(e, FLAVOUR_NORMAL, DIRECTION_INGRESS)->tiers[0].n_policies, 1);
        ASSERT_STREQ(endpoint_order(e, FLAVOUR_NORMAL, DIRECTION_INGRESS)->tiers[0].policies[0]->meta.name, "sel-role");
        ASSERT_EQ(e->n_profiles, 3);
        ASSERT_NULL(e->profiles[2].profile);
        ASSERT_EQ(c->n_warnings, 1);
        ASSERT_CONTAINS(c->warnings[0], "profile 'missing' does not exist");
        calc_free(c);
        ifaces_done(ifs, 1);
        resource_list_done(&l);
}

/* Failsafes: Felix's defaults, "default" config, "node.<name>" overrides. */
static void test_failsafes(void) {
        ResourceList l = load(HEP("h", "interfaceName: eth0"));
        Calc *c = run(&l, NULL, 0);
        ASSERT_EQ(c->n_failsafe_in, 9);
        ASSERT_EQ(c->failsafe_in[0].port, 22);
        ASSERT_EQ(c->n_failsafe_out, 9);
        ASSERT_EQ(c->failsafe_out[0].port, 53);
        calc_free(c);
        resource_list_done(&l);

        l = load("---\napiVersion: projectcalico.org/v3\nkind: FelixConfiguration\nmetadata: {name: default}\n"
                 "spec: {failsafeInboundHostPorts: [{protocol: tcp, port: 2222}], failsafeOutboundHostPorts: []}\n"
                 "---\napiVersion: projectcalico.org/v3\nkind: FelixConfiguration\nmetadata: {name: node.node1}\n"
                 "spec: {failsafeInboundHostPorts: [{protocol: udp, port: 500, net: 10.0.0.0/8}, {protocol: sctp, port: 1}]}\n");
        c = run(&l, NULL, 0);
        ASSERT_EQ(c->n_failsafe_in, 1);
        ASSERT_EQ(c->failsafe_in[0].protocol, IPPROTO_UDP);
        ASSERT_TRUE(c->failsafe_in[0].has_net);
        ASSERT_EQ(c->n_failsafe_out, 0);
        ASSERT_EQ(c->n_warnings, 1);
        calc_free(c);
        resource_list_done(&l);
}

/* Every FelixConfiguration field that is set and means nothing here is
 * reported once per resource, by name; the honoured ones and a null are
 * not. Which resource applies, default or node.<name>, is not the
 * question: both are read. */
static void test_felix_unused_fields(void) {
        ResourceList l = load("---\napiVersion: projectcalico.org/v3\nkind: FelixConfiguration\nmetadata: {name: default}\n"
                              "spec: {ipipEnabled: true, logPrefix: x, nftablesFilterDenyAction: Reject, "
                              "vxlanEnabled: null}\n"
                              "---\napiVersion: projectcalico.org/v3\nkind: FelixConfiguration\nmetadata: {name: node.node1}\n"
                              "spec: {bpfEnabled: false, disableConntrackInvalidCheck: true}\n");
        Calc *c = run(&l, NULL, 0);

        ASSERT_EQ(c->n_warnings, 2);
        ASSERT_CONTAINS(c->warnings[0], "FelixConfiguration(default): ipipEnabled is set but means nothing");
        ASSERT_CONTAINS(c->warnings[1], "FelixConfiguration(node.node1): bpfEnabled is set but means nothing");
        ASSERT_TRUE(c->deny_reject);
        ASSERT_TRUE(c->no_invalid_check);
        calc_free(c);
        resource_list_done(&l);
}

/* interfaceExclude: excluded names never bind; a named HEP on one errors. */
static void test_exclude(void) {
        ResourceList l = load("---\napiVersion: projectcalico.org/v3\nkind: FelixConfiguration\nmetadata: {name: default}\n"
                              "spec: {interfaceExclude: \"eth0,/^veth/\"}\n"
                              HEP("a", "interfaceName: eth0") HEP("b", "expectedIPs: [10.0.0.2]"));
        HostInterface ifs[] = { iface("eth0", 2, NULL), iface("veth7", 3, "10.0.0.2") };
        Calc *c = run(&l, ifs, 2);
        ASSERT_EQ(ep(c, "a")->state, ENDPOINT_ERROR);
        ASSERT_CONTAINS(ep(c, "a")->reason, "excluded");
        ASSERT_EQ(ep(c, "b")->state, ENDPOINT_WAITING);
        calc_free(c);
        ifaces_done(ifs, 2);
        resource_list_done(&l);
}

/* Named ports: the triples of selected endpoints with that port name and
 * protocol; a rule without protocol matches any protocol of that name. */
static void test_named_ports(void) {
        ResourceList l = load("---\napiVersion: projectcalico.org/v3\nkind: HostEndpoint\nmetadata: {name: a, labels: {app: x}}\n"
                              "spec: {node: node2, expectedIPs: [10.0.0.1, 10.0.0.2], ports: [{name: dns, protocol: UDP, port: 53}, {name: dns, protocol: TCP, port: 5353}]}\n"
                              "---\napiVersion: projectcalico.org/v3\nkind: HostEndpoint\nmetadata: {name: b}\n"
                              "spec: {node: node1, interfaceName: eth0, ports: [{name: dns, protocol: UDP, port: 53}]}\n");
        Calc *c = run(&l, NULL, 0);
        Selector *all;
        SelectorError se;
        NamedPortMember *m;
        size_t n;
        ASSERT_OK(selector_parse("", &all, &se));
        ASSERT_OK(calc_named_port_members(c, all, "dns", IPPROTO_UDP, &m, &n));
        ASSERT_EQ(n, 2); /* b has no IPs: contributes nothing */
        ASSERT_EQ(m[0].port, 53);
        free(m);
        ASSERT_OK(calc_named_port_members(c, all, "dns", 0, &m, &n));
        ASSERT_EQ(n, 4);
        free(m);
        selector_free(all);
        calc_free(c);
        resource_list_done(&l);
}

/* A policy's namespaceSelector and serviceAccountSelector are ANDed into
 * its selector over labels prefixed "pcns." and "pcsa."
 * (globalnetworkpolicyprocessor.go): a HEP carries them only if its own
 * labels say so, so one that asks for a namespace never applies to the
 * others, and a negated one applies to all of them. */
static void test_namespaced_policies(void) {
        ResourceList l = load(HEP("h", "interfaceName: eth0")
                              "---\napiVersion: projectcalico.org/v3\nkind: HostEndpoint\n"
                              "metadata: {name: p, labels: {pcns.team: a}}\nspec: {node: node1, interfaceName: eth1}\n"
                              GNP("ns", "{namespaceSelector: all(), ingress: [{action: Allow}]}")
                              GNP("sa", "{serviceAccountSelector: all(), ingress: [{action: Allow}]}")
                              GNP("ns-team", "{namespaceSelector: \"team == 'a'\", ingress: [{action: Allow}]}")
                              GNP("ns-not", "{namespaceSelector: \"!has(team)\", ingress: [{action: Allow}]}")
                              GNP("sa-not", "{serviceAccountSelector: \"app != 'x'\", ingress: [{action: Allow}]}")
                              GNP("sel-all", "{selector: all(), namespaceSelector: \"!has(team)\", ingress: [{action: Allow}]}"));
        Calc *c = run(&l, NULL, 0);
        const PolicyOrder *h = endpoint_order(ep(c, "h"), FLAVOUR_NORMAL, DIRECTION_INGRESS);
        const PolicyOrder *p = endpoint_order(ep(c, "p"), FLAVOUR_NORMAL, DIRECTION_INGRESS);

        ASSERT_EQ(h->n_tiers, 1);
        ASSERT_EQ(h->tiers[0].n_policies, 2);
        ASSERT_STREQ(h->tiers[0].policies[0]->meta.name, "ns-not");
        ASSERT_STREQ(h->tiers[0].policies[1]->meta.name, "sa-not");
        ASSERT_EQ(p->n_tiers, 1);
        ASSERT_EQ(p->tiers[0].n_policies, 2);
        ASSERT_STREQ(p->tiers[0].policies[0]->meta.name, "ns-team");
        ASSERT_STREQ(p->tiers[0].policies[1]->meta.name, "sa-not");
        calc_free(c);
        resource_list_done(&l);
}

/* An http match is not enforced on a host endpoint (Felix's renderer never
 * reads it): each such rule of a policy or profile that applies is logged
 * once, whatever the number of endpoints, and every endpoint it applies to
 * names it in its reason. Rules of a direction the policy's types leave out
 * and policies that apply to no endpoint are not mentioned. */
static void test_http_reported(void) {
        ResourceList l = load(HEP("a", "interfaceName: eth0, profiles: [p]") HEP("b", "interfaceName: eth1")
                              HEP("c", "interfaceName: eth2")
                              GNP("web", "{selector: \"!has(plain)\", ingress: [{action: Allow, protocol: TCP}, "
                                         "{action: Allow, protocol: TCP, http: {methods: [GET]}}]}")
                              GNP("unused", "{selector: has(nothing), ingress: [{action: Allow, http: {methods: [GET]}}]}")
                              "---\napiVersion: projectcalico.org/v3\nkind: Profile\nmetadata: {name: p}\n"
                              "spec: {egress: [{action: Allow, http: {paths: [{exact: /x}]}}]}\n");
        HostInterface ifs[] = { iface("eth0", 2, NULL), iface("eth1", 3, NULL) };
        Calc *c = run(&l, ifs, 2);
        size_t n = 0;

        ASSERT_STREQ(ep(c, "a")->reason, "enforced on eth0; http matches are not enforced on host endpoints, only "
                                         "the rest of their rules: GlobalNetworkPolicy(web), Profile(p)");
        ASSERT_STREQ(ep(c, "b")->reason, "enforced on eth1; http matches are not enforced on host endpoints, only "
                                         "the rest of their rules: GlobalNetworkPolicy(web)");
        ASSERT_CONTAINS(ep(c, "c")->reason, "http matches are not enforced");
        for (size_t i = 0; i < c->n_warnings; i++)
                if (strstr(c->warnings[i], "http match")) {
                        ASSERT_TRUE(streq(c->warnings[i], "GlobalNetworkPolicy(web): spec.ingress[1] has an http match, which "
                                                          "is not enforced on host endpoints; the rest of the rule is, as in Felix") ||
                                    streq(c->warnings[i], "Profile(p): spec.egress[0] has an http match, which is not "
                                                          "enforced on host endpoints; the rest of the rule is, as in Felix"));
                        n++;
                }
        ASSERT_EQ(n, 2);
        calc_free(c);
        ifaces_done(ifs, 2);
        resource_list_done(&l);
}

int main(void) {
        RUN(test_match_by_name);
        RUN(test_selector_network_sets);
        RUN(test_match_by_ip);
        RUN(test_tie_break);
        RUN(test_named_never_ip);
        RUN(test_wildcard);
        RUN(test_remote);
        RUN(test_cache_across_nodenames);
        RUN(test_policy_order);
        RUN(test_policy_tie_break);
        RUN(test_profile_labels);
        RUN(test_failsafes);
        RUN(test_felix_unused_fields);
        RUN(test_exclude);
        RUN(test_repeated_addresses);
        RUN(test_named_ports);
        RUN(test_namespaced_policies);
        RUN(test_http_reported);
        return 0;
}
