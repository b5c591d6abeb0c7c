/* SPDX-License-Identifier: GPL-2.0 */
#ifndef L3DSRCTL_NETLINK_H
#define L3DSRCTL_NETLINK_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/genetlink.h>
#include <libmnl/libmnl.h>

/* Every request we build is a few attributes: this leaves ample room. */
#define NL_REQUEST_SIZE 512

/* How a request ended, with what the kernel said about it. */
struct nl_status {
	int error;		/* 0, or the errno of the failure */
	bool interrupted;	/* a dump raced with a change: retry it */
	char message[256];	/* the kernel's extended ACK message, or "" */
	const char *attribute;	/* the attribute it blamed, or NULL */
	const char *missing;	/* a required one it lacked, or NULL */
	bool has_offset;	/* the kernel pointed into our request: */
	uint32_t offset;	/* at this byte of it */
};

struct nft_backend;

struct l3dsr_nl {
	struct mnl_socket *sock;
	/* not NULL: the table is in nftables, and nft.c answers requests */
	struct nft_backend *nft;
	const char *cmd;	/* the subcommand, named in every message */
	unsigned int portid;
	unsigned int seq;
	uint16_t family_id;
	uint32_t version;	/* the module's L3DSR_GENL_VERSION, 0 if unsaid */
	uint32_t config_group;	/* 0 if the family has no such group */
	bool route;		/* an rtnetlink socket, not generic netlink */
};

/*
 * Open a generic netlink socket in the current network namespace and
 * resolve the l3dsr family, which loads the module when it can be loaded.
 * Prints the reason and returns -1 on failure.
 */
int nl_open(struct l3dsr_nl *nl, const char *cmd);
/*
 * The same, but only if the family is registered already: a module that is
 * not loaded stays so. Returns 1 with nl open, 0 when there is no l3dsr
 * family (nl open all the same), -1 after printing why it failed.
 */
int nl_find(struct l3dsr_nl *nl, const char *cmd);
void nl_close(struct l3dsr_nl *nl);
/*
 * An rtnetlink socket in the current namespace, for the VIPs' addresses;
 * nl_transact() and nl_report() work on it as on the l3dsr family's.
 */
int nl_open_route(struct l3dsr_nl *nl, const char *cmd);

/* Start an l3dsr request in buf (NL_REQUEST_SIZE bytes). */
struct nlmsghdr *nl_request(struct l3dsr_nl *nl, void *buf, uint8_t genl_cmd,
			    uint16_t flags);
/* The same in a buffer of size bytes, for requests carrying many mappings. */
struct nlmsghdr *nl_request_sized(struct l3dsr_nl *nl, void *buf, size_t size,
				  uint8_t genl_cmd, uint16_t flags);

/* An l3dsr attribute's name as the command line spells it, or NULL. */
const char *nl_attribute_name(unsigned int type);

/*
 * Send req and read until its ACK or, for a dump, its end. Every reply
 * carrying data is handed to cb. Returns 0, or -1 with st describing the
 * error. Warnings the kernel attaches to a successful ACK are printed.
 */
int nl_transact(struct l3dsr_nl *nl, struct nlmsghdr *req, mnl_cb_t cb,
		void *data, struct nl_status *st);

/*
 * What nl_transact does with each buffer it receives: hand the replies to
 * req in buf, len bytes, to cb and record the outcome in st (which the
 * caller clears first). Returns MNL_CB_STOP once the request is answered
 * (st->interrupted set if a dump raced with a change), MNL_CB_OK if more
 * is to come, MNL_CB_ERROR with st->error on failure. nl_transact is all
 * callers need; this is its receiving step alone, for testing.
 */
int nl_run_replies(struct l3dsr_nl *nl, const struct nlmsghdr *req,
		   mnl_cb_t cb, void *data, struct nl_status *st,
		   const void *buf, size_t len);

/* Print "l3dsrctl: COMMAND: <strerror>: <extack message> ..." for st. */
void nl_report(const struct l3dsr_nl *nl, const struct nl_status *st);

/* Join the "config" multicast group. Prints the reason on failure. */
int nl_join_config(struct l3dsr_nl *nl);

/*
 * Hand every l3dsr notification to cb until cb stops or the socket fails.
 * Returns 0 when cb stopped, -1 when receiving failed (printed here) or cb
 * returned MNL_CB_ERROR (cb says why).
 */
int nl_listen(struct l3dsr_nl *nl, mnl_cb_t cb, void *data);

/* The payload attributes of an l3dsr message, past its genl header. */
#define nl_for_each_attr(attr, nlh) \
	mnl_attr_for_each(attr, nlh, GENL_HDRLEN)

/* A u64 counter; accepts the 4-byte form too, as nla_put_uint may send it. */
bool nl_attr_get_counter(const struct nlattr *attr, uint64_t *value);

#endif
