// SPDX-License-Identifier: GPL-2.0
/* stats: the namespace's packet counters. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "l3dsr.h"
#include "json.h"
#include "l3dsrctl.h"
#include "netlink.h"
#include "stats.h"

static int on_stats(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *attr, *counter;
	struct stats *stats = data;
	unsigned int type;

	nl_for_each_attr(attr, nlh) {
		if (mnl_attr_get_type(attr) != L3DSR_A_STATS)
			continue;
		if (mnl_attr_validate(attr, MNL_TYPE_NESTED) < 0)
			goto malformed;
		mnl_attr_for_each_nested(counter, attr) {
			type = mnl_attr_get_type(counter);
			/* Counters of a newer module are not ours to name. */
			if (type > L3DSR_STAT_MAX || !stat_names[type])
				continue;
			if (!nl_attr_get_counter(counter, &stats->values[type]))
				goto malformed;
			stats->present[type] = true;
		}
		stats->received = true;
	}
	return MNL_CB_OK;

malformed:
	errno = EBADMSG;
	return MNL_CB_ERROR;
}

/* Counters of ours the module did not send: it is older than the tool. */
static void note_absent(const struct ctl *ctl, const struct l3dsr_nl *nl,
			const struct stats *stats)
{
	unsigned int i, count = 0;

	for (i = 0; i <= L3DSR_STAT_MAX; i++) {
		if (!stat_names[i] || stats->present[i])
			continue;
		if (!count++ && nl->nft)
			fprintf(stderr, PROG_NAME
				": %s: the nftables backend cannot count ",
				ctl->cmd->name);
		else if (count == 1)
			fprintf(stderr, PROG_NAME
				": %s: the loaded module (netlink family version %u) does not count ",
				ctl->cmd->name, nl->version);
		else
			fputs(", ", stderr);
		fputs(stat_names[i], stderr);
	}
	if (count)
		fputs(" (shown as -)\n", stderr);
}

static void print_stats(const struct ctl *ctl, const struct stats *stats)
{
	struct json json;
	unsigned int i;

	if (!ctl->json) {
		for (i = 0; i <= L3DSR_STAT_MAX; i++) {
			if (!stat_names[i])
				continue;
			if (stats->present[i])
				printf("%s %" PRIu64 "\n", stat_names[i],
				       stats->values[i]);
			else
				printf("%s -\n", stat_names[i]);
		}
		return;
	}

	/* Every key is written, null if the module does not count it. */
	json_init(&json, stdout);
	json_object_begin(&json);
	for (i = 0; i <= L3DSR_STAT_MAX; i++) {
		if (!stat_names[i])
			continue;
		json_key(&json, stat_names[i]);
		if (stats->present[i])
			json_u64(&json, stats->values[i]);
		else
			json_null(&json);
	}
	json_object_end(&json);
	putchar('\n');
}

int cmd_stats(const struct ctl *ctl, int argc, char *argv[])
{
	char buf[NL_REQUEST_SIZE] __attribute__((aligned(8)));
	struct mapping_list list = { .family = AF_UNSPEC };
	struct stats stats = { .received = false };
	bool prometheus = false;
	struct nl_status st;
	struct l3dsr_nl nl;
	struct nlmsghdr *nlh;
	int status;

	if (argc > 0 && !strcmp(argv[0], "--prometheus")) {
		prometheus = true;
		argc--;
		argv++;
	}
	status = expect_no_arguments(ctl, argc, argv);
	if (status)
		return status;
	if (ctl->family != AF_UNSPEC)
		return usage_error(ctl,
				   "-4 and -6 do not apply: the counters cover both families");
	if (prometheus && ctl->json)
		return usage_error(ctl, "-j and --prometheus exclude each other");
	status = ctl_open(ctl, &nl);
	if (status)
		return status;

	nlh = nl_request(&nl, buf, L3DSR_CMD_GET_STATS, NLM_F_ACK);
	if (nl_transact(&nl, nlh, on_stats, &stats, &st) < 0) {
		nl_report(&nl, &st);
		status = EXIT_FAILED;
	} else if (!stats.received) {
		status = fail(ctl, "the kernel answered without counters");
	} else if (!prometheus) {
		print_stats(ctl, &stats);
		if (!ctl->json)
			note_absent(ctl, &nl, &stats);
	} else if (mappings_read(&nl, &list) < 0) {
		status = EXIT_FAILED;
	} else {
		prometheus_write(stdout, &stats, &list, ctl->netns);
	}
	free(list.items);
	nl_close(&nl);
	return status;
}
