/* SPDX-License-Identifier: MIT */
/* hostendpoint plugin ABI: how a network daemon hosts hostendpoint.so.
 *
 * The host loads the plugin with dlopen(), looks up HEP_PLUGIN_ENTRY_SYMBOL
 * and calls it with the ABI version it was built against. The plugin
 * returns its operations, or NULL if it cannot serve that version.
 *
 * The host lends the plugin its main loop (fd watches and timers), a
 * logger, the node name and, optionally, a D-Bus connection. The plugin
 * never exits the process and never runs a loop of its own: every I/O
 * source is an fd the host watches and a callback it calls. It never waits
 * on the network, on another process or on a lock. What it does on the
 * loop thread that may take time is local file I/O and nftables
 * transactions: re-reading the datastore files that changed (at most
 * 16 MiB each), a full ruleset commit (the first, after a reload or a
 * foreign change: about 0.6 s for 15,000 rules, milliseconds for a few
 * hundred; later commits send only what changed), and, for a D-Bus Apply
 * or Delete, one write: on a directory datastore a file written and
 * fsync()ed with its directory (milliseconds on a local disk), on an etcd
 * datastore one transaction, which waits for etcd at most 2 s (etcd's
 * lists and watches themselves run on fd watches and timers).
 *
 * Lifetimes and threads, the rules both sides keep:
 * - One thread: the host calls the plugin's operations, and the callbacks
 *   the plugin registered, on its loop thread only, never from a signal
 *   handler, and never while a call into the host is still running (no
 *   re-entry). The plugin calls the host's functions on that thread only,
 *   from inside those calls and callbacks.
 * - hep_host: read by init; its function pointers and host_data are used
 *   until shutdown returns, so the struct must outlive the plugin. Its
 *   strings (nodename, datastore, bus, host_name) are copied at init.
 * - Watches and timers: a handle is valid from its *_add until its
 *   *_remove; the plugin removes every one it added before shutdown
 *   returns, and keeps a watched fd open until its watch is removed. A
 *   callback may remove its own watch or timer, or any other, and add new
 *   ones; a removed one is never called again, even if its event was
 *   already pending in that loop iteration.
 * - log's message, and a hep_link's or hep_address's fields, are valid for
 *   the call only.
 * - dbus_connection: the plugin takes its own reference, hooks its
 *   handlers into the connection (its object path and bus name) and drops
 *   both at shutdown (the path unregistered, the name released); it never
 *   closes the connection, and never sets the connection's watch or
 *   timeout functions (the host dispatches it).
 * - ready: called at most once, after the first commit, which may be
 *   inside init (with HEP_HOST_TRACKS_LINKS: not before sync_done);
 *   reloaded: once per reload, later, never inside reload: after the
 *   commit that follows the datastore's re-read (on etcd, once the fresh
 *   list has answered; -EIO if the datastore could not be read, the rules
 *   in force kept), or after the commit's failure. Neither is called
 *   from shutdown.
 * - shutdown: the plugin's last call; the kernel rules stay in force.
 *
 * A host that already tracks network interfaces may push link and address
 * events (link_event, address_event) and set HEP_HOST_TRACKS_LINKS; the
 * plugin then opens no netlink socket of its own.
 *
 * All strings are UTF-8 and owned by the caller; the plugin copies what it
 * keeps. Structures carry their size, so both sides can grow them: a field
 * added after ABI version 1 is read only if HEP_HAS() says the other side
 * knows it; the plugin refuses a hep_host, hep_link or hep_address
 * smaller than version 1's.
 *
 * Version 1 is frozen: the fields of its structures (up to the *_SIZE_V1
 * below), their meaning and the rules above stay as they are. What may
 * change is only appended: a field at the end of a structure, read only
 * if the other side's size covers it, and a rule for it alone. Anything
 * else would be version 2, which a plugin of version 1 does not serve
 * (its entry point returns NULL). tests/unit/test-plugin-host.c is a
 * minimal host that checks the plugin keeps these promises. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HEP_PLUGIN_ABI_VERSION 1
#define HEP_PLUGIN_ENTRY_SYMBOL "hep_plugin_entry"

/* Does *s (a structure below, whose first member is its size as its
 * sender knows it) have field? */
#define HEP_HAS(s, type, field) ((s)->size >= offsetof(type, field) + sizeof(((type *)0)->field))
#define HEP_HOST_HAS(host, field) HEP_HAS(host, hep_host, field)

/* Events an fd is watched for (as poll/epoll: readable, writable). */
enum {
        HEP_WATCH_IN = 1u << 0,
        HEP_WATCH_OUT = 1u << 1,
        HEP_WATCH_ERR = 1u << 2, /* reported even when not asked for */
        HEP_WATCH_HUP = 1u << 3, /* reported even when not asked for */
};

/* Log priorities are <syslog.h>'s: LOG_ERR (3), LOG_WARNING (4),
 * LOG_NOTICE (5), LOG_INFO (6) and LOG_DEBUG (7). */

typedef struct hep_watch hep_watch; /* host-defined */
typedef struct hep_timer hep_timer; /* host-defined */
typedef struct hep_plugin hep_plugin; /* plugin-defined */

typedef void (*hep_fd_callback)(void *userdata, int fd, uint32_t events);
typedef void (*hep_timer_callback)(void *userdata);

enum {
        HEP_HOST_TRACKS_LINKS = 1u << 0, /* the host calls link_event/address_event */
};

/* What the host lends. Every function is called from the host's loop
 * thread only; none may call back into the plugin synchronously. */
typedef struct hep_host {
        size_t size;          /* sizeof(hep_host) as the host knows it */
        uint32_t abi_version; /* HEP_PLUGIN_ABI_VERSION */
        uint32_t flags;       /* HEP_HOST_* */
        void *host_data;      /* passed back to every function below */

        /* Watch fd for events; *ret identifies the watch. 0 or -errno. */
        int (*watch_add)(void *host_data, int fd, uint32_t events, hep_fd_callback cb, void *userdata,
                         hep_watch **ret);
        int (*watch_update)(void *host_data, hep_watch *w, uint32_t events);
        void (*watch_remove)(void *host_data, hep_watch *w);

        /* A one-shot timer, usec microseconds from now (0: on the next
         * loop iteration, after pending fd events; UINT64_MAX: not armed,
         * until re-armed). Re-arm to repeat. */
        int (*timer_add)(void *host_data, uint64_t usec, hep_timer_callback cb, void *userdata, hep_timer **ret);
        int (*timer_rearm)(void *host_data, hep_timer *t, uint64_t usec);
        void (*timer_remove)(void *host_data, hep_timer *t);

        /* One line, no trailing newline. */
        void (*log)(void *host_data, int priority, const char *message);

        /* Called once, after the first ruleset is in the kernel: the host
         * may now announce readiness (sd_notify READY=1, its bus name). */
        void (*ready)(void *host_data);

        const char *nodename;     /* this node's name, as Calico's */
        const char *datastore;    /* "dir:PATH" or "etcdv3:URL[,URL...]"; NULL: the plugin's default */
        const char *bus;          /* "system", "session", "none" or an address; NULL: system */
        void *dbus_connection;    /* optional DBusConnection* to use instead of opening one */

        /* Optional, and only read if the host's size covers it
         * (HEP_HOST_HAS(host, reloaded)): called once the re-commit that a
         * reload asked for is in the kernel (error 0), or has failed
         * (-errno: the previous rules stay, and it is retried). A host
         * under systemd sends READY=1 then, after RELOADING=1 on the
         * reload itself, so that `systemctl reload` ends when the new rules
         * are in force. */
        void (*reloaded)(void *host_data, int error);

        /* Optional, and only read if the host's size covers it
         * (HEP_HOST_HAS(host, host_name)): the program the plugin runs in
         * and its version, e.g. "connmand 1.41" or "hostendpointd 0.1.0",
         * shown by D-Bus (Manager.Host) and `hepctl status`. NULL or
         * absent: unknown. Copied at init. */
        const char *host_name;

        /* Optional, and only read if the host's size covers it
         * (HEP_HOST_HAS(host, flow_logs)): log flows, with the policy
         * that decided each (hostendpoint.conf's flow-logs). Absent:
         * off. */
        bool flow_logs;
} hep_host;

/* Link and address events, for hosts with HEP_HOST_TRACKS_LINKS. */
typedef struct hep_link {
        size_t size;
        int ifindex;
        const char *name;
        bool oper_up; /* IFF_RUNNING */
        bool removed;
} hep_link;

typedef struct hep_address {
        size_t size;
        int ifindex;
        int family;             /* AF_INET or AF_INET6 */
        const uint8_t *address; /* 4 or 16 bytes */
        bool removed;
} hep_address;

typedef struct hep_plugin_ops {
        size_t size;
        uint32_t abi_version;
        const char *version; /* the plugin's own version string */

        /* Starts the plugin: reads its datastore, learns the interfaces and
         * commits the first ruleset (calling host->ready when it is in the
         * kernel; a failure there is retried, not fatal). 0 or -errno, with
         * the reason logged. The host struct must outlive the plugin. */
        int (*init)(const hep_host *host, hep_plugin **ret);
        /* Stops watching and frees everything. The kernel rules stay. */
        void (*shutdown)(hep_plugin *p);
        /* Re-reads everything (datastore, interfaces) and re-commits. */
        int (*reload)(hep_plugin *p);
        /* Optional (HEP_HOST_TRACKS_LINKS). After the initial dump the host
         * calls sync_done once, so the plugin knows the inventory is whole. */
        void (*link_event)(hep_plugin *p, const hep_link *link);
        void (*address_event)(hep_plugin *p, const hep_address *address);
        void (*sync_done)(hep_plugin *p);
} hep_plugin_ops;

/* What version 1 of each structure holds: the smallest size either side
 * accepts. */
#define HEP_HOST_SIZE_V1 (offsetof(hep_host, dbus_connection) + sizeof(void *))
#define HEP_LINK_SIZE_V1 (offsetof(hep_link, removed) + sizeof(bool))
#define HEP_ADDRESS_SIZE_V1 (offsetof(hep_address, removed) + sizeof(bool))
#define HEP_PLUGIN_OPS_SIZE_V1 (offsetof(hep_plugin_ops, sync_done) + sizeof(void (*)(void)))

typedef const hep_plugin_ops *(*hep_plugin_entry_fn)(uint32_t host_abi_version);

/* The plugin's one exported symbol. */
const hep_plugin_ops *hep_plugin_entry(uint32_t host_abi_version);

#ifdef __cplusplus
}
#endif
