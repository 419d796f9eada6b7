/* SPDX-License-Identifier: GPL-2.0-or-later */
/* IP addresses and networks parsed and printed exactly as Go's net package
 * does (ParseIP, ParseCIDR, IP.String, IPNet.String/Contains), because Calico
 * decides what is valid with those functions. An IPv4-mapped IPv6 value is
 * always held as AF_INET, as Go's To4() would see it. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "macro.h"

typedef struct IPAddr {
        int family;             /* AF_INET or AF_INET6 */
        uint8_t bytes[16];      /* network order; v4 in bytes[0..3], rest zero */
} IPAddr;

/* A network: addr is the network number (host bits already cleared by
 * ipnet_parse_go) and prefixlen counts bits of addr's own family. */
typedef struct IPNet {
        IPAddr addr;
        unsigned prefixlen;
} IPNet;

#define IPADDR_STRLEN 46        /* like INET6_ADDRSTRLEN */
#define IPNET_STRLEN 50

/* Accepts exactly what Go's net.ParseIP accepts (Go >= 1.22, netip based).
 * Fills *ret only on success. */
bool ipaddr_parse_go(const char *s, IPAddr *ret);

/* Go's net.ParseCIDR: "/len" is mandatory. On success *ret is the network
 * and *ret_masked (if non-NULL) tells whether the address as written was
 * already the network address, which Calico's "net" tag demands.
 * Returns 0 or -EINVAL; outputs untouched on failure. */
int ipnet_parse_go(const char *s, IPNet *ret, bool *ret_masked);

/* Go's IP.String(): dotted quad for v4 (and v4-mapped v6), RFC 5952 for v6. */
void ipaddr_format(const IPAddr *a, char buf[static IPADDR_STRLEN]);
/* Go's IPNet.String(): "<addr>/<prefixlen>". */
void ipnet_format(const IPNet *n, char buf[static IPNET_STRLEN]);

/* Total order: IPv4 before IPv6, then by address bytes. */
int ipaddr_compare(const IPAddr *a, const IPAddr *b) _pure_;
/* Go's IPNet.Contains: false across families. */
bool ipnet_contains(const IPNet *n, const IPAddr *a) _pure_;

/* Sorts v (IPv4 first, then by address) and drops every network that lies
 * inside another, for an nftables interval set, which refuses elements
 * that overlap. Networks of the same family either nest or are apart, so
 * what is left does not overlap. Returns how many are left. */
size_t ipnet_merge(IPNet *v, size_t n);

/* Rule R7: the catch-all Calico refuses in notNets — the exact text
 * "0.0.0.0/0", or any IPv6 CIDR with prefix length 0. */
bool ipnet_is_catch_all(const char *text) _pure_;
