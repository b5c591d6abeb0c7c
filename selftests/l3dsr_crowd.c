// SPDX-License-Identifier: GPL-2.0
/*
 * l3dsr_crowd: many network namespaces in one process, and a namespace
 * whose owner never rests, for the crowded-host selftests. It speaks the
 * module's generic netlink family itself (kmod/uapi/l3dsr.h), one request
 * per mapping, so what a test measures is the module and not the cost of
 * starting a program for every request.
 *
 *   l3dsr_crowd [-n COUNT] hold
 *	Create COUNT network namespaces (default 1), each kept alive by a
 *	netlink socket this process holds in it, and print "ready COUNT".
 *	Then answer the commands read on stdin, one a line, each with one
 *	line on stdout:
 *	  nop                     "ok"
 *	  fill FROM TO SPACES     in each of the first SPACES namespaces,
 *	                          add mappings number FROM to TO - 1 of the
 *	                          126 (0..62: IPv4 DSCP 1..63 to VIP4,
 *	                          63..125: IPv6 DSCP 1..63 to VIP6), one
 *	                          request each, stopping at the first
 *	                          refusal: "added N" or "added N error NAME"
 *	  quit                    exit
 *	Nothing resolves the generic netlink family (which would load the
 *	module) before the first fill.
 *
 *   l3dsr_crowd [-N NICE] hammer
 *	In this process's network namespace, round and round DSCP 1..63:
 *	add the mapping DSCP -> VIP4, dump the table, delete the mapping.
 *	Prints "running" after the first round; on SIGTERM or SIGINT prints
 *	"iterations N errors E" and exits. -N first lowers its priority.
 *
 * VIP4 is 203.0.113.200 and VIP6 2001:db8:203::200; no traffic is sent.
 * Exit 0 on success, 1 on failure, 2 on a usage error.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../kmod/uapi/l3dsr.h"

#define BUF_SIZE	65536
#define MAPPINGS	(2 * L3DSR_DSCP_MAX)

static const char *progname = "l3dsr_crowd";
static const char vip4_text[] = "203.0.113.200";
static const char vip6_text[] = "2001:db8:203::200";

/* Touched before anything is measured: no page of them is new later. */
static uint8_t request[BUF_SIZE] __attribute__((aligned(4)));
static uint8_t reply[BUF_SIZE] __attribute__((aligned(4)));
static struct in_addr vip4;
static struct in6_addr vip6;
static uint16_t family_id;
static uint32_t seq;

static volatile sig_atomic_t stop;

static void usage(void)
{
	fprintf(stderr, "usage: %s [-n COUNT] hold\n"
		"       %s [-N NICE] hammer\n", progname, progname);
	exit(2);
}

static void die(const char *what)
{
	fprintf(stderr, "%s: %s: %s\n", progname, what, strerror(errno));
	exit(1);
}

static unsigned long parse_number(const char *text, const char *what,
				  unsigned long max)
{
	unsigned long value;
	char *end;

	errno = 0;
	value = strtoul(text, &end, 0);
	if (errno || end == text || *end || value > max) {
		fprintf(stderr, "%s: bad %s \"%s\"\n", progname, what, text);
		exit(2);
	}
	return value;
}

/* The name of an errno value, for the one-line answers. */
static const char *error_name(int err)
{
	const char *name = strerrorname_np(err);
	static char buf[16];

	if (name)
		return name;
	snprintf(buf, sizeof(buf), "%d", err);
	return buf;
}

/* ------------------------------------------------------ netlink messages */

static int nl_open(void)
{
	struct sockaddr_nl local = { .nl_family = AF_NETLINK };
	int fd;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (fd < 0)
		die("netlink socket");
	if (bind(fd, (struct sockaddr *)&local, sizeof(local)))
		die("netlink bind");
	return fd;
}

static struct nlmsghdr *msg_start(uint16_t type, uint16_t flags, uint8_t cmd,
				  uint8_t version)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)request;
	struct genlmsghdr *genl;

	memset(nlh, 0, NLMSG_HDRLEN + GENL_HDRLEN);
	nlh->nlmsg_len = NLMSG_HDRLEN + GENL_HDRLEN;
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = ++seq;
	genl = (struct genlmsghdr *)((uint8_t *)nlh + NLMSG_HDRLEN);
	genl->cmd = cmd;
	genl->version = version;
	return nlh;
}

static void msg_put(struct nlmsghdr *nlh, uint16_t type, const void *data,
		    uint16_t len)
{
	struct nlattr *attr = (struct nlattr *)((uint8_t *)nlh +
						NLMSG_ALIGN(nlh->nlmsg_len));

	attr->nla_type = type;
	attr->nla_len = NLA_HDRLEN + len;
	memcpy((uint8_t *)attr + NLA_HDRLEN, data, len);
	nlh->nlmsg_len = NLMSG_ALIGN(nlh->nlmsg_len) + NLA_ALIGN(attr->nla_len);
}

static void msg_put_u8(struct nlmsghdr *nlh, uint16_t type, uint8_t value)
{
	msg_put(nlh, type, &value, sizeof(value));
}

static void msg_send(int fd, const struct nlmsghdr *nlh)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };

	if (sendto(fd, nlh, nlh->nlmsg_len, 0, (struct sockaddr *)&kernel,
		   sizeof(kernel)) != (ssize_t)nlh->nlmsg_len)
		die("netlink send");
}

/*
 * Read the answers to the last request until its ACK, error or end of
 * dump. @each, if given, sees every other message. Returns 0 or a
 * positive errno from the kernel.
 */
static int msg_wait(int fd, void (*each)(const struct nlmsghdr *nlh))
{
	for (;;) {
		ssize_t n = recv(fd, reply, sizeof(reply), 0);
		struct nlmsghdr *nlh;
		size_t left;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("netlink receive");
		}
		left = n;
		for (nlh = (struct nlmsghdr *)reply; NLMSG_OK(nlh, left);
		     nlh = NLMSG_NEXT(nlh, left)) {
			if (nlh->nlmsg_seq != seq)
				continue;
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(nlh);

				return -e->error;
			}
			if (nlh->nlmsg_type == NLMSG_DONE)
				return 0;
			if (each)
				each(nlh);
		}
	}
}

static void on_family(const struct nlmsghdr *nlh)
{
	const struct nlattr *attr;
	int left;

	attr = (const struct nlattr *)((const uint8_t *)NLMSG_DATA(nlh) +
				       GENL_HDRLEN);
	left = nlh->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN;
	while (left >= NLA_HDRLEN && attr->nla_len >= NLA_HDRLEN &&
	       attr->nla_len <= left) {
		if ((attr->nla_type & NLA_TYPE_MASK) == CTRL_ATTR_FAMILY_ID)
			memcpy(&family_id, (const uint8_t *)attr + NLA_HDRLEN,
			       sizeof(family_id));
		left -= NLA_ALIGN(attr->nla_len);
		attr = (const struct nlattr *)((const uint8_t *)attr +
					       NLA_ALIGN(attr->nla_len));
	}
}

/* The family's id; asking for it loads the module if it is not loaded. */
static void resolve_family(int fd)
{
	struct nlmsghdr *nlh;
	int err;

	if (family_id)
		return;
	nlh = msg_start(GENL_ID_CTRL, NLM_F_ACK, CTRL_CMD_GETFAMILY, 1);
	msg_put(nlh, CTRL_ATTR_FAMILY_NAME, L3DSR_GENL_NAME,
		sizeof(L3DSR_GENL_NAME));
	msg_send(fd, nlh);
	err = msg_wait(fd, on_family);
	if (err || !family_id) {
		fprintf(stderr, "%s: no generic netlink family %s: %s\n",
			progname, L3DSR_GENL_NAME, strerror(err ? err : ENOENT));
		exit(1);
	}
}

/* Mapping @index of the 126: IPv4 DSCP 1..63, then IPv6 DSCP 1..63. */
static int add_mapping(int fd, unsigned int index)
{
	bool ipv6 = index >= L3DSR_DSCP_MAX;
	struct nlmsghdr *nlh;

	nlh = msg_start(family_id, NLM_F_ACK, L3DSR_CMD_NEW_MAPPING,
			L3DSR_GENL_VERSION);
	msg_put_u8(nlh, L3DSR_A_FAMILY, ipv6 ? AF_INET6 : AF_INET);
	msg_put_u8(nlh, L3DSR_A_DSCP, index % L3DSR_DSCP_MAX + 1);
	if (ipv6)
		msg_put(nlh, L3DSR_A_VIP, &vip6, sizeof(vip6));
	else
		msg_put(nlh, L3DSR_A_VIP, &vip4, sizeof(vip4));
	msg_send(fd, nlh);
	return msg_wait(fd, NULL);
}

static int del_mapping(int fd, uint8_t dscp)
{
	struct nlmsghdr *nlh;

	nlh = msg_start(family_id, NLM_F_ACK, L3DSR_CMD_DEL_MAPPING,
			L3DSR_GENL_VERSION);
	msg_put_u8(nlh, L3DSR_A_FAMILY, AF_INET);
	msg_put_u8(nlh, L3DSR_A_DSCP, dscp);
	msg_send(fd, nlh);
	return msg_wait(fd, NULL);
}

static int dump_mappings(int fd)
{
	struct nlmsghdr *nlh;

	nlh = msg_start(family_id, NLM_F_DUMP, L3DSR_CMD_GET_MAPPING,
			L3DSR_GENL_VERSION);
	msg_send(fd, nlh);
	return msg_wait(fd, NULL);
}

/* ------------------------------------------------------------------ hold */

static void raise_file_limit(unsigned long count)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		die("getrlimit");
	if (rl.rlim_cur >= count + 16)
		return;
	rl.rlim_cur = count + 16;
	if (rl.rlim_max < rl.rlim_cur)
		rl.rlim_max = rl.rlim_cur;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		die("setrlimit RLIMIT_NOFILE");
}

/*
 * fill FROM TO SPACES: stops at the first refusal, since after one the
 * rest would be refused for the same reason.
 */
static void fill(const int *fds, unsigned long count, const char *args)
{
	unsigned int from, to, spaces, i, ns;
	unsigned long added = 0;
	int err = 0;

	if (sscanf(args, "%u %u %u", &from, &to, &spaces) != 3 ||
	    from > to || to > MAPPINGS || spaces > count) {
		printf("bad fill \"%s\"\n", args);
		return;
	}
	resolve_family(fds[0]);
	for (ns = 0; ns < spaces && !err; ns++) {
		for (i = from; i < to && !err; i++) {
			err = add_mapping(fds[ns], i);
			if (!err)
				added++;
		}
	}
	if (err)
		printf("added %lu error %s\n", added, error_name(err));
	else
		printf("added %lu\n", added);
}

static int hold(unsigned long count)
{
	static char line[256];
	unsigned long i;
	int *fds;

	raise_file_limit(count);
	fds = calloc(count, sizeof(*fds));
	if (!fds)
		die("calloc");
	for (i = 0; i < count; i++) {
		if (unshare(CLONE_NEWNET))
			die("unshare(CLONE_NEWNET)");
		fds[i] = nl_open();
	}
	printf("ready %lu\n", count);
	fflush(stdout);

	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\n")] = '\0';
		if (!strcmp(line, "quit"))
			break;
		if (!strcmp(line, "nop"))
			printf("ok\n");
		else if (!strncmp(line, "fill ", 5))
			fill(fds, count, line + 5);
		else
			printf("unknown command \"%s\"\n", line);
		fflush(stdout);
	}
	return 0;
}

/* ---------------------------------------------------------------- hammer */

static void on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

static int hammer(void)
{
	unsigned long iterations = 0, errors = 0;
	struct sigaction sa;
	unsigned int dscp;
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	fd = nl_open();
	resolve_family(fd);
	while (!stop) {
		for (dscp = L3DSR_DSCP_MIN; dscp <= L3DSR_DSCP_MAX && !stop;
		     dscp++) {
			errors += add_mapping(fd, dscp - 1) != 0;
			errors += dump_mappings(fd) != 0;
			errors += del_mapping(fd, dscp) != 0;
			iterations++;
		}
		if (iterations == L3DSR_DSCP_MAX) {
			printf("running\n");
			fflush(stdout);
		}
	}
	printf("iterations %lu errors %lu\n", iterations, errors);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long count = 1;
	long niceness = 0;
	bool set_nice = false;
	int opt;

	while ((opt = getopt(argc, argv, "n:N:")) != -1) {
		switch (opt) {
		case 'n':
			count = parse_number(optarg, "count", 100000);
			if (!count)
				usage();
			break;
		case 'N':
			niceness = parse_number(optarg, "niceness", 19);
			set_nice = true;
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 1)
		usage();

	memset(request, 0, sizeof(request));
	memset(reply, 0, sizeof(reply));
	if (inet_pton(AF_INET, vip4_text, &vip4) != 1 ||
	    inet_pton(AF_INET6, vip6_text, &vip6) != 1)
		die("inet_pton");
	if (set_nice && setpriority(PRIO_PROCESS, 0, niceness))
		die("setpriority");

	if (!strcmp(argv[optind], "hold"))
		return hold(count);
	if (!strcmp(argv[optind], "hammer"))
		return hammer();
	usage();
	return 2;
}
