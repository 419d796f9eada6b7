/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The datastore interface (datastore.h): a store opened from its spec by
 * the backend for its scheme, the view every backend publishes, and the
 * calls passed on to the backend. */
#include "datastore-backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "intern.h"
#include "strbuf.h"

/* One line per backend. */
static const DatastoreOps *const backends[] = {
        &datastore_dir_ops,
        &datastore_etcd_ops,
};

static const DatastoreOps *backend_for(const char *spec, const char **ret_location) {
        for (size_t i = 0; i < ELEMENTSOF(backends); i++) {
                size_t n = strlen(backends[i]->scheme);
                if (strncmp(spec, backends[i]->scheme, n) == 0 && spec[n] == ':') {
                        *ret_location = spec + n + 1;
                        return backends[i];
                }
        }
        return NULL;
}

int datastore_open(const char *spec, unsigned flags, Datastore **ret, char **ret_error) {
        _cleanup_(datastore_freep) Datastore *ds = NULL;
        const DatastoreOps *ops;
        const char *location;
        int r;

        ops = backend_for(spec, &location);
        if (!ops || !*location) {
                if (asprintf(ret_error, "unsupported datastore '%s' (expected dir:PATH or etcdv3:URL[,URL...])", spec) < 0)
                        *ret_error = NULL;
                return -EINVAL;
        }
        ds = calloc(1, ops->size);
        if (!ds)
                return -ENOMEM;
        ds->spec = strdup(spec);
        if (!ds->spec)
                return -ENOMEM;
        ds->flags = flags;
        r = ops->open(ds, location, ret_error);
        if (r < 0)
                return r;
        ds->ops = ops; /* from now on, close() frees what open() made */
        *ret = steal_ptr(ds);
        return 0;
}

void datastore_clear_view(Datastore *ds) {
        ds->entries = mfree_ptr(ds->entries);
        ds->n_entries = 0;
        for (size_t i = 0; i < ds->n_problems; i++) {
                free(ds->problems[i].origin);
                free(ds->problems[i].message);
                free(ds->problems[i].public_message);
        }
        ds->problems = mfree_ptr(ds->problems);
        ds->n_problems = 0;
}

Datastore *datastore_free(Datastore *ds) {
        if (!ds)
                return NULL;
        if (ds->ops)
                ds->ops->close(ds);
        datastore_clear_view(ds);
        free(ds->revision);
        free(ds->spec);
        free(ds);
        return NULL;
}

void datastore_only_kinds(Datastore *ds, uint32_t kinds) {
        ds->only_kinds = kinds;
}

bool datastore_synced(const Datastore *ds) {
        return !ds->ops->synced || ds->ops->synced(ds);
}

bool datastore_rereading(const Datastore *ds) {
        return ds->ops->rereading && ds->ops->rereading(ds);
}

const char *datastore_revision(const Datastore *ds) {
        return ds->revision;
}

const char *datastore_spec(const Datastore *ds) {
        return ds->spec;
}

int datastore_attach(Datastore *ds, const hep_host *host, void (*changed)(void *userdata), void *userdata) {
        return ds->ops->attach(ds, host, changed, userdata);
}

int datastore_refresh(Datastore *ds) {
        return ds->ops->refresh(ds);
}

void datastore_forget(Datastore *ds) {
        ds->ops->forget(ds);
}

/* ---- the view ---- */

uint64_t datastore_view_generation(const Datastore *ds) {
        return ds->view_generation;
}

void datastore_entries(Datastore *ds, const StoreEntry **ret, size_t *ret_n) {
        *ret = ds->entries;
        *ret_n = ds->n_entries;
}

void datastore_problems(Datastore *ds, const StoreProblem **ret, size_t *ret_n) {
        *ret = ds->problems;
        *ret_n = ds->n_problems;
}

int datastore_compare_identity(const Resource *a, const Resource *b) {
        int k = (int)a->kind - (int)b->kind;

        if (k)
                return k;
        k = strcmp(a->meta.namespace ? a->meta.namespace : "", b->meta.namespace ? b->meta.namespace : "");
        return k ? k : strcmp(a->meta.name ? a->meta.name : "", b->meta.name ? b->meta.name : "");
}

const StoreEntry *datastore_find(Datastore *ds, ResourceKind kind, const char *ns, const char *name) {
        Resource key = { .kind = kind, .meta = { .name = (char *)name, .namespace = (char *)ns } };
        size_t lo = 0, hi = ds->n_entries;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int k = datastore_compare_identity(ds->entries[mid].res, &key);
                if (k == 0)
                        return &ds->entries[mid];
                if (k < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return NULL;
}

char *store_entry_where(const StoreEntry *e) {
        char *s;

        if (!e->line)
                return strdup(e->origin);
        return asprintf(&s, "%s:%u:%u", e->origin, e->line, e->column) < 0 ? NULL : s;
}

int datastore_add_problem(Datastore *ds, const char *origin, const char *public, const char *fmt, ...) {
        StoreProblem *p = realloc(ds->problems, (ds->n_problems + 1) * sizeof(StoreProblem));
        StrBuf b = STRBUF_INIT;
        va_list ap;

        if (!p)
                return -ENOMEM;
        ds->problems = p;
        va_start(ap, fmt);
        strbuf_vprintf(&b, fmt, ap);
        va_end(ap);
        p += ds->n_problems;
        *p = (StoreProblem) {
                .origin = origin ? strdup(origin) : NULL,
                .message = strbuf_steal(&b),
                .public_message = public ? strdup(public) : NULL,
        };
        if ((origin && !p->origin) || !p->message || (public && !p->public_message)) {
                free(p->origin);
                free(p->message);
                free(p->public_message);
                return -ENOMEM;
        }
        ds->n_problems++;
        return 0;
}

/* ---- writes ---- */

const char *store_strerror(int r) {
        static const char *const outcomes[_STORE_OUTCOME_MAX] = {
                [STORE_EXISTS] = "resource already exists",
                [STORE_NOT_FOUND] = "resource does not exist",
                [STORE_CONFLICT] = "update conflict",
                [STORE_NOT_EDITABLE] = "the datastore cannot rewrite this resource where it is defined",
                [STORE_BUSY] = "the datastore is being written by another writer",
        };

        if (r < 0)
                return strerror(-r);
        return r > 0 && r < _STORE_OUTCOME_MAX ? outcomes[r] : "success";
}

int datastore_create(Datastore *ds, const Resource *r, Resource **ret, char **ret_error) {
        return ds->ops->create(ds, r, ret, ret_error);
}

int datastore_update(Datastore *ds, const Resource *r, Resource **ret, char **ret_error) {
        return ds->ops->update(ds, r, ret, ret_error);
}

int datastore_delete(Datastore *ds, ResourceKind kind, const char *ns, const char *name, const char *rv,
                     Resource **ret, char **ret_error) {
        return ds->ops->remove(ds, kind, ns, name, rv, ret, ret_error);
}

/* ---- metadata a store fills in ---- */

void datastore_format_uuid(const uint8_t b[16], char out[37]) {
        snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2],
                 b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

static int random_uid(char **ret) {
        uint8_t b[16];
        char s[37];

        if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
                return -errno;
        b[6] = (uint8_t)((b[6] & 0x0f) | 0x40); /* version 4 */
        b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
        datastore_format_uuid(b, s);
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

int datastore_format_time(time_t t, const char **ret) {
        struct tm tm;
        char buf[32];

        gmtime_r(&t, &tm);
        strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
        *ret = intern_ref(buf);
        return *ret ? 0 : -ENOMEM;
}

int datastore_stamp_new(Resource *r) {
        int k = 0;

        if (isempty(r->meta.uid)) {
                free(r->meta.uid);
                r->meta.uid = NULL;
                k = random_uid(&r->meta.uid);
        }
        if (k == 0 && isempty(r->meta.creation_timestamp)) {
                intern_unref(r->meta.creation_timestamp);
                r->meta.creation_timestamp = NULL;
                k = datastore_format_time(time(NULL), &r->meta.creation_timestamp);
        }
        return k;
}

int datastore_keep_stored_identity(Resource *r, const Resource *stored) {
        free(r->meta.uid);
        intern_unref(r->meta.creation_timestamp);
        r->meta.uid = stored->meta.uid ? strdup(stored->meta.uid) : NULL;
        r->meta.creation_timestamp = intern_ref(stored->meta.creation_timestamp);
        return (stored->meta.uid && !r->meta.uid) || (stored->meta.creation_timestamp && !r->meta.creation_timestamp)
                       ? -ENOMEM
                       : 0;
}
