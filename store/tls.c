/* SPDX-License-Identifier: GPL-2.0-or-later */
/* TLS through OpenSSL's libssl, loaded at the first https connection; see
 * tls.h. The functions come from a table filled by dlsym(), so the
 * library's macros (which expand to SSL_ctrl() and the like) are spelled
 * out here as the calls they stand for. */
#include "tls.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct {
        bool loaded;
        const SSL_METHOD *(*TLS_client_method)(void);
        SSL_CTX *(*SSL_CTX_new)(const SSL_METHOD *m);
        void (*SSL_CTX_free)(SSL_CTX *ctx);
        long (*SSL_CTX_ctrl)(SSL_CTX *ctx, int cmd, long larg, void *parg);
        int (*SSL_CTX_load_verify_locations)(SSL_CTX *ctx, const char *file, const char *dir);
        int (*SSL_CTX_set_default_verify_paths)(SSL_CTX *ctx);
        int (*SSL_CTX_use_certificate_chain_file)(SSL_CTX *ctx, const char *file);
        int (*SSL_CTX_use_PrivateKey_file)(SSL_CTX *ctx, const char *file, int type);
        int (*SSL_CTX_check_private_key)(const SSL_CTX *ctx);
        void (*SSL_CTX_set_verify)(SSL_CTX *ctx, int mode, SSL_verify_cb cb);
        SSL *(*SSL_new)(SSL_CTX *ctx);
        void (*SSL_free)(SSL *ssl);
        int (*SSL_set_fd)(SSL *ssl, int fd);
        long (*SSL_ctrl)(SSL *ssl, int cmd, long larg, void *parg);
        int (*SSL_set1_host)(SSL *ssl, const char *host);
        X509_VERIFY_PARAM *(*SSL_get0_param)(SSL *ssl);
        int (*SSL_connect)(SSL *ssl);
        int (*SSL_read)(SSL *ssl, void *buf, int n);
        int (*SSL_write)(SSL *ssl, const void *buf, int n);
        int (*SSL_get_error)(const SSL *ssl, int ret);
        long (*SSL_get_verify_result)(const SSL *ssl);
        /* libcrypto's, found through libssl's handle */
        int (*X509_VERIFY_PARAM_set1_ip_asc)(X509_VERIFY_PARAM *p, const char *ip);
        const char *(*X509_verify_cert_error_string)(long n);
        unsigned long (*ERR_get_error)(void);
        const char *(*ERR_reason_error_string)(unsigned long e);
        void (*ERR_clear_error)(void);
} ssl;

static int set_error(char **ret_error, const char *fmt, ...) _printf_(2, 3);
static int set_error(char **ret_error, const char *fmt, ...) {
        va_list ap;

        free(*ret_error);
        va_start(ap, fmt);
        if (vasprintf(ret_error, fmt, ap) < 0)
                *ret_error = NULL;
        va_end(ap);
        return -EPROTO;
}

static int ssl_load(char **ret_error) {
        static const char *const names[] = { "libssl.so.3", "libssl.so.1.1" };
        void *h = NULL;

        if (ssl.loaded)
                return 0;
        for (size_t i = 0; !h && i < ELEMENTSOF(names); i++)
                h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
        if (!h)
                return set_error(ret_error, "cannot load OpenSSL's libssl for https (%s); install libssl3", dlerror());
#define SYM(f)                                                                   \
        if (!(*(void **)&ssl.f = dlsym(h, #f)))                                  \
                return set_error(ret_error, "OpenSSL's libssl has no %s", #f);
        SYM(TLS_client_method)
        SYM(SSL_CTX_new)
        SYM(SSL_CTX_free)
        SYM(SSL_CTX_ctrl)
        SYM(SSL_CTX_load_verify_locations)
        SYM(SSL_CTX_set_default_verify_paths)
        SYM(SSL_CTX_use_certificate_chain_file)
        SYM(SSL_CTX_use_PrivateKey_file)
        SYM(SSL_CTX_check_private_key)
        SYM(SSL_CTX_set_verify)
        SYM(SSL_new)
        SYM(SSL_free)
        SYM(SSL_set_fd)
        SYM(SSL_ctrl)
        SYM(SSL_set1_host)
        SYM(SSL_get0_param)
        SYM(SSL_connect)
        SYM(SSL_read)
        SYM(SSL_write)
        SYM(SSL_get_error)
        SYM(SSL_get_verify_result)
        SYM(X509_VERIFY_PARAM_set1_ip_asc)
        SYM(X509_verify_cert_error_string)
        SYM(ERR_get_error)
        SYM(ERR_reason_error_string)
        SYM(ERR_clear_error)
#undef SYM
        ssl.loaded = true;
        return 0;
}

/* OpenSSL's reason for the last failure ("tlsv1 alert unknown ca"). */
static const char *ssl_reason(void) {
        /* The first queued error is the cause. */
        unsigned long e = ssl.ERR_get_error();
        const char *why = e ? ssl.ERR_reason_error_string(e) : NULL;

        ssl.ERR_clear_error();
        return why ? why : "unknown error";
}

/* A file OpenSSL could not use: the system's reason if it cannot even be
 * read, else OpenSSL's (not PEM, a key that does not match...). */
static int file_error(char **ret_error, const char *what, const char *file) {
        if (access(file, R_OK) < 0)
                return set_error(ret_error, "cannot read the %s %s: %s", what, file, strerror(errno));
        return set_error(ret_error, "cannot use the %s %s: %s", what, file, ssl_reason());
}

int tls_context_new(const char *ca, const char *cert, const char *key, TlsContext **ret, char **ret_error) {
        SSL_CTX *ctx;
        int r;

        r = ssl_load(ret_error);
        if (r < 0)
                return r;
        ssl.ERR_clear_error();
        ctx = ssl.SSL_CTX_new(ssl.TLS_client_method());
        if (!ctx)
                return -ENOMEM;
        ssl.SSL_CTX_ctrl(ctx, SSL_CTRL_SET_MIN_PROTO_VERSION, TLS1_2_VERSION, NULL);
        /* A write that cannot go whole goes in part, and its retry may
         * come from where the rest of the buffer then is. */
        ssl.SSL_CTX_ctrl(ctx, SSL_CTRL_MODE, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER, NULL);
        ssl.SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        if (ca ? ssl.SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1 : ssl.SSL_CTX_set_default_verify_paths(ctx) != 1)
                r = ca ? file_error(ret_error, "CA file", ca)
                       : set_error(ret_error, "cannot load the system's CA certificates: %s", ssl_reason());
        else if (cert && ssl.SSL_CTX_use_certificate_chain_file(ctx, cert) != 1)
                r = file_error(ret_error, "client certificate", cert);
        else if ((cert || key) && ssl.SSL_CTX_use_PrivateKey_file(ctx, key ? key : cert, SSL_FILETYPE_PEM) != 1)
                r = file_error(ret_error, "client key", key ? key : cert);
        else if (key && !cert)
                r = set_error(ret_error, "a client key (%s) without its certificate", key);
        else if (cert && ssl.SSL_CTX_check_private_key(ctx) != 1)
                r = set_error(ret_error, "the client key %s does not match the certificate %s", key ? key : cert, cert);
        if (r < 0) {
                ssl.SSL_CTX_free(ctx);
                return r;
        }
        *ret = (TlsContext *)ctx;
        return 0;
}

TlsContext *tls_context_free(TlsContext *t) {
        if (t)
                ssl.SSL_CTX_free((SSL_CTX *)t);
        return NULL;
}

int tls_session_new(TlsContext *t, int fd, const char *host, TlsSession **ret, char **ret_error) {
        SSL *s = ssl.SSL_new((SSL_CTX *)t);
        unsigned char addr[16];
        int ok;

        if (!s)
                return -ENOMEM;
        if (inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1)
                /* An address: no SNI (RFC 6066 forbids it), its IP names. */
                ok = ssl.X509_VERIFY_PARAM_set1_ip_asc(ssl.SSL_get0_param(s), host);
        else
                ok = ssl.SSL_set1_host(s, host) &&
                     ssl.SSL_ctrl(s, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, (void *)host);
        if (!ok || ssl.SSL_set_fd(s, fd) != 1) {
                ssl.SSL_free(s);
                return set_error(ret_error, "cannot set up TLS for %s: %s", host, ssl_reason());
        }
        *ret = (TlsSession *)s;
        return 0;
}

TlsSession *tls_session_free(TlsSession *s) {
        if (s)
                ssl.SSL_free((SSL *)s);
        return NULL;
}

/* An alert is the server refusing the session (often the client's
 * certificate: "bad certificate", "unknown ca", "certificate required"). */
static int tls_failure(char **ret_error, bool handshake) {
        const char *why = ssl_reason();

        if (strncmp(why, "sslv3 alert ", 12) == 0 || strncmp(why, "tlsv1 alert ", 12) == 0 ||
            strncmp(why, "tlsv13 alert ", 13) == 0)
                return set_error(ret_error, "the server refused the TLS session: %s", strchr(why, ' ') + 7);
        return set_error(ret_error, "TLS%s: %s", handshake ? " handshake failed" : "", why);
}

/* What a failed SSL_ call means: -EAGAIN (and which readiness), 0 for the
 * end of the stream, or an error with its sentence. */
static int outcome(SSL *s, int ret, bool handshake, bool *want_write, char **ret_error) {
        int e = ssl.SSL_get_error(s, ret);
        long v;

        switch (e) {
        case SSL_ERROR_WANT_READ:
                *want_write = false;
                return -EAGAIN;
        case SSL_ERROR_WANT_WRITE:
                *want_write = true;
                return -EAGAIN;
        case SSL_ERROR_ZERO_RETURN:
                return 0;
        case SSL_ERROR_SYSCALL:
                if (errno == 0 || errno == EAGAIN)
                        return set_error(ret_error, "the server closed the connection during TLS%s",
                                         handshake ? "'s handshake" : "");
                /* etcd refusing a client certificate after TLS 1.3's
                 * handshake may reset the connection before its alert is read. */
                if (errno == ECONNRESET)
                        return set_error(ret_error, "the server reset the TLS connection%s",
                                         handshake ? " during the handshake" : "");
                return set_error(ret_error, "TLS: %s", strerror(errno));
        default:
                v = ssl.SSL_get_verify_result(s);
                if (handshake && v != X509_V_OK)
                        return set_error(ret_error, "certificate verify failed: %s",
                                         ssl.X509_verify_cert_error_string(v));
                return tls_failure(ret_error, handshake);
        }
}

int tls_handshake(TlsSession *t, bool *want_write, char **ret_error) {
        SSL *s = (SSL *)t;
        int ret;

        ssl.ERR_clear_error();
        errno = 0;
        ret = ssl.SSL_connect(s);
        if (ret == 1)
                return 0;
        ret = outcome(s, ret, true, want_write, ret_error);
        return ret == 0 ? set_error(ret_error, "the server closed the connection during TLS's handshake") : ret;
}

ssize_t tls_read(TlsSession *t, void *buf, size_t n, bool *want_write, char **ret_error) {
        SSL *s = (SSL *)t;
        int ret;

        ssl.ERR_clear_error();
        errno = 0;
        ret = ssl.SSL_read(s, buf, n > INT32_MAX ? INT32_MAX : (int)n);
        return ret > 0 ? ret : outcome(s, ret, false, want_write, ret_error);
}

ssize_t tls_write(TlsSession *t, const void *buf, size_t n, bool *want_write, char **ret_error) {
        SSL *s = (SSL *)t;
        int ret;

        ssl.ERR_clear_error();
        errno = 0;
        ret = ssl.SSL_write(s, buf, n > INT32_MAX ? INT32_MAX : (int)n);
        if (ret > 0)
                return ret;
        ret = outcome(s, ret, false, want_write, ret_error);
        return ret == 0 ? set_error(ret_error, "the server closed the connection") : ret;
}
