/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The nftables backend: commits as netlink batches (nft-batch.h), through
 * libnftables where a batch cannot say something; see nft.h. */
#include "nft.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <nftables/libnftables.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "nft-batch.h"

#define BIG_TRANSACTION (256u * 1024)

struct NftBackend {
        struct nft_ctx *ctx;
        uint32_t portid; /* of ctx's netlink socket; 0 if unknown */
        NftBatchSocket *batch; /* full replaces; NULL: through libnftables */
        bool strict;           /* a full replace that cannot be a batch fails */
        unsigned fallbacks;
        char *fallback_reason;
        Ruleset *committed;
        bool cold; /* a transaction moved the generation since the cache was read */
        bool restore_flags; /* the next commit clears the table's flags */
        uint64_t kernel_usec; /* the last commit's time in the kernel; 0 if unknown */
};

/* A transaction that changes nothing but needs what our commands need in
 * the cache (every chain, set, counter and flowtable): the table declared
 * with nothing in it, and an element that is always there (compile.c's
 * ICMPv6 neighbour discovery types). If the table or the set is gone, it
 * fails whole and changes nothing. It does restore what someone changed
 * by hand in our table: that element if deleted, and the table's flags
 * (none: a table set dormant is active again), as a full replace does. */
#define WARM_SET "nd-types"
#define WARM_ELEMENT "130"
/* Declares our table with no flags: an existing one loses any it was given. */
#define TABLE_FLAGS_COMMAND "add table " HEP_TABLE_FAMILY " " HEP_TABLE_NAME " { }\n"
#define WARM_COMMANDS       \
        TABLE_FLAGS_COMMAND \
        "add element " HEP_TABLE_FAMILY " " HEP_TABLE_NAME " " WARM_SET " { " WARM_ELEMENT " }\n"

/* A NETLINK_NETFILTER socket not yet bound: how libnftables' own looks
 * right after nft_ctx_new() (it binds on its first send). */
static bool is_fresh_nft_socket(int fd) {
        struct sockaddr_nl sa = {};
        socklen_t len = sizeof(sa);
        int v = 0;
        socklen_t vlen = sizeof(v);

        if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &v, &vlen) < 0 || v != NETLINK_NETFILTER)
                return false;
        if (getsockname(fd, (struct sockaddr *)&sa, &len) < 0 || sa.nl_family != AF_NETLINK)
                return false;
        return sa.nl_pid == 0;
}

/* The fresh nftables sockets of this process (a few at most). */
typedef struct FreshSockets {
        int fds[8];
        size_t n;
} FreshSockets;

static void find_fresh_sockets(FreshSockets *ret) {
        DIR *d = opendir("/proc/self/fd");
        struct dirent *e;

        *ret = (FreshSockets) {};
        while (d && (e = readdir(d)) && ret->n < ELEMENTSOF(ret->fds)) {
                int fd = atoi(e->d_name);
                if (e->d_name[0] != '.' && fd != dirfd(d) && is_fresh_nft_socket(fd))
                        ret->fds[ret->n++] = fd;
        }
        if (d)
                closedir(d);
}

static bool has_fd(const FreshSockets *s, int fd) {
        for (size_t i = 0; i < s->n; i++)
                if (s->fds[i] == fd)
                        return true;
        return false;
}

/* libnftables (1.0.6) opens its netlink socket without SOCK_CLOEXEC and
 * does not say which fd it is: it is the fresh one that nft_ctx_new()
 * opened. Marks it close-on-exec, and binds it now (the kernel picks its
 * port id, as it would on the first send): the port id that names our
 * transactions in nftables' notifications (nft-monitor.h) is then known
 * before the first commit. */
static struct nft_ctx *ctx_new(uint32_t *ret_portid) {
        FreshSockets before, after;
        struct nft_ctx *ctx;

        find_fresh_sockets(&before);
        ctx = nft_ctx_new(NFT_CTX_DEFAULT);
        if (!ctx)
                return NULL;
        find_fresh_sockets(&after);
        *ret_portid = 0;
        for (size_t i = 0; i < after.n; i++) {
                struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
                socklen_t len = sizeof(sa);
                if (has_fd(&before, after.fds[i]))
                        continue;
                (void)fcntl(after.fds[i], F_SETFD, FD_CLOEXEC);
                if (bind(after.fds[i], (struct sockaddr *)&sa, sizeof(sa)) >= 0 &&
                    getsockname(after.fds[i], (struct sockaddr *)&sa, &len) >= 0)
                        *ret_portid = sa.nl_pid;
        }
        /* Errors come back as text in a buffer, not on our stderr. */
        nft_ctx_buffer_output(ctx);
        nft_ctx_buffer_error(ctx);
        return ctx;
}

int nft_backend_new(NftBackend **ret) {
        NftBackend *b = calloc(1, sizeof(NftBackend));
        const char *mode = getenv("HEP_NFT_BATCH");

        if (!b)
                return -ENOMEM;
        b->ctx = ctx_new(&b->portid);
        if (!b->ctx) {
                free(b);
                return -ENOMEM;
        }
        b->strict = mode && streq(mode, "strict");
        /* Without the socket, full replaces go through libnftables. */
        if (!mode || !streq(mode, "0"))
                (void)nft_batch_socket_new(&b->batch);
        *ret = b;
        return 0;
}

void nft_backend_use_batch(NftBackend *b, bool use) {
        if (!use)
                b->batch = nft_batch_socket_free(b->batch);
        else if (!b->batch)
                (void)nft_batch_socket_new(&b->batch);
}

uint32_t nft_backend_batch_portid(const NftBackend *b) {
        return b->batch ? nft_batch_socket_portid(b->batch) : 0;
}

unsigned nft_backend_fallbacks(const NftBackend *b, const char **ret_reason) {
        if (ret_reason)
                *ret_reason = b->fallback_reason;
        return b->fallbacks;
}

/* libnftables keeps a cache of what a transaction touched, allocated among
 * the much larger temporaries of parsing it: after a big transaction (the
 * first, a reload) those few live objects pin megabytes of otherwise free
 * heap. A fresh context refills its cache compactly on the next command. */
static void renew_ctx(NftBackend *b) {
        uint32_t portid;
        struct nft_ctx *ctx = ctx_new(&portid);

        if (!ctx)
                return;
        nft_ctx_free(b->ctx);
        b->ctx = ctx;
        b->portid = portid;
}

NftBackend *nft_backend_free(NftBackend *b) {
        if (!b)
                return NULL;
        ruleset_free(b->committed);
        nft_ctx_free(b->ctx);
        nft_batch_socket_free(b->batch);
        free(b->fallback_reason);
        free(b);
        return NULL;
}

void nft_backend_reset(NftBackend *b) {
        b->committed = ruleset_free(b->committed);
}

void nft_backend_restore_flags(NftBackend *b) {
        b->restore_flags = true;
}

const Ruleset *nft_backend_committed(const NftBackend *b) {
        return b->committed;
}

uint64_t nft_backend_kernel_usec(const NftBackend *b) {
        return b->kernel_usec;
}

uint32_t nft_backend_portid(const NftBackend *b) {
        return b->portid;
}

static int run_buffer(NftBackend *b, const char *cmds, char **ret_error) {
        const char *err;

        if (nft_run_cmd_from_buffer(b->ctx, cmds) == 0)
                return 0;
        err = nft_ctx_get_error_buffer(b->ctx);
        if (ret_error)
                *ret_error = strdup(err && *err ? err : "nftables transaction failed");
        return -EIO;
}

/* A commit as a netlink batch: a full replace when nothing is committed,
 * else the difference to what is. 1 if done (*ret_sent: something was
 * sent); 0 if the translation did not know something in rs or the kernel
 * refused the batch, so that libnftables commits from text (and reports
 * what is wrong, if anything is). In strict mode (the tests) the first is
 * a failure, and so is the second if libnftables then takes the same
 * commands. */
static int commit_by_batch(NftBackend *b, const Ruleset *rs, bool *ret_sent, bool *ret_refused, char **ret_error) {
        char *why = NULL;
        int r = b->committed ? nft_batch_diff(b->batch, b->committed, rs, b->restore_flags, &why)
                             : nft_batch_replace(b->batch, rs, &why);

        *ret_refused = false;
        if (r >= 0) {
                *ret_sent = !b->committed || r > 0;
                return 1;
        }
        if (r == -ENOMEM) {
                free(why);
                return r;
        }
        b->fallbacks++;
        free(b->fallback_reason);
        b->fallback_reason = why ? why : strdup(strerror(-r));
        *ret_refused = r != -EOPNOTSUPP;
        if (!b->strict || *ret_refused)
                return 0;
        if (ret_error && asprintf(ret_error, "no netlink batch (HEP_NFT_BATCH=strict): %s",
                                  b->fallback_reason ? b->fallback_reason : "") < 0)
                *ret_error = NULL;
        return r;
}

static void set_committed(NftBackend *b, Ruleset *rs) {
        if (b->committed != rs)
                ruleset_free(b->committed);
        b->committed = rs;
        b->restore_flags = false;
}

int nft_backend_commit(NftBackend *b, Ruleset *rs, char **ret_error) {
        StrBuf cmds = STRBUF_INIT;
        bool big, cmds_sent, sent = false, refused = false;
        int r;

        b->kernel_usec = 0;
        if (b->batch) {
                r = commit_by_batch(b, rs, &sent, &refused, ret_error);
                if (r < 0)
                        return r;
                if (r > 0) {
                        /* libnftables commits nothing while batches do:
                         * its cache needs no warming. */
                        b->cold = false;
                        b->kernel_usec = sent ? nft_batch_socket_kernel_usec(b->batch) : 0;
                        set_committed(b, rs);
                        return sent ? 1 : 0;
                }
        }
        if (b->committed) {
                if (b->restore_flags)
                        strbuf_append(&cmds, TABLE_FLAGS_COMMAND);
                ruleset_commands_diff(b->committed, rs, &cmds);
        } else
                ruleset_commands_replace(rs, &cmds);
        if (!strbuf_ok(&cmds))
                return -ENOMEM;
        r = cmds.len ? run_buffer(b, strbuf_str(&cmds), ret_error) : 0;
        cmds_sent = cmds.len > 0;
        big = cmds.len > BIG_TRANSACTION;
        /* After a big one the context is renewed (below) and left empty,
         * to keep memory low: the next commit reads the cache itself. */
        if (cmds.len)
                b->cold = !big;
        strbuf_done(&cmds);
        if (r < 0) {
                /* The kernel kept its old rules; resync in full next time. */
                nft_backend_reset(b);
                return r;
        }
        if (refused && b->strict) {
                /* A batch that differs from the text: a translation bug. */
                if (ret_error && asprintf(ret_error, "the kernel refused the netlink batch but took the same "
                                          "commands from libnftables (HEP_NFT_BATCH=strict): %s",
                                          b->fallback_reason) < 0)
                        *ret_error = NULL;
                nft_backend_reset(b);
                return -EPROTO;
        }
        set_committed(b, rs);
        if (big)
                renew_ctx(b);
        return r == 0 && cmds_sent ? 1 : 0;
}

static bool has_element(const NftSet *s, const char *element) {
        for (size_t i = 0; s && i < s->n_elements; i++)
                if (streq(s->elements[i], element))
                        return true;
        return false;
}

bool nft_backend_cold(const NftBackend *b) {
        return b->cold && b->committed;
}

void nft_backend_warm(NftBackend *b) {
        if (!nft_backend_cold(b) || !has_element(ruleset_find_set(b->committed, WARM_SET), WARM_ELEMENT))
                return;
        b->cold = false;
        /* A failure leaves the cache empty: the next commit reads it, as
         * without warming. */
        (void)nft_run_cmd_from_buffer(b->ctx, WARM_COMMANDS);
}

int nft_backend_query_json(NftBackend *b, const char *cmd, char **ret, char **ret_error) {
        unsigned flags = nft_ctx_output_get_flags(b->ctx);
        int r;

        nft_ctx_output_set_flags(b->ctx, flags | NFT_CTX_OUTPUT_JSON);
        r = run_buffer(b, cmd, ret_error);
        nft_ctx_output_set_flags(b->ctx, flags);
        b->cold = true; /* a listing reads a cache of its own */
        if (r < 0)
                return r;
        *ret = strdup(nft_ctx_get_output_buffer(b->ctx));
        return *ret ? 0 : -ENOMEM;
}
