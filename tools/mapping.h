/* SPDX-License-Identifier: GPL-2.0 */
#ifndef L3DSRCTL_MAPPING_H
#define L3DSRCTL_MAPPING_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <net/if.h>
#include <netinet/in.h>
#include <linux/netlink.h>

#include "json.h"

/* One mapping as the kernel describes it. */
struct mapping {
	int family;
	unsigned int dscp;
	unsigned char vip[sizeof(struct in6_addr)];
	unsigned char rip[sizeof(struct in6_addr)];
	bool has_rip;
	uint32_t ifindex;	/* 0: packets from any device */
	uint32_t flags;
	uint64_t packets;
	uint64_t bytes;
};

/* Room for a device name, or "if" and an index when it has none. */
#define MAPPING_DEV_SIZE (IF_NAMESIZE + 16)

/* Fill m from an l3dsr mapping message; -1 with errno EBADMSG if malformed. */
int mapping_parse(const struct nlmsghdr *nlh, struct mapping *m);

/* "dscp 10 vip ADDR [rip ADDR] [dev IFNAME] [clear-dscp]" */
void mapping_describe(const struct mapping *m, FILE *out);

/* An object with the keys of a `show -j` entry. */
void mapping_json(struct json *json, const struct mapping *m);

#endif
