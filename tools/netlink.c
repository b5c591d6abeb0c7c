// SPDX-License-Identifier: GPL-2.0
/*
 * Generic netlink plumbing on libmnl: family resolution, request/ACK with
 * extended ACKs, dumps, and the multicast group for monitor.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#include "l3dsr.h"
#include "l3dsrctl.h"
#include "kmodule.h"
#include "netlink.h"
#include "nft.h"

/*
 * The kernel fills dump messages up to the size of the reader's last
 * receive, up to 32 KiB; a smaller buffer would truncate them.
 */
#define NL_RECEIVE_SIZE 32768

struct transaction {
	struct l3dsr_nl *nl;
	const struct nlmsghdr *req;
	struct nl_status *st;
	mnl_cb_t cb;
	void *data;
};

/* Attribute names as the command line spells them, for error messages. */
static const char *const attribute_names[L3DSR_A_MAX + 1] = {
	[L3DSR_A_FAMILY] = "family",
	[L3DSR_A_DSCP] = "dscp",
	[L3DSR_A_VIP] = "vip",
	[L3DSR_A_RIP] = "rip",
	[L3DSR_A_IFINDEX] = "dev",
	[L3DSR_A_FLAGS] = "flags",
	[L3DSR_A_PACKETS] = "packets",
	[L3DSR_A_BYTES] = "bytes",
	[L3DSR_A_STATS] = "stats",
	[L3DSR_A_REQUEST_FLAGS] = "request flags",
	[L3DSR_A_FLAGS_MASK] = "flags mask",
	[L3DSR_A_MAPPINGS] = "mappings",
	[L3DSR_A_MAPPING] = "mapping",
};

const char *nl_attribute_name(unsigned int type)
{
	return type > L3DSR_A_MAX ? NULL : attribute_names[type];
}

static const char *attribute_name(const struct transaction *t,
				  unsigned int type)
{
	/* Only our own family's attribute numbers mean anything here. */
	if (t->req->nlmsg_type != t->nl->family_id || type > L3DSR_A_MAX)
		return NULL;
	return attribute_names[type];
}

/* The attribute of our request that starts offset bytes into it. */
static const char *attribute_at(const struct transaction *t, uint32_t offset)
{
	const struct nlattr *attr;

	nl_for_each_attr(attr, t->req) {
		if ((uint32_t)((const char *)attr - (const char *)t->req) ==
		    offset)
			return attribute_name(t, mnl_attr_get_type(attr));
	}
	return NULL;
}

static void parse_extack(const struct nlmsghdr *nlh, size_t offset,
			 struct transaction *t)
{
	const struct nlattr *attr;
	struct nl_status *st = t->st;

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS) ||
	    offset > mnl_nlmsg_get_payload_len(nlh))
		return;

	mnl_attr_for_each(attr, nlh, offset) {
		switch (mnl_attr_get_type(attr)) {
		case NLMSGERR_ATTR_MSG:
			if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) < 0)
				break;
			snprintf(st->message, sizeof(st->message), "%s",
				 mnl_attr_get_str(attr));
			break;
		case NLMSGERR_ATTR_OFFS:
			if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
				break;
			st->offset = mnl_attr_get_u32(attr);
			st->has_offset = true;
			st->attribute = attribute_at(t, st->offset);
			break;
		case NLMSGERR_ATTR_MISS_TYPE:
			if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
				break;
			st->missing = attribute_name(t, mnl_attr_get_u32(attr));
			break;
		}
	}
}

static int on_error(const struct nlmsghdr *nlh, struct transaction *t)
{
	const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);
	size_t tlv_offset;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*err)) {
		t->st->error = EBADMSG;
		return MNL_CB_ERROR;
	}

	/* The ACK echoes our request unless NETLINK_CAP_ACK took effect. */
	if (nlh->nlmsg_flags & NLM_F_CAPPED)
		tlv_offset = sizeof(*err);
	else
		tlv_offset = sizeof(err->error) +
			     NLMSG_ALIGN(err->msg.nlmsg_len);
	parse_extack(nlh, tlv_offset, t);

	if (err->error) {
		t->st->error = err->error < 0 ? -err->error : err->error;
		return MNL_CB_ERROR;
	}
	if (t->st->message[0])
		fprintf(stderr, PROG_NAME ": %s: warning: %s\n", t->nl->cmd,
			t->st->message);
	return MNL_CB_STOP;
}

static int on_done(const struct nlmsghdr *nlh, struct transaction *t)
{
	int error;

	/* A table that changed after the last mapping sent says so here. */
	if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
		t->st->interrupted = true;
	/* A dump that fails part-way reports it in its closing message. */
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(error))
		return MNL_CB_STOP;
	memcpy(&error, mnl_nlmsg_get_payload(nlh), sizeof(error));
	if (error >= 0)
		return MNL_CB_STOP;
	parse_extack(nlh, sizeof(error), t);
	t->st->error = -error;
	return MNL_CB_ERROR;
}

static int on_data(const struct nlmsghdr *nlh, struct transaction *t)
{
	int ret;

	if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
		t->st->interrupted = true;
	if (!t->cb)
		return MNL_CB_OK;
	errno = 0;
	ret = t->cb(nlh, t->data);
	if (ret == MNL_CB_ERROR)
		t->st->error = errno ? errno : EBADMSG;
	return ret;
}

/*
 * Like mnl_cb_run(), but messages left over from an abandoned earlier
 * request are skipped rather than fatal, and an interrupted dump is read
 * to its end so that the socket stays usable for a retry, wherever the
 * kernel put NLM_F_DUMP_INTR: on a mapping or on NLMSG_DONE.
 */
static int run_batch(struct transaction *t, const void *buf, size_t len)
{
	const struct nlmsghdr *nlh = buf;
	int remaining = len;
	int ret = MNL_CB_OK;

	for (; mnl_nlmsg_ok(nlh, remaining);
	     nlh = mnl_nlmsg_next(nlh, &remaining)) {
		if (nlh->nlmsg_seq != t->req->nlmsg_seq ||
		    nlh->nlmsg_pid != t->nl->portid)
			continue;

		switch (nlh->nlmsg_type) {
		case NLMSG_ERROR:
			ret = on_error(nlh, t);
			break;
		case NLMSG_DONE:
			ret = on_done(nlh, t);
			break;
		case NLMSG_NOOP:
		case NLMSG_OVERRUN:
			continue;
		default:
			/* rtnetlink answers RTM_GETADDR with RTM_NEWADDR */
			if (nlh->nlmsg_type != t->req->nlmsg_type &&
			    !t->nl->route)
				continue;
			ret = on_data(nlh, t);
		}
		if (ret <= MNL_CB_STOP)
			return ret;
	}
	return ret;
}

int nl_run_replies(struct l3dsr_nl *nl, const struct nlmsghdr *req,
		   mnl_cb_t cb, void *data, struct nl_status *st,
		   const void *buf, size_t len)
{
	struct transaction t = {
		.nl = nl, .req = req, .st = st, .cb = cb, .data = data,
	};

	return run_batch(&t, buf, len);
}

int nl_transact(struct l3dsr_nl *nl, struct nlmsghdr *req, mnl_cb_t cb,
		void *data, struct nl_status *st)
{
	static char buf[NL_RECEIVE_SIZE] __attribute__((aligned(8)));
	struct transaction t = {
		.nl = nl, .req = req, .st = st, .cb = cb, .data = data,
	};
	int ret = MNL_CB_OK;

	memset(st, 0, sizeof(*st));
	req->nlmsg_seq = ++nl->seq;
	if (nl->nft)
		return nft_transact(nl, req, cb, data, st);
	if (mnl_socket_sendto(nl->sock, req, req->nlmsg_len) < 0) {
		st->error = errno;
		return -1;
	}

	do {
		ssize_t len = mnl_socket_recvfrom(nl->sock, buf, sizeof(buf));

		if (len < 0) {
			if (errno == EINTR)
				continue;
			st->error = errno;
			return -1;
		}
		ret = run_batch(&t, buf, len);
	} while (ret > MNL_CB_STOP);

	if (ret == MNL_CB_ERROR)
		return -1;
	if (st->interrupted) {
		st->error = EAGAIN;
		return -1;
	}
	return 0;
}

void nl_report(const struct l3dsr_nl *nl, const struct nl_status *st)
{
	if (st->interrupted && st->error == EAGAIN) {
		fprintf(stderr, PROG_NAME
			": %s: the mappings kept changing while being read; try again\n",
			nl->cmd);
		return;
	}
	if (st->error == EBADMSG) {
		/* Only the replies we parse produce it: blame them, not us. */
		fprintf(stderr, PROG_NAME
			": %s: malformed reply from the kernel\n", nl->cmd);
		return;
	}
	fprintf(stderr, PROG_NAME ": %s: %s", nl->cmd, strerror(st->error));
	if (st->error == EPERM)
		fputs(" (needs CAP_NET_ADMIN)", stderr);
	if (st->message[0])
		fprintf(stderr, ": %s", st->message);
	if (st->attribute)
		fprintf(stderr, " (attribute %s)", st->attribute);
	if (st->missing)
		fprintf(stderr, " (missing attribute %s)", st->missing);
	/* What the tool checks before sending cannot cover everything. */
	if ((st->error == EINVAL || st->error == EOPNOTSUPP) && nl->version &&
	    nl->version < L3DSR_GENL_VERSION)
		fprintf(stderr,
			"; the loaded l3dsr module is older than " PROG_NAME
			" (netlink family version %u, not %d): see " PROG_NAME
			" version",
			nl->version, L3DSR_GENL_VERSION);
	fputc('\n', stderr);
}

static struct nlmsghdr *put_genl_header(void *buf, uint16_t type,
					uint8_t cmd, uint8_t version,
					uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct genlmsghdr *genl;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	genl = mnl_nlmsg_put_extra_header(nlh, sizeof(*genl));
	genl->cmd = cmd;
	genl->version = version;
	return nlh;
}

struct nlmsghdr *nl_request_sized(struct l3dsr_nl *nl, void *buf, size_t size,
				  uint8_t genl_cmd, uint16_t flags)
{
	memset(buf, 0, size);
	return put_genl_header(buf, nl->family_id, genl_cmd,
			       L3DSR_GENL_VERSION, flags);
}

struct nlmsghdr *nl_request(struct l3dsr_nl *nl, void *buf, uint8_t genl_cmd,
			    uint16_t flags)
{
	return nl_request_sized(nl, buf, NL_REQUEST_SIZE, genl_cmd, flags);
}

static void parse_group(const struct nlattr *group, struct l3dsr_nl *nl)
{
	const struct nlattr *attr;
	const char *name = NULL;
	uint32_t id = 0;

	mnl_attr_for_each_nested(attr, group) {
		switch (mnl_attr_get_type(attr)) {
		case CTRL_ATTR_MCAST_GRP_NAME:
			if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
				name = mnl_attr_get_str(attr);
			break;
		case CTRL_ATTR_MCAST_GRP_ID:
			if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
				id = mnl_attr_get_u32(attr);
			break;
		}
	}
	if (name && !strcmp(name, L3DSR_MCGRP_CONFIG))
		nl->config_group = id;
}

/*
 * The controller's description of a family: ours is taken, any other (a
 * dump lists them all) is passed over.
 */
static int on_family(const struct nlmsghdr *nlh, void *data)
{
	struct l3dsr_nl *nl = data;
	const struct nlattr *attr, *group;

	nl_for_each_attr(attr, nlh) {
		if (mnl_attr_get_type(attr) == CTRL_ATTR_FAMILY_NAME &&
		    (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) < 0 ||
		     strcmp(mnl_attr_get_str(attr), L3DSR_GENL_NAME)))
			return MNL_CB_OK;
	}
	nl_for_each_attr(attr, nlh) {
		switch (mnl_attr_get_type(attr)) {
		case CTRL_ATTR_FAMILY_ID:
			if (mnl_attr_validate(attr, MNL_TYPE_U16) == 0)
				nl->family_id = mnl_attr_get_u16(attr);
			break;
		case CTRL_ATTR_VERSION:
			if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
				nl->version = mnl_attr_get_u32(attr);
			break;
		case CTRL_ATTR_MCAST_GROUPS:
			mnl_attr_for_each_nested(group, attr)
				parse_group(group, nl);
			break;
		}
	}
	return MNL_CB_OK;
}

/*
 * The controller already asked for the module (by its alias) and was
 * refused, or its modprobe was not there. Run modprobe once, to learn why;
 * if that loads it, carry on.
 */
static bool load_or_explain(void)
{
	struct kmodule km;
	char why[640] = "";

	kmodule_inspect(&km);
	if (kmodule_modprobe(&km, why, sizeof(why)) == 0)
		return true;
	if (!why[0])
		kmodule_why_absent(&km, why, sizeof(why));
	fprintf(stderr, PROG_NAME ": the l3dsr kernel module is not loaded: %s\n",
		why);
	return false;
}

static int resolve_family(struct l3dsr_nl *nl)
{
	char buf[NL_REQUEST_SIZE] __attribute__((aligned(8))) = { 0 };
	struct nlmsghdr *nlh;
	struct nl_status st;
	int tries = 0;

	nlh = put_genl_header(buf, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1,
			      NLM_F_ACK);
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, L3DSR_GENL_NAME);

	while (nl_transact(nl, nlh, on_family, nl, &st) < 0) {
		if (st.error == ENOENT && !tries++ && load_or_explain())
			continue;
		if (st.error == ENOENT && tries > 1)
			fputs(PROG_NAME ": the l3dsr module is loaded but its netlink family is not there\n",
			      stderr);
		else if (st.error != ENOENT)
			fprintf(stderr, PROG_NAME
				": %s: cannot look up the l3dsr netlink family: %s\n",
				nl->cmd, strerror(st.error));
		return -1;
	}
	if (!nl->family_id) {
		fprintf(stderr, PROG_NAME
			": %s: the kernel answered without a family id\n",
			nl->cmd);
		return -1;
	}
	return 0;
}

static int open_socket(struct l3dsr_nl *nl, const char *cmd, int bus)
{
	int on = 1;

	memset(nl, 0, sizeof(*nl));
	nl->cmd = cmd;
	nl->route = bus == NETLINK_ROUTE;
	nl->sock = mnl_socket_open(bus);
	if (!nl->sock) {
		fprintf(stderr, PROG_NAME ": %s: cannot open a netlink socket: %s\n",
			cmd, strerror(errno));
		return -1;
	}

	/*
	 * Without extended ACKs (kernels before 4.12) errors still arrive,
	 * only without the kernel's explanation, so failure is not fatal.
	 */
	mnl_socket_setsockopt(nl->sock, NETLINK_EXT_ACK, &on, sizeof(on));
	mnl_socket_setsockopt(nl->sock, NETLINK_CAP_ACK, &on, sizeof(on));

	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		fprintf(stderr, PROG_NAME ": %s: cannot bind a netlink socket: %s\n",
			cmd, strerror(errno));
		nl_close(nl);
		return -1;
	}
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->seq = time(NULL);
	return 0;
}

int nl_open_route(struct l3dsr_nl *nl, const char *cmd)
{
	return open_socket(nl, cmd, NETLINK_ROUTE);
}

int nl_open(struct l3dsr_nl *nl, const char *cmd)
{
	if (open_socket(nl, cmd, NETLINK_GENERIC) < 0)
		return -1;
	if (resolve_family(nl) < 0) {
		nl_close(nl);
		return -1;
	}
	return 0;
}

int nl_find(struct l3dsr_nl *nl, const char *cmd)
{
	char buf[NL_REQUEST_SIZE] __attribute__((aligned(8))) = { 0 };
	struct nlmsghdr *nlh;
	struct nl_status st;

	if (open_socket(nl, cmd, NETLINK_GENERIC) < 0)
		return -1;
	/* A dump of every family, unlike a lookup by name, loads nothing. */
	nlh = put_genl_header(buf, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1,
			      NLM_F_DUMP);
	if (nl_transact(nl, nlh, on_family, nl, &st) < 0) {
		fprintf(stderr, PROG_NAME
			": %s: cannot list the netlink families: %s\n",
			cmd, strerror(st.error));
		nl_close(nl);
		return -1;
	}
	return nl->family_id ? 1 : 0;
}

void nl_close(struct l3dsr_nl *nl)
{
	if (nl->sock)
		mnl_socket_close(nl->sock);
	nl->sock = NULL;
	nft_close(nl->nft);
	nl->nft = NULL;
}

int nl_join_config(struct l3dsr_nl *nl)
{
	if (!nl->config_group) {
		fprintf(stderr, PROG_NAME
			": %s: the l3dsr module offers no \"%s\" group\n",
			nl->cmd, L3DSR_MCGRP_CONFIG);
		return -1;
	}
	if (mnl_socket_setsockopt(nl->sock, NETLINK_ADD_MEMBERSHIP,
				  &nl->config_group,
				  sizeof(nl->config_group)) < 0) {
		int saved_errno = errno;

		fprintf(stderr, PROG_NAME ": %s: cannot join the \"%s\" group: %s%s\n",
			nl->cmd, L3DSR_MCGRP_CONFIG, strerror(saved_errno),
			saved_errno == EPERM ?
			" (this module lets only CAP_NET_ADMIN join it)" : "");
		return -1;
	}
	return 0;
}

int nl_listen(struct l3dsr_nl *nl, mnl_cb_t cb, void *data)
{
	static char buf[NL_RECEIVE_SIZE] __attribute__((aligned(8)));
	const struct nlmsghdr *nlh;
	int remaining, ret;

	for (;;) {
		ssize_t len = mnl_socket_recvfrom(nl->sock, buf, sizeof(buf));

		if (len < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) {
				/* The kernel dropped what we were slow for. */
				fprintf(stderr, PROG_NAME
					": %s: events were lost (receive buffer overrun)\n",
					nl->cmd);
				continue;
			}
			fprintf(stderr, PROG_NAME ": %s: receive failed: %s\n",
				nl->cmd, strerror(errno));
			return -1;
		}

		remaining = len;
		for (nlh = (const struct nlmsghdr *)buf;
		     mnl_nlmsg_ok(nlh, remaining);
		     nlh = mnl_nlmsg_next(nlh, &remaining)) {
			if (nlh->nlmsg_type != nl->family_id)
				continue;
			ret = cb(nlh, data);
			if (ret == MNL_CB_ERROR)
				return -1;
			if (ret == MNL_CB_STOP)
				return 0;
		}
	}
}

bool nl_attr_get_counter(const struct nlattr *attr, uint64_t *value)
{
	switch (mnl_attr_get_payload_len(attr)) {
	case sizeof(uint64_t):
		*value = mnl_attr_get_u64(attr);
		return true;
	case sizeof(uint32_t):
		*value = mnl_attr_get_u32(attr);
		return true;
	}
	return false;
}
