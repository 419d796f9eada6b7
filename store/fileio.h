/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Reading resource files: one file with a size limit ("-" is stdin), and
 * the resource files under a directory, in a stable (sorted) order, within
 * bounds that no tree of links or mounts can defeat. */
#pragma once

#include <stddef.h>

#include "error.h"
#include "loader.h"

/* A directory is read at most this many levels below the one named, and
 * at most this many resource files in all. */
#define HEP_MAX_DIR_DEPTH 16
#define HEP_MAX_DIR_FILES 100000

/* Reads at most max bytes; a longer file is -EFBIG with a message. */
int read_file_limited(const char *path, size_t max, char **ret, size_t *ret_len, ParseError *reterr);
/* The same from an open fd, which stays open; path is for messages. */
int read_fd_limited(int fd, const char *path, size_t max, char **ret, size_t *ret_len, ParseError *reterr);

/* What list_resource_files() found under a directory. */
typedef struct FileList {
        char **files; /* regular files and symbolic links to them, sorted in each directory */
        size_t n_files, alloc_files;
        char **skipped; /* "PATH: why", for each entry that was not followed */
        size_t n_skipped, alloc_skipped;
        bool truncated; /* stopped at HEP_MAX_DIR_FILES: the files after were not listed */
} FileList;

void file_list_done(FileList *l);
/* Files ending in .yaml, .yml or .json (dot-files skipped). recursive:
 * descend into subdirectories (dot-directories skipped), but never through
 * a symbolic link to a directory, never twice into the same directory
 * (device and inode: bind mounts) and at most HEP_MAX_DIR_DEPTH deep; what
 * is left out, and subdirectories that cannot be read, are in skipped.
 * Fails only if dir itself cannot be read. */
int list_resource_files(const char *dir, bool recursive, FileList *ret);
bool is_resource_file_name(const char *name);
/* Reads resources from a file, "-" (stdin) or a directory, as hepctl -f;
 * warn (if not NULL) is told of each entry of the directory not followed. */
int resources_load_path(const char *path, bool recursive, ResourceList *ret, void (*warn)(const char *message),
                        ParseError *reterr);
