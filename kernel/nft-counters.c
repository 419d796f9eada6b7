/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Counter objects through one NFT_MSG_GETOBJ dump filtered to our table
 * and to counters, on libnl's netlink socket. libnftables would list every
 * rule of the table to answer "list counters": hundreds of milliseconds on
 * a big ruleset, for what the kernel can say in one message per counter. */
#include "nft-counters.h"

#include <endian.h>
#include <errno.h>
#include <netinet/in.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <stdlib.h>
#include <string.h>
/* After <netinet/in.h>, so that the kernel headers defer to libc's. */
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "ruleset.h"

typedef struct DumpState {
        NftCounters *out;
        int error;
} DumpState;

static int counters_add(NftCounters *c, const char *name, uint64_t packets, uint64_t bytes) {
        NftCounter *v = grow_array(c->v, &c->alloc, c->n + 1, sizeof(NftCounter));

        if (!v)
                return -ENOMEM;
        c->v = v;
        v[c->n] = (NftCounter) { .name = strdup(name), .packets = packets, .bytes = bytes };
        if (!v[c->n].name)
                return -ENOMEM;
        c->n++;
        return 0;
}

static int on_object(struct nl_msg *msg, void *arg) {
        DumpState *st = arg;
        struct nlattr *tb[NFTA_OBJ_MAX + 1], *ctb[NFTA_COUNTER_MAX + 1];
        uint64_t packets = 0, bytes = 0;
        int r;

        r = nlmsg_parse(nlmsg_hdr(msg), sizeof(struct nfgenmsg), tb, NFTA_OBJ_MAX, NULL);
        if (r < 0 || !tb[NFTA_OBJ_NAME] || !tb[NFTA_OBJ_DATA])
                return NL_SKIP;
        if (nla_parse_nested(ctb, NFTA_COUNTER_MAX, tb[NFTA_OBJ_DATA], NULL) < 0)
                return NL_SKIP;
        /* The kernel sends both in network byte order. */
        if (ctb[NFTA_COUNTER_PACKETS])
                packets = be64toh(nla_get_u64(ctb[NFTA_COUNTER_PACKETS]));
        if (ctb[NFTA_COUNTER_BYTES])
                bytes = be64toh(nla_get_u64(ctb[NFTA_COUNTER_BYTES]));
        r = counters_add(st->out, nla_get_string(tb[NFTA_OBJ_NAME]), packets, bytes);
        if (r < 0) {
                st->error = r;
                return NL_STOP;
        }
        return NL_OK;
}

static int dump(struct nl_sock *sk, DumpState *st) {
        struct nfgenmsg g = { .nfgen_family = NFPROTO_INET, .version = NFNETLINK_V0 };
        struct nl_msg *m = nlmsg_alloc_simple((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETOBJ, NLM_F_REQUEST | NLM_F_DUMP);
        int r;

        if (!m)
                return -ENOMEM;
        if (nlmsg_append(m, &g, sizeof(g), NLMSG_ALIGNTO) < 0 || nla_put_string(m, NFTA_OBJ_TABLE, HEP_TABLE_NAME) < 0 ||
            nla_put_u32(m, NFTA_OBJ_TYPE, htonl(NFT_OBJECT_COUNTER)) < 0) {
                nlmsg_free(m);
                return -ENOMEM;
        }
        r = nl_send_auto(sk, m);
        nlmsg_free(m);
        if (r < 0)
                return -EIO;
        r = nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, on_object, st);
        if (r < 0)
                return -ENOMEM;
        r = nl_recvmsgs_default(sk);
        if (st->error < 0)
                return st->error;
        /* No table yet: nothing to count. */
        if (r == -NLE_OBJ_NOTFOUND)
                return 0;
        return r < 0 ? -EIO : 0;
}

int nft_counters_read(NftCounters *ret) {
        struct nl_sock *sk = nl_socket_alloc();
        DumpState st = { .out = ret };
        int r;

        *ret = (NftCounters) NFT_COUNTERS_INIT;
        if (!sk)
                return -ENOMEM;
        r = nl_connect(sk, NETLINK_NETFILTER);
        if (r >= 0)
                r = dump(sk, &st);
        else
                r = -EIO;
        nl_socket_free(sk);
        for (size_t i = 0; r >= 0 && i < ret->n; i++)
                r = strmap_put(&ret->by_name, ret->v[i].name, &ret->v[i]);
        if (r < 0)
                nft_counters_done(ret);
        return r;
}

const NftCounter *nft_counters_get(const NftCounters *c, const char *name) {
        return strmap_get(&c->by_name, name);
}

void nft_counters_done(NftCounters *c) {
        for (size_t i = 0; i < c->n; i++)
                free(c->v[i].name);
        free(c->v);
        strmap_done(&c->by_name);
        *c = (NftCounters) NFT_COUNTERS_INIT;
}
