/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A small etcd v3 client over etcd's JSON gateway (/v3/kv/range,
 * /v3/kv/txn, /v3/watch), over http.c: calls that wait for their answer
 * (hepctl, writes) and streams driven by the host's loop through the
 * plugin ABI's fd watches and timers (each stream its own non-blocking
 * connection), so the daemon's loop never blocks on etcd. Keys and values are bytes;
 * the gateway carries them in base64, which this file hides.
 *
 * A location is "URL[,URL...]" (http or https), optionally followed by
 * "?ca=FILE&cert=FILE&key=FILE" for TLS; calicoctl's ETCD_CA_CERT_FILE,
 * ETCD_CERT_FILE and ETCD_KEY_FILE fill what it leaves out, and
 * ETCD_USERNAME/ETCD_PASSWORD turn on etcd's authentication. Several
 * endpoints: a call that cannot reach one tries the next. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hostendpoint/plugin.h"
#include "macro.h"

typedef struct EtcdClient EtcdClient;

typedef struct EtcdKV {
        char *key;
        char *value; /* NUL-terminated; value_len bytes */
        size_t value_len;
        int64_t mod_revision, version;
} EtcdKV;

int etcd_client_new(const char *location, EtcdClient **ret, char **ret_error);
EtcdClient *etcd_client_free(EtcdClient *c);
DEFINE_CLEANUP_FUNC(EtcdClient, etcd_client_free)
/* The endpoints, for messages ("http://127.0.0.1:2379"). */
const char *etcd_client_endpoints(const EtcdClient *c);
/* Each synchronous call gives up after this long (default 10 s). */
void etcd_client_set_timeout(EtcdClient *c, uint64_t usec);

void etcd_kvs_free(EtcdKV *v, size_t n);

/* Every key from key (inclusive) to range_end (exclusive; NULL: key
 * alone), at the store's current revision (*ret_revision). */
int etcd_range(EtcdClient *c, const char *key, const char *range_end, EtcdKV **ret, size_t *ret_n,
               int64_t *ret_revision, char **ret_error);

/* A transaction on one key: if the compare holds, put value (or delete it
 * if value is NULL), else get it. compare: "version" (== 0: absent) or
 * "mod" (mod_revision == rev); rev < 0: no compare (delete at any
 * revision). *ret_succeeded says which branch ran; *ret_revision is the
 * store's revision after it (the new mod_revision of a put); *ret_old is
 * the key as it was (the else branch's get, or a delete's previous value),
 * with n 0 if it did not exist. */
typedef struct EtcdTxnResult {
        bool succeeded;
        int64_t revision;
        EtcdKV *old;
        size_t n_old;
} EtcdTxnResult;
int etcd_txn(EtcdClient *c, const char *key, const char *compare, int64_t rev, const char *value,
             EtcdTxnResult *ret, char **ret_error);
void etcd_txn_result_done(EtcdTxnResult *r);

/* ---- on the host's loop ---- */

int etcd_client_attach(EtcdClient *c, const hep_host *host);

typedef struct EtcdStream EtcdStream;
/* A list (range) whose answer arrives later: on_done(userdata, kvs, n,
 * revision, NULL) or (…, error message) when it failed. kvs are the
 * callee's. */
typedef void (*etcd_range_done)(void *userdata, EtcdKV *kvs, size_t n, int64_t revision, const char *error);
int etcd_range_async(EtcdClient *c, const char *key, const char *range_end, etcd_range_done done, void *userdata,
                     EtcdStream **ret);

/* A watch of [key, range_end) from start_revision, with previous values.
 * on_event for each change, in order (kv->value NULL for a delete);
 * on_end(userdata, compact_revision, message) when the watch ends: etcd
 * cancelled it (compact_revision > 0 when that revision was compacted
 * away), or the connection failed. */
typedef struct EtcdWatchCallbacks {
        void (*on_event)(void *userdata, const EtcdKV *kv, bool deleted);
        /* After each batch of events (one response), so the caller can
         * act once per batch. */
        void (*on_batch)(void *userdata, int64_t revision);
        void (*on_end)(void *userdata, int64_t compact_revision, const char *message);
} EtcdWatchCallbacks;
int etcd_watch_async(EtcdClient *c, const char *key, const char *range_end, int64_t start_revision,
                     const EtcdWatchCallbacks *cb, void *userdata, EtcdStream **ret);

/* Stops a stream; its callbacks are not called any more. NULL is fine. */
void etcd_stream_cancel(EtcdStream *s);
