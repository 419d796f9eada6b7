/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hostendpoint.conf parsing, and the default node name; see settings.h. */
#include "settings.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *strip(char *s) {
        char *e;

        while (isspace((unsigned char)*s))
                s++;
        e = s + strlen(s);
        while (e > s && isspace((unsigned char)e[-1]))
                *--e = 0;
        return s;
}

static int config_set(Config *c, const char *key, const char *value) {
        char **slot = streq(key, "datastore") ? &c->datastore
                      : streq(key, "nodename") ? &c->nodename
                      : streq(key, "bus")      ? &c->bus
                      : streq(key, "log-level") ? &c->log_level
                      : streq(key, "nm-wait-ms") ? &c->nm_wait_ms
                                               : NULL;

        if (!slot)
                return -ENOENT;
        if (slot == &c->nm_wait_ms && (!*value || strspn(value, "0123456789") != strlen(value) || strlen(value) > 9))
                return -EINVAL;
        free(*slot);
        *slot = strdup(value);
        return *slot ? 0 : -ENOMEM;
}

int config_load(const char *path, bool missing_ok, Config *ret, ParseError *reterr) {
        _cleanup_(config_done) Config c = {};
        char *line = NULL;
        size_t alloc = 0;
        unsigned lineno = 0;
        FILE *f;
        int r = 0;

        f = fopen(path, "re");
        if (!f) {
                if (errno == ENOENT && missing_ok) {
                        *ret = c;
                        c = (Config) {};
                        return 0;
                }
                return parse_error_set(reterr, path, 0, 0, NULL, "cannot open: %s", strerror(errno));
        }
        while (r >= 0 && getline(&line, &alloc, f) >= 0) {
                char *s = strip(line), *eq;

                lineno++;
                if (!*s || *s == '#' || *s == ';')
                        continue;
                eq = strchr(s, '=');
                if (!eq) {
                        r = parse_error_set(reterr, path, lineno, 1, NULL, "expected 'key = value', got '%s'", s);
                        break;
                }
                *eq = 0;
                char *key = strip(s), *value = strip(eq + 1);
                r = config_set(&c, key, value);
                if (r == -ENOENT)
                        r = parse_error_set(reterr, path, lineno, 1, NULL,
                                            "unknown setting '%s' (known: datastore, nodename, bus, log-level, nm-wait-ms)",
                                            key);
                else if (r == -EINVAL)
                        r = parse_error_set(reterr, path, lineno, (unsigned)(value - line) + 1, NULL,
                                            "%s must be a whole number of milliseconds, got '%s'", key, value);
        }
        free(line);
        fclose(f);
        if (r < 0)
                return r;
        *ret = c;
        c = (Config) {};
        return 0;
}

void config_done(Config *c) {
        free(c->datastore);
        free(c->nodename);
        free(c->bus);
        free(c->log_level);
        free(c->nm_wait_ms);
        *c = (Config) {};
}

int default_nodename(char **ret) {
        char buf[256] = {};

        if (gethostname(buf, sizeof(buf) - 1) < 0)
                return -errno;
        if (!buf[0])
                return -ENOENT;
        for (char *p = buf; *p; p++)
                *p = (char)tolower((unsigned char)*p);
        *ret = strdup(buf);
        return *ret ? 0 : -ENOMEM;
}
