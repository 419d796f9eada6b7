/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libcalico-go client semantics over the datastore; see client.h. Texts are
 * Calico's (libcalico-go/lib/errors and clientv3). */
#include "client.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "intern.h"
#include "strbuf.h"

static int set_error(char **ret_error, int code, const char *fmt, ...) _printf_(3, 4);
static int set_error(char **ret_error, int code, const char *fmt, ...) {
        va_list ap;

        if (ret_error) {
                free(*ret_error);
                va_start(ap, fmt);
                if (vasprintf(ret_error, fmt, ap) < 0)
                        *ret_error = NULL;
                va_end(ap);
        }
        return code;
}

static int identifier_error(char **ret_error, int code, const char *fmt, ResourceKind kind, const char *ns,
                            const char *name) _printf_(3, 0);
static int identifier_error(char **ret_error, int code, const char *fmt, ResourceKind kind, const char *ns,
                            const char *name) {
        Resource tmp = { .kind = kind, .meta = { .name = (char *)name, .namespace = (char *)ns } };
        _cleanup_free_ char *id = resource_identifier(&tmp);

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
        return set_error(ret_error, code, fmt, id ? id : "?");
#pragma GCC diagnostic pop
}

static Resource *builtin_tier_new(const BuiltinTier *t) {
        _cleanup_(resource_freep) Resource *r = resource_new(KIND_TIER);

        if (!r)
                return NULL;
        r->meta.name = strdup(t->name);
        r->meta.resource_version = strdup("1");
        r->spec.tier.order = (OptFloat) { true, t->order };
        r->spec.tier.default_action = strdup(t->default_action);
        if (!r->meta.name || !r->meta.resource_version || !r->spec.tier.default_action)
                return NULL;
        return steal_ptr(r);
}

/* The built-in profile: allow everything both ways. */
static Resource *default_allow_new(void) {
        _cleanup_(resource_freep) Resource *r = resource_new(KIND_PROFILE);
        Rule *in, *out;

        if (!r)
                return NULL;
        in = calloc(1, sizeof(Rule));
        out = calloc(1, sizeof(Rule));
        r->spec.profile.ingress = (RuleList) { in, in ? 1 : 0 };
        r->spec.profile.egress = (RuleList) { out, out ? 1 : 0 };
        r->meta.name = strdup(DEFAULT_ALLOW_PROFILE);
        r->meta.resource_version = strdup("1");
        if (!in || !out || !r->meta.name || !r->meta.resource_version)
                return NULL;
        in->action = strdup("Allow");
        out->action = strdup("Allow");
        if (!in->action || !out->action)
                return NULL;
        return steal_ptr(r);
}

static bool tier_exists(Datastore *ds, const char *tier) {
        return builtin_tier_find(tier) || datastore_find(ds, KIND_TIER, NULL, tier);
}

static bool tier_in_use(Datastore *ds, const char *tier) {
        const StoreEntry *e;
        size_t n;

        datastore_entries(ds, &e, &n);
        for (size_t i = 0; i < n; i++)
                if (kind_is_policy(e[i].res->kind) && streq_ptr(e[i].res->spec.policy.tier, tier))
                        return true;
        return false;
}

/* Namespace rules calicoctl applies before calling the client. */
static int check_namespace(Resource *r, char **ret_error) {
        const KindInfo *k = kind_info(r->kind);

        if (!k->namespaced) {
                if (!isempty(r->meta.namespace))
                        return set_error(ret_error, -EINVAL,
                                         "namespace should not be specified for a non-namespaced resource. %s is not a namespaced resource",
                                         k->name);
                return 0;
        }
        if (isempty(r->meta.namespace)) {
                free(r->meta.namespace);
                r->meta.namespace = strdup("default");
                if (!r->meta.namespace)
                        return -ENOMEM;
        }
        return 0;
}

static int validate_for_write(Datastore *ds, Resource *r, bool creating, char **ret_error) {
        ParseError e = PARSE_ERROR_INIT;
        int k;

        if (isempty(r->meta.name))
                return set_error(ret_error, -EINVAL,
                                 "error with field Metadata.Name = '' (field must be set for a %s request)",
                                 creating ? "Create" : "Update");
        if (creating && kind_is_policy(r->kind)) {
                const char *tier = isempty(r->spec.policy.tier) ? "default" : r->spec.policy.tier;
                if (!tier_exists(ds, tier))
                        return identifier_error(ret_error, STORE_NOT_FOUND, "resource does not exist: %s with error: <nil>",
                                                KIND_TIER, NULL, tier);
        }
        k = resource_check(r, &e);
        if (k == -EINVAL) {
                _cleanup_free_ char *msg = parse_error_format(&e);
                k = set_error(ret_error, -EINVAL, "%s", msg ? msg : "invalid resource");
        }
        parse_error_done(&e);
        return k;
}

static int client_create(Datastore *ds, Resource *r, Resource **ret, char **ret_error) {
        int k;

        if (!isempty(r->meta.resource_version))
                return set_error(ret_error, -EINVAL,
                                 "error with field Metadata.ResourceVersion = '%s' (field must not be set for a Create request)",
                                 r->meta.resource_version);
        if (r->kind == KIND_PROFILE && streq_ptr(r->meta.name, DEFAULT_ALLOW_PROFILE))
                return set_error(ret_error, STORE_EXISTS,
                                 "resource already exists: %s with error: %s already exists. The profile \"%s\" is default provided by Calico",
                                 DEFAULT_ALLOW_PROFILE, DEFAULT_ALLOW_PROFILE, DEFAULT_ALLOW_PROFILE);
        if (r->kind == KIND_TIER && builtin_tier_find(r->meta.name) &&
            !datastore_find(ds, KIND_TIER, NULL, r->meta.name))
                return identifier_error(ret_error, STORE_EXISTS, "resource already exists: %s with error: <nil>", r->kind,
                                        NULL, r->meta.name);
        /* calicoctl keeps only name, namespace, labels and annotations. */
        r->meta.uid = mfree_ptr(r->meta.uid);
        intern_unref(r->meta.creation_timestamp);
        r->meta.creation_timestamp = NULL;
        k = validate_for_write(ds, r, true, ret_error);
        if (k != 0)
                return k;
        k = datastore_create(ds, r, ret, ret_error);
        if (k == STORE_EXISTS)
                return identifier_error(ret_error, k, "resource already exists: %s with error: <nil>", r->kind,
                                        r->meta.namespace, r->meta.name);
        return k;
}

static int client_update(Datastore *ds, Resource *r, Resource **ret, char **ret_error) {
        int k;

        if (r->kind == KIND_PROFILE && streq_ptr(r->meta.name, DEFAULT_ALLOW_PROFILE))
                return set_error(ret_error, -EOPNOTSUPP,
                                 "operation Update is not supported on %s: The profile \"%s\" is a default provided by Calico and cannot be updated",
                                 DEFAULT_ALLOW_PROFILE, DEFAULT_ALLOW_PROFILE);
        k = validate_for_write(ds, r, false, ret_error);
        if (k != 0)
                return k;
        /* A built-in tier that was never written: the update stores it. */
        if (r->kind == KIND_TIER && builtin_tier_find(r->meta.name) &&
            !datastore_find(ds, KIND_TIER, NULL, r->meta.name)) {
                r->meta.resource_version = mfree_ptr(r->meta.resource_version);
                return datastore_create(ds, r, ret, ret_error);
        }
        k = datastore_update(ds, r, ret, ret_error);
        if (k == STORE_NOT_FOUND)
                return identifier_error(ret_error, k, "resource does not exist: %s with error: <nil>", r->kind,
                                        r->meta.namespace, r->meta.name);
        if (k == STORE_CONFLICT)
                return identifier_error(ret_error, k, "update conflict: %s", r->kind, r->meta.namespace,
                                        r->meta.name);
        return k;
}

static int delete_checked(Datastore *ds, ResourceKind kind, const char *ns, const char *name, const char *rv,
                          Resource **ret, char **ret_error) {
        int k;

        if (kind == KIND_PROFILE && streq_ptr(name, DEFAULT_ALLOW_PROFILE))
                return set_error(ret_error, -EOPNOTSUPP,
                                 "operation Delete is not supported on %s: The profile \"%s\" is a default provided by Calico and cannot be deleted",
                                 DEFAULT_ALLOW_PROFILE, DEFAULT_ALLOW_PROFILE);
        if (kind == KIND_TIER && builtin_tier_find(name))
                return set_error(ret_error, -EOPNOTSUPP, "operation Delete is not supported on %s: Cannot delete %s tier",
                                 name, name);
        if (kind == KIND_TIER) {
                k = datastore_refresh(ds);
                if (k < 0)
                        return k;
                if (tier_in_use(ds, name))
                        return set_error(ret_error, -EOPNOTSUPP,
                                         "operation delete is not supported on %s: Cannot delete a non-empty tier", name);
        }
        k = datastore_delete(ds, kind, ns, name, rv, ret, ret_error);
        if (k == STORE_NOT_FOUND)
                return identifier_error(ret_error, k, "resource does not exist: %s with error: <nil>", kind, ns, name);
        if (k == STORE_CONFLICT)
                return identifier_error(ret_error, k, "update conflict: %s", kind, ns, name);
        return k;
}

int client_delete_by_name(Datastore *ds, ResourceKind kind, const char *ns, const char *name, Resource **ret,
                          char **ret_error) {
        if (isempty(name))
                return set_error(ret_error, -EINVAL, "resource name may not be empty");
        if (kind_info(kind)->namespaced && isempty(ns))
                ns = "default";
        return delete_checked(ds, kind, ns, name, NULL, ret, ret_error);
}

int client_execute(Datastore *ds, ClientAction action, const Resource *input, Resource **ret, char **ret_error) {
        _cleanup_(resource_freep) Resource *r = resource_copy(input);
        _cleanup_free_ char *rv = NULL;
        int k;

        if (!r)
                return -ENOMEM;
        k = check_namespace(r, ret_error);
        if (k < 0)
                return k;

        switch (action) {
        case CLIENT_CREATE:
                return client_create(ds, r, ret, ret_error);
        case CLIENT_REPLACE:
                return client_update(ds, r, ret, ret_error);
        case CLIENT_APPLY:
                /* calicoctl: try Create without the resourceVersion; if it
                 * exists (or Create is not supported), Update with it. */
                rv = steal_ptr(r->meta.resource_version);
                k = client_create(ds, r, ret, ret_error);
                if (k != STORE_EXISTS && k != -EOPNOTSUPP)
                        return k;
                if (ret_error)
                        *ret_error = mfree_ptr(*ret_error);
                resource_free(r);
                r = resource_copy(input);
                if (!r)
                        return -ENOMEM;
                k = check_namespace(r, ret_error);
                if (k < 0)
                        return k;
                return client_update(ds, r, ret, ret_error);
        case CLIENT_DELETE:
                return delete_checked(ds, r->kind, r->meta.namespace, r->meta.name, r->meta.resource_version, ret,
                                      ret_error);
        case _CLIENT_ACTION_MAX:
        case _CLIENT_ACTION_INVALID:
                break;
        }
        return -EINVAL;
}

/* ---- reading ---- */

static int compare_by_name(const void *a, const void *b) {
        const Resource *x = *(Resource *const *)a, *y = *(Resource *const *)b;
        int c = strcmp(x->meta.namespace ? x->meta.namespace : "", y->meta.namespace ? y->meta.namespace : "");

        return c ? c : strcmp(x->meta.name, y->meta.name);
}

/* calicoctl sorts tiers by order, unset last, then by name. */
static int compare_tiers(const void *a, const void *b) {
        const Resource *x = *(Resource *const *)a, *y = *(Resource *const *)b;
        const OptFloat *ox = &x->spec.tier.order, *oy = &y->spec.tier.order;

        if (ox->set != oy->set)
                return ox->set ? -1 : 1;
        if (ox->set && ox->v != oy->v)
                return ox->v < oy->v ? -1 : 1;
        return strcmp(x->meta.name, y->meta.name);
}

static int list_add_copy(ResourceList *l, const Resource *r) {
        Resource *c = resource_copy_full(r, false);
        int k;

        if (!c)
                return -ENOMEM;
        k = resource_list_add(l, c);
        if (k < 0)
                resource_free(c);
        return k;
}

static int list_add_owned(ResourceList *l, Resource *r) {
        int k;

        if (!r)
                return -ENOMEM;
        k = resource_list_add(l, r);
        if (k < 0)
                resource_free(r);
        return k;
}

int client_list(Datastore *ds, ResourceKind kind, const char *ns, ResourceList *ret) {
        const StoreEntry *e;
        size_t n, first = ret->n;
        int k;

        k = datastore_refresh(ds);
        if (k < 0)
                return k;
        datastore_entries(ds, &e, &n);
        for (size_t i = 0; i < n; i++) {
                if (e[i].res->kind != kind || (ns && !streq_ptr(e[i].res->meta.namespace, ns)))
                        continue;
                k = list_add_copy(ret, e[i].res);
                if (k < 0)
                        return k;
        }
        if (kind == KIND_TIER)
                for (size_t i = 0; builtin_tier(i); i++)
                        if (!datastore_find(ds, KIND_TIER, NULL, builtin_tier(i)->name)) {
                                k = list_add_owned(ret, builtin_tier_new(builtin_tier(i)));
                                if (k < 0)
                                        return k;
                        }
        /* Nothing listed: ret->v may be NULL, and NULL + 0 is undefined. */
        if (ret->n > first)
                qsort_safe(ret->v + first, ret->n - first, sizeof(Resource *),
                           kind == KIND_TIER ? compare_tiers : compare_by_name);
        /* The etcd backend appends the default-allow profile to every list. */
        if (kind == KIND_PROFILE) {
                k = list_add_owned(ret, default_allow_new());
                if (k < 0)
                        return k;
        }
        return 0;
}

int client_get(Datastore *ds, ResourceKind kind, const char *ns, const char *name, Resource **ret,
               char **ret_error) {
        const StoreEntry *e;
        int k;

        if (isempty(name))
                return set_error(ret_error, -EINVAL, "resource name may not be empty");
        if (kind_info(kind)->namespaced && isempty(ns))
                ns = "default";
        if (kind == KIND_PROFILE && streq(name, DEFAULT_ALLOW_PROFILE)) {
                *ret = default_allow_new();
                return *ret ? 0 : -ENOMEM;
        }
        k = datastore_refresh(ds);
        if (k < 0)
                return k;
        e = datastore_find(ds, kind, ns, name);
        if (e) {
                *ret = resource_copy(e->res);
                return *ret ? 0 : -ENOMEM;
        }
        if (kind == KIND_TIER && builtin_tier_find(name)) {
                *ret = builtin_tier_new(builtin_tier_find(name));
                return *ret ? 0 : -ENOMEM;
        }
        return identifier_error(ret_error, STORE_NOT_FOUND, "resource does not exist: %s with error: <nil>", kind, ns, name);
}
