/* SPDX-License-Identifier: GPL-2.0-or-later */
/* File and directory reading for resource files; see fileio.h. */
#include "fileio.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "parse.h"

int read_fd_limited(int fd, const char *path, size_t max, char **ret, size_t *ret_len, ParseError *reterr) {
        _cleanup_free_ char *buf = NULL;
        size_t len = 0, alloc = 0;

        for (;;) {
                char *p = grow_array(buf, &alloc, len + 65536 + 1, 1);
                ssize_t n;

                if (!p)
                        return -ENOMEM;
                buf = p;
                n = read(fd, buf + len, alloc - len - 1);
                if (n < 0) {
                        int r = -errno;
                        if (r == -EINTR)
                                continue;
                        parse_error_set(reterr, path, 0, 0, NULL, "cannot read: %s", strerror(-r));
                        return r;
                }
                if (n == 0)
                        break;
                len += (size_t)n;
                if (len > max) {
                        parse_error_set(reterr, path, 0, 0, NULL, "file is larger than the %zu MiB limit",
                                        max / (1024 * 1024));
                        return -EFBIG;
                }
        }
        if (!buf) {
                buf = strdup("");
                if (!buf)
                        return -ENOMEM;
        }
        buf[len] = 0;
        *ret = steal_ptr(buf);
        *ret_len = len;
        return 0;
}

int read_file_limited(const char *path, size_t max, char **ret, size_t *ret_len, ParseError *reterr) {
        int fd, r;

        if (streq(path, "-"))
                return read_fd_limited(STDIN_FILENO, path, max, ret, ret_len, reterr);
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                r = -errno;
                parse_error_set(reterr, path, 0, 0, NULL, "cannot open: %s", strerror(-r));
                return r;
        }
        r = read_fd_limited(fd, path, max, ret, ret_len, reterr);
        close(fd);
        return r;
}

bool is_resource_file_name(const char *name) {
        size_t n = strlen(name);

        if (name[0] == '.')
                return false;
        return (n > 5 && streq(name + n - 5, ".yaml")) || (n > 4 && streq(name + n - 4, ".yml")) ||
               (n > 5 && streq(name + n - 5, ".json"));
}

/* Appends s (taken, even on failure) to a string array. */
static int strv_add(char ***v, size_t *n, size_t *alloc, char *s) {
        char **p = s ? grow_array(*v, alloc, *n + 1, sizeof(char *)) : NULL;

        if (!p) {
                free(s);
                return -ENOMEM;
        }
        *v = p;
        p[(*n)++] = s;
        return 0;
}

void file_list_done(FileList *l) {
        strv_free_n(l->files, l->n_files);
        strv_free_n(l->skipped, l->n_skipped);
        *l = (FileList) {};
}

typedef struct DirId {
        dev_t dev;
        ino_t ino;
} DirId;

typedef struct Walk {
        bool recursive;
        DirId *visited; /* sorted */
        size_t n_visited, alloc_visited;
        FileList *out;
} Walk;

static int walk_skip(Walk *w, const char *path, const char *fmt, ...) _printf_(3, 4);
static int walk_skip(Walk *w, const char *path, const char *fmt, ...) {
        _cleanup_free_ char *why = NULL;
        char *s;
        va_list ap;
        int k;

        va_start(ap, fmt);
        k = vasprintf(&why, fmt, ap);
        va_end(ap);
        if (k < 0 || asprintf(&s, "%s: %s", path, why) < 0)
                return -ENOMEM;
        return strv_add(&w->out->skipped, &w->out->n_skipped, &w->out->alloc_skipped, s);
}

static int compare_dir_id(const DirId *a, const DirId *b) {
        if (a->dev != b->dev)
                return a->dev < b->dev ? -1 : 1;
        return (a->ino > b->ino) - (a->ino < b->ino);
}

/* Adds a directory to the visited set: 1 if it is new, 0 if it was there. */
static int walk_visit(Walk *w, const struct stat *st) {
        DirId id = { st->st_dev, st->st_ino };
        size_t lo = 0, hi = w->n_visited;
        DirId *v;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int k = compare_dir_id(&w->visited[mid], &id);
                if (k == 0)
                        return 0;
                if (k < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        v = grow_array(w->visited, &w->alloc_visited, w->n_visited + 1, sizeof(DirId));
        if (!v)
                return -ENOMEM;
        w->visited = v;
        memmove(v + lo + 1, v + lo, (w->n_visited - lo) * sizeof(DirId));
        v[lo] = id;
        w->n_visited++;
        return 1;
}

static int walk_dir(Walk *w, const char *dir, unsigned depth);

static int walk_subdir(Walk *w, const char *path, const struct stat *st, unsigned depth) {
        int r;

        if (depth > HEP_MAX_DIR_DEPTH)
                return walk_skip(w, path, "more than %d directories deep, not read", HEP_MAX_DIR_DEPTH);
        r = walk_visit(w, st);
        if (r <= 0)
                return r < 0 ? r : walk_skip(w, path, "the same directory as one read already (a bind mount?), not read again");
        r = walk_dir(w, path, depth);
        if (r < 0 && r != -ENOMEM)
                return walk_skip(w, path, "cannot read directory: %s", strerror(-r));
        return r;
}

static int walk_file(Walk *w, char *path) {
        FileList *l = w->out;

        if (l->n_files >= HEP_MAX_DIR_FILES) {
                int r = walk_skip(w, path, "more than %d resource files; this one and those after it are not read",
                                  HEP_MAX_DIR_FILES);
                free(path);
                l->truncated = true;
                return r;
        }
        return strv_add(&l->files, &l->n_files, &l->alloc_files, path);
}

/* One directory entry. d_type saves a stat per file; links and unknown
 * types are stat'ed. A symbolic link to a regular file is read (Kubernetes
 * mounts a ConfigMap's keys that way); to a directory, never followed:
 * two links to "." would make 2^depth paths. */
static int walk_entry(Walk *w, const char *dir, const struct dirent *e, unsigned depth) {
        _cleanup_free_ char *p = NULL;
        bool link = e->d_type == DT_LNK;
        struct stat st;

        if (e->d_name[0] == '.')
                return 0;
        if (e->d_type != DT_REG && e->d_type != DT_DIR && e->d_type != DT_LNK && e->d_type != DT_UNKNOWN)
                return 0;
        if (e->d_type == DT_REG && !is_resource_file_name(e->d_name))
                return 0;
        if (e->d_type == DT_DIR && !w->recursive)
                return 0;
        if (asprintf(&p, "%s/%s", dir, e->d_name) < 0)
                return -ENOMEM;
        if (e->d_type == DT_REG)
                return walk_file(w, steal_ptr(p));
        if (e->d_type == DT_UNKNOWN) {
                if (lstat(p, &st) < 0)
                        return 0; /* vanished */
                link = S_ISLNK(st.st_mode);
        }
        if ((link || e->d_type == DT_DIR) && stat(p, &st) < 0)
                return 0; /* vanished or dangling link */
        if (S_ISDIR(st.st_mode)) {
                if (!w->recursive)
                        return 0;
                if (link)
                        return walk_skip(w, p, "a symbolic link to a directory, not followed");
                return walk_subdir(w, p, &st, depth + 1);
        }
        if (S_ISREG(st.st_mode) && is_resource_file_name(e->d_name))
                return walk_file(w, steal_ptr(p));
        return 0;
}

static int walk_dir(Walk *w, const char *dir, unsigned depth) {
        struct dirent **ents = NULL;
        int n = scandir(dir, &ents, NULL, alphasort), r = 0;

        if (n < 0)
                return -errno;
        for (int i = 0; i < n; i++) {
                if (r >= 0 && !w->out->truncated)
                        r = walk_entry(w, dir, ents[i], depth);
                free(ents[i]);
        }
        free(ents);
        return r;
}

int list_resource_files(const char *dir, bool recursive, FileList *ret) {
        FileList l = {};
        Walk w = { .recursive = recursive, .out = &l };
        struct stat st;
        int r;

        if (stat(dir, &st) < 0)
                return -errno;
        r = walk_visit(&w, &st);
        if (r >= 0)
                r = walk_dir(&w, dir, 0);
        free(w.visited);
        if (r < 0) {
                file_list_done(&l);
                return r;
        }
        *ret = l;
        return 0;
}

static int load_file(const char *path, ResourceList *ret, ParseError *reterr) {
        _cleanup_free_ char *data = NULL;
        size_t len;
        int r;

        r = read_file_limited(path, HEP_MAX_FILE_SIZE, &data, &len, reterr);
        if (r < 0)
                return r;
        return resources_parse(streq(path, "-") ? "<stdin>" : path, data, len, ret, reterr);
}

int resources_load_path(const char *path, bool recursive, ResourceList *ret, void (*warn)(const char *message),
                        ParseError *reterr) {
        FileList l;
        struct stat st;
        int r;

        if (streq(path, "-") || stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
                return load_file(path, ret, reterr);
        r = list_resource_files(path, recursive, &l);
        if (r < 0)
                return parse_error_set(reterr, path, 0, 0, NULL, "cannot read directory: %s", strerror(-r));
        /* A part of a directory is not what was asked for. */
        if (l.truncated)
                r = parse_error_set(reterr, path, 0, 0, NULL, "more than %d resource files", HEP_MAX_DIR_FILES);
        for (size_t i = 0; warn && r >= 0 && i < l.n_skipped; i++)
                warn(l.skipped[i]);
        for (size_t i = 0; i < l.n_files && r >= 0; i++)
                r = load_file(l.files[i], ret, reterr);
        file_list_done(&l);
        return r;
}
