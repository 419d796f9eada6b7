/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Interface tracking over libnl's cache manager; see tracker.h. The caches
 * are the truth; after each batch of events the interface list is rebuilt
 * from them (links and addresses of one host: a few thousand objects at
 * most, microseconds). */
#include "tracker.h"

#include <netlink/cache.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* Large enough that a burst of hundreds of links does not overflow. */
#define RCVBUF_BYTES (8 * 1024 * 1024)

typedef struct FedLink {
        int ifindex;
        char *name;
        bool oper_up;
        IPAddr *addrs;
        size_t n_addrs;
} FedLink;

struct LinkTracker {
        const hep_host *host;
        LinkTrackerChanged cb;
        void *userdata;
        struct nl_sock *sock;
        struct nl_cache_mngr *mngr;
        struct nl_cache *links, *addrs;
        hep_watch *watch;
        hep_timer *resync_timer;
        InterfaceList current;
        bool dirty;
        /* host-fed mode */
        FedLink *fed;
        size_t n_fed;
};

static void cache_changed(struct nl_cache *cache, struct nl_object *obj, int action, void *data) {
        LinkTracker *t = data;

        /* A link's per-family copy (see drop_family_links) changes
         * nothing we use. */
        if (cache == t->links && rtnl_link_get_family((struct rtnl_link *)obj) != AF_UNSPEC)
                return;
        t->dirty = true;
}

/* The kernel also reports a link per address family (an AF_INET6 copy
 * when it comes up), which libnl caches as another object and does not
 * remove with the link: only the AF_UNSPEC one is the interface; drop the
 * others. */
static void drop_family_links(struct nl_cache *links) {
        struct nl_object *o, *next;

        for (o = nl_cache_get_first(links); o; o = next) {
                next = nl_cache_get_next(o);
                if (rtnl_link_get_family((struct rtnl_link *)o) != AF_UNSPEC)
                        nl_cache_remove(o);
        }
}

static int rebuild_from_caches(LinkTracker *t) {
        InterfaceList l;
        int r;

        drop_family_links(t->links);
        r = interface_list_from_caches(t->links, t->addrs, &l);
        if (r < 0)
                return r;
        interface_list_done(&t->current);
        t->current = l;
        return 0;
}

static int rebuild_from_fed(LinkTracker *t) {
        InterfaceList l = {};

        l.v = new_array(t->n_fed, sizeof(HostInterface));
        if (!l.v)
                return -ENOMEM;
        for (size_t i = 0; i < t->n_fed; i++) {
                const FedLink *f = &t->fed[i];
                HostInterface *h = &l.v[l.n++];
                *h = (HostInterface) { .name = strdup(f->name), .ifindex = f->ifindex, .oper_up = f->oper_up };
                h->addrs = f->n_addrs ? new_array(f->n_addrs, sizeof(IPAddr)) : NULL;
                if (!h->name || (f->n_addrs && !h->addrs)) {
                        interface_list_done(&l);
                        return -ENOMEM;
                }
                if (f->n_addrs)
                        memcpy(h->addrs, f->addrs, f->n_addrs * sizeof(IPAddr));
                h->n_addrs = f->n_addrs;
        }
        interface_list_done(&t->current);
        t->current = l;
        return 0;
}

static void notify(LinkTracker *t) {
        int r = t->sock ? rebuild_from_caches(t) : rebuild_from_fed(t);

        if (r < 0) {
                host_log_errno(t->host, LOG_ERR, r, "Cannot rebuild the interface list: %m");
                return;
        }
        t->dirty = false;
        t->cb(t->userdata);
}

int link_tracker_resync(LinkTracker *t) {
        int r;

        if (!t->sock) {
                notify(t);
                return 0;
        }
        r = nl_cache_refill(t->sock, t->links);
        if (r >= 0)
                r = nl_cache_refill(t->sock, t->addrs);
        if (r < 0)
                return nlerr_to_errno(r);
        notify(t);
        return 0;
}

static void on_data_ready(void *userdata, int fd, uint32_t events) {
        LinkTracker *t = userdata;
        int r = nl_cache_mngr_data_ready(t->mngr);

        if (r < 0) {
                /* Lost events (the socket overflowed: libnl reports ENOBUFS
                 * as out-of-memory) or a broken message: read it all again. */
                host_log(t->host, LOG_WARNING, "Interface events were lost (%s), re-reading all interfaces", nl_geterror(r));
                r = link_tracker_resync(t);
                if (r < 0)
                        host_log_errno(t->host, LOG_ERR, r, "Cannot re-read interfaces: %m");
                return;
        }
        if (t->dirty)
                notify(t);
}

static void on_resync_timer(void *userdata) {
        LinkTracker *t = userdata;
        int r = link_tracker_resync(t);

        if (r < 0)
                host_log_errno(t->host, LOG_ERR, r, "Periodic interface re-read failed: %m");
        host_timer_rearm(t->host, t->resync_timer, LINK_TRACKER_RESYNC_USEC);
}

static int open_netlink(LinkTracker *t) {
        int r;

        t->sock = nl_socket_alloc();
        if (!t->sock)
                return -ENOMEM;
        r = nl_cache_mngr_alloc(t->sock, NETLINK_ROUTE, NL_AUTO_PROVIDE, &t->mngr);
        if (r >= 0)
                r = nl_socket_set_buffer_size(t->sock, RCVBUF_BYTES, 0);
        if (r >= 0)
                r = nl_cache_mngr_add(t->mngr, "route/link", cache_changed, t, &t->links);
        if (r >= 0)
                r = nl_cache_mngr_add(t->mngr, "route/addr", cache_changed, t, &t->addrs);
        if (r < 0)
                return nlerr_to_errno(r);
        r = host_watch_add(t->host, nl_cache_mngr_get_fd(t->mngr), HEP_WATCH_IN, on_data_ready, t, &t->watch);
        if (r >= 0)
                r = host_timer_add(t->host, LINK_TRACKER_RESYNC_USEC, on_resync_timer, t, &t->resync_timer);
        if (r < 0)
                return r;
        return rebuild_from_caches(t);
}

int link_tracker_new(const hep_host *host, bool own_socket, LinkTrackerChanged cb, void *userdata,
                     LinkTracker **ret) {
        _cleanup_(link_tracker_freep) LinkTracker *t = calloc(1, sizeof(LinkTracker));
        int r;

        if (!t)
                return -ENOMEM;
        t->host = host;
        t->cb = cb;
        t->userdata = userdata;
        if (own_socket) {
                r = open_netlink(t);
                if (r < 0)
                        return r;
        }
        *ret = steal_ptr(t);
        return 0;
}

LinkTracker *link_tracker_free(LinkTracker *t) {
        if (!t)
                return NULL;
        host_watch_remove(t->host, t->watch);
        host_timer_remove(t->host, t->resync_timer);
        /* The manager frees the caches it made, not the socket it was given. */
        if (t->mngr)
                nl_cache_mngr_free(t->mngr);
        nl_socket_free(t->sock);
        interface_list_done(&t->current);
        for (size_t i = 0; i < t->n_fed; i++) {
                free(t->fed[i].name);
                free(t->fed[i].addrs);
        }
        free(t->fed);
        free(t);
        return NULL;
}

const InterfaceList *link_tracker_interfaces(LinkTracker *t) {
        return &t->current;
}

/* ---- host-fed events ---- */

static FedLink *fed_find(LinkTracker *t, int ifindex) {
        for (size_t i = 0; i < t->n_fed; i++)
                if (t->fed[i].ifindex == ifindex)
                        return &t->fed[i];
        return NULL;
}

int link_tracker_set_link(LinkTracker *t, int ifindex, const char *name, bool oper_up, bool removed) {
        FedLink *f = fed_find(t, ifindex);

        if (removed) {
                if (f) {
                        free(f->name);
                        free(f->addrs);
                        *f = t->fed[--t->n_fed];
                }
        } else {
                if (!f) {
                        FedLink *v = realloc(t->fed, (t->n_fed + 1) * sizeof(FedLink));
                        if (!v)
                                return -ENOMEM;
                        t->fed = v;
                        f = &t->fed[t->n_fed++];
                        *f = (FedLink) { .ifindex = ifindex };
                }
                if (!streq_ptr(f->name, name)) {
                        char *n = strdup(name);
                        if (!n)
                                return -ENOMEM;
                        free(f->name);
                        f->name = n;
                }
                f->oper_up = oper_up;
        }
        notify(t);
        return 0;
}

int link_tracker_set_address(LinkTracker *t, int ifindex, int family, const uint8_t *addr, bool removed) {
        FedLink *f = fed_find(t, ifindex);
        IPAddr ip = { .family = family };

        if (!f || (family != AF_INET && family != AF_INET6))
                return -ENOENT;
        memcpy(ip.bytes, addr, family == AF_INET ? 4 : 16);
        for (size_t i = 0; i < f->n_addrs; i++)
                if (ipaddr_compare(&f->addrs[i], &ip) == 0) {
                        if (removed) {
                                f->addrs[i] = f->addrs[--f->n_addrs];
                                notify(t);
                        }
                        return 0;
                }
        if (!removed) {
                IPAddr *v = realloc(f->addrs, (f->n_addrs + 1) * sizeof(IPAddr));
                if (!v)
                        return -ENOMEM;
                f->addrs = v;
                v[f->n_addrs++] = ip;
                notify(t);
        }
        return 0;
}
