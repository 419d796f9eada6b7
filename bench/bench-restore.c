/* SPDX-License-Identifier: GPL-2.0-or-later */
/* From another program's change to table inet hostendpoint to the
 * daemon's restoration, both as the kernel announces them. Run in the
 * daemon's network namespace, as root:
 *   bench-restore DAEMON_PID N
 * Each of four changes (nft flush ruleset, delete table, flush table, the
 * table set dormant) is committed N times through libnftables, as nft
 * would. A thread blocked on an NFNLGRP_NFTABLES socket stamps the end of
 * that transaction (its NFT_MSG_NEWGEN) and of the next one committed by
 * DAEMON_PID, the restoration; the table must then list exactly as at the
 * start. Between changes it waits longer than the daemon's fight window
 * (kernel/nft-monitor.c), so that each change is answered at once.
 * Prints p50, p90, p99 and max per change. */
#include <errno.h>
#include <linux/filter.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <nftables/libnftables.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
/* After <netinet/in.h>, so that the kernel headers defer to libc's. */
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "bench-util.h"

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

#define TABLE "inet hostendpoint"
#define TIMEOUT_MS 5000.0
/* Above the daemon's fight window: at least 100 ms, 20 times what a
 * restoration took, at most 1 s. */
#define GAP_MIN_MS 150.0
#define GAP_FACTOR 25.0
#define GAP_MAX_MS 1200.0

static const struct {
        const char *name;
        const char *command;
} changes[] = {
        { "nft flush ruleset", "flush ruleset" },
        { "nft delete table " TABLE, "delete table " TABLE },
        { "nft flush table " TABLE, "flush table " TABLE },
        { "the table set dormant", "add table " TABLE " { flags dormant; }" },
};

/* The generations announced so far: who committed each, and when we heard. */
typedef struct Gens {
        pthread_mutex_t lock;
        pthread_cond_t cond;
        uint32_t pid[4096];
        double ms[4096];
        size_t n;
        bool lost;
} Gens;

static Gens gens = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER };

/* Only NFT_MSG_NEWGEN, which the kernel sends in a datagram of its own:
 * the thousands of messages a big flush sends are dropped in the kernel. */
static int open_monitor(void) {
        struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
        struct sock_filter code[] = {
                BPF_STMT(BPF_LD | BPF_H | BPF_ABS, offsetof(struct nlmsghdr, nlmsg_type)),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ntohs((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWGEN), 1, 0),
                BPF_STMT(BPF_RET | BPF_K, 0),
                BPF_STMT(BPF_RET | BPF_K, 0xffffffff),
        };
        struct sock_fprog prog = { .len = ELEMENTSOF(code), .filter = code };
        int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER), group = NFNLGRP_NFTABLES;

        if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
            setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0 ||
            setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) < 0)
                return -errno;
        return fd;
}

static void *receive_loop(void *userdata) {
        static char buf[65536];
        int fd = *(int *)userdata;

        for (;;) {
                ssize_t n = recv(fd, buf, sizeof(buf), 0);
                double t = now_ms();
                if (n < 0 && errno == EINTR)
                        continue;
                pthread_mutex_lock(&gens.lock);
                if (n < 0)
                        gens.lost = true;
                for (struct nlmsghdr *h = (struct nlmsghdr *)buf; n > 0 && NLMSG_OK(h, (size_t)n);
                     h = NLMSG_NEXT(h, n)) {
                        struct nlattr *a = nlmsg_find_attr(h, sizeof(struct nfgenmsg), NFTA_GEN_PROC_PID);
                        if (NFNL_MSG_TYPE(h->nlmsg_type) != NFT_MSG_NEWGEN || gens.n == ELEMENTSOF(gens.pid))
                                continue;
                        gens.pid[gens.n] = a ? ntohl(nla_get_u32(a)) : 0;
                        gens.ms[gens.n++] = t;
                }
                pthread_cond_broadcast(&gens.cond);
                pthread_mutex_unlock(&gens.lock);
        }
        return NULL;
}

/* Waits for a generation committed by pid, from index *from on; its time,
 * or -1 after TIMEOUT_MS. */
static double wait_gen(uint32_t pid, size_t *from) {
        double deadline = now_ms() + TIMEOUT_MS, t = -1;
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += (time_t)(TIMEOUT_MS / 1000);
        pthread_mutex_lock(&gens.lock);
        while (t < 0 && now_ms() < deadline) {
                for (; *from < gens.n && t < 0; (*from)++)
                        if (gens.pid[*from] == pid)
                                t = gens.ms[*from];
                if (t < 0 && pthread_cond_timedwait(&gens.cond, &gens.lock, &ts) == ETIMEDOUT)
                        break;
        }
        pthread_mutex_unlock(&gens.lock);
        return t;
}

static char *list_table(struct nft_ctx *ctx) {
        if (nft_run_cmd_from_buffer(ctx, "list table " TABLE) != 0)
                return NULL;
        return strdup(nft_ctx_get_output_buffer(ctx));
}

static void sleep_ms(double ms) {
        usleep((useconds_t)(ms * 1000));
}

/* The table lists as reference. A listing right after a commit may show
 * some elements of a hash set twice (the kernel resizes the set behind
 * a dump that resumes by position): one that differs is read again. */
static bool listed_as(struct nft_ctx *ctx, const char *reference) {
        for (int i = 0; i < 3; i++) {
                char *now = list_table(ctx);
                bool same = now && strcmp(now, reference) == 0;
                free(now);
                if (same)
                        return true;
                sleep_ms(50);
        }
        return false;
}

int main(int argc, char **argv) {
        uint32_t daemon_pid, me = (uint32_t)getpid();
        struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
        char *reference;
        pthread_t thread;
        size_t n, seen = 0, failed = 0;
        double *lat, gap = GAP_MIN_MS;
        int fd;

        if (argc != 3 || !(daemon_pid = (uint32_t)strtoul(argv[1], NULL, 10)) ||
            !(n = strtoul(argv[2], NULL, 10))) {
                fprintf(stderr, "usage: bench-restore DAEMON_PID N\n");
                return 2;
        }
        lat = calloc(n, sizeof(double));
        fd = open_monitor();
        if (!ctx || !lat || fd < 0) {
                fprintf(stderr, "bench-restore: cannot set up: %s\n", fd < 0 ? strerror(-fd) : "out of memory");
                return 1;
        }
        nft_ctx_buffer_output(ctx);
        nft_ctx_buffer_error(ctx);
        reference = list_table(ctx);
        if (!reference) {
                fprintf(stderr, "bench-restore: no table " TABLE ": %s", nft_ctx_get_error_buffer(ctx));
                return 1;
        }
        if (pthread_create(&thread, NULL, receive_loop, &fd) != 0)
                return 1;
        for (size_t c = 0; c < ELEMENTSOF(changes); c++) {
                size_t ok = 0;
                for (size_t i = 0; i < n; i++) {
                        double changed, restored;
                        sleep_ms(gap);
                        pthread_mutex_lock(&gens.lock);
                        seen = gens.n;
                        pthread_mutex_unlock(&gens.lock);
                        if (nft_run_cmd_from_buffer(ctx, changes[c].command) != 0) {
                                fprintf(stderr, "bench-restore: %s: %s", changes[c].command,
                                        nft_ctx_get_error_buffer(ctx));
                                return 1;
                        }
                        changed = wait_gen(me, &seen);
                        restored = changed < 0 ? -1 : wait_gen(daemon_pid, &seen);
                        if (restored < 0 || !listed_as(ctx, reference)) {
                                fprintf(stderr, "bench-restore: %s: %s\n", changes[c].name,
                                        restored < 0 ? "no restoration seen" : "not restored exactly");
                                failed++;
                                /* Wait for the daemon, then go on. */
                                sleep_ms(GAP_MAX_MS);
                                continue;
                        }
                        lat[ok++] = restored - changed;
                        gap = GAP_FACTOR * (restored - changed);
                        gap = gap < GAP_MIN_MS ? GAP_MIN_MS : gap > GAP_MAX_MS ? GAP_MAX_MS : gap;
                }
                if (!ok)
                        continue;
                qsort(lat, ok, sizeof(double), compare_doubles);
                printf("%-34s -> restored: n=%zu p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms\n", changes[c].name,
                       ok, lat[ok / 2], lat[ok * 9 / 10], lat[ok * 99 / 100], lat[ok - 1]);
        }
        if (gens.lost)
                fprintf(stderr, "bench-restore: notifications were lost; samples may be missing\n");
        free(reference);
        free(lat);
        nft_ctx_free(ctx);
        return failed ? 1 : 0;
}
