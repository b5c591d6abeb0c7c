// SPDX-License-Identifier: GPL-2.0
/*
 * l3dsr_nlfuzz: random and mutated generic netlink messages for the l3dsr
 * family, to prove that no message, however wrong, upsets the module.
 *
 *   l3dsr_nlfuzz [-s SEED] [-n COUNT] [-q]
 *
 * Resolves the family id and the "config" group through the genl
 * controller, then sends COUNT messages on raw AF_NETLINK sockets and reads
 * whatever comes back. Each message is one of:
 *   - built from the family's own attributes, each with a payload of the
 *     right shape most of the time and of a wrong one (length, value, type)
 *     otherwise, nested MAPPINGS/MAPPING entries included, to every command
 *     number 0..255, weighted towards the real ones;
 *   - such a message with random bytes flipped, its lengths made to lie,
 *     or truncated;
 *   - random bytes behind a valid netlink header;
 *   - several of those in one datagram.
 * The netlink header flags are random too: NLM_F_ACK, NLM_F_DUMP, NLM_F_ECHO
 * and the rest, and sometimes no NLM_F_REQUEST at all. Now and then a dump
 * is left unread while the next request goes out, a socket is closed in the
 * middle of a dump, a socket joins the "config" group (open to any user
 * since the table is; refused by a module that says otherwise), or a fresh
 * socket is opened with other options.
 *
 * The messages depend on SEED alone (default: from the clock), never on the
 * kernel's answers, so a run is replayed with the same seed. The seed is
 * printed first, a summary of the answers (per errno) last, with the time
 * taken and the rate. Exit 0 when every message was sent, 1 on a local
 * failure (no socket, no family), 2 on a usage error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../kmod/uapi/l3dsr.h"

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif
#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK 10
#endif
#ifndef NETLINK_GET_STRICT_CHK
#define NETLINK_GET_STRICT_CHK 12
#endif

#define MSG_MAX		16384
#define RECV_SIZE	65536
#define MAX_ERRNO	256

static const char *progname = "l3dsr_nlfuzz";

/* ------------------------------------------------------------ randomness */

static uint64_t rng_state;

/* splitmix64: small, fast, and the same on every machine */
static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static unsigned int below(unsigned int n)
{
	return n ? rnd() % n : 0;
}

/* true with a probability of @percent in 100 */
static int chance(unsigned int percent)
{
	return below(100) < percent;
}

static void rnd_bytes(void *buf, size_t len)
{
	unsigned char *p = buf;

	while (len--)
		*p++ = rnd();
}

/* --------------------------------------------------------- the sockets */

struct family {
	uint16_t id;
	uint32_t group;
};

struct stats {
	unsigned long sent, send_errors, acks, errors[MAX_ERRNO];
	unsigned long other_errors, dones, data, recv_errors, sockets;
	unsigned long dumps_abandoned, joins_refused, joins;
};

static struct stats stats;

static int nl_socket(int ext_ack, int cap_ack, int strict)
{
	int rcvbuf = 1 << 20;
	int fd, one = 1;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (ext_ack)
		setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	if (cap_ack)
		setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	if (strict)
		setsockopt(fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, &one,
			   sizeof(one));
	stats.sockets++;
	return fd;
}

static struct nlattr *attr_at(void *p)
{
	return p;
}

/* The id of the "config" group in CTRL_ATTR_MCAST_GROUPS, or 0. */
static uint32_t config_group(char *g, char *gend)
{
	while (g + NLA_HDRLEN <= gend) {
		struct nlattr *grp = attr_at(g);
		char *q = g + NLA_HDRLEN;
		char *qend = g + grp->nla_len;
		uint32_t id = 0;
		int ours = 0;

		if (grp->nla_len < NLA_HDRLEN)
			break;
		while (q + NLA_HDRLEN <= qend) {
			struct nlattr *f = attr_at(q);

			if (f->nla_len < NLA_HDRLEN)
				break;
			if (f->nla_type == CTRL_ATTR_MCAST_GRP_ID)
				memcpy(&id, q + NLA_HDRLEN, 4);
			if (f->nla_type == CTRL_ATTR_MCAST_GRP_NAME &&
			    !strcmp(q + NLA_HDRLEN, L3DSR_MCGRP_CONFIG))
				ours = 1;
			q += NLA_ALIGN(f->nla_len);
		}
		if (ours)
			return id;
		g += NLA_ALIGN(grp->nla_len);
	}
	return 0;
}

/* Ask the controller for the family: its id and its "config" group. */
static int resolve_family(struct family *fam)
{
	static char buf[RECV_SIZE] __attribute__((aligned(8)));
	struct {
		struct nlmsghdr nlh;
		struct genlmsghdr genl;
		char attrs[64];
	} req;
	struct nlattr *na;
	struct nlmsghdr *nlh;
	ssize_t len;
	int fd;

	fd = nl_socket(1, 1, 0);
	if (fd < 0) {
		fprintf(stderr, "%s: socket: %s\n", progname, strerror(errno));
		return -1;
	}
	memset(&req, 0, sizeof(req));
	na = attr_at(req.attrs);
	na->nla_type = CTRL_ATTR_FAMILY_NAME;
	na->nla_len = NLA_HDRLEN + sizeof(L3DSR_GENL_NAME);
	memcpy((char *)na + NLA_HDRLEN, L3DSR_GENL_NAME,
	       sizeof(L3DSR_GENL_NAME));
	req.nlh.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN) + NLA_ALIGN(na->nla_len);
	req.nlh.nlmsg_type = GENL_ID_CTRL;
	req.nlh.nlmsg_flags = NLM_F_REQUEST;
	req.nlh.nlmsg_seq = 1;
	req.genl.cmd = CTRL_CMD_GETFAMILY;
	req.genl.version = 1;
	if (send(fd, &req, req.nlh.nlmsg_len, 0) < 0) {
		fprintf(stderr, "%s: send: %s\n", progname, strerror(errno));
		close(fd);
		return -1;
	}
	len = recv(fd, buf, sizeof(buf), 0);
	close(fd);
	if (len < 0) {
		fprintf(stderr, "%s: recv: %s\n", progname, strerror(errno));
		return -1;
	}
	nlh = (struct nlmsghdr *)buf;
	if (!NLMSG_OK(nlh, len) || nlh->nlmsg_type == NLMSG_ERROR) {
		fprintf(stderr, "%s: no \"%s\" generic netlink family (is the module loaded?)\n",
			progname, L3DSR_GENL_NAME);
		return -1;
	}
	memset(fam, 0, sizeof(*fam));
	{
		char *p = (char *)NLMSG_DATA(nlh) + GENL_HDRLEN;
		char *end = (char *)nlh + nlh->nlmsg_len;

		while (p + NLA_HDRLEN <= end) {
			na = attr_at(p);
			if (na->nla_len < NLA_HDRLEN || p + na->nla_len > end)
				break;
			if ((na->nla_type & NLA_TYPE_MASK) == CTRL_ATTR_FAMILY_ID)
				memcpy(&fam->id, p + NLA_HDRLEN, 2);
			if ((na->nla_type & NLA_TYPE_MASK) ==
			    CTRL_ATTR_MCAST_GROUPS)
				fam->group = config_group(p + NLA_HDRLEN,
							  p + na->nla_len);
			p += NLA_ALIGN(na->nla_len);
		}
	}
	if (!fam->id) {
		fprintf(stderr, "%s: the controller gave no family id\n",
			progname);
		return -1;
	}
	return 0;
}

/* Read everything waiting, without blocking; reading moves dumps on. */
static void drain(int fd)
{
	static char buf[RECV_SIZE] __attribute__((aligned(8)));

	for (;;) {
		ssize_t len = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		struct nlmsghdr *nlh;
		int rem;

		if (len < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			if (errno == EINTR)
				continue;
			/* ENOBUFS: an overrun, or an ack the kernel lost */
			stats.recv_errors++;
			continue;
		}
		if (len == 0)
			return;
		rem = len;
		for (nlh = (struct nlmsghdr *)buf; NLMSG_OK(nlh, rem);
		     nlh = NLMSG_NEXT(nlh, rem)) {
			if (nlh->nlmsg_type == NLMSG_ERROR &&
			    nlh->nlmsg_len >= NLMSG_LENGTH(sizeof(int))) {
				int err = *(int *)NLMSG_DATA(nlh);

				if (!err)
					stats.acks++;
				else if (-err > 0 && -err < MAX_ERRNO)
					stats.errors[-err]++;
				else
					stats.other_errors++;
			} else if (nlh->nlmsg_type == NLMSG_DONE) {
				stats.dones++;
			} else {
				stats.data++;
			}
		}
	}
}

/* ---------------------------------------------------- building messages */

struct msg {
	char buf[MSG_MAX] __attribute__((aligned(8)));
	size_t len;
};

static int room(const struct msg *m, size_t need)
{
	return m->len + need <= sizeof(m->buf);
}

static void put_attr(struct msg *m, uint16_t type, const void *data,
		     size_t len)
{
	struct nlattr *na;

	if (!room(m, NLA_HDRLEN + NLA_ALIGN(len)))
		return;
	na = attr_at(m->buf + m->len);
	na->nla_type = type;
	na->nla_len = NLA_HDRLEN + len;
	if (len)
		memcpy((char *)na + NLA_HDRLEN, data, len);
	memset((char *)na + NLA_HDRLEN + len, 0, NLA_ALIGN(len) - len);
	m->len += NLA_HDRLEN + NLA_ALIGN(len);
}

static size_t nest_start(struct msg *m, uint16_t type)
{
	size_t at = m->len;

	if (!room(m, NLA_HDRLEN))
		return (size_t)-1;
	put_attr(m, type, NULL, 0);
	return at;
}

static void nest_end(struct msg *m, size_t at)
{
	if (at == (size_t)-1)
		return;
	attr_at(m->buf + at)->nla_len = m->len - at;
}

/* A type bit the policy must refuse now and then. */
static uint16_t type_bits(uint16_t type)
{
	if (chance(3))
		type |= NLA_F_NESTED;
	if (chance(2))
		type |= NLA_F_NET_BYTEORDER;
	return type;
}

/* An address, usually of the right length and often a sane unicast one. */
static void put_address(struct msg *m, uint16_t type, int family)
{
	unsigned char addr[32];
	size_t len = family == 10 ? 16 : 4;

	rnd_bytes(addr, sizeof(addr));
	if (chance(70)) {
		if (len == 4) {
			addr[0] = 192;
			addr[1] = 0;
			addr[2] = 2;
			addr[3] = below(4) + 1;
		} else {
			memset(addr, 0, 16);
			addr[0] = 0x20;
			addr[1] = 0x01;
			addr[2] = 0x0d;
			addr[3] = 0xb8;
			addr[15] = below(4) + 1;
		}
	} else if (chance(30)) {
		/* multicast, loopback, any, broadcast */
		static const unsigned char bad4[][4] = {
			{ 224, 0, 0, 1 }, { 127, 0, 0, 1 }, { 0, 0, 0, 0 },
			{ 255, 255, 255, 255 },
		};
		if (len == 4) {
			memcpy(addr, bad4[below(4)], 4);
		} else {
			memset(addr, 0, 16);
			if (chance(50))
				addr[0] = 0xff;
			else
				addr[15] = below(2);
		}
	}
	if (chance(10))
		len = below(sizeof(addr) + 1);
	put_attr(m, type_bits(type), addr, len);
}

static void put_u8(struct msg *m, uint16_t type, uint8_t v)
{
	if (chance(5)) {
		uint32_t wide = v;

		put_attr(m, type_bits(type), &wide, below(5));
		return;
	}
	put_attr(m, type_bits(type), &v, 1);
}

static void put_u32(struct msg *m, uint16_t type, uint32_t v)
{
	if (chance(5)) {
		uint64_t wide = v;

		put_attr(m, type_bits(type), &wide, below(9));
		return;
	}
	put_attr(m, type_bits(type), &v, 4);
}

static int rnd_family(void)
{
	static const int families[] = { 2, 10, 2, 10, 0, 1, 7, 44, 255 };

	return chance(85) ? (chance(50) ? 2 : 10) :
			    families[below(sizeof(families) / sizeof(int))];
}

static uint8_t rnd_dscp(void)
{
	if (chance(80))
		return below(63) + 1;
	return chance(50) ? 0 : 64 + below(192);
}

static uint32_t rnd_flags(uint32_t all)
{
	if (chance(70))
		return rnd() & all;
	return rnd();
}

static void put_random_attrs(struct msg *m, int depth);

/* The attributes of one mapping, each there or not, in any order. */
static void put_mapping_attrs(struct msg *m, int depth)
{
	int family = rnd_family();
	unsigned int i, n = 2 + below(7);

	for (i = 0; i < n; i++) {
		switch (below(12)) {
		case 0:
		case 1:
			put_u8(m, L3DSR_A_FAMILY, family);
			break;
		case 2:
		case 3:
			put_u8(m, L3DSR_A_DSCP, rnd_dscp());
			break;
		case 4:
		case 5:
			put_address(m, L3DSR_A_VIP, family);
			break;
		case 6:
			put_address(m, L3DSR_A_RIP, family);
			break;
		case 7:
			put_u32(m, L3DSR_A_IFINDEX,
				chance(70) ? below(4) : (uint32_t)rnd());
			break;
		case 8:
			put_u32(m, L3DSR_A_FLAGS, rnd_flags(__L3DSR_F_ALL));
			break;
		case 9:
			put_u32(m, L3DSR_A_REQUEST_FLAGS,
				rnd_flags(__L3DSR_REQUEST_F_ALL));
			break;
		case 10:
			put_u32(m, L3DSR_A_FLAGS_MASK, rnd_flags(__L3DSR_F_ALL));
			break;
		default:
			if (depth < 4)
				put_random_attrs(m, depth + 1);
		}
	}
}

/* A table: MAPPINGS holding MAPPING entries, and whatever else. */
static void put_table(struct msg *m, int depth)
{
	unsigned int i, n = chance(10) ? below(140) : below(8);
	size_t outer = nest_start(m, type_bits(L3DSR_A_MAPPINGS));

	for (i = 0; i < n && room(m, 256); i++) {
		size_t inner;

		if (chance(5)) {
			put_random_attrs(m, depth + 1);
			continue;
		}
		inner = nest_start(m, type_bits(L3DSR_A_MAPPING));
		if (chance(90)) {
			/* usually a valid entry, so the table gets applied */
			int family = chance(50) ? 2 : 10;

			put_u8(m, L3DSR_A_FAMILY, family);
			put_u8(m, L3DSR_A_DSCP, chance(50) ? i + 1 : rnd_dscp());
			put_address(m, L3DSR_A_VIP, family);
			if (chance(20))
				put_mapping_attrs(m, depth + 1);
		} else {
			put_mapping_attrs(m, depth + 1);
		}
		nest_end(m, inner);
	}
	nest_end(m, outer);
}

/* Attributes of any type in the family's space and a little beyond. */
static void put_random_attrs(struct msg *m, int depth)
{
	unsigned int i, n = below(4);

	for (i = 0; i < n && room(m, 64); i++) {
		uint16_t type = chance(90) ? below(L3DSR_A_MAX + 3) : rnd();
		unsigned char data[40];
		size_t at;

		if (depth < 4 && chance(15)) {
			at = nest_start(m, type | (chance(50) ? NLA_F_NESTED : 0));
			if (chance(50))
				put_mapping_attrs(m, depth + 1);
			else
				put_random_attrs(m, depth + 1);
			nest_end(m, at);
			continue;
		}
		rnd_bytes(data, sizeof(data));
		put_attr(m, type_bits(type), data, below(sizeof(data) + 1));
	}
}

static uint8_t rnd_cmd(void)
{
	if (chance(85))
		return below(L3DSR_CMD_MAX) + 1;
	if (chance(40))
		return chance(50) ? 0 : L3DSR_CMD_MAX + 1;
	return rnd();
}

static uint16_t rnd_nlflags(uint8_t cmd)
{
	static const uint16_t some[] = {
		NLM_F_ACK, NLM_F_ECHO, NLM_F_DUMP, NLM_F_ROOT, NLM_F_MATCH,
		NLM_F_ATOMIC, NLM_F_REPLACE, NLM_F_EXCL, NLM_F_CREATE,
		NLM_F_APPEND, NLM_F_MULTI, NLM_F_DUMP_INTR,
	};
	uint16_t flags = 0;
	unsigned int i;

	if (chance(97))
		flags |= NLM_F_REQUEST;
	if (chance(70))
		flags |= NLM_F_ACK;
	/* the one real dump: GET_MAPPING */
	if (cmd == L3DSR_CMD_GET_MAPPING ? chance(50) : chance(8))
		flags |= NLM_F_DUMP;
	for (i = 0; i < sizeof(some) / sizeof(some[0]); i++)
		if (chance(4))
			flags |= some[i];
	if (chance(3))
		flags = rnd();
	return flags;
}

/* The attributes a real request of @cmd carries, with sane values. */
static void put_wellformed(struct msg *m, uint8_t cmd)
{
	int family = chance(50) ? 2 : 10;
	uint8_t family8 = family, dscp = below(63) + 1;
	unsigned char addr[16];
	uint32_t v;

	switch (cmd) {
	case L3DSR_CMD_NEW_MAPPING:
	case L3DSR_CMD_DEL_MAPPING:
	case L3DSR_CMD_GET_MAPPING:
	case L3DSR_CMD_SET_MAPPING:
		put_attr(m, L3DSR_A_FAMILY, &family8, 1);
		put_attr(m, L3DSR_A_DSCP, &dscp, 1);
		break;
	case L3DSR_CMD_FLUSH_MAPPINGS:
		if (chance(50))
			put_attr(m, L3DSR_A_FAMILY, &family8, 1);
		return;
	case L3DSR_CMD_SET_TABLE:
		{
			unsigned int i, n = chance(10) ? 126 : below(6);
			size_t outer = nest_start(m, L3DSR_A_MAPPINGS);

			for (i = 0; i < n && room(m, 128); i++) {
				size_t inner = nest_start(m, L3DSR_A_MAPPING);

				family8 = i < 63 ? 2 : 10;
				dscp = i % 63 + 1;
				put_attr(m, L3DSR_A_FAMILY, &family8, 1);
				put_attr(m, L3DSR_A_DSCP, &dscp, 1);
				put_address(m, L3DSR_A_VIP, family8);
				if (chance(10)) {
					v = rnd() & (L3DSR_F_CLEAR_DSCP |
						     L3DSR_F_DOWN);
					put_attr(m, L3DSR_A_FLAGS, &v, 4);
				}
				nest_end(m, inner);
			}
			nest_end(m, outer);
		}
		return;
	default:
		return;
	}
	if (cmd == L3DSR_CMD_NEW_MAPPING) {
		rnd_bytes(addr, sizeof(addr));
		if (family == 2) {
			addr[0] = 192, addr[1] = 0, addr[2] = 2;
			put_attr(m, L3DSR_A_VIP, addr, 4);
		} else {
			memcpy(addr, "\x20\x01\x0d\xb8", 4);
			put_attr(m, L3DSR_A_VIP, addr, 16);
		}
		if (chance(20))
			put_address(m, L3DSR_A_RIP, family);
		if (chance(10)) {
			v = 1 + below(2);
			put_attr(m, L3DSR_A_IFINDEX, &v, 4);
		}
		if (chance(30)) {
			v = rnd() & (L3DSR_F_CLEAR_DSCP | L3DSR_F_NONLOCAL);
			put_attr(m, L3DSR_A_FLAGS, &v, 4);
		}
		if (chance(30)) {
			v = 1 + below(2);
			put_attr(m, L3DSR_A_REQUEST_FLAGS, &v, 4);
		}
	} else if (cmd == L3DSR_CMD_SET_MAPPING) {
		v = rnd() & __L3DSR_F_ALL;
		put_attr(m, L3DSR_A_FLAGS, &v, 4);
		v = rnd() & __L3DSR_F_ALL;
		put_attr(m, L3DSR_A_FLAGS_MASK, &v, 4);
	}
}

/* One message, appended to @m. */
static void build_one(struct msg *m, const struct family *fam, uint32_t seq)
{
	size_t start = m->len;
	struct nlmsghdr *nlh;
	struct genlmsghdr *genl;
	uint8_t cmd = rnd_cmd();

	if (!room(m, NLMSG_HDRLEN + GENL_HDRLEN + 64))
		return;
	nlh = (struct nlmsghdr *)(m->buf + m->len);
	memset(nlh, 0, NLMSG_HDRLEN + GENL_HDRLEN);
	nlh->nlmsg_type = chance(97) ? fam->id :
			  (chance(50) ? GENL_ID_CTRL : (uint16_t)rnd());
	nlh->nlmsg_flags = rnd_nlflags(cmd);
	nlh->nlmsg_seq = seq;
	nlh->nlmsg_pid = chance(95) ? 0 : (uint32_t)rnd();
	m->len += NLMSG_HDRLEN;
	genl = (struct genlmsghdr *)(m->buf + m->len);
	genl->cmd = cmd;
	genl->version = chance(80) ? L3DSR_GENL_VERSION : below(256);
	genl->reserved = chance(95) ? 0 : rnd();
	m->len += GENL_HDRLEN;

	if (chance(35)) {
		/* a request as a real client would send it */
		genl->cmd = cmd = below(L3DSR_CMD_MAX) + 1;
		genl->version = L3DSR_GENL_VERSION;
		nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
		if (cmd == L3DSR_CMD_GET_MAPPING && chance(50))
			nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
		else
			put_wellformed(m, cmd);
		goto out;
	}

	switch (below(10)) {
	case 0:
		/* random bytes after the headers */
		{
			size_t n = below(200);

			if (room(m, n)) {
				rnd_bytes(m->buf + m->len, n);
				m->len += n;
			}
		}
		break;
	case 1:
	case 2:
		put_table(m, 0);
		if (chance(20))
			put_random_attrs(m, 1);
		break;
	case 3:
		/* nothing: what dumps and stats take */
		break;
	default:
		put_mapping_attrs(m, 0);
		break;
	}
out:
	nlh = (struct nlmsghdr *)(m->buf + start);
	nlh->nlmsg_len = m->len - start;
	/* keep the next message aligned, as the kernel walks them */
	m->len = start + NLMSG_ALIGN(nlh->nlmsg_len);
	if (m->len > sizeof(m->buf))
		m->len = sizeof(m->buf);
}

/* Break a built message: flipped bytes, lying lengths, truncation. */
static void mutate(struct msg *m)
{
	unsigned int i, n;
	struct nlmsghdr *nlh = (struct nlmsghdr *)m->buf;

	switch (below(6)) {
	case 0:
		n = 1 + below(8);
		for (i = 0; i < n && m->len > NLMSG_HDRLEN; i++) {
			size_t at = NLMSG_HDRLEN + below(m->len - NLMSG_HDRLEN);

			m->buf[at] ^= 1 << below(8);
		}
		break;
	case 1:
		/* an attribute length that lies */
		if (m->len > NLMSG_HDRLEN + GENL_HDRLEN + NLA_HDRLEN) {
			size_t at = NLMSG_HDRLEN + GENL_HDRLEN;
			struct nlattr *na = attr_at(m->buf + at);

			na->nla_len = chance(50) ? below(NLA_HDRLEN) :
				      na->nla_len + below(64);
		}
		break;
	case 2:
		/* the message length that lies */
		nlh->nlmsg_len = chance(50) ? below(nlh->nlmsg_len + 1) :
				 nlh->nlmsg_len + below(256);
		break;
	case 3:
		/* truncated: sent shorter than it says */
		m->len = below(m->len + 1);
		break;
	case 4:
		/* a byte somewhere deep in the attributes */
		if (m->len > NLMSG_HDRLEN + GENL_HDRLEN) {
			size_t at = NLMSG_HDRLEN + GENL_HDRLEN +
				    below(m->len - NLMSG_HDRLEN - GENL_HDRLEN);

			m->buf[at] = rnd();
		}
		break;
	default:
		/* the command, after the attributes were chosen for another */
		if (m->len >= NLMSG_HDRLEN + GENL_HDRLEN)
			((struct genlmsghdr *)(m->buf + NLMSG_HDRLEN))->cmd =
				rnd_cmd();
		break;
	}
}

/* -------------------------------------------------------------- the run */

static void usage(void)
{
	fprintf(stderr, "usage: %s [-s SEED] [-n COUNT] [-q]\n", progname);
	exit(2);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static unsigned long long parse_ull(const char *s, const char *what)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end) {
		fprintf(stderr, "%s: bad %s \"%s\"\n", progname, what, s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	static struct msg m;
	unsigned long long seed = 0, count = 10000, i;
	struct family fam;
	int have_seed = 0, quiet = 0, opt, fd;
	double t0, t;

	while ((opt = getopt(argc, argv, "s:n:q")) != -1) {
		switch (opt) {
		case 's':
			seed = parse_ull(optarg, "seed");
			have_seed = 1;
			break;
		case 'n':
			count = parse_ull(optarg, "count");
			break;
		case 'q':
			quiet = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (!have_seed) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		seed = (unsigned long long)ts.tv_sec * 1000000007ULL ^
		       ts.tv_nsec ^ ((unsigned long long)getpid() << 32);
	}
	rng_state = seed;
	printf("seed %llu\n", seed);
	fflush(stdout);

	if (resolve_family(&fam) < 0)
		return 1;
	if (!quiet)
		printf("family %u group %u\n", fam.id, fam.group);

	fd = nl_socket(1, 1, 0);
	if (fd < 0) {
		fprintf(stderr, "%s: socket: %s\n", progname, strerror(errno));
		return 1;
	}
	t0 = now();
	for (i = 0; i < count; i++) {
		unsigned int batch = chance(5) ? 2 + below(3) : 1, b;

		/* now and then: another socket, with other options */
		if (chance(1)) {
			close(fd);
			fd = nl_socket(chance(70), chance(50), chance(30));
			if (fd < 0) {
				fprintf(stderr, "%s: socket: %s\n", progname,
					strerror(errno));
				return 1;
			}
		}
		if (fam.group && chance(1)) {
			if (setsockopt(fd, SOL_NETLINK,
				       NETLINK_ADD_MEMBERSHIP, &fam.group,
				       sizeof(fam.group)))
				stats.joins_refused++;
			else
				stats.joins++;
		}

		m.len = 0;
		for (b = 0; b < batch; b++)
			build_one(&m, &fam, (uint32_t)(i * 8 + b));
		if (chance(35))
			mutate(&m);
		if (send(fd, m.buf, m.len, 0) < 0)
			stats.send_errors++;
		else
			stats.sent++;

		/*
		 * Mostly the answers are read at once; sometimes a dump is
		 * left pending while the next request goes out, or its
		 * socket is closed with the dump half read.
		 */
		if (chance(3)) {
			stats.dumps_abandoned++;
			if (chance(50)) {
				close(fd);
				fd = nl_socket(1, 1, 0);
				if (fd < 0) {
					fprintf(stderr, "%s: socket: %s\n",
						progname, strerror(errno));
					return 1;
				}
			}
			continue;
		}
		drain(fd);
	}
	drain(fd);
	close(fd);
	t = now() - t0;

	printf("messages %llu sent %lu send-errors %lu seconds %.1f rate %.0f/s\n",
	       count, stats.sent, stats.send_errors, t,
	       t > 0 ? count / t : 0.0);
	printf("answers: acks %lu dones %lu data %lu recv-errors %lu other %lu\n",
	       stats.acks, stats.dones, stats.data, stats.recv_errors,
	       stats.other_errors);
	printf("errors:");
	for (i = 1; i < MAX_ERRNO; i++)
		if (stats.errors[i])
			printf(" %s=%lu", strerrorname_np((int)i) ?
			       strerrorname_np((int)i) : "?", stats.errors[i]);
	printf("\n");
	printf("sockets %lu joins %lu joins-refused %lu dumps-left %lu\n",
	       stats.sockets, stats.joins, stats.joins_refused,
	       stats.dumps_abandoned);
	return 0;
}
