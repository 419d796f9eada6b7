/* SPDX-License-Identifier: GPL-2.0-or-later */
/* TLS for http.c, with OpenSSL's libssl loaded (dlopen) the first time an
 * https endpoint is used: a daemon on a directory, or on plain-http etcd,
 * never maps libssl and libcrypto. Non-blocking: each call that cannot
 * finish says which readiness of the socket it waits for. Errors are
 * sentences for the user ("certificate verify failed: unable to get local
 * issuer certificate"). */
#pragma once

#include <stddef.h>
#include <sys/types.h>

#include "macro.h"

typedef struct TlsContext TlsContext; /* CA and client certificate, shared by connections */
typedef struct TlsSession TlsSession; /* one connection's TLS */

/* ca NULL: the system's CAs; cert and key both or neither. */
int tls_context_new(const char *ca, const char *cert, const char *key, TlsContext **ret, char **ret_error);
TlsContext *tls_context_free(TlsContext *t);
DEFINE_CLEANUP_FUNC(TlsContext, tls_context_free)

/* TLS on the connected socket fd to host (a name: SNI and its
 * certificate's DNS names; an IP address: its certificate's IP names). */
int tls_session_new(TlsContext *t, int fd, const char *host, TlsSession **ret, char **ret_error);
TlsSession *tls_session_free(TlsSession *s);

/* Each returns -EAGAIN with *want_write saying whether the socket must be
 * writable (else readable) before the call is made again, or another
 * negative errno with *ret_error set. */
int tls_handshake(TlsSession *s, bool *want_write, char **ret_error);
/* Bytes read, 0 at the end of the stream. */
ssize_t tls_read(TlsSession *s, void *buf, size_t n, bool *want_write, char **ret_error);
ssize_t tls_write(TlsSession *s, const void *buf, size_t n, bool *want_write, char **ret_error);
