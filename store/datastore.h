/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Where resources live, behind one interface: a store is opened from a
 * spec string ("dir:PATH"; a backend per scheme, see datastore-backend.h),
 * watches itself from the host's loop and says when it changed, keeps a
 * snapshot of its resources (the view) that a refresh brings up to date,
 * and writes with Calico's datastore semantics: create fails if the
 * resource exists, update and delete compare resourceVersion and fail on a
 * mismatch (compare-and-swap), so that the client layer above behaves as
 * libcalico-go does, whatever the backend. */
#pragma once

#include <stdbool.h>

#include "host.h"
#include "error.h"
#include "loader.h"
#include "resource.h"

typedef struct Datastore Datastore;

/* A resource as stored, and where, for messages: origin is a file (with
 * the line and column where the resource starts) or a key (line 0).
 * backend is the backend's own (datastore-backend.h). */
typedef struct StoreEntry {
        Resource *res; /* with uid, creationTimestamp and resourceVersion */
        const char *origin;
        unsigned line, column;
        uint32_t backend;
} StoreEntry;

/* Something that could not be used, with its positioned error: a file or
 * key (whose previous resources stay in the view; the first read of it
 * adds none), or, with origin NULL, the store itself (a directory not
 * followed; the directory gone: everything read stays). */
typedef struct StoreProblem {
        char *origin;
        char *message;        /* "origin:line:col: path: message" */
        char *public_message; /* the same without what the origin holds (not world-readable), or NULL */
} StoreProblem;

/* What a write answers besides success (0) and -errno. */
typedef enum StoreOutcome {
        STORE_EXISTS = 1,   /* create: it is there already */
        STORE_NOT_FOUND,    /* update, delete: it is not there */
        STORE_CONFLICT,     /* its resourceVersion is not the one given */
        STORE_NOT_EDITABLE, /* the store cannot rewrite it where it is defined; *ret_error says where to edit it */
        STORE_BUSY,         /* another writer holds the store (DATASTORE_NONBLOCK): try again later */
        _STORE_OUTCOME_MAX,
        _STORE_OUTCOME_INVALID = -EINVAL,
} StoreOutcome;

/* A StoreOutcome or -errno, in words (for when there is no better message). */
const char *store_strerror(int r);

enum {
        /* Writes never wait for another writer (a host's loop): STORE_BUSY. */
        DATASTORE_NONBLOCK = 1u << 0,
};

int datastore_open(const char *spec, unsigned flags, Datastore **ret, char **ret_error);
Datastore *datastore_free(Datastore *ds);
DEFINE_CLEANUP_FUNC(Datastore, datastore_free)
const char *datastore_spec(const Datastore *ds);

/* Watches the store from the host's loop and calls changed when it may
 * have changed: the caller then refreshes. A watched store may hold back
 * what is not settled yet (dir: a file written in place, a deletion while
 * the directory may be going) and call changed again when there is more. */
int datastore_attach(Datastore *ds, const hep_host *host, void (*changed)(void *userdata), void *userdata);
/* Brings the view up to date. Returns >0 if any entry changed, 0 if not,
 * <0 if the store cannot be read at all (watched: 0, and that is a
 * problem) or on ENOMEM. */
int datastore_refresh(Datastore *ds);
/* Whether the store has given its whole content at least once since
 * it was attached (etcd: its first list); always true for a directory. */
bool datastore_synced(const Datastore *ds);
/* A hint before the first refresh, from a reader that needs only these
 * kinds (a mask of 1u << ResourceKind; 0: all): a store may then read
 * only those (etcd ranges their prefixes alone). */
void datastore_only_kinds(Datastore *ds, uint32_t kinds);
/* Makes the next refresh read everything again (SIGHUP). */
void datastore_forget(Datastore *ds);
/* Whether the read datastore_forget() asked for is still under way: an
 * attached etcd store keeps its last keys until the fresh list answers
 * (with the keys, or with an error). Never for a directory, which is read
 * by the refresh itself. */
bool datastore_rereading(const Datastore *ds);

/* The view: every resource, sorted by identity (kind, namespace, name).
 * Duplicates (the same identity in two places) are problems; the first
 * definition is kept. Borrowed; valid until the next refresh or write. */
void datastore_entries(Datastore *ds, const StoreEntry **ret, size_t *ret_n);
/* Changes whenever the entries are rebuilt (a refresh that read something,
 * a write): the same number, the same entries. */
uint64_t datastore_view_generation(const Datastore *ds);
void datastore_problems(Datastore *ds, const StoreProblem **ret, size_t *ret_n);
/* The store's own revision of the view (etcd's, decimal), or NULL if it
 * has none (a directory). */
const char *datastore_revision(const Datastore *ds);
const StoreEntry *datastore_find(Datastore *ds, ResourceKind kind, const char *ns, const char *name);
/* "origin:line:col", or the origin alone; malloc'd. */
char *store_entry_where(const StoreEntry *e);

/* Writes, each atomic, each returning the stored resource (*ret, if
 * given): 0, a StoreOutcome, or -errno (with *ret_error saying what could
 * not be done). rv: the resourceVersion the caller read (NULL or "": any). */
int datastore_create(Datastore *ds, const Resource *r, Resource **ret, char **ret_error);
/* r->meta.resource_version, if set, must match the stored one. */
int datastore_update(Datastore *ds, const Resource *r, Resource **ret, char **ret_error);
int datastore_delete(Datastore *ds, ResourceKind kind, const char *ns, const char *name, const char *rv,
                     Resource **ret, char **ret_error);
