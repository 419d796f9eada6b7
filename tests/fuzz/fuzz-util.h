/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the fuzz targets share: an assertion that says what broke, and
 * temporary directories for the targets that write files (one per process
 * under $TMPDIR, removed at exit, emptied between inputs). */
#pragma once

#include <stdio.h>
#include <stdlib.h>

#define FUZZ_ASSERT(e, ...)                                     \
        do {                                                    \
                if (!(e)) {                                     \
                        fprintf(stderr, __VA_ARGS__);           \
                        fputc('\n', stderr);                    \
                        fuzz_abort();                           \
                }                                               \
        } while (0)

/* Removes the temporary directory (the input reproduces what it held),
 * then aborts, for libFuzzer to keep the input. */
__attribute__((noreturn)) void fuzz_abort(void);

/* $TMPDIR/hep-fuzz-NAME-XXXXXX, made on the first call; aborts if it
 * cannot be. */
const char *fuzz_tmpdir(const char *name);
/* Removes path and everything under it (symlinks are not followed). */
void fuzz_remove_tree(const char *path);
/* Calls fn for every path under dir (dir itself excluded), depth first. */
void fuzz_walk(const char *dir, void (*fn)(const char *path, void *userdata), void *userdata);
