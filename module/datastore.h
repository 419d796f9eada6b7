/* Where resources live. Today one kind: a directory of YAML/JSON files
 * ("dir:PATH"). The store answers with Calico's datastore semantics —
 * create fails if the resource exists, update checks resourceVersion —
 * so the client layer above it behaves as libcalico-go does. */
#pragma once

#include <stdbool.h>

#include "host.h"
#include "error.h"
#include "loader.h"
#include "resource.h"

typedef struct Datastore Datastore;

/* A resource as stored, and where it is defined. */
typedef struct StoreEntry {
        Resource *res;    /* with uid, creationTimestamp and resourceVersion */
        const char *file; /* borrowed from the store */
        bool editable;    /* the whole of its document: can be rewritten in place */
        size_t order;     /* position within its file */
} StoreEntry;

/* Something that could not be used, with its positioned error: a file
 * (whose previous resources stay in the view; the first read of it adds
 * none), or, with file NULL, a part of the store (a directory not
 * followed; the directory itself gone: everything read stays). */
typedef struct StoreProblem {
        char *file;
        char *message;        /* "file:line:col: path: message" */
        char *public_message; /* the same without what the file holds (not world-readable), or NULL */
} StoreProblem;

int datastore_open(const char *spec, Datastore **ret, char **ret_error);
Datastore *datastore_free(Datastore *ds);
DEFINE_CLEANUP_FUNC(Datastore, datastore_free)
const char *datastore_spec(const Datastore *ds);
const char *datastore_path(const Datastore *ds);

/* Watches the store from the host's loop (inotify) and calls changed
 * when it may have changed: the caller then refreshes. Watched, a refresh
 * also leaves a file being written in place as it was until it is closed,
 * withdraws a deleted file's resources only after a short grace period if
 * the directory is still there, and keeps everything while the directory
 * itself is gone; changed is called again when there is more to read. */
int datastore_attach(Datastore *ds, const hep_host *host, void (*changed)(void *userdata), void *userdata);
/* Re-reads the files that changed since the last call (all, the first
 * time). Returns >0 if any entry changed, 0 if not, <0 if the directory
 * itself cannot be read (watched: 0, and that is a problem) or on ENOMEM. */
int datastore_refresh(Datastore *ds);
/* Makes the next refresh re-read every file (SIGHUP). */
void datastore_forget(Datastore *ds);
/* The current view: every resource of every readable file. Duplicates
 * (the same kind/namespace/name in two places) are problems, and neither
 * copy is used. Borrowed; valid until the next refresh or write. */
void datastore_entries(Datastore *ds, const StoreEntry **ret, size_t *ret_n);
/* Changes whenever the entries are rebuilt (a refresh that read something,
 * a write): the same number, the same entries. */
uint64_t datastore_view_generation(const Datastore *ds);
void datastore_problems(Datastore *ds, const StoreProblem **ret, size_t *ret_n);
const StoreEntry *datastore_find(Datastore *ds, ResourceKind kind, const char *ns, const char *name);

/* Writes. Each locks the store (serialising hepctl invocations), re-reads
 * it, applies the change atomically (temporary file + rename) and returns
 * the stored resource. Errors: -EEXIST, -ENOENT, -ESTALE (resourceVersion
 * mismatch), -EMEDIUMTYPE (defined in a hand-written list: *ret_error says
 * which file to edit), other -errno for I/O. */
int datastore_create(Datastore *ds, const Resource *r, Resource **ret, char **ret_error);
/* The writes' lock, for a caller that must not wait for it (the daemon's
 * loop, while a hepctl writes): -EWOULDBLOCK if another writer has it.
 * Writes while it is held do not lock again. */
int datastore_try_lock(Datastore *ds);
void datastore_unlock(Datastore *ds);
int datastore_update(Datastore *ds, const Resource *r, Resource **ret, char **ret_error);
int datastore_delete(Datastore *ds, ResourceKind kind, const char *ns, const char *name, const char *rv,
                     Resource **ret, char **ret_error);
