/* SPDX-License-Identifier: GPL-2.0-or-later */
/* IP parsing and printing against Go's net.ParseIP / ParseCIDR / String
 * (Go 1.25, netip based), which is what Calico v3.32 validates with. Every
 * expectation here was derived from reading the Go sources, not from ours. */
#include "tests.h"
#include "ipaddr.h"

static void assert_ip(const char *in, int family, const char *out) {
        IPAddr a;
        char buf[IPADDR_STRLEN];

        if (!ipaddr_parse_go(in, &a))
                TEST_FAIL("ParseIP(\"%s\") rejected, expected %s", in, out);
        ASSERT_EQ(a.family, family);
        ipaddr_format(&a, buf);
        ASSERT_STREQ(buf, out);
}

static void assert_not_ip(const char *in) {
        IPAddr a = { .family = 12345 };

        if (ipaddr_parse_go(in, &a))
                TEST_FAIL("ParseIP(\"%s\") accepted, Go rejects it", in);
        ASSERT_EQ(a.family, 12345);
}

static void assert_cidr(const char *in, int family, const char *out, bool masked) {
        IPNet n;
        bool m = !masked;
        char buf[IPNET_STRLEN];

        if (ipnet_parse_go(in, &n, &m) != 0)
                TEST_FAIL("ParseCIDR(\"%s\") rejected, expected %s", in, out);
        ASSERT_EQ(n.addr.family, family);
        ipnet_format(&n, buf);
        ASSERT_STREQ(buf, out);
        if (m != masked)
                TEST_FAIL("ParseCIDR(\"%s\"): masked is %d, expected %d", in, m, masked);
}

static void assert_not_cidr(const char *in) {
        IPNet n = { .prefixlen = 777 };
        bool m = true;

        if (ipnet_parse_go(in, &n, &m) != -EINVAL)
                TEST_FAIL("ParseCIDR(\"%s\") accepted, Go rejects it", in);
        ASSERT_EQ(n.prefixlen, 777);
        ASSERT_TRUE(m);
}

static IPAddr v6_from_groups(const unsigned g[8]) {
        IPAddr a = { .family = AF_INET6 };

        for (int i = 0; i < 8; i++) {
                a.bytes[2 * i] = (uint8_t) (g[i] >> 8);
                a.bytes[2 * i + 1] = (uint8_t) g[i];
        }
        return a;
}

static void assert_format_v6(const unsigned g[8], const char *out) {
        IPAddr a = v6_from_groups(g);
        char buf[IPADDR_STRLEN];

        ipaddr_format(&a, buf);
        ASSERT_STREQ(buf, out);
}

/* Ordinary dotted quads round-trip, bytes land in bytes[0..3]. */
static void test_v4_valid(void) {
        IPAddr a;

        assert_ip("0.0.0.0", AF_INET, "0.0.0.0");
        assert_ip("1.2.3.4", AF_INET, "1.2.3.4");
        assert_ip("255.255.255.255", AF_INET, "255.255.255.255");
        assert_ip("10.0.0.0", AF_INET, "10.0.0.0");
        assert_ip("100.200.10.0", AF_INET, "100.200.10.0");
        ASSERT_TRUE(ipaddr_parse_go("192.168.1.20", &a));
        ASSERT_EQ(a.bytes[0], 192);
        ASSERT_EQ(a.bytes[3], 20);
        ASSERT_EQ(a.bytes[4], 0);
        ASSERT_EQ(a.bytes[15], 0);
}

/* Leading zeros in a v4 field are refused (Go >= 1.17); a lone "0" is fine. */
static void test_v4_leading_zero(void) {
        assert_not_ip("01.2.3.4");
        assert_not_ip("1.02.3.4");
        assert_not_ip("1.2.3.04");
        assert_not_ip("00.0.0.0");
        assert_not_ip("0.0.0.00");
        assert_not_ip("127.000.000.001");
        assert_not_ip("0123.0.0.1");
        assert_not_ip("123.000.000.000");
        assert_ip("0.10.100.0", AF_INET, "0.10.100.0");
}

/* Exactly four fields. */
static void test_v4_field_count(void) {
        assert_not_ip("1.2.3");
        assert_not_ip("1.2");
        assert_not_ip("1.");
        assert_not_ip("1");
        assert_not_ip("1.2.3.4.5");
        assert_not_ip("1.2.3.4.");
}

/* Each field at most 255. */
static void test_v4_range(void) {
        assert_not_ip("256.1.1.1");
        assert_not_ip("1.1.1.256");
        assert_not_ip("127.0.0.2560");
        assert_not_ip("999.1.1.1");
        assert_not_ip("4294967297.0.0.0");
}

/* Empty fields and an empty string. */
static void test_v4_empty_field(void) {
        assert_not_ip("");
        assert_not_ip("1..2.3");
        assert_not_ip(".1.2.3");
        assert_not_ip("1.2.3.");
        assert_not_ip("...");
        assert_not_ip(".");
}

/* Only digits and dots: no signs, spaces, hex, ports, masks, zones. */
static void test_v4_junk(void) {
        assert_not_ip(" 1.2.3.4");
        assert_not_ip("1.2.3.4 ");
        assert_not_ip("1.2. 3.4");
        assert_not_ip("+1.2.3.4");
        assert_not_ip("1.+2.3.4");
        assert_not_ip("-0.0.0.0");
        assert_not_ip("0.0.0.-3");
        assert_not_ip("0x1.2.3.4");
        assert_not_ip("1.2.3.4/32");
        assert_not_ip("1.2.3.4:80");
        assert_not_ip("1.2.3.4%eth0");
        assert_not_ip("a.b.c.d");
        assert_not_ip("1.2.3.4\n");
        assert_not_ip("\xef\xbc\x91.2.3.4");  /* fullwidth digit one */
        assert_not_ip("localhost");
        assert_not_ip("abc");
}

/* The usual IPv6 spellings; upper-case hex is read, printed lower-case. */
static void test_v6_basic(void) {
        assert_ip("::", AF_INET6, "::");
        assert_ip("::1", AF_INET6, "::1");
        assert_ip("1::", AF_INET6, "1::");
        assert_ip("1:2:3:4:5:6:7:8", AF_INET6, "1:2:3:4:5:6:7:8");
        assert_ip("2001:db8::1", AF_INET6, "2001:db8::1");
        assert_ip("2001:DB8::1", AF_INET6, "2001:db8::1");
        assert_ip("FE80::AbCd", AF_INET6, "fe80::abcd");
        assert_ip("0001:0002::", AF_INET6, "1:2::");
        assert_ip("2001:4860:0000:2001:0000:0000:0000:0068", AF_INET6, "2001:4860:0:2001::68");
        assert_ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", AF_INET6,
                  "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
}

/* Eight groups exactly, or fewer with a "::" that stands for at least one. */
static void test_v6_group_count(void) {
        assert_not_ip("1:2:3:4:5:6:7:8:9");
        assert_not_ip("1:2:3:4:5:6:7");
        assert_not_ip("1:2:3:4:5:6:7:8::");
        assert_not_ip("::1:2:3:4:5:6:7:8");
        assert_not_ip("1:2:3:4::5:6:7:8");
        assert_not_ip("a1:a2:a3:a4::b1:b2:b3:b4");
        assert_ip("1:2:3:4:5:6:7::", AF_INET6, "1:2:3:4:5:6:7:0");
        assert_ip("::1:2:3:4:5:6:7", AF_INET6, "0:1:2:3:4:5:6:7");
        assert_ip("1::2:3:4:5:6:7", AF_INET6, "1:0:2:3:4:5:6:7");
        assert_ip("1:2:3::4:5:6", AF_INET6, "1:2:3::4:5:6");
}

/* Only one "::", and no stray colons. */
static void test_v6_colons(void) {
        assert_not_ip("1::2::3");
        assert_not_ip("::1::");
        assert_not_ip(":::");
        assert_not_ip("1:::2");
        assert_not_ip(":1::");
        assert_not_ip(":1:2:3:4:5:6:7:8");
        assert_not_ip("1:");
        assert_not_ip("123:");
        assert_not_ip("1::2:");
        assert_not_ip("::1:");
        assert_not_ip(":");
}

/* Groups are 1..4 hex digits; five digits fail even when the value fits. */
static void test_v6_hex_digits(void) {
        assert_not_ip("12345::");
        assert_not_ip("1:23456::");
        assert_not_ip("00000::");
        assert_not_ip("::00001");
        assert_not_ip("0:0:0:0:000000:ffff:127.1.2.3");
        assert_not_ip("g::");
        assert_not_ip("1::fffg");
        assert_not_ip("1::-1");
        assert_ip("ffff::0000", AF_INET6, "ffff::");
}

/* A trailing dotted quad fills the last 32 bits; v4-mapped becomes AF_INET. */
static void test_v6_embedded_v4(void) {
        assert_ip("::ffff:1.2.3.4", AF_INET, "1.2.3.4");
        assert_ip("::FFFF:1.2.3.4", AF_INET, "1.2.3.4");
        assert_ip("0:0:0:0:0:ffff:1.2.3.4", AF_INET, "1.2.3.4");
        assert_ip("0:0:0:0::ffff:127.1.2.3", AF_INET, "127.1.2.3");
        assert_ip("::ffff:7f01:0203", AF_INET, "127.1.2.3");
        assert_ip("::ffff:0.0.0.0", AF_INET, "0.0.0.0");
        assert_ip("::1.2.3.4", AF_INET6, "::102:304");
        assert_ip("1:2:3:4:5:6:1.2.3.4", AF_INET6, "1:2:3:4:5:6:102:304");
        assert_ip("1::1.2.3.4", AF_INET6, "1::102:304");
        assert_ip("::1:2:3:4:5:1.2.3.4", AF_INET6, "0:1:2:3:4:5:102:304");
        assert_ip("64:ff9b::192.0.2.33", AF_INET6, "64:ff9b::c000:221");
        assert_ip("::ffff:0:1.2.3.4", AF_INET6, "::ffff:0:102:304");
}

/* The dotted quad must be last, fit, and itself be a valid Go IPv4. */
static void test_v6_embedded_v4_rejected(void) {
        assert_not_ip("1:2:3:4:5:1.2.3.4");
        assert_not_ip("1:2:3:4:5:6:7:1.2.3.4");
        assert_not_ip("1:2:3:4:5:6:7::1.2.3.4");
        assert_not_ip("::1:2:3:4:5:6:1.2.3.4");
        assert_not_ip("::1.2.3.4:1");
        assert_not_ip("::1.2.3.4::");
        assert_not_ip("1.2.3.4::");
        assert_not_ip("::ffff:1.2.3");
        assert_not_ip("::ffff:1.2.3.4.5");
        assert_not_ip("::ffff:01.2.3.4");
        assert_not_ip("::ffff:127.001.002.003");
        assert_not_ip("::ffff:1.2.3.256");
        assert_not_ip("::ffff:a.2.3.4");
        assert_not_ip("::ffff:.1.2.3");
}

/* Zones, brackets, masks, ports and spaces are all refused. */
static void test_v6_zone_brackets_junk(void) {
        assert_not_ip("fe80::1%eth0");
        assert_not_ip("fe80::1%lo0");
        assert_not_ip("fe80::1%911");
        assert_not_ip("fe80::1%");
        assert_not_ip("::ffff:1.2.3.4%eth0");
        assert_not_ip("%eth0");
        assert_not_ip("[::1]");
        assert_not_ip("[::1]:80");
        assert_not_ip("::1/128");
        assert_not_ip(" ::1");
        assert_not_ip("::1 ");
        assert_not_ip(":: 1");
        assert_not_ip("::1\n");
}

/* RFC 5952 as Go prints it: longest zero run, first on a tie, never one group. */
static void test_format_rfc5952(void) {
        assert_format_v6((const unsigned[8]) { 0x2001, 0xdb8, 0, 0, 1, 0, 0, 1 }, "2001:db8::1:0:0:1");
        assert_format_v6((const unsigned[8]) { 0x2001, 0, 0, 1, 0, 0, 0, 1 }, "2001:0:0:1::1");
        assert_format_v6((const unsigned[8]) { 0x2001, 0xdb8, 0, 1, 1, 1, 1, 1 }, "2001:db8:0:1:1:1:1:1");
        assert_format_v6((const unsigned[8]) { 0x2001, 0xdb8, 1, 0, 1, 0, 1, 0 }, "2001:db8:1:0:1:0:1:0");
        assert_format_v6((const unsigned[8]) { 0, 1, 0, 1, 0, 1, 0, 1 }, "0:1:0:1:0:1:0:1");
        assert_format_v6((const unsigned[8]) { 1, 0, 0, 2, 0, 0, 0, 3 }, "1:0:0:2::3");
        assert_format_v6((const unsigned[8]) { 0, 0, 0, 1, 0, 0, 0, 1 }, "::1:0:0:0:1");
        assert_format_v6((const unsigned[8]) { 0, 0, 1, 0, 0, 0, 0, 0 }, "0:0:1::");
        assert_format_v6((const unsigned[8]) { 0, 0, 0, 0, 0, 0, 0, 1 }, "::1");
        assert_format_v6((const unsigned[8]) { 1, 0, 0, 0, 0, 0, 0, 0 }, "1::");
        assert_format_v6((const unsigned[8]) { 0, 0, 0, 0, 0, 0, 0, 0 }, "::");
        assert_format_v6((const unsigned[8]) { 0xABCD, 0xEF, 0, 0, 0, 0, 0, 0 }, "abcd:ef::");
        assert_format_v6((const unsigned[8]) { 0x2001, 0xdb8, 0, 0, 0, 0xa, 0xb, 0xc }, "2001:db8::a:b:c");
        assert_format_v6((const unsigned[8]) { 0x2001, 0x0db8, 0x0001, 0x00f0, 0x0f00, 0xf000, 0, 0x10 },
                         "2001:db8:1:f0:f00:f000:0:10");
}

/* v4-mapped bytes print as a dotted quad even in an AF_INET6 IPAddr, like
 * Go's IP.String; an empty IP prints "<nil>". */
static void test_format_mapped_and_nil(void) {
        IPAddr z = {};
        char buf[IPADDR_STRLEN];

        assert_format_v6((const unsigned[8]) { 0, 0, 0, 0, 0, 0xffff, 0xc000, 0x0201 }, "192.0.2.1");
        assert_format_v6((const unsigned[8]) { 0, 0, 0, 0, 0, 0xffff, 0, 0 }, "0.0.0.0");
        assert_format_v6((const unsigned[8]) { 0, 0, 0, 0, 0xffff, 0, 0xc000, 0x0201 }, "::ffff:0:c000:201");
        ipaddr_format(&z, buf);
        ASSERT_STREQ(buf, "<nil>");
}

/* IPv4 CIDRs: the network is computed, masked says whether host bits were zero. */
static void test_cidr_v4(void) {
        assert_cidr("10.0.0.1/32", AF_INET, "10.0.0.1/32", true);
        assert_cidr("10.0.0.0/24", AF_INET, "10.0.0.0/24", true);
        assert_cidr("10.0.0.1/24", AF_INET, "10.0.0.0/24", false);
        assert_cidr("0.0.0.0/0", AF_INET, "0.0.0.0/0", true);
        assert_cidr("1.2.3.4/0", AF_INET, "0.0.0.0/0", false);
        assert_cidr("192.168.1.128/25", AF_INET, "192.168.1.128/25", true);
        assert_cidr("192.168.1.129/25", AF_INET, "192.168.1.128/25", false);
        assert_cidr("172.16.255.255/12", AF_INET, "172.16.0.0/12", false);
        assert_cidr("135.104.0.1/32", AF_INET, "135.104.0.1/32", true);
}

/* The prefix length is Go's dtoi: digits only, leading zeros allowed. */
static void test_cidr_prefix_syntax(void) {
        IPNet n;

        assert_cidr("10.0.0.0/08", AF_INET, "10.0.0.0/8", true);
        assert_cidr("10.0.0.0/0008", AF_INET, "10.0.0.0/8", true);
        assert_cidr("::/0128", AF_INET6, "::/128", true);
        ASSERT_OK(ipnet_parse_go("10.0.0.0/8", &n, NULL));
        ASSERT_EQ(n.prefixlen, 8);
        assert_not_cidr("10.0.0.0/33");
        assert_not_cidr("10.0.0.0/-1");
        assert_not_cidr("10.0.0.0/-0");
        assert_not_cidr("10.0.0.0/+8");
        assert_not_cidr("10.0.0.0/ 8");
        assert_not_cidr("10.0.0.0/8 ");
        assert_not_cidr("10.0.0.0/");
        assert_not_cidr("10.0.0.0/0x8");
        assert_not_cidr("10.0.0.0/8/8");
        assert_not_cidr("10.0.0.0/8.0");
        assert_not_cidr("192.168.1.1/255.255.255.0");
        assert_not_cidr("10.0.0.0/99999999999999999999");
        assert_not_cidr("::/129");
        assert_not_cidr("2001:db8::1/-1");
}

/* The address half follows ParseIP's rules and the slash is mandatory. */
static void test_cidr_address_part(void) {
        assert_not_cidr("10.0.0.1");
        assert_not_cidr("::1");
        assert_not_cidr("");
        assert_not_cidr("/24");
        assert_not_cidr("010.0.0.0/8");
        assert_not_cidr("127.000.000.001/32");
        assert_not_cidr("-0.0.0.0/32");
        assert_not_cidr("10.0.0/24");
        assert_not_cidr(" 10.0.0.0/24");
        assert_not_cidr("fe80::1%eth0/64");
        assert_not_cidr("[::1]/128");
        assert_not_cidr("[::1/128]");
        assert_not_cidr("1::2::3/64");
}

/* IPv6 CIDRs print in RFC 5952 form. */
static void test_cidr_v6(void) {
        assert_cidr("2001:db8::/32", AF_INET6, "2001:db8::/32", true);
        assert_cidr("2001:db8::1/32", AF_INET6, "2001:db8::/32", false);
        assert_cidr("2001:DB8::/48", AF_INET6, "2001:db8::/48", true);
        assert_cidr("::/0", AF_INET6, "::/0", true);
        assert_cidr("::1/128", AF_INET6, "::1/128", true);
        assert_cidr("abcd:2345::/24", AF_INET6, "abcd:2300::/24", false);
        assert_cidr("abcd:2345::/65", AF_INET6, "abcd:2345::/65", true);
        assert_cidr("fe80::1/10", AF_INET6, "fe80::/10", false);
}

/* A v4-mapped address text has a 128-bit prefix; a network that is still
 * v4-mapped is seen as IPv4 with 96 bits fewer, as Go's IPNet.String does. */
static void test_cidr_v4_mapped(void) {
        assert_cidr("::ffff:1.2.3.0/120", AF_INET, "1.2.3.0/24", true);
        assert_cidr("::ffff:1.2.3.4/120", AF_INET, "1.2.3.0/24", false);
        assert_cidr("::ffff:1.2.3.4/128", AF_INET, "1.2.3.4/32", true);
        assert_cidr("::ffff:1.2.3.4/96", AF_INET, "0.0.0.0/0", false);
        assert_cidr("::ffff:1.2.3.4/95", AF_INET6, "::fffe:0:0/95", false);
        assert_cidr("::ffff:1.2.3.4/24", AF_INET6, "::/24", false);
        assert_cidr("::ffff:1.2.3.4/33", AF_INET6, "::/33", false);
        assert_not_cidr("::ffff:1.2.3.4/129");
}

/* Contains works within one family only, bit-exact at the prefix boundary. */
static void test_contains(void) {
        IPNet n;
        IPAddr a;

        ASSERT_OK(ipnet_parse_go("10.0.0.0/8", &n, NULL));
        ASSERT_TRUE(ipaddr_parse_go("10.255.2.3", &a) && ipnet_contains(&n, &a));
        ASSERT_TRUE(ipaddr_parse_go("11.0.0.0", &a) && !ipnet_contains(&n, &a));
        ASSERT_TRUE(ipaddr_parse_go("::ffff:10.1.1.1", &a) && ipnet_contains(&n, &a));
        ASSERT_TRUE(ipaddr_parse_go("::a01:101", &a) && !ipnet_contains(&n, &a));

        ASSERT_OK(ipnet_parse_go("192.168.1.128/25", &n, NULL));
        ASSERT_TRUE(ipaddr_parse_go("192.168.1.127", &a) && !ipnet_contains(&n, &a));
        ASSERT_TRUE(ipaddr_parse_go("192.168.1.128", &a) && ipnet_contains(&n, &a));
        ASSERT_TRUE(ipaddr_parse_go("192.168.1.255", &a) && ipnet_contains(&n, &a));

        ASSERT_OK(ipnet_parse_go("0.0.0.0/0", &n, NULL));
        ASSERT_TRUE(ipaddr_parse_go("203.0.113.9", &a) && ipnet_contains(&n, &a));
        ASSERT_TRUE(ipaddr_parse_go("::1", &a) && !ipnet_contains(&n, &a));

        ASSERT_OK(ipnet_parse_go("::/0", &n, NULL));
        ASSERT_TRUE(ipaddr_parse_go("2001:db8::1", &a) && ipnet_contains(&n, &a));
        ASSERT_TRUE(ipaddr_parse_go("1.2.3.4", &a) && !ipnet_contains(&n, &a));
        ASSERT_TRUE(ipaddr_parse_go("::ffff:1.2.3.4", &a) && !ipnet_contains(&n, &a));

        ASSERT_OK(ipnet_parse_go("2001:db8:1::/47", &n, NULL));
        ASSERT_TRUE(ipaddr_parse_go("2001:db8:1:2::1", &a) && ipnet_contains(&n, &a));
        ASSERT_TRUE(ipaddr_parse_go("2001:db8:2::", &a) && !ipnet_contains(&n, &a));

        ASSERT_OK(ipnet_parse_go("::ffff:1.2.3.0/120", &n, NULL));
        ASSERT_TRUE(ipaddr_parse_go("1.2.3.99", &a) && ipnet_contains(&n, &a));
        ASSERT_TRUE(ipaddr_parse_go("1.2.4.0", &a) && !ipnet_contains(&n, &a));
}

/* IPv4 sorts before IPv6; a mapped AF_INET6 equals its AF_INET twin. */
static void test_compare(void) {
        IPAddr a, b;

        ASSERT_TRUE(ipaddr_parse_go("255.255.255.255", &a) && ipaddr_parse_go("::", &b));
        ASSERT_EQ(ipaddr_compare(&a, &b), -1);
        ASSERT_EQ(ipaddr_compare(&b, &a), 1);
        ASSERT_TRUE(ipaddr_parse_go("1.2.3.4", &a) && ipaddr_parse_go("1.2.3.5", &b));
        ASSERT_EQ(ipaddr_compare(&a, &b), -1);
        ASSERT_TRUE(ipaddr_parse_go("::ffff:1.2.3.4", &b));
        ASSERT_EQ(ipaddr_compare(&a, &b), 0);
        b = v6_from_groups((const unsigned[8]) { 0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304 });
        ASSERT_EQ(ipaddr_compare(&a, &b), 0);
        ASSERT_TRUE(ipaddr_parse_go("2001:db8::1", &a) && ipaddr_parse_go("2001:db8::", &b));
        ASSERT_EQ(ipaddr_compare(&a, &b), 1);
        ASSERT_EQ(ipaddr_compare(&a, &a), 0);
}

/* R7: v4 only as the exact text "0.0.0.0/0"; v6 any CIDR with /0. */
static void test_catch_all(void) {
        ASSERT_TRUE(ipnet_is_catch_all("0.0.0.0/0"));
        ASSERT_TRUE(ipnet_is_catch_all("::/0"));
        ASSERT_TRUE(ipnet_is_catch_all("0::/0"));
        ASSERT_TRUE(ipnet_is_catch_all("::0/0"));
        ASSERT_TRUE(ipnet_is_catch_all("0:0:0:0:0:0:0:0/0"));
        ASSERT_TRUE(ipnet_is_catch_all("::/00"));
        ASSERT_TRUE(ipnet_is_catch_all("1::/0"));
        ASSERT_TRUE(ipnet_is_catch_all("2001:db8::1/0"));
        ASSERT_TRUE(ipnet_is_catch_all("::ffff:1.2.3.4/0"));
        ASSERT_FALSE(ipnet_is_catch_all("0.0.0.0/00"));
        ASSERT_FALSE(ipnet_is_catch_all("1.2.3.4/0"));
        ASSERT_FALSE(ipnet_is_catch_all(" 0.0.0.0/0"));
        ASSERT_FALSE(ipnet_is_catch_all("::ffff:0.0.0.0/96"));
        ASSERT_FALSE(ipnet_is_catch_all("::/1"));
        ASSERT_FALSE(ipnet_is_catch_all("::"));
        ASSERT_FALSE(ipnet_is_catch_all("::/0 "));
        ASSERT_FALSE(ipnet_is_catch_all("[::]/0"));
        ASSERT_FALSE(ipnet_is_catch_all("0.0.0.0"));
        ASSERT_FALSE(ipnet_is_catch_all(""));
}

int main(void) {
        RUN(test_v4_valid);
        RUN(test_v4_leading_zero);
        RUN(test_v4_field_count);
        RUN(test_v4_range);
        RUN(test_v4_empty_field);
        RUN(test_v4_junk);
        RUN(test_v6_basic);
        RUN(test_v6_group_count);
        RUN(test_v6_colons);
        RUN(test_v6_hex_digits);
        RUN(test_v6_embedded_v4);
        RUN(test_v6_embedded_v4_rejected);
        RUN(test_v6_zone_brackets_junk);
        RUN(test_format_rfc5952);
        RUN(test_format_mapped_and_nil);
        RUN(test_cidr_v4);
        RUN(test_cidr_prefix_syntax);
        RUN(test_cidr_address_part);
        RUN(test_cidr_v6);
        RUN(test_cidr_v4_mapped);
        RUN(test_contains);
        RUN(test_compare);
        RUN(test_catch_all);
        return 0;
}
