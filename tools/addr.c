// SPDX-License-Identifier: GPL-2.0
/* The VIPs' addresses: listed, added and removed over rtnetlink. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <sys/socket.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>

#include "addr.h"
#include "mapping.h"
#include "words.h"

static int on_addr(const struct nlmsghdr *nlh, void *data)
{
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	struct addr_list *list = data;
	const struct nlattr *attr;
	const void *local = NULL, *address = NULL;
	struct local_addr *a;
	size_t len;

	if (nlh->nlmsg_type != RTM_NEWADDR ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifa))
		return MNL_CB_OK;
	if (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6)
		return MNL_CB_OK;
	len = address_length(ifa->ifa_family);
	if (list->count == list->capacity) {
		size_t capacity = list->capacity ? 2 * list->capacity : 32;
		struct local_addr *grown;

		grown = reallocarray(list->items, capacity, sizeof(*grown));
		if (!grown) {
			errno = ENOMEM;
			return MNL_CB_ERROR;
		}
		list->items = grown;
		list->capacity = capacity;
	}
	a = &list->items[list->count];
	memset(a, 0, sizeof(*a));
	a->family = ifa->ifa_family;
	a->prefix = ifa->ifa_prefixlen;
	a->ifindex = ifa->ifa_index;
	a->flags = ifa->ifa_flags;
	mnl_attr_for_each(attr, nlh, sizeof(*ifa)) {
		switch (mnl_attr_get_type(attr)) {
		case IFA_LOCAL:
			if (mnl_attr_get_payload_len(attr) == len)
				local = mnl_attr_get_payload(attr);
			break;
		case IFA_ADDRESS:
			if (mnl_attr_get_payload_len(attr) == len)
				address = mnl_attr_get_payload(attr);
			break;
		case IFA_FLAGS:
			if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
				a->flags = mnl_attr_get_u32(attr);
			break;
		case IFA_PROTO:
			if (mnl_attr_validate(attr, MNL_TYPE_U8) == 0)
				a->proto = mnl_attr_get_u8(attr);
			break;
		}
	}
	/* IPv4's own address is IFA_LOCAL (IFA_ADDRESS is the peer's). */
	if (!local)
		local = address;
	if (!local)
		return MNL_CB_OK;
	memcpy(a->addr, local, len);
	list->count++;
	return MNL_CB_OK;
}

int addr_read(struct l3dsr_nl *rt, struct addr_list *list,
	      struct nl_status *st)
{
	char buf[NL_REQUEST_SIZE] __attribute__((aligned(8))) = { 0 };
	int tries;

	for (tries = 0; tries < 5; tries++) {
		struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
		struct ifaddrmsg *ifa;

		list->count = 0;
		nlh->nlmsg_type = RTM_GETADDR;
		nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
		ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
		ifa->ifa_family = AF_UNSPEC;
		if (nl_transact(rt, nlh, on_addr, list, st) == 0)
			return 0;
		if (!st->interrupted)
			return -1;
	}
	return -1;
}

void addr_list_free(struct addr_list *list)
{
	free(list->items);
	list->items = NULL;
	list->count = list->capacity = 0;
}

const struct local_addr *addr_find(const struct addr_list *list, int family,
				   const void *addr)
{
	size_t i;

	for (i = 0; i < list->count; i++)
		if (list->items[i].family == family &&
		    !memcmp(list->items[i].addr, addr, address_length(family)))
			return &list->items[i];
	return NULL;
}

void addr_vip(struct local_addr *a, int family, const void *addr,
	      uint32_t ifindex)
{
	memset(a, 0, sizeof(*a));
	a->family = family;
	memcpy(a->addr, addr, address_length(family));
	a->prefix = family == AF_INET ? 32 : 128;
	a->ifindex = ifindex;
	a->proto = L3DSR_ADDR_PROTO;
	a->flags = family == AF_INET6 ? IFA_F_NODAD : 0;
}

static int addr_request(struct l3dsr_nl *rt, const struct local_addr *a,
			uint16_t type, uint16_t flags, struct nl_status *st)
{
	char buf[NL_REQUEST_SIZE] __attribute__((aligned(8))) = { 0 };
	size_t len = address_length(a->family);
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = a->family;
	ifa->ifa_prefixlen = a->prefix;
	ifa->ifa_index = a->ifindex;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_flags = a->flags & 0xff;
	mnl_attr_put(nlh, IFA_LOCAL, len, a->addr);
	mnl_attr_put(nlh, IFA_ADDRESS, len, a->addr);
	if (type == RTM_NEWADDR) {
		mnl_attr_put_u32(nlh, IFA_FLAGS, a->flags);
		if (a->proto)
			mnl_attr_put_u8(nlh, IFA_PROTO, a->proto);
	}
	return nl_transact(rt, nlh, NULL, NULL, st);
}

int addr_add(struct l3dsr_nl *rt, const struct local_addr *a,
	     struct nl_status *st)
{
	/* EXCL: an address someone made meanwhile is theirs, not ours. */
	return addr_request(rt, a, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, st);
}

int addr_del(struct l3dsr_nl *rt, const struct local_addr *a,
	     struct nl_status *st)
{
	return addr_request(rt, a, RTM_DELADDR, 0, st);
}

void addr_describe(const struct local_addr *a, char *buf, size_t size)
{
	char addr[INET6_ADDRSTRLEN], dev[IF_NAMESIZE];

	if (!if_indextoname(a->ifindex, dev))
		snprintf(dev, sizeof(dev), "if%u", a->ifindex);
	snprintf(buf, size, "%s/%u dev %s",
		 format_address(a->family, a->addr, addr), a->prefix, dev);
}

void addr_report(const char *cmd, const char *what,
		 const struct local_addr *a, const struct nl_status *st)
{
	char where[160];

	addr_describe(a, where, sizeof(where));
	fprintf(stderr, "l3dsrctl: %s: cannot %s address %s: %s", cmd, what,
		where, strerror(st->error));
	if (st->message[0])
		fprintf(stderr, ": %s", st->message);
	fputc('\n', stderr);
}
