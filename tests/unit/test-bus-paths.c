/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Object paths of the D-Bus service (dbus/objects.c), without a bus: a
 * HostEndpoint's name escaped as systemd escapes path labels, interfaces
 * by index, and every path parsed back to the one object it names, or to
 * none. */
#include "tests.h"
#include "objects.h"

static void path_of(const char *name, const char *expected) {
        char buf[BUS_PATH_MAX];

        bus_endpoint_path(name, buf);
        ASSERT_STREQ(buf, expected);
}

/* Names become one path label each: letters and digits as they are, the
 * rest as _xx; the empty name as "_". */
static void test_endpoint_paths(void) {
        path_of("web", BUS_ENDPOINT_PREFIX "web");
        path_of("web.host", BUS_ENDPOINT_PREFIX "web_2ehost");
        path_of("a-b_c", BUS_ENDPOINT_PREFIX "a_2db_5fc");
        path_of("", BUS_ENDPOINT_PREFIX "_");
        path_of("é", BUS_ENDPOINT_PREFIX "_c3_a9");
}

static int parse(const char *path, BusObjectKind *kind, char *name, int *ifindex) {
        *ifindex = -1;
        name[0] = 0;
        return bus_path_parse(path, kind, name, ifindex);
}

/* Each path names one object, and names it back. */
static void test_parse(void) {
        char name[BUS_PATH_MAX], back[BUS_PATH_MAX];
        BusObjectKind kind;
        int ifindex;

        ASSERT_OK(parse(BUS_ROOT_PATH, &kind, name, &ifindex));
        ASSERT_EQ(kind, BUS_OBJECT_MANAGER);
        ASSERT_OK(parse(BUS_ROOT_PATH "/endpoint", &kind, name, &ifindex));
        ASSERT_EQ(kind, BUS_OBJECT_ENDPOINT_DIR);
        ASSERT_OK(parse(BUS_ROOT_PATH "/interface", &kind, name, &ifindex));
        ASSERT_EQ(kind, BUS_OBJECT_INTERFACE_DIR);

        ASSERT_OK(parse(BUS_ENDPOINT_PREFIX "web_2ehost", &kind, name, &ifindex));
        ASSERT_EQ(kind, BUS_OBJECT_ENDPOINT);
        ASSERT_STREQ(name, "web.host");
        bus_endpoint_path(name, back);
        ASSERT_STREQ(back, BUS_ENDPOINT_PREFIX "web_2ehost");
        ASSERT_OK(parse(BUS_ENDPOINT_PREFIX "_", &kind, name, &ifindex));
        ASSERT_STREQ(name, "");

        ASSERT_OK(parse(BUS_INTERFACE_PREFIX "42", &kind, name, &ifindex));
        ASSERT_EQ(kind, BUS_OBJECT_INTERFACE);
        ASSERT_EQ(ifindex, 42);
        bus_interface_path(42, back);
        ASSERT_STREQ(back, BUS_INTERFACE_PREFIX "42");
}

/* What names no object: other roots, malformed or aliased escapes,
 * indexes that are not positive decimal numbers of an int. */
static void test_parse_refuses(void) {
        static const char *const bad[] = {
                "/",
                "/org/projectcalico",
                BUS_ROOT_PATH "/other",
                BUS_ENDPOINT_PREFIX "bad_zz",     /* not hex */
                BUS_ENDPOINT_PREFIX "bad_2",      /* cut short */
                BUS_ENDPOINT_PREFIX "web_2eho_73t", /* _73 is "s": one path per object */
                BUS_ENDPOINT_PREFIX "a/b",
                BUS_INTERFACE_PREFIX "0",
                BUS_INTERFACE_PREFIX "-1",
                BUS_INTERFACE_PREFIX "042",
                BUS_INTERFACE_PREFIX "4x",
                BUS_INTERFACE_PREFIX "2147483648",
                BUS_INTERFACE_PREFIX "",
        };
        char name[BUS_PATH_MAX];
        BusObjectKind kind;
        int ifindex;

        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                if (parse(bad[i], &kind, name, &ifindex) != -ENOENT)
                        TEST_FAIL("%s was parsed as an object", bad[i]);
}

int main(void) {
        RUN(test_endpoint_paths);
        RUN(test_parse);
        RUN(test_parse_refuses);
        return 0;
}
