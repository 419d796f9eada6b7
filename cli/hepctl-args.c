/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hepctl's command line: the global options, the command word, each
 * command's options and arguments, and the usage texts. Nothing here runs
 * a command, reads a file or prints: hepctl.c does, from HepctlArgs. */
#include "hepctl-args.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "settings.h"

static const struct {
        const char *name;
        const char *summary;
} commands[_HEPCTL_COMMAND_MAX] = {
        [HEPCTL_COMMAND_CREATE] = { "create", "Create resources from a file" },
        [HEPCTL_COMMAND_APPLY] = { "apply", "Create or update resources from a file" },
        [HEPCTL_COMMAND_REPLACE] = { "replace", "Replace existing resources from a file" },
        [HEPCTL_COMMAND_DELETE] = { "delete", "Delete resources by file or by kind and name" },
        [HEPCTL_COMMAND_GET] = { "get", "Show resources; -l SELECTOR shows which a selector picks" },
        [HEPCTL_COMMAND_PATCH] = { "patch", "Patch a resource with a JSON merge document" },
        [HEPCTL_COMMAND_LABEL] = { "label", "Add, change or remove a label of a resource" },
        [HEPCTL_COMMAND_VALIDATE] = { "validate", "Check resources offline, as Calico would" },
        [HEPCTL_COMMAND_RULESET] = { "ruleset", "Print the nftables ruleset this node would enforce" },
        [HEPCTL_COMMAND_STATUS] = { "status", "Show what the running daemon enforces (over D-Bus)" },
        [HEPCTL_COMMAND_EXPLAIN] = { "explain", "Show the path of one packet through the ruleset, and its verdict" },
        [HEPCTL_COMMAND_VERSION] = { "version", "Show hepctl's version and the commit it was built from" },
        [HEPCTL_COMMAND_FLOWS] = { "flows", "Show recent and live flows with the policy that decided each" },
};

/* ---- usage texts ---- */

static void main_usage(FILE *f) {
        fprintf(f,
                "Usage:\n"
                "  hepctl [--datastore dir:PATH|etcdv3:URL] [--config FILE] <command> [<args>...]\n"
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
                "  -d --datastore=<DS>       Where resources live: dir:PATH or etcdv3:URL[,URL...] (default:\n"
                "                            the 'datastore' setting of %s, else\n"
                "                            $HEP_DATASTORE, calicoctl's ETCD_ENDPOINTS, else %s).\n"
                "  -c --config=<FILE>        Settings file, or calicoctl's CalicoAPIConfig [default: %s].\n"
                "\n"
                "Resource kinds (case-insensitive): hostendpoint|hep, profile|pro, globalnetworkpolicy|gnp,\n"
                "networkpolicy|np, tier, globalnetworkset|gnetsets|gns, felixconfiguration|felixconfig,\n"
                "and their plurals.\n",
                HEP_DEFAULT_CONFIG, HEP_DEFAULT_DATASTORE, HEP_DEFAULT_CONFIG);
}

/* The datastore option, as every datastore command's help shows it. */
#define DATASTORE_HELP "Datastore [default: the settings' 'datastore', else " HEP_DEFAULT_DATASTORE "].\n"

static void patch_usage(FILE *f) {
        fprintf(f,
                "Usage:\n"
                "  hepctl patch <KIND> <NAME> --patch=<PATCH> [--type=<TYPE>] [--namespace=<NS>] [--datastore=<DS>]\n"
                "\n"
                "Options:\n"
                "  -p --patch=<PATCH>    JSON (or YAML) to merge into the resource; null removes a field.\n"
                "  -t --type=<TYPE>      Accepted as calicoctl's; the patch is always a merge patch.\n"
                "  -n --namespace=<NS>   Namespace for NetworkPolicy (default 'default').\n"
                "  -d --datastore=<DS>   " DATASTORE_HELP);
}

static void crud_usage(HepctlCommand c, FILE *f) {
        if (c == HEPCTL_COMMAND_DELETE)
                fprintf(f,
                        "Usage:\n"
                        "  hepctl delete ( (<KIND> [<NAME>...]) | --filename=<FILE>) [--recursive] [--skip-empty]\n"
                        "                [--skip-not-exists] [--namespace=<NS>] [--datastore=<DS>]\n");
        else
                fprintf(f,
                        "Usage:\n"
                        "  hepctl %s --filename=<FILE> [--recursive] [--skip-empty]%s [--datastore=<DS>]\n",
                        commands[c].name, c == HEPCTL_COMMAND_CREATE ? " [--skip-exists]" : "");
        fprintf(f,
                "\n"
                "Options:\n"
                "  -f --filename=<FILE>  File or directory of YAML/JSON resources; '-' for stdin.\n"
                "  -R --recursive        Descend into subdirectories of a --filename directory.\n"
                "     --skip-empty       No resources in the input is not an error.\n");
        if (c == HEPCTL_COMMAND_CREATE)
                fprintf(f, "     --skip-exists      A resource that exists already is skipped, not an error.\n");
        if (c == HEPCTL_COMMAND_DELETE)
                fprintf(f, "     --skip-not-exists  A resource that does not exist is skipped, not an error.\n");
        fprintf(f,
                "  -n --namespace=<NS>   Namespace for NetworkPolicy (default 'default').\n"
                "  -d --datastore=<DS>   " DATASTORE_HELP);
}

static void get_usage(FILE *f) {
        fprintf(f,
                "Usage:\n"
                "  hepctl get ( (<KIND> [<NAME>...]) | --filename=<FILE>) [--output=<FORMAT>] [--selector=<SEL>]\n"
                "             [--namespace=<NS>] [--all-namespaces] [--export] [--datastore=<DS>]\n"
                "\n"
                "Options:\n"
                "  -o --output=<FORMAT>    ps (default), wide, custom-columns=COL,..., yaml, json.\n"
                "  -l --selector=<SEL>     Only resources whose labels the Calico selector selects; for\n"
                "                          host endpoints, their own labels plus their profiles' labelsToApply.\n"
                "  -f --filename=<FILE>    Get the resources named in a file.\n"
                "  -n --namespace=<NS>     Namespace of NetworkPolicy (default 'default').\n"
                "  -A --all-namespaces     NetworkPolicy in every namespace.\n"
                "     --export             Leave out uid, resourceVersion, creationTimestamp, namespace.\n"
                "  -d --datastore=<DS>     " DATASTORE_HELP);
}

static void label_usage(FILE *f) {
        fprintf(f,
                "Usage:\n"
                "  hepctl label <KIND> <NAME> ( <KEY>=<VALUE> [--overwrite] | <KEY> --remove )\n"
                "               [--namespace=<NS>] [--datastore=<DS>]\n"
                "\n"
                "Set a label on a resource (metadata.labels), change it or remove it; written like\n"
                "replace, so a resource changed meanwhile is not changed again.\n"
                "\n"
                "Options:\n"
                "     --overwrite         Change the value of a label the resource already has.\n"
                "     --remove            Remove the label <KEY>; it is an error if it is not there.\n"
                "  -n --namespace=<NS>    Namespace of a NetworkPolicy (default 'default').\n"
                "  -d --datastore=<DS>    " DATASTORE_HELP);
}

static void ruleset_usage(FILE *f) {
        fprintf(f,
                "Usage:\n"
                "  hepctl ruleset [--node=<NAME>] [--no-interfaces] [--staged] [--datastore=<DS>]\n"
                "\n"
                "Print the nftables table (inet hostendpoint) that would be committed.\n"
                "\n"
                "Options:\n"
                "     --node=<NAME>       The node to compute for [default: this host's name, lower-cased].\n"
                "     --no-interfaces     Do not look at this host's interfaces (only name-matched host\n"
                "                         endpoints are bound; they are enforced by name in advance).\n"
                "     --staged            The table if every StagedGlobalNetworkPolicy were promoted now\n"
                "                         (never committed; the same table when there is none).\n"
                "  -d --datastore=<DS>    " DATASTORE_HELP);
}

static void status_usage(FILE *f) {
        fprintf(f,
                "Usage:\n"
                "  hepctl status [--bus=<BUS>] [--output=<OUTPUT>]\n"
                "\n"
                "What hostendpointd enforces on this host, as it says over D-Bus: each interface, the\n"
                "HostEndpoint that polices it, its state and why, and the policies applied; then this\n"
                "node's HostEndpoints that have no interface.\n"
                "\n"
                "Options:\n"
                "  -h --help                Show this screen.\n"
                "  -b --bus=<BUS>           system, session or a D-Bus address (default: the 'bus'\n"
                "                           setting of %s, else system).\n"
                "  -o --output=<OUTPUT>     Output format: table or json [default: table].\n",
                HEP_DEFAULT_CONFIG);
}

static void flows_usage(FILE *f) {
        fprintf(f,
                "Usage:\n"
                "  hepctl flows [--follow] [--interface=<IF>] [--action=<ACTION>] [--output=<OUTPUT>] [--bus=<BUS>]\n"
                "\n"
                "The flows hostendpointd saw cross this host's enforced interfaces (flow-logs = yes in\n"
                "%s), oldest first: time, interface, direction, protocol, source and\n"
                "destination, the action and the policy and rule that decided it.\n"
                "\n"
                "Options:\n"
                "  -h --help                Show this screen.\n"
                "  -f --follow              Then show new and updated flows as they come, until interrupted.\n"
                "  -i --interface=<IF>      Only the flows of this interface.\n"
                "  -a --action=<ACTION>     Only allowed or denied flows: allow or deny.\n"
                "  -o --output=<OUTPUT>     Output format: ps, wide or json (one record per line with\n"
                "                           --follow) [default: ps].\n"
                "  -b --bus=<BUS>           system, session or a D-Bus address (default: the 'bus'\n"
                "                           setting of %s, else system).\n",
                HEP_DEFAULT_CONFIG, HEP_DEFAULT_CONFIG);
}

static void explain_usage(FILE *f) {
        fprintf(f,
                "Usage:\n"
                "  hepctl explain --interface=<IF> --direction=<DIR> --src=<ADDR> --dst=<ADDR> --proto=<PROTO>\n"
                "                 [--dport=<PORT>] [--sport=<PORT>] [--icmp-type=<TYPE>] [--out-interface=<IF>]\n"
                "                 [--bus=<BUS>] [--node=<NAME>] [--no-interfaces] [--output=<OUTPUT>]\n"
                "                 [--datastore=<DS>]\n"
                "\n"
                "The path the first packet of a flow takes through the ruleset (dispatch, endpoint chain,\n"
                "each policy in order, the rule that decides) and its verdict: allow, deny, or none (no\n"
                "host endpoint's policy applies). With --bus, or when hostendpointd runs and neither\n"
                "--datastore nor --node is given, the daemon answers about the ruleset it committed;\n"
                "otherwise the ruleset is computed from the datastore, as 'hepctl ruleset' does.\n"
                "\n"
                "Options:\n"
                "  -i --interface=<IF>      The interface the packet comes in by (in, forward) or goes out by (out).\n"
                "     --direction=<DIR>     in (to this host), out (from this host) or forward.\n"
                "     --src=<ADDR>          Source address (IPv4 or IPv6).\n"
                "     --dst=<ADDR>          Destination address.\n"
                "  -p --proto=<PROTO>       tcp, udp, sctp, icmp, icmpv6 or a protocol number.\n"
                "     --dport=<PORT>        Destination port (tcp, udp, sctp) [default: 0].\n"
                "     --sport=<PORT>        Source port [default: 0].\n"
                "     --icmp-type=<TYPE>    ICMP or ICMPv6 type [default: 8 for icmp, 128 for icmpv6].\n"
                "     --out-interface=<IF>  Forwarded packets: the interface they leave by.\n"
                "  -b --bus=<BUS>           Ask hostendpointd on this bus: system, session or a D-Bus address.\n"
                "     --node=<NAME>         Offline: the node to compute for [default: this host's name].\n"
                "     --no-interfaces       Offline: do not look at this host's interfaces.\n"
                "  -o --output=<OUTPUT>     Output format: table or json [default: table].\n"
                "  -d --datastore=<DS>      " DATASTORE_HELP);
}

static void version_usage(FILE *f) {
        fprintf(f,
                "Usage:\n"
                "  hepctl version [--config=<CONFIG>] [--poll=<POLL>] [--allow-version-mismatch]\n"
                "\n"
                "Options:\n"
                "  -h --help                    Show this screen.\n"
                "  -c --config=<CONFIG>         Settings file [default: %s].\n"
                "     --poll=<POLL>             Accepted as calicoctl's; a directory datastore has no\n"
                "                               cluster information to poll.\n"
                "     --allow-version-mismatch  Accepted as calicoctl's.\n"
                "\n"
                "Description:\n"
                "  Display the version of hepctl.\n",
                HEP_DEFAULT_CONFIG);
}

void hepctl_usage(HepctlCommand c, FILE *f) {
        switch (c) {
        case HEPCTL_COMMAND_CREATE:
        case HEPCTL_COMMAND_APPLY:
        case HEPCTL_COMMAND_REPLACE:
        case HEPCTL_COMMAND_DELETE:
        case HEPCTL_COMMAND_VALIDATE:
                crud_usage(c, f);
                return;
        case HEPCTL_COMMAND_PATCH:
                patch_usage(f);
                return;
        case HEPCTL_COMMAND_GET:
                get_usage(f);
                return;
        case HEPCTL_COMMAND_LABEL:
                label_usage(f);
                return;
        case HEPCTL_COMMAND_RULESET:
                ruleset_usage(f);
                return;
        case HEPCTL_COMMAND_STATUS:
                status_usage(f);
                return;
        case HEPCTL_COMMAND_FLOWS:
                flows_usage(f);
                return;
        case HEPCTL_COMMAND_EXPLAIN:
                explain_usage(f);
                return;
        case HEPCTL_COMMAND_VERSION:
                version_usage(f);
                return;
        case _HEPCTL_COMMAND_MAX:
        case _HEPCTL_COMMAND_INVALID:
                break;
        }
        main_usage(f);
}

/* ---- parsing ---- */

static int error_message(char **ret_error, const char *fmt, ...) _printf_(2, 3);
static int error_message(char **ret_error, const char *fmt, ...) {
        va_list ap;
        int k;

        va_start(ap, fmt);
        k = vasprintf(ret_error, fmt, ap);
        va_end(ap);
        if (k < 0) {
                *ret_error = NULL;
                return -ENOMEM;
        }
        return -EINVAL;
}

enum {
        OPT_SKIP_EMPTY = 0x100,
        OPT_SKIP_EXISTS,
        OPT_OVERWRITE,
        OPT_REMOVE,
        OPT_IGNORED,
        OPT_DIRECTION,
        OPT_SRC,
        OPT_DST,
        OPT_DPORT,
        OPT_SPORT,
        OPT_ICMP_TYPE,
        OPT_OUT_INTERFACE,
        OPT_NODE,
        OPT_NO_INTERFACES,
};

/* The options every datastore command takes, as calicoctl's do; --context
 * and --allow-version-mismatch are accepted so that scripts written for
 * calicoctl run, and mean nothing here. */
#define COMMON_LONGOPTS                                                    \
        { "config", required_argument, NULL, 'c' },                        \
        { "datastore", required_argument, NULL, 'd' },                     \
        { "context", required_argument, NULL, OPT_IGNORED },               \
        { "allow-version-mismatch", no_argument, NULL, OPT_IGNORED },      \
        { "help", no_argument, NULL, 'h' }

/* Returns 1 if ch is one of COMMON_LONGOPTS, 0 for --help (parsing
 * stops there), -EINVAL for an option the command does not know. */
static int parse_common_option(int ch, HepctlArgs *a) {
        switch (ch) {
        case 'c':
                a->global.config = optarg;
                return 1;
        case 'd':
                a->global.datastore = optarg;
                return 1;
        case OPT_IGNORED:
                return 1;
        case 'h':
                a->help = true;
                return 0;
        default:
                return -EINVAL;
        }
}

/* The options of the resource commands; returns the index of the first
 * argument. Each parse sets optind to 0, so that getopt starts afresh
 * whatever a previous parse left behind (a fuzzer parses many times). */
static int parse_crud(int argc, char **argv, HepctlArgs *a) {
        static const struct option longopts[] = {
                { "filename", required_argument, NULL, 'f' },
                { "recursive", no_argument, NULL, 'R' },
                { "skip-empty", no_argument, NULL, OPT_SKIP_EMPTY },
                { "skip-exists", no_argument, NULL, OPT_SKIP_EXISTS },
                { "skip-not-exists", no_argument, NULL, 's' },
                { "namespace", required_argument, NULL, 'n' },
                { "patch", required_argument, NULL, 'p' },
                { "type", required_argument, NULL, 't' },
                COMMON_LONGOPTS,
                {}
        };
        int ch, r;

        optind = 0;
        while ((ch = getopt_long(argc, argv, "f:Rsn:p:t:c:d:h", longopts, NULL)) >= 0) {
                switch (ch) {
                case 'f':
                        a->file = optarg;
                        break;
                case 'R':
                        a->recursive = true;
                        break;
                case OPT_SKIP_EMPTY:
                        a->skip_empty = true;
                        break;
                case OPT_SKIP_EXISTS:
                        if (a->command != HEPCTL_COMMAND_CREATE)
                                return -EINVAL;
                        a->skip_exists = true;
                        break;
                case 's':
                        if (a->command != HEPCTL_COMMAND_DELETE)
                                return -EINVAL;
                        a->skip_not_exists = true;
                        break;
                case 'n':
                        a->ns = optarg;
                        break;
                case 'p':
                        a->patch = optarg;
                        break;
                case 't':
                        break;
                default:
                        r = parse_common_option(ch, a);
                        if (r <= 0)
                                return r;
                }
        }
        return optind;
}

/* KIND [NAME...] as delete, get and patch take them. */
static int parse_kind(int argc, char **argv, int idx, HepctlArgs *a, const char *prefix, char **ret_error) {
        a->kind = kind_from_alias(argv[idx]);
        if (!a->kind)
                return error_message(ret_error, "%sresource type '%s' is not supported", prefix, argv[idx]);
        a->names = argv + idx + 1;
        a->n_names = (size_t)(argc - idx - 1);
        return 0;
}

static int parse_resource_command(int argc, char **argv, HepctlArgs *a, char **ret_error) {
        int idx = parse_crud(argc, argv, a);

        if (idx < 0 || a->help)
                return idx < 0 ? idx : 0;
        switch (a->command) {
        case HEPCTL_COMMAND_CREATE:
        case HEPCTL_COMMAND_APPLY:
        case HEPCTL_COMMAND_REPLACE:
        case HEPCTL_COMMAND_VALIDATE:
                return a->file ? 0 : error_message(ret_error, "--filename is required");
        case HEPCTL_COMMAND_DELETE:
                if (a->file)
                        return 0;
                if (idx >= argc)
                        return -EINVAL;
                if (parse_kind(argc, argv, idx, a, "", ret_error) < 0)
                        return -EINVAL;
                if (a->ns && !a->kind->namespaced)
                        return error_message(ret_error, "%s is not namespaced", a->kind->name);
                return 0;
        case HEPCTL_COMMAND_PATCH:
                if (argc - idx != 2 || !a->patch)
                        return -EINVAL;
                return parse_kind(argc, argv, idx, a, "", ret_error);
        case HEPCTL_COMMAND_GET:
        case HEPCTL_COMMAND_LABEL:
        case HEPCTL_COMMAND_RULESET:
        case HEPCTL_COMMAND_STATUS:
        case HEPCTL_COMMAND_FLOWS:
        case HEPCTL_COMMAND_EXPLAIN:
        case HEPCTL_COMMAND_VERSION:
        case _HEPCTL_COMMAND_MAX:
        case _HEPCTL_COMMAND_INVALID:
                break;
        }
        return -EINVAL;
}

static int parse_output(const char *s, HepctlArgs *a, char **ret_error) {
        if (streq(s, "ps"))
                a->format = OUTPUT_PS;
        else if (streq(s, "wide"))
                a->format = OUTPUT_WIDE;
        else if (streq(s, "yaml") || streq(s, "yml"))
                a->format = OUTPUT_YAML;
        else if (streq(s, "json"))
                a->format = OUTPUT_JSON;
        else if (strncmp(s, "custom-columns=", 15) == 0) {
                _cleanup_free_ char *copy = strdup(s + 15);
                char *save = NULL;
                if (!copy)
                        return -ENOMEM;
                a->format = OUTPUT_CUSTOM;
                for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                        char **v = realloc(a->columns, (a->n_columns + 1) * sizeof(char *));
                        if (!v)
                                return -ENOMEM;
                        a->columns = v;
                        a->columns[a->n_columns] = strdup(t);
                        if (!a->columns[a->n_columns])
                                return -ENOMEM;
                        a->n_columns++;
                }
                if (a->n_columns == 0)
                        return error_message(ret_error, "need to specify at least one column");
        } else
                return error_message(ret_error, "unrecognized output format '%s'", s);
        return 0;
}

static int parse_get(int argc, char **argv, HepctlArgs *a, char **ret_error) {
        static const struct option longopts[] = {
                { "filename", required_argument, NULL, 'f' },
                { "recursive", no_argument, NULL, 'R' },
                { "output", required_argument, NULL, 'o' },
                { "selector", required_argument, NULL, 'l' },
                { "namespace", required_argument, NULL, 'n' },
                { "all-namespaces", no_argument, NULL, 'A' },
                { "export", no_argument, NULL, 'e' },
                COMMON_LONGOPTS,
                {}
        };
        int ch, r;

        optind = 0;
        while ((ch = getopt_long(argc, argv, "f:Ro:l:n:Ac:d:h", longopts, NULL)) >= 0) {
                switch (ch) {
                case 'f':
                        a->file = optarg;
                        break;
                case 'R':
                        a->recursive = true;
                        break;
                case 'o':
                        r = parse_output(optarg, a, ret_error);
                        if (r < 0)
                                return r;
                        break;
                case 'l':
                        a->selector = optarg;
                        break;
                case 'n':
                        a->ns = optarg;
                        break;
                case 'A':
                        a->all_namespaces = true;
                        break;
                case 'e':
                        a->export = true;
                        break;
                default:
                        r = parse_common_option(ch, a);
                        if (r <= 0)
                                return r;
                }
        }
        if (a->ns && a->all_namespaces)
                return error_message(ret_error,
                                     "cannot use both --namespace and --all-namespaces flags at the same time");
        /* With --filename, the resources are those of the file. */
        if (a->file)
                return 0;
        if (optind >= argc)
                return -EINVAL;
        r = parse_kind(argc, argv, optind, a, "failed to get resources: ", ret_error);
        if (r < 0)
                return r;
        if ((a->ns || a->all_namespaces) && !a->kind->namespaced)
                return error_message(ret_error, "%s is not namespaced", a->kind->name);
        return 0;
}

/* KEY=VALUE, split at its one '=' as calicoctl (v3.32) does: no '=' or
 * more than one is calicoctl's "invalid label". What the key and value may
 * be is the validator's to say, when the resource is written. */
static int parse_label_argument(const char *arg, HepctlArgs *a, char **ret_error) {
        const char *eq = strchr(arg, '=');

        if (a->remove)
                eq = NULL;
        else if (!eq || strchr(eq + 1, '='))
                return error_message(ret_error, "invalid label %s", arg);
        a->label_key = eq ? strndup(arg, (size_t)(eq - arg)) : strdup(arg);
        if (!a->label_key)
                return -ENOMEM;
        a->label_value = eq ? eq + 1 : NULL;
        return 0;
}

/* label KIND NAME (KEY=VALUE [--overwrite] | KEY --remove): calicoctl's
 * usage, so anything else (--overwrite with --remove too) is a usage
 * error. An unknown kind is calicoctl's message from its get. */
static int parse_label(int argc, char **argv, HepctlArgs *a, char **ret_error) {
        static const struct option longopts[] = {
                { "overwrite", no_argument, NULL, OPT_OVERWRITE },
                { "remove", no_argument, NULL, OPT_REMOVE },
                { "namespace", required_argument, NULL, 'n' },
                COMMON_LONGOPTS,
                {}
        };
        int ch, r;

        optind = 0;
        while ((ch = getopt_long(argc, argv, "n:c:d:h", longopts, NULL)) >= 0) {
                switch (ch) {
                case OPT_OVERWRITE:
                        a->overwrite = true;
                        break;
                case OPT_REMOVE:
                        a->remove = true;
                        break;
                case 'n':
                        a->ns = optarg;
                        break;
                default:
                        r = parse_common_option(ch, a);
                        if (r <= 0)
                                return r;
                }
        }
        if (argc - optind != 3 || (a->overwrite && a->remove))
                return -EINVAL;
        r = parse_label_argument(argv[optind + 2], a, ret_error);
        if (r < 0)
                return r;
        a->kind_word = argv[optind];
        a->kind = kind_from_alias(a->kind_word);
        if (!a->kind)
                return error_message(ret_error, "failed to get %s %s, error resource type '%s' is not supported",
                                     a->kind_word, argv[optind + 1], a->kind_word);
        a->names = argv + optind + 1;
        a->n_names = 1;
        return 0;
}

static int parse_ruleset(int argc, char **argv, HepctlArgs *a) {
        static const struct option longopts[] = {
                { "node", required_argument, NULL, 'N' },
                { "no-interfaces", no_argument, NULL, 'I' },
                { "staged", no_argument, NULL, 'S' },
                COMMON_LONGOPTS,
                {}
        };
        int ch, r;

        optind = 0;
        while ((ch = getopt_long(argc, argv, "d:c:h", longopts, NULL)) >= 0)
                switch (ch) {
                case 'N':
                        a->node = optarg;
                        break;
                case 'I':
                        a->no_interfaces = true;
                        break;
                case 'S':
                        a->staged = true;
                        break;
                default:
                        r = parse_common_option(ch, a);
                        if (r <= 0)
                                return r;
                }
        return 0;
}

static int parse_status(int argc, char **argv, HepctlArgs *a) {
        static const struct option longopts[] = {
                { "help", no_argument, NULL, 'h' },
                { "bus", required_argument, NULL, 'b' },
                { "output", required_argument, NULL, 'o' },
                {}
        };
        int ch;

        optind = 0;
        while ((ch = getopt_long(argc, argv, "hb:o:", longopts, NULL)) >= 0)
                switch (ch) {
                case 'h':
                        a->help = true;
                        return 0;
                case 'b':
                        a->bus = optarg;
                        break;
                case 'o':
                        a->output = optarg;
                        break;
                default:
                        return -EINVAL;
                }
        if (optind < argc || (!streq(a->output, "table") && !streq(a->output, "json")))
                return -EINVAL;
        return 0;
}

static int parse_flows(int argc, char **argv, HepctlArgs *a) {
        static const struct option longopts[] = {
                { "help", no_argument, NULL, 'h' },
                { "follow", no_argument, NULL, 'f' },
                { "interface", required_argument, NULL, 'i' },
                { "action", required_argument, NULL, 'a' },
                { "output", required_argument, NULL, 'o' },
                { "bus", required_argument, NULL, 'b' },
                {}
        };
        int ch;

        optind = 0;
        a->output = "ps";
        while ((ch = getopt_long(argc, argv, "hfi:a:o:b:", longopts, NULL)) >= 0)
                switch (ch) {
                case 'h':
                        a->help = true;
                        return 0;
                case 'f':
                        a->follow = true;
                        break;
                case 'i':
                        a->interface = optarg;
                        break;
                case 'a':
                        a->action = optarg;
                        break;
                case 'o':
                        a->output = optarg;
                        break;
                case 'b':
                        a->bus = optarg;
                        break;
                default:
                        return -EINVAL;
                }
        if (optind < argc || (!streq(a->output, "ps") && !streq(a->output, "wide") && !streq(a->output, "json")) ||
            (a->action && !streq(a->action, "allow") && !streq(a->action, "deny")))
                return -EINVAL;
        return 0;
}

/* A port or ICMP type: 0 to max. */
static int parse_number(const char *s, int max, const char *option, int *ret, char **ret_error) {
        char *end;
        long v;

        errno = 0;
        v = strtol(s, &end, 10);
        if (!*s || *end || errno || v < 0 || v > max)
                return error_message(ret_error, "Invalid value for --%s: '%s' (a number from 0 to %d)", option, s, max);
        *ret = (int)v;
        return 0;
}

static int parse_explain(int argc, char **argv, HepctlArgs *a, char **ret_error) {
        static const struct option longopts[] = {
                { "interface", required_argument, NULL, 'i' },
                { "direction", required_argument, NULL, OPT_DIRECTION },
                { "src", required_argument, NULL, OPT_SRC },
                { "dst", required_argument, NULL, OPT_DST },
                { "proto", required_argument, NULL, 'p' },
                { "dport", required_argument, NULL, OPT_DPORT },
                { "sport", required_argument, NULL, OPT_SPORT },
                { "icmp-type", required_argument, NULL, OPT_ICMP_TYPE },
                { "out-interface", required_argument, NULL, OPT_OUT_INTERFACE },
                { "bus", required_argument, NULL, 'b' },
                { "node", required_argument, NULL, OPT_NODE },
                { "no-interfaces", no_argument, NULL, OPT_NO_INTERFACES },
                { "output", required_argument, NULL, 'o' },
                COMMON_LONGOPTS,
                {}
        };
        int ch, r = 0;

        a->dport = a->sport = a->icmp_type = -1;
        optind = 0;
        while (r >= 0 && (ch = getopt_long(argc, argv, "i:p:b:o:c:d:h", longopts, NULL)) >= 0)
                switch (ch) {
                case 'i':
                        a->interface = optarg;
                        break;
                case OPT_DIRECTION:
                        a->direction = optarg;
                        break;
                case OPT_SRC:
                        a->src = optarg;
                        break;
                case OPT_DST:
                        a->dst = optarg;
                        break;
                case 'p':
                        a->proto = optarg;
                        break;
                case OPT_DPORT:
                        r = parse_number(optarg, 65535, "dport", &a->dport, ret_error);
                        break;
                case OPT_SPORT:
                        r = parse_number(optarg, 65535, "sport", &a->sport, ret_error);
                        break;
                case OPT_ICMP_TYPE:
                        r = parse_number(optarg, 255, "icmp-type", &a->icmp_type, ret_error);
                        break;
                case OPT_OUT_INTERFACE:
                        a->out_interface = optarg;
                        break;
                case 'b':
                        a->bus = optarg;
                        break;
                case OPT_NODE:
                        a->node = optarg;
                        break;
                case OPT_NO_INTERFACES:
                        a->no_interfaces = true;
                        break;
                case 'o':
                        a->output = optarg;
                        break;
                default:
                        r = parse_common_option(ch, a);
                        if (r == 0)
                                return 0;
                }
        if (r < 0)
                return r;
        if (optind < argc || (!streq(a->output, "table") && !streq(a->output, "json")))
                return -EINVAL;
        if (!a->interface || !a->direction || !a->src || !a->dst || !a->proto)
                return error_message(ret_error,
                                     "hepctl explain needs --interface, --direction, --src, --dst and --proto.");
        if (!streq(a->direction, "in") && !streq(a->direction, "out") && !streq(a->direction, "forward"))
                return error_message(ret_error, "Invalid value for --direction: '%s' (in, out or forward)",
                                     a->direction);
        if (a->out_interface && !streq(a->direction, "forward"))
                return error_message(ret_error, "--out-interface is only for --direction=forward.");
        return 0;
}

/* calicoctl's version command: only its options, no arguments. */
static int parse_version(int argc, char **argv, HepctlArgs *a) {
        static const struct option longopts[] = {
                { "poll", required_argument, NULL, OPT_IGNORED },
                COMMON_LONGOPTS,
                {}
        };
        int ch, r;

        optind = 0;
        while ((ch = getopt_long(argc, argv, "c:h", longopts, NULL)) >= 0) {
                r = parse_common_option(ch, a);
                if (r <= 0)
                        return r;
        }
        return optind < argc ? -EINVAL : 0;
}

/* Only the options before the command word are global; each command
 * accepts --datastore/--config too. Returns the index of the command word. */
static int parse_global(int argc, char **argv, HepctlArgs *a) {
        int i = 1;

        for (; i < argc; i++) {
                const char *s = argv[i];
                if (streq(s, "--help") || streq(s, "-h")) {
                        a->help = true;
                        break;
                } else if (streq(s, "--version")) {
                        a->version = true;
                        break;
                } else if ((streq(s, "--datastore") || streq(s, "-d") || streq(s, "--config") || streq(s, "-c")) &&
                           i + 1 < argc) {
                        if (s[1] == 'd' || s[2] == 'd')
                                a->global.datastore = argv[++i];
                        else
                                a->global.config = argv[++i];
                } else if (strncmp(s, "--datastore=", 12) == 0)
                        a->global.datastore = s + 12;
                else if (strncmp(s, "--config=", 9) == 0)
                        a->global.config = s + 9;
                else
                        break;
        }
        return i;
}

int hepctl_args_parse(int argc, char **argv, HepctlArgs *ret, char **ret_error) {
        int i;

        *ret = (HepctlArgs) {
                .command = _HEPCTL_COMMAND_INVALID,
                .format = OUTPUT_PS,
                .output = "table",
        };
        *ret_error = NULL;
        /* hepctl says what is wrong in calicoctl's words, not getopt's. */
        opterr = 0;
        i = parse_global(argc, argv, ret);
        if (ret->help || ret->version)
                return 0;
        if (i >= argc)
                return -EINVAL;
        for (size_t c = 0; c < ELEMENTSOF(commands); c++)
                if (streq(argv[i], commands[c].name))
                        ret->command = (HepctlCommand)c;
        if (ret->command < 0)
                return error_message(ret_error, "Unknown command: '%s'. Run 'hepctl --help' for the list of commands.",
                                     argv[i]);
        /* The command word is argv[0] for getopt, which names it in its
         * messages. */
        argc -= i;
        argv += i;
        switch (ret->command) {
        case HEPCTL_COMMAND_GET:
                return parse_get(argc, argv, ret, ret_error);
        case HEPCTL_COMMAND_LABEL:
                return parse_label(argc, argv, ret, ret_error);
        case HEPCTL_COMMAND_RULESET:
                return parse_ruleset(argc, argv, ret);
        case HEPCTL_COMMAND_STATUS:
                return parse_status(argc, argv, ret);
        case HEPCTL_COMMAND_FLOWS:
                return parse_flows(argc, argv, ret);
        case HEPCTL_COMMAND_EXPLAIN:
                return parse_explain(argc, argv, ret, ret_error);
        case HEPCTL_COMMAND_VERSION:
                return parse_version(argc, argv, ret);
        case HEPCTL_COMMAND_CREATE:
        case HEPCTL_COMMAND_APPLY:
        case HEPCTL_COMMAND_REPLACE:
        case HEPCTL_COMMAND_DELETE:
        case HEPCTL_COMMAND_PATCH:
        case HEPCTL_COMMAND_VALIDATE:
                return parse_resource_command(argc, argv, ret, ret_error);
        case _HEPCTL_COMMAND_MAX:
        case _HEPCTL_COMMAND_INVALID:
                break;
        }
        return -EINVAL;
}

void hepctl_args_done(HepctlArgs *a) {
        a->label_key = mfree_ptr(a->label_key);
        for (size_t i = 0; i < a->n_columns; i++)
                free(a->columns[i]);
        free(a->columns);
        a->columns = NULL;
        a->n_columns = 0;
}
