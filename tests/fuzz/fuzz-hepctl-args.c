/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fuzz target: hepctl's command line. The input is argv after "hepctl",
 * split on NUL bytes. Whatever it is, the parser ends in help, the
 * version, a command with what that command relies on, or one error;
 * everything it returns points into argv. */
#include <getopt.h>
#include <stdint.h>
#include <string.h>

#include "fuzz-util.h"
#include "hepctl-args.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ARGS 64

static bool inside(const char *s, const char *buf, size_t size) {
        return !s || (s >= buf && s <= buf + size);
}

/* What each command dereferences without checking. */
static void check_command(const HepctlArgs *a) {
        switch (a->command) {
        case HEPCTL_COMMAND_CREATE:
        case HEPCTL_COMMAND_APPLY:
        case HEPCTL_COMMAND_REPLACE:
        case HEPCTL_COMMAND_VALIDATE:
                FUZZ_ASSERT(a->file, "no --filename");
                return;
        case HEPCTL_COMMAND_DELETE:
        case HEPCTL_COMMAND_GET:
                FUZZ_ASSERT(a->file || a->kind, "neither --filename nor a kind");
                return;
        case HEPCTL_COMMAND_PATCH:
                FUZZ_ASSERT(a->kind && a->patch && a->n_names == 1, "patch without a kind, a name and --patch");
                return;
        case HEPCTL_COMMAND_LABEL:
                FUZZ_ASSERT(a->kind && a->kind_word && a->n_names == 1 && a->label_key,
                            "label without a kind, a name and a key");
                FUZZ_ASSERT(a->remove == !a->label_value, "a value to remove, or none to set");
                FUZZ_ASSERT(!(a->remove && a->overwrite), "--overwrite with --remove");
                return;
        case HEPCTL_COMMAND_STATUS:
                FUZZ_ASSERT(streq(a->output, "table") || streq(a->output, "json"), "status -o %s", a->output);
                return;
        case HEPCTL_COMMAND_FLOWS:
                FUZZ_ASSERT(streq(a->output, "ps") || streq(a->output, "wide") || streq(a->output, "json"),
                            "flows -o %s", a->output);
                FUZZ_ASSERT(!a->action || streq(a->action, "allow") || streq(a->action, "deny"),
                            "flows --action %s", a->action);
                return;
        case HEPCTL_COMMAND_EXPLAIN:
                FUZZ_ASSERT(a->interface && a->direction && a->src && a->dst && a->proto,
                            "explain without --interface, --direction, --src, --dst or --proto");
                FUZZ_ASSERT(streq(a->direction, "in") || streq(a->direction, "out") || streq(a->direction, "forward"),
                            "explain --direction %s", a->direction);
                FUZZ_ASSERT(streq(a->output, "table") || streq(a->output, "json"), "explain -o %s", a->output);
                FUZZ_ASSERT(a->dport <= 65535 && a->sport <= 65535 && a->icmp_type <= 255, "a port out of range");
                return;
        case HEPCTL_COMMAND_RULESET:
        case HEPCTL_COMMAND_VERSION:
                return;
        case _HEPCTL_COMMAND_MAX:
        case _HEPCTL_COMMAND_INVALID:
                break;
        }
        FUZZ_ASSERT(false, "no command");
}

static void check_result(int r, const HepctlArgs *a, const char *err, char **argv, int argc, const char *buf,
                         size_t size) {
        FUZZ_ASSERT(r == 0 || r == -EINVAL || r == -ENOMEM, "unexpected error %d", r);
        FUZZ_ASSERT(!err || (r < 0 && *err), "a message without an error, or an empty one");
        if (r < 0)
                return;
        if (!a->help && !a->version)
                check_command(a);
        FUZZ_ASSERT(!a->kind || (a->names >= argv && a->names + a->n_names <= argv + argc),
                    "names outside argv");
        FUZZ_ASSERT(inside(a->file, buf, size) && inside(a->ns, buf, size) && inside(a->patch, buf, size) &&
                            inside(a->selector, buf, size) && inside(a->node, buf, size) &&
                            inside(a->bus, buf, size) && inside(a->global.datastore, buf, size) &&
                            inside(a->kind_word, buf, size) && inside(a->label_value, buf, size) &&
                            inside(a->global.config, buf, size) && inside(a->interface, buf, size) &&
                            inside(a->action, buf, size) &&
                            inside(a->out_interface, buf, size) && inside(a->direction, buf, size) &&
                            inside(a->src, buf, size) && inside(a->dst, buf, size) && inside(a->proto, buf, size),
                    "an option's value does not point into argv");
        FUZZ_ASSERT(a->format >= 0 && a->format < _OUTPUT_MAX, "output format %d", a->format);
        FUZZ_ASSERT(a->format != OUTPUT_CUSTOM || a->n_columns > 0, "custom-columns without columns");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static FILE *devnull;
        char *argv[MAX_ARGS + 2];
        char *buf, *err = NULL;
        char name[] = "hepctl";
        HepctlArgs a;
        int argc = 1, r;

        buf = malloc(size + 1);
        if (!buf)
                return 0;
        memcpy(buf, data, size);
        buf[size] = 0;
        argv[0] = name;
        for (size_t i = 0; i < size && argc <= MAX_ARGS; i += strlen(buf + i) + 1)
                argv[argc++] = buf + i;
        argv[argc] = NULL;

        /* getopt's own messages are glibc's, and slow the fuzzer down. */
        opterr = 0;
        r = hepctl_args_parse(argc, argv, &a, &err);
        check_result(r, &a, err, argv, argc, buf, size);
        if (!devnull)
                devnull = fopen("/dev/null", "we");
        if (devnull)
                hepctl_usage(a.command, devnull);
        hepctl_args_done(&a);
        free(err);
        free(buf);
        return 0;
}
