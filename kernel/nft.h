/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The nftables backend: commits rulesets to the kernel (never an `nft`
 * process). The first commit replaces our table in one transaction;
 * later ones send only the difference to what was last committed. Both
 * are netlink batches built from the ruleset (nft-batch.h); libnftables
 * takes, as text, what a batch cannot express, and answers listings. A
 * failed commit changes nothing in the kernel, keeps the last committed
 * ruleset as the reference, and reports the kernel's text. */
#pragma once

#include "ruleset.h"

typedef struct NftBackend NftBackend;

/* One libnftables context for the backend's life: each opens a netlink
 * socket, and libnftables exit()s on out-of-memory, so make few. */
int nft_backend_new(NftBackend **ret);
NftBackend *nft_backend_free(NftBackend *b);
DEFINE_CLEANUP_FUNC(NftBackend, nft_backend_free)

/* Commits as netlink batches (the default), or through libnftables as
 * text. The environment's HEP_NFT_BATCH=0 starts without batches;
 * HEP_NFT_BATCH=strict (the tests) makes a commit that cannot be a batch
 * fail instead of falling back. */
void nft_backend_use_batch(NftBackend *b, bool use);
/* How many commits went through libnftables although batches were on,
 * and why the last one did. */
unsigned nft_backend_fallbacks(const NftBackend *b, const char **ret_reason);
/* The port id batches are sent from; 0 without batches. */
uint32_t nft_backend_batch_portid(const NftBackend *b);

/* Takes ownership of rs on success: 1 if a transaction was sent, 0 if
 * the kernel already had rs. On failure *ret_error (if given) holds
 * libnftables' error text; the next commit is a full replace. */
int nft_backend_commit(NftBackend *b, Ruleset *rs, char **ret_error);
/* Forget what was committed, so the next commit replaces the table. */
void nft_backend_reset(NftBackend *b);
/* The next commit also clears the table's flags (someone set it dormant),
 * and sends a transaction even if nothing else changed. */
void nft_backend_restore_flags(NftBackend *b);
const Ruleset *nft_backend_committed(const NftBackend *b);
/* How long the kernel took over the last commit's transaction, if it was
 * a netlink batch (else 0): the floor under what the commit cost. */
uint64_t nft_backend_kernel_usec(const NftBackend *b);
/* The netlink port id our transactions are committed through, which
 * names them in nftables' notifications (nft-monitor.h); 0 if unknown.
 * It changes when a big commit renews libnftables' context. */
uint32_t nft_backend_portid(const NftBackend *b);
/* libnftables (1.0.6, Debian 12) reads every chain, set and counter of
 * the network namespace before running any command that touches elements
 * or rules, and reads them again once a transaction has moved the
 * ruleset's generation: about 1 ms for 1,400 chains, on each commit. (Version 1.1.1
 * reads chains only on error.) Warming runs a transaction that changes
 * nothing, at a time when nothing waits on it: the next commit then finds
 * the cache current, unless someone else changed the ruleset meanwhile.
 * True when a libnftables commit since the last warming left the cache
 * stale; never while commits go as batches, which need no cache. */
bool nft_backend_cold(const NftBackend *b);
void nft_backend_warm(NftBackend *b);
/* Runs a read-only command (e.g. "list chain inet hostendpoint X") with
 * JSON output; *ret is the output text. */
int nft_backend_query_json(NftBackend *b, const char *cmd, char **ret, char **ret_error);
