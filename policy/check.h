/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What libcalico-go's client does to a resource before storing it:
 * defaulting (policy types, tier) and validation, with the validation
 * error positioned in the user's file. */
#pragma once

#include "error.h"
#include "loader.h"
#include "resource.h"

/* GNP/NP: tier "default" when empty, types derived from the rules, and the
 * projectcalico.org/tier label Calico shows on every read. */
int resource_apply_defaults(Resource *r);
/* Defaults, then validates. On failure reterr holds the calicoctl text
 * ("error with field ...") at the position of the first failing field. */
int resource_check(Resource *r, ParseError *reterr);
/* Resources to store, from text (the D-Bus Apply document): parsed, and
 * each checked on a copy, so that what is stored is what was given (the
 * defaults are Calico's to apply on read). All or nothing: on success *ret,
 * empty before, holds them all; on failure it is left untouched. */
int resources_parse_checked(const char *file, const char *data, size_t len, ResourceList *ret, ParseError *reterr);

/* The tiers Calico creates on first use (kube-admin, default,
 * kube-baseline); they always exist here. Index 0..n-1; NULL past the end. */
typedef struct BuiltinTier {
        const char *name;
        double order;
        const char *default_action;
} BuiltinTier;

const BuiltinTier *builtin_tier(size_t i);
const BuiltinTier *builtin_tier_find(const char *name);
