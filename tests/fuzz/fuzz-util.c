/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Temporary directories for the fuzz targets that write files; see
 * fuzz-util.h. */
#include "fuzz-util.h"

#include <dirent.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[PATH_MAX];

static void remove_root(void) {
        if (root[0])
                fuzz_remove_tree(root);
}

void fuzz_abort(void) {
        remove_root();
        abort();
}

const char *fuzz_tmpdir(const char *name) {
        const char *tmp = getenv("TMPDIR");

        if (root[0])
                return root;
        snprintf(root, sizeof(root), "%s/hep-fuzz-%s-XXXXXX", tmp && *tmp ? tmp : "/tmp", name);
        FUZZ_ASSERT(mkdtemp(root), "cannot make a directory %s", root);
        atexit(remove_root);
        return root;
}

void fuzz_walk(const char *dir, void (*fn)(const char *path, void *userdata), void *userdata) {
        DIR *d = opendir(dir);
        struct dirent *de;

        if (!d)
                return;
        while ((de = readdir(d))) {
                char *path;
                struct stat st;

                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                if (asprintf(&path, "%s/%s", dir, de->d_name) < 0)
                        abort();
                if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
                        fuzz_walk(path, fn, userdata);
                fn(path, userdata);
                free(path);
        }
        closedir(d);
}

static void remove_one(const char *path, void *userdata) {
        (void)remove(path);
}

void fuzz_remove_tree(const char *path) {
        fuzz_walk(path, remove_one, NULL);
        (void)remove(path);
}
