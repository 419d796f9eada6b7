/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The directory datastore on a temporary directory, without root: what a
 * file that cannot be used keeps (replaced by a directory, a FIFO, a
 * socket), a change seen through ctime only, symbolic links and depth, and,
 * watched from a small loop of the test's own, files written in place, the
 * directory deleted, moved away and re-created, a ConfigMap updated. */
#include "tests.h"

#include <fcntl.h>
#include <limits.h>
#include <ftw.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "datastore.h"
#include "fileio.h"
#include "loader.h"

static char root[64];
static char dir[80];

static void setup_in(const char *where) {
        snprintf(root, sizeof(root), "%s/test-datastore-dir-XXXXXX", where);
        ASSERT_NOT_NULL(mkdtemp(root));
        snprintf(dir, sizeof(dir), "%s/ds", root);
        ASSERT_OK(mkdir(dir, 0755));
}

static void setup(void) {
        setup_in("/tmp");
}

static int remove_one(const char *path, const struct stat *st, int type, struct FTW *ftw) {
        return remove(path);
}

/* The tree the test made, without following its links. */
static void teardown(void) {
        ASSERT_OK(nftw(root, remove_one, 16, FTW_DEPTH | FTW_PHYS));
}

static const char *path_of(const char *name) {
        static char p[4][256];
        static unsigned i;

        i = (i + 1) % 4;
        snprintf(p[i], sizeof(p[i]), "%s/%s", dir, name);
        return p[i];
}

static void write_file(const char *path, const char *text) {
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

        ASSERT_TRUE(fd >= 0);
        ASSERT_EQ(write(fd, text, strlen(text)), (ssize_t)strlen(text));
        ASSERT_OK(close(fd));
}

/* Written whole and renamed into place, as hepctl does. */
static void put(const char *name, const char *text) {
        static unsigned n;
        char tmp[300];

        snprintf(tmp, sizeof(tmp), "%s/.tmp-%u", dir, n++);
        write_file(tmp, text);
        ASSERT_OK(rename(tmp, path_of(name)));
}

static char *hep_text(const char *name, const char *ifname) {
        char *s;

        ASSERT_TRUE(asprintf(&s,
                             "apiVersion: projectcalico.org/v3\nkind: HostEndpoint\nmetadata: {name: %s}\n"
                             "spec: {node: node1, interfaceName: %s}\n",
                             name, ifname) > 0);
        return s;
}

static void put_hep(const char *file, const char *name, const char *ifname) {
        char *s = hep_text(name, ifname);

        put(file, s);
        free(s);
}

static Datastore *open_store(void) {
        Datastore *ds = NULL;
        char *err = NULL;
        char spec[96];

        snprintf(spec, sizeof(spec), "dir:%s", dir);
        ASSERT_OK(datastore_open(spec, 0, &ds, &err));
        ASSERT_NULL(err);
        return ds;
}

/* The interface name of HostEndpoint name, or NULL if it is not there. */
static const char *hep_ifname(Datastore *ds, const char *name) {
        const StoreEntry *e = datastore_find(ds, KIND_HOST_ENDPOINT, NULL, name);

        return e ? e->res->spec.hep.interface_name : NULL;
}

static size_t n_entries(Datastore *ds) {
        const StoreEntry *e;
        size_t n;

        datastore_entries(ds, &e, &n);
        return n;
}

/* The message of the problem about file (NULL: of the store), or NULL. */
static const char *problem(Datastore *ds, const char *file, const char *containing) {
        const StoreProblem *p;
        size_t n;

        datastore_problems(ds, &p, &n);
        for (size_t i = 0; i < n; i++)
                if (streq_ptr(p[i].origin, file) && strstr(p[i].message, containing))
                        return p[i].message;
        return NULL;
}

static size_t n_problems(Datastore *ds) {
        const StoreProblem *p;
        size_t n;

        datastore_problems(ds, &p, &n);
        return n;
}

/* A path that stops being a regular file keeps what it had and is
 * reported with what it is now; deleting it withdraws its resources. */
static void test_replaced_by_something_else(void) {
        Datastore *ds;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd;

        setup();
        put_hep("a.yaml", "a", "eth1");
        put_hep("b.yaml", "b", "eth2");
        ds = open_store();
        ASSERT_EQ(datastore_refresh(ds), 1);
        ASSERT_STREQ(hep_ifname(ds, "a"), "eth1");

        ASSERT_OK(unlink(path_of("a.yaml")));
        ASSERT_OK(mkdir(path_of("a.yaml"), 0755));
        ASSERT_OK(datastore_refresh(ds));
        ASSERT_STREQ(hep_ifname(ds, "a"), "eth1");
        ASSERT_NOT_NULL(problem(ds, path_of("a.yaml"), "now a directory, not a file that can be read"));

        ASSERT_OK(rmdir(path_of("a.yaml")));
        ASSERT_OK(mkfifo(path_of("a.yaml"), 0644));
        ASSERT_OK(datastore_refresh(ds)); /* does not block on the FIFO */
        ASSERT_STREQ(hep_ifname(ds, "a"), "eth1");
        ASSERT_NOT_NULL(problem(ds, path_of("a.yaml"), "now a named pipe"));

        ASSERT_OK(unlink(path_of("a.yaml")));
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path_of("a.yaml"));
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ASSERT_TRUE(fd >= 0);
        ASSERT_OK(bind(fd, (struct sockaddr *)&sa, sizeof(sa)));
        ASSERT_OK(datastore_refresh(ds));
        ASSERT_STREQ(hep_ifname(ds, "a"), "eth1");
        ASSERT_NOT_NULL(problem(ds, path_of("a.yaml"), "now a socket"));
        close(fd);

        ASSERT_OK(unlink(path_of("a.yaml")));
        ASSERT_OK(symlink("nowhere.yaml", path_of("a.yaml")));
        ASSERT_OK(datastore_refresh(ds));
        ASSERT_STREQ(hep_ifname(ds, "a"), "eth1");
        ASSERT_NOT_NULL(problem(ds, path_of("a.yaml"), "now a symbolic link to nothing"));

        /* A file again: read, and the problem is over. */
        ASSERT_OK(unlink(path_of("a.yaml")));
        put_hep("a.yaml", "a", "eth3");
        ASSERT_EQ(datastore_refresh(ds), 1);
        ASSERT_STREQ(hep_ifname(ds, "a"), "eth3");
        ASSERT_EQ(n_problems(ds), 0);

        /* Deleted: withdrawn (unwatched, at once). */
        ASSERT_OK(unlink(path_of("a.yaml")));
        ASSERT_EQ(datastore_refresh(ds), 1);
        ASSERT_NULL(hep_ifname(ds, "a"));
        ASSERT_STREQ(hep_ifname(ds, "b"), "eth2");
        datastore_free(ds);
        teardown();
}

/* An edit that keeps size and mtime (restored, as an archive tool or a
 * careful admin does) still changes ctime, and so is read. */
static void test_ctime_change_is_read(void) {
        struct stat st;
        Datastore *ds;

        setup();
        put_hep("a.yaml", "a", "eth1");
        ds = open_store();
        ASSERT_EQ(datastore_refresh(ds), 1);
        ASSERT_OK(stat(path_of("a.yaml"), &st));
        {
                char *s = hep_text("a", "eth2");
                write_file(path_of("a.yaml"), s);
                free(s);
        }
        ASSERT_OK(utimensat(AT_FDCWD, path_of("a.yaml"), (struct timespec[2]) { st.st_atim, st.st_mtim }, 0));
        ASSERT_EQ(datastore_refresh(ds), 1);
        ASSERT_STREQ(hep_ifname(ds, "a"), "eth2");
        datastore_free(ds);
        teardown();
}

static unsigned warned;
static void count_warning(const char *message) {
        ASSERT_CONTAINS(message, ", not ");
        warned++;
}

/* Two links to "." made the walk cover 2^depth paths. Links to
 * directories are not followed, and say so; links to files are read
 * (a ConfigMap's keys are mounted that way); the tree is read 16 deep. */
static void test_links_and_depth(void) {
        ResourceList l = RESOURCE_LIST_INIT;
        ParseError e = PARSE_ERROR_INIT;
        char deep[1024];
        Datastore *ds;

        setup();
        put_hep("a.yaml", "a", "eth1");
        ASSERT_OK(symlink(".", path_of("l1")));
        ASSERT_OK(symlink(".", path_of("l2")));
        ASSERT_OK(mkdir(path_of("..2024_01_01"), 0755));
        {
                char *s = hep_text("cm", "eth5");
                write_file(path_of("..2024_01_01/cm.yaml"), s);
                free(s);
        }
        ASSERT_OK(symlink("..2024_01_01", path_of("..data")));
        ASSERT_OK(symlink("..data/cm.yaml", path_of("cm.yaml")));
        snprintf(deep, sizeof(deep), "%s", dir);
        for (int i = 0; i < HEP_MAX_DIR_DEPTH + 1; i++) {
                strcat(deep, "/d");
                ASSERT_OK(mkdir(deep, 0755));
                if (i == HEP_MAX_DIR_DEPTH - 1) {
                        char f[1100];
                        char *s = hep_text("deepest", "eth6");
                        snprintf(f, sizeof(f), "%s/x.yaml", deep);
                        write_file(f, s);
                        free(s);
                }
        }
        {
                char f[1100];
                char *s = hep_text("too-deep", "eth7");
                snprintf(f, sizeof(f), "%s/x.yaml", deep);
                write_file(f, s);
                free(s);
        }

        ds = open_store();
        ASSERT_EQ(datastore_refresh(ds), 1);
        ASSERT_EQ(n_entries(ds), 3);
        ASSERT_STREQ(hep_ifname(ds, "a"), "eth1");
        ASSERT_STREQ(hep_ifname(ds, "cm"), "eth5");
        ASSERT_STREQ(hep_ifname(ds, "deepest"), "eth6");
        ASSERT_NOT_NULL(problem(ds, NULL, "/l1: a symbolic link to a directory, not followed"));
        ASSERT_NOT_NULL(problem(ds, NULL, "/l2: a symbolic link to a directory, not followed"));
        ASSERT_NOT_NULL(problem(ds, NULL, "more than 16 directories deep, not read"));
        ASSERT_EQ(n_problems(ds), 3);
        datastore_free(ds);

        /* hepctl -f DIR -R: the same walk. */
        ASSERT_OK(resources_load_path(dir, true, &l, count_warning, &e));
        ASSERT_EQ(l.n, 3);
        ASSERT_EQ(warned, 3);
        resource_list_done(&l);
        parse_error_done(&e);
        teardown();
}

/* A directory with more files than the limit is listed up to the limit,
 * says so, and hepctl -f refuses it rather than apply a part of it. */
static void test_file_count_limit(void) {
        ResourceList rl = RESOURCE_LIST_INIT;
        ParseError e = PARSE_ERROR_INIT;
        FileList l;

        /* In memory if there is a tmpfs: 100,001 files. */
        setup_in(access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
        for (int i = 0; i <= HEP_MAX_DIR_FILES; i++) {
                char name[32];
                int fd;
                snprintf(name, sizeof(name), "f%06d.yaml", i);
                fd = open(path_of(name), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
                ASSERT_TRUE(fd >= 0);
                close(fd);
        }
        ASSERT_OK(list_resource_files(dir, true, &l));
        ASSERT_TRUE(l.truncated);
        ASSERT_EQ(l.n_files, HEP_MAX_DIR_FILES);
        ASSERT_EQ(l.n_skipped, 1);
        ASSERT_CONTAINS(l.skipped[0], "/f100000.yaml: more than 100000 resource files; this one and those after it are not read");
        file_list_done(&l);
        ASSERT_TRUE(resources_load_path(dir, false, &rl, NULL, &e) < 0);
        ASSERT_CONTAINS(e.message, "more than 100000 resource files");
        resource_list_done(&rl);
        parse_error_done(&e);
        teardown();
}

/* ---- a loop of the test's own, to watch the store ---- */

typedef struct FakeTimer {
        bool used;
        uint64_t due; /* UINT64_MAX: disarmed */
        hep_timer_callback cb;
        void *userdata;
} FakeTimer;

typedef struct FakeWatch {
        bool used;
        int fd;
        hep_fd_callback cb;
        void *userdata;
} FakeWatch;

static FakeTimer timers[8];
static FakeWatch watches[4];
static unsigned changes;

static int fake_watch_add(void *h, int fd, uint32_t events, hep_fd_callback cb, void *userdata, hep_watch **ret) {
        for (size_t i = 0; i < ELEMENTSOF(watches); i++)
                if (!watches[i].used) {
                        watches[i] = (FakeWatch) { true, fd, cb, userdata };
                        *ret = (hep_watch *)&watches[i];
                        return 0;
                }
        return -ENOSPC;
}

static void fake_watch_remove(void *h, hep_watch *w) {
        ((FakeWatch *)w)->used = false;
}

static int fake_timer_rearm(void *h, hep_timer *t, uint64_t usec) {
        ((FakeTimer *)t)->due = usec == UINT64_MAX ? UINT64_MAX : now_usec() + usec;
        return 0;
}

static int fake_timer_add(void *h, uint64_t usec, hep_timer_callback cb, void *userdata, hep_timer **ret) {
        for (size_t i = 0; i < ELEMENTSOF(timers); i++)
                if (!timers[i].used) {
                        timers[i] = (FakeTimer) { true, UINT64_MAX, cb, userdata };
                        *ret = (hep_timer *)&timers[i];
                        return fake_timer_rearm(h, *ret, usec);
                }
        return -ENOSPC;
}

static void fake_timer_remove(void *h, hep_timer *t) {
        ((FakeTimer *)t)->used = false;
}

static const hep_host fake_host = {
        .size = sizeof(hep_host),
        .abi_version = HEP_PLUGIN_ABI_VERSION,
        .watch_add = fake_watch_add,
        .watch_remove = fake_watch_remove,
        .timer_add = fake_timer_add,
        .timer_rearm = fake_timer_rearm,
        .timer_remove = fake_timer_remove,
};

static void on_changed(void *userdata) {
        changes++;
}

/* One turn of the loop: ready fds, then due timers; waits at most ms. */
static void turn(int ms) {
        struct pollfd p[ELEMENTSOF(watches)];
        size_t n = 0;

        for (size_t i = 0; i < ELEMENTSOF(watches); i++)
                if (watches[i].used)
                        p[n++] = (struct pollfd) { .fd = watches[i].fd, .events = POLLIN };
        (void)poll(p, n, ms);
        for (size_t i = 0, k = 0; i < ELEMENTSOF(watches); i++)
                if (watches[i].used && (p[k++].revents & POLLIN))
                        watches[i].cb(watches[i].userdata, watches[i].fd, HEP_WATCH_IN);
        for (size_t i = 0; i < ELEMENTSOF(timers); i++)
                if (timers[i].used && timers[i].due <= now_usec()) {
                        timers[i].due = UINT64_MAX;
                        timers[i].cb(timers[i].userdata);
                }
}

/* Runs the loop, refreshing on each change, until cond holds (true) or
 * seconds pass (false): the daemon's loop, in small. */
#define RUN_UNTIL(ds, cond, seconds)                                                \
        ({                                                                          \
                uint64_t _end = now_usec() + (uint64_t)(seconds) * 1000000;        \
                bool _ok;                                                           \
                for (;;) {                                                          \
                        unsigned _c = changes;                                      \
                        turn(20);                                                   \
                        if (changes != _c)                                          \
                                ASSERT_OK(datastore_refresh(ds));                   \
                        if ((_ok = (cond)) || now_usec() > _end)                    \
                                break;                                              \
                }                                                                   \
                _ok;                                                                \
        })

static Datastore *open_watched(void) {
        Datastore *ds = open_store();

        ASSERT_OK(datastore_attach(ds, &fake_host, on_changed, NULL));
        ASSERT_EQ(datastore_refresh(ds), 1);
        return ds;
}

/* A file truncated and half rewritten in place is not read while another
 * change is; once closed, it is. */
static void test_half_written_file_waits(void) {
        const char *head = "apiVersion: projectcalico.org/v3\nkind: HostEndpoint\nmetadata: {name: a}\n";
        Datastore *ds;
        int fd;

        setup();
        put_hep("a.yaml", "a", "eth1");
        ds = open_watched();
        ASSERT_STREQ(hep_ifname(ds, "a"), "eth1");

        fd = open(path_of("a.yaml"), O_WRONLY | O_TRUNC | O_CLOEXEC);
        ASSERT_TRUE(fd >= 0);
        ASSERT_EQ(write(fd, head, strlen(head)), (ssize_t)strlen(head));
        put_hep("b.yaml", "b", "eth2");
        ASSERT_TRUE(RUN_UNTIL(ds, hep_ifname(ds, "b") != NULL, 2));
        ASSERT_STREQ(hep_ifname(ds, "a"), "eth1");
        ASSERT_EQ(n_problems(ds), 0); /* being written: not a problem yet */
        /* Even when asked to read everything again (SIGHUP). */
        datastore_forget(ds);
        ASSERT_OK(datastore_refresh(ds));
        ASSERT_STREQ(hep_ifname(ds, "a"), "eth1");

        {
                const char *rest = "spec: {node: node1, interfaceName: eth9}\n";
                ASSERT_EQ(write(fd, rest, strlen(rest)), (ssize_t)strlen(rest));
        }
        ASSERT_OK(close(fd));
        ASSERT_TRUE(RUN_UNTIL(ds, streq_ptr(hep_ifname(ds, "a"), "eth9"), 2));
        datastore_free(ds);
        teardown();
}

/* A file deleted goes after a grace period; "rm -rf" of the directory
 * withdraws nothing, reports why, and the directory re-created with other
 * files is what is read then. Moved away and back: the same. */
static void test_directory_removed_and_recreated(void) {
        Datastore *ds;
        uint64_t start;

        setup();
        put_hep("a.yaml", "a", "eth1");
        put_hep("b.yaml", "b", "eth2");
        ASSERT_OK(mkdir(path_of("sub"), 0755));
        put_hep("sub/c.yaml", "c", "eth3");
        ds = open_watched();
        ASSERT_EQ(n_entries(ds), 3);

        /* One file deleted: still there at first, gone after the grace period. */
        start = now_usec();
        ASSERT_OK(unlink(path_of("b.yaml")));
        ASSERT_OK(datastore_refresh(ds));
        ASSERT_STREQ(hep_ifname(ds, "b"), "eth2");
        ASSERT_TRUE(RUN_UNTIL(ds, hep_ifname(ds, "b") == NULL, 3));
        ASSERT_TRUE(now_usec() - start >= 400 * 1000);

        /* rm -rf: files first, then the directories. */
        ASSERT_OK(unlink(path_of("sub/c.yaml")));
        ASSERT_OK(rmdir(path_of("sub")));
        ASSERT_OK(unlink(path_of("a.yaml")));
        ASSERT_OK(datastore_refresh(ds)); /* between the files and the directory */
        ASSERT_OK(rmdir(dir));
        ASSERT_TRUE(RUN_UNTIL(ds, problem(ds, NULL, "the datastore directory is gone") != NULL, 2));
        /* Well past the grace period: nothing withdrawn. */
        ASSERT_FALSE(RUN_UNTIL(ds, n_entries(ds) != 2, 1));
        ASSERT_STREQ(hep_ifname(ds, "a"), "eth1");
        ASSERT_STREQ(hep_ifname(ds, "c"), "eth3");

        /* Back, with other content: converges to it. */
        ASSERT_OK(mkdir(dir, 0755));
        put_hep("d.yaml", "d", "eth4");
        ASSERT_TRUE(RUN_UNTIL(ds, n_entries(ds) == 1 && hep_ifname(ds, "d"), 4));
        ASSERT_EQ(n_problems(ds), 0);
        /* And watched again. */
        put_hep("e.yaml", "e", "eth5");
        ASSERT_TRUE(RUN_UNTIL(ds, hep_ifname(ds, "e") != NULL, 2));

        /* Moved away and back. */
        {
                char away[128];
                snprintf(away, sizeof(away), "%s/away", root);
                ASSERT_OK(rename(dir, away));
                ASSERT_TRUE(RUN_UNTIL(ds, problem(ds, NULL, "the datastore directory is gone") != NULL, 2));
                ASSERT_EQ(n_entries(ds), 2);
                ASSERT_OK(rename(away, dir));
        }
        ASSERT_TRUE(RUN_UNTIL(ds, n_problems(ds) == 0, 3));
        ASSERT_EQ(n_entries(ds), 2);
        put_hep("f.yaml", "f", "eth6");
        ASSERT_TRUE(RUN_UNTIL(ds, hep_ifname(ds, "f") != NULL, 2));
        datastore_free(ds);
        teardown();
}

/* Kubernetes updates a mounted ConfigMap by writing a new dot-directory
 * and renaming the "..data" link to it; the keys link through "..data". */
static void test_configmap_update_is_seen(void) {
        Datastore *ds;
        char *s;

        setup();
        ASSERT_OK(mkdir(path_of("..v1"), 0755));
        s = hep_text("cm", "eth1");
        write_file(path_of("..v1/cm.yaml"), s);
        free(s);
        ASSERT_OK(symlink("..v1", path_of("..data")));
        ASSERT_OK(symlink("..data/cm.yaml", path_of("cm.yaml")));
        ds = open_watched();
        ASSERT_STREQ(hep_ifname(ds, "cm"), "eth1");

        ASSERT_OK(mkdir(path_of("..v2"), 0755));
        s = hep_text("cm", "eth2");
        write_file(path_of("..v2/cm.yaml"), s);
        free(s);
        ASSERT_OK(symlink("..v2", path_of("..data_tmp")));
        ASSERT_OK(rename(path_of("..data_tmp"), path_of("..data")));
        ASSERT_TRUE(RUN_UNTIL(ds, streq_ptr(hep_ifname(ds, "cm"), "eth2"), 2));
        datastore_free(ds);
        teardown();
}

/* A HostEndpoint of name, parsed as hepctl would read it. */
static Resource *hep_resource(const char *name, const char *ifname) {
        _cleanup_(resource_list_done) ResourceList l = RESOURCE_LIST_INIT;
        _cleanup_free_ char *text = hep_text(name, ifname);
        ParseError e = PARSE_ERROR_INIT;

        ASSERT_OK(resources_parse("test", text, strlen(text), &l, &e));
        ASSERT_EQ(l.n, 1);
        return resource_ref(l.v[0]);
}

/* The file the store keeps a resource in, without the directory. */
static const char *file_of(Datastore *ds, const char *name) {
        const StoreEntry *e = datastore_find(ds, KIND_HOST_ENDPOINT, NULL, name);

        ASSERT_NOT_NULL(e);
        ASSERT_TRUE(strncmp(e->origin, dir, strlen(dir)) == 0 && e->origin[strlen(dir)] == '/');
        return e->origin + strlen(dir) + 1;
}

/* Calico allows 253 characters in a name: such a resource is created,
 * updated and deleted like any other, in a file whose name begins with
 * its own and fits NAME_MAX; two that differ only in their last character
 * get a file each. A name that fits keeps the file name it always had. */
static void test_long_names(void) {
        char a[254], b[254];
        Resource *r;
        Datastore *ds;
        char *err = NULL;

        setup();
        memset(a, 'a', 253);
        a[253] = 0;
        memcpy(b, a, sizeof(b));
        b[252] = 'b';
        ds = open_store();
        for (unsigned i = 0; i < 2; i++) {
                r = hep_resource(i ? b : a, "eth0");
                ASSERT_EQ(datastore_create(ds, r, NULL, &err), 0);
                ASSERT_NULL(err);
                resource_free(r);
        }
        r = hep_resource("short", "eth0");
        ASSERT_EQ(datastore_create(ds, r, NULL, &err), 0);
        resource_free(r);
        ASSERT_STREQ(file_of(ds, "short"), "hostendpoint-short.yaml");
        ASSERT_TRUE(strlen(file_of(ds, a)) <= NAME_MAX && strlen(file_of(ds, b)) <= NAME_MAX);
        ASSERT_TRUE(strncmp(file_of(ds, a), "hostendpoint-aaaaaaaaaa", 23) == 0);
        ASSERT_FALSE(streq(file_of(ds, a), file_of(ds, b)));
        ASSERT_EQ(n_entries(ds), 3);

        r = hep_resource(a, "eth1");
        ASSERT_EQ(datastore_update(ds, r, NULL, &err), 0);
        resource_free(r);
        ASSERT_STREQ(hep_ifname(ds, a), "eth1");
        ASSERT_STREQ(hep_ifname(ds, b), "eth0");
        ASSERT_EQ(datastore_delete(ds, KIND_HOST_ENDPOINT, NULL, a, NULL, NULL, &err), 0);
        ASSERT_NULL(hep_ifname(ds, a));
        ASSERT_STREQ(hep_ifname(ds, b), "eth0");
        datastore_free(ds);
        teardown();
}

/* A file name the file system refuses is that error, named with the path,
 * not "already exists": here a datastore directory so deep that its path
 * and a file name pass PATH_MAX. */
static void test_file_system_error_is_reported(void) {
        char deep[PATH_MAX], spec[PATH_MAX + 8];
        Datastore *ds = NULL;
        Resource *r;
        char *err = NULL;
        size_t n;

        setup();
        snprintf(deep, sizeof(deep), "%s", dir);
        n = strlen(deep);
        /* Components of up to 200 characters, to PATH_MAX less 18: room for
         * the directory itself, not for "/hostendpoint-x.yaml". */
        while (n < PATH_MAX - 18) {
                size_t c = PATH_MAX - 18 - n - 1 < 200 ? PATH_MAX - 18 - n - 1 : 200;
                deep[n++] = '/';
                memset(deep + n, 'd', c);
                n += c;
                deep[n] = 0;
                ASSERT_OK(mkdir(deep, 0755));
        }
        snprintf(spec, sizeof(spec), "dir:%s", deep);
        ASSERT_OK(datastore_open(spec, 0, &ds, &err));
        r = hep_resource("x", "eth0");
        ASSERT_EQ(datastore_create(ds, r, NULL, &err), -ENAMETOOLONG);
        ASSERT_CONTAINS(err, "/hostendpoint-x.yaml': File name too long");
        free(err);
        resource_free(r);
        datastore_free(ds);
        teardown();
}

int main(void) {
        RUN(test_replaced_by_something_else);
        RUN(test_ctime_change_is_read);
        RUN(test_links_and_depth);
        RUN(test_file_count_limit);
        RUN(test_half_written_file_waits);
        RUN(test_directory_removed_and_recreated);
        RUN(test_configmap_update_is_seen);
        RUN(test_long_names);
        RUN(test_file_system_error_is_reported);
        return 0;
}
