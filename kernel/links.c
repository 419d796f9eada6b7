/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Interface enumeration with libnl-3; see links.h. */
#include "links.h"

#include <net/if.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <stdlib.h>
#include <string.h>

int nlerr_to_errno(int nlerr) {
        switch (nlerr < 0 ? -nlerr : nlerr) {
        case 0:
                return 0;
        case NLE_NOMEM:
                return -ENOMEM;
        case NLE_PERM:
                return -EPERM;
        case NLE_NOACCESS:
                return -EACCES;
        case NLE_MSG_OVERFLOW:
                return -ENOBUFS;
        case NLE_DUMP_INTR:
                return -EINTR;
        case NLE_EXIST:
                return -EEXIST;
        case NLE_NODEV:
                return -ENODEV;
        case NLE_OPNOTSUPP:
                return -EOPNOTSUPP;
        case NLE_BUSY:
                return -EBUSY;
        case NLE_AGAIN:
                return -EAGAIN;
        case NLE_INTR:
                return -EINTR;
        case NLE_OBJ_NOTFOUND:
                return -ENOENT;
        case NLE_INVAL:
                return -EINVAL;
        default:
                return -EIO;
        }
}

void interface_list_done(InterfaceList *l) {
        for (size_t i = 0; i < l->n; i++) {
                free(l->v[i].name);
                free(l->v[i].addrs);
        }
        free(l->v);
        *l = (InterfaceList) {};
}

static int add_address(HostInterface *i, struct rtnl_addr *a) {
        struct nl_addr *local = rtnl_addr_get_local(a);
        IPAddr ip = {};
        IPAddr *v;

        if (!local)
                return 0;
        ip.family = nl_addr_get_family(local);
        if ((ip.family != AF_INET && ip.family != AF_INET6) ||
            nl_addr_get_len(local) != (ip.family == AF_INET ? 4u : 16u))
                return 0;
        memcpy(ip.bytes, nl_addr_get_binary_addr(local), nl_addr_get_len(local));
        v = realloc(i->addrs, (i->n_addrs + 1) * sizeof(IPAddr));
        if (!v)
                return -ENOMEM;
        i->addrs = v;
        i->addrs[i->n_addrs++] = ip;
        return 0;
}

int interface_list_from_caches(struct nl_cache *links, struct nl_cache *addrs, InterfaceList *ret) {
        _cleanup_(interface_list_done) InterfaceList l = {};
        struct nl_object *o;
        int r;

        l.v = new_array((size_t)nl_cache_nitems(links), sizeof(HostInterface));
        if (!l.v)
                return -ENOMEM;
        for (o = nl_cache_get_first(links); o; o = nl_cache_get_next(o)) {
                struct rtnl_link *link = (struct rtnl_link *)o;
                const char *name = rtnl_link_get_name(link);
                HostInterface *i = &l.v[l.n];

                /* A per-family copy of a link (see tracker.c) is not an interface. */
                if (rtnl_link_get_family(link) != AF_UNSPEC)
                        continue;
                *i = (HostInterface) {
                        .name = strdup(name ? name : ""),
                        .ifindex = rtnl_link_get_ifindex(link),
                        /* Felix: up means IFF_RUNNING (oper state), not admin up. */
                        .oper_up = (rtnl_link_get_flags(link) & IFF_RUNNING) != 0,
                };
                if (!i->name)
                        return -ENOMEM;
                l.n++;
        }
        for (o = nl_cache_get_first(addrs); o; o = nl_cache_get_next(o)) {
                struct rtnl_addr *a = (struct rtnl_addr *)o;
                for (size_t j = 0; j < l.n; j++)
                        if (l.v[j].ifindex == rtnl_addr_get_ifindex(a)) {
                                r = add_address(&l.v[j], a);
                                if (r < 0)
                                        return r;
                                break;
                        }
        }
        *ret = l;
        l = (InterfaceList) {};
        return 0;
}

int links_enumerate(InterfaceList *ret) {
        struct nl_sock *sk = nl_socket_alloc();
        struct nl_cache *links = NULL, *addrs = NULL;
        int r;

        if (!sk)
                return -ENOMEM;
        r = nl_connect(sk, NETLINK_ROUTE);
        if (r >= 0)
                r = rtnl_link_alloc_cache(sk, AF_UNSPEC, &links);
        if (r >= 0)
                r = rtnl_addr_alloc_cache(sk, &addrs);
        if (r < 0)
                r = nlerr_to_errno(r);
        else
                r = interface_list_from_caches(links, addrs, ret);
        nl_cache_free(addrs);
        nl_cache_free(links);
        nl_socket_free(sk);
        return r;
}
