/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Selector and named-port sets with incremental membership; see setcache.h. */
#include "setcache.h"

#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"
#include "strmap.h"

struct CachedSet {
        char *key; /* canonical selector, plus port and protocol for named ports */
        Selector *sel; /* parsed from the canonical text */
        bool named_port;
        char *port;
        uint8_t proto;
        char name4[32], name6[32]; /* follow nets4/nets6 (name_selector_sets) */
        bool nets4, nets6; /* a selector's set holds a network, not only addresses */
        NftSet *s4, *s6;  /* finished; shared with the rulesets that use them */
        char **members;   /* endpoint names, sorted */
        uint64_t *prints; /* each member's contribution_print() */
        size_t n_members, alloc_members, alloc_prints;
        uint64_t calc_gen; /* the CalcCache generation the members are for */
        uint64_t used;     /* the compilation that last used it (and put it into its ruleset) */
};

struct SetCache {
        StrMap by_key;
        CachedSet **list;
        size_t n, alloc;
        uint64_t generation;
};

SetCache *set_cache_new(void) {
        return calloc(1, sizeof(SetCache));
}

static void cached_set_free(CachedSet *cs) {
        free(cs->key);
        selector_free(cs->sel);
        free(cs->port);
        nft_set_unref(cs->s4);
        nft_set_unref(cs->s6);
        for (size_t i = 0; i < cs->n_members; i++)
                free(cs->members[i]);
        free(cs->members);
        free(cs->prints);
        free(cs);
}

SetCache *set_cache_free(SetCache *sc) {
        if (!sc)
                return NULL;
        for (size_t i = 0; i < sc->n; i++)
                cached_set_free(sc->list[i]);
        free(sc->list);
        strmap_done(&sc->by_key);
        free(sc);
        return NULL;
}

void set_cache_sweep(SetCache *sc) {
        size_t k = 0;

        strmap_done(&sc->by_key);
        for (size_t i = 0; i < sc->n; i++) {
                if (sc->list[i]->used != sc->generation) {
                        cached_set_free(sc->list[i]);
                        continue;
                }
                sc->list[k++] = sc->list[i];
                /* re-index; on allocation failure the entry is simply not found next time */
                (void)strmap_put(&sc->by_key, sc->list[k - 1]->key, sc->list[k - 1]);
        }
        sc->n = k;
}

void set_cache_begin(SetCache *sc) {
        sc->generation++;
}

static const char *label_lookup(const void *ctx, const char *key) {
        return labels_get(ctx, key);
}

static bool endpoint_has_port(const Endpoint *e, const char *port, uint8_t proto) {
        const HostEndpointSpec *s = &e->hep->spec.hep;

        for (size_t i = 0; i < s->ports.n; i++) {
                uint8_t p = protocol_number(&s->ports.v[i].protocol);
                if (streq_ptr(s->ports.v[i].name, port) && p && (!proto || p == proto))
                        return true;
        }
        return false;
}

/* Felix: a HEP contributes its expectedIPs; without them it is no member. */
static bool is_member(const CachedSet *cs, const Selector *sel, const Endpoint *e) {
        if (!e || e->n_ips == 0 || !selector_eval_lookup(sel, label_lookup, e->labels))
                return false;
        return !cs->named_port || endpoint_has_port(e, cs->port, cs->proto);
}

/* What a member puts into a set's elements: its addresses and ports (a
 * superset of what either kind of set takes from it). A member whose
 * print is unchanged leaves the elements as they were: a HEP relabelled
 * but still selected costs no rebuild of a set of thousands. */
/* What a HEP puts into sets: its addresses, and its ports. From the
 * endpoint as it is, or from the information it had before the run. */
typedef struct Contribution {
        const IPAddr *ips;
        size_t n_ips;
        const HostEndpointSpec *spec;
} Contribution;

static Contribution endpoint_contribution(const Endpoint *e) {
        return (Contribution) { e->ips, e->n_ips, &e->hep->spec.hep };
}

static Contribution info_contribution(const EndpointInfo *i) {
        return (Contribution) { i->ips, i->n_ips, &i->hep->spec.hep };
}

static uint64_t print_of(Contribution c) {
        const HostEndpointSpec *s = c.spec;
        uint64_t h = 0xcbf29ce484222325u;

#define MIX(v) (h = (h ^ (uint64_t)(v)) * 0x100000001b3u)
        for (size_t a = 0; a < c.n_ips; a++) {
                MIX(c.ips[a].family);
                for (size_t b = 0; b < 16; b++)
                        MIX(c.ips[a].bytes[b]);
        }
        MIX(0xffff);
        for (size_t p = 0; p < s->ports.n; p++) {
                MIX(protocol_number(&s->ports.v[p].protocol));
                MIX(s->ports.v[p].port);
                MIX(strmap_hash(s->ports.v[p].name ? s->ports.v[p].name : ""));
        }
#undef MIX
        return h;
}

static uint64_t contribution_print(const Endpoint *e) {
        return print_of(endpoint_contribution(e));
}

static int members_add(CachedSet *cs, size_t at, const char *name, uint64_t print) {
        char **v = grow_array(cs->members, &cs->alloc_members, cs->n_members + 1, sizeof(char *));
        uint64_t *pv = grow_array(cs->prints, &cs->alloc_prints, cs->n_members + 1, sizeof(uint64_t));
        char *copy = strdup(name);

        if (v)
                cs->members = v;
        if (pv)
                cs->prints = pv;
        if (!v || !pv || !copy) {
                free(copy);
                return -ENOMEM;
        }
        memmove(&v[at + 1], &v[at], (cs->n_members - at) * sizeof(char *));
        memmove(&pv[at + 1], &pv[at], (cs->n_members - at) * sizeof(uint64_t));
        v[at] = copy;
        pv[at] = print;
        cs->n_members++;
        return 0;
}

/* Position of x in the sorted strings v, or where it would go: for a
 * set's members (names) and for its elements alike. */
static size_t sorted_find(char *const *v, size_t n, const char *x, bool *found) {
        size_t lo = 0, hi = n;

        *found = false;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int k = strcmp(v[mid], x);
                if (k == 0) {
                        *found = true;
                        return mid;
                }
                if (k < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

static int members_full(CachedSet *cs, const Calc *calc, const Selector *sel) {
        for (size_t i = 0; i < cs->n_members; i++)
                free(cs->members[i]);
        cs->n_members = 0;
        /* calc's endpoints are sorted by name, so members come out sorted. */
        for (size_t i = 0; i < calc->n_endpoints; i++)
                if (is_member(cs, sel, &calc->endpoints[i])) {
                        int r = members_add(cs, cs->n_members, calc->endpoints[i].name,
                                            contribution_print(&calc->endpoints[i]));
                        if (r < 0)
                                return r;
                }
        return 1;
}

/* What members_update() saw: what each member that left put into the set
 * and what each that joined puts in (a member that changed did both),
 * when that is known: from the endpoint as it is, or from its
 * information before the run, if its print is the one the set knew it
 * by. Then the set can be patched rather than rebuilt; else rebuild. */
#define DELTA_MAX 8
typedef struct MemberDelta {
        Contribution joined[DELTA_MAX], left[DELTA_MAX];
        size_t n_joined, n_left;
        bool rebuild;
} MemberDelta;

static void delta_leave(MemberDelta *d, Contribution c) {
        if (d->n_left < DELTA_MAX)
                d->left[d->n_left++] = c;
        else
                d->rebuild = true;
}

static void delta_join(MemberDelta *d, Contribution c) {
        if (d->n_joined < DELTA_MAX)
                d->joined[d->n_joined++] = c;
        else
                d->rebuild = true;
}

/* Re-evaluates only the endpoints that changed since the previous
 * calculation. Returns >0 if the elements must change (*delta says how). */
static int members_update(CachedSet *cs, const Calc *calc, const Selector *sel, MemberDelta *delta) {
        const CalcCache *cc = calc->cache;
        bool dirty = false;

        for (size_t i = 0; i < cc->n_changed; i++) {
                const char *name = cc->changed[i];
                /* What it put in before this run, as the set knew it. */
                const EndpointInfo *prev = cc->previous[i];
                const Endpoint *e = calc_find_endpoint(calc, name);
                bool found, member = is_member(cs, sel, e);
                size_t at = sorted_find(cs->members, cs->n_members, name, &found);

                if (found && member) {
                        /* still a member: its addresses or ports may differ */
                        uint64_t print = contribution_print(e);
                        if (print != cs->prints[at]) {
                                if (prev && print_of(info_contribution(prev)) == cs->prints[at]) {
                                        delta_leave(delta, info_contribution(prev));
                                        delta_join(delta, endpoint_contribution(e));
                                } else
                                        delta->rebuild = true;
                                cs->prints[at] = print;
                                dirty = true;
                        }
                } else if (found) {
                        if (e && contribution_print(e) == cs->prints[at])
                                delta_leave(delta, endpoint_contribution(e));
                        else if (prev && print_of(info_contribution(prev)) == cs->prints[at])
                                delta_leave(delta, info_contribution(prev));
                        else
                                delta->rebuild = true;
                        free(cs->members[at]);
                        memmove(&cs->members[at], &cs->members[at + 1], (cs->n_members - at - 1) * sizeof(char *));
                        memmove(&cs->prints[at], &cs->prints[at + 1], (cs->n_members - at - 1) * sizeof(uint64_t));
                        cs->n_members--;
                        dirty = true;
                } else if (member) {
                        int r = members_add(cs, at, name, contribution_print(e));
                        if (r < 0)
                                return r;
                        delta_join(delta, endpoint_contribution(e));
                        dirty = true;
                }
        }
        return dirty;
}

/* The member endpoints in name order. calc's endpoints and the members
 * are both sorted by name: a set holding most endpoints is one walk down
 * both (10,000 string compares where binary searches took 140,000); a
 * small one is looked up member by member. */
typedef struct MemberWalk {
        size_t m, e;
} MemberWalk;

static const Endpoint *member_next(const CachedSet *cs, const Calc *calc, MemberWalk *w) {
        if (cs->n_members * 8 < calc->n_endpoints) {
                while (w->m < cs->n_members) {
                        const Endpoint *e = calc_find_endpoint(calc, cs->members[w->m++]);
                        if (e)
                                return e;
                }
                return NULL;
        }
        while (w->m < cs->n_members && w->e < calc->n_endpoints) {
                int k = strcmp(calc->endpoints[w->e].name, cs->members[w->m]);
                if (k < 0)
                        w->e++;
                else if (k > 0)
                        w->m++; /* no longer an endpoint */
                else {
                        w->m++;
                        return &calc->endpoints[w->e++];
                }
        }
        return NULL;
}

/* A named port's elements for one member endpoint. */
static int add_member_elements(CachedSet *cs, const Endpoint *e, NftSet *s4, NftSet *s6) {
        const HostEndpointSpec *spec = &e->hep->spec.hep;
        char addr[IPADDR_STRLEN], elem[IPADDR_STRLEN + 32], proto[8];
        int r = 0;

        for (size_t a = 0; r >= 0 && a < e->n_ips; a++) {
                NftSet *s = e->ips[a].family == AF_INET ? s4 : s6;
                ipaddr_format(&e->ips[a], addr);
                for (size_t p = 0; r >= 0 && p < spec->ports.n; p++) {
                        const EndpointPort *ep = &spec->ports.v[p];
                        uint8_t pn = protocol_number(&ep->protocol);
                        if (!streq_ptr(ep->name, cs->port) || !pn || (cs->proto && pn != cs->proto))
                                continue;
                        protocol_format(pn, proto);
                        snprintf(elem, sizeof(elem), "%s . %s . %u", addr, proto, ep->port);
                        r = set_add_element(s, elem);
                }
        }
        return r;
}

static bool is_host(const IPNet *net) {
        return net->prefixlen == (net->addr.family == AF_INET ? 32u : 128u);
}

/* A selector's addresses: its member endpoints' and the nets of the
 * network sets it selects, merged (Felix's label index takes both alike).
 * Sets *n to the number of merged entries. */
static int selector_nets(CachedSet *cs, const Calc *calc, IPNet **ret, size_t *n) {
        _cleanup_free_ IPNet *v = NULL;
        const Endpoint *e;
        size_t alloc = 0;
        int r;

        *n = 0;
        for (MemberWalk mw = {}; (e = member_next(cs, calc, &mw));) {
                IPNet *w = grow_array(v, &alloc, *n + e->n_ips, sizeof(IPNet));

                if (!w)
                        return -ENOMEM;
                v = w;
                for (size_t a = 0; a < e->n_ips; a++)
                        v[(*n)++] = (IPNet) { e->ips[a], e->ips[a].family == AF_INET ? 32 : 128 };
        }
        r = calc_netset_nets(calc, cs->sel, &v, n, &alloc);
        if (r < 0)
                return r;
        /* Addresses alone cannot overlap but by being equal, which the
         * set's own sort drops: merging (a sort by address) is for nets. */
        bool hosts_only = true;
        for (size_t i = 0; hosts_only && i < *n; i++)
                hosts_only = is_host(&v[i]);
        if (!hosts_only)
                *n = ipnet_merge(v, *n);
        *ret = v;
        v = NULL;
        return 0;
}

/* Names a selector's sets for what they hold: "sel" sets hold addresses
 * only and are plain hashes; "net" sets hold a network too and need
 * nftables' interval flag, whose elements cost libnftables several times
 * the memory (it caches them to merge ranges). The ruleset diff relies on
 * a name fixing its type, and compiled chains follow the name through
 * their SetDeps (cached_set_has_nets). */
static void name_selector_sets(CachedSet *cs, const IPNet *v, size_t n) {
        uint64_t h = strmap_hash(cs->key);

        cs->nets4 = cs->nets6 = false;
        for (size_t i = 0; i < n; i++)
                if (!is_host(&v[i])) {
                        if (v[i].addr.family == AF_INET)
                                cs->nets4 = true;
                        else
                                cs->nets6 = true;
                }
        snprintf(cs->name4, sizeof(cs->name4), "%s4-%016" PRIx64, cs->nets4 ? "net" : "sel", h);
        snprintf(cs->name6, sizeof(cs->name6), "%s6-%016" PRIx64, cs->nets6 ? "net" : "sel", h);
}

static const char *set_type(const CachedSet *cs, int family) {
        if (cs->named_port)
                return family == 4 ? "type ipv4_addr . inet_proto . inet_service;"
                                   : "type ipv6_addr . inet_proto . inet_service;";
        if (family == 4)
                return cs->nets4 ? "type ipv4_addr; flags interval;" : "type ipv4_addr;";
        return cs->nets6 ? "type ipv6_addr; flags interval;" : "type ipv6_addr;";
}

static int add_selector_elements(const IPNet *v, size_t n, NftSet *s4, NftSet *s6) {
        char elem[IPNET_STRLEN];
        int r = 0;

        for (size_t i = 0; r >= 0 && i < n; i++) {
                if (is_host(&v[i]))
                        ipaddr_format(&v[i].addr, elem);
                else
                        ipnet_format(&v[i], elem);
                r = set_add_element(v[i].addr.family == AF_INET ? s4 : s6, elem);
        }
        return r;
}

/* New set objects from the members (the old ones may still be in use by
 * the committed ruleset). */
static int rebuild_sets(CachedSet *cs, const Calc *calc) {
        _cleanup_(ruleset_freep) Ruleset *tmp = ruleset_new();
        _cleanup_free_ IPNet *nets = NULL;
        size_t n_nets = 0;
        NftSet *s4, *s6;
        int r = 0;

        if (!tmp)
                return -ENOMEM;
        if (!cs->named_port) {
                r = selector_nets(cs, calc, &nets, &n_nets);
                if (r < 0)
                        return r;
                name_selector_sets(cs, nets, n_nets);
        }
        s4 = ruleset_add_set(tmp, cs->name4, set_type(cs, 4), false);
        s6 = ruleset_add_set(tmp, cs->name6, set_type(cs, 6), false);
        if (!s4 || !s6)
                return -ENOMEM;
        if (!cs->named_port)
                r = add_selector_elements(nets, n_nets, s4, s6);
        if (cs->named_port) {
                const Endpoint *e;
                for (MemberWalk mw = {}; r >= 0 && (e = member_next(cs, calc, &mw));)
                        r = add_member_elements(cs, e, s4, s6);
        }
        if (r < 0)
                return r;
        ruleset_finish(tmp);
        nft_set_unref(cs->s4);
        nft_set_unref(cs->s6);
        cs->s4 = nft_set_ref(s4);
        cs->s6 = nft_set_ref(s6);
        return 0;
}

/* ---- patching a selector's set ---- */

/* A set whose elements come from its members alone, each one's from its
 * addresses (and a named port's ports): a named port's, or a selector's
 * of addresses that no network set adds to. */
static bool patchable(const CachedSet *cs, const Calc *calc) {
        _cleanup_free_ IPNet *v = NULL;
        size_t n = 0, alloc = 0;

        if (!cs->s4 || !cs->s6)
                return false;
        if (cs->named_port)
                return true;
        if (cs->nets4 || cs->nets6)
                return false;
        return calc_netset_nets(calc, cs->sel, &v, &n, &alloc) >= 0 && n == 0;
}


/* A sorted array of element strings, as NftSet keeps them. */
typedef struct Elements {
        char **v;
        size_t n, alloc;
} Elements;

static int elements_insert(Elements *l, const char *x) {
        bool found;
        size_t at = sorted_find(l->v, l->n, x, &found);
        char **v, *copy;

        if (found)
                return 0;
        v = grow_array(l->v, &l->alloc, l->n + 1, sizeof(char *));
        if (!v)
                return -ENOMEM;
        l->v = v;
        copy = strdup(x);
        if (!copy)
                return -ENOMEM;
        memmove(&v[at + 1], &v[at], (l->n - at) * sizeof(char *));
        v[at] = copy;
        l->n++;
        return 0;
}

static void elements_remove(Elements *l, const char *x) {
        bool found;
        size_t at = sorted_find(l->v, l->n, x, &found);

        if (!found)
                return;
        free(l->v[at]);
        memmove(&l->v[at], &l->v[at + 1], (l->n - at - 1) * sizeof(char *));
        l->n--;
}

static int elements_copy(const NftSet *s, Elements *ret) {
        *ret = (Elements) { .v = new_array(s->n_elements + 1, sizeof(char *)), .alloc = s->n_elements + 1 };
        if (!ret->v)
                return -ENOMEM;
        for (size_t i = 0; i < s->n_elements; i++, ret->n++)
                if (!(ret->v[i] = strdup(s->elements[i])))
                        return -ENOMEM;
        return 0;
}

static void elements_done(Elements *l) {
        for (size_t i = 0; i < l->n; i++)
                free(l->v[i]);
        free(l->v);
        *l = (Elements) {};
}

/* The elements one address of a member gives cs: the address itself, or
 * for a named port "addr . proto . port" for each port of that name. */
#define ELEMENT_MAX (IPADDR_STRLEN + 32)
#define ADDRESS_ELEMENTS_MAX 8
static size_t address_elements(const CachedSet *cs, const HostEndpointSpec *spec, const IPAddr *ip,
                               char out[ADDRESS_ELEMENTS_MAX][ELEMENT_MAX], bool *too_many) {
        char addr[IPADDR_STRLEN], proto[8];
        size_t n = 0;

        ipaddr_format(ip, addr);
        if (!cs->named_port) {
                snprintf(out[n++], ELEMENT_MAX, "%s", addr);
                return n;
        }
        for (size_t p = 0; p < spec->ports.n; p++) {
                const EndpointPort *ep = &spec->ports.v[p];
                uint8_t pn = protocol_number(&ep->protocol);
                if (!streq_ptr(ep->name, cs->port) || !pn || (cs->proto && pn != cs->proto))
                        continue;
                if (n == ADDRESS_ELEMENTS_MAX) {
                        *too_many = true;
                        return n;
                }
                protocol_format(pn, proto);
                snprintf(out[n++], ELEMENT_MAX, "%s . %s . %u", addr, proto, ep->port);
        }
        return n;
}

/* Whether a member of cs, as it is now, gives the element elem of its
 * address a (two HEPs may share an address). */
static bool element_given(const CachedSet *cs, const Calc *calc, const IPAddr *a, const char *elem, bool *too_many) {
        char mine[ADDRESS_ELEMENTS_MAX][ELEMENT_MAX];
        const Endpoint *e;

        for (MemberWalk mw = {}; (e = member_next(cs, calc, &mw));)
                for (size_t i = 0; i < e->n_ips; i++) {
                        if (e->ips[i].family != a->family || memcmp(e->ips[i].bytes, a->bytes, 16) != 0)
                                continue;
                        size_t n = address_elements(cs, &e->hep->spec.hep, a, mine, too_many);
                        for (size_t k = 0; k < n; k++)
                                if (streq(mine[k], elem))
                                        return true;
                }
        return false;
}

/* The set's elements as they were, less what the members that left put
 * in (unless a member still has that address), plus what those that
 * joined put in: what a rebuild would give, without formatting and
 * sorting the elements of every member. 1: it cannot say (a member with
 * more ports of the name than it counts), rebuild. */
static int patch_sets(CachedSet *cs, const Calc *calc, const MemberDelta *d) {
        _cleanup_(ruleset_freep) Ruleset *tmp = ruleset_new();
        char elems[ADDRESS_ELEMENTS_MAX][ELEMENT_MAX];
        Elements l[2] = {};
        bool too_many = false;
        NftSet *s[2];
        int r;

        if (!tmp)
                return -ENOMEM;
        r = elements_copy(cs->s4, &l[0]);
        if (r >= 0)
                r = elements_copy(cs->s6, &l[1]);
        for (size_t i = 0; r == 0 && i < d->n_left; i++)
                for (size_t a = 0; r == 0 && a < d->left[i].n_ips; a++) {
                        const IPAddr *ip = &d->left[i].ips[a];
                        size_t n = address_elements(cs, d->left[i].spec, ip, elems, &too_many);
                        for (size_t k = 0; k < n; k++)
                                if (!element_given(cs, calc, ip, elems[k], &too_many))
                                        elements_remove(&l[ip->family == AF_INET ? 0 : 1], elems[k]);
                }
        for (size_t i = 0; r == 0 && i < d->n_joined; i++)
                for (size_t a = 0; r == 0 && a < d->joined[i].n_ips; a++) {
                        const IPAddr *ip = &d->joined[i].ips[a];
                        size_t n = address_elements(cs, d->joined[i].spec, ip, elems, &too_many);
                        for (size_t k = 0; r >= 0 && k < n; k++)
                                r = elements_insert(&l[ip->family == AF_INET ? 0 : 1], elems[k]);
                }
        if (r == 0 && too_many)
                r = 1;
        s[0] = r == 0 ? ruleset_add_set(tmp, cs->name4, set_type(cs, 4), false) : NULL;
        s[1] = r == 0 ? ruleset_add_set(tmp, cs->name6, set_type(cs, 6), false) : NULL;
        if (!s[0] || !s[1]) {
                elements_done(&l[0]);
                elements_done(&l[1]);
                return r != 0 ? r : -ENOMEM;
        }
        for (int f = 0; f < 2; f++) {
                s[f]->elements = l[f].v;
                s[f]->n_elements = l[f].n;
                s[f]->alloc_elements = l[f].alloc;
                s[f]->sorted = true; /* kept in order: ruleset_finish() leaves it */
        }
        ruleset_finish(tmp);
        nft_set_unref(cs->s4);
        nft_set_unref(cs->s6);
        cs->s4 = nft_set_ref(s[0]);
        cs->s6 = nft_set_ref(s[1]);
        return 0;
}

static int cached_set_new(SetCache *sc, const char *key, const char *canon, bool named_port, const char *port,
                          uint8_t proto, CachedSet **ret) {
        CachedSet *cs = calloc(1, sizeof(CachedSet));
        CachedSet **v = grow_array(sc->list, &sc->alloc, sc->n + 1, sizeof(CachedSet *));
        uint64_t h = strmap_hash(key);
        SelectorError e;

        if (!cs || !v) {
                free(cs);
                if (v)
                        sc->list = v;
                return -ENOMEM;
        }
        sc->list = v;
        cs->key = strdup(key);
        cs->port = port ? strdup(port) : NULL;
        if (!cs->key || (port && !cs->port) || selector_parse(canon, &cs->sel, &e) < 0 ||
            strmap_put(&sc->by_key, cs->key, cs) < 0) {
                cached_set_free(cs);
                return -ENOMEM;
        }
        cs->named_port = named_port;
        cs->proto = proto;
        cs->calc_gen = UINT64_MAX;
        snprintf(cs->name4, sizeof(cs->name4), "%s4-%016" PRIx64, named_port ? "port" : "sel", h);
        snprintf(cs->name6, sizeof(cs->name6), "%s6-%016" PRIx64, named_port ? "port" : "sel", h);
        sc->list[sc->n++] = cs;
        *ret = cs;
        return 0;
}

int set_cache_use(SetCache *sc, const Calc *calc, Ruleset *rs, CachedSet *cs) {
        uint64_t calc_gen = calc->cache->generation;
        MemberDelta delta = { .rebuild = true };
        int r = 0;

        if (cs->used == sc->generation && cs->calc_gen == calc_gen)
                return 0; /* already brought up to date and added in this compilation */
        if (cs->calc_gen == calc_gen)
                r = cs->s4 ? 0 : 1;
        else if (cs->calc_gen + 1 == calc_gen && !calc->cache->changed_all && cs->s4) {
                delta.rebuild = false;
                r = members_update(cs, calc, cs->sel, &delta);
        } else
                r = members_full(cs, calc, cs->sel);
        /* Network sets are few: any change to them rebuilds every
         * selector's set (named ports have no network set members). */
        if (cs->calc_gen != calc_gen && calc->cache->netsets_changed && !cs->named_port) {
                delta.rebuild = true;
                if (r == 0)
                        r = 1;
        }
        if (r > 0)
                r = !delta.rebuild && patchable(cs, calc) ? patch_sets(cs, calc, &delta) : 1;
        if (r > 0)
                r = rebuild_sets(cs, calc);
        if (r < 0)
                return r;
        cs->calc_gen = calc_gen;
        cs->used = sc->generation;
        r = ruleset_add_shared_set(rs, cs->s4);
        if (r >= 0)
                r = ruleset_add_shared_set(rs, cs->s6);
        return r;
}

static int get_sets(SetCache *sc, const Calc *calc, Ruleset *rs, const char *key, const char *canon,
                    bool named_port, const char *port, uint8_t proto, CachedSet **ret) {
        CachedSet *cs = strmap_get(&sc->by_key, key);
        int r;

        if (!cs) {
                r = cached_set_new(sc, key, canon, named_port, port, proto, &cs);
                if (r < 0)
                        return r;
        }
        r = set_cache_use(sc, calc, rs, cs);
        if (r >= 0)
                *ret = cs;
        return r;
}

int set_cache_selector(SetCache *sc, const Calc *calc, Ruleset *rs, const char *canon, CachedSet **ret) {
        return get_sets(sc, calc, rs, canon, canon, false, NULL, 0, ret);
}

int set_cache_named_port(SetCache *sc, const Calc *calc, Ruleset *rs, const char *canon, const char *port,
                         uint8_t proto, CachedSet **ret) {
        _cleanup_free_ char *key = NULL;

        if (asprintf(&key, "%s\n%s\n%u", canon, port, proto) < 0)
                return -ENOMEM;
        return get_sets(sc, calc, rs, key, canon, true, port, proto, ret);
}

const char *cached_set_name(const CachedSet *cs, int family) {
        return family == 4 ? cs->name4 : cs->name6;
}

bool cached_set_empty(const CachedSet *cs, int family) {
        const NftSet *s = family == 4 ? cs->s4 : cs->s6;

        return !s || s->n_elements == 0;
}

bool cached_set_has_nets(const CachedSet *cs, int family) {
        return family == 4 ? cs->nets4 : cs->nets6;
}

void set_cache_keep_all(SetCache *sc, const Calc *calc) {
        uint64_t calc_gen = calc->cache->generation;

        /* No HEP changed in this calculation: members as of the previous
         * one are members now, and the next compilation can update them
         * incrementally from here. */
        for (size_t i = 0; i < sc->n; i++)
                if (sc->list[i]->calc_gen + 1 == calc_gen)
                        sc->list[i]->calc_gen = calc_gen;
}
