/* hepctl: calicoctl's resource commands for hostendpoint's datastore, plus
 * what a host needs (selector previews; later status and ruleset). This
 * file picks the command and holds what every command shares. */
#include "hepctl.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fileio.h"
#include "parse.h"
#include "settings.h"

typedef struct Command {
        const char *name;
        int (*run)(const HepctlOptions *o, int argc, char **argv);
        const char *summary;
} Command;

static const Command commands[] = {
        { "create", hepctl_create, "Create resources from a file" },
        { "apply", hepctl_apply, "Create or update resources from a file" },
        { "replace", hepctl_replace, "Replace existing resources from a file" },
        { "delete", hepctl_delete, "Delete resources by file or by kind and name" },
        { "get", hepctl_get, "Show resources; -l SELECTOR shows which a selector picks" },
        { "patch", hepctl_patch, "Patch a resource with a JSON merge document" },
        { "validate", hepctl_validate, "Check resources offline, as Calico would" },
        { "ruleset", hepctl_ruleset, "Print the nftables ruleset this node would enforce" },
        { "status", hepctl_status, "Show what the running daemon enforces (over D-Bus)" },
};

static void usage(FILE *f) {
        fprintf(f,
                "Usage:\n"
                "  hepctl [--datastore dir:PATH] [--config FILE] <command> [<args>...]\n"
                "\n"
                "Manage Calico resources for hostendpoint, with calicoctl's commands and messages.\n"
                "\n"
                "Commands:\n");
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
        fprintf(f,
                "\n"
                "Options:\n"
                "  -h --help                 Show this screen (\"hepctl <command> --help\" for a command).\n"
                "     --version              Show the version.\n"
                "  -d --datastore=<DS>       Where resources live (default: the 'datastore' setting of\n"
                "                            %s, else %s).\n"
                "  -c --config=<FILE>        Settings file [default: %s].\n"
                "\n"
                "Resource kinds (case-insensitive): hostendpoint|hep, profile|pro, globalnetworkpolicy|gnp,\n"
                "networkpolicy|np, tier, felixconfiguration|felixconfig, and their plurals.\n",
                HEP_DEFAULT_CONFIG, HEP_DEFAULT_DATASTORE, HEP_DEFAULT_CONFIG);
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
        _cleanup_free_ char *err = NULL;
        ParseError e = PARSE_ERROR_INIT;
        const char *spec = o->datastore;
        int r;

        if (!spec) {
                r = config_load(o->config ? o->config : HEP_DEFAULT_CONFIG, !o->config, &c, &e);
                if (r < 0) {
                        _cleanup_free_ char *msg = parse_error_format(&e);
                        hepctl_error("%s", msg ? msg : "cannot read configuration");
                        parse_error_done(&e);
                        return r;
                }
                spec = c.datastore ? c.datastore : getenv("HEP_DATASTORE");
                if (!spec)
                        spec = HEP_DEFAULT_DATASTORE;
        }
        r = datastore_open(spec, ret, &err);
        if (r < 0)
                hepctl_error("%s", err ? err : strerror(-r));
        return r;
}

void hepctl_report_problems(Datastore *ds) {
        const StoreProblem *p;
        size_t n;

        datastore_problems(ds, &p, &n);
        for (size_t i = 0; i < n; i++)
                fprintf(stderr, "warning: %s%s\n", p[i].message, p[i].file ? " (file ignored)" : "");
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

static int parse_global(int *argc, char ***argv, HepctlOptions *o) {
        int i = 1;

        /* Only the options before the command word are global; each
         * command accepts --datastore/--config too. */
        for (; i < *argc; i++) {
                const char *a = (*argv)[i];
                if (streq(a, "--help") || streq(a, "-h")) {
                        usage(stdout);
                        exit(HEPCTL_OK);
                } else if (streq(a, "--version")) {
                        printf("hepctl %s\n", HEP_VERSION);
                        exit(HEPCTL_OK);
                } else if ((streq(a, "--datastore") || streq(a, "-d") || streq(a, "--config") || streq(a, "-c")) &&
                           i + 1 < *argc) {
                        if (a[1] == 'd' || a[2] == 'd')
                                o->datastore = (*argv)[++i];
                        else
                                o->config = (*argv)[++i];
                } else if (strncmp(a, "--datastore=", 12) == 0)
                        o->datastore = a + 12;
                else if (strncmp(a, "--config=", 9) == 0)
                        o->config = a + 9;
                else
                        break;
        }
        *argc -= i;
        *argv += i;
        return 0;
}

int main(int argc, char **argv) {
        HepctlOptions o = {};

        parse_global(&argc, &argv, &o);
        if (argc < 1) {
                usage(stderr);
                return HEPCTL_FAIL;
        }
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                if (streq(argv[0], commands[i].name))
                        return commands[i].run(&o, argc, argv);
        hepctl_error("Unknown command: '%s'. Run 'hepctl --help' for the list of commands.", argv[0]);
        return HEPCTL_FAIL;
}
