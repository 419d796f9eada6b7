/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Turns "what the datastore says" plus "what interfaces exist" into rules
 * in the kernel: calculation, compilation, and a commit through the nft
 * backend that sends only what changed. Keeps the last calculation so the
 * daemon (and D-Bus) can say what is enforced where and why. */
#pragma once

#include "calc.h"
#include "datastore.h"
#include "links.h"
#include "nft.h"

typedef struct Enforcer Enforcer;

int enforcer_new(Datastore *ds, const char *nodename, Enforcer **ret);
Enforcer *enforcer_free(Enforcer *e);
DEFINE_CLEANUP_FUNC(Enforcer, enforcer_free)

/* Recomputes from the datastore's current entries (call datastore_refresh
 * first) and the given interfaces, and commits the difference. On failure
 * the kernel keeps its previous rules and *ret_error says why. */
int enforcer_apply(Enforcer *e, const HostInterface *ifaces, size_t n_ifaces, char **ret_error);
/* The next apply settles interfaces bound by address into the dispatch
 * maps (compile.h): a slower commit, for when nothing is waiting on it.
 * A full replace (the first apply, or after a failed commit or a reload)
 * always settles. */
void enforcer_settle_next(Enforcer *e);
/* Flow logs in the rules (policy/flowlog.h) from the next apply on. */
void enforcer_set_flow_logs(Enforcer *e, bool on);
const Calc *enforcer_calc(const Enforcer *e);
/* The ruleset the last successful apply's resources would give with every
 * StagedGlobalNetworkPolicy promoted (staged.h), for the same interfaces;
 * never committed. NULL when there was no staged policy. */
const Ruleset *enforcer_staged_ruleset(const Enforcer *e);

/* How long the last apply took: calculation + compilation, and the
 * nftables transaction; and whether it changed anything. */
typedef struct EnforcerTimings {
        uint64_t compute_usec;
        uint64_t commit_usec;
        uint64_t kernel_usec; /* of commit_usec, the kernel's (0: unknown) */
        bool sent; /* the kernel's rules changed (a transaction was sent) */
} EnforcerTimings;
EnforcerTimings enforcer_timings(const Enforcer *e);
NftBackend *enforcer_backend(Enforcer *e);
