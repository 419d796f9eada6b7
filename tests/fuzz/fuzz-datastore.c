/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fuzz target: the directory datastore's reading side, over files with odd
 * names that change between refreshes. The input is steps separated by NUL
 * bytes:
 *   "NAME\nCONTENT"  writes the file NAME (a temporary file renamed into
 *                    place, as editors and hepctl write);
 *   "NAME"           deletes the file (or empty directory) NAME;
 *   ""               refreshes the store and checks its view.
 * NAME is a path under the datastore: subdirectories are made as needed,
 * and ".." components are kept inside it. After the last step the store
 * is refreshed once more; a store that reports no problem must then give
 * exactly what a fresh read of the same directory gives. */
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "datastore.h"
#include "fuzz-util.h"
#include "intern.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_STEPS 64

typedef struct Context {
        char *store;
        char *graves;
        unsigned n_graves;
} Context;

static char *path_printf(const char *fmt, ...) _printf_(1, 2);
static char *path_printf(const char *fmt, ...) {
        va_list ap;
        char *s;

        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0)
                abort();
        va_end(ap);
        return s;
}

/* NAME as a path under the store: empty components dropped, ".." made
 * harmless, each parent directory made. NULL if it cannot be. */
static char *store_path(const Context *c, const char *name, size_t len) {
        _cleanup_free_ char *rel = strndup(name, len);
        char path[PATH_MAX];
        size_t n;
        char *save = NULL;

        if (!rel)
                return NULL;
        n = (size_t)snprintf(path, sizeof(path), "%s", c->store);
        for (char *t = strtok_r(rel, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
                if (n > strlen(c->store))
                        (void)mkdir(path, 0755); /* the parent of this component */
                n += (size_t)snprintf(path + n, sizeof(path) - n, "/%s", streq(t, "..") ? "dotdot" : t);
                if (n >= sizeof(path))
                        return NULL;
        }
        return n > strlen(c->store) ? strdup(path) : NULL;
}

/* A replaced or deleted file's inode stays linked outside the store until
 * the input ends: a new file never gets its number, so the store's cache
 * (keyed on inode, size and mtime) always can tell them apart. */
static void bury(Context *c, const char *path) {
        _cleanup_free_ char *grave = path_printf("%s/%u", c->graves, c->n_graves++);

        /* A path that is not there has nothing to keep. */
        if (link(path, grave) < 0)
                return;
}

static void write_file(Context *c, const char *name, size_t name_len, const char *content, size_t len) {
        _cleanup_free_ char *path = store_path(c, name, name_len), *tmp = path_printf("%s/next", c->graves);
        FILE *f;

        if (!path)
                return;
        f = fopen(tmp, "we");
        if (!f)
                return;
        fwrite(content, 1, len, f);
        fclose(f);
        bury(c, path);
        if (rename(tmp, path) < 0)
                (void)unlink(tmp);
}

static void delete_file(Context *c, const char *name, size_t name_len) {
        _cleanup_free_ char *path = store_path(c, name, name_len);

        if (!path)
                return;
        bury(c, path);
        if (unlink(path) < 0)
                (void)rmdir(path);
}

/* What any view must be: entries under the store, sorted, each found by
 * its identity, with the metadata a read adds; problems that say what. */
static void check_view(Datastore *ds, const char *store) {
        const StoreEntry *e;
        const StoreProblem *p;
        size_t n, n_p, len = strlen(store);

        datastore_entries(ds, &e, &n);
        for (size_t i = 0; i < n; i++) {
                const Resource *r = e[i].res;
                FUZZ_ASSERT(strncmp(e[i].origin, store, len) == 0 && e[i].origin[len] == '/', "entry from %s",
                            e[i].origin);
                FUZZ_ASSERT(!isempty(r->meta.name) && !isempty(r->meta.uid) && !isempty(r->meta.resource_version) &&
                                    !isempty(r->meta.creation_timestamp),
                            "entry from %s without its metadata", e[i].origin);
                FUZZ_ASSERT(datastore_find(ds, r->kind, r->meta.namespace, r->meta.name) == &e[i],
                            "entry %zu of %s is not found by its identity", i, e[i].origin);
        }
        datastore_problems(ds, &p, &n_p);
        for (size_t i = 0; i < n_p; i++)
                /* A problem of the tree itself (a link not followed, a
                 * limit) has no file of its own. */
                FUZZ_ASSERT(!isempty(p[i].message) && (!p[i].origin || strncmp(p[i].origin, store, len) == 0),
                            "a problem without a message, or with a file outside the store");
}

static int refresh(Datastore *ds, const char *store) {
        int r = datastore_refresh(ds);

        if (r == -ENOMEM)
                return r;
        FUZZ_ASSERT(r >= 0, "refresh of %s failed: %s", store, strerror(-r));
        check_view(ds, store);
        return 0;
}

static Datastore *open_store(const char *store) {
        _cleanup_free_ char *spec = path_printf("dir:%s", store), *err = NULL;
        Datastore *ds = NULL;

        FUZZ_ASSERT(datastore_open(spec, 0, &ds, &err) == 0, "cannot open %s: %s", spec, err ? err : "?");
        return ds;
}

/* The cache, refreshed step by step, against a store that reads it all
 * at once. */
static void compare_with_fresh(Datastore *cached, const char *store) {
        _cleanup_(datastore_freep) Datastore *fresh = open_store(store);
        const StoreEntry *a, *b;
        const StoreProblem *p;
        size_t n_a, n_b, n_p;

        datastore_problems(cached, &p, &n_p);
        if (n_p > 0 || refresh(fresh, store) < 0)
                return;
        datastore_problems(fresh, &p, &n_p);
        FUZZ_ASSERT(n_p == 0, "a fresh read finds a problem the cache does not: %s", p[0].message);
        datastore_entries(cached, &a, &n_a);
        datastore_entries(fresh, &b, &n_b);
        FUZZ_ASSERT(n_a == n_b, "the cache has %zu entries, a fresh read %zu", n_a, n_b);
        for (size_t i = 0; i < n_a; i++)
                FUZZ_ASSERT(a[i].res->kind == b[i].res->kind && streq(a[i].res->meta.name, b[i].res->meta.name) &&
                                    streq_ptr(a[i].res->meta.namespace, b[i].res->meta.namespace) &&
                                    streq(a[i].origin, b[i].origin) &&
                                    streq(a[i].res->meta.resource_version, b[i].res->meta.resource_version),
                            "the cache has %s from %s, a fresh read %s from %s", a[i].res->meta.name, a[i].origin,
                            b[i].res->meta.name, b[i].origin);
}

static void run_steps(Context *c, Datastore *ds, const char *data, size_t size) {
        const char *end = data + size;
        unsigned steps = 0;

        for (const char *s = data; s < end && steps < MAX_STEPS; steps++) {
                const char *z = memchr(s, 0, (size_t)(end - s));
                const char *stop = z ? z : end;
                const char *nl = memchr(s, '\n', (size_t)(stop - s));

                if (stop == s) {
                        if (refresh(ds, c->store) < 0)
                                return;
                } else if (nl)
                        write_file(c, s, (size_t)(nl - s), nl + 1, (size_t)(stop - nl - 1));
                else
                        delete_file(c, s, (size_t)(stop - s));
                s = stop + 1;
        }
        if (refresh(ds, c->store) >= 0)
                compare_with_fresh(ds, c->store);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const char *root = fuzz_tmpdir("datastore");
        Context c = { path_printf("%s/store", root), path_printf("%s/graves", root) };
        Datastore *ds;

        FUZZ_ASSERT(mkdir(c.store, 0755) == 0 && mkdir(c.graves, 0755) == 0, "cannot make %s", c.store);
        ds = open_store(c.store);
        run_steps(&c, ds, (const char *)data, size);
        datastore_free(ds);
        fuzz_remove_tree(c.store);
        fuzz_remove_tree(c.graves);
        free(c.store);
        free(c.graves);
        /* Every shared string went with the store that read it. */
        FUZZ_ASSERT(intern_count() == 0, "%zu shared strings left", intern_count());
        return 0;
}
