/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The staged view; see staged.h. Promotion as Calico's API defines it
 * (api/pkg/apis/projectcalico/v3: ConvertStagedGlobalPolicyToEnforced
 * turns a staged policy into its stagedAction and a GlobalNetworkPolicy of
 * the same name, which Set creates or updates and Delete removes). */
#include "staged.h"

#include <stdlib.h>

StagedAction staged_action_of(const Resource *staged) {
        return streq_ptr(staged->spec.policy.staged_action, "Delete") ? STAGED_DELETE : STAGED_SET;
}

bool resources_have_staged(Resource *const *resources, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (resources[i]->kind == KIND_STAGED_GLOBAL_NETWORK_POLICY)
                        return true;
        return false;
}

/* Whether a staged policy of r's name takes r's place. */
static bool superseded(const Resource *r, Resource *const *resources, size_t n) {
        if (r->kind != KIND_GLOBAL_NETWORK_POLICY)
                return false;
        for (size_t i = 0; i < n; i++)
                if (resources[i]->kind == KIND_STAGED_GLOBAL_NETWORK_POLICY &&
                    streq_ptr(resources[i]->meta.name, r->meta.name))
                        return true;
        return false;
}

/* The GlobalNetworkPolicy a staged Set stands for. */
static Resource *promote(const Resource *staged) {
        Resource *r = resource_copy_full(staged, false);

        if (!r)
                return NULL;
        /* Freed while the spec is still described as the staged kind's:
         * a GNP's description does not know this field. */
        r->spec.policy.staged_action = mfree_ptr(r->spec.policy.staged_action);
        r->kind = KIND_GLOBAL_NETWORK_POLICY;
        r->meta.uid = mfree_ptr(r->meta.uid);
        r->meta.resource_version = mfree_ptr(r->meta.resource_version);
        return r;
}

void staged_view_free(Resource **v, size_t n) {
        for (size_t i = 0; i < n; i++)
                resource_free(v[i]);
        free(v);
}

int staged_view(Resource *const *resources, size_t n, Resource ***ret, size_t *ret_n) {
        Resource **v = new_array(n, sizeof(Resource *));
        size_t k = 0;

        if (!v && n)
                return -ENOMEM;
        /* Quadratic in the worst case, but only over policies, and the
         * number of staged ones is small (a rollout at a time). */
        for (size_t i = 0; i < n; i++)
                if (resources[i]->kind != KIND_STAGED_GLOBAL_NETWORK_POLICY && !superseded(resources[i], resources, n))
                        v[k++] = resource_ref(resources[i]);
        for (size_t i = 0; i < n; i++) {
                if (resources[i]->kind != KIND_STAGED_GLOBAL_NETWORK_POLICY ||
                    staged_action_of(resources[i]) == STAGED_DELETE)
                        continue;
                v[k] = promote(resources[i]);
                if (!v[k]) {
                        staged_view_free(v, k);
                        return -ENOMEM;
                }
                k++;
        }
        *ret = v;
        *ret_n = k;
        return 0;
}

int staged_compute(Resource *const *resources, size_t n, const char *nodename, const HostInterface *ifaces,
                   size_t n_ifaces, StagedComputation *ret) {
        StagedComputation s = {};
        int r;

        r = staged_view(resources, n, &s.view, &s.n_view);
        if (r < 0)
                return r;
        r = ruleset_compute(s.view, s.n_view, nodename, ifaces, n_ifaces, NULL, NULL, &s.c);
        if (r < 0) {
                staged_view_free(s.view, s.n_view);
                return r;
        }
        *ret = s;
        return 0;
}

void staged_computation_done(StagedComputation *s) {
        /* The calculation borrows the view: it goes first. */
        computation_done(&s->c);
        staged_view_free(s->view, s->n_view);
        *s = (StagedComputation) {};
}
