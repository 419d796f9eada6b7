/* hepctl ruleset: prints the nftables table hostendpointd would commit for
 * this node, from the datastore and this network namespace's interfaces,
 * without committing anything. The same calculation and compiler as the
 * daemon, so what it shows is what the kernel would get. */
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "calc.h"
#include "compile.h"
#include "hepctl.h"
#include "links.h"

static void ruleset_usage(FILE *f) {
        fprintf(f,
                "Usage:\n"
                "  hepctl ruleset [--node=<NAME>] [--no-interfaces] [--datastore=<DS>]\n"
                "\n"
                "Print the nftables table (inet hostendpoint) that would be committed.\n"
                "\n"
                "  --node=<NAME>     The node to compute for [default: this host's name, lower-cased].\n"
                "  --no-interfaces   Do not look at this host's interfaces (only name-matched host\n"
                "                    endpoints are bound; they are enforced by name in advance).\n"
                "  -d --datastore    Datastore, e.g. dir:/etc/hostendpoint/resources.d\n");
}

int hepctl_ruleset(const HepctlOptions *go, int argc, char **argv) {
        static const struct option longopts[] = {
                { "node", required_argument, NULL, 'N' },
                { "no-interfaces", no_argument, NULL, 'I' },
                { "datastore", required_argument, NULL, 'd' },
                { "config", required_argument, NULL, 'c' },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        _cleanup_(datastore_freep) Datastore *ds = NULL;
        _cleanup_(interface_list_done) InterfaceList ifaces = {};
        _cleanup_(calc_freep) Calc *calc = NULL;
        _cleanup_(ruleset_freep) Ruleset *rs = NULL;
        _cleanup_free_ Resource **res = NULL;
        HepctlOptions o = *go;
        const char *node = NULL;
        bool no_ifaces = false;
        char host[256] = {};
        const StoreEntry *e;
        size_t n;
        StrBuf out = STRBUF_INIT;
        int ch, r;

        optind = 1;
        while ((ch = getopt_long(argc, argv, "d:c:h", longopts, NULL)) >= 0)
                switch (ch) {
                case 'N':
                        node = optarg;
                        break;
                case 'I':
                        no_ifaces = true;
                        break;
                case 'd':
                        o.datastore = optarg;
                        break;
                case 'c':
                        o.config = optarg;
                        break;
                case 'h':
                        ruleset_usage(stdout);
                        return HEPCTL_OK;
                default:
                        ruleset_usage(stderr);
                        return HEPCTL_FAIL;
                }
        if (!node) {
                if (gethostname(host, sizeof(host) - 1) < 0)
                        return HEPCTL_FAIL;
                for (char *p = host; *p; p++)
                        *p = (char)tolower((unsigned char)*p);
                node = host;
        }
        if (hepctl_open_datastore(&o, &ds) < 0)
                return HEPCTL_FAIL;
        r = datastore_refresh(ds);
        if (r < 0) {
                hepctl_error("cannot read datastore: %s", strerror(-r));
                return HEPCTL_FAIL;
        }
        hepctl_report_problems(ds);
        if (!no_ifaces && (r = links_enumerate(&ifaces)) < 0) {
                hepctl_error("cannot list network interfaces: %s", strerror(-r));
                return HEPCTL_FAIL;
        }
        datastore_entries(ds, &e, &n);
        res = new_array(n, sizeof(Resource *));
        if (!res)
                return HEPCTL_FAIL;
        for (size_t i = 0; i < n; i++)
                res[i] = e[i].res;
        r = calc_run(res, n, node, ifaces.v, ifaces.n, NULL, &calc);
        if (r >= 0)
                r = ruleset_compile(calc, NULL, &rs);
        if (r < 0) {
                hepctl_error("cannot compute the ruleset: %s", strerror(-r));
                return HEPCTL_FAIL;
        }
        for (size_t i = 0; i < calc->n_warnings; i++)
                fprintf(stderr, "warning: %s\n", calc->warnings[i]);
        ruleset_print(rs, &out);
        fputs(strbuf_str(&out), stdout);
        strbuf_done(&out);
        return HEPCTL_OK;
}
