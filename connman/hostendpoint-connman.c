/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hostendpoint-connman.so: ConnMan hosts hostendpoint. connmand loads this
 * shim from its plugin directory at start; the shim loads the installed
 * hostendpoint.so (dlopen) and lends it connmand's GLib main loop (fd
 * watches as GSources with g_source_add_unix_fd, timers as GSources with a
 * ready time in microseconds), ConnMan's logger (connman_info/warn/error),
 * the node name (hostendpoint.conf's, else the host name, lower-cased) and
 * connmand's own D-Bus connection, so org.projectcalico.HostEndpoint1 is
 * served from connmand's process beside net.connman.
 *
 * Order: ConnMan initialises its plugins (__connman_plugin_init) before it
 * starts its rtnetlink listener (__connman_rtnl_start), so nothing has
 * configured an interface yet when our init runs; and the plugin commits
 * its first ruleset inside init, synchronously, when it tracks links
 * itself. Every interface ConnMan brings up later is enforced already (by
 * name in the kernel before it exists, as under hostendpointd).
 *
 * Links: the plugin tracks them itself (its own libnl socket), rather than
 * being fed ConnMan's rtnl watch (HEP_HOST_TRACKS_LINKS):
 *  - ConnMan's struct connman_rtnl and connman_rtnl_register() are not in
 *    connman-dev's headers: the shim would copy a private structure whose
 *    layout may change in any release;
 *  - that watch reports links (newlink/dellink) but no addresses, and a HEP
 *    bound by expectedIPs needs every address, also on interfaces ConnMan
 *    does not manage (the ipconfig notifier covers only ConnMan's own);
 *  - ConnMan never says when its initial dump is complete, which is when a
 *    host-fed plugin may commit (sync_done): the first commit would wait
 *    for ConnMan's first link events instead of coming before them;
 *  - the cost of tracking ourselves is one more netlink socket in connmand.
 *
 * ConnMan loads only a plugin whose version string is exactly its own
 * CONNMAN_VERSION: this one is built for the ConnMan it is packaged with
 * (connman/meson.build checks the headers against connman.pc). */
#define CONNMAN_API_SUBJECT_TO_CHANGE 1

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <dbus/dbus.h>
#include <glib.h>

#include <connman/log.h>
#include <connman/plugin.h>
#include <connman/version.h>

#include "config.h"
#include "settings.h"

#include "hostendpoint/plugin.h"

/* connmand exports it (nm -D /usr/sbin/connmand), but connman-dev ships no
 * dbus.h: ConnMan's system bus connection, with a reference for us. */
DBusConnection *connman_dbus_get_connection(void);

/* ---- the main loop: GSources on connmand's default context ---- */

struct hep_watch {
        GSource source;
        gpointer tag;
        int fd;
        hep_fd_callback cb;
        void *userdata;
};

struct hep_timer {
        GSource source;
        hep_timer_callback cb;
        void *userdata;
};

static GIOCondition to_condition(uint32_t events) {
        /* Errors and hang-ups are reported whether asked for or not. */
        return (events & HEP_WATCH_IN ? G_IO_IN | G_IO_PRI : 0) | (events & HEP_WATCH_OUT ? G_IO_OUT : 0) | G_IO_ERR |
               G_IO_HUP | G_IO_NVAL;
}

static uint32_t from_condition(GIOCondition c) {
        return (c & (G_IO_IN | G_IO_PRI) ? HEP_WATCH_IN : 0) | (c & G_IO_OUT ? HEP_WATCH_OUT : 0) |
               (c & (G_IO_ERR | G_IO_NVAL) ? HEP_WATCH_ERR : 0) | (c & G_IO_HUP ? HEP_WATCH_HUP : 0);
}

static gboolean watch_dispatch(GSource *source, GSourceFunc callback, gpointer user_data) {
        hep_watch *w = (hep_watch *)source;
        uint32_t events = from_condition(g_source_query_unix_fd(source, w->tag));

        /* GLib holds a reference while we are here: the callback may
         * remove this very watch. */
        if (events)
                w->cb(w->userdata, w->fd, events);
        return G_SOURCE_CONTINUE;
}

static GSourceFuncs watch_funcs = { .dispatch = watch_dispatch };

static int host_watch_add(void *host_data, int fd, uint32_t events, hep_fd_callback cb, void *userdata, hep_watch **ret) {
        GSource *s = g_source_new(&watch_funcs, sizeof(hep_watch));
        hep_watch *w = (hep_watch *)s;

        w->fd = fd;
        w->cb = cb;
        w->userdata = userdata;
        w->tag = g_source_add_unix_fd(s, fd, to_condition(events));
        g_source_set_name(s, "hostendpoint watch");
        g_source_attach(s, NULL);
        *ret = w;
        return 0;
}

static int host_watch_update(void *host_data, hep_watch *w, uint32_t events) {
        g_source_modify_unix_fd(&w->source, w->tag, to_condition(events));
        return 0;
}

static void host_watch_remove(void *host_data, hep_watch *w) {
        g_source_destroy(&w->source);
        g_source_unref(&w->source);
}

/* A one-shot timer: a source with a ready time (microseconds, on GLib's
 * monotonic clock). GLib polls with a millisecond timeout rounded up, so
 * a timer fires within a millisecond of its time and never before. */
static void timer_arm(hep_timer *t, uint64_t usec) {
        gint64 now = g_get_monotonic_time();

        if (usec == UINT64_MAX || usec > (uint64_t)(G_MAXINT64 - now))
                g_source_set_ready_time(&t->source, -1);
        else
                g_source_set_ready_time(&t->source, usec == 0 ? 0 : now + (gint64)usec);
}

static gboolean timer_dispatch(GSource *source, GSourceFunc callback, gpointer user_data) {
        hep_timer *t = (hep_timer *)source;

        /* Disarmed before the callback, which may re-arm it or remove it. */
        g_source_set_ready_time(source, -1);
        t->cb(t->userdata);
        return G_SOURCE_CONTINUE;
}

static GSourceFuncs timer_funcs = { .dispatch = timer_dispatch };

static int host_timer_add(void *host_data, uint64_t usec, hep_timer_callback cb, void *userdata, hep_timer **ret) {
        GSource *s = g_source_new(&timer_funcs, sizeof(hep_timer));
        hep_timer *t = (hep_timer *)s;

        t->cb = cb;
        t->userdata = userdata;
        g_source_set_name(s, "hostendpoint timer");
        timer_arm(t, usec);
        g_source_attach(s, NULL);
        *ret = t;
        return 0;
}

static int host_timer_rearm(void *host_data, hep_timer *t, uint64_t usec) {
        timer_arm(t, usec);
        return 0;
}

static void host_timer_remove(void *host_data, hep_timer *t) {
        g_source_destroy(&t->source);
        g_source_unref(&t->source);
}

/* ---- the rest of what the host lends ---- */

typedef struct Shim {
        hep_host host;
        void *dl;
        const hep_plugin_ops *ops;
        hep_plugin *plugin;
        DBusConnection *conn;
        Config cfg;
        char *nodename;
        char *datastore;
        int max_priority; /* LOG_INFO unless hostendpoint.conf says otherwise */
        int instance_fd;  /* the namespace's instance lock, held while we run */
} Shim;

static Shim shim = { .instance_fd = -1 };

static void host_log_line(void *host_data, int priority, const char *message) {
        const Shim *s = host_data;

        if (priority > s->max_priority)
                return;
        if (priority <= LOG_ERR)
                connman_error("hostendpoint: %s", message);
        else if (priority == LOG_WARNING)
                connman_warn("hostendpoint: %s", message);
        else if (priority <= LOG_INFO)
                connman_info("hostendpoint: %s", message);
        else
                connman_debug("hostendpoint: %s", message);
}

static void host_ready(void *host_data) {
        connman_info("hostendpoint: ready: the first ruleset is committed");
}

static void host_reloaded(void *host_data, int error) {
        if (error < 0)
                connman_error("hostendpoint: reload failed: %s; the previous rules stay in force", strerror(-error));
        else
                connman_info("hostendpoint: reloaded: the new ruleset is committed");
}

static int parse_log_level(const char *s) {
        static const char *const names[] = { "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug" };

        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
                if (strcmp(s, names[i]) == 0)
                        return (int)i;
        if (strcmp(s, "error") == 0)
                return LOG_ERR;
        if (strcmp(s, "warn") == 0)
                return LOG_WARNING;
        return -EINVAL;
}

static void log_parse_error(ParseError *e, int r) {
        char *msg = parse_error_format(e);

        connman_error("hostendpoint: %s; not enforcing", msg ? msg : strerror(-r));
        free(msg);
        parse_error_done(e);
}

/* hostendpoint.conf as hostendpointd reads it: the datastore (else
 * $HEP_DATASTORE, calicoctl's settings, the default), the node name (else
 * the host name, lower-cased), the log level; "bus = none" keeps the
 * plugin off D-Bus, any other bus is connmand's own. $HEP_CONFIG names
 * another settings file (tests). */
static int load_settings(Shim *s) {
        const char *path = getenv("HEP_CONFIG");
        ParseError e = PARSE_ERROR_INIT;
        int r;

        r = config_load(path ? path : HEP_DEFAULT_CONFIG, !path, &s->cfg, &e);
        if (r < 0) {
                log_parse_error(&e, r);
                return r;
        }
        s->max_priority = LOG_INFO;
        if (s->cfg.log_level) {
                s->max_priority = parse_log_level(s->cfg.log_level);
                if (s->max_priority < 0) {
                        connman_error("hostendpoint: unknown log level '%s' (err, warning, notice, info, debug); not "
                                      "enforcing",
                                      s->cfg.log_level);
                        return -EINVAL;
                }
        }
        if (s->cfg.nodename && *s->cfg.nodename)
                s->nodename = strdup(s->cfg.nodename);
        else
                (void)default_nodename(&s->nodename);
        if (!s->nodename) {
                connman_error("hostendpoint: cannot determine the node name (set nodename in %s); not enforcing",
                              path ? path : HEP_DEFAULT_CONFIG);
                return -ENOENT;
        }
        /* As hostendpointd decides it, with no command line. */
        r = config_datastore(NULL, &s->cfg, &s->datastore, &e);
        if (r < 0) {
                log_parse_error(&e, r);
                return r;
        }
        return s->datastore ? 0 : -ENOMEM;
}

/* One enforcer per network namespace: the lock hostendpointd takes
 * (HEP_RUNTIME_DIR/net-<namespace inode>.lock, see hostendpointd.c), so
 * that a hostendpointd already running here keeps the table and the
 * shim stands aside, and a hostendpointd started later refuses. */
static uid_t daemon_uid(void) {
        struct passwd *pw = getpwnam(HEP_DAEMON_USER);

        return pw ? pw->pw_uid : 0;
}

static int claim_instance(Shim *s) {
        char path[sizeof(HEP_RUNTIME_DIR) + 64];
        struct stat st;

        if (stat("/proc/self/ns/net", &st) < 0)
                return -errno;
        snprintf(path, sizeof(path), "%s/net-%llu.lock", HEP_RUNTIME_DIR, (unsigned long long)st.st_ino);
        if (mkdir(HEP_RUNTIME_DIR, 0755) < 0 && errno != EEXIST)
                goto fail;
        if (lstat(HEP_RUNTIME_DIR, &st) < 0)
                goto fail;
        /* Root's, or hostendpointd's user's (systemd's RuntimeDirectory=
         * for User=hostendpoint): nobody else may create files there. */
        if (!S_ISDIR(st.st_mode) || (st.st_uid != 0 && st.st_uid != geteuid() && st.st_uid != daemon_uid()) ||
            (st.st_mode & (S_IWGRP | S_IWOTH))) {
                errno = EPERM;
                goto fail;
        }
        s->instance_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
        if (s->instance_fd < 0)
                goto fail;
        if (flock(s->instance_fd, LOCK_EX | LOCK_NB) < 0) {
                int r = errno;
                close(s->instance_fd);
                s->instance_fd = -1;
                if (r == EWOULDBLOCK) {
                        connman_warn("hostendpoint: hostendpointd already enforces in this network namespace (it holds "
                                     "%s); it keeps doing so, not loading",
                                     path);
                        return -EADDRINUSE;
                }
                errno = r;
                goto fail;
        }
        return 0;
fail:
        connman_error("hostendpoint: cannot take the lock %s: %s; not enforcing", path, strerror(errno));
        return -errno;
}

/* The installed plugin (meson's plugin_dir), or $HEP_PLUGIN (tests). */
static int load_plugin(Shim *s) {
        const char *path = getenv("HEP_PLUGIN");
        hep_plugin_entry_fn entry;

        if (!path)
                path = HEP_PLUGIN_PATH;
        s->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        if (!s->dl) {
                connman_error("hostendpoint: cannot load the plugin '%s': %s; not enforcing", path, dlerror());
                return -ENOENT;
        }
        entry = (hep_plugin_entry_fn)dlsym(s->dl, HEP_PLUGIN_ENTRY_SYMBOL);
        s->ops = entry ? entry(HEP_PLUGIN_ABI_VERSION) : NULL;
        if (s->ops && s->ops->size < HEP_PLUGIN_OPS_SIZE_V1)
                s->ops = NULL;
        if (!s->ops) {
                connman_error("hostendpoint: '%s' is not a hostendpoint plugin for ABI version %d; not enforcing", path,
                              HEP_PLUGIN_ABI_VERSION);
                dlclose(s->dl);
                s->dl = NULL;
                return -EINVAL;
        }
        return 0;
}

static void shim_done(Shim *s) {
        if (s->plugin)
                s->ops->shutdown(s->plugin);
        if (s->conn)
                dbus_connection_unref(s->conn);
        config_done(&s->cfg);
        free(s->nodename);
        free(s->datastore);
        if (s->instance_fd >= 0)
                close(s->instance_fd);
        /* hostendpoint.so stays mapped, as under hostendpointd: its
         * callbacks may still be named by sources GLib frees later. */
        *s = (Shim) { .instance_fd = -1 };
}

static int hostendpoint_init(void) {
        Shim *s = &shim;
        int r;

        connman_info("hostendpoint: loading (shim built for ConnMan %s, ABI version %d)", CONNMAN_VERSION,
                     HEP_PLUGIN_ABI_VERSION);
        r = claim_instance(s);
        if (r >= 0)
                r = load_settings(s);
        if (r >= 0)
                r = load_plugin(s);
        if (r < 0) {
                shim_done(s);
                return r;
        }
        if (!s->cfg.bus || strcmp(s->cfg.bus, "none") != 0) {
                s->conn = connman_dbus_get_connection();
                if (!s->conn)
                        connman_warn("hostendpoint: connmand has no D-Bus connection to lend; enforcing without D-Bus");
        }
        s->host = (hep_host) {
                .size = sizeof(hep_host),
                .abi_version = HEP_PLUGIN_ABI_VERSION,
                .host_data = s,
                .watch_add = host_watch_add,
                .watch_update = host_watch_update,
                .watch_remove = host_watch_remove,
                .timer_add = host_timer_add,
                .timer_rearm = host_timer_rearm,
                .timer_remove = host_timer_remove,
                .log = host_log_line,
                .ready = host_ready,
                .reloaded = host_reloaded,
                .nodename = s->nodename,
                .datastore = s->datastore,
                /* Without a connection to lend, no bus of its own either:
                 * connmand is the program on the bus. */
                .bus = s->conn ? NULL : "none",
                .dbus_connection = s->conn,
                .host_name = "connmand " CONNMAN_VERSION,
        };
        connman_info("hostendpoint: starting hostendpoint %s in connmand %s for node '%s' on %s", s->ops->version,
                     CONNMAN_VERSION, s->nodename, s->datastore);
        r = s->ops->init(&s->host, &s->plugin);
        if (r < 0) {
                connman_error("hostendpoint: cannot start: %s; not enforcing", strerror(-r));
                shim_done(s);
                return r;
        }
        return 0;
}

static void hostendpoint_exit(void) {
        if (!shim.ops)
                return;
        connman_info("hostendpoint: stopping; the rules stay in force");
        shim_done(&shim);
}

/* Before the other plugins: the first ruleset is committed before any of
 * them sees an interface. */
CONNMAN_PLUGIN_DEFINE(hostendpoint, "Calico HostEndpoint policy with nftables", CONNMAN_VERSION,
                      CONNMAN_PLUGIN_PRIORITY_HIGH, hostendpoint_init, hostendpoint_exit)
