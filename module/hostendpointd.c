/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hostendpointd: the reference host for the hostendpoint plugin, for
 * machines whose network manager loads no plugins. It loads
 * hostendpoint.so with dlopen and lends it an epoll loop, a logger
 * (stderr, journald's "<priority>" format) and the node name; it tells
 * systemd READY=1 once the first ruleset is committed, reloads on SIGHUP,
 * and on SIGTERM exits leaving the rules in force. One runs per network
 * namespace (a lock under HEP_RUNTIME_DIR); before the plugin starts it
 * becomes the hostendpoint user with only CAP_NET_ADMIN. --oneshot commits
 * once and exits without the plugin. */
#include <cap-ng.h>
#include <dlfcn.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <pwd.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "datastore.h"
#include "enforcer.h"
#include "links.h"
#include "loop.h"
#include "settings.h"

typedef struct DaemonOptions {
        const char *config;
        const char *datastore;
        const char *nodename;
        const char *bus;
        const char *plugin;
        const char *log_level;
        const char *user;
        const char *flow_logs;
        bool oneshot;
} DaemonOptions;

static int max_log_priority = 6; /* info */

/* journald's stderr convention: "<priority>message". */
static void log_line(int prio, const char *fmt, ...) _printf_(2, 3);
static void log_line(int prio, const char *fmt, ...) {
        va_list ap;

        if (prio > max_log_priority)
                return;
        fprintf(stderr, "<%d>", prio);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
}

/* A fatal start-up error: one line, at err priority like every other line
 * (journald then shows it with journalctl -p err), naming the program as
 * a terminal user expects. */
static void fatal(const char *fmt, ...) _printf_(1, 2);
static void fatal(const char *fmt, ...) {
        va_list ap;

        fprintf(stderr, "<%d>hostendpointd: ", LOG_ERR);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
}

static int parse_log_level(const char *s) {
        static const char *const names[] = { "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug" };

        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (streq(s, names[i]))
                        return (int)i;
        if (streq(s, "error"))
                return 3;
        if (streq(s, "warn"))
                return 4;
        return -EINVAL;
}

static void usage(FILE *f) {
        fprintf(f,
                "Usage: hostendpointd [OPTIONS]\n"
                "\n"
                "Enforce Calico HostEndpoint policy on this host's interfaces with nftables.\n"
                "\n"
                "  -c --config=FILE      Settings file [default: %s]\n"
                "  -d --datastore=DS     dir:PATH or etcdv3:URL[,URL...] [default: from the settings, else %s]\n"
                "  -n --nodename=NAME    This node's name [default: the host name, lower-cased]\n"
                "     --bus=BUS          system|session|none|ADDRESS [default: system]\n"
                "     --plugin=PATH      The hostendpoint plugin to load [default: %s,\n"
                "                        else hostendpoint.so beside this program]\n"
                "     --log-level=LEVEL  err, warning, notice, info or debug [default: info]\n"
                "     --flow-logs=yes|no Log flows with the policy that decided each [default: no]\n"
                "     --user=USER        Run as USER, keeping only CAP_NET_ADMIN, when started\n"
                "                        as root [default: %s; root: stay root]\n"
                "     --oneshot          Commit the ruleset once and exit\n"
                "  -h --help             Show this help\n"
                "     --version          Show the version\n",
                HEP_DEFAULT_CONFIG, HEP_DEFAULT_DATASTORE, HEP_PLUGIN_PATH, HEP_DAEMON_USER);
}

static int parse_args(int argc, char **argv, DaemonOptions *o) {
        enum { OPT_BUS = 0x100, OPT_PLUGIN, OPT_ONESHOT, OPT_VERSION, OPT_LOG_LEVEL, OPT_USER, OPT_FLOW_LOGS };
        static const struct option longopts[] = {
                { "config", required_argument, NULL, 'c' },
                { "datastore", required_argument, NULL, 'd' },
                { "nodename", required_argument, NULL, 'n' },
                { "bus", required_argument, NULL, OPT_BUS },
                { "plugin", required_argument, NULL, OPT_PLUGIN },
                { "oneshot", no_argument, NULL, OPT_ONESHOT },
                { "log-level", required_argument, NULL, OPT_LOG_LEVEL },
                { "user", required_argument, NULL, OPT_USER },
                { "flow-logs", required_argument, NULL, OPT_FLOW_LOGS },
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
                case OPT_LOG_LEVEL:
                        o->log_level = optarg;
                        break;
                case OPT_USER:
                        o->user = optarg;
                        break;
                case OPT_FLOW_LOGS:
                        if (config_parse_bool(optarg) < 0) {
                                fprintf(stderr, "hostendpointd: --flow-logs takes yes or no, not '%s'\n", optarg);
                                return -EINVAL;
                        }
                        o->flow_logs = optarg;
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

static void log_state(const Calc *c) {
        for (size_t i = 0; i < c->n_endpoints; i++) {
                const Endpoint *e = &c->endpoints[i];
                if (e->state == ENDPOINT_REMOTE)
                        continue;
                log_line(e->state == ENDPOINT_ERROR ? LOG_WARNING : LOG_INFO, "HostEndpoint '%s' %s: %s", e->name,
                         endpoint_state_to_string(e->state), endpoint_reason(e) ? endpoint_reason(e) : "");
        }
        for (size_t i = 0; i < c->n_warnings; i++)
                log_line(LOG_WARNING, "%s", c->warnings[i]);
}

static int run_oneshot(Datastore *ds, const char *nodename, bool flow_logs) {
        _cleanup_(enforcer_freep) Enforcer *e = NULL;
        _cleanup_(interface_list_done) InterfaceList ifaces = {};
        _cleanup_free_ char *err = NULL;
        const StoreProblem *p;
        size_t n_p;
        int r;

        r = datastore_refresh(ds);
        if (r < 0) {
                log_line(LOG_ERR, "Cannot read datastore '%s': %s", datastore_spec(ds), strerror(-r));
                return r;
        }
        /* One shot has no earlier view of a broken file to keep in force,
         * so it commits nothing rather than enforce without that file. */
        datastore_problems(ds, &p, &n_p);
        for (size_t i = 0; i < n_p; i++)
                log_line(LOG_ERR, "%s", p[i].message);
        if (n_p > 0) {
                log_line(LOG_ERR, "Not committing: %zu datastore file(s) cannot be used; previous rules left in place", n_p);
                return -EINVAL;
        }
        r = links_enumerate(&ifaces);
        if (r < 0) {
                log_line(LOG_ERR, "Cannot list network interfaces: %s", strerror(-r));
                return r;
        }
        r = enforcer_new(ds, nodename, &e);
        if (r < 0) {
                log_line(LOG_ERR, "Cannot open nftables: %s", strerror(-r));
                return r;
        }
        enforcer_set_flow_logs(e, flow_logs);
        r = enforcer_apply(e, ifaces.v, ifaces.n, &err);
        if (r < 0) {
                log_line(LOG_ERR, "Cannot commit the ruleset, previous rules left in place: %s",
                         err ? err : strerror(-r));
                return r;
        }
        log_state(enforcer_calc(e));
        const Ruleset *rs = nft_backend_committed(enforcer_backend(e));
        log_line(LOG_INFO, "Committed table inet hostendpoint: %zu chains, %zu rules, %zu sets and maps", ruleset_count_chains(rs),
                 ruleset_count_rules(rs), rs->n_sets);
        return 0;
}

/* ---- the daemon ---- */

typedef struct Daemon {
        Loop *loop;
        hep_host host;
        void *dl;
        const hep_plugin_ops *ops;
        hep_plugin *plugin;
        hep_timer *watchdog;
        uint64_t watchdog_usec; /* half of systemd's WatchdogSec=, or 0 */
} Daemon;

static void host_log_line(void *host_data, int priority, const char *message) {
        log_line(priority, "%s", message);
}

/* sd_notify without libsystemd: one datagram to $NOTIFY_SOCKET. */
static void notify_systemd(const char *state) {
        const char *path = getenv("NOTIFY_SOCKET");
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        size_t len;
        int fd;

        if (!path || (path[0] != '/' && path[0] != '@') || strlen(path) >= sizeof(sa.sun_path))
                return;
        len = strlen(path);
        memcpy(sa.sun_path, path, len);
        if (sa.sun_path[0] == '@')
                sa.sun_path[0] = 0;
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return;
        (void)sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa,
                     (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len));
        close(fd);
}

static void host_ready(void *host_data) {
        log_line(LOG_INFO, "Ready: the first ruleset is committed");
        notify_systemd("READY=1\nSTATUS=Enforcing host endpoint policy");
}

/* systemd's reload protocol: RELOADING=1 (with the time, as systemd asks)
 * when a reload starts, READY=1 once its re-commit is in the kernel, so
 * that the unit is "reloading" until the new rules are in force. */
static void notify_reloading(void) {
        char msg[96];
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        snprintf(msg, sizeof(msg), "RELOADING=1\nSTATUS=Reloading\nMONOTONIC_USEC=%llu",
                 (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000ULL);
        notify_systemd(msg);
}

static void host_reloaded(void *host_data, int error) {
        if (error < 0) {
                log_line(LOG_ERR, "Reload failed: %s; the previous rules stay in force", strerror(-error));
                notify_systemd("READY=1\nSTATUS=Reload failed; the previous rules stay in force, retrying");
                return;
        }
        log_line(LOG_INFO, "Reloaded: the new ruleset is committed");
        notify_systemd("READY=1\nSTATUS=Enforcing host endpoint policy");
}

/* systemd's watchdog (WatchdogSec=): WATCHDOG=1 from the main loop at half
 * the interval, so that a loop that stops turning (a plugin stuck in a
 * call) gets the daemon restarted. The interval comes from $WATCHDOG_USEC,
 * for this process ($WATCHDOG_PID). */
static uint64_t watchdog_interval(void) {
        const char *usec = getenv("WATCHDOG_USEC"), *pid = getenv("WATCHDOG_PID");
        char *end;
        unsigned long long v;

        if (!usec || (pid && strtoll(pid, NULL, 10) != getpid()))
                return 0;
        errno = 0;
        v = strtoull(usec, &end, 10);
        return errno || *end || v == 0 ? 0 : v / 2;
}

static void on_watchdog(void *userdata) {
        Daemon *d = userdata;

        notify_systemd("WATCHDOG=1");
        (void)loop_timer_rearm(d->loop, d->watchdog, d->watchdog_usec);
}

static int start_watchdog(Daemon *d) {
        d->watchdog_usec = watchdog_interval();
        return d->watchdog_usec ? loop_timer_add(d->loop, d->watchdog_usec, on_watchdog, d, &d->watchdog) : 0;
}

static void on_signal(void *userdata, int signo) {
        Daemon *d = userdata;

        if (signo == SIGHUP) {
                notify_reloading();
                d->ops->reload(d->plugin);
                return;
        }
        log_line(LOG_INFO, "Received %s, exiting; the rules stay in force", signo == SIGTERM ? "SIGTERM" : "SIGINT");
        loop_quit(d->loop);
}

/* One instance per network namespace: a lock on a file under
 * HEP_RUNTIME_DIR named after the namespace. Only root (or the daemon's
 * own user) can create or open it, so no other user can hold the lock and
 * keep the daemon from starting; the kernel drops the lock when the
 * process ends, even after kill -9. */
static int claim_instance(char **ret_path) {
        char *path;
        struct stat st;
        int fd;

        if (stat("/proc/self/ns/net", &st) < 0)
                return -errno;
        if (asprintf(&path, "%s/net-%llu.lock", HEP_RUNTIME_DIR, (unsigned long long)st.st_ino) < 0)
                return -ENOMEM;
        *ret_path = path; /* for messages, also on failure */
        if (mkdir(HEP_RUNTIME_DIR, 0755) < 0 && errno != EEXIST)
                return -errno;
        /* Nobody else may create files there, or the lock means nothing. */
        if (lstat(HEP_RUNTIME_DIR, &st) < 0)
                return -errno;
        if (!S_ISDIR(st.st_mode) || (st.st_uid != 0 && st.st_uid != geteuid()) || (st.st_mode & (S_IWGRP | S_IWOTH)))
                return -EPERM;
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
        if (fd < 0)
                return -errno;
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                int r = errno == EWOULDBLOCK ? -EADDRINUSE : -errno;
                close(fd);
                return r;
        }
        return fd; /* kept open for the daemon's life */
}

static bool have_net_admin(void) {
        capng_get_caps_process();
        return capng_have_capability(CAPNG_EFFECTIVE, CAP_NET_ADMIN);
}

/* Who the daemon runs as: the user, its group and its supplementary groups. */
typedef struct DaemonUser {
        uid_t uid;
        gid_t gid;
        gid_t groups[NGROUPS_MAX];
        size_t n_groups;
} DaemonUser;

/* The user as sysusers.d creates it, read from /etc/passwd and /etc/group
 * themselves: getpwnam() and initgroups() would load NSS's modules
 * (libnss_systemd and what it links, some 600 kB) into the daemon for its
 * whole life. Returns 1 if found there, 0 if not, <0 on error. */
static int lookup_local_user(const char *user, DaemonUser *u) {
        _cleanup_fclose_ FILE *pf = fopen("/etc/passwd", "re"), *gf = NULL;
        struct passwd *pw;
        struct group *gr;

        if (!pf)
                return errno == ENOENT ? 0 : -errno;
        while ((pw = fgetpwent(pf)) && !streq(pw->pw_name, user))
                ;
        if (!pw)
                return 0;
        u->uid = pw->pw_uid;
        u->gid = pw->pw_gid;
        u->groups[0] = pw->pw_gid;
        u->n_groups = 1;
        gf = fopen("/etc/group", "re");
        if (!gf)
                return errno == ENOENT ? 1 : -errno;
        while ((gr = fgetgrent(gf)) && u->n_groups < NGROUPS_MAX)
                for (char **m = gr->gr_mem; m && *m; m++)
                        if (streq(*m, user) && gr->gr_gid != u->gid) {
                                u->groups[u->n_groups++] = gr->gr_gid;
                                break;
                        }
        return 1;
}

/* A user only NSS knows (LDAP, userdb): through NSS after all. */
static int lookup_nss_user(const char *user, DaemonUser *u) {
        struct passwd *pw = getpwnam(user);
        int n = NGROUPS_MAX;

        if (!pw)
                return 0;
        u->uid = pw->pw_uid;
        u->gid = pw->pw_gid;
        if (getgrouplist(user, pw->pw_gid, u->groups, &n) < 0)
                return -ENOBUFS;
        u->n_groups = (size_t)n;
        return 1;
}

/* Keep CAP_NET_ADMIN (nftables commits) and nothing else, in every set
 * and for children too, and run as the daemon's own user (when started as
 * root; under systemd, User= did that already): a parser bug then cannot
 * read root's files or write anything root owns. The datastore is read
 * through the user's groups. */
static int drop_privileges(const char *user) {
        DaemonUser u;
        int found = 0, r;

        if (geteuid() == 0 && !isempty(user) && !streq(user, "root")) {
                found = lookup_local_user(user, &u);
                if (found == 0)
                        found = lookup_nss_user(user, &u);
                if (found < 0)
                        return found;
                if (found == 0)
                        log_line(LOG_WARNING, "User '%s' does not exist (the package creates it); running as root, with only "
                                    "CAP_NET_ADMIN",
                                 user);
        }
        capng_clear(CAPNG_SELECT_BOTH);
        if (capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED | CAPNG_BOUNDING_SET, CAP_NET_ADMIN) < 0)
                return -EPERM;
        /* The bounding set first, while CAP_SETPCAP is still ours; the
         * groups while CAP_SETGID is. */
        if (found > 0)
                r = capng_apply(CAPNG_SELECT_BOUNDS) < 0 || setgroups(u.n_groups, u.groups) < 0
                            ? -1
                            : capng_change_id(u.uid, u.gid, CAPNG_NO_FLAG);
        else
                r = capng_apply(CAPNG_SELECT_BOTH);
        if (r < 0)
                return -EPERM;
        (void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return -errno;
        return 0;
}

/* --plugin, else the installed path, else beside this executable (a
 * build tree). */
static void *load_plugin(const char *path, const hep_plugin_ops **ret_ops) {
        char beside[PATH_MAX];
        const char *tried = path ? path : HEP_PLUGIN_PATH;
        void *dl = dlopen(tried, RTLD_NOW | RTLD_LOCAL);
        hep_plugin_entry_fn entry;

        if (!dl && !path) {
                ssize_t n = readlink("/proc/self/exe", beside, sizeof(beside) - 32);
                if (n > 0) {
                        beside[n] = 0;
                        char *slash = strrchr(beside, '/');
                        if (slash) {
                                strcpy(slash + 1, "hostendpoint.so");
                                dl = dlopen(beside, RTLD_NOW | RTLD_LOCAL);
                                if (dl)
                                        tried = beside;
                        }
                }
        }
        if (!dl) {
                fatal("cannot load the plugin '%s': %s", tried, dlerror());
                return NULL;
        }
        entry = (hep_plugin_entry_fn)dlsym(dl, HEP_PLUGIN_ENTRY_SYMBOL);
        *ret_ops = entry ? entry(HEP_PLUGIN_ABI_VERSION) : NULL;
        if (*ret_ops && (*ret_ops)->size < HEP_PLUGIN_OPS_SIZE_V1)
                *ret_ops = NULL; /* we call every operation of version 1 */
        if (!*ret_ops) {
                fatal("'%s' is not a hostendpoint plugin for ABI version %d", tried,
                        HEP_PLUGIN_ABI_VERSION);
                dlclose(dl);
                return NULL;
        }
        return dl;
}

static int run_daemon(const DaemonOptions *o, const char *datastore, const char *nodename, const char *bus,
                      bool flow_logs) {
        static const int signals[] = { SIGTERM, SIGINT, SIGHUP };
        _cleanup_free_ char *lock_path = NULL;
        Daemon d = {};
        int instance_fd, r;

        instance_fd = claim_instance(&lock_path);
        if (instance_fd < 0) {
                if (instance_fd == -EADDRINUSE)
                        fatal("another hostendpointd is already running in this network "
                                        "namespace (it holds %s)",
                                lock_path);
                else
                        fatal("cannot take the lock %s: %s",
                                lock_path ? lock_path : HEP_RUNTIME_DIR, strerror(-instance_fd));
                return -EEXIST;
        }
        /* Before the plugin reads a byte of the datastore. */
        r = drop_privileges(o->user ? o->user : HEP_DAEMON_USER);
        if (r < 0) {
                fatal("cannot drop privileges: %s", strerror(-r));
                close(instance_fd);
                return r;
        }
        d.dl = load_plugin(o->plugin, &d.ops);
        r = d.dl ? loop_new(&d.loop) : -ENOENT;
        if (r >= 0)
                r = loop_add_signals(d.loop, signals, ELEMENTSOF(signals), on_signal, &d);
        if (r >= 0)
                r = start_watchdog(&d);
        if (r < 0) {
                if (d.dl)
                        fatal("cannot set up the main loop: %s", strerror(-r));
                goto out;
        }
        d.host = (hep_host) {
                .size = sizeof(hep_host),
                .abi_version = HEP_PLUGIN_ABI_VERSION,
                .host_data = d.loop,
                .watch_add = loop_watch_add,
                .watch_update = loop_watch_update,
                .watch_remove = loop_watch_remove,
                .timer_add = loop_timer_add,
                .timer_rearm = loop_timer_rearm,
                .timer_remove = loop_timer_remove,
                .log = host_log_line,
                .ready = host_ready,
                .reloaded = host_reloaded,
                .nodename = nodename,
                .datastore = datastore,
                .bus = bus,
                .host_name = "hostendpointd " HEP_VERSION,
                .flow_logs = flow_logs,
        };
        log_line(LOG_INFO, "Starting hostendpoint %s for node '%s' on %s", d.ops->version, nodename, datastore);
        r = d.ops->init(&d.host, &d.plugin);
        if (r < 0) {
                fatal("cannot start: %s", strerror(-r));
                goto out;
        }
        r = loop_run(d.loop);
        notify_systemd("STOPPING=1");
out:
        if (d.plugin)
                d.ops->shutdown(d.plugin);
        loop_free(d.loop);
        /* The plugin stays mapped until the process ends: unmapping it
         * gains nothing at exit, and leak reports can then name its code. */
        close(instance_fd);
        return r;
}

int main(int argc, char **argv) {
        _cleanup_(config_done) Config cfg = {};
        _cleanup_(datastore_freep) Datastore *ds = NULL;
        _cleanup_free_ char *nodename = NULL, *err = NULL, *spec = NULL;
        ParseError e = PARSE_ERROR_INIT;
        DaemonOptions o = {};
        const char *level, *name;
        int r;

        /* Whatever fds we were started with (a shell's, a supervisor's)
         * must not reach a program that ever runs after us. */
        (void)close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
        if (parse_args(argc, argv, &o) < 0)
                return EXIT_FAILURE;
        r = config_load(o.config ? o.config : HEP_DEFAULT_CONFIG, !o.config, &cfg, &e);
        if (r < 0) {
                _cleanup_free_ char *msg = parse_error_format(&e);
                fatal("%s", msg ? msg : strerror(-r));
                parse_error_done(&e);
                return EXIT_FAILURE;
        }
        level = o.log_level ? o.log_level : cfg.log_level;
        if (level) {
                max_log_priority = parse_log_level(level);
                if (max_log_priority < 0) {
                        fatal("unknown log level '%s' (err, warning, notice, info, debug)", level);
                        return EXIT_FAILURE;
                }
        }
        name = o.nodename ? o.nodename : cfg.nodename;
        if (name && *name)
                nodename = strdup(name);
        else
                (void)default_nodename(&nodename);
        if (!nodename) {
                fatal("cannot determine the node name; use --nodename");
                return EXIT_FAILURE;
        }
        r = config_datastore(o.datastore, &cfg, &spec, &e);
        if (r < 0) {
                _cleanup_free_ char *msg = parse_error_format(&e);
                fatal("%s", msg ? msg : strerror(-r));
                parse_error_done(&e);
                return EXIT_FAILURE;
        }
        r = datastore_open(spec, 0, &ds, &err);
        if (r < 0) {
                fatal("%s", err ? err : strerror(-r));
                return EXIT_FAILURE;
        }
        if (o.oneshot) {
                /* Without CAP_NET_ADMIN the commit fails with its own message. */
                if (have_net_admin() && (r = drop_privileges(o.user ? o.user : HEP_DAEMON_USER)) < 0) {
                        fatal("cannot drop privileges: %s", strerror(-r));
                        return EXIT_FAILURE;
                }
                return run_oneshot(ds, nodename, config_parse_bool(o.flow_logs ? o.flow_logs : cfg.flow_logs) > 0) < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
        }
        datastore_free(steal_ptr(ds));
        if (!have_net_admin()) {
                fatal("CAP_NET_ADMIN is required to program nftables "
                                "(run as root, or with AmbientCapabilities=CAP_NET_ADMIN)");
                return EXIT_FAILURE;
        }
        r = run_daemon(&o, spec, nodename, o.bus ? o.bus : cfg.bus ? cfg.bus : "system",
                       config_parse_bool(o.flow_logs ? o.flow_logs : cfg.flow_logs) > 0);
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
