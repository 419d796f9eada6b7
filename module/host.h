/* Thin helpers over the host ABI (include/hostendpoint/plugin.h), so the
 * plugin's modules read as plain calls: host_watch_add(h, ...). */
#pragma once

#include <stdarg.h>

#include "hostendpoint/plugin.h"
#include "macro.h"

static inline int host_watch_add(const hep_host *h, int fd, uint32_t events, hep_fd_callback cb, void *userdata,
                                 hep_watch **ret) {
        return h->watch_add(h->host_data, fd, events, cb, userdata, ret);
}

static inline void host_watch_remove(const hep_host *h, hep_watch *w) {
        if (w)
                h->watch_remove(h->host_data, w);
}

static inline int host_timer_add(const hep_host *h, uint64_t usec, hep_timer_callback cb, void *userdata,
                                 hep_timer **ret) {
        return h->timer_add(h->host_data, usec, cb, userdata, ret);
}

static inline int host_timer_rearm(const hep_host *h, hep_timer *t, uint64_t usec) {
        return h->timer_rearm(h->host_data, t, usec);
}

static inline void host_timer_remove(const hep_host *h, hep_timer *t) {
        if (t)
                h->timer_remove(h->host_data, t);
}

void host_log(const hep_host *h, int priority, const char *fmt, ...) _printf_(3, 4);
