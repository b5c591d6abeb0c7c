// SPDX-License-Identifier: GPL-2.0
/*
 * l3dsr_nlreq: one l3dsr request in one system call, so that the kernel's
 * per-task fault injection (fail-nth) can make exactly one allocation of
 * that request fail, and so that a dump can be left half read.
 *
 *   l3dsr_nlreq [-F N] [-S SECONDS] COMMAND [ARGS...]
 *
 *   add FAMILY DSCP VIP [rip ADDR] [dev IFNAME] [clear-dscp] [replace|excl]
 *   del FAMILY DSCP
 *   set FAMILY DSCP up|down
 *   flush [FAMILY]
 *   table [ENTRY...]   SET_TABLE; ENTRY is FAMILY,DSCP,VIP[,rip=ADDR]
 *                      [,dev=IFNAME][,clear-dscp][,down]
 *   get FAMILY DSCP
 *   dump               GET_MAPPING with NLM_F_DUMP; prints a line
 *                      "mapping FAMILY DSCP packets N" per mapping, then
 *                      "mappings N"
 *   stats              GET_STATS; prints "rewritten N"
 *   state              the whole table and every counter, one line per
 *                      mapping ("mapping" and each attribute as TYPE=HEX)
 *                      and per counter ("stat TYPE VALUE"), for comparing
 *                      before and after: a dump and a GET_STATS
 *   netns              unshare(CLONE_NEWNET), then proves that the module
 *                      serves the new namespace (add, dump, table, stats);
 *                      -F counts through the unshare and the first add,
 *                      which makes the module's state for the namespace
 *   load FILE          init_module() of FILE's contents
 *
 * FAMILY is inet or inet6.
 *
 * -N NETNS[,NETNS...] runs the request in each of these named network
 * namespaces (/run/netns/NETNS) in turn, each answer under a line
 * "netns NETNS"; the exit status is the first failure's.
 *
 * -F N writes N to /proc/thread-self/fail-nth right before the request's
 * system call and reads it back after the last answer (a dump's later
 * parts are made while it is read, so they are covered too), then prints
 * "fail-nth injected", or "fail-nth unused, K points" when the request
 * passed fewer than N fault-injection points (K of them). fail-nth counts
 * every fault point of this task, which is why the socket is opened and
 * the family resolved before it is set. A shell cannot do this for
 * l3dsrctl: fail-nth survives exec, but the count would begin in execve and
 * the dynamic loader, and nothing could tell afterwards whether the fault
 * was injected at all. Where one invocation makes several requests (-N
 * with several namespaces, netns), the count runs on across them, and none
 * is armed after the fault was injected.
 *
 * -S SECONDS: a slow reader: after sending, print "sent", then wait that long
 * (or until SIGUSR1) before reading the answers.
 *
 * Prints "ok" or "error ENAME: description[: the kernel's extack message]".
 * Exit 0 the kernel said yes, 1 it said no, 2 usage error, 3 the answer was
 * lost (ENOBUFS on the socket: the outcome is unknown), 5 local failure.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "../kmod/uapi/l3dsr.h"

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif
#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK 10
#endif
#ifndef NLM_F_ACK_TLVS
#define NLM_F_ACK_TLVS 0x200
#endif
#ifndef NLM_F_CAPPED
#define NLM_F_CAPPED 0x100
#endif

#define EXIT_REFUSED	1
#define EXIT_USAGE	2
#define EXIT_LOST	3
#define EXIT_LOCAL	5

#define MSG_SIZE	16384
#define RECV_SIZE	65536

static const char *progname = "l3dsr_nlreq";
static const char *command = "";

struct nl {
	int fd;
	uint16_t family;
	uint32_t seq;
};

struct msg {
	char buf[MSG_SIZE] __attribute__((aligned(8)));
	size_t len;
};

struct result {
	int error;		/* positive errno, 0 for success */
	int lost;		/* the answer was lost: ENOBUFS on the socket */
	unsigned long items;	/* dump: messages; stats: rewritten */
	int print;		/* dump: 1 prints each mapping, 2 in full */
	char extack[256];
};

static void usage(void)
{
	fprintf(stderr,
		"usage: %s [-F N] [-S SECONDS] add|del|set|flush|table|get|dump|stats|netns|load ...\n",
		progname);
	exit(EXIT_USAGE);
}

static void __attribute__((noreturn)) die(const char *what)
{
	fprintf(stderr, "%s: %s: %s: %s\n", progname, command, what,
		strerror(errno));
	exit(EXIT_LOCAL);
}

static void __attribute__((noreturn)) bad(const char *what, const char *arg)
{
	fprintf(stderr, "%s: %s: bad %s \"%s\"\n", progname, command, what,
		arg);
	exit(EXIT_USAGE);
}

/* ----------------------------------------------------------- fail-nth */

static int failnth_fd = -1;
static unsigned long failnth_n;
/* points passed in the armed sections so far, when one request has more */
static unsigned long failnth_used;
static bool failnth_injected;

static void failnth_open(unsigned long n)
{
	failnth_n = n;
	if (!n)
		return;
	failnth_fd = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
	if (failnth_fd < 0)
		die("/proc/thread-self/fail-nth");
}

/* As close to the system call as C allows: nothing allocates in between. */
static void failnth_arm(void)
{
	char buf[32];
	int len;

	if (failnth_fd < 0 || failnth_injected)
		return;
	len = snprintf(buf, sizeof(buf), "%lu", failnth_n - failnth_used);
	if (pwrite(failnth_fd, buf, len, 0) != len)
		die("writing fail-nth");
}

/* Returns the points left unused: 0 when the fault was injected. */
static unsigned long failnth_disarm(void)
{
	char buf[32] = "";
	unsigned long left;
	ssize_t len;

	if (failnth_fd < 0 || failnth_injected)
		return 0;
	len = pread(failnth_fd, buf, sizeof(buf) - 1, 0);
	if (len <= 0)
		die("reading fail-nth");
	buf[len] = 0;
	left = strtoul(buf, NULL, 10);
	if (left && pwrite(failnth_fd, "0", 1, 0) != 1)
		die("clearing fail-nth");
	if (left)
		failnth_used = failnth_n - left;
	else
		failnth_injected = true;
	return left;
}

static void failnth_report(unsigned long left)
{
	if (failnth_fd < 0)
		return;
	if (left)
		printf("fail-nth unused, %lu points\n", failnth_used);
	else
		printf("fail-nth injected\n");
}

/* ------------------------------------------------------------ netlink */

static struct nlattr *attr_at(void *p)
{
	return p;
}

static void put_attr(struct msg *m, uint16_t type, const void *data,
		     size_t len)
{
	struct nlattr *na;

	if (m->len + NLA_HDRLEN + NLA_ALIGN(len) > sizeof(m->buf)) {
		fprintf(stderr, "%s: %s: request too big\n", progname,
			command);
		exit(EXIT_USAGE);
	}
	na = attr_at(m->buf + m->len);
	na->nla_type = type;
	na->nla_len = NLA_HDRLEN + len;
	if (len)
		memcpy((char *)na + NLA_HDRLEN, data, len);
	memset((char *)na + NLA_HDRLEN + len, 0, NLA_ALIGN(len) - len);
	m->len += NLA_HDRLEN + NLA_ALIGN(len);
}

static void put_u8(struct msg *m, uint16_t type, uint8_t v)
{
	put_attr(m, type, &v, 1);
}

static void put_u32(struct msg *m, uint16_t type, uint32_t v)
{
	put_attr(m, type, &v, 4);
}

static size_t nest_start(struct msg *m, uint16_t type)
{
	size_t at = m->len;

	put_attr(m, type | NLA_F_NESTED, NULL, 0);
	return at;
}

static void nest_end(struct msg *m, size_t at)
{
	attr_at(m->buf + at)->nla_len = m->len - at;
}

static void start(struct msg *m, uint16_t type, uint8_t cmd, uint16_t flags,
		  uint8_t version)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)m->buf;
	struct genlmsghdr *genl;

	memset(m->buf, 0, NLMSG_HDRLEN + GENL_HDRLEN);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	genl = (struct genlmsghdr *)(m->buf + NLMSG_HDRLEN);
	genl->cmd = cmd;
	genl->version = version;
	m->len = NLMSG_HDRLEN + GENL_HDRLEN;
}

static void nl_open(struct nl *nl)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int one = 1;

	nl->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (nl->fd < 0)
		die("netlink socket");
	setsockopt(nl->fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(nl->fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	if (bind(nl->fd, (struct sockaddr *)&sa, sizeof(sa)))
		die("bind");
	nl->seq = time(NULL);
}

/* The error's extack message, if the kernel gave one. */
static void parse_extack(const struct nlmsghdr *nlh, struct result *r)
{
	const struct nlmsgerr *err = NLMSG_DATA(nlh);
	const char *p, *end = (const char *)nlh + nlh->nlmsg_len;

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	p = (const char *)err + sizeof(*err);
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		p += NLMSG_ALIGN(err->msg.nlmsg_len) - sizeof(err->msg);
	while (p + NLA_HDRLEN <= end) {
		const struct nlattr *na = (const struct nlattr *)p;

		if (na->nla_len < NLA_HDRLEN || p + na->nla_len > end)
			break;
		if (na->nla_type == NLMSGERR_ATTR_MSG)
			snprintf(r->extack, sizeof(r->extack), "%.*s",
				 (int)(na->nla_len - NLA_HDRLEN),
				 p + NLA_HDRLEN);
		p += NLA_ALIGN(na->nla_len);
	}
}

static volatile sig_atomic_t woken;

static void on_usr1(int sig)
{
	(void)sig;
	woken = 1;
}

static void slow_wait(double seconds)
{
	struct timespec ts = {
		.tv_sec = (time_t)seconds,
		.tv_nsec = (long)((seconds - (time_t)seconds) * 1e9),
	};

	printf("sent\n");
	fflush(stdout);
	while (!woken && nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Count the STATS nest's rewritten counter into r->items. */
static void parse_stats(const struct nlmsghdr *nlh, struct result *r)
{
	const char *p = (const char *)NLMSG_DATA(nlh) + GENL_HDRLEN;
	const char *end = (const char *)nlh + nlh->nlmsg_len;

	while (p + NLA_HDRLEN <= end) {
		const struct nlattr *na = (const struct nlattr *)p;

		if (na->nla_len < NLA_HDRLEN || p + na->nla_len > end)
			break;
		if ((na->nla_type & NLA_TYPE_MASK) == L3DSR_A_STATS) {
			const char *q = p + NLA_HDRLEN;
			const char *qend = p + na->nla_len;

			while (q + NLA_HDRLEN <= qend) {
				const struct nlattr *s =
					(const struct nlattr *)q;
				uint64_t v;

				if (s->nla_len < NLA_HDRLEN)
					break;
				if (s->nla_type == L3DSR_STAT_REWRITTEN &&
				    s->nla_len == NLA_HDRLEN + 8) {
					memcpy(&v, q + NLA_HDRLEN, 8);
					r->items = v;
				}
				q += NLA_ALIGN(s->nla_len);
			}
		}
		p += NLA_ALIGN(na->nla_len);
	}
}

/* Every attribute of a message, nests opened, as TYPE=HEX words. */
static void print_attrs(const char *what, const struct nlmsghdr *nlh)
{
	const char *p = (const char *)NLMSG_DATA(nlh) + GENL_HDRLEN;
	const char *end = (const char *)nlh + nlh->nlmsg_len;

	printf("%s", what);
	while (p + NLA_HDRLEN <= end) {
		const struct nlattr *na = (const struct nlattr *)p;
		int i, len = na->nla_len - NLA_HDRLEN;

		if (na->nla_len < NLA_HDRLEN || p + na->nla_len > end)
			break;
		if ((na->nla_type & NLA_TYPE_MASK) == L3DSR_A_STATS) {
			/* the counters one a word, so a difference shows */
			p += NLA_HDRLEN;
			end = p + len;
			continue;
		}
		printf(" %u=", na->nla_type & NLA_TYPE_MASK);
		for (i = 0; i < len; i++)
			printf("%02x", (unsigned char)p[NLA_HDRLEN + i]);
		p += NLA_ALIGN(na->nla_len);
	}
	printf("\n");
}

/* One line per dumped mapping: its family, DSCP and packet count. */
static void print_mapping(const struct nlmsghdr *nlh)
{
	const char *p = (const char *)NLMSG_DATA(nlh) + GENL_HDRLEN;
	const char *end = (const char *)nlh + nlh->nlmsg_len;
	unsigned int family = 0, dscp = 0;
	uint64_t packets = 0;

	while (p + NLA_HDRLEN <= end) {
		const struct nlattr *na = (const struct nlattr *)p;

		if (na->nla_len < NLA_HDRLEN || p + na->nla_len > end)
			break;
		if (na->nla_type == L3DSR_A_FAMILY)
			family = *(const uint8_t *)(p + NLA_HDRLEN);
		else if (na->nla_type == L3DSR_A_DSCP)
			dscp = *(const uint8_t *)(p + NLA_HDRLEN);
		else if (na->nla_type == L3DSR_A_PACKETS &&
			 na->nla_len == NLA_HDRLEN + 8)
			memcpy(&packets, p + NLA_HDRLEN, 8);
		p += NLA_ALIGN(na->nla_len);
	}
	printf("mapping %s %u packets %llu\n",
	       family == AF_INET ? "inet" : family == AF_INET6 ? "inet6" : "?",
	       dscp, (unsigned long long)packets);
}

/*
 * Send @m and read its answers to the end: the ack (NLM_F_ACK is set on
 * every request that is not a dump), or the dump's NLMSG_DONE.
 */
static void transact(struct nl *nl, struct msg *m, struct result *r,
		     double slow)
{
	static char buf[RECV_SIZE] __attribute__((aligned(8)));
	struct nlmsghdr *req = (struct nlmsghdr *)m->buf;
	int dump = req->nlmsg_flags & NLM_F_DUMP;
	int done = 0, send_errno = 0, recv_errno = 0, print;
	unsigned long left;
	ssize_t sent;

	print = r->print;
	memset(r, 0, sizeof(*r));
	r->print = print;
	req->nlmsg_len = m->len;
	req->nlmsg_seq = ++nl->seq;

	failnth_arm();
	sent = send(nl->fd, m->buf, m->len, 0);
	if (sent < 0)
		send_errno = errno;
	if (sent >= 0 && slow > 0)
		slow_wait(slow);
	while (sent >= 0 && !done) {
		ssize_t len = recv(nl->fd, buf, sizeof(buf), 0);
		struct nlmsghdr *nlh;
		int rem;

		if (len < 0) {
			if (errno == EINTR)
				continue;
			recv_errno = errno;
			break;
		}
		rem = len;
		for (nlh = (struct nlmsghdr *)buf; NLMSG_OK(nlh, rem);
		     nlh = NLMSG_NEXT(nlh, rem)) {
			if (nlh->nlmsg_seq != req->nlmsg_seq)
				continue;
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(nlh);

				r->error = -e->error;
				if (r->error)
					parse_extack(nlh, r);
				done = 1;
			} else if (nlh->nlmsg_type == NLMSG_DONE) {
				int err = 0;

				if (nlh->nlmsg_len >= NLMSG_LENGTH(sizeof(err)))
					memcpy(&err, NLMSG_DATA(nlh),
					       sizeof(err));
				r->error = err < 0 ? -err : 0;
				if (r->error)
					parse_extack(nlh, r);
				done = 1;
			} else if (nlh->nlmsg_type == nl->family) {
				if (dump) {
					r->items++;
					if (r->print == 2)
						print_attrs("mapping", nlh);
					else if (r->print)
						print_mapping(nlh);
				} else {
					if (r->print == 2)
						print_attrs("stats", nlh);
					parse_stats(nlh, r);
				}
			}
			if (done)
				break;
		}
	}
	left = failnth_disarm();

	if (send_errno) {
		/* refused before the command ran: an error like another */
		r->error = send_errno;
	} else if (recv_errno == ENOBUFS) {
		r->lost = 1;
		r->error = ENOBUFS;
	} else if (recv_errno) {
		errno = recv_errno;
		die("recv");
	}
	failnth_report(left);
}

static void resolve(struct nl *nl)
{
	static char buf[RECV_SIZE] __attribute__((aligned(8)));
	struct msg m;
	struct nlmsghdr *nlh;
	const char *p, *end;
	ssize_t len;

	start(&m, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 0, 1);
	put_attr(&m, CTRL_ATTR_FAMILY_NAME, L3DSR_GENL_NAME,
		 sizeof(L3DSR_GENL_NAME));
	nlh = (struct nlmsghdr *)m.buf;
	nlh->nlmsg_len = m.len;
	nlh->nlmsg_seq = ++nl->seq;
	if (send(nl->fd, m.buf, m.len, 0) < 0)
		die("send to the genl controller");
	len = recv(nl->fd, buf, sizeof(buf), 0);
	if (len < 0)
		die("recv from the genl controller");
	nlh = (struct nlmsghdr *)buf;
	if (!NLMSG_OK(nlh, len) || nlh->nlmsg_type != GENL_ID_CTRL) {
		fprintf(stderr, "%s: %s: no \"%s\" generic netlink family\n",
			progname, command, L3DSR_GENL_NAME);
		exit(EXIT_LOCAL);
	}
	p = (const char *)NLMSG_DATA(nlh) + GENL_HDRLEN;
	end = (const char *)nlh + nlh->nlmsg_len;
	while (p + NLA_HDRLEN <= end) {
		const struct nlattr *na = (const struct nlattr *)p;

		if (na->nla_len < NLA_HDRLEN)
			break;
		if (na->nla_type == CTRL_ATTR_FAMILY_ID)
			memcpy(&nl->family, p + NLA_HDRLEN, 2);
		p += NLA_ALIGN(na->nla_len);
	}
	if (!nl->family) {
		fprintf(stderr, "%s: %s: the controller gave no family id\n",
			progname, command);
		exit(EXIT_LOCAL);
	}
}

/* ---------------------------------------------------------- the words */

static uint8_t parse_family(const char *s)
{
	if (!strcmp(s, "inet"))
		return AF_INET;
	if (!strcmp(s, "inet6"))
		return AF_INET6;
	bad("family", s);
}

static uint8_t parse_dscp(const char *s)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (end == s || *end || v > 255)
		bad("dscp", s);
	return v;
}

static void put_addr(struct msg *m, uint16_t type, uint8_t family,
		     const char *s)
{
	unsigned char addr[16];

	if (inet_pton(family, s, addr) != 1)
		bad("address", s);
	put_attr(m, type, addr, family == AF_INET ? 4 : 16);
}

static void put_dev(struct msg *m, const char *name)
{
	unsigned int index = if_nametoindex(name);

	if (!index)
		bad("device", name);
	put_u32(m, L3DSR_A_IFINDEX, index);
}

static void put_key(struct msg *m, int argc, char **argv)
{
	if (argc < 2)
		usage();
	put_u8(m, L3DSR_A_FAMILY, parse_family(argv[0]));
	put_u8(m, L3DSR_A_DSCP, parse_dscp(argv[1]));
}

static void build_add(struct nl *nl, struct msg *m, int argc, char **argv)
{
	uint32_t flags = 0, req = 0;
	uint8_t family;
	int i;

	if (argc < 3)
		usage();
	start(m, nl->family, L3DSR_CMD_NEW_MAPPING, NLM_F_ACK,
	      L3DSR_GENL_VERSION);
	put_key(m, argc, argv);
	family = parse_family(argv[0]);
	put_addr(m, L3DSR_A_VIP, family, argv[2]);
	for (i = 3; i < argc; i++) {
		if (!strcmp(argv[i], "rip") && i + 1 < argc)
			put_addr(m, L3DSR_A_RIP, family, argv[++i]);
		else if (!strcmp(argv[i], "dev") && i + 1 < argc)
			put_dev(m, argv[++i]);
		else if (!strcmp(argv[i], "clear-dscp"))
			flags |= L3DSR_F_CLEAR_DSCP;
		else if (!strcmp(argv[i], "replace"))
			req |= L3DSR_REQUEST_F_REPLACE;
		else if (!strcmp(argv[i], "excl"))
			req |= L3DSR_REQUEST_F_EXCL;
		else
			bad("word", argv[i]);
	}
	if (flags)
		put_u32(m, L3DSR_A_FLAGS, flags);
	if (req)
		put_u32(m, L3DSR_A_REQUEST_FLAGS, req);
}

/* FAMILY,DSCP,VIP[,rip=ADDR][,dev=IFNAME][,clear-dscp][,down] */
static void put_entry(struct msg *m, char *spec)
{
	char *words[8], *save = NULL, *w;
	uint32_t flags = 0;
	uint8_t family;
	size_t at;
	int n = 0, i;

	for (w = strtok_r(spec, ",", &save); w && n < 8;
	     w = strtok_r(NULL, ",", &save))
		words[n++] = w;
	if (n < 3)
		bad("table entry", spec);
	at = nest_start(m, L3DSR_A_MAPPING);
	family = parse_family(words[0]);
	put_u8(m, L3DSR_A_FAMILY, family);
	put_u8(m, L3DSR_A_DSCP, parse_dscp(words[1]));
	put_addr(m, L3DSR_A_VIP, family, words[2]);
	for (i = 3; i < n; i++) {
		if (!strncmp(words[i], "rip=", 4))
			put_addr(m, L3DSR_A_RIP, family, words[i] + 4);
		else if (!strncmp(words[i], "dev=", 4))
			put_dev(m, words[i] + 4);
		else if (!strcmp(words[i], "clear-dscp"))
			flags |= L3DSR_F_CLEAR_DSCP;
		else if (!strcmp(words[i], "down"))
			flags |= L3DSR_F_DOWN;
		else
			bad("table entry word", words[i]);
	}
	if (flags)
		put_u32(m, L3DSR_A_FLAGS, flags);
	nest_end(m, at);
}

static void build(struct nl *nl, struct msg *m, int argc, char **argv)
{
	int i;

	if (!strcmp(command, "add")) {
		build_add(nl, m, argc, argv);
	} else if (!strcmp(command, "del") || !strcmp(command, "get")) {
		start(m, nl->family, !strcmp(command, "del") ?
		      L3DSR_CMD_DEL_MAPPING : L3DSR_CMD_GET_MAPPING,
		      NLM_F_ACK, L3DSR_GENL_VERSION);
		if (argc != 2)
			usage();
		put_key(m, argc, argv);
	} else if (!strcmp(command, "set")) {
		if (argc != 3 || (strcmp(argv[2], "up") &&
				  strcmp(argv[2], "down")))
			usage();
		start(m, nl->family, L3DSR_CMD_SET_MAPPING, NLM_F_ACK,
		      L3DSR_GENL_VERSION);
		put_key(m, argc, argv);
		put_u32(m, L3DSR_A_FLAGS,
			!strcmp(argv[2], "down") ? L3DSR_F_DOWN : 0);
		put_u32(m, L3DSR_A_FLAGS_MASK, L3DSR_F_DOWN);
	} else if (!strcmp(command, "flush")) {
		start(m, nl->family, L3DSR_CMD_FLUSH_MAPPINGS, NLM_F_ACK,
		      L3DSR_GENL_VERSION);
		if (argc > 1)
			usage();
		if (argc == 1)
			put_u8(m, L3DSR_A_FAMILY, parse_family(argv[0]));
	} else if (!strcmp(command, "table")) {
		size_t at;

		start(m, nl->family, L3DSR_CMD_SET_TABLE, NLM_F_ACK,
		      L3DSR_GENL_VERSION);
		at = nest_start(m, L3DSR_A_MAPPINGS);
		for (i = 0; i < argc; i++)
			put_entry(m, argv[i]);
		nest_end(m, at);
	} else if (!strcmp(command, "dump")) {
		if (argc)
			usage();
		start(m, nl->family, L3DSR_CMD_GET_MAPPING, NLM_F_DUMP,
		      L3DSR_GENL_VERSION);
	} else if (!strcmp(command, "stats")) {
		if (argc)
			usage();
		start(m, nl->family, L3DSR_CMD_GET_STATS, NLM_F_ACK,
		      L3DSR_GENL_VERSION);
	} else {
		usage();
	}
}

static int report(const struct result *r)
{
	if (!r->error) {
		if (!strcmp(command, "dump"))
			printf("mappings %lu\n", r->items);
		else if (!strcmp(command, "stats"))
			printf("rewritten %lu\n", r->items);
		printf("ok\n");
		return 0;
	}
	printf("error %s: %s%s%s%s\n", strerrorname_np(r->error) ?: "?",
	       strerror(r->error), r->extack[0] ? ": " : "", r->extack,
	       r->lost ? " (the answer was lost)" : "");
	return r->lost ? EXIT_LOST : EXIT_REFUSED;
}

/* ------------------------------------------------ netns and module load */

/* After a new namespace was made: does the module serve it? */
static int check_new_netns(void)
{
	char spec[] = "inet,1,192.0.2.1";
	char *args[3] = { "inet", "1", "192.0.2.1" };
	struct result r = { 0 };
	struct msg m;
	struct nl nl;

	nl_open(&nl);
	resolve(&nl);
	command = "add";
	build_add(&nl, &m, 3, args);
	transact(&nl, &m, &r, 0);
	/* the rest proves the namespace served, with nothing injected */
	failnth_fd = -1;
	if (r.error)
		goto out;
	command = "dump";
	build(&nl, &m, 0, NULL);
	transact(&nl, &m, &r, 0);
	if (r.error)
		goto out;
	if (r.items != 1) {
		printf("new namespace: %lu mappings, expected 1\n", r.items);
		return EXIT_REFUSED;
	}
	command = "table";
	{
		char *entries[1] = { spec };

		build(&nl, &m, 1, entries);
	}
	transact(&nl, &m, &r, 0);
	if (r.error)
		goto out;
	command = "stats";
	build(&nl, &m, 0, NULL);
	transact(&nl, &m, &r, 0);
	if (r.error)
		goto out;
	/* left in place: the namespace goes with its mapping */
	printf("new namespace served\n");
	return 0;
out:
	printf("new namespace: %s: ", command);
	return report(&r);
}

static int do_netns(void)
{
	unsigned long left;
	int err = 0;

	failnth_arm();
	if (unshare(CLONE_NEWNET))
		err = errno;
	left = failnth_disarm();
	/* else the first add reports, counting from here */
	if (err || !left)
		failnth_report(left);
	if (err) {
		struct result r = { .error = err };

		return report(&r);
	}
	printf("ok\n");
	return check_new_netns();
}

static int do_load(const char *file)
{
	struct result r = { 0 };
	unsigned long left;
	struct stat st;
	char *image;
	int fd;

	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st))
		die(file);
	image = malloc(st.st_size);
	if (!image || read(fd, image, st.st_size) != st.st_size)
		die(file);
	close(fd);
	/* init_module, not finit_module: its buffer is __GFP_NOWARN */
	failnth_arm();
	if (syscall(SYS_init_module, image, (unsigned long)st.st_size, ""))
		r.error = errno;
	left = failnth_disarm();
	failnth_report(left);
	return report(&r);
}

/* state: the table in full, then the counters; in NETNS if named. */
static int do_state(const char *netns)
{
	struct result r = { .print = 2 };
	struct msg m;
	struct nl nl;

	if (netns) {
		char path[256];
		int fd;

		snprintf(path, sizeof(path), "/run/netns/%s", netns);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || setns(fd, CLONE_NEWNET))
			die(path);
		close(fd);
	}
	nl_open(&nl);
	resolve(&nl);
	command = "dump";
	build(&nl, &m, 0, NULL);
	transact(&nl, &m, &r, 0);
	if (r.error)
		return report(&r);
	command = "stats";
	build(&nl, &m, 0, NULL);
	r.print = 2;
	transact(&nl, &m, &r, 0);
	return r.error ? report(&r) : 0;
}

int main(int argc, char **argv)
{
	unsigned long nth = 0;
	char *netns = NULL, *name, *save = NULL;
	int status = 0, one;
	double slow = 0;
	struct result r = { 0 };
	struct msg m;
	struct nl nl;
	char *end;
	int opt;

	while ((opt = getopt(argc, argv, "+F:S:N:")) != -1) {
		switch (opt) {
		case 'N':
			netns = optarg;
			break;
		case 'F':
			nth = strtoul(optarg, &end, 10);
			if (end == optarg || *end)
				bad("fail-nth count", optarg);
			break;
		case 'S':
			slow = strtod(optarg, &end);
			if (end == optarg || *end || slow < 0)
				bad("wait", optarg);
			break;
		default:
			usage();
		}
	}
	if (optind >= argc)
		usage();
	command = argv[optind++];
	argc -= optind;
	argv += optind;
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGUSR1, on_usr1);

	if (!strcmp(command, "netns")) {
		if (argc)
			usage();
		failnth_open(nth);
		return do_netns();
	}
	if (!strcmp(command, "load")) {
		if (argc != 1)
			usage();
		failnth_open(nth);
		return do_load(argv[0]);
	}

	if (!strcmp(command, "state")) {
		if (argc)
			usage();
		return do_state(netns);
	}
	if (!netns) {
		nl_open(&nl);
		resolve(&nl);
		build(&nl, &m, argc, argv);
		failnth_open(nth);
		r.print = 1;
		transact(&nl, &m, &r, slow);
		return report(&r);
	}
	for (name = strtok_r(netns, ",", &save); name;
	     name = strtok_r(NULL, ",", &save)) {
		char path[256];
		int fd;

		snprintf(path, sizeof(path), "/run/netns/%s", name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || setns(fd, CLONE_NEWNET))
			die(path);
		close(fd);
		printf("netns %s\n", name);
		nl_open(&nl);
		resolve(&nl);
		build(&nl, &m, argc, argv);
		if (failnth_fd < 0)
			failnth_open(nth);
		r.print = 1;
		transact(&nl, &m, &r, slow);
		close(nl.fd);
		one = report(&r);
		if (!status)
			status = one;
	}
	return status;
}
