/* host_log: formats and hands one line to the host's logger. */
#include "host.h"

#include <stdio.h>
#include <stdlib.h>

void host_log(const hep_host *h, int priority, const char *fmt, ...) {
        char buf[1024];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        if (h && h->log)
                h->log(h->host_data, priority, buf);
}
