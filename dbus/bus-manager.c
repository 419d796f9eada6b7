/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The Manager's methods that act: Apply and Delete (through the client
 * layer, as hepctl does) and Reload. A write that finds the datastore
 * locked by another writer waits in line on a timer, so the host's loop
 * never waits for the lock. */
#include <stdlib.h>
#include <string.h>

#include "bus-internal.h"
#include "check.h"
#include "client.h"
#include "host.h"
#include "syntax.h"

#define WRITE_RETRY_USEC (20ULL * 1000)
#define WRITE_WAIT_MAX_USEC (5ULL * 1000 * 1000)
#define WRITES_QUEUED_MAX 64

/* Our interfaces' error for a client/datastore failure. */
static const char *error_name(int r) {
        switch (r) {
        case -EEXIST:
                return BUS_ERROR("AlreadyExists");
        case -ENOENT:
                return BUS_ERROR("NotFound");
        case -ESTALE:
                return BUS_ERROR("Conflict");
        case -EINVAL:
        case -EOPNOTSUPP:
                return BUS_ERROR("InvalidResource");
        default:
                return BUS_ERROR("Datastore");
        }
}

/* ---- writes while a hepctl holds the datastore ---- */

static void queued_write_pop(BusService *s) {
        QueuedWrite *w = s->writes;

        s->writes = w->next;
        if (!s->writes)
                s->writes_tail = &s->writes;
        s->n_writes--;
        dbus_message_unref(w->call);
        free(w);
}

void bus_writes_drop(BusService *s, const char *reason) {
        while (s->writes) {
                if (reason)
                        bus_reply_error(s, s->writes->call, BUS_ERROR("Datastore"), "%s", reason);
                queued_write_pop(s);
        }
}

/* The datastore's write lock for an Apply or Delete, taken without
 * waiting: a hepctl may hold it, and the host's loop must not block. Then
 * the call waits in line (writes keep their order) and is run again on a
 * timer, for up to WRITE_WAIT_MAX_USEC. false: the call was queued or
 * answered; true: go ahead, then datastore_unlock(). */
static bool write_lock(BusService *s, DBusMessage *m) {
        QueuedWrite *w;
        int r;

        if (s->writes && !s->retrying)
                r = -EWOULDBLOCK; /* others are waiting already */
        else
                r = datastore_try_lock(plugin_datastore(s->p));
        if (r >= 0)
                return true;
        if (r != -EWOULDBLOCK) {
                bus_reply_error(s, m, BUS_ERROR("Datastore"), "Cannot lock %s: %s", plugin_datastore_spec(s->p),
                            strerror(-r));
                return false;
        }
        if (s->retrying) {
                s->lock_busy = true; /* stays at the head of the line */
                return false;
        }
        if (s->n_writes >= WRITES_QUEUED_MAX) {
                bus_reply_error(s, m, DBUS_ERROR_LIMITS_EXCEEDED, "%d writes are already waiting for %s",
                            WRITES_QUEUED_MAX, plugin_datastore_spec(s->p));
                return false;
        }
        w = calloc(1, sizeof(QueuedWrite));
        if (!w) {
                bus_reply_error(s, m, DBUS_ERROR_NO_MEMORY, "out of memory");
                return false;
        }
        *w = (QueuedWrite) { dbus_message_ref(m), now_usec() + WRITE_WAIT_MAX_USEC, NULL };
        *s->writes_tail = w;
        s->writes_tail = &w->next;
        /* The first in line starts the retries; later ones do not delay them. */
        if (s->n_writes++ == 0)
                (void)host_timer_rearm(s->host, s->writes_timer, WRITE_RETRY_USEC);
        return false;
}


/* Runs the queued writes in order, until one finds the lock taken. */
void bus_on_writes_timer(void *userdata) {
        BusService *s = userdata;

        while (s->writes) {
                QueuedWrite *w = s->writes;
                s->retrying = true;
                s->lock_busy = false;
                if (dbus_message_has_member(w->call, "Apply"))
                        bus_handle_apply(s, w->call);
                else
                        bus_handle_delete(s, w->call);
                s->retrying = false;
                if (s->lock_busy && now_usec() < w->deadline) {
                        (void)host_timer_rearm(s->host, s->writes_timer, WRITE_RETRY_USEC);
                        return;
                }
                if (s->lock_busy)
                        bus_reply_error(s, w->call, BUS_ERROR("Datastore"),
                                    "%s: %s stayed locked by another writer (a hepctl?) for %llu s",
                                    dbus_message_get_member(w->call), plugin_datastore_spec(s->p),
                                    (unsigned long long)(WRITE_WAIT_MAX_USEC / 1000000));
                queued_write_pop(s);
        }
}

/* Writes went through the plugin's own datastore: re-read it and commit
 * now, so that the reply follows the change's signals. */
static int commit_after_write(BusService *s) {
        return plugin_commit_written(s->p);
}

/* The write is in the datastore, but the kernel did not take the ruleset. */
static void reply_not_enforced(BusService *s, DBusMessage *m) {
        bus_reply_error(s, m, BUS_ERROR("Commit"), "Written to %s but not enforced yet (retrying): %s",
                    plugin_datastore_spec(s->p), plugin_commit_error(s->p) ? plugin_commit_error(s->p) : "the commit failed");
}

void bus_handle_apply(BusService *s, DBusMessage *m) {
        _cleanup_(resource_list_done) ResourceList l = RESOURCE_LIST_INIT;
        ParseError e = PARSE_ERROR_INIT;
        const char *doc;
        StrBuf errors = STRBUF_INIT;
        DBusMessage *reply;
        DBusMessageIter it;
        char path[BUS_PATH_MAX];
        size_t applied = 0;
        int r = 0, first_error = 0;
        Out o;

        if (!dbus_message_has_signature(m, "s") ||
            !dbus_message_get_args(m, NULL, DBUS_TYPE_STRING, &doc, DBUS_TYPE_INVALID)) {
                bus_reply_error(s, m, DBUS_ERROR_INVALID_ARGS, "Apply takes (s document), not (%s)",
                            dbus_message_get_signature(m));
                return;
        }
        /* Everything is read and validated before anything is written. */
        r = resources_parse_checked("Apply(document)", doc, strlen(doc), &l, &e);
        if (r < 0) {
                _cleanup_free_ char *msg = parse_error_format(&e);
                parse_error_done(&e);
                bus_reply_error(s, m, BUS_ERROR("InvalidResource"), "%s", msg ? msg : strerror(-r));
                return;
        }
        if (l.n == 0) {
                bus_reply_error(s, m, BUS_ERROR("InvalidResource"), "Apply(document): no resources specified");
                return;
        }
        if (!write_lock(s, m))
                return;
        reply = bus_new_reply(s, m, &it, &o);
        if (!reply) {
                datastore_unlock(plugin_datastore(s->p));
                return;
        }
        out_open(&o, DBUS_TYPE_ARRAY, "o");
        for (size_t i = 0; i < l.n; i++) {
                _cleanup_free_ char *err = NULL;
                r = client_execute(plugin_datastore(s->p), CLIENT_APPLY, l.v[i], NULL, &err);
                if (r < 0) {
                        if (!first_error)
                                first_error = r;
                        strbuf_printf(&errors, "%s%s", errors.len ? "; " : "", err ? err : strerror(-r));
                        continue;
                }
                applied++;
                if (l.v[i]->kind == KIND_HOST_ENDPOINT) {
                        bus_endpoint_path(l.v[i]->meta.name, path);
                        out_path(&o, path);
                }
        }
        datastore_unlock(plugin_datastore(s->p));
        out_close(&o);
        if (applied && commit_after_write(s) < 0) {
                dbus_message_unref(reply);
                reply_not_enforced(s, m);
                strbuf_done(&errors);
                return;
        }
        if (first_error) {
                dbus_message_unref(reply);
                bus_reply_error(s, m, error_name(first_error), "%s%s", strbuf_str(&errors),
                            applied ? " (the other resources were applied)" : "");
        } else
                bus_send(s, bus_new_reply_or_oom(m, &o, reply));
        strbuf_done(&errors);
}

void bus_handle_delete(BusService *s, DBusMessage *m) {
        _cleanup_free_ char *err = NULL, *ns = NULL;
        const char *kind, *name;
        const KindInfo *k;
        int r;

        if (!dbus_message_has_signature(m, "ss") ||
            !dbus_message_get_args(m, NULL, DBUS_TYPE_STRING, &kind, DBUS_TYPE_STRING, &name, DBUS_TYPE_INVALID)) {
                bus_reply_error(s, m, DBUS_ERROR_INVALID_ARGS, "Delete takes (s kind, s name), not (%s)",
                            dbus_message_get_signature(m));
                return;
        }
        k = kind_from_alias(kind);
        if (!k) {
                bus_reply_error(s, m, DBUS_ERROR_INVALID_ARGS, "Delete: argument kind: resource type '%.100s' is not supported",
                            kind);
                return;
        }
        const char *slash = strchr(name, '/');
        if (slash && k->namespaced) {
                ns = strndup(name, (size_t)(slash - name));
                if (!ns) {
                        bus_reply_error(s, m, DBUS_ERROR_NO_MEMORY, "out of memory");
                        return;
                }
                name = slash + 1;
                if (!syntax_is_namespace(ns)) {
                        bus_reply_error(s, m, DBUS_ERROR_INVALID_ARGS,
                                    "Delete: argument name: '%.100s' is not a namespace (a lower-case RFC 1123 label)",
                                    ns);
                        return;
                }
        }
        if (*name == 0) {
                bus_reply_error(s, m, DBUS_ERROR_INVALID_ARGS, "Delete: argument name is empty");
                return;
        }
        if (!write_lock(s, m))
                return;
        r = client_delete_by_name(plugin_datastore(s->p), k->kind, ns, name, NULL, &err);
        datastore_unlock(plugin_datastore(s->p));
        if (r < 0) {
                bus_reply_error(s, m, error_name(r), "%s", err ? err : strerror(-r));
                return;
        }
        if (commit_after_write(s) < 0) {
                reply_not_enforced(s, m);
                return;
        }
        bus_reply_empty(s, m);
}

void bus_handle_reload(BusService *s, DBusMessage *m) {
        if (!dbus_message_has_signature(m, "")) {
                bus_reply_error(s, m, DBUS_ERROR_INVALID_ARGS, "Reload takes no arguments");
                return;
        }
        plugin_reload(s->p);
        bus_reply_empty(s, m);
}

