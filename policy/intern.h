/* Shared copies of strings that repeat across thousands of resources
 * (label keys and values: app=web, tier=db): each distinct string is
 * stored once, with a count of its users. Not thread-safe: like the rest
 * of the daemon, its users run on one thread. */
#pragma once

/* A reference to the shared copy of s, or NULL without memory. */
const char *intern_ref(const char *s);
/* Drops a reference taken with intern_ref() (NULL: nothing). */
void intern_unref(const char *s);
