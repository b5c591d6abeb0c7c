// SPDX-License-Identifier: GPL-2.0
/*
 * apply and save: the whole table to and from configuration files. apply
 * sends one SET_TABLE request, so the kernel switches to the files' content
 * entirely or, on any error, not at all.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "l3dsr.h"
#include "config.h"
#include "family.h"
#include "json.h"
#include "l3dsrctl.h"
#include "mapping.h"
#include "netlink.h"

/*
 * A full table is 2 x 63 entries of at most 76 bytes of attributes each:
 * under 10 KiB. Duplicates are refused before building, so it always fits.
 */
#define SET_TABLE_SIZE 16384

struct apply_args {
	const char *files[64];
	size_t file_count;
	bool dry_run;
};

static int parse_apply_args(const struct ctl *ctl, int argc, char *argv[],
			    struct apply_args *a)
{
	int i;

	memset(a, 0, sizeof(*a));
	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--dry-run")) {
			a->dry_run = true;
		} else if (!strcmp(argv[i], "-f") ||
			   !strcmp(argv[i], "--file")) {
			if (i + 1 == argc)
				return usage_error(ctl,
						   "missing file name after \"%s\"",
						   argv[i]);
			if (a->file_count == sizeof(a->files) /
					     sizeof(a->files[0]))
				return usage_error(ctl, "too many files");
			a->files[a->file_count++] = argv[++i];
		} else {
			return usage_error(ctl, "unexpected argument \"%s\"",
					   argv[i]);
		}
	}
	if (ctl->family != AF_UNSPEC)
		return usage_error(ctl,
				   "-4 and -6 do not apply: the files make the whole table, both families");
	return EXIT_OK;
}

static int read_files(const struct ctl *ctl, const struct apply_args *a,
		      struct config *c)
{
	char err[WORDS_ERROR_SIZE];
	char **paths;
	size_t i;

	for (i = 0; i < a->file_count; i++) {
		size_t j;

		for (j = 0; j < i; j++)
			if (!strcmp(a->files[i], a->files[j]))
				return usage_error(ctl,
						   "file \"%s\" given twice",
						   a->files[i]);
	}

	if (a->file_count) {
		for (i = 0; i < a->file_count; i++)
			config_read_file(c, a->files[i]);
		return c->error_count ? EXIT_FAILED : EXIT_OK;
	}

	paths = config_default_paths(CONFIG_MAIN_FILE, CONFIG_DIR, err);
	if (!paths)
		return fail(ctl, "%s", err);
	for (i = 0; paths[i]; i++)
		config_read_file(c, paths[i]);
	config_free_paths(paths);
	return c->error_count ? EXIT_FAILED : EXIT_OK;
}

/* Devices are named in the files and indexed in the namespace. */
static int resolve_devices(const struct ctl *ctl, struct config *c)
{
	char where[4200];
	int status = EXIT_OK;
	size_t i;

	for (i = 0; i < c->count; i++) {
		struct config_entry *e = &c->entries[i];

		if (!e->spec.dev[0])
			continue;
		snprintf(where, sizeof(where), "%s: %s:%u", ctl->cmd->name,
			 e->file, e->line);
		if (resolve_device(ctl, where, e->spec.dev,
				   &e->spec.m.ifindex))
			status = EXIT_FAILED;
	}
	return status;
}

static void print_dry_run(const struct ctl *ctl, const struct config *c)
{
	struct json json;
	size_t i;

	if (ctl->json) {
		json_init(&json, stdout);
		json_array_begin(&json);
	}
	for (i = 0; i < c->count; i++) {
		const struct config_entry *e = &c->entries[i];

		if (ctl->json) {
			/* The keys of show -j, counters aside. */
			char vip[INET6_ADDRSTRLEN], rip[INET6_ADDRSTRLEN];
			const struct mapping *m = &e->spec.m;

			json_object_begin(&json);
			json_member_string(&json, "family",
					   family_name(m->family));
			json_member_u64(&json, "dscp", m->dscp);
			json_member_string(&json, "vip",
					   format_address(m->family, m->vip,
							  vip));
			json_member_string(&json, "rip", m->has_rip ?
					   format_address(m->family, m->rip,
							  rip) : NULL);
			json_member_string(&json, "dev",
					   e->spec.dev[0] ? e->spec.dev : NULL);
			flags_json(&json, m->flags, __L3DSR_F_ALL);
			json_member_string(&json, "file", e->file);
			json_member_u64(&json, "line", e->line);
			json_object_end(&json);
		} else {
			spec_describe(&e->spec, stdout);
			printf("  # %s:%u\n", e->file, e->line);
		}
	}
	if (ctl->json) {
		json_array_end(&json);
		putchar('\n');
	}
}

/* The entry whose nest holds byte offset of the request, if any. */
static const struct config_entry *entry_at(const struct config *c,
					   const struct nlmsghdr *req,
					   uint32_t offset,
					   const char **attribute)
{
	const struct nlattr *outer, *nest, *attr;
	size_t i = 0;

	*attribute = NULL;
	nl_for_each_attr(outer, req) {
		if (mnl_attr_get_type(outer) != L3DSR_A_MAPPINGS)
			continue;
		mnl_attr_for_each_nested(nest, outer) {
			uint32_t start = (const char *)nest - (const char *)req;

			if (i >= c->count)
				return NULL;
			if (offset >= start &&
			    offset < start + mnl_attr_get_len(nest)) {
				mnl_attr_for_each_nested(attr, nest)
					if ((uint32_t)((const char *)attr -
						       (const char *)req) ==
					    offset)
						*attribute = nl_attribute_name(
							mnl_attr_get_type(attr));
				return &c->entries[i];
			}
			i++;
		}
	}
	return NULL;
}

static void report_apply_error(const struct ctl *ctl, const struct l3dsr_nl *nl,
			       const struct config *c,
			       const struct nlmsghdr *req,
			       const struct nl_status *st)
{
	const struct config_entry *e = NULL;
	const char *attribute = NULL;

	if (st->has_offset)
		e = entry_at(c, req, st->offset, &attribute);
	if (!e) {
		nl_report(nl, st);
		return;
	}
	fprintf(stderr, PROG_NAME ": %s: %s:%u: %s", ctl->cmd->name, e->file,
		e->line, strerror(st->error));
	if (st->message[0])
		fprintf(stderr, ": %s", st->message);
	if (attribute)
		fprintf(stderr, " (%s)", attribute);
	fputs("; nothing was changed\n", stderr);
}

static int send_table(const struct ctl *ctl, struct l3dsr_nl *nl,
		      const struct config *c)
{
	static char buf[SET_TABLE_SIZE] __attribute__((aligned(8)));
	struct nlattr *outer;
	struct nl_status st;
	struct nlmsghdr *nlh;
	size_t i;

	for (i = 0; i < c->count; i++) {
		const struct config_entry *e = &c->entries[i];
		char where[4200];

		snprintf(where, sizeof(where), "%s: %s:%u", ctl->cmd->name,
			 e->file, e->line);
		if (!module_knows_flags(ctl, where, nl, e->spec.m.flags))
			return EXIT_FAILED;
	}

	nlh = nl_request_sized(nl, buf, sizeof(buf), L3DSR_CMD_SET_TABLE,
			       NLM_F_ACK);
	outer = mnl_attr_nest_start(nlh, L3DSR_A_MAPPINGS);
	for (i = 0; i < c->count; i++) {
		struct nlattr *nest = mnl_attr_nest_start(nlh,
							  L3DSR_A_MAPPING);

		mapping_put(nlh, &c->entries[i].spec.m);
		mnl_attr_nest_end(nlh, nest);
	}
	mnl_attr_nest_end(nlh, outer);

	if (nl_transact(nl, nlh, NULL, NULL, &st) < 0) {
		report_apply_error(ctl, nl, c, nlh, &st);
		return EXIT_FAILED;
	}
	return EXIT_OK;
}

int cmd_apply(const struct ctl *ctl, int argc, char *argv[])
{
	char prefix[64];
	struct apply_args a;
	struct l3dsr_nl nl = { 0 };
	struct config c;
	int status;

	status = parse_apply_args(ctl, argc, argv, &a);
	if (status)
		return status;
	snprintf(prefix, sizeof(prefix), PROG_NAME ": %s: ", ctl->cmd->name);
	config_init(&c, prefix, stderr);
	status = read_files(ctl, &a, &c);
	if (status)
		goto out;
	config_sort(&c);

	if (a.dry_run) {
		if (ctl->netns && netns_enter(ctl->netns) < 0) {
			status = EXIT_FAILED;
			goto out;
		}
		status = resolve_devices(ctl, &c);
		if (!status)
			print_dry_run(ctl, &c);
		goto out;
	}

	status = ctl_open(ctl, &nl);
	if (status)
		goto out;
	status = resolve_devices(ctl, &c);
	if (!status)
		status = send_table(ctl, &nl, &c);
	nl_close(&nl);
out:
	config_free(&c);
	return status;
}

int cmd_save(const struct ctl *ctl, int argc, char *argv[])
{
	struct mapping_list list = { .family = AF_UNSPEC };
	char name[IF_NAMESIZE];
	struct l3dsr_nl nl;
	size_t i;
	int status;

	status = expect_no_arguments(ctl, argc, argv);
	if (status)
		return status;
	if (ctl->family != AF_UNSPEC)
		return usage_error(ctl,
				   "-4 and -6 do not apply: apply makes the whole table, so save writes all of it");
	if (ctl->json)
		return usage_error(ctl,
				   "-j does not apply: save writes the configuration format");
	status = ctl_open(ctl, &nl);
	if (status)
		return status;
	if (mappings_read(&nl, &list) < 0) {
		status = EXIT_FAILED;
		goto out;
	}

	/* A device gone since has no name to write: no half-true file. */
	for (i = 0; i < list.count; i++) {
		const struct mapping *m = &list.items[i];

		if (m->ifindex && !if_indextoname(m->ifindex, name)) {
			status = fail(ctl,
				      "DSCP %u (%s) is bound to device index %u, which has no name any more",
				      m->dscp, family_name(m->family),
				      m->ifindex);
			goto out;
		}
	}

	printf("# l3dsr mapping table, as `%s save` wrote it.\n"
	       "# `%s apply -f FILE` makes the table exactly this again.\n",
	       PROG_NAME, PROG_NAME);
	for (i = 0; i < list.count; i++) {
		mapping_describe(&list.items[i], stdout);
		putchar('\n');
	}
out:
	free(list.items);
	nl_close(&nl);
	return status;
}
