/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The interface tracker fed by a host that tracks links itself
 * (HEP_HOST_TRACKS_LINKS, as ConnMan would): link and address events turn
 * into the interface list the calculation reads, NEW for a known index is
 * an update (a rename, a carrier change), and each event is announced. No
 * netlink socket, no root. */
#include "tests.h"

#include <arpa/inet.h>

#include "tracker.h"

static unsigned announced;

static void on_changed(void *userdata) {
        announced++;
}

static const HostInterface *find(LinkTracker *t, int ifindex) {
        const InterfaceList *l = link_tracker_interfaces(t);

        for (size_t i = 0; i < l->n; i++)
                if (l->v[i].ifindex == ifindex)
                        return &l->v[i];
        return NULL;
}

static bool has_address(const HostInterface *i, const char *text) {
        char buf[INET6_ADDRSTRLEN];

        for (size_t k = 0; k < i->n_addrs; k++)
                if (inet_ntop(i->addrs[k].family, i->addrs[k].bytes, buf, sizeof(buf)) && streq(buf, text))
                        return true;
        return false;
}

static void address(LinkTracker *t, int ifindex, const char *text, bool removed, int expected) {
        uint8_t bytes[16];
        int family = strchr(text, ':') ? AF_INET6 : AF_INET;

        ASSERT_EQ(inet_pton(family, text, bytes), 1);
        ASSERT_EQ(link_tracker_set_address(t, ifindex, family, bytes, removed), expected);
}

/* Links come, change and go; each event is announced. */
static void test_links(void) {
        LinkTracker *t = NULL;
        unsigned before;

        ASSERT_OK(link_tracker_new(NULL, false, on_changed, NULL, &t));
        ASSERT_EQ(link_tracker_interfaces(t)->n, 0);

        before = announced;
        ASSERT_OK(link_tracker_set_link(t, 3, "eth0", false, false));
        ASSERT_EQ(announced, before + 1);
        ASSERT_STREQ(find(t, 3)->name, "eth0");
        ASSERT_FALSE(find(t, 3)->oper_up);

        /* Carrier up, then a rename: the same interface, updated. */
        ASSERT_OK(link_tracker_set_link(t, 3, "eth0", true, false));
        ASSERT_TRUE(find(t, 3)->oper_up);
        ASSERT_OK(link_tracker_set_link(t, 3, "wan0", true, false));
        ASSERT_EQ(link_tracker_interfaces(t)->n, 1);
        ASSERT_STREQ(find(t, 3)->name, "wan0");

        ASSERT_OK(link_tracker_set_link(t, 4, "eth1", true, false));
        ASSERT_EQ(link_tracker_interfaces(t)->n, 2);
        ASSERT_OK(link_tracker_set_link(t, 3, "wan0", false, true));
        ASSERT_NULL(find(t, 3));
        ASSERT_NOT_NULL(find(t, 4));
        /* Removing what is not there changes nothing. */
        ASSERT_OK(link_tracker_set_link(t, 3, "wan0", false, true));
        ASSERT_EQ(link_tracker_interfaces(t)->n, 1);
        link_tracker_free(t);
}

/* Addresses belong to a known link; the same one twice is one. */
static void test_addresses(void) {
        LinkTracker *t = NULL;
        unsigned before;

        ASSERT_OK(link_tracker_new(NULL, false, on_changed, NULL, &t));
        address(t, 5, "10.0.0.1", false, -ENOENT); /* no such link (yet) */
        ASSERT_OK(link_tracker_set_link(t, 5, "eth2", true, false));
        address(t, 5, "10.0.0.1", false, 0);
        address(t, 5, "fd00::1", false, 0);
        before = announced;
        address(t, 5, "10.0.0.1", false, 0);
        ASSERT_EQ(announced, before); /* nothing new */
        ASSERT_EQ(find(t, 5)->n_addrs, 2);
        ASSERT_TRUE(has_address(find(t, 5), "10.0.0.1"));
        ASSERT_TRUE(has_address(find(t, 5), "fd00::1"));

        address(t, 5, "10.0.0.1", true, 0);
        ASSERT_EQ(find(t, 5)->n_addrs, 1);
        ASSERT_FALSE(has_address(find(t, 5), "10.0.0.1"));
        ASSERT_EQ(link_tracker_set_address(t, 5, AF_UNIX, (const uint8_t *)"x", false), -ENOENT);
        link_tracker_free(t);
}

int main(void) {
        RUN(test_links);
        RUN(test_addresses);
        return 0;
}
