/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The inotify side of the directory datastore (datastore-dir.c owns it).
 * It watches the directory and its subdirectories (never through a
 * symbolic link, at most HEP_MAX_DIR_DEPTH deep) and calls back when a
 * resource file may have changed. It knows which files are being written
 * in place (modified and not closed since), so the store never reads half
 * a file, and when the directory itself goes (deleted or moved away): it
 * then watches the parent and polls every second until the directory is
 * back, watches it again and calls back. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "host.h"

typedef struct DirWatch DirWatch;
typedef void (*DirWatchChanged)(void *userdata);

/* What a file's events since the watch began say about it. */
typedef enum FileActivity {
        FILE_ACTIVITY_NONE,    /* closed after writing, renamed into place, or not written since */
        FILE_ACTIVITY_CREATED, /* created, not written or closed since (a link, or a writer yet to write) */
        FILE_ACTIVITY_WRITING, /* modified (truncated, written), not closed since */
        _FILE_ACTIVITY_MAX,
        _FILE_ACTIVITY_INVALID = -EINVAL,
} FileActivity;

int dir_watch_new(const hep_host *host, const char *path, DirWatchChanged cb, void *userdata, DirWatch **ret);
DirWatch *dir_watch_free(DirWatch *w);
DEFINE_CLEANUP_FUNC(DirWatch, dir_watch_free)

/* Takes in the events queued so far without calling back; true if one of
 * them was a change (the caller is reading the directory anyway). */
bool dir_watch_sync(DirWatch *w);
/* path's activity, and since when (now_usec()) if it is not NONE. */
FileActivity dir_watch_activity(const DirWatch *w, const char *path, uint64_t *ret_since);
/* The directory itself is gone and not back yet. */
bool dir_watch_gone(const DirWatch *w);
/* Calls back usec from now, or sooner if asked for sooner already. */
void dir_watch_call_back_in(DirWatch *w, uint64_t usec);
