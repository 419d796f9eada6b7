/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A full replace of our table as one netlink batch, built with libnftnl
 * from the ruleset IR and sent on a socket of our own: no text is printed
 * and parsed again, so the first commit, a reload or a restoration costs
 * what the kernel takes. The translation knows exactly the statements the
 * compiler writes (compile*.c); for anything else it says so, and the
 * caller commits through libnftables instead: never a guessed rule. */
#pragma once

#include <stdint.h>

#include "ruleset.h"

typedef struct NftBatchSocket NftBatchSocket;

int nft_batch_socket_new(NftBatchSocket **ret);
NftBatchSocket *nft_batch_socket_free(NftBatchSocket *s);
DEFINE_CLEANUP_FUNC(NftBatchSocket, nft_batch_socket_free)
/* How long the kernel took over the last batch: it runs the whole
 * transaction within sendmsg(). */
uint64_t nft_batch_socket_kernel_usec(const NftBatchSocket *s);
/* The netlink port id the batches are sent from (nft-monitor.h). */
uint32_t nft_batch_socket_portid(const NftBatchSocket *s);

/* Replaces the table with rs in one transaction. -EOPNOTSUPP: rs has a
 * statement, set type or element the translation does not know, and
 * nothing was sent (*ret_error says which). Another negative errno: the
 * kernel refused the batch, and changed nothing. */
int nft_batch_replace(NftBatchSocket *s, const Ruleset *rs, char **ret_error);

/* Turns old (what the kernel has) into new in one transaction: only what
 * differs (ruleset_diff()); with restore_flags, the table's flags are
 * cleared too. 1 if a batch was sent, 0 if nothing differed; errors as
 * nft_batch_replace(). */
int nft_batch_diff(NftBatchSocket *s, const Ruleset *old, const Ruleset *new, bool restore_flags,
                   char **ret_error);

/* The translation alone, into a batch that is then dropped: for tests of
 * what is known. */
int nft_batch_translate(const Ruleset *rs, char **ret_error);
