// SPDX-License-Identifier: GPL-2.0
/*
 * apply and save: the whole table to and from configuration files, with
 * what goes with it on the host (the VIPs' addresses, the ARP and
 * reverse-path sysctls). apply works out a plan (the difference between
 * the running state and the files), which --dry-run prints; then it sets
 * the sysctls, adds and removes addresses and at last sends one SET_TABLE
 * request, which the kernel takes entirely or not at all. If any step
 * fails, the steps done are undone in reverse order.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "l3dsr.h"
#include "config.h"
#include "addr.h"
#include "family.h"
#include "json.h"
#include "kmodule.h"
#include "l3dsrctl.h"
#include "mapping.h"
#include "netlink.h"
#include "nft.h"
#include "sysctl.h"

/*
 * A full table is 2 x 63 entries of at most 76 bytes of attributes each:
 * under 10 KiB. Duplicates are refused before building, so it always fits.
 */
#define SET_TABLE_SIZE 16384

/* Exit status of a dry run that found something to change. */
#define EXIT_CHANGES 3

struct apply_args {
	const char *files[64];
	size_t file_count;
	bool dry_run;
	bool allow_empty;
};

static int parse_apply_args(const struct ctl *ctl, int argc, char *argv[],
			    struct apply_args *a)
{
	int i;

	memset(a, 0, sizeof(*a));
	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--dry-run")) {
			a->dry_run = true;
		} else if (!strcmp(argv[i], "--allow-empty")) {
			a->allow_empty = true;
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
	for (i = 0; (size_t)i < a->file_count; i++) {
		size_t j;

		for (j = 0; j < (size_t)i; j++)
			if (!strcmp(a->files[i], a->files[j]))
				return usage_error(ctl,
						   "file \"%s\" given twice",
						   a->files[i]);
	}
	return EXIT_OK;
}

/*
 * Read every file and look up every device, reporting all that is wrong
 * in one pass (up to the limit). Must run in the namespace of -n.
 */
static int read_files(const struct ctl *ctl, const struct apply_args *a,
		      struct config *c)
{
	size_t i;

	if (a->file_count) {
		for (i = 0; i < a->file_count; i++)
			config_read_file(c, a->files[i]);
	} else {
		char err[WORDS_ERROR_SIZE];
		char **paths;

		paths = config_default_paths(CONFIG_MAIN_FILE, CONFIG_DIR,
					     err);
		if (!paths)
			return fail(ctl, "%s; the table is left as it is",
				    err);
		for (i = 0; paths[i]; i++)
			config_read_file(c, paths[i]);
		config_free_paths(paths);
	}
	config_resolve_devices(c);
	if (config_finish(c))
		return EXIT_FAILED;
	if (!c->count && !c->flush && !a->allow_empty)
		return fail(ctl,
			    "the files hold no mapping: applying them would empty the table, which is left as it is (write a \"flush\" line in them, or give --allow-empty, to empty it on purpose)");
	return EXIT_OK;
}

/* ---------------------------------------------------------- the plan */

struct plan {
	bool module_loaded;		/* or the table is in nftables */
	enum backend backend;
	struct mapping_list running;
	struct addr_list addrs;		/* the namespace's, before */
	struct local_addr *add;		/* addresses to add, in order */
	size_t add_count;
	struct local_addr *del;		/* and to remove */
	size_t del_count;
	struct settings settings;
	unsigned int mapping_changes;
};

static void plan_free(struct plan *p)
{
	free(p->running.items);
	addr_list_free(&p->addrs);
	free(p->add);
	free(p->del);
}

static const struct mapping *running_mapping(const struct plan *p, int family,
					     unsigned int dscp)
{
	size_t i;

	for (i = 0; i < p->running.count; i++)
		if (p->running.items[i].family == family &&
		    p->running.items[i].dscp == dscp)
			return &p->running.items[i];
	return NULL;
}

/* What the kernel's SET_TABLE compares: all but the counters. */
static bool same_mapping(const struct mapping *a, const struct mapping *b)
{
	size_t len = address_length(a->family);

	return a->family == b->family && a->dscp == b->dscp &&
	       !memcmp(a->vip, b->vip, len) && a->has_rip == b->has_rip &&
	       (!a->has_rip || !memcmp(a->rip, b->rip, len)) &&
	       a->ifindex == b->ifindex && a->flags == b->flags;
}

/* Whether the files want addr held, as a mapping's VIP or a vip line. */
static bool wanted_vip(const struct config *c, int family, const void *addr)
{
	size_t i, len = address_length(family);

	for (i = 0; i < c->count; i++)
		if (c->entries[i].spec.m.family == family &&
		    !memcmp(c->entries[i].spec.m.vip, addr, len))
			return true;
	for (i = 0; i < c->vip_count; i++)
		if (c->vips[i].family == family &&
		    !memcmp(c->vips[i].addr, addr, len))
			return true;
	return false;
}

static bool planned(const struct local_addr *list, size_t count, int family,
		    const void *addr)
{
	size_t i;

	for (i = 0; i < count; i++)
		if (list[i].family == family &&
		    !memcmp(list[i].addr, addr, address_length(family)))
			return true;
	return false;
}

/* Add the VIP addr unless the namespace holds it already. */
static void plan_vip(const struct config *c, struct plan *p, int family,
		     const void *addr)
{
	size_t i;

	if (planned(p->add, p->add_count, family, addr))
		return;
	/* Anyone's address will do, ours on the right device too. */
	for (i = 0; i < p->addrs.count; i++) {
		const struct local_addr *have = &p->addrs.items[i];

		if (have->family != family ||
		    memcmp(have->addr, addr, address_length(family)))
			continue;
		if (have->proto != L3DSR_ADDR_PROTO ||
		    have->ifindex == c->vip_ifindex)
			return;
	}
	addr_vip(&p->add[p->add_count++], family, addr, c->vip_ifindex);
}

/*
 * Ours (marked) that are to go: a VIP no longer wanted, one on another
 * device than vip-device, or a copy of an address the operator holds.
 */
static bool stale(const struct config *c, const struct plan *p,
		  const struct local_addr *a)
{
	size_t i;

	if (!wanted_vip(c, a->family, a->addr) || a->ifindex != c->vip_ifindex)
		return true;
	for (i = 0; i < p->addrs.count; i++) {
		const struct local_addr *other = &p->addrs.items[i];

		if (other->family == a->family &&
		    other->proto != L3DSR_ADDR_PROTO &&
		    !memcmp(other->addr, a->addr, address_length(a->family)))
			return true;
	}
	return false;
}

static int plan_addresses(const struct config *c, struct plan *p)
{
	size_t i;

	p->add = calloc(c->count + c->vip_count + 1, sizeof(*p->add));
	p->del = calloc(p->addrs.count + 1, sizeof(*p->del));
	if (!p->add || !p->del)
		return -1;
	for (i = 0; i < c->count; i++)
		plan_vip(c, p, c->entries[i].spec.m.family,
			 c->entries[i].spec.m.vip);
	for (i = 0; i < c->vip_count; i++)
		plan_vip(c, p, c->vips[i].family, c->vips[i].addr);
	for (i = 0; i < p->addrs.count; i++) {
		const struct local_addr *a = &p->addrs.items[i];

		if (a->proto == L3DSR_ADDR_PROTO && stale(c, p, a))
			p->del[p->del_count++] = *a;
	}
	return 0;
}

static void count_mapping_changes(const struct config *c, struct plan *p)
{
	size_t i;

	p->mapping_changes = 0;
	for (i = 0; i < c->count; i++) {
		const struct mapping *old = running_mapping(p, c->entries[i].spec.m.family,
				      c->entries[i].spec.m.dscp);
		if (!old || !same_mapping(old, &c->entries[i].spec.m))
			p->mapping_changes++;
	}
	for (i = 0; i < p->running.count; i++)
		if (!config_find(c, p->running.items[i].family,
				    p->running.items[i].dscp))
			p->mapping_changes++;
}

static unsigned int plan_changes(const struct plan *p)
{
	return p->mapping_changes + p->add_count + p->del_count +
	       p->settings.count;
}

/*
 * Everything apply would do, found without changing anything: the
 * running table (nl open, or the module not loaded: an empty one), the
 * addresses (rt) and the sysctls.
 */
static int make_plan(const struct ctl *ctl, struct l3dsr_nl *nl,
		     struct l3dsr_nl *rt, const struct config *c,
		     struct plan *p)
{
	struct nl_status st;

	p->running.family = AF_UNSPEC;
	if (p->module_loaded) {
		size_t i;

		if (mappings_read(nl, &p->running) < 0)
			return EXIT_FAILED;
		for (i = 0; i < c->count; i++) {
			const struct config_entry *e = &c->entries[i];
			char where[4200];

			snprintf(where, sizeof(where), "%s: %s:%u",
				 ctl->cmd->name, e->file, e->line);
			if (!module_knows_flags(ctl, where, nl,
						e->spec.m.flags))
				return EXIT_FAILED;
		}
	}
	count_mapping_changes(c, p);
	if (addr_read(rt, &p->addrs, &st) < 0)
		return fail(ctl, "cannot list the namespace's addresses: %s",
			    strerror(st.error));
	if (!c->vips_unmanaged && plan_addresses(c, p) < 0)
		return fail(ctl, "%s", strerror(ENOMEM));
	if (!c->sysctls_unmanaged && settings_plan(c, &p->addrs,
						   &p->settings) < 0)
		return fail(ctl, "cannot read the ARP and rp_filter sysctls: %s",
			    strerror(errno));
	return EXIT_OK;
}

static void json_entry(struct json *json, const char *action,
		       const struct mapping *m, const char *dev,
		       const struct config_entry *e)
{
	char vip[INET6_ADDRSTRLEN], rip[INET6_ADDRSTRLEN];

	json_object_begin(json);
	json_member_string(json, "action", action);
	json_member_string(json, "family", family_name(m->family));
	json_member_u64(json, "dscp", m->dscp);
	json_member_string(json, "vip", format_address(m->family, m->vip, vip));
	json_member_string(json, "rip", m->has_rip ?
			   format_address(m->family, m->rip, rip) : NULL);
	json_member_string(json, "dev", dev && dev[0] ? dev : NULL);
	flags_json(json, m->flags, __L3DSR_F_ALL);
	json_member_string(json, "file", e ? e->file : NULL);
	if (e)
		json_member_u64(json, "line", e->line);
	else
		json_member_string(json, "line", NULL);
	json_object_end(json);
}

static void running_dev(const struct mapping *m, char dev[MAPPING_DEV_SIZE])
{
	dev[0] = '\0';
	if (m->ifindex) {
		char name[IF_NAMESIZE];

		snprintf(dev, MAPPING_DEV_SIZE, "%s",
			 if_indextoname(m->ifindex, name) ? name : "?");
	}
}

static void print_plan_text(const struct config *c, const struct plan *p)
{
	char where[160], name[128];
	const struct mapping *old;
	size_t i;

	for (i = 0; i < c->count; i++) {
		const struct config_entry *e = &c->entries[i];

		old = running_mapping(p, e->spec.m.family, e->spec.m.dscp);
		if (old && same_mapping(old, &e->spec.m))
			continue;
		fputs(old ? "change mapping " : "add mapping ", stdout);
		spec_describe(&e->spec, stdout);
		printf("  # %s:%u\n", e->file, e->line);
		if (old) {
			fputs("  was: ", stdout);
			mapping_describe(old, stdout);
			putchar('\n');
		}
	}
	for (i = 0; i < p->running.count; i++) {
		old = &p->running.items[i];
		if (config_find(c, old->family, old->dscp))
			continue;
		fputs("remove mapping ", stdout);
		mapping_describe(old, stdout);
		putchar('\n');
	}
	for (i = 0; i < p->add_count; i++) {
		addr_describe(&p->add[i], where, sizeof(where));
		printf("add address %s proto %d\n", where, L3DSR_ADDR_PROTO);
	}
	for (i = 0; i < p->del_count; i++) {
		addr_describe(&p->del[i], where, sizeof(where));
		printf("remove address %s proto %d\n", where,
		       L3DSR_ADDR_PROTO);
	}
	for (i = 0; i < p->settings.count; i++) {
		setting_name(&p->settings.items[i], name, sizeof(name));
		printf("set sysctl %s=%d  # was %d\n", name,
		       p->settings.items[i].after,
		       p->settings.items[i].before);
	}
	if (!plan_changes(p))
		puts("nothing to change");
}

static void print_plan_json(const struct config *c, const struct plan *p)
{
	char dev[MAPPING_DEV_SIZE], name[128], addr[INET6_ADDRSTRLEN];
	const struct mapping *old;
	struct json json;
	size_t i;

	json_init(&json, stdout);
	json_object_begin(&json);
	json_member_u64(&json, "changes", plan_changes(p));
	json_member_bool(&json, "module_loaded", p->module_loaded &&
			 p->backend == BACKEND_MODULE);
	/* null: no table anywhere yet, so none is chosen */
	json_member_string(&json, "backend", p->module_loaded ?
			   backend_name(p->backend) : NULL);
	json_key(&json, "mappings");
	json_array_begin(&json);
	for (i = 0; i < c->count; i++) {
		const struct config_entry *e = &c->entries[i];

		old = running_mapping(p, e->spec.m.family, e->spec.m.dscp);
		if (old && same_mapping(old, &e->spec.m))
			continue;
		json_entry(&json, old ? "change" : "add", &e->spec.m,
			   e->spec.dev, e);
	}
	for (i = 0; i < p->running.count; i++) {
		old = &p->running.items[i];
		if (config_find(c, old->family, old->dscp))
			continue;
		running_dev(old, dev);
		json_entry(&json, "remove", old, dev, NULL);
	}
	json_array_end(&json);
	json_key(&json, "addresses");
	json_array_begin(&json);
	for (i = 0; i < p->add_count + p->del_count; i++) {
		bool add = i < p->add_count;
		const struct local_addr *a = add ? &p->add[i] :
					     &p->del[i - p->add_count];
		char ifname[IF_NAMESIZE];

		json_object_begin(&json);
		json_member_string(&json, "action", add ? "add" : "remove");
		json_member_string(&json, "address",
				   format_address(a->family, a->addr, addr));
		json_member_u64(&json, "prefix", a->prefix);
		json_member_string(&json, "dev",
				   if_indextoname(a->ifindex, ifname));
		json_member_u64(&json, "proto", a->proto);
		json_object_end(&json);
	}
	json_array_end(&json);
	json_key(&json, "sysctls");
	json_array_begin(&json);
	for (i = 0; i < p->settings.count; i++) {
		setting_name(&p->settings.items[i], name, sizeof(name));
		json_object_begin(&json);
		json_member_string(&json, "action", "set");
		json_member_string(&json, "name", name);
		json_member_u64(&json, "before", p->settings.items[i].before);
		json_member_u64(&json, "after", p->settings.items[i].after);
		json_object_end(&json);
	}
	json_array_end(&json);
	json_object_end(&json);
	putchar('\n');
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
	fputc('\n', stderr);
}

static int send_table(const struct ctl *ctl, struct l3dsr_nl *nl,
		      const struct config *c)
{
	static char buf[SET_TABLE_SIZE] __attribute__((aligned(8)));
	struct nlattr *outer;
	struct nl_status st;
	struct nlmsghdr *nlh;
	size_t i;

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


/* ------------------------------------------------------ carrying out */

/* How far the plan got, so that exactly that much is undone. */
struct progress {
	size_t settings;
	size_t added;
	size_t removed;
};

/* Undo what done says was done, in reverse order. false if any step failed. */
static bool undo(const struct ctl *ctl, struct l3dsr_nl *rt,
		 const struct plan *p, const struct progress *done)
{
	struct nl_status st;
	bool ok = true;
	size_t i;

	for (i = done->removed; i-- > 0;)
		if (addr_add(rt, &p->del[i], &st) < 0) {
			addr_report(ctl->cmd->name, "put back", &p->del[i], &st);
			ok = false;
		}
	for (i = done->added; i-- > 0;)
		if (addr_del(rt, &p->add[i], &st) < 0) {
			addr_report(ctl->cmd->name, "take away", &p->add[i], &st);
			ok = false;
		}
	for (i = done->settings; i-- > 0;) {
		const struct setting *set = &p->settings.items[i];

		if (sysctl_write(set->dev, set->key, set->before) < 0) {
			char name[128];

			setting_name(set, name, sizeof(name));
			fprintf(stderr, PROG_NAME ": %s: cannot set %s back to %d: %s\n",
				ctl->cmd->name, name, set->before,
				strerror(errno));
			ok = false;
		}
	}
	return ok;
}

/*
 * Settings, then new addresses, then stale ones, then the table in one
 * transaction: the steps that can be undone come first, the one that
 * cannot be half done last.
 */
static int carry_out(const struct ctl *ctl, struct l3dsr_nl *nl,
		     struct l3dsr_nl *rt, const struct config *c,
		     const struct plan *p)
{
	struct progress done = { 0 };
	struct nl_status st;
	size_t i;

	for (i = 0; i < p->settings.count; i++) {
		const struct setting *set = &p->settings.items[i];

		if (sysctl_write(set->dev, set->key, set->after) < 0) {
			char name[128];

			setting_name(set, name, sizeof(name));
			fprintf(stderr, PROG_NAME ": %s: cannot set %s=%d: %s\n",
				ctl->cmd->name, name, set->after,
				strerror(errno));
			goto failed;
		}
		done.settings++;
	}
	for (i = 0; i < p->add_count; i++) {
		if (addr_add(rt, &p->add[i], &st) < 0) {
			addr_report(ctl->cmd->name, "add", &p->add[i], &st);
			goto failed;
		}
		done.added++;
	}
	for (i = 0; i < p->del_count; i++) {
		/* Gone already (with its device, say): the goal holds. */
		if (addr_del(rt, &p->del[i], &st) < 0 &&
		    st.error != EADDRNOTAVAIL && st.error != ENODEV) {
			addr_report(ctl->cmd->name, "remove", &p->del[i], &st);
			goto failed;
		}
		done.removed++;
	}
	if (send_table(ctl, nl, c) == EXIT_OK)
		return EXIT_OK;
failed:
	if (undo(ctl, rt, p, &done))
		fprintf(stderr, PROG_NAME ": %s: nothing was changed\n",
			ctl->cmd->name);
	else
		fprintf(stderr, PROG_NAME ": %s: the steps above could not be undone; the rest was\n",
			ctl->cmd->name);
	return EXIT_FAILED;
}

/*
 * The table has moved from nftables into the module: what the nftables
 * table counted is said, then the table goes, in one transaction. Between
 * the module taking the table and this, both rewrite, which is harmless:
 * whichever hook runs first (both sit at -310, in the order they were
 * registered) turns the RIP into the VIP, and the other, looking up the
 * same DSCP, writes the same VIP again, which changes no byte and no
 * checksum; it counts the packet too, so those few packets are counted by
 * both. (A mapping with clear-dscp is missed by the second, which sees
 * DSCP 0.) No moment has neither rewriting.
 */
static int retire_nft(const struct ctl *ctl, struct nft_backend *nft)
{
	struct nft_table t;
	struct nl_status st;
	int f, d;

	if (nft_table_read(nft, &t, &st) < 0 || nft_table_delete(nft, &st) < 0) {
		fprintf(stderr, PROG_NAME
			": %s: the module has the table, but the nftables table inet "
			NFT_TABLE_NAME " could not be removed (both rewrite, harmlessly): %s%s%s\n",
			ctl->cmd->name, strerror(st.error),
			st.message[0] ? ": " : "", st.message);
		return EXIT_FAILED;
	}
	printf("moved the table from nftables (table inet " NFT_TABLE_NAME
	       ", removed) into the module; nftables had counted %" PRIu64
	       " packets rewritten\n", t.rewritten);
	for (f = 0; f < 2; f++)
		for (d = L3DSR_DSCP_MIN; d <= L3DSR_DSCP_MAX; d++) {
			const struct mapping *m = &t.slot[f][d];
			char vip[INET6_ADDRSTRLEN];

			if (!t.present[f][d])
				continue;
			printf("nftables counted for %s dscp %u vip %s: %" PRIu64
			       " packets, %" PRIu64 " bytes\n",
			       family_name(m->family), m->dscp,
			       format_address(m->family, m->vip, vip),
			       m->packets, m->bytes);
		}
	return EXIT_OK;
}

int cmd_apply(const struct ctl *ctl, int argc, char *argv[])
{
	struct l3dsr_nl nl = { 0 }, rt = { 0 };
	struct nft_backend *leftover = NULL;
	struct plan p = { 0 };
	struct ctl chosen;
	char prefix[64];
	struct apply_args a;
	struct config c;
	int status, found;

	status = parse_apply_args(ctl, argc, argv, &a);
	if (status)
		return status;
	/* Devices are named in the files and looked up in the namespace. */
	if (ctl->netns && netns_enter(ctl->netns) < 0)
		return EXIT_FAILED;
	snprintf(prefix, sizeof(prefix), PROG_NAME ": %s: ", ctl->cmd->name);
	config_init(&c, prefix, stderr);
	status = read_files(ctl, &a, &c);
	if (status)
		goto out;
	config_sort(&c);

	/* The files' "backend" line, unless --backend said otherwise. */
	chosen = *ctl;
	if (ctl->backend == BACKEND_AUTO && c.backend[0])
		backend_parse(c.backend, &chosen.backend);

	/* A dry run loads nothing: without the module, the table is empty. */
	if (a.dry_run) {
		found = backend_find(&chosen, &nl, &p.backend);
		if (found < 0) {
			status = EXIT_FAILED;
			goto out;
		}
		p.module_loaded = found;
	} else {
		status = backend_open_for(&chosen, &nl, &p.backend, &leftover);
		if (status)
			goto out;
		p.module_loaded = true;
	}
	if (nl_open_route(&rt, ctl->cmd->name) < 0) {
		status = EXIT_FAILED;
		goto out;
	}
	status = make_plan(ctl, &nl, &rt, &c, &p);
	if (status)
		goto out;
	if (a.dry_run) {
		if (ctl->json)
			print_plan_json(&c, &p);
		else
			print_plan_text(&c, &p);
		status = plan_changes(&p) ? EXIT_CHANGES : EXIT_OK;
		goto out;
	}
	status = carry_out(ctl, &nl, &rt, &c, &p);
	if (!status && leftover)
		status = retire_nft(ctl, leftover);
out:
	nft_close(leftover);
	plan_free(&p);
	nl_close(&rt);
	nl_close(&nl);
	config_free(&c);
	return status;
}

/* ------------------------------------------------------------- save */

static int write_table(FILE *out, const struct mapping_list *list)
{
	size_t i;

	fprintf(out, "# l3dsr mapping table, as `%s save` wrote it.\n"
		"# `%s apply -f FILE` makes the table exactly this again.\n",
		PROG_NAME, PROG_NAME);
	for (i = 0; i < list->count; i++) {
		mapping_describe(&list->items[i], out);
		fputc('\n', out);
	}
	return ferror(out) ? -1 : 0;
}

/*
 * FILE is replaced whole or not at all: the table goes to a temporary
 * file beside it, which is synced and renamed over it.
 */
static int save_to(const struct ctl *ctl, const char *path,
		   const struct mapping_list *list)
{
	char *tmp = NULL, *copy = NULL;
	struct stat st;
	FILE *out = NULL;
	int fd = -1, dir;

	copy = strdup(path);
	if (!copy || asprintf(&tmp, "%s.XXXXXX", path) < 0) {
		tmp = NULL;
		errno = ENOMEM;
		goto failed;
	}
	fd = mkstemp(tmp);
	if (fd < 0) {
		free(tmp);
		tmp = NULL;
		goto failed;
	}
	/* The mode of the file it replaces, or what a shell would make. */
	if (fchmod(fd, stat(path, &st) == 0 ? st.st_mode & 07777 : 0644) < 0)
		goto failed;
	out = fdopen(fd, "w");
	if (!out)
		goto failed;
	fd = -1;
	if (write_table(out, list) < 0 || fflush(out) == EOF ||
	    fsync(fileno(out)) < 0)
		goto failed;
	if (fclose(out) == EOF) {
		out = NULL;
		goto failed;
	}
	out = NULL;
	if (rename(tmp, path) < 0)
		goto failed;
	free(tmp);
	tmp = NULL;
	/* The rename itself survives a crash once the directory is synced. */
	dir = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir >= 0) {
		fsync(dir);
		close(dir);
	}
	free(copy);
	return EXIT_OK;

failed:
	fail(ctl, "cannot write %s: %s; it is left as it was", path,
	     strerror(errno));
	if (out)
		fclose(out);
	if (fd >= 0)
		close(fd);
	if (tmp) {
		unlink(tmp);
		free(tmp);
	}
	free(copy);
	return EXIT_FAILED;
}

int cmd_save(const struct ctl *ctl, int argc, char *argv[])
{
	struct mapping_list list = { .family = AF_UNSPEC };
	const char *output = NULL;
	char name[IF_NAMESIZE];
	struct l3dsr_nl nl;
	enum backend chosen;
	int i, status, found;
	size_t j;

	for (i = 0; i < argc; i++) {
		if ((!strcmp(argv[i], "-o") || !strcmp(argv[i], "--output")) &&
		    i + 1 < argc && !output)
			output = argv[++i];
		else if (!strcmp(argv[i], "-o") || !strcmp(argv[i], "--output"))
			return usage_error(ctl, output ?
					   "\"%s\" given twice" :
					   "missing file name after \"%s\"",
					   argv[i]);
		else
			return usage_error(ctl, "unexpected argument \"%s\"",
					   argv[i]);
	}
	if (ctl->family != AF_UNSPEC)
		return usage_error(ctl,
				   "-4 and -6 do not apply: apply makes the whole table, so save writes all of it");
	if (ctl->json)
		return usage_error(ctl,
				   "-j does not apply: save writes the configuration format");
	if (ctl->netns && netns_enter(ctl->netns) < 0)
		return EXIT_FAILED;
	/* Loading the module would only find an empty table to save. */
	found = backend_find(ctl, &nl, &chosen);
	if (found < 0)
		return EXIT_FAILED;
	if (!found && chosen == BACKEND_NFT) {
		status = fail(ctl,
			      "nftables holds no l3dsr table, so there is no table to save%s%s%s",
			      output ? " (" : "", output ? output : "",
			      output ? " is left as it is)" : "");
		goto out;
	}
	if (!found) {
		struct kmodule km;
		char why[640];

		kmodule_inspect(&km);
		kmodule_why_absent(&km, why, sizeof(why));
		status = fail(ctl,
			      "the l3dsr module is not loaded, so there is no table to save%s%s%s: %s",
			      output ? " (" : "", output ? output : "",
			      output ? " is left as it is)" : "", why);
		goto out;
	}
	if (mappings_read(&nl, &list) < 0) {
		status = EXIT_FAILED;
		goto out;
	}

	/* A device gone since has no name to write: no half-true file. */
	for (j = 0; j < list.count; j++) {
		const struct mapping *m = &list.items[j];

		if (m->ifindex && !if_indextoname(m->ifindex, name)) {
			status = fail(ctl,
				      "DSCP %u (%s) is bound to device index %u, which has no name any more",
				      m->dscp, family_name(m->family),
				      m->ifindex);
			goto out;
		}
	}
	if (!output) {
		status = write_table(stdout, &list) < 0 ? EXIT_FAILED : EXIT_OK;
		goto out;
	}
	/* apply would refuse such a file; a boot would find no table. */
	if (!list.count) {
		status = fail(ctl,
			      "the table is empty: %s is left as it is (an empty table is kept on purpose by a file holding \"flush\")",
			      output);
		goto out;
	}
	status = save_to(ctl, output, &list);
out:
	free(list.items);
	nl_close(&nl);
	return status;
}
