/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What a datastore backend implements (one file each: datastore-dir.c for
 * "dir:"), in the manner of libnl's nl_cache_ops: a table of operations
 * for a scheme, and a store that begins with the Datastore every backend
 * shares. A backend publishes its view in those shared fields; the
 * generic layer (datastore.c) answers the readers from them. Adding a
 * backend: a new file with its DatastoreOps, and one line in
 * datastore.c's table of backends. */
#pragma once

#include <time.h>

#include "datastore.h"

typedef struct DatastoreOps DatastoreOps;

struct Datastore {
        const DatastoreOps *ops;
        char *spec;
        unsigned flags; /* DATASTORE_* */
        /* The view as the backend last published it: entries sorted by
         * identity (datastore_compare_identity), problems in the order they
         * should be shown (the last one is the Manager's LastError). */
        StoreEntry *entries;
        size_t n_entries;
        StoreProblem *problems;
        size_t n_problems;
        uint64_t view_generation;
        char *revision; /* datastore_revision(), or NULL */
        uint32_t only_kinds; /* datastore_only_kinds(): a hint the backend may use */
};

struct DatastoreOps {
        const char *scheme; /* "dir" for "dir:PATH" */
        size_t size;        /* of the backend's store, which begins with a Datastore */
        /* location: the spec after "scheme:". */
        int (*open)(Datastore *ds, const char *location, char **ret_error);
        /* Frees what open made (not ds itself, nor the view). */
        void (*close)(Datastore *ds);
        int (*attach)(Datastore *ds, const hep_host *host, void (*changed)(void *userdata), void *userdata);
        int (*refresh)(Datastore *ds);
        void (*forget)(Datastore *ds);
        /* Optional: datastore_synced(); NULL means always. */
        bool (*synced)(const Datastore *ds);
        /* Optional: datastore_rereading(); NULL means never. */
        bool (*rereading)(const Datastore *ds);
        int (*create)(Datastore *ds, const Resource *r, Resource **ret, char **ret_error);
        int (*update)(Datastore *ds, const Resource *r, Resource **ret, char **ret_error);
        int (*remove)(Datastore *ds, ResourceKind kind, const char *ns, const char *name, const char *rv,
                      Resource **ret, char **ret_error);
};

extern const DatastoreOps datastore_dir_ops;
extern const DatastoreOps datastore_etcd_ops;

/* The order of datastore_entries(). */
int datastore_compare_identity(const Resource *a, const Resource *b);
/* Empties the published view (the backend rebuilds it). */
void datastore_clear_view(Datastore *ds);
/* Adds a problem to the view: origin NULL for the store itself; public
 * as StoreProblem.public_message. */
int datastore_add_problem(Datastore *ds, const char *origin, const char *public, const char *fmt, ...)
        _printf_(4, 5);

/* Metadata a store gives a resource it creates, as Calico's do: a random
 * (version 4) uid and the creationTimestamp of now, where r has none. */
int datastore_stamp_new(Resource *r);
/* An update keeps the stored uid and creationTimestamp, whatever r says. */
int datastore_keep_stored_identity(Resource *r, const Resource *stored);
void datastore_format_uuid(const uint8_t b[16], char out[37]);
/* A creationTimestamp, as a shared string (intern.h). */
int datastore_format_time(time_t t, const char **ret);
