/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared copies of strings that repeat across thousands of resources
 * (label keys and values: app=web, tier=db; node names): each distinct
 * string is stored once, with a count of its users. One table for the
 * process, not locked: it relies on the plugin ABI's promise that every
 * call comes from the host's one loop thread (hostendpoint/plugin.h). */
#pragma once

#include <stddef.h>

/* A reference to the shared copy of s, or NULL without memory. */
const char *intern_ref(const char *s);
/* Drops a reference taken with intern_ref() (NULL: nothing). Aborts on a
 * string that did not come from intern_ref(): freeing it as one would
 * corrupt the heap. */
void intern_unref(const char *s);
/* How many distinct strings are held: 0 once every user is gone (tests
 * check it, as a leak checker cannot see a reference kept by mistake). */
size_t intern_count(void);
