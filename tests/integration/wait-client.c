/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A WaitInterface caller for dbus.sh: sends N calls on one connection
 * without waiting for them, counts the replies that arrive within
 * LINGER_MS, prints the counts and exits, leaving the bus with the other
 * calls unanswered (as a caller that crashed or was killed would).
 *
 *   wait-client ADDRESS N IFNAME TIMEOUT_MS LINGER_MS
 *
 * prints "ok A limits B timeout C other D". */
#include <dbus/dbus.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BUS_NAME "org.projectcalico.HostEndpoint1"

static long long now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv) {
        unsigned ok = 0, limits = 0, timeout = 0, other = 0, answered = 0;
        DBusConnection *c;
        DBusError e;
        long long deadline;
        unsigned n;
        dbus_uint32_t timeout_ms;

        if (argc != 6) {
                fprintf(stderr, "usage: wait-client ADDRESS N IFNAME TIMEOUT_MS LINGER_MS\n");
                return 2;
        }
        n = (unsigned)strtoul(argv[2], NULL, 10);
        timeout_ms = (dbus_uint32_t)strtoul(argv[4], NULL, 10);
        dbus_error_init(&e);
        c = dbus_connection_open_private(argv[1], &e);
        if (!c || !dbus_bus_register(c, &e)) {
                fprintf(stderr, "wait-client: %s\n", e.message ? e.message : "cannot connect");
                return 1;
        }
        for (unsigned i = 0; i < n; i++) {
                DBusMessage *m = dbus_message_new_method_call(BUS_NAME, "/org/projectcalico/HostEndpoint1",
                                                              BUS_NAME ".Manager", "WaitInterface");
                const char *ifname = argv[3];

                if (!m || !dbus_message_append_args(m, DBUS_TYPE_STRING, &ifname, DBUS_TYPE_UINT32, &timeout_ms,
                                                    DBUS_TYPE_INVALID) ||
                    !dbus_connection_send(c, m, NULL))
                        return 1;
                dbus_message_unref(m);
        }
        dbus_connection_flush(c);
        deadline = now_ms() + strtol(argv[5], NULL, 10);
        while (answered < n) {
                long long left = deadline - now_ms();
                DBusMessage *m;

                if (left <= 0 || !dbus_connection_read_write(c, (int)left))
                        break;
                while ((m = dbus_connection_pop_message(c))) {
                        int type = dbus_message_get_type(m);
                        const char *name = dbus_message_get_error_name(m);

                        if (type == DBUS_MESSAGE_TYPE_METHOD_RETURN)
                                ok++, answered++;
                        else if (type == DBUS_MESSAGE_TYPE_ERROR) {
                                answered++;
                                if (strcmp(name, DBUS_ERROR_LIMITS_EXCEEDED) == 0)
                                        limits++;
                                else if (strcmp(name, BUS_NAME ".Error.Timeout") == 0)
                                        timeout++;
                                else
                                        other++;
                        }
                        dbus_message_unref(m);
                }
        }
        printf("ok %u limits %u timeout %u other %u\n", ok, limits, timeout, other);
        dbus_connection_close(c);
        dbus_connection_unref(c);
        return 0;
}
