/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hepctl: shared pieces of the command-line client. Each command lives in
 * its own file (hepctl-crud.c, hepctl-get.c, ...) and runs on what
 * hepctl-args.c made of the command line. */
#pragma once

#include <stdbool.h>

#include "compute.h"
#include "staged.h"
#include "datastore.h"
#include "hepctl-args.h"
#include "loader.h"
#include "settings.h"

/* Exit codes are calicoctl's: 0, or 1 on any error. */
#define HEPCTL_OK 0
#define HEPCTL_FAIL 1

int hepctl_open_datastore(const HepctlOptions *o, Datastore **ret);
/* Loads -f input as calicoctl does; on failure prints the error and
 * returns -EINVAL. skip_empty: no resources is not an error. */
int hepctl_load_input(const char *file, bool recursive, ResourceList *ret);
void hepctl_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints stderr warnings about datastore files that cannot be used. */
void hepctl_report_problems(Datastore *ds);

/* Go's text/tabwriter as calicoctl configures it (minwidth 5, padding 3,
 * every cell terminated by a tab, so the last column is padded too).
 * Cells are added row by row; table_add takes the string. */
typedef struct Table {
        size_t n_cols;
        char **cells; /* row-major */
        size_t n_cells, alloc;
} Table;

void table_add(Table *t, char *cell);
/* Prints and empties the table. */
void table_print(Table *t);

int hepctl_create(const HepctlArgs *a);
int hepctl_apply(const HepctlArgs *a);
int hepctl_replace(const HepctlArgs *a);
int hepctl_delete(const HepctlArgs *a);
int hepctl_validate(const HepctlArgs *a);
int hepctl_patch(const HepctlArgs *a);
int hepctl_label(const HepctlArgs *a);
int hepctl_get(const HepctlArgs *a);
int hepctl_ruleset(const HepctlArgs *a);
int hepctl_status(const HepctlArgs *a);
int hepctl_flows(const HepctlArgs *a);
int hepctl_explain(const HepctlArgs *a);
/* The ruleset hepctl ruleset prints (see hepctl-ruleset.c). */
int hepctl_compute(const HepctlArgs *a, Datastore **ret_ds, StagedComputation *ret);
/* The bus the settings name (hostendpoint.conf's 'bus'), else "system";
 * c holds the string. */
const char *hepctl_configured_bus(const HepctlOptions *o, Config *c);
int hepctl_version(const HepctlArgs *a);
/* The HostEndpoints the running daemon knows, from its D-Bus objects
 * (for a user who cannot read the datastore). -ENOTCONN: no daemon. */
int hepctl_daemon_host_endpoints(const HepctlOptions *o, ResourceList *ret);
