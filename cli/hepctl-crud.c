/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hepctl create/apply/replace/delete/validate/patch: calicoctl's flow and
 * its exact messages (calicoctl/commands/{create,apply,replace,delete,
 * validate,patch}.go in Calico v3.32). Errors per resource do not stop the
 * others; exit status is 1 if anything failed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "client.h"
#include "hepctl.h"
#include "parse.h"
#include "strbuf.h"

/* The kind named in messages: the one kind of all inputs, or NULL. */
static const char *single_kind(const ResourceList *l) {
        for (size_t i = 1; i < l->n; i++)
                if (l->v[i]->kind != l->v[0]->kind)
                        return NULL;
        return l->n ? kind_info(l->v[0]->kind)->name : NULL;
}

typedef struct Results {
        size_t handled;
        StrBuf errors; /* Go's fmt of []error: "[e1 e2]" without the brackets */
        size_t n_errors;
} Results;

static void results_add_error(Results *r, const char *msg) {
        if (r->n_errors++)
                strbuf_append_char(&r->errors, ' ');
        strbuf_append(&r->errors, msg);
}

/* The namespace a resource from a file is used with: -n wins if the file
 * has none; a mismatch is calicoctl's error. */
static int apply_cli_namespace(Resource *r, const char *ns, char **ret_error) {
        if (!ns || !kind_info(r->kind)->namespaced)
                return 0;
        if (!isempty(r->meta.namespace) && !streq(r->meta.namespace, ns)) {
                if (asprintf(ret_error, "resource namespace does not match client namespace. %s != %s",
                             r->meta.namespace, ns) < 0)
                        *ret_error = NULL;
                return -EINVAL;
        }
        free(r->meta.namespace);
        r->meta.namespace = strdup(ns);
        return r->meta.namespace ? 0 : -ENOMEM;
}

/* A namespaced NetworkPolicy is accepted, as calicoctl does, but it can
 * never select a host endpoint: say so, once per resource. */
static void warn_network_policy(const Resource *r) {
        _cleanup_free_ char *id = NULL;

        if (r->kind != KIND_NETWORK_POLICY)
                return;
        id = resource_identifier(r);
        fprintf(stderr, "warning: %s is a namespaced NetworkPolicy; it never selects a host endpoint\n",
                id ? id : "NetworkPolicy");
}

static int print_summary(const char *verb, const char *past, const ResourceList *l, Results *res,
                         bool count_failures) {
        const char *kind = single_kind(l);
        size_t total = l->n;

        if (res->handled == 0 && res->n_errors > 0 && !count_failures) {
                if (total == 1)
                        hepctl_error("failed to %s '%s' resource: [%s]", verb, kind, strbuf_str(&res->errors));
                else if (kind)
                        hepctl_error("failed to %s any '%s' resources: [%s]", verb, kind, strbuf_str(&res->errors));
                else
                        hepctl_error("failed to %s any resources: [%s]", verb, strbuf_str(&res->errors));
                return HEPCTL_FAIL;
        }
        if (res->n_errors == 0) {
                if (kind)
                        printf("Successfully %s %zu '%s' resource(s)\n", past, res->handled, kind);
                else
                        printf("Successfully %s %zu resource(s)\n", past, res->handled);
                return HEPCTL_OK;
        }
        /* calicoctl prints the partial line only when successes outnumber
         * failures; replace counts failures as handled (its quirk). */
        if (res->handled > res->n_errors || (count_failures && res->handled > 0)) {
                if (kind)
                        printf("Partial success: %s the first %zu out of %zu '%s' resources:\n", past, res->handled,
                               total, kind);
                else
                        printf("Partial success: %s the first %zu out of %zu resources:\n", past, res->handled,
                               total);
        }
        if (count_failures)
                hepctl_error("hit error: %s", strbuf_str(&res->errors));
        else if (streq(verb, "create"))
                hepctl_error("hit error: [%s]", strbuf_str(&res->errors));
        else
                hepctl_error("hit error(s): [%s]", strbuf_str(&res->errors));
        return HEPCTL_FAIL;
}

static int load_or_report_empty(const HepctlArgs *c, ResourceList *l, int *ret_exit) {
        if (hepctl_load_input(c->file, c->recursive, l) < 0) {
                *ret_exit = HEPCTL_FAIL;
                return -EINVAL;
        }
        if (l->n == 0) {
                if (c->skip_empty) {
                        printf("No resources specified\n");
                        *ret_exit = HEPCTL_OK;
                } else {
                        hepctl_error("no resources specified in file %s", c->file);
                        *ret_exit = HEPCTL_FAIL;
                }
                return -ENODATA;
        }
        return 0;
}

static int run_write(const HepctlArgs *c, const char *verb, const char *past, ClientAction action) {
        _cleanup_(resource_list_done) ResourceList l = RESOURCE_LIST_INIT;
        _cleanup_(datastore_freep) Datastore *ds = NULL;
        Results res = {};
        int code;

        if (load_or_report_empty(c, &l, &code) < 0)
                return code;
        if (hepctl_open_datastore(&c->global, &ds) < 0)
                return HEPCTL_FAIL;

        for (size_t i = 0; i < l.n; i++) {
                _cleanup_free_ char *err = NULL;
                int r = apply_cli_namespace(l.v[i], c->ns, &err);

                if (r >= 0)
                        r = client_execute(ds, action, l.v[i], NULL, &err);
                if (r == STORE_EXISTS && c->skip_exists)
                        r = 0;
                if (r == 0) {
                        warn_network_policy(l.v[i]);
                        res.handled++;
                } else {
                        if (action == CLIENT_REPLACE) {
                                /* replace keeps only the last error, and counts the failure. */
                                strbuf_done(&res.errors);
                                res.n_errors = 0;
                                res.handled++;
                        }
                        results_add_error(&res, err ? err : store_strerror(r));
                }
        }
        code = print_summary(verb, past, &l, &res, action == CLIENT_REPLACE);
        strbuf_done(&res.errors);
        return code;
}

int hepctl_create(const HepctlArgs *a) {
        return run_write(a, "create", "created", CLIENT_CREATE);
}

int hepctl_apply(const HepctlArgs *a) {
        return run_write(a, "apply", "applied", CLIENT_APPLY);
}

int hepctl_replace(const HepctlArgs *a) {
        return run_write(a, "replace", "replaced", CLIENT_REPLACE);
}

int hepctl_validate(const HepctlArgs *a) {
        _cleanup_(resource_list_done) ResourceList l = RESOURCE_LIST_INIT;
        Results res = {};
        int code;

        if (load_or_report_empty(a, &l, &code) < 0)
                return code;
        /* Offline, like calicoctl validate: defaults and the validator,
         * without a datastore. */
        for (size_t i = 0; i < l.n; i++) {
                ParseError e = PARSE_ERROR_INIT;
                int r = resource_check(l.v[i], &e);

                if (r >= 0) {
                        warn_network_policy(l.v[i]);
                        res.handled++;
                } else {
                        _cleanup_free_ char *msg = parse_error_format(&e);
                        results_add_error(&res, msg ? msg : strerror(-r));
                }
                parse_error_done(&e);
        }
        code = print_summary("validate", "validated", &l, &res, false);
        strbuf_done(&res.errors);
        return code;
}

/* delete KIND NAME... or delete -f FILE. Each failure is its own line. */
int hepctl_delete(const HepctlArgs *c) {
        _cleanup_(resource_list_done) ResourceList l = RESOURCE_LIST_INIT;
        _cleanup_(datastore_freep) Datastore *ds = NULL;
        StrBuf failures = STRBUF_INIT;
        const KindInfo *k = c->kind;
        size_t handled = 0;
        int code;

        if (!k && load_or_report_empty(c, &l, &code) < 0)
                return code;
        if (hepctl_open_datastore(&c->global, &ds) < 0)
                return HEPCTL_FAIL;

        size_t total = k ? c->n_names : l.n;
        for (size_t i = 0; i < total; i++) {
                _cleanup_free_ char *err = NULL;
                const char *kind_name;
                int r;

                if (k) {
                        kind_name = k->name;
                        r = client_delete_by_name(ds, k->kind, c->ns, c->names[i], NULL, &err);
                } else {
                        kind_name = kind_info(l.v[i]->kind)->name;
                        r = apply_cli_namespace(l.v[i], c->ns, &err);
                        if (r >= 0)
                                r = client_execute(ds, CLIENT_DELETE, l.v[i], NULL, &err);
                }
                if (r == STORE_NOT_FOUND && c->skip_not_exists)
                        r = 0;
                if (r == 0)
                        handled++;
                else
                        strbuf_printf(&failures, "Failed to delete '%s' resource: %s\n", kind_name,
                                      err ? err : store_strerror(r));
        }
        if (handled > 0) {
                const char *kind = k ? k->name : single_kind(&l);
                if (kind)
                        printf("Successfully deleted %zu '%s' resource(s)\n", handled, kind);
                else
                        printf("Successfully deleted %zu resource(s)\n", handled);
        }
        code = failures.len ? HEPCTL_FAIL : HEPCTL_OK;
        if (failures.len)
                fprintf(stderr, "%s\n", strbuf_str(&failures));
        strbuf_done(&failures);
        return code;
}

/* Merges patch into target: maps recursively, null deletes, anything else
 * replaces (Calico's types declare no list merge keys). */
static int merge_patch(Node *target, const Node *patch) {
        for (size_t i = 0; i < patch->n; i++) {
                const char *key = patch->entries[i].key->text;
                const Node *pv = patch->entries[i].value;
                Node *tv = node_map_get(target, key);

                if (node_is_null(pv)) {
                        node_free(node_map_take(target, key));
                        continue;
                }
                if (tv && tv->type == NODE_MAP && pv->type == NODE_MAP) {
                        int r = merge_patch(tv, pv);
                        if (r < 0)
                                return r;
                        continue;
                }
                node_free(node_map_take(target, key));
                if (node_map_set(target, key, node_copy(pv)) < 0)
                        return -ENOMEM;
        }
        return 0;
}

int hepctl_patch(const HepctlArgs *c) {
        _cleanup_(datastore_freep) Datastore *ds = NULL;
        _cleanup_(resource_freep) Resource *cur = NULL, *patched = NULL;
        _cleanup_(node_freep) Node *tree = NULL;
        _cleanup_(document_list_done) DocumentList docs = DOCUMENT_LIST_INIT;
        _cleanup_free_ char *err = NULL, *msg = NULL;
        ParseError e = PARSE_ERROR_INIT;
        const KindInfo *k = c->kind;
        int r;

        if (hepctl_open_datastore(&c->global, &ds) < 0)
                return HEPCTL_FAIL;
        r = parse_documents("--patch", c->patch, strlen(c->patch), &docs, &e);
        if (r >= 0 && (docs.n != 1 || docs.docs[0].root->type != NODE_MAP))
                r = parse_error_set(&e, "--patch", 1, 1, NULL, "the patch must be one JSON object");
        if (r < 0) {
                msg = parse_error_format(&e);
                parse_error_done(&e);
                hepctl_error("hit error: performing strategic merge patch: %s", msg ? msg : strerror(-r));
                return HEPCTL_FAIL;
        }
        r = client_get(ds, k->kind, c->ns, c->names[0], &cur, &err);
        if (r != 0) {
                hepctl_error("hit error: %s", err ? err : store_strerror(r));
                return HEPCTL_FAIL;
        }
        tree = resource_encode(cur);
        if (!tree || merge_patch(tree, docs.docs[0].root) < 0)
                return HEPCTL_FAIL;
        r = resource_decode("--patch", &tree, &patched, &e);
        if (r < 0) {
                msg = parse_error_format(&e);
                parse_error_done(&e);
                hepctl_error("hit error: creating resource from patched data: %s", msg ? msg : strerror(-r));
                return HEPCTL_FAIL;
        }
        r = client_execute(ds, CLIENT_REPLACE, patched, NULL, &err);
        if (r != 0) {
                hepctl_error("hit error: updating existing resource: %s", err ? err : store_strerror(r));
                return HEPCTL_FAIL;
        }
        printf("Successfully patched 1 '%s' resource\n", k->name);
        return HEPCTL_OK;
}
