/* SPDX-License-Identifier: GPL-2.0-or-later */
/* host_log: formats and hands one line to the host's logger. */
#include "host.h"

#include <stdio.h>
#include <stdlib.h>

static void host_logv(const hep_host *h, int priority, const char *fmt, va_list ap) _printf_(3, 0);
static void host_logv(const hep_host *h, int priority, const char *fmt, va_list ap) {
        char buf[1024];

        vsnprintf(buf, sizeof(buf), fmt, ap);
        if (h && h->log)
                h->log(h->host_data, priority, buf);
}

void host_log(const hep_host *h, int priority, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        host_logv(h, priority, fmt, ap);
        va_end(ap);
}

int host_log_errno(const hep_host *h, int priority, int error, const char *fmt, ...) {
        va_list ap;

        error = error < 0 ? -error : error;
        errno = error; /* for %m */
        va_start(ap, fmt);
        host_logv(h, priority, fmt, ap);
        va_end(ap);
        return -error;
}
