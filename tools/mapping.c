// SPDX-License-Identifier: GPL-2.0
/* The mapping table: add-mapping, replace-mapping, del-mapping, show, flush. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "l3dsr.h"
#include "addr.h"
#include "dscp.h"
#include "family.h"
#include "json.h"
#include "l3dsrctl.h"
#include "mapping.h"
#include "netlink.h"
#include "words.h"

/* A dump racing with changes is retried this many times before giving up. */
#define DUMP_ATTEMPTS 3

const char *format_address(int family, const void *addr,
			   char buf[INET6_ADDRSTRLEN])
{
	return inet_ntop(family, addr, buf, INET6_ADDRSTRLEN);
}

/* The device's name, "if" and its index if it has none now, or NULL. */
static const char *format_device(uint32_t ifindex,
				 char buf[MAPPING_DEV_SIZE])
{
	if (!ifindex)
		return NULL;
	if (if_indextoname(ifindex, buf))
		return buf;
	snprintf(buf, MAPPING_DEV_SIZE, "if%u", ifindex);
	return buf;
}

int mapping_parse(const struct nlmsghdr *nlh, struct mapping *m)
{
	const struct nlattr *attr, *vip = NULL, *rip = NULL;
	bool has_family = false, has_dscp = false;
	size_t length;

	memset(m, 0, sizeof(*m));
	nl_for_each_attr(attr, nlh) {
		switch (mnl_attr_get_type(attr)) {
		case L3DSR_A_FAMILY:
			if (mnl_attr_validate(attr, MNL_TYPE_U8) < 0)
				goto malformed;
			m->family = mnl_attr_get_u8(attr);
			has_family = true;
			break;
		case L3DSR_A_DSCP:
			if (mnl_attr_validate(attr, MNL_TYPE_U8) < 0)
				goto malformed;
			m->dscp = mnl_attr_get_u8(attr);
			has_dscp = true;
			break;
		case L3DSR_A_VIP:
			vip = attr;
			break;
		case L3DSR_A_RIP:
			rip = attr;
			break;
		case L3DSR_A_IFINDEX:
			if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
				goto malformed;
			m->ifindex = mnl_attr_get_u32(attr);
			break;
		case L3DSR_A_FLAGS:
			if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
				goto malformed;
			m->flags = mnl_attr_get_u32(attr);
			break;
		case L3DSR_A_PACKETS:
			if (!nl_attr_get_counter(attr, &m->packets))
				goto malformed;
			break;
		case L3DSR_A_BYTES:
			if (!nl_attr_get_counter(attr, &m->bytes))
				goto malformed;
			break;
		}
	}

	if (!has_family || !has_dscp || !vip ||
	    (m->family != AF_INET && m->family != AF_INET6))
		goto malformed;
	length = address_length(m->family);
	if (mnl_attr_get_payload_len(vip) != length)
		goto malformed;
	memcpy(m->vip, mnl_attr_get_payload(vip), length);
	if (rip) {
		if (mnl_attr_get_payload_len(rip) != length)
			goto malformed;
		memcpy(m->rip, mnl_attr_get_payload(rip), length);
		m->has_rip = true;
	}
	return 0;

malformed:
	errno = EBADMSG;
	return -1;
}

/* "vip ADDR [rip ADDR] [dev IFNAME] [clear-dscp] [down]" */
static void describe_target(const struct mapping *m, FILE *out)
{
	char addr[INET6_ADDRSTRLEN];

	fprintf(out, "vip %s", format_address(m->family, m->vip, addr));
	if (m->has_rip)
		fprintf(out, " rip %s",
			format_address(m->family, m->rip, addr));
	if (m->ifindex) {
		char dev[MAPPING_DEV_SIZE];

		fprintf(out, " dev %s", format_device(m->ifindex, dev));
	}
	flags_describe(m->flags, out);
}

void mapping_describe(const struct mapping *m, FILE *out)
{
	fprintf(out, "dscp %u ", m->dscp);
	describe_target(m, out);
}

void mapping_json(struct json *json, const struct mapping *m,
		  uint32_t known)
{
	char vip[INET6_ADDRSTRLEN], rip[INET6_ADDRSTRLEN];
	char dev[MAPPING_DEV_SIZE];

	json_object_begin(json);
	json_member_string(json, "family", family_name(m->family));
	json_member_u64(json, "dscp", m->dscp);
	json_member_string(json, "vip", format_address(m->family, m->vip, vip));
	json_member_string(json, "rip", m->has_rip ?
			   format_address(m->family, m->rip, rip) : NULL);
	json_member_string(json, "dev", format_device(m->ifindex, dev));
	flags_json(json, m->flags, known);
	json_member_u64(json, "packets", m->packets);
	json_member_u64(json, "bytes", m->bytes);
	json_object_end(json);
}

/*
 * Parse a command's keywords, among allowed; "dscp DSCP" is stored in *dscp
 * (0 when not given, which required refuses). values gets what the others
 * were.
 */
static int parse_dscp_keywords(const struct ctl *ctl, int argc, char *argv[],
			       unsigned int allowed, bool required,
			       unsigned int *dscp,
			       const char *values[KW_COUNT])
{
	char err[WORDS_ERROR_SIZE];

	*dscp = 0;
	if (words_keywords(argc, argv, allowed | KW_BIT(KW_DSCP), values,
			   err) < 0)
		return usage_error(ctl, "%s", err);
	if (!values[KW_DSCP])
		return required ? usage_error(ctl, "missing \"dscp DSCP\"") :
				  EXIT_OK;
	if (words_dscp(values[KW_DSCP], dscp, err) < 0)
		return usage_error(ctl, "%s", err);
	return EXIT_OK;
}

static int parse_dscp_only(const struct ctl *ctl, int argc, char *argv[],
			   bool required, unsigned int *dscp)
{
	const char *values[KW_COUNT] = { NULL };

	return parse_dscp_keywords(ctl, argc, argv, 0, required, dscp, values);
}

static int parse_mapping_args(const struct ctl *ctl, int argc, char *argv[],
			      struct mapping_spec *spec)
{
	char err[WORDS_ERROR_SIZE];

	if (words_mapping(argc, argv, KW_MAPPING | KW_BIT(KW_ADD_VIP) |
			  KW_BIT(KW_VIP_DEVICE), spec, err) < 0)
		return usage_error(ctl, "%s", err);
	if (ctl->family != AF_UNSPEC && ctl->family != spec->m.family) {
		char vip[INET6_ADDRSTRLEN];

		return usage_error(ctl, "vip %s is %s, but %s was given",
				   format_address(spec->m.family, spec->m.vip,
						  vip),
				   family_label(spec->m.family),
				   ctl->family == AF_INET ? "-4" : "-6");
	}
	return EXIT_OK;
}

int resolve_device(const struct ctl *ctl, const char *where,
		   const char *name, uint32_t *ifindex)
{
	*ifindex = if_nametoindex(name);
	if (*ifindex)
		return EXIT_OK;
	if (errno == ENODEV || errno == ENXIO)
		fprintf(stderr, PROG_NAME ": %s: no such device: %s\n",
			where ? where : ctl->cmd->name, name);
	else
		fprintf(stderr, PROG_NAME ": %s: cannot look up device %s: %s\n",
			where ? where : ctl->cmd->name, name, strerror(errno));
	return EXIT_FAILED;
}

static void put_key(struct nlmsghdr *nlh, int family, unsigned int dscp)
{
	mnl_attr_put_u8(nlh, L3DSR_A_FAMILY, family);
	mnl_attr_put_u8(nlh, L3DSR_A_DSCP, dscp);
}

void mapping_put(struct nlmsghdr *nlh, const struct mapping *m)
{
	put_key(nlh, m->family, m->dscp);
	mnl_attr_put(nlh, L3DSR_A_VIP, address_length(m->family), m->vip);
	if (m->has_rip)
		mnl_attr_put(nlh, L3DSR_A_RIP, address_length(m->family),
			     m->rip);
	if (m->ifindex)
		mnl_attr_put_u32(nlh, L3DSR_A_IFINDEX, m->ifindex);
	mnl_attr_put_u32(nlh, L3DSR_A_FLAGS, m->flags);
}

static int on_mapping(const struct nlmsghdr *nlh, void *data)
{
	return mapping_parse(nlh, data) < 0 ? MNL_CB_ERROR : MNL_CB_OK;
}

/* Read one mapping; st->error is ENOENT if the slot is empty. */
static int get_mapping(struct l3dsr_nl *nl, int family, unsigned int dscp,
		       struct mapping *m, struct nl_status *st)
{
	char buf[NL_REQUEST_SIZE] __attribute__((aligned(8)));
	struct nlmsghdr *nlh;

	nlh = nl_request(nl, buf, L3DSR_CMD_GET_MAPPING, NLM_F_ACK);
	put_key(nlh, family, dscp);
	m->family = AF_UNSPEC;
	if (nl_transact(nl, nlh, on_mapping, m, st) < 0)
		return -1;
	if (m->family == AF_UNSPEC) {
		/* An ACK without the mapping it should describe. */
		st->error = EBADMSG;
		return -1;
	}
	return 0;
}

static int delete_mapping(struct l3dsr_nl *nl, int family, unsigned int dscp,
			  struct nl_status *st)
{
	char buf[NL_REQUEST_SIZE] __attribute__((aligned(8)));
	struct nlmsghdr *nlh;

	nlh = nl_request(nl, buf, L3DSR_CMD_DEL_MAPPING, NLM_F_ACK);
	put_key(nlh, family, dscp);
	return nl_transact(nl, nlh, NULL, NULL, st);
}

/* add-mapping met a different mapping in the slot: say which. */
static int report_conflict(const struct ctl *ctl, struct l3dsr_nl *nl,
			   const struct mapping *wanted,
			   const struct nl_status *st)
{
	struct mapping existing;
	struct nl_status get_st;

	if (get_mapping(nl, wanted->family, wanted->dscp, &existing,
			&get_st) < 0) {
		/* It went away meanwhile: the kernel's own word must do. */
		nl_report(nl, st);
		return EXIT_FAILED;
	}
	fprintf(stderr, PROG_NAME ": %s: DSCP %u (%s) already maps to ",
		ctl->cmd->name, wanted->dscp, family_name(wanted->family));
	describe_target(&existing, stderr);
	fputs("; use replace-mapping\n", stderr);
	return EXIT_FAILED;
}

/*
 * add-vip: put the VIP of spec on its device (lo unless vip-device said),
 * marked as l3dsr's, unless the namespace holds it already, as the
 * operator's or as ours. *added says whether it did.
 */
static int add_vip(const struct ctl *ctl, struct l3dsr_nl *rt,
		   const struct mapping_spec *spec, struct local_addr *vip,
		   bool *added)
{
	const char *dev = spec->vip_dev[0] ? spec->vip_dev : "lo";
	struct addr_list addrs = { 0 };
	struct nl_status st;
	uint32_t ifindex;
	int status;

	*added = false;
	status = resolve_device(ctl, NULL, dev, &ifindex);
	if (status)
		return status;
	if (nl_open_route(rt, ctl->cmd->name) < 0)
		return EXIT_FAILED;
	if (addr_read(rt, &addrs, &st) < 0) {
		nl_report(rt, &st);
		return EXIT_FAILED;
	}
	if (!addr_find(&addrs, spec->m.family, spec->m.vip)) {
		addr_vip(vip, spec->m.family, spec->m.vip, ifindex);
		if (addr_add(rt, vip, &st) < 0) {
			addr_report(ctl->cmd->name, "add", vip, &st);
			status = EXIT_FAILED;
		} else {
			*added = true;
		}
	}
	addr_list_free(&addrs);
	return status;
}

static int change_mapping(const struct ctl *ctl, int argc, char *argv[],
			  bool replace)
{
	struct l3dsr_nl rt = { 0 };
	struct local_addr vip;
	bool vip_added = false;
	char buf[NL_REQUEST_SIZE] __attribute__((aligned(8)));
	struct mapping_spec spec;
	struct mapping *m = &spec.m;
	struct nl_status st;
	struct l3dsr_nl nl;
	struct nlmsghdr *nlh;
	int status;

	status = parse_mapping_args(ctl, argc, argv, &spec);
	if (status)
		return status;
	status = ctl_open(ctl, &nl);
	if (status)
		return status;

	if (!module_knows_flags(ctl, NULL, &nl, m->flags)) {
		status = EXIT_FAILED;
		goto out;
	}
	/* Looked up now that -n has put us in the right namespace. */
	if (spec.dev[0]) {
		status = resolve_device(ctl, NULL, spec.dev, &m->ifindex);
		if (status)
			goto out;
	}

	/* The address first: a mapping the kernel refuses takes it back. */
	if (spec.add_vip) {
		status = add_vip(ctl, &rt, &spec, &vip, &vip_added);
		if (status)
			goto out;
	}

	nlh = nl_request(&nl, buf, L3DSR_CMD_NEW_MAPPING, NLM_F_ACK);
	mapping_put(nlh, m);
	if (replace)
		mnl_attr_put_u32(nlh, L3DSR_A_REQUEST_FLAGS,
				 L3DSR_REQUEST_F_REPLACE);

	if (nl_transact(&nl, nlh, NULL, NULL, &st) < 0) {
		if (st.error == EEXIST && !replace) {
			status = report_conflict(ctl, &nl, m, &st);
		} else {
			nl_report(&nl, &st);
			status = EXIT_FAILED;
		}
		if (vip_added && addr_del(&rt, &vip, &st) < 0)
			addr_report(ctl->cmd->name, "take back", &vip, &st);
	}
out:
	nl_close(&rt);
	nl_close(&nl);
	return status;
}

int cmd_add_mapping(const struct ctl *ctl, int argc, char *argv[])
{
	return change_mapping(ctl, argc, argv, false);
}

int cmd_replace_mapping(const struct ctl *ctl, int argc, char *argv[])
{
	return change_mapping(ctl, argc, argv, true);
}

/*
 * The families whose table maps @dscp: the one -4/-6 named, or every family
 * holding it, looked up before anything changes so that a DSCP mapped
 * nowhere fails untouched.
 */
static int families_holding(const struct ctl *ctl, struct l3dsr_nl *nl,
			    unsigned int dscp, int families[2], int *count)
{
	static const int all_families[] = { AF_INET, AF_INET6 };
	struct mapping existing;
	struct nl_status st;
	int i;

	*count = 0;
	if (ctl->family != AF_UNSPEC) {
		families[(*count)++] = ctl->family;
		return EXIT_OK;
	}
	for (i = 0; i < 2; i++) {
		if (get_mapping(nl, all_families[i], dscp, &existing,
				&st) == 0) {
			families[(*count)++] = all_families[i];
		} else if (st.error != ENOENT) {
			nl_report(nl, &st);
			return EXIT_FAILED;
		}
	}
	if (!*count)
		return fail(ctl, "no mapping for DSCP %u", dscp);
	return EXIT_OK;
}

/*
 * Without -4/-6 every family holding the DSCP loses it. They are all looked
 * up first, so that a DSCP mapped nowhere fails without touching anything.
 */
/* Whether a mapping other than DSCP's in families uses vip. */
static bool vip_still_used(const struct mapping_list *list,
			   const struct mapping *going, const int families[2],
			   int count)
{
	size_t i;
	int f;

	for (i = 0; i < list->count; i++) {
		const struct mapping *m = &list->items[i];
		bool deleted = false;

		for (f = 0; f < count; f++)
			deleted |= m->dscp == going->dscp &&
				   m->family == families[f];
		if (!deleted && m->family == going->family &&
		    !memcmp(m->vip, going->vip, address_length(m->family)))
			return true;
	}
	return false;
}

/*
 * del-vip: remove the addresses l3dsr added for the VIPs of the mappings
 * about to go, unless another mapping still uses one. What was removed is
 * in removed, to be put back if the deletion fails.
 */
static int del_vips(const struct ctl *ctl, struct l3dsr_nl *nl,
		    struct l3dsr_nl *rt, unsigned int dscp,
		    const int families[2], int count,
		    struct addr_list *removed)
{
	struct mapping_list list = { .family = AF_UNSPEC };
	struct addr_list addrs = { 0 };
	struct nl_status st;
	int status = EXIT_OK;
	size_t i, j;

	if (mappings_read(nl, &list) < 0)
		return EXIT_FAILED;
	if (nl_open_route(rt, ctl->cmd->name) < 0) {
		free(list.items);
		return EXIT_FAILED;
	}
	if (addr_read(rt, &addrs, &st) < 0) {
		nl_report(rt, &st);
		free(list.items);
		return EXIT_FAILED;
	}
	removed->items = calloc(addrs.count + 1, sizeof(*removed->items));
	if (!removed->items) {
		status = fail(ctl, "%s", strerror(ENOMEM));
		goto out;
	}
	for (i = 0; i < list.count && !status; i++) {
		const struct mapping *m = &list.items[i];
		bool going = false;
		int f;

		for (f = 0; f < count; f++)
			going |= m->dscp == dscp && m->family == families[f];
		if (!going || vip_still_used(&list, m, families, count))
			continue;
		for (j = 0; j < addrs.count; j++) {
			const struct local_addr *a = &addrs.items[j];

			if (a->proto != L3DSR_ADDR_PROTO ||
			    a->family != m->family ||
			    memcmp(a->addr, m->vip, address_length(a->family)))
				continue;
			if (addr_del(rt, a, &st) < 0) {
				addr_report(ctl->cmd->name, "remove", a, &st);
				status = EXIT_FAILED;
				break;
			}
			removed->items[removed->count++] = *a;
		}
	}
out:
	addr_list_free(&addrs);
	free(list.items);
	return status;
}

static void put_back(const struct ctl *ctl, struct l3dsr_nl *rt,
		     const struct addr_list *removed)
{
	struct nl_status st;
	size_t i;

	for (i = removed->count; i-- > 0;)
		if (addr_add(rt, &removed->items[i], &st) < 0)
			addr_report(ctl->cmd->name, "put back", &removed->items[i],
				       &st);
}

int cmd_del_mapping(const struct ctl *ctl, int argc, char *argv[])
{
	const char *values[KW_COUNT] = { NULL };
	struct addr_list removed = { 0 };
	int families[2], count = 0, i = 0, status;
	struct l3dsr_nl nl, rt = { 0 };
	struct nl_status st;
	unsigned int dscp;

	status = parse_dscp_keywords(ctl, argc, argv, KW_BIT(KW_DEL_VIP), true,
				     &dscp, values);
	if (status)
		return status;
	status = ctl_open(ctl, &nl);
	if (status)
		return status;

	status = families_holding(ctl, &nl, dscp, families, &count);
	if (status)
		goto out;
	if (values[KW_DEL_VIP]) {
		status = del_vips(ctl, &nl, &rt, dscp, families, count,
				  &removed);
		if (status)
			goto out;
	}

	for (i = 0; i < count; i++) {
		if (delete_mapping(&nl, families[i], dscp, &st) == 0)
			continue;
		if (st.error == ENOENT && ctl->family != AF_UNSPEC) {
			status = fail(ctl, "no mapping for DSCP %u (%s)", dscp,
				      family_name(families[i]));
			goto out;
		}
		/* Deleted by someone else since we looked: the goal holds. */
		if (st.error == ENOENT)
			continue;
		nl_report(&nl, &st);
		status = EXIT_FAILED;
		goto out;
	}
out:
	/* Nothing deleted: the addresses come back, as they were. */
	if (status && !i)
		put_back(ctl, &rt, &removed);
	addr_list_free(&removed);
	nl_close(&rt);
	nl_close(&nl);
	return status;
}

static int set_flags(struct l3dsr_nl *nl, int family, unsigned int dscp,
		     uint32_t flags, uint32_t mask, struct nl_status *st)
{
	char buf[NL_REQUEST_SIZE] __attribute__((aligned(8)));
	struct nlmsghdr *nlh;

	nlh = nl_request(nl, buf, L3DSR_CMD_SET_MAPPING, NLM_F_ACK);
	put_key(nlh, family, dscp);
	mnl_attr_put_u32(nlh, L3DSR_A_FLAGS, flags);
	mnl_attr_put_u32(nlh, L3DSR_A_FLAGS_MASK, mask);
	return nl_transact(nl, nlh, NULL, NULL, st);
}

/*
 * The flags set-mapping changes (mask) and their new values: "down" or
 * "up", "nonlocal on" or "nonlocal off", or both.
 */
static int parse_flag_changes(const struct ctl *ctl,
			      const char *values[KW_COUNT], uint32_t *flags,
			      uint32_t *mask)
{
	*flags = 0;
	*mask = 0;
	if (values[KW_DOWN] && values[KW_UP])
		return usage_error(ctl, "say either \"down\" or \"up\"");
	if (values[KW_DOWN] || values[KW_UP]) {
		*mask |= L3DSR_F_DOWN;
		if (values[KW_DOWN])
			*flags |= L3DSR_F_DOWN;
	}
	if (values[KW_NONLOCAL_SWITCH]) {
		char err[WORDS_ERROR_SIZE];
		bool on;

		if (words_switch("nonlocal", values[KW_NONLOCAL_SWITCH], &on,
				 err) < 0)
			return usage_error(ctl, "%s", err);
		*mask |= L3DSR_F_NONLOCAL;
		if (on)
			*flags |= L3DSR_F_NONLOCAL;
	}
	if (!*mask)
		return usage_error(ctl,
				   "nothing to change: say \"down\" or \"up\", or \"nonlocal on\" or \"nonlocal off\"");
	return EXIT_OK;
}

/*
 * Drain (down) or restore (up) the mappings of a DSCP, or turn their
 * nonlocal flag on or off. As with del-mapping, without -4/-6 every family
 * holding the DSCP changes, and a DSCP mapped nowhere fails before
 * anything changes.
 */
int cmd_set_mapping(const struct ctl *ctl, int argc, char *argv[])
{
	const char *values[KW_COUNT] = { NULL };
	int families[2], count = 0, i, status;
	struct nl_status st;
	struct l3dsr_nl nl;
	unsigned int dscp;
	uint32_t flags, mask;

	status = parse_dscp_keywords(ctl, argc, argv,
				     KW_BIT(KW_DOWN) | KW_BIT(KW_UP) |
				     KW_BIT(KW_NONLOCAL_SWITCH), true,
				     &dscp, values);
	if (status)
		return status;
	status = parse_flag_changes(ctl, values, &flags, &mask);
	if (status)
		return status;
	status = ctl_open(ctl, &nl);
	if (status)
		return status;

	if (!module_knows_flags(ctl, NULL, &nl, mask)) {
		status = EXIT_FAILED;
		goto out;
	}
	status = families_holding(ctl, &nl, dscp, families, &count);
	if (status)
		goto out;

	for (i = 0; i < count; i++) {
		if (set_flags(&nl, families[i], dscp, flags, mask, &st) == 0)
			continue;
		if (st.error == ENOENT) {
			status = fail(ctl, "no mapping for DSCP %u (%s)", dscp,
				      family_name(families[i]));
		} else {
			nl_report(&nl, &st);
			status = EXIT_FAILED;
		}
		goto out;
	}
out:
	nl_close(&nl);
	return status;
}

static int on_dump_entry(const struct nlmsghdr *nlh, void *data)
{
	struct mapping_list *list = data;
	struct mapping m;

	if (mapping_parse(nlh, &m) < 0)
		return MNL_CB_ERROR;
	/* A dump takes no attribute: the family is chosen here. */
	if ((list->family != AF_UNSPEC && m.family != list->family) ||
	    (list->dscp && m.dscp != list->dscp))
		return MNL_CB_OK;
	if (list->count == list->capacity) {
		size_t capacity = list->capacity ? 2 * list->capacity : 16;
		struct mapping *grown;

		grown = reallocarray(list->items, capacity, sizeof(*grown));
		if (!grown)
			return MNL_CB_ERROR;
		list->items = grown;
		list->capacity = capacity;
	}
	list->items[list->count++] = m;
	return MNL_CB_OK;
}

static int compare_mappings(const void *left, const void *right)
{
	const struct mapping *a = left, *b = right;

	/* AF_INET sorts before AF_INET6 by value, as the contract orders. */
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	return (a->dscp > b->dscp) - (a->dscp < b->dscp);
}

enum column {
	COL_FAMILY,
	COL_DSCP,
	COL_VIP,
	COL_RIP,
	COL_DEV,
	COL_FLAGS,
	COL_PACKETS,
	COL_BYTES,
	COL_COUNT
};

static const char *const column_titles[COL_COUNT] = {
	"FAMILY", "DSCP", "VIP", "RIP", "DEV", "FLAGS", "PACKETS", "BYTES",
};

/* Wide enough for an IPv6 address, a u64 and any flag list we print. */
#define CELL_SIZE 64

typedef char table_row[COL_COUNT][CELL_SIZE];

static void format_row(const struct mapping *m, table_row row)
{
	char dev[MAPPING_DEV_SIZE];

	snprintf(row[COL_FAMILY], CELL_SIZE, "%s", family_name(m->family));
	snprintf(row[COL_DSCP], CELL_SIZE, "%u", m->dscp);
	format_address(m->family, m->vip, row[COL_VIP]);
	if (m->has_rip)
		format_address(m->family, m->rip, row[COL_RIP]);
	else
		strcpy(row[COL_RIP], "-");
	snprintf(row[COL_DEV], CELL_SIZE, "%s",
		 m->ifindex ? format_device(m->ifindex, dev) : "-");
	flags_format(m->flags, row[COL_FLAGS], CELL_SIZE);
	snprintf(row[COL_PACKETS], CELL_SIZE, "%" PRIu64, m->packets);
	snprintf(row[COL_BYTES], CELL_SIZE, "%" PRIu64, m->bytes);
}

static void print_row(const char *const cells[COL_COUNT],
		      const int widths[COL_COUNT])
{
	int col;

	for (col = 0; col < COL_COUNT; col++) {
		if (col)
			fputs("  ", stdout);
		/* Counters align on their last digit, text on its first. */
		if (col >= COL_PACKETS)
			printf("%*s", widths[col], cells[col]);
		else
			printf("%-*s", widths[col], cells[col]);
	}
	putchar('\n');
}

static int print_table(const struct mapping_list *list)
{
	const char *cells[COL_COUNT];
	int widths[COL_COUNT];
	table_row *rows;
	size_t i;
	int col;

	rows = calloc(list->count ? list->count : 1, sizeof(*rows));
	if (!rows)
		return -1;

	for (col = 0; col < COL_COUNT; col++)
		widths[col] = strlen(column_titles[col]);
	for (i = 0; i < list->count; i++) {
		format_row(&list->items[i], rows[i]);
		for (col = 0; col < COL_COUNT; col++)
			if ((int)strlen(rows[i][col]) > widths[col])
				widths[col] = strlen(rows[i][col]);
	}

	print_row(column_titles, widths);
	for (i = 0; i < list->count; i++) {
		for (col = 0; col < COL_COUNT; col++)
			cells[col] = rows[i][col];
		print_row(cells, widths);
	}
	free(rows);
	return 0;
}

static void print_json(const struct mapping_list *list)
{
	struct json json;
	size_t i;

	json_init(&json, stdout);
	json_array_begin(&json);
	for (i = 0; i < list->count; i++)
		mapping_json(&json, &list->items[i], list->known_flags);
	json_array_end(&json);
	putchar('\n');
}

int mappings_read(struct l3dsr_nl *nl, struct mapping_list *list)
{
	char buf[NL_REQUEST_SIZE] __attribute__((aligned(8)));
	struct nl_status st;
	int attempt;

	list->known_flags = module_flags(nl);
	for (attempt = 1;; attempt++) {
		struct nlmsghdr *nlh;

		list->count = 0;
		nlh = nl_request(nl, buf, L3DSR_CMD_GET_MAPPING, NLM_F_DUMP);
		if (nl_transact(nl, nlh, on_dump_entry, list, &st) == 0)
			break;
		if (st.error != EAGAIN || attempt == DUMP_ATTEMPTS) {
			nl_report(nl, &st);
			return -1;
		}
	}
	qsort(list->items, list->count, sizeof(*list->items),
	      compare_mappings);
	return 0;
}

int cmd_show(const struct ctl *ctl, int argc, char *argv[])
{
	struct mapping_list list = { .family = ctl->family };
	struct l3dsr_nl nl;
	int status;

	status = parse_dscp_only(ctl, argc, argv, false, &list.dscp);
	if (status)
		return status;
	status = ctl_open(ctl, &nl);
	if (status)
		return status;

	if (mappings_read(&nl, &list) < 0)
		status = EXIT_FAILED;
	else if (ctl->json)
		print_json(&list);
	else if (print_table(&list) < 0)
		status = fail(ctl, "%s", strerror(ENOMEM));
	free(list.items);
	nl_close(&nl);
	return status;
}

/* With the mappings go the VIP addresses l3dsr added for them. */
static int flush_vips(const struct ctl *ctl)
{
	struct addr_list addrs = { 0 };
	struct nl_status st;
	struct l3dsr_nl rt;
	int status = EXIT_OK;
	size_t i;

	if (nl_open_route(&rt, ctl->cmd->name) < 0)
		return EXIT_FAILED;
	if (addr_read(&rt, &addrs, &st) < 0) {
		nl_report(&rt, &st);
		status = EXIT_FAILED;
	}
	for (i = 0; i < addrs.count; i++) {
		const struct local_addr *a = &addrs.items[i];

		if (a->proto != L3DSR_ADDR_PROTO ||
		    (ctl->family != AF_UNSPEC && a->family != ctl->family))
			continue;
		if (addr_del(&rt, a, &st) < 0 && st.error != EADDRNOTAVAIL) {
			addr_report(ctl->cmd->name, "remove", a, &st);
			status = EXIT_FAILED;
		}
	}
	addr_list_free(&addrs);
	nl_close(&rt);
	return status;
}

int cmd_flush(const struct ctl *ctl, int argc, char *argv[])
{
	char buf[NL_REQUEST_SIZE] __attribute__((aligned(8)));
	struct nl_status st;
	struct l3dsr_nl nl;
	struct nlmsghdr *nlh;
	int status;

	status = expect_no_arguments(ctl, argc, argv);
	if (status)
		return status;
	status = ctl_open(ctl, &nl);
	if (status)
		return status;

	nlh = nl_request(&nl, buf, L3DSR_CMD_FLUSH_MAPPINGS, NLM_F_ACK);
	if (ctl->family != AF_UNSPEC)
		mnl_attr_put_u8(nlh, L3DSR_A_FAMILY, ctl->family);
	if (nl_transact(&nl, nlh, NULL, NULL, &st) < 0) {
		nl_report(&nl, &st);
		status = EXIT_FAILED;
	} else {
		status = flush_vips(ctl);
	}
	nl_close(&nl);
	return status;
}
