/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hepctl: calicoctl's resource commands for hostendpoint's datastore, plus
 * what a host needs (selector previews, status and ruleset). This file
 * runs the command hepctl-args.c chose and holds what every command shares. */
#include "hepctl.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fileio.h"
#include "parse.h"
#include "settings.h"

/* What runs each command; hepctl-args.c knows their names and options. */
static int (*const commands[_HEPCTL_COMMAND_MAX])(const HepctlArgs *a) = {
        [HEPCTL_COMMAND_CREATE] = hepctl_create,
        [HEPCTL_COMMAND_APPLY] = hepctl_apply,
        [HEPCTL_COMMAND_REPLACE] = hepctl_replace,
        [HEPCTL_COMMAND_DELETE] = hepctl_delete,
        [HEPCTL_COMMAND_GET] = hepctl_get,
        [HEPCTL_COMMAND_PATCH] = hepctl_patch,
        [HEPCTL_COMMAND_LABEL] = hepctl_label,
        [HEPCTL_COMMAND_VALIDATE] = hepctl_validate,
        [HEPCTL_COMMAND_RULESET] = hepctl_ruleset,
        [HEPCTL_COMMAND_STATUS] = hepctl_status,
        [HEPCTL_COMMAND_EXPLAIN] = hepctl_explain,
        [HEPCTL_COMMAND_VERSION] = hepctl_version,
        [HEPCTL_COMMAND_FLOWS] = hepctl_flows,
};

/* A command's arguments that do not parse: calicoctl's one line, which
 * repeats the command line as typed (args: argv before getopt permuted it). */
static void invalid_option(int argc, char *const *args) {
        fputs("Invalid option: 'hepctl", stderr);
        for (int i = 1; i < argc; i++)
                fprintf(stderr, " %s", args[i]);
        fputs("'. Use flag '--help' to read about a specific subcommand.\n", stderr);
}

void hepctl_error(const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
}

int hepctl_open_datastore(const HepctlOptions *o, Datastore **ret) {
        _cleanup_(config_done) Config c = {};
        _cleanup_free_ char *err = NULL, *spec = NULL;
        ParseError e = PARSE_ERROR_INIT;
        int r = 0;

        /* The settings file only when no --datastore says where. */
        if (!o->datastore)
                r = config_load(o->config ? o->config : HEP_DEFAULT_CONFIG, !o->config, &c, &e);
        if (r >= 0)
                r = config_datastore(o->datastore, &c, &spec, &e);
        if (r < 0) {
                _cleanup_free_ char *msg = parse_error_format(&e);
                hepctl_error("%s", msg ? msg : strerror(-r));
                parse_error_done(&e);
                return r;
        }
        r = datastore_open(spec, 0, ret, &err);
        if (r < 0)
                hepctl_error("%s", err ? err : strerror(-r));
        return r;
}

const char *hepctl_configured_bus(const HepctlOptions *o, Config *c) {
        ParseError e = PARSE_ERROR_INIT;

        if (config_load(o->config ? o->config : HEP_DEFAULT_CONFIG, !o->config, c, &e) < 0) {
                parse_error_done(&e);
                return "system";
        }
        return c->bus ? c->bus : "system";
}

void hepctl_report_problems(Datastore *ds) {
        const StoreProblem *p;
        size_t n;

        datastore_problems(ds, &p, &n);
        for (size_t i = 0; i < n; i++)
                fprintf(stderr, "warning: %s%s\n", p[i].message, p[i].origin ? " (file ignored)" : "");
}

static void warn_skipped(const char *message) {
        fprintf(stderr, "warning: %s\n", message);
}

int hepctl_load_input(const char *file, bool recursive, ResourceList *ret) {
        ParseError e = PARSE_ERROR_INIT;
        int r = resources_load_path(file, recursive, ret, warn_skipped, &e);

        if (r < 0) {
                _cleanup_free_ char *msg = parse_error_format(&e);
                /* calicoctl prints an unknown field without its usual prefix. */
                if (msg && strstr(msg, "field in document is not recognized"))
                        hepctl_error("%s", msg);
                else
                        hepctl_error("failed to execute command: %s", msg ? msg : strerror(-r));
                parse_error_done(&e);
                return -EINVAL;
        }
        return 0;
}

/* Go's text/tabwriter as calicoctl configures it (minwidth 5, padding 3,
 * every cell terminated by a tab, so the last column is padded too). */
void table_add(Table *t, char *cell) {
        char **c = grow_array(t->cells, &t->alloc, t->n_cells + 1, sizeof(char *));

        if (!c) {
                free(cell);
                return;
        }
        t->cells = c;
        t->cells[t->n_cells++] = cell;
}

static size_t utf8_width(const char *s) {
        size_t n = 0;

        for (; *s; s++)
                if (((unsigned char)*s & 0xc0) != 0x80)
                        n++;
        return n;
}

void table_print(Table *t) {
        size_t rows = t->n_cells / t->n_cols;
        size_t *width = new_array(t->n_cols, sizeof(size_t));

        if (!width)
                return;
        for (size_t c = 0; c < t->n_cols; c++) {
                width[c] = 5;
                for (size_t k = 0; k < rows; k++) {
                        size_t w = utf8_width(t->cells[k * t->n_cols + c]) + 3;
                        if (w > width[c])
                                width[c] = w;
                }
        }
        for (size_t r = 0; r < rows; r++) {
                for (size_t c = 0; c < t->n_cols; c++) {
                        const char *cell = t->cells[r * t->n_cols + c];
                        fputs(cell, stdout);
                        for (size_t p = utf8_width(cell); p < width[c]; p++)
                                fputc(' ', stdout);
                }
                fputc('\n', stdout);
        }
        free(width);
        fputc('\n', stdout);
        for (size_t i = 0; i < t->n_cells; i++)
                free(t->cells[i]);
        free(t->cells);
        *t = (Table) {};
}

int main(int argc, char **argv) {
        _cleanup_free_ char *err = NULL;
        _cleanup_free_ char **typed = malloc(((size_t)argc + 1) * sizeof(char *));
        HepctlArgs a;
        int r;

        if (!typed) {
                hepctl_error("%s", strerror(ENOMEM));
                return HEPCTL_FAIL;
        }
        memcpy(typed, argv, ((size_t)argc + 1) * sizeof(char *));
        r = hepctl_args_parse(argc, argv, &a, &err);
        if (r < 0) {
                if (err)
                        hepctl_error("%s", err);
                else if (r == -ENOMEM)
                        hepctl_error("%s", strerror(-r));
                else if (a.command >= 0)
                        invalid_option(argc, typed);
                else
                        hepctl_usage(a.command, stderr);
                r = HEPCTL_FAIL;
        } else if (a.help) {
                hepctl_usage(a.command, stdout);
                r = HEPCTL_OK;
        } else if (a.version) {
                printf("hepctl %s\n", HEP_VERSION);
                r = HEPCTL_OK;
        } else
                r = commands[a.command](&a);
        hepctl_args_done(&a);
        return r;
}
