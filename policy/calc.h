/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The policy calculation, as Felix's calculation graph does it, with no
 * I/O: given every resource, this node's name and the host's interfaces,
 * decide which HostEndpoint each interface uses (and why each HEP is or is
 * not enforced), which policies apply to each endpoint in which order for
 * each flavour and direction, its profiles, the failsafe ports, and which
 * IPs a selector stands for. compile.c turns the result into nftables. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "ipaddr.h"
#include "labels.h"
#include "resource.h"
#include "selector.h"
#include "strmap.h"

/* One interface of the host, as the link tracker sees it. */
typedef struct HostInterface {
        char *name;
        int ifindex;
        bool oper_up;
        IPAddr *addrs;
        size_t n_addrs;
} HostInterface;

typedef enum EndpointState {
        ENDPOINT_ENFORCED, /* bound to at least one interface that exists */
        ENDPOINT_WAITING,  /* enforced by name, or waiting for its address: no interface yet */
        ENDPOINT_INACTIVE, /* another HEP holds its interface */
        ENDPOINT_ERROR,    /* cannot be enforced (excluded interface, ...) */
        ENDPOINT_REMOTE,   /* belongs to another node; only feeds selector IP sets */
        _ENDPOINT_STATE_MAX,
        _ENDPOINT_STATE_INVALID = -EINVAL,
} EndpointState;

const char *endpoint_state_to_string(EndpointState s);

/* The four policy flavours of Felix, each its own set of chains. */
typedef enum Flavour {
        FLAVOUR_NORMAL,
        FLAVOUR_FORWARD,   /* applyOnForward */
        FLAVOUR_PREDNAT,   /* ingress only */
        FLAVOUR_UNTRACKED, /* doNotTrack */
        _FLAVOUR_MAX,
        _FLAVOUR_INVALID = -EINVAL,
} Flavour;

typedef enum Direction {
        DIRECTION_INGRESS, /* arriving through the interface: the policies' ingress rules */
        DIRECTION_EGRESS,
        _DIRECTION_MAX,
        _DIRECTION_INVALID = -EINVAL,
} Direction;

/* Policies of one tier that apply to an endpoint, in evaluation order. */
typedef struct TierPolicies {
        const Resource *tier; /* NULL: a tier that does not exist (ordered last) */
        const char *tier_name;
        bool end_of_tier_drop; /* the tier's defaultAction is Deny */
        const Resource **policies;
        size_t n_policies;
} TierPolicies;

typedef struct PolicyOrder {
        TierPolicies *tiers;
        size_t n_tiers;
} PolicyOrder;

/* The policies that apply to an endpoint, by flavour and direction. Kept
 * in its EndpointInfo and shared by successive calculations while no
 * policy, tier or label changed (most runs: an interface came or went). */
typedef struct EndpointOrders {
        unsigned n_ref;
        PolicyOrder v[_FLAVOUR_MAX][_DIRECTION_MAX];
        /* Every policy of the lists above once, in evaluation order. */
        const Resource **applied;
        size_t n_applied;
        /* Those of them with a rule that has an http match. */
        const Resource **http;
        size_t n_http;
} EndpointOrders;

EndpointOrders *endpoint_orders_ref(EndpointOrders *o);
EndpointOrders *endpoint_orders_unref(EndpointOrders *o);

typedef struct EndpointProfile {
        const char *name;
        const Resource *profile; /* NULL: the profile does not exist (deny-all) */
} EndpointProfile;

/* What an endpoint is, whatever the interfaces and policies: its effective
 * labels and its addresses. Computed once and shared between calculations
 * for as long as the HEP and its profiles are the same objects (resources
 * never change once loaded), so a run recomputes only what changed. */
typedef struct EndpointInfo {
        unsigned n_ref;
        uint64_t generation; /* the run of the CalcCache that made it */
        Resource *hep;       /* referenced */
        const char *name;    /* hep's, kept here so a run that reuses the info need not read the HEP */
        bool wildcard;       /* interfaceName "*" */
        uint64_t name_hash;  /* strmap_hash() of the HEP's name */
        Resource **profiles; /* referenced; NULL where the profile is missing */
        size_t n_profiles;
        /* Own labels, then profiles' labelsToApply: the HEP's own when no
         * profile adds any (the common case, not copied), else merged. */
        const Labels *labels;
        Labels merged;
        IPAddr *ips;         /* expectedIPs that parse */
        size_t n_ips;
        const char *remote_reason; /* "belongs to node 'x'", for another node's HEP (the cache's) */
        /* The policies whose selector matched these labels in the run
         * matched_gen (referenced): a run in which neither changed reuses
         * the answer instead of evaluating every selector again. */
        Resource **matched;
        size_t n_matched;
        uint64_t matched_gen;
        /* What those policies make of it (referenced; NULL: none apply),
         * as computed in the run orders_gen. */
        EndpointOrders *orders;
        uint64_t orders_gen;
} EndpointInfo;

EndpointInfo *endpoint_info_ref(EndpointInfo *i);
EndpointInfo *endpoint_info_unref(EndpointInfo *i);

/* A GlobalNetworkPolicy's parsed selector, kept while the policy object is
 * the same. generation: the run in which this object was first seen. */
typedef struct CachedPolicy {
        Resource *res; /* referenced */
        Selector *selector; /* NULL: does not parse */
        bool http; /* a rule of it has an http match */
        uint64_t generation;
        size_t order_index; /* its place in this run's evaluation order; SIZE_MAX: not evaluated */
} CachedPolicy;

/* Kept by the caller from one calculation to the next. */
typedef struct CalcCache {
        StrMap by_name; /* HEP name → EndpointInfo */
        EndpointInfo **infos;
        size_t n_infos;
        uint64_t generation;
        /* HEP names whose labels or addresses may have changed in the last
         * run (added, changed, removed), for incremental selector sets. */
        char **changed;
        /* Parallel to changed: each one's information before the run
         * (referenced), NULL for a HEP that is new; a set can then take
         * out what the HEP put in, without rebuilding. */
        EndpointInfo **previous;
        size_t n_changed;
        bool changed_all; /* the first run: everything is new */
        StrMap node_reasons; /* node → "belongs to node 'node'", one per node (both owned) */
        char *nodename; /* of the last run: its infos tell local from remote for it */
        StrMap policies; /* GNP name → CachedPolicy */
        CachedPolicy **policy_list;
        size_t n_policies;
        bool policies_complete; /* the last run built them all */
        /* The GlobalNetworkSets of the last run (referenced), in datastore
         * order; netsets_changed: this run's differ from the previous run's. */
        Resource **netsets;
        size_t n_netsets;
        bool netsets_changed;
        /* The Profiles of the last run (referenced), in datastore order:
         * while they and the HEPs are the same objects, every HEP's
         * information is reused without looking its profiles up. */
        Resource **profiles;
        size_t n_profiles;
        /* The last evaluation order, reused while no policy or tier changed. */
        void *order; /* PolicyInfo[], private to calc.c */
        size_t n_order;
        uint64_t order_signature;
} CalcCache;

CalcCache *calc_cache_new(void);
CalcCache *calc_cache_free(CalcCache *c);
DEFINE_CLEANUP_FUNC(CalcCache, calc_cache_free)

typedef struct Endpoint {
        EndpointInfo *info; /* referenced */
        const Resource *hep;
        const char *name;
        EndpointState state;
        char *reason; /* NULL for another node's HEP: see endpoint_reason() */
        bool wildcard; /* interfaceName "*" */
        const Labels *labels; /* info->labels */
        /* Interface names the kernel dispatches to this endpoint: existing
         * interfaces it won, and for a named HEP its name even before the
         * interface exists (fail-closed). Empty for "*" (the fallback). */
        char **ifnames;
        size_t n_ifnames;
        /* ifindexes of existing interfaces it is bound to */
        int *ifindexes;
        size_t n_ifindexes;
        EndpointProfile *profiles;
        size_t n_profiles;
        /* Referenced; NULL until a policy applies: most endpoints are
         * other nodes' and never have one. Read it with endpoint_order(). */
        EndpointOrders *orders;
        const IPAddr *ips; /* info->ips */
        size_t n_ips;
} Endpoint;

const char *endpoint_reason(const Endpoint *e);
/* Matched by its expectedIPs (no interfaceName): an address event binds it. */
bool endpoint_by_address(const Endpoint *e);
/* The policies that apply to e in one flavour and direction (never NULL). */
const PolicyOrder *endpoint_order(const Endpoint *e, Flavour f, Direction d);

typedef struct FailsafePort {
        uint8_t protocol; /* IPPROTO_TCP or IPPROTO_UDP */
        uint16_t port;
        bool has_net;
        IPNet net;
} FailsafePort;

/* A GlobalNetworkSet: its labels and its nets, for selector sets (Felix's
 * label index takes it like an endpoint, its nets as its addresses). */
typedef struct NetworkSet {
        const Resource *gns;
        const char *name;
        const Labels *labels;
        IPNet *nets; /* each entry that parses, as its network; a bare address is a full-length one */
        size_t n_nets;
} NetworkSet;

typedef struct Calc {
        char *nodename;
        Endpoint *endpoints; /* every HEP, sorted by name */
        size_t n_endpoints;
        CalcCache *cache;    /* borrowed from the caller, or owned (own_cache) */
        bool own_cache;
        const Endpoint *wildcard; /* the "*" HEP in force here, or NULL */
        FailsafePort *failsafe_in, *failsafe_out;
        size_t n_failsafe_in, n_failsafe_out;
        /* FelixConfiguration's nftablesFilterDenyAction is Reject: what
         * policy denies in the filter hooks is rejected, not dropped. */
        bool deny_reject;
        /* disableConntrackInvalidCheck: conntrack-invalid packets are not
         * denied, they go on through the chains. */
        bool no_invalid_check;
        /* nftablesFilterAllowAction / nftablesMangleAllowAction are
         * Return: what policy allows in the filter hooks, or before DNAT,
         * returns (to our base chain, whose policy accepts) instead of
         * being accepted on the spot. */
        bool filter_allow_return, mangle_allow_return;
        /* logPrefix (NULL: Felix's "calico-packet"), logActionRateLimit
         * (NULL: none) and logActionRateLimitBurst, for rules with action
         * Log; borrowed from the resources. */
        const char *log_prefix, *log_rate;
        int64_t log_burst;
        /* Things a user should know (missing profile, bad failsafe entry):
         * "HostEndpoint(x): profile 'p' does not exist, denying all" */
        char **warnings;
        size_t n_warnings;
        /* Borrowed input, for selector resolution. */
        Resource *const *resources;
        size_t n_resources;
        /* The same, by kind (in input order): each step of the calculation
         * walks only the kind it needs, not every resource. by_kind_all
         * holds them; by_kind[k] points into it. */
        Resource **by_kind_all;
        Resource **by_kind[_KIND_MAX];
        size_t n_by_kind[_KIND_MAX];
        const Resource *const *profiles_by_name; /* sorted */
        size_t n_profiles;
        NetworkSet *netsets; /* every GlobalNetworkSet, sorted by name */
        size_t n_netsets;
} Calc;

/* resources stay owned by the caller and must outlive the Calc. cache
 * (optional) carries endpoint computations from the previous run. */
int calc_run(Resource *const *resources, size_t n_resources, const char *nodename, const HostInterface *ifaces,
             size_t n_ifaces, CalcCache *cache, Calc **ret);
Calc *calc_free(Calc *c);
DEFINE_CLEANUP_FUNC(Calc, calc_free)

const Endpoint *calc_find_endpoint(const Calc *c, const char *name);
/* The endpoint an interface's traffic is policed by: its own, or the "*"
 * fallback, or NULL. */
const Endpoint *calc_endpoint_for_interface(const Calc *c, const char *ifname);

/* The addresses of every HostEndpoint (all nodes) whose effective labels
 * sel selects, sorted and unique. For named ports, the (address, protocol,
 * port) triples of endpoints sel selects that have a port of that name and,
 * unless protocol is 0, that protocol. */
typedef struct NamedPortMember {
        IPAddr addr;
        uint8_t protocol;
        uint16_t port;
} NamedPortMember;

int calc_selector_ips(const Calc *c, const Selector *sel, IPAddr **ret, size_t *ret_n);
/* What a selector's set holds: the addresses of the HostEndpoints sel
 * selects (as full-length networks) and the nets of the GlobalNetworkSets
 * it selects, IPv4 then IPv6, none inside another (ipnet_merge). */
int calc_selector_nets(const Calc *c, const Selector *sel, IPNet **ret, size_t *ret_n);
/* The network sets sel selects, appended to *v (grown as grow_array does). */
int calc_netset_nets(const Calc *c, const Selector *sel, IPNet **v, size_t *n, size_t *alloc);
int calc_named_port_members(const Calc *c, const Selector *sel, const char *port_name, uint8_t protocol,
                            NamedPortMember **ret, size_t *ret_n);

/* Protocol number for a rule protocol (name or number); 0 if unknown. */
uint8_t protocol_number(const Protocol *p);
/* "tcp", "udp", "sctp", else the number, as nft writes protocols. */
void protocol_format(uint8_t p, char buf[static 8]);
