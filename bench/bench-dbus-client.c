/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A D-Bus client that times hostendpoint's service (run by
 * bench/bench-dbus.sh, inside the daemon's network namespace):
 *
 *   bench-dbus-client ADDRESS managed N
 *       N GetManagedObjects round trips: call sent → whole reply received.
 *   bench-dbus-client ADDRESS hotplug N PREFIX PEER_PID
 *       N times: a veth PREFIX<i> (a HostEndpoint waits for that name) is
 *       created over netlink, its peer in the network namespace of process
 *       PEER_PID (so one interface appears here, as a real hot-plug); the
 *       time from the kernel's acknowledgement to the PropertiesChanged
 *       that says its endpoint is enforced.
 *
 * Prints one line of percentiles per mode. */
#include <dbus/dbus.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench-util.h"

#define BUS_NAME "org.projectcalico.HostEndpoint1"
#define ROOT "/org/projectcalico/HostEndpoint1"

static void report(const char *what, double *v, size_t n) {
        qsort(v, n, sizeof(double), compare_doubles);
        printf("%s: n=%zu p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms\n", what, n, v[n / 2], v[n * 9 / 10],
               v[n * 99 / 100 < n ? n * 99 / 100 : n - 1], v[n - 1]);
}

static int managed(DBusConnection *c, size_t n) {
        double *t = calloc(n, sizeof(double));
        size_t objects = 0, bytes = 0;

        for (size_t i = 0; i < n; i++) {
                DBusMessage *m = dbus_message_new_method_call(BUS_NAME, ROOT, "org.freedesktop.DBus.ObjectManager",
                                                              "GetManagedObjects");
                DBusError e;
                DBusMessageIter it, arr;
                double t0 = now_ms();

                dbus_error_init(&e);
                DBusMessage *r = dbus_connection_send_with_reply_and_block(c, m, 10000, &e);
                t[i] = now_ms() - t0;
                dbus_message_unref(m);
                if (!r) {
                        fprintf(stderr, "GetManagedObjects: %s\n", e.message);
                        return 1;
                }
                /* Count the objects once, outside the timing. */
                if (i == 0 && dbus_message_iter_init(r, &it)) {
                        char *buf;
                        int len;
                        dbus_message_iter_recurse(&it, &arr);
                        for (; dbus_message_iter_get_arg_type(&arr) != DBUS_TYPE_INVALID; dbus_message_iter_next(&arr))
                                objects++;
                        if (dbus_message_marshal(r, &buf, &len)) {
                                bytes = (size_t)len;
                                dbus_free(buf);
                        }
                }
                dbus_message_unref(r);
        }
        printf("GetManagedObjects: %zu objects, %zu kB reply\n", objects, bytes / 1024);
        report("GetManagedObjects round trip", t, n);
        free(t);
        return 0;
}

/* Waits for the PropertiesChanged of path carrying State "enforced". */
static int wait_enforced(DBusConnection *c, const char *path, double deadline) {
        while (now_ms() < deadline) {
                DBusMessage *m;

                dbus_connection_read_write(c, 10);
                while ((m = dbus_connection_pop_message(c))) {
                        bool hit = false;
                        if (dbus_message_is_signal(m, "org.freedesktop.DBus.Properties", "PropertiesChanged") &&
                            strcmp(dbus_message_get_path(m), path) == 0) {
                                DBusMessageIter it, arr, entry, var;
                                dbus_message_iter_init(m, &it);
                                dbus_message_iter_next(&it);
                                dbus_message_iter_recurse(&it, &arr);
                                for (; dbus_message_iter_get_arg_type(&arr) == DBUS_TYPE_DICT_ENTRY;
                                     dbus_message_iter_next(&arr)) {
                                        const char *k, *v;
                                        dbus_message_iter_recurse(&arr, &entry);
                                        dbus_message_iter_get_basic(&entry, &k);
                                        dbus_message_iter_next(&entry);
                                        dbus_message_iter_recurse(&entry, &var);
                                        if (strcmp(k, "State") == 0 && dbus_message_iter_get_arg_type(&var) == DBUS_TYPE_STRING) {
                                                dbus_message_iter_get_basic(&var, &v);
                                                hit = strcmp(v, "enforced") == 0;
                                        }
                                }
                        }
                        dbus_message_unref(m);
                        if (hit)
                                return 0;
                }
        }
        return -1;
}

static void escape(const char *name, char *out) {
        static const char hex[] = "0123456789abcdef";

        for (; *name; name++) {
                unsigned char ch = (unsigned char)*name;
                if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'))
                        *out++ = (char)ch;
                else {
                        *out++ = '_';
                        *out++ = hex[ch >> 4];
                        *out++ = hex[ch & 15];
                }
        }
        *out = 0;
}

static int hotplug(DBusConnection *c, size_t n, const char *prefix, pid_t peer_ns_pid) {
        struct nl_sock *sk = nl_socket_alloc();
        double *t = calloc(n, sizeof(double));
        DBusError e;

        dbus_error_init(&e);
        dbus_bus_add_match(c, "type='signal',sender='" BUS_NAME "',interface='org.freedesktop.DBus.Properties'", &e);
        if (dbus_error_is_set(&e) || !sk || nl_connect(sk, NETLINK_ROUTE) < 0) {
                fprintf(stderr, "cannot subscribe or open netlink\n");
                return 1;
        }
        for (size_t i = 0; i < n; i++) {
                char name[64], peer[64], label[256], path[512];
                snprintf(name, sizeof(name), "%s%zu", prefix, i);
                snprintf(peer, sizeof(peer), "%sp%zu", prefix, i);
                escape(name, label);
                snprintf(path, sizeof(path), ROOT "/endpoint/%s", label);
                double t0 = now_ms();
                int r = rtnl_link_veth_add(sk, name, peer, peer_ns_pid);
                double t1 = now_ms();
                if (r < 0) {
                        fprintf(stderr, "cannot create %s: %s\n", name, nl_geterror(r));
                        return 1;
                }
                if (wait_enforced(c, path, t1 + 5000) < 0) {
                        fprintf(stderr, "no PropertiesChanged for %s within 5 s\n", path);
                        return 1;
                }
                (void)t0;
                t[i] = now_ms() - t1;
                /* One hot-plug at a time, as a user would (a storm is
                 * batched on purpose, see bench-daemon.sh): let the daemon
                 * settle, dropping what it says meanwhile. */
                double until = now_ms() + 30;
                while (now_ms() < until) {
                        DBusMessage *m;
                        dbus_connection_read_write(c, 5);
                        while ((m = dbus_connection_pop_message(c)))
                                dbus_message_unref(m);
                }
        }
        report("hot-plug (link created) -> PropertiesChanged State=enforced seen by a client", t, n);
        free(t);
        nl_socket_free(sk);
        return 0;
}

int main(int argc, char **argv) {
        DBusError e;
        DBusConnection *c;

        if (argc < 4) {
                fprintf(stderr, "usage: %s ADDRESS managed N | ADDRESS hotplug N PREFIX PEER_PID\n", argv[0]);
                return 2;
        }
        dbus_error_init(&e);
        c = dbus_connection_open_private(argv[1], &e);
        if (!c || !dbus_bus_register(c, &e)) {
                fprintf(stderr, "cannot connect to %s: %s\n", argv[1], e.message);
                return 1;
        }
        if (strcmp(argv[2], "managed") == 0)
                return managed(c, strtoul(argv[3], NULL, 10));
        if (strcmp(argv[2], "hotplug") == 0 && argc >= 6)
                return hotplug(c, strtoul(argv[3], NULL, 10), argv[4], (pid_t)strtol(argv[5], NULL, 10));
        fprintf(stderr, "unknown mode %s\n", argv[2]);
        return 2;
}
