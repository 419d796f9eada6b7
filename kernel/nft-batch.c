/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The ruleset IR as one nf_tables netlink batch (libnftnl objects, sent
 * with libmnl's socket); see nft-batch.h. Each rule's statements are read
 * the way nft would parse them, for exactly the shapes compile*.c writes,
 * and turned into the expressions nft 1.0.6 would generate for them
 * (implicit protocol dependencies, merged adjacent payload matches,
 * shortened prefix loads), so that the kernel holds and lists the same
 * table whichever way it was committed. */
#include "nft-batch.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
/* After <netinet/in.h> (through arpa/inet.h), so that the kernel headers defer to libc's. */
#include <libmnl/libmnl.h>
#include <libnftnl/batch.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/object.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "strmap.h"

/* Batch pages: the kernel takes at most 1024 iovecs in one sendmsg(), so
 * pages of 1 MiB carry up to 1 GiB; no message comes near the overrun. */
#define PAGE_BYTES (1u << 20)
#define OVERRUN_BYTES (128u << 10)
/* Elements go in messages of about this much: their list is a netlink
 * attribute, whose length is 16 bits. */
#define ELEMENTS_BYTES (16u << 10)
#define NAME_MAX_BYTES 512

struct NftBatchSocket {
        struct mnl_socket *nl;
        uint32_t portid;
        uint32_t seq_base; /* of the last batch's sequence numbers */
        uint64_t kernel_usec; /* the last batch's sendmsg() */
};

int nft_batch_socket_new(NftBatchSocket **ret) {
        NftBatchSocket *s = calloc(1, sizeof(NftBatchSocket));
        int one = 1;

        if (!s)
                return -ENOMEM;
        s->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
        if (!s->nl || mnl_socket_bind(s->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
                int r = -errno;
                nft_batch_socket_free(s);
                return r;
        }
        /* Errors without a copy of the message they answer. */
        (void)setsockopt(mnl_socket_get_fd(s->nl), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
        s->portid = mnl_socket_get_portid(s->nl);
        *ret = s;
        return 0;
}

NftBatchSocket *nft_batch_socket_free(NftBatchSocket *s) {
        if (!s)
                return NULL;
        if (s->nl)
                mnl_socket_close(s->nl);
        free(s);
        return NULL;
}

uint64_t nft_batch_socket_kernel_usec(const NftBatchSocket *s) {
        return s->kernel_usec;
}

uint32_t nft_batch_socket_portid(const NftBatchSocket *s) {
        return s->portid;
}

/* ---- the batch ---- */

typedef struct Batch {
        struct nftnl_batch *b;
        uint32_t seq, first_seq;
        struct nlmsghdr *last; /* the last message: it asks for the acknowledgement */
        uint32_t last_seq;
        /* Where each kind of message starts, to say which one the kernel refused. */
        uint32_t counters_seq, chains_seq, sets_seq, elements_seq, rules_seq;
        char *error;           /* the first thing the translation does not know */
        /* A difference's messages, each said where it starts (a full
         * replace says them by the *_seq above instead). */
        struct BatchNote {
                uint32_t seq;
                char *what;
        } *notes;
        size_t n_notes, alloc_notes;
} Batch;

/* What the messages from the next one on do, for an error to name. */
static int note(Batch *bt, const char *fmt, ...) _printf_(2, 3);
static int note(Batch *bt, const char *fmt, ...) {
        struct BatchNote *v = grow_array(bt->notes, &bt->alloc_notes, bt->n_notes + 1, sizeof(struct BatchNote));
        va_list ap;
        int r;

        if (!v)
                return -ENOMEM;
        bt->notes = v;
        va_start(ap, fmt);
        r = vasprintf(&v[bt->n_notes].what, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        v[bt->n_notes++].seq = bt->seq;
        return 0;
}

static int unsupported(Batch *bt, const char *fmt, ...) _printf_(2, 3);
static int unsupported(Batch *bt, const char *fmt, ...) {
        va_list ap;

        if (!bt->error) {
                va_start(ap, fmt);
                if (vasprintf(&bt->error, fmt, ap) < 0)
                        bt->error = NULL;
                va_end(ap);
        }
        return -EOPNOTSUPP;
}

static struct nlmsghdr *msg_begin(Batch *bt, uint16_t type, uint16_t flags) {
        struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(nftnl_batch_buffer(bt->b), type, NFPROTO_INET, flags, bt->seq++);

        bt->last = nlh;
        bt->last_seq = bt->seq - 1;
        return nlh;
}

static int msg_end(Batch *bt) {
        return nftnl_batch_update(bt->b) < 0 ? -ENOMEM : 0;
}

/* ---- values ---- */

typedef enum ValueKind {
        V_HEX32, /* a mark: host byte order */
        V_PROTO,
        V_NFPROTO,
        V_IFNAME,
        V_IP4,
        V_IP6,
        V_PORT,
        V_U8,
        V_CTSTATE,
        V_CTDIR,
        V_CTSTATUS,
} ValueKind;

typedef struct Value {
        uint8_t b[16];
        uint32_t len;
} Value;

static const struct {
        const char *name;
        uint8_t proto;
} protocols[] = {
        { "icmp", 1 }, { "igmp", 2 }, { "tcp", 6 }, { "udp", 17 }, { "gre", 47 }, { "esp", 50 },
        { "ah", 51 }, { "ipv6-icmp", 58 }, { "icmpv6", 58 }, { "sctp", 132 }, { "udplite", 136 },
};

static bool parse_uint(const char *s, unsigned long max, int base, unsigned long *ret) {
        char *end;
        unsigned long v;

        if (!*s || *s == '-' || *s == '+')
                return false;
        errno = 0;
        v = strtoul(s, &end, base);
        if (errno || *end || v > max)
                return false;
        *ret = v;
        return true;
}

static bool parse_proto(const char *s, Value *v) {
        unsigned long n;

        v->len = 1;
        if (parse_uint(s, 255, 10, &n)) {
                v->b[0] = (uint8_t)n;
                return true;
        }
        for (size_t i = 0; i < ELEMENTSOF(protocols); i++)
                if (streq(s, protocols[i].name)) {
                        v->b[0] = protocols[i].proto;
                        return true;
                }
        return false;
}

/* A list of flag names ("established,related") into a host-order mask. */
static bool parse_flags(const char *s, const char *const *names, const uint32_t *bits, size_t n, Value *v) {
        uint32_t mask = 0;
        char buf[128], *save = NULL;

        if (strlen(s) >= sizeof(buf))
                return false;
        strcpy(buf, s);
        for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                size_t i;
                for (i = 0; i < n && !streq(t, names[i]); i++)
                        ;
                if (i == n)
                        return false;
                mask |= bits[i];
        }
        v->len = 4;
        memcpy(v->b, &mask, 4);
        return mask != 0;
}

/* One value of kind k; addresses may carry a prefix length (*prefix, else
 * the full length), ports a range (hi, else equal to lo). */
static bool parse_value(ValueKind k, const char *s, Value *lo, Value *hi, unsigned *prefix) {
        static const char *const states[] = { "invalid", "established", "related", "new", "untracked" };
        static const uint32_t state_bits[] = { 1, 2, 4, 8, 64 };
        static const char *const statuses[] = { "expected", "seen-reply", "assured", "confirmed", "snat", "dnat" };
        static const uint32_t status_bits[] = { 1, 2, 4, 8, 16, 32 };
        char buf[64];
        unsigned long n, m;
        const char *dash, *slash;

        *lo = (Value) {};
        if (prefix)
                *prefix = UINT_MAX;
        switch (k) {
        case V_HEX32: {
                uint32_t x;
                if (!parse_uint(s, UINT32_MAX, 0, &n))
                        return false;
                x = (uint32_t)n;
                memcpy(lo->b, &x, 4);
                lo->len = 4;
                break;
        }
        case V_PROTO:
                if (!parse_proto(s, lo))
                        return false;
                break;
        case V_NFPROTO:
                lo->len = 1;
                if (streq(s, "ipv4"))
                        lo->b[0] = NFPROTO_IPV4;
                else if (streq(s, "ipv6"))
                        lo->b[0] = NFPROTO_IPV6;
                else
                        return false;
                break;
        case V_IFNAME: {
                size_t l = strlen(s);
                /* Quoted, without wildcards or escapes, shorter than IFNAMSIZ. */
                if (l < 3 || s[0] != '"' || s[l - 1] != '"' || l - 2 >= 16 || strcspn(s + 1, "*\\") < l - 2)
                        return false;
                memcpy(lo->b, s + 1, l - 2);
                lo->len = 16;
                break;
        }
        case V_IP4:
        case V_IP6: {
                int family = k == V_IP4 ? AF_INET : AF_INET6;
                unsigned full = k == V_IP4 ? 32 : 128;
                slash = strchr(s, '/');
                if (strlen(s) >= sizeof(buf))
                        return false;
                strcpy(buf, s);
                if (slash) {
                        buf[slash - s] = 0;
                        if (!prefix || !parse_uint(slash + 1, full, 10, &n))
                                return false;
                        *prefix = (unsigned)n;
                } else if (prefix)
                        *prefix = full;
                if (inet_pton(family, buf, lo->b) != 1)
                        return false;
                lo->len = full / 8;
                break;
        }
        case V_PORT: {
                uint16_t p;
                dash = strchr(s, '-');
                if (strlen(s) >= sizeof(buf))
                        return false;
                strcpy(buf, s);
                if (dash)
                        buf[dash - s] = 0;
                if (!parse_uint(buf, 65535, 10, &n) || (dash && (!hi || !parse_uint(dash + 1, 65535, 10, &m) || m < n)))
                        return false;
                p = htons((uint16_t)n);
                memcpy(lo->b, &p, 2);
                lo->len = 2;
                if (hi) {
                        *hi = *lo;
                        if (dash) {
                                p = htons((uint16_t)m);
                                memcpy(hi->b, &p, 2);
                        }
                }
                return true;
        }
        case V_U8:
                if (!parse_uint(s, 255, 10, &n))
                        return false;
                lo->b[0] = (uint8_t)n;
                lo->len = 1;
                break;
        case V_CTSTATE:
                return parse_flags(s, states, state_bits, ELEMENTSOF(states), lo);
        case V_CTSTATUS:
                return parse_flags(s, statuses, status_bits, ELEMENTSOF(statuses), lo);
        case V_CTDIR:
                lo->len = 1;
                if (streq(s, "original"))
                        lo->b[0] = 0;
                else if (streq(s, "reply"))
                        lo->b[0] = 1;
                else
                        return false;
                break;
        }
        if (hi)
                *hi = *lo;
        return true;
}

/* ---- what rules match on ---- */

typedef enum FieldKind {
        F_META,
        F_CT,
        F_PAYLOAD,
} FieldKind;

typedef struct Field {
        const char *name;
        FieldKind kind;
        uint32_t key; /* meta or ct key, or the payload's base */
        uint32_t offset, len;
        ValueKind value;
        uint8_t nfproto; /* what nft puts in front of it (a dependency), 0 if nothing */
        uint8_t l4proto;
        bool flags; /* a bare value tests flags: ct state, ct status */
} Field;

static const Field fields[] = {
        { "meta mark", F_META, NFT_META_MARK, 0, 4, V_HEX32, 0, 0, false },
        { "meta l4proto", F_META, NFT_META_L4PROTO, 0, 1, V_PROTO, 0, 0, false },
        { "meta nfproto", F_META, NFT_META_NFPROTO, 0, 1, V_NFPROTO, 0, 0, false },
        { "iifname", F_META, NFT_META_IIFNAME, 0, 16, V_IFNAME, 0, 0, false },
        { "oifname", F_META, NFT_META_OIFNAME, 0, 16, V_IFNAME, 0, 0, false },
        { "ct state", F_CT, NFT_CT_STATE, 0, 4, V_CTSTATE, 0, 0, true },
        { "ct status", F_CT, NFT_CT_STATUS, 0, 4, V_CTSTATUS, 0, 0, true },
        { "ct direction", F_CT, NFT_CT_DIRECTION, 0, 1, V_CTDIR, 0, 0, false },
        { "ct mark", F_CT, NFT_CT_MARK, 0, 4, V_HEX32, 0, 0, false },
        { "ip saddr", F_PAYLOAD, NFT_PAYLOAD_NETWORK_HEADER, 12, 4, V_IP4, NFPROTO_IPV4, 0, false },
        { "ip daddr", F_PAYLOAD, NFT_PAYLOAD_NETWORK_HEADER, 16, 4, V_IP4, NFPROTO_IPV4, 0, false },
        { "ip6 saddr", F_PAYLOAD, NFT_PAYLOAD_NETWORK_HEADER, 8, 16, V_IP6, NFPROTO_IPV6, 0, false },
        { "ip6 daddr", F_PAYLOAD, NFT_PAYLOAD_NETWORK_HEADER, 24, 16, V_IP6, NFPROTO_IPV6, 0, false },
        { "th sport", F_PAYLOAD, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 2, V_PORT, 0, 0, false },
        { "th dport", F_PAYLOAD, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, V_PORT, 0, 0, false },
        { "icmp type", F_PAYLOAD, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1, V_U8, NFPROTO_IPV4, IPPROTO_ICMP, false },
        { "icmp code", F_PAYLOAD, NFT_PAYLOAD_TRANSPORT_HEADER, 1, 1, V_U8, NFPROTO_IPV4, IPPROTO_ICMP, false },
        { "icmpv6 type", F_PAYLOAD, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1, V_U8, NFPROTO_IPV6, IPPROTO_ICMPV6, false },
        { "icmpv6 code", F_PAYLOAD, NFT_PAYLOAD_TRANSPORT_HEADER, 1, 1, V_U8, NFPROTO_IPV6, IPPROTO_ICMPV6, false },
};

/* ---- reading statements ---- */

static void skip_spaces(const char **p) {
        while (**p == ' ')
                (*p)++;
}

/* Consumes words (one or more, single spaces between) if the text starts
 * with them, followed by a space or the end. */
static bool eat(const char **p, const char *words) {
        size_t n = strlen(words);

        if (strncmp(*p, words, n) != 0 || ((*p)[n] != ' ' && (*p)[n] != '\0'))
                return false;
        *p += n;
        skip_spaces(p);
        return true;
}

/* The next token, up to a space; a quoted one keeps its quotes. */
static bool token(const char **p, char *buf, size_t size) {
        size_t n;

        if (**p == '"') {
                const char *end = strchr(*p + 1, '"');
                n = end ? (size_t)(end - *p) + 1 : 0;
        } else
                n = strcspn(*p, " ");
        if (n == 0 || n >= size || ((*p)[n] != ' ' && (*p)[n] != '\0'))
                return false;
        memcpy(buf, *p, n);
        buf[n] = 0;
        *p += n;
        skip_spaces(p);
        return true;
}

/* A quoted token, without its quotes. */
static bool quoted(const char **p, char *buf, size_t size) {
        size_t n;

        if (**p != '"' || !token(p, buf, size))
                return false;
        n = strlen(buf);
        memmove(buf, buf + 1, n - 2);
        buf[n - 2] = 0;
        return true;
}

static const Field *field_at(const char **p) {
        for (size_t i = 0; i < ELEMENTSOF(fields); i++)
                if (eat(p, fields[i].name))
                        return &fields[i];
        return NULL;
}

/* ---- expressions ---- */

typedef struct RuleCtx {
        Batch *bt;
        struct nftnl_rule *rule;
        const char *text;
        uint8_t nfproto, l4proto; /* what the rule has established so far */
        bool have_l4proto;
        /* An equality on payload not yet added: nft merges adjacent ones
         * (up to 4 bytes) into one load and comparison. */
        bool pending;
        uint32_t p_base, p_offset;
        Value p_value;
} RuleCtx;

static int rule_unsupported(RuleCtx *c, const char *what) {
        return unsupported(c->bt, "%s in \"%s\"", what, c->text);
}

static int add_raw(RuleCtx *c, struct nftnl_expr *e) {
        if (!e)
                return -ENOMEM;
        nftnl_rule_add_expr(c->rule, e);
        return 0;
}

static struct nftnl_expr *expr_new(const char *name) {
        return nftnl_expr_alloc(name);
}

static struct nftnl_expr *e_payload(uint32_t base, uint32_t offset, uint32_t len, uint32_t dreg) {
        struct nftnl_expr *e = expr_new("payload");

        if (e) {
                nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, dreg);
                nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
                nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
                nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
        }
        return e;
}

static struct nftnl_expr *e_cmp(uint32_t op, uint32_t sreg, const void *data, uint32_t len) {
        struct nftnl_expr *e = expr_new("cmp");

        if (e) {
                nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, sreg);
                nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
                nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
        }
        return e;
}

static int flush_pending(RuleCtx *c) {
        int r;

        if (!c->pending)
                return 0;
        c->pending = false;
        r = add_raw(c, e_payload(c->p_base, c->p_offset, c->p_value.len, NFT_REG_1));
        if (r >= 0)
                r = add_raw(c, e_cmp(NFT_CMP_EQ, NFT_REG_1, c->p_value.b, c->p_value.len));
        return r;
}

static int add(RuleCtx *c, struct nftnl_expr *e) {
        int r = flush_pending(c);

        if (r < 0) {
                if (e)
                        nftnl_expr_free(e);
                return r;
        }
        return add_raw(c, e);
}

static int add_payload_eq(RuleCtx *c, uint32_t base, uint32_t offset, const Value *v) {
        int r;

        if (c->pending && c->p_base == base && c->p_offset + c->p_value.len == offset && c->p_value.len + v->len <= 4) {
                memcpy(c->p_value.b + c->p_value.len, v->b, v->len);
                c->p_value.len += v->len;
                return 0;
        }
        r = flush_pending(c);
        if (r < 0)
                return r;
        c->pending = true;
        c->p_base = base;
        c->p_offset = offset;
        c->p_value = *v;
        return 0;
}

static int add_meta_load(RuleCtx *c, uint32_t key, uint32_t dreg) {
        struct nftnl_expr *e = expr_new("meta");

        if (e) {
                nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
                nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, dreg);
        }
        return add(c, e);
}

static int add_load(RuleCtx *c, const Field *f, uint32_t len, uint32_t dreg) {
        struct nftnl_expr *e;

        switch (f->kind) {
        case F_META:
                return add_meta_load(c, f->key, dreg);
        case F_CT:
                e = expr_new("ct");
                if (e) {
                        nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, f->key);
                        nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, dreg);
                }
                return add(c, e);
        case F_PAYLOAD:
                return add(c, e_payload(f->key, f->offset, len, dreg));
        }
        return -EINVAL;
}

static int add_cmp(RuleCtx *c, uint32_t op, const void *data, uint32_t len) {
        return add(c, e_cmp(op, NFT_REG_1, data, len));
}

static int add_bitwise(RuleCtx *c, uint32_t len, const void *mask, const void *xor) {
        struct nftnl_expr *e = expr_new("bitwise");

        if (e) {
                nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
                nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
                nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
                nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, len);
                nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, xor, len);
        }
        return add(c, e);
}

static int add_verdict(RuleCtx *c, int verdict, const char *chain) {
        struct nftnl_expr *e = expr_new("immediate");

        if (e) {
                nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
                nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t)verdict);
                if (chain)
                        nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, chain);
        }
        return add(c, e);
}

/* What nft puts in front of a match on f: the family, the protocol. */
static int add_dependencies(RuleCtx *c, const Field *f) {
        int r = 0;

        if (f->nfproto && c->nfproto != f->nfproto) {
                r = add_meta_load(c, NFT_META_NFPROTO, NFT_REG_1);
                if (r >= 0)
                        r = add_cmp(c, NFT_CMP_EQ, &f->nfproto, 1);
                c->nfproto = f->nfproto;
        }
        if (r >= 0 && f->l4proto && (!c->have_l4proto || c->l4proto != f->l4proto)) {
                r = add_meta_load(c, NFT_META_L4PROTO, NFT_REG_1);
                if (r >= 0)
                        r = add_cmp(c, NFT_CMP_EQ, &f->l4proto, 1);
                c->have_l4proto = true;
                c->l4proto = f->l4proto;
        }
        return r;
}

/* The register of the part of a concatenation that starts offset bytes
 * in, as nft numbers it (a 16-byte register where one starts there). */
static uint32_t concat_reg(uint32_t offset) {
        uint32_t i = offset / 4;

        return i % 4 == 0 ? NFT_REG_1 + i / 4 : NFT_REG32_00 + i;
}

/* "<fields> [!=] @set", "<field> vmap @map", "<field> & <mask> @set". */
static int add_lookup(RuleCtx *c, const Field *const *f, size_t n, const Value *mask, bool inv, bool vmap,
                      const char *set) {
        struct nftnl_expr *e;
        uint32_t offset = 0;
        int r = 0;

        for (size_t i = 0; r >= 0 && i < n; i++)
                r = add_dependencies(c, f[i]);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                r = add_load(c, f[i], f[i]->len, concat_reg(offset));
                offset += (f[i]->len + 3) / 4 * 4;
        }
        if (r >= 0 && mask) {
                Value zero = {};
                r = add_bitwise(c, mask->len, mask->b, zero.b);
        }
        if (r < 0)
                return r;
        if (offset > 64)
                return rule_unsupported(c, "a concatenation too long");
        e = expr_new("lookup");
        if (e) {
                nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
                nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set);
                if (vmap)
                        nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_DREG, NFT_REG_VERDICT);
                if (inv)
                        nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_FLAGS, NFT_LOOKUP_F_INV);
        }
        return add(c, e);
}

/* "<field> [& mask] [!=|==] value", or "<flags field> ! value" (none of
 * those flags: none_of). */
static int add_value_match(RuleCtx *c, const Field *f, const Value *mask, bool explicit_op, uint32_t op,
                           bool none_of, const char *text) {
        Value lo, hi, zero = {};
        unsigned prefix;
        int r;

        if (!parse_value(f->value, text, &lo, &hi, &prefix))
                return rule_unsupported(c, "a value");
        if (mask && lo.len != mask->len)
                return rule_unsupported(c, "a mask");
        r = add_dependencies(c, f);
        if (r < 0)
                return r;
        /* A bare flag value: any of those flags; after "!", none of them. */
        if (f->flags && !explicit_op && !mask) {
                r = add_load(c, f, f->len, NFT_REG_1);
                if (r >= 0)
                        r = add_bitwise(c, lo.len, lo.b, zero.b);
                return r < 0 ? r : add_cmp(c, none_of ? NFT_CMP_EQ : NFT_CMP_NEQ, zero.b, lo.len);
        }
        if (none_of)
                return rule_unsupported(c, "a \"!\" on a field that is not flags");
        if (mask) {
                r = add_load(c, f, f->len, NFT_REG_1);
                if (r >= 0)
                        r = add_bitwise(c, mask->len, mask->b, zero.b);
                return r < 0 ? r : add_cmp(c, op, lo.b, lo.len);
        }
        /* A prefix: only its bytes when it ends on one, else masked. */
        if (prefix != UINT_MAX && prefix < lo.len * 8) {
                Value m = { .len = lo.len };
                if (prefix == 0)
                        return rule_unsupported(c, "an empty prefix");
                if (prefix % 8 == 0) {
                        r = add_load(c, f, prefix / 8, NFT_REG_1);
                        return r < 0 ? r : add_cmp(c, op, lo.b, prefix / 8);
                }
                for (unsigned i = 0; i < prefix; i++)
                        m.b[i / 8] |= (uint8_t)(0x80 >> (i % 8));
                for (unsigned i = 0; i < lo.len; i++)
                        lo.b[i] &= m.b[i];
                r = add_load(c, f, f->len, NFT_REG_1);
                if (r >= 0)
                        r = add_bitwise(c, lo.len, m.b, zero.b);
                return r < 0 ? r : add_cmp(c, op, lo.b, lo.len);
        }
        /* A range: two comparisons, or a range expression when negated. */
        if (memcmp(lo.b, hi.b, lo.len) != 0) {
                r = add_load(c, f, f->len, NFT_REG_1);
                if (r < 0)
                        return r;
                if (op == NFT_CMP_EQ) {
                        r = add_cmp(c, NFT_CMP_GTE, lo.b, lo.len);
                        return r < 0 ? r : add_cmp(c, NFT_CMP_LTE, hi.b, hi.len);
                }
                struct nftnl_expr *e = expr_new("range");
                if (e) {
                        nftnl_expr_set_u32(e, NFTNL_EXPR_RANGE_SREG, NFT_REG_1);
                        nftnl_expr_set_u32(e, NFTNL_EXPR_RANGE_OP, NFT_RANGE_NEQ);
                        nftnl_expr_set(e, NFTNL_EXPR_RANGE_FROM_DATA, lo.b, lo.len);
                        nftnl_expr_set(e, NFTNL_EXPR_RANGE_TO_DATA, hi.b, hi.len);
                }
                return add(c, e);
        }
        if (op == NFT_CMP_EQ && f->kind == F_META && f->key == NFT_META_NFPROTO)
                c->nfproto = lo.b[0];
        if (op == NFT_CMP_EQ && f->kind == F_META && f->key == NFT_META_L4PROTO) {
                c->have_l4proto = true;
                c->l4proto = lo.b[0];
        }
        if (op == NFT_CMP_EQ && f->kind == F_PAYLOAD)
                return add_payload_eq(c, f->key, f->offset, &lo);
        r = add_load(c, f, f->len, NFT_REG_1);
        return r < 0 ? r : add_cmp(c, op, lo.b, lo.len);
}

static int parse_match(RuleCtx *c, const char **p) {
        const Field *f[4];
        Value mask, ignored;
        bool have_mask = false, explicit_op = false, none_of = false, vmap;
        uint32_t op = NFT_CMP_EQ;
        char tok[NAME_MAX_BYTES];
        size_t n = 0;

        do {
                f[n] = field_at(p);
                if (!f[n])
                        return rule_unsupported(c, "a statement");
                n++;
        } while (n < ELEMENTSOF(f) && eat(p, "."));
        if (eat(p, "&")) {
                if (n != 1 || f[0]->value != V_HEX32 || !token(p, tok, sizeof(tok)) ||
                    !parse_value(V_HEX32, tok, &mask, &ignored, NULL))
                        return rule_unsupported(c, "a mask");
                have_mask = true;
        }
        if (eat(p, "!=")) {
                op = NFT_CMP_NEQ;
                explicit_op = true;
        } else if (eat(p, "=="))
                explicit_op = true;
        else if (eat(p, "!"))
                none_of = true;
        vmap = eat(p, "vmap");
        if (!token(p, tok, sizeof(tok)))
                return rule_unsupported(c, "a match without a value");
        if (tok[0] == '@') {
                if (none_of)
                        return rule_unsupported(c, "a \"!\" before a set");
                if (vmap && op != NFT_CMP_EQ)
                        return rule_unsupported(c, "a negated map");
                return add_lookup(c, f, n, have_mask ? &mask : NULL, op == NFT_CMP_NEQ, vmap, tok + 1);
        }
        if (n != 1 || vmap || (none_of && have_mask))
                return rule_unsupported(c, "an anonymous set or map");
        return add_value_match(c, f[0], have_mask ? &mask : NULL, explicit_op, op, none_of, tok);
}

/* "meta mark set meta mark & M", "... | V", "ct mark set ct mark & M | V". */
static int parse_mark_set(RuleCtx *c, const char **p, bool ct) {
        uint32_t and_mask = UINT32_MAX, or_value = 0, mask, xor;
        char tok[32], map[NAME_MAX_BYTES] = "";
        Value v, ignored;
        struct nftnl_expr *e;
        bool any = false;
        int r;

        if (eat(p, "&")) {
                if (!token(p, tok, sizeof(tok)) || !parse_value(V_HEX32, tok, &v, &ignored, NULL))
                        return rule_unsupported(c, "a mark");
                memcpy(&and_mask, v.b, 4);
                any = true;
        }
        if (eat(p, "|")) {
                if (!token(p, tok, sizeof(tok)) || !parse_value(V_HEX32, tok, &v, &ignored, NULL))
                        return rule_unsupported(c, "a mark");
                memcpy(&or_value, v.b, 4);
                any = true;
        }
        if (!any)
                return rule_unsupported(c, "a mark");
        if (eat(p, "map")) {
                if (!ct || !token(p, map, sizeof(map)) || map[0] != '@')
                        return rule_unsupported(c, "a mark map");
        }
        /* x & m | v = (x & (m & ~v)) ^ v, as nft folds it. */
        mask = and_mask & ~or_value;
        xor = or_value;
        if (ct) {
                e = expr_new("ct");
                if (e) {
                        nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_MARK);
                        nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
                }
                r = add(c, e);
        } else
                r = add_meta_load(c, NFT_META_MARK, NFT_REG_1);
        if (r >= 0)
                r = add_bitwise(c, 4, &mask, &xor);
        if (r >= 0 && map[0]) {
                /* The mark looked up, its value in place of it. */
                e = expr_new("lookup");
                if (e) {
                        nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
                        nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_DREG, NFT_REG_1);
                        nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, map + 1);
                }
                r = add(c, e);
        }
        if (r < 0)
                return r;
        e = expr_new(ct ? "ct" : "meta");
        if (e) {
                nftnl_expr_set_u32(e, ct ? NFTNL_EXPR_CT_KEY : NFTNL_EXPR_META_KEY, ct ? NFT_CT_MARK : NFT_META_MARK);
                nftnl_expr_set_u32(e, ct ? NFTNL_EXPR_CT_SREG : NFTNL_EXPR_META_SREG, NFT_REG_1);
        }
        return add(c, e);
}

static int parse_counter(RuleCtx *c, const char **p) {
        char name[NAME_MAX_BYTES];
        struct nftnl_expr *e;

        if (!eat(p, "name"))
                return add(c, expr_new("counter"));
        if (!quoted(p, name, sizeof(name)))
                return rule_unsupported(c, "a counter's name");
        e = expr_new("objref");
        if (e) {
                nftnl_expr_set_u32(e, NFTNL_EXPR_OBJREF_IMM_TYPE, NFT_OBJECT_COUNTER);
                nftnl_expr_set_str(e, NFTNL_EXPR_OBJREF_IMM_NAME, name);
        }
        return add(c, e);
}

static int parse_log(RuleCtx *c, const char **p) {
        static const char *const levels[] = { "emerg", "alert", "crit", "err", "warn", "notice", "info", "debug" };
        char prefix[NAME_MAX_BYTES], level[16];
        struct nftnl_expr *e;
        uint32_t l;

        /* "log group N prefix P": to NFLOG (the flow logs, flowlog.h). */
        if (eat(p, "group")) {
                char tok[16], *end;
                unsigned long g;
                if (!token(p, tok, sizeof(tok)) || (g = strtoul(tok, &end, 10)) > UINT16_MAX || *end ||
                    !eat(p, "prefix") || !quoted(p, prefix, sizeof(prefix)))
                        return rule_unsupported(c, "a log statement");
                e = expr_new("log");
                if (e) {
                        nftnl_expr_set_u16(e, NFTNL_EXPR_LOG_GROUP, (uint16_t)g);
                        nftnl_expr_set_str(e, NFTNL_EXPR_LOG_PREFIX, prefix);
                }
                return add(c, e);
        }
        if (!eat(p, "prefix") || !quoted(p, prefix, sizeof(prefix)) || !eat(p, "level") ||
            !token(p, level, sizeof(level)))
                return rule_unsupported(c, "a log statement");
        for (l = 0; l < ELEMENTSOF(levels) && !streq(level, levels[l]); l++)
                ;
        if (l == ELEMENTSOF(levels))
                return rule_unsupported(c, "a log level");
        e = expr_new("log");
        if (e) {
                nftnl_expr_set_str(e, NFTNL_EXPR_LOG_PREFIX, prefix);
                nftnl_expr_set_u32(e, NFTNL_EXPR_LOG_LEVEL, l);
        }
        return add(c, e);
}

/* "limit rate N/unit [burst N packets]" (nft's default burst: 5). */
static int parse_limit(RuleCtx *c, const char **p) {
        static const struct {
                const char *name;
                uint64_t seconds;
        } units[] = { { "second", 1 }, { "minute", 60 }, { "hour", 3600 }, { "day", 86400 }, { "week", 604800 } };
        char tok[64], *slash;
        unsigned long rate, burst = 5;
        struct nftnl_expr *e;
        size_t u;

        if (!eat(p, "rate") || !token(p, tok, sizeof(tok)) || !(slash = strchr(tok, '/')))
                return rule_unsupported(c, "a limit");
        *slash = 0;
        for (u = 0; u < ELEMENTSOF(units) && !streq(slash + 1, units[u].name); u++)
                ;
        if (u == ELEMENTSOF(units) || !parse_uint(tok, UINT32_MAX, 10, &rate))
                return rule_unsupported(c, "a limit");
        if (eat(p, "burst")) {
                if (!token(p, tok, sizeof(tok)) || !parse_uint(tok, UINT32_MAX, 10, &burst) || !eat(p, "packets"))
                        return rule_unsupported(c, "a limit's burst");
        }
        e = expr_new("limit");
        if (e) {
                nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_RATE, rate);
                nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_UNIT, units[u].seconds);
                nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_BURST, (uint32_t)burst);
                nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_TYPE, NFT_LIMIT_PKTS);
                nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_FLAGS, 0);
        }
        return add(c, e);
}

static int parse_statement(RuleCtx *c, const char **p) {
        char chain[NAME_MAX_BYTES];
        struct nftnl_expr *e;

        if (eat(p, "meta mark set meta mark"))
                return parse_mark_set(c, p, false);
        if (eat(p, "ct mark set ct mark"))
                return parse_mark_set(c, p, true);
        if (eat(p, "counter"))
                return parse_counter(c, p);
        if (eat(p, "log"))
                return parse_log(c, p);
        if (eat(p, "limit"))
                return parse_limit(c, p);
        if (eat(p, "notrack"))
                return add(c, expr_new("notrack"));
        if (eat(p, "reject")) {
                /* In an inet table: ICMP(v6) port unreachable, either family. */
                e = expr_new("reject");
                if (e) {
                        nftnl_expr_set_u32(e, NFTNL_EXPR_REJECT_TYPE, NFT_REJECT_ICMPX_UNREACH);
                        nftnl_expr_set_u8(e, NFTNL_EXPR_REJECT_CODE, NFT_REJECT_ICMPX_PORT_UNREACH);
                }
                return add(c, e);
        }
        if (eat(p, "accept"))
                return add_verdict(c, NF_ACCEPT, NULL);
        if (eat(p, "drop"))
                return add_verdict(c, NF_DROP, NULL);
        if (eat(p, "return"))
                return add_verdict(c, NFT_RETURN, NULL);
        for (int i = 0; i < 2; i++)
                if (eat(p, i == 0 ? "jump" : "goto")) {
                        if (!token(p, chain, sizeof(chain)) || chain[0] == '"')
                                return rule_unsupported(c, "a chain name");
                        return add_verdict(c, i == 0 ? NFT_JUMP : NFT_GOTO, chain);
                }
        return parse_match(c, p);
}

static int add_rule(Batch *bt, const char *chain, const char *text) {
        RuleCtx c = { .bt = bt, .text = text };
        const char *p = text;
        int r = 0;

        c.rule = nftnl_rule_alloc();
        if (!c.rule)
                return -ENOMEM;
        nftnl_rule_set_str(c.rule, NFTNL_RULE_TABLE, HEP_TABLE_NAME);
        nftnl_rule_set_str(c.rule, NFTNL_RULE_CHAIN, chain);
        nftnl_rule_set_u32(c.rule, NFTNL_RULE_FAMILY, NFPROTO_INET);
        skip_spaces(&p);
        while (r >= 0 && *p)
                r = parse_statement(&c, &p);
        if (r >= 0)
                r = flush_pending(&c);
        if (r >= 0) {
                struct nlmsghdr *nlh = msg_begin(bt, NFT_MSG_NEWRULE, NLM_F_APPEND | NLM_F_CREATE);
                nftnl_rule_nlmsg_build_payload(nlh, c.rule);
                r = msg_end(bt);
        }
        nftnl_rule_free(c.rule);
        return r;
}

/* ---- table, counters, chains ---- */

static int add_table(Batch *bt, uint16_t type, uint16_t flags) {
        struct nftnl_table *t = nftnl_table_alloc();
        struct nlmsghdr *nlh;

        if (!t)
                return -ENOMEM;
        nftnl_table_set_str(t, NFTNL_TABLE_NAME, HEP_TABLE_NAME);
        nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_INET);
        if (type == NFT_MSG_NEWTABLE)
                nftnl_table_set_u32(t, NFTNL_TABLE_FLAGS, 0);
        nlh = msg_begin(bt, type, flags);
        nftnl_table_nlmsg_build_payload(nlh, t);
        nftnl_table_free(t);
        return msg_end(bt);
}

static int add_counter(Batch *bt, const char *name) {
        struct nftnl_obj *o = nftnl_obj_alloc();
        struct nlmsghdr *nlh;

        if (!o)
                return -ENOMEM;
        nftnl_obj_set_str(o, NFTNL_OBJ_TABLE, HEP_TABLE_NAME);
        nftnl_obj_set_str(o, NFTNL_OBJ_NAME, name);
        nftnl_obj_set_u32(o, NFTNL_OBJ_TYPE, NFT_OBJECT_COUNTER);
        nftnl_obj_set_u32(o, NFTNL_OBJ_FAMILY, NFPROTO_INET);
        nlh = msg_begin(bt, NFT_MSG_NEWOBJ, NLM_F_CREATE);
        nftnl_obj_nlmsg_build_payload(nlh, o);
        nftnl_obj_free(o);
        return msg_end(bt);
}

/* "type filter hook input priority filter; policy accept;" */
static int parse_hook(Batch *bt, const NftChain *ch, uint32_t *hooknum, int32_t *prio, uint32_t *policy) {
        static const char *const hooks[] = { "prerouting", "input", "forward", "output", "postrouting" };
        static const struct {
                const char *name;
                int32_t prio;
        } prios[] = { { "raw", -300 }, { "mangle", -150 }, { "filter", 0 }, { "security", 50 } };
        char hook[32], pr[32], pol[32];
        size_t i;

        if (sscanf(ch->hook, "type filter hook %31s priority %31[^;]; policy %31[^;];", hook, pr, pol) != 3)
                return unsupported(bt, "the hook \"%s\" of chain %s", ch->hook, ch->name);
        for (i = 0; i < ELEMENTSOF(hooks) && !streq(hook, hooks[i]); i++)
                ;
        *hooknum = (uint32_t)i;
        for (i = 0; i < ELEMENTSOF(prios) && !streq(pr, prios[i].name); i++)
                ;
        if (*hooknum == ELEMENTSOF(hooks) || i == ELEMENTSOF(prios) || (!streq(pol, "accept") && !streq(pol, "drop")))
                return unsupported(bt, "the hook \"%s\" of chain %s", ch->hook, ch->name);
        *prio = prios[i].prio;
        *policy = streq(pol, "accept") ? NF_ACCEPT : NF_DROP;
        return 0;
}

static int add_chain(Batch *bt, const NftChain *ch) {
        struct nftnl_chain *c;
        struct nlmsghdr *nlh;
        uint32_t hooknum = 0, policy = 0;
        int32_t prio = 0;
        int r;

        if (ch->hook && (r = parse_hook(bt, ch, &hooknum, &prio, &policy)) < 0)
                return r;
        c = nftnl_chain_alloc();
        if (!c)
                return -ENOMEM;
        nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, HEP_TABLE_NAME);
        nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, ch->name);
        nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, NFPROTO_INET);
        if (ch->hook) {
                nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, hooknum);
                nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, prio);
                nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "filter");
                nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, policy);
        }
        nlh = msg_begin(bt, NFT_MSG_NEWCHAIN, NLM_F_CREATE);
        nftnl_chain_nlmsg_build_payload(nlh, c);
        nftnl_chain_free(c);
        return msg_end(bt);
}

/* ---- sets ---- */

typedef struct KeyType {
        const char *name;
        uint32_t type; /* nft's datatype number */
        uint32_t len;
        ValueKind value;
        bool host_order;
} KeyType;

static const KeyType key_types[] = {
        { "ipv4_addr", 7, 4, V_IP4, false },     { "ipv6_addr", 8, 16, V_IP6, false },
        { "ifname", 41, 16, V_IFNAME, true },    { "inet_proto", 12, 1, V_PROTO, false },
        { "inet_service", 13, 2, V_PORT, false }, { "mark", 19, 4, V_HEX32, true },
        { "icmp_type", 14, 1, V_U8, false },     { "icmp_code", 32, 1, V_U8, false },
        { "icmpv6_type", 29, 1, V_U8, false },   { "icmpv6_code", 33, 1, V_U8, false },
};

typedef struct SetSpec {
        const KeyType *parts[4];
        size_t n_parts;
        uint32_t key_type, key_len;
        bool interval, map;
        const KeyType *data; /* a map to values (not verdicts): their type */
} SetSpec;

static const KeyType *key_type_named(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(key_types); i++)
                if (streq(name, key_types[i].name))
                        return &key_types[i];
        return NULL;
}

/* "type A[ . B ...][ : verdict|: mark]; [flags interval;]" */
static int parse_set_type(Batch *bt, const NftSet *s, SetSpec *spec) {
        const char *p = s->type;
        char tok[32];

        *spec = (SetSpec) {};
        if (!eat(&p, "type"))
                goto bad;
        for (;;) {
                size_t i;
                if (!token(&p, tok, sizeof(tok)) || spec->n_parts == ELEMENTSOF(spec->parts))
                        goto bad;
                bool last = tok[strlen(tok) - 1] == ';';
                if (last)
                        tok[strlen(tok) - 1] = 0;
                for (i = 0; i < ELEMENTSOF(key_types) && !streq(tok, key_types[i].name); i++)
                        ;
                if (i == ELEMENTSOF(key_types))
                        goto bad;
                spec->parts[spec->n_parts++] = &key_types[i];
                spec->key_type = spec->key_type << 6 | key_types[i].type;
                spec->key_len += (key_types[i].len + 3) / 4 * 4;
                if (last)
                        break;
                if (eat(&p, ": verdict;")) {
                        spec->map = true;
                        break;
                }
                if (eat(&p, ": mark;")) {
                        spec->map = true;
                        spec->data = key_type_named("mark");
                        break;
                }
                if (!eat(&p, "."))
                        goto bad;
        }
        /* Concatenated parts take whole registers; a single key, its size. */
        if (spec->n_parts == 1)
                spec->key_len = spec->parts[0]->len;
        if (eat(&p, "flags interval;"))
                spec->interval = true;
        if (*p || (spec->interval && (spec->n_parts > 1 || spec->map)))
                goto bad;
        return 0;
bad:
        return unsupported(bt, "the type \"%s\" of set %s", s->type, s->name);
}

/* What nft 1.0.6 keeps in a set's user data: the key's (and a map's
 * data's) byte order, from which `nft list` prints the elements. */
static void set_userdata(struct nftnl_set *set, const SetSpec *spec) {
        static const uint8_t concat[] = { 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x03, 0x08,
                                          0x00, 0x04, 0x0d, 0x00, 0x00, 0x00, 0x01, 0x00 };
        uint8_t ud[18];
        uint32_t order = spec->parts[0]->host_order ? 1 : 2, zero = 0;

        if (spec->n_parts > 1) {
                nftnl_set_set_data(set, NFTNL_SET_USERDATA, concat, sizeof(concat));
                return;
        }
        ud[0] = 0; /* NFTNL_UDATA_SET_KEYBYTEORDER */
        ud[1] = 4;
        memcpy(ud + 2, &order, 4);
        if (!spec->map) {
                nftnl_set_set_data(set, NFTNL_SET_USERDATA, ud, 6);
                return;
        }
        uint32_t data_order = spec->data ? (spec->data->host_order ? 1 : 2) : 0;
        ud[6] = 1; /* NFTNL_UDATA_SET_DATABYTEORDER */
        ud[7] = 4;
        memcpy(ud + 8, &data_order, 4);
        ud[12] = 6; /* NFTNL_UDATA_SET_DATA_INTERVAL */
        ud[13] = 4;
        memcpy(ud + 14, &zero, 4);
        nftnl_set_set_data(set, NFTNL_SET_USERDATA, ud, sizeof(ud));
}

static struct nftnl_set *set_alloc(const char *name) {
        struct nftnl_set *set = nftnl_set_alloc();

        if (!set)
                return NULL;
        nftnl_set_set_str(set, NFTNL_SET_TABLE, HEP_TABLE_NAME);
        nftnl_set_set_str(set, NFTNL_SET_NAME, name);
        nftnl_set_set_u32(set, NFTNL_SET_FAMILY, NFPROTO_INET);
        return set;
}

static int add_set(Batch *bt, const NftSet *s, const SetSpec *spec, uint32_t id) {
        struct nftnl_set *set = set_alloc(s->name);
        struct nlmsghdr *nlh;

        if (!set)
                return -ENOMEM;
        nftnl_set_set_u32(set, NFTNL_SET_ID, id); /* the kernel wants one */
        nftnl_set_set_u32(set, NFTNL_SET_FLAGS, (spec->interval ? NFT_SET_INTERVAL : 0) | (spec->map ? NFT_SET_MAP : 0));
        nftnl_set_set_u32(set, NFTNL_SET_KEY_TYPE, spec->key_type);
        nftnl_set_set_u32(set, NFTNL_SET_KEY_LEN, spec->key_len);
        if (spec->map) {
                nftnl_set_set_u32(set, NFTNL_SET_DATA_TYPE, spec->data ? spec->data->type : NFT_DATA_VERDICT);
                nftnl_set_set_u32(set, NFTNL_SET_DATA_LEN, spec->data ? spec->data->len : 16);
        }
        set_userdata(set, spec);
        nlh = msg_begin(bt, NFT_MSG_NEWSET, NLM_F_CREATE);
        nftnl_set_nlmsg_build_payload(nlh, set);
        nftnl_set_free(set);
        return msg_end(bt);
}

/* Elements are collected into a set object and sent a message at a time. */
typedef struct ElemWriter {
        Batch *bt;
        const NftSet *s;
        const SetSpec *spec;
        bool del; /* the elements are deleted (by key alone) */
        struct nftnl_set *chunk;
        size_t bytes;
} ElemWriter;

static int elems_flush(ElemWriter *w) {
        struct nlmsghdr *nlh;
        int r;

        if (!w->chunk)
                return 0;
        nlh = w->del ? msg_begin(w->bt, NFT_MSG_DELSETELEM, 0) : msg_begin(w->bt, NFT_MSG_NEWSETELEM, NLM_F_CREATE);
        nftnl_set_elems_nlmsg_build_payload(nlh, w->chunk);
        r = msg_end(w->bt);
        nftnl_set_free(w->chunk);
        w->chunk = NULL;
        w->bytes = 0;
        return r;
}

static int elems_add(ElemWriter *w, const void *key, uint32_t flags, int verdict, const char *chain,
                     const Value *data) {
        struct nftnl_set_elem *e;

        if (!w->chunk && !(w->chunk = set_alloc(w->s->name)))
                return -ENOMEM;
        e = nftnl_set_elem_alloc();
        if (!e)
                return -ENOMEM;
        nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, w->spec->key_len);
        if (flags)
                nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_FLAGS, flags);
        if (chain) {
                nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_VERDICT, (uint32_t)verdict);
                nftnl_set_elem_set_str(e, NFTNL_SET_ELEM_CHAIN, chain);
        }
        if (data)
                nftnl_set_elem_set(e, NFTNL_SET_ELEM_DATA, data->b, data->len);
        nftnl_set_elem_add(w->chunk, e);
        w->bytes += w->spec->key_len + (chain ? strlen(chain) : 0) + 48;
        return w->bytes >= ELEMENTS_BYTES ? elems_flush(w) : 0;
}

/* The key of a non-interval element ("a . b . c"), and a map's verdict
 * or value. */
static int parse_element(ElemWriter *w, const char *text, uint8_t key[static 64], int *verdict, char *chain,
                         size_t chain_size, Value *data) {
        const char *p = text;
        uint32_t offset = 0;
        char tok[NAME_MAX_BYTES];

        memset(key, 0, 64);
        for (size_t i = 0; i < w->spec->n_parts; i++) {
                Value v;
                if ((i > 0 && !eat(&p, ".")) || !token(&p, tok, sizeof(tok)) ||
                    !parse_value(w->spec->parts[i]->value, tok, &v, NULL, NULL) || v.len != w->spec->parts[i]->len)
                        return unsupported(w->bt, "the element %s of set %s", text, w->s->name);
                memcpy(key + offset, v.b, v.len);
                offset += (v.len + 3) / 4 * 4;
        }
        if (w->spec->data) {
                Value ignored;
                if (!eat(&p, ":") || !token(&p, tok, sizeof(tok)) ||
                    !parse_value(w->spec->data->value, tok, data, &ignored, NULL) || data->len != w->spec->data->len)
                        return unsupported(w->bt, "the element %s of map %s", text, w->s->name);
        } else if (w->spec->map) {
                if (!eat(&p, ":") || !(eat(&p, "jump") ? (*verdict = NFT_JUMP) : eat(&p, "goto") ? (*verdict = NFT_GOTO) : 0) ||
                    !token(&p, chain, chain_size))
                        return unsupported(w->bt, "the element %s of map %s", text, w->s->name);
        }
        if (*p)
                return unsupported(w->bt, "the element %s of set %s", text, w->s->name);
        return 0;
}

typedef struct Interval {
        Value lo, hi;
} Interval;

static int compare_intervals(const void *a, const void *b) {
        const Interval *x = a, *y = b;

        return memcmp(x->lo.b, y->lo.b, x->lo.len);
}

/* hi + 1, false if it wraps around. */
static bool value_next(Value *v) {
        for (size_t i = v->len; i-- > 0;)
                if (++v->b[i] != 0)
                        return true;
        return false;
}

/* Intervals as nft sends them to a new set: an end at zero first (unless
 * the first starts there), then each start and the end just past it. */
static int add_intervals(ElemWriter *w, char *const *elems, size_t n) {
        const KeyType *k = w->spec->parts[0];
        _cleanup_free_ Interval *v = new_array(n, sizeof(Interval));
        Value zero = { .len = k->len };
        int r = 0;

        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                unsigned prefix;
                if (!parse_value(k->value, elems[i], &v[i].lo, &v[i].hi, k->value == V_PORT ? NULL : &prefix))
                        return unsupported(w->bt, "the element %s of set %s", elems[i], w->s->name);
                /* An address with a prefix: from its first to its last. */
                for (unsigned b = prefix; k->value != V_PORT && b < k->len * 8; b++) {
                        v[i].lo.b[b / 8] &= (uint8_t)~(0x80 >> (b % 8));
                        v[i].hi.b[b / 8] |= (uint8_t)(0x80 >> (b % 8));
                }
        }
        qsort_safe(v, n, sizeof(Interval), compare_intervals);
        for (size_t i = 1; i < n; i++)
                if (memcmp(v[i].lo.b, v[i - 1].hi.b, k->len) <= 0)
                        return unsupported(w->bt, "overlapping elements in set %s", w->s->name);
        if (n && memcmp(v[0].lo.b, zero.b, k->len) != 0)
                r = elems_add(w, zero.b, NFT_SET_ELEM_INTERVAL_END, 0, NULL, NULL);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                r = elems_add(w, v[i].lo.b, 0, 0, NULL, NULL);
                if (r < 0)
                        break;
                if (!value_next(&v[i].hi))
                        return unsupported(w->bt, "an interval up to the last value in set %s", w->s->name);
                r = elems_add(w, v[i].hi.b, NFT_SET_ELEM_INTERVAL_END, 0, NULL, NULL);
        }
        return r;
}

/* Adds elements (or deletes them: not from an interval set, whose
 * elements are ranges the kernel keeps as ends). */
static int write_elements(Batch *bt, const NftSet *s, const SetSpec *spec, char *const *elems, size_t n, bool del) {
        ElemWriter w = { .bt = bt, .s = s, .spec = spec, .del = del };
        char chain[NAME_MAX_BYTES];
        uint8_t key[64];
        int r = 0;

        if (spec->interval && del)
                return unsupported(bt, "deleting elements of interval set %s", s->name);
        if (spec->interval)
                r = add_intervals(&w, elems, n);
        for (size_t i = 0; !spec->interval && r >= 0 && i < n; i++) {
                int verdict = 0;
                Value data = {};
                r = parse_element(&w, elems[i], key, &verdict, chain, sizeof(chain), &data);
                if (r >= 0)
                        r = elems_add(&w, key, 0, verdict, spec->map && !spec->data && !del ? chain : NULL,
                                      spec->data && !del ? &data : NULL);
        }
        if (r >= 0)
                r = elems_flush(&w);
        if (w.chunk) /* libnftnl's frees take no NULL */
                nftnl_set_free(w.chunk);
        return r;
}

/* ---- the whole table ---- */

/* Every set's elements: its own, then those the blocks give it. */
typedef struct SetElements {
        char **v;
        size_t n, alloc;
} SetElements;

static int collect_elements(const Ruleset *rs, SetElements *per_set) {
        StrMap index = {};
        int r = 0;

        for (size_t i = 0; r >= 0 && i < rs->n_sets; i++)
                r = strmap_put(&index, rs->sets[i]->name, (void *)(uintptr_t)(i + 1));
        for (size_t i = 0; r >= 0 && i < rs->n_sets; i++)
                for (size_t j = 0; r >= 0 && j < rs->sets[i]->n_elements; j++) {
                        SetElements *e = &per_set[i];
                        char **g = grow_array(e->v, &e->alloc, e->n + 1, sizeof(char *));
                        if (!g)
                                r = -ENOMEM;
                        else {
                                e->v = g;
                                e->v[e->n++] = rs->sets[i]->elements[j];
                        }
                }
        for (size_t b = 0; r >= 0 && b < rs->n_blocks; b++)
                for (size_t j = 0; r >= 0 && j < rs->blocks[b]->n_elements; j++) {
                        const NftElement *el = &rs->blocks[b]->elements[j];
                        uintptr_t k = (uintptr_t)strmap_get(&index, el->set);
                        SetElements *e;
                        char **g;
                        if (!k)
                                continue; /* as ruleset_commands_replace(): a set the ruleset lacks */
                        e = &per_set[k - 1];
                        g = grow_array(e->v, &e->alloc, e->n + 1, sizeof(char *));
                        if (!g)
                                r = -ENOMEM;
                        else {
                                e->v = g;
                                e->v[e->n++] = el->element;
                        }
                }
        strmap_done(&index);
        return r;
}

static int compare_strings(const void *a, const void *b) {
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Duplicates are one element, as for nft. */
static size_t sort_unique(char **v, size_t n) {
        size_t k = 0;

        qsort_safe(v, n, sizeof(char *), compare_strings);
        for (size_t i = 0; i < n; i++)
                if (k == 0 || !streq(v[k - 1], v[i]))
                        v[k++] = v[i];
        return k;
}

/* The blocks' counters, sorted by name, as ruleset_commands_replace()
 * declares them (nft lists them in that order). */
static int add_counters(Batch *bt, const Ruleset *rs) {
        _cleanup_free_ char **v = NULL;
        size_t n = 0, k = 0;
        int r = 0;

        for (size_t b = 0; b < rs->n_blocks; b++)
                n += rs->blocks[b]->n_counters;
        v = new_array(n + 1, sizeof(char *));
        if (!v)
                return -ENOMEM;
        for (size_t b = 0; b < rs->n_blocks; b++)
                for (size_t i = 0; i < rs->blocks[b]->n_counters; i++)
                        v[k++] = rs->blocks[b]->counters[i];
        qsort_safe(v, n, sizeof(char *), compare_strings);
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = add_counter(bt, v[i]);
        return r;
}

static int add_all_rules(Batch *bt, const NftChain *ch) {
        int r = 0;

        for (size_t j = 0; r >= 0 && j < ch->n_rules; j++)
                r = add_rule(bt, ch->name, ch->rules[j]);
        return r;
}

static int build(const Ruleset *rs, Batch *bt) {
        _cleanup_free_ SetElements *per_set = new_array(rs->n_sets + 1, sizeof(SetElements));
        _cleanup_free_ SetSpec *specs = new_array(rs->n_sets + 1, sizeof(SetSpec));
        int r;

        if (!per_set || !specs)
                return -ENOMEM;
        nftnl_batch_begin(nftnl_batch_buffer(bt->b), bt->seq++);
        r = msg_end(bt);
        /* Declared, deleted, declared: the old table goes, whether there
         * was one or not, and nothing is without policy meanwhile. */
        if (r >= 0)
                r = add_table(bt, NFT_MSG_NEWTABLE, NLM_F_CREATE);
        if (r >= 0)
                r = add_table(bt, NFT_MSG_DELTABLE, 0);
        if (r >= 0)
                r = add_table(bt, NFT_MSG_NEWTABLE, NLM_F_CREATE);
        bt->counters_seq = bt->seq;
        if (r >= 0)
                r = add_counters(bt, rs);
        bt->chains_seq = bt->seq;
        for (size_t i = 0; r >= 0 && i < rs->n_chains; i++)
                r = add_chain(bt, rs->chains[i]);
        for (size_t b = 0; r >= 0 && b < rs->n_blocks; b++)
                for (size_t i = 0; r >= 0 && i < rs->blocks[b]->n_chains; i++)
                        r = add_chain(bt, rs->blocks[b]->chains[i]);
        bt->sets_seq = bt->seq;
        for (size_t i = 0; r >= 0 && i < rs->n_sets; i++) {
                r = parse_set_type(bt, rs->sets[i], &specs[i]);
                if (r >= 0)
                        r = add_set(bt, rs->sets[i], &specs[i], (uint32_t)i + 1);
        }
        bt->elements_seq = bt->seq;
        if (r >= 0)
                r = collect_elements(rs, per_set);
        for (size_t i = 0; r >= 0 && i < rs->n_sets; i++) {
                size_t n = sort_unique(per_set[i].v, per_set[i].n);
                r = write_elements(bt, rs->sets[i], &specs[i], per_set[i].v, n, false);
        }
        for (size_t i = 0; i < rs->n_sets; i++)
                free(per_set[i].v);
        bt->rules_seq = bt->seq;
        for (size_t i = 0; r >= 0 && i < rs->n_chains; i++)
                r = add_all_rules(bt, rs->chains[i]);
        for (size_t b = 0; r >= 0 && b < rs->n_blocks; b++)
                for (size_t i = 0; r >= 0 && i < rs->blocks[b]->n_chains; i++)
                        r = add_all_rules(bt, rs->blocks[b]->chains[i]);
        if (r < 0)
                return r;
        bt->last->nlmsg_flags |= NLM_F_ACK;
        nftnl_batch_end(nftnl_batch_buffer(bt->b), bt->seq++);
        return msg_end(bt);
}

static void batch_done(Batch *bt) {
        if (bt->b)
                nftnl_batch_free(bt->b);
        free(bt->error);
        for (size_t i = 0; i < bt->n_notes; i++)
                free(bt->notes[i].what);
        free(bt->notes);
}

static int batch_init(Batch *bt, uint32_t seq) {
        *bt = (Batch) { .seq = seq, .first_seq = seq };
        bt->b = nftnl_batch_alloc(PAGE_BYTES, OVERRUN_BYTES);
        return bt->b ? 0 : -ENOMEM;
}

int nft_batch_translate(const Ruleset *rs, char **ret_error) {
        Batch bt;
        int r = batch_init(&bt, 1);

        if (r >= 0)
                r = build(rs, &bt);
        if (r == -EOPNOTSUPP && ret_error)
                *ret_error = steal_ptr(bt.error);
        batch_done(&bt);
        return r;
}

/* ---- sending ---- */

/* The kernel runs the whole batch within sendmsg(): once it returns, its
 * answers are queued. The first error, and whether the last message was
 * acknowledged. */
static int read_answers(NftBatchSocket *s, uint32_t first_seq, uint32_t last_seq, uint32_t *ret_seq) {
        char buf[16384];
        bool acked = false;
        int error = 0;

        for (;;) {
                ssize_t n = recv(mnl_socket_get_fd(s->nl), buf, sizeof(buf), MSG_DONTWAIT);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN || errno == EWOULDBLOCK)
                                break;
                        return -errno;
                }
                int len = (int)n;
                for (const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf; mnl_nlmsg_ok(nlh, len);
                     nlh = mnl_nlmsg_next(nlh, &len)) {
                        const struct nlmsgerr *e;
                        if (nlh->nlmsg_seq < first_seq || nlh->nlmsg_seq > last_seq || nlh->nlmsg_type != NLMSG_ERROR)
                                continue;
                        e = mnl_nlmsg_get_payload(nlh);
                        if (e->error && !error) {
                                error = e->error;
                                *ret_seq = nlh->nlmsg_seq;
                        }
                        acked = acked || nlh->nlmsg_seq == last_seq;
                }
        }
        if (error)
                return error;
        return acked ? 0 : -EPROTO;
}

/* The n-th rule of rs, in the order they were sent. */
static const char *nth_rule(const Ruleset *rs, size_t n, const char **ret_chain) {
        for (size_t i = 0; i < rs->n_chains; i++) {
                if (n < rs->chains[i]->n_rules) {
                        *ret_chain = rs->chains[i]->name;
                        return rs->chains[i]->rules[n];
                }
                n -= rs->chains[i]->n_rules;
        }
        for (size_t b = 0; b < rs->n_blocks; b++)
                for (size_t i = 0; i < rs->blocks[b]->n_chains; i++) {
                        const NftChain *c = rs->blocks[b]->chains[i];
                        if (n < c->n_rules) {
                                *ret_chain = c->name;
                                return c->rules[n];
                        }
                        n -= c->n_rules;
                }
        return NULL;
}

/* Which message the kernel refused: "rule in chain X: ...". */
static char *describe_seq(const Ruleset *rs, const Batch *bt, uint32_t seq) {
        const char *chain = NULL, *rule;
        char *d = NULL;

        if (bt->notes) {
                for (size_t i = bt->n_notes; i-- > 0;)
                        if (bt->notes[i].seq <= seq)
                                return strdup(bt->notes[i].what);
                return strdup("the table");
        }

        if (seq >= bt->rules_seq && (rule = nth_rule(rs, seq - bt->rules_seq, &chain)))
                return asprintf(&d, "the rule \"%s\" of chain %s", rule, chain) < 0 ? NULL : d;
        return strdup(seq >= bt->elements_seq ? "set elements"
                      : seq >= bt->sets_seq   ? "a set"
                      : seq >= bt->chains_seq ? "a chain"
                      : seq >= bt->counters_seq ? "a counter"
                                                : "the table");
}

static int send_batch(NftBatchSocket *s, const Ruleset *rs, Batch *bt, char **ret_error) {
        int n_iov = nftnl_batch_iovec_len(bt->b), fd = mnl_socket_get_fd(s->nl), r;
        _cleanup_free_ struct iovec *iov = NULL;
        struct sockaddr_nl snl = { .nl_family = AF_NETLINK };
        struct msghdr msg = { .msg_name = &snl, .msg_namelen = sizeof(snl) };
        uint32_t err_seq = 0;
        size_t total = 0;
        ssize_t sent;

        if (n_iov > IOV_MAX) {
                r = -E2BIG;
                goto fail;
        }
        iov = new_array((size_t)n_iov, sizeof(struct iovec));
        if (!iov)
                return -ENOMEM;
        nftnl_batch_iovec(bt->b, iov, (uint32_t)n_iov);
        for (int i = 0; i < n_iov; i++)
                total += iov[i].iov_len;
        /* The batch is one datagram: the send buffer must hold it all
         * (beyond net.core.wmem_max takes CAP_NET_ADMIN, which we have). */
        if (total > INT_MAX / 2) {
                r = -E2BIG;
                goto fail;
        }
        int size = (int)total;
        if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) < 0)
                (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
        msg.msg_iov = iov;
        msg.msg_iovlen = (size_t)n_iov;
        uint64_t start = now_usec();
        do
                sent = sendmsg(fd, &msg, 0);
        while (sent < 0 && errno == EINTR);
        s->kernel_usec = now_usec() - start;
        r = sent < 0 ? -errno : read_answers(s, bt->first_seq, bt->last_seq, &err_seq);
        if (r >= 0)
                return 0;
fail:
        if (ret_error) {
                _cleanup_free_ char *what = err_seq ? describe_seq(rs, bt, err_seq) : NULL;
                if (asprintf(ret_error, "nftables batch of %zu bytes refused: %s%s%s", total, strerror(-r),
                             what ? ", at " : "", what ? what : "") < 0)
                        *ret_error = NULL;
        }
        return r;
}

int nft_batch_replace(NftBatchSocket *s, const Ruleset *rs, char **ret_error) {
        Batch bt;
        int r;

        /* Sequence numbers of each batch distinct from the last one's, so
         * late answers are never taken for this one's. */
        s->seq_base += 1u << 24;
        r = batch_init(&bt, s->seq_base | 1);
        if (r < 0)
                return r;
        r = build(rs, &bt);
        if (r == -EOPNOTSUPP) {
                if (ret_error)
                        *ret_error = steal_ptr(bt.error);
        } else if (r >= 0)
                r = send_batch(s, rs, &bt, ret_error);
        batch_done(&bt);
        return r;
}

/* ---- a difference ---- */

/* The steps of ruleset_diff() as netlink messages. An interval set that
 * changes is flushed and filled again within the transaction: its
 * elements are ranges whose ends the kernel merges and splits, which only
 * the whole list says right. */
typedef struct DiffBatch {
        Batch *bt;
        const Ruleset *old, *new;
        uint32_t set_id;
        StrMap refilled; /* interval sets already written */
} DiffBatch;

static int diff_add_counter(void *u, const char *name) {
        DiffBatch *d = u;
        int r = note(d->bt, "the counter %s", name);

        return r < 0 ? r : add_counter(d->bt, name);
}

static int diff_add_chain(void *u, const NftChain *c) {
        DiffBatch *d = u;
        int r = note(d->bt, "the new chain %s", c->name);

        return r < 0 ? r : add_chain(d->bt, c);
}

static int diff_add_set(void *u, const NftSet *s) {
        DiffBatch *d = u;
        SetSpec spec;
        int r = note(d->bt, "the new set %s", s->name);

        if (r >= 0)
                r = parse_set_type(d->bt, s, &spec);
        return r < 0 ? r : add_set(d->bt, s, &spec, ++d->set_id);
}

/* Every element of s in the new ruleset: its own and the blocks'. */
static int all_elements(const Ruleset *rs, const NftSet *s, char ***ret, size_t *ret_n) {
        size_t n = s->n_elements, k = 0;
        char **v;

        for (size_t b = 0; b < rs->n_blocks; b++)
                n += rs->blocks[b]->n_elements;
        v = new_array(n + 1, sizeof(char *));
        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < s->n_elements; i++)
                v[k++] = s->elements[i];
        for (size_t b = 0; b < rs->n_blocks; b++)
                for (size_t i = 0; i < rs->blocks[b]->n_elements; i++)
                        if (streq(rs->blocks[b]->elements[i].set, s->name))
                                v[k++] = rs->blocks[b]->elements[i].element;
        *ret = v;
        *ret_n = sort_unique(v, k);
        return 0;
}

static int refill_interval_set(DiffBatch *d, const NftSet *s, const SetSpec *spec) {
        _cleanup_free_ char **v = NULL;
        size_t n;
        int r;

        if (strmap_get(&d->refilled, s->name))
                return 0;
        r = strmap_put(&d->refilled, s->name, (void *)s);
        if (r >= 0 && ruleset_find_set_like(d->old, s)) {
                /* A set of elements with no element in it: a flush. */
                struct nftnl_set *set = set_alloc(s->name);
                if (!set)
                        return -ENOMEM;
                nftnl_set_elems_nlmsg_build_payload(msg_begin(d->bt, NFT_MSG_DELSETELEM, 0), set);
                nftnl_set_free(set);
                r = msg_end(d->bt);
        }
        if (r >= 0)
                r = all_elements(d->new, s, &v, &n);
        return r < 0 ? r : write_elements(d->bt, s, spec, v, n, false);
}

static int diff_elements(void *u, const NftSet *s, bool add, char *const *elems, size_t n) {
        DiffBatch *d = u;
        SetSpec spec;
        int r = note(d->bt, "%s elements of %s %s", add ? "new" : "deleted", s->is_map ? "map" : "set", s->name);

        if (r >= 0)
                r = parse_set_type(d->bt, s, &spec);
        if (r < 0)
                return r;
        if (spec.interval)
                return refill_interval_set(d, s, &spec);
        return write_elements(d->bt, s, &spec, elems, n, !add);
}

/* A rule deletion naming a chain but no rule: all of its rules go. */
static int flush_rules(Batch *bt, const char *chain) {
        struct nftnl_rule *rule = nftnl_rule_alloc();

        if (!rule)
                return -ENOMEM;
        nftnl_rule_set_str(rule, NFTNL_RULE_TABLE, HEP_TABLE_NAME);
        nftnl_rule_set_str(rule, NFTNL_RULE_CHAIN, chain);
        nftnl_rule_set_u32(rule, NFTNL_RULE_FAMILY, NFPROTO_INET);
        nftnl_rule_nlmsg_build_payload(msg_begin(bt, NFT_MSG_DELRULE, 0), rule);
        nftnl_rule_free(rule);
        return msg_end(bt);
}

static int delete_chain(Batch *bt, const char *chain) {
        struct nftnl_chain *c = nftnl_chain_alloc();

        if (!c)
                return -ENOMEM;
        nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, HEP_TABLE_NAME);
        nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, chain);
        nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, NFPROTO_INET);
        nftnl_chain_nlmsg_build_payload(msg_begin(bt, NFT_MSG_DELCHAIN, 0), c);
        nftnl_chain_free(c);
        return msg_end(bt);
}

static int diff_flush_chain(void *u, const NftChain *c) {
        DiffBatch *d = u;
        int r = note(d->bt, "flushing chain %s", c->name);

        return r < 0 ? r : flush_rules(d->bt, c->name);
}

static int diff_add_rules(void *u, const NftChain *c) {
        DiffBatch *d = u;
        int r = 0;

        for (size_t i = 0; r >= 0 && i < c->n_rules; i++) {
                r = note(d->bt, "the rule \"%s\" of chain %s", c->rules[i], c->name);
                if (r >= 0)
                        r = add_rule(d->bt, c->name, c->rules[i]);
        }
        return r;
}

static int diff_delete_chain(void *u, const NftChain *c) {
        DiffBatch *d = u;
        int r = note(d->bt, "deleting chain %s", c->name);

        return r < 0 ? r : delete_chain(d->bt, c->name);
}

static int diff_delete_set(void *u, const NftSet *s) {
        DiffBatch *d = u;
        struct nftnl_set *set;
        int r = note(d->bt, "deleting %s %s", s->is_map ? "map" : "set", s->name);

        if (r < 0)
                return r;
        set = set_alloc(s->name);
        if (!set)
                return -ENOMEM;
        nftnl_set_nlmsg_build_payload(msg_begin(d->bt, NFT_MSG_DELSET, 0), set);
        nftnl_set_free(set);
        return msg_end(d->bt);
}

static int diff_delete_counter(void *u, const char *name) {
        DiffBatch *d = u;
        struct nftnl_obj *o;
        int r = note(d->bt, "deleting counter %s", name);

        if (r < 0)
                return r;
        o = nftnl_obj_alloc();
        if (!o)
                return -ENOMEM;
        nftnl_obj_set_str(o, NFTNL_OBJ_TABLE, HEP_TABLE_NAME);
        nftnl_obj_set_str(o, NFTNL_OBJ_NAME, name);
        nftnl_obj_set_u32(o, NFTNL_OBJ_TYPE, NFT_OBJECT_COUNTER);
        nftnl_obj_set_u32(o, NFTNL_OBJ_FAMILY, NFPROTO_INET);
        nftnl_obj_nlmsg_build_payload(msg_begin(d->bt, NFT_MSG_DELOBJ, 0), o);
        nftnl_obj_free(o);
        return msg_end(d->bt);
}

static const RulesetDiffOps batch_diff_ops = {
        .add_counter = diff_add_counter,
        .add_chain = diff_add_chain,
        .add_set = diff_add_set,
        .elements = diff_elements,
        .flush_chain = diff_flush_chain,
        .add_rules = diff_add_rules,
        .delete_chain = diff_delete_chain,
        .delete_set = diff_delete_set,
        .delete_counter = diff_delete_counter,
};

static int build_diff(const Ruleset *old, const Ruleset *new, bool restore_flags, Batch *bt) {
        DiffBatch d = { .bt = bt, .old = old, .new = new };
        uint32_t begin;
        int r;

        nftnl_batch_begin(nftnl_batch_buffer(bt->b), bt->seq++);
        r = msg_end(bt);
        begin = bt->seq;
        /* Declaring the table with no flags wakes one set dormant. */
        if (r >= 0 && restore_flags && (r = note(bt, "the table")) >= 0)
                r = add_table(bt, NFT_MSG_NEWTABLE, NLM_F_CREATE);
        if (r >= 0)
                r = ruleset_diff(old, new, &batch_diff_ops, &d);
        strmap_done(&d.refilled);
        if (r < 0)
                return r;
        if (bt->seq == begin)
                return 0; /* nothing changed */
        bt->last->nlmsg_flags |= NLM_F_ACK;
        nftnl_batch_end(nftnl_batch_buffer(bt->b), bt->seq++);
        r = msg_end(bt);
        return r < 0 ? r : 1;
}

int nft_batch_diff(NftBatchSocket *s, const Ruleset *old, const Ruleset *new, bool restore_flags, char **ret_error) {
        Batch bt;
        int r;

        s->seq_base += 1u << 24;
        r = batch_init(&bt, s->seq_base | 1);
        if (r < 0)
                return r;
        r = build_diff(old, new, restore_flags, &bt);
        if (r == -EOPNOTSUPP) {
                if (ret_error)
                        *ret_error = steal_ptr(bt.error);
        } else if (r > 0) {
                int q = send_batch(s, new, &bt, ret_error);
                r = q < 0 ? q : 1;
        }
        batch_done(&bt);
        return r;
}
