/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Foreign changes to our table from NFNLGRP_NFTABLES; see nft-monitor.h.
 * The kernel sends one message per object a transaction changed, then
 * NFT_MSG_NEWGEN naming the committing socket's port id and process: the
 * messages about our table are tallied until then, and reported (or
 * dropped, if ours) as one change. */
#include "nft-monitor.h"

#include <linux/filter.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
/* After <netinet/in.h>, so that the kernel headers defer to libc's. */
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "ruleset.h"
#include "strbuf.h"

/* A foreign flush of a big table sends a message per rule (about 14,000
 * for 1,000 HostEndpoints and 1,000 policies): room for all of them, so
 * the log can say what happened. Only used while messages wait. */
#define RCVBUF_BYTES (32 * 1024 * 1024)
/* The kernel batches a transaction's messages into datagrams of a page or
 * two; one rule's message is far smaller than this. */
#define DATAGRAM_MAX (64 * 1024)
/* Foreign transactions logged one by one per restoration; more are summed up. */
#define PENDING_MAX 8
/* A change that comes sooner after a restoration than 20 times what the
 * restoration took (at least 100 ms, at most 1 s) means a program keeps changing the
 * table: the next restoration waits, 10 ms and doubling up to 1 s. So a
 * program that fights us costs us at most about a twentieth of the time. */
#define FIGHT_FACTOR 20
#define FIGHT_WINDOW_MIN_USEC (100ULL * 1000)
#define FIGHT_WINDOW_MAX_USEC (1000ULL * 1000)
#define BACKOFF_MIN_USEC (10ULL * 1000)
#define BACKOFF_MAX_USEC (1000ULL * 1000)

typedef enum ObjectKind {
        OBJECT_CHAIN,
        OBJECT_RULE,
        OBJECT_SET,
        OBJECT_ELEMENT,
        OBJECT_STATEFUL, /* counters, quotas, ... */
        OBJECT_FLOWTABLE,
        _OBJECT_KIND_MAX,
        _OBJECT_KIND_INVALID = -EINVAL,
} ObjectKind;

static const char *const object_names[_OBJECT_KIND_MAX][2] = {
        [OBJECT_CHAIN] = { "chain", "chains" },
        [OBJECT_RULE] = { "rule", "rules" },
        [OBJECT_SET] = { "set", "sets" },
        [OBJECT_ELEMENT] = { "element", "elements" },
        [OBJECT_STATEFUL] = { "stateful object", "stateful objects" },
        [OBJECT_FLOWTABLE] = { "flowtable", "flowtables" },
};

/* What one transaction did to our table. */
typedef struct Tally {
        bool any;
        bool table_deleted;
        bool table_updated; /* NEWTABLE: created, or its flags changed */
        uint32_t table_flags;
        unsigned added[_OBJECT_KIND_MAX];
        unsigned deleted[_OBJECT_KIND_MAX];
} Tally;

/* A foreign transaction waiting for its restoration. */
typedef struct Pending {
        char *what; /* "changed by another program (pid 1234 'nft'): table deleted" */
        uint64_t usec; /* when we learnt of it */
} Pending;

struct NftMonitor {
        const hep_host *host;
        NftMonitorChanged cb;
        void *userdata;
        int fd;
        hep_watch *watch;
        hep_timer *backoff_timer;
        uint32_t own_portid, previous_portid;
        uint32_t batch_portid; /* full replaces' socket (nft-batch.h), 0 if none */
        bool armed;        /* our first commit is in: the table is ours */
        bool requested;    /* cb was called: the next commit restores */
        bool requested_full;
        bool full;         /* what is pending needs more than the table's flags */
        bool waiting;      /* backoff_timer is armed */
        Tally tally;       /* the transaction being received */
        Pending pending[PENDING_MAX];
        size_t n_pending;
        unsigned n_more;   /* foreign transactions beyond PENDING_MAX */
        uint64_t backoff_usec;
        uint64_t delayed_usec;  /* how long the pending restoration was held back */
        uint64_t requested_usec; /* when cb was called */
        uint64_t restored_usec;  /* when the last restoration was committed */
        uint64_t fight_window_usec;
        unsigned restorations;
        char *buf;
};

/* Which object a message is about: its kind and whether it is a deletion;
 * the table attribute that names its table. -EINVAL if not one of ours. */
static ObjectKind object_of(uint16_t msg, bool *ret_deleted, int *ret_table_attr) {
        *ret_deleted = msg == NFT_MSG_DELCHAIN || msg == NFT_MSG_DELRULE || msg == NFT_MSG_DELSET ||
                       msg == NFT_MSG_DELSETELEM || msg == NFT_MSG_DELOBJ || msg == NFT_MSG_DELFLOWTABLE;
        switch (msg) {
        case NFT_MSG_NEWCHAIN:
        case NFT_MSG_DELCHAIN:
                *ret_table_attr = NFTA_CHAIN_TABLE;
                return OBJECT_CHAIN;
        case NFT_MSG_NEWRULE:
        case NFT_MSG_DELRULE:
                *ret_table_attr = NFTA_RULE_TABLE;
                return OBJECT_RULE;
        case NFT_MSG_NEWSET:
        case NFT_MSG_DELSET:
                *ret_table_attr = NFTA_SET_TABLE;
                return OBJECT_SET;
        case NFT_MSG_NEWSETELEM:
        case NFT_MSG_DELSETELEM:
                *ret_table_attr = NFTA_SET_ELEM_LIST_TABLE;
                return OBJECT_ELEMENT;
        case NFT_MSG_NEWOBJ:
        case NFT_MSG_DELOBJ:
                *ret_table_attr = NFTA_OBJ_TABLE;
                return OBJECT_STATEFUL;
        case NFT_MSG_NEWFLOWTABLE:
        case NFT_MSG_DELFLOWTABLE:
                *ret_table_attr = NFTA_FLOWTABLE_TABLE;
                return OBJECT_FLOWTABLE;
        default:
                return _OBJECT_KIND_INVALID;
        }
}

static bool is_our_table(struct nlmsghdr *nlh, int table_attr) {
        const struct nfgenmsg *g = nlmsg_data(nlh);
        struct nlattr *a = nlmsg_find_attr(nlh, sizeof(struct nfgenmsg), table_attr);

        return g->nfgen_family == NFPROTO_INET && a && nla_strcmp(a, HEP_TABLE_NAME) == 0;
}

/* One message of a transaction: counted if it is about our table. */
static void tally_message(Tally *t, struct nlmsghdr *nlh, uint16_t msg) {
        struct nlattr *a;
        bool deleted;
        int table_attr = 0;
        ObjectKind kind;

        if (msg == NFT_MSG_NEWTABLE || msg == NFT_MSG_DELTABLE) {
                if (!is_our_table(nlh, NFTA_TABLE_NAME))
                        return;
                t->any = true;
                if (msg == NFT_MSG_DELTABLE) {
                        t->table_deleted = true;
                        return;
                }
                a = nlmsg_find_attr(nlh, sizeof(struct nfgenmsg), NFTA_TABLE_FLAGS);
                t->table_updated = true;
                t->table_flags = a ? ntohl(nla_get_u32(a)) : 0;
                return;
        }
        kind = object_of(msg, &deleted, &table_attr);
        if (kind < 0 || !is_our_table(nlh, table_attr))
                return;
        t->any = true;
        if (kind == OBJECT_ELEMENT) {
                /* One message holds a list of elements. */
                struct nlattr *list = nlmsg_find_attr(nlh, sizeof(struct nfgenmsg), NFTA_SET_ELEM_LIST_ELEMENTS), *e;
                int rem;
                unsigned n = 0;
                if (list)
                        nla_for_each_nested(e, list, rem)
                                n++;
                (deleted ? t->deleted : t->added)[kind] += n;
                return;
        }
        (deleted ? t->deleted : t->added)[kind]++;
}

static void describe_counts(StrBuf *b, const unsigned *counts, const char *verb) {
        for (ObjectKind k = 0; k < _OBJECT_KIND_MAX; k++)
                if (counts[k])
                        strbuf_printf(b, "%s%u %s %s", b->len ? ", " : "", counts[k],
                                      object_names[k][counts[k] != 1], verb);
}

/* "table deleted", "table set dormant", "12 rules deleted, 1 element added". */
static char *describe(const Tally *t) {
        StrBuf b = STRBUF_INIT;

        if (t->table_deleted)
                strbuf_append(&b, "table deleted");
        if (t->table_updated)
                strbuf_printf(&b, "%s%s", b.len ? ", " : "",
                              t->table_flags & NFT_TABLE_F_DORMANT ? "table set dormant"
                              : t->table_deleted                   ? "table created again"
                                                                   : "table flags changed");
        /* What a deleted table held went with it. */
        if (!t->table_deleted)
                describe_counts(&b, t->deleted, "deleted");
        describe_counts(&b, t->added, "added");
        return strbuf_steal(&b);
}

static void on_backoff_timer(void *userdata) {
        NftMonitor *m = userdata;

        m->waiting = false;
        m->requested = true;
        m->requested_full = m->full;
        m->requested_usec = now_usec();
        m->cb(m->userdata, m->full);
}

/* Asks for a restoration, at once or, while a program keeps changing the
 * table, after the backoff. */
static void request(NftMonitor *m, bool full, uint64_t now) {
        int r;

        m->full = m->full || full;
        if (m->requested && m->full && !m->requested_full) {
                /* The flags were to be restored; now more is. */
                m->requested_full = true;
                m->cb(m->userdata, true);
        }
        if (m->requested || m->waiting)
                return; /* the restoration to come covers this change too */
        if (m->restored_usec && now - m->restored_usec < m->fight_window_usec)
                m->backoff_usec = m->backoff_usec ? m->backoff_usec * 2 : BACKOFF_MIN_USEC;
        else
                m->backoff_usec = 0;
        if (m->backoff_usec > BACKOFF_MAX_USEC)
                m->backoff_usec = BACKOFF_MAX_USEC;
        m->delayed_usec = m->backoff_usec;
        if (m->backoff_usec) {
                r = host_timer_rearm(m->host, m->backoff_timer, m->backoff_usec);
                if (r >= 0) {
                        m->waiting = true;
                        return;
                }
                host_log_errno(m->host, LOG_ERR, r, "Cannot arm a timer: %m, restoring at once");
                m->delayed_usec = 0;
        }
        on_backoff_timer(m);
}

static void add_pending(NftMonitor *m, char *what, bool full, uint64_t now) {
        if (!what || m->n_pending == PENDING_MAX) {
                free(what);
                m->n_more++;
        } else
                m->pending[m->n_pending++] = (Pending) { what, now };
        request(m, full, now);
}

/* Anything but a change of the table's flags needs the table replaced. */
static bool needs_full(const Tally *t) {
        for (ObjectKind k = 0; k < _OBJECT_KIND_MAX; k++)
                if (t->added[k] || t->deleted[k])
                        return true;
        return t->table_deleted || !t->table_updated;
}

/* NEWGEN: the end of a transaction. */
static void end_transaction(NftMonitor *m, struct nlmsghdr *nlh) {
        struct nlattr *pid_attr = nlmsg_find_attr(nlh, sizeof(struct nfgenmsg), NFTA_GEN_PROC_PID);
        struct nlattr *name_attr = nlmsg_find_attr(nlh, sizeof(struct nfgenmsg), NFTA_GEN_PROC_NAME);
        uint32_t pid = pid_attr ? ntohl(nla_get_u32(pid_attr)) : 0;
        char comm[32] = "", *what = NULL, *changes;
        Tally t = m->tally;
        bool ours;

        m->tally = (Tally) {};
        /* The socket filter drops ours already, unless it could not be set. */
        ours = m->own_portid ? nlh->nlmsg_pid == m->own_portid || nlh->nlmsg_pid == m->previous_portid ||
                                       (m->batch_portid && nlh->nlmsg_pid == m->batch_portid)
                             : pid == (uint32_t)getpid();
        if (!t.any || ours || !m->armed)
                return;
        if (name_attr)
                nla_strlcpy(comm, name_attr, sizeof(comm));
        changes = describe(&t);
        if (changes && (pid ? asprintf(&what, "changed by another program (pid %u '%s'): %s", pid, comm, changes)
                            : asprintf(&what, "changed by another program: %s", changes)) < 0)
                what = NULL;
        free(changes);
        add_pending(m, what, needs_full(&t), now_usec());
}

static void on_datagram(NftMonitor *m, size_t n) {
        for (struct nlmsghdr *nlh = (struct nlmsghdr *)m->buf; NLMSG_OK(nlh, n); nlh = NLMSG_NEXT(nlh, n)) {
                uint16_t msg = NFNL_MSG_TYPE(nlh->nlmsg_type);

                if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_NFTABLES ||
                    nlh->nlmsg_len < NLMSG_LENGTH(sizeof(struct nfgenmsg)))
                        continue;
                if (msg == NFT_MSG_NEWGEN)
                        end_transaction(m, nlh);
                else
                        tally_message(&m->tally, nlh, msg);
        }
}

static void on_ready(void *userdata, int fd, uint32_t events) {
        NftMonitor *m = userdata;
        bool lost = false;

        for (;;) {
                ssize_t n = recv(fd, m->buf, DATAGRAM_MAX, MSG_DONTWAIT | MSG_TRUNC);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == ENOBUFS) {
                        lost = true; /* the kernel dropped some; the rest follows */
                        continue;
                }
                if (n <= 0)
                        break;
                if (n > DATAGRAM_MAX)
                        lost = true;
                else
                        on_datagram(m, (size_t)n);
        }
        if (!lost)
                return;
        /* Whatever was lost may have been about our table, or the end of a
         * transaction whose messages we counted. */
        m->tally = (Tally) {};
        if (m->armed)
                add_pending(m, strdup("may have been changed by another program (change notifications were lost)"),
                            true, now_usec());
}

/* Drops, in the kernel, the messages of transactions committed through
 * our own sockets (libnftables', and the one full replaces are sent
 * from): our commits (a full replace sends a message per rule) then
 * neither wake us nor fill this socket. The messages of one transaction
 * all come from one port id, whether or not the kernel batches them into
 * one datagram. Classic BPF loads are big-endian. */
static int apply_filter(NftMonitor *m) {
        uint32_t other = m->batch_portid ? m->batch_portid : m->own_portid;
        struct sock_filter code[] = {
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct nlmsghdr, nlmsg_pid)),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ntohl(m->own_portid), 2, 0),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ntohl(other), 1, 0),
                BPF_STMT(BPF_RET | BPF_K, 0xffffffff),
                BPF_STMT(BPF_RET | BPF_K, 0),
        };
        struct sock_fprog prog = { .len = ELEMENTSOF(code), .filter = code };

        if (!m->own_portid)
                return 0;
        if (setsockopt(m->fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0)
                return -errno;
        return 0;
}

static int set_filter(NftMonitor *m, uint32_t portid) {
        if (portid == m->own_portid)
                return 0;
        m->previous_portid = m->own_portid;
        m->own_portid = portid;
        return apply_filter(m);
}

static int open_socket(NftMonitor *m) {
        struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
        int group = NFNLGRP_NFTABLES, size = RCVBUF_BYTES;

        m->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_NETFILTER);
        if (m->fd < 0)
                return -errno;
        if (bind(m->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
            setsockopt(m->fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) < 0)
                return -errno;
        /* Beyond net.core.rmem_max needs CAP_NET_ADMIN, which we have. */
        if (setsockopt(m->fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0 &&
            setsockopt(m->fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size)) < 0)
                return -errno;
        return 0;
}

int nft_monitor_new(const hep_host *host, uint32_t own_portid, NftMonitorChanged cb, void *userdata,
                    NftMonitor **ret) {
        _cleanup_(nft_monitor_freep) NftMonitor *m = calloc(1, sizeof(NftMonitor));
        int r;

        if (!m)
                return -ENOMEM;
        m->host = host;
        m->cb = cb;
        m->userdata = userdata;
        m->fd = -1;
        m->buf = malloc(DATAGRAM_MAX);
        if (!m->buf)
                return -ENOMEM;
        r = open_socket(m);
        if (r < 0)
                return r;
        r = set_filter(m, own_portid);
        if (r < 0)
                host_log_errno(host, LOG_WARNING, r, "Cannot filter our own nftables notifications: %m, reading them all");
        r = host_timer_add(host, UINT64_MAX, on_backoff_timer, m, &m->backoff_timer);
        if (r >= 0)
                r = host_watch_add(host, m->fd, HEP_WATCH_IN, on_ready, m, &m->watch);
        if (r < 0)
                return r;
        *ret = steal_ptr(m);
        return 0;
}

NftMonitor *nft_monitor_free(NftMonitor *m) {
        if (!m)
                return NULL;
        host_watch_remove(m->host, m->watch);
        host_timer_remove(m->host, m->backoff_timer);
        if (m->fd >= 0)
                close(m->fd);
        for (size_t i = 0; i < m->n_pending; i++)
                free(m->pending[i].what);
        free(m->buf);
        free(m);
        return NULL;
}

static void log_restored(NftMonitor *m, uint64_t now) {
        char delayed[96] = "";

        if (m->delayed_usec)
                snprintf(delayed, sizeof(delayed), " (held back %llu ms: the table keeps being changed)",
                         (unsigned long long)(m->delayed_usec / 1000));
        for (size_t i = 0; i < m->n_pending; i++) {
                host_log(m->host, LOG_WARNING, "Table " HEP_TABLE_FAMILY " " HEP_TABLE_NAME " %s; restored in %.1f ms%s",
                         m->pending[i].what, (double)(now - m->pending[i].usec) / 1000.0, delayed);
                free(m->pending[i].what);
        }
        if (m->n_more)
                host_log(m->host, LOG_WARNING, "Table " HEP_TABLE_FAMILY " " HEP_TABLE_NAME
                         " changed by other programs %u more times; restored%s", m->n_more, delayed);
        m->n_pending = 0;
        m->n_more = 0;
}

int nft_monitor_also_own(NftMonitor *m, uint32_t batch_portid) {
        if (!m || m->batch_portid == batch_portid)
                return 0;
        m->batch_portid = batch_portid;
        return apply_filter(m);
}

void nft_monitor_committed(NftMonitor *m, uint32_t own_portid) {
        uint64_t now = now_usec();
        int r;

        if (!m)
                return;
        m->armed = true;
        r = set_filter(m, own_portid);
        if (r < 0)
                host_log_errno(m->host, LOG_WARNING, r, "Cannot filter our own nftables notifications: %m, reading them all");
        if (!m->requested)
                return;
        m->requested = false;
        m->requested_full = false;
        m->full = false;
        m->restorations++;
        m->restored_usec = now;
        m->fight_window_usec = FIGHT_FACTOR * (now - m->requested_usec);
        if (m->fight_window_usec < FIGHT_WINDOW_MIN_USEC)
                m->fight_window_usec = FIGHT_WINDOW_MIN_USEC;
        if (m->fight_window_usec > FIGHT_WINDOW_MAX_USEC)
                m->fight_window_usec = FIGHT_WINDOW_MAX_USEC;
        log_restored(m, now);
}

unsigned nft_monitor_restorations(const NftMonitor *m) {
        return m ? m->restorations : 0;
}
