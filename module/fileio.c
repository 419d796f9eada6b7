/* File and directory reading for resource files; see fileio.h. */
#include "fileio.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "parse.h"

int read_file_limited(const char *path, size_t max, char **ret, size_t *ret_len, ParseError *reterr) {
        _cleanup_free_ char *buf = NULL;
        size_t len = 0, alloc = 0;
        int fd, r = 0;

        fd = streq(path, "-") ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                r = -errno;
                parse_error_set(reterr, path, 0, 0, NULL, "cannot open: %s", strerror(errno));
                return r;
        }
        for (;;) {
                char *p = grow_array(buf, &alloc, len + 65536 + 1, 1);
                ssize_t n;

                if (!p) {
                        r = -ENOMEM;
                        break;
                }
                buf = p;
                n = read(fd, buf + len, alloc - len - 1);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        r = -errno;
                        parse_error_set(reterr, path, 0, 0, NULL, "cannot read: %s", strerror(errno));
                        break;
                }
                if (n == 0)
                        break;
                len += (size_t)n;
                if (len > max) {
                        r = parse_error_set(reterr, path, 0, 0, NULL, "file is larger than the %zu MiB limit",
                                            max / (1024 * 1024));
                        r = -EFBIG;
                        break;
                }
        }
        if (fd != STDIN_FILENO)
                close(fd);
        if (r < 0)
                return r;
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

bool is_resource_file_name(const char *name) {
        size_t n = strlen(name);

        if (name[0] == '.')
                return false;
        return (n > 5 && streq(name + n - 5, ".yaml")) || (n > 4 && streq(name + n - 4, ".yml")) ||
               (n > 5 && streq(name + n - 5, ".json"));
}

typedef struct PathList {
        char **v;
        size_t n, alloc;
} PathList;

static int path_list_add(PathList *l, char *p) {
        char **v = grow_array(l->v, &l->alloc, l->n + 1, sizeof(char *));

        if (!v) {
                free(p);
                return -ENOMEM;
        }
        l->v = v;
        l->v[l->n++] = p;
        return 0;
}

static int walk(const char *dir, bool recursive, PathList *out) {
        struct dirent **ents = NULL;
        int n = scandir(dir, &ents, NULL, alphasort), r = 0;

        if (n < 0)
                return -errno;
        for (int i = 0; i < n; i++) {
                struct dirent *e = ents[i];
                char *p = NULL;
                struct stat st;

                if (r < 0 || e->d_name[0] == '.')
                        goto next;
                if (asprintf(&p, "%s/%s", dir, e->d_name) < 0) {
                        r = -ENOMEM;
                        goto next;
                }
                /* d_type saves a stat per file; links and unknown types are stat'ed. */
                if (e->d_type == DT_DIR || e->d_type == DT_REG)
                        st.st_mode = e->d_type == DT_DIR ? S_IFDIR : S_IFREG;
                else if (stat(p, &st) < 0)
                        goto next; /* vanished or dangling link */
                if (S_ISDIR(st.st_mode)) {
                        if (recursive)
                                r = walk(p, recursive, out);
                } else if (S_ISREG(st.st_mode) && is_resource_file_name(e->d_name)) {
                        r = path_list_add(out, steal_ptr(p));
                }
        next:
                free(p);
                free(e);
        }
        free(ents);
        return r;
}

int list_resource_files(const char *dir, bool recursive, char ***ret, size_t *ret_n) {
        PathList l = {};
        int r = walk(dir, recursive, &l);

        if (r < 0) {
                strv_free_n(l.v, l.n);
                return r;
        }
        *ret = l.v;
        *ret_n = l.n;
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

int resources_load_path(const char *path, bool recursive, ResourceList *ret, ParseError *reterr) {
        struct stat st;
        char **files;
        size_t n;
        int r;

        if (streq(path, "-") || stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
                return load_file(path, ret, reterr);
        r = list_resource_files(path, recursive, &files, &n);
        if (r < 0)
                return parse_error_set(reterr, path, 0, 0, NULL, "cannot read directory: %s", strerror(-r));
        for (size_t i = 0; i < n && r >= 0; i++)
                r = load_file(files[i], ret, reterr);
        strv_free_n(files, n);
        return r;
}
