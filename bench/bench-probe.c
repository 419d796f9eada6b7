/* SPDX-License-Identifier: GPL-2.0-or-later */
/* From an address event to the first packet the policy handles. Run in
 * the host's network namespace (where hostendpointd runs), as root:
 *   bench-probe PEER_NETNS IFNAME ADDRESS N
 * A thread in the network namespace PEER_NETNS (a name under /run/netns)
 * sends UDP to ADDRESS:5555 every 50 µs, each datagram carrying its send
 * time. N times, ADDRESS is added to IFNAME over netlink (a HostEndpoint
 * expects it, and its policy does not allow UDP 5555), and the datagrams
 * that still arrive are those the policy did not yet handle: the first
 * one handled is the one sent after the last that arrived. Then the
 * address is removed again. Prints percentiles of that time, from the
 * moment the address was added. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "bench-util.h"

#define PORT 5555
#define SEND_INTERVAL_NS 50000

static uint64_t now_ns(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

typedef struct Sender {
        const char *netns;
        struct in_addr to;
        atomic_bool stop;
        int error;
} Sender;

static void *send_loop(void *userdata) {
        Sender *s = userdata;
        char path[256];
        struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons(PORT), .sin_addr = s->to };
        int fd, ns;

        snprintf(path, sizeof(path), "/run/netns/%s", s->netns);
        ns = open(path, O_RDONLY | O_CLOEXEC);
        if (ns < 0 || setns(ns, CLONE_NEWNET) < 0) {
                s->error = errno;
                return NULL;
        }
        close(ns);
        fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
                s->error = errno;
                return NULL;
        }
        /* Sleeping, not spinning: the daemon measured needs the CPU. */
        (void)prctl(PR_SET_TIMERSLACK, 1UL);
        struct timespec next;
        clock_gettime(CLOCK_MONOTONIC, &next);
        while (!atomic_load(&s->stop)) {
                uint64_t t = now_ns();
                (void)sendto(fd, &t, sizeof(t), MSG_DONTWAIT, (struct sockaddr *)&dst, sizeof(dst));
                next.tv_nsec += SEND_INTERVAL_NS;
                if (next.tv_nsec >= 1000000000) {
                        next.tv_sec++;
                        next.tv_nsec -= 1000000000;
                }
                (void)clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
        }
        close(fd);
        return NULL;
}

static int change_address(struct nl_sock *sk, int ifindex, struct in_addr a, bool add) {
        struct rtnl_addr *ra = rtnl_addr_alloc();
        struct nl_addr *local = nl_addr_build(AF_INET, &a, sizeof(a));
        int r;

        if (!ra || !local)
                return -ENOMEM;
        nl_addr_set_prefixlen(local, 32);
        rtnl_addr_set_ifindex(ra, ifindex);
        rtnl_addr_set_local(ra, local);
        r = add ? rtnl_addr_add(sk, ra, 0) : rtnl_addr_delete(sk, ra, 0);
        nl_addr_put(local);
        rtnl_addr_put(ra);
        return r;
}

/* Reads what arrives until nothing has for 20 ms (the policy drops it
 * all) or 500 ms have gone; returns the send time of the last datagram
 * sent after since, or 0 if none arrived. */
static uint64_t last_passed(int fd, uint64_t since) {
        uint64_t last = 0, quiet_from = now_ns(), start = quiet_from;

        for (;;) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                uint64_t sent, t;
                ssize_t n;

                (void)poll(&p, 1, 1);
                t = now_ns();
                n = recv(fd, &sent, sizeof(sent), MSG_DONTWAIT);
                if (n == (ssize_t)sizeof(sent)) {
                        if (sent >= since && sent > last)
                                last = sent;
                        quiet_from = t;
                        continue;
                }
                if (t - quiet_from > 20000000u || t - start > 500000000u)
                        return last;
        }
}

static void drain(int fd) {
        uint64_t sent;

        while (recv(fd, &sent, sizeof(sent), MSG_DONTWAIT) > 0)
                ;
}

int main(int argc, char **argv) {
        Sender s = { 0 };
        struct sockaddr_in me = { .sin_family = AF_INET, .sin_port = htons(PORT) };
        struct nl_sock *sk;
        pthread_t thread;
        double *lat;
        size_t n, none = 0;
        int fd, ifindex;

        if (argc != 5 || inet_pton(AF_INET, argv[3], &s.to) != 1 || (n = strtoul(argv[4], NULL, 10)) == 0) {
                fprintf(stderr, "usage: bench-probe PEER_NETNS IFNAME ADDRESS N\n");
                return 2;
        }
        s.netns = argv[1];
        ifindex = (int)if_nametoindex(argv[2]);
        lat = calloc(n, sizeof(double));
        sk = nl_socket_alloc();
        fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (!ifindex || !lat || !sk || nl_connect(sk, NETLINK_ROUTE) < 0 || fd < 0 ||
            bind(fd, (struct sockaddr *)&me, sizeof(me)) < 0) {
                fprintf(stderr, "bench-probe: cannot set up (interface %s, netlink, UDP %d)\n", argv[2], PORT);
                return 1;
        }
        if (pthread_create(&thread, NULL, send_loop, &s) != 0)
                return 1;
        usleep(50000);
        if (s.error) {
                fprintf(stderr, "bench-probe: sender in %s: %s\n", s.netns, strerror(s.error));
                return 1;
        }
        for (size_t i = 0; i < n; i++) {
                drain(fd);
                uint64_t t0 = now_ns();
                if (change_address(sk, ifindex, s.to, true) < 0) {
                        fprintf(stderr, "bench-probe: cannot add %s to %s\n", argv[3], argv[2]);
                        return 1;
                }
                uint64_t last = last_passed(fd, t0);
                /* The first datagram handled by the policy was sent one
                 * interval after the last one that got through. */
                double passed_ms = last ? (double)(last - t0) / 1e6 : 0;
                lat[i] = passed_ms + SEND_INTERVAL_NS / 1e6;
                if (!last)
                        none++;
                (void)change_address(sk, ifindex, s.to, false);
                usleep(30000); /* the removal's commit, and spacing */
        }
        atomic_store(&s.stop, true);
        pthread_join(thread, NULL);
        qsort(lat, n, sizeof(double), compare_doubles);
        printf("address added -> first probe packet handled by the policy: n=%zu p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, "
               "max %.2f ms (probes every %.2f ms; none got through in %zu of %zu)\n",
               n, lat[n / 2], lat[n * 9 / 10], lat[n * 99 / 100 < n ? n * 99 / 100 : n - 1], lat[n - 1],
               SEND_INTERVAL_NS / 1e6, none, n);
        free(lat);
        nl_socket_free(sk);
        close(fd);
        return 0;
}
