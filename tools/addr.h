/* SPDX-License-Identifier: GPL-2.0 */
#ifndef L3DSRCTL_ADDR_H
#define L3DSRCTL_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#include "netlink.h"

/*
 * The VIPs' addresses, over rtnetlink. The addresses l3dsrctl adds carry
 * this address protocol (IFA_PROTO, `ip address show proto 213`), which
 * the kernel keeps with them: it is how l3dsrctl knows its own from the
 * ones an operator made, which it never removes.
 */
#define L3DSR_ADDR_PROTO 213

/* One address of the namespace. */
struct local_addr {
	int family;
	unsigned char addr[sizeof(struct in6_addr)];
	unsigned int prefix;
	uint32_t ifindex;
	uint8_t proto;
	uint32_t flags;		/* IFA_F_* */
};

struct addr_list {
	struct local_addr *items;
	size_t count;
	size_t capacity;
};

/* Every IPv4 and IPv6 address of the namespace. 0, or -1 with st set. */
int addr_read(struct l3dsr_nl *rt, struct addr_list *list,
	      struct nl_status *st);
void addr_list_free(struct addr_list *list);

/* The first address equal to addr, on any device, or NULL. */
const struct local_addr *addr_find(const struct addr_list *list, int family,
				   const void *addr);

/* A VIP's address as l3dsrctl adds it: /32 or /128 (no DAD), marked. */
void addr_vip(struct local_addr *a, int family, const void *addr,
	      uint32_t ifindex);

/* Add or remove a. 0, or -1 with st saying what the kernel refused. */
int addr_add(struct l3dsr_nl *rt, const struct local_addr *a,
	     struct nl_status *st);
int addr_del(struct l3dsr_nl *rt, const struct local_addr *a,
	     struct nl_status *st);

/* "211.115.115.100/32 dev lo" */
void addr_describe(const struct local_addr *a, char *buf, size_t size);

/* "l3dsrctl: CMD: cannot WHAT address A: why", with the kernel's message. */
void addr_report(const char *cmd, const char *what,
		 const struct local_addr *a, const struct nl_status *st);

#endif
