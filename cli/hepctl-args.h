/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hepctl's command line: argv to the command to run and its options, with
 * calicoctl's messages, but without running or printing anything, so that
 * a fuzzer can call it. Strings point into argv (which getopt reorders). */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "resource.h"

/* Where commands find the datastore: before the command word or among its
 * options. */
typedef struct HepctlOptions {
        const char *datastore; /* "dir:PATH" */
        const char *config;    /* hostendpoint.conf */
} HepctlOptions;

typedef enum HepctlCommand {
        HEPCTL_COMMAND_CREATE,
        HEPCTL_COMMAND_APPLY,
        HEPCTL_COMMAND_REPLACE,
        HEPCTL_COMMAND_DELETE,
        HEPCTL_COMMAND_GET,
        HEPCTL_COMMAND_PATCH,
        HEPCTL_COMMAND_LABEL,
        HEPCTL_COMMAND_VALIDATE,
        HEPCTL_COMMAND_RULESET,
        HEPCTL_COMMAND_STATUS,
        HEPCTL_COMMAND_EXPLAIN,
        HEPCTL_COMMAND_VERSION,
        HEPCTL_COMMAND_FLOWS,
        _HEPCTL_COMMAND_MAX,
        _HEPCTL_COMMAND_INVALID = -EINVAL, /* none: hepctl's own usage */
} HepctlCommand;

typedef enum OutputFormat {
        OUTPUT_PS,
        OUTPUT_WIDE,
        OUTPUT_CUSTOM,
        OUTPUT_YAML,
        OUTPUT_JSON,
        _OUTPUT_MAX,
        _OUTPUT_INVALID = -EINVAL,
} OutputFormat;

typedef struct HepctlArgs {
        HepctlCommand command;
        bool help;    /* print the command's usage (or hepctl's) on stdout, succeed */
        bool version;
        HepctlOptions global;
        /* create, apply, replace, validate, delete, patch, get */
        const char *file;
        bool recursive;
        const char *ns;
        bool skip_empty, skip_exists, skip_not_exists;
        const char *patch;
        /* delete, patch, get, label: KIND [NAME...] (kind NULL with --filename) */
        const KindInfo *kind;
        const char *kind_word; /* as typed: label's messages repeat it */
        char **names;
        size_t n_names;
        /* label: KEY=VALUE, or KEY with --remove (value NULL) */
        char *label_key; /* owned */
        const char *label_value;
        bool overwrite, remove;
        /* get */
        bool all_namespaces;
        bool export;
        const char *selector;
        OutputFormat format;
        char **columns; /* custom-columns, owned */
        size_t n_columns;
        /* ruleset */
        const char *node;
        bool no_interfaces;
        bool staged; /* --staged: the staged view's ruleset */
        /* status, flows, explain */
        const char *bus;
        const char *output;
        /* flows, explain */
        const char *interface;
        /* flows */
        bool follow;
        const char *action;
        /* explain (ports and the ICMP type -1 when not given); --node and
         * --no-interfaces as for ruleset */
        const char *out_interface, *direction, *src, *dst, *proto;
        int dport, sport, icmp_type;
} HepctlArgs;

/* 0, or -EINVAL with *ret_error the message to print (NULL: the usage of
 * ret->command, on stderr), or -ENOMEM. *ret is to be released with
 * hepctl_args_done() either way. */
int hepctl_args_parse(int argc, char **argv, HepctlArgs *ret, char **ret_error);
void hepctl_args_done(HepctlArgs *a);
void hepctl_usage(HepctlCommand c, FILE *f);
