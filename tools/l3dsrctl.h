/* SPDX-License-Identifier: GPL-2.0 */
#ifndef L3DSRCTL_H
#define L3DSRCTL_H

#include <stdbool.h>

#include "netlink.h"
#include "words.h"

#define PROG_NAME "l3dsrctl"

/* Exit statuses: 0 success, 1 the request failed, 2 the command line is bad. */
#define EXIT_OK		0
#define EXIT_FAILED	1
#define EXIT_USAGE	2

struct ctl;

/* Who keeps the table: the module, nftables, or the first that can. */
enum backend { BACKEND_AUTO, BACKEND_MODULE, BACKEND_NFT };

struct subcommand {
	const char *name;
	int (*handler)(const struct ctl *ctl, int argc, char *argv[]);
	const char *args;	/* its arguments, as the usage line shows */
	const char *summary;
};

/* What the global options asked for, and the subcommand being run. */
struct ctl {
	const struct subcommand *cmd;
	int family;		/* AF_UNSPEC, or AF_INET(6) from -4/-6 */
	bool json;
	const char *netns;	/* NULL: the caller's own namespace */
	enum backend backend;	/* as --backend said; auto by default */
};

/* Print "l3dsrctl: COMMAND: message" and the command's one-line usage. */
int usage_error(const struct ctl *ctl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Print "l3dsrctl: COMMAND: message" and return EXIT_FAILED. */
int fail(const struct ctl *ctl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Reject any argument for a command that takes none. */
int expect_no_arguments(const struct ctl *ctl, int argc, char *argv[]);

/*
 * Enter the namespace given with -n and open the l3dsr family there.
 * Returns EXIT_OK, or an exit status after printing why it failed.
 */
int ctl_open(const struct ctl *ctl, struct l3dsr_nl *nl);

int netns_enter(const char *name);

const char *backend_name(enum backend backend);
/* "module", "nft" or "auto"; -1 for any other word. */
int backend_parse(const char *word, enum backend *backend);
/*
 * Open nl on the backend ctl asks for, in the current namespace: for auto,
 * a table already in nftables, else the module if it is loaded or loads,
 * else nftables, announced once on standard error. *chosen says which.
 * Returns EXIT_OK, or an exit status after printing why it failed.
 */
int backend_open(const struct ctl *ctl, struct l3dsr_nl *nl,
		 enum backend *chosen);
/*
 * The same for apply: with auto, the module whenever it can be had, even
 * when the table is in nftables; then *leftover is that table's handle,
 * to be read and deleted once the module holds the table (NULL if none).
 */
struct nft_backend;
int backend_open_for(const struct ctl *ctl, struct l3dsr_nl *nl,
		     enum backend *chosen, struct nft_backend **leftover);
/*
 * Open nl on the backend that holds the table, loading nothing: 1 with nl
 * open, 0 when there is no table (nl closed), -1 after printing why.
 */
int backend_find(const struct ctl *ctl, struct l3dsr_nl *nl,
		 enum backend *chosen);

int cmd_add_mapping(const struct ctl *ctl, int argc, char *argv[]);
int cmd_replace_mapping(const struct ctl *ctl, int argc, char *argv[]);
int cmd_del_mapping(const struct ctl *ctl, int argc, char *argv[]);
int cmd_show(const struct ctl *ctl, int argc, char *argv[]);
int cmd_flush(const struct ctl *ctl, int argc, char *argv[]);
int cmd_stats(const struct ctl *ctl, int argc, char *argv[]);
int cmd_monitor(const struct ctl *ctl, int argc, char *argv[]);
int cmd_set_mapping(const struct ctl *ctl, int argc, char *argv[]);
int cmd_apply(const struct ctl *ctl, int argc, char *argv[]);
int cmd_save(const struct ctl *ctl, int argc, char *argv[]);
int cmd_import_iptables(const struct ctl *ctl, int argc, char *argv[]);
int cmd_import_dsrtools(const struct ctl *ctl, int argc, char *argv[]);
int cmd_check(const struct ctl *ctl, int argc, char *argv[]);
int cmd_version(const struct ctl *ctl, int argc, char *argv[]);

#endif
