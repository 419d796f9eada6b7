/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The ruleset a calculation compiles to, as `hepctl ruleset` prints it:
 * resources (YAML through the loader) and interfaces in, nft text out. No
 * kernel and no root: what the dispatch maps, endpoint chains, failsafes
 * and selector sets say, chain by chain. */
#include "tests.h"
#include "calc.h"
#include "check.h"
#include "compile.h"
#include "explain.h"
#include "flowlog.h"
#include "intern.h"
#include "loader.h"

#define HEAD "---\napiVersion: projectcalico.org/v3\n"
#define HEP(name, labels, spec) \
        HEAD "kind: HostEndpoint\nmetadata: {name: " name ", labels: {" labels "}}\nspec: {node: node1, " spec "}\n"
#define REMOTE_DB \
        HEAD "kind: HostEndpoint\nmetadata: {name: db, labels: {role: db}}\n" \
             "spec: {node: node2, interfaceName: eth0, expectedIPs: [10.0.0.2, \"fd00::2\"]}\n"
#define ALLOW_DB \
        HEAD "kind: GlobalNetworkPolicy\nmetadata: {name: allow-db}\n" \
             "spec: {selector: \"role == 'web'\", ingress: [{action: Allow, protocol: TCP, " \
             "source: {selector: \"role == 'db'\"}, destination: {ports: [5432]}}]}\n"

static ResourceList load(const char *yaml) {
        ResourceList l = RESOURCE_LIST_INIT;
        ParseError e = PARSE_ERROR_INIT;

        if (resources_parse("t.yaml", yaml, strlen(yaml), &l, &e) < 0)
                TEST_FAIL("load: %s", parse_error_format(&e));
        for (size_t i = 0; i < l.n; i++)
                if (resource_check(l.v[i], &e) < 0)
                        TEST_FAIL("invalid test resource: %s", parse_error_format(&e));
        return l;
}

/* An interface that is up, with one address or none. */
static HostInterface iface(const char *name, int index, const char *addr, IPAddr *storage) {
        HostInterface i = { .name = (char *)name, .ifindex = index, .oper_up = true };

        if (addr) {
                ASSERT_TRUE(ipaddr_parse_go(addr, storage));
                i.addrs = storage;
                i.n_addrs = 1;
        }
        return i;
}

/* Every rule the compiler emitted is one explain.c understands: a
 * statement shape added to the compiler without teaching it to explain
 * fails here, naming the rule. */
static void explain_understands(const Ruleset *rs) {
        _cleanup_free_ char *why = NULL;

        if (ruleset_explain_check(rs, &why) < 0)
                TEST_FAIL("explain: %s", why ? why : "out of memory");
}

/* The printed ruleset of one compilation (cache: NULL for a fresh one). */
static char *render_cached(const ResourceList *l, const HostInterface *ifs, size_t n, CompileCache *cache) {
        Calc *c = NULL;
        Ruleset *rs = NULL;
        StrBuf b = STRBUF_INIT;

        ASSERT_OK(calc_run(l->v, l->n, "node1", ifs, n, NULL, &c));
        ASSERT_OK(ruleset_compile(c, cache, &rs));
        explain_understands(rs);
        ruleset_print(rs, &b);
        ASSERT_TRUE(strbuf_ok(&b));
        ruleset_free(rs);
        calc_free(c);
        return strbuf_steal(&b);
}

static char *render(const char *yaml, const HostInterface *ifs, size_t n) {
        ResourceList l = load(yaml);
        char *text = render_cached(&l, ifs, n, NULL);

        resource_list_done(&l);
        return text;
}

/* The body of "\t<what> {" ... "\t}" in the printed table (its lines
 * between the braces), or NULL if there is no such chain, set or map. */
static char *section(const char *text, const char *what) {
        _cleanup_free_ char *open = NULL;
        const char *start, *end;

        ASSERT_TRUE(asprintf(&open, "\n\t%s {\n", what) > 0);
        start = strstr(text, open);
        if (!start)
                return NULL;
        start += strlen(open);
        /* From the opening line's newline on: a body may be empty. */
        end = strstr(start - 1, "\n\t}\n");
        ASSERT_NOT_NULL(end);
        return strndup(start, (size_t)(end + 1 - start));
}

#define ASSERT_SECTION(text, what, expected)                                                            \
        do {                                                                                            \
                _cleanup_free_ char *_s = section(text, what);                                          \
                if (!_s)                                                                                \
                        TEST_FAIL("no \"%s\" in:\n%s", what, text);                                     \
                if (!streq(_s, expected))                                                               \
                        TEST_FAIL("%s:\n--- got\n%s--- expected\n%s", what, _s, expected);               \
        } while (0)

#define ASSERT_NO_SECTION(text, what)                                                                   \
        do {                                                                                            \
                _cleanup_free_ char *_s = section(text, what);                                          \
                if (_s)                                                                                 \
                        TEST_FAIL("unexpected \"%s\":\n%s", what, _s);                                  \
        } while (0)

/* The established shortcut of normal and forward chains: a flow of the
 * current conntrack generation (ct-gen), or a reply. */
#define CT_SHORTCUT(ep, verdict)                                                                        \
        "\t\tct state established,related ct mark & 0x0ff00000 @ct-gen counter name \"ep-accepted." ep   \
        "\" " verdict "\n"                                                                              \
        "\t\tct direction reply ct state established,related counter name \"ep-accepted." ep "\" " verdict \
        "\n"

#define EP_IN_HEAD(ep)                                                                                  \
        CT_SHORTCUT(ep, "accept")                                                                       \
        "\t\tct state invalid counter name \"ep-dropped." ep "\" drop\n"                                \
        "\t\ticmpv6 type @nd-types accept\n"                                                            \
        "\t\tjump failsafe-in\n"                                                                        \
        "\t\tmeta mark set meta mark & 0xfff8ffff\n"

/* A HEP by name with one ingress policy: the interface dispatches to the
 * endpoint's chain, which runs the policy's chain in its tier and drops
 * what no policy allowed. Egress has no policy: only failsafes, then the
 * endpoint's default drop. */
static void test_by_name_one_policy(void) {
        IPAddr a;
        HostInterface ifs[] = { iface("eth0", 2, "10.0.0.1", &a) };
        _cleanup_free_ char *t = render(HEP("web-eth0", "role: web", "interfaceName: eth0") REMOTE_DB ALLOW_DB, ifs, 1);

        ASSERT_SECTION(t, "map disp-in",
                       "\t\ttype ifname : verdict;\n"
                       "\t\telements = { \"eth0\" : jump ep-in.web-eth0 }\n");
        ASSERT_SECTION(t, "map disp-out",
                       "\t\ttype ifname : verdict;\n"
                       "\t\telements = { \"eth0\" : jump ep-out.web-eth0 }\n");
        ASSERT_SECTION(t, "chain input",
                       "\t\ttype filter hook input priority filter; policy accept;\n"
                       "\t\tmeta mark set meta mark & 0xfff8ffff\n"
                       "\t\tiifname vmap @disp-in\n");
        ASSERT_SECTION(t, "chain ep-in.web-eth0",
                       EP_IN_HEAD("web-eth0")
                       "\t\tmeta mark set meta mark & 0xfffdffff\n"
                       "\t\tmeta mark & 0x00070000 == 0 jump pol-in.allow-db\n"
                       "\t\tmeta mark & 0x00010000 != 0 counter name \"ep-accepted.web-eth0\" goto ct-admit\n"
                       "\t\tmeta mark & 0x00040000 != 0 counter name \"ep-dropped.web-eth0\" drop\n"
                       "\t\tmeta mark & 0x00020000 == 0 counter name \"ep-dropped.web-eth0\" drop\n"
                       "\t\tcounter name \"ep-dropped.web-eth0\" drop\n");
        ASSERT_SECTION(t, "chain ep-out.web-eth0",
                       CT_SHORTCUT("web-eth0", "accept")
                       "\t\tct state invalid counter name \"ep-dropped.web-eth0\" drop\n"
                       "\t\ticmpv6 type @nd-types accept\n"
                       "\t\tjump failsafe-out\n"
                       "\t\tmeta mark set meta mark & 0xfff8ffff\n"
                       "\t\tcounter name \"ep-dropped.web-eth0\" drop\n");
        ASSERT_SECTION(t, "set own-ifnames", "\t\ttype ifname;\n\t\telements = { \"eth0\" }\n");
        /* The remote HEP gets no chains here; pre-DNAT and untracked hooks
         * exist only for policy of those kinds. */
        ASSERT_NO_SECTION(t, "chain ep-in.db");
        ASSERT_NO_SECTION(t, "chain prednat");
        ASSERT_NO_SECTION(t, "chain raw-prerouting");
}

/* Fail-closed: a HEP named for an interface that does not exist yet is
 * in the map by name, so the interface is policed from its first packet. */
static void test_by_name_before_the_interface(void) {
        _cleanup_free_ char *t = render(HEP("later", "role: web", "interfaceName: eth9") ALLOW_DB, NULL, 0);

        ASSERT_SECTION(t, "map disp-in",
                       "\t\ttype ifname : verdict;\n"
                       "\t\telements = { \"eth9\" : jump ep-in.later }\n");
        ASSERT_CONTAINS(t, "\tchain ep-in.later {\n" EP_IN_HEAD("later"));
}

/* A HEP by expectedIPs is bound to the interface holding the address. A
 * compilation with a cache first sends it through the address dispatch
 * sets; the one after compile_cache_settle_next() (and any without a
 * cache) moves it into the dispatch map. The address dispatch chain is
 * there either way, ready for the next address event. */
static void test_by_expected_ips(void) {
        IPAddr a, b;
        HostInterface ifs[] = { iface("eth0", 2, NULL, &a), iface("eth1", 3, "10.0.0.7", &b) };
        ResourceList l = load(HEP("by-ip", "role: web", "expectedIPs: [10.0.0.7]") ALLOW_DB);
        _cleanup_(compile_cache_freep) CompileCache *cache = compile_cache_new();
        _cleanup_free_ char *fresh = render_cached(&l, ifs, 2, NULL);
        _cleanup_free_ char *bound = NULL, *settled = NULL;

        ASSERT_SECTION(fresh, "map disp-in",
                       "\t\ttype ifname : verdict;\n"
                       "\t\telements = { \"eth1\" : jump ep-in.by-ip }\n");
        ASSERT_SECTION(fresh, "set addr-ifnames", "\t\ttype ifname;\n");
        ASSERT_SECTION(fresh, "chain disp-addr-in", "\t\tiifname @ep-ifs.by-ip goto ep-in.by-ip\n");

        ASSERT_NOT_NULL(cache);
        bound = render_cached(&l, ifs, 2, cache);
        ASSERT_SECTION(bound, "map disp-in", "\t\ttype ifname : verdict;\n");
        ASSERT_SECTION(bound, "set ep-ifs.by-ip", "\t\ttype ifname;\n\t\telements = { \"eth1\" }\n");
        ASSERT_SECTION(bound, "set addr-ifnames", "\t\ttype ifname;\n\t\telements = { \"eth1\" }\n");
        ASSERT_SECTION(bound, "chain disp-addr-in", "\t\tiifname @ep-ifs.by-ip goto ep-in.by-ip\n");
        ASSERT_SECTION(bound, "chain input",
                       "\t\ttype filter hook input priority filter; policy accept;\n"
                       "\t\tmeta mark set meta mark & 0xfff8ffff\n"
                       "\t\tiifname vmap @disp-in\n"
                       "\t\tiifname @addr-ifnames jump disp-addr-in\n"
                       "\t\tiifname != \"lo\" ip daddr != @prebind-bound4 ip daddr vmap @prebind-in4\n"
                       "\t\tiifname != \"lo\" ip6 daddr != @prebind-bound6 ip6 daddr vmap @prebind-in6\n");

        compile_cache_settle_next(cache);
        settled = render_cached(&l, ifs, 2, cache);
        ASSERT_SECTION(settled, "map disp-in",
                       "\t\ttype ifname : verdict;\n"
                       "\t\telements = { \"eth1\" : jump ep-in.by-ip }\n");
        ASSERT_SECTION(settled, "set addr-ifnames", "\t\ttype ifname;\n");
        resource_list_done(&l);
}

/* A HEP matched by address is pre-bound by it (issue 16): traffic to or
 * from that address on an interface no HEP owns (loopback aside) goes to
 * its chains before the daemon has bound anything; two HEPs expecting one
 * address, the first by name has it. Once the address is on an interface
 * and the HEP bound, the address goes into prebind-bound (a plain set: no
 * map element changes on the address event's path) and the whole
 * interface is the HEP's. */
static void test_prebind_by_address(void) {
        IPAddr a, b;
        HostInterface waiting[] = { iface("eth0", 2, NULL, &a) };
        HostInterface bound[] = { iface("eth0", 2, NULL, &a), iface("eth1", 3, "10.0.0.7", &b) };
        const char *yaml = HEP("by-ip", "role: web", "expectedIPs: [10.0.0.7, \"fd00::7\"]")
                HEP("by-ip2", "role: web", "expectedIPs: [10.0.0.7]") ALLOW_DB;
        _cleanup_free_ char *t = render(yaml, waiting, 1), *t_bound = NULL;

        ASSERT_SECTION(t, "map prebind-in4",
                       "\t\ttype ipv4_addr : verdict;\n"
                       "\t\telements = { 10.0.0.7 : goto ep-in.by-ip }\n");
        ASSERT_SECTION(t, "map prebind-out6",
                       "\t\ttype ipv6_addr : verdict;\n"
                       "\t\telements = { fd00::7 : goto ep-out.by-ip }\n");
        ASSERT_SECTION(t, "set prebind-bound4", "\t\ttype ipv4_addr;\n");
        ASSERT_CONTAINS(t, "\t\tiifname != \"lo\" ip daddr != @prebind-bound4 ip daddr vmap @prebind-in4\n"
                           "\t\tiifname != \"lo\" ip6 daddr != @prebind-bound6 ip6 daddr vmap @prebind-in6\n");
        ASSERT_CONTAINS(t, "\t\toifname != \"lo\" ip saddr != @prebind-bound4 ip saddr vmap @prebind-out4\n");

        t_bound = render(yaml, bound, 2);
        ASSERT_SECTION(t_bound, "map prebind-in4",
                       "\t\ttype ipv4_addr : verdict;\n"
                       "\t\telements = { 10.0.0.7 : goto ep-in.by-ip }\n");
        ASSERT_SECTION(t_bound, "set prebind-bound4", "\t\ttype ipv4_addr;\n\t\telements = { 10.0.0.7 }\n");
        ASSERT_SECTION(t_bound, "set prebind-bound6", "\t\ttype ipv6_addr;\n\t\telements = { fd00::7 }\n");
}

/* Failsafe ports: Felix's defaults, or FelixConfiguration's lists; an
 * entry with a net is a rule of its own, on the peer's address. */
static void test_failsafes(void) {
        IPAddr a;
        HostInterface ifs[] = { iface("eth0", 2, NULL, &a) };
        _cleanup_free_ char *def = render(HEP("web-eth0", "role: web", "interfaceName: eth0"), ifs, 1);
        _cleanup_free_ char *set = NULL, *custom = NULL;
        const char *p;

        /* The default inbound list, through one set. */
        ASSERT_CONTAINS(def, "\tchain failsafe-in {\n\t\tmeta l4proto . th dport @failsafe-");
        p = strstr(def, "\tchain failsafe-in {\n\t\tmeta l4proto . th dport @");
        ASSERT_NOT_NULL(p);
        p += strlen("\tchain failsafe-in {\n\t\tmeta l4proto . th dport @");
        ASSERT_TRUE(asprintf(&set, "set %.*s", (int)strcspn(p, " "), p) > 0);
        ASSERT_SECTION(def, set,
                       "\t\ttype inet_proto . inet_service;\n"
                       "\t\telements = { tcp . 179,\n"
                       "\t\t\t     tcp . 22,\n"
                       "\t\t\t     tcp . 2379,\n"
                       "\t\t\t     tcp . 2380,\n"
                       "\t\t\t     tcp . 5473,\n"
                       "\t\t\t     tcp . 6443,\n"
                       "\t\t\t     tcp . 6666,\n"
                       "\t\t\t     tcp . 6667,\n"
                       "\t\t\t     udp . 68 }\n");

        custom = render(HEP("web-eth0", "role: web", "interfaceName: eth0")
                        HEAD "kind: FelixConfiguration\nmetadata: {name: default}\n"
                             "spec: {failsafeInboundHostPorts: [{protocol: UDP, port: 53, net: 10.0.0.0/8}],"
                             " failsafeOutboundHostPorts: []}\n",
                        ifs, 1);
        ASSERT_SECTION(custom, "chain failsafe-in", "\t\tip saddr 10.0.0.0/8 meta l4proto udp th dport 53 goto ct-admit\n");
        ASSERT_SECTION(custom, "chain failsafe-out", "");
        /* No conntrack before raw: replies to outbound failsafes pass too. */
        ASSERT_SECTION(custom, "chain raw-failsafe-in", "\t\tip saddr 10.0.0.0/8 meta l4proto udp th dport 53 accept\n");
        ASSERT_SECTION(custom, "chain raw-failsafe-out", "\t\tip daddr 10.0.0.0/8 meta l4proto udp th sport 53 accept\n");
        ASSERT_CONTAINS(custom, "\tchain ep-in.web-eth0 {\n" EP_IN_HEAD("web-eth0"));
}

/* The body of the set a chain's first match (e.g. "ip saddr @") names. */
static char *named_set(const char *text, const char *chain, const char *match) {
        _cleanup_free_ char *rules = section(text, chain), *name = NULL;
        const char *p;

        ASSERT_NOT_NULL(rules);
        p = strstr(rules, match);
        ASSERT_NOT_NULL(p);
        p += strlen(match);
        ASSERT_TRUE(asprintf(&name, "set %.*s", (int)strcspn(p, " "), p) > 0);
        return section(text, name);
}

static char *saddr_set4(const char *text, const char *chain) {
        return named_set(text, chain, "ip saddr @");
}

static char *saddr_set6(const char *text, const char *chain) {
        return named_set(text, chain, "ip6 saddr @");
}

/* The sets a selector resolves to hold the addresses of the HEPs it
 * selects, on every node, one set per family. */
static void test_selector_sets(void) {
        IPAddr a;
        HostInterface ifs[] = { iface("eth0", 2, NULL, &a) };
        _cleanup_free_ char *t = render(HEP("web-eth0", "role: web", "interfaceName: eth0") REMOTE_DB
                                        HEAD "kind: HostEndpoint\nmetadata: {name: db2, labels: {role: db}}\n"
                                             "spec: {node: node3, expectedIPs: [10.0.0.3, 10.0.0.2]}\n" ALLOW_DB,
                                        ifs, 1);
        _cleanup_free_ char *rules = section(t, "chain pol-in.allow-db");
        _cleanup_free_ char *set4 = saddr_set4(t, "chain pol-in.allow-db"), *set6 = saddr_set6(t, "chain pol-in.allow-db");

        ASSERT_NOT_NULL(rules);
        ASSERT_STREQ(set4, "\t\ttype ipv4_addr;\n\t\telements = { 10.0.0.2,\n\t\t\t     10.0.0.3 }\n");
        ASSERT_STREQ(set6, "\t\ttype ipv6_addr;\n\t\telements = { fd00::2 }\n");
        ASSERT_CONTAINS(rules, "meta l4proto 6 ip saddr @sel4-");
        ASSERT_CONTAINS(rules, " th dport 5432 meta mark set meta mark | 0x00010000 return\n");
}

/* A GlobalNetworkSet the selector picks adds its nets to the same sets
 * (Felix's label index: a network set is a member like an endpoint),
 * merged for an interval set: 10.0.0.2 lies in 10.0.0.0/30, the /24 in
 * the /16, fd00::2 in fd00::/64. One it does not pick adds nothing. */
static void test_selector_sets_network_sets(void) {
        IPAddr a;
        HostInterface ifs[] = { iface("eth0", 2, NULL, &a) };
        _cleanup_free_ char *t = render(HEP("web-eth0", "role: web", "interfaceName: eth0") REMOTE_DB ALLOW_DB
                                        HEAD "kind: GlobalNetworkSet\nmetadata: {name: db-nets, labels: {role: db}}\n"
                                             "spec: {nets: [192.168.1.0/24, 10.0.0.0/30, 192.168.0.0/16, 203.0.113.7, "
                                             "\"fd00::/64\"]}\n"
                                        HEAD "kind: GlobalNetworkSet\nmetadata: {name: other, labels: {role: other}}\n"
                                             "spec: {nets: [172.16.0.0/12]}\n",
                                        ifs, 1);
        _cleanup_free_ char *set4 = saddr_set4(t, "chain pol-in.allow-db"), *set6 = saddr_set6(t, "chain pol-in.allow-db");

        ASSERT_STREQ(set4, "\t\ttype ipv4_addr; flags interval;\n\t\telements = { 10.0.0.0/30,\n\t\t\t     "
                           "192.168.0.0/16,\n\t\t\t     203.0.113.7 }\n");
        ASSERT_STREQ(set6, "\t\ttype ipv6_addr; flags interval;\n\t\telements = { fd00::/64 }\n");
        /* Only a set that holds a network is an interval set, and its name
         * says so (libnftables keeps interval elements at several times the
         * memory). */
        ASSERT_CONTAINS(t, "ip saddr @net4-");
        ASSERT_CONTAINS(t, "ip6 saddr @net6-");
}

/* Felix's default for a HostEndpoint with no policy and no profile: its
 * chains let through established flows and failsafes, and drop the rest.
 * (Nothing planned for the chain: compile-cache.c once computed NULL + 0
 * here, which clang's UBSan reports.) */
static void test_endpoint_without_policy(void) {
        IPAddr a;
        HostInterface ifs[] = { iface("eth0", 2, NULL, &a) };
        _cleanup_free_ char *t = render(HEP("bare", "", "interfaceName: eth0"), ifs, 1);

        ASSERT_SECTION(t, "chain ep-in.bare", EP_IN_HEAD("bare") "\t\tcounter name \"ep-dropped.bare\" drop\n");
}

#define PROFILE(name, spec) HEAD "kind: Profile\nmetadata: {name: " name "}\nspec: " spec "\n"
#define GNP(name, spec) HEAD "kind: GlobalNetworkPolicy\nmetadata: {name: " name "}\nspec: " spec "\n"

/* After the tiers, every profile runs until one accepts or drops: a Pass
 * (the last tier's, or a profile's) skips none (Felix's endpoints.go,
 * endpointIptablesChain, jumps to each profile unconditionally). */
static void test_profiles_after_pass(void) {
        IPAddr a;
        HostInterface ifs[] = { iface("eth0", 2, NULL, &a) };
        _cleanup_free_ char *t = render(
                HEP("h", "", "interfaceName: eth0, profiles: [pass-web, allow-web]")
                        GNP("pass", "{ingress: [{action: Pass}]}")
                        PROFILE("pass-web", "{ingress: [{action: Pass}]}")
                        PROFILE("allow-web", "{ingress: [{action: Allow}]}"),
                ifs, 1);

        ASSERT_SECTION(t, "chain ep-in.h",
                       EP_IN_HEAD("h")
                       "\t\tmeta mark set meta mark & 0xfffdffff\n"
                       "\t\tmeta mark & 0x00070000 == 0 jump pol-in.pass\n"
                       "\t\tmeta mark & 0x00010000 != 0 counter name \"ep-accepted.h\" goto ct-admit\n"
                       "\t\tmeta mark & 0x00040000 != 0 counter name \"ep-dropped.h\" drop\n"
                       "\t\tmeta mark & 0x00020000 == 0 counter name \"ep-dropped.h\" drop\n"
                       "\t\tmeta mark & 0x00050000 == 0 jump pro-in.pass-web\n"
                       "\t\tmeta mark & 0x00050000 == 0 jump pro-in.allow-web\n"
                       "\t\tmeta mark & 0x00010000 != 0 counter name \"ep-accepted.h\" goto ct-admit\n"
                       "\t\tmeta mark & 0x00040000 != 0 counter name \"ep-dropped.h\" drop\n"
                       "\t\tcounter name \"ep-dropped.h\" drop\n");
}

/* Before DNAT, "*" applies to every interface whose own endpoint has no
 * pre-DNAT policy (Felix's updateHostEndpoints lists only those with
 * some in the mangle dispatch, and dispatch.go's default goes to "*");
 * the other hooks exclude every interface with an endpoint of its own. */
static void test_wildcard_prednat(void) {
        IPAddr a, b;
        HostInterface ifs[] = { iface("eth0", 2, NULL, &a), iface("eth1", 3, NULL, &b) };
        _cleanup_free_ char *t = render(
                HEP("all", "wild: 'yes'", "interfaceName: '*'") HEP("own0", "", "interfaceName: eth0")
                        HEP("own1", "pre: own", "interfaceName: eth1")
                        GNP("wild", "{selector: \"wild == 'yes'\", preDNAT: true, applyOnForward: true, "
                                    "ingress: [{action: Deny}]}")
                        GNP("own", "{selector: \"pre == 'own'\", preDNAT: true, applyOnForward: true, "
                                   "ingress: [{action: Deny}]}"),
                ifs, 2);

        ASSERT_SECTION(t, "set prednat-ifnames", "\t\ttype ifname;\n\t\telements = { \"eth1\" }\n");
        ASSERT_SECTION(t, "map disp-prednat",
                       "\t\ttype ifname : verdict;\n"
                       "\t\telements = { \"eth1\" : jump ep-prednat.own1 }\n");
        ASSERT_CONTAINS(t, "\t\tiifname vmap @disp-prednat\n"
                           "\t\tiifname != @prednat-ifnames jump ep-prednat.all\n");
        ASSERT_CONTAINS(t, "\t\tiifname vmap @disp-in\n"
                           "\t\tiifname != @own-ifnames jump ep-in.all\n");
}

/* Host traffic that DNAT rewrote (nat output) is left by output, which
 * sees the interface of the original destination, and gets the same
 * endpoint chains in postrouting, on the interface it leaves by: every
 * dispatch rule of output, guarded by ct status dnat. Forwarded packets
 * leave the forward chain marked, and postrouting lets them be. Felix:
 * static.go, filterOutputChain and StaticManglePostroutingChain. */
static void test_dnat_egress_in_postrouting(void) {
        IPAddr a, b;
        HostInterface ifs[] = { iface("eth0", 2, NULL, &a), iface("eth1", 3, "10.0.0.7", &b) };
        _cleanup_free_ char *t = render(HEP("all", "", "interfaceName: '*'") HEP("own0", "", "interfaceName: eth0")
                                                HEP("by-ip", "", "expectedIPs: [10.0.0.7]"),
                                        ifs, 2);

        ASSERT_SECTION(t, "chain output",
                       "\t\ttype filter hook output priority filter; policy accept;\n"
                       "\t\tmeta mark set meta mark & 0xfff8ffff\n"
                       "\t\tct status dnat accept\n"
                       "\t\toifname vmap @disp-out\n"
                       "\t\toifname @addr-ifnames jump disp-addr-out\n"
                       "\t\toifname != \"lo\" ip saddr != @prebind-bound4 ip saddr vmap @prebind-out4\n"
                       "\t\toifname != \"lo\" ip6 saddr != @prebind-bound6 ip6 saddr vmap @prebind-out6\n"
                       "\t\toifname != @own-ifnames jump ep-out.all\n");
        ASSERT_SECTION(t, "chain postrouting",
                       "\t\ttype filter hook postrouting priority mangle; policy accept;\n"
                       "\t\tmeta mark & 0x00010000 != 0 accept\n"
                       "\t\tmeta mark set meta mark & 0xfff8ffff\n"
                       "\t\tct status dnat oifname vmap @disp-out\n"
                       "\t\tct status dnat oifname @addr-ifnames jump disp-addr-out\n"
                       "\t\tct status dnat oifname != \"lo\" ip saddr != @prebind-bound4 ip saddr vmap @prebind-out4\n"
                       "\t\tct status dnat oifname != \"lo\" ip6 saddr != @prebind-bound6 ip6 saddr vmap @prebind-out6\n"
                       "\t\tct status dnat oifname != @own-ifnames jump ep-out.all\n");
        ASSERT_SECTION(t, "map disp-out",
                       "\t\ttype ifname : verdict;\n"
                       "\t\telements = { \"eth0\" : jump ep-out.own0,\n"
                       "\t\t\t     \"eth1\" : jump ep-out.by-ip }\n");
        /* The endpoint chain is the one output uses: failsafes included. */
        ASSERT_CONTAINS(t, "\tchain ep-out.own0 {\n"
                           CT_SHORTCUT("own0", "accept")
                           "\t\tct state invalid counter name \"ep-dropped.own0\" drop\n"
                           "\t\ticmpv6 type @nd-types accept\n"
                           "\t\tjump failsafe-out\n");
        /* What the forward chain lets through leaves it marked; what an
         * endpoint's policy admitted gets the flow's generation first. */
        ASSERT_CONTAINS(t, "\t\toifname != @own-ifnames jump ep-fwd-out.all\n"
                           "\t\tmeta mark & 0x00010000 != 0 goto ct-admit\n"
                           "\t\tmeta mark set meta mark | 0x00010000 accept\n\t}\n");
}

/* A rule's http match is left out and the rest of it enforced, as Felix's
 * renderer never reads HttpMatch (rules/policy.go, CalculateRuleMatch). */
static void test_http_rule(void) {
        IPAddr a;
        HostInterface ifs[] = { iface("eth0", 2, NULL, &a) };
        _cleanup_free_ char *t = render(HEP("h", "", "interfaceName: eth0")
                                                GNP("web", "{ingress: [{action: Allow, protocol: TCP, destination: "
                                                           "{ports: [8080]}, http: {methods: [GET]}}]}"),
                                        ifs, 1);

        ASSERT_SECTION(t, "chain pol-in.web", "\t\tmeta l4proto 6 th dport 8080 meta mark set meta mark | 0x00010000 return\n");
}

/* namespaceSelector global() is !has(projectcalico.org/namespace) (Felix's
 * getEndpointSelector), and the notSelector is ANDed into it
 * (combineMatchesIfPossible): every HEP but those it excludes. */
static void test_global_not_selector(void) {
        IPAddr a;
        HostInterface ifs[] = { iface("eth0", 2, NULL, &a) };
        _cleanup_free_ char *t = render(HEP("h", "", "interfaceName: eth0") REMOTE_DB
                                        HEAD "kind: HostEndpoint\nmetadata: {name: app, labels: {role: app}}\n"
                                             "spec: {node: node3, expectedIPs: [10.0.0.3]}\n"
                                        GNP("g", "{ingress: [{action: Allow, source: {namespaceSelector: global(), "
                                                 "notSelector: \"role == 'db'\"}}]}"),
                                        ifs, 1);
        _cleanup_free_ char *set = saddr_set4(t, "chain pol-in.g");

        ASSERT_STREQ(set, "\t\ttype ipv4_addr;\n\t\telements = { 10.0.0.3 }\n");
}

/* A blank selector is all(), also once Felix's rewriting puts it between
 * parentheses ("( )" would not parse and fail the whole compilation): a
 * blank notSelector excludes every endpoint. */
static void test_blank_selectors(void) {
        IPAddr a;
        HostInterface ifs[] = { iface("eth0", 2, NULL, &a) };
        _cleanup_free_ char *t = render(HEP("h", "", "interfaceName: eth0") REMOTE_DB
                                        GNP("b", "{ingress: [{action: Allow, source: {selector: ' ', namespaceSelector: '!has(a)'}}, "
                                                 "{action: Deny, source: {selector: ' ', notSelector: ' '}}]}"),
                                        ifs, 1);
        _cleanup_free_ char *set = saddr_set4(t, "chain pol-in.b");
        _cleanup_free_ char *rules = section(t, "chain pol-in.b");

        ASSERT_STREQ(set, "\t\ttype ipv4_addr;\n\t\telements = { 10.0.0.2 }\n");
        ASSERT_NOT_NULL(rules);
        ASSERT_TRUE(strstr(rules, "0x00040000") == NULL);
}

#define FELIXCFG(name, spec) HEAD "kind: FelixConfiguration\nmetadata: {name: " name "}\nspec: " spec "\n"

/* nftablesFilterDenyAction: Reject (Felix's FilterDenyAction() in nftables
 * mode, config_params.go) turns what policy denies in the filter hooks
 * into reject: a Deny rule, the end of a tier, no profile matched and ct
 * invalid (endpoints.go, endpointIptablesChain and appendConntrackRules).
 * The normal egress chains also run in postrouting, where the kernel has
 * no reject: they mark the packet, output rejects it, postrouting drops
 * it. Pre-DNAT and untracked chains reject too. node.<name> overrides the
 * default; the same cache, given the other setting, renders it again. */
static void test_deny_reject(void) {
        IPAddr a;
        HostInterface ifs[] = { iface("eth0", 2, NULL, &a) };
        const char *pols = HEP("h", "", "interfaceName: eth0")
                GNP("deny", "{ingress: [{action: Deny}], applyOnForward: true}")
                GNP("pre", "{preDNAT: true, applyOnForward: true, ingress: [{action: Deny, protocol: UDP}]}");
        _cleanup_free_ char *yaml = NULL, *yaml_node = NULL, *t = NULL, *t_node = NULL, *t_drop = NULL;
        _cleanup_(compile_cache_freep) CompileCache *cache = compile_cache_new();

        ASSERT_TRUE(asprintf(&yaml, "%s" FELIXCFG("default", "{nftablesFilterDenyAction: Reject}"), pols) > 0);
        t = render(yaml, ifs, 1);
        ASSERT_SECTION(t, "chain ep-in.h",
                       CT_SHORTCUT("h", "accept")
                       "\t\tct state invalid counter name \"ep-dropped.h\" reject\n"
                       "\t\ticmpv6 type @nd-types accept\n"
                       "\t\tjump failsafe-in\n"
                       "\t\tmeta mark set meta mark & 0xfff8ffff\n"
                       "\t\tmeta mark set meta mark & 0xfffdffff\n"
                       "\t\tmeta mark & 0x00070000 == 0 jump pol-in.deny\n"
                       "\t\tmeta mark & 0x00010000 != 0 counter name \"ep-accepted.h\" goto ct-admit\n"
                       "\t\tmeta mark & 0x00040000 != 0 counter name \"ep-dropped.h\" reject\n"
                       "\t\tmeta mark & 0x00020000 == 0 counter name \"ep-dropped.h\" reject\n"
                       "\t\tcounter name \"ep-dropped.h\" reject\n");
        ASSERT_SECTION(t, "chain ep-out.h",
                       CT_SHORTCUT("h", "accept")
                       "\t\tct state invalid meta mark set meta mark | 0x00040000 counter name \"ep-dropped.h\" return\n"
                       "\t\ticmpv6 type @nd-types accept\n"
                       "\t\tjump failsafe-out\n"
                       "\t\tmeta mark set meta mark & 0xfff8ffff\n"
                       "\t\tmeta mark set meta mark | 0x00040000 counter name \"ep-dropped.h\" return\n");
        ASSERT_CONTAINS(t, "\t\tmeta mark & 0x00040000 != 0 counter name \"ep-dropped.h\" reject\n"
                           "\t\tmeta mark & 0x00020000 == 0 counter name \"ep-dropped.h\" reject\n\t}\n\n"
                           "\tchain ep-fwd-out.h {\n");
        ASSERT_CONTAINS(t, "\t\toifname vmap @disp-out\n"
                           "\t\tmeta mark & 0x00040000 != 0 reject\n\t}\n");
        ASSERT_CONTAINS(t, "\t\tct status dnat oifname vmap @disp-out\n"
                           "\t\tmeta mark & 0x00040000 != 0 drop\n\t}\n");
        ASSERT_CONTAINS(t, "\tchain ep-prednat.h {\n"
                           "\t\tct state established,related counter name \"ep-accepted.h\" accept\n"
                           "\t\tct state invalid counter name \"ep-dropped.h\" reject\n");
        ASSERT_CONTAINS(t, "== 0 jump pol-in.pre\n"
                           "\t\tmeta mark & 0x00010000 != 0 counter return\n"
                           "\t\tmeta mark & 0x00040000 != 0 counter name \"ep-dropped.h\" reject\n\t}\n");

        ASSERT_TRUE(asprintf(&yaml_node, "%s" FELIXCFG("node.node1", "{nftablesFilterDenyAction: Drop}"), yaml) > 0);
        ResourceList l = load(yaml), l_node = load(yaml_node);
        ASSERT_NOT_NULL(cache);
        free(render_cached(&l, ifs, 1, cache));
        t_node = render_cached(&l_node, ifs, 1, cache);
        ASSERT_FALSE(strstr(t_node, "reject"));
        ASSERT_CONTAINS(t_node, "\t\tcounter name \"ep-dropped.h\" drop\n\t}\n");
        resource_list_done(&l);
        resource_list_done(&l_node);

        /* In nftables mode Felix never reads iptablesFilterDenyAction. */
        t_drop = render(HEP("h", "", "interfaceName: eth0") FELIXCFG("default", "{iptablesFilterDenyAction: Reject}"),
                        ifs, 1);
        ASSERT_FALSE(strstr(t_drop, "reject"));
}

/* nftablesFilterAllowAction / nftablesMangleAllowAction: Return (Felix's
 * FilterAllowAction() and MangleAllowAction() in nftables mode,
 * config_params.go): conntrack's allow in the endpoint chains
 * (appendConntrackRules), the end of an allowed tier or profile and the
 * base chains' accept of what an earlier hook or policy accepted
 * (static.go) return instead; before DNAT the mangle one decides. The
 * iptables* fields are not read in nftables mode. */
static void test_allow_return(void) {
        IPAddr a;
        HostInterface ifs[] = { iface("eth0", 2, NULL, &a) };
        const char *pols = HEP("h", "", "interfaceName: eth0")
                GNP("allow", "{ingress: [{action: Allow}], applyOnForward: true}")
                GNP("pre", "{preDNAT: true, applyOnForward: true, ingress: [{action: Allow, protocol: UDP}]}");
        _cleanup_free_ char *yaml_f = NULL, *yaml_m = NULL, *t_f = NULL, *t_m = NULL, *t_ipt = NULL;

        ASSERT_TRUE(asprintf(&yaml_f, "%s" FELIXCFG("default", "{nftablesFilterAllowAction: Return}"), pols) > 0);
        t_f = render(yaml_f, ifs, 1);
        ASSERT_CONTAINS(t_f, "\tchain ep-in.h {\n"
                             CT_SHORTCUT("h", "return"));
        ASSERT_CONTAINS(t_f, "== 0 jump pol-in.allow\n"
                             "\t\tmeta mark & 0x00010000 != 0 counter name \"ep-accepted.h\" goto ct-admit-return\n");
        ASSERT_CONTAINS(t_f, "\t\tmeta mark & 0x00010000 != 0 goto ct-admit-return\n"
                             "\t\tmeta mark set meta mark | 0x00010000 return\n\t}\n");
        ASSERT_SECTION(t_f, "chain ct-admit-return", "\t\tct mark set ct mark & 0xf00fffff map @ct-stamp\n");
        ASSERT_CONTAINS(t_f, "\tmap ct-stamp {\n\t\ttype mark : mark;\n\t\telements = { 0x00000000 : 0x00100000 }\n");
        /* pre-DNAT keeps accept: the filter action is not the mangle one */
        ASSERT_CONTAINS(t_f, "\tchain ep-prednat.h {\n"
                             "\t\tct state established,related counter name \"ep-accepted.h\" accept\n");
        ASSERT_CONTAINS(t_f, "\t\tct state established,related accept\n");

        ASSERT_TRUE(asprintf(&yaml_m, "%s" FELIXCFG("default", "{nftablesMangleAllowAction: Return}"), pols) > 0);
        t_m = render(yaml_m, ifs, 1);
        ASSERT_CONTAINS(t_m, "\tchain ep-prednat.h {\n"
                             "\t\tct state established,related counter name \"ep-accepted.h\" return\n");
        ASSERT_CONTAINS(t_m, "\t\tct state established,related return\n"
                             "\t\tmeta mark & 0x00010000 != 0 return\n");
        ASSERT_CONTAINS(t_m, "\tchain ep-in.h {\n"
                             CT_SHORTCUT("h", "accept"));

        t_ipt = render(HEP("h", "", "interfaceName: eth0") FELIXCFG("default", "{iptablesFilterAllowAction: Return}"),
                       ifs, 1);
        ASSERT_CONTAINS(t_ipt, CT_SHORTCUT("h", "accept"));
}

/* disableConntrackInvalidCheck: no ct invalid rule in the normal, forward
 * and pre-DNAT chains (Felix's appendConntrackRules). */
static void test_no_invalid_check(void) {
        IPAddr a;
        HostInterface ifs[] = { iface("eth0", 2, NULL, &a) };
        _cleanup_free_ char *t = render(HEP("h", "", "interfaceName: eth0")
                                                GNP("pre", "{preDNAT: true, applyOnForward: true, ingress: [{action: Deny}]}")
                                                        FELIXCFG("default", "{disableConntrackInvalidCheck: true}"),
                                        ifs, 1);

        ASSERT_FALSE(strstr(t, "ct state invalid"));
        ASSERT_SECTION(t, "chain ep-in.h",
                       CT_SHORTCUT("h", "accept")
                       "\t\ticmpv6 type @nd-types accept\n"
                       "\t\tjump failsafe-in\n"
                       "\t\tmeta mark set meta mark & 0xfff8ffff\n"
                       "\t\tcounter name \"ep-dropped.h\" drop\n");
        ASSERT_CONTAINS(t, "\tchain ep-prednat.h {\n"
                           "\t\tct state established,related counter name \"ep-accepted.h\" accept\n"
                           "\t\ticmpv6 type @nd-types accept\n");
}

/* A Log rule's statement, as Felix's nftables renderer writes it
 * (rules/policy.go, generateLogPrefix; nftables/match_builder.go, Limit):
 * logActionRateLimit and its burst, then logPrefix with %k, %t, %n and %p
 * expanded, and ": " after it. The default is "calico-packet", no limit. */
static void test_log_prefix(void) {
        IPAddr a;
        HostInterface ifs[] = { iface("eth0", 2, NULL, &a) };
        const char *pols = HEP("h", "", "interfaceName: eth0, profiles: [p]")
                GNP("logger", "{ingress: [{action: Log, protocol: TCP}, {action: Allow}]}")
                PROFILE("p", "{egress: [{action: Log}]}");
        _cleanup_free_ char *yaml = NULL, *t = NULL, *t_default = render(pols, ifs, 1);

        ASSERT_SECTION(t_default, "chain pol-in.logger",
                       "\t\tmeta l4proto 6 log prefix \"calico-packet: \" level info\n"
                       "\t\tmeta mark set meta mark | 0x00010000 return\n");
        ASSERT_TRUE(asprintf(&yaml, "%s" FELIXCFG("default", "{logPrefix: \"%%k/%%t/%%n/%%p %%x\", "
                                                              "logActionRateLimit: 10/second, logActionRateLimitBurst: 3}"),
                             pols) > 0);
        t = render(yaml, ifs, 1);
        ASSERT_SECTION(t, "chain pol-in.logger",
                       "\t\tmeta l4proto 6 limit rate 10/second burst 3 packets log prefix \"gnp/default/logger/logger %x: \" level info\n"
                       "\t\tmeta mark set meta mark | 0x00010000 return\n");
        ASSERT_SECTION(t, "chain pro-out.p",
                       "\t\tlimit rate 10/second burst 3 packets log prefix \"pro//p/p %x: \" level info\n");
}

/* Flow logs: the rules that decide log to NFLOG with their origin in the
 * prefix (flowlog.h), each in a rule of its own before the verdict: a
 * policy's allow for a flow's first packet (its conntrack entry not
 * confirmed yet), a deny rate-limited; the endpoint chain's own denies
 * (conntrack invalid, the tier's end, a missing profile, the final drop)
 * the same way; a failsafe's accept, on its way to ct-admit. Turned off
 * again on the same cache, the ruleset is byte for byte the one compiled
 * without them. */
static void test_flow_logs(void) {
        IPAddr a;
        HostInterface ifs[] = { iface("eth0", 2, NULL, &a) };
        const char *yaml = HEP("h", "", "interfaceName: eth0, profiles: [gone]")
                GNP("web", "{ingress: [{action: Allow, protocol: TCP, destination: {ports: [80]}}, {action: Deny}]}");
        _cleanup_(compile_cache_freep) CompileCache *cache = compile_cache_new();
        _cleanup_free_ char *off = render(yaml, ifs, 1), *on = NULL, *again = NULL, *pol = NULL, *ep = NULL;
        char rule0[96], rule1[96], tier[96], gone[96];
        ResourceList l = load(yaml);
        FlowOrigin o;

        ASSERT_NOT_NULL(cache);
        compile_cache_set_flow_logs(cache, true);
        on = render_cached(&l, ifs, 1, cache);
        flow_log_statement(&(FlowOrigin) { true, false, FLOW_ORIGIN_RULE, strmap_hash("pol-in.web"), 0 }, rule0);
        flow_log_statement(&(FlowOrigin) { false, false, FLOW_ORIGIN_RULE, strmap_hash("pol-in.web"), 1 }, rule1);
        flow_log_statement(&(FlowOrigin) { false, false, FLOW_ORIGIN_TIER_END, strmap_hash("default"), -1 }, tier);
        flow_log_statement(&(FlowOrigin) { false, false, FLOW_ORIGIN_MISSING_PROFILE, flow_chain_hash("pro-in", "gone"), -1 }, gone);
        ASSERT_TRUE(asprintf(&pol, "\t\tmeta l4proto 6 th dport 80 ct status ! confirmed %s\n"
                                   "\t\tmeta l4proto 6 th dport 80 meta mark set meta mark | 0x00010000 return\n"
                                   "\t\tlimit rate 20/second burst 20 packets %s\n"
                                   "\t\tmeta mark set meta mark | 0x00040000 return\n", rule0, rule1) > 0);
        ASSERT_SECTION(on, "chain pol-in.web", pol);
        ASSERT_TRUE(asprintf(&ep, CT_SHORTCUT("h", "accept")
                                  "\t\tct state invalid limit rate 20/second burst 20 packets log group 4711 prefix \"hep:DI:i\"\n"
                                  "\t\tct state invalid counter name \"ep-dropped.h\" drop\n"
                                  "\t\ticmpv6 type @nd-types accept\n"
                                  "\t\tjump failsafe-in\n"
                                  "\t\tmeta mark set meta mark & 0xfff8ffff\n"
                                  "\t\tmeta mark set meta mark & 0xfffdffff\n"
                                  "\t\tmeta mark & 0x00070000 == 0 jump pol-in.web\n"
                                  "\t\tmeta mark & 0x00010000 != 0 counter name \"ep-accepted.h\" goto ct-admit\n"
                                  "\t\tmeta mark & 0x00040000 != 0 counter name \"ep-dropped.h\" drop\n"
                                  "\t\tmeta mark & 0x00020000 == 0 limit rate 20/second burst 20 packets %s\n"
                                  "\t\tmeta mark & 0x00020000 == 0 counter name \"ep-dropped.h\" drop\n"
                                  "\t\tmeta mark & 0x00050000 == 0 limit rate 20/second burst 20 packets %s\n"
                                  "\t\tmeta mark & 0x00050000 == 0 counter name \"ep-dropped.h\" drop\n"
                                  "\t\tmeta mark & 0x00010000 != 0 counter name \"ep-accepted.h\" goto ct-admit\n"
                                  "\t\tmeta mark & 0x00040000 != 0 counter name \"ep-dropped.h\" drop\n"
                                  "\t\tlimit rate 20/second burst 20 packets log group 4711 prefix \"hep:DI:d\"\n"
                                  "\t\tcounter name \"ep-dropped.h\" drop\n", tier, gone) > 0);
        ASSERT_SECTION(on, "chain ep-in.h", ep);
        ASSERT_CONTAINS(on, "meta l4proto . th dport @failsafe-9c9bf58745dcdf84 goto flow-failsafe-in\n");
        ASSERT_SECTION(on, "chain flow-failsafe-in",
                       "\t\tct status ! confirmed log group 4711 prefix \"hep:AI:f\"\n"
                       "\t\tgoto ct-admit\n");
        /* The prefixes read back as what wrote them, and fit the kernel's 127 bytes. */
        ASSERT_TRUE(strlen(strstr(rule1, "hep:")) < FLOW_LOG_PREFIX_MAX);
        *strrchr(rule1, '"') = 0;
        ASSERT_OK(flow_origin_parse(strstr(rule1, "hep:"), &o));
        ASSERT_FALSE(o.allow);
        ASSERT_EQ(o.kind, FLOW_ORIGIN_RULE);
        ASSERT_EQ(o.hash, strmap_hash("pol-in.web"));
        ASSERT_EQ(o.rule, 1);
        ASSERT_FALSE(o.egress);
        ASSERT_TRUE(flow_origin_parse("hep:AI:r12", &o) < 0);
        ASSERT_TRUE(flow_origin_parse("hep:A:d", &o) < 0);
        ASSERT_TRUE(flow_origin_parse("calico-packet: ", &o) < 0);

        compile_cache_set_flow_logs(cache, false);
        again = render_cached(&l, ifs, 1, cache);
        /* The same but for the conntrack generation, which the change moved on. */
        for (char *g; (g = strstr(again, "0x00200000"));)
                g[4] = '1';
        ASSERT_STREQ(again, off);
        resource_list_done(&l);
}

int main(void) {
        RUN(test_endpoint_without_policy);
        RUN(test_by_name_one_policy);
        RUN(test_by_name_before_the_interface);
        RUN(test_by_expected_ips);
        RUN(test_prebind_by_address);
        RUN(test_failsafes);
        RUN(test_selector_sets);
        RUN(test_selector_sets_network_sets);
        RUN(test_profiles_after_pass);
        RUN(test_wildcard_prednat);
        RUN(test_dnat_egress_in_postrouting);
        RUN(test_http_rule);
        RUN(test_global_not_selector);
        RUN(test_blank_selectors);
        RUN(test_deny_reject);
        RUN(test_allow_return);
        RUN(test_no_invalid_check);
        RUN(test_log_prefix);
        RUN(test_flow_logs);
        ASSERT_EQ(intern_count(), 0);
        return 0;
}
