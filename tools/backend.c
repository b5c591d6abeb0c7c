// SPDX-License-Identifier: GPL-2.0
/*
 * backend: which of the two keeps a namespace's table, the module or
 * nftables, decided once per command. --backend module|nft|auto; auto (the
 * default) takes the module when it is loaded or can be loaded, else
 * nftables, and says so on standard error with the reason when it makes
 * the table there (the commands after it say nothing more). A table
 * already in nftables stays there for every command but apply, which moves
 * it into the module when the module can be had (apply.c): otherwise two
 * tables would be rewriting side by side.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/syscall.h>

#include "kmodule.h"
#include "l3dsrctl.h"
#include "nft.h"

static const char *const backend_names[] = {
	[BACKEND_AUTO] = "auto",
	[BACKEND_MODULE] = "module",
	[BACKEND_NFT] = "nft",
};

const char *backend_name(enum backend backend)
{
	return backend_names[backend];
}

int backend_parse(const char *word, enum backend *backend)
{
	size_t i;

	for (i = 0; i < sizeof(backend_names) / sizeof(backend_names[0]); i++)
		if (!strcmp(word, backend_names[i])) {
			*backend = i;
			return 0;
		}
	return -1;
}

/*
 * Whether this process may read nftables at all. Without CAP_NET_ADMIN
 * libnftables refuses, printing its own line to stderr; the module's table
 * is open to every user, so auto then asks the module alone.
 */
static bool may_read_nftables(void)
{
	struct __user_cap_header_struct header = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = { 0 };

	if (syscall(SYS_capget, &header, data))
		return true;
	return data[CAP_NET_ADMIN / 32].effective & (1U << (CAP_NET_ADMIN % 32));
}

/* The nftables side of nl: the l3dsr family answered from the table. */
static int open_nft(const struct ctl *ctl, struct l3dsr_nl *nl,
		    struct nft_backend *nft, enum nft_table_state state)
{
	if (state == NFT_TABLE_FOREIGN) {
		fprintf(stderr, PROG_NAME
			": %s: nftables has a table inet " NFT_TABLE_NAME
			" that l3dsr did not make (its comment is not l3dsr's): refusing to touch it\n",
			ctl->cmd->name);
		nft_close(nft);
		return EXIT_FAILED;
	}
	memset(nl, 0, sizeof(*nl));
	nl->cmd = ctl->cmd->name;
	nl->nft = nft;
	nl->version = L3DSR_GENL_VERSION;
	return EXIT_OK;
}

/* "using nftables", once per run, with why. */
static void announce(const struct ctl *ctl, const char *why)
{
	static bool said;

	if (said)
		return;
	said = true;
	fprintf(stderr, PROG_NAME ": %s: using nftables (table inet "
		NFT_TABLE_NAME "): %s\n", ctl->cmd->name, why);
}

int backend_find(const struct ctl *ctl, struct l3dsr_nl *nl,
		 enum backend *chosen)
{
	enum nft_table_state state = NFT_TABLE_ABSENT;
	int found;

	*chosen = BACKEND_MODULE;
	if (ctl->backend != BACKEND_MODULE) {
		struct nft_backend *nft = nft_open(ctl->cmd->name);

		if (!nft)
			return -1;
		if (nft_table_state(nft, &state,
				    ctl->backend == BACKEND_AUTO) < 0 &&
		    ctl->backend == BACKEND_NFT) {
			nft_close(nft);
			return -1;
		}
		if (state == NFT_TABLE_OURS ||
		    (state == NFT_TABLE_FOREIGN && ctl->backend == BACKEND_NFT)) {
			*chosen = BACKEND_NFT;
			return open_nft(ctl, nl, nft, state) ? -1 : 1;
		}
		nft_close(nft);
		if (ctl->backend == BACKEND_NFT) {
			*chosen = BACKEND_NFT;
			memset(nl, 0, sizeof(*nl));
			return 0;
		}
	}
	found = nl_find(nl, ctl->cmd->name);
	if (found == 0)
		nl_close(nl);
	return found;
}

int backend_open(const struct ctl *ctl, struct l3dsr_nl *nl,
		 enum backend *chosen)
{
	return backend_open_for(ctl, nl, chosen, NULL);
}

int backend_open_for(const struct ctl *ctl, struct l3dsr_nl *nl,
		     enum backend *chosen, struct nft_backend **leftover)
{
	enum nft_table_state state = NFT_TABLE_ABSENT;
	struct nft_backend *nft;
	char why[640];
	struct kmodule km;
	int found;

	if (leftover)
		*leftover = NULL;

	nft = nft_open(ctl->cmd->name);
	if (!nft)
		return EXIT_FAILED;
	if (ctl->backend == BACKEND_MODULE) {
		*chosen = BACKEND_MODULE;
		if (leftover && nft_table_state(nft, &state, true) == 0 &&
		    state == NFT_TABLE_OURS)
			*leftover = nft;
		else
			nft_close(nft);
		if (nl_open(nl, ctl->cmd->name) < 0) {
			if (leftover && *leftover) {
				nft_close(*leftover);
				*leftover = NULL;
			}
			return EXIT_FAILED;
		}
		return EXIT_OK;
	}
	if (ctl->backend == BACKEND_NFT) {
		*chosen = BACKEND_NFT;
		if (nft_table_state(nft, &state, false) < 0) {
			nft_close(nft);
			return EXIT_FAILED;
		}
		return open_nft(ctl, nl, nft, state);
	}

	found = nl_find(nl, ctl->cmd->name);
	if (found < 0) {
		nft_close(nft);
		return EXIT_FAILED;
	}
	nl_close(nl);
	/*
	 * auto: a table in nftables stays there until apply moves it; said
	 * only when the module is loaded beside it, which apply would use.
	 */
	if (may_read_nftables() && nft_table_state(nft, &state, true) == 0 &&
	    state == NFT_TABLE_OURS && !leftover) {
		*chosen = BACKEND_NFT;
		if (found)
			announce(ctl, "the table is there, though the module is loaded: apply moves it into the module");
		return open_nft(ctl, nl, nft, state);
	}
	kmodule_inspect(&km);
	why[0] = '\0';
	if (found || kmodule_modprobe(&km, why, sizeof(why)) == 0) {
		if (leftover && state == NFT_TABLE_OURS)
			*leftover = nft;
		else
			nft_close(nft);
		*chosen = BACKEND_MODULE;
		return nl_open(nl, ctl->cmd->name) < 0 ? EXIT_FAILED : EXIT_OK;
	}
	if (!why[0])
		kmodule_why_absent(&km, why, sizeof(why));
	*chosen = BACKEND_NFT;
	if (state == NFT_TABLE_ABSENT) {
		char said[700];

		snprintf(said, sizeof(said), "the l3dsr module cannot be loaded: %s",
			 why);
		announce(ctl, said);
	}
	return open_nft(ctl, nl, nft, state);
}
