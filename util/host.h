/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Thin helpers over the host ABI (include/hostendpoint/plugin.h), so the
 * plugin's modules read as plain calls: host_watch_add(h, ...). */
#pragma once

#include <errno.h>
#include <stdarg.h>
#include <syslog.h> /* LOG_ERR ... LOG_DEBUG: the ABI's log priorities */

#include "hostendpoint/plugin.h"
#include "macro.h"

static inline int host_watch_add(const hep_host *h, int fd, uint32_t events, hep_fd_callback cb, void *userdata,
                                 hep_watch **ret) {
        return h->watch_add(h->host_data, fd, events, cb, userdata, ret);
}

static inline int host_watch_update(const hep_host *h, hep_watch *w, uint32_t events) {
        return h->watch_update(h->host_data, w, events);
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

/* priority: LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO or LOG_DEBUG. */
void host_log(const hep_host *h, int priority, const char *fmt, ...) _printf_(3, 4);
/* The same, with error (-errno or errno) as %m in fmt; returns -|error|,
 * so that a caller can "return host_log_errno(...)". */
int host_log_errno(const hep_host *h, int priority, int error, const char *fmt, ...) _printf_(4, 5);
