/* inotify watch of the datastore directory tree; see dirwatch.h. */
#include "dirwatch.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "fileio.h"

#define WATCH_MASK                                                                                             \
        (IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CREATE | IN_DELETE_SELF | IN_MOVE_SELF | \
         IN_ATTRIB | IN_ONLYDIR)

struct DirWatch {
        const hep_host *host;
        DirWatchChanged cb;
        void *userdata;
        int fd;
        hep_watch *watch;
        char *path;
};

static int add_tree(DirWatch *w, const char *dir, int depth) {
        DIR *d;
        struct dirent *e;

        /* Directories only (IN_ONLYDIR); files are covered by their directory. */
        if (inotify_add_watch(w->fd, dir, WATCH_MASK) < 0)
                return errno == ENOTDIR ? 0 : -errno;
        if (depth > 16)
                return 0;
        d = opendir(dir);
        if (!d)
                return 0;
        while ((e = readdir(d))) {
                char sub[PATH_MAX];
                if (e->d_name[0] == '.' || e->d_type != DT_DIR)
                        continue;
                snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name);
                (void)add_tree(w, sub, depth + 1);
        }
        closedir(d);
        return 0;
}

/* A change we care about: resource files, and directories (new ones are
 * watched too). Dot-files are hepctl's temporaries and editors' swap files. */
static bool relevant(const struct inotify_event *ev) {
        if (ev->mask & (IN_Q_OVERFLOW | IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED))
                return true;
        if (!ev->len || ev->name[0] == '.')
                return false;
        return (ev->mask & IN_ISDIR) || is_resource_file_name(ev->name);
}

static void on_ready(void *userdata, int fd, uint32_t events) {
        DirWatch *w = userdata;
        char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
        bool changed = false, rescan = false;

        for (;;) {
                ssize_t n = read(fd, buf, sizeof(buf));
                if (n <= 0)
                        break;
                for (char *p = buf; p < buf + n;) {
                        const struct inotify_event *ev = (const struct inotify_event *)p;
                        if (relevant(ev))
                                changed = true;
                        if ((ev->mask & (IN_CREATE | IN_MOVED_TO)) && (ev->mask & IN_ISDIR))
                                rescan = true;
                        p += sizeof(struct inotify_event) + ev->len;
                }
        }
        if (rescan)
                (void)add_tree(w, w->path, 0);
        if (changed)
                w->cb(w->userdata);
}

int dir_watch_new(const hep_host *host, const char *path, DirWatchChanged cb, void *userdata, DirWatch **ret) {
        _cleanup_(dir_watch_freep) DirWatch *w = calloc(1, sizeof(DirWatch));
        int r;

        if (!w)
                return -ENOMEM;
        w->host = host;
        w->cb = cb;
        w->userdata = userdata;
        w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        w->path = strdup(path);
        if (w->fd < 0 || !w->path)
                return w->fd < 0 ? -errno : -ENOMEM;
        r = add_tree(w, path, 0);
        if (r < 0)
                return r;
        r = host_watch_add(host, w->fd, HEP_WATCH_IN, on_ready, w, &w->watch);
        if (r < 0)
                return r;
        *ret = steal_ptr(w);
        return 0;
}

DirWatch *dir_watch_free(DirWatch *w) {
        if (!w)
                return NULL;
        host_watch_remove(w->host, w->watch);
        if (w->fd >= 0)
                close(w->fd);
        free(w->path);
        free(w);
        return NULL;
}
