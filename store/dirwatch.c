/* SPDX-License-Identifier: GPL-2.0-or-later */
/* inotify watch of the datastore directory tree; see dirwatch.h. */
#include "dirwatch.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"

/* IN_MODIFY marks a file being written; IN_CLOSE_WRITE and IN_MOVED_TO
 * say it is whole. IN_ATTRIB: a permission fixed (chmod 644) is a file
 * that can be read now. */
#define WATCH_MASK                                                                                          \
        (IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CREATE | IN_ATTRIB |     \
         IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)
/* Where a deleted or moved-away directory comes back. */
#define PARENT_MASK (IN_CREATE | IN_MOVED_TO | IN_ONLYDIR)
#define POLL_USEC (1000ULL * 1000)

typedef struct Watched {
        int wd;
        char *path;
        bool seen; /* by the current rescan */
} Watched;

typedef struct Activity {
        char *path;
        FileActivity what;
        uint64_t since;
} Activity;

struct DirWatch {
        const hep_host *host;
        DirWatchChanged cb;
        void *userdata;
        int fd;
        hep_watch *watch;
        hep_timer *poll_timer; /* while the directory is gone: is it back? */
        hep_timer *call_timer; /* dir_watch_call_back_in() */
        uint64_t call_at;      /* when call_timer fires, or UINT64_MAX */
        char *path;
        char *parent;          /* path's parent directory, and path's name in it */
        const char *name;
        int root_wd;           /* -1 while the directory is gone */
        int parent_wd;         /* while it is gone, if the parent is there */
        Watched *dirs;         /* sorted by wd */
        size_t n_dirs, alloc_dirs;
        Activity *files;       /* few: files being written right now */
        size_t n_files, alloc_files;
};

/* ---- watched directories, by wd ---- */

static size_t dirs_lower_bound(const DirWatch *w, int wd) {
        size_t lo = 0, hi = w->n_dirs;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (w->dirs[mid].wd < wd)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

static Watched *dirs_find(const DirWatch *w, int wd) {
        size_t i = dirs_lower_bound(w, wd);

        return i < w->n_dirs && w->dirs[i].wd == wd ? &w->dirs[i] : NULL;
}

static void dirs_remove(DirWatch *w, Watched *d) {
        size_t i = (size_t)(d - w->dirs);

        free(d->path);
        memmove(d, d + 1, (w->n_dirs - i - 1) * sizeof(Watched));
        w->n_dirs--;
}

/* Watches dir; false if it was watched already by this rescan (a
 * directory reached twice, through a bind mount). */
static int watch_one(DirWatch *w, const char *dir, bool follow, bool *ret_new) {
        int wd = inotify_add_watch(w->fd, dir, WATCH_MASK | (follow ? 0 : IN_DONT_FOLLOW));
        Watched *d;

        if (wd < 0)
                return -errno;
        d = dirs_find(w, wd);
        if (d) {
                *ret_new = !d->seen;
                if (d->seen)
                        return wd;
                d->seen = true;
                if (!streq(d->path, dir)) { /* renamed */
                        char *p = strdup(dir);
                        if (!p)
                                return -ENOMEM;
                        free(d->path);
                        d->path = p;
                }
                return wd;
        }
        size_t i = dirs_lower_bound(w, wd);
        d = grow_array(w->dirs, &w->alloc_dirs, w->n_dirs + 1, sizeof(Watched));
        if (!d)
                return -ENOMEM;
        w->dirs = d;
        memmove(d + i + 1, d + i, (w->n_dirs - i) * sizeof(Watched));
        d[i] = (Watched) { .wd = wd, .path = strdup(dir), .seen = true };
        w->n_dirs++;
        if (!d[i].path) {
                dirs_remove(w, &d[i]);
                return -ENOMEM;
        }
        *ret_new = true;
        return wd;
}

/* The tree as fileio.c's walk reads it: no symbolic links, no dot-directories. */
static int watch_tree(DirWatch *w, const char *dir, unsigned depth) {
        bool is_new = false;
        struct dirent *e;
        DIR *d;
        int wd = watch_one(w, dir, depth == 0, &is_new);

        if (wd < 0 || !is_new || depth >= HEP_MAX_DIR_DEPTH)
                return wd;
        d = opendir(dir);
        if (!d)
                return wd;
        while ((e = readdir(d))) {
                char sub[PATH_MAX];
                struct stat st;

                if (e->d_name[0] == '.' || (e->d_type != DT_DIR && e->d_type != DT_UNKNOWN))
                        continue;
                if (snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name) >= (int)sizeof(sub))
                        continue;
                if (e->d_type == DT_UNKNOWN && (lstat(sub, &st) < 0 || !S_ISDIR(st.st_mode)))
                        continue;
                if (watch_tree(w, sub, depth + 1) == -ENOMEM)
                        break;
        }
        closedir(d);
        return wd;
}

/* Watches the tree as it is now: new directories added, renamed ones
 * under their new path, those gone or moved out dropped. */
static int rescan(DirWatch *w) {
        int wd;

        for (size_t i = 0; i < w->n_dirs; i++)
                w->dirs[i].seen = false;
        wd = watch_tree(w, w->path, 0);
        for (size_t i = 0; i < w->n_dirs;) {
                if (w->dirs[i].seen) {
                        i++;
                        continue;
                }
                (void)inotify_rm_watch(w->fd, w->dirs[i].wd);
                dirs_remove(w, &w->dirs[i]);
        }
        w->root_wd = wd < 0 ? -1 : wd;
        return wd < 0 ? wd : 0;
}

/* ---- files being written ---- */

static Activity *activity_find(const DirWatch *w, const char *path) {
        for (size_t i = 0; i < w->n_files; i++)
                if (streq(w->files[i].path, path))
                        return &w->files[i];
        return NULL;
}

static void activities_clear(DirWatch *w) {
        for (size_t i = 0; i < w->n_files; i++)
                free(w->files[i].path);
        w->n_files = 0;
}

/* Records what an event says about a file; true if it starts being
 * written (the first IN_MODIFY: the store learns to wait for it). */
static bool activity_note(DirWatch *w, const char *dir, const char *name, uint32_t mask) {
        _cleanup_free_ char *path = NULL;
        Activity *a;
        FileActivity what;

        if (asprintf(&path, "%s/%s", dir, name) < 0)
                return false;
        a = activity_find(w, path);
        if (mask & (IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE)) {
                if (a) {
                        free(a->path);
                        *a = w->files[--w->n_files];
                }
                return false;
        }
        if (mask & IN_MODIFY)
                what = FILE_ACTIVITY_WRITING;
        else if (mask & IN_CREATE)
                what = FILE_ACTIVITY_CREATED;
        else
                return false;
        if (a) {
                bool started = a->what != FILE_ACTIVITY_WRITING && what == FILE_ACTIVITY_WRITING;
                if (started)
                        a->what = what;
                return started;
        }
        a = grow_array(w->files, &w->alloc_files, w->n_files + 1, sizeof(Activity));
        if (!a)
                return false;
        w->files = a;
        w->files[w->n_files++] = (Activity) { steal_ptr(path), what, now_usec() };
        return what == FILE_ACTIVITY_WRITING;
}

FileActivity dir_watch_activity(const DirWatch *w, const char *path, uint64_t *ret_since) {
        const Activity *a = activity_find(w, path);

        if (!a)
                return FILE_ACTIVITY_NONE;
        *ret_since = a->since;
        return a->what;
}

/* ---- the directory itself ---- */

bool dir_watch_gone(const DirWatch *w) {
        return w->root_wd < 0;
}

static void arm(DirWatch *w, hep_timer *t, uint64_t usec) {
        (void)host_timer_rearm(w->host, t, usec);
}

/* Gone: nothing under it is watched any more (a directory moved away
 * would report events from where it went); wait where it comes back. */
static void went_away(DirWatch *w) {
        for (size_t i = 0; i < w->n_dirs; i++) {
                (void)inotify_rm_watch(w->fd, w->dirs[i].wd);
                free(w->dirs[i].path);
        }
        w->n_dirs = 0;
        w->root_wd = -1;
        activities_clear(w);
        if (w->parent_wd < 0)
                w->parent_wd = inotify_add_watch(w->fd, w->parent, PARENT_MASK);
        arm(w, w->poll_timer, POLL_USEC);
}

/* Watches the directory again if it is back; true if it is. */
static bool come_back(DirWatch *w) {
        struct stat st;

        if (stat(w->path, &st) < 0 || !S_ISDIR(st.st_mode) || rescan(w) < 0)
                return false;
        if (w->parent_wd >= 0)
                (void)inotify_rm_watch(w->fd, w->parent_wd);
        w->parent_wd = -1;
        arm(w, w->poll_timer, UINT64_MAX);
        return true;
}

/* ---- events ---- */

typedef struct Drain {
        bool changed, rescan, gone, back;
} Drain;

static void on_event(DirWatch *w, const struct inotify_event *ev, Drain *s) {
        Watched *d;

        if (ev->mask & IN_Q_OVERFLOW) { /* events lost: what is being written is unknown */
                activities_clear(w);
                s->rescan = s->changed = true;
                return;
        }
        if (ev->wd == w->parent_wd) {
                if (ev->mask & IN_IGNORED)
                        w->parent_wd = -1; /* the parent went too: the poll goes on */
                else if (ev->len && streq(ev->name, w->name))
                        s->back = true;
                return;
        }
        d = dirs_find(w, ev->wd);
        if (!d)
                return; /* a watch already dropped */
        if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED | IN_UNMOUNT)) {
                if (ev->wd == w->root_wd)
                        s->gone = s->changed = true;
                else if (ev->mask & IN_IGNORED)
                        dirs_remove(w, d);
                return;
        }
        if (!ev->len) { /* the directory's own attributes: readable again? */
                s->changed = s->changed || (ev->mask & IN_ATTRIB);
                return;
        }
        if (ev->mask & IN_ISDIR) {
                if (ev->name[0] != '.')
                        s->rescan = s->changed = true;
                return;
        }
        /* Kubernetes updates a ConfigMap by renaming "..data", which the
         * mounted files link through: dot-names are otherwise temporaries. */
        if (ev->name[0] == '.') {
                s->changed = s->changed || (ev->mask & IN_MOVED_TO);
                return;
        }
        /* Other names matter when they come and go: a link to a
         * directory, reported as not followed, may have been removed. */
        if (!is_resource_file_name(ev->name)) {
                s->changed = s->changed || (ev->mask & (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO));
                return;
        }
        if (ev->mask & (IN_MODIFY | IN_CREATE | IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE))
                if (activity_note(w, d->path, ev->name, ev->mask) || !(ev->mask & IN_MODIFY))
                        s->changed = true;
        if (ev->mask & IN_ATTRIB)
                s->changed = true;
}

/* Reads every queued event; true if something changed. */
static bool drain(DirWatch *w) {
        char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
        Drain s = {};

        for (;;) {
                ssize_t n = read(w->fd, buf, sizeof(buf));
                if (n <= 0)
                        break;
                for (char *p = buf; p < buf + n;) {
                        const struct inotify_event *ev = (const struct inotify_event *)p;
                        on_event(w, ev, &s);
                        p += sizeof(struct inotify_event) + ev->len;
                }
        }
        if (s.gone)
                went_away(w);
        /* Moved away and another put in its place at once: back already. */
        if ((s.gone || s.back) && dir_watch_gone(w))
                s.changed = come_back(w) || s.changed;
        else if (s.rescan && !dir_watch_gone(w) && rescan(w) < 0)
                went_away(w);
        return s.changed;
}

bool dir_watch_sync(DirWatch *w) {
        return drain(w);
}

static void on_ready(void *userdata, int fd, uint32_t events) {
        DirWatch *w = userdata;

        if (drain(w))
                w->cb(w->userdata);
}

static void on_poll_timer(void *userdata) {
        DirWatch *w = userdata;

        if (come_back(w)) {
                w->cb(w->userdata);
                return;
        }
        if (w->parent_wd < 0)
                w->parent_wd = inotify_add_watch(w->fd, w->parent, PARENT_MASK);
        arm(w, w->poll_timer, POLL_USEC);
}

static void on_call_timer(void *userdata) {
        DirWatch *w = userdata;

        w->call_at = UINT64_MAX;
        w->cb(w->userdata);
}

void dir_watch_call_back_in(DirWatch *w, uint64_t usec) {
        uint64_t at = now_usec() + usec;

        if (at >= w->call_at)
                return;
        w->call_at = at;
        arm(w, w->call_timer, usec);
}

int dir_watch_new(const hep_host *host, const char *path, DirWatchChanged cb, void *userdata, DirWatch **ret) {
        _cleanup_(dir_watch_freep) DirWatch *w = calloc(1, sizeof(DirWatch));
        char *slash;
        int r;

        if (!w)
                return -ENOMEM;
        w->host = host;
        w->cb = cb;
        w->userdata = userdata;
        w->root_wd = w->parent_wd = -1;
        w->call_at = UINT64_MAX;
        w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (w->fd < 0)
                return -errno;
        w->path = strdup(path);
        w->parent = strdup(path);
        if (!w->path || !w->parent)
                return -ENOMEM;
        slash = strrchr(w->parent, '/');
        if (!slash) {
                w->name = w->path;
                strcpy(w->parent, ".");
        } else {
                w->name = w->path + (slash - w->parent) + 1;
                if (slash == w->parent)
                        slash++; /* "/x": the parent is "/" */
                *slash = 0;
        }
        r = rescan(w);
        if (r >= 0)
                r = host_watch_add(host, w->fd, HEP_WATCH_IN, on_ready, w, &w->watch);
        if (r >= 0)
                r = host_timer_add(host, UINT64_MAX, on_poll_timer, w, &w->poll_timer);
        if (r >= 0)
                r = host_timer_add(host, UINT64_MAX, on_call_timer, w, &w->call_timer);
        if (r < 0)
                return r;
        *ret = steal_ptr(w);
        return 0;
}

DirWatch *dir_watch_free(DirWatch *w) {
        if (!w)
                return NULL;
        host_watch_remove(w->host, w->watch);
        host_timer_remove(w->host, w->poll_timer);
        host_timer_remove(w->host, w->call_timer);
        if (w->fd >= 0)
                close(w->fd);
        for (size_t i = 0; i < w->n_dirs; i++)
                free(w->dirs[i].path);
        free(w->dirs);
        activities_clear(w);
        free(w->files);
        free(w->path);
        free(w->parent);
        free(w);
        return NULL;
}
