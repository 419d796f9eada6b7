/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The etcd datastore ("etcdv3:URL[,URL...]", a backend of datastore.h),
 * in Calico's own layout (libcalico-go's etcdv3 backend): a resource at
 * /calico/resources/v3/projectcalico.org/<plural>/[<namespace>/]<name>,
 * its value the compact JSON calicoctl writes (resourceVersion left out),
 * its resourceVersion the key's mod_revision. Writes are transactions on
 * the key's version (create) or mod_revision (update, delete).
 *
 * Unattached (hepctl), a refresh lists the prefix. Attached to a host's
 * loop (the daemon), it lists and then watches from the list's revision,
 * as Calico's watcher cache does: a watch that ends (compaction, an error,
 * etcd gone) is followed by a fresh list that replaces the keys at once,
 * so a resource present before and after is never withdrawn in between;
 * while etcd cannot be reached, the last keys stay and the store reports
 * the problem, retrying with backoff. A value that does not parse or
 * validate is a problem of its key alone. */
#include "datastore-backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etcd.h"
#include "etcd-value.h"
#include "host.h"
#include "loader.h"
#include "strmap.h"

#define RETRY_MIN_USEC (100ULL * 1000)
#define RETRY_MAX_USEC (5ULL * 1000 * 1000)
/* Calico's watcher cache re-lists at most this often. */
#define RESYNC_MIN_USEC (500ULL * 1000)
/* How long a write from a host's loop may wait for etcd. */
#define WRITE_TIMEOUT_NONBLOCK_USEC (2ULL * 1000 * 1000)
/* Values are not world-readable: the Manager's LastError leaves them out. */
#define REDACTED "cannot be used; the details are in the log"

typedef struct KeyState {
        char *key;
        int64_t mod_revision;
        char *value;
        size_t value_len;
        Resource *res;        /* parsed, or NULL with problem set */
        Resource *last_good;  /* with problem set: the key's previous resource, which stays */
        char *problem, *public_problem;
        bool parsed;
        bool kept; /* keys_replace(): taken into the new list */
} KeyState;

typedef struct EtcdStore {
        Datastore base;
        EtcdClient *client;
        KeyState **keys; /* in key order after each rebuild */
        size_t n_keys, alloc_keys;
        StrMap index; /* key -> KeyState */
        bool dirty;   /* the keys changed since the view was built */
        char *problem; /* etcd itself: unreachable, refused */
        /* on the host's loop */
        const hep_host *host;
        void (*changed)(void *userdata);
        void *userdata;
        EtcdStream *stream; /* the list, or the watch after it */
        int64_t revision;   /* of the last list or watch batch */
        hep_timer *retry;
        uint64_t retry_usec, last_list_usec;
        bool synced; /* the first list has answered */
        bool relisting; /* since a forget, until its list answers */
        bool listed; /* unattached: a list is in the view (until a write or forget) */
} EtcdStore;

/* ---- keys ---- */

static void key_state_free(KeyState *k) {
        if (!k)
                return;
        free(k->key);
        free(k->value);
        resource_free(k->res);
        resource_free(k->last_good);
        free(k->problem);
        free(k->public_problem);
        free(k);
}

static void index_rebuild(EtcdStore *s) {
        strmap_done(&s->index);
        for (size_t i = 0; i < s->n_keys; i++)
                (void)strmap_put(&s->index, s->keys[i]->key, s->keys[i]);
}

static void keys_clear(EtcdStore *s) {
        for (size_t i = 0; i < s->n_keys; i++)
                key_state_free(s->keys[i]);
        s->keys = mfree_ptr(s->keys);
        s->n_keys = s->alloc_keys = 0;
        strmap_done(&s->index);
}

/* A value that cannot be used leaves the key's previous resource in
 * force, as a broken file does in the directory datastore. */
static void key_state_inherit(KeyState *k, KeyState *old) {
        k->last_good = old->res ? steal_ptr(old->res) : steal_ptr(old->last_good);
}

static KeyState *key_state_new(const EtcdKV *kv) {
        KeyState *k = calloc(1, sizeof(KeyState));

        if (!k)
                return NULL;
        k->key = strdup(kv->key);
        k->value = strdup(kv->value);
        k->value_len = kv->value_len;
        k->mod_revision = kv->mod_revision;
        if (!k->key || !k->value) {
                key_state_free(k);
                return NULL;
        }
        return k;
}

static int keys_append(EtcdStore *s, KeyState *k) {
        KeyState **v = grow_array(s->keys, &s->alloc_keys, s->n_keys + 1, sizeof(KeyState *));

        if (!v)
                return -ENOMEM;
        s->keys = v;
        s->keys[s->n_keys++] = k;
        return strmap_put(&s->index, k->key, k);
}

/* A put seen by the watch: the key's new value (nothing if it is the
 * same revision). */
static int key_put(EtcdStore *s, const EtcdKV *kv) {
        KeyState *old = strmap_get(&s->index, kv->key), *k;
        int r;

        if (old && old->mod_revision == kv->mod_revision)
                return 0;
        k = key_state_new(kv);
        if (!k)
                return -ENOMEM;
        s->dirty = true;
        if (!old)
                return keys_append(s, k);
        key_state_inherit(k, old);
        for (size_t i = 0; i < s->n_keys; i++)
                if (s->keys[i] == old)
                        s->keys[i] = k;
        /* The index's entry borrows old->key until it is replaced. */
        r = strmap_put(&s->index, k->key, k);
        key_state_free(old);
        return r;
}

static void key_delete(EtcdStore *s, const char *key) {
        KeyState *old = strmap_get(&s->index, key);
        size_t j = 0;

        if (!old)
                return;
        for (size_t i = 0; i < s->n_keys; i++)
                if (s->keys[i] != old)
                        s->keys[j++] = s->keys[i];
        s->n_keys = j;
        key_state_free(old);
        index_rebuild(s);
        s->dirty = true;
}

/* A list: the keys become exactly these. Keys whose revision did not
 * change keep their parsed resource. */
static int keys_replace(EtcdStore *s, const EtcdKV *kvs, size_t n) {
        KeyState **v = calloc(n ? n : 1, sizeof(KeyState *));

        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                KeyState *old = strmap_get(&s->index, kvs[i].key);
                if (old && old->mod_revision == kvs[i].mod_revision) {
                        old->kept = true;
                        v[i] = old;
                        continue;
                }
                v[i] = key_state_new(&kvs[i]);
                if (!v[i]) {
                        for (size_t j = 0; j < i; j++)
                                if (v[j]->kept)
                                        v[j]->kept = false;
                                else
                                        key_state_free(v[j]);
                        free(v);
                        return -ENOMEM;
                }
        }
        for (size_t i = 0; i < n; i++) {
                KeyState *old = strmap_get(&s->index, kvs[i].key);
                if (old && old != v[i])
                        key_state_inherit(v[i], old);
        }
        for (size_t i = 0; i < s->n_keys; i++)
                if (!s->keys[i]->kept)
                        key_state_free(s->keys[i]);
        for (size_t i = 0; i < n; i++)
                v[i]->kept = false;
        free(s->keys);
        s->keys = v;
        s->n_keys = s->alloc_keys = n;
        index_rebuild(s);
        s->dirty = true;
        return 0;
}

/* ---- values ---- */

static int key_problem(KeyState *k, const ParseError *e) {
        k->problem = parse_error_format(e);
        k->public_problem = parse_error_format_redacted(e, REDACTED);
        return k->problem && k->public_problem ? 0 : -ENOMEM;
}

/* Parses and checks a key's value (once per revision): exactly one
 * resource, of the kind and name the key says, with its mod_revision for
 * resourceVersion. The value itself is not kept. */
static int key_parse(KeyState *k) {
        ParseError e = PARSE_ERROR_INIT;
        Resource *res = NULL;
        int r;

        if (k->parsed)
                return 0;
        k->parsed = true;
        r = etcd_value_decode(k->key, k->value, k->value_len, k->mod_revision, &res, &e);
        if (r == -ENOMEM) {
                parse_error_done(&e);
                return r;
        }
        if (r < 0) {
                r = key_problem(k, &e);
                parse_error_done(&e);
                return r;
        }
        k->res = res;
        k->value = mfree_ptr(k->value);
        k->last_good = resource_free(k->last_good);
        return 0;
}

static int compare_keys(const void *a, const void *b) {
        return strcmp((*(KeyState *const *)a)->key, (*(KeyState *const *)b)->key);
}

static int compare_entries(const void *a, const void *b) {
        return datastore_compare_identity(((const StoreEntry *)a)->res, ((const StoreEntry *)b)->res);
}

static bool keys_sorted(const EtcdStore *s) {
        for (size_t i = 1; i < s->n_keys; i++)
                if (strcmp(s->keys[i - 1]->key, s->keys[i]->key) > 0)
                        return false;
        return true;
}

static bool entries_sorted(const StoreEntry *v, size_t n) {
        for (size_t i = 1; i < n; i++)
                if (datastore_compare_identity(v[i - 1].res, v[i].res) > 0)
                        return false;
        return true;
}

/* The view from the keys. Keys in key order are, kind by kind, nearly
 * always in the view's order already (kind, namespace, name): one pass
 * per kind and a check replace the sorts that cost a sixth of an etcd
 * event at 10,000 keys. */
static int rebuild_view(EtcdStore *s) {
        StoreEntry *v;
        size_t n = 0;
        int r;

        datastore_clear_view(&s->base);
        if (!keys_sorted(s))
                qsort_safe(s->keys, s->n_keys, sizeof(KeyState *), compare_keys);
        v = new_array(s->n_keys, sizeof(StoreEntry));
        if (!v)
                return -ENOMEM;
        s->base.entries = v;
        for (size_t i = 0; i < s->n_keys; i++) {
                KeyState *k = s->keys[i];
                r = key_parse(k);
                if (r < 0)
                        return r;
                if (k->problem) {
                        r = datastore_add_problem(&s->base, k->key, k->public_problem, "%s", k->problem);
                        if (r < 0)
                                return r;
                }
        }
        /* A key whose value cannot be used keeps its previous resource. */
        for (int kind = 0; kind < _KIND_MAX; kind++)
                for (size_t i = 0; i < s->n_keys; i++) {
                        const Resource *res = s->keys[i]->res ? s->keys[i]->res : s->keys[i]->last_good;
                        if (res && (int)res->kind == kind)
                                v[n++] = (StoreEntry) { .res = (Resource *)res, .origin = s->keys[i]->key };
                }
        /* One key per identity: no duplicates to report. */
        if (!entries_sorted(v, n))
                qsort_safe(v, n, sizeof(StoreEntry), compare_entries);
        s->base.n_entries = n;
        s->base.view_generation++;
        s->dirty = false;
        /* Last, so that the Manager's LastError shows etcd's own problem. */
        return s->problem ? datastore_add_problem(&s->base, NULL, NULL, "%s", s->problem) : 0;
}

static void set_store_problem(EtcdStore *s, const char *message) {
        if (streq_ptr(s->problem, message))
                return;
        free(s->problem);
        s->problem = message ? strdup(message) : NULL;
        s->dirty = true;
}

/* ---- the backend ---- */

static int etcd_open(Datastore *base, const char *location, char **ret_error) {
        EtcdStore *s = (EtcdStore *)base;

        int r = etcd_client_new(location, &s->client, ret_error);

        /* On a host's loop a write (D-Bus Apply, Delete) waits for etcd:
         * not long. */
        if (r >= 0 && (base->flags & DATASTORE_NONBLOCK))
                etcd_client_set_timeout(s->client, WRITE_TIMEOUT_NONBLOCK_USEC);
        return r;
}

static void etcd_close(Datastore *base) {
        EtcdStore *s = (EtcdStore *)base;

        etcd_stream_cancel(s->stream);
        if (s->host)
                host_timer_remove(s->host, s->retry);
        etcd_client_free(s->client);
        keys_clear(s);
        free(s->problem);
}

static int set_revision(EtcdStore *s, int64_t revision) {
        free(s->base.revision);
        s->revision = revision;
        return asprintf(&s->base.revision, "%lld", (long long)revision) < 0 ? (s->base.revision = NULL, -ENOMEM) : 0;
}

/* The keys of the kinds the reader wants (datastore_only_kinds), one
 * range per kind, else the whole prefix. */
static int range_wanted(EtcdStore *s, EtcdKV **ret, size_t *ret_n, int64_t *ret_rev, char **err) {
        EtcdKV *all = NULL;
        size_t n_all = 0;

        if (!s->base.only_kinds)
                return etcd_range(s->client, ETCD_PREFIX, ETCD_PREFIX_END, ret, ret_n, ret_rev, err);
        for (int k = 0; k < _KIND_MAX; k++) {
                _cleanup_free_ char *from = NULL, *to = NULL;
                EtcdKV *v = NULL, *w;
                size_t n = 0;
                int r;

                if (!(s->base.only_kinds & 1u << k))
                        continue;
                if (asprintf(&from, ETCD_PREFIX "%s/", kind_info((ResourceKind)k)->plural) < 0 ||
                    asprintf(&to, ETCD_PREFIX "%s0", kind_info((ResourceKind)k)->plural) < 0) {
                        etcd_kvs_free(all, n_all);
                        return -ENOMEM;
                }
                r = etcd_range(s->client, from, to, &v, &n, ret_rev, err);
                w = r < 0 ? NULL : realloc(all, (n_all + n + 1) * sizeof(EtcdKV));
                if (!w) {
                        etcd_kvs_free(v, n);
                        etcd_kvs_free(all, n_all);
                        return r < 0 ? r : -ENOMEM;
                }
                all = w;
                memcpy(all + n_all, v, n * sizeof(EtcdKV));
                n_all += n;
                free(v);
        }
        *ret = all ? all : calloc(1, sizeof(EtcdKV));
        *ret_n = n_all;
        return *ret ? 0 : -ENOMEM;
}

/* hepctl's: the keys as etcd has them now. */
static int list_now(EtcdStore *s) {
        _cleanup_free_ char *err = NULL;
        EtcdKV *kvs = NULL;
        size_t n = 0;
        int64_t rev = 0;
        int r = range_wanted(s, &kvs, &n, &rev, &err);

        if (r < 0) {
                set_store_problem(s, err ? err : "cannot read etcd");
                r = rebuild_view(s);
                return r < 0 ? r : -EIO;
        }
        set_store_problem(s, NULL);
        r = keys_replace(s, kvs, n);
        etcd_kvs_free(kvs, n);
        if (r >= 0)
                r = set_revision(s, rev);
        return r;
}

static int etcd_refresh(Datastore *base) {
        EtcdStore *s = (EtcdStore *)base;
        int r;

        /* Unattached (one hepctl command), one list serves every read
         * until a write or a forget. */
        if (!s->host && !s->listed) {
                r = list_now(s);
                if (r < 0)
                        return r;
                s->listed = true;
        } else if (!s->dirty)
                return 0;
        r = rebuild_view(s);
        return r < 0 ? r : 1;
}

/* ---- live: list, then watch ---- */

static void start_list(EtcdStore *s);

static void notify(EtcdStore *s) {
        if (s->dirty && s->changed)
                s->changed(s->userdata);
}

static void schedule_retry(EtcdStore *s, const char *why) {
        uint64_t delay = s->retry_usec;

        if (s->relisting) { /* a forget's re-read has its answer: this */
                s->relisting = false;
                s->dirty = true;
        }
        set_store_problem(s, why);
        host_log(s->host, LOG_WARNING, "etcd: %s; the resources last read stay in force, retrying in %llu ms", why,
                 (unsigned long long)(delay / 1000));
        s->retry_usec = s->retry_usec * 2 > RETRY_MAX_USEC ? RETRY_MAX_USEC : s->retry_usec * 2;
        (void)host_timer_rearm(s->host, s->retry, delay);
        notify(s);
}

static void on_watch_event(void *userdata, const EtcdKV *kv, bool deleted) {
        EtcdStore *s = userdata;

        if (deleted)
                key_delete(s, kv->key);
        else if (key_put(s, kv) < 0)
                host_log(s->host, LOG_ERR, "etcd: out of memory recording '%s'", kv->key);
}

static void on_watch_batch(void *userdata, int64_t revision) {
        EtcdStore *s = userdata;

        if (revision > s->revision)
                (void)set_revision(s, revision);
        notify(s);
}

static void on_watch_end(void *userdata, int64_t compact_revision, const char *message) {
        EtcdStore *s = userdata;
        uint64_t since = now_usec() - s->last_list_usec;

        s->stream = NULL;
        host_log(s->host, compact_revision ? LOG_INFO : LOG_WARNING, "etcd: %s%s; listing again", message,
                 compact_revision ? "" : "");
        /* A fresh list, at most every RESYNC_MIN_USEC (Calico's watcher cache). */
        (void)host_timer_rearm(s->host, s->retry, since >= RESYNC_MIN_USEC ? 0 : RESYNC_MIN_USEC - since);
}

static void on_list_done(void *userdata, EtcdKV *kvs, size_t n, int64_t revision, const char *error) {
        static const EtcdWatchCallbacks cb = {
                .on_event = on_watch_event,
                .on_batch = on_watch_batch,
                .on_end = on_watch_end,
        };
        EtcdStore *s = userdata;
        int r;

        s->stream = NULL;
        if (error) {
                schedule_retry(s, error); /* ends a forget's re-read too */
                return;
        }
        s->relisting = false;
        r = keys_replace(s, kvs, n);
        if (r < 0) {
                schedule_retry(s, "out of memory");
                return;
        }
        if (s->synced && s->problem)
                host_log(s->host, LOG_INFO, "etcd: reachable again at %s", etcd_client_endpoints(s->client));
        s->synced = true;
        set_store_problem(s, NULL);
        s->retry_usec = RETRY_MIN_USEC;
        (void)set_revision(s, revision);
        r = etcd_watch_async(s->client, ETCD_PREFIX, ETCD_PREFIX_END, revision + 1, &cb, s, &s->stream);
        if (r < 0)
                schedule_retry(s, "cannot start watching");
        s->dirty = true;
        notify(s);
}

static void start_list(EtcdStore *s) {
        int r;

        etcd_stream_cancel(s->stream);
        s->stream = NULL;
        s->last_list_usec = now_usec();
        r = etcd_range_async(s->client, ETCD_PREFIX, ETCD_PREFIX_END, on_list_done, s, &s->stream);
        if (r < 0)
                schedule_retry(s, "cannot start listing");
}

static void on_retry(void *userdata) {
        start_list(userdata);
}

static int etcd_attach(Datastore *base, const hep_host *host, void (*changed)(void *userdata), void *userdata) {
        EtcdStore *s = (EtcdStore *)base;
        int r;

        if (s->host)
                return -EBUSY;
        r = etcd_client_attach(s->client, host);
        if (r < 0)
                return r;
        r = host_timer_add(host, UINT64_MAX, on_retry, s, &s->retry);
        if (r < 0)
                return r;
        s->host = host;
        s->changed = changed;
        s->userdata = userdata;
        s->retry_usec = RETRY_MIN_USEC;
        /* Until the first list answers, nothing is known: say so. */
        set_store_problem(s, "waiting for etcd's first answer");
        start_list(s);
        return 0;
}

static bool etcd_synced(const Datastore *base) {
        const EtcdStore *s = (const EtcdStore *)base;

        return !s->host || s->synced;
}

static void etcd_forget(Datastore *base) {
        EtcdStore *s = (EtcdStore *)base;

        s->listed = false;
        if (s->host) {
                s->relisting = true;
                start_list(s);
        }
}

static bool etcd_rereading(const Datastore *base) {
        return ((const EtcdStore *)base)->relisting;
}

/* ---- writing ---- */

static int with_revision(const Resource *r, int64_t revision, Resource **ret) {
        Resource *c;

        if (!ret)
                return 0;
        c = resource_copy(r);
        if (!c)
                return -ENOMEM;
        free(c->meta.resource_version);
        if (asprintf(&c->meta.resource_version, "%lld", (long long)revision) < 0) {
                c->meta.resource_version = NULL;
                resource_free(c);
                return -ENOMEM;
        }
        *ret = c;
        return 0;
}

/* The key as stored now, parsed: NULL in *ret if it is absent. */
static int read_key(EtcdStore *s, const char *key, KeyState **ret, char **ret_error) {
        EtcdKV *kvs = NULL;
        size_t n = 0;
        int64_t rev;
        int r = etcd_range(s->client, key, NULL, &kvs, &n, &rev, ret_error);

        *ret = NULL;
        if (r < 0)
                return r;
        if (n > 0) {
                *ret = key_state_new(&kvs[0]);
                r = *ret ? key_parse(*ret) : -ENOMEM;
        }
        etcd_kvs_free(kvs, n);
        return r;
}

static int etcd_create(Datastore *base, const Resource *r, Resource **ret, char **ret_error) {
        EtcdStore *s = (EtcdStore *)base;
        _cleanup_(resource_freep) Resource *c = resource_copy(r);
        _cleanup_free_ char *key = etcd_resource_key(r->kind, r->meta.namespace, r->meta.name), *value = NULL;
        EtcdTxnResult t = {};
        int k;

        s->listed = false; /* the next read lists again */
        if (!c || !key)
                return -ENOMEM;
        k = datastore_stamp_new(c);
        if (k == 0)
                k = etcd_value_encode(c, &value);
        if (k == 0)
                k = etcd_txn(s->client, key, "version", 0, value, &t, ret_error);
        if (k == 0 && !t.succeeded)
                k = STORE_EXISTS;
        if (k == 0)
                k = with_revision(c, t.revision, ret);
        etcd_txn_result_done(&t);
        return k;
}

static int etcd_update(Datastore *base, const Resource *r, Resource **ret, char **ret_error) {
        EtcdStore *s = (EtcdStore *)base;
        _cleanup_(resource_freep) Resource *c = resource_copy(r);
        _cleanup_free_ char *key = etcd_resource_key(r->kind, r->meta.namespace, r->meta.name), *value = NULL;
        KeyState *cur = NULL;
        EtcdTxnResult t = {};
        int k;

        s->listed = false; /* the next read lists again */
        if (!c || !key)
                return -ENOMEM;
        k = read_key(s, key, &cur, ret_error);
        if (k == 0 && !cur)
                k = STORE_NOT_FOUND;
        if (k == 0 && !isempty(r->meta.resource_version) &&
            strtoll(r->meta.resource_version, NULL, 10) != cur->mod_revision)
                k = STORE_CONFLICT;
        /* A stored value that cannot be used has no identity to keep. */
        if (k == 0 && cur->res)
                k = datastore_keep_stored_identity(c, cur->res);
        if (k == 0)
                k = etcd_value_encode(c, &value);
        if (k == 0)
                k = etcd_txn(s->client, key, "mod", cur->mod_revision, value, &t, ret_error);
        if (k == 0 && !t.succeeded)
                k = t.n_old ? STORE_CONFLICT : STORE_NOT_FOUND;
        if (k == 0)
                k = with_revision(c, t.revision, ret);
        etcd_txn_result_done(&t);
        key_state_free(cur);
        return k;
}

static int etcd_delete(Datastore *base, ResourceKind kind, const char *ns, const char *name, const char *rv,
                       Resource **ret, char **ret_error) {
        EtcdStore *s = (EtcdStore *)base;
        _cleanup_free_ char *key = etcd_resource_key(kind, ns, name);
        KeyState *cur = NULL;
        EtcdTxnResult t = {};
        int k;

        s->listed = false; /* the next read lists again */
        if (!key)
                return -ENOMEM;
        k = read_key(s, key, &cur, ret_error);
        if (k == 0 && !cur)
                k = STORE_NOT_FOUND;
        if (k == 0 && !isempty(rv) && strtoll(rv, NULL, 10) != cur->mod_revision)
                k = STORE_CONFLICT;
        if (k == 0)
                k = etcd_txn(s->client, key, "mod", cur->mod_revision, NULL, &t, ret_error);
        if (k == 0 && !t.succeeded)
                k = t.n_old ? STORE_CONFLICT : STORE_NOT_FOUND;
        if (k == 0 && ret && cur->res) {
                *ret = resource_copy(cur->res);
                k = *ret ? 0 : -ENOMEM;
        }
        etcd_txn_result_done(&t);
        key_state_free(cur);
        return k;
}

const DatastoreOps datastore_etcd_ops = {
        .scheme = "etcdv3",
        .size = sizeof(EtcdStore),
        .open = etcd_open,
        .close = etcd_close,
        .attach = etcd_attach,
        .refresh = etcd_refresh,
        .forget = etcd_forget,
        .synced = etcd_synced,
        .rereading = etcd_rereading,
        .create = etcd_create,
        .update = etcd_update,
        .remove = etcd_delete,
};
