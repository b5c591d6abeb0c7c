// SPDX-License-Identifier: GPL-2.0
/*
 * version: the tool's version beside the loaded module's, and what the
 * module lacks when it is older.
 */
#include <stdio.h>
#include <string.h>

#include "l3dsr.h"
#include "family.h"
#include "json.h"
#include "l3dsrctl.h"
#include "netlink.h"
#include "nft.h"

#ifndef L3DSR_VERSION
#define L3DSR_VERSION "0.1.0"
#endif

/* At most this many features are named. */
#define MISSING_MAX 32

/* What the module and the tool have as a phrase: "a, b and c". */
static void print_names(FILE *out, const char *const names[], size_t count)
{
	size_t i;

	for (i = 0; i < count; i++)
		fprintf(out, "%s%s", i == 0 ? "" : i + 1 < count ? ", " : " and ",
			names[i]);
}

struct module_state {
	const char *backend;	/* who holds the table, NULL: nobody yet */
	bool loaded;
	uint32_t version;	/* 0: the controller did not say */
	const char *release;	/* NULL: not readable; else in buf */
	char buf[64];
};

/* "the module is older ...", or nothing when the two go together. */
static void print_difference(const struct module_state *m)
{
	if (!m->loaded || !m->version)
		return;
	if (m->version < L3DSR_GENL_VERSION) {
		const char *missing[MISSING_MAX];
		size_t count = missing_features(m->version, missing,
						MISSING_MAX);

		printf("the module is older than " PROG_NAME
		       " (netlink family version %u, not %d): it lacks ",
		       m->version, L3DSR_GENL_VERSION);
		print_names(stdout, missing, count);
		printf("; load the newer module to have %s (see " PROG_NAME
		       "(8), UPGRADING)\n", count == 1 ? "it" : "them");
	} else if (m->version > L3DSR_GENL_VERSION) {
		printf("the module is newer than " PROG_NAME
		       ": what its version added cannot be used from this "
		       PROG_NAME "; install the " PROG_NAME
		       " of the module's release\n");
	} else if (m->release && strcmp(m->release, L3DSR_VERSION)) {
		printf("the module and " PROG_NAME
		       " are of different releases, of the same netlink family version\n");
	}
}

/* Who holds this namespace's table, last: the lines above keep their place. */
static void print_backend(const struct module_state *m)
{
	if (!m->backend)
		puts("backend: none yet (no table: the module if it loads, else nftables)");
	else if (!strcmp(m->backend, "nft"))
		puts("backend: nft (the table is in nftables: table inet "
		     NFT_TABLE_NAME ")");
	else
		puts("backend: module");
}

static void print_json(const struct module_state *m)
{
	const char *missing[MISSING_MAX];
	struct json json;
	size_t count = 0, i;

	json_init(&json, stdout);
	json_object_begin(&json);
	json_key(&json, "tool");
	json_object_begin(&json);
	json_member_string(&json, "release", L3DSR_VERSION);
	json_member_u64(&json, "family_version", L3DSR_GENL_VERSION);
	json_object_end(&json);
	json_key(&json, "module");
	json_object_begin(&json);
	json_member_bool(&json, "loaded", m->loaded);
	json_member_string(&json, "release", m->release);
	json_key(&json, "family_version");
	if (m->loaded && m->version)
		json_u64(&json, m->version);
	else
		json_null(&json);
	json_object_end(&json);
	/* Whether module and tool are of one release and one version. */
	json_key(&json, "same");
	if (!m->loaded || !m->version || !m->release)
		json_null(&json);
	else
		json_bool(&json, m->version == L3DSR_GENL_VERSION &&
			  !strcmp(m->release, L3DSR_VERSION));
	json_member_string(&json, "backend", m->backend);
	json_key(&json, "module_lacks");
	json_array_begin(&json);
	if (m->loaded)
		count = missing_features(m->version, missing, MISSING_MAX);
	for (i = 0; i < count; i++)
		json_string(&json, missing[i]);
	json_array_end(&json);
	json_object_end(&json);
	putchar('\n');
}

int cmd_version(const struct ctl *ctl, int argc, char *argv[])
{
	struct module_state m = { .loaded = false };
	enum backend backend;
	struct l3dsr_nl nl;
	int status, found;

	status = expect_no_arguments(ctl, argc, argv);
	if (status)
		return status;

	/* Looked up, never loaded; families are the same in every namespace. */
	found = nl_find(&nl, ctl->cmd->name);
	if (found < 0)
		return EXIT_FAILED;
	m.loaded = found;
	m.version = nl.version;
	nl_close(&nl);
	if (m.loaded)
		m.release = module_release(m.buf, sizeof(m.buf));
	/* The table, though, is the namespace's. */
	if (ctl->netns && netns_enter(ctl->netns) < 0)
		return EXIT_FAILED;
	found = backend_find(ctl, &nl, &backend);
	if (found < 0)
		return EXIT_FAILED;
	nl_close(&nl);
	if (found)
		m.backend = backend_name(backend);

	if (ctl->json) {
		print_json(&m);
		return EXIT_OK;
	}
	printf(PROG_NAME " %s, netlink family version %d\n", L3DSR_VERSION,
	       L3DSR_GENL_VERSION);
	if (!m.loaded) {
		puts("module not loaded");
		print_backend(&m);
		return EXIT_OK;
	}
	printf("module %s, netlink family version ",
	       m.release ? m.release : "(release unknown)");
	if (m.version)
		printf("%u\n", m.version);
	else
		puts("unknown");
	print_difference(&m);
	print_backend(&m);
	return EXIT_OK;
}
