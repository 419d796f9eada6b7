/* Reading resource files: one file with a size limit ("-" is stdin), and
 * the resource files under a directory, in a stable (sorted) order. */
#pragma once

#include <stddef.h>

#include "error.h"
#include "loader.h"

/* Reads at most max bytes; a longer file is -EFBIG with a message. */
int read_file_limited(const char *path, size_t max, char **ret, size_t *ret_len, ParseError *reterr);
/* Files ending in .yaml, .yml or .json (dot-files skipped), sorted.
 * recursive: descend into subdirectories (dot-directories skipped). */
int list_resource_files(const char *dir, bool recursive, char ***ret, size_t *ret_n);
bool is_resource_file_name(const char *name);
/* Reads resources from a file, "-" (stdin) or a directory, as hepctl -f. */
int resources_load_path(const char *path, bool recursive, ResourceList *ret, ParseError *reterr);
