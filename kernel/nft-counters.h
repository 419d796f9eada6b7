/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The named counters of our table, read straight from the kernel. Used for
 * the packet and byte counters D-Bus shows per endpoint, on request. */
#pragma once

#include <stdint.h>

#include "macro.h"
#include "strmap.h"

typedef struct NftCounter {
        char *name;
        uint64_t packets;
        uint64_t bytes;
} NftCounter;

typedef struct NftCounters {
        NftCounter *v;
        size_t n, alloc;
        StrMap by_name;
} NftCounters;

#define NFT_COUNTERS_INIT {}

/* Every counter object of table inet hostendpoint. An absent table is no
 * counters, not an error. */
int nft_counters_read(NftCounters *ret);
const NftCounter *nft_counters_get(const NftCounters *c, const char *name);
void nft_counters_done(NftCounters *c);
