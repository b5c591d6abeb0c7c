// SPDX-License-Identifier: GPL-2.0
/* The mapping table: add-mapping, replace-mapping, del-mapping, show, flush. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "l3dsr.h"
#include "dscp.h"
#include "json.h"
#include "l3dsrctl.h"
#include "mapping.h"
#include "netlink.h"

/* A dump racing with changes is retried this many times before giving up. */
#define DUMP_ATTEMPTS 3

enum keyword {
	KW_DSCP,
	KW_VIP,
	KW_RIP,
	KW_DEV,
	KW_CLEAR_DSCP,
	KW_COUNT
};

static const struct {
	const char *name;
	bool takes_value;
} keywords[KW_COUNT] = {
	[KW_DSCP] = { "dscp", true },
	[KW_VIP] = { "vip", true },
	[KW_RIP] = { "rip", true },
	[KW_DEV] = { "dev", true },
	[KW_CLEAR_DSCP] = { "clear-dscp", false },
};

#define KW_BIT(kw) (1U << (kw))
#define MAPPING_KEYWORDS (KW_BIT(KW_DSCP) | KW_BIT(KW_VIP) | KW_BIT(KW_RIP) | \
			  KW_BIT(KW_DEV) | KW_BIT(KW_CLEAR_DSCP))

/* What add-mapping and replace-mapping were asked for. */
struct mapping_args {
	struct mapping m;
	const char *dev;	/* resolved to m.ifindex inside the namespace */
};

static size_t address_length(int family)
{
	return family == AF_INET ? sizeof(struct in_addr) :
				   sizeof(struct in6_addr);
}

static const char *family_label(int family)
{
	return family == AF_INET ? "IPv4" : "IPv6";
}

static const char *format_address(int family, const void *addr,
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

/* "vip ADDR [rip ADDR] [dev IFNAME] [clear-dscp]" */
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
	if (m->flags & L3DSR_F_CLEAR_DSCP)
		fputs(" clear-dscp", out);
}

void mapping_describe(const struct mapping *m, FILE *out)
{
	fprintf(out, "dscp %u ", m->dscp);
	describe_target(m, out);
}

void mapping_json(struct json *json, const struct mapping *m)
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
	json_member_bool(json, "clear_dscp", m->flags & L3DSR_F_CLEAR_DSCP);
	json_member_u64(json, "packets", m->packets);
	json_member_u64(json, "bytes", m->bytes);
	json_object_end(json);
}

/*
 * Collect "keyword [value]" pairs, in any order, each at most once. values[k]
 * is left NULL for keywords not given, and points at the keyword itself for
 * those that take no value.
 */
static int parse_keywords(const struct ctl *ctl, int argc, char *argv[],
			  unsigned int allowed, const char *values[KW_COUNT])
{
	int i, k;

	for (i = 0; i < argc; i++) {
		for (k = 0; k < KW_COUNT; k++)
			if ((allowed & KW_BIT(k)) &&
			    !strcmp(argv[i], keywords[k].name))
				break;
		if (k == KW_COUNT)
			return usage_error(ctl, "unknown keyword \"%s\"",
					   argv[i]);
		if (values[k])
			return usage_error(ctl, "\"%s\" given twice", argv[i]);
		if (!keywords[k].takes_value) {
			values[k] = argv[i];
			continue;
		}
		if (i + 1 == argc)
			return usage_error(ctl, "missing value after \"%s\"",
					   argv[i]);
		values[k] = argv[++i];
	}
	return EXIT_OK;
}

static int parse_dscp_word(const struct ctl *ctl, const char *word,
			   unsigned int *dscp)
{
	switch (dscp_parse(word, dscp)) {
	case DSCP_VALID:
		return EXIT_OK;
	case DSCP_IS_ZERO:
		return usage_error(ctl,
				   "DSCP \"%s\" cannot be mapped: DSCP 0 is every unmarked packet",
				   word);
	case DSCP_OUT_OF_RANGE:
		return usage_error(ctl, "DSCP \"%s\" is out of range (%d..%d)",
				   word, L3DSR_DSCP_MIN, L3DSR_DSCP_MAX);
	case DSCP_UNKNOWN:
		break;
	}
	return usage_error(ctl,
			   "invalid DSCP \"%s\": expected a number %d..%d or a class name (CS1..CS7, AF11..AF43, EF)",
			   word, L3DSR_DSCP_MIN, L3DSR_DSCP_MAX);
}

/* The family of the address in word, stored in addr; AF_UNSPEC if none. */
static int parse_address(const char *word, unsigned char *addr)
{
	if (inet_pton(AF_INET, word, addr) == 1)
		return AF_INET;
	if (inet_pton(AF_INET6, word, addr) == 1)
		return AF_INET6;
	return AF_UNSPEC;
}

static int parse_mapping_args(const struct ctl *ctl, int argc, char *argv[],
			      struct mapping_args *a)
{
	const char *values[KW_COUNT] = { NULL };
	const char *vip, *rip;
	int status;

	memset(a, 0, sizeof(*a));
	status = parse_keywords(ctl, argc, argv, MAPPING_KEYWORDS, values);
	if (status)
		return status;
	if (!values[KW_DSCP])
		return usage_error(ctl, "missing \"dscp DSCP\"");
	if (!values[KW_VIP])
		return usage_error(ctl, "missing \"vip ADDR\"");

	status = parse_dscp_word(ctl, values[KW_DSCP], &a->m.dscp);
	if (status)
		return status;

	vip = values[KW_VIP];
	a->m.family = parse_address(vip, a->m.vip);
	if (a->m.family == AF_UNSPEC)
		return usage_error(ctl,
				   "invalid vip \"%s\": not an IPv4 or IPv6 address",
				   vip);
	if (ctl->family != AF_UNSPEC && ctl->family != a->m.family)
		return usage_error(ctl, "vip %s is %s, but %s was given", vip,
				   family_label(a->m.family),
				   ctl->family == AF_INET ? "-4" : "-6");

	rip = values[KW_RIP];
	if (rip) {
		int rip_family = parse_address(rip, a->m.rip);

		if (rip_family == AF_UNSPEC)
			return usage_error(ctl,
					   "invalid rip \"%s\": not an IPv4 or IPv6 address",
					   rip);
		if (rip_family != a->m.family)
			return usage_error(ctl,
					   "rip %s is %s but vip %s is %s: both must be of one family",
					   rip, family_label(rip_family), vip,
					   family_label(a->m.family));
		a->m.has_rip = true;
	}

	a->dev = values[KW_DEV];
	if (a->dev && (!a->dev[0] || strlen(a->dev) >= IF_NAMESIZE))
		return usage_error(ctl,
				   "invalid device name \"%s\": 1 to %d characters",
				   a->dev, IF_NAMESIZE - 1);

	if (values[KW_CLEAR_DSCP])
		a->m.flags |= L3DSR_F_CLEAR_DSCP;
	return EXIT_OK;
}

/* Parse a command whose only (and required) keyword is "dscp DSCP". */
static int parse_dscp_only(const struct ctl *ctl, int argc, char *argv[],
			   bool required, unsigned int *dscp)
{
	const char *values[KW_COUNT] = { NULL };
	int status;

	*dscp = 0;
	status = parse_keywords(ctl, argc, argv, KW_BIT(KW_DSCP), values);
	if (status)
		return status;
	if (!values[KW_DSCP])
		return required ? usage_error(ctl, "missing \"dscp DSCP\"") :
				  EXIT_OK;
	return parse_dscp_word(ctl, values[KW_DSCP], dscp);
}

static void put_key(struct nlmsghdr *nlh, int family, unsigned int dscp)
{
	mnl_attr_put_u8(nlh, L3DSR_A_FAMILY, family);
	mnl_attr_put_u8(nlh, L3DSR_A_DSCP, dscp);
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

static int change_mapping(const struct ctl *ctl, int argc, char *argv[],
			  bool replace)
{
	char buf[NL_REQUEST_SIZE] __attribute__((aligned(8)));
	struct mapping_args a;
	struct nl_status st;
	struct l3dsr_nl nl;
	struct nlmsghdr *nlh;
	int status;

	status = parse_mapping_args(ctl, argc, argv, &a);
	if (status)
		return status;
	status = ctl_open(ctl, &nl);
	if (status)
		return status;

	if (a.dev) {
		/* Looked up now that -n has put us in the right namespace. */
		a.m.ifindex = if_nametoindex(a.dev);
		if (!a.m.ifindex) {
			if (errno == ENODEV || errno == ENXIO)
				status = fail(ctl, "no such device: %s", a.dev);
			else
				status = fail(ctl,
					      "cannot look up device %s: %s",
					      a.dev, strerror(errno));
			goto out;
		}
	}

	nlh = nl_request(&nl, buf, L3DSR_CMD_NEW_MAPPING, NLM_F_ACK);
	put_key(nlh, a.m.family, a.m.dscp);
	mnl_attr_put(nlh, L3DSR_A_VIP, address_length(a.m.family), a.m.vip);
	if (a.m.has_rip)
		mnl_attr_put(nlh, L3DSR_A_RIP, address_length(a.m.family),
			     a.m.rip);
	if (a.m.ifindex)
		mnl_attr_put_u32(nlh, L3DSR_A_IFINDEX, a.m.ifindex);
	mnl_attr_put_u32(nlh, L3DSR_A_FLAGS, a.m.flags);
	if (replace)
		mnl_attr_put_u32(nlh, L3DSR_A_REQUEST_FLAGS,
				 L3DSR_REQUEST_F_REPLACE);

	if (nl_transact(&nl, nlh, NULL, NULL, &st) < 0) {
		if (st.error == EEXIST && !replace) {
			status = report_conflict(ctl, &nl, &a.m, &st);
		} else {
			nl_report(&nl, &st);
			status = EXIT_FAILED;
		}
	}
out:
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
 * Without -4/-6 every family holding the DSCP loses it. They are all looked
 * up first, so that a DSCP mapped nowhere fails without touching anything.
 */
int cmd_del_mapping(const struct ctl *ctl, int argc, char *argv[])
{
	static const int all_families[] = { AF_INET, AF_INET6 };
	int families[2], count = 0, i, status;
	struct mapping existing;
	struct nl_status st;
	struct l3dsr_nl nl;
	unsigned int dscp;

	status = parse_dscp_only(ctl, argc, argv, true, &dscp);
	if (status)
		return status;
	status = ctl_open(ctl, &nl);
	if (status)
		return status;

	if (ctl->family != AF_UNSPEC) {
		families[count++] = ctl->family;
	} else {
		for (i = 0; i < 2; i++) {
			if (get_mapping(&nl, all_families[i], dscp, &existing,
					&st) == 0) {
				families[count++] = all_families[i];
			} else if (st.error != ENOENT) {
				nl_report(&nl, &st);
				status = EXIT_FAILED;
				goto out;
			}
		}
		if (!count) {
			status = fail(ctl, "no mapping for DSCP %u", dscp);
			goto out;
		}
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
	nl_close(&nl);
	return status;
}

struct mapping_list {
	struct mapping *items;
	size_t count;
	size_t capacity;
	int family;		/* only this family, or AF_UNSPEC for both */
	unsigned int dscp;	/* only this DSCP, or 0 for all */
};

static int on_dump_entry(const struct nlmsghdr *nlh, void *data)
{
	struct mapping_list *list = data;
	struct mapping m;

	if (mapping_parse(nlh, &m) < 0)
		return MNL_CB_ERROR;
	/* The request names the family too; filtering again costs nothing. */
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

static void format_flags(uint32_t flags, char cell[CELL_SIZE])
{
	uint32_t unknown = flags & ~(uint32_t)__L3DSR_F_ALL;
	const char *sep = "";

	cell[0] = '\0';
	if (!flags) {
		strcpy(cell, "-");
		return;
	}
	if (flags & L3DSR_F_CLEAR_DSCP) {
		strcpy(cell, "clear-dscp");
		sep = ",";
	}
	/* Flags a newer kernel knows of are shown rather than hidden. */
	if (unknown)
		snprintf(cell + strlen(cell), CELL_SIZE - strlen(cell),
			 "%s0x%x", sep, unknown);
}

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
	format_flags(m->flags, row[COL_FLAGS]);
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
		mapping_json(&json, &list->items[i]);
	json_array_end(&json);
	putchar('\n');
}

int cmd_show(const struct ctl *ctl, int argc, char *argv[])
{
	char buf[NL_REQUEST_SIZE] __attribute__((aligned(8)));
	struct mapping_list list = { .family = ctl->family };
	struct nl_status st;
	struct l3dsr_nl nl;
	struct nlmsghdr *nlh;
	int attempt, status;

	status = parse_dscp_only(ctl, argc, argv, false, &list.dscp);
	if (status)
		return status;
	status = ctl_open(ctl, &nl);
	if (status)
		return status;

	for (attempt = 1;; attempt++) {
		list.count = 0;
		nlh = nl_request(&nl, buf, L3DSR_CMD_GET_MAPPING, NLM_F_DUMP);
		if (ctl->family != AF_UNSPEC)
			mnl_attr_put_u8(nlh, L3DSR_A_FAMILY, ctl->family);
		if (nl_transact(&nl, nlh, on_dump_entry, &list, &st) == 0)
			break;
		if (st.error != EAGAIN || attempt == DUMP_ATTEMPTS) {
			nl_report(&nl, &st);
			status = EXIT_FAILED;
			goto out;
		}
	}

	qsort(list.items, list.count, sizeof(*list.items), compare_mappings);
	if (ctl->json) {
		print_json(&list);
	} else if (print_table(&list) < 0) {
		status = fail(ctl, "%s", strerror(ENOMEM));
	}
out:
	free(list.items);
	nl_close(&nl);
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
	}
	nl_close(&nl);
	return status;
}
