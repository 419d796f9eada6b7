/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hostendpoint.conf: the daemon's own settings (datastore, node name, bus,
 * log level), one "key = value" per line, '#' comments. Policy knobs live
 * in a FelixConfiguration resource instead, as in Calico. */
#pragma once

#include "config.h" /* HEP_DEFAULT_CONFIG, HEP_DEFAULT_DATASTORE: from meson's sysconfdir */
#include "error.h"


typedef struct Config {
        char *datastore;
        char *nodename;
        char *bus;
        char *log_level;
        /* How long NetworkManager's pre-up hook waits for an interface to
         * be enforced, in milliseconds; read by the hook, kept here so
         * the daemon accepts and checks it. */
        char *nm_wait_ms;
} Config;

/* A missing file is not an error when missing_ok (the default path). */
int config_load(const char *path, bool missing_ok, Config *ret, ParseError *reterr);
void config_done(Config *c);

/* The node name when none is set: Felix's default, the kernel's host
 * name, lower-cased. -ENOENT if the host has no name. */
int default_nodename(char **ret);
