/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Defaulting and positioned validation; see check.h. */
#include "check.h"

#include "loader.h"
#include "validate.h"

#define TIER_LABEL "projectcalico.org/tier"

static void strlist_clear(StrList *l) {
        for (size_t i = 0; i < l->n; i++)
                free(l->v[i]);
        l->v = mfree_ptr(l->v);
        l->n = 0;
}

int resource_apply_defaults(Resource *r) {
        PolicySpec *p = &r->spec.policy;
        int k;

        if (r->kind == KIND_TIER)
                return tier_spec_default(&r->spec.tier);
        /* calicoctl puts a NetworkPolicy without one in "default". */
        if (r->kind == KIND_NETWORK_POLICY && isempty(r->meta.namespace)) {
                free(r->meta.namespace);
                r->meta.namespace = strdup("default");
                if (!r->meta.namespace)
                        return -ENOMEM;
        }
        if (!kind_is_policy(r->kind))
                return 0;
        if (isempty(p->tier)) {
                free(p->tier);
                p->tier = strdup("default");
                if (!p->tier)
                        return -ENOMEM;
        }
        /* The staged kind's CRD default, as v3.32 applies it client-side. */
        if (r->kind == KIND_STAGED_GLOBAL_NETWORK_POLICY && isempty(p->staged_action)) {
                free(p->staged_action);
                p->staged_action = strdup("Set");
                if (!p->staged_action)
                        return -ENOMEM;
        }
        /* A staged deletion has no types: Calico clears them after
         * defaulting, so that the spec is empty but for its tier. */
        if (r->kind == KIND_STAGED_GLOBAL_NETWORK_POLICY && streq(p->staged_action, "Delete"))
                strlist_clear(&p->types);
        else {
                k = policy_spec_default_types(p);
                if (k < 0)
                        return k;
        }
        return labels_set(&r->meta.labels, TIER_LABEL, p->tier);
}

int resource_check(Resource *r, ParseError *reterr) {
        _cleanup_(validation_errors_done) ValidationErrors errs = {};
        _cleanup_free_ char *text = NULL;
        int k;

        k = resource_apply_defaults(r);
        if (k < 0)
                return k;
        k = resource_validate(r, &errs);
        if (k != -EINVAL)
                return k;
        text = validation_errors_format(&errs);
        if (!text)
                return -ENOMEM;
        return resource_error_at(r, errs.n ? errs.v[0].path : NULL, reterr, "%s", text);
}

int resources_parse_checked(const char *file, const char *data, size_t len, ResourceList *ret, ParseError *reterr) {
        _cleanup_(resource_list_done) ResourceList l = RESOURCE_LIST_INIT;
        int k = resources_parse(file, data, len, &l, reterr);

        for (size_t i = 0; k >= 0 && i < l.n; i++) {
                _cleanup_(resource_freep) Resource *copy = resource_copy(l.v[i]);
                k = copy ? resource_check(copy, reterr) : -ENOMEM;
        }
        if (k < 0)
                return k;
        *ret = l;
        l = (ResourceList) RESOURCE_LIST_INIT;
        return 0;
}

static const BuiltinTier builtin_tiers[] = {
        { "kube-admin", 1000, "Pass" },
        { "default", 1e6, "Deny" },
        { "kube-baseline", 1e7, "Pass" },
};

const BuiltinTier *builtin_tier(size_t i) {
        return i < ELEMENTSOF(builtin_tiers) ? &builtin_tiers[i] : NULL;
}

const BuiltinTier *builtin_tier_find(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(builtin_tiers); i++)
                if (streq_ptr(builtin_tiers[i].name, name))
                        return &builtin_tiers[i];
        return NULL;
}
