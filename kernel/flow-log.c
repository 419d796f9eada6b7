/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Flow logs (flow-log.h): two netfilter netlink sockets on the host's
 * loop, one bound to the NFLOG group of the deciding rules, one listening
 * to conntrack's DESTROY events; a bounded table of flows (LRU), each
 * record made when its first logged packet arrives and completed (counts,
 * end) by conntrack. libnl-nf parses both; libnl's -NLE_* become -errno
 * here. */
#include "flow-log.h"

#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <netlink/netfilter/ct.h>
#include <netlink/netfilter/log.h>
#include <netlink/netfilter/log_msg.h>
#include <netlink/netfilter/nfnl.h>
#include <netlink/netlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "compile.h"
#include "flowlog.h"
#include "host.h"
#include "strbuf.h"
#include "strmap.h"

/* Only the headers are copied to us: enough for the 5-tuple. */
#define COPY_RANGE 96
#define SOCKET_BUFFER (1 << 20)

typedef struct FlowEntry {
        FlowRecord rec;
        char *key;       /* interface, direction, 5-tuple */
        uint64_t hash;
        char *tuple;     /* the 5-tuple alone, as conntrack names the flow */
        uint64_t tuple_hash;
        struct FlowEntry *tuple_next; /* the other records of the same 5-tuple (forwarded: both sides) */
        struct FlowEntry *prev, *next; /* by last change, oldest first */
        bool queued;     /* in the next batch */
} FlowEntry;

/* What a prefix's hash stands for, in the committed calculation. */
typedef struct Origin {
        uint64_t hash;
        const char *tier;   /* "" for profiles */
        char *policy;       /* "gnp NAME", "profile NAME"; NULL: a tier */
} Origin;

struct FlowLog {
        const hep_host *host;
        const InterfaceList *ifaces;
        const Calc *calc;
        bool origins_stale;
        Origin *origins; /* sorted by hash */
        size_t n_origins;
        struct nl_sock *log_sk, *ct_sk;
        hep_watch *log_watch, *ct_watch;
        StrMap by_key, by_tuple;
        FlowEntry *oldest, *newest;
        size_t n;
        FlowEntry **batch;
        size_t n_batch;
        hep_timer *batch_timer;
        bool batch_armed;
        uint64_t last_batch_usec;
        double denied_tokens;
        uint64_t denied_usec;
        FlowPendingFn pending;
        void *pending_data;
        FlowBatchFn on_batch;
        FlowDeniedFn on_denied;
        void *listener;
        uint64_t lost; /* messages the kernel could not queue (ENOBUFS) */
};

static uint64_t realtime_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000;
}

/* ---- origins: prefix hash → tier and policy ---- */

static void origins_clear(FlowLog *f) {
        for (size_t i = 0; i < f->n_origins; i++)
                free(f->origins[i].policy);
        free(f->origins);
        f->origins = NULL;
        f->n_origins = 0;
}

static int origin_add(FlowLog *f, size_t *alloc, uint64_t hash, const char *tier, const char *kind, const Resource *res,
                      const char *name) {
        Origin *v = grow_array(f->origins, alloc, f->n_origins + 1, sizeof(Origin));
        char *policy = NULL;

        if (!v)
                return -ENOMEM;
        f->origins = v;
        if (kind) {
                const char *ns = res && res->kind == KIND_NETWORK_POLICY ? res->meta.namespace : NULL;
                if (asprintf(&policy, "%s %s%s%s", kind, !isempty(ns) ? ns : "", !isempty(ns) ? "/" : "", name) < 0)
                        return -ENOMEM;
        }
        v[f->n_origins++] = (Origin) { hash, tier ? tier : "", policy };
        return 0;
}

static int origin_compare(const void *a, const void *b) {
        uint64_t x = ((const Origin *)a)->hash, y = ((const Origin *)b)->hash;

        return x < y ? -1 : x > y;
}

/* Every policy, profile and tier an endpoint chain of the calculation
 * names, by the hash its prefixes carry. Built when a message needs it
 * after a commit, not at each commit. */
static int origins_build(FlowLog *f) {
        const Calc *c = f->calc;
        size_t alloc = 0;
        int r = 0;

        origins_clear(f);
        f->origins_stale = false;
        for (size_t i = 0; c && r >= 0 && i < c->n_endpoints; i++) {
                const Endpoint *e = &c->endpoints[i];
                if (e->state != ENDPOINT_ENFORCED && e->state != ENDPOINT_WAITING)
                        continue;
                for (int fl = 0; r >= 0 && fl < _FLAVOUR_MAX; fl++)
                        for (int d = 0; r >= 0 && d < _DIRECTION_MAX; d++) {
                                const PolicyOrder *o = endpoint_order(e, (Flavour)fl, (Direction)d);
                                for (size_t t = 0; r >= 0 && t < o->n_tiers; t++) {
                                        const TierPolicies *tp = &o->tiers[t];
                                        r = origin_add(f, &alloc, strmap_hash(tp->tier_name), tp->tier_name, NULL, NULL, NULL);
                                        for (size_t j = 0; r >= 0 && j < tp->n_policies; j++) {
                                                const Resource *p = tp->policies[j];
                                                r = origin_add(f, &alloc,
                                                               flow_chain_hash(d == DIRECTION_INGRESS ? "pol-in" : "pol-out",
                                                                               p->meta.name),
                                                               tp->tier_name, p->kind == KIND_NETWORK_POLICY ? "np" : "gnp",
                                                               p, p->meta.name);
                                        }
                                }
                        }
                for (size_t j = 0; r >= 0 && j < e->n_profiles; j++)
                        for (int d = 0; r >= 0 && d < _DIRECTION_MAX; d++)
                                r = origin_add(f, &alloc,
                                               flow_chain_hash(d == DIRECTION_INGRESS ? "pro-in" : "pro-out", e->profiles[j].name),
                                               "", "profile", NULL, e->profiles[j].name);
        }
        if (r < 0) {
                origins_clear(f);
                return r;
        }
        qsort(f->origins, f->n_origins, sizeof(Origin), origin_compare);
        return 0;
}

static const Origin *origin_find(FlowLog *f, uint64_t hash) {
        Origin key = { .hash = hash };

        if (f->origins_stale && origins_build(f) < 0)
                return NULL;
        return f->n_origins ? bsearch(&key, f->origins, f->n_origins, sizeof(Origin), origin_compare) : NULL;
}

void flow_log_set_calc(FlowLog *f, const Calc *calc) {
        f->calc = calc;
        f->origins_stale = true;
}

/* ---- the table ---- */

static void entry_free(FlowEntry *e) {
        if (!e)
                return;
        free(e->rec.endpoint);
        free(e->rec.tier);
        free(e->rec.policy);
        free(e->rec.pending_policy);
        free(e->key);
        free(e->tuple);
        free(e);
}

static void lru_unlink(FlowLog *f, FlowEntry *e) {
        if (e->prev)
                e->prev->next = e->next;
        else
                f->oldest = e->next;
        if (e->next)
                e->next->prev = e->prev;
        else
                f->newest = e->prev;
        e->prev = e->next = NULL;
}

static void lru_append(FlowLog *f, FlowEntry *e) {
        e->prev = f->newest;
        e->next = NULL;
        if (f->newest)
                f->newest->next = e;
        else
                f->oldest = e;
        f->newest = e;
}

static void batch_remove(FlowLog *f, FlowEntry *e) {
        for (size_t i = 0; e->queued && i < f->n_batch; i++)
                if (f->batch[i] == e) {
                        f->batch[i] = f->batch[--f->n_batch];
                        e->queued = false;
                }
}

static void entry_remove(FlowLog *f, FlowEntry *e) {
        FlowEntry *head = strmap_get_hashed(&f->by_tuple, e->tuple, e->tuple_hash);

        strmap_remove_hashed(&f->by_key, e->key, e->hash);
        if (head == e) {
                strmap_remove_hashed(&f->by_tuple, e->tuple, e->tuple_hash);
                if (e->tuple_next)
                        (void)strmap_put_hashed(&f->by_tuple, e->tuple_next->tuple, e->tuple_hash, e->tuple_next);
        } else
                for (FlowEntry *p = head; p; p = p->tuple_next)
                        if (p->tuple_next == e) {
                                p->tuple_next = e->tuple_next;
                                break;
                        }
        batch_remove(f, e);
        lru_unlink(f, e);
        f->n--;
        entry_free(e);
}

static void on_batch_timer(void *userdata) {
        FlowLog *f = userdata;

        f->batch_armed = false;
        if (!f->n_batch)
                return;
        f->last_batch_usec = now_usec();
        if (f->on_batch)
                f->on_batch(f->listener, (const FlowRecord *const *)f->batch, f->n_batch);
        for (size_t i = 0; i < f->n_batch; i++)
                f->batch[i]->queued = false;
        f->n_batch = 0;
}

/* Into the next Flows batch, sent FLOW_BATCH_USEC after the last one. */
static void queue(FlowLog *f, FlowEntry *e) {
        uint64_t now = now_usec(), due;

        lru_unlink(f, e);
        lru_append(f, e);
        if (!e->queued) {
                f->batch[f->n_batch++] = e; /* room for every entry: allocated with the table */
                e->queued = true;
        }
        if (f->batch_armed)
                return;
        due = f->last_batch_usec + FLOW_BATCH_USEC;
        f->batch_armed = host_timer_rearm(f->host, f->batch_timer, due > now ? due - now : 0) >= 0;
}

static bool denied_token(FlowLog *f) {
        uint64_t now = now_usec();

        f->denied_tokens += (double)(now - f->denied_usec) * FLOW_DENIED_PER_SEC / 1e6;
        if (f->denied_tokens > FLOW_DENIED_PER_SEC)
                f->denied_tokens = FLOW_DENIED_PER_SEC;
        f->denied_usec = now;
        if (f->denied_tokens < 1.0)
                return false;
        f->denied_tokens -= 1.0;
        return true;
}

/* ---- one logged packet ---- */

typedef struct Tuple {
        IPAddr src, dst;
        uint8_t proto;
        uint16_t sport, dport;
} Tuple;

static bool has_ports(uint8_t proto) {
        return proto == IPPROTO_TCP || proto == IPPROTO_UDP || proto == IPPROTO_SCTP || proto == IPPROTO_UDPLITE ||
               proto == IPPROTO_DCCP;
}

/* The 5-tuple from the network header on (what NFLOG copies). */
static int parse_payload(const uint8_t *p, size_t len, Tuple *ret) {
        size_t l4;

        *ret = (Tuple) {};
        if (len < 1)
                return -EINVAL;
        if ((p[0] >> 4) == 4) {
                if (len < 20)
                        return -EINVAL;
                ret->src.family = ret->dst.family = AF_INET;
                memcpy(ret->src.bytes, p + 12, 4);
                memcpy(ret->dst.bytes, p + 16, 4);
                ret->proto = p[9];
                l4 = (size_t)(p[0] & 0xf) * 4;
                /* Not the first fragment: no ports. */
                if (((p[6] & 0x1f) | p[7]) != 0)
                        return 0;
        } else if ((p[0] >> 4) == 6) {
                if (len < 40)
                        return -EINVAL;
                ret->src.family = ret->dst.family = AF_INET6;
                memcpy(ret->src.bytes, p + 8, 16);
                memcpy(ret->dst.bytes, p + 24, 16);
                ret->proto = p[6];
                l4 = 40;
        } else
                return -EINVAL;
        if (has_ports(ret->proto) && len >= l4 + 4) {
                ret->sport = (uint16_t)(p[l4] << 8 | p[l4 + 1]);
                ret->dport = (uint16_t)(p[l4 + 2] << 8 | p[l4 + 3]);
        }
        return 0;
}

static void tuple_key(const Tuple *t, StrBuf *b) {
        char s[IPADDR_STRLEN], d[IPADDR_STRLEN];

        ipaddr_format(&t->src, s);
        ipaddr_format(&t->dst, d);
        strbuf_printf(b, "%u %s %u %s %u", t->proto, s, t->sport, d, t->dport);
}

static const char *ifname_of(const FlowLog *f, int ifindex) {
        for (size_t i = 0; f->ifaces && i < f->ifaces->n; i++)
                if (f->ifaces->v[i].ifindex == ifindex)
                        return f->ifaces->v[i].name;
        return NULL;
}

/* Who decided, from the prefix: the record's tier, policy and rule. */
static int describe_origin(FlowLog *f, const FlowOrigin *o, FlowRecord *rec) {
        const Origin *found;
        const char *tier = "", *policy;
        _cleanup_free_ char *unknown = NULL;

        switch (o->kind) {
        case FLOW_ORIGIN_RULE:
        case FLOW_ORIGIN_MISSING_PROFILE:
        case FLOW_ORIGIN_TIER_END:
                found = origin_find(f, o->hash);
                if (found && (o->kind == FLOW_ORIGIN_TIER_END) == !found->policy) {
                        tier = found->tier;
                        policy = found->policy ? found->policy : "default deny";
                } else {
                        /* A commit since the packet was logged. */
                        if (asprintf(&unknown, "unknown %016" PRIx64, o->hash) < 0)
                                return -ENOMEM;
                        policy = unknown;
                }
                break;
        case FLOW_ORIGIN_DEFAULT_DENY:
                policy = "default deny";
                break;
        case FLOW_ORIGIN_INVALID:
                policy = "conntrack invalid";
                break;
        case FLOW_ORIGIN_FAILSAFE:
                policy = "failsafe";
                break;
        case _FLOW_ORIGIN_MAX:
        case _FLOW_ORIGIN_INVALID:
        default:
                return -EINVAL;
        }
        rec->tier = strdup(tier);
        rec->policy = strdup(policy);
        rec->rule = o->rule;
        return rec->tier && rec->policy ? 0 : -ENOMEM;
}

/* "10.0.0.1:80", "[fd00::1]:80", or the address alone without a port. */
static void endpoint_text(const IPAddr *a, uint16_t port, char buf[static IPADDR_STRLEN + 10]) {
        char s[IPADDR_STRLEN];

        ipaddr_format(a, s);
        if (!port)
                snprintf(buf, IPADDR_STRLEN + 10, "%s", s);
        else if (a->family == AF_INET6)
                snprintf(buf, IPADDR_STRLEN + 10, "[%s]:%u", s, port);
        else
                snprintf(buf, IPADDR_STRLEN + 10, "%s:%u", s, port);
}

/* The journal's line for a denied flow: once per record. */
static void log_denied(FlowLog *f, const FlowRecord *r) {
        char s[IPADDR_STRLEN + 10], d[IPADDR_STRLEN + 10], proto[8];

        endpoint_text(&r->src, r->sport, s);
        endpoint_text(&r->dst, r->dport, d);
        protocol_format(r->proto, proto);
        host_log(f->host, LOG_NOTICE, "Flow denied: %s %s%s%s%s %s %s -> %s by %s%s%s%s, rule %d", r->direction,
                 r->ifname, *r->endpoint ? " (HostEndpoint '" : "", r->endpoint, *r->endpoint ? "')" : "", proto, s, d,
                 r->policy, *r->tier ? " (tier " : "", r->tier, *r->tier ? ")" : "", r->rule);
}

static int entry_new(FlowLog *f, const char *key, uint64_t hash, const char *tuple, const FlowOrigin *o,
                     const char *ifname, const char *direction, const Tuple *t, FlowEntry **ret) {
        _cleanup_free_ FlowEntry *e = calloc(1, sizeof(FlowEntry));
        const Endpoint *ep;
        FlowPending pending = { "", NULL, -1 };
        int r;

        if (!e)
                return -ENOMEM;
        /* Full: the least recently changed goes. */
        if (f->n >= FLOW_LOG_MAX)
                entry_remove(f, f->oldest);
        e->rec.time_usec = e->rec.last_seen_usec = realtime_usec();
        snprintf(e->rec.ifname, sizeof(e->rec.ifname), "%s", ifname);
        ep = f->calc ? calc_endpoint_for_interface(f->calc, ifname) : NULL;
        e->rec.endpoint = strdup(ep ? ep->name : "");
        e->rec.direction = direction;
        e->rec.proto = t->proto;
        e->rec.src = t->src;
        e->rec.dst = t->dst;
        e->rec.sport = t->sport;
        e->rec.dport = t->dport;
        e->rec.allow = o->allow;
        e->key = strdup(key);
        e->hash = hash;
        e->tuple = strdup(tuple);
        e->tuple_hash = strmap_hash(tuple);
        r = e->rec.endpoint && e->key && e->tuple ? describe_origin(f, o, &e->rec) : -ENOMEM;
        if (r >= 0 && f->pending)
                f->pending(f->pending_data, &e->rec, &pending);
        e->rec.pending_action = pending.action ? pending.action : "";
        e->rec.pending_rule = pending.rule;
        e->rec.pending_policy = pending.policy ? pending.policy : strdup("");
        if (r >= 0 && !e->rec.pending_policy)
                r = -ENOMEM;
        if (r >= 0)
                r = strmap_put_hashed(&f->by_key, e->key, e->hash, e);
        if (r < 0) {
                entry_free(steal_ptr(e));
                return r;
        }
        e->tuple_next = strmap_get_hashed(&f->by_tuple, e->tuple, e->tuple_hash);
        r = strmap_put_hashed(&f->by_tuple, e->tuple, e->tuple_hash, e);
        if (r < 0) {
                strmap_remove_hashed(&f->by_key, e->key, e->hash);
                entry_free(steal_ptr(e));
                return r;
        }
        lru_append(f, e);
        f->n++;
        *ret = steal_ptr(e);
        return 0;
}

int flow_log_packet(FlowLog *f, const char *prefix, uint8_t hook, int indev, int outdev, const void *payload,
                    size_t len) {
        StrBuf tuple = STRBUF_INIT, key = STRBUF_INIT;
        const char *ifname, *direction;
        FlowEntry *e;
        FlowOrigin o;
        Tuple t;
        uint64_t hash;
        int r;

        if (flow_origin_parse(prefix, &o) < 0 || parse_payload(payload, len, &t) < 0)
                return -EINVAL;
        /* The side of the chain that decided: its interface. */
        ifname = ifname_of(f, o.egress ? outdev : indev);
        if (!ifname)
                return -ENODEV;
        direction = hook == NF_INET_FORWARD ? "forward" : o.egress ? "out" : "in";
        tuple_key(&t, &tuple);
        strbuf_printf(&key, "%s %s %s", ifname, direction, strbuf_str(&tuple));
        if (!strbuf_ok(&tuple) || !strbuf_ok(&key)) {
                strbuf_done(&tuple);
                strbuf_done(&key);
                return -ENOMEM;
        }
        hash = strmap_hash(strbuf_str(&key));
        e = strmap_get_hashed(&f->by_key, strbuf_str(&key), hash);
        r = 0;
        if (!e) {
                r = entry_new(f, strbuf_str(&key), hash, strbuf_str(&tuple), &o, ifname, direction, &t, &e);
                if (r >= 0 && !o.allow) {
                        log_denied(f, &e->rec);
                        if (f->on_denied && denied_token(f))
                                f->on_denied(f->listener, &e->rec);
                }
        } else if (e->rec.allow != o.allow || e->rec.ended) {
                /* The same 5-tuple again, decided anew (a new flow, or the
                 * policy changed): the record says what happened last. */
                free(e->rec.tier);
                free(e->rec.policy);
                e->rec.tier = e->rec.policy = NULL;
                e->rec.allow = o.allow;
                e->rec.ended = false;
                e->rec.time_usec = realtime_usec();
                e->rec.packets = e->rec.bytes = 0;
                r = describe_origin(f, &o, &e->rec);
        }
        strbuf_done(&tuple);
        strbuf_done(&key);
        if (r < 0)
                return r;
        e->rec.last_seen_usec = realtime_usec();
        /* Until conntrack says how many: the packets logged (denied ones
         * at most FLOW_LOG_DENY_LIMIT). */
        e->rec.packets++;
        e->rec.bytes += len;
        queue(f, e);
        return 0;
}

/* ---- conntrack: the end of a flow we admitted, with its counts ---- */

static int ct_tuple(struct nfnl_ct *ct, Tuple *t) {
        struct nl_addr *s = nfnl_ct_get_src(ct, 0), *d = nfnl_ct_get_dst(ct, 0);
        int family = nfnl_ct_get_family(ct);
        size_t n = family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;

        *t = (Tuple) {};
        if (!s || !d || !n || nl_addr_get_len(s) != n || nl_addr_get_len(d) != n)
                return -EINVAL;
        t->src.family = t->dst.family = family;
        memcpy(t->src.bytes, nl_addr_get_binary_addr(s), n);
        memcpy(t->dst.bytes, nl_addr_get_binary_addr(d), n);
        t->proto = nfnl_ct_get_proto(ct);
        if (has_ports(t->proto)) {
                t->sport = nfnl_ct_get_src_port(ct, 0);
                t->dport = nfnl_ct_get_dst_port(ct, 0);
        }
        return 0;
}

static void ct_ended(FlowLog *f, struct nfnl_ct *ct) {
        StrBuf key = STRBUF_INIT;
        FlowEntry *e, *next;
        Tuple t;

        /* Only flows an endpoint's policy (or a failsafe) admitted carry a
         * generation in their mark (compile.c, compile_ct_generation). */
        if (!(nfnl_ct_get_mark(ct) & CT_GEN_MASK) || ct_tuple(ct, &t) < 0)
                return;
        tuple_key(&t, &key);
        if (!strbuf_ok(&key)) {
                strbuf_done(&key);
                return;
        }
        e = strmap_get(&f->by_tuple, strbuf_str(&key));
        strbuf_done(&key);
        for (; e; e = next) {
                next = e->tuple_next;
                if (!e->rec.allow || e->rec.ended)
                        continue;
                e->rec.packets = nfnl_ct_get_packets(ct, 0) + nfnl_ct_get_packets(ct, 1);
                e->rec.bytes = nfnl_ct_get_bytes(ct, 0) + nfnl_ct_get_bytes(ct, 1);
                e->rec.ended = true;
                e->rec.last_seen_usec = realtime_usec();
                queue(f, e);
        }
}

/* ---- the sockets ---- */

static int on_log_msg(struct nl_msg *msg, void *arg) {
        FlowLog *f = arg;
        struct nfnl_log_msg *m = NULL;
        const void *payload;
        int len = 0;

        if (nfnlmsg_log_msg_parse(nlmsg_hdr(msg), &m) < 0)
                return NL_SKIP;
        payload = nfnl_log_msg_get_payload(m, &len);
        if (payload && len > 0)
                (void)flow_log_packet(f, nfnl_log_msg_get_prefix(m), nfnl_log_msg_get_hook(m),
                                      (int)nfnl_log_msg_get_indev(m), (int)nfnl_log_msg_get_outdev(m), payload,
                                      (size_t)len);
        nfnl_log_msg_put(m);
        return NL_OK;
}

static int on_ct_msg(struct nl_msg *msg, void *arg) {
        FlowLog *f = arg;
        struct nfnl_ct *ct = NULL;

        if (nfnlmsg_ct_parse(nlmsg_hdr(msg), &ct) < 0)
                return NL_SKIP;
        ct_ended(f, ct);
        nfnl_ct_put(ct);
        return NL_OK;
}

/* Reads what is queued; the kernel's drops (ENOBUFS, a burst larger than
 * the socket buffer) are counted, and reading goes on. */
static void drain(FlowLog *f, struct nl_sock *sk) {
        for (int i = 0; i < 64; i++) {
                int r = nl_recvmsgs_default(sk);
                if (r == -NLE_AGAIN)
                        return;
                if (r == -NLE_NOMEM || r == -NLE_MSG_OVERFLOW) {
                        f->lost++;
                        continue;
                }
                if (r < 0)
                        return;
        }
}

static void on_log_ready(void *userdata, int fd, uint32_t events) {
        FlowLog *f = userdata;

        drain(f, f->log_sk);
}

static void on_ct_ready(void *userdata, int fd, uint32_t events) {
        FlowLog *f = userdata;

        drain(f, f->ct_sk);
}

static int socket_open(FlowLog *f, int (*cb)(struct nl_msg *, void *), struct nl_sock **ret) {
        struct nl_sock *sk = nl_socket_alloc();
        int r;

        if (!sk)
                return -ENOMEM;
        nl_socket_disable_seq_check(sk);
        r = nl_connect(sk, NETLINK_NETFILTER);
        if (r >= 0)
                r = nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, cb, f);
        if (r >= 0)
                r = nl_socket_set_buffer_size(sk, SOCKET_BUFFER, 0);
        if (r < 0) {
                nl_socket_free(sk);
                return nlerr_to_errno(r);
        }
        (void)fcntl(nl_socket_get_fd(sk), F_SETFD, FD_CLOEXEC);
        *ret = sk;
        return 0;
}

/* The NFLOG group: packets copied up to COPY_RANGE bytes. */
static int log_bind(FlowLog *f) {
        struct nfnl_log *l = nfnl_log_alloc();
        int r;

        if (!l)
                return -ENOMEM;
        /* Kernels before 3.17 wanted a family bound first; later ones
         * ignore it. */
        (void)nfnl_log_pf_bind(f->log_sk, AF_INET);
        (void)nfnl_log_pf_bind(f->log_sk, AF_INET6);
        nfnl_log_set_group(l, FLOW_LOG_GROUP);
        nfnl_log_set_copy_mode(l, NFNL_LOG_COPY_PACKET);
        nfnl_log_set_copy_range(l, COPY_RANGE);
        /* Messages go up at once, one per packet: only first packets and
         * rate-limited denies are logged. */
        nfnl_log_set_queue_threshold(l, 1);
        r = nfnl_log_create(f->log_sk, l);
        nfnl_log_put(l);
        return r < 0 ? nlerr_to_errno(r) : 0;
}

/* Conntrack counts a flow's packets and bytes only when accounting is on
 * in its namespace when the flow starts (a per-namespace sysctl, which
 * CAP_NET_ADMIN may write). */
static void enable_acct(FlowLog *f) {
        int fd = open("/proc/sys/net/netfilter/nf_conntrack_acct", O_RDWR | O_CLOEXEC);
        char c = 0;

        if (fd < 0 || pread(fd, &c, 1, 0) != 1 || (c != '1' && pwrite(fd, "1", 1, 0) != 1))
                host_log_errno(f->host, LOG_WARNING, errno,
                               "Cannot turn on conntrack accounting (net.netfilter.nf_conntrack_acct): %m; "
                               "flows will show only the packets logged");
        if (fd >= 0)
                close(fd);
}

int flow_log_new(const hep_host *host, const InterfaceList *ifaces, FlowLog **ret) {
        _cleanup_(flow_log_freep) FlowLog *f = calloc(1, sizeof(FlowLog));
        int r;

        if (!f)
                return -ENOMEM;
        f->host = host;
        f->ifaces = ifaces;
        f->denied_tokens = FLOW_DENIED_PER_SEC;
        f->denied_usec = now_usec();
        f->batch = new_array(FLOW_LOG_MAX, sizeof(FlowEntry *));
        if (!f->batch)
                return -ENOMEM;
        r = host_timer_add(host, UINT64_MAX, on_batch_timer, f, &f->batch_timer);
        if (r < 0)
                return r;
        r = socket_open(f, on_log_msg, &f->log_sk);
        if (r >= 0)
                r = nl_socket_set_nonblocking(f->log_sk) < 0 ? -EIO : 0;
        if (r >= 0)
                r = log_bind(f);
        if (r < 0)
                return host_log_errno(host, LOG_ERR, r, "Cannot read flow logs (NFLOG group %d): %m", FLOW_LOG_GROUP);
        r = socket_open(f, on_ct_msg, &f->ct_sk);
        if (r >= 0)
                r = nl_socket_add_membership(f->ct_sk, NFNLGRP_CONNTRACK_DESTROY) < 0 ? -EIO : 0;
        if (r >= 0)
                r = nl_socket_set_nonblocking(f->ct_sk) < 0 ? -EIO : 0;
        if (r < 0)
                return host_log_errno(host, LOG_ERR, r, "Cannot follow conntrack's events: %m");
        r = host_watch_add(host, nl_socket_get_fd(f->log_sk), HEP_WATCH_IN, on_log_ready, f, &f->log_watch);
        if (r >= 0)
                r = host_watch_add(host, nl_socket_get_fd(f->ct_sk), HEP_WATCH_IN, on_ct_ready, f, &f->ct_watch);
        if (r < 0)
                return r;
        enable_acct(f);
        *ret = steal_ptr(f);
        return 0;
}

FlowLog *flow_log_free(FlowLog *f) {
        if (!f)
                return NULL;
        host_watch_remove(f->host, f->log_watch);
        host_watch_remove(f->host, f->ct_watch);
        host_timer_remove(f->host, f->batch_timer);
        for (size_t i = 0; i < f->n_batch; i++)
                f->batch[i]->queued = false;
        f->n_batch = 0;
        while (f->oldest)
                entry_remove(f, f->oldest);
        strmap_done(&f->by_key);
        strmap_done(&f->by_tuple);
        if (f->log_sk)
                nl_socket_free(f->log_sk);
        if (f->ct_sk)
                nl_socket_free(f->ct_sk);
        origins_clear(f);
        free(f->batch);
        free(f);
        return NULL;
}

void flow_log_set_pending(FlowLog *f, FlowPendingFn fn, void *userdata) {
        f->pending = fn;
        f->pending_data = userdata;
}

void flow_log_listen(FlowLog *f, FlowBatchFn batch, FlowDeniedFn denied, void *userdata) {
        f->on_batch = batch;
        f->on_denied = denied;
        f->listener = userdata;
}

const FlowRecord *flow_log_next(const FlowLog *f, const FlowRecord *prev) {
        const FlowEntry *e = prev ? ((const FlowEntry *)prev)->next : f->oldest;

        return e ? &e->rec : NULL;
}

size_t flow_log_records(const FlowLog *f, const FlowRecord **ret, size_t max) {
        size_t n = 0;

        for (const FlowEntry *e = f->oldest; e && n < max; e = e->next)
                ret[n++] = &e->rec;
        return n;
}
