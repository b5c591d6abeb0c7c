/* SPDX-License-Identifier: GPL-2.0 */
#ifndef L3DSRCTL_NFT_H
#define L3DSRCTL_NFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/netlink.h>
#include <libmnl/libmnl.h>

#include "l3dsr.h"
#include "mapping.h"

struct l3dsr_nl;
struct nl_status;

/*
 * The nftables backend: where the module cannot be loaded, the table lives
 * in an nftables table of l3dsr's own, "table inet l3dsr", marked by its
 * comment. It answers the requests of the l3dsr netlink family (see
 * kmod/uapi/l3dsr.h) as the module would, so that every command works the
 * same on both: nl_transact() hands them here when nl->nft is set.
 */
#define NFT_TABLE_NAME		"l3dsr"
#define NFT_TABLE_MARKER	"l3dsr: made by l3dsrctl, changed only by it"

/* What "table inet l3dsr" is in the current namespace. */
enum nft_table_state {
	NFT_TABLE_ABSENT,
	NFT_TABLE_OURS,
	NFT_TABLE_FOREIGN,	/* a table of that name without our marker */
};

/* One DSCP's slot per family, as the table holds them. */
struct nft_table {
	bool exists;
	struct mapping slot[2][L3DSR_DSCP_MAX + 1];
	bool present[2][L3DSR_DSCP_MAX + 1];
	/* the rules' counters: packets rewritten, left alone as not local */
	uint64_t rewritten;
	uint64_t not_local;
};

struct nft_backend;

/*
 * A libnftables context with its output and errors captured; NULL (said
 * why) on failure.
 */
struct nft_backend *nft_open(const char *cmd);
void nft_close(struct nft_backend *nft);

/* Whether the table is there and ours; -1 (said unless quiet) if unknown. */
int nft_table_state(struct nft_backend *nft, enum nft_table_state *state,
		    bool quiet);

/*
 * Read the table into t (t->exists false if it is absent); -1 on failure,
 * said in st.
 */
int nft_table_read(struct nft_backend *nft, struct nft_table *t,
		   struct nl_status *st);

/*
 * The text of the one nftables transaction that turns table from into to
 * (elements deleted, added, moved; the table made if from has none),
 * carrying every kept mapping's counters. Returns a malloc'ed string, or
 * NULL when out of memory. Exposed for the unit tests.
 */
char *nft_transaction(const struct nft_table *from, const struct nft_table *to);

/* Run text as one transaction; -1 with st->error and st->message set. */
int nft_run(struct nft_backend *nft, const char *text, struct nl_status *st);

/* Delete the table, in one transaction; 0 if it is already gone. */
int nft_table_delete(struct nft_backend *nft, struct nl_status *st);

/*
 * Answer req, an l3dsr netlink request, from the nftables table: replies
 * go to cb as the module's would. Returns 0, or -1 with st describing the
 * error as the module would have.
 */
int nft_transact(struct l3dsr_nl *nl, const struct nlmsghdr *req,
		 mnl_cb_t cb, void *data, struct nl_status *st);

/*
 * Parse the JSON listing of the table (nft -j list table inet l3dsr) into
 * t. Returns 0, or -1 with a reason in why. Exposed for the unit tests.
 */
int nft_parse_listing(const char *json, struct nft_table *t, char *why,
		      size_t len);

/* The chain a mapping's DSCP is sent to; exposed for the unit tests. */
const char *nft_chain_of(const struct mapping *m);

#endif
