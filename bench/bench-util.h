/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the benchmarks share: a clock, sorting samples, and (with the
 * policy library, bench-resources.c) resources loaded from YAML text. */
#pragma once

#include <time.h>

static inline double now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static inline int compare_doubles(const void *a, const void *b) {
        double x = *(const double *)a, y = *(const double *)b;

        return x < y ? -1 : x > y;
}
