/* Watches the directory datastore with inotify (the directory and its
 * subdirectories) and calls back when a resource file may have changed.
 * The caller re-reads; datastore_refresh() only re-parses files whose
 * identity, size or mtime changed. */
#pragma once

#include "host.h"

typedef struct DirWatch DirWatch;
typedef void (*DirWatchChanged)(void *userdata);

int dir_watch_new(const hep_host *host, const char *path, DirWatchChanged cb, void *userdata, DirWatch **ret);
DirWatch *dir_watch_free(DirWatch *w);
DEFINE_CLEANUP_FUNC(DirWatch, dir_watch_free)
