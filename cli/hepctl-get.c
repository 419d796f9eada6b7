/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hepctl get: calicoctl's listing and output formats (ps, wide,
 * custom-columns, yaml, json), plus -l SELECTOR, which shows what a Calico
 * selector picks. A HostEndpoint is matched on its own labels and those
 * its profiles apply (labelsToApply), the endpoint's own winning, exactly
 * as Felix decides which policies select it. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "hepctl.h"
#include "intern.h"
#include "selector.h"
#include "strbuf.h"

/* ---- columns ---- */

typedef struct KindColumns {
        const char *const *ps;
        const char *const *wide;
        const char *const *valid; /* custom-columns headings */
} KindColumns;

static const char *const hep_ps[] = { "NAME", "NODE", NULL };
static const char *const hep_wide[] = { "NAME", "NODE", "INTERFACE", "IPS", "PROFILES", NULL };
static const char *const profile_ps[] = { "NAME", NULL };
static const char *const profile_wide[] = { "NAME", "LABELS", NULL };
static const char *const policy_ps[] = { "NAME", "TIER", NULL };
static const char *const policy_wide[] = { "NAME", "TIER", "ORDER", "SELECTOR", NULL };
static const char *const np_valid[] = { "NAMESPACE", "NAME", "TIER", "ORDER", "SELECTOR", NULL };
static const char *const name_only[] = { "NAME", NULL };
static const char *const tier_ps[] = { "NAME", "ORDER", NULL };
static const char *const gns_wide[] = { "NAME", "NETS", NULL };

static const KindColumns kind_columns[_KIND_MAX] = {
        [KIND_HOST_ENDPOINT] = { hep_ps, hep_wide, hep_wide },
        [KIND_PROFILE] = { profile_ps, profile_wide, profile_wide },
        [KIND_GLOBAL_NETWORK_POLICY] = { policy_ps, policy_wide, policy_wide },
        [KIND_NETWORK_POLICY] = { policy_ps, policy_wide, np_valid },
        [KIND_TIER] = { tier_ps, tier_ps, tier_ps },
        [KIND_FELIX_CONFIGURATION] = { name_only, name_only, name_only },
        [KIND_GLOBAL_NETWORK_SET] = { name_only, gns_wide, gns_wide },
        [KIND_STAGED_GLOBAL_NETWORK_POLICY] = { policy_ps, policy_wide, policy_wide },
};

static void join_strlist(StrBuf *b, const StrList *l) {
        for (size_t i = 0; i < l->n; i++) {
                if (i)
                        strbuf_append_char(b, ',');
                strbuf_append(b, l->v[i]);
        }
}

/* calicoctl's joinAndTruncate: the items joined until the text passes
 * max bytes, then cut to max - 3 and "..." appended. */
static void join_truncate(StrBuf *b, const StrList *l, size_t max) {
        size_t start = b->len;

        for (size_t i = 0; i < l->n; i++) {
                if (i)
                        strbuf_append_char(b, ',');
                strbuf_append(b, l->v[i]);
                if (strbuf_ok(b) && b->len - start > max) {
                        strbuf_truncate(b, start + max - 3);
                        strbuf_append(b, "...");
                        break;
                }
        }
}

/* One cell, as calicoctl's column template renders it. */
static void cell_value(const Resource *r, const char *heading, StrBuf *b) {
        char num[32];

        if (streq(heading, "NAME"))
                strbuf_append(b, r->meta.name ? r->meta.name : "");
        else if (streq(heading, "NAMESPACE"))
                strbuf_append(b, r->meta.namespace ? r->meta.namespace : "");
        else if (streq(heading, "NODE"))
                strbuf_append(b, r->spec.hep.node ? r->spec.hep.node : "");
        else if (streq(heading, "INTERFACE"))
                strbuf_append(b, r->spec.hep.interface_name ? r->spec.hep.interface_name : "");
        else if (streq(heading, "IPS"))
                join_strlist(b, &r->spec.hep.expected_ips);
        else if (streq(heading, "PROFILES"))
                join_strlist(b, &r->spec.hep.profiles);
        else if (streq(heading, "NETS"))
                join_truncate(b, &r->spec.gns.nets, 80);
        else if (streq(heading, "LABELS"))
                for (size_t i = 0; i < r->spec.profile.labels_to_apply.n; i++)
                        strbuf_printf(b, "%s%s=%s", i ? "," : "", r->spec.profile.labels_to_apply.pairs[i].key,
                                      r->spec.profile.labels_to_apply.pairs[i].value);
        else if (streq(heading, "TIER"))
                strbuf_append(b, r->spec.policy.tier ? r->spec.policy.tier : "");
        else if (streq(heading, "SELECTOR"))
                strbuf_append(b, r->spec.policy.selector ? r->spec.policy.selector : "");
        else if (streq(heading, "ORDER")) {
                const OptFloat *o = r->kind == KIND_TIER ? &r->spec.tier.order : &r->spec.policy.order;
                if (!o->set)
                        strbuf_append(b, "<nil>"); /* a nil *float64 through text/template */
                else {
                        format_go_g(o->v, false, num);
                        strbuf_append(b, num);
                }
        }
}

static void print_table(const char *const *headings, size_t n_headings, Resource *const *items, size_t n) {
        Table t = { .n_cols = n_headings };

        for (size_t c = 0; c < n_headings; c++)
                table_add(&t, strdup(headings[c]));
        for (size_t i = 0; i < n; i++)
                for (size_t c = 0; c < n_headings; c++) {
                        StrBuf b = STRBUF_INIT;
                        cell_value(items[i], headings[c], &b);
                        table_add(&t, strbuf_steal(&b));
                }
        if (t.n_cells == (n + 1) * n_headings)
                table_print(&t);
}

static size_t strv_length(const char *const *v) {
        size_t n = 0;

        while (v[n])
                n++;
        return n;
}

/* The headings for this kind and format; custom ones are checked. */
static int headings_for(const KindInfo *k, const HepctlArgs *g, const char ***ret, size_t *ret_n) {
        const KindColumns *kc = &kind_columns[k->kind];
        static const char *with_ns[8];

        if (g->format == OUTPUT_CUSTOM) {
                for (size_t i = 0; i < g->n_columns; i++) {
                        bool ok = false;
                        for (const char *const *v = kc->valid; *v; v++)
                                ok = ok || streq(*v, g->columns[i]);
                        if (!ok) {
                                StrBuf b = STRBUF_INIT;
                                for (const char *const *v = kc->valid; *v; v++)
                                        strbuf_printf(&b, "%s%s", v == kc->valid ? "" : ", ", *v);
                                hepctl_error("unknown heading %s, valid values are: %s", g->columns[i], strbuf_str(&b));
                                strbuf_done(&b);
                                return -EINVAL;
                        }
                }
                *ret = (const char **)g->columns;
                *ret_n = g->n_columns;
                return 0;
        }
        const char *const *h = g->format == OUTPUT_WIDE ? kc->wide : kc->ps;
        /* NetworkPolicy tables get a NAMESPACE column with -n or -A. */
        if (k->namespaced && (g->ns || g->all_namespaces)) {
                size_t n = 0;
                with_ns[n++] = "NAMESPACE";
                for (; h[n - 1] && n < ELEMENTSOF(with_ns) - 1; n++)
                        with_ns[n] = h[n - 1];
                with_ns[n] = NULL;
                h = with_ns;
        }
        *ret = (const char **)h;
        *ret_n = strv_length(h);
        return 0;
}

/* ---- selection by label ---- */

typedef struct EndpointLabels {
        const Labels *own;
        const Labels *const *parents;
        size_t n_parents;
} EndpointLabels;

/* The endpoint's own label wins, then the first profile that has it. */
static const char *endpoint_label_lookup(const void *ctx, const char *key) {
        const EndpointLabels *e = ctx;
        const char *v = labels_get(e->own, key);

        for (size_t i = 0; !v && i < e->n_parents; i++)
                v = labels_get(e->parents[i], key);
        return v;
}

static bool resource_selected(const Selector *sel, const Resource *r, const ResourceList *profiles) {
        const Labels *parents[64];
        EndpointLabels e = { .own = &r->meta.labels, .parents = parents };

        if (r->kind == KIND_HOST_ENDPOINT)
                for (size_t i = 0; i < r->spec.hep.profiles.n && e.n_parents < ELEMENTSOF(parents); i++)
                        for (size_t j = 0; j < profiles->n; j++)
                                if (streq(profiles->v[j]->meta.name, r->spec.hep.profiles.v[i])) {
                                        parents[e.n_parents++] = &profiles->v[j]->spec.profile.labels_to_apply;
                                        break;
                                }
        return selector_eval_lookup(sel, endpoint_label_lookup, &e);
}

static int filter_by_selector(Datastore *ds, const char *text, ResourceList *l) {
        _cleanup_(selector_freep) Selector *sel = NULL;
        _cleanup_(resource_list_done) ResourceList profiles = RESOURCE_LIST_INIT;
        SelectorError se = {};
        size_t kept = 0;
        int r;

        r = selector_parse(text, &sel, &se);
        if (r < 0) {
                if (r == -EINVAL)
                        hepctl_error("invalid selector '%s': column %zu: %s", text, se.column, se.message);
                return r;
        }
        r = client_list(ds, KIND_PROFILE, NULL, &profiles);
        if (r < 0)
                return r;
        for (size_t i = 0; i < l->n; i++) {
                if (resource_selected(sel, l->v[i], &profiles))
                        l->v[kept++] = l->v[i];
                else
                        resource_free(l->v[i]);
        }
        l->n = kept;
        return 0;
}

/* ---- structured output ---- */

static void export_strip(Resource *r) {
        r->meta.namespace = mfree_ptr(r->meta.namespace);
        r->meta.uid = mfree_ptr(r->meta.uid);
        r->meta.resource_version = mfree_ptr(r->meta.resource_version);
        intern_unref(r->meta.creation_timestamp);
        r->meta.creation_timestamp = NULL;
}

static void print_node(const Node *n, OutputFormat f) {
        StrBuf b = STRBUF_INIT;

        if (f == OUTPUT_JSON) {
                node_emit_json(n, &b, true);
                strbuf_append_char(&b, '\n');
        } else
                node_emit_yaml(n, &b);
        fputs(strbuf_str(&b), stdout);
        strbuf_done(&b);
}

/* The list revision: the store's own (etcd's revision), else a digest
 * of the listed items' versions. */
static void list_revision(const Datastore *ds, const ResourceList *l, char buf[static 24]) {
        uint64_t h = 14695981039346656037ULL;

        if (datastore_revision(ds)) {
                snprintf(buf, 24, "%s", datastore_revision(ds));
                return;
        }
        for (size_t i = 0; i < l->n; i++)
                for (const char *p = l->v[i]->meta.resource_version; p && *p; p++) {
                        h ^= (unsigned char)*p;
                        h *= 1099511628211ULL;
                }
        snprintf(buf, 24, "%" PRIu64, h >> 11);
}

static void print_structured_list(const Datastore *ds, const KindInfo *k, const ResourceList *l, OutputFormat f) {
        char rev[24];
        Node *n;

        list_revision(ds, l, rev);
        n = resource_encode_list(k, l->v, l->n, rev);
        if (n)
                print_node(n, f);
        node_free(n);
}

static void print_structured_items(const ResourceList *l, OutputFormat f) {
        Node *n;

        if (l->n == 1)
                n = resource_encode(l->v[0]);
        else {
                n = node_new(NODE_SEQ, 0, 0);
                for (size_t i = 0; n && i < l->n; i++)
                        if (node_seq_add(n, resource_encode(l->v[i])) < 0)
                                n = node_free(n);
        }
        if (n)
                print_node(n, f);
        node_free(n);
}

/* ---- the command ---- */

static int print_results(const Datastore *ds, const KindInfo *k, ResourceList *l, bool listing, const HepctlArgs *g) {
        const char **h;
        size_t n_h;

        if (g->export)
                for (size_t i = 0; i < l->n; i++)
                        export_strip(l->v[i]);
        switch (g->format) {
        case OUTPUT_YAML:
        case OUTPUT_JSON:
                if (listing)
                        print_structured_list(ds, k, l, g->format);
                else if (l->n)
                        print_structured_items(l, g->format);
                return 0;
        case OUTPUT_PS:
        case OUTPUT_WIDE:
        case OUTPUT_CUSTOM:
                /* Mixed kinds (from -f) print one table per resource. */
                if (listing) {
                        if (headings_for(k, g, &h, &n_h) < 0)
                                return -EINVAL;
                        print_table(h, n_h, l->v, l->n);
                } else
                        for (size_t i = 0; i < l->n; i++) {
                                if (headings_for(kind_info(l->v[i]->kind), g, &h, &n_h) < 0)
                                        return -EINVAL;
                                print_table(h, n_h, &l->v[i], 1);
                        }
                return 0;
        case _OUTPUT_MAX:
        case _OUTPUT_INVALID:
                break;
        }
        return -EINVAL;
}

int hepctl_get(const HepctlArgs *g) {
        _cleanup_(resource_list_done) ResourceList l = RESOURCE_LIST_INIT, wanted = RESOURCE_LIST_INIT;
        _cleanup_(datastore_freep) Datastore *ds = NULL;
        StrBuf errors = STRBUF_INIT;
        const KindInfo *k = g->kind;
        bool listing;
        int r, code = HEPCTL_OK;

        if (g->file && hepctl_load_input(g->file, g->recursive, &wanted) < 0)
                return HEPCTL_FAIL;
        if (hepctl_open_datastore(&g->global, &ds) < 0)
                return HEPCTL_FAIL;

        /* Only the kind asked for (and profiles, whose labels a selector
         * sees): etcd then reads those keys alone. */
        if (k)
                datastore_only_kinds(ds, 1u << k->kind | (g->selector ? 1u << KIND_PROFILE : 0));
        listing = k && g->n_names == 0;
        if (listing) {
                const char *ns = k->namespaced && !g->all_namespaces ? (g->ns ? g->ns : "default") : NULL;
                r = client_list(ds, k->kind, ns, &l);
                /* Not allowed to read the datastore: what the daemon says. */
                if ((r == -EACCES || r == -EPERM) && k->kind == KIND_HOST_ENDPOINT &&
                    hepctl_daemon_host_endpoints(&g->global, &l) >= 0) {
                        fprintf(stderr, "note: %s is not readable by this user; these are the HostEndpoints "
                                        "hostendpointd knows (over D-Bus)\n", datastore_spec(ds));
                        r = 0;
                }
        } else {
                size_t n = k ? g->n_names : wanted.n;
                r = 0;
                for (size_t i = 0; i < n && r >= 0; i++) {
                        _cleanup_free_ char *err = NULL;
                        Resource *res = NULL;
                        const Resource *w = k ? NULL : wanted.v[i];
                        r = client_get(ds, k ? k->kind : w->kind, k ? g->ns : (w->meta.namespace ? w->meta.namespace : g->ns),
                                       k ? g->names[i] : w->meta.name, &res, &err);
                        if (r == 0)
                                r = resource_list_add(&l, res);
                        else if (err) {
                                strbuf_printf(&errors, "%s\n", err);
                                r = 0;
                        }
                }
        }
        if (r >= 0 && g->selector)
                r = filter_by_selector(ds, g->selector, &l);
        if (r >= 0)
                r = print_results(ds, k, &l, listing, g);
        hepctl_report_problems(ds);
        if (errors.len) {
                fputs(strbuf_str(&errors), stderr);
                code = HEPCTL_FAIL;
        }
        if (r < 0) {
                if (r != -EINVAL)
                        hepctl_error("failed to get resources: %s", strerror(-r));
                code = HEPCTL_FAIL;
        }
        strbuf_done(&errors);
        return code;
}
