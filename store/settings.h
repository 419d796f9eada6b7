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
        /* "yes" or "no": the deciding rules log flows (NFLOG) and the
         * daemon shows them (hepctl flows, D-Bus GetFlows). */
        char *flow_logs;
} Config;

/* A yes/no setting's value: 1, 0, or -EINVAL (yes, no, true, false, on, off, 1, 0). */
int config_parse_bool(const char *s);

/* A missing file is not an error when missing_ok (the default path). */
int config_load(const char *path, bool missing_ok, Config *ret, ParseError *reterr);
void config_done(Config *c);

/* The node name when none is set: Felix's default, the kernel's host
 * name, lower-cased. -ENOENT if the host has no name. */
int default_nodename(char **ret);

/* calicoctl's own settings, so an existing calicoctl setup works as it
 * is: a CalicoAPIConfig file (apiVersion projectcalico.org/v3, spec.
 * datastoreType etcdv3, etcdEndpoints, etcdCACertFile, etcdCertFile,
 * etcdKeyFile, etcdUsername, etcdPassword) gives a datastore spec
 * ("etcdv3:URLS?ca=…&cert=…&key=…") and, for etcd's authentication, sets
 * ETCD_USERNAME/ETCD_PASSWORD as calicoctl's environment would. 0 with
 * *ret NULL if the file is not a CalicoAPIConfig. */
int calico_config_load(const char *path, char **ret, ParseError *reterr);
/* The same from calicoctl's environment (DATASTORE_TYPE, default etcdv3,
 * and ETCD_ENDPOINTS); *ret NULL if ETCD_ENDPOINTS is not set. */
int calico_env_datastore(char **ret, ParseError *reterr);
/* The datastore when neither the command line nor the settings file
 * names one: $HEP_DATASTORE, else calicoctl's environment, else
 * calicoctl's default configuration file, else HEP_DEFAULT_DATASTORE. */
int config_default_datastore(char **ret, ParseError *reterr);
/* The datastore to use: the command line's (flag, may be NULL), else the
 * settings file's (c), else config_default_datastore(). */
int config_datastore(const char *flag, const Config *c, char **ret, ParseError *reterr);
/* calicoctl's default configuration file. */
#define CALICOCTL_DEFAULT_CONFIG "/etc/calico/calicoctl.cfg"
