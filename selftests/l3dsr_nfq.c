// SPDX-License-Identifier: GPL-2.0
/*
 * l3dsr_nfq: a userspace verdict program for an NFQUEUE queue, so that the
 * selftests can send packets through nf_reinject(), which runs the hooks
 * after the queueing one in process context.
 *
 *   l3dsr_nfq [-q NUM] [-n COUNT]
 *	Bind to queue NUM (default 0) over nfnetlink_queue, say "ready" on
 *	stdout, and accept every packet queued there, unchanged, until COUNT
 *	packets have been accepted or SIGTERM or SIGINT comes; then print
 *	"accepted N" and exit 0. Only packet metadata is copied to us.
 *
 * Exit 1 on a netlink failure, 2 on a usage error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/*
 * a request or a verdict; an acknowledgement (which may quote the
 * request); what one recvfrom may bring (many packets)
 */
#define MSG_SIZE	512
#define ACK_SIZE	8192
#define RECV_SIZE	(256 * 1024)

static const char *progname = "l3dsr_nfq";
static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(void)
{
	fprintf(stderr, "usage: %s [-q NUM] [-n COUNT]\n", progname);
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

/* A request of nfnetlink_queue's @type for queue @num, built in @buf. */
static struct nlmsghdr *queue_msg(char *buf, uint16_t type, uint16_t num,
				  uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;

	nlh->nlmsg_type = NFNL_SUBSYS_QUEUE << 8 | type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_UNSPEC;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = htons(num);
	return nlh;
}

/* Send @nlh and wait for its acknowledgement. */
static void request(struct mnl_socket *nl, struct nlmsghdr *nlh,
		    const char *what)
{
	char buf[ACK_SIZE];
	unsigned int portid = mnl_socket_get_portid(nl);
	ssize_t n;

	nlh->nlmsg_flags |= NLM_F_ACK;
	nlh->nlmsg_seq = time(NULL);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		die(what);
	n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	if (n < 0 || mnl_cb_run(buf, n, nlh->nlmsg_seq, portid, NULL, NULL) < 0)
		die(what);
}

static void configure(struct mnl_socket *nl, uint16_t num)
{
	char buf[MSG_SIZE];
	struct nfqnl_msg_config_params params = {
		.copy_range = htonl(0),
		.copy_mode = NFQNL_COPY_META,
	};
	struct nfqnl_msg_config_cmd cmd = {
		.command = NFQNL_CFG_CMD_BIND,
	};
	struct nlmsghdr *nlh;

	nlh = queue_msg(buf, NFQNL_MSG_CONFIG, num, 0);
	mnl_attr_put(nlh, NFQA_CFG_CMD, sizeof(cmd), &cmd);
	request(nl, nlh, "bind to the queue");

	nlh = queue_msg(buf, NFQNL_MSG_CONFIG, num, 0);
	mnl_attr_put(nlh, NFQA_CFG_PARAMS, sizeof(params), &params);
	/* GSO packets come to us whole, as the stack has them. */
	mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(NFQA_CFG_F_GSO));
	mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(NFQA_CFG_F_GSO));
	request(nl, nlh, "set the copy mode");
}

struct verdicts {
	struct mnl_socket *nl;
	uint16_t num;
	unsigned long accepted;
};

static int packet_attr(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(attr);

	if (mnl_attr_type_valid(attr, NFQA_MAX) < 0)
		return MNL_CB_OK;
	if (type == NFQA_PACKET_HDR &&
	    mnl_attr_validate2(attr, MNL_TYPE_UNSPEC,
			       sizeof(struct nfqnl_msg_packet_hdr)) < 0)
		return MNL_CB_ERROR;
	tb[type] = attr;
	return MNL_CB_OK;
}

/* One queued packet: accept it as it is. */
static int on_packet(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[NFQA_MAX + 1] = { NULL };
	char buf[MSG_SIZE];
	struct verdicts *v = data;
	const struct nfqnl_msg_packet_hdr *ph;
	struct nfqnl_msg_verdict_hdr vh;
	struct nlmsghdr *reply;

	if (mnl_attr_parse(nlh, sizeof(struct nfgenmsg), packet_attr,
			   tb) < 0 || !tb[NFQA_PACKET_HDR])
		return MNL_CB_ERROR;
	ph = mnl_attr_get_payload(tb[NFQA_PACKET_HDR]);

	reply = queue_msg(buf, NFQNL_MSG_VERDICT, v->num, 0);
	vh.verdict = htonl(NF_ACCEPT);
	vh.id = ph->packet_id;
	mnl_attr_put(reply, NFQA_VERDICT_HDR, sizeof(vh), &vh);
	if (mnl_socket_sendto(v->nl, reply, reply->nlmsg_len) < 0)
		die("send a verdict");
	v->accepted++;
	return MNL_CB_OK;
}

int main(int argc, char **argv)
{
	static char buf[RECV_SIZE];
	struct verdicts v = { .num = 0 };
	unsigned long count = 0;
	struct sigaction sa;
	int opt, one = 1;

	while ((opt = getopt(argc, argv, "q:n:")) != -1) {
		switch (opt) {
		case 'q':
			v.num = parse_number(optarg, "queue number", 65535);
			break;
		case 'n':
			count = parse_number(optarg, "count", 100000000);
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();

	/* No SA_RESTART: a signal must end the wait in recvfrom. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	v.nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!v.nl)
		die("netlink socket");
	if (mnl_socket_bind(v.nl, 0, MNL_SOCKET_AUTOPID) < 0)
		die("bind the netlink socket");
	/* A full socket buffer would drop packets, not report them. */
	mnl_socket_setsockopt(v.nl, NETLINK_NO_ENOBUFS, &one, sizeof(one));
	configure(v.nl, v.num);
	printf("ready\n");
	fflush(stdout);

	while (!stop && (!count || v.accepted < count)) {
		ssize_t n = mnl_socket_recvfrom(v.nl, buf, sizeof(buf));

		if (n < 0) {
			if (errno == EINTR || errno == ENOBUFS)
				continue;
			die("receive");
		}
		if (mnl_cb_run(buf, n, 0, 0, on_packet, &v) < 0)
			die("a queued packet");
	}
	printf("accepted %lu\n", v.accepted);
	mnl_socket_close(v.nl);
	return 0;
}
