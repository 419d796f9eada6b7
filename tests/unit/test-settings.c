/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Which datastore a command uses: hostendpoint.conf, calicoctl's
 * CalicoAPIConfig file and environment (so an existing calicoctl setup
 * works as it is), and what an etcd location may say. No etcd needed. */
#include <stdlib.h>
#include <unistd.h>

#include "tests.h"
#include "datastore.h"
#include "settings.h"

static char dir[] = "/tmp/hep-test-settings-XXXXXX";

static char *write_file(const char *name, const char *text) {
        char *path = NULL;
        FILE *f;

        ASSERT_TRUE(asprintf(&path, "%s/%s", dir, name) > 0);
        f = fopen(path, "we");
        ASSERT_NOT_NULL(f);
        fputs(text, f);
        fclose(f);
        return path;
}

static void clear_env(void) {
        unsetenv("HEP_DATASTORE");
        unsetenv("ETCD_ENDPOINTS");
        unsetenv("DATASTORE_TYPE");
        unsetenv("ETCD_USERNAME");
        unsetenv("ETCD_PASSWORD");
}

/* calicoctl's configuration file, as `hepctl --config` reads it: etcd's
 * endpoints and TLS files become the datastore; its user and password
 * become calicoctl's environment, which the etcd client reads. */
static void test_calicoctl_config(void) {
        _cleanup_free_ char *path = write_file("calicoctl.cfg",
                                               "apiVersion: projectcalico.org/v3\n"
                                               "kind: CalicoAPIConfig\n"
                                               "metadata: {}\n"
                                               "spec:\n"
                                               "  datastoreType: etcdv3\n"
                                               "  etcdEndpoints: https://10.0.0.5:2379,https://10.0.0.6:2379\n"
                                               "  etcdCACertFile: /etc/calico/ca.pem\n"
                                               "  etcdCertFile: /etc/calico/cert.pem\n"
                                               "  etcdKeyFile: /etc/calico/key.pem\n"
                                               "  etcdUsername: admin\n"
                                               "  etcdPassword: secret\n");
        _cleanup_(config_done) Config c = {};
        ParseError e = PARSE_ERROR_INIT;

        clear_env();
        ASSERT_OK(config_load(path, false, &c, &e));
        ASSERT_STREQ(c.datastore, "etcdv3:https://10.0.0.5:2379,https://10.0.0.6:2379"
                                  "?ca=/etc/calico/ca.pem&cert=/etc/calico/cert.pem&key=/etc/calico/key.pem");
        ASSERT_STREQ(getenv("ETCD_USERNAME"), "admin");
        ASSERT_STREQ(getenv("ETCD_PASSWORD"), "secret");
        clear_env();
}

/* Only etcd is a datastore here: the Kubernetes API datastore is refused
 * with the file, line and column of the setting. */
static void test_calicoctl_config_kubernetes(void) {
        _cleanup_free_ char *path = write_file("k8s.cfg",
                                               "apiVersion: projectcalico.org/v3\n"
                                               "kind: CalicoAPIConfig\n"
                                               "spec:\n"
                                               "  datastoreType: kubernetes\n"
                                               "  kubeconfig: /root/.kube/config\n");
        _cleanup_free_ char *msg = NULL;
        Config c = {};
        ParseError e = PARSE_ERROR_INIT;

        ASSERT_TRUE(config_load(path, false, &c, &e) < 0);
        msg = parse_error_format(&e);
        ASSERT_CONTAINS(msg, "k8s.cfg:4:18: datastoreType 'kubernetes' is not supported here (only etcdv3");
        parse_error_done(&e);
        config_done(&c);
}

static void test_calicoctl_config_no_endpoints(void) {
        _cleanup_free_ char *path = write_file("none.cfg", "apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\n"
                                                           "spec:\n  datastoreType: etcdv3\n");
        _cleanup_free_ char *msg = NULL;
        Config c = {};
        ParseError e = PARSE_ERROR_INIT;

        ASSERT_TRUE(config_load(path, false, &c, &e) < 0);
        msg = parse_error_format(&e);
        ASSERT_CONTAINS(msg, "spec.etcdEndpoints is required");
        parse_error_done(&e);
        config_done(&c);
}

/* hostendpoint.conf's own format still reads as before. */
static void test_hostendpoint_conf(void) {
        _cleanup_free_ char *path = write_file("hostendpoint.conf", "# a comment\ndatastore = etcdv3:http://127.0.0.1:2379\n"
                                                                    "nodename = node1\n");
        _cleanup_(config_done) Config c = {};
        ParseError e = PARSE_ERROR_INIT;

        ASSERT_OK(config_load(path, false, &c, &e));
        ASSERT_STREQ(c.datastore, "etcdv3:http://127.0.0.1:2379");
        ASSERT_STREQ(c.nodename, "node1");
}

/* Without a datastore named anywhere: $HEP_DATASTORE, then calicoctl's
 * ETCD_ENDPOINTS (DATASTORE_TYPE etcdv3 or unset), then the default. */
static void test_default_datastore(void) {
        ParseError e = PARSE_ERROR_INIT;
        char *spec = NULL;

        clear_env();
        setenv("ETCD_ENDPOINTS", "http://10.1.0.1:2379", 1);
        ASSERT_OK(config_default_datastore(&spec, &e));
        ASSERT_STREQ(spec, "etcdv3:http://10.1.0.1:2379");
        spec = mfree_ptr(spec);
        setenv("HEP_DATASTORE", "dir:/srv/resources", 1);
        ASSERT_OK(config_default_datastore(&spec, &e));
        ASSERT_STREQ(spec, "dir:/srv/resources");
        spec = mfree_ptr(spec);
        unsetenv("HEP_DATASTORE");
        setenv("DATASTORE_TYPE", "kubernetes", 1);
        ASSERT_TRUE(config_default_datastore(&spec, &e) < 0);
        parse_error_done(&e);
        clear_env();
        if (access(CALICOCTL_DEFAULT_CONFIG, F_OK) != 0) {
                ASSERT_OK(config_default_datastore(&spec, &e));
                ASSERT_STREQ(spec, HEP_DEFAULT_DATASTORE);
                free(spec);
        }
}

/* What an etcd location may say, and a clear message for the rest. */
static void test_etcd_locations(void) {
        static const struct {
                const char *spec, *error;
        } bad[] = {
                { "etcdv3:127.0.0.1:2379", "endpoint '127.0.0.1:2379' is not an http:// or https:// URL" },
                { "etcdv3:http://a:2379,ftp://b", "endpoint 'ftp://b' is not an http:// or https:// URL" },
                { "etcdv3:http://a:2379?cacert=/x", "unknown option 'cacert' (expected ca, cert or key)" },
                { "etcdv3:http://a:2379?ca", "option 'ca' has no value" },
                { "etcdv3:http://a:x", "endpoint 'http://a:x' is not an http:// or https:// URL (http[s]://HOST[:PORT])" },
                { "etcdv3:https://[::1", "endpoint 'https://[::1' is not an http:// or https:// URL" },
                { "etcdv3:?ca=/x", "no endpoint" },
        };

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_free_ char *err = NULL;
                Datastore *ds = NULL;

                ASSERT_TRUE(datastore_open(bad[i].spec, 0, &ds, &err) < 0);
                ASSERT_NOT_NULL(err);
                ASSERT_CONTAINS(err, bad[i].error);
        }
        {
                _cleanup_(datastore_freep) Datastore *ds = NULL;
                _cleanup_free_ char *err = NULL;

                ASSERT_OK(datastore_open("etcdv3:http://127.0.0.1:1,https://[::1]:2379?ca=/x&cert=/y&key=/z", 0, &ds,
                                         &err));
                ASSERT_STREQ(datastore_spec(ds), "etcdv3:http://127.0.0.1:1,https://[::1]:2379?ca=/x&cert=/y&key=/z");
        }
}

/* Nothing listening: a clear error naming the endpoint, and the store's
 * own problem, not a crash or a hang. */
static void test_etcd_unreachable(void) {
        _cleanup_(datastore_freep) Datastore *ds = NULL;
        _cleanup_free_ char *err = NULL;
        const StoreProblem *p;
        size_t n;

        ASSERT_OK(datastore_open("etcdv3:http://127.0.0.1:1", 0, &ds, &err));
        ASSERT_TRUE(datastore_refresh(ds) < 0);
        datastore_problems(ds, &p, &n);
        ASSERT_EQ(n, (size_t)1);
        ASSERT_CONTAINS(p[0].message, "cannot reach etcd at http://127.0.0.1:1");
}

int main(void) {
        ASSERT_NOT_NULL(mkdtemp(dir));
        RUN(test_calicoctl_config);
        RUN(test_calicoctl_config_kubernetes);
        RUN(test_calicoctl_config_no_endpoints);
        RUN(test_hostendpoint_conf);
        RUN(test_default_datastore);
        RUN(test_etcd_locations);
        RUN(test_etcd_unreachable);
        {
                _cleanup_free_ char *cmd = NULL;
                ASSERT_TRUE(asprintf(&cmd, "rm -rf '%s'", dir) > 0);
                ASSERT_EQ(system(cmd), 0);
        }
        return 0;
}
