/* SPDX-License-Identifier: GPL-2.0-or-later */
/* epoll + timers + signalfd; see loop.h. */
#include "loop.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

struct hep_watch {
        int fd;
        uint32_t events;
        hep_fd_callback cb;
        void *userdata;
        bool removed;
        hep_watch *next_dead;
};

struct hep_timer {
        uint64_t deadline; /* CLOCK_MONOTONIC usec; UINT64_MAX: not armed */
        hep_timer_callback cb;
        void *userdata;
        bool removed;
};

struct Loop {
        int epfd;
        int sigfd;
        LoopSignalHandler sig_cb;
        void *sig_userdata;
        hep_timer **timers;
        size_t n_timers, alloc_timers;
        hep_watch *dead; /* removed while dispatching: freed after */
        bool dispatching;
        bool quit;
};

int loop_new(Loop **ret) {
        Loop *l = calloc(1, sizeof(Loop));

        if (!l)
                return -ENOMEM;
        l->sigfd = -1;
        l->epfd = epoll_create1(EPOLL_CLOEXEC);
        if (l->epfd < 0) {
                int r = -errno;
                free(l);
                return r;
        }
        *ret = l;
        return 0;
}

static void free_dead(Loop *l) {
        while (l->dead) {
                hep_watch *w = l->dead;
                l->dead = w->next_dead;
                free(w);
        }
}

Loop *loop_free(Loop *l) {
        if (!l)
                return NULL;
        free_dead(l);
        for (size_t i = 0; i < l->n_timers; i++)
                free(l->timers[i]);
        free(l->timers);
        if (l->sigfd >= 0)
                close(l->sigfd);
        close(l->epfd);
        free(l);
        return NULL;
}

static uint32_t to_epoll(uint32_t events) {
        return (events & HEP_WATCH_IN ? EPOLLIN : 0) | (events & HEP_WATCH_OUT ? EPOLLOUT : 0);
}

static uint32_t from_epoll(uint32_t e) {
        return (e & EPOLLIN ? HEP_WATCH_IN : 0) | (e & EPOLLOUT ? HEP_WATCH_OUT : 0) |
               (e & EPOLLERR ? HEP_WATCH_ERR : 0) | (e & EPOLLHUP ? HEP_WATCH_HUP : 0);
}

int loop_watch_add(void *host_data, int fd, uint32_t events, hep_fd_callback cb, void *userdata, hep_watch **ret) {
        Loop *l = host_data;
        hep_watch *w = calloc(1, sizeof(hep_watch));
        struct epoll_event ev = { .events = to_epoll(events) };

        if (!w)
                return -ENOMEM;
        *w = (hep_watch) { .fd = fd, .events = events, .cb = cb, .userdata = userdata };
        ev.data.ptr = w;
        if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
                int r = -errno;
                free(w);
                return r;
        }
        *ret = w;
        return 0;
}

int loop_watch_update(void *host_data, hep_watch *w, uint32_t events) {
        Loop *l = host_data;
        struct epoll_event ev = { .events = to_epoll(events), .data.ptr = w };

        w->events = events;
        return epoll_ctl(l->epfd, EPOLL_CTL_MOD, w->fd, &ev) < 0 ? -errno : 0;
}

void loop_watch_remove(void *host_data, hep_watch *w) {
        Loop *l = host_data;

        if (!w)
                return;
        (void)epoll_ctl(l->epfd, EPOLL_CTL_DEL, w->fd, NULL);
        w->removed = true;
        /* Its event may still be in this round's batch: free it after. */
        w->next_dead = l->dead;
        l->dead = w;
        if (!l->dispatching)
                free_dead(l);
}

int loop_timer_add(void *host_data, uint64_t usec, hep_timer_callback cb, void *userdata, hep_timer **ret) {
        Loop *l = host_data;
        hep_timer **v = grow_array(l->timers, &l->alloc_timers, l->n_timers + 1, sizeof(hep_timer *));
        hep_timer *t = calloc(1, sizeof(hep_timer));

        if (!v || !t) {
                free(t);
                if (v)
                        l->timers = v;
                return -ENOMEM;
        }
        l->timers = v;
        *t = (hep_timer) { .cb = cb, .userdata = userdata };
        l->timers[l->n_timers++] = t;
        *ret = t;
        return loop_timer_rearm(host_data, t, usec);
}

int loop_timer_rearm(void *host_data, hep_timer *t, uint64_t usec) {
        uint64_t now = now_usec();

        t->deadline = usec == UINT64_MAX || usec > UINT64_MAX - now ? UINT64_MAX : now + usec;
        return 0;
}

void loop_timer_remove(void *host_data, hep_timer *t) {
        if (t) {
                t->removed = true;
                t->deadline = UINT64_MAX;
        }
}

int loop_add_signals(Loop *l, const int *signals, size_t n, LoopSignalHandler cb, void *userdata) {
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
        sigset_t mask;

        sigemptyset(&mask);
        for (size_t i = 0; i < n; i++)
                sigaddset(&mask, signals[i]);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return -errno;
        l->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
        if (l->sigfd < 0)
                return -errno;
        l->sig_cb = cb;
        l->sig_userdata = userdata;
        return epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->sigfd, &ev) < 0 ? -errno : 0;
}

void loop_quit(Loop *l) {
        l->quit = true;
}

static void run_signals(Loop *l) {
        struct signalfd_siginfo si;

        while (read(l->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
                if (l->sig_cb)
                        l->sig_cb(l->sig_userdata, (int)si.ssi_signo);
}

/* Runs due timers once each; a timer re-armed for 0 runs next round. */
static void run_timers(Loop *l) {
        uint64_t now = now_usec();
        size_t n = l->n_timers, k = 0;

        for (size_t i = 0; i < n && i < l->n_timers; i++) {
                hep_timer *t = l->timers[i];
                if (!t->removed && t->deadline <= now) {
                        t->deadline = UINT64_MAX;
                        t->cb(t->userdata);
                }
        }
        for (size_t i = 0; i < l->n_timers; i++) {
                if (l->timers[i]->removed) {
                        free(l->timers[i]);
                        continue;
                }
                l->timers[k++] = l->timers[i];
        }
        l->n_timers = k;
}

static uint64_t next_deadline(Loop *l) {
        uint64_t d = UINT64_MAX;

        for (size_t i = 0; i < l->n_timers; i++)
                if (!l->timers[i]->removed && l->timers[i]->deadline < d)
                        d = l->timers[i]->deadline;
        return d;
}

int loop_run(Loop *l) {
        struct epoll_event evs[64];

        while (!l->quit) {
                uint64_t d = next_deadline(l), now = now_usec();
                struct timespec ts, *tsp = NULL;
                int n;

                if (d != UINT64_MAX) {
                        uint64_t wait = d > now ? d - now : 0;
                        ts = (struct timespec) { .tv_sec = (time_t)(wait / 1000000),
                                                 .tv_nsec = (long)(wait % 1000000) * 1000 };
                        tsp = &ts;
                }
                n = epoll_pwait2(l->epfd, evs, (int)ELEMENTSOF(evs), tsp, NULL);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                l->dispatching = true;
                for (int i = 0; i < n; i++) {
                        hep_watch *w = evs[i].data.ptr;
                        if (!w) {
                                run_signals(l);
                                continue;
                        }
                        if (!w->removed)
                                w->cb(w->userdata, w->fd, from_epoll(evs[i].events));
                }
                l->dispatching = false;
                free_dead(l);
                run_timers(l);
        }
        return 0;
}
