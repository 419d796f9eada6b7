/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fuzz target: the D-Bus Apply method's document, read and checked as the
 * service does (resources_parse_checked), then written into a fresh
 * directory datastore: applied, applied again (updates), listed, deleted.
 * Whatever the names and namespaces, files are written only right in the
 * datastore directory, and what was applied can be found again. */
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"
#include "client.h"
#include "fuzz-util.h"
#include "intern.h"
#include "parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The datastore sits levels below the fuzzer's own directory, so that a
 * name climbing out of it with ".." lands where the walk sees it (up to
 * that many levels; further up is $TMPDIR, not watched). */
#define STORE_LEVELS 8

/* Hand-organised stores have subdirectories. These are named like the
 * files hepctl writes ("<kind>-<namespace>.<name>.yaml"), so that a name
 * with a '/' in it can resolve through one of them. */
static const char *const subdirectories[] = {
        "hostendpoint-a", "profile-a", "globalnetworkpolicy-a", "networkpolicy-a", "tier-a",
        "felixconfiguration-a", "globalnetworkset-a", "a",
};

typedef struct EscapeCheck {
        const char *store;
        size_t store_len;
} EscapeCheck;

/* A write creates files right in the datastore directory, named from
 * validated names with no separator in them (issue 10, item 12). So under
 * the root there may be only the directories down to the store, the
 * store's own files and its (empty) subdirectories: anything else was
 * written through a name with a '/' in it, outside the store or into a
 * subdirectory that may hold someone's hand-written files. */
static void check_inside(const char *path, void *userdata) {
        const EscapeCheck *c = userdata;
        const char *rest = path + c->store_len;

        if (strncmp(path, c->store, c->store_len) == 0 && *rest == '/') {
                FUZZ_ASSERT(!strchr(rest + 1, '/'), "a write went into a subdirectory of the datastore: %s", path);
                return;
        }
        if (strncmp(path, c->store, c->store_len) == 0 && !*rest)
                return;
        if (strncmp(c->store, path, strlen(path)) == 0 && c->store[strlen(path)] == '/')
                return;
        FUZZ_ASSERT(false, "a write escaped the datastore %s: %s", c->store, path);
}

static Datastore *store_new(char *store, size_t size) {
        _cleanup_free_ char *spec = NULL, *err = NULL;
        const char *root = fuzz_tmpdir("apply");
        Datastore *ds = NULL;

        snprintf(store, size, "%s", root);
        for (unsigned i = STORE_LEVELS; i > 0; i--) {
                size_t n = strlen(store);
                snprintf(store + n, size - n, "/up%u", i);
                (void)mkdir(store, 0700);
        }
        strncat(store, "/store", size - strlen(store) - 1);
        FUZZ_ASSERT(mkdir(store, 0700) == 0, "cannot make %s", store);
        for (size_t i = 0; i < ELEMENTSOF(subdirectories); i++) {
                char sub[PATH_MAX];
                snprintf(sub, sizeof(sub), "%s/%s", store, subdirectories[i]);
                FUZZ_ASSERT(mkdir(sub, 0700) == 0, "cannot make %s", sub);
        }
        if (asprintf(&spec, "dir:%s", store) < 0)
                abort();
        FUZZ_ASSERT(datastore_open(spec, 0, &ds, &err) == 0, "cannot open %s: %s", spec, err ? err : "?");
        return ds;
}

/* Every write that succeeded left its resource where a read finds it. */
static void apply_all(Datastore *ds, const ResourceList *l) {
        for (size_t i = 0; i < l->n; i++) {
                _cleanup_(resource_freep) Resource *stored = NULL;
                _cleanup_free_ char *err = NULL;
                int r = client_execute(ds, CLIENT_APPLY, l->v[i], &stored, &err);

                if (r == -ENOMEM)
                        continue;
                if (r != 0) {
                        FUZZ_ASSERT(err && *err, "apply failed (%s) without a message", store_strerror(r));
                        continue;
                }
                FUZZ_ASSERT(stored && stored->kind == l->v[i]->kind && streq(stored->meta.name, l->v[i]->meta.name),
                            "apply returned another resource");
                FUZZ_ASSERT(datastore_find(ds, stored->kind, stored->meta.namespace, stored->meta.name),
                            "an applied resource cannot be found");
        }
}

/* What hepctl get lists, for every kind. */
static void list_all(Datastore *ds) {
        for (ResourceKind k = 0; k < _KIND_MAX; k++) {
                _cleanup_(resource_list_done) ResourceList l = RESOURCE_LIST_INIT;
                (void)client_list(ds, k, NULL, &l);
        }
}

static void delete_all(Datastore *ds, const ResourceList *l) {
        for (size_t i = 0; i < l->n; i++) {
                _cleanup_free_ char *err = NULL;
                int r = client_execute(ds, CLIENT_DELETE, l->v[i], NULL, &err);
                if (r != 0 && r != -ENOMEM)
                        FUZZ_ASSERT(err && *err, "delete failed (%s) without a message", store_strerror(r));
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(resource_list_done) ResourceList l = RESOURCE_LIST_INIT;
        _cleanup_free_ char *doc = NULL;
        ParseError e = PARSE_ERROR_INIT;
        char store[PATH_MAX];
        EscapeCheck c = { store };
        Datastore *ds;
        int r;

        /* A D-Bus string holds no NUL: the document ends at the first. */
        doc = strndup((const char *)data, size);
        if (!doc)
                return 0;
        r = resources_parse_checked("Apply(document)", doc, strlen(doc), &l, &e);
        if (r < 0) {
                _cleanup_free_ char *msg = parse_error_format(&e);
                FUZZ_ASSERT(r == -ENOMEM || (msg && *msg), "rejected without a message");
                FUZZ_ASSERT(l.n == 0, "a rejected document returned resources");
                parse_error_done(&e);
        }
        if (l.n > 0) {
                ds = store_new(store, sizeof(store));
                apply_all(ds, &l);
                apply_all(ds, &l);
                list_all(ds);
                delete_all(ds, &l);
                datastore_free(ds);
                c.store_len = strlen(store);
                fuzz_walk(fuzz_tmpdir("apply"), check_inside, &c);
                fuzz_remove_tree(store);
        }
        resource_list_done(&l);
        /* Every shared string went with the resources that used it. */
        FUZZ_ASSERT(intern_count() == 0, "%zu shared strings left", intern_count());
        return 0;
}
