/* SPDX-License-Identifier: GPL-2.0 */
#ifndef L3DSRCTL_MAPPING_H
#define L3DSRCTL_MAPPING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <linux/netlink.h>

#include "json.h"

struct ctl;
struct l3dsr_nl;

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

/* The mappings of a dump, in the contract's order. */
struct mapping_list {
	struct mapping *items;
	size_t count;
	size_t capacity;
	int family;		/* only this family, or AF_UNSPEC for both */
	unsigned int dscp;	/* only this DSCP, or 0 for all */
	uint32_t known_flags;	/* the flags the module knows of */
};

/* Room for a device name, or "if" and an index when it has none. */
#define MAPPING_DEV_SIZE (IF_NAMESIZE + 16)

/* Fill m from an l3dsr mapping message; -1 with errno EBADMSG if malformed. */
int mapping_parse(const struct nlmsghdr *nlh, struct mapping *m);

/* The attributes describing m, as NEW_MAPPING and SET_TABLE take them. */
void mapping_put(struct nlmsghdr *nlh, const struct mapping *m);

/*
 * "dscp 10 vip ADDR [rip ADDR] [dev IFNAME] [clear-dscp] [nonlocal] [down]":
 * the words of a configuration line, which apply reads back.
 */
void mapping_describe(const struct mapping *m, FILE *out);

/*
 * An object with the keys of a `show -j` entry; known: the flags the module
 * that described m knows (module_flags()), the others are null.
 */
void mapping_json(struct json *json, const struct mapping *m,
		  uint32_t known);

const char *format_address(int family, const void *addr,
			   char buf[INET6_ADDRSTRLEN]);

/*
 * Dump the table into list (filtered by list->family and list->dscp),
 * sorted, retrying a dump that raced with changes. Returns 0, or -1 after
 * printing why. The caller frees list->items.
 */
int mappings_read(struct l3dsr_nl *nl, struct mapping_list *list);

/*
 * The index of device name, printing "l3dsrctl: WHERE: no such device: ..."
 * (WHERE defaults to the command's name) if there is none.
 */
int resolve_device(const struct ctl *ctl, const char *where,
		   const char *name, uint32_t *ifindex);

#endif
