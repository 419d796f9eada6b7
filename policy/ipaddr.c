/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Go-exact IP parsing and printing; see ipaddr.h. The parsers mirror
 * net/netip's ParseAddr (which net.ParseIP and net.ParseCIDR call since Go
 * 1.22) rule for rule; each rejection below names the Go rule it mirrors. */
#include "ipaddr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t v4_mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

static int hex_value(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

/* Dotted quad in s[0..n), as netip's parseIPv4Fields: decimal digits and
 * dots only, exactly four non-empty fields, each <= 255, and no leading zero
 * (a field "0" is fine, "00" or "01" is not; rejected since Go 1.17). */
static bool parse_v4(const char *s, size_t n, uint8_t out[static 4]) {
        unsigned val = 0, digits = 0, field = 0;

        for (size_t i = 0; i < n; i++) {
                char c = s[i];

                if (c >= '0' && c <= '9') {
                        if (digits == 1 && val == 0)
                                return false;
                        val = val * 10 + (unsigned) (c - '0');
                        digits++;
                        if (val > 255)
                                return false;
                } else if (c == '.') {
                        /* ".1.2.3", "1.2.3.", "1..2.3" */
                        if (i == 0 || i == n - 1 || s[i - 1] == '.')
                                return false;
                        if (field == 3)
                                return false;
                        out[field++] = (uint8_t) val;
                        val = 0;
                        digits = 0;
                } else
                        return false;
        }
        if (field < 3)
                return false;
        out[3] = (uint8_t) val;
        return true;
}

/* Reads one hex group (1..4 digits, as netip allows "0db8" but not "00db8").
 * Returns the number of digits consumed, 0 if none, or -1 if too many. */
static int parse_hex_group(const char *s, size_t n, unsigned *ret) {
        unsigned v = 0;
        size_t k = 0;

        for (; k < n && hex_value(s[k]) >= 0; k++) {
                if (k == 4)
                        return -1;
                v = v * 16 + (unsigned) hex_value(s[k]);
        }
        *ret = v;
        return (int) k;
}

/* Turns the i bytes read into 16: the "::" at byte gap must stand for at
 * least one zero group, and without one all 16 bytes must have been given. */
static bool expand_gap(uint8_t b[static 16], size_t i, int gap) {
        size_t tail;

        if (i == 16)
                return gap < 0;
        if (gap < 0)
                return false;
        tail = i - (size_t) gap;
        memmove(b + 16 - tail, b + gap, tail);
        memset(b + gap, 0, 16 - i);
        return true;
}

/* IPv6 text without zone, as netip's parseIPv6: at most one "::" standing
 * for at least one zero group, groups of 1..4 hex digits, and an optional
 * dotted quad only as the last 32 bits (at group 7 without "::", or anywhere
 * after a "::" as long as it fits). */
static bool parse_v6(const char *s, size_t n, uint8_t out[static 16]) {
        uint8_t b[16] = {};
        size_t i = 0, p = 0;
        int gap = -1;

        if (n >= 2 && s[0] == ':' && s[1] == ':') {
                gap = 0;
                p = 2;
                if (p == n) {
                        memcpy(out, b, 16);
                        return true;
                }
        }

        while (i < 16) {
                unsigned v;
                int k = parse_hex_group(s + p, n - p, &v);

                if (k <= 0)
                        return false;
                if (p + (size_t) k < n && s[p + (size_t) k] == '.') {
                        /* Go also refuses a quad before group 7 when there
                         * is no "::"; that case fails below as too short. */
                        if (i + 4 > 16)
                                return false;
                        if (!parse_v4(s + p, n - p, b + i))
                                return false;
                        i += 4;
                        p = n;
                        break;
                }
                b[i++] = (uint8_t) (v >> 8);
                b[i++] = (uint8_t) v;
                p += (size_t) k;
                if (p == n)
                        break;
                /* A group must be followed by ':' and something more. */
                if (s[p] != ':' || p + 1 == n)
                        return false;
                p++;
                if (s[p] == ':') {
                        if (gap >= 0)
                                return false;
                        gap = (int) i;
                        p++;
                        if (p == n)
                                break;
                }
        }
        if (p != n || !expand_gap(b, i, gap))
                return false;
        memcpy(out, b, 16);
        return true;
}

/* netip.ParseAddr restricted to what net.ParseIP keeps: the first '.' or
 * ':' decides the family. Go accepts a "%zone" suffix on IPv6 but net.ParseIP
 * and net.ParseCIDR then discard the result, so here '%' is simply a
 * character neither parser allows. *is_v6 reports the textual family (Go's
 * BitLen 32 or 128), out16 gets the 16-byte form. */
static bool parse_addr(const char *s, size_t n, uint8_t out16[static 16], bool *is_v6) {
        for (size_t i = 0; i < n; i++) {
                if (s[i] == '.') {
                        memcpy(out16, v4_mapped_prefix, 12);
                        *is_v6 = false;
                        return parse_v4(s, n, out16 + 12);
                }
                if (s[i] == ':') {
                        *is_v6 = true;
                        return parse_v6(s, n, out16);
                }
        }
        return false;
}

static bool bytes_are_v4_mapped(const uint8_t b[static 16]) {
        return memcmp(b, v4_mapped_prefix, 12) == 0;
}

/* The To4() view: 16 bytes become AF_INET when they carry the v4-mapped
 * prefix, else AF_INET6. */
static IPAddr ipaddr_from16(const uint8_t b[static 16]) {
        IPAddr a = {};

        if (bytes_are_v4_mapped(b)) {
                a.family = AF_INET;
                memcpy(a.bytes, b + 12, 4);
        } else {
                a.family = AF_INET6;
                memcpy(a.bytes, b, 16);
        }
        return a;
}

/* Same To4() view for an IPAddr a caller built by hand. */
static IPAddr ipaddr_unmap(const IPAddr *a) {
        if (a->family == AF_INET6)
                return ipaddr_from16(a->bytes);
        return *a;
}

bool ipaddr_parse_go(const char *s, IPAddr *ret) {
        uint8_t b[16];
        bool is_v6;

        if (!s || !parse_addr(s, strlen(s), b, &is_v6))
                return false;
        *ret = ipaddr_from16(b);
        return true;
}

/* net's dtoi: one or more ASCII digits, nothing else, no sign; leading
 * zeros are accepted ("/08" is 8). Values past 0xFFFFFF fail as in Go. */
static bool parse_prefix_len(const char *s, unsigned *ret) {
        unsigned v = 0;

        if (!*s)
                return false;
        for (; *s; s++) {
                if (*s < '0' || *s > '9')
                        return false;
                v = v * 10 + (unsigned) (*s - '0');
                if (v >= 0xFFFFFF)
                        return false;
        }
        *ret = v;
        return true;
}

static void mask_bytes(uint8_t *b, size_t len, unsigned bits) {
        for (size_t i = 0; i < len; i++) {
                if (bits >= 8) {
                        bits -= 8;
                        continue;
                }
                b[i] &= (uint8_t) (0xff << (8 - bits));
                bits = 0;
        }
}

int ipnet_parse_go(const char *s, IPNet *ret, bool *ret_masked) {
        const char *slash;
        uint8_t addr[16], net[16];
        unsigned bits, maxbits;
        bool is_v6, masked;
        IPNet n = {};

        if (!s)
                return -EINVAL;
        /* ParseCIDR splits at the first '/'; the rest must be all digits. */
        slash = strchr(s, '/');
        if (!slash)
                return -EINVAL;
        if (!parse_addr(s, (size_t) (slash - s), addr, &is_v6))
                return -EINVAL;
        if (!parse_prefix_len(slash + 1, &bits))
                return -EINVAL;

        /* "::ffff:1.2.3.4/120" is a 128-bit prefix in Go: the bit length
         * follows the text, not To4(). */
        maxbits = is_v6 ? 128 : 32;
        if (bits > maxbits)
                return -EINVAL;

        memcpy(net, addr, 16);
        mask_bytes(net + (is_v6 ? 0 : 12), is_v6 ? 16 : 4, bits);
        masked = memcmp(net, addr, 16) == 0;

        /* Go's networkNumberAndMask: a network whose number is v4-mapped is
         * seen as IPv4 with the last 32 bits of the mask. */
        n.addr = ipaddr_from16(net);
        n.prefixlen = bits;
        if (is_v6 && n.addr.family == AF_INET)
                n.prefixlen = bits - 96;

        *ret = n;
        if (ret_masked)
                *ret_masked = masked;
        return 0;
}

/* Digits by hand rather than snprintf(): a selector's set formats every
 * member's address each time it is rebuilt, and snprintf() was a fifth of
 * an event's cost at 10,000 HEPs. buf holds IPADDR_STRLEN. */
static size_t format_v4(const uint8_t b[static 4], char *buf, size_t size) {
        size_t len = 0;

        (void) size;
        for (int i = 0; i < 4; i++) {
                unsigned v = b[i];
                if (i > 0)
                        buf[len++] = '.';
                if (v >= 100)
                        buf[len++] = (char) ('0' + v / 100);
                if (v >= 10)
                        buf[len++] = (char) ('0' + v / 10 % 10);
                buf[len++] = (char) ('0' + v % 10);
        }
        buf[len] = '\0';
        return len;
}

/* A group in lower-case hex without leading zeros. */
static size_t format_hex16(unsigned v, char *buf) {
        static const char digits[] = "0123456789abcdef";
        size_t len = 0;

        for (int shift = 12; shift >= 0; shift -= 4)
                if ((v >> shift) != 0 || shift == 0)
                        buf[len++] = digits[(v >> shift) & 0xf];
        return len;
}

/* RFC 5952 as netip's appendTo6: lower-case hex without leading zeros; the
 * longest run of two or more zero groups becomes "::", the first such run
 * when two are equally long; a lone zero group stays "0". */
static size_t format_v6(const uint8_t b[static 16], char *buf, size_t size) {
        unsigned groups[8];
        int zstart = -1, zlen = 0;
        size_t len = 0;

        for (int g = 0; g < 8; g++)
                groups[g] = (unsigned) b[2 * g] << 8 | b[2 * g + 1];

        for (int g = 0; g < 8; g++) {
                int e = g;

                while (e < 8 && groups[e] == 0)
                        e++;
                if (e - g >= 2 && e - g > zlen) {
                        zstart = g;
                        zlen = e - g;
                }
        }

        (void) size; /* at most 39 characters; buf holds IPADDR_STRLEN */
        for (int g = 0; g < 8; g++) {
                if (g == zstart) {
                        buf[len++] = ':';
                        buf[len++] = ':';
                        g += zlen - 1;
                        continue;
                }
                if (g > 0 && g != zstart + zlen)
                        buf[len++] = ':';
                len += format_hex16(groups[g], buf + len);
        }
        buf[len] = '\0';
        return len;
}

static size_t format_addr(const IPAddr *a, char *buf, size_t size) {
        IPAddr u = ipaddr_unmap(a);

        switch (u.family) {
        case AF_INET:
                return format_v4(u.bytes, buf, size);
        case AF_INET6:
                return format_v6(u.bytes, buf, size);
        default:
                /* Go prints an empty IP as "<nil>". */
                return (size_t) snprintf(buf, size, "<nil>");
        }
}

void ipaddr_format(const IPAddr *a, char buf[static IPADDR_STRLEN]) {
        format_addr(a, buf, IPADDR_STRLEN);
}

void ipnet_format(const IPNet *n, char buf[static IPNET_STRLEN]) {
        size_t len = format_addr(&n->addr, buf, IPNET_STRLEN);

        snprintf(buf + len, IPNET_STRLEN - len, "/%u", n->prefixlen);
}

static size_t family_len(int family) {
        return family == AF_INET ? 4 : 16;
}

int ipaddr_compare(const IPAddr *a, const IPAddr *b) {
        IPAddr x = ipaddr_unmap(a), y = ipaddr_unmap(b);
        int r;

        if (x.family != y.family)
                return x.family == AF_INET ? -1 : 1;
        r = memcmp(x.bytes, y.bytes, family_len(x.family));
        return r < 0 ? -1 : r > 0;
}

bool ipnet_contains(const IPNet *n, const IPAddr *a) {
        IPAddr x = ipaddr_unmap(a);
        size_t len = family_len(x.family);
        uint8_t net[16], host[16];

        if (x.family != n->addr.family || n->prefixlen > len * 8)
                return false;
        memcpy(net, n->addr.bytes, len);
        memcpy(host, x.bytes, len);
        mask_bytes(net, len, n->prefixlen);
        mask_bytes(host, len, n->prefixlen);
        return memcmp(net, host, len) == 0;
}

/* Calico's check (validator.go, scanNets): for v4 only the literal text
 * "0.0.0.0/0" counts (so "0.0.0.0/00" slips through); for v6 any CIDR whose
 * mask is /0 and whose network is "::", which every v6 /0 has. */
bool ipnet_is_catch_all(const char *text) {
        IPNet n;

        if (!text)
                return false;
        if (streq(text, "0.0.0.0/0"))
                return true;
        return ipnet_parse_go(text, &n, NULL) == 0 && n.addr.family == AF_INET6 && n.prefixlen == 0;
}

static int compare_ipnets(const void *a, const void *b) {
        const IPNet *x = a, *y = b;
        int r = ipaddr_compare(&x->addr, &y->addr);

        if (r != 0)
                return r;
        return x->prefixlen < y->prefixlen ? -1 : x->prefixlen > y->prefixlen;
}

size_t ipnet_merge(IPNet *v, size_t n) {
        size_t k = 0;

        if (n == 0)
                return 0;
        /* By first address, the wider network first where two start alike:
         * two networks either nest or are apart, so a network inside any
         * kept one is inside the last one kept. */
        qsort(v, n, sizeof(IPNet), compare_ipnets);
        for (size_t i = 0; i < n; i++) {
                if (k > 0 && v[k - 1].addr.family == v[i].addr.family && v[k - 1].prefixlen <= v[i].prefixlen &&
                    ipnet_contains(&v[k - 1], &v[i].addr))
                        continue;
                v[k++] = v[i];
        }
        return k;
}
