/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The client layer on a directory datastore: what calicoctl's list returns,
 * the built-in resources included, whatever the store holds. */
#include <unistd.h>

#include "tests.h"
#include "client.h"
#include "intern.h"

static char dir[] = "/tmp/hep-test-client-XXXXXX";

static Datastore *open_store(void) {
        _cleanup_free_ char *spec = NULL, *err = NULL;
        Datastore *ds = NULL;

        ASSERT_TRUE(asprintf(&spec, "dir:%s", dir) > 0);
        ASSERT_OK(datastore_open(spec, 0, &ds, &err));
        return ds;
}

/* A kind with nothing stored lists nothing, or only what Calico provides:
 * the three built-in tiers in order, and the default-allow profile. */
static void test_list_empty_store(void) {
        _cleanup_(datastore_freep) Datastore *ds = open_store();
        static const char *const tiers[] = { "kube-admin", "default", "kube-baseline" };

        for (ResourceKind k = 0; k < _KIND_MAX; k++) {
                _cleanup_(resource_list_done) ResourceList l = RESOURCE_LIST_INIT;

                ASSERT_OK(client_list(ds, k, NULL, &l));
                if (k == KIND_TIER) {
                        ASSERT_EQ(l.n, ELEMENTSOF(tiers));
                        for (size_t i = 0; i < l.n; i++)
                                ASSERT_STREQ(l.v[i]->meta.name, tiers[i]);
                } else if (k == KIND_PROFILE) {
                        ASSERT_EQ(l.n, 1);
                        ASSERT_STREQ(l.v[0]->meta.name, DEFAULT_ALLOW_PROFILE);
                } else
                        ASSERT_EQ(l.n, 0);
        }
}

int main(void) {
        ASSERT_NOT_NULL(mkdtemp(dir));
        test_list_empty_store();
        ASSERT_EQ(intern_count(), 0);
        ASSERT_OK(rmdir(dir));
        return 0;
}
