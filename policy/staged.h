/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The staged view: the resources as they would be if every
 * StagedGlobalNetworkPolicy were promoted now, and the ruleset they would
 * compile to. Staged policies are never enforced (calc.c does not read
 * them); this is what they would change, for `hepctl ruleset --staged`
 * and for the "pending" verdict of a flow. Pure: no I/O. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "compute.h"
#include "resource.h"

/* What promoting a staged policy does to the GlobalNetworkPolicy of its
 * name. Calico has four stagedActions; only Delete differs in its effect:
 * Learn and Ignore (set by Calico Enterprise's policy recommender) reach
 * Felix's pending evaluation exactly like Set. */
typedef enum StagedAction {
        STAGED_SET,    /* the GNP is created, or replaced by the staged spec */
        STAGED_DELETE, /* the GNP is removed */
        _STAGED_ACTION_MAX,
        _STAGED_ACTION_INVALID = -EINVAL,
} StagedAction;

/* An absent stagedAction is Set (the CRD's default). */
StagedAction staged_action_of(const Resource *staged);

bool resources_have_staged(Resource *const *resources, size_t n);

/* The promoted resource set: every resource but the staged policies and
 * the GNPs they replace or delete, referenced, then one new GNP per
 * staged Set (the staged spec and metadata, without uid and
 * resourceVersion, as Calico's ConvertStagedGlobalPolicyToEnforced makes
 * it). The input is not changed. Free *ret with staged_view_free(). */
int staged_view(Resource *const *resources, size_t n, Resource ***ret, size_t *ret_n);
void staged_view_free(Resource **v, size_t n);

/* staged_view(), then the calculation and compilation the daemon runs
 * (compute.h), with no caches: what the staged view would commit. */
typedef struct StagedComputation {
        Resource **view; /* staged_view()'s */
        size_t n_view;
        Computation c;   /* borrows view */
} StagedComputation;

int staged_compute(Resource *const *resources, size_t n, const char *nodename, const HostInterface *ifaces,
                   size_t n_ifaces, StagedComputation *ret);
/* Frees what it still holds (take c.ruleset and set it NULL to keep it). */
void staged_computation_done(StagedComputation *s);
