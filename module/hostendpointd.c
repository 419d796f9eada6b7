/* hostendpointd: the reference host for the hostendpoint plugin. This
 * file holds the command line and the --oneshot mode: read the datastore,
 * enumerate this network namespace's interfaces, commit the ruleset once
 * and exit (0, or 1 with the error, the previous rules left in place). */
#include <ctype.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "datastore.h"
#include "enforcer.h"
#include "links.h"
#include "settings.h"

typedef struct DaemonOptions {
        const char *config;
        const char *datastore;
        const char *nodename;
        const char *bus;
        const char *plugin;
        bool oneshot;
} DaemonOptions;

/* journald's stderr convention: "<priority>message". */
static void log_line(int prio, const char *fmt, ...) _printf_(2, 3);
static void log_line(int prio, const char *fmt, ...) {
        va_list ap;

        fprintf(stderr, "<%d>", prio);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
}

static void usage(FILE *f) {
        fprintf(f,
                "Usage: hostendpointd [OPTIONS]\n"
                "\n"
                "Enforce Calico HostEndpoint policy on this host's interfaces with nftables.\n"
                "\n"
                "  -c --config=FILE      Settings file [default: %s]\n"
                "  -d --datastore=DS     dir:PATH [default: from the settings, else %s]\n"
                "  -n --nodename=NAME    This node's name [default: the host name, lower-cased]\n"
                "     --bus=BUS          system|session|none|ADDRESS [default: system]\n"
                "     --plugin=PATH      The hostendpoint plugin to load\n"
                "     --oneshot          Commit the ruleset once and exit\n"
                "  -h --help             Show this help\n"
                "     --version          Show the version\n",
                HEP_DEFAULT_CONFIG, HEP_DEFAULT_DATASTORE);
}

static int parse_args(int argc, char **argv, DaemonOptions *o) {
        enum { OPT_BUS = 0x100, OPT_PLUGIN, OPT_ONESHOT, OPT_VERSION };
        static const struct option longopts[] = {
                { "config", required_argument, NULL, 'c' },
                { "datastore", required_argument, NULL, 'd' },
                { "nodename", required_argument, NULL, 'n' },
                { "bus", required_argument, NULL, OPT_BUS },
                { "plugin", required_argument, NULL, OPT_PLUGIN },
                { "oneshot", no_argument, NULL, OPT_ONESHOT },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, OPT_VERSION },
                {}
        };
        int ch;

        while ((ch = getopt_long(argc, argv, "c:d:n:h", longopts, NULL)) >= 0) {
                switch (ch) {
                case 'c':
                        o->config = optarg;
                        break;
                case 'd':
                        o->datastore = optarg;
                        break;
                case 'n':
                        o->nodename = optarg;
                        break;
                case OPT_BUS:
                        o->bus = optarg;
                        break;
                case OPT_PLUGIN:
                        o->plugin = optarg;
                        break;
                case OPT_ONESHOT:
                        o->oneshot = true;
                        break;
                case 'h':
                        usage(stdout);
                        exit(EXIT_SUCCESS);
                case OPT_VERSION:
                        printf("hostendpointd %s\n", HEP_VERSION);
                        exit(EXIT_SUCCESS);
                default:
                        usage(stderr);
                        return -EINVAL;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "hostendpointd: unexpected argument '%s'\n", argv[optind]);
                return -EINVAL;
        }
        return 0;
}

/* Felix's default node name: the kernel host name, lower-cased. */
static char *default_nodename(void) {
        char buf[256] = {};

        if (gethostname(buf, sizeof(buf) - 1) < 0 || !buf[0])
                return NULL;
        for (char *p = buf; *p; p++)
                *p = (char)tolower((unsigned char)*p);
        return strdup(buf);
}

static void log_state(const Calc *c) {
        for (size_t i = 0; i < c->n_endpoints; i++) {
                const Endpoint *e = &c->endpoints[i];
                if (e->state == ENDPOINT_REMOTE)
                        continue;
                log_line(e->state == ENDPOINT_ERROR ? 4 : 6, "HostEndpoint '%s': %s: %s", e->name,
                         endpoint_state_to_string(e->state), endpoint_reason(e) ? endpoint_reason(e) : "");
        }
        for (size_t i = 0; i < c->n_warnings; i++)
                log_line(4, "%s", c->warnings[i]);
}

static int run_oneshot(Datastore *ds, const char *nodename) {
        _cleanup_(enforcer_freep) Enforcer *e = NULL;
        _cleanup_(interface_list_done) InterfaceList ifaces = {};
        _cleanup_free_ char *err = NULL;
        const StoreProblem *p;
        size_t n_p;
        int r;

        r = datastore_refresh(ds);
        if (r < 0) {
                log_line(3, "Cannot read datastore '%s': %s", datastore_spec(ds), strerror(-r));
                return r;
        }
        /* One shot has no earlier view of a broken file to keep in force,
         * so it commits nothing rather than enforce without that file. */
        datastore_problems(ds, &p, &n_p);
        for (size_t i = 0; i < n_p; i++)
                log_line(3, "%s", p[i].message);
        if (n_p > 0) {
                log_line(3, "Not committing: %zu datastore file(s) cannot be used; previous rules left in place", n_p);
                return -EINVAL;
        }
        r = links_enumerate(&ifaces);
        if (r < 0) {
                log_line(3, "Cannot list network interfaces: %s", strerror(-r));
                return r;
        }
        r = enforcer_new(ds, nodename, &e);
        if (r < 0) {
                log_line(3, "Cannot open nftables: %s", strerror(-r));
                return r;
        }
        r = enforcer_apply(e, ifaces.v, ifaces.n, &err);
        if (r < 0) {
                log_line(3, "Cannot commit the ruleset, previous rules left in place: %s",
                         err ? err : strerror(-r));
                return r;
        }
        log_state(enforcer_calc(e));
        const Ruleset *rs = nft_backend_committed(enforcer_backend(e));
        log_line(6, "Committed table inet hostendpoint: %zu chains, %zu rules, %zu sets and maps", rs->n_chains,
                 ruleset_count_rules(rs), rs->n_sets);
        return 0;
}

int main(int argc, char **argv) {
        _cleanup_(config_done) Config cfg = {};
        _cleanup_(datastore_freep) Datastore *ds = NULL;
        _cleanup_free_ char *nodename = NULL, *err = NULL;
        ParseError e = PARSE_ERROR_INIT;
        DaemonOptions o = {};
        int r;

        if (parse_args(argc, argv, &o) < 0)
                return EXIT_FAILURE;
        r = config_load(o.config ? o.config : HEP_DEFAULT_CONFIG, !o.config, &cfg, &e);
        if (r < 0) {
                _cleanup_free_ char *msg = parse_error_format(&e);
                fprintf(stderr, "hostendpointd: %s\n", msg ? msg : strerror(-r));
                parse_error_done(&e);
                return EXIT_FAILURE;
        }
        nodename = strdup(o.nodename ? o.nodename : cfg.nodename ? cfg.nodename : "");
        if (nodename && !*nodename) {
                free(nodename);
                nodename = default_nodename();
        }
        if (!nodename) {
                fprintf(stderr, "hostendpointd: cannot determine the node name; use --nodename\n");
                return EXIT_FAILURE;
        }
        r = datastore_open(o.datastore ? o.datastore : cfg.datastore ? cfg.datastore : HEP_DEFAULT_DATASTORE, &ds,
                           &err);
        if (r < 0) {
                fprintf(stderr, "hostendpointd: %s\n", err ? err : strerror(-r));
                return EXIT_FAILURE;
        }
        if (o.oneshot)
                return run_oneshot(ds, nodename) < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
        fprintf(stderr, "hostendpointd: only --oneshot is implemented in this build\n");
        return EXIT_FAILURE;
}
