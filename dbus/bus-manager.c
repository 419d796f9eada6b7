/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The Manager's methods that act: Apply and Delete (through the client
 * layer, as hepctl does) and Reload. The plugin's datastore never waits
 * for another writer (DATASTORE_NONBLOCK): a write it finds busy waits in
 * line on a timer instead, so the host's loop never waits. */
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
        case STORE_EXISTS:
                return BUS_ERROR("AlreadyExists");
        case STORE_NOT_FOUND:
                return BUS_ERROR("NotFound");
        case STORE_CONFLICT:
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

/* Queues a call to run again on a timer, in arrival order, for up to
 * WRITE_WAIT_MAX_USEC; false if it was answered instead (too many). */
static bool enqueue(BusService *s, DBusMessage *m) {
        QueuedWrite *w;

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
        return true;
}

/* Writes keep their order: while others wait, a new call waits behind
 * them. True if m was queued (or answered). */
static bool behind_others(BusService *s, DBusMessage *m) {
        if (!s->writes || s->retrying)
                return false;
        (void)enqueue(s, m);
        return true;
}

/* The datastore answered STORE_BUSY (a hepctl is writing): the host's
 * loop does not wait for it; the call waits in line instead. */
static void store_busy(BusService *s, DBusMessage *m) {
        if (s->retrying)
                s->store_busy = true; /* stays at the head of the line */
        else
                (void)enqueue(s, m);
}

void bus_on_writes_timer(void *userdata) {
        BusService *s = userdata;

        while (s->writes) {
                QueuedWrite *w = s->writes;
                s->retrying = true;
                s->store_busy = false;
                if (dbus_message_has_member(w->call, "Apply"))
                        bus_handle_apply(s, w->call);
                else
                        bus_handle_delete(s, w->call);
                s->retrying = false;
                if (s->store_busy && now_usec() < w->deadline) {
                        (void)host_timer_rearm(s->host, s->writes_timer, WRITE_RETRY_USEC);
                        return;
                }
                if (s->store_busy)
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
        _cleanup_free_ bool *done = NULL;
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
        if (behind_others(s, m))
                return;
        done = new_array(l.n, sizeof(bool));
        if (!done) {
                bus_reply_error(s, m, DBUS_ERROR_NO_MEMORY, "out of memory");
                return;
        }
        for (size_t i = 0; i < l.n; i++) {
                _cleanup_free_ char *err = NULL;
                r = client_execute(plugin_datastore(s->p), CLIENT_APPLY, l.v[i], NULL, &err);
                if (r == STORE_BUSY) {
                        /* All of it again later: applying twice is applying once. */
                        store_busy(s, m);
                        strbuf_done(&errors);
                        return;
                }
                if (r != 0) {
                        if (!first_error)
                                first_error = r;
                        strbuf_printf(&errors, "%s%s", errors.len ? "; " : "", err ? err : store_strerror(r));
                        continue;
                }
                done[i] = true;
                applied++;
        }
        if (applied && commit_after_write(s) < 0) {
                reply_not_enforced(s, m);
                strbuf_done(&errors);
                return;
        }
        if (first_error) {
                bus_reply_error(s, m, error_name(first_error), "%s%s", strbuf_str(&errors),
                                applied ? " (the other resources were applied)" : "");
                strbuf_done(&errors);
                return;
        }
        reply = bus_new_reply(s, m, &it, &o);
        if (!reply)
                return;
        out_open(&o, DBUS_TYPE_ARRAY, "o");
        for (size_t i = 0; i < l.n; i++)
                if (done[i] && l.v[i]->kind == KIND_HOST_ENDPOINT) {
                        bus_endpoint_path(l.v[i]->meta.name, path);
                        out_path(&o, path);
                }
        out_close(&o);
        bus_send(s, bus_new_reply_or_oom(m, &o, reply));
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
        if (behind_others(s, m))
                return;
        r = client_delete_by_name(plugin_datastore(s->p), k->kind, ns, name, NULL, &err);
        if (r == STORE_BUSY) {
                store_busy(s, m);
                return;
        }
        if (r != 0) {
                bus_reply_error(s, m, error_name(r), "%s", err ? err : store_strerror(r));
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

