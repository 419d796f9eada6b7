/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The directory datastore ("dir:PATH", a backend of datastore.h): every
 * .yaml/.yml/.json file under PATH. Files
 * are re-read only when their identity, size, mtime or ctime changed.
 * hepctl's writes take an flock on the directory, write a temporary
 * dot-file and rename it into place, so readers only ever see whole files.
 * A resource hepctl creates gets a file of its own; one in a hand-written
 * file is rewritten in place only when it is a whole document there, so
 * its neighbours are left byte for byte.
 *
 * Whatever happens to a file, its resources go only when it is deleted:
 * a file that cannot be used (malformed, unreadable, no longer a regular
 * file, being written in place) keeps the resources read from it before,
 * and the reason is a problem. Watched (datastore_attach), the store also
 * waits for files written in place to be closed, and applies a deletion
 * only once the directory is still there DELETE_GRACE_USEC later, so that
 * "rm -rf" of the whole directory withdraws nothing. */
#include "datastore-backend.h"

#include <ctype.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "dirwatch.h"
#include "fileio.h"
#include "intern.h"
#include "parse.h"
#include "strbuf.h"

/* A deleted file's resources are withdrawn this long after the deletion
 * was seen, if the directory is still there: "rm -rf" deletes the files
 * first, then the directory, within milliseconds. */
#define DELETE_GRACE_USEC (500ULL * 1000)
/* A file written in place is waited for; past this long it is reported. */
#define WRITING_REPORT_USEC (5ULL * 1000 * 1000)
/* A file that changes while it is read is read again, this many times. */
#define READ_ATTEMPTS 3

/* A version of a file: a writer that truncates, writes or chmods it
 * changes its size, mtime or ctime; a rename puts another inode there. */
typedef struct FileVersion {
        dev_t dev;
        ino_t ino;
        off_t size;
        struct timespec mtime, ctime;
} FileVersion;

/* Where a resource is in its file. */
typedef struct ResourcePlace {
        unsigned line, column;
        bool whole; /* it is its document, not a list item: it can be rewritten in place */
} ResourcePlace;

typedef struct FileState {
        char *path;
        FileVersion version; /* as last read: read again when it changes */
        bool seen;
        bool in_view;         /* its entries in DirStore.all are of its resources as they are */
        bool unlinked;        /* deleted by this store: withdrawn at once */
        uint64_t gone_usec;   /* when it was first found deleted, or 0 */
        ResourceList res;
        ResourcePlace *places; /* per resource */
        size_t n_docs; /* non-empty documents in the file */
        bool world_readable;  /* as last read: anyone may see what it holds */
        char *problem;
        char *public_problem; /* without what the file holds, or NULL if problem may be shown */
} FileState;

/* StoreEntry.backend: the resource's position in its file, and whether it
 * is a whole document there (bit 0). */
#define ENTRY_WHOLE 1u
#define ENTRY_ORDER(b) ((b) >> 1)

typedef struct DirStore {
        Datastore base; /* the view is published there */
        char *path;
        FileState *files; /* sorted by path after each refresh */
        size_t n_files, alloc_files, n_sorted_files;
        DirWatch *watch; /* datastore_attach() */
        dev_t root_dev;  /* the directory last read */
        ino_t root_ino;
        char *dir_problem; /* the directory itself cannot be read */
        char **skipped;  /* "PATH: why", what the last walk did not follow */
        size_t n_skipped;
        /* Every file's entries, duplicates included, sorted as the view
         * (compare_entries), as of the last rebuild: the next one keeps
         * those of unchanged files and merges in only the rest. */
        StoreEntry *all;
        size_t n_all;
} DirStore;

static void file_state_done(FileState *f) {
        free(f->path);
        resource_list_done(&f->res);
        free(f->places);
        free(f->problem);
        free(f->public_problem);
        *f = (FileState) {};
}

static void dir_close(Datastore *base) {
        DirStore *ds = (DirStore *)base;

        dir_watch_free(ds->watch);
        free(ds->dir_problem);
        strv_free_n(ds->skipped, ds->n_skipped);
        for (size_t i = 0; i < ds->n_files; i++)
                file_state_done(&ds->files[i]);
        free(ds->files);
        free(ds->all);
        free(ds->path);
}

static int open_failed(const char *location, int error, char **ret_error) {
        if (asprintf(ret_error, "datastore directory '%s' cannot be used: %s", location, strerror(-error)) < 0)
                *ret_error = NULL;
        return error;
}

static int dir_open(Datastore *base, const char *location, char **ret_error) {
        DirStore *ds = (DirStore *)base;
        struct stat st;

        if (stat(location, &st) < 0)
                return open_failed(location, -errno, ret_error);
        if (!S_ISDIR(st.st_mode))
                return open_failed(location, -ENOTDIR, ret_error);
        ds->path = strdup(location);
        if (!ds->path)
                return -ENOMEM;
        /* "dir:/a/b/" and "dir:/a/b" are the same store. */
        size_t n = strlen(ds->path);
        while (n > 1 && ds->path[n - 1] == '/')
                ds->path[--n] = 0;
        return 0;
}

/* ---- derived metadata ---- */

static uint64_t fnv1a(const char *s, uint64_t h) {
        for (; *s; s++) {
                h ^= (unsigned char)*s;
                h *= 1099511628211ULL;
        }
        return h;
}

/* resourceVersion: a digest of the stored content, so any change — by
 * hepctl or by hand — gives a new version and stale updates are caught. */
static int compute_resource_version(const Resource *r, char **ret) {
        _cleanup_(node_freep) Node *n = resource_encode(r);
        StrBuf b = STRBUF_INIT;
        uint64_t h;

        if (!n)
                return -ENOMEM;
        node_emit_json(n, &b, false);
        if (!strbuf_ok(&b))
                return -ENOMEM;
        h = fnv1a(strbuf_str(&b), 14695981039346656037ULL);
        strbuf_done(&b);
        /* Decimal, like etcd's revisions, within JSON's exact integer range. */
        if (asprintf(ret, "%" PRIu64, h >> 11) < 0)
                return -ENOMEM;
        return 0;
}

/* A hand-written resource has no stored uid; derive a stable one from its
 * identity so that it does not change from one read to the next. */
static int derived_uuid(const Resource *r, char **ret) {
        uint64_t h1 = fnv1a(kind_info(r->kind)->name, 14695981039346656037ULL);
        uint64_t h2;
        uint8_t b[16];
        char s[37];

        h1 = fnv1a(r->meta.namespace ? r->meta.namespace : "", h1);
        h1 = fnv1a(r->meta.name ? r->meta.name : "", h1);
        h2 = fnv1a("hostendpoint", h1);
        memcpy(b, &h1, 8);
        memcpy(b + 8, &h2, 8);
        b[6] = (uint8_t)((b[6] & 0x0f) | 0x50); /* name-based */
        b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
        datastore_format_uuid(b, s);
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

static int fill_derived_metadata(Resource *r, time_t mtime) {
        int k;

        free(r->meta.resource_version);
        r->meta.resource_version = NULL;
        k = compute_resource_version(r, &r->meta.resource_version);
        if (k >= 0 && isempty(r->meta.uid)) {
                free(r->meta.uid);
                r->meta.uid = NULL;
                k = derived_uuid(r, &r->meta.uid);
        }
        if (k >= 0 && isempty(r->meta.creation_timestamp)) {
                intern_unref(r->meta.creation_timestamp);
                r->meta.creation_timestamp = NULL;
                k = datastore_format_time(mtime, &r->meta.creation_timestamp);
        }
        return k;
}

/* ---- reading ---- */

/* Messages quote what a file holds: anyone may read D-Bus properties, so
 * the problem shown there leaves that out unless anyone may read the file
 * too (the log, root's, keeps it all). */
#define REDACTED "cannot be used; the details are in the log (the file is not world-readable)"

static int set_problem(FileState *f, const ParseError *e, bool quotes_content) {
        free(f->problem);
        f->problem = parse_error_format(e);
        f->public_problem = mfree_ptr(f->public_problem);
        if (quotes_content && !f->world_readable && f->problem)
                f->public_problem = parse_error_format_redacted(e, REDACTED);
        return f->problem && (!quotes_content || f->world_readable || f->public_problem) ? 0 : -ENOMEM;
}

typedef struct FileLoad {
        const char *path;
        time_t mtime;
        ResourceList res;
        ResourcePlace *places;
        size_t n_docs;
        ParseError *err;
} FileLoad;

/* One document at a time: decoded, checked against Calico's rules (with
 * positions from its tree), then the tree is dropped before the next one
 * is parsed, so a big file never has all its trees in memory. */
static int load_document(Document *doc, void *userdata) {
        FileLoad *l = userdata;
        size_t before = l->res.n;
        bool whole;
        int r;

        if (node_is_null(doc->root))
                return 0;
        l->n_docs++;
        r = resources_from_document(l->path, &doc->root, &l->res, &whole, l->err);
        if (r < 0)
                return r;
        ResourcePlace *w = realloc(l->places, (l->res.n + 1) * sizeof(ResourcePlace));
        if (!w)
                return -ENOMEM;
        l->places = w;
        for (size_t j = before; j < l->res.n; j++) {
                Resource *res = l->res.v[j];
                w[j] = (ResourcePlace) {
                        .line = res->source ? res->source->line : doc->line,
                        .column = res->source ? res->source->column : 1,
                        .whole = whole && l->res.n - before == 1,
                };
                r = resource_check(res, l->err);
                if (r >= 0)
                        r = fill_derived_metadata(res, l->mtime);
                if (r < 0)
                        return r;
                res->source = node_free(res->source);
        }
        return 0;
}

static void file_load_done(FileLoad *l) {
        resource_list_done(&l->res);
        l->places = mfree_ptr(l->places);
}

static FileVersion version_of(const struct stat *st) {
        return (FileVersion) { st->st_dev, st->st_ino, st->st_size, st->st_mtim, st->st_ctim };
}

static bool version_eq(FileVersion a, FileVersion b) {
        return a.dev == b.dev && a.ino == b.ino && a.size == b.size && a.mtime.tv_sec == b.mtime.tv_sec &&
               a.mtime.tv_nsec == b.mtime.tv_nsec && a.ctime.tv_sec == b.ctime.tv_sec &&
               a.ctime.tv_nsec == b.ctime.tv_nsec;
}

/* Reads a regular file whole, through one fd (a FIFO put in its place
 * does not block us): -EAGAIN if it changed while it was read. *ret_st is
 * the version read. */
static int read_regular_file(const char *path, char **ret, size_t *ret_len, struct stat *ret_st, ParseError *e) {
        _cleanup_free_ char *data = NULL;
        struct stat before, after;
        int fd, r;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
                r = -errno;
                parse_error_set(e, path, 0, 0, NULL, "cannot open: %s", strerror(-r));
                return r;
        }
        if (fstat(fd, &before) < 0)
                r = -errno;
        else if (!S_ISREG(before.st_mode))
                r = parse_error_set(e, path, 0, 0, NULL, "not a regular file");
        else
                r = read_fd_limited(fd, path, HEP_MAX_FILE_SIZE, &data, ret_len, e);
        if (r >= 0 && fstat(fd, &after) < 0)
                r = -errno;
        close(fd);
        if (r >= 0 && !version_eq(version_of(&before), version_of(&after)))
                r = -EAGAIN;
        if (r < 0)
                return r;
        *ret = steal_ptr(data);
        *ret_st = after;
        return 0;
}

/* Reads and checks one file into l. 0, with l's resources or e set if the
 * file cannot be used; -EAGAIN if it kept changing while it was read. *st
 * is the version listed, then the one read. */
static int load_file(const char *path, FileLoad *l, struct stat *st, ParseError *e) {
        _cleanup_free_ char *data = NULL;
        size_t len;
        int r = -EAGAIN;

        for (unsigned i = 0; i < READ_ATTEMPTS && r == -EAGAIN; i++) {
                parse_error_done(e);
                r = read_regular_file(path, &data, &len, st, e);
        }
        if (r == -EAGAIN || r == -ENOMEM)
                return r;
        *l = (FileLoad) { .path = path, .mtime = st->st_mtim.tv_sec, .err = e };
        if (r >= 0)
                r = parse_documents_foreach(path, data, len, load_document, l, e);
        if (r == -ENOMEM) {
                file_load_done(l);
                return r;
        }
        if (r < 0 && !e->message)
                parse_error_set(e, path, 0, 0, NULL, "%s", strerror(-r));
        return 0;
}

/* What a file read says: its resources replace the previous ones; if it
 * cannot be used, the previous ones stay and the error is kept: bad input
 * never loosens what is enforced. */
static int file_apply(FileState *f, FileLoad *l, const ParseError *e) {
        if (e->message) {
                file_load_done(l);
                return set_problem(f, e, true);
        }
        resource_list_done(&f->res);
        free(f->places);
        f->res = l->res;
        f->places = l->places;
        f->n_docs = l->n_docs;
        f->in_view = false;
        *l = (FileLoad) {};
        f->problem = mfree_ptr(f->problem);
        f->public_problem = mfree_ptr(f->public_problem);
        return 0;
}

static int file_problem(FileState *f, const char *fmt, ...) _printf_(2, 3);
static int file_problem(FileState *f, const char *fmt, ...) {
        ParseError e = PARSE_ERROR_INIT;
        va_list ap;
        int r;

        va_start(ap, fmt);
        parse_error_setv(&e, f->path, 0, 0, NULL, fmt, ap);
        va_end(ap);
        r = set_problem(f, &e, false);
        parse_error_done(&e);
        return r;
}

static int compare_file_path(const void *key, const void *f) {
        return strcmp(key, ((const FileState *)f)->path);
}

/* Files are kept sorted by path (as of the last refresh): a binary search. */
static FileState *store_find_file(DirStore *ds, const char *path) {
        return ds->n_sorted_files ? bsearch(path, ds->files, ds->n_sorted_files, sizeof(FileState), compare_file_path)
                                  : NULL;
}

/* By identity, then by file order, so the first definition sorts first. */
static int compare_entries(const void *a, const void *b) {
        const StoreEntry *x = a, *y = b;
        int k = datastore_compare_identity(x->res, y->res);

        if (k)
                return k;
        k = strcmp(x->origin, y->origin);
        return k ? k : (ENTRY_ORDER(x->backend) > ENTRY_ORDER(y->backend)) - (ENTRY_ORDER(x->backend) < ENTRY_ORDER(y->backend));
}

/* A set of pointers (the paths of files whose entries stay), open
 * addressing: the entries are filtered without reading any string. */
typedef struct PtrSet {
        const void **slots;
        size_t mask;
} PtrSet;

static int ptr_set_init(PtrSet *p, size_t n) {
        size_t size = 16;

        while (size < 2 * n)
                size *= 2;
        p->slots = calloc(size, sizeof(void *));
        p->mask = size - 1;
        return p->slots ? 0 : -ENOMEM;
}

static size_t ptr_slot(const PtrSet *p, const void *x) {
        size_t h = (size_t)(((uintptr_t)x >> 4) * 0x9E3779B97F4A7C15ULL);

        for (h &= p->mask; p->slots[h] && p->slots[h] != x; h = (h + 1) & p->mask)
                ;
        return h;
}

static void ptr_set_add(PtrSet *p, const void *x) {
        p->slots[ptr_slot(p, x)] = x;
}

static bool ptr_set_has(const PtrSet *p, const void *x) {
        return p->slots[ptr_slot(p, x)] == x;
}

/* The first position in v[lo..hi) whose entry sorts after e. */
static size_t entry_upper_bound(const StoreEntry *v, size_t lo, size_t hi, const StoreEntry *e) {
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (compare_entries(&v[mid], e) <= 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

/* ds->all brought up to date (total entries in all): the entries of files
 * unchanged since the last rebuild are kept in their order; those of
 * files read since are sorted and merged in, each by a binary search. One
 * changed file among 10,000 resources costs a few dozen comparisons, not
 * a sort of everything (which was a third of a change's cost). */
static int merge_changed_files(DirStore *ds, size_t total) {
        _cleanup_free_ StoreEntry *fresh = NULL;
        StoreEntry *merged;
        PtrSet kept = {};
        size_t n_fresh = 0, n_kept = 0, at = 0, n = 0;
        int r = ptr_set_init(&kept, ds->n_files);

        fresh = new_array(total, sizeof(StoreEntry));
        if (r < 0 || (!fresh && total)) {
                free(kept.slots);
                return -ENOMEM;
        }
        for (size_t i = 0; i < ds->n_files; i++) {
                FileState *f = &ds->files[i];
                if (f->in_view) {
                        ptr_set_add(&kept, f->path);
                        continue;
                }
                for (size_t j = 0; j < f->res.n; j++)
                        fresh[n_fresh++] = (StoreEntry) {
                                .res = f->res.v[j],
                                .origin = f->path,
                                .line = f->places[j].line,
                                .column = f->places[j].column,
                                .backend = (uint32_t)j << 1 | (f->places[j].whole ? ENTRY_WHOLE : 0),
                        };
        }
        /* What stays, in place: the entries of a file still here and not
         * read again (a file gone or read again has a path not in kept). */
        for (size_t i = 0; i < ds->n_all; i++)
                if (ptr_set_has(&kept, ds->all[i].origin))
                        ds->all[n_kept++] = ds->all[i];
        free(kept.slots);
        qsort_safe(fresh, n_fresh, sizeof(StoreEntry), compare_entries);
        merged = new_array(n_kept + n_fresh, sizeof(StoreEntry));
        if (!merged && n_kept + n_fresh)
                return -ENOMEM;
        for (size_t i = 0; i < n_fresh; i++) {
                size_t to = entry_upper_bound(ds->all, at, n_kept, &fresh[i]);
                if (to > at)
                        memcpy(merged + n, ds->all + at, (to - at) * sizeof(StoreEntry));
                n += to - at;
                at = to;
                merged[n++] = fresh[i];
        }
        if (n_kept > at)
                memcpy(merged + n, ds->all + at, (n_kept - at) * sizeof(StoreEntry));
        n += n_kept - at;
        free(ds->all);
        ds->all = merged;
        ds->n_all = n;
        for (size_t i = 0; i < ds->n_files; i++)
                ds->files[i].in_view = true;
        return 0;
}

/* Rebuilds entries (sorted by identity, for binary search) and problems
 * from the per-file states. Of a duplicate, the first definition in file
 * order is kept and the others are reported. */
static int store_rebuild_view(DirStore *ds) {
        StoreEntry *v;
        size_t total = 0, n = 0, k = 0;
        int r;

        datastore_clear_view(&ds->base);
        for (size_t i = 0; i < ds->n_files; i++) {
                total += ds->files[i].res.n;
                if (ds->files[i].problem) {
                        r = datastore_add_problem(&ds->base, ds->files[i].path, ds->files[i].public_problem, "%s",
                                                  ds->files[i].problem);
                        if (r < 0)
                                return r;
                }
        }
        r = merge_changed_files(ds, total);
        if (r < 0)
                return r;
        n = ds->n_all;
        v = new_array(n, sizeof(StoreEntry));
        if (!v && n)
                return -ENOMEM;
        if (n)
                memcpy(v, ds->all, n * sizeof(StoreEntry));
        ds->base.entries = v;
        for (size_t i = 0; i < n; i++) {
                const StoreEntry *e = &v[i];
                if (k > 0 && datastore_compare_identity(v[k - 1].res, e->res) == 0) {
                        _cleanup_free_ char *id = resource_identifier(e->res), *public = NULL;
                        const FileState *a = store_find_file(ds, v[k - 1].origin), *b = store_find_file(ds, e->origin);
                        /* The identity comes from the files. */
                        if (!(a && a->world_readable && b && b->world_readable) &&
                            asprintf(&public, "%s: a resource is defined in both '%s' and '%s'; the one in '%s' is used",
                                     e->origin, v[k - 1].origin, e->origin, v[k - 1].origin) < 0)
                                return -ENOMEM;
                        r = datastore_add_problem(&ds->base, e->origin, public,
                                                  "%s: %s is defined in both '%s' and '%s'; the one in '%s' is used",
                                                  e->origin, id ? id : "resource", v[k - 1].origin, e->origin,
                                                  v[k - 1].origin);
                        if (r < 0)
                                return r;
                        continue;
                }
                v[k++] = *e;
        }
        ds->base.n_entries = k;
        /* Last, so that the Manager's LastError shows the directory's own problem. */
        for (size_t i = 0; i < ds->n_skipped; i++) {
                r = datastore_add_problem(&ds->base, NULL, NULL, "%s", ds->skipped[i]);
                if (r < 0)
                        return r;
        }
        return ds->dir_problem ? datastore_add_problem(&ds->base, NULL, NULL, "%s", ds->dir_problem) : 0;
}

static int compare_files(const void *a, const void *b) {
        return strcmp(((const FileState *)a)->path, ((const FileState *)b)->path);
}

static uint64_t min_usec(uint64_t a, uint64_t b) {
        return a < b ? a : b;
}

/* Being written in place (modified, not closed since; or created and
 * still empty): its previous resources stay until it is closed, and after
 * WRITING_REPORT_USEC that is a problem. Only a watched store knows. */
static bool file_busy(DirStore *ds, FileState *f, const struct stat *st, uint64_t now, uint64_t *wake) {
        uint64_t since = now;
        FileActivity a;

        if (!ds->watch)
                return false;
        a = dir_watch_activity(ds->watch, f->path, &since);
        if (a == FILE_ACTIVITY_NONE || (a == FILE_ACTIVITY_CREATED && st->st_size > 0))
                return false;
        if (now - since < WRITING_REPORT_USEC)
                *wake = min_usec(*wake, since + WRITING_REPORT_USEC);
        else
                (void)file_problem(f, "open for writing for %llu s; it is read once it is closed",
                                   (unsigned long long)((now - since) / 1000000));
        return true;
}

/* A listed file: read again if it is another version than the one read
 * last, unless it is being written. */
static int store_read_file(DirStore *ds, char **path, uint64_t now, uint64_t *wake, bool *changed, bool *again) {
        ParseError e = PARSE_ERROR_INIT;
        FileState *f = store_find_file(ds, *path);
        FileLoad l = {};
        struct stat st;
        int r;

        if (stat(*path, &st) < 0)
                return 0; /* gone since it was listed: a missing file, below */
        if (!f) {
                f = grow_array(ds->files, &ds->alloc_files, ds->n_files + 1, sizeof(FileState));
                if (!f)
                        return -ENOMEM;
                ds->files = f;
                f = &ds->files[ds->n_files++];
                *f = (FileState) { .path = steal_ptr(*path) };
        }
        f->seen = true;
        f->gone_usec = 0;
        f->unlinked = false;
        if (version_eq(f->version, version_of(&st)) || file_busy(ds, f, &st, now, wake))
                return 0;
        r = load_file(f->path, &l, &st, &e);
        /* A truncation or write before or while we read shows now. */
        if (ds->watch && dir_watch_sync(ds->watch))
                *again = true;
        if (r != -ENOMEM) {
                if (file_busy(ds, f, &st, now, wake)) {
                        file_load_done(&l);
                        r = 0;
                } else if (r == -EAGAIN)
                        r = file_problem(f, "changed while it was read, %d times in a row", READ_ATTEMPTS);
                else {
                        f->version = version_of(&st);
                        f->world_readable = (st.st_mode & S_IROTH) != 0;
                        r = file_apply(f, &l, &e);
                        *changed = true;
                }
        }
        parse_error_done(&e);
        return r;
}

static const char *what_is(const char *path, const struct stat *lst) {
        struct stat st;

        if (S_ISDIR(lst->st_mode))
                return "a directory";
        if (S_ISFIFO(lst->st_mode))
                return "a named pipe";
        if (S_ISSOCK(lst->st_mode))
                return "a socket";
        if (S_ISCHR(lst->st_mode) || S_ISBLK(lst->st_mode))
                return "a device";
        if (S_ISLNK(lst->st_mode))
                return stat(path, &st) < 0     ? "a symbolic link to nothing"
                       : S_ISDIR(st.st_mode) ? "a symbolic link to a directory"
                                             : "a symbolic link to something that is not a regular file";
        return "a file under a directory that is not read";
}

/* A known file the walk did not list. Deleted: dropped (1), once the
 * grace period is over and the directory is still there, if watched.
 * Still there as something else (a directory, a FIFO, ...): kept and
 * reported, as a file that does not parse. */
static int file_missing(DirStore *ds, FileState *f, uint64_t now, uint64_t *wake) {
        struct stat st;
        int k = lstat(f->path, &st) < 0 ? errno : 0;

        if (k != ENOENT && k != ENOTDIR) {
                f->seen = true;
                f->gone_usec = 0;
                f->version = (FileVersion) {}; /* read again once it is a file again */
                return k ? file_problem(f, "cannot be looked at: %s", strerror(k))
                         : file_problem(f, "now %s, not a file that can be read", what_is(f->path, &st));
        }
        if (!ds->watch || f->unlinked)
                return 1;
        if (!f->gone_usec)
                f->gone_usec = now;
        /* Gone with the directory: kept until it is back, then looked at again. */
        if (dir_watch_gone(ds->watch)) {
                f->seen = true;
                return 0;
        }
        if (now >= f->gone_usec + DELETE_GRACE_USEC)
                return 1;
        f->seen = true;
        *wake = min_usec(*wake, f->gone_usec + DELETE_GRACE_USEC);
        return 0;
}

/* Lists the directory. Another directory in its place (re-created):
 * deletions seen in the old one start their grace period again. */
static int store_list(DirStore *ds, FileList *ret) {
        struct stat st;
        int r;

        if (stat(ds->path, &st) < 0)
                return -errno;
        if (!S_ISDIR(st.st_mode))
                return -ENOTDIR;
        r = list_resource_files(ds->path, true, ret);
        if (r < 0)
                return r;
        if (st.st_dev != ds->root_dev || st.st_ino != ds->root_ino)
                for (size_t i = 0; i < ds->n_files; i++)
                        ds->files[i].gone_usec = 0;
        ds->root_dev = st.st_dev;
        ds->root_ino = st.st_ino;
        return 0;
}

/* The directory itself cannot be read: everything read from it stays in
 * force, and the reason is a problem. Watched, that is the answer (0);
 * else the error is returned too. */
static int store_unreadable(DirStore *ds, int r) {
        int k;

        if (r == -ENOMEM)
                return r;
        free(ds->dir_problem);
        if (r == -ENOENT || r == -ENOTDIR)
                k = asprintf(&ds->dir_problem,
                             "%s: the datastore directory is gone (deleted or moved away); what was read from it "
                             "stays in force until it is back",
                             ds->path);
        else
                k = asprintf(&ds->dir_problem,
                             "%s: cannot read the datastore directory: %s; what was read from it stays in force",
                             ds->path, strerror(-r));
        if (k < 0) {
                ds->dir_problem = NULL;
                return -ENOMEM;
        }
        k = store_rebuild_view(ds);
        if (k < 0)
                return k;
        return ds->watch ? 0 : r;
}

static int dir_refresh(DirStore *ds) {
        uint64_t now = now_usec(), wake = UINT64_MAX;
        bool changed = false, again = false;
        FileList l;
        int r;

        if (ds->watch)
                (void)dir_watch_sync(ds->watch);
        r = store_list(ds, &l);
        if (r < 0)
                return store_unreadable(ds, r);
        ds->dir_problem = mfree_ptr(ds->dir_problem);
        for (size_t i = 0; i < ds->n_files; i++)
                ds->files[i].seen = false;
        for (size_t i = 0; i < l.n_files && r >= 0; i++)
                r = store_read_file(ds, &l.files[i], now, &wake, &changed, &again);
        /* A list cut short says nothing of the files after the cut. */
        for (size_t i = 0; i < ds->n_files && r >= 0;) {
                FileState *f = &ds->files[i];
                if (f->seen || l.truncated) {
                        i++;
                        continue;
                }
                r = file_missing(ds, f, now, &wake);
                if (r <= 0) {
                        i++;
                        continue;
                }
                file_state_done(f);
                *f = ds->files[--ds->n_files];
                changed = true;
                r = 0;
        }
        strv_free_n(ds->skipped, ds->n_skipped);
        ds->skipped = steal_ptr(l.skipped);
        ds->n_skipped = l.n_skipped;
        l.n_skipped = 0;
        file_list_done(&l);
        if (r < 0)
                return r;
        qsort_safe(ds->files, ds->n_files, sizeof(FileState), compare_files);
        ds->n_sorted_files = ds->n_files;
        r = store_rebuild_view(ds);
        /* The same files read: the same entries (of the same objects). */
        if (r < 0 || changed)
                ds->base.view_generation++;
        if (r < 0)
                return r;
        if (ds->watch && (again || wake != UINT64_MAX))
                dir_watch_call_back_in(ds->watch, again ? 0 : wake > now ? wake - now : 0);
        return changed;
}

static int dir_refresh_op(Datastore *base) {
        return dir_refresh((DirStore *)base);
}

static int dir_attach(Datastore *base, const hep_host *host, void (*changed)(void *userdata), void *userdata) {
        DirStore *ds = (DirStore *)base;

        if (ds->watch)
                return -EBUSY;
        return dir_watch_new(host, ds->path, changed, userdata, &ds->watch);
}

static void dir_forget(Datastore *base) {
        DirStore *ds = (DirStore *)base;

        for (size_t i = 0; i < ds->n_files; i++)
                ds->files[i].version = (FileVersion) {};
}

/* ---- writing ---- */

/* hepctl invocations and the daemon's writes are serialised with an
 * flock on the directory. A store opened DATASTORE_NONBLOCK (the daemon's,
 * on the host's loop) never waits for it: STORE_BUSY. Returns the locked
 * fd, STORE_BUSY or -errno. */
static int store_lock(DirStore *ds) {
        bool nonblock = ds->base.flags & DATASTORE_NONBLOCK;
        int fd = open(ds->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (fd < 0)
                return -errno;
        if (flock(fd, LOCK_EX | (nonblock ? LOCK_NB : 0)) < 0) {
                int r = errno == EWOULDBLOCK ? STORE_BUSY : -errno;
                close(fd);
                return r;
        }
        return fd;
}

static void store_unlock(int fd) {
        if (fd >= 0)
                close(fd); /* releases the flock */
}

/* Writes data to path atomically: a temporary dot-file (ignored by
 * readers) in the same directory, fsync, rename, fsync the directory. */
static int write_atomic(const char *path, const char *data, size_t len) {
        _cleanup_free_ char *dir = strdup(path), *tmp = NULL;
        char *slash;
        int fd, r = 0;

        if (!dir)
                return -ENOMEM;
        slash = strrchr(dir, '/');
        if (slash)
                *slash = 0;
        if (asprintf(&tmp, "%s/.hepctl-XXXXXX", slash ? dir : ".") < 0)
                return -ENOMEM;
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return -errno;
        for (size_t off = 0; off < len && r == 0;) {
                ssize_t n = write(fd, data + off, len - off);
                if (n < 0 && errno != EINTR)
                        r = -errno;
                else if (n > 0)
                        off += (size_t)n;
        }
        if (r == 0 && fchmod(fd, 0644) < 0)
                r = -errno;
        if (r == 0 && fsync(fd) < 0)
                r = -errno;
        close(fd);
        if (r == 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0) {
                unlink(tmp);
                return r;
        }
        fd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd >= 0) {
                (void)fsync(fd);
                close(fd);
        }
        return 0;
}

static int resource_to_yaml(const Resource *r, char **ret) {
        _cleanup_(resource_freep) Resource *c = resource_copy(r);
        _cleanup_(node_freep) Node *n = NULL;
        StrBuf b = STRBUF_INIT;

        if (!c)
                return -ENOMEM;
        /* resourceVersion is derived from content, never stored. */
        free(c->meta.resource_version);
        c->meta.resource_version = NULL;
        n = resource_encode(c);
        if (!n)
                return -ENOMEM;
        node_emit_yaml(n, &b);
        *ret = strbuf_steal(&b);
        return *ret ? 0 : -ENOMEM;
}

/* A name that may become part of a file name: validation already allows
 * only DNS labels and subdomains, but a path is never built from anything
 * that could leave the directory or hide as a dot-file. */
static bool file_name_part_ok(const char *s) {
        return !isempty(s) && s[0] != '.' && !strchr(s, '/');
}

static int error_text(char **ret_error, const char *fmt, ...) _printf_(2, 3);

/* A file name within NAME_MAX whatever the resource's name: Calico allows
 * 253 characters, and the kind, a namespace, a counter and ".yaml" come
 * on top. A stem that fits is used as it is (the names hepctl always
 * gave); a longer one is cut and followed by a digest of the whole stem,
 * so that the file is still recognisable and two long names that begin
 * alike get files of their own. n > 1: the n-th candidate ("-n"). */
#define FILE_DIGEST_CHARS 16

static int file_name(const char *stem, unsigned n, char **ret) {
        char counter[16] = "";
        size_t tail, keep;
        int k;

        if (n > 1)
                snprintf(counter, sizeof(counter), "-%u", n);
        tail = strlen(counter) + strlen(".yaml");
        if (strlen(stem) + tail <= NAME_MAX)
                k = asprintf(ret, "%s%s.yaml", stem, counter);
        else {
                keep = NAME_MAX - tail - 1 - FILE_DIGEST_CHARS;
                /* Never half a UTF-8 character (names are ASCII once validated). */
                while (keep > 0 && ((unsigned char)stem[keep] & 0xc0) == 0x80)
                        keep--;
                k = asprintf(ret, "%.*s-%0*" PRIx64 "%s.yaml", (int)keep, stem, FILE_DIGEST_CHARS,
                             fnv1a(stem, 14695981039346656037ULL), counter);
        }
        if (k < 0) {
                *ret = NULL;
                return -ENOMEM;
        }
        return 0;
}

/* Whether path is free for a new file: 1 if nothing is there (not even a
 * dangling link, which a rename would replace), 0 if something is, or the
 * file system's error, which is the caller's answer (a path too long for
 * PATH_MAX, a directory that cannot be searched, ...). */
static int path_free(const char *path) {
        struct stat st;

        if (lstat(path, &st) == 0)
                return 0;
        return errno == ENOENT ? 1 : -errno;
}

static int new_file_path(DirStore *ds, const Resource *r, char **ret, char **ret_error) {
        _cleanup_free_ char *stem = NULL;

        if (!file_name_part_ok(r->meta.name) || (r->meta.namespace && !file_name_part_ok(r->meta.namespace))) {
                error_text(ret_error, "refusing to name a file in '%s' after '%s%s%s'", ds->path,
                           r->meta.namespace ? r->meta.namespace : "", r->meta.namespace ? "/" : "",
                           r->meta.name ? r->meta.name : "");
                return -EINVAL;
        }
        if (asprintf(&stem, "%s-%s%s%s", kind_info(r->kind)->name, r->meta.namespace ? r->meta.namespace : "",
                     r->meta.namespace ? "." : "", r->meta.name) < 0) {
                stem = NULL;
                return -ENOMEM;
        }
        for (char *p = stem; *p && *p != '-'; p++)
                *p = (char)tolower((unsigned char)*p);
        for (unsigned i = 1; i < 1000; i++) {
                _cleanup_free_ char *name = NULL, *path = NULL;
                int k = file_name(stem, i, &name);

                if (k < 0)
                        return k;
                if (asprintf(&path, "%s/%s", ds->path, name) < 0) {
                        path = NULL;
                        return -ENOMEM;
                }
                k = path_free(path);
                if (k > 0) {
                        *ret = steal_ptr(path);
                        return 0;
                }
                if (k < 0) {
                        error_text(ret_error, "cannot write '%s': %s", path, strerror(-k));
                        return k;
                }
        }
        error_text(ret_error, "cannot write to '%s': every file name for '%s' is taken", ds->path, stem);
        return -EEXIST;
}

static int error_text(char **ret_error, const char *fmt, ...) _printf_(2, 3);
static int error_text(char **ret_error, const char *fmt, ...) {
        va_list ap;

        if (!ret_error)
                return 0;
        va_start(ap, fmt);
        if (vasprintf(ret_error, fmt, ap) < 0)
                *ret_error = NULL;
        va_end(ap);
        return 0;
}

/* Re-reads the file holding e and returns its bytes and the byte range of
 * the document that is exactly e's resource. */
static int locate_document(const StoreEntry *e, char **ret_data, size_t *ret_len, size_t *ret_start,
                           size_t *ret_end) {
        _cleanup_(document_list_done) DocumentList docs = DOCUMENT_LIST_INIT;
        _cleanup_free_ char *data = NULL;
        ParseError err = PARSE_ERROR_INIT;
        size_t len;
        int r;

        r = read_file_limited(e->origin, HEP_MAX_FILE_SIZE, &data, &len, &err);
        if (r >= 0)
                r = parse_documents(e->origin, data, len, &docs, &err);
        parse_error_done(&err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < docs.n; i++) {
                const Node *root = docs.docs[i].root, *meta = node_map_get(root, "metadata");
                const Node *kind = node_map_get(root, "kind"), *name = node_map_get(meta, "name");
                const Node *ns = node_map_get(meta, "namespace");
                if (!kind || !name || kind->type != NODE_SCALAR || name->type != NODE_SCALAR)
                        continue;
                if (!streq(kind->text, kind_info(e->res->kind)->name) || !streq(name->text, e->res->meta.name) ||
                    !streq(ns && ns->type == NODE_SCALAR ? ns->text : "",
                           e->res->meta.namespace ? e->res->meta.namespace : ""))
                        continue;
                *ret_start = parse_char_to_byte_offset(data, len, docs.docs[i].start_index);
                *ret_end = parse_char_to_byte_offset(data, len, docs.docs[i].end_index);
                *ret_len = len;
                *ret_data = steal_ptr(data);
                return 0;
        }
        return -ENOENT;
}

static size_t file_resource_count(DirStore *ds, const char *file) {
        const FileState *f = store_find_file(ds, file);

        return f ? f->res.n : 0;
}

/* A deletion by the store itself is meant: no grace period. */
static int store_unlink(DirStore *ds, const char *file) {
        FileState *f = store_find_file(ds, file);

        if (unlink(file) < 0)
                return -errno;
        if (f)
                f->unlinked = true;
        return 0;
}

/* Replaces (text != NULL) or removes e's definition. */
static int rewrite_entry(DirStore *ds, const StoreEntry *e, const char *text, char **ret_error) {
        _cleanup_free_ char *data = NULL;
        size_t len, start, end;
        StrBuf b = STRBUF_INIT;
        int r;

        if (!(e->backend & ENTRY_WHOLE)) {
                _cleanup_free_ char *id = resource_identifier(e->res);
                error_text(ret_error,
                           "%s is defined in '%s' inside a list with other resources; edit that file by hand",
                           id ? id : "resource", e->origin);
                return STORE_NOT_EDITABLE;
        }
        if (file_resource_count(ds, e->origin) == 1) {
                if (!text)
                        return store_unlink(ds, e->origin);
                return write_atomic(e->origin, text, strlen(text));
        }
        /* A hand-written file with several documents: splice ours only. */
        r = locate_document(e, &data, &len, &start, &end);
        if (r < 0) {
                error_text(ret_error, "cannot find the document to edit in '%s'; edit that file by hand", e->origin);
                return STORE_NOT_EDITABLE;
        }
        strbuf_append_len(&b, data, start);
        if (text)
                strbuf_append(&b, text);
        strbuf_append_len(&b, data + end, len - end);
        if (!strbuf_ok(&b))
                return -ENOMEM;
        r = write_atomic(e->origin, strbuf_str(&b), b.len);
        strbuf_done(&b);
        return r;
}

/* After a write: re-read and hand back the stored copy. */
static int store_result(DirStore *ds, ResourceKind kind, const char *ns, const char *name, Resource **ret) {
        const StoreEntry *e;
        int r = dir_refresh(ds);

        if (r < 0)
                return r;
        if (!ret)
                return 0;
        e = datastore_find(&ds->base, kind, ns, name);
        if (!e)
                return -EIO;
        *ret = resource_copy(e->res);
        return *ret ? 0 : -ENOMEM;
}

/* Locked, and the view current: what the write starts from. lock_fd is
 * the lock to release after the write. */
static int write_begin(DirStore *ds, int *ret_lock_fd) {
        int fd = store_lock(ds), r;

        if (fd < 0 || fd == STORE_BUSY)
                return fd;
        r = dir_refresh(ds);
        if (r < 0) {
                store_unlock(fd);
                return r;
        }
        *ret_lock_fd = fd;
        return 0;
}

/* The stored resource, if its resourceVersion is rv (any, if rv is empty). */
static int find_for_write(DirStore *ds, ResourceKind kind, const char *ns, const char *name, const char *rv,
                          const StoreEntry **ret) {
        const StoreEntry *e = datastore_find(&ds->base, kind, ns, name);

        if (!e)
                return STORE_NOT_FOUND;
        if (!isempty(rv) && !streq(rv, e->res->meta.resource_version))
                return STORE_CONFLICT;
        *ret = e;
        return 0;
}

static int dir_create(Datastore *base, const Resource *r, Resource **ret, char **ret_error) {
        DirStore *ds = (DirStore *)base;
        _cleanup_(resource_freep) Resource *c = NULL;
        _cleanup_free_ char *text = NULL, *path = NULL;
        int lock = -1, k;

        k = write_begin(ds, &lock);
        if (k == 0 && datastore_find(base, r->kind, r->meta.namespace, r->meta.name))
                k = STORE_EXISTS;
        if (k == 0) {
                c = resource_copy(r);
                k = c ? 0 : -ENOMEM;
        }
        if (k == 0)
                k = datastore_stamp_new(c);
        if (k == 0)
                k = resource_to_yaml(c, &text);
        if (k == 0)
                k = new_file_path(ds, c, &path, ret_error);
        if (k == 0)
                k = write_atomic(path, text, strlen(text));
        if (k == 0)
                k = store_result(ds, r->kind, r->meta.namespace, r->meta.name, ret);
        store_unlock(lock);
        if (k < 0 && ret_error && !*ret_error)
                error_text(ret_error, "cannot write to '%s': %s", ds->path, strerror(-k));
        return k;
}

static int dir_update(Datastore *base, const Resource *r, Resource **ret, char **ret_error) {
        DirStore *ds = (DirStore *)base;
        _cleanup_(resource_freep) Resource *c = NULL;
        _cleanup_free_ char *text = NULL;
        const StoreEntry *e = NULL;
        int lock = -1, k;

        k = write_begin(ds, &lock);
        if (k == 0)
                k = find_for_write(ds, r->kind, r->meta.namespace, r->meta.name, r->meta.resource_version, &e);
        if (k == 0) {
                c = resource_copy(r);
                k = c ? 0 : -ENOMEM;
        }
        if (k == 0)
                k = datastore_keep_stored_identity(c, e->res);
        if (k == 0)
                k = resource_to_yaml(c, &text);
        if (k == 0)
                k = rewrite_entry(ds, e, text, ret_error);
        if (k == 0)
                k = store_result(ds, r->kind, r->meta.namespace, r->meta.name, ret);
        store_unlock(lock);
        return k;
}

static int dir_delete(Datastore *base, ResourceKind kind, const char *ns, const char *name, const char *rv,
                      Resource **ret, char **ret_error) {
        DirStore *ds = (DirStore *)base;
        _cleanup_(resource_freep) Resource *old = NULL;
        const StoreEntry *e = NULL;
        int lock = -1, k;

        k = write_begin(ds, &lock);
        if (k == 0)
                k = find_for_write(ds, kind, ns, name, rv, &e);
        if (k == 0) {
                old = resource_copy(e->res);
                k = old ? 0 : -ENOMEM;
        }
        if (k == 0)
                k = rewrite_entry(ds, e, NULL, ret_error);
        if (k == 0)
                k = store_result(ds, kind, ns, name, NULL);
        store_unlock(lock);
        if (k == 0 && ret)
                *ret = steal_ptr(old);
        return k;
}

const DatastoreOps datastore_dir_ops = {
        .scheme = "dir",
        .size = sizeof(DirStore),
        .open = dir_open,
        .close = dir_close,
        .attach = dir_attach,
        .refresh = dir_refresh_op,
        .forget = dir_forget,
        .create = dir_create,
        .update = dir_update,
        .remove = dir_delete,
};
