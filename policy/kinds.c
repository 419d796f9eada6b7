/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The resource kinds, their list kinds, etcd plurals and the CLI aliases
 * calicoctl accepts for them (matched case-insensitively). */
#include <stdio.h>
#include <strings.h>

#include "resource.h"
#include "strbuf.h"

static const char *const hep_aliases[] = { "hostendpoint", "hostendpoints", "hep", "heps", NULL };
static const char *const profile_aliases[] = { "profile", "profiles", "pro", "pros", NULL };
static const char *const gnp_aliases[] = { "globalnetworkpolicy", "globalnetworkpolicies", "gnp", "gnps", NULL };
static const char *const np_aliases[] = { "networkpolicy", "networkpolicies", "policy", "policies", "np", "pol",
                                          "pols", NULL };
static const char *const tier_aliases[] = { "tier", "tiers", NULL };
static const char *const felix_aliases[] = { "felixconfiguration", "felixconfigurations", "felixconfig",
                                             "felixconfigs", NULL };
/* calicoctl's three, and the CRD's short name. */
static const char *const gns_aliases[] = { "globalnetworkset", "globalnetworksets", "gnetsets", "gns", NULL };
/* calicoctl's (resourcemgr/stagedglobalnetworkpolicy.go); sgnp is also the CRD's short name. */
static const char *const sgnp_aliases[] = { "stagedglobalnetworkpolicy", "stagedglobalnetworkpolicies", "sgnp",
                                            "sgnps", NULL };

static const KindInfo kinds[_KIND_MAX] = {
        [KIND_HOST_ENDPOINT] = { KIND_HOST_ENDPOINT, "HostEndpoint", "HostEndpointList", "hostendpoints",
                                 hep_aliases, false },
        [KIND_PROFILE] = { KIND_PROFILE, "Profile", "ProfileList", "profiles", profile_aliases, false },
        [KIND_GLOBAL_NETWORK_POLICY] = { KIND_GLOBAL_NETWORK_POLICY, "GlobalNetworkPolicy",
                                         "GlobalNetworkPolicyList", "globalnetworkpolicies", gnp_aliases, false },
        [KIND_NETWORK_POLICY] = { KIND_NETWORK_POLICY, "NetworkPolicy", "NetworkPolicyList", "networkpolicies",
                                  np_aliases, true },
        [KIND_TIER] = { KIND_TIER, "Tier", "TierList", "tiers", tier_aliases, false },
        [KIND_FELIX_CONFIGURATION] = { KIND_FELIX_CONFIGURATION, "FelixConfiguration", "FelixConfigurationList",
                                       "felixconfigurations", felix_aliases, false },
        [KIND_GLOBAL_NETWORK_SET] = { KIND_GLOBAL_NETWORK_SET, "GlobalNetworkSet", "GlobalNetworkSetList",
                                      "globalnetworksets", gns_aliases, false },
        [KIND_STAGED_GLOBAL_NETWORK_POLICY] = { KIND_STAGED_GLOBAL_NETWORK_POLICY, "StagedGlobalNetworkPolicy",
                                                "StagedGlobalNetworkPolicyList", "stagedglobalnetworkpolicies",
                                                sgnp_aliases, false },
};

const KindInfo *kind_info(ResourceKind k) {
        if (k < 0 || k >= _KIND_MAX)
                return NULL;
        return &kinds[k];
}

const KindInfo *kind_from_name(const char *name) {
        for (size_t i = 0; i < _KIND_MAX; i++)
                if (streq(kinds[i].name, name))
                        return &kinds[i];
        return NULL;
}

const KindInfo *kind_from_list_name(const char *name) {
        for (size_t i = 0; i < _KIND_MAX; i++)
                if (streq(kinds[i].list_name, name))
                        return &kinds[i];
        return NULL;
}

const KindInfo *kind_from_alias(const char *alias) {
        for (size_t i = 0; i < _KIND_MAX; i++)
                for (const char *const *a = kinds[i].aliases; *a; a++)
                        if (strcasecmp(*a, alias) == 0)
                                return &kinds[i];
        return NULL;
}

char *resource_identifier(const Resource *r) {
        StrBuf b = STRBUF_INIT;

        strbuf_printf(&b, "%s(", kinds[r->kind].name);
        if (!isempty(r->meta.namespace))
                strbuf_printf(&b, "%s/", r->meta.namespace);
        strbuf_printf(&b, "%s)", r->meta.name ? r->meta.name : "");
        return strbuf_steal(&b);
}
