/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Host conformance: a minimal host of the test's own loads hostendpoint.so
 * and checks the promises include/hostendpoint/plugin.h makes. The host
 * tracks links itself (HEP_HOST_TRACKS_LINKS: events pushed by the test,
 * no netlink socket in the plugin), runs the plugin's watches and timers
 * on a poll loop of its own, and every host function asserts it is called
 * as the header says. Runs in a network namespace of its own, with the
 * datastore on a tmpfs of its own (unshare: both gone with the process,
 * even one that failed); skips (77) without root. */
#include <arpa/inet.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/route/link/veth.h>
#include <nftables/libnftables.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "tests.h"
#include "config.h"
#include "hostendpoint/plugin.h"
#if HEP_WITH_DBUS
#include <dbus/dbus.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#endif

#define NODE "node1"
#define RESOURCES                                                                                          \
        "apiVersion: projectcalico.org/v3\nkind: HostEndpoint\n"                                           \
        "metadata: {name: by-name, labels: {role: web}}\nspec: {node: " NODE ", interfaceName: veth0}\n"  \
        "---\napiVersion: projectcalico.org/v3\nkind: HostEndpoint\n"                                      \
        "metadata: {name: by-address, labels: {role: web}}\nspec: {node: " NODE ", expectedIPs: [10.88.0.2]}\n" \
        "---\napiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: allow-web}\n" \
        "spec: {selector: role == 'web', types: [Ingress], ingress: [{action: Allow, protocol: TCP, "      \
        "destination: {ports: [8080]}}]}\n"
/* In our table: veth0 dispatched to its HEP's chains by name; veth1 in
 * the interfaces of the HEP bound by address (a set, then the dispatch
 * maps once settled). */
#define VETH0_DISPATCHED "\"veth0\" : jump ep-in.by-name"
#define VETH1_FILTERED "\"veth1\""
#define WAIT_USEC (10ULL * 1000 * 1000)

/* A watch or timer the plugin added. Removed ones are kept (on another
 * list) until the plugin is gone, so that no new one takes their address
 * and a handle used after its removal is recognised as such. */
typedef struct Source {
        uint64_t id;
        bool is_timer;
        int fd;
        uint32_t events;
        hep_fd_callback on_fd;
        uint64_t deadline; /* UINT64_MAX: not armed */
        hep_timer_callback on_timer;
        void *userdata;
        struct Source *next;
} Source;

typedef struct LogLine {
        int priority;
        char *message;
} LogLine;

/* The host: one, as a process has one main loop. */
static struct {
        pthread_t thread;
        int in_plugin;    /* inside a call into the plugin, or one of its callbacks */
        bool in_host;     /* inside one of the host's functions */
        bool in_reload, in_shutdown;
        bool sync_done;   /* the host has said its inventory is whole */
        Source *sources, *removed;
        uint64_t next_id;
        unsigned ready_calls, reloaded_calls;
        LogLine *logs;
        size_t n_logs;
        struct nft_ctx *nft; /* the test's own view of the kernel */
        void *lent;          /* the DBusConnection lent to the plugin, or NULL */
        char dir[64];        /* the datastore */
} H;

/* Pages the plugin must not read, with what they hold. */
typedef struct Guard {
        const char *label;
        char *start;
        size_t len;
} Guard;
static Guard guards[4];

static uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* ---- memory the plugin must not read ---- */

static void on_segv(int sig, siginfo_t *si, void *ctx) {
        (void)ctx;
        for (size_t i = 0; i < sizeof(guards) / sizeof(guards[0]); i++) {
                const char *a = si->si_addr;
                if (guards[i].start && a >= guards[i].start && a < guards[i].start + guards[i].len) {
                        static const char m[] = "test-plugin-host: the plugin read memory the header says it does not: ";
                        (void)!write(2, m, sizeof(m) - 1);
                        (void)!write(2, guards[i].label, strlen(guards[i].label));
                        (void)!write(2, "\n", 1);
                }
        }
        signal(sig, SIG_DFL); /* the access faults again, and kills */
}

static void guard_set(const char *label, void *start, size_t len) {
        for (size_t i = 0; i < sizeof(guards) / sizeof(guards[0]); i++)
                if (!guards[i].start) {
                        guards[i] = (Guard) { label, start, len };
                        ASSERT_OK(mprotect(start, len, PROT_NONE));
                        return;
                }
        TEST_FAIL("too many guards");
}

static void guard_drop(void *start) {
        for (size_t i = 0; i < sizeof(guards) / sizeof(guards[0]); i++)
                if (guards[i].start == start) {
                        ASSERT_OK(munmap(start, guards[i].len));
                        guards[i] = (Guard) {};
                }
}

/* size bytes that end where an unreadable page begins: reading past them
 * faults. size must keep the structure aligned (a multiple of 8). */
static void *before_guard(const char *label, size_t size) {
        size_t page = (size_t)sysconf(_SC_PAGESIZE);
        char *m = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

        ASSERT_TRUE(m != MAP_FAILED);
        ASSERT_EQ(size % 8, 0);
        ASSERT_TRUE(size <= page);
        guard_set(label, m + page, page);
        return m + page - size;
}

static void before_guard_free(void *p) {
        size_t page = (size_t)sysconf(_SC_PAGESIZE);
        char *m = (char *)((uintptr_t)p & ~(uintptr_t)(page - 1));

        guard_drop(m + page);
        ASSERT_OK(munmap(m, page));
}

/* ---- the host's side of each call ---- */

static void host_enter(void *host_data, const char *what) {
        if (host_data != &H)
                TEST_FAIL("%s: host_data %p is not the one the host lent", what, host_data);
        if (!pthread_equal(pthread_self(), H.thread))
                TEST_FAIL("%s called from a thread other than the host's loop", what);
        if (H.in_plugin != 1)
                TEST_FAIL("%s called outside the host's calls and callbacks", what);
        if (H.in_host)
                TEST_FAIL("%s called while another host function runs", what);
        H.in_host = true;
}

static void host_leave(void) {
        H.in_host = false;
}

static void plugin_enter(void) {
        ASSERT_EQ(H.in_plugin, 0);
        H.in_plugin++;
}

static void plugin_leave(void) {
        H.in_plugin--;
}

/* A call into the plugin, as the host makes it. */
#define PLUGIN_CALL(call)               \
        do {                            \
                plugin_enter();         \
                call;                   \
                plugin_leave();         \
        } while (0)

static Source *source_live(const void *handle, bool is_timer, const char *what) {
        for (Source *s = H.sources; s; s = s->next)
                if (s == handle && s->is_timer == is_timer)
                        return s;
        for (Source *s = H.removed; s; s = s->next)
                if (s == handle)
                        TEST_FAIL("%s: %s %" PRIu64 " used after its removal", what, is_timer ? "timer" : "watch", s->id);
        TEST_FAIL("%s: %p is no %s the plugin added", what, handle, is_timer ? "timer" : "watch");
}

static Source *source_by_id(uint64_t id) {
        for (Source *s = H.sources; s; s = s->next)
                if (s->id == id)
                        return s;
        return NULL;
}

static Source *source_add(bool is_timer, void *userdata) {
        Source *s = calloc(1, sizeof(Source));

        ASSERT_NOT_NULL(s);
        *s = (Source) { .id = ++H.next_id, .is_timer = is_timer, .fd = -1, .userdata = userdata, .next = H.sources };
        H.sources = s;
        return s;
}

static void source_remove(Source *s) {
        Source **p = &H.sources;

        while (*p != s)
                p = &(*p)->next;
        *p = s->next;
        s->next = H.removed;
        H.removed = s;
}

static void check_events(uint32_t events) {
        ASSERT_EQ(events & ~(uint32_t)(HEP_WATCH_IN | HEP_WATCH_OUT | HEP_WATCH_ERR | HEP_WATCH_HUP), 0);
}

static int host_watch_add(void *host_data, int fd, uint32_t events, hep_fd_callback cb, void *userdata, hep_watch **ret) {
        host_enter(host_data, "watch_add");
        ASSERT_TRUE(fcntl(fd, F_GETFD) >= 0);
        ASSERT_NOT_NULL(cb);
        ASSERT_NOT_NULL(ret);
        check_events(events);
        Source *s = source_add(false, userdata);
        s->fd = fd;
        s->events = events;
        s->on_fd = cb;
        *ret = (hep_watch *)s;
        host_leave();
        return 0;
}

static int host_watch_update(void *host_data, hep_watch *w, uint32_t events) {
        host_enter(host_data, "watch_update");
        check_events(events);
        source_live(w, false, "watch_update")->events = events;
        host_leave();
        return 0;
}

static void host_watch_remove(void *host_data, hep_watch *w) {
        host_enter(host_data, "watch_remove");
        Source *s = source_live(w, false, "watch_remove");
        if (fcntl(s->fd, F_GETFD) < 0)
                TEST_FAIL("watch %" PRIu64 " removed after its fd %d was closed", s->id, s->fd);
        source_remove(s);
        host_leave();
}

static uint64_t deadline_after(uint64_t usec) {
        uint64_t now = now_usec();
        return usec == UINT64_MAX || usec > UINT64_MAX - 1 - now ? UINT64_MAX : now + usec;
}

static int host_timer_add(void *host_data, uint64_t usec, hep_timer_callback cb, void *userdata, hep_timer **ret) {
        host_enter(host_data, "timer_add");
        ASSERT_NOT_NULL(cb);
        ASSERT_NOT_NULL(ret);
        Source *s = source_add(true, userdata);
        s->on_timer = cb;
        s->deadline = deadline_after(usec);
        *ret = (hep_timer *)s;
        host_leave();
        return 0;
}

static int host_timer_rearm(void *host_data, hep_timer *t, uint64_t usec) {
        host_enter(host_data, "timer_rearm");
        source_live(t, true, "timer_rearm")->deadline = deadline_after(usec);
        host_leave();
        return 0;
}

static void host_timer_remove(void *host_data, hep_timer *t) {
        host_enter(host_data, "timer_remove");
        source_remove(source_live(t, true, "timer_remove"));
        host_leave();
}

/* The message is the plugin's, for this call only: kept as a copy. */
static void host_log(void *host_data, int priority, const char *message) {
        host_enter(host_data, "log");
        ASSERT_NOT_NULL(message);
        printf("# <%d> %s\n", priority, message);
        if (priority < LOG_ERR || priority > LOG_DEBUG)
                TEST_FAIL("log priority %d is none of the documented ones: %s", priority, message);
        if (!*message || strchr(message, '\n'))
                TEST_FAIL("a log message is one line without a trailing newline: \"%s\"", message);
        LogLine *v = realloc(H.logs, (H.n_logs + 1) * sizeof(LogLine));
        ASSERT_NOT_NULL(v);
        H.logs = v;
        H.logs[H.n_logs++] = (LogLine) { priority, strdup(message) };
        ASSERT_NOT_NULL(H.logs[H.n_logs - 1].message);
        host_leave();
}

/* The ruleset of our table, as the kernel has it; NULL if there is none. */
static char *kernel_table(void) {
        if (nft_run_cmd_from_buffer(H.nft, "list table inet hostendpoint") != 0)
                return NULL;
        char *s = strdup(nft_ctx_get_output_buffer(H.nft));
        ASSERT_NOT_NULL(s);
        return s;
}

static void host_ready(void *host_data) {
        host_enter(host_data, "ready");
        if (H.in_shutdown)
                TEST_FAIL("ready called from shutdown");
        if (++H.ready_calls > 1)
                TEST_FAIL("ready called %u times", H.ready_calls);
        /* After the first commit: it needs the host's whole inventory. */
        ASSERT_TRUE(H.sync_done);
        char *t = kernel_table();
        if (!t)
                TEST_FAIL("ready called before the table is in the kernel");
        free(t);
        host_leave();
}

static void host_reloaded(void *host_data, int error) {
        host_enter(host_data, "reloaded");
        if (H.in_reload || H.in_shutdown)
                TEST_FAIL("reloaded called from %s", H.in_reload ? "reload" : "shutdown");
        ASSERT_EQ(error, 0);
        H.reloaded_calls++;
        host_leave();
}

/* ---- the host's loop ---- */

static short to_poll(uint32_t events) {
        return (short)((events & HEP_WATCH_IN ? POLLIN : 0) | (events & HEP_WATCH_OUT ? POLLOUT : 0));
}

static uint32_t from_poll(short revents) {
        if (revents & POLLNVAL)
                TEST_FAIL("a watched fd was closed before its watch was removed");
        return (revents & POLLIN ? HEP_WATCH_IN : 0) | (revents & POLLOUT ? HEP_WATCH_OUT : 0) |
               (revents & POLLERR ? HEP_WATCH_ERR : 0) | (revents & POLLHUP ? HEP_WATCH_HUP : 0);
}

#define MAX_SOURCES 64
#define MAX_BUS_WATCHES 8

#if HEP_WITH_DBUS
/* ---- a D-Bus connection the host lends: the host dispatches it ---- */

static struct {
        pid_t daemon;     /* a dbus-daemon of the test's own */
        char address[256];
        DBusWatch *watches[MAX_BUS_WATCHES], *polled[MAX_BUS_WATCHES];
        size_t n_watches;
        unsigned functions_dropped; /* the host's watch or timeout functions replaced */
        bool finalized;             /* the lent connection freed */
} B;

static dbus_bool_t bus_watch_add(DBusWatch *w, void *data) {
        ASSERT_TRUE(B.n_watches < MAX_BUS_WATCHES);
        B.watches[B.n_watches++] = w;
        return TRUE;
}

static void bus_watch_remove(DBusWatch *w, void *data) {
        for (size_t i = 0; i < B.n_watches; i++)
                if (B.watches[i] == w) {
                        B.watches[i] = B.watches[--B.n_watches];
                        return;
                }
}

static void bus_watch_toggled(DBusWatch *w, void *data) {
}

/* The bus daemon is local and answers at once: a minimal host leaves
 * libdbus's reply timeouts unarmed. */
static dbus_bool_t bus_timeout_add(DBusTimeout *t, void *data) {
        return TRUE;
}

static void bus_timeout_remove(DBusTimeout *t, void *data) {
}

static void bus_functions_dropped(void *data) {
        B.functions_dropped++;
}

static void bus_finalized(void *data) {
        B.finalized = true;
}

static bool bus_watched(DBusWatch *w) {
        for (size_t i = 0; i < B.n_watches; i++)
                if (B.watches[i] == w)
                        return true;
        return false;
}

/* The lent connection's fds, polled with the plugin's. */
static size_t bus_poll_prepare(struct pollfd *pfd, uint64_t *wait) {
        size_t n = 0;

        if (!H.lent)
                return 0;
        if (dbus_connection_get_dispatch_status(H.lent) == DBUS_DISPATCH_DATA_REMAINS)
                *wait = 0;
        for (size_t i = 0; i < B.n_watches; i++) {
                unsigned flags = dbus_watch_get_flags(B.watches[i]);
                if (!dbus_watch_get_enabled(B.watches[i]))
                        continue;
                pfd[n] = (struct pollfd) { .fd = dbus_watch_get_unix_fd(B.watches[i]),
                                           .events = (short)((flags & DBUS_WATCH_READABLE ? POLLIN : 0) |
                                                             (flags & DBUS_WATCH_WRITABLE ? POLLOUT : 0)) };
                B.polled[n++] = B.watches[i];
        }
        return n;
}

/* Its I/O, then its messages: the plugin's handlers among them. */
static void bus_poll_handle(const struct pollfd *pfd, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (pfd[i].revents && bus_watched(B.polled[i]))
                        dbus_watch_handle(B.polled[i], (pfd[i].revents & POLLIN ? DBUS_WATCH_READABLE : 0) |
                                                               (pfd[i].revents & POLLOUT ? DBUS_WATCH_WRITABLE : 0) |
                                                               (pfd[i].revents & POLLERR ? DBUS_WATCH_ERROR : 0) |
                                                               (pfd[i].revents & POLLHUP ? DBUS_WATCH_HANGUP : 0));
        while (H.lent && dbus_connection_get_dispatch_status(H.lent) == DBUS_DISPATCH_DATA_REMAINS)
                PLUGIN_CALL(dbus_connection_dispatch(H.lent));
}
#else
static size_t bus_poll_prepare(struct pollfd *pfd, uint64_t *wait) {
        return 0;
}

static void bus_poll_handle(const struct pollfd *pfd, size_t n) {
}
#endif

/* One iteration: waits at most max_usec for the plugin's fds and timers,
 * then dispatches what is due, fd events before timers. What is due is
 * collected first; a source removed by an earlier callback of the same
 * iteration is skipped (the header's promise, kept by the host). */
static void loop_iterate(uint64_t max_usec) {
        struct pollfd pfd[MAX_SOURCES + MAX_BUS_WATCHES];
        uint64_t ids[MAX_SOURCES], due[2 * MAX_SOURCES], now = now_usec(), wait = max_usec;
        uint32_t due_events[2 * MAX_SOURCES];
        size_t n = 0, n_due = 0;

        for (Source *s = H.sources; s; s = s->next)
                if (!s->is_timer) {
                        ASSERT_TRUE(n < MAX_SOURCES);
                        pfd[n] = (struct pollfd) { .fd = s->fd, .events = to_poll(s->events) };
                        ids[n++] = s->id;
                } else if (s->deadline <= now)
                        wait = 0;
                else if (s->deadline != UINT64_MAX && s->deadline - now < wait)
                        wait = s->deadline - now;
        size_t n_bus = bus_poll_prepare(pfd + n, &wait);
        if (poll(pfd, n + n_bus, (int)((wait + 999) / 1000)) < 0)
                ASSERT_EQ(errno, EINTR);
        bus_poll_handle(pfd + n, n_bus);
        for (size_t i = 0; i < n; i++)
                if (pfd[i].revents) {
                        due_events[n_due] = from_poll(pfd[i].revents);
                        due[n_due++] = ids[i];
                }
        now = now_usec();
        for (Source *s = H.sources; s; s = s->next)
                if (s->is_timer && s->deadline <= now) {
                        ASSERT_TRUE(n_due < 2 * MAX_SOURCES);
                        due[n_due++] = s->id;
                }
        for (size_t i = 0; i < n_due; i++) {
                Source *s = source_by_id(due[i]);
                /* Removed since: never called again; re-armed since: not yet. */
                if (!s || (s->is_timer && s->deadline > now))
                        continue;
                plugin_enter();
                if (s->is_timer) {
                        s->deadline = UINT64_MAX; /* one-shot */
                        s->on_timer(s->userdata);
                } else
                        s->on_fd(s->userdata, s->fd, due_events[i]);
                plugin_leave();
        }
}

/* Runs the loop until done() holds, WAIT_USEC at most. */
static void loop_until(bool (*done)(void), const char *what) {
        uint64_t end = now_usec() + WAIT_USEC, now;

        while (!done()) {
                if ((now = now_usec()) >= end)
                        TEST_FAIL("still waiting for %s after %llu s", what, WAIT_USEC / 1000000);
                loop_iterate(end - now);
        }
}

/* Runs the loop for usec: the plugin's later timers (settling, trimming,
 * retries) fire too. */
static void loop_for(uint64_t usec) {
        uint64_t end = now_usec() + usec, now;

        while ((now = now_usec()) < end)
                loop_iterate(end - now);
}

/* ---- what the test reads ---- */

/* The index of the first log line at or after from with this priority
 * that contains text, or -1. */
static ssize_t log_find(size_t from, int priority, const char *text) {
        for (size_t i = from; i < H.n_logs; i++)
                if (H.logs[i].priority == priority && strstr(H.logs[i].message, text))
                        return (ssize_t)i;
        return -1;
}

static size_t wait_from;
static int wait_priority;
static const char *wait_text;
static bool logged_wait_text(void) {
        return log_find(wait_from, wait_priority, wait_text) >= 0;
}

/* Runs the loop until the plugin logs text with priority, after line from. */
static void loop_until_logged(size_t from, int priority, const char *text) {
        wait_from = from;
        wait_priority = priority;
        wait_text = text;
        loop_until(logged_wait_text, text);
}

static bool table_has(const char *text) {
        char *t = kernel_table();
        bool found = t && strstr(t, text);

        free(t);
        return found;
}

/* Does one of this process's fds hold the socket of this inode? */
static bool holds_socket(unsigned long inode) {
        char link[64], path[300], target[64];
        DIR *d = opendir("/proc/self/fd");
        bool found = false;

        ASSERT_NOT_NULL(d);
        snprintf(link, sizeof(link), "socket:[%lu]", inode);
        for (struct dirent *e; !found && (e = readdir(d));) {
                ssize_t n;
                snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
                n = readlink(path, target, sizeof(target) - 1);
                found = n > 0 && (target[n] = 0, strcmp(target, link) == 0);
        }
        closedir(d);
        return found;
}

/* NETLINK_ROUTE sockets among this process's fds (/proc/self/net/netlink
 * lists the namespace's netlink sockets with their protocol and inode). */
static unsigned route_sockets(void) {
        FILE *f = fopen("/proc/self/net/netlink", "re");
        char line[256];
        unsigned n = 0;

        ASSERT_NOT_NULL(f);
        while (fgets(line, sizeof(line), f)) {
                unsigned long inode;
                int proto;
                if (sscanf(line, "%*s %d %*s %*s %*s %*s %*s %*s %*s %lu", &proto, &inode) == 2 &&
                    proto == NETLINK_ROUTE && holds_socket(inode))
                        n++;
        }
        fclose(f);
        return n;
}

/* ---- the host's life with the plugin ---- */

typedef struct Host {
        const hep_plugin_ops *ops;
        hep_host *host;
        char *strings; /* the page holding the host's strings */
        hep_plugin *p;
} Host;

static size_t round8(size_t n) {
        return (n + 7) & ~(size_t)7;
}

/* A hep_host of size bytes (smaller, equal or larger than this header's),
 * followed by a page the plugin must not read; a larger one's unknown
 * fields hold poison. Its strings are on a page of their own. */
static hep_host *host_new(size_t size, const char *bus, char **ret_strings) {
        size_t page = (size_t)sysconf(_SC_PAGESIZE);
        char *s = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        hep_host *host = before_guard("a field past the hep_host's size", round8(size));

        ASSERT_TRUE(s != MAP_FAILED);
        ASSERT_TRUE(page >= 4096);
        snprintf(s, 256, "%s", NODE);
        snprintf(s + 256, 768, "dir:%s", H.dir);
        snprintf(s + 1024, 1024, "%s", bus);
        snprintf(s + 2048, 1024, "conformance-host 1");
        hep_host h = {
                .abi_version = HEP_PLUGIN_ABI_VERSION,
                .flags = HEP_HOST_TRACKS_LINKS,
                .host_data = &H,
                .watch_add = host_watch_add,
                .watch_update = host_watch_update,
                .watch_remove = host_watch_remove,
                .timer_add = host_timer_add,
                .timer_rearm = host_timer_rearm,
                .timer_remove = host_timer_remove,
                .log = host_log,
                .ready = host_ready,
                .nodename = s,
                .datastore = s + 256,
                .bus = s + 1024,
                .dbus_connection = H.lent,
                .reloaded = host_reloaded,
                .host_name = s + 2048,
        };
        memset(host, 0xa5, round8(size));
        memcpy(host, &h, size < sizeof(h) ? size : sizeof(h));
        host->size = size;
        *ret_strings = s;
        return host;
}

/* A link event of size bytes; its name lives for the call only (the
 * test overwrites it right after), and nothing past size is readable. */
static void push_link(Host *h, size_t size, const char *name, bool removed) {
        char buf[IFNAMSIZ];
        hep_link *l = before_guard("a field past the hep_link's size", round8(size));
        hep_link v = { .size = size, .ifindex = (int)if_nametoindex(name), .name = buf, .oper_up = true, .removed = removed };

        ASSERT_TRUE(v.ifindex > 0);
        snprintf(buf, sizeof(buf), "%s", name);
        memset(l, 0xa5, round8(size));
        memcpy(l, &v, size < sizeof(v) ? size : sizeof(v));
        PLUGIN_CALL(h->ops->link_event(h->p, l));
        memset(buf, 'X', sizeof(buf) - 1);
        before_guard_free(l);
}

static void push_address(Host *h, const char *ifname, const char *addr, bool removed) {
        uint8_t bytes[4];
        hep_address *a = before_guard("a field past the hep_address's size", round8(HEP_ADDRESS_SIZE_V1));

        ASSERT_EQ(inet_pton(AF_INET, addr, bytes), 1);
        *a = (hep_address) { .size = HEP_ADDRESS_SIZE_V1, .ifindex = (int)if_nametoindex(ifname), .family = AF_INET,
                             .address = bytes, .removed = removed };
        PLUGIN_CALL(h->ops->address_event(h->p, a));
        memset(bytes, 0xff, sizeof(bytes));
        before_guard_free(a);
}

/* A hep_link and a hep_address smaller than version 1's: refused with an
 * error logged, and not a field read past their size. */
static void push_too_small(Host *h) {
        size_t *size = before_guard("a field past a too small hep_link's or hep_address's size", sizeof(size_t));
        size_t from = H.n_logs;

        *size = HEP_LINK_SIZE_V1 - 1;
        PLUGIN_CALL(h->ops->link_event(h->p, (const hep_link *)size));
        ASSERT_TRUE(log_find(from, LOG_ERR, "hep_link smaller than ABI version 1's") >= 0);
        *size = HEP_ADDRESS_SIZE_V1 - 1;
        PLUGIN_CALL(h->ops->address_event(h->p, (const hep_address *)size));
        ASSERT_TRUE(log_find(from, LOG_ERR, "hep_address smaller than ABI version 1's") >= 0);
        ASSERT_EQ(H.n_logs, from + 2);
        before_guard_free(size);
}

static bool ready_once(void) {
        return H.ready_calls == 1;
}

static unsigned reloaded_wanted;
static bool reloaded_enough(void) {
        return H.reloaded_calls >= reloaded_wanted;
}

/* init: the host's strings are copied (reading them later faults), and
 * nothing is committed before the host's inventory is whole. */
static void host_start(Host *h, size_t size, const char *bus) {
        size_t page = (size_t)sysconf(_SC_PAGESIZE);
        int r;

        H.ready_calls = H.reloaded_calls = 0;
        H.sync_done = false;
        h->host = host_new(size, bus, &h->strings);
        PLUGIN_CALL(r = h->ops->init(h->host, &h->p));
        ASSERT_OK(r);
        ASSERT_NOT_NULL(h->p);
        guard_set("a string of the hep_host's, after init", h->strings, page);
        ASSERT_EQ(H.ready_calls, 0);
        ASSERT_FALSE(table_has("hostendpoint"));
        /* The host tracks links: no netlink socket of the plugin's own. */
        ASSERT_EQ(route_sockets(), 0);
}

/* The pushed links and address are what the plugin enforces on: the
 * HEP named by interface is bound to veth0's index, the one named by
 * address to veth1, which holds it; ready follows the first commit. */
static void host_sync(Host *h) {
        size_t from = H.n_logs;

        push_link(h, HEP_LINK_SIZE_V1, "veth0", false);          /* exactly version 1's */
        push_link(h, sizeof(hep_link) + 16, "veth1", false);     /* a newer host's */
        push_address(h, "veth1", "10.88.0.2", false);
        push_too_small(h);
        ASSERT_EQ(H.ready_calls, 0);
        H.sync_done = true;
        PLUGIN_CALL(h->ops->sync_done(h->p));
        loop_until(ready_once, "ready");
        ASSERT_TRUE(log_find(from, LOG_INFO, "HostEndpoint 'by-name' enforced: enforced on veth0") >= 0);
        ASSERT_TRUE(log_find(from, LOG_INFO, "HostEndpoint 'by-address' enforced: enforced on veth1") >= 0);
        ASSERT_TRUE(table_has(VETH0_DISPATCHED));
        ASSERT_TRUE(table_has(VETH1_FILTERED));
}

/* An address removed and added again: the HEP bound by it waits, then is
 * enforced again, in the kernel too. */
static void host_readdress(Host *h) {
        size_t from = H.n_logs;

        push_address(h, "veth1", "10.88.0.2", true);
        loop_until_logged(from, LOG_INFO, "HostEndpoint 'by-address' waiting: no interface has the address 10.88.0.2");
        ASSERT_FALSE(table_has(VETH1_FILTERED));
        from = H.n_logs;
        push_address(h, "veth1", "10.88.0.2", false);
        loop_until_logged(from, LOG_INFO, "HostEndpoint 'by-address' enforced: enforced on veth1");
        ASSERT_TRUE(table_has(VETH1_FILTERED));
}

/* reloaded comes after each reload, never inside it, if the host has it;
 * ready never again. */
static void host_reload(Host *h) {
        bool has_reloaded = HEP_HOST_HAS(h->host, reloaded);

        for (unsigned i = 1; i <= 2; i++) {
                size_t from = H.n_logs;
                int r;

                H.in_reload = true;
                PLUGIN_CALL(r = h->ops->reload(h->p));
                H.in_reload = false;
                ASSERT_OK(r);
                ASSERT_EQ(H.reloaded_calls, has_reloaded ? i - 1 : 0);
                if (has_reloaded) {
                        reloaded_wanted = i;
                        loop_until(reloaded_enough, "reloaded");
                } else
                        loop_until_logged(from, LOG_DEBUG, "Committed in");
        }
        ASSERT_EQ(H.reloaded_calls, has_reloaded ? 2 : 0);
        ASSERT_EQ(H.ready_calls, 1);
}

/* shutdown: every watch and timer removed by the time it returns, and the
 * rules stay in the kernel. */
static void host_stop(Host *h) {
        unsigned reloaded = H.reloaded_calls;

        H.in_shutdown = true;
        PLUGIN_CALL(h->ops->shutdown(h->p));
        H.in_shutdown = false;
        for (Source *s = H.sources; s; s = s->next)
                printf("# still added after shutdown: %s %" PRIu64 "\n", s->is_timer ? "timer" : "watch", s->id);
        if (H.sources)
                TEST_FAIL("shutdown returned with watches or timers still added");
        ASSERT_EQ(H.ready_calls, 1);
        ASSERT_EQ(H.reloaded_calls, reloaded);
        ASSERT_TRUE(table_has(VETH0_DISPATCHED));
        ASSERT_TRUE(table_has(VETH1_FILTERED));
        while (H.removed) {
                Source *s = H.removed;
                H.removed = s->next;
                free(s);
        }
        before_guard_free(h->host);
        guard_drop(h->strings);
}

/* One host's life: start, the first commit, events, reloads, a while of
 * the plugin's own timers, stop. */
static void host_life(const hep_plugin_ops *ops, size_t size, const char *bus) {
        Host h = { .ops = ops };

        /* Each host starts from an empty kernel. */
        ASSERT_EQ(nft_run_cmd_from_buffer(H.nft, "add table inet hostendpoint; delete table inet hostendpoint"), 0);
        host_start(&h, size, bus);
        host_sync(&h);
        host_readdress(&h);
        host_reload(&h);
        /* Settling, trimming, the D-Bus reconnection: timers of a second. */
        loop_for(1500 * 1000);
        ASSERT_EQ(route_sockets(), 0);
        host_stop(&h);
}

/* A host newer than this header: its hep_host is larger; reloaded and
 * host_name are read; D-Bus off. */
static void test_newer_host(const hep_plugin_ops *ops) {
        host_life(ops, sizeof(hep_host) + 16, "none");
        ASSERT_TRUE(log_find(0, LOG_INFO, "D-Bus is off (--bus none)") >= 0);
}

/* A host of version 1: nothing past its hep_host's size is read (there is
 * no readable byte there); a bus that is not there, retried. */
static void test_v1_host(const hep_plugin_ops *ops) {
        size_t from = H.n_logs;
        char bus[128];

        snprintf(bus, sizeof(bus), "unix:path=%s/no-bus", H.dir);
        host_life(ops, HEP_HOST_SIZE_V1, bus);
#if HEP_WITH_DBUS
        ASSERT_TRUE(log_find(from, LOG_WARNING, "D-Bus is off: cannot connect") >= 0);
#endif
        (void)from;
}

#if HEP_WITH_DBUS
#define BUS_NAME "org.projectcalico.HostEndpoint1"
#define BUS_ROOT_PATH "/org/projectcalico/HostEndpoint1"

/* A dbus-daemon of the test's own, with the session bus's policy (any
 * name may be owned), on /tmp (the test's tmpfs); it dies with the test. */
static bool bus_start(void) {
        char *nl;
        ssize_t n;
        int p[2];

        if (access("/usr/bin/dbus-daemon", X_OK) < 0)
                return false;
        ASSERT_OK(pipe2(p, O_CLOEXEC));
        B.daemon = fork();
        ASSERT_OK(B.daemon);
        if (B.daemon == 0) {
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (dup2(p[1], 3) < 0 || fcntl(3, F_SETFD, 0) < 0)
                        _exit(127);
                execl("/usr/bin/dbus-daemon", "dbus-daemon", "--session", "--nofork", "--address=unix:path=/tmp/bus",
                      "--print-address=3", (char *)NULL);
                _exit(127);
        }
        close(p[1]);
        n = read(p[0], B.address, sizeof(B.address) - 1);
        close(p[0]);
        ASSERT_TRUE(n > 0);
        B.address[n] = 0;
        nl = strchr(B.address, '\n');
        if (nl)
                *nl = 0;
        return true;
}

static void bus_stop(void) {
        int status;

        ASSERT_OK(kill(B.daemon, SIGTERM));
        ASSERT_EQ(waitpid(B.daemon, &status, 0), B.daemon);
}

static DBusConnection *bus_connect(void) {
        DBusError e = DBUS_ERROR_INIT;
        DBusConnection *c = dbus_connection_open_private(B.address, &e);

        if (!c || !dbus_bus_register(c, &e))
                TEST_FAIL("cannot connect to the test's bus %s: %s", B.address, e.message);
        return c;
}

/* Who owns name, as the bus daemon says ("" if nobody). */
static char *bus_owner(DBusConnection *client, const char *name) {
        DBusError e = DBUS_ERROR_INIT;
        DBusMessage *m = dbus_message_new_method_call(DBUS_SERVICE_DBUS, DBUS_PATH_DBUS, DBUS_INTERFACE_DBUS,
                                                      "GetNameOwner");
        DBusMessage *reply;
        const char *owner = "";
        char *r;

        ASSERT_NOT_NULL(m);
        ASSERT_TRUE(dbus_message_append_args(m, DBUS_TYPE_STRING, &name, DBUS_TYPE_INVALID));
        reply = dbus_connection_send_with_reply_and_block(client, m, 5000, &e);
        if (reply)
                ASSERT_TRUE(dbus_message_get_args(reply, &e, DBUS_TYPE_STRING, &owner, DBUS_TYPE_INVALID));
        r = strdup(owner);
        ASSERT_NOT_NULL(r);
        if (reply)
                dbus_message_unref(reply);
        dbus_message_unref(m);
        dbus_error_free(&e);
        return r;
}

static bool bus_path_registered(const char *path) {
        void *data = NULL;

        ASSERT_TRUE(dbus_connection_get_object_path_data(H.lent, path, &data));
        return data != NULL;
}

/* A host lends its own connection, which it dispatches: the plugin takes
 * its own reference and serves its name and objects on it, drops them at
 * shutdown (the name released, the objects unregistered) and never closes
 * the connection nor replaces the host's watch and timeout functions. */
static void test_lent_connection(const hep_plugin_ops *ops) {
        DBusConnection *lent, *client;
        Host h = { .ops = ops };
        dbus_int32_t slot = -1;
        char *owner;

        if (!bus_start()) {
                printf("# skipped the lent D-Bus connection: no /usr/bin/dbus-daemon\n");
                return;
        }
        lent = bus_connect();
        client = bus_connect();
        ASSERT_TRUE(dbus_connection_set_watch_functions(lent, bus_watch_add, bus_watch_remove, bus_watch_toggled, NULL,
                                                        bus_functions_dropped));
        ASSERT_TRUE(dbus_connection_set_timeout_functions(lent, bus_timeout_add, bus_timeout_remove, NULL, NULL,
                                                          bus_functions_dropped));
        /* Freed with the connection: tells when the last reference is gone. */
        ASSERT_TRUE(dbus_connection_allocate_data_slot(&slot));
        ASSERT_TRUE(dbus_connection_set_data(lent, slot, &B, bus_finalized));
        H.lent = lent;
        ASSERT_EQ(nft_run_cmd_from_buffer(H.nft, "add table inet hostendpoint; delete table inet hostendpoint"), 0);
        host_start(&h, sizeof(hep_host), "none");
        host_sync(&h);
        loop_until_logged(0, LOG_INFO, "D-Bus: serving " BUS_NAME);
        owner = bus_owner(client, BUS_NAME);
        ASSERT_STREQ(owner, dbus_bus_get_unique_name(lent));
        free(owner);
        ASSERT_TRUE(bus_path_registered(BUS_ROOT_PATH));
        host_reload(&h);
        host_stop(&h);
        ASSERT_FALSE(bus_path_registered(BUS_ROOT_PATH));
        /* Asked on the lent connection: the bus answers after it has
         * handled what the plugin sent on it. */
        owner = bus_owner(lent, BUS_NAME);
        ASSERT_STREQ(owner, "");
        free(owner);
        ASSERT_TRUE(dbus_connection_get_is_connected(lent));
        ASSERT_EQ(B.functions_dropped, 0);
        /* Our reference is the last (one the plugin dropped twice would
         * be a use after free before this). */
        H.lent = NULL;
        dbus_connection_close(lent);
        dbus_connection_unref(lent);
        if (!B.finalized)
                TEST_FAIL("the plugin kept a reference to the lent connection after shutdown");
        dbus_connection_free_data_slot(&slot);
        dbus_connection_close(client);
        dbus_connection_unref(client);
        bus_stop();
}
#endif

/* ---- the test's world ---- */

static const hep_plugin_ops *load(const char *path) {
        void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        hep_plugin_entry_fn entry;

        if (!dl)
                TEST_FAIL("dlopen %s: %s", path, dlerror());
        entry = (hep_plugin_entry_fn)dlsym(dl, HEP_PLUGIN_ENTRY_SYMBOL);
        ASSERT_NOT_NULL(entry);
        return entry(HEP_PLUGIN_ABI_VERSION);
}

/* veth0 and veth1, the links the host tells the plugin of. */
static void make_links(void) {
        struct nl_sock *sk = nl_socket_alloc();

        ASSERT_NOT_NULL(sk);
        ASSERT_EQ(nl_connect(sk, NETLINK_ROUTE), 0);
        ASSERT_EQ(rtnl_link_veth_add(sk, "veth0", "veth1", getpid()), 0);
        /* What the plugin must not have, route_sockets() sees. */
        ASSERT_EQ(route_sockets(), 1);
        nl_socket_free(sk);
        ASSERT_EQ(route_sockets(), 0);
}

static void make_datastore(void) {
        char path[128];
        FILE *f;

        snprintf(H.dir, sizeof(H.dir), "/tmp/hep-abi-XXXXXX");
        ASSERT_NOT_NULL(mkdtemp(H.dir));
        snprintf(path, sizeof(path), "%s/resources.yaml", H.dir);
        f = fopen(path, "we");
        ASSERT_NOT_NULL(f);
        ASSERT_TRUE(fputs(RESOURCES, f) >= 0);
        ASSERT_EQ(fclose(f), 0);
}

int main(int argc, char **argv) {
        struct sigaction sa = { .sa_sigaction = on_segv, .sa_flags = SA_SIGINFO };
        const hep_plugin_ops *ops;

        if (argc != 2) {
                fprintf(stderr, "usage: test-plugin-host PATH-TO-hostendpoint.so\n");
                return 2;
        }
        if (geteuid() != 0 || unshare(CLONE_NEWNET | CLONE_NEWNS) < 0) {
                printf("# skipped: needs root, for namespaces of its own and nftables\n");
                return 77;
        }
        /* /tmp, for the datastore, is a tmpfs of this mount namespace's. */
        ASSERT_OK(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL));
        ASSERT_OK(mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700"));
        setvbuf(stdout, NULL, _IOLBF, 0);
        ASSERT_OK(sigaction(SIGSEGV, &sa, NULL));
        H.thread = pthread_self();
        H.nft = nft_ctx_new(NFT_CTX_DEFAULT);
        ASSERT_NOT_NULL(H.nft);
        ASSERT_OK(nft_ctx_buffer_output(H.nft));
        ASSERT_OK(nft_ctx_buffer_error(H.nft));
        make_links();
        make_datastore();
        ops = load(argv[1]);
        ASSERT_NOT_NULL(ops);

        test_newer_host(ops);
        printf("ok - test_newer_host\n");
        test_v1_host(ops);
        printf("ok - test_v1_host\n");
#if HEP_WITH_DBUS
        test_lent_connection(ops);
        printf("ok - test_lent_connection\n");
#endif

        for (size_t i = 0; i < H.n_logs; i++)
                free(H.logs[i].message);
        free(H.logs);
        nft_ctx_free(H.nft);
        return 0;
}
