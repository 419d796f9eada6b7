/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The policy calculation; see calc.h. Felix references: interface matching
 * is endpoint_mgr.go resolveHostEndpoints (lowest HEP name wins, name and
 * IP matches equal, a named HEP never falls back to IP); policy order is
 * policy_sorter.go (tier order, then policy order with none = last, then
 * the key "name/namespace/kind"); flavours are tierInfoToProtoTierInfo;
 * labels are label_inheritance_index.go (own labels win, then profiles in
 * order). */
#include "calc.h"

#include <netinet/in.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "check.h"
#include "strbuf.h"

/* A kind's resources, as the (array, count) the steps below take: each
 * step is given only the kind it reads (partition_by_kind()). */
#define KIND_SPAN(c, k) (c)->by_kind[k], (c)->n_by_kind[k]

/* How far ahead the walks over every resource or HEP fetch: each element
 * is another allocation, a cache miss of its own, and fetching a few ahead
 * overlaps the misses instead of waiting for each in turn. */
#define PREFETCH_AHEAD 8

const char *endpoint_state_to_string(EndpointState s) {
        switch (s) {
        case ENDPOINT_ENFORCED:
                return "enforced";
        case ENDPOINT_WAITING:
                return "waiting";
        case ENDPOINT_INACTIVE:
                return "inactive";
        case ENDPOINT_ERROR:
                return "error";
        case ENDPOINT_REMOTE:
                return "remote";
        case _ENDPOINT_STATE_MAX:
        case _ENDPOINT_STATE_INVALID:
                break;
        }
        return "unknown";
}

void protocol_format(uint8_t p, char buf[static 8]) {
        if (p == IPPROTO_TCP)
                snprintf(buf, 8, "tcp");
        else if (p == IPPROTO_UDP)
                snprintf(buf, 8, "udp");
        else if (p == IPPROTO_SCTP)
                snprintf(buf, 8, "sctp");
        else
                snprintf(buf, 8, "%u", p);
}

uint8_t protocol_number(const Protocol *p) {
        static const struct {
                const char *name;
                uint8_t number;
        } names[] = {
                { "TCP", IPPROTO_TCP },   { "UDP", IPPROTO_UDP },   { "ICMP", IPPROTO_ICMP },
                { "ICMPv6", IPPROTO_ICMPV6 }, { "SCTP", IPPROTO_SCTP }, { "UDPLite", IPPROTO_UDPLITE },
        };

        if (!p->set)
                return 0;
        if (p->is_number)
                return p->number;
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (streq(names[i].name, p->name))
                        return names[i].number;
        /* Felix's own (v1) form is lower case; accept it for failsafes. */
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (strcasecmp(names[i].name, p->name) == 0)
                        return names[i].number;
        return 0;
}

/* ---- freeing ---- */

static void policy_order_done(PolicyOrder *o) {
        for (size_t i = 0; i < o->n_tiers; i++)
                free(o->tiers[i].policies);
        free(o->tiers);
        *o = (PolicyOrder) {};
}

EndpointOrders *endpoint_orders_ref(EndpointOrders *o) {
        if (o)
                o->n_ref++;
        return o;
}

EndpointOrders *endpoint_orders_unref(EndpointOrders *o) {
        if (!o || --o->n_ref > 0)
                return NULL;
        for (int f = 0; f < _FLAVOUR_MAX; f++)
                for (int d = 0; d < _DIRECTION_MAX; d++)
                        policy_order_done(&o->v[f][d]);
        free(o->applied);
        free(o->http);
        free(o);
        return NULL;
}

EndpointInfo *endpoint_info_ref(EndpointInfo *i) {
        if (i)
                i->n_ref++;
        return i;
}

EndpointInfo *endpoint_info_unref(EndpointInfo *i) {
        if (!i || --i->n_ref > 0)
                return NULL;
        resource_free(i->hep);
        for (size_t j = 0; j < i->n_profiles; j++)
                resource_free(i->profiles[j]);
        free(i->profiles);
        labels_done(&i->merged);
        free(i->ips);
        for (size_t j = 0; j < i->n_matched; j++)
                resource_free(i->matched[j]);
        free(i->matched);
        endpoint_orders_unref(i->orders);
        free(i);
        return NULL;
}

static void cached_policy_free(CachedPolicy *p) {
        if (!p)
                return;
        resource_free(p->res);
        selector_free(p->selector);
        free(p);
}

static void endpoint_done(Endpoint *e) {
        free(e->reason);
        endpoint_info_unref(e->info);
        for (size_t i = 0; i < e->n_ifnames; i++)
                free(e->ifnames[i]);
        free(e->ifnames);
        free(e->ifindexes);
        free(e->profiles);
        endpoint_orders_unref(e->orders);
}

const PolicyOrder *endpoint_order(const Endpoint *e, Flavour f, Direction d) {
        static const PolicyOrder none;

        return e->orders ? &e->orders->v[f][d] : &none;
}

Calc *calc_free(Calc *c) {
        if (!c)
                return NULL;
        for (size_t i = 0; i < c->n_endpoints; i++)
                endpoint_done(&c->endpoints[i]);
        free(c->endpoints);
        if (c->own_cache)
                calc_cache_free(c->cache);
        free(c->failsafe_in);
        free(c->failsafe_out);
        for (size_t i = 0; i < c->n_warnings; i++)
                free(c->warnings[i]);
        free(c->warnings);
        free((void *)c->profiles_by_name);
        free(c->by_kind_all);
        for (size_t i = 0; i < c->n_netsets; i++)
                free(c->netsets[i].nets);
        free(c->netsets);
        free(c->nodename);
        free(c);
        return NULL;
}

static int calc_warn(Calc *c, const char *fmt, ...) _printf_(2, 3);
static int calc_warn(Calc *c, const char *fmt, ...) {
        char **v = realloc(c->warnings, (c->n_warnings + 1) * sizeof(char *));
        StrBuf b = STRBUF_INIT;
        va_list ap;

        if (!v)
                return -ENOMEM;
        c->warnings = v;
        va_start(ap, fmt);
        strbuf_vprintf(&b, fmt, ap);
        va_end(ap);
        v[c->n_warnings] = strbuf_steal(&b);
        if (!v[c->n_warnings])
                return -ENOMEM;
        c->n_warnings++;
        return 0;
}

static int set_reason(Endpoint *e, EndpointState state, const char *fmt, ...) _printf_(3, 4);
static int set_reason(Endpoint *e, EndpointState state, const char *fmt, ...) {
        StrBuf b = STRBUF_INIT;
        va_list ap;

        e->state = state;
        va_start(ap, fmt);
        strbuf_vprintf(&b, fmt, ap);
        va_end(ap);
        free(e->reason);
        e->reason = strbuf_steal(&b);
        return e->reason ? 0 : -ENOMEM;
}

/* ---- profiles and labels ---- */

static int compare_resource_names(const void *a, const void *b) {
        return strcmp((*(const Resource *const *)a)->meta.name, (*(const Resource *const *)b)->meta.name);
}

static Resource *find_profile(const Calc *c, const char *name) {
        size_t lo = 0, hi = c->n_profiles;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int k = strcmp(c->profiles_by_name[mid]->meta.name, name);
                if (k == 0)
                        return (Resource *)c->profiles_by_name[mid];
                if (k < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return NULL;
}

static bool is_default_allow(const char *name) {
        return streq(name, "projectcalico-default-allow");
}

/* ---- endpoint information, cached across runs ---- */

CalcCache *calc_cache_new(void) {
        return calloc(1, sizeof(CalcCache));
}

static void cache_clear_changed(CalcCache *c) {
        for (size_t i = 0; i < c->n_changed; i++) {
                free(c->changed[i]);
                endpoint_info_unref(c->previous[i]);
        }
        free(c->changed);
        free(c->previous);
        c->changed = NULL;
        c->previous = NULL;
        c->n_changed = 0;
}

static void cache_profiles_drop(CalcCache *c) {
        for (size_t i = 0; i < c->n_profiles; i++)
                resource_free(c->profiles[i]);
        c->profiles = mfree_ptr(c->profiles);
        c->n_profiles = 0;
}

/* Whether the run's profiles are the objects of the last run, in the same
 * order; if not, the cache takes this run's (no memory: none, and the
 * next run compares again). */
static bool cache_profiles_same(CalcCache *c, Resource *const *res, size_t n) {
        Resource **v;

        if (n == c->n_profiles && (n == 0 || memcmp(res, c->profiles, n * sizeof(Resource *)) == 0))
                return true;
        cache_profiles_drop(c);
        v = malloc_array(n, sizeof(Resource *));
        if (!v)
                return false;
        for (size_t i = 0; i < n; i++)
                v[i] = resource_ref(res[i]);
        c->profiles = v;
        c->n_profiles = n;
        return false;
}

CalcCache *calc_cache_free(CalcCache *c) {
        if (!c)
                return NULL;
        cache_profiles_drop(c);
        for (size_t i = 0; i < c->n_infos; i++)
                endpoint_info_unref(c->infos[i]);
        free(c->infos);
        strmap_done(&c->by_name);
        for (size_t i = 0; i < c->node_reasons.cap; i++)
                if (c->node_reasons.slots[i].key) {
                        free((char *)c->node_reasons.slots[i].key);
                        free(c->node_reasons.slots[i].value);
                }
        strmap_done(&c->node_reasons);
        cache_clear_changed(c);
        for (size_t i = 0; i < c->n_netsets; i++)
                resource_free(c->netsets[i]);
        free(c->netsets);
        for (size_t i = 0; i < c->n_policies; i++)
                cached_policy_free(c->policy_list[i]);
        free(c->policy_list);
        strmap_done(&c->policies);
        free(c->order);
        free(c->nodename);
        free(c);
        return NULL;
}

static int cache_note_changed(CalcCache *c, const char *name, EndpointInfo *previous) {
        char **v = realloc(c->changed, (c->n_changed + 1) * sizeof(char *));
        EndpointInfo **p;

        if (!v)
                return -ENOMEM;
        c->changed = v;
        p = realloc(c->previous, (c->n_changed + 1) * sizeof(EndpointInfo *));
        if (!p)
                return -ENOMEM;
        c->previous = p;
        v[c->n_changed] = strdup(name);
        if (!v[c->n_changed])
                return -ENOMEM;
        p[c->n_changed] = previous;
        if (previous)
                previous->n_ref++;
        c->n_changed++;
        return 0;
}

/* Why another node's HEP is not enforced here: one string per node,
 * however many HEPs it has. */
static int node_reason(CalcCache *cache, const char *node, const char **ret) {
        char *key, *reason = strmap_get(&cache->node_reasons, node);

        if (!reason) {
                key = strdup(node);
                if (!key || asprintf(&reason, "belongs to node '%s'", node) < 0) {
                        free(key);
                        return -ENOMEM;
                }
                if (strmap_put(&cache->node_reasons, key, reason) < 0) {
                        free(key);
                        free(reason);
                        return -ENOMEM;
                }
        }
        *ret = reason;
        return 0;
}

/* Own labels, then each profile's labelsToApply in list order; the first
 * definition of a key wins. Unparseable expectedIPs are dropped, as
 * Felix's processor does. */
static int endpoint_info_new(Calc *c, Resource *hep, Resource **profiles, EndpointInfo **ret) {
        const HostEndpointSpec *s = &hep->spec.hep;
        EndpointInfo *i = calloc(1, sizeof(EndpointInfo));
        int r;

        if (!i)
                return -ENOMEM;
        i->n_ref = 1;
        i->generation = c->cache->generation;
        i->hep = resource_ref(hep);
        i->name = hep->meta.name;
        i->wildcard = streq_ptr(s->interface_name, "*");
        /* Most HEPs have no profile, many one address: no empty arrays. */
        i->profiles = s->profiles.n ? new_array(s->profiles.n, sizeof(Resource *)) : NULL;
        i->ips = s->expected_ips.n ? new_array(s->expected_ips.n, sizeof(IPAddr)) : NULL;
        if ((s->profiles.n && !i->profiles) || (s->expected_ips.n && !i->ips)) {
                endpoint_info_unref(i);
                return -ENOMEM;
        }
        r = 0;
        i->labels = &hep->meta.labels;
        for (size_t j = 0; j < s->profiles.n; j++) {
                Resource *p = profiles[j];
                i->profiles[i->n_profiles++] = resource_ref(p);
                if (!p || p->spec.profile.labels_to_apply.n == 0 || r < 0)
                        continue;
                if (i->labels != &i->merged) {
                        r = labels_copy(&i->merged, &hep->meta.labels);
                        i->labels = &i->merged;
                }
                for (size_t k = 0; r >= 0 && k < p->spec.profile.labels_to_apply.n; k++) {
                        const LabelPair *lp = &p->spec.profile.labels_to_apply.pairs[k];
                        r = labels_set_default(&i->merged, lp->key, lp->value);
                }
        }
        for (size_t j = 0; j < s->expected_ips.n; j++)
                if (ipaddr_parse_go(s->expected_ips.v[j], &i->ips[i->n_ips]))
                        i->n_ips++;
        if (r >= 0 && !streq_ptr(s->node, c->nodename))
                r = node_reason(c->cache, s->node ? s->node : "", &i->remote_reason);
        if (r < 0) {
                endpoint_info_unref(i);
                return r;
        }
        *ret = i;
        return 0;
}

/* The cached information is still right when it was made from the very
 * same HEP and profile objects, and for the same node: same_node says this
 * run is for the node of the cache's last run, so the same HEP object is
 * on the same side of local/remote. */
static bool endpoint_info_current(const Calc *c, const EndpointInfo *i, const Resource *hep,
                                  Resource *const *profiles, bool same_node) {
        if (i->hep != hep || i->n_profiles != hep->spec.hep.profiles.n)
                return false;
        for (size_t j = 0; j < i->n_profiles; j++)
                if (i->profiles[j] != profiles[j])
                        return false;
        return same_node || !i->remote_reason == streq_ptr(hep->spec.hep.node, c->nodename);
}

const char *endpoint_reason(const Endpoint *e) {
        return e->reason ? e->reason : e->info->remote_reason;
}

bool endpoint_by_address(const Endpoint *e) {
        return !e->wildcard && isempty(e->hep->spec.hep.interface_name);
}

/* ---- FelixConfiguration ---- */

static const Resource *find_felix_config(Resource *const *res, size_t n, const char *name) {
        for (size_t i = 0; i < n; i++)
                if (streq_ptr(res[i]->meta.name, name))
                        return res[i];
        return NULL;
}

/* Felix's defaults (config_params.go). */
static const FailsafePort default_failsafe_in[] = {
        { IPPROTO_TCP, 22 }, { IPPROTO_UDP, 68 }, { IPPROTO_TCP, 179 }, { IPPROTO_TCP, 2379 }, { IPPROTO_TCP, 2380 },
        { IPPROTO_TCP, 5473 }, { IPPROTO_TCP, 6443 }, { IPPROTO_TCP, 6666 }, { IPPROTO_TCP, 6667 },
};
static const FailsafePort default_failsafe_out[] = {
        { IPPROTO_UDP, 53 }, { IPPROTO_UDP, 67 }, { IPPROTO_TCP, 179 }, { IPPROTO_TCP, 2379 }, { IPPROTO_TCP, 2380 },
        { IPPROTO_TCP, 5473 }, { IPPROTO_TCP, 6443 }, { IPPROTO_TCP, 6666 }, { IPPROTO_TCP, 6667 },
};

static int failsafe_from_config(Calc *c, const char *which, const ProtoPortList *l, const FailsafePort *defaults,
                                size_t n_defaults, FailsafePort **ret, size_t *ret_n) {
        FailsafePort *v;
        size_t n = 0;

        if (!l || !l->set) {
                v = new_array(n_defaults, sizeof(FailsafePort));
                if (!v)
                        return -ENOMEM;
                memcpy(v, defaults, n_defaults * sizeof(FailsafePort));
                *ret = v;
                *ret_n = n_defaults;
                return 0;
        }
        v = new_array(l->n, sizeof(FailsafePort));
        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < l->n; i++) {
                const ProtoPort *p = &l->v[i];
                /* Felix's port-list parser: tcp (also when empty) or udp only. */
                uint8_t proto = isempty(p->protocol) || strcasecmp(p->protocol, "tcp") == 0 ? IPPROTO_TCP
                                : strcasecmp(p->protocol, "udp") == 0                     ? IPPROTO_UDP
                                                                                          : 0;
                FailsafePort fp = { .protocol = proto, .port = p->port };
                bool masked;

                if (!proto) {
                        calc_warn(c, "FelixConfiguration: %s entry '%s:%u' has an unsupported protocol (tcp or udp), ignoring",
                                  which, p->protocol, p->port);
                        continue;
                }
                if (!isempty(p->net)) {
                        if (ipnet_parse_go(p->net, &fp.net, &masked) < 0) {
                                IPAddr a;
                                if (!ipaddr_parse_go(p->net, &a)) {
                                        calc_warn(c, "FelixConfiguration: %s entry has an invalid net '%s', ignoring",
                                                  which, p->net);
                                        continue;
                                }
                                fp.net = (IPNet) { a, a.family == AF_INET ? 32 : 128 };
                        }
                        fp.has_net = true;
                }
                v[n++] = fp;
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

typedef struct Exclusions {
        char **names;
        size_t n_names;
        regex_t *regexes;
        size_t n_regexes;
} Exclusions;

static void exclusions_done(Exclusions *x) {
        for (size_t i = 0; i < x->n_names; i++)
                free(x->names[i]);
        free(x->names);
        for (size_t i = 0; i < x->n_regexes; i++)
                regfree(&x->regexes[i]);
        free(x->regexes);
}

/* interfaceExclude: comma-separated names, or /regex/ (Felix's
 * iface-list-regexp); default kube-ipvs0. */
static int exclusions_parse(Calc *c, const char *spec, Exclusions *x) {
        _cleanup_free_ char *copy = strdup(spec ? spec : "kube-ipvs0");
        char *save = NULL;

        if (!copy)
                return -ENOMEM;
        for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                size_t len = strlen(t);
                if (len >= 3 && t[0] == '/' && t[len - 1] == '/') {
                        regex_t *v = realloc(x->regexes, (x->n_regexes + 1) * sizeof(regex_t));
                        if (!v)
                                return -ENOMEM;
                        x->regexes = v;
                        t[len - 1] = 0;
                        if (regcomp(&x->regexes[x->n_regexes], t + 1, REG_EXTENDED | REG_NOSUB) != 0) {
                                calc_warn(c, "FelixConfiguration: interfaceExclude pattern '%s/' is not a valid regex, ignoring", t);
                                continue;
                        }
                        x->n_regexes++;
                } else {
                        char **v = realloc(x->names, (x->n_names + 1) * sizeof(char *));
                        if (!v)
                                return -ENOMEM;
                        x->names = v;
                        x->names[x->n_names] = strdup(t);
                        if (!x->names[x->n_names])
                                return -ENOMEM;
                        x->n_names++;
                }
        }
        return 0;
}

static bool exclusions_match(const Exclusions *x, const char *ifname) {
        for (size_t i = 0; i < x->n_names; i++)
                if (streq(x->names[i], ifname))
                        return true;
        for (size_t i = 0; i < x->n_regexes; i++)
                if (regexec(&x->regexes[i], ifname, 0, NULL, 0) == 0)
                        return true;
        return false;
}

/* A field that schema.c keeps verbatim (spec.felix.other), found as Go's
 * JSON decoder finds it, without regard to case; NULL if unset or null. */
static const Node *felix_other(const FelixConfigurationSpec *s, const char *json) {
        if (!s->other || s->other->type != NODE_MAP)
                return NULL;
        for (size_t i = 0; i < s->other->n; i++)
                if (strcasecmp(s->other->entries[i].key->text, json) == 0)
                        return node_is_null(s->other->entries[i].value) ? NULL : s->other->entries[i].value;
        return NULL;
}

/* The verdicts as Felix's nftables mode renders them: FilterDenyAction()
 * is nftablesFilterDenyAction there, iptablesFilterDenyAction only in
 * iptables mode (config_params.go), and the same for the allow actions;
 * Reject and Return in any case (OneofListParam). */
static void felix_verdicts(Calc *c, const Resource *const *layers, size_t n_layers) {
        c->log_burst = 5; /* LogActionRateLimitBurst's default */
        for (size_t i = 0; i < n_layers; i++) {
                const Node *v = layers[i] ? felix_other(&layers[i]->spec.felix, "nftablesFilterDenyAction") : NULL;
                if (v && v->type == NODE_SCALAR && !isempty(v->text))
                        c->deny_reject = strcasecmp(v->text, "Reject") == 0;
                v = layers[i] ? felix_other(&layers[i]->spec.felix, "nftablesFilterAllowAction") : NULL;
                if (v && v->type == NODE_SCALAR && !isempty(v->text))
                        c->filter_allow_return = strcasecmp(v->text, "Return") == 0;
                v = layers[i] ? felix_other(&layers[i]->spec.felix, "nftablesMangleAllowAction") : NULL;
                if (v && v->type == NODE_SCALAR && !isempty(v->text))
                        c->mangle_allow_return = strcasecmp(v->text, "Return") == 0;
                /* A YAML bool; anything else leaves it as it was. */
                v = layers[i] ? felix_other(&layers[i]->spec.felix, "disableConntrackInvalidCheck") : NULL;
                if (v)
                        (void) node_get_bool(v, &c->no_invalid_check);
                v = layers[i] ? felix_other(&layers[i]->spec.felix, "logPrefix") : NULL;
                if (v && v->type == NODE_SCALAR)
                        c->log_prefix = v->text;
                v = layers[i] ? felix_other(&layers[i]->spec.felix, "logActionRateLimit") : NULL;
                if (v && v->type == NODE_SCALAR)
                        c->log_rate = v->text;
                v = layers[i] ? felix_other(&layers[i]->spec.felix, "logActionRateLimitBurst") : NULL;
                if (v)
                        (void) node_get_int64(v, &c->log_burst);
        }
}

/* The fields of spec.felix.other that hostendpoint reads (felix_verdicts);
 * every other one that is set is reported, by name. */
static const char *const felix_honoured[] = {
        "nftablesFilterDenyAction", "nftablesFilterAllowAction", "nftablesMangleAllowAction",
        "disableConntrackInvalidCheck", "logPrefix", "logActionRateLimit", "logActionRateLimitBurst",
};

static int felix_report_unused(Calc *c, const Resource *res) {
        const Node *o = res ? res->spec.felix.other : NULL;

        for (size_t i = 0; o && o->type == NODE_MAP && i < o->n; i++) {
                const char *key = o->entries[i].key->text;
                bool used = false;
                int r;

                for (size_t j = 0; !used && j < ELEMENTSOF(felix_honoured); j++)
                        used = strcasecmp(key, felix_honoured[j]) == 0;
                if (used || node_is_null(o->entries[i].value))
                        continue;
                r = calc_warn(c, "FelixConfiguration(%s): %s is set but means nothing to host endpoint enforcement "
                                 "in nftables here, ignoring it",
                              res->meta.name, key);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int calc_felix_config(Calc *c, Resource *const *res, size_t n, Exclusions *x) {
        _cleanup_free_ char *node_name = NULL;
        const Resource *def = find_felix_config(res, n, "default"), *node;
        const ProtoPortList *in = NULL, *out = NULL;
        const char *exclude = NULL;
        int r;

        if (asprintf(&node_name, "node.%s", c->nodename) < 0)
                return -ENOMEM;
        node = find_felix_config(res, n, node_name);
        /* A node's own configuration overrides the default field by field. */
        const Resource *layers[] = { def, node };
        for (size_t i = 0; i < ELEMENTSOF(layers); i++) {
                if (!layers[i])
                        continue;
                const FelixConfigurationSpec *s = &layers[i]->spec.felix;
                if (s->failsafe_inbound_host_ports.set)
                        in = &s->failsafe_inbound_host_ports;
                if (s->failsafe_outbound_host_ports.set)
                        out = &s->failsafe_outbound_host_ports;
                if (s->interface_exclude)
                        exclude = s->interface_exclude;
        }
        felix_verdicts(c, layers, ELEMENTSOF(layers));
        for (size_t i = 0; i < ELEMENTSOF(layers); i++) {
                r = felix_report_unused(c, layers[i]);
                if (r < 0)
                        return r;
        }
        r = failsafe_from_config(c, "failsafeInboundHostPorts", in, default_failsafe_in,
                                 ELEMENTSOF(default_failsafe_in), &c->failsafe_in, &c->n_failsafe_in);
        if (r >= 0)
                r = failsafe_from_config(c, "failsafeOutboundHostPorts", out, default_failsafe_out,
                                         ELEMENTSOF(default_failsafe_out), &c->failsafe_out, &c->n_failsafe_out);
        if (r >= 0)
                r = exclusions_parse(c, exclude, x);
        return r;
}

/* ---- interfaces ---- */

static int endpoint_bind(Endpoint *e, const char *ifname, int ifindex) {
        char **v = realloc(e->ifnames, (e->n_ifnames + 1) * sizeof(char *));

        if (!v)
                return -ENOMEM;
        e->ifnames = v;
        e->ifnames[e->n_ifnames] = strdup(ifname);
        if (!e->ifnames[e->n_ifnames])
                return -ENOMEM;
        e->n_ifnames++;
        if (ifindex > 0) {
                int *w = realloc(e->ifindexes, (e->n_ifindexes + 1) * sizeof(int));
                if (!w)
                        return -ENOMEM;
                e->ifindexes = w;
                e->ifindexes[e->n_ifindexes++] = ifindex;
        }
        return 0;
}

static bool endpoint_is_local_specific(const Endpoint *e) {
        return e->state != ENDPOINT_REMOTE && !e->wildcard;
}

/* Which of this node's specific HEPs claim an interface, found through
 * indexes rather than by asking every HEP about every interface: by name
 * (interfaceName) or, for a HEP without one, by any of its addresses.
 * local[] is in name order, so the first claimant wins. */
typedef struct AddressClaim {
        IPAddr addr;
        size_t local; /* index into local[] */
} AddressClaim;

typedef struct Claims {
        Endpoint **local;
        size_t n_local;
        StrMap by_name;     /* interfaceName → first index + 1 (as a pointer-sized integer) */
        size_t *next_named; /* the next index claiming the same name, or SIZE_MAX */
        AddressClaim *by_addr; /* sorted by address, then index */
        size_t n_by_addr;
        size_t *found;      /* scratch: the claimants of one interface */
        size_t *stamp;      /* per local endpoint: the last search that found it */
        size_t search;      /* the current search's stamp */
} Claims;

static int compare_claims(const void *a, const void *b) {
        const AddressClaim *x = a, *y = b;
        int c = ipaddr_compare(&x->addr, &y->addr);

        return c ? c : (x->local > y->local) - (x->local < y->local);
}

static void claims_done(Claims *k) {
        free(k->local);
        strmap_done(&k->by_name);
        free(k->next_named);
        free(k->by_addr);
        free(k->found);
        free(k->stamp);
}

static int claims_build(Claims *k, Calc *c) {
        size_t n_addr = 0;

        k->local = new_array(c->n_endpoints, sizeof(Endpoint *));
        if (!k->local)
                return -ENOMEM;
        for (size_t i = 0; i < c->n_endpoints; i++)
                if (endpoint_is_local_specific(&c->endpoints[i])) {
                        k->local[k->n_local++] = &c->endpoints[i];
                        n_addr += c->endpoints[i].n_ips;
                }
        k->next_named = new_array(k->n_local, sizeof(size_t));
        k->by_addr = new_array(n_addr, sizeof(AddressClaim));
        k->found = new_array(k->n_local, sizeof(size_t));
        k->stamp = new_array(k->n_local, sizeof(size_t));
        if (!k->next_named || !k->by_addr || !k->found || !k->stamp)
                return -ENOMEM;
        /* Backwards, so each name's chain comes out in name order. */
        for (size_t i = k->n_local; i-- > 0;) {
                const Endpoint *e = k->local[i];
                const char *want = e->hep->spec.hep.interface_name;
                if (isempty(want)) {
                        for (size_t j = 0; j < e->n_ips; j++)
                                k->by_addr[k->n_by_addr++] = (AddressClaim) { e->ips[j], i };
                        continue;
                }
                uintptr_t first = (uintptr_t)strmap_get(&k->by_name, want);
                k->next_named[i] = first ? first - 1 : SIZE_MAX;
                if (strmap_put(&k->by_name, want, (void *)(uintptr_t)(i + 1)) < 0)
                        return -ENOMEM;
        }
        qsort_safe(k->by_addr, k->n_by_addr, sizeof(AddressClaim), compare_claims);
        return 0;
}

static int compare_sizes(const void *a, const void *b) {
        size_t x = *(const size_t *)a, y = *(const size_t *)b;

        return (x > y) - (x < y);
}

/* The claimants of ifname (iface: NULL if it does not exist), in name
 * order, into k->found; returns how many. */
static size_t claims_find(Claims *k, const char *ifname, const HostInterface *iface) {
        size_t n = 0;
        uintptr_t first = (uintptr_t)strmap_get(&k->by_name, ifname);

        /* Each endpoint at most once, however many of its addresses (or
         * copies of one address) the interface has. */
        k->search++;
#define FOUND(i)                                                \
        do {                                                    \
                if (k->stamp[(i)] != k->search) {               \
                        k->stamp[(i)] = k->search;              \
                        k->found[n++] = (i);                    \
                }                                               \
        } while (0)
        for (size_t i = first ? first - 1 : SIZE_MAX; i != SIZE_MAX; i = k->next_named[i])
                FOUND(i);
        for (size_t a = 0; iface && a < iface->n_addrs; a++) {
                AddressClaim key = { iface->addrs[a], 0 };
                size_t lo = 0, hi = k->n_by_addr;
                /* The first claim of this address. */
                while (lo < hi) {
                        size_t mid = (lo + hi) / 2;
                        if (compare_claims(&k->by_addr[mid], &key) < 0)
                                lo = mid + 1;
                        else
                                hi = mid;
                }
                for (; lo < k->n_by_addr && ipaddr_compare(&k->by_addr[lo].addr, &iface->addrs[a]) == 0; lo++)
                        FOUND(k->by_addr[lo].local);
        }
#undef FOUND
        qsort_safe(k->found, n, sizeof(size_t), compare_sizes);
        return n;
}

/* The first claimant wins the interface; the others, if they hold nothing
 * yet, are inactive because of it. */
static int bind_interface(Claims *k, const char *ifname, const HostInterface *iface) {
        size_t n = claims_find(k, ifname, iface);
        Endpoint *winner;
        int r;

        if (n == 0)
                return 0;
        winner = k->local[k->found[0]];
        r = endpoint_bind(winner, ifname, iface ? iface->ifindex : 0);
        for (size_t i = 1; r >= 0 && i < n; i++) {
                Endpoint *e = k->local[k->found[i]];
                if (e->n_ifnames == 0)
                        r = set_reason(e, ENDPOINT_INACTIVE, "interface %s is held by '%s'", ifname, winner->name);
        }
        return r;
}

static int calc_bind_interfaces(Calc *c, const HostInterface *ifaces, size_t n_ifaces, const Exclusions *x) {
        Claims k = {};
        StrMap existing = STRMAP_INIT;
        int r = claims_build(&k, c);

        for (size_t i = 0; r >= 0 && i < n_ifaces; i++) {
                r = strmap_put(&existing, ifaces[i].name, (void *)&ifaces[i]);
                if (r >= 0 && !exclusions_match(x, ifaces[i].name))
                        r = bind_interface(&k, ifaces[i].name, &ifaces[i]);
        }
        /* Named HEPs whose interface is not there yet are enforced by name
         * from the start, so a hot-plugged interface is never unfiltered. */
        for (size_t i = 0; r >= 0 && i < k.n_local; i++) {
                Endpoint *e = k.local[i];
                const char *want = e->hep->spec.hep.interface_name;
                if (isempty(want))
                        continue;
                if (exclusions_match(x, want)) {
                        r = set_reason(e, ENDPOINT_ERROR, "interface %s is excluded by FelixConfiguration interfaceExclude",
                                       want);
                        continue;
                }
                if (strmap_get(&existing, want))
                        continue;
                bool done = false;
                for (size_t j = 0; j < e->n_ifnames; j++)
                        done = done || streq(e->ifnames[j], want);
                if (!done && e->state != ENDPOINT_INACTIVE)
                        r = bind_interface(&k, want, NULL);
        }
        strmap_done(&existing);
        claims_done(&k);
        return r;
}

static int calc_states(Calc *c, const HostInterface *ifaces, size_t n_ifaces) {
        Endpoint *first_wildcard = NULL;
        int r = 0;

        for (size_t i = 0; i < c->n_endpoints && r >= 0; i++) {
                Endpoint *e = &c->endpoints[i];
                const char *want = e->hep->spec.hep.interface_name;

                if (e->state == ENDPOINT_REMOTE || e->state == ENDPOINT_ERROR)
                        continue;
                if (e->wildcard) {
                        if (!first_wildcard) {
                                first_wildcard = e;
                                c->wildcard = e;
                                r = set_reason(e, ENDPOINT_ENFORCED, "all interfaces without a host endpoint of their own");
                        } else
                                r = set_reason(e, ENDPOINT_INACTIVE, "interface * is held by '%s'", first_wildcard->name);
                        continue;
                }
                if (e->n_ifindexes > 0) {
                        StrBuf b = STRBUF_INIT;
                        for (size_t j = 0; j < e->n_ifnames; j++)
                                strbuf_printf(&b, "%s%s", j ? ", " : "", e->ifnames[j]);
                        r = set_reason(e, ENDPOINT_ENFORCED, "enforced on %s", strbuf_str(&b));
                        strbuf_done(&b);
                } else if (e->n_ifnames > 0)
                        r = set_reason(e, ENDPOINT_WAITING,
                                       "interface %s does not exist yet; enforced by name from its first packet", want);
                else if (e->state == ENDPOINT_INACTIVE)
                        continue;
                else if (isempty(want)) {
                        StrBuf b = STRBUF_INIT;
                        for (size_t j = 0; j < e->hep->spec.hep.expected_ips.n; j++)
                                strbuf_printf(&b, "%s%s", j ? ", " : "", e->hep->spec.hep.expected_ips.v[j]);
                        r = set_reason(e, ENDPOINT_WAITING, "no interface has %s %s",
                                       e->hep->spec.hep.expected_ips.n > 1 ? "any of" : "the address", strbuf_str(&b));
                        strbuf_done(&b);
                }
        }
        (void)ifaces;
        (void)n_ifaces;
        return r;
}

/* ---- policies ---- */

typedef struct PolicyInfo {
        CachedPolicy *cp;
        const Resource *res;
        const Selector *selector;
        bool changed; /* new or modified since the previous run */
        const Resource *tier;
        double tier_order; /* missing tier: +inf, sorted last */
        bool tier_deny;
} PolicyInfo;

/* Felix's key of a policy, "name/namespace/kind", read a byte at a time
 * without building it; -1 past its end. */
typedef struct PolicyKeyReader {
        const char *part[3];
        size_t k;
        const char *p;
} PolicyKeyReader;

static PolicyKeyReader policy_key_reader(const Resource *r) {
        PolicyKeyReader k = { { r->meta.name, r->meta.namespace ? r->meta.namespace : "", kind_info(r->kind)->name } };

        k.p = k.part[0];
        return k;
}

static int policy_key_next(PolicyKeyReader *k) {
        if (*k->p)
                return (unsigned char)*k->p++;
        if (k->k == 2)
                return -1;
        k->p = k->part[++k->k];
        return '/';
}

/* The tie-break of PolKVLess (policy_sorter.go): the keys compared byte
 * by byte, not the bare names, so "web-deny" and "web.deny" come before
 * "web" ('-' and '.' sort before '/'). */
static int compare_policy_keys(const Resource *x, const Resource *y) {
        PolicyKeyReader a = policy_key_reader(x), b = policy_key_reader(y);

        for (;;) {
                int ca = policy_key_next(&a), cb = policy_key_next(&b);
                if (ca != cb)
                        return ca < cb ? -1 : 1;
                if (ca < 0)
                        return 0;
        }
}

static int compare_policies(const void *a, const void *b) {
        const PolicyInfo *x = a, *y = b;
        const OptFloat *ox = &x->res->spec.policy.order, *oy = &y->res->spec.policy.order;
        int k;

        if (x->tier_order != y->tier_order)
                return x->tier_order < y->tier_order ? -1 : 1;
        k = strcmp(x->res->spec.policy.tier, y->res->spec.policy.tier);
        if (k)
                return k;
        if (ox->set != oy->set)
                return ox->set ? -1 : 1;
        if (ox->set && ox->v != oy->v)
                return ox->v < oy->v ? -1 : 1;
        return compare_policy_keys(x->res, y->res);
}

static bool has_type(const PolicySpec *s, const char *type) {
        for (size_t i = 0; i < s->types.n; i++)
                if (streq(s->types.v[i], type))
                        return true;
        return false;
}

static int order_append(PolicyOrder *o, const PolicyInfo *p, bool end_of_tier_drop) {
        TierPolicies *t = o->n_tiers ? &o->tiers[o->n_tiers - 1] : NULL;
        const Resource **v;

        if (!t || !streq(t->tier_name, p->res->spec.policy.tier)) {
                t = realloc(o->tiers, (o->n_tiers + 1) * sizeof(TierPolicies));
                if (!t)
                        return -ENOMEM;
                o->tiers = t;
                t = &o->tiers[o->n_tiers++];
                *t = (TierPolicies) {
                        .tier = p->tier,
                        .tier_name = p->res->spec.policy.tier,
                        .end_of_tier_drop = end_of_tier_drop,
                };
        }
        v = realloc(t->policies, (t->n_policies + 1) * sizeof(const Resource *));
        if (!v)
                return -ENOMEM;
        t->policies = v;
        v[t->n_policies++] = p->res;
        return 0;
}

/* Felix's flavour split: doNotTrack → untracked; else preDNAT (ingress
 * only); else normal, and forward too with applyOnForward. Untracked and
 * pre-DNAT tiers pass at their end instead of dropping. */
/* Appends p to one order list; *added records that it applies. */
static int orders_add(EndpointOrders *o, Flavour f, Direction d, const PolicyInfo *p, bool end_of_tier_drop,
                      bool *added) {
        int r = order_append(&o->v[f][d], p, end_of_tier_drop);

        *added = *added || r >= 0;
        return r;
}

static int endpoint_add_policy(Calc *c, Endpoint *e, const PolicyInfo *p) {
        const PolicySpec *s = &p->res->spec.policy;
        bool ingress = has_type(s, "Ingress"), egress = has_type(s, "Egress"), added = false;
        EndpointOrders *o = e->orders;
        const Resource **v;
        int r = 0;

        if (!o) {
                o = e->orders = calloc(1, sizeof(EndpointOrders));
                if (!o)
                        return -ENOMEM;
                o->n_ref = 1;
        }
        if (s->do_not_track) {
                if (e->wildcard)
                        return calc_warn(c, "GlobalNetworkPolicy(%s): doNotTrack policy is not applied to the '*' host endpoint '%s', ignoring",
                                         p->res->meta.name, e->name);
                if (ingress)
                        r = orders_add(o, FLAVOUR_UNTRACKED, DIRECTION_INGRESS, p, false, &added);
                if (r >= 0 && egress)
                        r = orders_add(o, FLAVOUR_UNTRACKED, DIRECTION_EGRESS, p, false, &added);
        } else if (s->pre_dnat) {
                if (ingress)
                        r = orders_add(o, FLAVOUR_PREDNAT, DIRECTION_INGRESS, p, false, &added);
        } else {
                if (ingress)
                        r = orders_add(o, FLAVOUR_NORMAL, DIRECTION_INGRESS, p, p->tier_deny, &added);
                if (r >= 0 && egress)
                        r = orders_add(o, FLAVOUR_NORMAL, DIRECTION_EGRESS, p, p->tier_deny, &added);
                if (r >= 0 && s->apply_on_forward && ingress)
                        r = orders_add(o, FLAVOUR_FORWARD, DIRECTION_INGRESS, p, p->tier_deny, &added);
                if (r >= 0 && s->apply_on_forward && egress)
                        r = orders_add(o, FLAVOUR_FORWARD, DIRECTION_EGRESS, p, p->tier_deny, &added);
        }
        if (r < 0 || !added)
                return r;
        /* Policies are added in evaluation order: so is this list. */
        v = realloc(o->applied, (o->n_applied + 1) * sizeof(const Resource *));
        if (!v)
                return -ENOMEM;
        o->applied = v;
        v[o->n_applied++] = p->res;
        if (!p->cp->http)
                return 0;
        v = realloc(o->http, (o->n_http + 1) * sizeof(const Resource *));
        if (!v)
                return -ENOMEM;
        o->http = v;
        v[o->n_http++] = p->res;
        return 0;
}

static const char *label_lookup(const void *ctx, const char *key) {
        return labels_get(ctx, key);
}

static bool endpoint_gets_policy(const Endpoint *e) {
        return e->state == ENDPOINT_ENFORCED || e->state == ENDPOINT_WAITING;
}

static bool rules_have_http(const RuleList *l) {
        for (size_t i = 0; i < l->n; i++)
                if (l->v[i].http)
                        return true;
        return false;
}

/* Whether res holds the policy objects of the last run, in the same order
 * (an interface event): then the cache is right as it is. */
static bool same_policies(const CalcCache *cache, Resource *const *res, size_t n) {
        size_t k = 0;

        if (!cache->policies_complete)
                return false;
        for (size_t i = 0; i < n; i++) {
                if (k >= cache->n_policies || cache->policy_list[k]->res != res[i])
                        return false;
                k++;
        }
        return k == cache->n_policies;
}

/* A policy's selector as Felix evaluates it: with its namespaceSelector
 * and serviceAccountSelector rewritten over prefixed labels
 * (globalnetworkpolicyprocessor.go). NULL, and 0, if it does not parse. */
static int policy_selector_parse(const PolicySpec *s, Selector **ret) {
        _cleanup_free_ char *text = NULL;
        int r = selector_felix_policy(s->selector, s->namespace_selector, s->service_account_selector, &text);

        if (r >= 0)
                r = selector_parse(text, ret, NULL);
        return r == -EINVAL ? 0 : r;
}

/* The parsed selectors of this run's policies: reused when the policy
 * object is the one seen before, parsed otherwise. */
static int cache_policies(Calc *c, Resource *const *res, size_t n) {
        CalcCache *cache = c->cache;
        StrMap next = STRMAP_INIT;
        CachedPolicy **list;
        size_t n_list = 0;
        int r = 0;

        if (same_policies(cache, res, n))
                return 0;
        list = new_array(n, sizeof(CachedPolicy *));
        if (!list)
                return -ENOMEM;
        for (size_t i = 0; r >= 0 && i < n; i++) {
                Resource *p = res[i];
                CachedPolicy *cp = strmap_get(&cache->policies, p->meta.name);
                if (cp && cp->res == p) {
                        /* moved to the new list; the old list must not free it */
                        strmap_put(&cache->policies, p->meta.name, NULL);
                } else {
                        cp = calloc(1, sizeof(CachedPolicy));
                        if (!cp) {
                                r = -ENOMEM;
                                break;
                        }
                        cp->res = resource_ref(p);
                        cp->generation = cache->generation;
                        cp->http = (has_type(&p->spec.policy, "Ingress") && rules_have_http(&p->spec.policy.ingress)) ||
                                   (has_type(&p->spec.policy, "Egress") && rules_have_http(&p->spec.policy.egress));
                        r = policy_selector_parse(&p->spec.policy, &cp->selector);
                }
                list[n_list++] = cp;
                if (r >= 0)
                        r = strmap_put(&next, p->meta.name, cp);
        }
        /* Free what was not carried over: its slot in the old map is set. */
        for (size_t i = 0; i < cache->n_policies; i++) {
                CachedPolicy *old = cache->policy_list[i];
                if (strmap_get(&cache->policies, old->res->meta.name) == old)
                        cached_policy_free(old);
        }
        free(cache->policy_list);
        strmap_done(&cache->policies);
        cache->policy_list = list;
        cache->n_policies = n_list;
        cache->policies = next;
        /* After a failure a policy may lack its selector or its index entry:
         * the next run looks at each again. */
        cache->policies_complete = r >= 0;
        return r;
}

static int compare_indexes(const void *a, const void *b) {
        size_t x = *(const size_t *)a, y = *(const size_t *)b;

        return (x > y) - (x < y);
}

/* Which of this run's policies (pol, in evaluation order) select the
 * endpoint, as indexes into pol, in order. If the endpoint's labels are
 * unchanged since the last run, its previous answer is kept for every
 * unchanged policy and only new or changed ones (changed[]) are evaluated:
 * a policy edit costs one evaluation per endpoint, not one per policy. */
static int endpoint_match_policies(Calc *c, Endpoint *e, const PolicyInfo *pol, size_t n_pol, const size_t *changed,
                                   size_t n_changed, size_t *ret, size_t *ret_n) {
        EndpointInfo *info = e->info;
        bool incremental = info->matched_gen + 1 == c->cache->generation;
        size_t n = 0;

        if (incremental) {
                for (size_t j = 0; j < info->n_matched; j++) {
                        const Resource *m = info->matched[j];
                        const CachedPolicy *cp = strmap_get(&c->cache->policies, m->meta.name);
                        if (cp && cp->res == m && cp->order_index != SIZE_MAX && !pol[cp->order_index].changed)
                                ret[n++] = cp->order_index;
                }
                for (size_t j = 0; j < n_changed; j++)
                        if (selector_eval_lookup(pol[changed[j]].selector, label_lookup, e->labels))
                                ret[n++] = changed[j];
                qsort_safe(ret, n, sizeof(size_t), compare_indexes);
        } else
                for (size_t j = 0; j < n_pol; j++)
                        if (selector_eval_lookup(pol[j].selector, label_lookup, e->labels))
                                ret[n++] = j;

        Resource **matched = new_array(n, sizeof(Resource *));
        if (!matched)
                return -ENOMEM;
        for (size_t j = 0; j < n; j++)
                matched[j] = resource_ref((Resource *)pol[ret[j]].res);
        for (size_t j = 0; j < info->n_matched; j++)
                resource_free(info->matched[j]);
        free(info->matched);
        info->matched = matched;
        info->n_matched = n;
        info->matched_gen = c->cache->generation;
        *ret_n = n;
        return 0;
}

static uint64_t mix(uint64_t h, uint64_t v) {
        return (h ^ v) * 1099511628211ULL;
}

/* What decides the evaluation order: which policies there are and the
 * tiers (objects, order and default action). A new policy object (first
 * seen this run) always forces a new order. */
static bool order_current(const CalcCache *cache, Resource *const *res, size_t n, uint64_t *ret_sig) {
        uint64_t h = mix(14695981039346656037ULL, cache->n_policies);
        bool any_new = false;

        for (size_t i = 0; i < cache->n_policies; i++) {
                h = mix(h, (uintptr_t)cache->policy_list[i]->res);
                any_new = any_new || cache->policy_list[i]->generation == cache->generation;
        }
        for (size_t i = 0; i < n; i++) {
                const TierSpec *t = &res[i]->spec.tier;
                uint64_t bits;
                memcpy(&bits, &t->order.v, sizeof(bits));
                h = mix(mix(mix(h, strmap_hash(res[i]->meta.name)), t->order.set ? bits : 1),
                        t->default_action ? strmap_hash(t->default_action) : 2);
                /* The object too: the order keeps pointers to it. */
                h = mix(h, (uintptr_t)res[i]);
        }
        *ret_sig = h;
        return !any_new && cache->order && h == cache->order_signature;
}

/* Every policy that can select a host endpoint, with its tier's order and
 * default action, sorted in Felix's evaluation order. */
static int build_order(Calc *c, Resource *const *res, size_t n, PolicyInfo **ret, size_t *ret_n) {
        PolicyInfo *pol = new_array(c->cache->n_policies, sizeof(PolicyInfo));
        StrMap tiers = STRMAP_INIT;
        size_t n_pol = 0;
        int r = 0;

        if (!pol)
                return -ENOMEM;
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = strmap_put(&tiers, res[i]->meta.name, res[i]);
        for (size_t i = 0; i < c->cache->n_policies && r >= 0; i++) {
                CachedPolicy *cp = c->cache->policy_list[i];
                const PolicySpec *s = &cp->res->spec.policy;

                if (!cp->selector) {
                        r = calc_warn(c, "GlobalNetworkPolicy(%s): selector does not parse, ignoring", cp->res->meta.name);
                        continue;
                }
                PolicyInfo *pi = &pol[n_pol++];
                *pi = (PolicyInfo) { .cp = cp, .res = cp->res, .selector = cp->selector };
                const char *tier = isempty(s->tier) ? "default" : s->tier;
                const BuiltinTier *bt = builtin_tier_find(tier);
                pi->tier = strmap_get(&tiers, tier);
                if (pi->tier && pi->tier->spec.tier.order.set)
                        pi->tier_order = pi->tier->spec.tier.order.v;
                else if (pi->tier)
                        pi->tier_order = 1e6;
                else if (bt)
                        pi->tier_order = bt->order;
                else
                        pi->tier_order = __builtin_inf();
                const char *action = pi->tier ? pi->tier->spec.tier.default_action : bt ? bt->default_action : NULL;
                pi->tier_deny = !action || !streq(action, "Pass");
        }
        strmap_done(&tiers);
        if (r < 0) {
                free(pol);
                return r;
        }
        qsort_safe(pol, n_pol, sizeof(PolicyInfo), compare_policies);
        *ret = pol;
        *ret_n = n_pol;
        return 0;
}

static int calc_policies(Calc *c) {
        CalcCache *cache = c->cache;
        PolicyInfo *pol;
        size_t *matches = NULL, *changed = NULL;
        size_t n_pol, n_changed = 0;
        uint64_t sig;
        int r;

        r = cache_policies(c, KIND_SPAN(c, KIND_GLOBAL_NETWORK_POLICY));
        if (r < 0)
                return r;
        bool same_order = order_current(cache, KIND_SPAN(c, KIND_TIER), &sig);
        if (!same_order) {
                PolicyInfo *order;
                size_t n_order;
                r = build_order(c, KIND_SPAN(c, KIND_TIER), &order, &n_order);
                if (r < 0)
                        return r;
                free(cache->order);
                cache->order = order;
                cache->n_order = n_order;
                cache->order_signature = sig;
        }
        pol = cache->order;
        n_pol = cache->n_order;
        matches = new_array(n_pol, sizeof(size_t));
        changed = new_array(n_pol, sizeof(size_t));
        if (!matches || !changed)
                r = -ENOMEM;
        for (size_t i = 0; i < cache->n_policies; i++)
                cache->policy_list[i]->order_index = SIZE_MAX;
        for (size_t j = 0; r >= 0 && j < n_pol; j++) {
                pol[j].cp->order_index = j;
                pol[j].changed = pol[j].cp->generation == cache->generation;
                if (pol[j].changed)
                        changed[n_changed++] = j;
        }
        for (size_t i = 0; i < c->n_endpoints && r >= 0; i++) {
                Endpoint *e = &c->endpoints[i];
                EndpointInfo *info = e->info;
                size_t n_match;
                if (!endpoint_gets_policy(e))
                        continue;
                /* Nothing that decides its policies changed since the last
                 * run (the same labels, policy objects and order): the same
                 * answer. Not for "*", whose answer can carry warnings. */
                if (same_order && n_changed == 0 && !e->wildcard && info->matched_gen + 1 == cache->generation &&
                    info->orders_gen + 1 == cache->generation) {
                        info->matched_gen = info->orders_gen = cache->generation;
                        e->orders = endpoint_orders_ref(info->orders);
                        continue;
                }
                r = endpoint_match_policies(c, e, pol, n_pol, changed, n_changed, matches, &n_match);
                for (size_t j = 0; j < n_match && r >= 0; j++)
                        r = endpoint_add_policy(c, e, &pol[matches[j]]);
                if (r >= 0) {
                        endpoint_orders_unref(info->orders);
                        info->orders = endpoint_orders_ref(e->orders);
                        info->orders_gen = cache->generation;
                }
        }
        free(changed);
        free(matches);
        return r;
}

/* ---- the whole calculation ---- */

static int compare_endpoints(const void *a, const void *b) {
        return strcmp(((const Endpoint *)a)->name, ((const Endpoint *)b)->name);
}

static bool endpoints_sorted(const Endpoint *v, size_t n) {
        for (size_t i = 1; i < n; i++)
                if (strcmp(v[i - 1].name, v[i].name) > 0)
                        return false;
        return true;
}

/* Whether res holds the HEP objects of the last run, in the same order:
 * the datastore did not change (an interface event). Then each HEP's
 * information is found by position, with no name looked up. */
static bool same_heps(const CalcCache *cache, Resource *const *res, size_t n) {
        size_t k = 0;

        for (size_t i = 0; i < n; i++) {
                if (k >= cache->n_infos || cache->infos[k]->hep != res[i])
                        return false;
                k++;
        }
        return k == cache->n_infos;
}

/* The same HEPs by name, in the same order, as last run: a HEP put again
 * (an etcd watch event, a file rewritten) is a new object in the old one's
 * place, and the others need no index to find their information. */
static bool same_hep_names(const CalcCache *cache, Resource *const *res, size_t n) {
        if (n != cache->n_infos)
                return false;
        for (size_t i = 0; i < n; i++)
                if (cache->infos[i]->hep != res[i] && !streq(cache->infos[i]->hep->meta.name, res[i]->meta.name))
                        return false;
        return true;
}

/* The information of one HEP: the cached one (last, when the HEPs are the
 * same by name as last run, else found by name) if still current, else a
 * new one, recorded as changed. Returns it with a reference taken. */
static int endpoint_info_find(Calc *c, Resource *hep, EndpointInfo *last, bool same_node, EndpointInfo **ret) {
        CalcCache *cache = c->cache;
        const StrList *pnames = &hep->spec.hep.profiles;
        Resource *stack_profiles[16];
        Resource **profiles = pnames->n <= ELEMENTSOF(stack_profiles) ? stack_profiles
                                                                      : new_array(pnames->n, sizeof(Resource *));
        uint64_t hash = last ? last->name_hash : strmap_hash(hep->meta.name);
        EndpointInfo *info = last ? last : strmap_get_hashed(&cache->by_name, hep->meta.name, hash);
        int r = 0;

        if (!profiles)
                return -ENOMEM;
        for (size_t j = 0; j < pnames->n; j++)
                profiles[j] = find_profile(c, pnames->v[j]);
        if (!info || !endpoint_info_current(c, info, hep, profiles, same_node)) {
                EndpointInfo *made = NULL;
                r = endpoint_info_new(c, hep, profiles, &made);
                if (r >= 0 && !cache->changed_all)
                        r = cache_note_changed(cache, hep->meta.name, info);
                /* Same HEPs: the cache's index stays, with this one replaced. */
                if (r >= 0 && last)
                        r = strmap_put_hashed(&cache->by_name, hep->meta.name, hash, made);
                if (r < 0)
                        endpoint_info_unref(made); /* kept nowhere */
                info = made;
        } else
                info->n_ref++;
        if (profiles != stack_profiles)
                free(profiles);
        if (r < 0)
                return r;
        info->name_hash = hash;
        *ret = info;
        return 0;
}

/* One Endpoint per HEP, its information taken from the cache when the HEP
 * and its profiles are unchanged. Records in the cache which HEPs changed. */
static int calc_endpoints(Calc *c, Resource *const *res, size_t n) {
        CalcCache *cache = c->cache;
        StrMap seen = STRMAP_INIT;
        EndpointInfo **infos;
        size_t count = n, n_infos = 0; /* res: the HEPs */
        bool same = same_heps(cache, res, n), same_node = streq_ptr(cache->nodename, c->nodename);
        bool same_names = same || same_hep_names(cache, res, n);
        /* Nothing a HEP's information depends on changed (an interface
         * event): every info is reused, no profile is looked up. */
        bool reuse = cache_profiles_same(cache, KIND_SPAN(c, KIND_PROFILE)) && same && same_node;
        int r = 0;

        if (!same_node) {
                free(cache->nodename);
                cache->nodename = NULL;
        }

        cache->generation++;
        cache_clear_changed(cache);
        c->endpoints = malloc_array(count, sizeof(Endpoint));
        infos = malloc_array(count, sizeof(EndpointInfo *));
        if (!c->endpoints || !infos || (!same_names && strmap_reserve(&seen, count) < 0)) {
                free(infos);
                strmap_done(&seen);
                return -ENOMEM;
        }
        for (size_t i = 0; r >= 0 && i < n; i++) {
                Resource *hep = res[i];
                EndpointInfo *info;

                if (reuse) {
                        if (i + PREFETCH_AHEAD < n)
                                __builtin_prefetch(cache->infos[i + PREFETCH_AHEAD]);
                        info = cache->infos[i];
                        info->n_ref++;
                } else {
                        r = endpoint_info_find(c, hep, same_names ? cache->infos[n_infos] : NULL, same_node, &info);
                        if (r < 0)
                                break;
                }
                /* References: one for the new cache array (taken above),
                 * one for the Endpoint. */
                infos[n_infos++] = info;
                info->n_ref++;
                Endpoint *e = &c->endpoints[c->n_endpoints++];
                *e = (Endpoint) {
                        .info = info,
                        .hep = hep,
                        .name = info->name,
                        .wildcard = info->wildcard,
                        .labels = info->labels,
                        .ips = info->ips,
                        .n_ips = info->n_ips,
                        .state = info->remote_reason ? ENDPOINT_REMOTE : ENDPOINT_ENFORCED,
                };
                if (!same_names)
                        r = strmap_put_hashed(&seen, info->name, info->name_hash, info);
        }
        /* HEPs that are gone changed too; then the cache keeps this run's. */
        for (size_t i = 0; r >= 0 && !same_names && i < cache->n_infos; i++)
                if (!strmap_get(&seen, cache->infos[i]->hep->meta.name) && !cache->changed_all)
                        r = cache_note_changed(cache, cache->infos[i]->hep->meta.name, cache->infos[i]);
        for (size_t i = 0; i < cache->n_infos; i++)
                endpoint_info_unref(cache->infos[i]);
        free(cache->infos);
        /* After a failure the index may point to infos that were not kept:
         * it is dropped (empty), and the next run looks everything up. */
        if (!same_names || r < 0) {
                strmap_done(&cache->by_name);
                cache->by_name = seen;
        }
        cache->infos = infos;
        cache->n_infos = n_infos;
        cache->changed_all = false;
        /* Only once every info is for this node (a failed run may have kept some). */
        if (r >= 0 && !cache->nodename && !(cache->nodename = strdup(c->nodename)))
                r = -ENOMEM;
        if (r < 0)
                return r;
        if (!endpoints_sorted(c->endpoints, c->n_endpoints))
                qsort_safe(c->endpoints, c->n_endpoints, sizeof(Endpoint), compare_endpoints);
        return r;
}

/* Profiles as the endpoint names them, for the chains of local endpoints. */
static int calc_endpoint_profiles(Calc *c) {
        for (size_t i = 0; i < c->n_endpoints; i++) {
                Endpoint *e = &c->endpoints[i];
                const StrList *pn = &e->hep->spec.hep.profiles;
                if (e->state == ENDPOINT_REMOTE || pn->n == 0)
                        continue;
                e->profiles = new_array(pn->n, sizeof(EndpointProfile));
                if (!e->profiles)
                        return -ENOMEM;
                for (size_t j = 0; j < pn->n; j++)
                        e->profiles[e->n_profiles++] = (EndpointProfile) { pn->v[j], e->info->profiles[j] };
        }
        return 0;
}

static int calc_profile_warnings(Calc *c) {
        for (size_t i = 0; i < c->n_endpoints; i++) {
                const Endpoint *e = &c->endpoints[i];
                if (!endpoint_gets_policy(e))
                        continue;
                for (size_t j = 0; j < e->n_profiles; j++)
                        if (!e->profiles[j].profile && !is_default_allow(e->profiles[j].name)) {
                                int r = calc_warn(c, "HostEndpoint(%s): profile '%s' does not exist, denying all traffic it would decide",
                                                  e->name, e->profiles[j].name);
                                if (r < 0)
                                        return r;
                        }
        }
        return 0;
}

static int compare_netsets(const void *a, const void *b) {
        return strcmp(((const NetworkSet *)a)->name, ((const NetworkSet *)b)->name);
}

/* A GlobalNetworkSet's nets as Felix's update processor reads them
 * (cnet.ParseCIDROrIP, the network of each; what does not parse is left
 * out, as it warns and skips). */
static int netset_parse(NetworkSet *ns, const Resource *gns) {
        const StrList *l = &gns->spec.gns.nets;

        *ns = (NetworkSet) { .gns = gns, .name = gns->meta.name ? gns->meta.name : "", .labels = &gns->meta.labels };
        if (l->n == 0)
                return 0;
        ns->nets = new_array(l->n, sizeof(IPNet));
        if (!ns->nets)
                return -ENOMEM;
        for (size_t i = 0; i < l->n; i++) {
                IPNet *n = &ns->nets[ns->n_nets];
                if (ipnet_parse_go(l->v[i], n, NULL) == 0)
                        ns->n_nets++;
                else if (ipaddr_parse_go(l->v[i], &n->addr)) {
                        n->prefixlen = n->addr.family == AF_INET ? 32 : 128;
                        ns->n_nets++;
                }
        }
        return 0;
}

/* The network sets, and whether they are the objects of the last run
 * (selector sets are rebuilt when they are not). */
static int calc_netsets(Calc *c, Resource *const *res, size_t n) {
        CalcCache *cache = c->cache;
        size_t count = n; /* res: the GlobalNetworkSets */
        bool same;

        same = count == cache->n_netsets;
        for (size_t i = 0; same && i < n; i++)
                same = cache->netsets[i] == res[i];
        cache->netsets_changed = !same;
        if (!same) {
                Resource **v = count ? new_array(count, sizeof(Resource *)) : NULL;
                if (count && !v)
                        return -ENOMEM;
                for (size_t i = 0; i < cache->n_netsets; i++)
                        resource_free(cache->netsets[i]);
                free(cache->netsets);
                cache->netsets = v;
                cache->n_netsets = 0;
                for (size_t i = 0; i < n; i++)
                        v[cache->n_netsets++] = resource_ref(res[i]);
        }
        if (count == 0)
                return 0;
        c->netsets = new_array(count, sizeof(NetworkSet));
        if (!c->netsets)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                int r = netset_parse(&c->netsets[c->n_netsets], res[i]);
                if (r < 0)
                        return r;
                c->n_netsets++;
        }
        qsort_safe(c->netsets, c->n_netsets, sizeof(NetworkSet), compare_netsets);
        return 0;
}

/* ---- http matches ---- */

/* Felix's Linux dataplane never reads a rule's HTTPMatch (rules/policy.go
 * renders the rest of the rule; only a pod's sidecar checks HTTP), so the
 * rule's other matches are enforced here too, and the user is told: each
 * such rule once in the log, and the StateReason of every endpoint whose
 * traffic it decides names the policy or profile. */
static int http_log_rules(Calc *c, const Resource *res, const char *field, const RuleList *l) {
        for (size_t i = 0; i < l->n; i++)
                if (l->v[i].http) {
                        int r = calc_warn(c, "%s(%s): %s[%zu] has an http match, which is not enforced on host endpoints; "
                                             "the rest of the rule is, as in Felix",
                                          kind_info(res->kind)->name, res->meta.name, field, i);
                        if (r < 0)
                                return r;
                }
        return 0;
}

/* The rules of res that apply: a policy's only in the directions of its types. */
static int http_log(Calc *c, const Resource *res) {
        const PolicySpec *s = &res->spec.policy;
        int r;

        if (res->kind == KIND_PROFILE) {
                r = http_log_rules(c, res, "spec.ingress", &res->spec.profile.ingress);
                return r < 0 ? r : http_log_rules(c, res, "spec.egress", &res->spec.profile.egress);
        }
        r = has_type(s, "Ingress") ? http_log_rules(c, res, "spec.ingress", &s->ingress) : 0;
        if (r >= 0 && has_type(s, "Egress"))
                r = http_log_rules(c, res, "spec.egress", &s->egress);
        return r;
}

typedef struct HttpSeen {
        const Resource **v; /* logged in this run already */
        size_t n;
} HttpSeen;

/* Names res in b, and logs its rules the first time in this run. */
static int http_note(Calc *c, HttpSeen *seen, StrBuf *b, const Resource *res) {
        const Resource **v;

        strbuf_printf(b, ", %s(%s)", kind_info(res->kind)->name, res->meta.name);
        for (size_t i = 0; i < seen->n; i++)
                if (seen->v[i] == res)
                        return 0;
        v = realloc(seen->v, (seen->n + 1) * sizeof(const Resource *));
        if (!v)
                return -ENOMEM;
        seen->v = v;
        v[seen->n++] = res;
        return http_log(c, res);
}

static int endpoint_http_notes(Calc *c, HttpSeen *seen, Endpoint *e) {
        StrBuf b = STRBUF_INIT;
        int r = 0;

        for (size_t j = 0; e->orders && r >= 0 && j < e->orders->n_http; j++)
                r = http_note(c, seen, &b, e->orders->http[j]);
        for (size_t j = 0; r >= 0 && j < e->n_profiles; j++) {
                const Resource *p = e->profiles[j].profile;
                if (p && (rules_have_http(&p->spec.profile.ingress) || rules_have_http(&p->spec.profile.egress)))
                        r = http_note(c, seen, &b, p);
        }
        if (r >= 0 && !strbuf_ok(&b))
                r = -ENOMEM;
        if (r >= 0 && b.len > 0) {
                char *reason = NULL;
                if (asprintf(&reason, "%s; http matches are not enforced on host endpoints, only the rest of their rules: %s",
                             e->reason ? e->reason : "", strbuf_str(&b) + 2) < 0)
                        r = -ENOMEM;
                else {
                        free(e->reason);
                        e->reason = reason;
                }
        }
        strbuf_done(&b);
        return r;
}

static int calc_http_notes(Calc *c) {
        HttpSeen seen = {};
        int r = 0;

        for (size_t i = 0; r >= 0 && i < c->n_endpoints; i++)
                if (endpoint_gets_policy(&c->endpoints[i]))
                        r = endpoint_http_notes(c, &seen, &c->endpoints[i]);
        free(seen.v);
        return r;
}

/* One walk over the input (the only one that touches every resource),
 * grouping it by kind, each kind in input order. The kinds are read once,
 * into a byte each, so the second pass does not touch the resources. */
static int partition_by_kind(Calc *c) {
        _cleanup_free_ uint8_t *kinds = malloc(c->n_resources ? c->n_resources : 1);
        size_t at = 0;

        c->by_kind_all = malloc_array(c->n_resources, sizeof(Resource *));
        if (!kinds || !c->by_kind_all)
                return -ENOMEM;
        for (size_t i = 0; i < c->n_resources; i++) {
                if (i + PREFETCH_AHEAD < c->n_resources)
                        __builtin_prefetch(c->resources[i + PREFETCH_AHEAD]);
                ResourceKind k = c->resources[i]->kind;
                if (k < 0 || k >= _KIND_MAX)
                        return -EINVAL;
                kinds[i] = (uint8_t)k;
                c->n_by_kind[k]++;
        }
        for (size_t k = 0; k < _KIND_MAX; k++) {
                c->by_kind[k] = c->by_kind_all + at;
                at += c->n_by_kind[k];
                c->n_by_kind[k] = 0;
        }
        for (size_t i = 0; i < c->n_resources; i++)
                c->by_kind[kinds[i]][c->n_by_kind[kinds[i]]++] = c->resources[i];
        return 0;
}

int calc_run(Resource *const *resources, size_t n_resources, const char *nodename, const HostInterface *ifaces,
             size_t n_ifaces, CalcCache *cache, Calc **ret) {
        _cleanup_(calc_freep) Calc *c = calloc(1, sizeof(Calc));
        Exclusions x = {};
        const Resource **profiles;
        int r;

        if (!c)
                return -ENOMEM;
        c->cache = cache;
        if (!cache) {
                c->cache = calc_cache_new();
                c->own_cache = true;
                if (!c->cache)
                        return -ENOMEM;
        }
        if (c->cache->n_infos == 0)
                c->cache->changed_all = true;
        c->nodename = strdup(nodename);
        if (!c->nodename)
                return -ENOMEM;
        c->resources = resources;
        c->n_resources = n_resources;
        r = partition_by_kind(c);
        if (r < 0)
                return r;
        c->n_profiles = c->n_by_kind[KIND_PROFILE];
        profiles = new_array(c->n_profiles, sizeof(Resource *));
        if (!profiles && c->n_profiles)
                return -ENOMEM;
        if (c->n_profiles)
                memcpy(profiles, c->by_kind[KIND_PROFILE], c->n_profiles * sizeof(Resource *));
        qsort_safe(profiles, c->n_profiles, sizeof(Resource *), compare_resource_names);
        c->profiles_by_name = profiles;

        r = calc_endpoints(c, KIND_SPAN(c, KIND_HOST_ENDPOINT));
        if (r >= 0)
                r = calc_netsets(c, KIND_SPAN(c, KIND_GLOBAL_NETWORK_SET));
        if (r >= 0)
                r = calc_endpoint_profiles(c);
        if (r >= 0)
                r = calc_felix_config(c, KIND_SPAN(c, KIND_FELIX_CONFIGURATION), &x);
        if (r >= 0)
                r = calc_bind_interfaces(c, ifaces, n_ifaces, &x);
        if (r >= 0)
                r = calc_states(c, ifaces, n_ifaces);
        if (r >= 0)
                r = calc_policies(c);
        if (r >= 0)
                r = calc_profile_warnings(c);
        if (r >= 0)
                r = calc_http_notes(c);
        exclusions_done(&x);
        if (r < 0)
                return r;
        *ret = steal_ptr(c);
        return 0;
}

/* Endpoints are sorted by name: a binary search, no index to keep. */
const Endpoint *calc_find_endpoint(const Calc *c, const char *name) {
        size_t lo = 0, hi = c->n_endpoints;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int k = strcmp(c->endpoints[mid].name, name);
                if (k == 0)
                        return &c->endpoints[mid];
                if (k < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return NULL;
}

const Endpoint *calc_endpoint_for_interface(const Calc *c, const char *ifname) {
        for (size_t i = 0; i < c->n_endpoints; i++)
                for (size_t j = 0; j < c->endpoints[i].n_ifnames; j++)
                        if (streq(c->endpoints[i].ifnames[j], ifname))
                                return &c->endpoints[i];
        return c->wildcard;
}

/* ---- selector resolution ---- */

static int compare_ipaddrs(const void *a, const void *b) {
        return ipaddr_compare(a, b);
}

int calc_selector_ips(const Calc *c, const Selector *sel, IPAddr **ret, size_t *ret_n) {
        IPAddr *v = NULL;
        size_t n = 0, alloc = 0, k = 0;

        for (size_t i = 0; i < c->n_endpoints; i++) {
                const Endpoint *e = &c->endpoints[i];
                if (e->n_ips == 0 || !selector_eval_lookup(sel, label_lookup, e->labels))
                        continue;
                IPAddr *w = grow_array(v, &alloc, n + e->n_ips, sizeof(IPAddr));
                if (!w) {
                        free(v);
                        return -ENOMEM;
                }
                v = w;
                memcpy(v + n, e->ips, e->n_ips * sizeof(IPAddr));
                n += e->n_ips;
        }
        if (n)
                qsort_safe(v, n, sizeof(IPAddr), compare_ipaddrs);
        for (size_t i = 0; i < n; i++)
                if (k == 0 || ipaddr_compare(&v[k - 1], &v[i]) != 0)
                        v[k++] = v[i];
        *ret = v;
        *ret_n = k;
        return 0;
}

int calc_netset_nets(const Calc *c, const Selector *sel, IPNet **v, size_t *n, size_t *alloc) {
        for (size_t i = 0; i < c->n_netsets; i++) {
                const NetworkSet *ns = &c->netsets[i];
                IPNet *w;

                if (ns->n_nets == 0 || !selector_eval_lookup(sel, label_lookup, ns->labels))
                        continue;
                w = grow_array(*v, alloc, *n + ns->n_nets, sizeof(IPNet));
                if (!w)
                        return -ENOMEM;
                *v = w;
                memcpy(w + *n, ns->nets, ns->n_nets * sizeof(IPNet));
                *n += ns->n_nets;
        }
        return 0;
}

int calc_selector_nets(const Calc *c, const Selector *sel, IPNet **ret, size_t *ret_n) {
        _cleanup_free_ IPAddr *ips = NULL;
        IPNet *v = NULL;
        size_t n_ips = 0, n = 0, alloc = 0;
        int r = calc_selector_ips(c, sel, &ips, &n_ips);

        if (r < 0)
                return r;
        if (n_ips && !(v = grow_array(NULL, &alloc, n_ips, sizeof(IPNet))))
                return -ENOMEM;
        for (size_t i = 0; i < n_ips; i++)
                v[n++] = (IPNet) { ips[i], ips[i].family == AF_INET ? 32 : 128 };
        r = calc_netset_nets(c, sel, &v, &n, &alloc);
        if (r < 0) {
                free(v);
                return r;
        }
        *ret = v;
        *ret_n = ipnet_merge(v, n);
        return 0;
}

int calc_named_port_members(const Calc *c, const Selector *sel, const char *port_name, uint8_t protocol,
                            NamedPortMember **ret, size_t *ret_n) {
        NamedPortMember *v = NULL;
        size_t n = 0, alloc = 0;

        for (size_t i = 0; i < c->n_endpoints; i++) {
                const Endpoint *e = &c->endpoints[i];
                const HostEndpointSpec *s = &e->hep->spec.hep;
                if (e->n_ips == 0 || !selector_eval_lookup(sel, label_lookup, e->labels))
                        continue;
                for (size_t p = 0; p < s->ports.n; p++) {
                        const EndpointPort *ep = &s->ports.v[p];
                        uint8_t proto = protocol_number(&ep->protocol);
                        if (!streq_ptr(ep->name, port_name) || (protocol && proto != protocol) || !proto)
                                continue;
                        for (size_t a = 0; a < e->n_ips; a++) {
                                NamedPortMember *w = grow_array(v, &alloc, n + 1, sizeof(NamedPortMember));
                                if (!w) {
                                        free(v);
                                        return -ENOMEM;
                                }
                                v = w;
                                v[n++] = (NamedPortMember) { e->ips[a], proto, ep->port };
                        }
                }
        }
        *ret = v;
        *ret_n = n;
        return 0;
}
