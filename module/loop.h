/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hostendpointd's main loop: epoll for fds, timers with microsecond
 * deadlines (epoll_pwait2), and signals through a signalfd (blocked before
 * the loop starts). It implements the host half of the plugin ABI. */
#pragma once

#include <signal.h>

#include "hostendpoint/plugin.h"
#include "macro.h"

typedef struct Loop Loop;
typedef void (*LoopSignalHandler)(void *userdata, int signo);

int loop_new(Loop **ret);
Loop *loop_free(Loop *l);
DEFINE_CLEANUP_FUNC(Loop, loop_free)

/* Signals to handle through the loop (blocked for the whole process). */
int loop_add_signals(Loop *l, const int *signals, size_t n, LoopSignalHandler cb, void *userdata);
int loop_run(Loop *l);
void loop_quit(Loop *l);

/* The hep_host functions, host_data = the Loop. */
int loop_watch_add(void *host_data, int fd, uint32_t events, hep_fd_callback cb, void *userdata, hep_watch **ret);
int loop_watch_update(void *host_data, hep_watch *w, uint32_t events);
void loop_watch_remove(void *host_data, hep_watch *w);
int loop_timer_add(void *host_data, uint64_t usec, hep_timer_callback cb, void *userdata, hep_timer **ret);
int loop_timer_rearm(void *host_data, hep_timer *t, uint64_t usec);
void loop_timer_remove(void *host_data, hep_timer *t);
