/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libdbus on the host's loop; see bus-loop.h.
 *
 * libdbus may watch one fd twice (a read watch and a write watch on its
 * socket), which an epoll loop cannot register twice: watches are grouped
 * per fd, and the host watches each fd once, for the union of what its
 * enabled libdbus watches want. */
#include "bus-loop.h"

#include <stdlib.h>

typedef struct FdWatch FdWatch;

struct BusLoop {
        const hep_host *host;
        DBusConnection *conn;
        FdWatch *fds;            /* linked list, one per fd */
        hep_timer *dispatch_timer;
        unsigned removals;       /* watches removed so far */
};

struct FdWatch {
        BusLoop *loop;
        int fd;
        DBusWatch *watches[4];   /* libdbus' watches on this fd */
        size_t n_watches;
        hep_watch *host_watch;   /* NULL while none is enabled */
        uint32_t host_events;
        FdWatch *next;
};

typedef struct Timeout {
        BusLoop *loop;
        DBusTimeout *timeout;
        hep_timer *timer;
} Timeout;

static void schedule_dispatch(BusLoop *l) {
        if (dbus_connection_get_dispatch_status(l->conn) == DBUS_DISPATCH_DATA_REMAINS)
                host_timer_rearm(l->host, l->dispatch_timer, 0);
}

static void on_dispatch_timer(void *userdata) {
        BusLoop *l = userdata;

        /* One message per round, so a flood of calls cannot starve the
         * host's other sources (netlink, the datastore). */
        dbus_connection_dispatch(l->conn);
        schedule_dispatch(l);
}

static void on_dispatch_status(DBusConnection *c, DBusDispatchStatus status, void *userdata) {
        BusLoop *l = userdata;

        if (status == DBUS_DISPATCH_DATA_REMAINS)
                host_timer_rearm(l->host, l->dispatch_timer, 0);
}

/* ---- fd watches ---- */

static uint32_t wanted_events(const FdWatch *f) {
        uint32_t e = 0;

        for (size_t i = 0; i < f->n_watches; i++) {
                unsigned flags = dbus_watch_get_flags(f->watches[i]);
                if (!dbus_watch_get_enabled(f->watches[i]))
                        continue;
                e |= (flags & DBUS_WATCH_READABLE ? HEP_WATCH_IN : 0) | (flags & DBUS_WATCH_WRITABLE ? HEP_WATCH_OUT : 0);
                /* A watch with neither still wants errors and hang-ups. */
                e |= HEP_WATCH_ERR;
        }
        return e;
}

static void on_fd(void *userdata, int fd, uint32_t events) {
        FdWatch *f = userdata;
        BusLoop *l = f->loop;
        unsigned removals = l->removals;
        DBusWatch *ws[4];
        size_t n = f->n_watches;

        /* Handling may remove watches, freeing them and even this FdWatch:
         * stop at the first removal. The loop is level-triggered, so what
         * is left is reported again. */
        for (size_t i = 0; i < n; i++)
                ws[i] = f->watches[i];
        for (size_t i = 0; i < n && removals == l->removals; i++) {
                unsigned flags = dbus_watch_get_flags(ws[i]), cond = 0;
                if (!dbus_watch_get_enabled(ws[i]))
                        continue;
                if ((flags & DBUS_WATCH_READABLE) && (events & HEP_WATCH_IN))
                        cond |= DBUS_WATCH_READABLE;
                if ((flags & DBUS_WATCH_WRITABLE) && (events & HEP_WATCH_OUT))
                        cond |= DBUS_WATCH_WRITABLE;
                if (events & HEP_WATCH_ERR)
                        cond |= DBUS_WATCH_ERROR;
                if (events & HEP_WATCH_HUP)
                        cond |= DBUS_WATCH_HANGUP;
                if (cond)
                        dbus_watch_handle(ws[i], cond);
        }
        schedule_dispatch(l);
}

static int fd_sync(FdWatch *f) {
        uint32_t want = wanted_events(f);
        int r = 0;

        if (want == 0) {
                host_watch_remove(f->loop->host, f->host_watch);
                f->host_watch = NULL;
        } else if (!f->host_watch)
                r = host_watch_add(f->loop->host, f->fd, want, on_fd, f, &f->host_watch);
        else if (want != f->host_events)
                r = host_watch_update(f->loop->host, f->host_watch, want);
        f->host_events = want;
        return r;
}

static FdWatch *fd_find(BusLoop *l, int fd) {
        for (FdWatch *f = l->fds; f; f = f->next)
                if (f->fd == fd)
                        return f;
        return NULL;
}

static void remove_watch_group(BusLoop *l, FdWatch *f) {
        host_watch_remove(l->host, f->host_watch);
        for (FdWatch **p = &l->fds; *p; p = &(*p)->next)
                if (*p == f) {
                        *p = f->next;
                        break;
                }
        free(f);
}

static void remove_watch(DBusWatch *w, void *userdata);

static dbus_bool_t add_watch(DBusWatch *w, void *userdata) {
        BusLoop *l = userdata;
        int fd = dbus_watch_get_unix_fd(w);
        FdWatch *f = fd_find(l, fd);

        if (!f) {
                f = calloc(1, sizeof(FdWatch));
                if (!f)
                        return FALSE;
                *f = (FdWatch) { .loop = l, .fd = fd, .next = l->fds };
                l->fds = f;
        }
        if (f->n_watches < ELEMENTSOF(f->watches)) {
                f->watches[f->n_watches++] = w;
                dbus_watch_set_data(w, f, NULL);
                if (fd_sync(f) >= 0)
                        return TRUE;
                /* libdbus drops a watch it could not add without telling
                 * us: forget it here. */
                remove_watch(w, l);
                return FALSE;
        }
        if (f->n_watches == 0)
                remove_watch_group(l, f);
        return FALSE;
}

static void remove_watch(DBusWatch *w, void *userdata) {
        BusLoop *l = userdata;
        FdWatch *f = dbus_watch_get_data(w);

        if (!f)
                return;
        dbus_watch_set_data(w, NULL, NULL);
        l->removals++;
        for (size_t i = 0; i < f->n_watches; i++)
                if (f->watches[i] == w) {
                        f->watches[i] = f->watches[--f->n_watches];
                        break;
                }
        (void)fd_sync(f);
        if (f->n_watches == 0)
                remove_watch_group(l, f);
}

static void toggle_watch(DBusWatch *w, void *userdata) {
        FdWatch *f = dbus_watch_get_data(w);

        if (f)
                (void)fd_sync(f);
}

/* ---- timeouts ---- */

static void on_timeout(void *userdata) {
        Timeout *t = userdata;
        BusLoop *l = t->loop;
        DBusTimeout *dt = t->timeout;

        dbus_timeout_handle(dt);
        /* libdbus timeouts repeat until disabled or removed; handling may
         * have removed this one (then its data is gone). */
        if (dbus_timeout_get_data(dt) == t && dbus_timeout_get_enabled(dt))
                host_timer_rearm(l->host, t->timer, (uint64_t)dbus_timeout_get_interval(dt) * 1000);
        schedule_dispatch(l);
}

static void timeout_free(void *p) {
        Timeout *t = p;

        host_timer_remove(t->loop->host, t->timer);
        free(t);
}

static dbus_bool_t add_timeout(DBusTimeout *dt, void *userdata) {
        BusLoop *l = userdata;
        Timeout *t = calloc(1, sizeof(Timeout));
        uint64_t usec = dbus_timeout_get_enabled(dt) ? (uint64_t)dbus_timeout_get_interval(dt) * 1000 : UINT64_MAX;

        if (!t)
                return FALSE;
        *t = (Timeout) { .loop = l, .timeout = dt };
        if (host_timer_add(l->host, usec, on_timeout, t, &t->timer) < 0) {
                free(t);
                return FALSE;
        }
        dbus_timeout_set_data(dt, t, timeout_free);
        return TRUE;
}

static void remove_timeout(DBusTimeout *dt, void *userdata) {
        /* Frees our Timeout through its free function. */
        dbus_timeout_set_data(dt, NULL, NULL);
}

static void toggle_timeout(DBusTimeout *dt, void *userdata) {
        Timeout *t = dbus_timeout_get_data(dt);

        if (t)
                host_timer_rearm(t->loop->host, t->timer,
                                 dbus_timeout_get_enabled(dt) ? (uint64_t)dbus_timeout_get_interval(dt) * 1000 : UINT64_MAX);
}

/* ---- attaching ---- */

int bus_loop_attach(const hep_host *host, DBusConnection *c, BusLoop **ret) {
        BusLoop *l = calloc(1, sizeof(BusLoop));
        int r;

        if (!l)
                return -ENOMEM;
        *l = (BusLoop) { .host = host, .conn = c };
        r = host_timer_add(host, UINT64_MAX, on_dispatch_timer, l, &l->dispatch_timer);
        if (r < 0) {
                free(l);
                return r;
        }
        if (!dbus_connection_set_watch_functions(c, add_watch, remove_watch, toggle_watch, l, NULL) ||
            !dbus_connection_set_timeout_functions(c, add_timeout, remove_timeout, toggle_timeout, l, NULL)) {
                bus_loop_free(l);
                return -ENOMEM;
        }
        dbus_connection_set_dispatch_status_function(c, on_dispatch_status, l, NULL);
        schedule_dispatch(l);
        *ret = l;
        return 0;
}

BusLoop *bus_loop_free(BusLoop *l) {
        if (!l)
                return NULL;
        dbus_connection_set_dispatch_status_function(l->conn, NULL, NULL, NULL);
        /* Removes every watch and timeout through the callbacks above. */
        dbus_connection_set_watch_functions(l->conn, NULL, NULL, NULL, NULL, NULL);
        dbus_connection_set_timeout_functions(l->conn, NULL, NULL, NULL, NULL, NULL);
        host_timer_remove(l->host, l->dispatch_timer);
        free(l);
        return NULL;
}
