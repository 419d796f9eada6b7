/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The nftables compiler on the smallest inputs: what a HostEndpoint with
 * nothing that applies to it compiles to. */
#include "tests.h"
#include "calc.h"
#include "check.h"
#include "compile.h"
#include "intern.h"
#include "loader.h"

static void load(const char *yaml, ResourceList *l) {
        ParseError e = PARSE_ERROR_INIT;

        ASSERT_OK(resources_parse("t.yaml", yaml, strlen(yaml), l, &e));
        for (size_t i = 0; i < l->n; i++)
                ASSERT_OK(resource_check(l->v[i], &e));
}

/* Felix's default for a HostEndpoint with no policy and no profile: its
 * chains let through established flows and failsafes, and drop the rest. */
static void test_endpoint_without_policy(void) {
        ResourceList l = RESOURCE_LIST_INIT;
        HostInterface eth0 = { .name = (char *)"eth0", .ifindex = 2, .oper_up = true };
        Calc *c = NULL;
        Ruleset *rs = NULL;
        StrBuf b = STRBUF_INIT;

        load("apiVersion: projectcalico.org/v3\nkind: HostEndpoint\nmetadata: {name: bare}\n"
             "spec: {node: node1, interfaceName: eth0}\n", &l);
        ASSERT_OK(calc_run(l.v, l.n, "node1", &eth0, 1, NULL, &c));
        ASSERT_OK(ruleset_compile(c, NULL, &rs));
        ruleset_print(rs, &b);
        ASSERT_TRUE(strbuf_ok(&b));
        ASSERT_NOT_NULL(strstr(strbuf_str(&b),
                               "\tchain ep-in.bare {\n"
                               "\t\tct state established,related counter name \"ep-accepted.bare\" accept\n"
                               "\t\tct state invalid counter name \"ep-dropped.bare\" drop\n"
                               "\t\ticmpv6 type @nd-types accept\n"
                               "\t\tjump failsafe-in\n"
                               "\t\tmeta mark set meta mark & 0xfff8ffff\n"
                               "\t\tcounter name \"ep-dropped.bare\" drop\n"
                               "\t}\n"));
        strbuf_done(&b);
        ruleset_free(rs);
        calc_free(c);
        resource_list_done(&l);
}

int main(void) {
        test_endpoint_without_policy();
        ASSERT_EQ(intern_count(), 0);
        return 0;
}
