/* SPDX-License-Identifier: GPL-2.0-or-later */
/* StagedGlobalNetworkPolicy end to end without a kernel: what the client
 * stores for one (Calico's defaults), where a bad one is reported in its
 * file, that the ruleset to commit ignores it byte for byte, and the staged
 * view: each staged policy promoted as its stagedAction says (Set replaces
 * or adds, Delete removes), compiled by the same compiler. */
#include "tests.h"
#include "check.h"
#include "compute.h"
#include "intern.h"
#include "loader.h"
#include "staged.h"

#define HEAD "---\napiVersion: projectcalico.org/v3\n"
#define HEP_WEB                                                                     \
        HEAD "kind: HostEndpoint\nmetadata: {name: web, labels: {role: web}}\n" \
             "spec: {node: node1, interfaceName: eth0}\n"
#define GNP(name, port) \
        HEAD "kind: GlobalNetworkPolicy\nmetadata: {name: " name "}\n" \
             "spec: {selector: \"role == 'web'\", ingress: [{action: Allow, protocol: TCP, destination: {ports: [" port "]}}]}\n"
#define SGNP(name, spec) HEAD "kind: StagedGlobalNetworkPolicy\nmetadata: {name: " name "}\nspec: " spec "\n"

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

/* The message resources_parse_checked() gives for yaml, or NULL. */
static char *check_error(const char *yaml) {
        ResourceList l = RESOURCE_LIST_INIT;
        ParseError e = PARSE_ERROR_INIT;
        char *msg;

        if (resources_parse_checked("t.yaml", yaml, strlen(yaml), &l, &e) >= 0) {
                resource_list_done(&l);
                return NULL;
        }
        msg = parse_error_format(&e);
        parse_error_done(&e);
        return msg;
}

static const HostInterface eth0 = { .name = (char *)"eth0", .ifindex = 2, .oper_up = true };

static char *render(Resource *const *v, size_t n) {
        _cleanup_(computation_done) Computation c = {};
        StrBuf b = STRBUF_INIT;

        ASSERT_OK(ruleset_compute(v, n, "node1", &eth0, 1, NULL, NULL, &c));
        ruleset_print(c.ruleset, &b);
        ASSERT_TRUE(strbuf_ok(&b));
        return strbuf_steal(&b);
}

static char *render_staged(const ResourceList *l) {
        _cleanup_(staged_computation_done) StagedComputation s = {};
        StrBuf b = STRBUF_INIT;

        ASSERT_OK(staged_compute(l->v, l->n, "node1", &eth0, 1, &s));
        ruleset_print(s.c.ruleset, &b);
        ASSERT_TRUE(strbuf_ok(&b));
        return strbuf_steal(&b);
}

/* The view's GlobalNetworkPolicy of that name, or NULL. */
static const Resource *view_gnp(Resource *const *v, size_t n, const char *name) {
        for (size_t i = 0; i < n; i++)
                if (v[i]->kind == KIND_GLOBAL_NETWORK_POLICY && streq(v[i]->meta.name, name))
                        return v[i];
        return NULL;
}

static bool view_has_staged(Resource *const *v, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (v[i]->kind == KIND_STAGED_GLOBAL_NETWORK_POLICY)
                        return true;
        return false;
}

/* What the client stores: tier "default", the CRD's stagedAction Set,
 * types from the rules and the tier label; a deletion has no types. */
static void test_defaults(void) {
        ResourceList l = load(SGNP("a", "{egress: [{action: Allow}]}") SGNP("b", "{stagedAction: Delete, types: [Ingress]}"));
        const PolicySpec *a = &l.v[0]->spec.policy, *b = &l.v[1]->spec.policy;

        ASSERT_STREQ(a->staged_action, "Set");
        ASSERT_STREQ(a->tier, "default");
        ASSERT_EQ(a->types.n, 1);
        ASSERT_STREQ(a->types.v[0], "Egress");
        ASSERT_STREQ(labels_get(&l.v[0]->meta.labels, "projectcalico.org/tier"), "default");
        ASSERT_STREQ(b->staged_action, "Delete");
        ASSERT_STREQ(b->tier, "default");
        ASSERT_EQ(b->types.n, 0);
        resource_list_done(&l);
}

/* A bad staged policy is reported at the field in its file, in
 * calicoctl's words. */
static void test_positions(void) {
        _cleanup_free_ char *bad_action = check_error(SGNP("s", "\n  stagedAction: Remove"));
        _cleanup_free_ char *not_empty = check_error(SGNP("s", "\n  stagedAction: Delete\n  selector: all()"));
        _cleanup_free_ char *gnp_rule = check_error(SGNP("s", "\n  ingress:\n  - action: Allow\n    ipVersion: 5"));
        _cleanup_free_ char *unknown = check_error(SGNP("s", "\n  stagedActon: Set"));
        _cleanup_free_ char *on_gnp = check_error(HEAD "kind: GlobalNetworkPolicy\nmetadata: {name: g}\nspec:\n  stagedAction: Set\n");

        ASSERT_STREQ(bad_action,
                     "t.yaml:6:17: spec.stagedAction: error with the following fields:\n"
                     "-  StagedAction = 'Remove' (Reason: failed to validate Field: StagedAction because of Tag: stagedAction )\n"
                     "-  spec.stagedAction (supported values: \"Set\", \"Delete\", \"Learn\", \"Ignore\")\n");
        ASSERT_STREQ(not_empty,
                     "t.yaml:6:3: spec: error with field StagedGlobalNetworkPolicySpec = "
                     "'{Delete default <nil> [] [] all() [] false false false   []}' "
                     "(Spec fields, except Tier, should all be zero-value if stagedAction is Delete)");
        ASSERT_STREQ(gnp_rule,
                     "t.yaml:8:16: spec.ingress[0].ipVersion: error with the following fields:\n"
                     "-  IPVersion = '5' (Reason: failed to validate Field: IPVersion because of Tag: ipVersion )\n"
                     "-  spec.ingress[0].ipVersion (supported values: \"4\", \"6\")\n");
        ASSERT_STREQ(unknown,
                     "t.yaml:6:3: spec.stagedActon: field in document is not recognized or is in the wrong location: stagedActon");
        /* Only the staged kind has the field. */
        ASSERT_STREQ(on_gnp,
                     "t.yaml:6:3: spec.stagedAction: field in document is not recognized or is in the wrong location: stagedAction");
}

/* Never enforced: the ruleset to commit is the same, byte for byte, with
 * staged policies of every action beside the resources, and the same as
 * the staged view's when none exists. */
static void test_never_enforced(void) {
        ResourceList plain = load(HEP_WEB GNP("allow-http", "80"));
        ResourceList with = load(HEP_WEB GNP("allow-http", "80") SGNP("allow-http", "{selector: all(), ingress: [{action: Deny}]}")
                                         SGNP("deny-all", "{stagedAction: Learn, selector: all(), egress: [{action: Deny}]}")
                                         SGNP("gone", "{stagedAction: Delete}"));
        _cleanup_free_ char *a = render(plain.v, plain.n), *b = render(with.v, with.n);
        _cleanup_free_ char *s = render_staged(&plain);

        ASSERT_STREQ(b, a);
        ASSERT_STREQ(s, a);
        ASSERT_FALSE(resources_have_staged(plain.v, plain.n));
        ASSERT_TRUE(resources_have_staged(with.v, with.n));
        resource_list_done(&plain);
        resource_list_done(&with);
}

/* Set replaces the GNP of its name with its own spec; Delete removes it;
 * a new name adds one; Learn and Ignore count as Set. The input stays as
 * it was. */
static void test_view(void) {
        ResourceList l = load(HEP_WEB GNP("allow-http", "80") GNP("allow-ssh", "22") GNP("keep", "25")
                                      SGNP("allow-http", "{order: 5, selector: \"role == 'web'\", ingress: [{action: Allow, protocol: TCP, destination: {ports: [443]}}]}")
                                      SGNP("allow-ssh", "{stagedAction: Delete}")
                                      SGNP("new-one", "{stagedAction: Learn, selector: all(), ingress: [{action: Deny, protocol: UDP}]}")
                                      SGNP("also-new", "{stagedAction: Ignore, selector: all()}")
                                      SGNP("delete-nothing", "{stagedAction: Delete}"));
        _cleanup_(resource_freep) Resource *before = resource_copy(l.v[4]);
        Resource **v = NULL;
        size_t n = 0;
        const Resource *http, *added;

        ASSERT_OK(staged_view(l.v, l.n, &v, &n));
        ASSERT_EQ(n, 5); /* web, keep, allow-http, new-one, also-new */
        ASSERT_FALSE(view_has_staged(v, n));
        http = view_gnp(v, n, "allow-http");
        ASSERT_NOT_NULL(http);
        ASSERT_TRUE(http->spec.policy.order.set && http->spec.policy.order.v == 5);
        ASSERT_EQ(http->spec.policy.ingress.v[0].destination.ports.v[0].min, 443);
        ASSERT_NULL(http->spec.policy.staged_action);
        ASSERT_NULL(http->meta.uid);
        ASSERT_NULL(view_gnp(v, n, "allow-ssh"));
        ASSERT_NULL(view_gnp(v, n, "delete-nothing"));
        ASSERT_TRUE(view_gnp(v, n, "keep") == l.v[3]); /* shared, not copied */
        added = view_gnp(v, n, "new-one");
        ASSERT_NOT_NULL(added);
        ASSERT_STREQ(added->spec.policy.ingress.v[0].action, "Deny");
        ASSERT_NOT_NULL(view_gnp(v, n, "also-new"));
        /* The input is untouched: still staged, still its own. */
        ASSERT_EQ(l.v[4]->kind, KIND_STAGED_GLOBAL_NETWORK_POLICY);
        ASSERT_TRUE(resource_spec_equal(l.v[4], before));
        ASSERT_EQ(l.n, 9);
        staged_view_free(v, n);
        resource_list_done(&l);
}

/* The staged view's ruleset is the promoted resources' ruleset: the same
 * text as compiling, as enforced, the GNPs the promotion gives. */
static void test_staged_ruleset(void) {
        ResourceList staged = load(HEP_WEB GNP("allow-http", "80") GNP("allow-ssh", "22")
                                           SGNP("allow-http", "{selector: \"role == 'web'\", ingress: [{action: Allow, protocol: TCP, destination: {ports: [443]}}]}")
                                           SGNP("allow-ssh", "{stagedAction: Delete}")
                                           SGNP("deny-dns", "{selector: all(), ingress: [{action: Deny, protocol: UDP, destination: {ports: [53]}}]}"));
        ResourceList promoted = load(HEP_WEB GNP("allow-http", "443")
                                             HEAD "kind: GlobalNetworkPolicy\nmetadata: {name: deny-dns}\n"
                                                  "spec: {selector: all(), ingress: [{action: Deny, protocol: UDP, destination: {ports: [53]}}]}\n");
        _cleanup_free_ char *s = render_staged(&staged), *want = render(promoted.v, promoted.n);
        _cleanup_free_ char *enforced = render(staged.v, staged.n);

        ASSERT_STREQ(s, want);
        ASSERT_CONTAINS(s, "chain pol-in.deny-dns {");
        ASSERT_CONTAINS(s, "th dport 443 ");
        ASSERT_FALSE(strstr(s, "th dport 22 "));
        /* ... while what is enforced still has the GNPs as they are. */
        ASSERT_CONTAINS(enforced, "th dport 22 ");
        ASSERT_CONTAINS(enforced, "th dport 80 ");
        ASSERT_FALSE(strstr(enforced, "deny-dns"));
        resource_list_done(&staged);
        resource_list_done(&promoted);
}

int main(void) {
        RUN(test_defaults);
        RUN(test_positions);
        RUN(test_never_enforced);
        RUN(test_view);
        RUN(test_staged_ruleset);
        ASSERT_EQ(intern_count(), 0);
        return 0;
}
