// SPDX-License-Identifier: GPL-2.0
/* monitor: print changes to the mapping table as the kernel announces them. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "l3dsr.h"
#include "family.h"
#include "json.h"
#include "l3dsrctl.h"
#include "mapping.h"
#include "netlink.h"

struct monitor {
	const struct ctl *ctl;
	uint32_t known_flags;	/* the flags the module knows of */
};

static int on_event(const struct nlmsghdr *nlh, void *data)
{
	const struct genlmsghdr *genl = mnl_nlmsg_get_payload(nlh);
	const struct monitor *mon = data;
	const struct ctl *ctl = mon->ctl;
	struct mapping m;
	const char *event;
	struct json json;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*genl))
		return MNL_CB_OK;
	switch (genl->cmd) {
	case L3DSR_CMD_NEW_MAPPING:
		event = "new";
		break;
	case L3DSR_CMD_DEL_MAPPING:
		event = "del";
		break;
	default:
		return MNL_CB_OK;
	}

	if (mapping_parse(nlh, &m) < 0) {
		fprintf(stderr, PROG_NAME ": %s: ignoring a malformed %s event\n",
			ctl->cmd->name, event);
		return MNL_CB_OK;
	}
	if (ctl->family != AF_UNSPEC && m.family != ctl->family)
		return MNL_CB_OK;

	if (ctl->json) {
		json_init(&json, stdout);
		json_object_begin(&json);
		json_member_string(&json, "event", event);
		json_key(&json, "mapping");
		mapping_json(&json, &m, mon->known_flags);
		json_object_end(&json);
	} else {
		printf("%s ", event);
		mapping_describe(&m, stdout);
	}
	putchar('\n');

	/* Whoever reads us (a pipe, a test) must see each event at once. */
	if (fflush(stdout) == EOF) {
		fprintf(stderr, PROG_NAME ": %s: cannot write output: %s\n",
			ctl->cmd->name, strerror(errno));
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

int cmd_monitor(const struct ctl *ctl, int argc, char *argv[])
{
	struct monitor mon = { .ctl = ctl };
	struct l3dsr_nl nl;
	int status;

	status = expect_no_arguments(ctl, argc, argv);
	if (status)
		return status;
	status = ctl_open(ctl, &nl);
	if (status)
		return status;

	if (nl.nft) {
		nl_close(&nl);
		return fail(ctl,
			    "the table is in nftables, which announces no changes: monitor needs the module");
	}
	mon.known_flags = module_flags(&nl);
	if (nl_join_config(&nl) < 0 ||
	    nl_listen(&nl, on_event, &mon) < 0)
		status = EXIT_FAILED;
	nl_close(&nl);
	return status;
}
