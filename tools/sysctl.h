/* SPDX-License-Identifier: GPL-2.0 */
#ifndef L3DSRCTL_SYSCTL_H
#define L3DSRCTL_SYSCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <net/if.h>

#include "addr.h"
#include "config.h"

/*
 * The host settings a DSR server needs, under /proc/sys/net/ipv4/conf
 * (IPv4 only: IPv6 neighbour discovery answers only for the addresses of
 * the interface asked, so a VIP on lo is never announced on the wire):
 *
 *   arp_ignore 1, arp_announce 2  on "all" and on every interface that
 *                                 carries the RIPs, so that the host never
 *                                 answers ARP for a VIP nor uses one as
 *                                 the source of its own ARP requests;
 *   rp_filter 2 (loose)           on an interface that carries the RIPs
 *                                 but not the IPv4 default route, where
 *                                 strict mode (1) would drop every request
 *                                 from a client that the host would not
 *                                 answer through that interface.
 *
 * A value already stricter (arp_ignore above 1, say) is left alone, and
 * nothing is ever lowered back: the kernel keeps no owner for a sysctl, so
 * apply cannot tell its own values from an operator's.
 */

struct setting {
	char dev[IF_NAMESIZE];	/* "all" or an interface */
	const char *key;	/* "arp_ignore", ... */
	int before;
	int after;
};

struct settings {
	struct setting items[3 * 65];
	size_t count;
	char wire[64][IF_NAMESIZE];	/* the interfaces carrying RIPs */
	size_t wire_count;
};

/* "net.ipv4.conf.eth0/10.arp_ignore", as sysctl(8) names it. */
void setting_name(const struct setting *s, char *buf, size_t size);

/* A value under /proc/sys/net/ipv4/conf/DEV/KEY, or -1 if unreadable. */
int sysctl_read(const char *dev, const char *key);
/* Write one; 0, or -1 with errno. */
int sysctl_write(const char *dev, const char *key, int value);

/*
 * What the mappings of c need that the host does not have yet, given the
 * namespace's addresses. Returns 0, or -1 with errno if a value cannot be
 * read.
 */
int settings_plan(const struct config *c, const struct addr_list *addrs,
		  struct settings *s);

#endif
