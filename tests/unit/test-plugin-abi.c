/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The plugin's side of the host ABI (include/hostendpoint/plugin.h), as a
 * host sees it through dlopen: one exported entry point, the operations of
 * version 1, and a hep_host smaller than version 1's refused before the
 * plugin reads any field past its size. Needs no root: nothing starts. */
#include "tests.h"

#include <dlfcn.h>
#include <errno.h>
#include <syslog.h>

#include "hostendpoint/plugin.h"

static char logged[512];
static int logged_priority = -1;

static void record_log(void *host_data, int priority, const char *message) {
        logged_priority = priority;
        snprintf(logged, sizeof(logged), "%s", message);
}

static const hep_plugin_ops *load(const char *path) {
        void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        hep_plugin_entry_fn entry;

        if (!dl)
                TEST_FAIL("dlopen %s: %s", path, dlerror());
        entry = (hep_plugin_entry_fn)dlsym(dl, HEP_PLUGIN_ENTRY_SYMBOL);
        ASSERT_NOT_NULL(entry);
        /* Another ABI version: no operations. */
        ASSERT_NULL(entry(HEP_PLUGIN_ABI_VERSION + 1));
        return entry(HEP_PLUGIN_ABI_VERSION);
}

/* The operations are those of version 1, at least. */
static void test_ops(const hep_plugin_ops *ops) {
        ASSERT_TRUE(ops->size >= HEP_PLUGIN_OPS_SIZE_V1);
        ASSERT_EQ(ops->abi_version, HEP_PLUGIN_ABI_VERSION);
        ASSERT_NOT_NULL(ops->init);
        ASSERT_NOT_NULL(ops->shutdown);
        ASSERT_NOT_NULL(ops->sync_done);
}

/* A host built against an older, smaller hep_host: init refuses it, says
 * why through the logger it does have, and reads nothing beyond (the
 * fields past size hold poison that would crash a careless plugin). */
static void test_small_host(const hep_plugin_ops *ops) {
        hep_host host = {
                .abi_version = HEP_PLUGIN_ABI_VERSION,
                .log = record_log,
                .nodename = (const char *)1,
                .datastore = (const char *)1,
                .bus = (const char *)1,
        };
        hep_plugin *p = NULL;

        host.size = offsetof(hep_host, nodename);
        ASSERT_EQ(ops->init(&host, &p), -EINVAL);
        ASSERT_NULL(p);
        ASSERT_EQ(logged_priority, LOG_ERR);
        ASSERT_CONTAINS(logged, "smaller than ABI version 1's");

        /* Too small even for the logger: refused silently. */
        logged_priority = -1;
        host.size = offsetof(hep_host, log);
        ASSERT_EQ(ops->init(&host, &p), -EINVAL);
        ASSERT_EQ(logged_priority, -1);
}

/* The macros a plugin uses on what a host hands it. */
static void test_has(void) {
        hep_host h = { .size = HEP_HOST_SIZE_V1 };
        ASSERT_TRUE(HEP_HOST_HAS(&h, dbus_connection));
        h.size = offsetof(hep_host, dbus_connection);
        ASSERT_FALSE(HEP_HOST_HAS(&h, dbus_connection));
        ASSERT_TRUE(HEP_HOST_HAS(&h, bus));
        /* A version 1 host has no reloaded callback; the plugin must not
         * read one past its size. */
        h.size = HEP_HOST_SIZE_V1;
        ASSERT_FALSE(HEP_HOST_HAS(&h, reloaded));
        h.size = sizeof(hep_host);
        ASSERT_TRUE(HEP_HOST_HAS(&h, reloaded));
        /* host_name came after reloaded: a host built before it has
         * reloaded but no host_name. */
        h.size = offsetof(hep_host, host_name);
        ASSERT_TRUE(HEP_HOST_HAS(&h, reloaded));
        ASSERT_FALSE(HEP_HOST_HAS(&h, host_name));
        h.size = sizeof(hep_host);
        ASSERT_TRUE(HEP_HOST_HAS(&h, host_name));
        ASSERT_EQ(HEP_LINK_SIZE_V1 <= sizeof(hep_link), 1);
}

int main(int argc, char **argv) {
        const hep_plugin_ops *ops;

        if (argc != 2) {
                fprintf(stderr, "usage: test-plugin-abi PATH-TO-hostendpoint.so\n");
                return 2;
        }
        ops = load(argv[1]);
        ASSERT_NOT_NULL(ops);
        test_ops(ops);
        printf("ok - test_ops\n");
        test_small_host(ops);
        printf("ok - test_small_host\n");
        RUN(test_has);
        return 0;
}
